"""Every published vector in tests/vectors/, verified or decrypted through joselab.

Sources (tests/vectors/README.md): RFC 7515 Appendix A, RFC 7520 §3-6 (the JOSE cookbook), RFC 7797
§4, RFC 8037 Appendix A.4, and the at_hash / c_hash values of OpenID Connect Core 1.0 Appendix A.
Where a vector is deterministic, joselab's signer must reproduce it byte for byte.
"""

from __future__ import annotations

import json

import pytest
from joselab_testkit import VECTORS, keyset, load_vector, sign_raw, vector_paths
from jwcrypto import jwe, jwk

from joselab import FixedClock, Trace
from joselab.claims import check_expiry
from joselab.compact import b64url_encode, parse_jws
from joselab.errors import AlgorithmNotAllowed, InvalidHeader, KeySetError, TokenExpired, UnsupportedCritical
from joselab.id_token import token_hash
from joselab.jwe import decrypt_jwe
from joselab.jws import encode_header, sign_compact, signature_verifies, verify_jws
from joselab.keys import key_fits_alg, load_jwks
from joselab.serialization import decrypt_json_jwe, verify_json_jws

COVERED: set[str] = set()


def covers(*paths: str) -> list[str]:
    COVERED.update(paths)
    return list(paths)


def public(key: dict) -> jwk.JWK:
    """What a verifier holds: the public half (a symmetric key is itself)."""
    k = jwk.JWK(**key)
    return k if k["kty"] == "oct" else jwk.JWK(**k.export_public(as_dict=True))


def trusted_by_kid_and_alg(keys: list[dict]):
    """A key source for vectors where one kid names keys of several types (RFC 7520 4.8): pick the
    trusted key whose kid matches and which fits the header's alg."""
    candidates = [public(k) for k in keys]

    def source(header):
        for key in candidates:
            if key.get("kid") == header.get("kid") and key_fits_alg(key, str(header.get("alg")))[0]:
                return key
        return None

    return source


# -- RFC 7515 Appendix A ---------------------------------------------------------------------------
RFC7515 = load_vector(covers("rfc7515-appendix-a.json")[0])["tests"]


@pytest.mark.parametrize("case", RFC7515, ids=lambda c: "RFC7515-" + c["name"].split("Appendix ")[1].replace(" ", "-"))
def test_rfc7515_appendix_a(case):
    alg = case["protected"]["alg"]
    trace = Trace(case["name"])
    parsed = verify_jws(trace, case["compact"], keyset(public(case["jwk"])), [alg])
    assert trace.ok and parsed.payload == case["payload"].encode() and parsed.header == case["protected"]
    if not case["deterministic"]:
        return  # ECDSA is randomized (A.3, A.4): verifying is the test
    key = jwk.JWK(**case["jwk"])
    if encode_header(case["protected"]) == case["protected_b64u"]:
        assert sign_compact(case["payload"].encode(), key, case["protected"]) == case["compact"]  # A.2
    else:
        # A.1's header is '{"typ":"JWT",\r\n "alg":"HS256"}': joselab writes compact JSON, alg first, so
        # it cannot spell that header; the MAC over the RFC's exact signing input must still match.
        assert sign_raw(parsed.signing_input, key, alg) == case["compact"].rsplit(".", 1)[1]


# -- RFC 7520 §3: the keys -------------------------------------------------------------------------
JWK_FILES = covers(*vector_paths("rfc7520/jwk/*.json"))


@pytest.mark.parametrize("path", JWK_FILES, ids=lambda p: "RFC7520-" + p.split("/")[-1].split(".")[0].replace("_", "."))
def test_rfc7520_section3_keys_load(path):
    entry = load_vector(path)
    private = any(m in entry for m in ("d", "k"))
    loaded = load_jwks({"keys": [entry]}, public_only=not private)
    assert next(iter(loaded["keys"]))["kid"] == entry["kid"]
    if private:
        with pytest.raises(KeySetError):
            load_jwks({"keys": [entry]})  # never in a public JWK Set


@pytest.mark.parametrize(
    ("key_file", "jws_file"),
    [
        ("3_1.ec_public_key", "4_3.ecdsa_signature"),
        ("3_3.rsa_public_key", "4_1.rsa_v15_signature"),
        ("3_5.symmetric_key_mac_computation", "4_4.hmac-sha2_integrity_protection"),
    ],
    ids=["RFC7520-3.1-verifies-4.3", "RFC7520-3.3-verifies-4.1", "RFC7520-3.5-verifies-4.4"],
)
def test_rfc7520_section3_keys_verify_section4(key_file, jws_file):
    key = load_jwks({"keys": [load_vector(f"rfc7520/jwk/{key_file}.json")]}, public_only="3_5" not in key_file)
    vector = load_vector(f"rfc7520/jws/{jws_file}.json")
    trace = Trace(jws_file)
    verify_jws(trace, vector["output"]["compact"], key, [vector["input"]["alg"]])
    assert trace.ok


def test_rfc7520_section3_6_is_an_encryption_key_not_a_signing_key():
    key = load_vector("rfc7520/jwk/3_6.symmetric_key_encryption.json")
    assert not key_fits_alg(key, "HS256")[0]  # use "enc", alg A256GCMKW: one key, one algorithm


# -- RFC 7520 §4: signatures -----------------------------------------------------------------------
JWS_FILES = covers(*vector_paths("rfc7520/jws/*.json"))
JWS_CASES = [(p, form) for p in JWS_FILES for form in load_vector(p)["output"]]


def _section(path: str) -> str:
    return path.split("/")[-1].split(".")[0].replace("_", ".")


@pytest.mark.parametrize(("path", "form"), JWS_CASES, ids=[f"RFC7520-{_section(p)}-{f}" for p, f in JWS_CASES])
def test_rfc7520_section4_signatures(path, form):
    vector = load_vector(path)
    inp = vector["input"]
    keys = inp["key"] if isinstance(inp["key"], list) else [inp["key"]]
    algs = inp["alg"] if isinstance(inp["alg"], list) else [inp["alg"]]
    payload = inp["payload"].encode()
    detached = payload if "detached" in vector["title"].lower() else None
    output = vector["output"][form]
    trace = Trace(vector["title"])
    if form == "compact":
        assert verify_jws(trace, output, trusted_by_kid_and_alg(keys), algs, detached_payload=detached).payload == payload
    else:
        assert verify_json_jws(trace, output, trusted_by_kid_and_alg(keys), algs, detached_payload=detached) == payload
    assert trace.ok


REPRODUCIBLE_JWS = [p for p in JWS_FILES if load_vector(p).get("reproducible")]


@pytest.mark.parametrize("path", REPRODUCIBLE_JWS, ids=[f"RFC7520-{_section(p)}" for p in REPRODUCIBLE_JWS])
def test_rfc7520_section4_deterministic_signatures_reproduced(path):
    vector = load_vector(path)
    key = jwk.JWK(**vector["input"]["key"])
    payload = vector["input"]["payload"].encode()
    signing = vector["signing"]
    protected = signing.get("protected")
    if protected is None:
        # 4.7 has no protected header at all (signing input ".payload"), which a compact JWS cannot be.
        assert sign_raw(signing["sig-input"].encode(), key, signing["unprotected"]["alg"]) == signing["sig"]
        return
    detached = "detached" in vector["title"].lower()
    token = sign_compact(payload, key, protected, detached=detached)
    assert token.split(".")[0] == signing["protected_b64u"] and token.split(".")[2] == signing["sig"]
    if "compact" in vector["output"]:
        assert token == vector["output"]["compact"]


# -- RFC 7520 §5: encryption -----------------------------------------------------------------------
JWE_FILES = covers(*vector_paths("rfc7520/jwe/*.json"))
COMPRESSED = "rfc7520/jwe/5_9.compressed_content.json"


def _jwe_keys(vector: dict) -> list[jwk.JWK]:
    inp = vector["input"]
    if "pwd" in inp:  # 5.3: PBES2 takes the password's UTF-8 octets as an oct key
        return [jwk.JWK(kty="oct", k=b64url_encode(inp["pwd"].encode("utf-8")))]
    return [jwk.JWK(**k) for k in (inp["key"] if isinstance(inp["key"], list) else [inp["key"]])]


def _jwe_cases():
    for path in JWE_FILES:
        if path == COMPRESSED:
            continue
        vector = load_vector(path)
        for form in vector["output"]:
            for i, _ in enumerate(_jwe_keys(vector)):
                yield path, form, i


JWE_CASES = list(_jwe_cases())


def _jwe_id(path: str, form: str, i: int) -> str:
    recipients = len(_jwe_keys(load_vector(path)))
    return f"RFC7520-{_section(path)}-{form}" + (f"-recipient{i + 1}" if recipients > 1 else "")


@pytest.mark.parametrize(("path", "form", "index"), JWE_CASES, ids=[_jwe_id(*c) for c in JWE_CASES])
def test_rfc7520_section5_decrypt(path, form, index):
    vector = load_vector(path)
    inp = vector["input"]
    key = _jwe_keys(vector)[index]
    alg = inp["alg"][index] if isinstance(inp["alg"], list) else inp["alg"]
    # RSA1_5 (5.1, and 5.13's first recipient) is allowed for these vectors alone: RFC 8725 §3.2.
    enc = "A128CBC-HS256" if inp["enc"] == "A128CBC-H256" else inp["enc"]  # 5.13's input has a typo; its header does not
    trace = Trace(vector["title"])
    if form == "compact":
        _, plaintext = decrypt_jwe(trace, vector["output"][form], key, [alg], [enc])
    else:
        plaintext = decrypt_json_jwe(trace, vector["output"][form], key, [alg], [enc])
    assert plaintext == inp["plaintext"].encode("utf-8") and trace.ok


def test_rfc7520_5_1_rsa1_5_refused_unless_listed():
    vector = load_vector("rfc7520/jwe/5_1.key_encryption_using_rsa_v15_and_aes-hmac-sha2.json")
    with pytest.raises(AlgorithmNotAllowed):
        decrypt_jwe(
            Trace("t"), vector["output"]["compact"], _jwe_keys(vector)[0], ["RSA-OAEP", "RSA-OAEP-256"], ["A128CBC-HS256"]
        )


@pytest.mark.parametrize("form", ["compact", "json", "json_flat"], ids=lambda f: f"RFC7520-5.9-{f}")
def test_rfc7520_5_9_compressed_is_rejected_by_design(form):
    """RFC 8725 §3.6: no compression before encryption. The row fails before any decryption."""
    vector = load_vector(COMPRESSED)
    key = _jwe_keys(vector)[0]
    trace = Trace("5.9")
    with pytest.raises(InvalidHeader) as info:
        if form == "compact":
            decrypt_jwe(trace, vector["output"][form], key, ["A128KW"], ["A128GCM"])
        else:
            decrypt_json_jwe(trace, vector["output"][form], key, ["A128KW"], ["A128GCM"])
    assert info.value.section == "RFC 8725 §3.6"
    assert trace.checks[-1].section == "RFC 8725 §3.6" and 'zip = "DEF"' in trace.checks[-1].evidence


def test_rfc7520_5_9_is_a_valid_vector_for_jwcrypto():
    """The vector itself is sound: jwcrypto, which does inflate, decrypts it."""
    vector = load_vector(COMPRESSED)
    token = jwe.JWE()
    token.deserialize(vector["output"]["compact"], key=_jwe_keys(vector)[0])
    assert token.plaintext == vector["input"]["plaintext"].encode("utf-8")


# -- RFC 7520 §6: nested, sign then encrypt -------------------------------------------------------
NESTED = covers("rfc7520/6.nesting_signatures_and_encryption.json")[0]


@pytest.mark.parametrize("form", ["compact", "json", "json_flat"], ids=lambda f: f"RFC7520-6-{f}")
def test_rfc7520_section6_nested(form):
    vector = load_vector(NESTED)
    enc_in, sign_in = vector["encrypt"]["input"], vector["sign"]["input"]
    key = jwk.JWK(**enc_in["key"])
    trace = Trace("RFC 7520 §6")
    with trace.run():
        if form == "compact":
            parsed, inner = decrypt_jwe(trace, vector["encrypt"]["output"][form], key, [enc_in["alg"]], [enc_in["enc"]])
            assert parsed.header["cty"] == "JWT"  # RFC 7519 §5.2: the plaintext is itself a JWT
        else:
            inner = decrypt_json_jwe(trace, vector["encrypt"]["output"][form], key, [enc_in["alg"]], [enc_in["enc"]])
        jws = verify_jws(trace, inner.decode("ascii"), keyset(public(sign_in["key"])), [sign_in["alg"]])
        claims = jws.claims()
        # exp is 1300819380 (March 2011): validate at a fixed instant before it, never by skipping exp
        check_expiry(trace, claims, FixedClock(1_300_819_380 - 60), 0, "RFC 7519 §4.1.4")
    assert trace.ok, str(trace)
    assert claims["iss"] == "hobbiton.example"
    with pytest.raises(TokenExpired):
        check_expiry(Trace("now"), claims, FixedClock(), 60, "RFC 7519 §4.1.4")


# -- RFC 7797 §4: unencoded payload --------------------------------------------------------------
RFC7797 = load_vector(covers("rfc7797/jws-rfc7797.json")[0])
RFC7515_A1_KEY = jwk.JWK(**RFC7515[0]["jwk"])  # RFC 7797 §4 signs with the RFC 7515 A.1 key


@pytest.mark.parametrize(
    "case", RFC7797["tests"], ids=lambda c: "RFC7797-" + c["name"].replace(",", "").replace(" ", "-").replace("=", "-")
)
def test_rfc7797(case):
    payload = case.get("payload", RFC7797["payload"]).encode()
    header = case["protected"]
    detached = case["compact"].split(".")[1] == ""
    understood = ["b64"] if "crit" in header else []
    trace = Trace(case["name"])
    parsed = verify_jws(
        trace,
        case["compact"],
        keyset(RFC7515_A1_KEY),
        ["HS256"],
        understood_crit=understood,
        detached_payload=payload if detached else None,
    )
    assert parsed.payload == payload and trace.ok
    flat_trace = Trace(case["name"])
    assert (
        verify_json_jws(flat_trace, case["flattened_json"], keyset(RFC7515_A1_KEY), ["HS256"], understood_crit=understood)
        == payload
    )
    assert sign_compact(payload, RFC7515_A1_KEY, header, detached=detached) == case["compact"]  # HMAC: byte for byte


def test_rfc7797_4_2_refused_by_a_verifier_that_does_not_understand_b64():
    case = RFC7797["tests"][1]
    with pytest.raises(UnsupportedCritical) as info:
        verify_jws(Trace("t"), case["compact"], keyset(RFC7515_A1_KEY), ["HS256"], detached_payload=b"$.02")
    assert info.value.section == "RFC 7515 §4.1.11"


# -- RFC 8037: Ed25519 -----------------------------------------------------------------------------
RFC8037 = load_vector(covers("rfc8037/ed25519-jws.json")[0])
ED_KEY = RFC8037["input"]["key"]


@pytest.mark.parametrize("form", ["compact", "json", "json_flat"], ids=lambda f: f"RFC8037-A.4-{f}")
def test_rfc8037_eddsa_verifies(form):
    """The vector says alg "EdDSA", which RFC 9864 deprecates for "Ed25519"; it is verified as published."""
    output = RFC8037["output"][form]
    payload = RFC8037["input"]["payload"].encode()
    trace = Trace("RFC 8037 A.4")
    if form == "compact":
        assert verify_jws(trace, output, keyset(public(ED_KEY)), ["EdDSA"]).payload == payload
    else:
        assert verify_json_jws(trace, output, keyset(public(ED_KEY)), ["EdDSA"]) == payload
    assert trace.ok


def test_rfc8037_deterministic_signature_reproduced():
    token = sign_compact(RFC8037["input"]["payload"].encode(), jwk.JWK(**ED_KEY), RFC8037["signing"]["protected"])
    assert token == RFC8037["output"]["compact"]


def test_rfc8037_key_with_rfc9864_ed25519_alg():
    """The fully specified name (RFC 9864): a fresh "Ed25519" signature with the same key verifies,
    and an allowlist of ["Ed25519"] does not let the deprecated "EdDSA" spelling through."""
    token = sign_compact(b"Example of Ed25519 signing", jwk.JWK(**ED_KEY), {"alg": "Ed25519"})
    trace = Trace("Ed25519")
    assert verify_jws(trace, token, keyset(public(ED_KEY)), ["Ed25519"]).payload == b"Example of Ed25519 signing"
    assert token.split(".")[2] != RFC8037["output"]["compact"].split(".")[2]  # alg is signed: another header, another signature
    with pytest.raises(AlgorithmNotAllowed):
        verify_jws(Trace("t"), RFC8037["output"]["compact"], keyset(public(ED_KEY)), ["Ed25519"])


# -- OpenID Connect Core: at_hash and c_hash -------------------------------------------------------
OIDC = load_vector(covers("oidc-core-hashes.json")[0])


@pytest.mark.parametrize("case", OIDC["tests"], ids=lambda c: f"OIDC-Core-AppA-{c['kind']}")
def test_oidc_core_hashes(case):
    assert token_hash(case["input"], case["alg"]) == case["expected"]


# -- RFC 9449 (DPoP): the example proofs verify with the jwk in their own header ------------------
RFC9449 = load_vector(covers("rfc9449.json")[0])


@pytest.mark.parametrize("figure", sorted(RFC9449["proofs"]))
def test_rfc9449_example_proofs(figure):
    example = RFC9449["proofs"][figure]
    parsed = parse_jws(example["proof"])
    assert parsed.header["typ"] == "dpop+jwt" and parsed.header["alg"] == "ES256"
    assert signature_verifies("ES256", jwk.JWK(**parsed.header["jwk"]), parsed.signing_input, parsed.signature)
    assert parsed.claims()["iat"] == example["iat"] and parsed.claims()["htu"] == example["htu"]


def test_every_vector_file_is_used():
    on_disk = {str(p.relative_to(VECTORS)) for p in VECTORS.rglob("*.json")}
    assert on_disk == COVERED, on_disk ^ COVERED
    assert json.loads((VECTORS / "oidc-core-hashes.json").read_text())["tests"]
