"""joselab.jwe: compact JWE encryption and the shared decryption rows (RFC 7516, RFC 8725 §3.1, §3.6)."""

from __future__ import annotations

import pytest
from joselab_testkit import b64json
from jwcrypto import jwk

from joselab import Trace
from joselab.compact import b64url_encode
from joselab.errors import (
    AlgorithmNotAllowed,
    DecryptionFailed,
    InvalidHeader,
    MalformedToken,
    TokenTooLarge,
    UnexpectedTokenKind,
    UnsupportedCritical,
)
from joselab.jwe import MAX_PBES2_COUNT, check_jwe_header, decrypt_jwe, encrypt_compact, jwcrypto_decrypt
from joselab.jws import sign_compact
from joselab.keys import demo_key

SAMWISE = demo_key("rfc7520-samwise-rsa").jwk
MERIADOC = demo_key("rfc7520-meriadoc-p256").jwk
OAEP = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": SAMWISE["kid"], "cty": "JWT"}


def rejected(token, key, algs, encs, error, **kw):
    trace = Trace("t")
    with pytest.raises(error) as info:
        decrypt_jwe(trace, token, key, algs, encs, **kw)
    assert not trace.checks[-1].passed and trace.checks[-1].section == info.value.section
    return info.value


def test_encrypt_then_decrypt():
    token = encrypt_compact("hello é", SAMWISE, OAEP)
    trace = Trace("t")
    parsed, plaintext = decrypt_jwe(trace, token, SAMWISE, ["RSA-OAEP-256"], ["A256GCM"])
    assert plaintext == "hello é".encode() and trace.ok
    assert list(parsed.header)[:2] == ["alg", "enc"] and parsed.header["cty"] == "JWT"
    assert [c.section for c in trace] == [
        "RFC 7516 §7.1", "RFC 8725 §3.1", "RFC 8725 §3.1", "RFC 8725 §3.6", "RFC 8725 §3.1", "RFC 7516 §5.2"
    ]  # fmt: skip
    assert trace.checks[4].name == "the recipient key is the one for RSA-OAEP-256"


def test_encryption_is_randomized():
    assert encrypt_compact(b"x", SAMWISE, OAEP) != encrypt_compact(b"x", SAMWISE, OAEP)


def test_ecdh_es_round_trip():
    token = encrypt_compact(b"x", MERIADOC, {"alg": "ECDH-ES+A256KW", "enc": "A256GCM"})
    assert decrypt_jwe(Trace("t"), token, MERIADOC, ["ECDH-ES+A256KW"], ["A256GCM"])[1] == b"x"


def test_encrypt_refuses_compression():
    with pytest.raises(InvalidHeader) as info:
        encrypt_compact(b"x", SAMWISE, {**OAEP, "zip": "DEF"})
    assert info.value.section == "RFC 8725 §3.6"


@pytest.mark.parametrize(
    ("algs", "encs"),
    [(["RSA-OAEP"], ["A256GCM"]), (["RSA-OAEP-256"], ["A128GCM"]), ([], [])],
    ids=["alg-not-allowed", "enc-not-allowed", "nothing-allowed"],
)
def test_alg_and_enc_allowlists(algs, encs):
    token = encrypt_compact(b"x", SAMWISE, OAEP)
    assert rejected(token, SAMWISE, algs, encs, AlgorithmNotAllowed).section == "RFC 8725 §3.1"


def test_rsa1_5_not_allowed_unless_listed():
    """RFC 8725 §3.2: RSA1_5 is off unless a caller lists it."""
    header = b64json({"alg": "RSA1_5", "enc": "A128CBC-HS256"})
    token = f"{header}.AAAA.AAAA.AAAA.AAAA"
    rejected(token, SAMWISE, ["RSA-OAEP-256"], ["A128CBC-HS256"], AlgorithmNotAllowed)


@pytest.mark.parametrize("alg", [["RSA-OAEP-256"], {"a": 1}, None, 1], ids=["list", "object", "null", "number"])
def test_alg_of_wrong_type_is_a_row_not_a_type_error(alg):
    token = f"{b64json({'alg': alg, 'enc': 'A256GCM'})}.AAAA.AAAA.AAAA.AAAA"
    rejected(token, SAMWISE, {"RSA-OAEP-256"}, {"A256GCM"}, AlgorithmNotAllowed)
    token = f"{b64json({'alg': 'RSA-OAEP-256', 'enc': alg})}.AAAA.AAAA.AAAA.AAAA"
    rejected(token, SAMWISE, {"RSA-OAEP-256"}, {"A256GCM"}, AlgorithmNotAllowed)


def test_compressed_jwe_rejected_before_decryption():
    header = b64json({"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"})
    exc = rejected(f"{header}.AAAA.AAAA.AAAA.AAAA", SAMWISE, ["RSA-OAEP-256"], ["A256GCM"], InvalidHeader)
    assert exc.section == "RFC 8725 §3.6"


@pytest.mark.parametrize(
    "p2c", [999, MAX_PBES2_COUNT + 1, 10**9, "8192", True, None], ids=["low", "over-cap", "huge", "string", "bool", "absent"]
)
def test_pbes2_count_bounds(p2c):
    """CVE-2023-6681: an attacker-chosen iteration count is unbounded work."""
    header = {"alg": "PBES2-HS256+A128KW", "enc": "A128GCM", "p2s": "AAAAAAAAAAA"}
    if p2c is not None:
        header["p2c"] = p2c
    token = f"{b64json(header)}.AAAA.AAAA.AAAA.AAAA"
    exc = rejected(token, SAMWISE, ["PBES2-HS256+A128KW"], ["A128GCM"], InvalidHeader)
    assert exc.section == "joselab policy; RFC 7518 §4.8.1.2 sets no upper bound"


def test_crit_in_jwe():
    header = b64json({"alg": "RSA-OAEP-256", "enc": "A256GCM", "crit": ["exp"], "exp": 1})
    exc = rejected(f"{header}.AAAA.AAAA.AAAA.AAAA", SAMWISE, ["RSA-OAEP-256"], ["A256GCM"], UnsupportedCritical)
    assert exc.section == "RFC 7516 §4.1.13"


def test_wrong_key_fails_decryption():
    token = encrypt_compact(b"x", SAMWISE, OAEP)
    other = jwk.JWK.generate(kty="RSA", size=2048)
    assert rejected(token, other, ["RSA-OAEP-256"], ["A256GCM"], DecryptionFailed).section == "RFC 7516 §5.2"


def test_tampered_ciphertext_fails_decryption():
    parts = encrypt_compact(b"hello world", SAMWISE, OAEP).split(".")
    parts[3] = b64url_encode(b"\x00" * 11)
    rejected(".".join(parts), SAMWISE, ["RSA-OAEP-256"], ["A256GCM"], DecryptionFailed)


def test_section_is_the_callers():
    token = encrypt_compact(b"x", SAMWISE, OAEP)
    trace = Trace("t")
    decrypt_jwe(trace, token, SAMWISE, ["RSA-OAEP-256"], ["A256GCM"], section="OIDC Core §3.1.3.7 (1)")
    assert trace.checks[-1].section == "OIDC Core §3.1.3.7 (1)"


def test_structure_failures():
    jws = sign_compact(b"x", demo_key("rfc7515-a1-hmac").jwk, {"alg": "HS256"})
    rejected(jws, SAMWISE, ["RSA-OAEP-256"], ["A256GCM"], UnexpectedTokenKind)
    rejected("a" * 40_000, SAMWISE, ["RSA-OAEP-256"], ["A256GCM"], TokenTooLarge)
    rejected(f"{b64json([1])}.A.A.A.A", SAMWISE, ["RSA-OAEP-256"], ["A256GCM"], MalformedToken)


def test_check_jwe_header_labels_rows():
    trace = Trace("t")
    check_jwe_header(trace, {"alg": "dir", "enc": "A128GCM"}, ["dir"], ["A128GCM"], label="recipient 2: ")
    assert trace.ok and all(c.name.startswith("recipient 2: ") for c in trace)


def test_jwcrypto_decrypt_reports_failure_as_false():
    token = encrypt_compact(b"x", SAMWISE, OAEP)
    assert jwcrypto_decrypt(token, SAMWISE, "RSA-OAEP-256", "A256GCM") == (True, b"x")
    assert jwcrypto_decrypt(token, SAMWISE, "RSA-OAEP", "A256GCM") == (False, b"")  # alg not allowed there
    assert jwcrypto_decrypt("garbage", SAMWISE, "RSA-OAEP-256", "A256GCM") == (False, b"")
