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
§4.1.11. The JWS JSON Serialization (RFC 7515 §7.2) adds an unprotected header, where ``crit`` and
``b64`` must never appear: :func:`verify_flattened` checks that before anything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from jwcrypto import jwk

from ..compact import MAX_TOKEN_LENGTH, CompactJWS, b64url_decode, parse_json_object, parse_jws
from ..errors import InvalidHeader, MalformedToken, TokenTooLarge, UnsupportedCritical, ValidationError
from ..jws import KeySource, sign_compact, verify_jws
from ..trace import Trace

#: The largest body joselab will sign or verify as detached content (the HTTP parties cap at 1 MiB too).
MAX_BODY_BYTES = 1024 * 1024


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
        raise TokenTooLarge("body within the cap", "RFC 8725 §3.4", f"{len(body)} > {MAX_BODY_BYTES} bytes")
    return sign_compact(bytes(body), key, header if b64 else unencoded(header), detached=True)


def signing_input(token: str, body: bytes | None = None) -> bytes:
    """The exact bytes a signature covers: ``ASCII(BASE64URL(header)) || '.' || payload part``, where
    the payload part is ``BASE64URL(body)``, or the body itself when ``b64`` is false (RFC 7515 §5.1
    step 5, RFC 7797 §3). ``body`` is the detached content, if the token has none."""
    return parse_jws(token, detached_payload=body).signing_input


def verify_detached(
    trace: Trace,
    token: str,
    body: bytes,
    keys: KeySource,
    algorithms: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    check_header: Callable[[CompactJWS], None] | None = None,
) -> CompactJWS:
    """Verify a detached JWS over the received ``body`` bytes (RFC 7515 Appendix F): the token's payload
    part must be empty, and ``body`` is put back exactly as received. Records rows on ``trace``."""
    is_bytes = isinstance(body, (bytes, bytearray))
    evidence = f"{len(body)} bytes" if is_bytes else f"got {type(body).__name__}: a parsed body has lost its bytes"
    trace.check("RFC 7515 Appendix F", "detached content is the exact received bytes", is_bytes, evidence, MalformedToken)
    trace.check("RFC 8725 §3.4", f"body within {MAX_BODY_BYTES} bytes", len(body) <= MAX_BODY_BYTES, evidence, TokenTooLarge)
    return verify_jws(
        trace,
        token,
        keys,
        algorithms,
        understood_crit=understood_crit,
        detached_payload=bytes(body),
        signature_section="RFC 7515 §5.2, Appendix F",
        check_header=check_header,
    )


def verify_message(
    token: str,
    body: bytes,
    keys: KeySource,
    algorithms: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    strict: bool = False,
) -> Trace:
    """A detached JWS over a message body, as a whole validation: the trace's result is the body."""
    trace = Trace("RFC 7515 Appendix F: detached JWS over the message body")
    with trace.run():
        verify_detached(trace, token, body, keys, algorithms, understood_crit=understood_crit)
        trace.result = bytes(body)
    return trace.raise_for_failure() if strict else trace


def _flattened(document: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(document, Mapping):
        return dict(document)
    if isinstance(document, str):
        document = document.encode("utf-8")
    if not isinstance(document, (bytes, bytearray)):
        raise MalformedToken("JWS JSON is a JSON object", "RFC 7515 §7.2", f"got {type(document).__name__}")
    if len(document) > MAX_TOKEN_LENGTH + MAX_BODY_BYTES:
        raise TokenTooLarge("JWS JSON within the cap", "RFC 8725 §3.4", f"{len(document)} bytes")
    return parse_json_object(bytes(document), "JWS JSON", "RFC 7515 §7.2")


def verify_flattened(
    trace: Trace,
    document: str | bytes | Mapping[str, Any],
    keys: KeySource,
    algorithms: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    detached_payload: bytes | None = None,
) -> CompactJWS:
    """Verify a flattened JWS JSON Serialization (RFC 7515 §7.2.2) with one protected header.

    ``crit`` (RFC 7515 §4.1.11) and ``b64`` (RFC 7797 §3) must be integrity protected, so they may not
    occur in the unprotected ``header``; the two headers must not share a name (RFC 7515 §7.2.1). The
    checks that follow read the protected header only: unprotected members are listed in the trace
    and otherwise ignored. The payload is then put back as detached content, which is how an
    unencoded payload containing ``.`` (RFC 7797 §5.2) is verified at all.
    """
    section = "RFC 7515 §7.2.2"
    try:
        doc = _flattened(document)
    except ValidationError as exc:
        trace.note_failure(exc)
        raise
    shape_ok = (
        "signatures" not in doc
        and isinstance(doc.get("protected"), str)
        and isinstance(doc.get("signature"), str)
        and isinstance(doc.get("header", {}), dict)
        and isinstance(doc.get("payload", ""), str)
    )
    trace.check(
        section,
        "flattened JWS JSON: protected and signature strings, header an object",
        shape_ok,
        f"members {sorted(doc)}",
        MalformedToken,
    )
    unprotected: dict[str, Any] = doc.get("header", {})
    trace.check(
        "RFC 7515 §4.1.11",
        "crit occurs only in the protected header",
        "crit" not in unprotected,
        f"unprotected crit = {json.dumps(unprotected['crit'])[:60]}" if "crit" in unprotected else "not in the unprotected header",
        UnsupportedCritical,
    )
    trace.check(
        "RFC 7797 §3",
        "b64 occurs only in the protected header",
        "b64" not in unprotected,
        "unprotected b64 present" if "b64" in unprotected else "not in the unprotected header",
        InvalidHeader,
    )
    try:
        protected = parse_json_object(b64url_decode(doc["protected"], "protected header"), "protected header")
    except ValidationError as exc:
        trace.note_failure(exc)
        raise
    shared = sorted(set(protected) & set(unprotected))
    trace.check(
        "RFC 7515 §7.2.1",
        "protected and unprotected header names are disjoint",
        not shared,
        f"both have {shared}" if shared else f"unprotected members {sorted(unprotected)} (not used)",
        InvalidHeader,
    )
    if "payload" in doc:
        trace.check(
            "RFC 7515 Appendix F",
            "payload given once (in the JSON, not also detached)",
            detached_payload is None,
            "payload member present" + (" and detached content given" if detached_payload is not None else ""),
            MalformedToken,
        )
        text = doc["payload"]
        try:
            payload = text.encode("utf-8") if protected.get("b64") is False else b64url_decode(text, "payload")
        except ValidationError as exc:
            trace.note_failure(exc)
            raise
    else:
        trace.check(
            "RFC 7515 Appendix F", "detached content given", detached_payload is not None, "no payload member", MalformedToken
        )
        payload = bytes(detached_payload or b"")
    compact = f"{doc['protected']}..{doc['signature']}"
    return verify_jws(trace, compact, keys, algorithms, understood_crit=understood_crit, detached_payload=payload)
