"""The JSON Serializations of JWS (RFC 7515 §7.2) and JWE (RFC 7516 §7.2), general and flattened.

Compact serialization has one protected header and one signature or recipient; the JSON forms add
unprotected headers and several signatures or recipients, and with them new ways to go wrong. Each
step below is a row of the caller's trace, as in :func:`joselab.jws.verify_jws`, and the checks on
the resulting JOSE Header are the very same functions the compact forms use
(:func:`joselab.jws.verify_signature`, :func:`joselab.jwe.check_jwe_header`).

What the JSON forms add, and what joselab checks for them:

* the document is one JSON object (duplicate member names refused at every level: RFC 8259 §4
  leaves their meaning undefined, and RFC 7515 §4 forbids them in a header), in exactly one of the
  two syntaxes: a flattened document must not also carry ``signatures`` / ``recipients``
  (RFC 7515 §7.2.2, RFC 7516 §7.2.2), and a general one carrying a top-level ``signature`` /
  ``encrypted_key`` too is refused as ambiguous (joselab policy: two readers could see two different
  documents);
* each JOSE Header is the union of the protected and unprotected headers, whose member names must be
  disjoint (RFC 7515 §7.2.1 and §5.2 step 4; RFC 7516 §7.2.1 and §5.2 step 4, three locations for
  JWE), so no unprotected member can shadow a protected one;
* ``crit`` must be in the protected header (RFC 7515 §4.1.11: "it MUST occur only within the JWS
  Protected Header"; RFC 7516 §4.1.13 for JWE), and so must ``b64`` (RFC 7797 §3), whose value must
  be the same for every signature (RFC 7797 §3);
* bounded work: the text length is capped before parsing, and so is the number of signatures or
  recipients (joselab policy; RFC 7515 §7.2 and RFC 7516 §7.2 set no bound).

**Several signatures: every one must verify.** RFC 7515 §5.2 only requires that "if none of the
validations succeeded" the JWS is invalid, and leaves to the application which signatures must
succeed. joselab's policy is the strict one: every signature present is checked, with a trusted key
that fits its ``alg``, and one failure rejects the JWS. A signature the verifier cannot check is not
silently skipped, so nothing the verifier did not verify travels with the payload it hands on; a
party that needs "any one of these signers" must say so by stripping the other signatures first.

**Several recipients: this key's recipient.** A JWE for several recipients is decrypted with the
caller's key, for the one recipient whose ``kid`` names that key (or the only recipient, when there
is one): the per-recipient steps of RFC 7516 §5.2 run for that recipient only.

A ``kid`` (or ``alg``) in an unprotected header is accepted, as RFC 7515 §7.2.1 allows and RFC 7520
§4.6, §4.7 and §4.8 do; it is not trusted for anything but picking among the caller's own keys, and the key it
picks must still fit ``alg`` and verify the signature (RFC 7515 §6 asks key-identifying members to be
protected only when the receiver bases a trust decision on them).

The cryptography is jwcrypto's: for a JWE, joselab hands it a flattened document holding only the
chosen recipient, after its own checks.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from jwcrypto import jwk

from .compact import MAX_TOKEN_LENGTH, b64url_decode, b64url_encode, parse_json_object
from .errors import (
    DecryptionFailed,
    InvalidHeader,
    KeyNotFound,
    MalformedToken,
    TokenTooLarge,
    UnsupportedCritical,
    ValidationError,
)
from .jwe import check_jwe_header, check_recipient_key, jwcrypto_decrypt
from .jws import KeySource, verify_signature
from .keys import KeyBinding
from .sections import policy
from .trace import Trace

#: The most signatures (JWS) or recipients (JWE) one JSON document may carry: each costs a
#: public-key operation, so the count is capped like the length.
MAX_SIGNATURES = 8
MAX_RECIPIENTS = 8

_JWS = "RFC 7515 §7.2"
_JWE = "RFC 7516 §7.2"


def _fail(trace: Trace, exc: ValidationError) -> ValidationError:
    trace.note_failure(exc)
    return exc


def _load(trace: Trace, data: str | bytes | Mapping[str, Any], what: str, section: str, max_length: int) -> dict[str, Any]:
    """The document as a dict: text is capped, then parsed strictly (UTF-8, no duplicate names)."""
    if isinstance(data, Mapping):
        return dict(data)
    if not isinstance(data, (str, bytes)):
        raise _fail(trace, MalformedToken(f"{what} is a JSON object", section, f"got {type(data).__name__}"))
    if len(data) > max_length:
        raise _fail(
            trace,
            TokenTooLarge(
                f"{what} length within the cap",
                policy("RFC 7515 §7.2 and RFC 7516 §7.2", "set no bound"),
                f"{len(data)} > {max_length}",
            ),
        )
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        return parse_json_object(raw, what, section)
    except ValidationError as exc:
        raise _fail(trace, exc) from None


def _optional_object(container: Mapping[str, Any], name: str, what: str, section: str) -> dict[str, Any]:
    value = container.get(name, {})
    if not isinstance(value, dict):
        raise MalformedToken(f"{what} is a JSON object", section, f"{name} is {type(value).__name__}")
    return value


def _protected(container: Mapping[str, Any], section: str) -> tuple[str, dict[str, Any]]:
    """The ``protected`` member: its exact text (it is part of the signing input / AAD) and its JSON."""
    if "protected" not in container:
        return "", {}
    text = container["protected"]
    if not isinstance(text, str):
        raise MalformedToken("protected is a base64url string", section, f"protected is {type(text).__name__}")
    return text, parse_json_object(b64url_decode(text, "protected header"), "protected header")


def _union(parts: list[tuple[str, dict[str, Any]]], section: str, what: str) -> dict[str, Any]:
    """The JOSE Header: the union of header objects whose member names must be disjoint."""
    seen: dict[str, str] = {}
    union: dict[str, Any] = {}
    for where, header in parts:
        for name, value in header.items():
            if name in seen:
                raise InvalidHeader(
                    f"{what}header member names are disjoint across locations",
                    section,
                    f"{name!r} in both {seen[name]} and {where}",
                )
            seen[name] = where
            union[name] = value
    return union


def _only_protected(trace: Trace, unprotected: list[dict[str, Any]], label: str, jwe: bool) -> None:
    """``crit`` and ``b64`` change how everything else is read, so they must be signed / authenticated."""
    where = [name for name in ("crit", "b64") if any(name in h for h in unprotected)]
    crit_section = "RFC 7516 §4.1.13" if jwe else "RFC 7515 §4.1.11"
    trace.check(
        crit_section,
        f"{label}crit only in the protected header",
        "crit" not in where,
        "crit in an unprotected header" if "crit" in where else "not in an unprotected header",
        UnsupportedCritical,
    )
    if not jwe and any("b64" in h for h in unprotected):
        trace.check(
            "RFC 7797 §3",
            f"{label}b64 only in the protected header",
            "b64" not in where,
            "b64 in an unprotected header" if "b64" in where else "not in an unprotected header",
            InvalidHeader,
        )


def verify_json_jws(
    trace: Trace,
    data: str | bytes | Mapping[str, Any],
    keys: KeySource,
    algorithms: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    detached_payload: bytes | None = None,
    max_length: int = MAX_TOKEN_LENGTH,
    signature_section: str = "RFC 7515 §5.2",
    binding: KeyBinding | None = None,
) -> bytes:
    """Verify a JWS in the general or flattened JSON Serialization (RFC 7515 §7.2); return the payload.

    Every signature present must verify (see the module docstring for why). ``detached_payload``
    supplies the payload of a JWS whose ``payload`` member was left out (RFC 7515 Appendix F). Each
    step is a row of ``trace``; the first failure raises its :class:`~joselab.errors.ValidationError`.
    ``binding`` says which one algorithm each key serves (:class:`~joselab.keys.KeyBinding`).
    """
    doc = _load(trace, data, "JSON JWS", _JWS, max_length)
    try:
        form, entries = _jws_entries(doc)
        payload_text = _payload_member(doc, detached_payload)
    except ValidationError as exc:
        raise _fail(trace, exc) from None
    trace.check(_JWS, f"JSON JWS, {form} syntax", True, f"{len(entries)} signature{'s' if len(entries) > 1 else ''}")

    # RFC 7515 §5.2 steps 2-4 for every signature before any key is used: headers parsed and merged.
    parsed: list[tuple[str, dict[str, Any], bytes]] = []
    for i, entry in enumerate(entries):
        label = f"signature {i + 1}: " if len(entries) > 1 else ""
        try:
            protected_b64, protected = _protected(entry, "RFC 7515 §7.2.1")
            unprotected = _optional_object(entry, "header", "header", "RFC 7515 §7.2.1")
            if "protected" not in entry and "header" not in entry:
                raise MalformedToken(f"{label}protected or header present", "RFC 7515 §7.2.1", "neither: no alg is conveyed")
            sig_text = entry.get("signature")
            if not isinstance(sig_text, str):
                raise MalformedToken(
                    f"{label}signature is a base64url string", "RFC 7515 §7.2.1", f"got {type(sig_text).__name__}"
                )
            signature = b64url_decode(sig_text, "signature")
            header = _union([("protected", protected), ("header", unprotected)], "RFC 7515 §7.2.1", label)
        except ValidationError as exc:
            raise _fail(trace, exc) from None
        trace.check(
            "RFC 7515 §7.2.1",
            f"{label}JOSE Header: protected and unprotected names disjoint",
            True,
            f"protected {sorted(protected)}, header {sorted(unprotected)}",
        )
        _only_protected(trace, [unprotected], label, jwe=False)
        parsed.append((protected_b64, header, signature))

    b64_values = {json.dumps(h.get("b64", True)) for _, h, _ in parsed}
    if any("b64" in h for _, h, _ in parsed):
        trace.check(
            "RFC 7797 §3", "b64 the same for every signature", len(b64_values) == 1, f"b64 = {sorted(b64_values)}", InvalidHeader
        )
    b64 = parsed[0][1].get("b64", True) is not False
    try:
        payload, payload_segment = _payload(payload_text, detached_payload, b64)
    except ValidationError as exc:
        raise _fail(trace, exc) from None

    for i, (protected_b64, header, signature) in enumerate(parsed):
        label = f"signature {i + 1}: " if len(parsed) > 1 else ""
        verify_signature(
            trace,
            header,
            protected_b64.encode("ascii") + b"." + payload_segment,
            signature,
            keys,
            algorithms,
            understood_crit=understood_crit,
            signature_section=signature_section,
            label=label,
            binding=binding,
        )
    return payload


def _jws_entries(doc: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    if "signatures" in doc:
        flat = [name for name in ("protected", "header", "signature") if name in doc]
        if flat:
            raise MalformedToken("one syntax: general or flattened", "RFC 7515 §7.2.2", f"signatures and {flat}")
        entries = doc["signatures"]
        if not isinstance(entries, list) or not entries:
            raise MalformedToken("signatures is a non-empty array", "RFC 7515 §7.2.1", f"signatures = {json.dumps(entries)[:40]}")
        if len(entries) > MAX_SIGNATURES:
            raise MalformedToken(f"at most {MAX_SIGNATURES} signatures", policy("RFC 7515 §7.2.1"), f"{len(entries)} signatures")
        if not all(isinstance(e, dict) for e in entries):
            raise MalformedToken("each signature is a JSON object", "RFC 7515 §7.2.1", "an entry is not an object")
        return "general", entries
    if "signature" not in doc:
        raise MalformedToken("signatures (general) or signature (flattened) present", "RFC 7515 §7.2", "neither")
    return "flattened", [doc]


def _payload_member(doc: dict[str, Any], detached_payload: bytes | None) -> str | None:
    if detached_payload is not None:
        if "payload" in doc:
            raise MalformedToken("payload member absent for detached content", "RFC 7515 Appendix F", "payload present")
        return None
    text = doc.get("payload")
    if not isinstance(text, str):
        raise MalformedToken("payload is a string", "RFC 7515 §7.2.1", "absent" if text is None else f"{type(text).__name__}")
    return text


def _payload(text: str | None, detached: bytes | None, b64: bool) -> tuple[bytes, bytes]:
    """(payload bytes, the payload part of the signing input) (RFC 7515 §5.2 step 6, RFC 7797 §3)."""
    if text is None:
        payload = bytes(detached or b"")
        return payload, (b64url_encode(payload).encode("ascii") if b64 else payload)
    if b64:
        return b64url_decode(text, "payload"), text.encode("ascii")
    try:
        raw = text.encode("utf-8")  # RFC 7797 §5.1: the unencoded payload is the string's UTF-8
    except UnicodeEncodeError:
        raise MalformedToken("payload has no lone surrogate", "RFC 7493 §2.1", "lone surrogate in the payload string") from None
    return raw, raw


def decrypt_json_jwe(
    trace: Trace,
    data: str | bytes | Mapping[str, Any],
    key: jwk.JWK,
    algorithms: Collection[str],
    encryptions: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    max_length: int = MAX_TOKEN_LENGTH,
    section: str = "RFC 7516 §5.2",
    binding: KeyBinding | None = None,
) -> bytes:
    """Decrypt a JWE in the general or flattened JSON Serialization (RFC 7516 §7.2) for the recipient
    whose ``kid`` names ``key``, with its ``aad`` authenticated; return the plaintext. ``key`` serves
    one algorithm, as :func:`joselab.jwe.decrypt_jwe` checks (``binding``)."""
    doc = _load(trace, data, "JSON JWE", _JWE, max_length)
    try:
        form, recipients = _jwe_recipients(doc)
        for name in ("iv", "ciphertext", "tag", "aad"):
            if name in doc and not isinstance(doc[name], str):
                raise MalformedToken(f"{name} is a base64url string", "RFC 7516 §7.2.1", f"{name} is {type(doc[name]).__name__}")
            if name in doc:
                b64url_decode(doc[name], name)
        if "ciphertext" not in doc:
            raise MalformedToken("ciphertext present", "RFC 7516 §7.2.1", "absent")
        _, protected = _protected(doc, "RFC 7516 §7.2.1")
        shared = _optional_object(doc, "unprotected", "unprotected", "RFC 7516 §7.2.1")
        chosen, why = _choose_recipient(recipients, key, protected, shared)
        per = chosen.get("header", {})
        header = _union([("protected", protected), ("unprotected", shared), ("header", per)], "RFC 7516 §7.2.1", "")
    except ValidationError as exc:
        raise _fail(trace, exc) from None
    trace.check(_JWE, f"JSON JWE, {form} syntax", True, f"{len(recipients)} recipient{'s' if len(recipients) > 1 else ''}")
    trace.check("RFC 7516 §7.2.1", "a recipient for this key", True, why)
    trace.check(
        "RFC 7516 §7.2.1",
        "JOSE Header: protected, unprotected and recipient names disjoint",
        True,
        f"protected {sorted(protected)}, unprotected {sorted(shared)}, header {sorted(per)}",
    )
    _only_protected(trace, [shared, per], "", jwe=True)
    check_jwe_header(trace, header, algorithms, encryptions, understood_crit=understood_crit)
    check_recipient_key(trace, header, key, algorithms, binding=binding)
    alg, enc = header["alg"], header["enc"]

    # jwcrypto sees only the chosen recipient, in flattened form: the same AAD, nothing else to try.
    flat: dict[str, Any] = {
        name: doc[name] for name in ("protected", "unprotected", "iv", "ciphertext", "tag", "aad") if name in doc
    }
    if per:
        flat["header"] = per
    if "encrypted_key" in chosen:
        flat["encrypted_key"] = chosen["encrypted_key"]
    ok, plaintext = jwcrypto_decrypt(json.dumps(flat), key, alg, enc)
    trace.check(section, f"decrypts with the recipient key kid={key.get('kid')!r}", ok, f"{alg} / {enc}", DecryptionFailed)
    return plaintext


def _jwe_recipients(doc: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    if "recipients" in doc:
        flat = [name for name in ("header", "encrypted_key") if name in doc]
        if flat:
            raise MalformedToken("one syntax: general or flattened", "RFC 7516 §7.2.2", f"recipients and {flat}")
        recipients = doc["recipients"]
        if not isinstance(recipients, list) or not recipients:
            raise MalformedToken(
                "recipients is a non-empty array", "RFC 7516 §7.2.1", f"recipients = {json.dumps(recipients)[:40]}"
            )
        if len(recipients) > MAX_RECIPIENTS:
            raise MalformedToken(
                f"at most {MAX_RECIPIENTS} recipients", policy("RFC 7516 §7.2.1"), f"{len(recipients)} recipients"
            )
        if not all(isinstance(r, dict) for r in recipients):
            raise MalformedToken("each recipient is a JSON object", "RFC 7516 §7.2.1", "an entry is not an object")
        return "general", recipients
    return "flattened", [{name: doc[name] for name in ("header", "encrypted_key") if name in doc}]


def _choose_recipient(
    recipients: list[dict[str, Any]], key: jwk.JWK, protected: dict[str, Any], shared: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    for r in recipients:
        _optional_object(r, "header", "recipient header", "RFC 7516 §7.2.1")
        if "encrypted_key" in r:
            if not isinstance(r["encrypted_key"], str):
                raise MalformedToken("encrypted_key is a base64url string", "RFC 7516 §7.2.1", "not a string")
            b64url_decode(r["encrypted_key"], "encrypted key")
    kid = key.get("kid")

    def kid_of(r: dict[str, Any]) -> Any:
        return r.get("header", {}).get("kid", shared.get("kid", protected.get("kid")))

    if kid is not None:
        matches = [r for r in recipients if kid_of(r) == kid]
        if len(matches) == 1:
            return matches[0], f"kid = {kid!r}"
        if len(matches) > 1:
            raise KeyNotFound("one recipient for this key", "RFC 7516 §7.2.1", f"{len(matches)} recipients name kid {kid!r}")
    if len(recipients) == 1 and (kid is None or kid_of(recipients[0]) is None):
        return recipients[0], "the only recipient"
    raise KeyNotFound("a recipient for this key", "RFC 7516 §7.2.1", f"no recipient names kid {kid!r}")
