"""Notebook 05's attacks: each forged token is ACCEPTED by the deliberately naive validator and REJECTED by
joselab's scenario validator, at the expected row and with the expected error type. Also the
cross-JWT confusion matrix (only the diagonal accepts) and the attack builders themselves.

Real parties throughout: HTTP on 127.0.0.1 (the attacker's server included), sqlite files, real crypto.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from jwcrypto import jwe, jwk
from jwcrypto.jwa import JWA

from joselab import DEMO_EPOCH, DemoIds, FixedClock, Trace, b64url_decode, b64url_encode, decode_unverified, demo_key
from joselab.access_token import AccessTokenValidator, build_demo
from joselab.attacks import (
    INTENDED,
    NONE_CASINGS,
    PSYCHIC_RAW,
    TOKEN_KINDS,
    VALIDATORS,
    AttackerHost,
    NaiveFileKeyStore,
    NaiveSqliteKeyStore,
    NaiveValidator,
    build_confusion_matrix,
    crack_hmac,
    decompression_bomb,
    deflated_zeros,
    duplicate_member_payload,
    forge,
    forge_embedded_jwk,
    forge_key_url,
    forge_kid,
    forge_psychic_signature,
    forge_public_key_as_hmac_secret,
    forge_unsigned,
    load_wordlist,
    measure,
    naive_decrypt,
    naive_ecdsa_p256_verify,
    naive_pbes2_decrypt,
    pbes2_p2c_bomb,
    resign,
    self_signed_certificate,
)
from joselab.errors import (
    AlgorithmNotAllowed,
    EmbeddedKeyRejected,
    InvalidClaim,
    InvalidHeader,
    InvalidIssuedAt,
    InvalidIssuer,
    InvalidSignature,
    InvalidType,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    UnknownClient,
    UnsupportedCritical,
)
from joselab.id_token import IdTokenValidator
from joselab.jwe import MAX_PBES2_COUNT, decrypt_jwe
from joselab.parties import Database, ReplayStore
from joselab.registration import DEMO_SOFTWARE
from joselab.registration import build_demo as build_registration_demo

AS_KEY = demo_key("rfc7515-a2-rsa").jwk
MALLORY = demo_key("rfc9500-rsa2048").jwk
SAMWISE = demo_key("rfc7520-samwise-rsa").jwk


def rejected(trace: Trace, error: type, section: str) -> None:
    """joselab refused, with ``error`` raised at a row citing ``section`` (and the row is the last one)."""
    assert not trace.ok, trace
    assert isinstance(trace.error, error), (type(trace.error).__name__, str(trace))
    assert trace.failed is not None and trace.failed.section == section, str(trace)
    assert trace.checks[-1] is trace.failed


def accepted(result) -> bool:
    return result.accepted


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Scenario 2's AS and API, Mallory's server, and a genuine access token."""
    work = tmp_path_factory.mktemp("attacks")
    clock = FixedClock(DEMO_EPOCH)
    demo = build_demo(work, clock=clock, ids=DemoIds(5))
    mallory = AttackerHost(demo.network, MALLORY).start()
    auth = demo.authorization_server
    captured = auth.issue_access_token(sub="alice", client_id="tpp-1", audience=demo.api.audience, scope="accounts")
    as_public = jwk.JWK(**demo.network.get_json(auth.server.url("/jwks"))["keys"][0])
    naive = NaiveValidator(key=as_public, network=demo.network, clock=clock)

    class Lab:
        pass

    lab = Lab()
    lab.__dict__.update(
        work=work, clock=clock, demo=demo, mallory=mallory, auth=auth, captured=captured, as_public=as_public, naive=naive
    )
    lab.validator = demo.validator
    yield lab
    mallory.stop()
    demo.close()


def test_genuine_token_accepted_by_both(lab):
    assert lab.naive.validate(lab.captured).accepted
    assert lab.validator.validate(lab.captured).ok


def test_naive_validator_refuses_a_tampered_token(lab):
    # It is a real verifier: change a claim without re-signing and it says no.
    header, _, signature = lab.captured.split(".")
    claims = {**decode_unverified(lab.captured).payload, "sub": "admin"}
    tampered = f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"
    assert not lab.naive.validate(tampered).accepted


# -- alg: none ------------------------------------------------------------------------------------


def test_none_casings_are_all_sixteen():
    assert len(NONE_CASINGS) == 16 == len(set(NONE_CASINGS))
    assert {c.lower() for c in NONE_CASINGS} == {"none"}


@pytest.mark.parametrize("alg", NONE_CASINGS)
def test_alg_none_every_casing(lab, alg):
    forged = forge_unsigned(lab.captured, alg, sub="admin")
    assert forged.endswith(".") and decode_unverified(forged).header["alg"] == alg
    result = lab.naive.validate(forged)
    assert result.accepted and result.claims["sub"] == "admin"
    rejected(lab.validator.validate(forged), AlgorithmNotAllowed, "RFC 8725 §3.1")


def test_exact_none_blocklist_is_a_half_fix(lab):
    patched = NaiveValidator(key=lab.as_public, clock=lab.clock, block_exact_none=True)
    verdicts = {alg: patched.validate(forge_unsigned(lab.captured, alg)).accepted for alg in NONE_CASINGS}
    assert [alg for alg, ok in verdicts.items() if not ok] == ["none"]


# -- RS256 -> HS256 ------------------------------------------------------------------------------


def test_key_confusion_public_key_as_hmac_secret(lab):
    forged = forge_public_key_as_hmac_secret(lab.captured, lab.as_public, sub="admin")
    assert decode_unverified(forged).header["alg"] == "HS256"
    result = lab.naive.validate(forged)
    assert result.accepted and result.claims["sub"] == "admin"
    rejected(lab.validator.validate(forged), AlgorithmNotAllowed, "RFC 8725 §3.1")


def test_key_confusion_with_hs256_allowlisted_fails_at_the_key_row(lab):
    forged = forge_public_key_as_hmac_secret(lab.captured, lab.as_public, sub="admin")
    lax = AccessTokenValidator(
        issuer=lab.auth.issuer,
        audience=lab.demo.api.audience,
        keys=lab.demo.cache,
        clock=lab.clock,
        algorithms=("RS256", "HS256"),
    )
    trace = lax.validate(forged)
    rejected(trace, KeyNotFound, "RFC 8725 §3.1")
    assert "for HS256" in trace.failed.name


# -- jwk, jku, x5u ---------------------------------------------------------------------------------


def test_jwk_header_injection(lab):
    forged = forge_embedded_jwk(lab.captured, MALLORY, sub="admin")
    assert "d" not in decode_unverified(forged).header["jwk"]  # only the public half travels
    result = lab.naive.validate(forged)
    assert result.accepted and "jwk header" in result.how
    trace = lab.validator.validate(forged)
    rejected(trace, EmbeddedKeyRejected, "RFC 8725 §3.10")
    assert "['jwk']" in trace.failed.evidence


def test_jku_injection_fetches_from_the_attacker_only_when_naive(lab):
    forged = forge_key_url(lab.captured, MALLORY, member="jku", url=lab.mallory.jwks_url, sub="admin")
    before = lab.mallory.server.hits["/jwks.json"]
    result = lab.naive.validate(forged)
    assert result.accepted and lab.mallory.jwks_url in result.how
    assert lab.mallory.server.hits["/jwks.json"] == before + 1  # a real request reached evil.example
    rejected(lab.validator.validate(forged), EmbeddedKeyRejected, "RFC 8725 §3.10")
    assert lab.mallory.server.hits["/jwks.json"] == before + 1  # joselab sent none


def test_x5u_injection_with_a_self_signed_certificate(lab):
    forged = forge_key_url(lab.captured, MALLORY, member="x5u", url=lab.mallory.cert_url, sub="admin")
    result = lab.naive.validate(forged)
    assert result.accepted and "x5u" in result.how
    rejected(lab.validator.validate(forged), EmbeddedKeyRejected, "RFC 8725 §3.10")


def test_key_url_member_is_checked():
    with pytest.raises(ValueError):
        forge_key_url("a.b.c", MALLORY, member="x5c", url="https://evil.example/")


def test_naive_refuses_a_key_url_token_signed_by_another_key(lab):
    # The attacker's JWK Set holds Mallory's key; a token signed by someone else does not verify.
    forged = forge_key_url(lab.captured, AS_KEY, member="jku", url=lab.mallory.jwks_url)
    assert not lab.naive.validate(forged).accepted


def test_self_signed_certificate_is_deterministic_and_claims_the_name():
    from cryptography import x509

    pem = self_signed_certificate(MALLORY, "as.bank.example")
    assert pem == self_signed_certificate(MALLORY, "as.bank.example")
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.subject == cert.issuer and "as.bank.example" in cert.subject.rfc4514_string()


# -- kid -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hs(lab):
    shared = jwk.JWK(**{**demo_key("rfc7515-a1-hmac").jwk.export(as_dict=True), "kid": "hs-2026-01"})
    secret = b64url_decode(shared["k"])
    db = Database(lab.work / "naive-keys.sqlite")
    sql_store = NaiveSqliteKeyStore(db)
    sql_store.add("hs-2026-01", secret)
    key_dir = lab.work / "keys"
    key_dir.mkdir()
    file_store = NaiveFileKeyStore(key_dir)
    file_store.add("hs-2026-01", secret)
    trusted = jwk.JWKSet()
    trusted.add(shared)
    validator = AccessTokenValidator(
        issuer=lab.auth.issuer, audience=lab.demo.api.audience, keys=trusted, algorithms=("HS256",), clock=lab.clock
    )

    class HS:
        pass

    hs = HS()
    hs.__dict__.update(
        shared=shared,
        sql=NaiveValidator(key_store=sql_store, clock=lab.clock),
        files=NaiveValidator(key_store=file_store, clock=lab.clock),
        sql_store=sql_store,
        validator=validator,
        token=resign(lab.captured, shared, header={"alg": "HS256", "kid": "hs-2026-01"}),
    )
    yield hs
    db.close()


def test_hs_stores_accept_the_genuine_token(hs):
    assert hs.sql.validate(hs.token).accepted and hs.files.validate(hs.token).accepted
    assert hs.validator.validate(hs.token).ok


def test_hs_stores_refuse_an_unknown_kid(lab, hs):
    forged = forge_kid(lab.captured, "hs-1999-01", b"guess")
    assert not hs.sql.validate(forged).accepted and not hs.files.validate(forged).accepted


def test_kid_sql_injection(lab, hs):
    kid = "nobody' UNION SELECT 'mallory-was-here"
    assert "UNION SELECT 'mallory-was-here'" in hs.sql_store.sql_for(kid)
    forged = forge_kid(lab.captured, kid, b"mallory-was-here", sub="admin")
    result = hs.sql.validate(forged)
    assert result.accepted and result.claims["sub"] == "admin"
    trace = hs.validator.validate(forged)
    rejected(trace, KeyNotFound, "RFC 7515 §4.1.4")
    assert "unknown" in trace.failed.evidence


def test_kid_path_traversal_to_an_empty_file(lab, hs):
    kid = "../" * 16 + "dev/null"
    forged = forge_kid(lab.captured, kid, b"", sub="admin")
    assert hs.files.validate(forged).accepted
    rejected(hs.validator.validate(forged), KeyNotFound, "RFC 7515 §4.1.4")


# -- weak HMAC secret ----------------------------------------------------------------------------


def test_wordlist_is_a_few_hundred_unique_words():
    words = load_wordlist()
    assert 200 <= len(words) <= 1000 and len(set(words)) == len(words)
    assert not any(w.startswith("#") or not w for w in words)


def test_dictionary_attack_finds_a_weak_secret_and_joselab_refuses_the_key(lab):
    header = {"alg": "HS256", "typ": "at+jwt", "kid": "legacy-1"}
    claims = decode_unverified(lab.captured).payload
    legacy = forge(header, claims, secret=b"changeme")
    found = crack_hmac(legacy, load_wordlist())
    assert found.secret == "changeme" and found.tries == load_wordlist().index("changeme") + 1
    forged = forge(header, {**claims, "sub": "admin"}, secret=found.secret.encode())
    key = jwk.JWK(kty="oct", k=b64url_encode(b"changeme"), kid="legacy-1")
    result = NaiveValidator(key=key, clock=lab.clock).validate(forged)
    assert result.accepted and result.claims["sub"] == "admin"
    keys = jwk.JWKSet()
    keys.add(key)
    validator = AccessTokenValidator(
        issuer=lab.auth.issuer, audience=lab.demo.api.audience, keys=keys, algorithms=("HS256",), clock=lab.clock
    )
    for token in (forged, legacy):  # the weak key is refused outright, for the genuine token too
        trace = validator.validate(token)
        rejected(trace, KeyNotFound, "RFC 8725 §3.1")
        assert "8 bytes" in trace.failed.evidence


def test_dictionary_attack_fails_on_a_random_key(lab):
    from joselab import generate_key, sign_compact

    strong = generate_key("HS256", kid="legacy-2")
    token = sign_compact(decode_unverified(lab.captured).payload, strong, {"alg": "HS256", "typ": "at+jwt", "kid": "legacy-2"})
    result = crack_hmac(token, load_wordlist())
    assert result.secret is None and result.tries == len(load_wordlist())
    assert "no word fits" in str(result)


# -- ECDSA r = s = 0 -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ssa_lab(tmp_path_factory):
    clock = FixedClock(DEMO_EPOCH)
    reg = build_registration_demo(tmp_path_factory.mktemp("reg") / "as.sqlite", clock=clock, ids=DemoIds(6))
    ssa = reg.directory.issue_ssa(DEMO_SOFTWARE)
    yield reg, ssa, NaiveValidator(key=reg.directory.key, clock=clock)
    reg.close()


def test_naive_ecdsa_verifies_genuine_signatures_and_refuses_wrong_ones(ssa_lab):
    reg, ssa, naive = ssa_lab
    assert naive.validate(ssa).accepted
    public = reg.directory.key.jwk.get_op_key("verify")
    signature = b64url_decode(ssa.rsplit(".", 1)[1])
    signing_input = ssa.rsplit(".", 1)[0].encode()
    assert naive_ecdsa_p256_verify(public, signing_input, signature)
    assert not naive_ecdsa_p256_verify(public, signing_input + b"x", signature)
    assert not naive_ecdsa_p256_verify(public, signing_input, b"\x30\x00")  # not DER, not 64 bytes


def test_psychic_signature_raw(ssa_lab):
    reg, ssa, naive = ssa_lab
    forged = forge_psychic_signature(ssa, software_roles=["AISP", "PISP", "CBPII"])
    assert b64url_decode(forged.rsplit(".", 1)[1]) == bytes(64)
    result = naive.validate(forged)
    assert result.accepted and result.claims["software_roles"] == ["AISP", "PISP", "CBPII"]
    trace = reg.bank.statements.validate(forged)
    rejected(trace, InvalidSignature, "RFC 7515 §5.2")
    # The length row passed: it is the real verification that refuses.
    assert any(c.section == "RFC 7518 §3" and c.passed for c in trace)


def test_psychic_signature_der(ssa_lab):
    reg, ssa, naive = ssa_lab
    forged = forge_psychic_signature(ssa, der=True)
    assert naive.validate(forged).accepted
    trace = reg.bank.statements.validate(forged)
    rejected(trace, InvalidSignature, "RFC 7518 §3")
    assert trace.failed.evidence == "8 bytes"


def test_cryptography_refuses_r_s_zero_by_itself(ssa_lab):
    reg, _, _ = ssa_lab
    with pytest.raises(CryptoInvalidSignature):
        JWA.signing_alg("ES256").verify(reg.directory.key.jwk, b"anything", PSYCHIC_RAW)


# -- crit, claim games -----------------------------------------------------------------------------


def test_unknown_crit_is_ignored_by_naive_and_refused_by_joselab(lab):
    ext = "https://as.bank.example/only-for"
    bound = resign(lab.captured, AS_KEY, header={"crit": [ext], ext: "https://api.bank.example/payments/42"})
    assert lab.naive.validate(bound).accepted
    rejected(lab.validator.validate(bound), UnsupportedCritical, "RFC 7515 §4.1.11")


def test_exp_as_a_string(lab):
    forged = resign(lab.captured, AS_KEY, exp="9999999999")
    assert lab.naive.validate(forged).accepted
    trace = lab.validator.validate(forged)
    rejected(trace, InvalidClaim, "RFC 9068 §4 (6)")
    assert trace.failed.name == "exp is a NumericDate"


def test_naive_still_refuses_a_numeric_expired_token(lab):
    forged = resign(lab.captured, AS_KEY, exp=DEMO_EPOCH - 1)
    result = lab.naive.validate(forged)
    assert not result.accepted and result.how == "expired"


def test_exp_centuries_away(lab):
    forged = resign(lab.captured, AS_KEY, exp=DEMO_EPOCH + 300 * 365 * 86_400)
    assert lab.naive.validate(forged).accepted
    trace = lab.validator.validate(forged)
    assert isinstance(trace.error, InvalidIssuedAt) and "3600s" in trace.failed.name, str(trace)


def test_duplicate_member_names(lab):
    claims = decode_unverified(lab.captured).payload
    payload = duplicate_member_payload(claims, "sub", "admin")
    assert payload.count(b'"sub"') == 2
    forged = forge(decode_unverified(lab.captured).header, payload, key=AS_KEY)
    result = lab.naive.validate(forged)
    assert result.accepted and result.claims["sub"] == "admin"  # json.loads: the last one wins
    trace = lab.validator.validate(forged)
    assert isinstance(trace.error, MalformedToken) and "unique member names" in trace.failed.name, str(trace)
    assert "sub" in trace.failed.evidence


# -- JWE: decompression bomb, PBES2 p2c -----------------------------------------------------------


def test_decompression_bomb(lab, tmp_path):
    bomb = decompression_bomb(jwk.JWK(**SAMWISE.export_public(as_dict=True)))
    assert decode_unverified(bomb).header["zip"] == "DEF" and len(bomb) < 32 * 1024
    naive_run = measure(lambda: naive_decrypt(bomb, SAMWISE))
    assert naive_run.result.accepted and "23,068,672 bytes" in naive_run.result.how
    assert not naive_run.peak_under(16 * 2**20)
    db = Database(tmp_path / "nonces.sqlite")
    keys = jwk.JWKSet()
    keys.add(lab.as_public)
    sealed = IdTokenValidator(
        issuer="https://op.bank.example",
        client_id="tpp-1",
        keys=keys,
        clock=lab.clock,
        nonce_store=ReplayStore(db),
        decryption_key=SAMWISE,
        encryption_alg="RSA-OAEP-256",
        encryption_enc="A256GCM",
    )
    run = measure(lambda: sealed.validate(bomb, nonce="n"))
    rejected(run.result, InvalidHeader, "RFC 8725 §3.6")
    assert run.peak_under(2**20)
    db.close()


@pytest.mark.parametrize("size", [0, 1, 5 * 1024 * 1024, 3 * 1024 * 1024 + 12345])
def test_deflated_zeros_inflate_to_exactly_that_many_zeros(size):
    import zlib

    deflated = deflated_zeros(size)
    assert zlib.decompress(deflated, -15) == bytes(size)
    assert len(deflated) < max(size // 500, 64)  # a bomb: far smaller than what it inflates to


def test_naive_decrypt_refuses_garbage():
    assert not naive_decrypt("a.b.c.d.e", SAMWISE).accepted


def test_pbes2_naive_does_the_work_and_decrypts_genuine_tokens():
    password = b"correct horse battery staple"
    key = jwk.JWK(kty="oct", k=b64url_encode(password))
    genuine = jwe.JWE(b"hello", protected=json.dumps({"alg": "PBES2-HS256+A128KW", "enc": "A128GCM", "p2c": 2000}))
    genuine.add_recipient(key)
    result = naive_pbes2_decrypt(genuine.serialize(compact=True), password)
    assert result.accepted and "2,000 PBKDF2 iterations" in result.how
    junk = naive_pbes2_decrypt(pbes2_p2c_bomb(20_000), password)
    assert not junk.accepted and "20,000 PBKDF2 iterations first" in junk.how


def test_pbes2_huge_p2c_refused_before_derivation():
    trace = Trace("shared JWE rows")
    key = jwk.JWK(kty="oct", k=b64url_encode(b"correct horse battery staple"))
    bomb = pbes2_p2c_bomb(2**31 - 1)
    assert decode_unverified(bomb).header["p2c"] == 2**31 - 1
    run = measure(lambda: _decrypt(trace, bomb, key))
    rejected(trace, InvalidHeader, "joselab policy; RFC 7518 §4.8.1.2 sets no upper bound")
    assert str(MAX_PBES2_COUNT) in trace.failed.name and run.peak_under(2**20)


def _decrypt(trace: Trace, token: str, key: jwk.JWK) -> None:
    with trace.run():
        decrypt_jwe(trace, token, key, ["PBES2-HS256+A128KW"], ["A128GCM"])


def test_measure_reports_time_and_memory():
    run = measure(lambda: bytes(4 * 2**20))
    assert len(run.result) == 4 * 2**20 and not run.peak_under(2**20) and run.ms.endswith(" ms")


# -- cross-JWT confusion -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    return build_confusion_matrix(tmp_path_factory.mktemp("confusion"), clock=FixedClock(DEMO_EPOCH), ids=DemoIds(805))


def test_confusion_matrix_accepts_exactly_the_diagonal(matrix):
    assert len(matrix.traces) == 36
    assert sorted(matrix.accepted()) == sorted(INTENDED.items())
    assert len(matrix.accepted()) == 6


def test_confusion_matrix_tokens_share_one_key(matrix):
    headers = {kind: decode_unverified(t).header for kind, t in matrix.tokens.items()}
    proof = headers.pop("DPoP proof")
    assert {h["kid"] for h in headers.values()} == {AS_KEY["kid"]}
    # The DPoP proof names no kid: it carries the same public key itself (RFC 9449 §4.2).
    assert proof["jwk"] == {k: v for k, v in AS_KEY.export_public(as_dict=True).items() if k in ("kty", "n", "e")}
    assert {decode_unverified(t).header["alg"] for t in matrix.tokens.values()} == {"PS256"}


#: The row that rejects each off-diagonal token, and its error: typ, then the §3.12 claim rules.
EXPECTED_REJECTIONS = {
    ("software statement", "RegistrationRequestValidator"): ("RFC 8725 §3.12", MissingClaim),
    ("software statement", "AccessTokenValidator"): ("RFC 9068 §4 (1)", InvalidType),
    ("software statement", "IdTokenValidator"): ("OIDC Core §2", MissingClaim),
    ("registration request", "SoftwareStatementValidator"): ("RFC 8725 §3.8", InvalidIssuer),
    ("registration request", "AccessTokenValidator"): ("RFC 9068 §4 (1)", InvalidType),
    ("registration request", "IdTokenValidator"): ("OIDC Core §2", MissingClaim),
    ("access token", "SoftwareStatementValidator"): ("OB Directory SSA", InvalidType),
    ("access token", "RegistrationRequestValidator"): ("OB DCR v3.2", InvalidType),
    ("access token", "IdTokenValidator"): ("RFC 8725 §3.11", InvalidType),
    ("ID token", "SoftwareStatementValidator"): ("RFC 8725 §3.12", InvalidClaim),
    ("ID token", "RegistrationRequestValidator"): ("RFC 8725 §3.12", MissingClaim),
    ("ID token", "AccessTokenValidator"): ("RFC 9068 §4 (1)", InvalidType),
    ("software statement", "DPoPProofValidator"): ("RFC 9449 §4.3 (3)", MissingClaim),
    ("registration request", "DPoPProofValidator"): ("RFC 9449 §4.3 (3)", MissingClaim),
    ("access token", "DPoPProofValidator"): ("RFC 9449 §4.3 (3)", MissingClaim),
    ("ID token", "DPoPProofValidator"): ("RFC 9449 §4.3 (3)", MissingClaim),
    ("DPoP proof", "SoftwareStatementValidator"): ("OB Directory SSA", InvalidType),
    ("DPoP proof", "RegistrationRequestValidator"): ("OB DCR v3.2", InvalidType),
    ("DPoP proof", "AccessTokenValidator"): ("RFC 9068 §4 (1)", InvalidType),
    ("DPoP proof", "IdTokenValidator"): ("RFC 8725 §3.11", InvalidType),
    ("DPoP proof", "ClientAssertionValidator"): ("RFC 8725 §3.12", InvalidType),
    # The client assertion's typ is refused by every validator that checks typ first; the DPoP
    # validator finds no jwk, htm or htu; the others' tokens name no registered client (or name
    # one by a sub that is the user's, for the ID token) and never reach the signature.
    ("client assertion", "SoftwareStatementValidator"): ("OB Directory SSA", InvalidType),
    ("client assertion", "RegistrationRequestValidator"): ("OB DCR v3.2", InvalidType),
    ("client assertion", "AccessTokenValidator"): ("RFC 9068 §4 (1)", InvalidType),
    ("client assertion", "IdTokenValidator"): ("RFC 8725 §3.11", InvalidType),
    ("client assertion", "DPoPProofValidator"): ("RFC 9449 §4.3 (3)", MissingClaim),
    ("software statement", "ClientAssertionValidator"): ("RFC 7521 §4.2", UnknownClient),
    ("registration request", "ClientAssertionValidator"): ("RFC 7521 §4.2", UnknownClient),
    ("access token", "ClientAssertionValidator"): ("RFC 8725 §3.12", InvalidType),
    ("ID token", "ClientAssertionValidator"): ("RFC 7521 §4.2", UnknownClient),
}


@pytest.mark.parametrize("pair", sorted(EXPECTED_REJECTIONS))
def test_confusion_matrix_off_diagonal_rows(matrix, pair):
    section, error = EXPECTED_REJECTIONS[pair]
    rejected(matrix.trace(*pair), error, section)
    assert matrix.rejection(*pair) is matrix.trace(*pair).failed


def test_confusion_matrix_covers_every_pair():
    assert len(EXPECTED_REJECTIONS) + len(INTENDED) == len(TOKEN_KINDS) * len(VALIDATORS)


def test_confusion_matrix_renders(matrix):
    text, page = str(matrix), matrix._repr_html_()
    assert "6 of 36 accepted" in text and "6 of 36 accepted" in page
    assert text.count("ACCEPTED") == 6 and page.count("✓") == 6 and page.count("✗") == 30


def test_confusion_matrix_in_its_own_temporary_directory():
    assert len(build_confusion_matrix().accepted()) == 6


# -- naive odds and ends ---------------------------------------------------------------------------


def test_naive_results_print_their_verdict(lab):
    assert str(lab.naive.validate("not a token")).startswith("naive validator: rejected")
    assert "DELIBERATELY INSECURE" in repr(lab.naive)
    assert "ACCEPTED" in str(lab.naive.validate(lab.captured))


def test_naive_file_store_missing_file(tmp_path: Path):
    assert NaiveFileKeyStore(tmp_path).lookup("absent") is None
