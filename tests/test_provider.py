"""joselab against a real, independent OpenID Provider: node-oidc-provider (npm), started on 127.0.0.1.

Production defaults throughout: fresh keys, the real clock on both sides, discovery from the issuer
URL alone over https verified against the demo CA made for the provider at run time."""

from __future__ import annotations

import tempfile

import pytest

from joselab.compact import parse_jws
from joselab.errors import AlgorithmNotAllowed, InvalidAudience, InvalidIssuedAt, KeyNotFound
from joselab.keysource import DiscoveredKeys
from joselab.parties.oidc_provider import ALGORITHMS, ClientConfig, ResourceConfig, provider_available
from joselab.provider import leniency_rows, start_lab


@pytest.fixture(scope="module")
def lab():
    ok, why = provider_available()
    assert ok, why  # make setup runs npm ci: the provider must be there
    long_lived = ResourceConfig("https://api.example/long", "RS256", ttl=7200)
    resources = [ResourceConfig(f"https://api.example/{a.lower()}", a) for a in ALGORITHMS] + [long_lived]
    with tempfile.TemporaryDirectory() as d, start_lab(d, resources=resources) as lab:
        yield lab
    assert not lab.provider.running


def _loose_options():
    clients = [ClientConfig("rp-rs256", "RS256"), ClientConfig("rp-eddsa", "EdDSA")]
    resources = [ResourceConfig("https://api.example/rs256", "RS256"), ResourceConfig("https://api.example/eddsa", "EdDSA")]
    return {"algorithms": ("RS256", "Ed25519"), "clients": clients, "resources": resources, "publish_alg": False}


@pytest.fixture(scope="module")
def loose_lab(lab):
    """A provider that publishes keys without alg and signs with EdDSA, as some real ones do; it runs
    in the Node process of ``lab`` (as in chapter 7), a provider of its own all the same."""
    with tempfile.TemporaryDirectory() as d, start_lab(d, alongside=lab, **_loose_options()) as loose:
        yield loose


def test_discovery_from_the_issuer_url_alone(lab):
    for kind in ("openid-configuration", "oauth-authorization-server"):
        source = lab.key_source(discovery=kind)
        trace = source.discover()
        assert trace.ok, str(trace)
        assert source.metadata["issuer"] == lab.issuer
        assert sorted(k["alg"] for k in source.keyset["keys"]) == sorted(ALGORITHMS)


def test_discovery_refuses_the_provider_without_its_ca(lab):
    from joselab.fetch import Fetcher

    with Fetcher() as untrusting:
        trace = DiscoveredKeys(lab.issuer, fetcher=untrusting).discover()
    assert not trace.ok and trace.failed.section == "OIDC Discovery §7.1"


def test_issuer_with_a_trailing_slash_is_another_issuer(lab):
    trace = DiscoveredKeys(lab.issuer + "/", fetcher=lab.fetcher).discover()
    assert not trace.ok and trace.failed.section == "OIDC Discovery §4.3"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_access_token_client_credentials(lab, alg):
    resource = f"https://api.example/{alg.lower()}"
    tokens = lab.client_credentials(f"rp-{alg.lower()}", resource)
    header = parse_jws(tokens.access_token).header
    assert header["alg"] == alg and header["typ"] == "at+jwt"
    trace = lab.access_token_validator(resource, algorithms=(alg,)).validate(tokens.access_token, required_scope="accounts")
    assert trace.ok, str(trace)
    assert trace.result["aud"] == resource and trace.result["client_id"] == f"rp-{alg.lower()}"
    assert not leniency_rows(trace)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_code_flow_id_token_and_access_token(lab, alg):
    client_id, resource = f"rp-{alg.lower()}", f"https://api.example/{alg.lower()}"
    tokens = lab.login(client_id, resource)
    assert tokens.iss == lab.issuer  # RFC 9207
    id_trace = lab.id_token_validator(client_id, alg).validate(tokens.id_token, nonce=tokens.nonce)
    assert id_trace.ok, str(id_trace)
    assert id_trace.result["sub"] == "demo-user"
    at_trace = lab.access_token_validator(resource, algorithms=(alg,)).validate(tokens.access_token, required_scope="accounts")
    assert at_trace.ok, str(at_trace)
    assert at_trace.result["sub"] == "demo-user"


def test_id_token_replay_refused(lab):
    tokens = lab.login("rp-rs256", "https://api.example/rs256")
    validator = lab.id_token_validator("rp-rs256", "RS256")
    assert validator.validate(tokens.id_token, nonce=tokens.nonce).ok
    assert not validator.validate(tokens.id_token, nonce=tokens.nonce).ok


def test_resource_indicator_is_the_audience(lab):
    tokens = lab.client_credentials("rp-es256", "https://api.example/es256")
    trace = lab.access_token_validator("https://api.example/rs256", algorithms=("ES256",)).validate(tokens.access_token)
    assert isinstance(trace.error, InvalidAudience)


def test_id_token_is_not_an_access_token(lab):
    tokens = lab.login("rp-rs256", "https://api.example/rs256")
    trace = lab.access_token_validator("rp-rs256", algorithms=("RS256",)).validate(tokens.id_token)
    assert not trace.ok and trace.failed.section == "RFC 9068 §4 (1)"


def test_wrong_algorithm_refused(lab):
    tokens = lab.client_credentials("rp-ps256", "https://api.example/ps256")
    trace = lab.access_token_validator("https://api.example/ps256", algorithms=("RS256",)).validate(tokens.access_token)
    assert isinstance(trace.error, AlgorithmNotAllowed)


def test_key_rotation_picked_up_through_the_cache(lab):
    keys = lab.key_source()
    validator = lab.access_token_validator("https://api.example/es256", algorithms=("ES256",), keys=keys)
    before = lab.client_credentials("rp-es256", "https://api.example/es256").access_token
    assert validator.validate(before).ok
    assert keys.fetches == 1
    old_kid = parse_jws(before).header["kid"]
    new_kid = lab.provider.rotate("ES256")
    after = lab.client_credentials("rp-es256", "https://api.example/es256").access_token
    assert parse_jws(after).header["kid"] == new_kid != old_kid
    trace = validator.validate(after)
    assert trace.ok, str(trace)
    assert keys.fetches == 2 and keys.log[-1] == f"unknown kid {new_kid!r}"
    assert any("JWK Set fetched" in c.name for c in trace)  # the refetch shows in the trace
    assert validator.validate(before).ok  # the old key is still published until its tokens expire
    # A second unknown kid within the interval is not refetched (the rate limit).
    lab.provider.rotate("ES256", keep_old=False)
    third = lab.client_credentials("rp-es256", "https://api.example/es256").access_token
    refused = validator.validate(third)
    assert isinstance(refused.error, KeyNotFound) and "not refetched" in refused.error.evidence
    assert keys.fetches == 2


def test_longer_lifetime_is_a_named_leniency(lab):
    token = lab.client_credentials("rp-rs256", "https://api.example/long").access_token
    strict = lab.access_token_validator("https://api.example/long", algorithms=("RS256",)).validate(token)
    assert isinstance(strict.error, InvalidIssuedAt)
    lenient = lab.access_token_validator("https://api.example/long", algorithms=("RS256",), max_lifetime=7200).validate(token)
    assert lenient.ok, str(lenient)
    assert [r["option"] for r in leniency_rows(lenient)] == ["max_lifetime"]


def test_keys_without_alg(loose_lab):
    source = loose_lab.key_source()
    assert source.discover().ok
    assert all("alg" not in k for k in source.keyset["keys"])
    token = loose_lab.client_credentials("rp-rs256", "https://api.example/rs256").access_token
    strict = loose_lab.access_token_validator("https://api.example/rs256", algorithms=("RS256",)).validate(token)
    assert isinstance(strict.error, KeyNotFound) and strict.error.section == "RFC 8725 §3.1"
    keys = loose_lab.key_source(key_algorithms={"RSA": "RS256"})
    lenient = loose_lab.access_token_validator("https://api.example/rs256", algorithms=("RS256",), keys=keys).validate(token)
    assert lenient.ok, str(lenient)
    assert [r["option"] for r in leniency_rows(lenient)] == ["key_algorithms"]


def test_eddsa_from_a_real_provider(loose_lab):
    token = loose_lab.client_credentials("rp-eddsa", "https://api.example/eddsa").access_token
    assert parse_jws(token).header["alg"] == "EdDSA"
    strict = loose_lab.access_token_validator("https://api.example/eddsa", algorithms=("Ed25519",)).validate(token)
    assert isinstance(strict.error, AlgorithmNotAllowed)
    keys = loose_lab.key_source(key_algorithms={"OKP Ed25519": "Ed25519"})
    half = loose_lab.access_token_validator("https://api.example/eddsa", algorithms=("Ed25519", "EdDSA"), keys=keys).validate(
        token
    )
    assert isinstance(half.error, KeyNotFound) and half.error.section == "RFC 9864"
    keys = loose_lab.key_source(key_algorithms={"OKP Ed25519": "Ed25519"}, accept_eddsa=True)
    lenient = loose_lab.access_token_validator("https://api.example/eddsa", algorithms=("Ed25519", "EdDSA"), keys=keys)
    trace = lenient.validate(token)
    assert trace.ok, str(trace)
    assert sorted(r["option"] for r in leniency_rows(trace)) == ["accept_eddsa", "key_algorithms"]
    tokens = loose_lab.login("rp-eddsa", "https://api.example/eddsa")
    id_trace = loose_lab.id_token_validator("rp-eddsa", "EdDSA", keys=keys).validate(tokens.id_token, nonce=tokens.nonce)
    assert id_trace.ok, str(id_trace)


def test_a_provider_that_cannot_start_is_a_joselab_error():
    # A symmetric key in its signing keys: oidc-provider refuses the configuration and exits; the
    # party reports it instead of waiting for a readiness line forever.
    from joselab.errors import JoselabError
    from joselab.keys import generate_key
    from joselab.parties.oidc_provider import NodeOidcProvider

    with tempfile.TemporaryDirectory() as d:
        provider = NodeOidcProvider(d, algorithms=("RS256",), keys={"RS256": generate_key("HS256")}, clients=[], resources=[])
        with pytest.raises(JoselabError) as err:
            provider.start()
        assert "did not start" in str(err.value)
        assert not provider.running


def test_a_provider_alongside_another_is_a_provider_of_its_own(lab):
    # Same Node process, separate issuer, port, keys and clients; each stops on its own, and the
    # process ends with the last of its providers.
    from joselab.errors import JoselabError
    from joselab.keys import generate_key
    from joselab.parties.oidc_provider import NodeOidcProvider

    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2, tempfile.TemporaryDirectory() as d3:
        first = start_lab(d1, algorithms=("ES256",))
        second = start_lab(d2, alongside=first, **_loose_options())
        node = first.provider._node
        assert second.provider._node is node and second.issuer != first.issuer
        first_keys, second_keys = first.key_source(), second.key_source()
        assert first_keys.discover().ok and second_keys.discover().ok
        assert [k["alg"] for k in first_keys.keyset["keys"]] == ["ES256"]
        assert all("alg" not in k for k in second_keys.keyset["keys"])
        # A configuration oidc-provider refuses is an error for that provider alone.
        refused = NodeOidcProvider(d3, algorithms=("RS256",), keys={"RS256": generate_key("HS256")}, clients=[], resources=[])
        with pytest.raises(JoselabError) as err:
            refused.start(alongside=first.provider)
        assert "did not start" in str(err.value) and not refused.running
        # The process has one clock: a provider on another one is refused.
        frozen = NodeOidcProvider(d3, algorithms=("RS256",), fixed_time=1767225600)
        with pytest.raises(JoselabError):
            frozen.start(alongside=first.provider)
        first.close()
        assert not first.provider.running and second.provider.running and node.alive
        with first.provider.fetcher() as trusting_first:  # its port no longer answers
            assert not DiscoveredKeys(first.issuer, fetcher=trusting_first).discover().ok
        token = second.client_credentials("rp-rs256", "https://api.example/rs256").access_token
        keys = second.key_source(key_algorithms={"RSA": "RS256"})
        assert second.access_token_validator("https://api.example/rs256", algorithms=("RS256",), keys=keys).validate(token).ok
        second.close()
        assert not second.provider.running
        node.proc.wait(timeout=5)
        assert not node.alive
