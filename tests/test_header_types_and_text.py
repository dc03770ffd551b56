"""Header members of the wrong JSON type, and token text outside base64url, get joselab's own errors.

Two fixes, each test failing before it:

* ``crit``, ``kid``, ``typ``, ``cty`` and ``b64`` that are present with the wrong JSON type (``null``,
  a number, an object) are refused at their own row: RFC 7515 §4.1.11 (``crit`` is an array),
  §4.1.4 (``kid`` is a string), §4.1.9 and §4.1.10 (``typ``, ``cty`` are strings), RFC 7797 §3
  (``b64`` is a boolean); for a JWE, RFC 7516 §4.1.6, §4.1.11, §4.1.12 and §4.1.13. Before, ``crit:
  null`` passed with its row reading "well formed", ``kid: null`` picked the only trusted key, and an
  ID token's ``typ: null`` passed as "absent".
* A ``str`` token may hold any character, including a lone surrogate, which no UTF-8 byte sequence
  encodes (RFC 3629 §3). Under ``b64: false`` the compact payload part is the payload itself
  (RFC 7797 §5.2), and ``parse_jws``, ``verify_jws``, ``decode_unverified`` and the registration
  server's ``register`` raised ``UnicodeEncodeError`` on one.
"""

from __future__ import annotations

import json

import pytest
from joselab_testkit import b64json, forge_jws, keyset
from jwcrypto import jwk

from joselab import DEMO_EPOCH, FixedClock, TokenView, Trace, decode_unverified, demo_key, parse, parse_jws
from joselab.claims import check_typ
from joselab.compact import b64url_encode
from joselab.errors import InvalidHeader, InvalidType, JoselabError, MalformedToken, UnsupportedCritical
from joselab.jwe import decrypt_jwe, encrypt_compact
from joselab.jws import check_crit, select_key, verify_jws
from joselab.message.detached import verify_message

RSA = demo_key("rfc7515-a2-rsa")
KEYS = keyset(jwk.JWK(**{**RSA.jwk.export_public(as_dict=True), "alg": "RS256"}))
SAMWISE = demo_key("rfc7520-samwise-rsa").jwk
WRONG = [None, 5, {"a": 1}]
SURROGATE = "\ud800"


def verify(token: str, **kw) -> Trace:
    trace = Trace("t")
    with trace.run():
        verify_jws(trace, token, KEYS, ["RS256"], **kw)
    return trace


# -- wrong JSON types ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", WRONG)
@pytest.mark.parametrize(
    ("member", "section", "error", "row"),
    [
        ("crit", "RFC 7515 §4.1.11", UnsupportedCritical, "crit: well formed, every name understood"),
        ("kid", "RFC 7515 §4.1.4", InvalidHeader, "kid is a string"),
        ("typ", "RFC 7515 §4.1.9", InvalidHeader, "typ is a string"),
        ("cty", "RFC 7515 §4.1.10", InvalidHeader, "cty is a string"),
        ("b64", "RFC 7797 §3", InvalidHeader, "b64 is a JSON boolean"),
    ],
)
def test_a_header_member_of_the_wrong_type_is_refused_at_its_own_row(member, section, error, row, value):
    """crit: null and kid: null passed before (the first as "well formed", the second picking the only
    key); typ and cty of any type passed a validator that does not check their values."""
    header = {"alg": "RS256", "kid": RSA.kid, member: value}
    trace = verify(forge_jws(header, b'{"sub":"a"}', RSA.jwk, "RS256"))
    failed = trace.failed
    assert failed is not None and (failed.section, failed.name) == (section, row), str(trace)
    assert isinstance(trace.error, error)


def test_crit_null_is_not_no_crit():
    """Before the fix check_crit returned "no crit" for crit: null."""
    with pytest.raises(UnsupportedCritical, match="non-empty array"):
        check_crit({"alg": "RS256", "crit": None}, ["b64"])
    assert check_crit({"alg": "RS256"}, ()) == "no crit"


def test_kid_null_does_not_select_the_only_key():
    with pytest.raises(InvalidHeader, match="kid is a string"):
        select_key(KEYS, {"alg": "RS256", "kid": None})
    assert select_key(KEYS, {"alg": "RS256"})["kid"] == RSA.kid  # absent: the only key


@pytest.mark.parametrize("value", WRONG)
def test_check_typ_refuses_a_typ_that_is_not_a_string(value):
    trace = Trace("t")
    with trace.run():
        check_typ(trace, {"alg": "RS256", "typ": value}, ["at+jwt"], "RFC 9068 §4 (1)")
    assert isinstance(trace.error, InvalidType)


@pytest.mark.parametrize("value", WRONG)
@pytest.mark.parametrize(
    ("member", "section", "error"),
    [
        ("kid", "RFC 7516 §4.1.6", InvalidHeader),
        ("typ", "RFC 7516 §4.1.11", InvalidHeader),
        ("cty", "RFC 7516 §4.1.12", InvalidHeader),
        ("crit", "RFC 7516 §4.1.13", UnsupportedCritical),
    ],
)
def test_a_jwe_header_member_of_the_wrong_type_is_refused_at_its_own_row(member, section, error, value):
    good = encrypt_compact(b"x", jwk.JWK(**SAMWISE.export_public(as_dict=True)), {"alg": "RSA-OAEP-256", "enc": "A256GCM"})
    rest = good.split(".")[1:]
    token = ".".join([b64json({"alg": "RSA-OAEP-256", "enc": "A256GCM", member: value}), *rest])
    trace = Trace("t")
    with trace.run():
        decrypt_jwe(trace, token, SAMWISE, ["RSA-OAEP-256"], ["A256GCM"])
    assert trace.failed is not None and trace.failed.section == section, str(trace)
    assert isinstance(trace.error, error)


def test_an_id_token_with_typ_null_is_refused():
    """The ID token validator's typ row read "typ absent or JWT" and passed typ: null as absent."""
    from joselab.id_token import IdTokenValidator
    from joselab.parties import Database, ReplayStore

    claims = {"iss": "https://op.example", "sub": "s", "aud": "c", "exp": DEMO_EPOCH + 60, "iat": DEMO_EPOCH, "nonce": "n"}
    token = forge_jws({"alg": "RS256", "kid": RSA.kid, "typ": None}, _json(claims), RSA.jwk, "RS256")
    db = Database(":memory:")
    try:
        validator = IdTokenValidator(
            issuer="https://op.example", client_id="c", keys=KEYS, clock=FixedClock(DEMO_EPOCH), nonce_store=ReplayStore(db, "n")
        )
        trace = validator.validate(token, nonce="n")
        assert trace.failed is not None and trace.failed.section == "RFC 8725 §3.11", str(trace)
        assert trace.failed.evidence == "typ = null"
    finally:
        db.close()


def _json(value) -> bytes:
    return json.dumps(value).encode()


# -- characters outside base64url, lone surrogates included -------------------------------------
UNENCODED = b64json({"alg": "RS256", "kid": RSA.kid, "b64": False, "crit": ["b64"]})


def unencoded(payload_text: str) -> str:
    sig = forge_jws(UNENCODED, b"", RSA.jwk, "RS256", payload_segment="x").split(".")[2]
    return f"{UNENCODED}.{payload_text}.{sig}"


@pytest.mark.parametrize(
    "fn",
    [
        parse,
        parse_jws,
        decode_unverified,
        lambda t: verify_jws(Trace("t"), t, KEYS, ["RS256"], understood_crit=["b64"]),
    ],
    ids=["parse", "parse_jws", "decode_unverified", "verify_jws"],
)
def test_a_lone_surrogate_in_an_unencoded_payload_is_joselab_s_error(fn):
    """UnicodeEncodeError before the fix."""
    with pytest.raises(MalformedToken) as info:
        fn(unencoded("ab" + SURROGATE + "cd"))
    assert info.value.section == "RFC 3629 §3" and info.value.check == "unencoded payload is UTF-8 text"


def test_an_unencoded_payload_of_ordinary_unicode_still_parses():
    assert parse_jws(unencoded("héllo")).payload == "héllo".encode()


@pytest.mark.parametrize("char", [SURROGATE, "\udfff", "é", "\x00", " ", "=", "+", "€", "\U0001f600"])
@pytest.mark.parametrize("part", [0, 1, 2])
def test_any_character_outside_base64url_in_any_part_is_joselab_s_error(char, part):
    good = forge_jws({"alg": "RS256", "kid": RSA.kid}, b'{"sub":"a"}', RSA.jwk, "RS256")
    parts = good.split(".")
    parts[part] = parts[part][:4] + char + parts[part][4:]
    token = ".".join(parts)
    for fn in (parse, parse_jws, decode_unverified):
        with pytest.raises(MalformedToken):
            fn(token)
    trace = verify(token)
    assert isinstance(trace.error, MalformedToken)
    view = TokenView(token)  # displaying it is fine too: the error is shown, nothing raised
    assert isinstance(view.error, JoselabError) and "not a well-formed token" in str(view)
    assert verify_message(token.replace(parts[1], ""), b"{}", KEYS, ["RS256"]).error is not None


def test_the_registration_server_refuses_such_text_with_a_400(tmp_path):
    """register() raised UnicodeEncodeError on a str body with a lone surrogate in the payload."""
    from joselab.clock import DemoIds
    from joselab.registration import build_demo

    demo = build_demo(tmp_path / "reg.sqlite", clock=FixedClock(DEMO_EPOCH), ids=DemoIds(1))
    try:
        for body in (unencoded("a" + SURROGATE), "e30." + SURROGATE + ".AA", SURROGATE, "é.é.é"):
            outcome = demo.bank.register(body)
            assert outcome.status == 400 and outcome.body["error"], body
    finally:
        demo.close()


def test_b64url_encode_helper_is_not_the_gate():
    # The gate is the decoder: what the encoder makes, the decoder takes back unchanged.
    assert parse_jws(forge_jws({"alg": "RS256"}, b"\xff", RSA.jwk, "RS256")).payload == b"\xff"
    assert b64url_encode(b"\xff") == "_w"
