"""RFC 9421 HTTP Message Signatures and RFC 9530 Content-Digest (joselab.message.httpsig).

* The library (http-message-signatures, pinned) and joselab's verifier both verify RFC 9421
  Appendix B.2's examples with the keys of Appendix B.1, and re-create the signature bases the RFC
  prints; Content-Digest matches RFC 9530's own sample values.
* Every row of :class:`HttpSigVerifier` fails once, with its own error type.
* Over real HTTP (chapter 4's demo): what each scheme catches when a hop changes the method, the
  path, a header that is not covered, or the body.
* Fuzz: arbitrary Signature / Signature-Input / Content-Digest values raise only joselab's errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk

from joselab import DEMO_EPOCH, DemoIds, FixedClock, demo_key
from joselab import errors as E
from joselab.errors import JoselabError
from joselab.message import (
    CONSENTS_PATH,
    PAYMENTS_PATH,
    SIGNED_CONSENTS_PATH,
    SIGNED_PAYMENTS_PATH,
    HttpSigSigner,
    HttpSigVerifier,
    build_demo,
    content_digest,
)
from joselab.message.httpsig import MAX_FIELD_BYTES, Verified, _Headers, _Message

# -- RFC 9421 Appendix B.1: the example keys (public halves), B.2: the test request ----------------
RSA_PSS_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----"""
ED25519_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----"""
TEST_URI = "https://example.com/foo?param=Value&Pet=dog"
TEST_BODY = b'{"hello": "world"}'
SHA512_HELLO = "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew=="
TEST_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": f"sha-512=:{SHA512_HELLO}:",
    "Content-Length": "18",
}
CREATED = 1618884473
SIG_B21 = (
    "d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG"
    "52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVr"
    "ogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q=="
)
SIG_B22 = (
    "LjbtqUbfmvjj5C5kr1Ugj4PmLYvx9wVjZvD9GsTT4F7GrcQEdJzgI9qHxICagShLRiLMlAJjtq6N4CDfKtjvuJyE5qH7KT8UCMkSowOB4+ECxCmT"
    "8rtAmj/0PIXxi0A0nxKyB09RNrCQibbUjsLS/2YyFYXEu4TRJQzRw1rLEuEfY17SARYhpTlaqwZVtR8NV7+4UKkjqpcAoFqWFQh62s7Cl+H2fjB"
    "SpqfZUJcsIk4N6wiKYd4je2U/lankenQ99PZfB4jY3I5rSV2DSBVkSFsURIjYErOs0tFTQosMTAoxk//0RoKUqiYY8Bh0aaUEb0rQl3/XaVe4bXTugEjHSw=="
)
SIG_B23 = (
    "bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+qRpRRU5p2voTp768ZrCUb38K0f"
    "UxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7J"
    "A1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA=="
)
SIG_B26 = "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="

# label, Signature-Input member, signature, algorithm, tag, the base RFC 9421 prints (without its last line)
VECTORS = {
    "B.2.1": (
        "sig-b21",
        '();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
        SIG_B21,
        "rsa-pss-sha512",
        None,
        [],
    ),
    "B.2.2": (
        "sig-b22",
        '("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"',
        SIG_B22,
        "rsa-pss-sha512",
        "header-example",
        ['"@authority": example.com', f'"content-digest": sha-512=:{SHA512_HELLO}:', '"@query-param";name="Pet": dog'],
    ),
    "B.2.3": (
        "sig-b23",
        '("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length")'
        ';created=1618884473;keyid="test-key-rsa-pss"',
        SIG_B23,
        "rsa-pss-sha512",
        None,
        [
            '"date": Tue, 20 Apr 2021 02:07:55 GMT',
            '"@method": POST',
            '"@path": /foo',
            '"@query": ?param=Value&Pet=dog',
            '"@authority": example.com',
            '"content-type": application/json',
            f'"content-digest": sha-512=:{SHA512_HELLO}:',
            '"content-length": 18',
        ],
    ),
    "B.2.6": (
        "sig-b26",
        '("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
        SIG_B26,
        "ed25519",
        None,
        [
            '"date": Tue, 20 Apr 2021 02:07:55 GMT',
            '"@method": POST',
            '"@path": /foo',
            '"@authority": example.com',
            '"content-type": application/json',
            '"content-length": 18',
        ],
    ),
}


def _public_jwk(pem: bytes, kid: str) -> jwk.JWK:
    public = jwk.JWK.from_pem(pem).export_public(as_dict=True)
    return jwk.JWK(**{**public, "kid": kid})


RFC_KEYS = jwk.JWKSet()
RFC_KEYS.add(_public_jwk(RSA_PSS_PUBLIC, "test-key-rsa-pss"))
RFC_KEYS.add(_public_jwk(ED25519_PUBLIC, "test-key-ed25519"))


def _vector_headers(label: str, member: str, signature: str) -> dict[str, str]:
    return {**TEST_HEADERS, "Signature-Input": f"{label}={member}", "Signature": f"{label}=:{signature}:"}


@dataclass
class _Request:
    method: str
    url: str
    headers: _Headers


class _PemKeys(HTTPSignatureKeyResolver):
    def resolve_public_key(self, key_id: str):
        return load_pem_public_key({"test-key-rsa-pss": RSA_PSS_PUBLIC, "test-key-ed25519": ED25519_PUBLIC}[key_id])


class _AnyTime(HTTPMessageVerifier):
    """The library's verifier, without its wall-clock window: the examples were made in 2021."""

    def validate_created_and_expires(self, sig_input, max_age=None):
        return None


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_the_library_verifies_rfc_9421_appendix_b2(name):
    label, member, signature, alg, tag, base = VECTORS[name]
    verifier = _AnyTime(
        signature_algorithm=algorithms.ED25519 if alg == "ed25519" else algorithms.RSA_PSS_SHA512, key_resolver=_PemKeys()
    )
    request = _Request("POST", TEST_URI, _Headers(_vector_headers(label, member, signature)))
    (result,) = verifier.verify(request, max_age=None, expect_tag=tag)
    assert result.label == label
    lines = [f"{k}: {v}" for k, v in result.covered_components.items()]
    assert lines == [*base, f'"@signature-params": {member}']


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_joselab_verifies_rfc_9421_appendix_b2_and_recreates_its_base(name):
    label, member, signature, alg, tag, base = VECTORS[name]
    verifier = HttpSigVerifier(
        RFC_KEYS,
        FixedClock(CREATED),
        label=label,
        tag=tag,
        algorithm=alg,
        required=(),
        required_when_present=(),
        require_digest_with_body=False,
    )
    trace = verifier.verify("POST", TEST_URI, _vector_headers(label, member, signature), TEST_BODY, strict=True)
    assert isinstance(trace.result, Verified)
    assert trace.result.signature_base.split("\n") == [*base, f'"@signature-params": {member}']
    if "content-digest" in member:  # B.2.2, B.2.3: the sha-512 digest is checked against the body too
        assert trace.checks[-1].name == "Content-Digest matches the received body" and trace.checks[-1].passed
    one_bit = signature[:10] + ("B" if signature[10] != "B" else "C") + signature[11:]
    refused = verifier.verify("POST", TEST_URI, _vector_headers(label, member, one_bit), TEST_BODY)
    assert isinstance(refused.error, E.InvalidSignature)


def test_rfc_9421_test_request_digest_is_rfc_9530_sha_512():
    assert content_digest(TEST_BODY, "sha-512") == TEST_HEADERS["Content-Digest"]


def test_content_digest_matches_rfc_9530_sample_values():
    # RFC 9530 Appendix D, over the JSON object {"hello": "world"}
    assert content_digest(TEST_BODY) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    assert content_digest(TEST_BODY, "sha-512") == f"sha-512=:{SHA512_HELLO}:"
    # RFC 9530 §2's example field is the SHA-512 of the same object followed by a newline
    assert content_digest(TEST_BODY + b"\n", "sha-512") == (
        "sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:"
    )
    with pytest.raises(JoselabError):
        content_digest(TEST_BODY, "md5")  # Deprecated (RFC 9530 §5): joselab computes only Active ones


# -- joselab's signer and verifier: the demo's client key -----------------------------------------
HTTPSIG_KEY = demo_key("rfc9421-b12-rsa-pss")  # the client's RFC 9421 key (cast.CLIENT_HTTPSIG_KEY)
URI = "https://api.bank.example/payments/v1/payment-consents"
BODY = b'{"Data":{"Initiation":{"InstructedAmount":{"Amount":"165.88","Currency":"GBP"}}},"Risk":{}}'
CLOCK = FixedClock(DEMO_EPOCH)


def _keys(*extra: jwk.JWK) -> jwk.JWKSet:
    keys = jwk.JWKSet()
    keys.add(jwk.JWK(**HTTPSIG_KEY.jwk.export_public(as_dict=True)))
    for key in extra:
        keys.add(key)
    return keys


def _signed(signer: HttpSigSigner | None = None, headers: dict | None = None, body: bytes = BODY, **sign) -> dict[str, str]:
    fields = {"Content-Type": "application/json", **(headers or {})}
    return {**fields, **(signer or HttpSigSigner(HTTPSIG_KEY, CLOCK)).sign("POST", URI, fields, body, **sign)}


def _verify(headers, *, method="POST", uri=URI, body=BODY, verifier=None, **options):
    verifier = verifier or HttpSigVerifier(_keys(), options.pop("clock", CLOCK), **options)
    return verifier.verify(method, uri, headers, body)


def test_a_signed_request_verifies_and_hands_back_what_was_covered():
    headers = _signed()
    assert headers["Content-Digest"] == content_digest(BODY)
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-type" "content-digest");created=1767225600'
        ';keyid="test-key-rsa-pss";expires=1767225660;tag="fapi-2-request"'
    )
    trace = _verify(headers)
    assert trace.ok, trace.table()
    result = trace.result
    assert result.components == ('"@method"', '"@target-uri"', '"content-type"', '"content-digest"')
    assert result.signature_base.split("\n")[:2] == ['"@method": POST', f'"@target-uri": {URI}']
    assert [c.section for c in trace.checks][-3:] == ["RFC 9530 §2", "RFC 9530 §5", "RFC 9530 §2; RFC 9421 §7.2.8"]


def test_authorization_and_dpop_are_covered_when_sent():
    headers = _signed(headers={"Authorization": "DPoP abc", "DPoP": "eyJ.proof.sig"})
    assert '"authorization" "dpop");' in headers["Signature-Input"]
    assert _verify(headers).ok
    refused = _verify({**_signed(headers={"Authorization": "DPoP abc"}), "DPoP": "eyJ.proof.sig"})
    assert isinstance(refused.error, E.InsufficientCoverage) and "dpop" in refused.error.evidence


def _forge(headers: dict[str, str], member: str, *, label: str = "sig1", method: str = "POST", uri: str = URI) -> dict[str, str]:
    """Sign whatever ``member`` says, as a signer that follows RFC 9421 §2.5 but not joselab's policy
    would: the base from joselab's own base builder, signed with the client's key."""
    import http_sf

    from joselab.message.httpsig import _serialise_id
    from joselab.trace import Trace

    parsed = http_sf.parse(f"{label}={member}".encode(), tltype="dictionary")[label]
    components = [(str(n), dict(p)) for n, p in parsed[0]]
    base = HttpSigVerifier._signature_base(
        Trace("forge"), method, uri, list(headers.items()), components, [_serialise_id(n, p) for n, p in components],
        f"{label}={member}", label,
    )  # fmt: skip
    import base64

    private = HTTPSIG_KEY.jwk.get_op_key("sign")
    signature = private.sign(base.encode(), padding.PSS(padding.MGF1(hashes.SHA512()), 64), hashes.SHA512())
    return {**headers, "Signature-Input": f"{label}={member}", "Signature": f"{label}=:{base64.b64encode(signature).decode()}:"}


KID = '"test-key-rsa-pss"'
COVER = '("@method" "@target-uri" "content-type" "content-digest")'


def _member(params: str = "", cover: str = COVER) -> str:
    return f'{cover};created={DEMO_EPOCH};keyid={KID};tag="fapi-2-request"{params}'


def _with(**fields) -> dict[str, str]:
    headers = _signed()
    for name, value in fields.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name.title() if name != "signature-input" else "Signature-Input", None)
        else:
            headers[
                {"signature-input": "Signature-Input", "signature": "Signature", "content-digest": "Content-Digest"}[name]
            ] = value
    return headers


# Each row of the verifier, made to fail once: (what, headers, verify options, error type, the row's section)
BASE_FIELDS = {"Content-Type": "application/json", "Content-Digest": content_digest(BODY)}


def _cases():
    ps256_jwk = jwk.JWK(**{**HTTPSIG_KEY.jwk.export_public(as_dict=True), "alg": "PS256"})
    ec_jwk = jwk.JWK(**{**demo_key("rfc7515-a3-p256").jwk.export_public(as_dict=True), "kid": HTTPSIG_KEY.kid})
    return [
        ("fields over the cap", _with(signature_input="sig1=" + "a" * MAX_FIELD_BYTES), {}, E.TokenTooLarge, "joselab policy; RFC 9421 §4.1 sets no bound"),
        ("no Signature-Input", _with(signature_input=None), {}, E.MissingSignature, "RFC 9421 §4.1"),
        ("no Signature", _with(signature=None), {}, E.MissingSignature, "RFC 9421 §4.2"),
        ("Signature-Input not a Dictionary", _with(signature_input='sig1=("@method"'), {}, E.MalformedSignatureField, "RFC 9421 §4.1; RFC 8941 §3.2"),
        ("a label twice", _with(signature_input=f"sig1={_member()}, sig1={_member()}"), {}, E.MalformedSignatureField, "RFC 9421 §4.1; RFC 8941 §3.2"),
        ("Signature not a Dictionary", _with(signature="sig1=:not base64!:"), {}, E.MalformedSignatureField, "RFC 9421 §4.2; RFC 8941 §3.2"),
        ("label renamed", _with(signature_input=f"other={_member()}"), {}, E.SignatureLabelMissing, "RFC 9421 §3.2 (1), §4"),
        ("a label in one field only", {**_signed(), "Signature": _signed()["Signature"] + ", extra=:AAAA:"}, {}, E.SignatureLabelMissing, "RFC 9421 §3.2 (1), §4"),
        ("Signature-Input member not an Inner List", _with(signature_input="sig1=:AAAA:"), {}, E.MalformedSignatureField, "RFC 9421 §3.2 (2), §4.1"),
        ("a component that is a Token", _with(signature_input=f"sig1=(content-type);created={DEMO_EPOCH}"), {}, E.MalformedSignatureField, "RFC 9421 §3.2 (2), §4.1"),
        ("Signature member not a Byte Sequence", _with(signature='sig1="abc"'), {}, E.MalformedSignatureField, "RFC 9421 §3.2 (3), §4.2"),
        ("uppercase component", _with(signature_input="sig1=" + _member(cover='("@Method")')), {}, E.InvalidCoveredComponents, "RFC 9421 §2, §2.3"),
        ("a component twice", _with(signature_input="sig1=" + _member(cover='("@method" "@method")')), {}, E.InvalidCoveredComponents, "RFC 9421 §2, §2.3"),
        ("@signature-params covered", _with(signature_input="sig1=" + _member(cover='("@signature-params")')), {}, E.InvalidCoveredComponents, "RFC 9421 §2, §2.3"),
        ("an unknown parameter", _with(signature_input="sig1=" + _member(";debug=?1")), {}, E.InvalidSignatureParameter, "RFC 9421 §2.3"),
        ("created a String", _with(signature_input=f'sig1={COVER};created="{DEMO_EPOCH}";keyid={KID}'), {}, E.InvalidSignatureParameter, "RFC 9421 §2.3"),
        ("@target-uri not covered", _signed(covered=["@method", "content-type", "content-digest"]), {}, E.InsufficientCoverage, "RFC 9421 §3.2 (4); joselab policy; RFC 9421 §3.2.1 leaves the list to the application"),
        ("content-digest not covered", _signed(covered=["@method", "@target-uri", "content-type"]), {}, E.InsufficientCoverage, "RFC 9421 §3.2 (4); joselab policy; RFC 9421 §3.2.1 leaves the list to the application"),
        ("authorization sent, not covered", {**_signed(), "Authorization": "Bearer abc"}, {}, E.InsufficientCoverage, "RFC 9421 §3.2 (4); joselab policy; RFC 9421 §3.2.1 leaves the list to the application"),
        ("another tag", _signed(HttpSigSigner(HTTPSIG_KEY, CLOCK, tag="other-app")), {}, E.SignatureTagMismatch, "RFC 9421 §2.3, §7.2.7; FAPI 2.0 Http Signatures"),
        ("no created", _with(signature_input=f'sig1={COVER};keyid={KID};tag="fapi-2-request"'), {}, E.SignatureCreatedInvalid, "RFC 9421 §2.3, §3.2.1"),
        ("created in the future", _signed(), {"clock": FixedClock(DEMO_EPOCH - 30)}, E.SignatureCreatedInvalid, "joselab policy; RFC 9421 §3.2.1 sets no window"),
        ("created too long ago", _signed(HttpSigSigner(HTTPSIG_KEY, CLOCK, lifetime=None)), {"clock": FixedClock(DEMO_EPOCH + 120)}, E.SignatureCreatedInvalid, "joselab policy; RFC 9421 §3.2.1 sets no window"),
        ("expired", _signed(), {"clock": FixedClock(DEMO_EPOCH + 120), "max_age": None}, E.SignatureExpired, "RFC 9421 §2.3, §3.2.1"),
        ("keyid unknown", _signed(HttpSigSigner(HTTPSIG_KEY, CLOCK, keyid="someone-else")), {}, E.KeyNotFound, "RFC 9421 §3.2 (5)"),
        ("no keyid", _with(signature_input=f'sig1={COVER};created={DEMO_EPOCH};tag="fapi-2-request"'), {}, E.KeyNotFound, "RFC 9421 §3.2 (5)"),
        ("alg says another algorithm", _with(signature_input="sig1=" + _member(';alg="ed25519"')), {}, E.AlgorithmNotAllowed, "RFC 9421 §3.2 (6), §3.3.1"),
        ("the JWK names PS256", _signed(), {"verifier": HttpSigVerifier(_ps256(ps256_jwk), CLOCK)}, E.AlgorithmNotAllowed, "RFC 9421 §3.2 (6), §3.3.1"),
        ("an EC key under the kid", _signed(), {"verifier": HttpSigVerifier(_ps256(ec_jwk), CLOCK)}, E.AlgorithmNotAllowed, "RFC 9421 §3.2 (6), §3.3.1"),
        ("a covered field removed", _drop(_signed(headers={"X-Request-Id": "r-1"}, covered=["@method", "@target-uri", "content-type", "content-digest", "x-request-id"]), "X-Request-Id"), {}, E.SignatureBaseError, "RFC 9421 §2.5, §3.2 (7)"),
        ("the signature of another request", {**_signed(), "Signature": _signed(body=b"{}")["Signature"]}, {}, E.InvalidSignature, "RFC 9421 §3.2 (8), §3.3.1"),
        ("Content-Digest not a Dictionary of Byte Sequences", _forge({**BASE_FIELDS, "Content-Digest": "sha-256=abc"}, _member()), {}, E.MalformedContentDigest, "RFC 9530 §2"),
        ("Content-Digest only md5", _forge({**BASE_FIELDS, "Content-Digest": "md5=:Sd/dVLAcvNLSq16eXua5uQ==:"}, _member()), {}, E.UnsupportedDigestAlgorithm, "RFC 9530 §5"),
        ("Content-Digest of another body", _forge({**BASE_FIELDS, "Content-Digest": content_digest(b"{}")}, _member()), {}, E.ContentDigestMismatch, "RFC 9530 §2; RFC 9421 §7.2.8"),
    ]  # fmt: skip


def _ps256(key: jwk.JWK) -> jwk.JWKSet:
    keys = jwk.JWKSet()
    keys.add(key)
    return keys


def _drop(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


CASES = _cases()


@pytest.mark.parametrize("what, headers, options, error, section", CASES, ids=[c[0] for c in CASES])
def test_every_row_fails_once(what, headers, options, error, section):
    trace = _verify(headers, **options)
    assert type(trace.error) is error, trace.table()
    assert trace.failed.section == section
    assert trace.checks[-1] is trace.failed  # the first failure ends the run
    with pytest.raises(error):
        trace.raise_for_failure()


def test_every_row_is_made_to_fail():
    rows = {c.section + " | " + c.name for c in _verify(_signed()).checks}
    failed = {c[4] for c in CASES}
    sections = {r.split(" | ")[0] for r in rows}
    assert sections <= failed, sections - failed
    assert len({c[3] for c in CASES}) >= 15  # one error type per failure


def test_a_forged_base_with_joselab_policy_passes():
    """The forging helper above signs what RFC 9421 §2.5 says: its own requests verify."""
    assert _verify(_forge(dict(BASE_FIELDS), _member())).ok


def test_other_digest_members_are_ignored_but_every_accepted_one_must_match():
    good = content_digest(BODY)
    with_md5 = _forge({**BASE_FIELDS, "Content-Digest": f"{good}, md5=:Sd/dVLAcvNLSq16eXua5uQ==:"}, _member())
    assert _verify(with_md5).ok  # RFC 9530 §2: a recipient MAY ignore digests
    wrong_512 = _forge({**BASE_FIELDS, "Content-Digest": f"{good}, {content_digest(b'{}', 'sha-512')}"}, _member())
    assert isinstance(_verify(wrong_512).error, E.ContentDigestMismatch)


def test_the_verifier_never_takes_the_algorithm_from_the_message():
    ed = HttpSigVerifier(
        RFC_KEYS, FixedClock(CREATED), label="sig-b26", tag=None, algorithm="ed25519", required=(), required_when_present=(),
        require_digest_with_body=False,
    )  # fmt: skip
    _, member, signature, *_ = VECTORS["B.2.1"]  # an rsa-pss-sha512 signature, to an ed25519 verifier
    trace = ed.verify("POST", TEST_URI, _vector_headers("sig-b26", member, signature), TEST_BODY)
    assert isinstance(trace.error, E.AlgorithmNotAllowed)


def test_untrusted_headers_raise_only_joselab_errors_when_strict():
    with pytest.raises(E.MalformedSignatureField):
        HttpSigVerifier(_keys(), CLOCK).verify("POST", URI, _with(signature_input="((("), BODY, strict=True)


# -- over real HTTP: what each scheme covers ---------------------------------------------------------
PAYMENT = {"Data": {"Initiation": {"InstructedAmount": {"Amount": "165.88", "Currency": "GBP"}}}, "Risk": {}}
TAMPER = {
    "method": lambda m, p, h, b: ("PUT", p, h, b),
    "path": lambda m, p, h, b: (m, {CONSENTS_PATH: PAYMENTS_PATH, SIGNED_CONSENTS_PATH: SIGNED_PAYMENTS_PATH}[p], h, b),
    "uncovered header": lambda m, p, h, b: (m, p, {**h, "X-Idempotency-Key": "replayed-2"}, b),
    "body": lambda m, p, h, b: (m, p, h, b.replace(b"165.88", b"965.88")),
    "body and its digest": lambda m, p, h, b: (
        m,
        p,
        {**h, "Content-Digest": content_digest(b.replace(b"165.88", b"965.88"))},
        b.replace(b"165.88", b"965.88"),
    ),
}


@pytest.fixture(scope="module")
def demo():
    d = build_demo(FixedClock(DEMO_EPOCH), DemoIds(2026))
    yield d
    d.close()


def test_a_signed_request_is_accepted_over_http(demo):
    answer = demo.signed_client.send(SIGNED_CONSENTS_PATH, PAYMENT, headers={"X-Idempotency-Key": "k-1"})
    assert answer.status == 201 and answer.json()["Data"]["Status"] == "AwaitingAuthorisation"
    trace = demo.api.last_trace
    assert trace.ok and trace.result.keyid == demo_key("rfc9421-b12-rsa-pss").kid


@pytest.mark.parametrize(
    "tamper, jws_status, http_status, http_check",
    [
        ("method", 201, 401, "rsa-pss-sha512 signature verifies over the signature base"),
        ("path", 201, 401, "rsa-pss-sha512 signature verifies over the signature base"),
        ("uncovered header", 201, 201, None),
        ("body", 400, 401, "Content-Digest matches the received body"),
        ("body and its digest", 400, 401, "rsa-pss-sha512 signature verifies over the signature base"),
    ],
)
def test_what_each_scheme_catches_in_flight(demo, tamper, jws_status, http_status, http_check):
    demo.edge.rewrite = TAMPER[tamper]
    try:
        data = json.dumps(PAYMENT, separators=(",", ":")).encode()
        jws = demo.client.send(CONSENTS_PATH, data, demo.client.signer.sign(data), via=demo.edge.server.host)
        signed = demo.signed_client.send(
            SIGNED_CONSENTS_PATH, data, headers={"X-Idempotency-Key": "k-1"}, via=demo.edge.server.host
        )
    finally:
        demo.edge.rewrite = None
    assert jws.status == jws_status
    assert signed.status == http_status
    if http_check is not None:
        assert signed.json()["check"] == http_check
    if tamper == "path":  # the body signed for the consent became a payment
        assert "DomesticPaymentId" in jws.data["Data"]


# -- fuzz: arbitrary field values raise only joselab's errors and are never accepted -------------------
SF_PIECES = [
    "sig1=",
    "(",
    ")",
    '"@method"',
    '"content-digest"',
    ";",
    "created=",
    "1767225600",
    "keyid=",
    '"x"',
    ":",
    "AAAA",
    ",",
    " ",
    "=",
    "?1",
    "@",
    "\\",
    "é",
    "\x00",
    "tag=",
]
field_st = st.one_of(st.text(max_size=60), st.lists(st.sampled_from(SF_PIECES), max_size=25).map("".join))


@settings(max_examples=250, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(field_st, field_st, field_st)
def test_fuzzed_fields_raise_only_joselab_errors(signature_input, signature, digest):
    verifier = HttpSigVerifier(_keys(), CLOCK)
    headers = {
        "Content-Type": "application/json",
        "Signature-Input": signature_input,
        "Signature": signature,
        "Content-Digest": digest,
    }
    trace = verifier.verify("POST", URI, headers, BODY)
    assert not trace.ok
    assert isinstance(trace.error, E.ValidationError) and trace.error.section != "joselab", trace.table()
    with pytest.raises(JoselabError):
        verifier.verify("POST", URI, headers, BODY, strict=True)


@settings(max_examples=100, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(SF_PIECES), max_size=12).map("".join))
def test_fuzzed_members_of_a_real_signature_input(suffix):
    headers = _signed()
    headers["Signature-Input"] = headers["Signature-Input"] + suffix
    trace = HttpSigVerifier(_keys(), CLOCK).verify("POST", URI, headers, BODY)
    assert trace.error is None or trace.error.section != "joselab", trace.table()
    if trace.ok:  # only a suffix that changes nothing signed (e.g. white space) may pass
        assert trace.result.params["keyid"] == HTTPSIG_KEY.kid


def test_message_view_is_what_the_library_reads():
    view = _Message("POST", URI, _Headers({"A": "1"}))
    assert list(view.headers.items()) == [("A", "1")]
