"""Chapter 8 (joselab.algorithms): the JWE taken apart on RFC 7520's values, the off-curve epk, the
ML-DSA keys against RFC 9964 Appendix A, the names each library accepts, and the header limits of the
real servers."""

from __future__ import annotations

import json
import re
import socket
from binascii import unhexlify
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from joselab import algorithms as algs
from joselab import sections
from joselab.compact import b64url_decode, b64url_encode, parse_jwe
from joselab.errors import InvalidSignature, JoselabError, ValidationError
from joselab.keys import key_fits_alg

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "08_algorithms.ipynb"

# RFC 9964 Appendix A: the all-zero seed's JWK thumbprints (RFC 9964 §6).
RFC9964_KIDS = {
    "ML-DSA-44": "T4xl70S7MT6Zeq6r9V9fPJGVn76wfnXJ21-gyo0Gu6o",
    "ML-DSA-65": "Suiu29qbfuaBaR4Ats-c6XQBePB_OpAxAwcTR_0KXVM",
    "ML-DSA-87": "tRn1JNIkgMsABVQBlXeDHxAIcclh-2IX0UdDEzPt5XU",
}


# -- the shipped vectors are the RFC's ------------------------------------------------------------
@pytest.mark.parametrize(
    ("section", "file"),
    [
        ("5.2", "5_2.key_encryption_using_rsa-oaep_with_aes-gcm.json"),
        ("5.5", "5_5.key_agreement_using_ecdh-es_with_aes-cbc-hmac-sha2.json"),
    ],
)
def test_package_data_is_the_rfc7520_vector(section, file):
    published = json.loads((ROOT / "tests" / "vectors" / "rfc7520" / "jwe" / file).read_text("utf-8"))
    assert algs.rfc7520_vector(section) == published


# -- a JWE by hand ----------------------------------------------------------------------------------
@pytest.mark.parametrize("section", ["5.2", "5.5"])
def test_every_part_recomputed_by_hand_equals_the_rfc(section):
    steps = algs.open_by_hand(section)
    assert [s.part for s in steps if not s.matches] == []
    assert any(s.part.startswith("CEK") for s in steps)
    assert any(s.part.startswith("AAD") for s in steps)
    assert any(s.part.startswith("tag") for s in steps)


def test_rsa_oaep_unwrap_gives_rfc7520_cek():
    vector = algs.rfc7520_vector("5.2")
    parsed = parse_jwe(vector["output"]["compact"])
    cek = algs.unwrap_rsa_oaep(algs.rfc7520_recipient_key("5.2"), parsed.encrypted_key)
    assert b64url_encode(cek) == vector["generated"]["cek"]


def test_aad_is_the_ascii_of_the_encoded_header_and_gcm_checks_it():
    vector = algs.rfc7520_vector("5.2")
    parsed = parse_jwe(vector["output"]["compact"])
    cek = b64url_decode(vector["generated"]["cek"])
    aad = algs.aad_of(parsed.protected_b64)
    assert aad == vector["encrypting_content"]["protected_b64u"].encode("ascii")
    assert AESGCM(cek).decrypt(parsed.iv, parsed.ciphertext + parsed.tag, aad) == vector["input"]["plaintext"].encode()
    # The same bytes under a re-encoded header (the JSON parsed and written again) fail the tag.
    reencoded = b64url_encode(json.dumps(parsed.header).encode()).encode("ascii")
    assert reencoded != aad
    with pytest.raises(InvalidTag):
        AESGCM(cek).decrypt(parsed.iv, parsed.ciphertext + parsed.tag, reencoded)


def test_cbc_hmac_tag_is_rfc7520s_and_covers_the_aad_length():
    vector = algs.rfc7520_vector("5.5")
    parsed = parse_jwe(vector["output"]["compact"])
    cek = b64url_decode(vector["encrypting_key"]["cek"])
    aad = algs.aad_of(parsed.protected_b64)
    assert b64url_encode(algs.cbc_hmac_tag(cek, aad, parsed.iv, parsed.ciphertext)) == vector["encrypting_content"]["tag"]
    assert algs.cbc_hmac_tag(cek, aad[:-1], parsed.iv, parsed.ciphertext) != parsed.tag
    assert algs.cbc_decrypt(cek, parsed.iv, parsed.ciphertext) == vector["input"]["plaintext"].encode()


def test_concat_kdf_with_another_enc_gives_another_key():
    vector = algs.rfc7520_vector("5.5")
    cek = b64url_decode(vector["encrypting_key"]["cek"])
    steps = {s.part: s for s in algs.open_by_hand("5.5")}
    assert steps["CEK: ECDH with epk, then Concat KDF"].matches
    assert algs.concat_kdf(b"\x01" * 32, "A128CBC-HS256", 256) != algs.concat_kdf(b"\x01" * 32, "A256GCM", 256)
    assert len(cek) == 32


@pytest.mark.parametrize("section", ["5.2", "5.5"])
def test_joselab_decrypts_the_rfc7520_jwe(section):
    trace = algs.open_with_joselab(section)
    assert trace.ok
    assert trace.result == algs.rfc7520_vector(section)["input"]["plaintext"]


# -- the off-curve epk ----------------------------------------------------------------------------
def test_published_epk_is_on_the_curve_and_the_moved_one_is_not():
    epk = algs.rfc7520_vector("5.5")["encrypting_content"]["protected"]["epk"]
    assert algs.point_on_curve(epk)[0]
    ok, why = algs.point_on_curve(algs.off_curve_epk())
    assert not ok and "refuses" in why


def test_off_curve_jwe_changes_only_the_epk():
    bad = parse_jwe(algs.off_curve_jwe())
    good = parse_jwe(algs.rfc7520_vector("5.5")["output"]["compact"])
    assert bad.header["epk"]["x"] == good.header["epk"]["x"]
    assert bad.header["epk"]["y"] != good.header["epk"]["y"]
    assert (bad.iv, bad.ciphertext, bad.tag) == (good.iv, good.ciphertext, good.tag)


def test_off_curve_epk_is_refused_with_joselabs_own_error():
    trace = algs.refuse_off_curve()
    assert not trace.ok
    assert isinstance(trace.error, ValidationError)
    assert trace.error.section != "joselab", "a foreign exception was wrapped, not a named check"
    with pytest.raises(JoselabError):
        trace.raise_for_failure()


# -- ML-DSA (RFC 9964) -----------------------------------------------------------------------------
@pytest.mark.parametrize("alg", algs.MLDSA_ALGORITHMS)
def test_mldsa_example_key_is_rfc9964_appendix_a(alg):
    from jwcrypto.tests_mldsa import RFC9964_VECTORS  # RFC 9964 Appendix A, as jwcrypto ships it

    key = algs.mldsa_example_key(alg)
    assert key["kid"] == RFC9964_KIDS[alg] == RFC9964_VECTORS[alg]["kid"]
    assert b64url_decode(key["pub"]) == unhexlify(RFC9964_VECTORS[alg]["raw_public_key"])


@pytest.mark.parametrize("alg", algs.MLDSA_ALGORITHMS)
def test_rfc9964_example_jws_verifies_with_joselab(alg):
    from jwcrypto.tests_mldsa import RFC9964_VECTORS

    trace = algs.verify_with_joselab(RFC9964_VECTORS[alg]["jws"], alg, jwt=False)
    assert trace.ok, str(trace)
    assert trace.result == "It’s a dangerous business, Frodo, going out your door.".encode()


def test_mldsa_signature_tampered_or_truncated_is_refused():
    token = algs.make_tokens("ML-DSA-44")["access token"]
    head, payload, sig = token.split(".")
    raw = bytearray(b64url_decode(sig))
    raw[0] ^= 1
    flipped = algs.verify_with_joselab(f"{head}.{payload}.{b64url_encode(bytes(raw))}", "ML-DSA-44")
    assert isinstance(flipped.error, InvalidSignature)
    short = algs.verify_with_joselab(f"{head}.{payload}.{b64url_encode(bytes(raw[:-1]))}", "ML-DSA-44")
    assert not short.ok and "2420 bytes" in short.failed.name


def test_mldsa_key_fits_only_its_own_parameter_set():
    key = algs.mldsa_example_key("ML-DSA-65")
    assert key_fits_alg(key, "ML-DSA-65")[0]
    assert not key_fits_alg(key, "ML-DSA-44")[0]
    assert not key_fits_alg(algs.signing_key("RS256"), "ML-DSA-44")[0]
    assert not key_fits_alg(key, "Ed25519")[0]


def test_mldsa_example_key_refuses_other_names():
    with pytest.raises(JoselabError):
        algs.mldsa_example_key("ML-DSA-1024")


# -- names, measured -------------------------------------------------------------------------------
def test_name_support_as_the_pinned_libraries_behave():
    results = {(r.library, r.name): r for r in algs.name_support()}
    assert all(results[("jwcrypto", name)].verdict == "signs and verifies" for name in algs.NAMES)
    assert results[("PyJWT", "EdDSA")].sign_error is None
    assert results[("PyJWT", "Ed25519")].sign_error is not None
    assert results[("joserfc", "Ed25519")].sign_error is None
    assert any("deprecated" in w for w in results[("joserfc", "EdDSA")].warnings)
    assert results[("joserfc", "ML-DSA-44")].sign_error is not None


def test_library_errors_never_print_a_key():
    for result in algs.name_support():
        for text in (result.sign_error or "", result.verify_error or ""):
            assert "{" not in text and '"d"' not in text


# -- sizes ------------------------------------------------------------------------------------------
EXPECTED_SIGNATURE = {
    "RS256": 256,
    "PS256": 256,
    "ES256": 64,
    "Ed25519": 64,
    "ML-DSA-44": 2420,
    "ML-DSA-65": 3309,
    "ML-DSA-87": 4627,
}


def test_token_sizes_carry_the_fixed_signature_sizes():
    rows = algs.token_sizes()
    assert {(r.alg, r.signature_bytes) for r in rows} == set(EXPECTED_SIGNATURE.items())
    assert len(rows) == len(algs.SIZE_ALGORITHMS) * len(algs.TOKEN_KINDS)
    assert algs.token_sizes() == rows  # the same bytes on every run


def test_dpop_proof_carries_the_public_key_and_ath():
    tokens = algs.make_tokens("ES256")
    header = json.loads(b64url_decode(tokens["DPoP proof"].split(".")[0]))
    assert header["typ"] == "dpop+jwt" and "d" not in header["jwk"]
    claims = json.loads(b64url_decode(tokens["DPoP proof"].split(".")[1]))
    assert claims["ath"] == algs._b64_sha256(tokens["access token"])
    assert tokens["x-jws-signature"].split(".")[1] == ""


def test_cookie_bytes_count_name_value_and_attributes():
    assert algs.cookie_bytes("a", "b") == len("a=b" + algs.COOKIE_ATTRIBUTES)


def test_request_headers_refuse_unknown_kinds():
    with pytest.raises(JoselabError):
        algs.request_headers("refresh token", {})


def test_format_table_aligns_columns():
    text = algs.format_table([{"a": "1", "bb": "22"}, {"a": "333"}])
    lines = text.splitlines()
    assert lines[0].startswith("a    bb") and lines[3].startswith("333  —")


# -- the real servers ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def servers():
    started = [algs.nginx_server(), algs.node_server(), algs.python_server()]
    yield {s.name.split()[0].lower(): s for s in started}
    for s in started:
        s.stop()


def test_nginx_default_buffer_is_8k_per_line(servers):
    # large_client_header_buffers 4 8k: a field line and its CRLF fit in one 8192-byte buffer.
    assert algs.largest_header(servers["nginx"].port) == 8190
    assert servers["nginx"].get([("Authorization", "Bearer " + "a" * 8200)]) == 400


def test_node_default_header_section_is_16k(servers):
    longest = algs.largest_header(servers["node"].port)
    assert 16000 < longest < 16384
    assert servers["node"].get([("Authorization", "Bearer " + "a" * 16384)]) == 431
    # The cap is on the whole header section: two fields that fit one by one do not fit together.
    half = "a" * (longest // 2 + 100)
    assert servers["node"].get([("X-A", half)]) == 200
    assert servers["node"].get([("X-A", half), ("X-B", half)]) == 431


def test_python_http_server_caps_a_line_at_64k(servers):
    assert algs.largest_header(servers["python"].port) == 65534
    assert servers["python"].get([("Authorization", "Bearer " + "a" * 65536)]) == 431


def test_size_table_matches_the_limits(servers):
    rows = algs.size_table(list(servers.values()), ["ES256", "ML-DSA-87"])
    by = {(r["token"], r["alg"]): r for r in rows}
    assert all(by[(k, "ES256")][s.name] == 200 for k in algs.TOKEN_KINDS for s in servers.values())
    dpop = by[("DPoP proof", "ML-DSA-87")]
    assert dpop["nginx (Debian)"] == 400 and dpop["Node http"] == 431 and dpop["Python http.server"] == 200
    assert by[("ID token", "ML-DSA-87")]["cookie (RFC 6265 §6.1)"].endswith("OVER 4096")


def test_a_stopped_server_is_gone():
    server = algs.python_server()
    port = server.port
    assert server.get([]) == 200
    server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_nginx_stops_and_cleans_its_prefix():
    server = algs.nginx_server()
    port = server.port
    server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


# -- citations ---------------------------------------------------------------------------------------
def test_every_citation_of_the_chapter_has_a_row():
    module = (ROOT / "joselab" / "algorithms.py").read_text("utf-8")
    notebook = json.loads(NOTEBOOK.read_text("utf-8"))
    text = module + "\n".join("".join(c["source"]) for c in notebook["cells"])
    text += "\n".join(r.citation for r in algs.PROFILE_RULES)
    assert sections.missing(text) == []


def test_profile_rules_cite_a_known_document():
    for rule in algs.PROFILE_RULES:
        assert re.match(r"(RFC \d{4}|OIDC|FAPI|OB) ", rule.citation)


def test_missing_nginx_is_joselabs_error(monkeypatch):
    monkeypatch.setattr(algs, "nginx_binary", lambda: None)
    with pytest.raises(JoselabError, match="nginx is not installed"):
        algs.nginx_server()


def test_missing_node_is_joselabs_error(monkeypatch):
    monkeypatch.setattr(algs.shutil, "which", lambda name: None)
    with pytest.raises(JoselabError, match="node is not installed"):
        algs.node_server()


def test_the_check_underneath_is_the_point_on_curve_check():
    # What jwcrypto (and so decrypt_jwe's decryption row) fails on: cryptography's point validation.
    from jwcrypto import jwe
    from jwcrypto.common import JWException

    obj = jwe.JWE()
    obj.allowed_algs = ["ECDH-ES", "A128CBC-HS256"]
    obj.deserialize(algs.off_curve_jwe())
    with pytest.raises(JWException, match="not on the curve"):
        obj.decrypt(algs.rfc7520_recipient_key("5.5"))


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "eyJhbGciOiJNTC1EU0EtNDQifQ.e30.AAAA", "x" * 40000])
def test_verify_with_joselab_fails_only_with_joselabs_errors(token):
    trace = algs.verify_with_joselab(token, "ML-DSA-44")
    assert not trace.ok
    assert isinstance(trace.error, JoselabError) and trace.error.section != "joselab"


def test_format_table_renders_as_an_html_table_with_the_same_cells():
    table = algs.format_table([{"a": "<1>", "bb": "22"}, {"a": "333"}])
    assert repr(table) == str(table)  # the plain-text form nbval compares is the text table itself
    page = table._repr_html_()
    assert page.count("<tr>") == 3 and "<th>bb</th>" in page and "<td>&lt;1&gt;</td>" in page and "<td>—</td>" in page
