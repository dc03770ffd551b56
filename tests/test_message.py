"""Scenario 4: JOSE on the HTTP message. Every verifier rule and every crit rule is made to fail here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jwcrypto import jwk

from joselab import DEMO_EPOCH, DemoIds, FixedClock, Trace, b64url_encode, demo_key, sign_compact
from joselab.compact import parse_jws
from joselab.errors import (
    AlgorithmNotAllowed,
    InvalidClaim,
    InvalidHeader,
    InvalidIssuedAt,
    InvalidIssuer,
    InvalidSignature,
    InvalidType,
    JoselabError,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    MissingSignature,
    TokenExpired,
    TokenTooLarge,
    UnsupportedCritical,
    ValidationError,
)
from joselab.jws import verify_jws
from joselab.message import (
    CONSENTS_PATH,
    HEADER,
    OB_IAT,
    OB_ISS,
    OB_TAN,
    OB_V313,
    OB_V314,
    BankAPI,
    JsonGateway,
    Keystore,
    KeystoreKeys,
    NestedJWTValidator,
    OBClient,
    OBParticipant,
    OBSigner,
    OBVerifier,
    TrustAnchor,
    decrypt_body,
    encrypt_body,
    ob_error_code,
    sign_detached,
    sign_then_encrypt,
    signing_input,
    verify_detached,
    verify_message,
)
from joselab.parties import Network
from joselab.serialization import verify_json_jws

VECTORS = Path(__file__).parent / "vectors"
HMAC = demo_key("rfc7520-hmac")
BILBO = demo_key("rfc7520-bilbo-rsa")
FRODO = demo_key("rfc7520-frodo-rsa")
SAMWISE = demo_key("rfc7520-samwise-rsa")
PEREGRIN = demo_key("rfc7520-peregrin-p384")
ANCHOR = TrustAnchor("directory.example", "keystore.directory.example")
TPP = OBParticipant("0015800001041REAAY", "payments-app-001")
BANK = OBParticipant("0015800000jfQ9aAAE")
BODY = b'{"Data":{"Initiation":{"InstructedAmount":{"Amount":"165.88","Currency":"GBP"},"Name":"Caf\xc3\xa9"}},"Risk":{}}'
EXT = "http://example.com/ext"


def keyset(*keys: jwk.JWK) -> jwk.JWKSet:
    ks = jwk.JWKSet()
    for k in keys:
        ks.add(jwk.JWK(**k.export_public(as_dict=True)) if k["kty"] != "oct" else k)
    return ks


def load(name: str) -> dict:
    return json.loads((VECTORS / name).read_text("utf-8"))


def run(fn, *args, **kwargs) -> Trace:
    trace = Trace("test")
    with trace.run():
        fn(trace, *args, **kwargs)
        trace.result = True
    return trace


def failed(trace: Trace) -> str:
    assert not trace.ok, str(trace)
    assert trace.failed is not None
    return f"{trace.failed.section} | {trace.failed.name} | {trace.failed.evidence}"


# -- RFC 7520 §4.5: detached content --------------------------------------------------------------


def test_rfc7520_4_5_detached_vector_verifies_and_reproduces():
    v = load("rfc7520/jws/4_5.signature_with_detached_content.json")
    key = jwk.JWK(**v["input"]["key"])
    body = v["input"]["payload"].encode("utf-8")
    token = v["output"]["compact"]
    trace = verify_message(token, body, keyset(key), ["HS256"])
    assert trace.ok, str(trace)
    assert trace.result == body
    assert sign_detached(body, key, v["signing"]["protected"]) == token
    assert signing_input(token, body) == v["signing"]["sig-input"].encode("ascii")


def test_rfc7520_4_5_detached_vector_rejects_one_changed_byte():
    v = load("rfc7520/jws/4_5.signature_with_detached_content.json")
    key = jwk.JWK(**v["input"]["key"])
    body = bytearray(v["input"]["payload"].encode("utf-8"))
    body[0] ^= 0x01
    trace = verify_message(v["output"]["compact"], bytes(body), keyset(key), ["HS256"])
    assert "signature verifies" in failed(trace)
    assert isinstance(trace.error, InvalidSignature)


def test_rfc7520_4_5_flattened_json_with_detached_payload():
    v = load("rfc7520/jws/4_5.signature_with_detached_content.json")
    key = jwk.JWK(**v["input"]["key"])
    body = v["input"]["payload"].encode("utf-8")
    assert run(verify_json_jws, v["output"]["json_flat"], keyset(key), ["HS256"], detached_payload=body).ok
    trace = run(verify_json_jws, v["output"]["json_flat"], keyset(key), ["HS256"])
    assert "payload is a string | absent" in failed(trace)


def test_detached_token_must_have_an_empty_payload_part():
    attached = sign_compact(BODY, HMAC.jwk, {"alg": "HS256", "kid": HMAC.kid})
    trace = verify_message(attached, BODY, keyset(HMAC.jwk), ["HS256"])
    assert "payload part is empty" in failed(trace)


def test_verify_detached_refuses_a_parsed_body():
    token = sign_detached(BODY, HMAC.jwk, {"alg": "HS256"})
    trace = run(verify_detached, token, json.loads(BODY), keyset(HMAC.jwk), ["HS256"])
    assert "exact received bytes" in failed(trace)
    with pytest.raises(MalformedToken):
        sign_detached(json.loads(BODY), HMAC.jwk, {"alg": "HS256"})  # type: ignore[arg-type]


def test_body_size_is_capped_before_any_work():
    big = b"x" * (1024 * 1024 + 1)
    with pytest.raises(TokenTooLarge):
        sign_detached(big, HMAC.jwk, {"alg": "HS256"})
    token = sign_detached(b"x", HMAC.jwk, {"alg": "HS256"})
    assert isinstance(verify_message(token, big, keyset(HMAC.jwk), ["HS256"]).error, TokenTooLarge)


def test_signed_bytes_attached_detached_and_unencoded():
    header = {"alg": "HS256"}
    attached = sign_compact(BODY, HMAC.jwk, header)
    detached = sign_detached(BODY, HMAC.jwk, header)
    raw = sign_detached(BODY, HMAC.jwk, header, b64=False)
    # Attached and detached sign the same input, so the signature is the same.
    assert signing_input(attached) == signing_input(detached, BODY)
    assert attached.split(".")[2] == detached.split(".")[2]
    protected = raw.split(".")[0]
    assert signing_input(raw, BODY) == protected.encode("ascii") + b"." + BODY
    assert parse_jws(raw, detached_payload=BODY).header == {"alg": "HS256", "b64": False, "crit": ["b64"]}


# -- RFC 7797: unencoded payload --------------------------------------------------------------------

RFC7797 = load("rfc7797/jws-rfc7797.json")
A1 = demo_key("rfc7515-a1-hmac")


def _case(name: str) -> dict:
    return next(t for t in RFC7797["tests"] if t["name"] == name)


def test_rfc7797_4_1_encoded_payload():
    case = _case("4.1 HS256")
    assert run(verify_jws, case["compact"], keyset(A1.jwk), ["HS256"]).ok


def test_rfc7797_4_2_detached_unencoded_verifies_and_reproduces():
    case = _case("4.2 HS256 with b64=false")
    payload = RFC7797["payload"].encode()
    trace = run(verify_detached, case["compact"], payload, keyset(A1.jwk), ["HS256"], understood_crit=["b64"])
    assert trace.ok, str(trace)
    assert sign_detached(payload, A1.jwk, {"alg": "HS256"}, b64=False) == case["compact"]
    assert signing_input(case["compact"], payload) == case["flattened_json"]["protected"].encode() + b".$.02"


def test_rfc7797_4_2_flattened_json_unencoded_payload_with_a_period():
    case = _case("4.2 HS256 with b64=false")
    trace = run(verify_json_jws, case["flattened_json"], keyset(A1.jwk), ["HS256"], understood_crit=["b64"])
    assert trace.ok, str(trace)
    assert run(verify_json_jws, json.dumps(case["flattened_json"]), keyset(A1.jwk), ["HS256"], understood_crit=["b64"]).ok


def test_rfc7797_b64_true_listed_in_crit():
    case = _case("HS256 with b64=true")
    assert run(verify_jws, case["compact"], keyset(A1.jwk), ["HS256"], understood_crit=["b64"]).ok


def test_rfc7797_attached_unencoded_compact_payload():
    case = _case("HS256 with b64=false, safe payload")
    trace = run(verify_jws, case["compact"], keyset(A1.jwk), ["HS256"], understood_crit=["b64"])
    assert trace.ok, str(trace)
    assert parse_jws(case["compact"]).payload == b"hello"
    assert sign_compact(b"hello", A1.jwk, {"alg": "HS256", "b64": False, "crit": ["b64"]}) == case["compact"]


def test_rfc7797_unencoded_rejected_by_a_verifier_that_did_not_opt_in():
    case = _case("4.2 HS256 with b64=false")
    trace = run(verify_detached, case["compact"], b"$.02", keyset(A1.jwk), ["HS256"])
    assert "not understood" in failed(trace)


def _forge(header: dict, payload: bytes = b"hello", key: jwk.JWK = HMAC.jwk, detached: bool = False) -> str:
    """A token with any header at all (sign_compact refuses some of these on purpose)."""
    from jwcrypto.jwa import JWA

    protected = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    b64 = header.get("b64", True) is not False
    segment = b64url_encode(payload) if b64 else payload.decode()
    sig = JWA.signing_alg(header["alg"]).sign(key, f"{protected}.{segment}".encode())
    return f"{protected}.{'' if detached else segment}.{b64url_encode(sig)}"


def test_rfc7797_6_b64_false_without_crit_is_rejected():
    # Before the core fix this passed as "no crit".
    token = _forge({"alg": "HS256", "b64": False})
    trace = run(verify_jws, token, keyset(HMAC.jwk), ["HS256"], understood_crit=["b64"])
    assert "RFC 7797 §6 | b64: false is listed in crit | no crit" == failed(trace)
    token = _forge({"alg": "HS256", "b64": False, "crit": [EXT], EXT: 1})
    trace = run(verify_jws, token, keyset(HMAC.jwk), ["HS256"], understood_crit=["b64", EXT])
    assert "b64: false is listed in crit" in failed(trace)


def test_rfc7797_3_b64_must_be_a_boolean():
    token = _forge({"alg": "HS256", "b64": "false", "crit": ["b64"]})
    trace = run(verify_jws, token, keyset(HMAC.jwk), ["HS256"], understood_crit=["b64"])
    assert "RFC 7797 §3 | b64 is a JSON boolean" in failed(trace)
    with pytest.raises(InvalidHeader):
        sign_compact(b"x", HMAC.jwk, {"alg": "HS256", "b64": 0, "crit": ["b64"]})


def test_sign_compact_unencoded_rules():
    with pytest.raises(UnsupportedCritical):
        sign_compact(b"x", HMAC.jwk, {"alg": "HS256", "b64": False, "crit": "b64"})
    with pytest.raises(InvalidHeader, match=r"'\.'"):
        sign_compact(b"$.02", HMAC.jwk, {"alg": "HS256", "b64": False, "crit": ["b64"]})
    with pytest.raises(InvalidHeader, match="UTF-8"):
        sign_compact(b"\xff", HMAC.jwk, {"alg": "HS256", "b64": False, "crit": ["b64"]})
    # Detached, any bytes at all are fine: they never enter the compact string.
    assert sign_compact(b"\xff.", HMAC.jwk, {"alg": "HS256", "b64": False, "crit": ["b64"]}, detached=True).count(".") == 2


# -- RFC 7515 §4.1.11: crit -------------------------------------------------------------------------

CRIT_CASES = [
    ("unknown name", {"crit": [EXT], EXT: 1}, (), "every name in crit is understood"),
    ("empty list", {"crit": []}, (), "crit is a non-empty array"),
    ("not an array", {"crit": EXT, EXT: 1}, (EXT,), "crit is a non-empty array"),
    ("not strings", {"crit": [1]}, (), "crit lists strings"),
    ("duplicates", {"crit": [EXT, EXT], EXT: 1}, (EXT,), "crit has no duplicates"),
    ("JOSE-defined name", {"crit": ["kid"], "kid": HMAC.kid}, ("kid",), "crit lists no name the JOSE specs define"),
    ("listed name absent", {"crit": [EXT]}, (EXT,), "every name in crit is present"),
]


@pytest.mark.parametrize(("label", "extra", "understood", "rule"), CRIT_CASES, ids=[c[0] for c in CRIT_CASES])
def test_crit_rules(label, extra, understood, rule):
    token = _forge({"alg": "HS256", **extra}, BODY, detached=True)
    trace = run(verify_detached, token, BODY, keyset(HMAC.jwk), ["HS256"], understood_crit=understood)
    text = failed(trace)
    assert text.startswith("RFC 7515 §4.1.11 | crit: well formed, every name understood")
    assert rule in text
    assert isinstance(trace.error, UnsupportedCritical)


def test_crit_understood_extension_passes():
    token = _forge({"alg": "HS256", "crit": [EXT], EXT: 1}, BODY, detached=True)
    assert run(verify_detached, token, BODY, keyset(HMAC.jwk), ["HS256"], understood_crit=[EXT]).ok


def _flat(header: dict, unprotected: dict) -> dict:
    token = _forge(header, BODY)
    protected, payload, sig = token.split(".")
    return {"protected": protected, "header": unprotected, "payload": payload, "signature": sig}


def test_crit_in_the_unprotected_header_is_rejected():
    # crit only in the unprotected header: it would switch an extension on without being signed.
    doc = _flat({"alg": "HS256", EXT: 1}, {"crit": [EXT]})
    trace = run(verify_json_jws, doc, keyset(HMAC.jwk), ["HS256"], understood_crit=[EXT])
    assert "RFC 7515 §4.1.11 | crit only in the protected header" in failed(trace)
    assert isinstance(trace.error, UnsupportedCritical)
    # In both headers: refused before that, as two locations of one name.
    doc = _flat({"alg": "HS256", "crit": [EXT], EXT: 1}, {"crit": [EXT]})
    assert "disjoint" in failed(run(verify_json_jws, doc, keyset(HMAC.jwk), ["HS256"], understood_crit=[EXT]))


def test_flattened_json_structure_rules():
    ok = _flat({"alg": "HS256"}, {"kid": HMAC.kid})
    assert run(verify_json_jws, ok, keyset(HMAC.jwk), ["HS256"]).ok
    cases = [
        (_flat({"alg": "HS256"}, {"b64": False}), "b64 only in the protected header"),
        (_flat({"alg": "HS256", "kid": HMAC.kid}, {"kid": HMAC.kid}), "disjoint"),
        ({**ok, "signatures": []}, "one syntax"),
        ({**ok, "header": []}, "header is a JSON object"),
        ("[1]", "is a JSON object"),
        ('{"a":1,"a":2}', "unique member names"),
        ({**ok, "payload": "a b"}, "base64url"),
    ]
    for doc, rule in cases:
        assert rule in failed(run(verify_json_jws, doc, keyset(HMAC.jwk), ["HS256"]))
    both = run(verify_json_jws, ok, keyset(HMAC.jwk), ["HS256"], detached_payload=BODY)
    assert "payload member absent for detached content" in failed(both)


# -- Open Banking x-jws-signature --------------------------------------------------------------------

CLOCK = FixedClock(DEMO_EPOCH)


def ob_signer(profile=OB_V314, key=BILBO, party=TPP, **kw) -> OBSigner:
    return OBSigner(key, party, ANCHOR, CLOCK, profile=profile, **kw)


def ob_verifier(profile=OB_V314, expected=TPP, **kw) -> OBVerifier:
    return OBVerifier(expected, [ANCHOR], CLOCK, profile=profile, keys=keyset(BILBO.jwk, FRODO.jwk, PEREGRIN.jwk), **kw)


@pytest.mark.parametrize("profile", [OB_V313, OB_V314], ids=["v3.1.3", "v3.1.4"])
def test_ob_happy_path_both_profiles(profile):
    sig = ob_signer(profile).sign(BODY)
    header = parse_jws(sig, detached_payload=BODY).header
    assert list(header)[:2] == ["alg", "kid"]
    assert header["crit"] == list(profile.crit)
    assert ("b64" in header) is profile.unencoded
    trace = ob_verifier(profile).verify(sig, BODY)
    assert trace.ok, str(trace)
    assert trace.result[OB_ISS] == TPP.iss


def test_ob_profiles_sign_different_bytes():
    old = parse_jws(ob_signer(OB_V313).sign(BODY), detached_payload=BODY).signing_input
    new = parse_jws(ob_signer(OB_V314).sign(BODY), detached_payload=BODY).signing_input
    assert old.endswith(b"." + BODY)
    assert new.endswith(b"." + b64url_encode(BODY).encode())


def test_ob_profiles_do_not_accept_each_other():
    v313 = ob_signer(OB_V313).sign(BODY)
    v314 = ob_signer(OB_V314).sign(BODY)
    assert "b64 is absent" in failed(ob_verifier(OB_V314).verify(v313, BODY))
    assert "b64 is false" in failed(ob_verifier(OB_V313).verify(v314, BODY))


def test_ob_optional_typ_and_cty_may_be_left_out():
    sig = ob_signer(typ=None, cty=None).sign(BODY)
    header = parse_jws(sig, detached_payload=BODY).header
    assert "typ" not in header and "cty" not in header
    assert ob_verifier().verify(sig, BODY).ok


def _ob_fail(signature, verifier=None, body=BODY):
    trace = (verifier or ob_verifier()).verify(signature, body)
    return failed(trace), trace.error


OB_RULES = [
    # (id, signer kwargs for sign(), profile, expected error type, text in the failed row)
    ("extra member", {"header_overrides": {"x5t": "abc"}}, OB_V314, InvalidHeader, "only the members the profile specifies"),
    ("kid absent", {"omit": ["kid"]}, OB_V314, MissingClaim, "kid is present"),
    ("kid not a string", {"header_overrides": {"kid": 7}}, OB_V314, MissingClaim, "kid is present"),
    ("b64 present in 3.1.4", {"header_overrides": {"b64": True}}, OB_V314, InvalidHeader, "b64 is absent"),
    (
        "b64 absent in 3.1.3",
        {"omit": ["b64"], "header_overrides": {"crit": [OB_IAT, OB_ISS, OB_TAN]}},
        OB_V313,
        InvalidHeader,
        "b64 is false",
    ),
    ("typ not JOSE", {"header_overrides": {"typ": "JWT"}}, OB_V314, InvalidType, "typ is JOSE"),
    ("cty not json", {"cty": "text/plain"}, OB_V314, InvalidType, "cty is one of"),
    ("iat absent", {"omit": [OB_IAT]}, OB_V314, MissingClaim, f"{OB_IAT} present"),
    ("iat a string", {"header_overrides": {OB_IAT: "1767225600"}}, OB_V314, InvalidClaim, "is a NumericDate"),
    ("iat in the future", {"header_overrides": {OB_IAT: DEMO_EPOCH + 31}}, OB_V314, InvalidIssuedAt, "is in the past"),
    ("iss absent", {"omit": [OB_ISS]}, OB_V314, MissingClaim, f"{OB_ISS} is present"),
    (
        "iss another TPP",
        {"header_overrides": {OB_ISS: "0015800001041REAAY/other-app"}},
        OB_V314,
        InvalidIssuer,
        "is the expected TPP",
    ),
    ("iss the bank", {"header_overrides": {OB_ISS: BANK.iss}}, OB_V314, InvalidIssuer, "is the expected TPP"),
    ("tan absent", {"omit": [OB_TAN]}, OB_V314, MissingClaim, f"{OB_TAN} is present"),
    ("tan not allowlisted", {"header_overrides": {OB_TAN: "evil.example"}}, OB_V314, InvalidClaim, "allowlisted trust anchor"),
    ("crit missing tan", {"header_overrides": {"crit": [OB_IAT, OB_ISS]}}, OB_V314, UnsupportedCritical, "crit lists exactly"),
    ("crit absent", {"omit": ["crit"]}, OB_V314, UnsupportedCritical, "crit lists exactly"),
    (
        "crit extra name",
        {"header_overrides": {"crit": [OB_IAT, OB_ISS, OB_TAN, "b64"]}},
        OB_V314,
        UnsupportedCritical,
        "crit lists exactly",
    ),
    (
        "crit duplicate",
        {"header_overrides": {"crit": [OB_IAT, OB_ISS, OB_TAN, OB_TAN]}},
        OB_V314,
        UnsupportedCritical,
        "crit lists exactly",
    ),
    ("alg RS256", {"header_overrides": {"alg": "RS256"}}, OB_V314, AlgorithmNotAllowed, "alg on the allowlist ['PS256']"),
    ("unknown kid", {"header_overrides": {"kid": "nobody"}}, OB_V314, KeyNotFound, "kid names a trusted key"),
    ("kid of an encryption key", {"header_overrides": {"kid": PEREGRIN.kid}}, OB_V314, KeyNotFound, "is one for PS256"),
]


@pytest.mark.parametrize(("label", "kwargs", "profile", "error", "rule"), OB_RULES, ids=[r[0] for r in OB_RULES])
def test_ob_verifier_rules(label, kwargs, profile, error, rule):
    sig = ob_signer(profile).sign(BODY, **kwargs)
    text, err = _ob_fail(sig, ob_verifier(profile))
    assert rule in text
    assert type(err) is error


def test_ob_missing_signature():
    for value in (None, ""):
        text, err = _ob_fail(value)
        assert "x-jws-signature header is present" in text
        assert isinstance(err, MissingSignature)
        assert ob_error_code(err) == "UK.OBIE.Signature.Missing"


def test_ob_attached_jws_is_not_a_detached_signature():
    attached = sign_compact(BODY, BILBO.jwk, ob_signer().header())
    text, err = _ob_fail(attached)
    assert "payload part is empty" in text
    assert ob_error_code(err) == "UK.OBIE.Signature.Malformed"


def test_ob_signature_by_the_wrong_key():
    # Frodo's key, Bilbo's kid: the kid resolves, the signature does not verify.
    forged = OBSigner(FRODO.jwk, TPP, ANCHOR, CLOCK).sign(BODY, header_overrides={"kid": BILBO.kid})
    text, err = _ob_fail(forged)
    assert "PS256 signature verifies" in text
    assert ob_error_code(err) == "UK.OBIE.Signature.Invalid"


def test_ob_body_altered_and_reserialised():
    sig = ob_signer().sign(BODY)
    altered = BODY.replace(b"165.88", b"965.88")
    assert "PS256 signature verifies" in _ob_fail(sig, body=altered)[0]
    reserialised = json.dumps(json.loads(BODY)).encode()
    assert json.loads(reserialised) == json.loads(BODY)
    assert "PS256 signature verifies" in _ob_fail(sig, body=reserialised)[0]


def test_ob_iat_exactly_now_and_in_the_past_pass():
    for iat in (DEMO_EPOCH, DEMO_EPOCH - 3600, DEMO_EPOCH + 30):
        assert ob_verifier().verify(ob_signer().sign(BODY, header_overrides={OB_IAT: iat}), BODY).ok


def test_ob_error_codes():
    assert ob_error_code(MissingClaim("x", "y")) == "UK.OBIE.Signature.MissingClaim"
    assert ob_error_code(InvalidIssuer("x", "y")) == "UK.OBIE.Signature.InvalidClaim"
    assert ob_error_code(InvalidSignature("x", "y")) == "UK.OBIE.Signature.Invalid"


def test_ob_verifier_needs_exactly_one_key_source():
    with pytest.raises(JoselabError):
        OBVerifier(TPP, [ANCHOR], CLOCK)


def test_participants():
    assert TPP.iss == "0015800001041REAAY/payments-app-001" and TPP.role == "TPP"
    assert BANK.iss == "0015800000jfQ9aAAE" and BANK.role == "ASPSP"
    assert ANCHOR.jwks_url(TPP) == "https://keystore.directory.example/0015800001041REAAY/payments-app-001.jwks"


# -- JWE and nesting ----------------------------------------------------------------------------------


def test_rfc7520_6_nested_vector_with_a_fixed_clock():
    v = load("rfc7520/6.nesting_signatures_and_encryption.json")
    signer = jwk.JWK(**v["sign"]["input"]["key"])
    decryption = jwk.JWK(**v["encrypt"]["input"]["key"])
    exp = json.loads(v["sign"]["input"]["payload"])["exp"]

    def validator(now: int) -> NestedJWTValidator:
        return NestedJWTValidator(
            decryption_key=decryption,
            signer_keys=keyset(signer),
            algorithms=["PS256"],
            key_algorithms=["RSA-OAEP"],
            encryptions=["A128GCM"],
            clock=FixedClock(now),
            issuer="hobbiton.example",
            leeway=0,
        )

    token = v["encrypt"]["output"]["compact"]
    trace = validator(exp - 60).validate(token)
    assert trace.ok, str(trace)
    assert trace.result["http://example.com/is_root"] is True
    expired = validator(DEMO_EPOCH).validate(token)
    assert "now is before exp" in failed(expired)
    assert isinstance(expired.error, TokenExpired)
    assert run(verify_jws, v["sign"]["output"]["compact"], keyset(signer), ["PS256"]).ok


def _nested_validator(**kw) -> NestedJWTValidator:
    args = {
        "decryption_key": SAMWISE,
        "signer_keys": keyset(BILBO.jwk),
        "algorithms": ["PS256"],
        "clock": CLOCK,
        "issuer": TPP.iss,
        "audience": "https://api.bank.example",
    }
    return NestedJWTValidator(**{**args, **kw})


CLAIMS = {"iss": TPP.iss, "aud": "https://api.bank.example", "exp": DEMO_EPOCH + 60, "amount": "165.88"}


@pytest.mark.parametrize(("alg", "recipient"), [("RSA-OAEP-256", SAMWISE), ("ECDH-ES+A256KW", PEREGRIN)])
def test_sign_then_encrypt_both_key_algorithms(alg, recipient):
    token = sign_then_encrypt(CLAIMS, BILBO, {"alg": "PS256", "kid": BILBO.kid, "typ": "JWT"}, recipient, alg=alg)
    trace = _nested_validator(decryption_key=recipient).validate(token)
    assert trace.ok, str(trace)
    assert trace.result["amount"] == "165.88"


def test_nested_both_layers_are_validated():
    good = sign_then_encrypt(CLAIMS, BILBO, {"alg": "PS256", "kid": BILBO.kid}, SAMWISE)
    # outer: wrong recipient key (an EC key for an RSA-OAEP-256 JWE: refused before any decryption)
    error = _nested_validator(decryption_key=PEREGRIN).validate(good).error
    assert isinstance(error, KeyNotFound) and error.section == "RFC 8725 §3.1"
    # outer: cty missing
    inner = sign_compact(CLAIMS, BILBO.jwk, {"alg": "PS256", "kid": BILBO.kid})
    no_cty = encrypt_body(inner.encode(), SAMWISE, cty=None)
    assert "outer cty is JWT" in failed(_nested_validator().validate(no_cty))
    # inner: signed by a key the recipient does not trust for this signer
    stranger = sign_then_encrypt(CLAIMS, FRODO, {"alg": "PS256", "kid": FRODO.kid}, SAMWISE)
    assert isinstance(_nested_validator().validate(stranger).error, KeyNotFound)
    # inner: not a JWS at all (anyone can encrypt to the bank's public key)
    unsigned = encrypt_body(json.dumps(CLAIMS).encode(), SAMWISE, cty="JWT")
    assert isinstance(_nested_validator().validate(unsigned).error, MalformedToken)
    # claims: wrong audience, wrong issuer, expired
    other_aud = sign_then_encrypt({**CLAIMS, "aud": "https://other.example"}, BILBO, {"alg": "PS256", "kid": BILBO.kid}, SAMWISE)
    assert "aud contains" in failed(_nested_validator().validate(other_aud))
    other_iss = sign_then_encrypt({**CLAIMS, "iss": "x"}, BILBO, {"alg": "PS256", "kid": BILBO.kid}, SAMWISE)
    assert "iss equals" in failed(_nested_validator().validate(other_iss))
    assert isinstance(_nested_validator(clock=FixedClock(DEMO_EPOCH + 3600)).validate(good).error, TokenExpired)
    with pytest.raises(TokenExpired):
        _nested_validator(clock=FixedClock(DEMO_EPOCH + 3600)).validate(good, strict=True)


def test_encrypt_body_round_trip_and_allowlists():
    for alg, key in (("RSA-OAEP-256", SAMWISE), ("ECDH-ES+A256KW", PEREGRIN)):
        token = encrypt_body(BODY, key, alg=alg)
        trace = Trace("jwe")
        with trace.run():
            trace.result = decrypt_body(trace, token, key)
        assert trace.ok and trace.result == BODY
        assert token != encrypt_body(BODY, key, alg=alg)  # randomized
    trace = Trace("jwe")
    with trace.run():
        decrypt_body(trace, encrypt_body(BODY, SAMWISE, alg="RSA-OAEP"), SAMWISE)
    assert "alg on the allowlist" in failed(trace)


# -- Over HTTP ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def net():
    network = Network()
    keystore = Keystore(network)
    keystore.publish(TPP, sig=BILBO, enc=PEREGRIN)
    keystore.publish(BANK, sig=FRODO, enc=SAMWISE)
    clock = FixedClock(DEMO_EPOCH)
    api = BankAPI(
        network,
        signer=OBSigner(FRODO, BANK, ANCHOR, clock),
        verifier=OBVerifier(TPP, [ANCHOR], clock, network=network),
        clock=clock,
        ids=DemoIds(4),
        decryption_key=SAMWISE,
        client_encryption_key=PEREGRIN,
    )
    JsonGateway(network, upstream="api.bank.example")
    JsonGateway(network, upstream="api.bank.example", host="passthrough.bank.example", reserialise=False)
    JsonGateway(network, upstream="api.bank.example", host="rebinder.bank.example", reserialise=False, reserialise_responses=True)
    client = OBClient(
        network,
        signer=OBSigner(BILBO, TPP, ANCHOR, clock),
        bank_verifier=OBVerifier(BANK, [ANCHOR], clock, network=network),
        decryption_key=PEREGRIN,
        bank_encryption_key=SAMWISE,
    )
    network.start()
    yield {"network": network, "api": api, "client": client, "clock": clock}
    network.close()


def _error(exchange) -> dict:
    assert exchange.status == 400
    assert exchange.response_trace.ok, "the bank signs its error responses too"
    return exchange.response.json()["Errors"][0]


def test_http_happy_path_request_and_response_verified(net):
    ex = net["client"].create_consent(BODY)
    assert ex.status == 201
    assert ex.response_trace.ok, str(ex.response_trace)
    assert ex.data["Data"]["Initiation"]["InstructedAmount"]["Amount"] == "165.88"
    assert net["api"].last_trace.ok


def test_http_body_altered_by_one_byte(net):
    client = net["client"]
    sig = client.signer.sign(BODY)
    altered = bytearray(BODY)
    altered[BODY.index(b"165.88")] = ord("9")
    err = _error(client.send(CONSENTS_PATH, bytes(altered), sig))
    assert err["check"] == "PS256 signature verifies"
    assert err["ErrorCode"] == "UK.OBIE.Signature.Invalid"


def test_http_reserialised_body_and_the_fix(net):
    client = net["client"]
    err = _error(client.create_consent(BODY, via="gateway.bank.example"))
    assert err["check"] == "PS256 signature verifies"
    # The same request through a hop that forwards bytes untouched is accepted.
    assert client.create_consent(BODY, via="passthrough.bank.example").status == 201


def test_http_missing_signature_header(net):
    err = _error(net["client"].send(CONSENTS_PATH, BODY, None))
    assert err["check"] == "x-jws-signature header is present"
    assert err["ErrorCode"] == "UK.OBIE.Signature.Missing"


def test_http_invalid_claim_is_named(net):
    sig = net["client"].signer.sign(BODY, header_overrides={OB_TAN: "evil.example"})
    err = _error(net["client"].send(CONSENTS_PATH, BODY, sig))
    assert "allowlisted trust anchor" in err["check"]
    assert err["ErrorCode"] == "UK.OBIE.Signature.InvalidClaim"


def test_http_bank_signature_is_not_a_client_signature(net):
    # A response signature replayed as a request: the bank's key and iss, not the expected TPP's.
    first = net["client"].create_consent(BODY)
    err = _error(net["client"].send(CONSENTS_PATH, first.response.body, first.response.headers[HEADER]))
    assert "is the expected TPP" in err["check"]


def test_http_duplicate_member_names_in_a_signed_body(net):
    # Correctly signed, but two meanings: parsers disagree on which Amount wins (RFC 8259 §4).
    body = b'{"Data":{"Initiation":{"InstructedAmount":{"Amount":"1.00","Amount":"1000.00","Currency":"GBP"}}}}'
    err = _error(net["client"].create_consent(body))
    assert err["ErrorCode"] == "UK.OBIE.Resource.InvalidFormat"
    assert "unique member names" in err["check"]


def test_http_client_rejects_a_reserialised_response(net):
    ex = net["client"].create_consent(BODY, via="rebinder.bank.example")
    assert ex.status == 201
    assert "PS256 signature verifies" in failed(ex.response_trace)
    assert ex.data is None


def test_http_jwe_inside_jws_both_ways(net):
    ex = net["client"].create_encrypted_consent(BODY)
    assert ex.status == 201, ex.response.body
    assert ex.response_trace.ok and ex.layers[0].ok
    assert ex.response.headers["content-type"] == "application/jose"
    assert ex.data["Data"]["Initiation"]["InstructedAmount"]["Amount"] == "165.88"
    bank_trace = net["api"].last_trace
    names = [c.name for c in bank_trace]
    assert names.index("PS256 signature verifies") < next(i for i, n in enumerate(names) if n.startswith("decrypts"))


def test_http_jwe_inside_jws_each_layer_fails(net):
    client = net["client"]
    from joselab.message import ENCRYPTED_PATH

    jwe_body = encrypt_body(BODY, SAMWISE).encode()
    # Outer layer: a signature over other ciphertext.
    other = encrypt_body(BODY, SAMWISE).encode()
    err = _error(client.send(ENCRYPTED_PATH, jwe_body, client.signer.sign(other, cty=None), content_type="application/jose"))
    assert err["check"] == "PS256 signature verifies"
    # Inner layer: validly signed, but encrypted to the wrong recipient.
    wrong = encrypt_body(BODY, PEREGRIN, alg="ECDH-ES+A256KW").encode()
    err = _error(client.send(ENCRYPTED_PATH, wrong, client.signer.sign(wrong, cty=None), content_type="application/jose"))
    assert err["check"] == "the recipient key is the one for ECDH-ES+A256KW"  # the bank's key is RSA
    assert err["ErrorCode"] == "UK.OBIE.Resource.InvalidFormat"


def test_keystore_keys_refresh_at_most_once_a_minute(net):
    clock = FixedClock(DEMO_EPOCH)
    keys = KeystoreKeys(net["network"], ANCHOR.jwks_url(TPP), clock)
    assert keys({"kid": BILBO.kid})["kid"] == BILBO.kid
    assert keys({"kid": "rotated-1"}) is None
    assert keys({"kid": "rotated-2"}) is None
    assert keys.fetches == 1
    clock.advance(60)
    assert keys({"kid": "rotated-3"}) is None
    assert keys.fetches == 2


def test_keystore_unreachable_is_a_key_error(net):
    # Nothing is published for this party: the fetch answers 404, and the key lookup fails closed.
    stranger = OBParticipant("unknown-org", "x")
    verifier = OBVerifier(stranger, [ANCHOR], CLOCK, network=net["network"])
    text, err = _ob_fail(ob_signer(party=stranger).sign(BODY), verifier)
    assert "kid names a trusted key" in text
    assert isinstance(err, KeyNotFound)


def test_untrusted_input_never_raises_anything_else(net):
    verifier = ob_verifier()
    for junk in ["a", "a.b", "..", "e30..", "e30.x.", "." * 10, "eyJhbGciOiJQUzI1NiJ9..AAAA", "x" * 40000, "é..é"]:
        trace = verifier.verify(junk, BODY)
        assert not trace.ok
        assert isinstance(trace.error, ValidationError)
