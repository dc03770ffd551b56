"""Strict parsing of compact JWS and JWE (RFC 7515 §7.1, RFC 7516 §7.1), and a look inside them.

Parsing is the first line of defence, so it is strict where the specs are and where RFC 8725 asks:

* the length is capped *before* anything is decoded (no unbounded work on hostile input);
* base64url is the unpadded URL-safe alphabet of RFC 7515 §2 (Appendix C shows how) and must be
  canonical: the unused bits of the last character are zero (RFC 4648 §3.5 lets a decoder reject
  them otherwise), so re-encoding the bytes gives back the same text and one token has one spelling;
* the header is UTF-8 (RFC 8725 §3.7) JSON whose top level is an object with no duplicate member
  names (RFC 7515 §4, RFC 7516 §4; RFC 7519 §4 for the claims);
* a JWS has three parts and a JWE five; a caller asks for the one it expects (RFC 8725bis).

Nothing here verifies anything: :func:`decode_unverified` says so in its name and its result.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, NoReturn

from .errors import MalformedToken, TokenTooLarge, UnexpectedTokenKind

#: The cap on a compact token's length, in characters, checked before parsing.
MAX_TOKEN_LENGTH = 32 * 1024

_B64URL = re.compile(r"[A-Za-z0-9_-]*")  # the alphabet, as one C-level scan (no comparison does it)
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
#: The bits of the last character that encode no data, by the text's length mod 4 (RFC 4648 §4:
#: 2 characters carry 1 byte and 4 spare bits, 3 carry 2 bytes and 2 spare bits).
_UNUSED_BITS = {2: 0x0F, 3: 0x03}
_PADDING = {0: b"", 2: b"==", 3: b"="}
_URL_TO_STANDARD = bytes.maketrans(b"-_+/=", b"+/!!!")
_SECTION = "RFC 7515 §7.1"
#: The length cap is joselab's: neither JWS nor JWE bounds a token's length.
_CAP = "joselab policy; RFC 7515 §7.1 and RFC 7516 §7.1 set no bound"


def b64url_encode(data: bytes) -> str:
    """BASE64URL(octets) of RFC 7515 §2: URL-safe alphabet, no padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str = "segment") -> bytes:
    """Decode unpadded, canonical base64url, or raise :class:`MalformedToken` naming ``what``."""
    try:
        raw = text.encode("ascii")
    except (AttributeError, UnicodeEncodeError):  # not a str, or not ASCII: not base64url
        raw = b"+"
    tail = len(raw) % 4
    if tail == 1 or (tail and _VALUE.get(text[-1], 0) & _UNUSED_BITS[tail]):
        _refuse(text, what)
    try:
        # The translation maps the URL-safe alphabet onto the standard one, and "+", "/" and "=" (the
        # standard alphabet's own) onto "!", which the strict decode refuses like any stray character.
        return binascii.a2b_base64(raw.translate(_URL_TO_STANDARD) + _PADDING[tail], strict_mode=True)
    except (binascii.Error, ValueError):
        _refuse(text, what)
        raise  # pragma: no cover - _refuse always raises


def _refuse(text: Any, what: str) -> NoReturn:
    """The reason ``text`` is not canonical base64url, in the order the checks are explained."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise MalformedToken(f"{what} is base64url", "RFC 7515 §2", "characters outside the base64url alphabet, or padding")
    tail = len(text) % 4
    if tail == 1:
        raise MalformedToken(f"{what} is base64url", "RFC 7515 §2", "impossible length")
    # Unused low bits set: two spellings of the same bytes (RFC 4648 §3.5: pad bits are zero).
    raise MalformedToken(f"{what} is canonical base64url", "RFC 4648 §3.5", "non-zero trailing bits")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen = dict(pairs)
    if len(seen) != len(pairs):  # a name came twice: find the first one repeated
        first: set[str] = set()
        for name, _ in pairs:
            if name in first:
                raise _Duplicate(name)
            first.add(name)
    return seen


class _Duplicate(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        # 1e999 is valid JSON syntax that Python reads as infinity: a time claim nothing can exceed.
        raise ValueError(f"number {text[:20]} overflows a double")
    return value


_VALUE_STARTS = frozenset('{["-0123456789tfn')
#: One strict decoder for every call (json.loads builds a new one each time it is given hooks).
_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant, parse_float=_finite_float)
_scan = _DECODER.scan_once  # what raw_decode calls: (value, end), or StopIteration where no value starts


def loads_strict(data: bytes | str, what: str, section: str = "RFC 8259 §4", *, unique: str | None = None) -> Any:
    """Parse UTF-8 JSON text strictly, or raise :class:`MalformedToken`:

    * member names unique in every object (RFC 8259 §4 leaves a duplicate's meaning undefined; a JOSE
      Header and a JWT Claims Set must have unique names, RFC 7515 §4 and RFC 7519 §4: ``unique``
      names the section for that row, ``section`` by default);
    * no ``NaN`` / ``Infinity`` (not JSON, RFC 8259 §6), and no number beyond a double's range
      (RFC 8259 §6 lets an implementation set that limit);
    * no lone surrogate escape (``"\\ud800"`` names no Unicode character: I-JSON, RFC 7493 §2.1, forbids
      it, and it cannot be written as UTF-8, RFC 8725 §3.7).

    Python's ``json.loads`` accepts all of these, and so does jwcrypto, which uses it."""
    if isinstance(data, str):
        text = data
        escapes = True  # a str may hold a lone surrogate itself, escaped or not
    else:
        raw = data if data.__class__ is bytes else bytes(data)
        # Text decoded from UTF-8 holds no surrogate (the decoder refuses them), so one can only come
        # from a \\u escape: without the two characters "\\u" in the bytes there is none to look for.
        escapes = b"\\u" in raw
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedToken(f"{what} is UTF-8", "RFC 8725 §3.7", "invalid UTF-8") from None
    try:
        if text[:1] == "\ufeff":  # json.loads names the BOM in its error; the shared decoder would not
            value = json.loads(
                text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant, parse_float=_finite_float
            )
        else:
            # The scanner raw_decode calls reads one value from the start; decode() also skips
            # whitespace around it (two regex scans). Text that starts with a value and ends with it
            # needs neither; anything else goes to decode(), which names the error as json.loads does.
            try:
                value, end = _scan(text, 0) if text[:1] in _VALUE_STARTS else (None, -1)
            except StopIteration:  # no value starts here
                end = -1
            if end != len(text):
                value = _DECODER.decode(text)
    except _Duplicate as dup:
        raise MalformedToken(f"{what} has unique member names", unique or section, f"duplicate member {dup.args[0]!r}") from None
    except (ValueError, RecursionError) as exc:
        raise MalformedToken(f"{what} is JSON", section, type(exc).__name__ + ": " + _safe(str(exc)[:80])) from None
    if escapes and _has_lone_surrogate(value):
        # "\ud800" is valid JSON syntax but names no Unicode character: it cannot be re-encoded as
        # UTF-8, so a later step (a log line, a database insert) would fail on it instead of here.
        raise MalformedToken(f"{what} has no lone surrogate", "RFC 7493 §2.1", "a lone surrogate escape")
    return value


def _safe(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _has_lone_surrogate(value: Any) -> bool:
    # Iterative, so that a deeply nested value cannot exhaust the stack here either.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json_object(data: bytes, what: str, section: str = "RFC 7515 §5.2", *, unique: str | None = None) -> dict[str, Any]:
    """Parse UTF-8 JSON whose top level is an object (RFC 7515 §5.2 step 3, RFC 7516 §5.2 step 3,
    RFC 7519 §7.2 step 10) with unique member names (``unique``: RFC 7515 §4, RFC 7516 §4, RFC 7519 §4),
    strictly as :func:`loads_strict` does."""
    value = loads_strict(data, what, section, unique=unique)
    if not isinstance(value, dict):
        raise MalformedToken(f"{what} is a JSON object", section, f"top level is {type(value).__name__}")
    return value


@dataclass(frozen=True)
class CompactJWS:
    """The three parts of a compact JWS (RFC 7515 §7.1), decoded but NOT verified."""

    token: str
    protected_b64: str
    payload_segment: str
    signature_b64: str
    header: dict[str, Any]
    payload: bytes
    signature: bytes

    kind = "JWS"

    @property
    def detached(self) -> bool:
        """True when the payload part is empty (RFC 7515 Appendix F)."""
        return self.payload_segment == ""

    @property
    def b64(self) -> bool:
        """False when the payload is unencoded (RFC 7797 §3)."""
        return self.header.get("b64", True) is not False

    @property
    def signing_input(self) -> bytes:
        """ASCII(BASE64URL(header)) || '.' || payload part (RFC 7515 §5.1 step 5; RFC 7797 §3)."""
        if self.b64:
            # The payload part, when present, is canonical base64url of the payload (parse_jws
            # decoded it strictly), so it is the encoded payload; detached content is encoded here.
            segment = self.payload_segment or b64url_encode(self.payload)
            return f"{self.protected_b64}.{segment}".encode("ascii")
        return self.protected_b64.encode("ascii") + b"." + self.payload

    def claims(self) -> dict[str, Any]:
        """The payload as a JWT Claims Set (RFC 7519 §7.2 step 10), still UNVERIFIED."""
        value = loads_strict(self.payload, "JWT claims set", "RFC 7519 §7.2", unique="RFC 7519 §4")
        if value.__class__ is dict:
            return value
        return parse_json_object(self.payload, "JWT claims set", "RFC 7519 §7.2", unique="RFC 7519 §4")


@dataclass(frozen=True)
class CompactJWE:
    """The five parts of a compact JWE (RFC 7516 §7.1), decoded, not decrypted."""

    token: str
    protected_b64: str
    header: dict[str, Any]
    encrypted_key: bytes
    iv: bytes
    ciphertext: bytes
    tag: bytes

    kind = "JWE"


def _check_length(token: Any, max_length: int) -> str:
    if not isinstance(token, str):
        raise MalformedToken("token is a string", _SECTION, f"got {type(token).__name__}")
    if len(token) > max_length:
        raise TokenTooLarge("token length within the cap", _CAP, f"{len(token)} > {max_length} characters")
    return token


#: Protected headers already parsed, by their base64url text: every token of one issuer has the same
#: header text, so it is decoded and checked once, and each call gets its own copy. Only a header that
#: parsed is kept, of at most :data:`_MAX_CACHED_HEADER` characters, whose members are strings, numbers,
#: booleans, null or arrays of those; at most :data:`MAX_CACHED_HEADERS` are kept, the oldest going
#: first (joselab policy: bounded memory whatever headers arrive).
MAX_CACHED_HEADERS = 256
_MAX_CACHED_HEADER = 1024
_HEADERS: dict[str, tuple[dict[str, Any], bool]] = {}
_HEADERS_LOCK = threading.Lock()
_SCALARS = (str, int, float, bool, type(None))


def _header(segment: str, rfc: str = "RFC 7515") -> dict[str, Any]:
    found = _HEADERS.get(segment)
    if found is not None:
        header, has_lists = found
        if has_lists:
            return {name: (list(value) if value.__class__ is list else value) for name, value in header.items()}
        return header.copy()
    header = parse_json_object(b64url_decode(segment, "protected header"), "protected header", f"{rfc} §5.2", unique=f"{rfc} §4")
    if len(segment) <= _MAX_CACHED_HEADER:
        has_lists = False
        for value in header.values():
            if value.__class__ is list:
                if not all(item.__class__ in _SCALARS for item in value):
                    return header
                has_lists = True
            elif value.__class__ not in _SCALARS:
                return header
        with _HEADERS_LOCK:
            while len(_HEADERS) >= MAX_CACHED_HEADERS:
                del _HEADERS[next(iter(_HEADERS))]
            _HEADERS[segment] = (header, has_lists)
        return _header(segment, rfc)  # a copy: the kept header is never handed out
    return header


def parse_jws(token: str, *, detached_payload: bytes | None = None, max_length: int = MAX_TOKEN_LENGTH) -> CompactJWS:
    """Split and decode a compact JWS. With ``detached_payload`` the payload part must be empty and the
    given bytes are put back (RFC 7515 Appendix F). Honours ``b64: false`` (RFC 7797 §3, §5)."""
    if token.__class__ is not str or len(token) > max_length:  # the common case in one test
        _check_length(token, max_length)
    parts = token.split(".")
    if len(parts) == 5:
        raise UnexpectedTokenKind("token is a JWS (three parts)", _SECTION, "five parts: this is a JWE")
    if len(parts) != 3:
        raise MalformedToken("token is a JWS (three parts)", _SECTION, f"{len(parts)} parts")
    protected, payload_segment, sig = parts
    header = _header(protected)
    signature = b64url_decode(sig, "signature")
    b64 = header.get("b64", True)
    if detached_payload is not None:
        if payload_segment:
            raise MalformedToken("payload part is empty for detached content", "RFC 7515 Appendix F", "payload part present")
        payload = bytes(detached_payload)
    elif b64 is False:
        try:
            payload = payload_segment.encode("utf-8")  # RFC 7797 §5.2: the compact payload is the raw bytes
        except UnicodeEncodeError:
            # A str can hold a lone surrogate, which no UTF-8 byte sequence encodes.
            raise MalformedToken(
                "unencoded payload is UTF-8 text", "RFC 3629 §3", "a lone surrogate: no UTF-8 encoding"
            ) from None
    else:
        payload = b64url_decode(payload_segment, "payload")
    return _compact_jws(token, protected, payload_segment, sig, header, payload, signature)


_new = object.__new__


def _compact_jws(
    token: str, protected: str, payload_segment: str, sig: str, header: dict[str, Any], payload: bytes, signature: bytes
) -> CompactJWS:
    # CompactJWS(...) with its fields filled directly: a frozen dataclass's __init__ sets each field
    # through object.__setattr__, which costs more than the rest of the parse of a cached header.
    parsed = _new(CompactJWS)
    fields = parsed.__dict__
    fields["token"] = token
    fields["protected_b64"] = protected
    fields["payload_segment"] = payload_segment
    fields["signature_b64"] = sig
    fields["header"] = header
    fields["payload"] = payload
    fields["signature"] = signature
    return parsed


def parse_jwe(token: str, *, max_length: int = MAX_TOKEN_LENGTH) -> CompactJWE:
    """Split and decode a compact JWE (RFC 7516 §7.1). Nothing is decrypted."""
    parts = _check_length(token, max_length).split(".")
    if len(parts) == 3:
        raise UnexpectedTokenKind("token is a JWE (five parts)", "RFC 7516 §7.1", "three parts: this is a JWS")
    if len(parts) != 5:
        raise MalformedToken("token is a JWE (five parts)", "RFC 7516 §7.1", f"{len(parts)} parts")
    header = _header(parts[0], "RFC 7516")
    names = ("encrypted key", "initialization vector", "ciphertext", "authentication tag")
    key, iv, ct, tag = (b64url_decode(p, n) for p, n in zip(parts[1:], names, strict=False))
    return CompactJWE(token, parts[0], header, key, iv, ct, tag)


def parse(token: str, *, max_length: int = MAX_TOKEN_LENGTH) -> CompactJWS | CompactJWE:
    """Parse either kind, telling JWS (3 parts) from JWE (5 parts) by counting (RFC 7516 §9)."""
    count = _check_length(token, max_length).count(".")
    if count == 4:
        return parse_jwe(token, max_length=max_length)
    return parse_jws(token, max_length=max_length)


@dataclass(frozen=True)
class Unverified:
    """What a token says about itself. UNVERIFIED: nothing here may be trusted yet."""

    kind: str
    header: dict[str, Any]
    payload: dict[str, Any] | bytes | None
    warning: str = "UNVERIFIED: decoded only, no signature was checked"


def decode_unverified(token: str) -> Unverified:
    """Decode a token's header and (for a JWS) payload *without verifying anything*, for display."""
    parsed = parse(token)
    if isinstance(parsed, CompactJWE):
        return Unverified("JWE", parsed.header, None, "UNVERIFIED: header only; the payload is encrypted")
    try:
        payload: dict[str, Any] | bytes = parsed.claims()
    except MalformedToken:
        payload = parsed.payload
    return Unverified("JWS", parsed.header, payload)
