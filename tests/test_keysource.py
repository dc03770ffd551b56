"""joselab.keysource: discovery + JWK Set over real https (demo CA), the cache, and the named leniencies."""

from __future__ import annotations

import tempfile

import pytest
from jwcrypto import jwk

from joselab import FixedClock
from joselab.access_token import AccessTokenValidator
from joselab.errors import IssuerMismatch, KeyNotFound, KeySetError
from joselab.fetch import Fetcher
from joselab.jws import sign_compact
from joselab.keys import generate_key
from joselab.keysource import DiscoveredKeys, StaticKeys, oauth_metadata_url, openid_configuration_url
from joselab.parties.tls import Answer, DemoCA, DocumentServer

NOW = 1_767_225_600


@pytest.fixture(scope="module")
def ca():
    with tempfile.TemporaryDirectory() as d:
        yield DemoCA(d)


def _pub(key: jwk.JWK, **extra) -> dict:
    return {**key.export_public(as_dict=True), **extra}


class Issuer:
    """A metadata document and a JWK Set served over TLS; its keys can be changed between fetches."""

    def __init__(self, ca: DemoCA, *, jwks_cache: str = "max-age=600", issuer_override: str | None = None, path: str = ""):
        self.keys = [generate_key("RS256", kid="k1")]
        self.publish_alg = True
        self.server = DocumentServer(tls=ca.server_context())
        self.server.start()
        self.issuer = self.server.url(path)
        doc = {"issuer": issuer_override or self.issuer, "jwks_uri": self.server.url("/jwks")}
        self.server.answers[f"{path}/.well-known/openid-configuration"] = Answer.json(doc)
        self.server.answers[f"/.well-known/oauth-authorization-server{path}"] = Answer.json(doc)
        self.server.answers["/jwks"] = lambda: Answer.json(
            {"keys": [_pub(k, **({"alg": "RS256", "use": "sig"} if self.publish_alg else {})) for k in self.keys]},
            Cache_Control=jwks_cache,
        )

    def token(self, key: jwk.JWK | None = None, alg: str = "RS256", **claims) -> str:
        key = key or self.keys[0]
        body = {
            "iss": self.issuer,
            "aud": "https://api.example",
            "sub": "s",
            "client_id": "c",
            "iat": NOW,
            "exp": NOW + 300,
            "jti": "j",
        }
        return sign_compact({**body, **claims}, key, {"alg": alg, "typ": "at+jwt", "kid": key["kid"]})

    def close(self):
        self.server.stop()


@pytest.fixture
def issuer(ca):
    it = Issuer(ca)
    yield it
    it.close()


def _source(ca, issuer, clock, **kw) -> DiscoveredKeys:
    return DiscoveredKeys(issuer.issuer, fetcher=Fetcher(ca_bundle=ca.ca_file), clock=clock, **kw)


def _validator(keys, issuer, clock, **kw) -> AccessTokenValidator:
    return AccessTokenValidator(issuer=issuer.issuer, audience="https://api.example", keys=keys, clock=clock, **kw)


# -- the metadata URLs ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("issuer", "openid", "oauth"),
    [
        ("https://h", "https://h/.well-known/openid-configuration", "https://h/.well-known/oauth-authorization-server"),
        ("https://h/", "https://h/.well-known/openid-configuration", "https://h/.well-known/oauth-authorization-server"),
        ("https://h/t1", "https://h/t1/.well-known/openid-configuration", "https://h/.well-known/oauth-authorization-server/t1"),
        ("https://h/t1/", "https://h/t1/.well-known/openid-configuration", "https://h/.well-known/oauth-authorization-server/t1"),
        (
            "https://h:8443/a/b",
            "https://h:8443/a/b/.well-known/openid-configuration",
            "https://h:8443/.well-known/oauth-authorization-server/a/b",
        ),
    ],
)
def test_metadata_urls(issuer, openid, oauth):
    # OIDC Discovery §4.1 appends (trailing / removed); RFC 8414 §3 inserts before the path.
    assert openid_configuration_url(issuer) == openid
    assert oauth_metadata_url(issuer) == oauth


def test_unknown_discovery_kind():
    with pytest.raises(ValueError):
        DiscoveredKeys("https://h", discovery="webfinger")


# -- discovery ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["openid-configuration", "oauth-authorization-server"])
def test_discovery_from_the_issuer_alone(ca, kind):
    it = Issuer(ca, path="/tenant1")
    try:
        source = DiscoveredKeys(it.issuer, discovery=kind, fetcher=Fetcher(ca_bundle=ca.ca_file), clock=FixedClock(NOW))
        trace = source.discover()
        assert trace.ok, str(trace)
        sections = [c.section for c in trace]
        assert ("OIDC Discovery §4.3" if kind == "openid-configuration" else "RFC 8414 §3.3") in sections
        assert source.kids == ["k1"] and source.fetches == 1
        assert it.server.hits[source.metadata_url.split(str(it.server.port))[1]] == 1
    finally:
        it.close()


@pytest.mark.parametrize("kind", ["openid-configuration", "oauth-authorization-server"])
def test_issuer_mismatch_refused(ca, kind):
    it = Issuer(ca, issuer_override="https://impostor.example")
    try:
        source = DiscoveredKeys(it.issuer, discovery=kind, fetcher=Fetcher(ca_bundle=ca.ca_file), clock=FixedClock(NOW))
        trace = source.discover()
        assert not trace.ok and "identical" in trace.failed.name
        with pytest.raises(IssuerMismatch):
            source.discover(strict=True)
        assert it.server.hits["/jwks"] == 0  # the document was not used
        # Inside a validation: the token is refused at the key row, naming why.
        fresh = DiscoveredKeys(it.issuer, discovery=kind, fetcher=Fetcher(ca_bundle=ca.ca_file), clock=FixedClock(NOW))
        result = _validator(fresh, it, FixedClock(NOW)).validate(it.token())
        assert not result.ok and isinstance(result.error, KeyNotFound) and "identical" in result.error.evidence
    finally:
        it.close()


def test_discovery_without_the_ca_refused(issuer):
    source = DiscoveredKeys(issuer.issuer, fetcher=Fetcher(), clock=FixedClock(NOW))
    trace = source.discover()
    assert not trace.ok and trace.failed.section == "OIDC Discovery §7.1"


def test_unsafe_jwk_set_refused(ca, issuer):
    issuer.server.answers["/jwks"] = Answer.json({"keys": [_pub(issuer.keys[0]), _pub(issuer.keys[0])]})
    source = _source(ca, issuer, FixedClock(NOW))
    assert not source.discover().ok
    with pytest.raises(KeySetError):
        source.discover(strict=True)


# -- a validator on discovered keys -----------------------------------------------------------------
def test_validator_fetches_on_first_use_and_shows_it(ca, issuer):
    clock = FixedClock(NOW)
    trace = _validator(_source(ca, issuer, clock), issuer, clock).validate(issuer.token())
    assert trace.ok, str(trace)
    names = [c.name for c in trace]
    assert any("issuer is identical" in n for n in names) and any("JWK Set cached for 600s" in n for n in names)


def test_cache_max_age_honoured(ca, issuer):
    clock = FixedClock(NOW)
    source = _source(ca, issuer, clock)
    validator = _validator(source, issuer, clock)
    assert validator.validate(issuer.token()).ok
    clock.advance(599)
    assert validator.validate(issuer.token(iat=clock.now(), exp=clock.now() + 60)).ok
    assert issuer.server.hits["/jwks"] == 1  # fresh for 600s: no fetch
    clock.advance(1)
    assert validator.validate(issuer.token(iat=clock.now(), exp=clock.now() + 60)).ok
    assert issuer.server.hits["/jwks"] == 2 and source.log[-1] == "cache expired"


def test_short_max_age_raised_to_the_floor(ca):
    it = Issuer(ca, jwks_cache="max-age=1")
    try:
        clock = FixedClock(NOW)
        source = _source(ca, it, clock)
        source.discover()
        clock.advance(30)
        assert source({"alg": "RS256", "kid": "k1"}) is not None
        assert it.server.hits["/jwks"] == 1  # the 60s floor, not the server's 1s
    finally:
        it.close()


def test_rotation_picked_up_by_unknown_kid(ca, issuer):
    clock = FixedClock(NOW)
    source = _source(ca, issuer, clock)
    validator = _validator(source, issuer, clock)
    assert validator.validate(issuer.token()).ok
    new = generate_key("RS256", kid="k2")
    issuer.keys.insert(0, new)
    trace = validator.validate(issuer.token(new))
    assert trace.ok, str(trace)
    assert source.log[-1] == "unknown kid 'k2'" and issuer.server.hits["/jwks"] == 2


def test_unknown_kid_refetch_is_rate_limited(ca, issuer):
    clock = FixedClock(NOW)
    source = _source(ca, issuer, clock, min_refetch_interval=60)
    validator = _validator(source, issuer, clock)
    assert validator.validate(issuer.token()).ok
    stranger = generate_key("RS256", kid="made-up-1")
    first = validator.validate(issuer.token(stranger))
    assert isinstance(first.error, KeyNotFound) and "also after refetching" in first.error.evidence
    assert issuer.server.hits["/jwks"] == 2
    stranger2 = generate_key("RS256", kid="made-up-2")
    second = validator.validate(issuer.token(stranger2))
    assert isinstance(second.error, KeyNotFound) and "not refetched" in second.error.evidence
    assert issuer.server.hits["/jwks"] == 2  # no fetch: rate-limited
    clock.advance(60)
    validator.validate(issuer.token(stranger2, iat=clock.now(), exp=clock.now() + 60))
    assert issuer.server.hits["/jwks"] == 3


def test_outage_keeps_cached_keys(ca, issuer):
    clock = FixedClock(NOW)
    source = _source(ca, issuer, clock)
    source.discover()
    issuer.server.answers["/jwks"] = Answer.json({"error": "down"}, 503)
    clock.advance(700)
    assert source({"alg": "RS256", "kid": "k1"}) is not None
    assert source.log[-1].endswith("cached keys kept")


# -- key binding and the named leniencies -------------------------------------------------------------
def test_key_without_alg_refused_by_default(ca, issuer):
    issuer.publish_alg = False
    clock = FixedClock(NOW)
    trace = _validator(_source(ca, issuer, clock), issuer, clock).validate(issuer.token())
    assert isinstance(trace.error, KeyNotFound) and trace.error.section == "RFC 8725 §3.1"
    assert "key_algorithms" in trace.error.evidence


def test_key_without_alg_with_key_algorithms_shows_in_trace(ca, issuer):
    issuer.publish_alg = False
    clock = FixedClock(NOW)
    source = _source(ca, issuer, clock, key_algorithms={"RSA": "RS256"})
    validator = _validator(source, issuer, clock, algorithms=("RS256", "PS256"))
    trace = validator.validate(issuer.token())
    assert trace.ok, str(trace)
    row = next(c for c in trace if c.name.startswith("leniency key_algorithms"))
    assert "RS256" in row.name and "'RSA'" in row.evidence
    # The binding holds: the same key does not verify a PS256 token.
    ps = validator.validate(issuer.token(alg="PS256"))
    assert isinstance(ps.error, KeyNotFound) and "not PS256" in ps.error.evidence


def test_key_algorithms_by_kid_wins_over_type():
    key = generate_key("PS256", kid="a")
    source = StaticKeys({"keys": [_pub(key)]}, key_algorithms={"a": "PS256", "RSA": "RS256"})
    assert source({"alg": "PS256", "kid": "a"})["alg"] == "PS256"


def test_static_keys():
    key = generate_key("ES256", kid="e1")
    source = StaticKeys({"keys": [_pub(key, alg="ES256")]})
    assert source({"alg": "ES256", "kid": "e1"})["kid"] == "e1"
    assert source({"alg": "ES256", "kid": "other"}) is None
    assert source({"alg": "ES256"})["kid"] == "e1"  # the only key, no kid in the header
    two = StaticKeys({"keys": [_pub(key, alg="ES256"), _pub(generate_key("ES256", kid="e2"), alg="ES256")]})
    with pytest.raises(KeyNotFound):
        two({"alg": "ES256"})


def test_eddsa_refused_by_default_and_accepted_by_name():
    key = generate_key("Ed25519", kid="ed")
    clock = FixedClock(NOW)
    claims = {
        "iss": "https://i",
        "aud": "https://api.example",
        "sub": "s",
        "client_id": "c",
        "iat": NOW,
        "exp": NOW + 60,
        "jti": "j",
    }
    token = sign_compact(claims, key, {"alg": "EdDSA", "typ": "at+jwt", "kid": "ed"})
    doc = {"keys": [_pub(key, alg="Ed25519")]}
    strict = AccessTokenValidator(
        issuer="https://i", audience="https://api.example", keys=StaticKeys(doc), clock=clock, algorithms=("Ed25519", "EdDSA")
    )
    refused = strict.validate(token)
    assert isinstance(refused.error, KeyNotFound) and refused.error.section == "RFC 9864"
    lenient = AccessTokenValidator(
        issuer="https://i",
        audience="https://api.example",
        keys=StaticKeys(doc, accept_eddsa=True),
        clock=clock,
        algorithms=("Ed25519", "EdDSA"),
    )
    trace = lenient.validate(token)
    assert trace.ok, str(trace)
    assert any(c.name.startswith("leniency accept_eddsa") for c in trace)
    # Ed25519 itself needs no leniency.
    plain = sign_compact(claims, key, {"alg": "Ed25519", "typ": "at+jwt", "kid": "ed"})
    trace = strict.validate(plain)
    assert trace.ok and not any(c.name.startswith("leniency") for c in trace)


@pytest.mark.parametrize(
    ("metadata", "check"),
    [
        (["not", "an", "object"], "JSON object"),
        ({"issuer": None}, "identical"),
        ({}, "identical"),
        ("ISSUER", "jwks_uri present"),  # the issuer right, no jwks_uri
        ({"jwks_uri": 42}, "jwks_uri present"),
        ({"jwks_uri": "http://203.0.113.7/jwks"}, "https"),  # plain http off loopback
        ({"jwks_uri": "https://127.0.0.1:1/jwks#frag"}, "fragment"),
    ],
)
def test_hostile_metadata_refused(ca, metadata, check):
    it = Issuer(ca)
    try:
        if metadata == "ISSUER":
            metadata = {"issuer": it.issuer}
        elif isinstance(metadata, dict) and "jwks_uri" in metadata:
            metadata = {"issuer": it.issuer, **metadata}
        it.server.answers["/.well-known/openid-configuration"] = Answer.json(metadata)
        trace = _source(ca, it, FixedClock(NOW)).discover()
        assert not trace.ok and check in trace.failed.name, str(trace)
        assert it.server.hits["/jwks"] == 0
    finally:
        it.close()


def test_jwk_set_that_is_not_there(ca, issuer):
    issuer.server.answers["/jwks"] = Answer.json({"error": "gone"}, 404)
    trace = _source(ca, issuer, FixedClock(NOW)).discover()
    assert not trace.ok and trace.failed.name == "status is 200 OK"
