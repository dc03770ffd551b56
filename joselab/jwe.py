"""Encrypting and decrypting compact JWE (RFC 7516) with the checks every profile shares.

:func:`decrypt_jwe` is the front half of every validator that receives an encrypted token; each step
is a row of the caller's trace:

1. parse strictly: five base64url parts, the header a JSON object (RFC 7516 §5.2 steps 1-3);
2. ``alg`` and ``enc`` on the caller's allowlists (RFC 8725 §3.1, §3.2: no RSA1_5 unless asked);
3. ``crit`` well formed and understood (RFC 7516 §4.1.13, as RFC 7515 §4.1.11);
4. no compression (RFC 8725 §3.6; and a compressed JWE is a decompression bomb waiting to happen,
   CVE-2024-28102), and a PBES2 iteration count within bounds (CVE-2023-6681);
5. the recipient key serves ``alg``, its one algorithm (RFC 8725 §3.1, as for signatures: an
   ``A128GCMKW`` key never unwraps an ``A128KW`` token, an ``A256KW`` key is never a PBES2
   password; see :class:`~joselab.keys.KeyBinding`);
6. for ECDH-ES, the ephemeral public key ``epk`` is a public key on the recipient key's curve
   (RFC 7518 §4.6.1.1; RFC 8725 §3.4, the invalid-curve attack of §2.5). The point check itself is
   ``cryptography``'s (``EllipticCurvePublicNumbers.public_key`` refuses a point off its curve),
   reached through jwcrypto's JWK import; this row makes the refusal a named check instead of a
   failed decryption;
7. decrypt with the recipient's key (jwcrypto does the cryptography; its plaintext size cap applies).

:func:`encrypt_compact` writes ``alg`` and ``enc`` first in the protected header. Encryption is
randomized (a fresh content key and IV every time), so the same plaintext never gives the same JWE.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from jwcrypto import jwe, jwk
from jwcrypto.common import JWException

from .compact import MAX_TOKEN_LENGTH, CompactJWE, b64url_decode, parse_jwe
from .errors import AlgorithmNotAllowed, DecryptionFailed, InvalidHeader, KeyNotFound, UnsupportedCritical, ValidationError
from .jws import check_crit
from .keys import KeyBinding, key_fits_jwe_alg
from .sections import policy
from .trace import Trace, as_evidence

#: The range of a PBES2 ``p2c`` joselab accepts: RFC 7518 §4.8.1.2 only RECOMMENDS at least 1000 and
#: sets no upper bound; the cap is joselab policy, as RFC 8725bis advises one (the cost of a guess).
MAX_PBES2_COUNT = 10_000
#: The largest plaintext joselab will produce from one JWE.
MAX_PLAINTEXT_BYTES = 256 * 1024


def encrypt_compact(plaintext: bytes | str, key: jwk.JWK, header: Mapping[str, Any]) -> str:
    """Encrypt to ``key`` and return the compact JWE (RFC 7516 §7.1). ``header`` holds ``alg``, ``enc``
    and any of ``kid``, ``cty``, ``typ``."""
    if "zip" in header:
        raise InvalidHeader("no compression before encryption", "RFC 8725 §3.6", "zip requested")
    ordered = {"alg": header["alg"], "enc": header["enc"], **{k: v for k, v in header.items() if k not in ("alg", "enc")}}
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else bytes(plaintext)
    token = jwe.JWE(data, protected=json.dumps(ordered, separators=(",", ":")))
    token.allowed_algs = [header["alg"], header["enc"]]
    token.add_recipient(key)
    return token.serialize(compact=True)


def decrypt_jwe(
    trace: Trace,
    token: str,
    key: jwk.JWK,
    algorithms: Collection[str],
    encryptions: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    max_length: int = MAX_TOKEN_LENGTH,
    section: str = "RFC 7516 §5.2",
    binding: KeyBinding | None = None,
) -> tuple[CompactJWE, bytes]:
    """Run the shared JWE checks as rows of ``trace``; return the parsed JWE and its plaintext.
    ``binding`` says which one key management algorithm ``key`` serves (default: its JWK's ``alg``,
    else the one algorithm on ``algorithms`` that takes its key type)."""
    try:
        parsed = parse_jwe(token, max_length=max_length)
    except ValidationError as exc:
        trace.note_failure(exc)
        raise
    trace.check("RFC 7516 §7.1", "compact JWE: five base64url parts, header a JSON object", True, f"{len(token)} characters")
    check_jwe_header(trace, parsed.header, algorithms, encryptions, understood_crit=understood_crit)
    check_recipient_key(trace, parsed.header, key, algorithms, binding=binding)
    alg, enc = parsed.header["alg"], parsed.header["enc"]
    ok, plaintext = jwcrypto_decrypt(token, key, alg, enc)
    trace.check(section, f"decrypts with the recipient key kid={key.get('kid')!r}", ok, f"{alg} / {enc}", DecryptionFailed)
    return parsed, plaintext


def check_jwe_header(
    trace: Trace,
    header: Mapping[str, Any],
    algorithms: Collection[str],
    encryptions: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    label: str = "",
) -> None:
    """The header rows every JWE shares, on one recipient's JOSE Header (RFC 7516 §5.2 steps 4-5):
    ``alg`` and ``enc`` allowlisted, ``crit`` understood, no ``zip``, a bounded PBES2 ``p2c``. Used by
    :func:`decrypt_jwe` and by :mod:`joselab.serialization` for the JSON forms."""
    alg, enc = header.get("alg"), header.get("enc")
    trace.check(
        "RFC 8725 §3.1",
        f"{label}alg on the allowlist {sorted(algorithms)}",
        isinstance(alg, str) and alg in algorithms,  # a list or object here must fail, not raise TypeError
        f"alg = {json.dumps(alg)}",
        AlgorithmNotAllowed,
    )
    trace.check(
        "RFC 8725 §3.1",
        f"{label}enc on the allowlist {sorted(encryptions)}",
        isinstance(enc, str) and enc in encryptions,
        f"enc = {json.dumps(enc)}",
        AlgorithmNotAllowed,
    )
    # Present but not a string: refused at its own row (recorded only when it fails).
    for name, where in (("kid", "RFC 7516 §4.1.6"), ("typ", "RFC 7516 §4.1.11"), ("cty", "RFC 7516 §4.1.12")):
        if name in header and not isinstance(header[name], str):
            trace.check(where, f"{label}{name} is a string", False, f"{name} = {json.dumps(header[name])[:40]}", InvalidHeader)
    if "crit" in header:
        try:
            ok, evidence = True, check_crit(header, understood_crit)
        except ValidationError as exc:
            ok, evidence = False, f"{exc.check}: {exc.evidence}"
        trace.check("RFC 7516 §4.1.13", f"{label}crit: well formed, every name understood", ok, evidence, UnsupportedCritical)
    trace.check(
        "RFC 8725 §3.6",
        f"{label}no compression (zip absent)",
        "zip" not in header,
        f"zip = {json.dumps(header.get('zip'))}",
        InvalidHeader,
    )
    if isinstance(alg, str) and alg.startswith("PBES2"):
        p2c = header.get("p2c")
        ok = isinstance(p2c, int) and not isinstance(p2c, bool) and 1000 <= p2c <= MAX_PBES2_COUNT
        trace.check(
            policy("RFC 7518 §4.8.1.2", "sets no upper bound"),
            f"{label}p2c between 1000 and {MAX_PBES2_COUNT}",
            ok,
            f"p2c = {json.dumps(p2c)[:20]}",
            InvalidHeader,
        )


def check_recipient_key(
    trace: Trace,
    header: Mapping[str, Any],
    key: jwk.JWK,
    algorithms: Collection[str],
    *,
    binding: KeyBinding | None = None,
    label: str = "",
) -> None:
    """The rows on the recipient's own key, after :func:`check_jwe_header`: the key serves ``alg``, its
    one algorithm (RFC 8725 §3.1), and fits it; and for ECDH-ES, ``epk`` is a valid public key on the
    key's curve (RFC 8725 §3.4)."""
    alg = header["alg"]
    served, how = (binding or KeyBinding()).algorithm_for(key, algorithms, use="enc")
    fits, why = key_fits_jwe_alg(key, alg, header.get("enc"))
    if fits and served is None:
        fits, why = False, how
    elif fits and served != alg and not (alg == "dir" and served == header.get("enc")):
        fits, why = False, f"serves {how}, not {alg}"
    elif fits:
        why = f"serves {how}; {why}"
    trace.check(
        "RFC 8725 §3.1", f"{label}the recipient key is the one for {alg}", fits, f"kid={key.get('kid')!r}: {why}", KeyNotFound
    )
    if alg.startswith("ECDH-ES"):
        ok, evidence = _check_epk(header.get("epk"), key)
        trace.check("RFC 8725 §3.4", f"{label}epk: a public key on the recipient key's curve", ok, evidence, InvalidHeader)


#: The NIST curves' field primes and coordinate sizes (FIPS 186-4 D.1.2; RFC 7518 §6.2.1.2 asks for
#: full-size coordinates). ``cryptography`` checks that a point is on its curve, but reads a
#: coordinate of p or more modulo p: the range check of SP 800-56A's partial validation is here.
_FIELD = {
    "P-256": (2**256 - 2**224 + 2**192 + 2**96 - 1, 32),
    "P-384": (2**384 - 2**128 - 2**96 + 2**32 - 1, 48),
    "P-521": (2**521 - 1, 66),
}


def _check_epk(epk: Any, key: jwk.JWK) -> tuple[bool, str]:
    """Whether ``epk`` is a public key of the recipient key's type and curve whose point is valid
    (RFC 7518 §4.6.1.1: epk MUST be present; RFC 8725 §3.4: validate it on the recipient's curve,
    for P-256/384/521 by SP 800-56A's partial public-key validation: coordinates of full size and
    below the field prime, point on the curve)."""
    if not isinstance(epk, dict):
        return False, "epk absent" if epk is None else f"epk is {type(epk).__name__}, not a JWK object"
    kty, crv = epk.get("kty"), epk.get("crv")
    if (kty, crv) != (key.get("kty"), key.get("crv")):
        return False, f"epk is {as_evidence(kty)} {as_evidence(crv)}, the key is {key.get('kty')} {key.get('crv')}"
    private = sorted({"d", "p", "q", "dp", "dq", "qi", "k"} & set(epk))
    if private:
        return False, f"epk carries private members {private}"
    if kty == "EC" and crv in _FIELD:
        prime, size = _FIELD[crv]
        for name in ("x", "y"):
            try:
                raw = b64url_decode(epk.get(name), f"epk {name}")
            except ValidationError:
                return False, f"epk {name} is not base64url"
            if len(raw) != size:
                return False, f"epk on {crv}: {name} is {len(raw)} bytes, not the {size} of a coordinate"
            if int.from_bytes(raw, "big") >= prime:
                return False, f"epk on {crv}: {name} is not below the field prime"
    try:
        # jwcrypto builds the key lazily; exporting it makes cryptography build the public key, which
        # refuses a point that is not on the curve ("Point is not on the curve specified").
        jwk.JWK(**epk).export_to_pem()
    except (JWException, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        reason = "point not on the curve" if "curve" in str(exc).lower() else f"not a valid {kty} key ({type(exc).__name__})"
        return False, f"epk on {crv}: {reason}"
    return True, f"epk on {crv}, point on the curve"


def jwcrypto_decrypt(serialized: str, key: jwk.JWK, alg: str, enc: str) -> tuple[bool, bytes]:
    """Decrypt a compact or JSON JWE with jwcrypto, allowing only ``alg`` and ``enc`` and capping the
    plaintext; ``(False, b"")`` on any failure (the caller records the row)."""
    try:
        obj = jwe.JWE()
        obj.allowed_algs = [alg, enc]
        obj.deserialize(serialized)
        obj.decrypt(key, max_plaintext=MAX_PLAINTEXT_BYTES)
        return True, obj.plaintext
    except (JWException, ValueError, TypeError, KeyError, OverflowError):
        return False, b""
