"""Scenario 1: every check of the software statement and the registration request, made to fail.

Real parties: HTTP servers on 127.0.0.1, an sqlite file per test, real signatures.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joselab import DEMO_EPOCH, b64url_encode, demo_key, generate_key, parse_jws, sign_compact
from joselab.errors import (
    AlgorithmNotAllowed,
    EmbeddedKeyRejected,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuedAt,
    InvalidIssuer,
    InvalidSignature,
    InvalidType,
    JoselabError,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    ReplayDetected,
    TokenExpired,
    TokenNotYetValid,
)
from joselab.parties import LocalServer
from joselab.registration import (
    DEMO_SOFTWARE,
    INVALID_CLIENT_METADATA,
    INVALID_REDIRECT_URI,
    INVALID_SOFTWARE_STATEMENT,
    OB_DCR_CLAIMS,
    UNAPPROVED_SOFTWARE_STATEMENT,
    Client,
    Directory,
    InvalidRedirectUri,
    Software,
    SoftwareNotApproved,
    SoftwareStatementValidator,
    build_demo,
    extract_software_statement,
    is_https_url,
    registered_metadata,
    tamper_claims,
    unsigned_jwt,
)


@pytest.fixture
def demo(tmp_path):
    demo = build_demo(tmp_path / "as.sqlite")
    yield demo
    demo.close()


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def ssa_with(demo, header: dict[str, Any] | None = None, key=None, **changes: Any) -> str:
    """An SSA from the demo directory's key, with claims and header changed (None removes)."""
    claims = demo.directory.ssa_claims(DEMO_SOFTWARE)
    claims = _drop_none({**claims, **changes})
    key = key or demo.directory.key.jwk
    return sign_compact(claims, key, _drop_none({"alg": "ES256", "kid": key["kid"], "typ": "JWT", **(header or {})}))


def request_with(demo, ssa: str, header: dict[str, Any] | None = None, key=None, **changes: Any) -> str:
    claims = demo.client.request_claims(ssa, demo.bank.issuer, **changes)
    key = key or demo.client.jwk
    return sign_compact(claims, key, _drop_none({"alg": "PS256", "kid": key["kid"], "typ": "JWT", **(header or {})}))


def rejected(trace, error: type, section: str | None = None):
    assert not trace.ok, str(trace)
    assert isinstance(trace.error, error), str(trace)
    if section is not None:
        assert trace.failed.section == section, str(trace)
    return trace.failed


def check_ssa(demo, ssa: str):
    return demo.bank.statements.validate(ssa)


def check_request(demo, token: str, ssa: str | None = None):
    ssa = ssa or extract_software_statement(token)
    claims = demo.bank.statements.validate(ssa, strict=True).result
    return demo.bank.requests.validate(token, claims, ssa)


# -- the happy path -------------------------------------------------------------------------------


def test_registration_succeeds_with_201_client_id_and_metadata(demo):
    ssa = demo.directory.issue_ssa(DEMO_SOFTWARE)
    response = demo.client.send(demo.network, demo.bank.register_url, demo.client.registration_request(ssa, demo.bank.issuer))
    assert response.status == 201
    body = response.json()
    assert body["client_id"] and body["client_id_issued_at"] == DEMO_EPOCH
    assert body["software_statement"] == ssa  # RFC 7591 §3.2.1: returned unmodified
    assert body["jwks_uri"] == demo.directory.software_jwks_endpoint(DEMO_SOFTWARE)
    assert body["redirect_uris"] == [DEMO_SOFTWARE.redirect_uris[0]]
    assert demo.bank.clients.get(body["client_id"])["software_id"] == DEMO_SOFTWARE.software_id
    outcome = demo.bank.last
    assert outcome.ok and outcome.statement_trace.ok and outcome.request_trace.ok
    assert "HTTP 201" in str(outcome) and "jl-trace" in outcome._repr_html_()


def test_statement_values_take_precedence_over_plain_json(demo):
    ssa = demo.directory.issue_ssa(DEMO_SOFTWARE)
    token = demo.client.registration_request(ssa, demo.bank.issuer, client_name="Definitely Your Bank", software_roles=["PISP"])
    outcome = demo.bank.register(token)
    assert outcome.status == 201
    assert outcome.body["client_name"] == DEMO_SOFTWARE.client_name
    assert outcome.body["software_roles"] == list(DEMO_SOFTWARE.roles)  # not client metadata: ignored
    assert outcome.overridden == {"client_name": {"sent": "Definitely Your Bank", "registered": DEMO_SOFTWARE.client_name}}


def test_registered_metadata_ignores_unknown_members():
    metadata, overridden = registered_metadata({"client_name": "x", "made_up": 1}, {"software_client_name": "y"})
    assert metadata == {"client_name": "y"} and overridden == {"client_name": {"sent": "x", "registered": "y"}}


def test_strict_mode_raises_joselab_error(demo):
    with pytest.raises(InvalidSignature):
        demo.bank.statements.validate(tamper_claims(demo.directory.issue_ssa(DEMO_SOFTWARE), org_status="x"), strict=True)
    assert demo.bank.statements.validate(demo.directory.issue_ssa(DEMO_SOFTWARE), strict=True).ok


# -- the statement ----------------------------------------------------------------------------------


def test_ssa_malformed(demo):
    rejected(check_ssa(demo, "not.a.jwt"), MalformedToken)


def test_ssa_unsigned_is_refused_per_rfc7591_2_3(demo):
    claims = demo.directory.ssa_claims(DEMO_SOFTWARE)
    failed = rejected(check_ssa(demo, unsigned_jwt(claims)), AlgorithmNotAllowed, "RFC 7591 §2.3")
    assert "none" in failed.evidence
    # "None" spelled otherwise is still unsigned.
    rejected(check_ssa(demo, unsigned_jwt(claims, alg="NONE")), AlgorithmNotAllowed, "RFC 7591 §2.3")


def test_ssa_typ_must_be_jwt(demo):
    rejected(check_ssa(demo, ssa_with(demo, {"typ": "at+jwt"})), InvalidType, "OB Directory SSA")
    rejected(check_ssa(demo, ssa_with(demo, {"typ": None})), InvalidType)


def test_ssa_alg_allowlist(demo):
    key = demo_key("rfc7515-a4-p521").jwk
    rejected(check_ssa(demo, ssa_with(demo, {"alg": "ES512"}, key=key)), AlgorithmNotAllowed, "RFC 8725 §3.1")


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_ssa_embedded_keys_refused(demo, member):
    value = demo.directory.key.jwk.export_public(as_dict=True) if member == "jwk" else "https://evil.example/k"
    rejected(check_ssa(demo, ssa_with(demo, {member: value})), EmbeddedKeyRejected, "RFC 8725 §3.10")


def test_ssa_from_unknown_directory_is_unapproved(demo):
    rogue = generate_key("ES256", kid="rogue-directory-key")
    failed = rejected(check_ssa(demo, ssa_with(demo, key=rogue)), KeyNotFound, "RFC 7515 §4.1.4")
    assert "rogue-directory-key" in failed.evidence
    token = demo.client.registration_request(ssa_with(demo, key=rogue), demo.bank.issuer)
    outcome = demo.bank.register(token)
    assert outcome.status == 400 and outcome.body["error"] == UNAPPROVED_SOFTWARE_STATEMENT


def test_ssa_without_kid(demo):
    rejected(check_ssa(demo, ssa_with(demo, {"kid": None})), KeyNotFound)


def test_ssa_key_must_fit_alg(demo):
    # The directory's P-256 key named with PS256: one key, one algorithm (RFC 8725 §3.1).
    token = ssa_with(demo)
    header = {"alg": "PS256", "kid": demo.directory.key.kid, "typ": "JWT"}
    forged = sign_compact(parse_jws(token).claims(), demo.client.jwk, header)
    rejected(check_ssa(demo, forged), KeyNotFound, "RFC 8725 §3.1")


def test_ssa_signature_length(demo):
    token = ssa_with(demo)
    head, body, _ = token.split(".")
    short = f"{head}.{body}.{b64url_encode(b'0' * 63)}"
    rejected(check_ssa(demo, short), InvalidSignature, "RFC 7518 §3")


def test_ssa_tampered_roles_fail_the_signature(demo):
    token = tamper_claims(demo.directory.issue_ssa(DEMO_SOFTWARE), software_roles=["AISP", "PISP", "CBPII"])
    rejected(check_ssa(demo, token), InvalidSignature, "RFC 7515 §5.2")
    outcome = demo.bank.register(demo.client.registration_request(token, demo.bank.issuer))
    assert outcome.body["error"] == INVALID_SOFTWARE_STATEMENT and outcome.request_trace is None


def test_ssa_directory_jwks_unreachable(demo):
    demo.directory.server.stop()
    failed = rejected(check_ssa(demo, ssa_with(demo)), KeyNotFound)
    assert "not running" in failed.evidence


def _second_directory(demo, key) -> Directory:
    # The directory publishes its key with the alg it signs with: the key's own.
    other = Directory(
        demo.network, host="other.directory.example", key=key, alg=getattr(key, "alg", "ES256"), clock=demo.clock, ids=demo.ids
    )
    other.server.start()
    return other


def test_ssa_kid_in_two_directories_is_ambiguous(demo):
    other = _second_directory(demo, demo.directory.key)
    validator = SoftwareStatementValidator([demo.directory.trusted(), other.trusted()], demo.network, clock=demo.clock)
    rejected(validator.validate(ssa_with(demo)), KeyNotFound, "RFC 7517 §4.5")


def test_ssa_iss_must_be_the_directory_whose_key_verified(demo):
    other = _second_directory(demo, generate_key("ES256", kid="other-directory-key"))
    validator = SoftwareStatementValidator([demo.directory.trusted(), other.trusted()], demo.network, clock=demo.clock)
    # The demo directory signs, claiming to be the other (trusted) directory.
    rejected(validator.validate(ssa_with(demo, iss=other.issuer)), InvalidIssuer, "RFC 8725 §3.8")
    assert validator.validate(ssa_with(demo)).ok


@pytest.mark.parametrize("member", ["aud", "software_statement"])
def test_ssa_must_not_look_like_a_request(demo, member):
    rejected(check_ssa(demo, ssa_with(demo, **{member: "https://as.bank.example"})), InvalidClaim, "RFC 8725 §3.12")


@pytest.mark.parametrize("claim", ["iss", "iat", "jti", "software_id", "software_roles", "software_jwks_endpoint", "org_status"])
def test_ssa_required_claims(demo, claim):
    expected = InvalidIssuer if claim == "iss" else MissingClaim
    rejected(check_ssa(demo, ssa_with(demo, **{claim: None})), expected)


def test_ssa_missing_claim_rows_name_it(demo):
    failed = rejected(check_ssa(demo, ssa_with(demo, org_name=None)), MissingClaim, "OB Directory SSA")
    assert "org_name" in failed.evidence


#: The jti row: the string is RFC 7519 §4.1.7's, the 256-character bound is joselab's.
JTI_SHAPE = "joselab policy; RFC 7519 §4.1.7 sets no bound"


def test_ssa_iat_freshness(demo):
    rejected(check_ssa(demo, ssa_with(demo, iat="yesterday")), InvalidClaim, "RFC 7519 §4.1.6")
    rejected(check_ssa(demo, ssa_with(demo, iat=DEMO_EPOCH + 3600)), InvalidIssuedAt, "RFC 7519 §4.1.6")
    token = ssa_with(demo)
    demo.clock.advance(86_400 + 31)
    failed = rejected(check_ssa(demo, token), InvalidIssuedAt, "joselab policy; RFC 7519 §4.1.6 sets no bound")
    assert "old" in failed.name


def test_ssa_optional_exp_and_nbf_are_honoured(demo):
    rejected(check_ssa(demo, ssa_with(demo, exp=DEMO_EPOCH - 60)), TokenExpired, "RFC 7519 §4.1.4")
    rejected(check_ssa(demo, ssa_with(demo, nbf=DEMO_EPOCH + 600)), TokenNotYetValid, "RFC 7519 §4.1.5")
    assert check_ssa(demo, ssa_with(demo, exp=DEMO_EPOCH + 60, nbf=DEMO_EPOCH)).ok


def test_ssa_jti_shape(demo):
    rejected(check_ssa(demo, ssa_with(demo, jti=7)), InvalidClaim, JTI_SHAPE)
    rejected(check_ssa(demo, ssa_with(demo, jti="x" * 257)), InvalidClaim, JTI_SHAPE)


@pytest.mark.parametrize(
    "changes",
    [
        {"org_name": 5},
        {"software_id": ""},
        {"software_redirect_uris": ["http://app.hobbiton.example/callback"]},
        {"software_redirect_uris": []},
        {"software_redirect_uris": "https://app.hobbiton.example/callback"},
        {"software_roles": ["AISP", "ROOT"]},
        {"software_roles": []},
        {"software_jwks_endpoint": "http://keystore.directory.example/k.jwks"},
    ],
)
def test_ssa_claim_shapes(demo, changes):
    rejected(check_ssa(demo, ssa_with(demo, **changes)), InvalidClaim, "OB Directory SSA")


def test_ssa_org_status_must_be_active(demo):
    token = ssa_with(demo, org_status="Revoked")
    rejected(check_ssa(demo, token), SoftwareNotApproved, "OB Directory SSA")
    outcome = demo.bank.register(demo.client.registration_request(token, demo.bank.issuer))
    assert outcome.status == 400 and outcome.body["error"] == UNAPPROVED_SOFTWARE_STATEMENT


def test_unsigned_ssa_option_accepts_a_forgery(demo):
    validator = SoftwareStatementValidator([demo.directory.trusted()], demo.network, clock=demo.clock, accept_unsigned=True)
    forged = unsigned_jwt(demo.directory.ssa_claims(DEMO_SOFTWARE) | {"software_roles": ["AISP", "PISP", "CBPII"]})
    trace = validator.validate(forged)
    assert trace.ok and trace.result["software_roles"] == ["AISP", "PISP", "CBPII"]
    assert any(c.section == "OB DCR v3.2 (Self-signed SSA)" and "unsigned" in c.name for c in trace)
    # Still: an unsecured JWT has an empty signature, and iss must name a trusted directory.
    rejected(validator.validate(forged + "AAAA"), MalformedToken, "RFC 7519 §6")
    other = unsigned_jwt(demo.directory.ssa_claims(DEMO_SOFTWARE) | {"iss": "https://rogue.example"})
    rejected(validator.validate(other), InvalidIssuer, "RFC 7591 §2.3")
    rejected(validator.validate(unsigned_jwt(demo.directory.ssa_claims(DEMO_SOFTWARE), typ="JOSE")), InvalidType)
    # Signed statements still go through every signature check.
    rejected(validator.validate(tamper_claims(demo.directory.issue_ssa(DEMO_SOFTWARE), org_id="x")), InvalidSignature)


# -- the request ------------------------------------------------------------------------------------


@pytest.fixture
def ssa(demo):
    return demo.directory.issue_ssa(DEMO_SOFTWARE)


def test_request_keys_fetched_from_software_jwks_endpoint(demo):
    token = ssa_with(demo, software_jwks_endpoint="https://keystore.directory.example/nobody.jwks")
    failed = rejected(check_request(demo, request_with(demo, token)), KeyNotFound, "RFC 8725 §3.10")
    assert "404" in failed.evidence


def test_request_typ(demo, ssa):
    rejected(check_request(demo, request_with(demo, ssa, {"typ": "JOSE"})), InvalidType, "OB DCR v3.2")


def test_request_alg_allowlist(demo, ssa):
    token = sign_compact(
        demo.client.request_claims(ssa, demo.bank.issuer),
        demo.client.jwk,
        {"alg": "RS256", "kid": demo.client.jwk["kid"], "typ": "JWT"},
    )
    rejected(check_request(demo, token), AlgorithmNotAllowed, "RFC 8725 §3.1")


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_request_embedded_keys_refused(demo, ssa, member):
    rejected(
        check_request(demo, request_with(demo, ssa, {member: "https://evil.example/k"})), EmbeddedKeyRejected, "RFC 8725 §3.10"
    )


def test_request_signed_by_another_key(demo, ssa):
    other = generate_key("ES256", kid="someone-else")
    token = request_with(demo, ssa, {"alg": "ES256"}, key=other)
    rejected(check_request(demo, token), KeyNotFound, "RFC 7515 §4.1.4")
    rejected(
        check_request(demo, tamper_claims(request_with(demo, ssa), redirect_uris=["https://evil.example/cb"])), InvalidSignature
    )


@pytest.mark.parametrize("member", ["aud", "software_statement"])
def test_request_must_not_look_like_a_statement(demo, ssa, member):
    rejected(check_request(demo, request_with(demo, ssa, **{member: None}), ssa), MissingClaim, "RFC 8725 §3.12")


def test_request_statement_must_be_the_validated_one(demo, ssa):
    token = request_with(demo, ssa)
    claims = demo.bank.statements.validate(ssa).result
    other = demo.directory.issue_ssa(DEMO_SOFTWARE)  # a different jti, so a different JWT
    rejected(demo.bank.requests.validate(token, claims, other), InvalidClaim, "RFC 7591 §3.1.1")


def test_request_iss_is_the_software_id(demo, ssa):
    rejected(check_request(demo, request_with(demo, ssa, iss="sw-someone-else")), InvalidIssuer, OB_DCR_CLAIMS)


def test_request_aud_is_this_as(demo, ssa):
    rejected(check_request(demo, request_with(demo, ssa, aud="https://other-bank.example")), InvalidAudience, "RFC 8725 §3.9")


def test_request_exp(demo, ssa):
    rejected(check_request(demo, request_with(demo, ssa, exp=None)), MissingClaim, "RFC 7519 §4.1.4")
    token = request_with(demo, ssa)
    demo.clock.advance(300 + 30)
    rejected(check_request(demo, token, ssa), TokenExpired, "RFC 7519 §4.1.4")


def test_request_nbf_and_iat(demo, ssa):
    rejected(check_request(demo, request_with(demo, ssa, nbf=DEMO_EPOCH + 120)), TokenNotYetValid, "RFC 7519 §4.1.5")
    rejected(check_request(demo, request_with(demo, ssa, iat=DEMO_EPOCH + 120)), InvalidIssuedAt, "RFC 7519 §4.1.6")
    rejected(check_request(demo, request_with(demo, ssa, iat=None)), MissingClaim, "RFC 7519 §4.1.6")
    long_lived = request_with(demo, ssa, exp=DEMO_EPOCH + 7200)
    rejected(check_request(demo, long_lived), InvalidIssuedAt, "joselab policy; RFC 7519 §4.1.6 sets no bound")


def test_request_jti(demo, ssa):
    rejected(check_request(demo, request_with(demo, ssa, jti=None)), MissingClaim, JTI_SHAPE)
    rejected(check_request(demo, request_with(demo, ssa, jti="")), InvalidClaim, JTI_SHAPE)


def test_request_conflicting_software_id(demo, ssa):
    failed = rejected(check_request(demo, request_with(demo, ssa, software_id="sw-someone-else")), InvalidClaim, OB_DCR_CLAIMS)
    assert "software_id" in failed.name
    outcome = demo.bank.register(request_with(demo, ssa, software_id="sw-someone-else"))
    assert outcome.body["error"] == INVALID_CLIENT_METADATA


@pytest.mark.parametrize(
    ("uris", "section"),
    [
        (None, OB_DCR_CLAIMS),
        ([], OB_DCR_CLAIMS),
        ("https://app.hobbiton.example/callback", OB_DCR_CLAIMS),
        (["http://app.hobbiton.example/callback"], OB_DCR_CLAIMS),
        (["https://app.hobbiton.example/callback#frag"], OB_DCR_CLAIMS),
        (["https://app.hobbiton.example/callback", "https://evil.example/cb"], OB_DCR_CLAIMS),
    ],
)
def test_request_redirect_uris(demo, ssa, uris, section):
    token = request_with(demo, ssa, redirect_uris=uris)
    rejected(check_request(demo, token), InvalidRedirectUri, section)
    assert demo.bank.register(token).body["error"] == INVALID_REDIRECT_URI


def test_request_auth_method(demo, ssa):
    token = request_with(demo, ssa, token_endpoint_auth_method="client_secret_basic")
    rejected(check_request(demo, token), InvalidClaim, OB_DCR_CLAIMS)
    rejected(check_request(demo, request_with(demo, ssa, token_endpoint_auth_method=None)), InvalidClaim, OB_DCR_CLAIMS)


@pytest.mark.parametrize("member", ["jwks", "jwks_uri"])
def test_request_no_keys_in_metadata(demo, ssa, member):
    token = request_with(demo, ssa, **{member: "https://evil.example/jwks"})
    rejected(check_request(demo, token), InvalidClaim, OB_DCR_CLAIMS)


def test_replay_refused_and_not_consumed_by_a_refused_request(demo, ssa):
    bad = request_with(demo, ssa, redirect_uris=["https://evil.example/cb"])
    assert demo.bank.register(bad).status == 400
    # Same jti, now valid: the refused request did not use it up.
    jti = parse_jws(bad).claims()["jti"]
    good = request_with(demo, ssa, jti=jti)
    assert demo.bank.register(good).status == 201
    again = demo.bank.register(good)
    assert again.status == 400 and again.body["error"] == INVALID_CLIENT_METADATA
    rejected(again.request_trace, ReplayDetected, "RFC 7519 §4.1.7")


def test_replay_refused_after_a_restart_of_the_as(demo, ssa):
    token = demo.client.registration_request(ssa, demo.bank.issuer)
    first = demo.client.send(demo.network, demo.bank.register_url, token)
    assert first.status == 201
    client_id = first.json()["client_id"]
    old = demo.bank
    bank = demo.restart_bank()
    assert bank is not old and not old.server.running
    assert bank.clients.get(client_id) is not None  # registered clients survive too
    again = demo.client.send(demo.network, demo.bank.register_url, token)
    assert again.status == 400
    assert "jti not seen before" in again.json()["error_description"]
    rejected(bank.last.request_trace, ReplayDetected)
    # A fresh request from the same software still registers, with a new client_id.
    fresh = demo.client.send(demo.network, demo.bank.register_url, demo.client.registration_request(ssa, demo.bank.issuer))
    assert fresh.status == 201 and fresh.json()["client_id"] != client_id
    assert len(bank.clients.for_software(DEMO_SOFTWARE.software_id)) == 2


# -- RFC 8725 §3.12: the two kinds can never be confused, whatever key signed them ---------------


def test_request_never_validates_as_a_statement_even_with_a_trusted_key(demo, ssa):
    # A directory whose key is the client's: the request's signature would verify as a statement.
    rogue = _second_directory(demo, demo.client.key)
    validator = SoftwareStatementValidator([rogue.trusted()], demo.network, clock=demo.clock)
    claims = demo.client.request_claims(ssa, demo.bank.issuer, iss=rogue.issuer)
    token = sign_compact(claims, demo.client.jwk, {"alg": "PS256", "kid": demo.client.jwk["kid"], "typ": "JWT"})
    rejected(validator.validate(token), InvalidClaim, "RFC 8725 §3.12")


def test_statement_never_validates_as_a_request_even_with_a_trusted_key(demo):
    # Software whose jwks endpoint serves the directory's key: the SSA's signature verifies as a request.
    sw = Software("org-x", "X Ltd", "sw-x", "X", ("https://x.example/cb",), ("AISP",))
    demo.directory.enroll(sw, demo.directory.key)
    ssa = demo.directory.issue_ssa(sw)
    claims = demo.bank.statements.validate(ssa, strict=True).result
    fake = sign_compact(
        demo.directory.ssa_claims(sw) | {"iss": "sw-x"},
        demo.directory.key.jwk,
        {"alg": "ES256", "kid": demo.directory.key.kid, "typ": "JWT"},
    )
    rejected(demo.bank.requests.validate(fake, claims), MissingClaim, "RFC 8725 §3.12")
    rejected(demo.bank.requests.validate(ssa, claims), MissingClaim, "RFC 8725 §3.12")


# -- the endpoint, over HTTP ------------------------------------------------------------------------


def test_wrong_content_type_is_400(demo, ssa):
    token = demo.client.registration_request(ssa, demo.bank.issuer)
    response = demo.network.post(demo.bank.register_url, token.encode(), "application/json")
    assert response.status == 400 and response.json()["error"] == INVALID_CLIENT_METADATA
    assert demo.bank.last.statement_trace is None


def test_body_without_statement_is_400(demo):
    token = demo.client.sign({"iss": DEMO_SOFTWARE.software_id, "aud": demo.bank.issuer})
    response = demo.client.send(demo.network, demo.bank.register_url, token)
    assert response.status == 400 and "software_statement" in response.json()["error_description"]
    rejected(demo.bank.last.request_trace, MissingClaim, OB_DCR_CLAIMS)
    bad = demo.client.sign({"software_statement": 5})
    rejected(demo.bank.register(bad).request_trace, MalformedToken, OB_DCR_CLAIMS)


def test_non_ascii_body_is_400(demo):
    outcome = demo.bank.register("é".encode())
    assert outcome.status == 400 and outcome.body["error"] == INVALID_CLIENT_METADATA
    assert demo.network.post(demo.bank.register_url, b"\xff\xfe", "application/jwt").status == 400


def test_unsigned_statement_over_http_both_ways(tmp_path):
    # The attack of the notebook: an unsigned SSA for the victim's software_id, the attacker's keys.
    for accept, status in [(True, 201), (False, 400)]:
        demo = build_demo(tmp_path / f"{accept}.sqlite", accept_unsigned_ssa=accept)
        try:
            attacker_key = generate_key("ES256", kid="attacker-key")
            host = LocalServer("jwks.attacker.example", demo.network)
            host.serve_json("/keys.jwks", {"keys": [attacker_key.export_public(as_dict=True)]})
            host.start()
            claims = demo.directory.ssa_claims(DEMO_SOFTWARE) | {
                "software_jwks_endpoint": host.url("/keys.jwks"),
                "software_redirect_uris": ["https://attacker.example/cb"],
            }
            attacker = Client(
                Software("o", "o", DEMO_SOFTWARE.software_id, "n", ("https://attacker.example/cb",), ("AISP",)),
                key=attacker_key,
                alg="ES256",
                clock=demo.clock,
                ids=demo.ids,
            )
            token = attacker.registration_request(unsigned_jwt(claims), demo.bank.issuer)
            response = attacker.send(demo.network, demo.bank.register_url, token)
            assert response.status == status
            if not accept:
                assert response.json()["error"] == INVALID_SOFTWARE_STATEMENT
                rejected(demo.bank.last.statement_trace, AlgorithmNotAllowed, "RFC 7591 §2.3")
        finally:
            demo.close()


def test_https_url_helper():
    assert is_https_url("https://a.example/cb")
    for bad in ["http://a.example", "https://", "https://a.example/#x", 5, "https://" + "a" * 3000, "https://[::1"]:
        assert not is_https_url(bad)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(st.binary(max_size=200), st.text(alphabet="eyJ0.-_abcAZ", max_size=200)))
def test_garbage_bodies_are_400_never_a_crash(demo, body):
    data = body if isinstance(body, bytes) else body.encode()
    outcome = demo.bank.register(data)
    assert outcome.status == 400
    assert outcome.body["error"] in (INVALID_CLIENT_METADATA, INVALID_SOFTWARE_STATEMENT, UNAPPROVED_SOFTWARE_STATEMENT)


def test_garbage_statement_inside_a_signed_request(demo):
    for bad in ["x", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "." * 10]:
        outcome = demo.bank.register(demo.client.sign({"software_statement": bad}))
        assert outcome.status == 400 and outcome.body["error"] == INVALID_SOFTWARE_STATEMENT
        assert isinstance(outcome.statement_trace.error, JoselabError)


def test_ssa_directory_jwks_loaded_once_and_rotation_seen_next_call(demo):
    """The directory's set is fetched on every validation and loaded again only when it changed."""
    from joselab import public_jwks

    published = {"doc": public_jwks(demo.directory.key)}
    fetched: list[str] = []

    class Fetcher:
        def get_json(self, url: str) -> Any:
            fetched.append(url)
            return published["doc"]

    validator = SoftwareStatementValidator([demo.directory.trusted()], Fetcher(), clock=demo.clock)
    assert validator.validate(ssa_with(demo)).ok and validator.validate(ssa_with(demo)).ok
    assert len(fetched) == 2  # fetched each time
    # The directory rotates: its old key is gone, and the next validation sees that.
    rotated = generate_key("ES256", kid="directory-2027")
    published["doc"] = public_jwks(rotated)
    rejected(validator.validate(ssa_with(demo)), KeyNotFound)
    assert validator.validate(ssa_with(demo, key=rotated)).ok
    # A change made in place to the document object the fetcher returns is a change too.
    published["doc"]["keys"][0]["kid"] = "renamed"
    rejected(validator.validate(ssa_with(demo, key=rotated)), KeyNotFound)
