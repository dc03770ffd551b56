"""joselab.jws: signing and the shared verification rows, each made to fail by the attack it stops."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from joselab_testkit import b64json, forge_jws, keyset
from jwcrypto import jwk

from joselab import Trace
from joselab.compact import b64url_decode, b64url_encode
from joselab.errors import (
    AlgorithmNotAllowed,
    EmbeddedKeyRejected,
    InvalidHeader,
    InvalidSignature,
    KeyNotFound,
    MalformedToken,
    TokenTooLarge,
    UnexpectedTokenKind,
    UnsupportedCritical,
    ValidationError,
)
from joselab.jwe import encrypt_compact
from joselab.jws import (
    EMBEDDED_KEY_HEADERS,
    JOSE_DEFINED_HEADERS,
    check_crit,
    encode_claims,
    encode_header,
    select_key,
    sign_compact,
    verify_jws,
    verify_signature,
)
from joselab.keys import demo_key

RSA = demo_key("rfc7515-a2-rsa")
P256 = demo_key("rfc7515-a3-p256")
HMAC = demo_key("rfc7515-a1-hmac")
ED = demo_key("rfc8037-ed25519")
CLAIMS = {"iss": "https://as.example", "sub": "alice"}


def rejected(token, keys, algorithms, error, **kw):
    """Verify ``token``; assert it fails with ``error`` and that the trace's last row is that failure."""
    trace = Trace("t")
    with pytest.raises(error) as info:
        verify_jws(trace, token, keys, algorithms, **kw)
    assert trace.checks[-1].section == info.value.section and not trace.checks[-1].passed
    return info.value, trace


def test_encode_header_puts_alg_first_compactly():
    assert b64url_decode(encode_header({"typ": "JWT", "alg": "RS256"})) == b'{"alg":"RS256","typ":"JWT"}'
    assert encode_claims({"a": "é"}) == '{"a":"é"}'.encode()


@pytest.mark.parametrize(
    ("name", "alg"),
    [
        ("rfc7515-a2-rsa", "RS256"),
        ("rfc7515-a2-rsa", "PS256"),
        ("rfc7515-a3-p256", "ES256"),
        ("rfc8037-ed25519", "Ed25519"),
        ("rfc7515-a1-hmac", "HS256"),
    ],
)
def test_sign_then_verify(name, alg):
    key = demo_key(name)
    token = sign_compact(CLAIMS, key.jwk, {"alg": alg, "kid": key.kid, "typ": "JWT"})
    trusted = keyset(key.jwk if alg == "HS256" else key.public())
    trace = Trace("t")
    parsed = verify_jws(trace, token, trusted, [alg])
    assert parsed.claims() == CLAIMS and trace.ok
    assert [c.section for c in trace] == [
        "RFC 7515 §7.1",
        "RFC 8725 §3.1",
        "RFC 8725 §3.10",
        "RFC 8725 §3.1",
        "RFC 7518 §3",
        "RFC 7515 §5.2",
    ]


def test_sign_compact_is_deterministic_for_rs256():
    header = {"alg": "RS256", "kid": RSA.kid}
    assert sign_compact(CLAIMS, RSA.jwk, header) == sign_compact(CLAIMS, RSA.jwk, header)


@pytest.mark.parametrize("alg", [None, "none", ""])
def test_sign_compact_refuses_no_alg(alg):
    with pytest.raises(InvalidHeader):
        sign_compact(b"x", HMAC.jwk, {"alg": alg})


def test_sign_compact_refuses_key_not_fitting_alg():
    with pytest.raises(KeyNotFound):
        sign_compact(b"x", RSA.jwk, {"alg": "ES256"})


def test_sign_compact_unencoded_rules():
    with pytest.raises(UnsupportedCritical):
        sign_compact(b"x", HMAC.jwk, {"alg": "HS256", "b64": False})
    with pytest.raises(InvalidHeader):
        sign_compact(b"$.02", HMAC.jwk, {"alg": "HS256", "b64": False, "crit": ["b64"]})  # RFC 7797 §5.2
    token = sign_compact(b"$.02", HMAC.jwk, {"alg": "HS256", "b64": False, "crit": ["b64"]}, detached=True)
    assert token.split(".")[1] == ""


def test_detached_content_round_trip():
    token = sign_compact(b'{"amount":"10.00"}', HMAC.jwk, {"alg": "HS256"}, detached=True)
    trace = Trace("t")
    verify_jws(trace, token, keyset(HMAC.jwk), ["HS256"], detached_payload=b'{"amount":"10.00"}')
    assert trace.ok
    rejected(token, keyset(HMAC.jwk), ["HS256"], InvalidSignature, detached_payload=b'{"amount": "10.00"}')


def test_tampered_payload_fails_signature():
    token = sign_compact(CLAIMS, RSA.jwk, {"alg": "RS256"})
    h, _, s = token.split(".")
    forged = f"{h}.{b64url_encode(encode_claims({**CLAIMS, 'sub': 'mallory'}))}.{s}"
    exc, _ = rejected(forged, keyset(RSA.public()), ["RS256"], InvalidSignature)
    assert exc.section == "RFC 7515 §5.2"


def test_signature_section_is_the_callers():
    token = sign_compact(CLAIMS, RSA.jwk, {"alg": "RS256"})
    trace = Trace("t")
    verify_jws(trace, token, keyset(RSA.public()), ["RS256"], signature_section="RFC 9068 §4 (5)")
    assert trace.checks[-1].section == "RFC 9068 §4 (5)"


# -- alg allowlist (RFC 8725 §3.1) -------------------------------------------------------------------
@pytest.mark.parametrize(
    "header",
    [{"alg": "none"}, {"alg": "HS256"}, {}, {"alg": ["RS256"]}, {"alg": "rs256"}],
    ids=["none", "not-on-list", "absent", "array", "case"],
)
def test_alg_not_on_allowlist(header):
    token = f"{b64json(header)}.{b64url_encode(b'{}')}."
    exc, _ = rejected(token, keyset(RSA.public()), ["RS256", "none"], AlgorithmNotAllowed)
    assert exc.section == "RFC 8725 §3.1"


def test_none_is_never_allowed_even_if_listed():
    token = f"{b64json({'alg': 'none'})}.{b64url_encode(b'{}')}."
    exc, _ = rejected(token, keyset(RSA.public()), ["none"], AlgorithmNotAllowed)
    assert "[]" in exc.check


# -- crit (RFC 7515 §4.1.11) -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("crit_header", "check"),
    [
        ({"crit": []}, "crit is a non-empty array"),
        ({"crit": "exp"}, "crit is a non-empty array"),
        ({"crit": [1]}, "crit lists strings"),
        ({"crit": ["x", "x"], "x": 1}, "crit has no duplicates"),
        ({"crit": ["alg"]}, "crit lists no name the JOSE specs define"),
        ({"crit": ["kid"], "kid": "a"}, "crit lists no name the JOSE specs define"),
        ({"crit": ["exp"]}, "every name in crit is present"),
        ({"crit": ["exp"], "exp": 1}, "every name in crit is understood"),
    ],
    ids=["empty", "not-array", "not-strings", "duplicates", "jose-alg", "jose-kid", "absent", "not-understood"],
)
def test_crit_rules(crit_header, check):
    header = {"alg": "HS256", **crit_header}
    with pytest.raises(UnsupportedCritical) as info:
        check_crit(header, understood=["other"])
    assert info.value.check == check and info.value.section == "RFC 7515 §4.1.11"
    token = forge_jws(header, b"{}", HMAC.jwk, "HS256")
    _, trace = rejected(token, keyset(HMAC.jwk), ["HS256"], UnsupportedCritical, understood_crit=["other"])
    assert check in trace.checks[-1].evidence


def test_crit_understood_passes():
    header = {"alg": "HS256", "crit": ["exp"], "exp": 1}
    assert "all understood" in check_crit(header, ["exp"])
    assert check_crit({"alg": "HS256"}, []) == "no crit"
    trace = Trace("t")
    verify_jws(trace, forge_jws(header, b"{}", HMAC.jwk, "HS256"), keyset(HMAC.jwk), ["HS256"], understood_crit=["exp"])
    assert trace.ok


def test_jose_defined_headers_cover_jws_and_jwe():
    assert {"alg", "kid", "crit", "enc", "zip", "p2c"} <= JOSE_DEFINED_HEADERS
    assert "b64" not in JOSE_DEFINED_HEADERS  # RFC 7797 wants b64 listed in crit


# -- b64 (RFC 7797) ----------------------------------------------------------------------------------
def test_unencoded_payload_accepted_only_when_understood():
    header = {"alg": "HS256", "b64": False, "crit": ["b64"]}
    token = sign_compact(b"hello", HMAC.jwk, header)
    trace = Trace("t")
    assert verify_jws(trace, token, keyset(HMAC.jwk), ["HS256"], understood_crit=["b64"]).payload == b"hello"
    rejected(token, keyset(HMAC.jwk), ["HS256"], UnsupportedCritical)


def test_unencoded_payload_without_crit_rejected():
    token = forge_jws({"alg": "HS256", "b64": False}, b"", HMAC.jwk, "HS256", payload_segment="hello")
    exc, _ = rejected(token, keyset(HMAC.jwk), ["HS256"], UnsupportedCritical, understood_crit=["b64"])
    assert exc.section == "RFC 7797 §6"


def test_b64_not_boolean_rejected():
    token = forge_jws({"alg": "HS256", "b64": "false", "crit": ["b64"]}, b"x", HMAC.jwk, "HS256")
    exc, _ = rejected(token, keyset(HMAC.jwk), ["HS256"], InvalidHeader, understood_crit=["b64"])
    assert exc.section == "RFC 7797 §3"


# -- embedded keys (RFC 8725 §3.10) ------------------------------------------------------------------
@pytest.mark.parametrize("name", EMBEDDED_KEY_HEADERS)
def test_embedded_key_or_url_rejected(name):
    """The jwk-injection attack (CVE-2018-0114): the token brings the key that verifies it."""
    attacker = jwk.JWK.generate(kty="EC", crv="P-256")
    value = {"jwk": attacker.export_public(as_dict=True), "x5c": ["MIIB"]}.get(name, "https://evil.example/keys")
    token = forge_jws({"alg": "ES256", name: value}, b"{}", attacker, "ES256")
    exc, _ = rejected(token, keyset(P256.public()), ["ES256"], EmbeddedKeyRejected)
    assert name in exc.evidence


# -- key selection and key/alg fit (RFC 7515 §4.1.4, RFC 8725 §3.1) ---------------------------------
def test_select_key_by_kid_and_alone():
    trusted = keyset(RSA.public(), P256.public())
    assert select_key(trusted, {"kid": P256.kid})["kid"] == P256.kid
    assert select_key(keyset(RSA.public()), {})["kid"] == RSA.kid
    assert select_key(lambda h: P256.public() if h.get("kid") == "x" else None, {"kid": "x"})["kid"] == P256.kid


@pytest.mark.parametrize(
    ("keys", "header", "error"),
    [
        (keyset(RSA.public(), P256.public()), {}, KeyNotFound),
        (keyset(RSA.public()), {"kid": "unknown"}, KeyNotFound),
        (keyset(RSA.public()), {"kid": 7}, InvalidHeader),
        (lambda h: None, {"kid": "x"}, KeyNotFound),
    ],
    ids=["no-kid-two-keys", "unknown-kid", "kid-not-string", "callable-none"],
)
def test_select_key_failures(keys, header, error):
    with pytest.raises(error):
        select_key(keys, header)
    token = forge_jws({"alg": "RS256", **header}, b"{}", RSA.jwk, "RS256")
    rejected(token, keys, ["RS256"], error)


def test_rs256_public_key_used_as_hs256_secret_rejected():
    """Key confusion (CVE-2016-10555): the attacker MACs with the RSA public key's bytes."""
    secret = {"kty": "oct", "k": RSA.jwk["n"]}
    token = forge_jws({"alg": "HS256", "kid": RSA.kid}, b'{"sub":"admin"}', jwk.JWK(**secret), "HS256")
    exc, _ = rejected(token, keyset(RSA.public()), ["RS256", "HS256"], KeyNotFound)
    assert "needs a symmetric (oct) key" in exc.evidence


def test_rsa_key_under_2048_bits_rejected():
    small = jwk.JWK.generate(kty="RSA", size=1024, kid="small")
    token = forge_jws({"alg": "RS256", "kid": "small"}, b"{}", small, "RS256")
    exc, _ = rejected(token, keyset(jwk.JWK(**small.export_public(as_dict=True))), ["RS256"], KeyNotFound)
    assert "1024 bits" in exc.evidence


def test_short_hmac_key_rejected():
    short = jwk.JWK(kty="oct", k=b64url_encode(b"s" * 16), kid="short")
    signing_input = f"{b64json({'alg': 'HS256', 'kid': 'short'})}.{b64url_encode(b'{}')}"
    mac = hmac.new(b"s" * 16, signing_input.encode(), hashlib.sha256).digest()  # jwcrypto won't sign this
    token = f"{signing_input}.{b64url_encode(mac)}"
    exc, _ = rejected(token, keyset(short), ["HS256"], KeyNotFound)
    assert "16 bytes" in exc.evidence


def test_key_with_other_alg_rejected():
    pinned = jwk.JWK(**{**RSA.jwk.export(as_dict=True), "alg": "PS256"})
    token = sign_compact(CLAIMS, RSA.jwk, {"alg": "RS256"})
    rejected(token, keyset(pinned), ["RS256", "PS256"], KeyNotFound)


# -- signature length and value (RFC 7518 §3.4, CVE-2022-21449) -------------------------------------
def test_ecdsa_signature_of_wrong_length_rejected():
    token = sign_compact(CLAIMS, P256.jwk, {"alg": "ES256"})
    h, p, s = token.split(".")
    der_length = b64url_encode(b64url_decode(s) + b"\x00")
    exc, _ = rejected(f"{h}.{p}.{der_length}", keyset(P256.public()), ["ES256"], InvalidSignature)
    assert exc.section == "RFC 7518 §3" and "65 bytes" in exc.evidence


def test_psychic_signature_r_s_zero_rejected():
    """CVE-2022-21449: 64 zero bytes (r = s = 0) must never verify as ES256."""
    h, p, _ = sign_compact(CLAIMS, P256.jwk, {"alg": "ES256"}).split(".")
    exc, trace = rejected(f"{h}.{p}.{b64url_encode(bytes(64))}", keyset(P256.public()), ["ES256"], InvalidSignature)
    assert exc.section == "RFC 7515 §5.2"
    assert trace.checks[-2].section == "RFC 7518 §3" and trace.checks[-2].passed  # length right, value wrong


def test_rsa_signature_length_is_the_modulus():
    h, p, s = sign_compact(CLAIMS, RSA.jwk, {"alg": "RS256"}).split(".")
    exc, _ = rejected(f"{h}.{p}.{b64url_encode(b64url_decode(s)[1:])}", keyset(RSA.public()), ["RS256"], InvalidSignature)
    assert "as RS256 defines" in exc.check and exc.check.startswith("signature is 256 bytes")


def test_eddsa_alg_of_rfc8037_verifies_with_its_length():
    token = sign_compact(b"Example of Ed25519 signing", ED.jwk, {"alg": "EdDSA"})
    trace = Trace("t")
    verify_jws(trace, token, keyset(ED.public()), ["EdDSA"])
    assert "signature is 64 bytes, as EdDSA defines" in [c.name for c in trace]


# -- structure ---------------------------------------------------------------------------------------
def test_jwe_where_jws_expected_is_a_trace_row():
    token = encrypt_compact(b"secret", demo_key("rfc7520-samwise-rsa").jwk, {"alg": "RSA-OAEP-256", "enc": "A256GCM"})
    _, trace = rejected(token, keyset(RSA.public()), ["RS256"], UnexpectedTokenKind)
    assert len(trace) == 1


def test_huge_and_garbage_tokens_are_joselab_errors():
    rejected("a" * 40_000, keyset(RSA.public()), ["RS256"], TokenTooLarge)
    rejected("e30.e30.e30=", keyset(RSA.public()), ["RS256"], MalformedToken)
    rejected(None, keyset(RSA.public()), ["RS256"], MalformedToken)


def test_header_not_an_object():
    exc, _ = rejected(f"{b64json(['alg'])}.e30.", keyset(RSA.public()), ["RS256"], MalformedToken)
    assert exc.check == "protected header is a JSON object"


def test_check_header_runs_before_keys_and_can_reject():
    token = sign_compact(CLAIMS, RSA.jwk, {"alg": "RS256", "typ": "JWT"})
    trace = Trace("t")

    def typ_must_be_at_jwt(parsed):
        typ = parsed.header["typ"]
        trace.check("RFC 9068 §4 (1)", "typ is at+jwt", typ == "at+jwt", f"typ = {typ}", InvalidHeader)

    with pytest.raises(InvalidHeader):
        verify_jws(trace, token, keyset(RSA.public()), ["RS256"], check_header=typ_must_be_at_jwt)
    assert [c.section for c in trace] == ["RFC 7515 §7.1", "RFC 9068 §4 (1)"]


def test_verify_signature_labels_its_rows():
    token = sign_compact(CLAIMS, HMAC.jwk, {"alg": "HS256"})
    h, p, s = token.split(".")
    trace = Trace("t")
    key = verify_signature(
        trace, {"alg": "HS256"}, f"{h}.{p}".encode(), b64url_decode(s), keyset(HMAC.jwk), ["HS256"], label="sig 1: "
    )
    assert key["kid"] == HMAC.kid
    assert all(c.name.startswith("sig 1: ") for c in trace)
    with pytest.raises(InvalidSignature):
        verify_signature(Trace("t"), {"alg": "HS256"}, b"other", b64url_decode(s), keyset(HMAC.jwk), ["HS256"])


def test_only_validation_errors_escape_on_fuzzed_headers():
    """Whatever the header says, verify_jws answers with a ValidationError, never a crash."""
    headers = [
        {"alg": "HS256", "kid": None},
        {"alg": "HS256", "kid": {"a": 1}},
        {"alg": "HS256", "crit": None},
        {"alg": "HS256", "crit": [None]},
        {"alg": "HS256", "b64": None, "crit": ["b64"]},
        {"alg": "ES256"},
        {"alg": "HS256", "jwk": None},
        {"alg": 1},
        {"alg": "HS256", "kid": "x" * 1000},
    ]
    for header in headers:
        token = forge_jws(header, b"{}", HMAC.jwk, "HS256") if header.get("alg") == "HS256" else f"{b64json(header)}.e30.AA"
        trace = Trace("t")
        try:
            verify_jws(trace, token, keyset(HMAC.jwk), ["HS256", "ES256"])
        except ValidationError:
            assert not trace.checks[-1].passed
        else:
            assert trace.ok, json.dumps(header)
