"""Scenario 2 (RFC 9068): every resource-server check fails on the token that breaks it, the JWKS cache
refetches once (counted by the real JWKS server), and the API answers RFC 6750 §3 over real HTTP."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joselab_testkit import forge_jws
from jwcrypto import jwk

from joselab import DEMO_EPOCH, DemoIds, FixedClock, b64url_encode, demo_key, sign_compact
from joselab.access_token import (
    ACCESS_TOKEN_TYPES,
    MAX_LEEWAY,
    SCOPE_SECTION,
    AccessTokenValidator,
    AuthorizationServer,
    IntrospectionClient,
    JwksCache,
    bearer_challenge,
    build_demo,
    metadata_url,
)
from joselab.errors import (
    AlgorithmNotAllowed,
    EmbeddedKeyRejected,
    FetchError,
    InsufficientScope,
    InvalidAudience,
    InvalidClaim,
    InvalidHeader,
    InvalidIssuedAt,
    InvalidIssuer,
    InvalidSignature,
    InvalidType,
    JoselabError,
    KeyNotFound,
    KeySetError,
    MalformedToken,
    MissingClaim,
    TokenExpired,
    TokenNotYetValid,
    UnexpectedTokenKind,
    UnsupportedCritical,
)
from joselab.parties import LocalServer, Network

ISS = "https://as.bank.example"
API = "https://api.bank.example"
AS_KEY = demo_key("rfc7515-a2-rsa")
NEW_KEY = demo_key("rfc7520-frodo-rsa")
ATTACKER_KEY = demo_key("rfc7520-bilbo-rsa")


def published(*keys, alg="RS256") -> jwk.JWKSet:
    keyset = jwk.JWKSet()
    for key in keys:
        keyset.add(jwk.JWK(**{**key.jwk.export_public(as_dict=True), "alg": alg, "use": "sig"}))
    return keyset


def claims(**changes):
    base = {
        "iss": ISS,
        "exp": DEMO_EPOCH + 300,
        "aud": API,
        "sub": "alice",
        "client_id": "tpp-1",
        "iat": DEMO_EPOCH,
        "jti": "8f0c6a52-3a53-4a4d-9d0e-6a5a8f7d6c01",
        "scope": "accounts",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def token(payload=None, *, key=AS_KEY, header=None) -> str:
    head = {"alg": "RS256", "typ": "at+jwt", "kid": key.kid}
    head.update(header or {})
    head = {k: v for k, v in head.items() if v is not ...}
    return sign_compact(claims() if payload is None else payload, key.jwk, head)


def unsigned(header, payload) -> str:
    def enc(value):
        return b64url_encode(json.dumps(value, separators=(",", ":")).encode())

    return f"{enc(header)}.{enc(payload)}."


@pytest.fixture
def clock():
    return FixedClock(DEMO_EPOCH)


@pytest.fixture
def validator(clock):
    return AccessTokenValidator(issuer=ISS, audience=API, keys=published(AS_KEY), clock=clock)


def failed(trace):
    assert not trace.ok, str(trace)
    return trace.failed, trace.error


# -- the happy path and the order of the rows -----------------------------------------------------
def test_valid_token_passes_in_spec_order(validator):
    trace = validator.validate(token(), required_scope="accounts")
    assert trace.ok, str(trace)
    assert trace.result["sub"] == "alice"
    sections = [c.section for c in trace]
    # typ before anything keyed; the signature before any claim; scope last.
    order = [sections.index(s) for s in ("RFC 9068 §4 (1)", "RFC 9068 §4 (2)", "RFC 8725 §3.1", "RFC 9068 §4 (5)")]
    order += [sections.index(s) for s in ("RFC 9068 §4 (3)", "RFC 9068 §4 (4)", "RFC 9068 §4 (6)", "RFC 9068 §2.2")]
    order.append(sections.index(SCOPE_SECTION))
    assert order == sorted(order)
    assert sections[-1] == SCOPE_SECTION


@pytest.mark.parametrize("typ", (*ACCESS_TOKEN_TYPES, "AT+JWT"))
def test_both_typ_spellings_pass(validator, typ):
    assert validator.validate(token(header={"typ": typ})).ok


def test_optional_claims_pass(validator):
    payload = claims(auth_time=DEMO_EPOCH - 60, acr="urn:mace:incommon:iap:silver", amr=["pwd", "otp"])
    assert validator.validate(token(payload)).ok


def test_strict_returns_trace_or_raises(validator):
    assert validator.validate(token(), strict=True).ok
    with pytest.raises(InvalidAudience):
        validator.validate(token(claims(aud="https://other.example")), strict=True)


def test_no_required_scope_means_no_scope_row(validator):
    trace = validator.validate(token())
    assert trace.ok and SCOPE_SECTION not in [c.section for c in trace]


# -- each check, made to fail --------------------------------------------------------------------
def test_malformed_token(validator):
    check, error = failed(validator.validate("not.a-token"))
    assert isinstance(error, MalformedToken) and check.section == "RFC 7515 §7.1"


@pytest.mark.parametrize("typ", ["JWT", ..., "id_token+jwt", "at+jwt; charset=utf-8", 1])
def test_typ_other_than_at_jwt_fails_first(validator, typ):
    check, error = failed(validator.validate(token(header={"typ": typ})))
    assert isinstance(error, InvalidType) and check.section == "RFC 9068 §4 (1)"
    # Nothing keyed or claimed was looked at: the rows before are parsing only.
    assert [c.section for c in validator.validate(token(header={"typ": typ}))] == ["RFC 7515 §7.1", "RFC 9068 §4 (1)"]


def test_id_token_presented_as_access_token(validator):
    id_token = token(
        {"iss": ISS, "sub": "alice", "aud": "tpp-1", "exp": DEMO_EPOCH + 300, "iat": DEMO_EPOCH, "nonce": "n-0S6"},
        header={"typ": "JWT"},
    )
    _, error = failed(validator.validate(id_token))
    assert isinstance(error, InvalidType)


def test_jwe_is_refused_as_no_encryption_was_agreed(validator):
    five_parts = "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a.b.c.d"
    check, error = failed(validator.validate(five_parts))
    assert isinstance(error, UnexpectedTokenKind) and check.section == "RFC 9068 §4 (2)"


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", None])
def test_alg_off_the_allowlist(validator, alg):
    header = {"alg": alg, "typ": "at+jwt", "kid": AS_KEY.kid}
    check, error = failed(validator.validate(unsigned(header, claims())))
    assert isinstance(error, AlgorithmNotAllowed) and check.section == "RFC 8725 §3.1"


def test_alg_none_with_typ_missing_fails_on_typ_first(validator):
    _, error = failed(validator.validate(unsigned({"alg": "none"}, claims())))
    assert isinstance(error, InvalidType)


def test_unknown_crit_fails(validator):
    check, error = failed(validator.validate(token(header={"crit": ["exp"], "exp": 1})))
    assert isinstance(error, UnsupportedCritical) and check.section == "RFC 7515 §4.1.11"


def test_embedded_key_is_not_trusted(validator):
    forged = token(key=ATTACKER_KEY, header={"jwk": ATTACKER_KEY.jwk.export_public(as_dict=True)})
    check, error = failed(validator.validate(forged))
    assert isinstance(error, EmbeddedKeyRejected) and check.section == "RFC 8725 §3.10"


def test_unknown_kid_fails(validator):
    check, error = failed(validator.validate(token(key=ATTACKER_KEY)))
    assert isinstance(error, KeyNotFound) and check.section == "RFC 7515 §4.1.4"


def test_key_published_for_rs256_is_not_used_for_ps256(validator):
    pss = token(header={"alg": "PS256"})
    check, error = failed(validator.validate(pss))
    assert isinstance(error, KeyNotFound) and check.name == "the key kid selects is one for PS256"


def test_ps256_passes_where_the_key_is_published_for_it(clock):
    ps = AccessTokenValidator(issuer=ISS, audience=API, keys=published(AS_KEY, alg="PS256"), clock=clock)
    assert ps.validate(token(header={"alg": "PS256"})).ok


def test_truncated_signature_fails_on_length(validator):
    head, body, sig = token().split(".")
    short = b64url_encode(base64.urlsafe_b64decode(sig + "==")[:-3])
    check, error = failed(validator.validate(f"{head}.{body}.{short}"))
    assert isinstance(error, InvalidSignature) and check.section == "RFC 7518 §3"


def test_tampered_payload_fails_the_signature(validator):
    head, _, sig = token().split(".")
    richer = b64url_encode(json.dumps(claims(scope="accounts transactions")).encode())
    check, error = failed(validator.validate(f"{head}.{richer}.{sig}"))
    assert isinstance(error, InvalidSignature) and check.section == "RFC 9068 §4 (5)"


def test_signed_by_another_key_with_the_as_kid_fails_the_signature(validator):
    forged = token(key=ATTACKER_KEY, header={"kid": AS_KEY.kid})
    check, error = failed(validator.validate(forged))
    assert isinstance(error, InvalidSignature) and check.section == "RFC 9068 §4 (5)"


def test_payload_not_a_json_object_after_signature(validator):
    forged = sign_compact(b"[1,2]", AS_KEY.jwk, {"alg": "RS256", "typ": "at+jwt", "kid": AS_KEY.kid})
    check, error = failed(validator.validate(forged))
    assert isinstance(error, MalformedToken) and check.section == "RFC 7519 §7.2"


@pytest.mark.parametrize("iss", ["https://as.bank.example/", "https://AS.bank.example", "https://evil.example", ..., 7])
def test_issuer_must_match_exactly(validator, iss):
    check, error = failed(validator.validate(token(claims(iss=iss))))
    assert isinstance(error, InvalidIssuer) and check.section == "RFC 9068 §4 (3)"


@pytest.mark.parametrize("aud", ["https://payments.bank.example", ["https://a.example", "https://b.example"], [], ..., 5])
def test_audience_must_contain_this_api(validator, aud):
    check, error = failed(validator.validate(token(claims(aud=aud))))
    assert isinstance(error, InvalidAudience) and check.section == "RFC 9068 §4 (4)"


def test_audience_list_containing_this_api_passes(validator):
    assert validator.validate(token(claims(aud=["https://other.example", API]))).ok


def test_expired_beyond_leeway(validator, clock):
    clock.advance(300 + 60)
    check, error = failed(validator.validate(token()))
    assert isinstance(error, TokenExpired) and check.section == "RFC 9068 §4 (6)"


def test_expired_within_leeway_passes(validator, clock):
    clock.advance(300 + 59)
    assert validator.validate(token()).ok


@pytest.mark.parametrize("exp", ["1767225900", True, None])
def test_exp_must_be_a_numeric_date(validator, exp):
    check, error = failed(validator.validate(token(claims(exp=exp))))
    assert isinstance(error, InvalidClaim) and check.section == "RFC 9068 §4 (6)"


def test_missing_exp(validator):
    check, error = failed(validator.validate(token(claims(exp=...))))
    assert isinstance(error, MissingClaim) and check.section == "RFC 9068 §4 (6)"


def test_not_yet_valid(validator):
    check, error = failed(validator.validate(token(claims(nbf=DEMO_EPOCH + 120))))
    assert isinstance(error, TokenNotYetValid) and check.section == "RFC 7519 §4.1.5"


@pytest.mark.parametrize(("name", "section"), [("nbf", "RFC 7519 §4.1.5"), ("iat", "RFC 7519 §4.1.6")])
def test_nbf_and_iat_must_be_numeric_dates(validator, name, section):
    check, error = failed(validator.validate(token(claims(**{name: "2026-01-01T00:00:00Z"}))))
    assert isinstance(error, InvalidClaim) and check.section == section


@pytest.mark.parametrize(
    ("extra", "expected", "section"),
    [
        ({"b64": False, "crit": ["b64"]}, UnsupportedCritical, "RFC 7515 §4.1.11"),
        ({"b64": "false"}, InvalidHeader, "RFC 7797 §3"),
    ],
)
def test_unencoded_payload_is_not_a_jwt(validator, extra, expected, section):
    # A JWT's payload is always base64url-encoded; this validator does not opt in to b64: false.
    header = {"alg": "RS256", "typ": "at+jwt", "kid": AS_KEY.kid, **extra}
    forged = forge_jws(header, json.dumps(claims()).encode(), AS_KEY.jwk, "RS256")
    check, error = failed(validator.validate(forged))
    assert isinstance(error, expected) and check.section == section


def test_issued_in_the_future(validator):
    check, error = failed(validator.validate(token(claims(iat=DEMO_EPOCH + 120))))
    assert isinstance(error, InvalidIssuedAt) and check.section == "RFC 7519 §4.1.6"


def test_lifetime_over_the_maximum(validator):
    check, error = failed(validator.validate(token(claims(exp=DEMO_EPOCH + 3601))))
    assert isinstance(error, InvalidIssuedAt) and "lifetime" in check.name


def test_missing_iat(validator):
    check, error = failed(validator.validate(token(claims(iat=...))))
    assert isinstance(error, MissingClaim) and check.section == "RFC 7519 §4.1.6"


@pytest.mark.parametrize("name", ["sub", "client_id", "jti"])
def test_required_claims(validator, name):
    check, error = failed(validator.validate(token(claims(**{name: ...}))))
    assert isinstance(error, MissingClaim) and check.section == "RFC 9068 §2.2" and name in check.evidence


@pytest.mark.parametrize(("name", "value"), [("sub", ""), ("client_id", 42), ("jti", ["x"])])
def test_required_string_claims_have_their_type(validator, name, value):
    check, error = failed(validator.validate(token(claims(**{name: value}))))
    assert isinstance(error, InvalidClaim) and check.section == "RFC 9068 §2.2"


@pytest.mark.parametrize(("name", "value"), [("auth_time", "yesterday"), ("acr", 1), ("amr", "pwd"), ("amr", [1])])
def test_optional_claims_have_their_type(validator, name, value):
    check, error = failed(validator.validate(token(claims(**{name: value}))))
    assert isinstance(error, InvalidClaim) and check.section == "RFC 9068 §2.2.1"


@pytest.mark.parametrize("scope", [["accounts"], "accounts  transactions", " accounts", "", 'a"b'])
def test_scope_is_a_space_delimited_string(validator, scope):
    check, error = failed(validator.validate(token(claims(scope=scope))))
    assert isinstance(error, InvalidClaim) and check.section == "RFC 9068 §2.2.3"


@pytest.mark.parametrize("scope", ["transactions", "accounts:read", ...])
def test_insufficient_scope(validator, scope):
    check, error = failed(validator.validate(token(claims(scope=scope)), required_scope="accounts"))
    assert isinstance(error, InsufficientScope) and check.section == SCOPE_SECTION
    # Not a numbered step of RFC 9068 §4: the paragraph after them, on the §2.2.3 claims.
    assert SCOPE_SECTION == "RFC 9068 §4, §2.2.3" and check.name == "authorization: scope includes 'accounts'"


def test_scope_among_several_passes(validator):
    assert validator.validate(token(claims(scope="transactions accounts")), required_scope="accounts").ok


@pytest.mark.parametrize("leeway", [-1, MAX_LEEWAY + 1])
def test_leeway_is_bounded(clock, leeway):
    with pytest.raises(ValueError):
        AccessTokenValidator(issuer=ISS, audience=API, keys=published(AS_KEY), clock=clock, leeway=leeway)


def test_none_is_never_on_the_allowlist(clock):
    v = AccessTokenValidator(issuer=ISS, audience=API, keys=published(AS_KEY), clock=clock, algorithms=("none", "RS256"))
    _, error = failed(v.validate(unsigned({"alg": "none", "typ": "at+jwt"}, claims())))
    assert isinstance(error, AlgorithmNotAllowed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=200).map(lambda b: base64.urlsafe_b64encode(b).decode())))
def test_hostile_input_is_a_trace_never_a_crash(validator, text):
    trace = validator.validate(text)
    assert not trace.ok and isinstance(trace.error, JoselabError)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=300), st.sampled_from([0, 1, 7]))
def test_any_single_byte_change_is_refused(validator, position, delta):
    good = token()
    position %= len(good)
    changed = good[:position] + chr((ord(good[position]) + 1 + delta) % 128) + good[position + 1 :]
    if changed != good:
        assert not validator.validate(changed).ok


# -- the AS, the JWKS cache and the API over real HTTP -------------------------------------------
@pytest.fixture
def demo(tmp_path, clock):
    d = build_demo(tmp_path, clock=clock, ids=DemoIds(7))
    yield d
    d.close()


def issue(demo, **changes):
    args = {"sub": "alice", "client_id": "tpp-1", "audience": API, "scope": "accounts"}
    args.update(changes)
    return demo.authorization_server.issue_access_token(**args)


def test_as_publishes_metadata_and_keys(demo):
    meta = demo.network.get_json(metadata_url(ISS))
    assert meta["issuer"] == ISS and meta["jwks_uri"] == f"{ISS}/jwks"
    keys = demo.network.get_json(meta["jwks_uri"])["keys"]
    assert [k["kid"] for k in keys] == [AS_KEY.kid]
    assert keys[0]["alg"] == "RS256" and keys[0]["use"] == "sig" and "d" not in keys[0]


def test_issued_token_is_rfc9068_and_deterministic(tmp_path, clock):
    tokens = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        d = build_demo(tmp_path / run, clock=clock, ids=DemoIds(7))
        try:
            tokens.append(issue(d))
        finally:
            d.close()
    assert tokens[0] == tokens[1]
    header = json.loads(base64.urlsafe_b64decode(tokens[0].split(".")[0] + "=="))
    assert header == {"alg": "RS256", "typ": "at+jwt", "kid": AS_KEY.kid}


def test_metadata_url_follows_rfc8414():
    assert metadata_url("https://as.bank.example") == "https://as.bank.example/.well-known/oauth-authorization-server"
    assert metadata_url("https://h.example/tenant1") == "https://h.example/.well-known/oauth-authorization-server/tenant1"


def test_keys_are_fetched_once_then_cached(demo):
    hits = demo.authorization_server.server.hits
    for _ in range(3):
        assert demo.validator.validate(issue(demo)).ok
    assert hits["/.well-known/oauth-authorization-server"] == 1
    assert hits["/jwks"] == 1


def test_unknown_kid_refetches_once_rate_limited(demo, clock):
    hits = demo.authorization_server.server.hits
    assert demo.validator.validate(issue(demo)).ok
    assert hits["/jwks"] == 1
    clock.advance(60)
    check, error = failed(demo.validator.validate(token(key=ATTACKER_KEY)))
    assert isinstance(error, KeyNotFound) and "after refetching" in check.evidence
    assert hits["/jwks"] == 2
    # A flood of made-up kids within the interval: no request reaches the AS.
    for i in range(20):
        check, error = failed(demo.validator.validate(token(key=ATTACKER_KEY, header={"kid": f"kid-{i}"})))
        assert isinstance(error, KeyNotFound) and "not refetched" in check.evidence
    assert hits["/jwks"] == 2
    clock.advance(60)
    failed(demo.validator.validate(token(key=ATTACKER_KEY)))
    assert hits["/jwks"] == 3


def test_key_rotation_causes_exactly_one_refetch(demo, clock):
    auth, hits = demo.authorization_server, demo.authorization_server.server.hits
    old = issue(demo)
    assert demo.validator.validate(old).ok
    clock.advance(60)
    new_kid = auth.rotate_key(NEW_KEY)
    assert new_kid == NEW_KEY.kid and auth.signing_kid == new_kid
    new = issue(demo)
    assert demo.validator.validate(old).ok and hits["/jwks"] == 1  # old key still cached and published
    assert demo.validator.validate(new).ok and hits["/jwks"] == 2  # the new kid: one refetch
    for _ in range(3):
        assert demo.validator.validate(new).ok and demo.validator.validate(old).ok
    assert hits["/jwks"] == 2
    assert demo.cache.log == ["first use", f"unknown kid {new_kid!r}"]


def test_retired_key_stops_validating_after_the_cache_ages(demo, clock):
    auth = demo.authorization_server
    assert demo.validator.validate(issue(demo)).ok
    auth.rotate_key(NEW_KEY)
    auth.retire_key(AS_KEY.kid)
    clock.advance(400)
    # Someone still holding the retired key mints a fresh token: cached, so it still passes...
    late = token(claims(iat=clock.now(), exp=clock.now() + 300))
    assert demo.validator.validate(late).ok
    # ...until the cache's max age, when the set is fetched again and the key is gone.
    clock.advance(200)
    late = token(claims(iat=clock.now(), exp=clock.now() + 300))
    _, error = failed(demo.validator.validate(late))
    assert isinstance(error, KeyNotFound)
    assert demo.cache.kids == [NEW_KEY.kid]


def test_cannot_retire_the_signing_key(demo):
    with pytest.raises(KeySetError):
        demo.authorization_server.retire_key(AS_KEY.kid)


def test_cached_keys_survive_an_as_outage(demo, clock):
    assert demo.validator.validate(issue(demo)).ok
    demo.authorization_server.server.stop()
    clock.advance(700)  # past max_age: the refresh fails, the cache is kept
    fresh = token(claims(iat=clock.now(), exp=clock.now() + 300))
    assert demo.validator.validate(fresh).ok


def test_first_fetch_failure_is_a_key_error_and_rate_limited(tmp_path, clock):
    network = Network()
    cache = JwksCache(network, "https://as.bank.example", clock=clock)
    v = AccessTokenValidator(issuer=ISS, audience=API, keys=cache, clock=clock)
    check, error = failed(v.validate(token()))
    assert isinstance(error, KeyNotFound) and "not a party" in check.evidence
    check, error = failed(v.validate(token()))
    assert "retry later" in check.evidence and cache.fetches == 1


def test_metadata_issuer_mismatch_is_refused(clock):
    network = Network()
    mixup = LocalServer("evil.example", network)
    mixup.serve_json("/.well-known/oauth-authorization-server", {"issuer": ISS, "jwks_uri": "https://evil.example/jwks"})
    mixup.serve_json("/jwks", {"keys": [ATTACKER_KEY.jwk.export_public(as_dict=True)]})
    with network:
        cache = JwksCache(network, "https://evil.example", clock=clock)
        with pytest.raises(FetchError, match=r"RFC 8414 §3\.3"):
            cache.refresh()
        assert mixup.hits["/jwks"] == 0


def test_metadata_without_https_jwks_uri_is_refused(clock):
    network = Network()
    plain = LocalServer("plain.example", network)
    plain.serve_json(
        "/.well-known/oauth-authorization-server", {"issuer": "https://plain.example", "jwks_uri": "http://plain.example/jwks"}
    )
    with network:
        with pytest.raises(FetchError, match="https jwks_uri"):
            JwksCache(network, "https://plain.example", clock=clock).refresh()


def test_jwks_with_private_keys_is_refused(clock):
    network = Network()
    leaky = LocalServer("leaky.example", network)
    leaky.serve_json(
        "/.well-known/oauth-authorization-server", {"issuer": "https://leaky.example", "jwks_uri": "https://leaky.example/jwks"}
    )
    leaky.serve_json("/jwks", {"keys": [AS_KEY.jwk.export(as_dict=True)]})
    with network:
        with pytest.raises(KeySetError):
            JwksCache(network, "https://leaky.example", clock=clock).refresh()


# -- the API: RFC 6750 §3 over HTTP --------------------------------------------------------------
def challenge_params(value: str) -> dict[str, str]:
    scheme, _, rest = value.partition(" ")
    assert scheme == "Bearer"
    params = {}
    for part in rest.split('", '):
        name, _, val = part.partition("=")
        params[name.strip()] = val.strip('"')
    return params


def test_api_200_with_a_valid_token(demo):
    status, challenge, body = demo.call("/accounts", issue(demo))
    assert status == 200 and challenge == "" and body["sub"] == "alice"
    assert demo.api.last_trace.ok


def test_api_401_without_credentials_has_no_error_code(demo):
    status, challenge, _ = demo.call("/accounts", None)
    assert status == 401 and challenge == 'Bearer realm="api.bank.example"'


def test_api_401_for_another_scheme(demo):
    resp = demo.network.request("GET", f"{API}/accounts", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert resp.status == 401 and "error=" not in resp.headers["www-authenticate"]


def test_api_400_for_a_malformed_bearer_value(demo):
    resp = demo.network.request("GET", f"{API}/accounts", headers={"Authorization": "Bearer a b"})
    assert resp.status == 400 and challenge_params(resp.headers["www-authenticate"])["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda d, c: (issue(d), c.advance(361))[0], "RFC 9068 section 4 (6): now is before exp"),
        (lambda d, c: issue(d, audience="https://payments.bank.example"), "RFC 9068 section 4 (4): aud contains"),
        (lambda d, c: token(header={"typ": "JWT"}), "RFC 9068 section 4 (1): typ is"),
        (lambda d, c: unsigned({"alg": "none", "typ": "at+jwt"}, claims()), "RFC 8725 section 3.1: alg on the allowlist"),
    ],
)
def test_api_401_invalid_token_names_the_check(demo, clock, make, named):
    tok = make(demo, clock)
    status, challenge, body = demo.call("/accounts", tok)
    params = challenge_params(challenge)
    assert status == 401 and params["error"] == "invalid_token" and body["error"] == "invalid_token"
    assert params["error_description"].startswith(named)
    # RFC 6750 §3: the description uses only %x20-21 / %x23-5B / %x5D-7E.
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in params["error_description"])


def test_api_403_insufficient_scope_with_scope_attribute(demo):
    status, challenge, body = demo.call("/transactions", issue(demo, scope="accounts"))
    params = challenge_params(challenge)
    assert status == 403 and params["error"] == "insufficient_scope" and params["scope"] == "transactions"
    assert body["error"] == "insufficient_scope"
    assert demo.call("/transactions", issue(demo, scope="accounts transactions"))[0] == 200


def test_bearer_challenge_quotes_safely():
    value = bearer_challenge("r", "invalid_token", 'RFC 9068 §4 (3): iss equals "x\\y" →')
    assert value == 'Bearer realm="r", error="invalid_token", error_description="RFC 9068 section 4 (3): iss equals \'x/y\' "'


# -- introspection and the revocation gap -----------------------------------------------------------
def test_introspection_active_then_revoked_while_local_validation_accepts(demo):
    tok = issue(demo)
    doc = demo.introspection.introspect(tok)
    assert doc["active"] is True and doc["sub"] == "alice" and doc["scope"] == "accounts" and doc["token_type"] == "Bearer"
    assert demo.authorization_server.revoke(tok)
    assert demo.introspection.introspect(tok) == {"active": False}
    assert demo.validator.validate(tok).ok  # the gap: local validation cannot see the revocation


def test_introspection_inactive_when_expired_or_unknown(demo, clock):
    tok = issue(demo)
    clock.advance(300)
    assert demo.introspection.introspect(tok) == {"active": False}
    assert demo.introspection.introspect(token()) == {"active": False}  # valid-looking, never issued
    assert not demo.authorization_server.revoke(token())


@pytest.mark.parametrize(
    "authorization", [None, "Basic " + base64.b64encode(b"api.bank.example:wrong").decode(), "Bearer x", "Basic %%%"]
)
def test_introspection_requires_the_resource_server_to_authenticate(demo, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    url = f"{ISS}/introspect"
    resp = demo.network.post(url, b"token=abc", "application/x-www-form-urlencoded", headers=headers)
    assert resp.status == 401 and resp.json() == {"error": "invalid_client"}


def test_introspection_client_with_a_wrong_secret_gets_a_fetch_error(demo):
    wrong = IntrospectionClient(demo.network, f"{ISS}/introspect", "api.bank.example", "not-the-secret")
    with pytest.raises(FetchError, match="401"):
        wrong.introspect(issue(demo))
    assert "not-the-secret" not in repr(wrong)


def test_introspection_without_token_is_400(demo):
    resp = demo.network.post(
        f"{ISS}/introspect",
        b"",
        "application/x-www-form-urlencoded",
        headers={"Authorization": demo.introspection._authorization},
    )
    assert resp.status == 400 and resp.json()["error"] == "invalid_request"


def test_as_records_tokens_in_sqlite(tmp_path, clock):
    network = Network()
    auth = AuthorizationServer(network, clock=clock, ids=DemoIds(1), db_path=tmp_path / "as.sqlite")
    tok = auth.issue_access_token(sub="bob", client_id="c", audience=API, scope="accounts")
    auth.db.close()
    reopened = AuthorizationServer(Network(), clock=clock, ids=DemoIds(1), db_path=tmp_path / "as.sqlite")
    try:
        assert reopened.introspect(tok)["sub"] == "bob"
    finally:
        reopened.db.close()
