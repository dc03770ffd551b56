"""Detached and unencoded JWS over a message body (RFC 7515 Appendix F, RFC 7797), and ``crit``.

A detached JWS travels without its payload: the compact form is ``header..signature`` (RFC 7515
Appendix F) and the verifier puts back *the exact bytes it received* as the payload. Anything that
re-serialises the body on the way (a proxy, a framework's JSON binding, a logging filter) changes
those bytes and the signature no longer verifies; the fix is to sign and verify raw bytes, never a
parsed object. :func:`verify_detached` therefore takes ``bytes`` and refuses anything else.

RFC 7797 adds ``b64: false``: the payload goes into the signing input as it is, not base64url-encoded
(``BASE64URL(header) || '.' || payload``). It must be listed in ``crit`` (RFC 7797 §6), so that a
verifier that does not know ``b64`` rejects the JWS instead of misreading it; the shared checks in
:func:`joselab.jws.verify_jws` enforce that and :func:`joselab.jws.check_crit` applies RFC 7515
§4.1.11. The JWS JSON Serialization (RFC 7515 §7.2), where ``crit`` and ``b64`` must never appear in
the unprotected header, is :func:`joselab.serialization.verify_json_jws`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from jwcrypto import jwk

from ..compact import CompactJWS, parse_jws
from ..errors import MalformedToken, TokenTooLarge
from ..jws import KeySource, sign_compact, verify_jws
from ..keys import KeyBinding
from ..sections import policy
from ..trace import Trace

#: The largest body joselab will sign or verify as detached content (the HTTP parties cap at 1 MiB too).
MAX_BODY_BYTES = 1024 * 1024
#: The body cap is joselab's: a detached payload has no length limit in the RFC.
_CAP = policy("RFC 7515 Appendix F")


def unencoded(header: Mapping[str, Any]) -> dict[str, Any]:
    """``header`` with ``b64: false`` and ``b64`` listed first in ``crit`` (RFC 7797 §3, §6)."""
    crit = [name for name in header.get("crit", []) if name != "b64"]
    return {**header, "b64": False, "crit": ["b64", *crit]}


def sign_detached(body: bytes, key: jwk.JWK, header: Mapping[str, Any], *, b64: bool = True) -> str:
    """Sign the exact bytes of ``body`` and return the detached compact JWS ``header..signature``
    (RFC 7515 Appendix F). ``b64=False`` signs them unencoded (RFC 7797 §5.1)."""
    if not isinstance(body, (bytes, bytearray)):
        raise MalformedToken("detached content is the exact body bytes", "RFC 7515 Appendix F", f"got {type(body).__name__}")
    if len(body) > MAX_BODY_BYTES:
        raise TokenTooLarge("body within the cap", _CAP, f"{len(body)} > {MAX_BODY_BYTES} bytes")
    return sign_compact(bytes(body), key, header if b64 else unencoded(header), detached=True)


def signing_input(token: str, body: bytes | None = None) -> bytes:
    """The exact bytes a signature covers: ``ASCII(BASE64URL(header)) || '.' || payload part``, where
    the payload part is ``BASE64URL(body)``, or the body itself when ``b64`` is false (RFC 7515 §5.1
    step 5, RFC 7797 §3). ``body`` is the detached content, if the token has none."""
    return parse_jws(token, detached_payload=body).signing_input


_BODY_ROW = f"body within {MAX_BODY_BYTES} bytes"


def verify_detached(
    trace: Trace,
    token: str,
    body: bytes,
    keys: KeySource,
    algorithms: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    check_header: Callable[[CompactJWS], None] | None = None,
    binding: KeyBinding | None = None,
) -> CompactJWS:
    """Verify a detached JWS over the received ``body`` bytes (RFC 7515 Appendix F): the token's payload
    part must be empty, and ``body`` is put back exactly as received. Records rows on ``trace``."""
    is_bytes = isinstance(body, (bytes, bytearray))
    evidence = f"{len(body)} bytes" if is_bytes else f"got {type(body).__name__}: a parsed body has lost its bytes"
    trace.check("RFC 7515 Appendix F", "detached content is the exact received bytes", is_bytes, evidence, MalformedToken)
    trace.check(_CAP, _BODY_ROW, len(body) <= MAX_BODY_BYTES, evidence, TokenTooLarge)
    return verify_jws(
        trace,
        token,
        keys,
        algorithms,
        understood_crit=understood_crit,
        detached_payload=bytes(body),
        signature_section="RFC 7515 §5.2, Appendix F",
        check_header=check_header,
        binding=binding,
    )


def verify_message(
    token: str,
    body: bytes,
    keys: KeySource,
    algorithms: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    strict: bool = False,
    binding: KeyBinding | None = None,
) -> Trace:
    """A detached JWS over a message body, as a whole validation: the trace's result is the body."""
    trace = Trace("RFC 7515 Appendix F: detached JWS over the message body")
    with trace.run():
        verify_detached(trace, token, body, keys, algorithms, understood_crit=understood_crit, binding=binding)
        trace.result = bytes(body)
    return trace.raise_for_failure() if strict else trace
