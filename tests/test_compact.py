"""joselab.compact: strict parsing of compact JWS/JWE (RFC 7515 §7.1, RFC 7516 §7.1, RFC 8725)."""

from __future__ import annotations

import pytest
from joselab_testkit import b64json

from joselab.compact import (
    MAX_TOKEN_LENGTH,
    CompactJWE,
    CompactJWS,
    b64url_decode,
    b64url_encode,
    decode_unverified,
    parse,
    parse_json_object,
    parse_jwe,
    parse_jws,
)
from joselab.errors import JoselabError, MalformedToken, TokenTooLarge, UnexpectedTokenKind

HEADER = b64json({"alg": "HS256"})
PAYLOAD = b64url_encode(b'{"sub":"alice"}')
SIG = b64url_encode(b"\x01" * 32)
JWS = f"{HEADER}.{PAYLOAD}.{SIG}"
DUP_HEADER = b64url_encode(b'{"a":1,"a":2}')
BAD_UTF8_HEADER = b64url_encode(b'{"a":"\xff"}')
JWE = f"{b64json({'alg': 'dir', 'enc': 'A128GCM'})}..{b64url_encode(b'i' * 12)}.{b64url_encode(b'c')}.{b64url_encode(b't' * 16)}"


@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", bytes(range(256))])
def test_b64url_round_trip_without_padding(data):
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Zg==", "padding"),
        ("Zm9v YmFy", "whitespace"),
        ("Zm9v\n", "newline"),
        ("ab+/", "standard alphabet"),
        ("Zh", "non-zero trailing bits: 'Zg' is the one spelling of b'f'"),
        ("Zm9=", "padding inside"),
        ("Z", "impossible length"),
        ("Zm9vé", "non-ASCII"),
    ],
    ids=["padding", "space", "newline", "std-alphabet", "trailing-bits", "inner-padding", "length-1", "non-ascii"],
)
def test_b64url_decode_rejects_non_canonical(text, why):
    with pytest.raises(MalformedToken) as info:
        b64url_decode(text, "segment")
    assert info.value.section == ("RFC 4648 §3.5" if why.startswith("non-zero trailing bits") else "RFC 7515 §2")


def test_b64url_decode_rejects_non_string():
    with pytest.raises(MalformedToken):
        b64url_decode(b"Zg")  # type: ignore[arg-type]


def test_parse_json_object_accepts_object():
    assert parse_json_object(b'{"a":1,"b":[true,null]}', "x") == {"a": 1, "b": [True, None]}


@pytest.mark.parametrize(
    ("data", "check"),
    [
        (b'{"alg":"HS256","alg":"none"}', "x has unique member names"),
        (b'{"a":{"b":1,"b":2}}', "x has unique member names"),
        (b"\xff\xfe{}", "x is UTF-8"),
        (b'{"exp":NaN}', "x is JSON"),
        (b'{"exp":Infinity}', "x is JSON"),
        (b'{"exp":-Infinity}', "x is JSON"),
        (b"[1,2]", "x is a JSON object"),
        (b'"text"', "x is a JSON object"),
        (b"{", "x is JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "x is JSON"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "x is JSON"),
    ],
    ids=[
        "duplicate",
        "nested-duplicate",
        "utf8",
        "nan",
        "infinity",
        "minus-infinity",
        "array",
        "string",
        "truncated",
        "deep-array",
        "deep-object",
    ],
)
def test_parse_json_object_failures(data, check):
    with pytest.raises(MalformedToken) as info:
        parse_json_object(data, "x")
    assert info.value.check == check


def test_parse_jws_decodes_parts():
    parsed = parse_jws(JWS)
    assert isinstance(parsed, CompactJWS) and parsed.kind == "JWS"
    assert parsed.header == {"alg": "HS256"}
    assert parsed.payload == b'{"sub":"alice"}'
    assert parsed.signature == b"\x01" * 32
    assert parsed.signing_input == f"{HEADER}.{PAYLOAD}".encode()
    assert parsed.claims() == {"sub": "alice"}
    assert not parsed.detached and parsed.b64


def test_parse_jws_detached_puts_payload_back():
    parsed = parse_jws(f"{HEADER}..{SIG}", detached_payload=b'{"sub":"alice"}')
    assert parsed.detached
    assert parsed.signing_input == f"{HEADER}.{PAYLOAD}".encode()


def test_parse_jws_detached_refuses_attached_payload():
    with pytest.raises(MalformedToken) as info:
        parse_jws(JWS, detached_payload=b"x")
    assert info.value.section == "RFC 7515 Appendix F"


def test_parse_jws_unencoded_payload_signing_input():
    header = b64json({"alg": "HS256", "b64": False, "crit": ["b64"]})
    parsed = parse_jws(f"{header}.$02.{SIG}")
    assert not parsed.b64
    assert parsed.payload == b"$02"
    assert parsed.signing_input == header.encode() + b".$02"


def test_claims_of_non_json_payload_is_malformed():
    parsed = parse_jws(f"{HEADER}.{b64url_encode(b'not json')}.{SIG}")
    with pytest.raises(MalformedToken) as info:
        parsed.claims()
    assert info.value.section == "RFC 7519 §7.2"


@pytest.mark.parametrize(
    "token",
    [
        f"{HEADER}.{PAYLOAD}",
        f"{HEADER}.{PAYLOAD}.{SIG}.x",
        HEADER,
        "",
        f"{HEADER}.{PAYLOAD}.{SIG}.a.b.c",
    ],
    ids=["2-parts", "4-parts", "1-part", "empty", "6-parts"],
)
def test_parse_jws_wrong_part_count(token):
    with pytest.raises(MalformedToken) as info:
        parse_jws(token)
    assert info.value.check == "token is a JWS (three parts)"


def test_jwe_given_where_jws_expected():
    with pytest.raises(UnexpectedTokenKind) as info:
        parse_jws(JWE)
    assert "JWE" in info.value.evidence


def test_jws_given_where_jwe_expected():
    with pytest.raises(UnexpectedTokenKind):
        parse_jwe(JWS)


@pytest.mark.parametrize(
    ("token", "check"),
    [
        (f"{b64url_encode(b'[1]')}.{PAYLOAD}.{SIG}", "protected header is a JSON object"),
        (f"{b64url_encode(b'{}x')}.{PAYLOAD}.{SIG}", "protected header is JSON"),
        (f"{DUP_HEADER}.{PAYLOAD}.{SIG}", "protected header has unique member names"),
        (f"{BAD_UTF8_HEADER}.{PAYLOAD}.{SIG}", "protected header is UTF-8"),
        (f"{HEADER}=.{PAYLOAD}.{SIG}", "protected header is base64url"),
        (f"{HEADER}.{PAYLOAD}=.{SIG}", "payload is base64url"),
        (f"{HEADER}.{PAYLOAD}.{SIG[:-1]}B", "signature is canonical base64url"),
        (f" {HEADER}.{PAYLOAD}.{SIG}", "protected header is base64url"),
    ],
    ids=[
        "header-array",
        "header-not-json",
        "header-duplicate",
        "header-utf8",
        "header-padding",
        "payload-padding",
        "sig-trailing-bits",
        "leading-space",
    ],
)
def test_parse_jws_malformed_parts(token, check):
    with pytest.raises(MalformedToken) as info:
        parse_jws(token)
    assert info.value.check == check


def test_deeply_nested_header_is_malformed_not_recursion_error():
    deep = b64url_encode(b"[" * 20_000 + b"]" * 20_000)
    with pytest.raises(MalformedToken):
        parse_jws(f"{deep}.{PAYLOAD}.{SIG}", max_length=10**6)


def test_token_over_the_cap_is_refused_before_parsing():
    huge = "A" * (MAX_TOKEN_LENGTH + 1)
    with pytest.raises(TokenTooLarge) as info:
        parse_jws(huge)
    assert info.value.section == "joselab policy; RFC 7515 §7.1 and RFC 7516 §7.1 set no bound"
    with pytest.raises(TokenTooLarge):
        parse(huge)
    with pytest.raises(TokenTooLarge):
        parse_jwe(huge)


def test_token_at_the_cap_is_parsed():
    payload = b64url_encode(b"x" * 100)
    token = f"{HEADER}.{payload}.{SIG}"
    assert parse_jws(token, max_length=len(token)).payload == b"x" * 100


@pytest.mark.parametrize("value", [None, 42, b"a.b.c", ["a", "b", "c"]], ids=["none", "int", "bytes", "list"])
def test_non_string_token(value):
    with pytest.raises(MalformedToken) as info:
        parse(value)  # type: ignore[arg-type]
    assert info.value.check == "token is a string"


def test_parse_jwe_decodes_parts():
    parsed = parse_jwe(JWE)
    assert isinstance(parsed, CompactJWE) and parsed.kind == "JWE"
    assert parsed.header == {"alg": "dir", "enc": "A128GCM"}
    assert (parsed.encrypted_key, parsed.iv, parsed.ciphertext, parsed.tag) == (b"", b"i" * 12, b"c", b"t" * 16)


@pytest.mark.parametrize("token", [JWE + ".x", JWE.rsplit(".", 1)[0] + ".x=", "a.b"], ids=["6-parts", "tag-padding", "2-parts"])
def test_parse_jwe_malformed(token):
    with pytest.raises(MalformedToken):
        parse_jwe(token)


def test_parse_tells_jws_from_jwe_by_counting():
    assert isinstance(parse(JWS), CompactJWS)
    assert isinstance(parse(JWE), CompactJWE)
    with pytest.raises(MalformedToken):
        parse("a.b")


def test_decode_unverified_says_so():
    jws = decode_unverified(JWS)
    assert jws.kind == "JWS" and jws.payload == {"sub": "alice"} and "UNVERIFIED" in jws.warning
    jwe = decode_unverified(JWE)
    assert jwe.kind == "JWE" and jwe.payload is None and "UNVERIFIED" in jwe.warning


def test_decode_unverified_keeps_non_json_payload_as_bytes():
    assert decode_unverified(f"{HEADER}.{b64url_encode(b'raw')}.{SIG}").payload == b"raw"


def test_decode_unverified_raises_only_joselab_errors():
    for bad in ["", "...", "a.b.c", "e30.e30.e30.e30", None]:
        with pytest.raises(JoselabError):
            decode_unverified(bad)  # type: ignore[arg-type]
