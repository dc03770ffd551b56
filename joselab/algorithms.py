"""Chapter 8, choosing algorithms: a JWE taken apart, fully specified names, post-quantum sizes.

Three measurements, each made for real and never typed:

* **A JWE inside out** on RFC 7520's published vectors (§5.2 RSA-OAEP + A256GCM, §5.5 ECDH-ES +
  A128CBC-HS256): the content encryption key (CEK) unwrapped or agreed, the IV, the additional
  authenticated data ``ASCII(BASE64URL(protected header))`` (RFC 7516 §5.1 step 14), the ciphertext
  and the tag, each recomputed with ``cryptography`` and compared with the RFC's bytes
  (:func:`open_by_hand`), then decrypted with joselab's :func:`~joselab.jwe.decrypt_jwe`. An ECDH-ES
  JWE whose ``epk`` is not on its curve (:func:`off_curve_jwe`) shows the invalid-curve check
  (RFC 8725 §2.5, §3.4).
* **Algorithm names** (RFC 9864, RFC 9964): which ``alg`` values each pinned library signs and
  verifies with (:func:`name_support`), by running them.
* **Sizes against limits**: the book's four tokens (access token, ID token, DPoP proof,
  ``x-jws-signature``) signed with each algorithm (:func:`token_sizes`), sent in real requests to real
  HTTP servers started on 127.0.0.1 (Debian's nginx with its default header buffers, Node's
  ``http`` server, Python's ``http.server``; :class:`HeaderServer`), whose refusals are found by
  search (:func:`largest_header`), and compared with RFC 6265 §6.1's 4096-byte cookie floor.

The ML-DSA keys are RFC 9964 Appendix A's published example keys (the all-zero seed): reproducible,
and NEVER for production.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import importlib.metadata
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from jwcrypto import jwk

from .clock import DEMO_EPOCH
from .compact import b64url_decode, b64url_encode, parse_jwe
from .errors import JoselabError
from .jwe import decrypt_jwe
from .jws import sign_compact, verify_jws
from .keys import demo_key
from .message.detached import sign_detached
from .message.ob import HEADER as OB_HEADER
from .message.ob import OB_IAT, OB_ISS, OB_TAN
from .parties.http import shutdown_server
from .trace import Trace

# --------------------------------------------------------------------------------------------------
# A JWE inside out (RFC 7516 §5.1, §5.2; RFC 7518 §4.3, §4.6, §5.2, §5.3; RFC 7520 §5.2, §5.5)
# --------------------------------------------------------------------------------------------------


@cache
def rfc7520_vector(section: str) -> dict[str, Any]:
    """RFC 7520's vector for ``section`` ("5.2" or "5.5"), as published (shipped in joselab.data)."""
    data = json.loads(resources.files("joselab.data").joinpath("rfc7520_jwe.json").read_text("utf-8"))
    return data["vectors"][section]


def rfc7520_recipient_key(section: str) -> jwk.JWK:
    """The recipient's private key of RFC 7520 ``section`` (a published example key: never in production)."""
    return jwk.JWK(**rfc7520_vector(section)["input"]["key"])


@dataclass(frozen=True)
class Step:
    """One part of a JWE recomputed by hand: what, the section that defines it, the bytes we computed
    (shown shortened) and whether they equal the RFC's."""

    part: str
    section: str
    value: str
    matches: bool

    def row(self) -> tuple[str, str, str, str]:
        return (self.part, self.section, self.value, "= RFC 7520" if self.matches else "DIFFERS")


def _short(data: bytes | str, width: int = 22) -> str:
    text = data if isinstance(data, str) else b64url_encode(data)
    return (
        text if len(text) <= width else f"{text[:width]}… ({len(data)} bytes)" if isinstance(data, bytes) else text[:width] + "…"
    )


def aad_of(protected_b64: str) -> bytes:
    """The additional authenticated data of a compact JWE: ASCII(BASE64URL(UTF8(protected header)))
    (RFC 7516 §5.1 step 14)."""
    return protected_b64.encode("ascii")


def unwrap_rsa_oaep(key: jwk.JWK, encrypted_key: bytes) -> bytes:
    """RSAES-OAEP with SHA-1 and MGF1-SHA-1, as ``RSA-OAEP`` is defined (RFC 7518 §4.3)."""
    private = key.get_op_key("unwrapKey")
    return private.decrypt(
        encrypted_key, asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    )


def concat_kdf(shared: bytes, enc: str, bits: int, apu: bytes = b"", apv: bytes = b"") -> bytes:
    """The Concat KDF of RFC 7518 §4.6.2 for direct ECDH-ES: AlgorithmID is ``enc``, each datum
    length-prefixed, SuppPubInfo the key length in bits."""

    def datum(value: bytes) -> bytes:
        return len(value).to_bytes(4, "big") + value

    other = datum(enc.encode("ascii")) + datum(apu) + datum(apv) + bits.to_bytes(4, "big")
    return ConcatKDFHash(hashes.SHA256(), bits // 8, otherinfo=other).derive(shared)


def ec_public_key(member: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """An EC public key from a JWK's ``crv``, ``x``, ``y``; cryptography (OpenSSL) refuses a point that is
    not on the curve with ``ValueError`` (the check RFC 8725 §3.4 asks for)."""
    curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}
    point = b"\x04" + b64url_decode(member["x"], "x") + b64url_decode(member["y"], "y")
    return ec.EllipticCurvePublicKey.from_encoded_point(curves[member["crv"]], point)


def cbc_hmac_tag(cek: bytes, aad: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """The A128CBC-HS256 tag (RFC 7518 §5.2.2.1 steps 4-6): HMAC-SHA-256 with the first half of the
    key over AAD || IV || ciphertext || AL (the AAD's length in bits, 64-bit big-endian), truncated to
    half its length."""
    mac_key = cek[: len(cek) // 2]
    al = (len(aad) * 8).to_bytes(8, "big")
    return hmac.new(mac_key, aad + iv + ciphertext + al, hashlib.sha256).digest()[: len(cek) // 2]


def cbc_decrypt(cek: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """AES-CBC with the second half of the key, PKCS #7 padding removed (RFC 7518 §5.2.2.2)."""
    decryptor = Cipher(algorithms.AES(cek[len(cek) // 2 :]), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def open_by_hand(section: str) -> list[Step]:
    """Open RFC 7520 ``section``'s compact JWE with ``cryptography`` alone, one part at a time, and
    compare every recomputed part with the bytes the RFC publishes."""
    vector = rfc7520_vector(section)
    compact = vector["output"]["compact"]
    parsed = parse_jwe(compact)
    content = vector["encrypting_content"]
    published_cek = b64url_decode(vector.get("generated", {}).get("cek") or vector["encrypting_key"]["cek"], "cek")
    plaintext = vector["input"]["plaintext"].encode("utf-8")
    key = rfc7520_recipient_key(section)
    alg, enc = parsed.header["alg"], parsed.header["enc"]
    steps = [
        Step(
            "protected header", "RFC 7516 §7.1", _short(parsed.protected_b64), parsed.protected_b64 == content["protected_b64u"]
        ),
    ]
    if alg == "RSA-OAEP":
        cek = unwrap_rsa_oaep(key, parsed.encrypted_key)
        steps.append(Step("CEK: RSA-OAEP unwrap of the encrypted key", "RFC 7518 §4.3", _short(cek), cek == published_cek))
    elif alg == "ECDH-ES":
        epk = parsed.header["epk"]
        shared = key.get_op_key("unwrapKey").exchange(ec.ECDH(), ec_public_key(epk))
        steps.append(Step("encrypted key: empty (direct key agreement)", "RFC 7518 §4.6", "(empty)", parsed.encrypted_key == b""))
        cek = concat_kdf(shared, enc, 256)
        steps.append(Step("CEK: ECDH with epk, then Concat KDF", "RFC 7518 §4.6.2", _short(cek), cek == published_cek))
    else:
        raise JoselabError(f"chapter 8 opens RSA-OAEP and ECDH-ES vectors, not {alg}")
    iv_published = b64url_decode(vector["generated"]["iv"], "iv")
    steps.append(Step("IV", "RFC 7516 §5.1", _short(parsed.iv), parsed.iv == iv_published))
    aad = aad_of(parsed.protected_b64)
    steps.append(
        Step(
            "AAD = ASCII(BASE64URL(protected header))",
            "RFC 7516 §5.1",
            _short(aad.decode("ascii")),
            aad == content["protected_b64u"].encode("ascii"),
        )
    )
    steps.append(
        Step(
            "ciphertext",
            "RFC 7516 §7.1",
            _short(parsed.ciphertext),
            parsed.ciphertext == b64url_decode(content["ciphertext"], "ciphertext"),
        )
    )
    if enc.endswith("GCM"):
        opened = AESGCM(cek).decrypt(parsed.iv, parsed.ciphertext + parsed.tag, aad)
        steps.append(
            Step(
                "tag: checked by AES-GCM over the AAD",
                "RFC 7518 §5.3",
                _short(parsed.tag),
                parsed.tag == b64url_decode(content["tag"], "tag"),
            )
        )
    else:
        tag = cbc_hmac_tag(cek, aad, parsed.iv, parsed.ciphertext)
        steps.append(
            Step(
                "tag: HMAC-SHA-256(AAD || IV || ciphertext || AL), first half",
                "RFC 7518 §5.2.2.1",
                _short(tag),
                hmac.compare_digest(tag, parsed.tag),
            )
        )
        opened = cbc_decrypt(cek, parsed.iv, parsed.ciphertext)
    steps.append(Step("plaintext", "RFC 7516 §5.2", _short(opened.decode("utf-8"), 40), opened == plaintext))
    return steps


def open_with_joselab(section: str) -> Trace:
    """The same JWE through joselab's :func:`~joselab.jwe.decrypt_jwe`, as a trace."""
    vector = rfc7520_vector(section)
    trace = Trace(f"RFC 7516 §5.2: RFC 7520 §{section} with joselab")
    header = vector["encrypting_content"]["protected"]
    with trace.run():
        _, plaintext = decrypt_jwe(
            trace, vector["output"]["compact"], rfc7520_recipient_key(section), [header["alg"]], [header["enc"]]
        )
        trace.result = plaintext.decode("utf-8")
    return trace


def off_curve_epk() -> dict[str, str]:
    """RFC 7520 §5.5's ephemeral public key with ``y`` moved by one: still two 32-byte coordinates,
    no longer a point of P-256 (y² ≠ x³ - 3x + b mod p)."""
    epk = dict(rfc7520_vector("5.5")["encrypting_content"]["protected"]["epk"])
    y = int.from_bytes(b64url_decode(epk["y"], "y"), "big")
    epk["y"] = b64url_encode(((y + 1) % (2**256 - 2**224 + 2**192 + 2**96 - 1)).to_bytes(32, "big"))
    return epk


def point_on_curve(member: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether a JWK's EC point is on its curve, as cryptography decides (the check an invalid-curve
    attack needs missing: RFC 8725 §2.5)."""
    try:
        ec_public_key(member)
        return True, f"({member['x'][:8]}…, {member['y'][:8]}…) is on {member['crv']}"
    except ValueError as exc:
        return False, f"cryptography refuses the point: {exc}"


def off_curve_jwe() -> str:
    """RFC 7520 §5.5's JWE with :func:`off_curve_epk` in its protected header (the other parts as
    published). A recipient that skipped the curve check would run ECDH on an attacker's point."""
    vector = rfc7520_vector("5.5")
    header = dict(vector["encrypting_content"]["protected"])
    header["epk"] = off_curve_epk()
    protected = b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    _, encrypted_key, iv, ciphertext, tag = vector["output"]["compact"].split(".")
    return ".".join([protected, encrypted_key, iv, ciphertext, tag])


def refuse_off_curve() -> Trace:
    """Run :func:`off_curve_jwe` through :func:`~joselab.jwe.decrypt_jwe`; the trace names the row that refused it."""
    trace = Trace("RFC 7516 §5.2: ECDH-ES with an epk off its curve")
    with trace.run():
        decrypt_jwe(trace, off_curve_jwe(), rfc7520_recipient_key("5.5"), ["ECDH-ES"], ["A128CBC-HS256"])
    return trace


# --------------------------------------------------------------------------------------------------
# Keys for every algorithm of the size table
# --------------------------------------------------------------------------------------------------

#: The algorithms of the size table, in the order it prints them.
SIZE_ALGORITHMS = ("RS256", "PS256", "ES256", "Ed25519", "ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
MLDSA_ALGORITHMS = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
#: RFC 9964 Appendix A signs with the all-zero seed: a published key, reproducible, never for production.
MLDSA_EXAMPLE_SEED = bytes(32)


@cache
def mldsa_example_key(alg: str) -> jwk.JWK:
    """RFC 9964 Appendix A's example key for ``alg`` (seed of 32 zero bytes, ``kid`` its RFC 9964 §6
    thumbprint). Its private part is published: never use it in production."""
    if alg not in MLDSA_ALGORITHMS:
        raise JoselabError(f"not an ML-DSA algorithm: {alg!r}")
    from cryptography.hazmat.primitives.asymmetric import mldsa

    private = {"ML-DSA-44": mldsa.MLDSA44PrivateKey, "ML-DSA-65": mldsa.MLDSA65PrivateKey, "ML-DSA-87": mldsa.MLDSA87PrivateKey}[
        alg
    ]
    public = private.from_seed_bytes(MLDSA_EXAMPLE_SEED).public_key().public_bytes_raw()
    key = jwk.JWK(kty="AKP", alg=alg, pub=b64url_encode(public), priv=b64url_encode(MLDSA_EXAMPLE_SEED))
    return jwk.JWK(**{**key.export(as_dict=True), "kid": key.thumbprint()})


def signing_key(alg: str) -> jwk.JWK:
    """The published example key the book signs ``alg`` with (see CONVENTIONS.md's demo keys)."""
    if alg in MLDSA_ALGORITHMS:
        return mldsa_example_key(alg)
    name = {"RS256": "rfc7515-a2-rsa", "PS256": "rfc7515-a2-rsa", "ES256": "rfc7515-a3-p256", "Ed25519": "rfc8037-ed25519"}.get(
        alg
    )
    if name is None:
        raise JoselabError(f"no demo key for {alg!r}")
    return demo_key(name).jwk


def _public(key: jwk.JWK) -> dict[str, Any]:
    return key.export_public(as_dict=True)


def verify_with_joselab(token: str, alg: str, *, jwt: bool = True) -> Trace:
    """Verify ``token`` with joselab's shared JWS checks (:func:`~joselab.jws.verify_jws`), trusting only
    the public half of :func:`signing_key` and allowing only ``alg``. The result is the claims, or the
    payload bytes when ``jwt`` is false (RFC 9964 Appendix A signs a sentence, not a claim set)."""
    keys = jwk.JWKSet()
    keys.add(jwk.JWK(**_public(signing_key(alg))))
    trace = Trace(f"RFC 7515 §5.2: a {alg} JWS with joselab")
    with trace.run():
        parsed = verify_jws(trace, token, keys, [alg])
        trace.result = parsed.claims() if jwt else parsed.payload
    return trace


# --------------------------------------------------------------------------------------------------
# Algorithm names: what each library accepts (RFC 9864, RFC 9964), measured
# --------------------------------------------------------------------------------------------------

LIBRARIES = ("jwcrypto", "PyJWT", "joserfc")
_DISTRIBUTIONS = {"jwcrypto": "jwcrypto", "PyJWT": "pyjwt", "joserfc": "joserfc", "cryptography": "cryptography"}
#: The names the chapter asks about: RFC 8037's polymorphic EdDSA, RFC 9864's fully specified
#: replacement, and RFC 9964's ML-DSA names.
NAMES = ("EdDSA", "Ed25519", "ML-DSA-44", "ML-DSA-65", "ML-DSA-87")


def library_versions() -> dict[str, str]:
    """The installed (pinned) version of each library the chapter runs."""
    return {name: importlib.metadata.version(dist) for name, dist in _DISTRIBUTIONS.items()}


def _key_for_name(name: str) -> jwk.JWK:
    return signing_key("Ed25519") if name in ("EdDSA", "Ed25519") else mldsa_example_key(name)


def _sign_jwcrypto(name: str, key: dict[str, Any], claims: dict[str, Any]) -> str:
    from jwcrypto import jws

    token = jws.JWS(json.dumps(claims).encode())
    token.allowed_algs = [name]
    token.add_signature(jwk.JWK(**key), alg=name, protected={"alg": name})
    return token.serialize(compact=True)


def _verify_jwcrypto(name: str, public: dict[str, Any], token: str) -> None:
    from jwcrypto import jws

    obj = jws.JWS()
    obj.allowed_algs = [name]
    obj.deserialize(token)
    obj.verify(jwk.JWK(**public), alg=name)


def _sign_pyjwt(name: str, key: dict[str, Any], claims: dict[str, Any]) -> str:
    import jwt

    # PyJWT's own path: a cryptography key object and the alg name (no PyJWK guessing).
    return jwt.encode(claims, jwk.JWK(**key).get_op_key("sign"), algorithm=name)


def _verify_pyjwt(name: str, public: dict[str, Any], token: str) -> None:
    import jwt

    jwt.decode(token, jwk.JWK(**public).get_op_key("verify"), algorithms=[name])


def _sign_joserfc(name: str, key: dict[str, Any], claims: dict[str, Any]) -> str:
    from joserfc import jwk as rfc_jwk
    from joserfc import jwt as rfc_jwt

    return rfc_jwt.encode({"alg": name}, claims, rfc_jwk.import_key(key), algorithms=[name])


def _verify_joserfc(name: str, public: dict[str, Any], token: str) -> None:
    from joserfc import jwk as rfc_jwk
    from joserfc import jwt as rfc_jwt

    rfc_jwt.decode(token, rfc_jwk.import_key(public), algorithms=[name])


_SIGNERS: dict[str, Callable[[str, dict[str, Any], dict[str, Any]], str]] = {
    "jwcrypto": _sign_jwcrypto,
    "PyJWT": _sign_pyjwt,
    "joserfc": _sign_joserfc,
}
_VERIFIERS: dict[str, Callable[[str, dict[str, Any], str], None]] = {
    "jwcrypto": _verify_jwcrypto,
    "PyJWT": _verify_pyjwt,
    "joserfc": _verify_joserfc,
}


def _why(exc: BaseException) -> str:
    # The first line, cut before any "{": a library may print the key it was given.
    text = str(exc).splitlines()[0].split("{", 1)[0].rstrip(" :") if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:70]


@dataclass(frozen=True)
class NameResult:
    """What one library did with one ``alg`` name: sign with it, and verify a token jwcrypto signed
    with it (``None`` when it did; else why not)."""

    library: str
    name: str
    sign_error: str | None
    verify_error: str | None
    warnings: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        warned = f" (warns: {'; '.join(self.warnings)})" if self.warnings else ""
        if self.sign_error is None and self.verify_error is None:
            return "signs and verifies" + warned
        if self.sign_error is None:
            return f"signs; verify: {self.verify_error}"
        if self.verify_error is None:
            return f"verifies; sign: {self.sign_error}"
        return f"refused: {self.sign_error}"


def name_support(names: Sequence[str] = NAMES, libraries: Sequence[str] = LIBRARIES) -> list[NameResult]:
    """Run each library on each name: sign a small claim set, and verify jwcrypto's token with it.

    Every library is given the same JWK; an exception is the library's answer and is recorded, not
    raised (this function measures, it does not validate)."""
    claims = {"sub": "alice", "iat": DEMO_EPOCH}
    results = []
    for name in names:
        key = _key_for_name(name)
        private, public = key.export(as_dict=True), _public(key)
        reference = _sign_jwcrypto(name, private, claims)
        for library in libraries:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    _SIGNERS[library](name, private, claims)
                    sign_error = None
                except Exception as exc:  # the library's refusal is the measurement
                    sign_error = _why(exc)
                try:
                    _VERIFIERS[library](name, public, reference)
                    verify_error = None
                except Exception as exc:
                    verify_error = _why(exc)
            said = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}"[:70] for w in caught))
            results.append(NameResult(library, name, sign_error, verify_error, said))
    return results


# --------------------------------------------------------------------------------------------------
# The four tokens, per algorithm
# --------------------------------------------------------------------------------------------------

AS = "https://as.bank.example"
API = "https://api.bank.example"
CLIENT_ID = "s6BhdRkqt3"
TOKEN_KINDS = ("access token", "ID token", "DPoP proof", "x-jws-signature")
#: A payment initiation body of the size UK OB message signing covers (illustrative, fixed).
PAYMENT_BODY = json.dumps(
    {
        "Data": {
            "ConsentId": "58923",
            "Initiation": {
                "InstructionIdentification": "ACME412",
                "EndToEndIdentification": "FRESCO.21302.GFX.20",
                "InstructedAmount": {"Amount": "165.88", "Currency": "GBP"},
                "CreditorAccount": {
                    "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                    "Identification": "08080021325698",
                    "Name": "ACME Inc",
                },
            },
        },
        "Risk": {},
    },
    separators=(",", ":"),
).encode()


def _b64_sha256(text: str) -> str:
    return b64url_encode(hashlib.sha256(text.encode("ascii")).digest())


def make_tokens(alg: str) -> dict[str, str]:
    """The book's four tokens, signed with ``alg`` and its demo key, with fixed claims:

    * an RFC 9068 §2.2 access token (``typ`` ``at+jwt``), bound to the DPoP key (RFC 9449 §6);
    * an OIDC Core §2 ID token;
    * an RFC 9449 §4.2 DPoP proof carrying the client's public key in ``jwk`` and ``ath``;
    * a UK OB ``x-jws-signature`` (detached, over :data:`PAYMENT_BODY`).

    One demo key per algorithm signs all four, the DPoP proof included (a real client's DPoP key is its
    own, of the same type, so the sizes are the same): these tokens are for measuring, not for use.
    """
    key = signing_key(alg)
    kid = key["kid"]
    now = DEMO_EPOCH
    thumbprint = key.thumbprint()
    access = sign_compact(
        {
            "iss": AS, "exp": now + 300, "aud": API, "sub": "alice", "client_id": CLIENT_ID, "iat": now,
            "jti": "at-7f1c2e9a4b", "scope": "openid accounts payments", "cnf": {"jkt": thumbprint},
        },
        key,
        {"alg": alg, "typ": "at+jwt", "kid": kid},
    )  # fmt: skip
    id_token = sign_compact(
        {
            "iss": AS, "sub": "alice", "aud": CLIENT_ID, "exp": now + 300, "iat": now, "auth_time": now - 30,
            "nonce": "n-0S6_WzA2Mj", "acr": "urn:openbanking:psd2:sca", "at_hash": _b64_sha256(access)[:22],
        },
        key,
        {"alg": alg, "typ": "JWT", "kid": kid},
    )  # fmt: skip
    dpop = sign_compact(
        {
            "jti": "dpop-e1j3V_bKic8",
            "htm": "POST",
            "htu": f"{API}/open-banking/v3.1/pisp/domestic-payments",
            "iat": now,
            "ath": _b64_sha256(access),
        },
        key,
        {"alg": alg, "typ": "dpop+jwt", "jwk": _public(key)},
    )
    signature = sign_detached(
        PAYMENT_BODY,
        key,
        {
            "alg": alg, "kid": kid, "typ": "JOSE", "cty": "application/json", OB_IAT: now,
            OB_ISS: "0015800001041REAAY/Cs0RVAuBWP3gkRKXNkX6Cw", OB_TAN: "openbanking.org.uk", "crit": [OB_IAT, OB_ISS, OB_TAN],
        },
    )  # fmt: skip
    return {"access token": access, "ID token": id_token, "DPoP proof": dpop, "x-jws-signature": signature}


def request_headers(kind: str, tokens: Mapping[str, str]) -> list[tuple[str, str]]:
    """The HTTP header fields that carry ``kind`` in a real request: a bearer access token
    (RFC 6750 §2.1), an ID token in a session cookie, the DPoP pair (RFC 9449 §7.1), the OB header."""
    if kind == "access token":
        return [("Authorization", f"Bearer {tokens['access token']}")]
    if kind == "ID token":
        return [("Cookie", f"id_token={tokens['ID token']}")]
    if kind == "DPoP proof":
        return [("Authorization", f"DPoP {tokens['access token']}"), ("DPoP", tokens["DPoP proof"])]
    if kind == "x-jws-signature":
        return [(OB_HEADER, tokens["x-jws-signature"])]
    raise JoselabError(f"unknown token kind {kind!r}")


#: What a browser stores for a session cookie holding a token: name, value and these attributes,
#: all counted by RFC 6265 §6.1's "at least 4096 bytes per cookie".
COOKIE_ATTRIBUTES = "; Path=/; Secure; HttpOnly; SameSite=Lax"
COOKIE_FLOOR = 4096


def cookie_bytes(name: str, value: str) -> int:
    """The size RFC 6265 §6.1 counts: the cookie's name, value and attributes."""
    return len(f"{name}={value}{COOKIE_ATTRIBUTES}".encode())


@dataclass(frozen=True)
class TokenSize:
    kind: str
    alg: str
    token_bytes: int
    signature_bytes: int


def token_sizes(algs: Sequence[str] = SIZE_ALGORITHMS) -> list[TokenSize]:
    """Every token of :func:`make_tokens` for every algorithm, with its length and its signature's
    (decoded) length."""
    rows = []
    for alg in algs:
        for kind, token in make_tokens(alg).items():
            rows.append(TokenSize(kind, alg, len(token), len(b64url_decode(token.rsplit(".", 1)[1], "signature"))))
    return rows


# --------------------------------------------------------------------------------------------------
# Real servers on 127.0.0.1, and where each refuses a header
# --------------------------------------------------------------------------------------------------

#: The request line and fixed fields every probe sends before the fields under test.
_PATH = "/open-banking/v3.1/aisp/accounts"


def send_request(port: int, headers: Sequence[tuple[str, str]], *, timeout: float = 5.0) -> int:
    """Send one GET with ``headers`` to 127.0.0.1:``port`` and return the status code. A server that
    closes the connection without answering counts as 0."""
    lines = [f"GET {_PATH} HTTP/1.1", "Host: api.bank.example", "Connection: close", *(f"{k}: {v}" for k, v in headers)]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        try:
            conn.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    first = data.split(b"\r\n", 1)[0].split()
    return int(first[1]) if len(first) >= 2 and first[1].isdigit() else 0


def largest_header(port: int, name: str = "Authorization", prefix: str = "Bearer ", *, upper: int = 1 << 17) -> int:
    """The longest ``name: prefix + value`` field line (in bytes, without CRLF) the server at ``port``
    answers 200 to, found by bisection between an empty value and ``upper`` bytes."""

    def ok(n: int) -> bool:
        return send_request(port, [(name, prefix + "a" * n)]) == 200

    if not ok(0):
        raise JoselabError(f"server on port {port} refuses even an empty {name} field")
    lo, hi = 0, upper
    if ok(hi):
        return len(f"{name}: {prefix}") + hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return len(f"{name}: {prefix}") + lo


@dataclass
class HeaderServer:
    """A real HTTP server on 127.0.0.1 that answers 200 to any GET whose header it accepts. Use as a
    context manager; :meth:`stop` ends it. ``name`` and ``version`` say what runs."""

    name: str
    version: str
    port: int = 0
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def stop(self) -> None:
        self._stop()
        self._stop = lambda: None

    def __enter__(self) -> HeaderServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def get(self, headers: Sequence[tuple[str, str]]) -> int:
        return send_request(self.port, headers)


def _wait_until_answers(port: int, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if send_request(port, [], timeout=1.0) == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise JoselabError(f"server on port {port} did not answer within {deadline} s")


class _OkHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


def python_server() -> HeaderServer:
    """Python's ``http.server`` (``ThreadingHTTPServer``) with its defaults: it reads header lines
    with ``http.client``'s 65536-byte line cap."""
    import platform

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _OkHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        shutdown_server(httpd)  # at once, not at the loop's next poll
        thread.join(5)

    return HeaderServer("Python http.server", platform.python_version(), httpd.server_address[1], stop)


_NODE_SERVER = """
const http = require('http');
const server = http.createServer((req, res) => { res.writeHead(200, {'Content-Length': 3}); res.end('ok\\n'); });
server.listen(0, '127.0.0.1', () => { process.stdout.write(server.address().port + '\\n'); });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
"""


def _process_stopper(proc: subprocess.Popen[Any], cleanup: Callable[[], None] = lambda: None) -> Callable[[], None]:
    def stop() -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
        cleanup()

    return stop


def node_server() -> HeaderServer:
    """Node's ``http`` server with its defaults (``--max-http-header-size`` left alone)."""
    node = shutil.which("node")
    if node is None:
        raise JoselabError("node is not installed (make setup needs it for npm)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    proc = subprocess.Popen([node, "-e", _NODE_SERVER], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = _process_stopper(proc)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.strip().isdigit():
        stop()
        raise JoselabError(f"node server did not start: {line!r}")
    server = HeaderServer("Node http", version, int(line), stop)
    _wait_until_answers(server.port)
    return server


def nginx_binary() -> str | None:
    """Debian's nginx, if installed (``make setup`` installs it where missing, as root)."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def nginx_server() -> HeaderServer:
    """Debian's nginx with its compiled-in defaults for headers (``client_header_buffer_size 1k``,
    ``large_client_header_buffers 4 8k``: the config sets neither, nor does Debian's
    /etc/nginx/nginx.conf), in a temporary prefix. It listens on a socket this process bound to an
    ephemeral port and hands over through nginx's ``NGINX`` environment variable (the socket
    inheritance nginx uses for binary upgrades), so no fixed port is ever chosen."""
    binary = nginx_binary()
    if binary is None:
        raise JoselabError("nginx is not installed: run `make setup` as root, or apt-get install nginx")
    version = (
        subprocess.run([binary, "-v"], capture_output=True, text=True, check=True, timeout=30).stderr.strip().split("/", 1)[-1]
    )
    prefix = tempfile.TemporaryDirectory(prefix="joselab-nginx-")
    d = prefix.name
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    port = sock.getsockname()[1]
    temp = " ".join(f"{kind}_temp_path {d}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = (
        f"daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log warn;\n"
        f"events {{ worker_connections 64; }}\n"
        f"http {{ access_log off; {temp}\n"
        f'  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }} }}\n'
    )
    with open(f"{d}/nginx.conf", "w", encoding="utf-8") as fh:
        fh.write(config)
    env = {**os.environ, "NGINX": f"{sock.fileno()};"}
    proc = subprocess.Popen(
        [binary, "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log"],
        pass_fds=(sock.fileno(),),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def cleanup() -> None:
        sock.close()
        prefix.cleanup()

    # nginx's master reads the inherited socket; ours closes with the server.
    stop = _process_stopper(proc, cleanup)
    try:
        _wait_until_answers(port)
    except JoselabError:
        stop()
        raise
    return HeaderServer("nginx (Debian)", version, port, stop)


SERVERS: dict[str, Callable[[], HeaderServer]] = {"nginx": nginx_server, "node": node_server, "python": python_server}


@dataclass(frozen=True)
class Limit:
    server: str
    version: str
    largest_line: int


def measure_limits(servers: Sequence[HeaderServer]) -> list[Limit]:
    """The longest ``Authorization: Bearer …`` line each running server accepts."""
    return [Limit(s.name, s.version, largest_header(s.port)) for s in servers]


def size_table(servers: Sequence[HeaderServer], algs: Sequence[str] = SIZE_ALGORITHMS) -> list[dict[str, Any]]:
    """For every token and algorithm: its size, the status each server answered to a real request
    carrying it (:func:`request_headers`), and, for the tokens a browser would keep in a cookie,
    whether that cookie fits RFC 6265 §6.1's floor."""
    rows = []
    for alg in algs:
        tokens = make_tokens(alg)
        for kind in TOKEN_KINDS:
            row: dict[str, Any] = {"token": kind, "alg": alg, "bytes": len(tokens[kind])}
            for server in servers:
                row[server.name] = server.get(request_headers(kind, tokens))
            if kind in ("access token", "ID token"):
                size = cookie_bytes("id_token" if kind == "ID token" else "access_token", tokens[kind])
                row["cookie (RFC 6265 §6.1)"] = f"{size} {'fits' if size <= COOKIE_FLOOR else 'OVER 4096'}"
            rows.append(row)
    return rows


class Table(str):
    """A fixed-width text table (what ``print`` and nbval see) that a notebook shows as an HTML
    table, so that a wide row wraps inside its cells instead of breaking the columns apart."""

    columns: list[str]
    cells: list[list[str]]

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's plain-text form: the text itself
        printer.text(str(self))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in self.cells)
        return f'<table class="jl-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Table:
    """Rows of dicts as a :class:`Table`: fixed-width text (deterministic, so nbval can compare
    it) that renders as an HTML table in a notebook."""
    columns = list(columns or rows[0].keys())
    cells = [[str(row.get(c, "—")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    table = Table("\n".join(out))
    table.columns, table.cells = columns, cells
    return table


# --------------------------------------------------------------------------------------------------
# What each scenario's profile requires or allows
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    scenario: str
    token: str
    rule: str
    citation: str


#: What the profiles the book follows say about signature algorithms, per scenario.
PROFILE_RULES = (
    Requirement(
        "all (FAPI 2.0)",
        "every JWT",
        "PS256, ES256 or EdDSA with Ed25519 (a note admits a registered fully specified name: Ed25519); never none",
        "FAPI 2.0 Security Profile §5.4",
    ),
    Requirement(
        "all (FAPI 2.0)", "keys", "RSA keys of at least 2048 bits, EC keys of at least 224 bits", "FAPI 2.0 Security Profile §5.4"
    ),
    Requirement(
        "1 registration",
        "software statement, request JWT",
        "JWTs too: under FAPI 2.0 the same three",
        "FAPI 2.0 Security Profile §5.4",
    ),
    Requirement("2 access token", "JWT access token", "signed, never none; AS and RS MUST support RS256", "RFC 9068 §2.1"),
    Requirement(
        "3 ID token",
        "ID token",
        "the OP MUST support RS256 (unless ID tokens come only from the token endpoint and clients may register only none)",
        "OIDC Core §15.1",
    ),
    Requirement("3 ID token", "ID token", "alg SHOULD be RS256 or what the client registered", "OIDC Core §3.1.3.7 (7)"),
    Requirement("3 ID token", "ID token", "id_token_signed_response_alg defaults to RS256", "OIDC Registration §2"),
    Requirement("4 message signing", "x-jws-signature", "PS256 only", "OB R/W ≥3.1.4 Message Signing"),
)


def choice_table() -> list[dict[str, str]]:
    """Per scenario: the rule, its citation, and what satisfies every profile at once."""
    return [{"scenario": r.scenario, "token": r.token, "rule": r.rule, "cited": r.citation} for r in PROFILE_RULES]
