"""Encrypting and decrypting compact JWE (RFC 7516) with the checks every profile shares.

:func:`decrypt_jwe` is the front half of every validator that receives an encrypted token; each step
is a row of the caller's trace:

1. parse strictly: five base64url parts, the header a JSON object (RFC 7516 §5.2 steps 1-3);
2. ``alg`` and ``enc`` on the caller's allowlists (RFC 8725 §3.1, §3.2: no RSA1_5 unless asked);
3. ``crit`` well formed and understood (RFC 7516 §4.1.13, as RFC 7515 §4.1.11);
4. no compression (RFC 8725 §3.6; and a compressed JWE is a decompression bomb waiting to happen,
   CVE-2024-28102), and a PBES2 iteration count within bounds (CVE-2023-6681);
5. decrypt with the recipient's key (jwcrypto does the cryptography; its plaintext size cap applies).

:func:`encrypt_compact` writes ``alg`` and ``enc`` first in the protected header. Encryption is
randomized (a fresh content key and IV every time), so the same plaintext never gives the same JWE.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from jwcrypto import jwe, jwk
from jwcrypto.common import JWException

from .compact import MAX_TOKEN_LENGTH, CompactJWE, parse_jwe
from .errors import AlgorithmNotAllowed, DecryptionFailed, InvalidHeader, UnsupportedCritical, ValidationError
from .jws import check_crit
from .sections import policy
from .trace import Trace

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
) -> tuple[CompactJWE, bytes]:
    """Run the shared JWE checks as rows of ``trace``; return the parsed JWE and its plaintext."""
    try:
        parsed = parse_jwe(token, max_length=max_length)
    except ValidationError as exc:
        trace.note_failure(exc)
        raise
    trace.check("RFC 7516 §7.1", "compact JWE: five base64url parts, header a JSON object", True, f"{len(token)} characters")
    check_jwe_header(trace, parsed.header, algorithms, encryptions, understood_crit=understood_crit)
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
