"""Mutual-TLS certificate-bound access tokens (RFC 8705 §2.1, §3) over real TLS on 127.0.0.1: the AS's
token endpoint authenticates the client by its certificate and binds the token to it; the API
compares the binding with the certificate of each connection."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from joselab import DEMO_EPOCH, DemoIds, FixedClock, decode_unverified
from joselab.access_token import TPP_CLIENT_ID, build_demo
from joselab.cnf import certificate_thumbprint
from joselab.errors import FetchError
from joselab.parties.tls import DemoCA

API = "https://api.bank.example"
SUB = "248289761001"


@pytest.fixture(scope="module")
def demo():
    with tempfile.TemporaryDirectory() as d:
        demo = build_demo(d, clock=FixedClock(DEMO_EPOCH), ids=DemoIds(7), mtls=True)
        yield demo
        demo.close()


def code(demo, client_id=TPP_CLIENT_ID, scope="accounts") -> str:
    return demo.authorization_server.authorize(sub=SUB, client_id=client_id, audience=API, scope=scope)


@pytest.fixture(scope="module")
def bound_token(demo) -> str:
    status, body = demo.token_request(code(demo), client_id=TPP_CLIENT_ID, identity=demo.tpp)
    assert status == 200, body
    return body["access_token"]


def test_the_as_advertises_its_mtls_token_endpoint(demo):
    metadata = demo.network.get_json("https://as.bank.example/.well-known/oauth-authorization-server")
    assert metadata["tls_client_certificate_bound_access_tokens"] is True  # RFC 8705 §3.3
    assert metadata["token_endpoint_auth_methods_supported"] == ["tls_client_auth"]
    assert metadata["token_endpoint"] == "https://as.bank.example/token"
    assert demo.api.server.base_url.startswith("https://127.0.0.1:")


def test_the_token_is_bound_to_the_certificate_of_the_token_request(demo, bound_token):
    claims = decode_unverified(bound_token).payload
    assert claims["cnf"] == {"x5t#S256": certificate_thumbprint(demo.tpp.der)}
    assert claims["sub"] == SUB and claims["client_id"] == TPP_CLIENT_ID
    # RFC 8705 §3.2: introspection conveys the same cnf.
    assert demo.introspection.introspect(bound_token)["cnf"] == claims["cnf"]


def test_the_bound_token_works_over_its_own_certificate(demo, bound_token):
    status, challenge, body = demo.call("/accounts", bound_token, identity=demo.tpp)
    assert (status, challenge, body["sub"]) == (200, "", SUB)
    assert demo.api.last_trace.checks[-2].section == "RFC 8705 §3, §3.1"


def test_a_stolen_token_over_another_certificate_gets_401_at_the_binding_row(demo, bound_token):
    status, challenge, body = demo.call("/accounts", bound_token, identity=demo.mallory)
    assert status == 401 and body["error"] == "invalid_token"  # RFC 8705 §3, RFC 6750 §3.1
    assert body["error_description"].startswith("RFC 8705 §3, §3.1: the client certificate of this TLS connection")
    assert 'error="invalid_token"' in challenge and "RFC 8705 section 3" in challenge
    row = demo.api.last_trace.failed
    assert row.section == "RFC 8705 §3, §3.1" and certificate_thumbprint(demo.mallory.der) in row.evidence


def test_a_stolen_token_without_a_certificate_gets_401_at_the_binding_row(demo, bound_token):
    status, _, body = demo.call("/accounts", bound_token)
    assert status == 401 and body["error"] == "invalid_token"
    assert demo.api.last_trace.failed.evidence == "no client certificate on this connection"


def test_a_certificate_from_another_ca_does_not_get_through_the_handshake(demo, bound_token, tmp_path):
    stranger = DemoCA(tmp_path).issue_client("stranger")
    with pytest.raises(FetchError, match="SSL"):
        demo.call("/accounts", bound_token, identity=stranger)


def test_a_dpop_bound_token_presented_as_bearer_gets_401(demo):
    token = demo.authorization_server.issue_access_token(
        sub=SUB,
        client_id=TPP_CLIENT_ID,
        audience=API,
        scope="accounts",
        cnf={"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},
    )
    status, _, body = demo.call("/accounts", token, identity=demo.tpp)
    assert status == 401 and body["error"] == "invalid_token"
    assert demo.api.last_trace.failed.section == "RFC 9449 §7.1, §7.2"


def test_an_unbound_token_still_works_over_mtls_and_without(demo):
    token = demo.authorization_server.issue_access_token(sub=SUB, client_id=TPP_CLIENT_ID, audience=API, scope="accounts")
    assert demo.call("/accounts", token, identity=demo.tpp)[0] == 200
    assert demo.call("/accounts", token)[0] == 200
    assert not any("RFC 8705" in c.section for c in demo.api.last_trace)


@pytest.mark.parametrize(
    "who,form,error",
    [
        ("mallory", {}, "invalid_client"),  # RFC 8705 §2.1: not the registered subject
        (None, {}, "invalid_client"),  # RFC 8705 §2: no certificate
        ("tpp", {"client_id": ""}, "invalid_request"),  # RFC 8705 §2: client_id is required
        ("tpp", {"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ("tpp", {"code": "made-up"}, "invalid_grant"),
    ],
)
def test_the_token_endpoint_refuses(demo, who, form, error):
    from urllib.parse import urlencode

    fields = {"grant_type": "authorization_code", "code": code(demo), "client_id": TPP_CLIENT_ID, **form}
    resp = demo.network.request(
        "POST",
        "https://as.bank.example/token",
        body=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        identity=getattr(demo, who) if who else None,
    )
    assert resp.status == 400 and resp.json()["error"] == error  # RFC 6749 §5.2


def test_a_code_is_used_once_and_only_by_its_client(demo):
    first = code(demo)
    assert demo.token_request(first, client_id=TPP_CLIENT_ID, identity=demo.tpp)[0] == 200
    assert demo.token_request(first, client_id=TPP_CLIENT_ID, identity=demo.tpp)[1]["error"] == "invalid_grant"
    someone_elses = code(demo, client_id="another-client")
    assert demo.token_request(someone_elses, client_id=TPP_CLIENT_ID, identity=demo.tpp)[1]["error"] == "invalid_grant"


def test_expired_code_is_refused():
    with tempfile.TemporaryDirectory() as d:
        clock = FixedClock(DEMO_EPOCH)
        demo = build_demo(d, clock=clock, ids=DemoIds(8), mtls=True)
        try:
            stale = code(demo)
            clock.advance(601)  # RFC 6749 §4.1.2: at most 10 minutes
            assert demo.token_request(stale, client_id=TPP_CLIENT_ID, identity=demo.tpp)[1]["error"] == "invalid_grant"
        finally:
            demo.close()
        assert not demo.api.server.running and not demo.authorization_server.server.running


def test_seeded_demo_certificates_are_the_same_on_every_run(demo, tmp_path):
    again = DemoCA(
        tmp_path, demo.ca.name, seed=b"joselab demo: directory.example transport CA", not_before=demo.ca._validity[0]
    ).issue_client("tpp", demo.tpp.subject)
    assert again.der == demo.tpp.der and Path(again.cert_file).read_bytes() == Path(demo.tpp.cert_file).read_bytes()
    assert demo.tpp.subject == "CN=sw-budget-buddy-01,O=Hobbiton Fintech Ltd,C=GB"
    fresh = DemoCA(tmp_path / "fresh")  # the default: random keys, a day's validity
    assert fresh.issue_client("tpp").der != fresh.issue_client("tpp").der
