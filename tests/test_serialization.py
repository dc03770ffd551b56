"""joselab.serialization: JWS and JWE JSON Serializations (RFC 7515 §7.2, RFC 7516 §7.2)."""

from __future__ import annotations

import json

import pytest
from joselab_testkit import b64json, keyset, sign_raw
from jwcrypto import jwe, jwk

from joselab import Trace
from joselab.compact import b64url_encode
from joselab.errors import (
    AlgorithmNotAllowed,
    DecryptionFailed,
    EmbeddedKeyRejected,
    InvalidHeader,
    InvalidSignature,
    KeyNotFound,
    MalformedToken,
    TokenTooLarge,
    UnsupportedCritical,
)
from joselab.keys import KeyBinding, demo_key
from joselab.serialization import MAX_RECIPIENTS, MAX_SIGNATURES, decrypt_json_jwe, verify_json_jws

HMAC = demo_key("rfc7520-hmac").jwk
RSA = demo_key("rfc7515-a2-rsa")
PAYLOAD = b'{"amount":"10.00"}'
P64 = b64url_encode(PAYLOAD)


def signature(protected: dict | None, header: dict | None, key=HMAC, alg="HS256", payload_segment: bytes = P64.encode()) -> dict:
    """One entry of "signatures", with a real signature over its protected header and the payload."""
    entry: dict = {}
    prot = b64json(protected) if protected is not None else ""
    if protected is not None:
        entry["protected"] = prot
    if header is not None:
        entry["header"] = header
    entry["signature"] = sign_raw(prot.encode() + b"." + payload_segment, key, alg)
    return entry


def flattened(protected=None, header=None, **kw) -> dict:
    return {"payload": P64, **signature(protected, header, **kw)}


def rejected(doc, error, keys=None, algorithms=("HS256",), **kw):
    trace = Trace("t")
    with pytest.raises(error) as info:
        verify_json_jws(trace, doc, keys or keyset(HMAC), algorithms, **kw)
    assert not trace.checks[-1].passed and trace.checks[-1].section == info.value.section
    return info.value


def test_flattened_and_general_verify():
    flat = flattened({"alg": "HS256", "kid": HMAC["kid"]}, None)
    assert verify_json_jws(Trace("t"), flat, keyset(HMAC), ["HS256"]) == PAYLOAD
    assert verify_json_jws(Trace("t"), json.dumps(flat), keyset(HMAC), ["HS256"]) == PAYLOAD
    general = {"payload": P64, "signatures": [signature({"alg": "HS256"}, {"kid": HMAC["kid"]})]}
    trace = Trace("t")
    assert verify_json_jws(trace, json.dumps(general).encode(), keyset(HMAC), ["HS256"]) == PAYLOAD
    assert trace.checks[0].evidence == "1 signature" and trace.ok


def test_every_signature_must_verify():
    rsa_sig = signature({"alg": "RS256", "kid": RSA.kid}, None, key=RSA.jwk, alg="RS256")
    good = {"payload": P64, "signatures": [signature({"alg": "HS256", "kid": HMAC["kid"]}, None), rsa_sig]}
    trusted = keyset(HMAC, RSA.public())
    # A secret beside a public key is refused unless the verifier says it means it (joselab policy).
    with pytest.raises(KeyNotFound, match="secret"):
        verify_json_jws(Trace("t"), good, trusted, ["HS256", "RS256"])
    mixed = KeyBinding(allow_secret_with_public=True)
    trace = Trace("t")
    assert verify_json_jws(trace, good, trusted, ["HS256", "RS256"], binding=mixed) == PAYLOAD
    assert any(c.name.startswith("signature 2: RS256 signature verifies") for c in trace)
    # one signature by a key the verifier does not trust: rejected, not skipped
    exc = rejected(good, KeyNotFound, keys=keyset(HMAC), algorithms=["HS256", "RS256"])
    assert RSA.kid in exc.evidence
    # one bad signature among good ones
    bad = {**rsa_sig, "signature": b64url_encode(b"\x00" * 256)}
    with pytest.raises(InvalidSignature):
        verify_json_jws(
            Trace("t"), {"payload": P64, "signatures": [good["signatures"][0], bad]}, trusted, ["HS256", "RS256"], binding=mixed
        )


@pytest.mark.parametrize(
    "doc",
    [
        [1],
        "not json",
        '{"payload":"e30","payload":"e30","signature":"AA"}',
        {"payload": P64},
        {"payload": P64, "signatures": []},
        {"payload": P64, "signatures": {}},
        {"payload": P64, "signatures": ["x"]},
        {"payload": P64, "signatures": [{"signature": "AA"}] * (MAX_SIGNATURES + 1)},
        {"payload": P64, "signature": "AA", "signatures": [{"protected": b64json({"alg": "HS256"}), "signature": "AA"}]},
        {"payload": 1, "protected": b64json({"alg": "HS256"}), "signature": "AA"},
        {"protected": b64json({"alg": "HS256"}), "signature": "AA"},
        {"payload": P64, "signature": "AA"},
        {"payload": P64, "protected": 1, "signature": "AA"},
        {"payload": P64, "protected": b64json([1]), "signature": "AA"},
        {"payload": P64, "protected": b64json({"alg": "HS256"}) + "=", "signature": "AA"},
        {"payload": P64, "header": [], "signature": "AA"},
        {"payload": P64, "protected": b64json({"alg": "HS256"}), "signature": 1},
        {"payload": P64, "protected": b64json({"alg": "HS256"}), "signature": "AA="},
        {"payload": P64 + "=", "protected": b64json({"alg": "HS256"}), "signature": "AA"},
        None,
    ],
    ids=[
        "array", "not-json", "duplicate-member", "no-signature", "empty-signatures", "signatures-object",
        "signature-not-object", "too-many", "both-syntaxes", "payload-number", "payload-absent", "no-alg-anywhere",
        "protected-number", "protected-array", "protected-padding", "header-array", "signature-number",
        "signature-padding", "payload-padding", "none",
    ],
)  # fmt: skip
def test_malformed_documents(doc):
    rejected(doc, MalformedToken)


def test_text_over_the_cap():
    rejected(json.dumps(flattened({"alg": "HS256"}, None)), TokenTooLarge, max_length=50)


def test_lone_surrogate_text_is_not_utf8():
    exc = rejected('{"payload":"\ud800"}', MalformedToken)
    assert exc.section == "RFC 8725 §3.7"


def test_protected_and_unprotected_names_must_be_disjoint():
    """RFC 7515 §7.2.1: an unprotected kid must not shadow the protected one."""
    doc = flattened({"alg": "HS256", "kid": HMAC["kid"]}, {"kid": "attacker"})
    exc = rejected(doc, InvalidHeader)
    assert exc.section == "RFC 7515 §7.2.1" and "'kid'" in exc.evidence


def test_crit_in_unprotected_header_rejected():
    doc = flattened({"alg": "HS256", "exp": 1}, {"crit": ["exp"]})
    exc = rejected(doc, UnsupportedCritical, understood_crit=["exp"])
    assert exc.section == "RFC 7515 §4.1.11" and "unprotected" in exc.evidence


def test_crit_in_protected_header_checked_against_the_union():
    ok = flattened({"alg": "HS256", "crit": ["exp"]}, {"exp": 1})
    assert verify_json_jws(Trace("t"), ok, keyset(HMAC), ["HS256"], understood_crit=["exp"]) == PAYLOAD
    rejected(ok, UnsupportedCritical)  # exp not understood
    rejected(flattened({"alg": "HS256", "crit": ["exp"]}, None), UnsupportedCritical, understood_crit=["exp"])  # absent


def test_b64_must_be_protected():
    doc = flattened({"alg": "HS256", "crit": ["b64"]}, {"b64": False}, payload_segment=PAYLOAD)
    doc["payload"] = PAYLOAD.decode()
    exc = rejected(doc, InvalidHeader, understood_crit=["b64"])
    assert exc.section == "RFC 7797 §3"


def test_unencoded_payload_json():
    protected = {"alg": "HS256", "b64": False, "crit": ["b64"]}
    doc = {"payload": "$.02", **signature(protected, None, payload_segment=b"$.02")}
    assert verify_json_jws(Trace("t"), doc, keyset(HMAC), ["HS256"], understood_crit=["b64"]) == b"$.02"
    rejected(doc, UnsupportedCritical)  # b64 not understood by this verifier


def test_b64_must_be_the_same_for_every_signature():
    unencoded = signature({"alg": "HS256", "b64": False, "crit": ["b64"]}, None, payload_segment=b"$.02")
    encoded = signature({"alg": "HS256"}, None, payload_segment=b64url_encode(b"$.02").encode())
    exc = rejected({"payload": "$.02", "signatures": [unencoded, encoded]}, InvalidHeader, understood_crit=["b64"])
    assert exc.section == "RFC 7797 §3" and exc.check == "b64 the same for every signature"


def test_detached_payload():
    doc = signature({"alg": "HS256"}, None)
    assert verify_json_jws(Trace("t"), doc, keyset(HMAC), ["HS256"], detached_payload=PAYLOAD) == PAYLOAD
    rejected(doc, InvalidSignature, detached_payload=b'{"amount":"99.00"}')
    exc = rejected({"payload": P64, **doc}, MalformedToken, detached_payload=PAYLOAD)
    assert exc.section == "RFC 7515 Appendix F"


def test_shared_checks_apply_per_signature():
    rejected(flattened({"alg": "HS256"}, None), AlgorithmNotAllowed, algorithms=["RS256"])
    rejected(flattened(None, {"alg": "none"}), AlgorithmNotAllowed)
    attacker = jwk.JWK.generate(kty="oct", size=256)
    exc = rejected(flattened({"alg": "HS256"}, {"jwk": attacker.export(as_dict=True)}, key=attacker), EmbeddedKeyRejected)
    assert exc.section == "RFC 8725 §3.10"
    rejected(flattened({"alg": "HS256", "kid": "unknown"}, None), KeyNotFound)
    tampered = {**flattened({"alg": "HS256"}, None), "payload": b64url_encode(b"{}")}
    rejected(tampered, InvalidSignature)


# -- JWE -------------------------------------------------------------------------------------------
KW = jwk.JWK(kty="oct", k=b64url_encode(b"k" * 16), kid="kw-1")
KW2 = jwk.JWK(kty="oct", k=b64url_encode(b"j" * 16), kid="kw-2")


def jwe_json(*recipients, protected=None, unprotected=None, aad=None, plaintext=b"secret") -> dict:
    token = jwe.JWE(
        plaintext,
        protected=json.dumps(protected or {"enc": "A128GCM"}),
        unprotected=json.dumps(unprotected) if unprotected else None,
        aad=aad,
    )
    for key, header in recipients:
        token.add_recipient(key, header=json.dumps(header))
    doc = json.loads(token.serialize())
    if "recipients" not in doc:  # jwcrypto flattens a single recipient: put it back in general form
        doc["recipients"] = [{k: doc.pop(k) for k in ("header", "encrypted_key") if k in doc}]
    return doc


def jwe_rejected(doc, error, key=KW, algs=("A128KW",), encs=("A128GCM",), **kw):
    trace = Trace("t")
    with pytest.raises(error) as info:
        decrypt_json_jwe(trace, doc, key, algs, encs, **kw)
    assert not trace.checks[-1].passed and trace.checks[-1].section == info.value.section
    return info.value


def test_jwe_general_picks_this_keys_recipient():
    doc = jwe_json((KW, {"alg": "A128KW", "kid": "kw-1"}), (KW2, {"alg": "A128KW", "kid": "kw-2"}), aad=b"context")
    for key in (KW, KW2):
        trace = Trace("t")
        assert decrypt_json_jwe(trace, doc, key, ["A128KW"], ["A128GCM"]) == b"secret"
        assert f"kid = {key['kid']!r}" in [c.evidence for c in trace]
    jwe_rejected(doc, KeyNotFound, key=jwk.JWK(kty="oct", k=b64url_encode(b"x" * 16), kid="other"))


def test_jwe_flattened_and_aad_is_authenticated():
    doc = jwe_json((KW, {"alg": "A128KW", "kid": "kw-1"}), aad=b"context")
    flat = {k: v for k, v in doc.items() if k != "recipients"} | doc["recipients"][0]
    assert decrypt_json_jwe(Trace("t"), json.dumps(flat), KW, ["A128KW"], ["A128GCM"]) == b"secret"
    jwe_rejected({**flat, "aad": b64url_encode(b"other context")}, DecryptionFailed)


def test_jwe_names_must_be_disjoint_in_three_locations():
    doc = jwe_json((KW, {"alg": "A128KW", "kid": "kw-1"}), unprotected={"cty": "text/plain"})
    doc["recipients"][0]["header"]["cty"] = "JWT"
    exc = jwe_rejected(doc, InvalidHeader)
    assert exc.section == "RFC 7516 §7.2.1" and "'cty'" in exc.evidence


def test_jwe_crit_in_unprotected_rejected():
    doc = jwe_json((KW, {"alg": "A128KW", "kid": "kw-1"}), unprotected={"crit": ["exp"], "exp": 1})
    assert jwe_rejected(doc, UnsupportedCritical, understood_crit=["exp"]).section == "RFC 7516 §4.1.13"


def test_jwe_shared_header_checks():
    doc = jwe_json((KW, {"alg": "A128KW", "kid": "kw-1"}))
    jwe_rejected(doc, AlgorithmNotAllowed, algs=["RSA-OAEP-256"])
    jwe_rejected(doc, AlgorithmNotAllowed, encs=["A256GCM"])
    zipped = dict(doc, unprotected={"zip": "DEF"})
    assert jwe_rejected(zipped, InvalidHeader).section == "RFC 8725 §3.6"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: [1],
        lambda d: {**d, "recipients": []},
        lambda d: {**d, "recipients": ["x"]},
        lambda d: {**d, "recipients": d["recipients"] * (MAX_RECIPIENTS + 1)},
        lambda d: {**d, "encrypted_key": "AA"},
        lambda d: {k: v for k, v in d.items() if k != "ciphertext"},
        lambda d: {**d, "iv": 1},
        lambda d: {**d, "tag": "AA="},
        lambda d: {**d, "unprotected": []},
        lambda d: {**d, "recipients": [{"header": 1}]},
        lambda d: {**d, "recipients": [{"encrypted_key": 1}]},
        lambda d: {**d, "protected": 1},
    ],
    ids=[
        "array",
        "no-recipients",
        "recipient-not-object",
        "too-many",
        "both-syntaxes",
        "no-ciphertext",
        "iv-number",
        "tag-padding",
        "unprotected-array",
        "header-number",
        "encrypted-key-number",
        "protected-number",
    ],
)
def test_jwe_malformed(mutate):
    doc = jwe_json((KW, {"alg": "A128KW", "kid": "kw-1"}))
    jwe_rejected(mutate(doc), MalformedToken)


def test_jwe_duplicate_kid_recipients_refused():
    doc = jwe_json((KW, {"alg": "A128KW", "kid": "kw-1"}))
    doc["recipients"] = doc["recipients"] * 2
    assert "2 recipients" in jwe_rejected(doc, KeyNotFound).evidence


def test_jwe_wrong_key_fails_decryption():
    doc = jwe_json((KW, {"alg": "A128KW"}))
    jwe_rejected(doc, DecryptionFailed, key=jwk.JWK(kty="oct", k=b64url_encode(b"z" * 16)))
