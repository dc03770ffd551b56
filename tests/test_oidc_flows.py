"""Scenario 3, issue 12: the ID token allowlist is the registered alg; EdDSA ID tokens; the hybrid flow
(c_hash, s_hash, one nonce for the two ID tokens of one authentication); mix-up and its defences
(RFC 9207 iss, per-OP redirect URIs, RFC 9700 §4.4); one key per algorithm at every issuer, with
alg and use published; issuer identifiers with a path."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from joselab import DEMO_EPOCH, DemoIds, FixedClock, b64url_encode, demo_key, load_jwks
from joselab.access_token import AccessTokenValidator, AuthorizationServer, JwksCache, metadata_url
from joselab.attacks import MixUpOP
from joselab.errors import (
    AlgorithmNotAllowed,
    InvalidClaim,
    InvalidIssuer,
    JoselabError,
    MissingClaim,
    ReplayDetected,
)
from joselab.id_token import (
    C_HASH_SECTION,
    S_HASH_SECTION,
    ClientRegistration,
    IdTokenValidator,
    OpenIDProvider,
    RelyingParty,
    demo_signing_keys,
    token_hash,
)
from joselab.parties import Database, Network, ReplayStore
from joselab.registration import Directory, SoftwareStatementValidator

CLIENT = "client.example"
BANK_CB = "https://client.example/cb/bank"
SECRET = DemoIds(11).token(32)
_SEEDS = itertools.count(5000)
HYBRID = ("code", "code id_token")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    clock = FixedClock(DEMO_EPOCH)
    store = tmp_path_factory.mktemp("oidc_flows")
    net = Network()
    op = OpenIDProvider(net, clock=clock, store_dir=store, signing_keys=demo_signing_keys())
    regs = {
        "rs": op.register(ClientRegistration(CLIENT, (BANK_CB,), client_secret=SECRET, response_types=HYBRID)),
        "ps": op.register(ClientRegistration("ps.example", ("https://ps.example/cb",), id_token_signed_response_alg="PS256")),
        "ed": op.register(ClientRegistration("ed.example", ("https://ed.example/cb",), id_token_signed_response_alg="Ed25519")),
    }
    tenant = OpenIDProvider(
        net, clock=clock, store_dir=store, host="idp.bank.example", issuer_path="/tenant1", signing_keys=demo_signing_keys()
    )
    tenant.register(ClientRegistration(CLIENT, (BANK_CB,), client_secret=SECRET))
    net.start()
    yield SimpleNamespace(clock=clock, net=net, op=op, tenant=tenant, regs=regs, store=store)
    net.close()
    op.db.close()
    tenant.db.close()


@pytest.fixture(autouse=True)
def _reset(world):
    world.clock.set(DEMO_EPOCH)


def rp(world, key="rs", **options) -> RelyingParty:
    options.setdefault("ids", DemoIds(next(_SEEDS)))
    return RelyingParty(world.net, world.regs[key], issuer=world.op.issuer, clock=world.clock, store_dir=world.store, **options)


def stopped_at(trace, section, error):
    assert not trace.ok, str(trace)
    assert trace.failed is trace.checks[-1]
    assert trace.failed.section == section, str(trace)
    assert type(trace.error) is error, str(trace)


# -- the allowlist is the registered alg (OIDC Registration §2), not the OP's whole list -------------------
def test_allowlist_is_the_registered_alg_not_what_the_op_advertises(world):
    client = rp(world)
    client.discover()
    assert len(client.metadata["id_token_signing_alg_values_supported"]) > 1
    assert client.validator.algorithms == ("RS256",)  # RS256: what the registration says (its default)
    request = client.authorization_request()
    # The OP signs this client's token with PS256, an alg it supports but the client never registered:
    # refused at the JOSE layer's allowlist, before any key is tried (RFC 8725 §3.1).
    token = world.op.issue_id_token(CLIENT, nonce=request.nonce, alg="PS256")
    trace = client.validator.validate(token, nonce=request.nonce)
    stopped_at(trace, "RFC 8725 §3.1", AlgorithmNotAllowed)
    assert "alg on the allowlist" in trace.failed.name


def test_registration_default_is_rs256():
    assert ClientRegistration("x", ("https://x.example/cb",)).id_token_signed_response_alg == "RS256"


def test_a_ps256_client_accepts_ps256_only(world):
    client = rp(world, "ps")
    tokens, trace = client.login()
    assert trace.ok, str(trace)
    assert client.validator.algorithms == ("PS256",)
    header = json.loads(base64.urlsafe_b64decode(tokens.id_token.split(".")[0] + "=="))
    assert header["alg"] == "PS256" and header["kid"] == demo_key("rfc7517-a2-rsa").kid


# -- EdDSA ID tokens -----------------------------------------------------------------------------------
def test_ed25519_login_with_sha512_hashes(world):
    client = rp(world, "ed")
    tokens, trace = client.login()
    assert trace.ok, str(trace)
    claims = trace.result
    # Independently of joselab: SHA-512, left half (OpenID Connect WG consensus, issue #1125).
    assert claims["at_hash"] == b64url_encode(hashlib.sha512(tokens.access_token.encode()).digest()[:32])
    assert claims["c_hash"] == b64url_encode(hashlib.sha512(tokens.code.encode()).digest()[:32])
    assert any("SHA-512" in c.evidence and "#1125" in c.evidence for c in trace.checks)


def test_ed25519_at_hash_of_sha256_is_refused(world):
    # A provider that hashed with SHA-256 (the mistake several made) is refused at the at_hash row.
    client = rp(world, "ed")
    request = client.authorization_request()
    wrong = b64url_encode(hashlib.sha256(b"the-access-token").digest()[:16])
    token = world.op.issue_id_token("ed.example", nonce=request.nonce, overrides={"at_hash": wrong})
    trace = client.validator.validate(token, nonce=request.nonce, access_token="the-access-token")
    stopped_at(trace, "OIDC Core §3.1.3.8, §3.2.2.9", InvalidClaim)


# -- the hybrid flow ---------------------------------------------------------------------------------------
def hybrid_response(client):
    request = client.authorization_request(response_type="code id_token")
    location = client.authorize(request)
    assert "#" in location and "?" not in location.split("#")[0]  # OIDC Core §3.3.2.5: the fragment
    return client.receive_response(location)


def test_hybrid_login_validates_both_id_tokens_with_one_nonce(world):
    client = rp(world)
    tokens, trace = client.login(response_type="code id_token")
    assert trace.ok, str(trace)
    front = json.loads(base64.urlsafe_b64decode(tokens.front_id_token.split(".")[1] + "=="))
    assert front["nonce"] == trace.result["nonce"] == tokens.request.nonce
    assert front["c_hash"] == token_hash(tokens.code, "RS256")
    assert front["s_hash"] == token_hash(tokens.request.state, "RS256")
    # Each ID token of that authentication was accepted once; a third presentation is a replay.
    again = client.validate(tokens)
    stopped_at(again, "OIDC Core §3.1.3.7 (11), §3.3.3.6", ReplayDetected)


def test_hybrid_front_channel_trace(world):
    client = rp(world)
    response = hybrid_response(client)
    trace = client.validate_front_channel(response)
    assert trace.ok, str(trace)
    sections = [c.section for c in trace.checks]
    assert C_HASH_SECTION in sections and S_HASH_SECTION in sections


def test_hybrid_nonce_of_an_earlier_authentication_is_refused(world):
    client = rp(world)
    first = hybrid_response(client)
    assert client.validate_front_channel(first).ok
    second = hybrid_response(client)
    # The first authentication's front-channel ID token, with its own nonce, presented as part of
    # the second authentication (its code): the store keys the nonce to the first code.
    trace = client.validator.validate(first.id_token, nonce=first.request.nonce, code=second.code, hybrid=True)
    assert trace.failed is not None and trace.failed.section in (C_HASH_SECTION, "OIDC Core §3.1.3.7 (11), §3.3.3.6")
    # Without a c_hash to stop it first, the replay row does.
    token = world.op.issue_id_token(CLIENT, nonce=first.request.nonce)
    trace = client.validator.validate(token, nonce=first.request.nonce, code=second.code, hybrid=True)
    stopped_at(trace, "OIDC Core §3.1.3.7 (11), §3.3.3.6", ReplayDetected)


def test_code_flow_nonce_is_still_one_use(world):
    client = rp(world)
    tokens, trace = client.login()
    assert trace.ok
    stopped_at(client.validate(tokens), "OIDC Core §3.1.3.7 (11)", ReplayDetected)


def test_front_channel_without_c_hash_is_refused(world):
    client = rp(world)
    response = hybrid_response(client)
    token = world.op.issue_id_token(CLIENT, nonce=response.request.nonce, state=response.state)  # no code: no c_hash
    trace = client.validator.validate(token, nonce=response.request.nonce, code=response.code, front_channel=True)
    stopped_at(trace, C_HASH_SECTION, MissingClaim)
    assert "REQUIRED" in trace.failed.name


def test_front_channel_c_hash_of_another_code_is_refused(world):
    client = rp(world)
    response = hybrid_response(client)
    token = world.op.issue_id_token(CLIENT, nonce=response.request.nonce, code="another-code", state=response.state)
    trace = client.validator.validate(token, nonce=response.request.nonce, code=response.code, front_channel=True)
    stopped_at(trace, C_HASH_SECTION, InvalidClaim)


def test_front_channel_s_hash_binds_state(world):
    client = rp(world)
    response = hybrid_response(client)
    token = world.op.issue_id_token(CLIENT, nonce=response.request.nonce, code=response.code, state="another-state")
    trace = client.validator.validate(
        token, nonce=response.request.nonce, code=response.code, state=response.state, front_channel=True
    )
    stopped_at(trace, S_HASH_SECTION, InvalidClaim)
    token = world.op.issue_id_token(CLIENT, nonce=response.request.nonce, code=response.code)  # no s_hash
    trace = client.validator.validate(
        token, nonce=response.request.nonce, code=response.code, state=response.state, front_channel=True
    )
    stopped_at(trace, S_HASH_SECTION, MissingClaim)


def _validator(world, db, table, **options) -> IdTokenValidator:
    return IdTokenValidator(
        issuer=world.op.issuer,
        client_id=CLIENT,
        keys=load_jwks(world.op.jwks()),
        clock=world.clock,
        nonce_store=ReplayStore(db, table),
        client_secret=SECRET,
        **options,
    )


def test_token_response_without_c_hash_passes_and_says_so(world, tmp_path):
    # Outside a front-channel response c_hash is OPTIONAL (OIDC Core §3.3.2.11): the row says so and passes;
    # a client whose policy requires it refuses, and the row says that is joselab policy.
    db = Database(tmp_path / "n.sqlite")
    try:
        trace = _validator(world, db, "n").validate(world.op.issue_id_token(CLIENT, nonce="n-1"), nonce="n-1", code="abc")
        assert trace.ok, str(trace)
        row = trace.checks[-1]
        assert row.section == C_HASH_SECTION and "OPTIONAL" in row.name and row.evidence == "absent"
        strict = _validator(world, db, "m", require_hashes=True)
        trace = strict.validate(world.op.issue_id_token(CLIENT, nonce="n-2"), nonce="n-2", code="abc")
        stopped_at(trace, C_HASH_SECTION, MissingClaim)
        assert "joselab policy" in trace.failed.name
    finally:
        db.close()


def test_hash_rows_cite_the_claims_own_sections():
    with pytest.raises(AlgorithmNotAllowed) as exc:
        token_hash("code", "none", section=C_HASH_SECTION)
    assert exc.value.section == C_HASH_SECTION


def test_hybrid_requires_a_nonce(world):
    client = rp(world)
    client.discover()
    params = {
        "response_type": "code id_token",
        "client_id": CLIENT,
        "redirect_uri": BANK_CB,
        "scope": "openid",
        "state": "s-1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    resp = world.net.request("GET", f"{client.metadata['authorization_endpoint']}?{urlencode(params)}")
    fragment = parse_qs(urlsplit(resp.headers["location"]).fragment)
    assert fragment["error"] == ["invalid_request"] and fragment["iss"] == [world.op.issuer]


def test_replay_store_owner_semantics(tmp_path):
    db = Database(tmp_path / "s.sqlite")
    try:
        store = ReplayStore(db, "t")
        assert store.first_use("n", 100, 0, owner="A", max_uses=2)
        assert store.first_use("n", 100, 0, owner="A", max_uses=2)
        assert not store.first_use("n", 100, 0, owner="A", max_uses=2)  # a third time
        assert not store.first_use("n", 100, 0, owner="B", max_uses=2)  # another authentication
        assert not store.first_use("n", 100, 0)  # without an owner: a replay as before
    finally:
        db.close()


# -- mix-up (RFC 9700 §4.4) --------------------------------------------------------------------------------
@pytest.fixture
def mixup(world):
    """The client uses the honest OP and the attacker's; a second client instance for the attacker."""
    attacker = MixUpOP(
        world.net,
        clock=world.clock,
        store_dir=world.store,
        host=f"op{next(_SEEDS)}.attacker.example",
        honest_authorization_endpoint=world.op.metadata()["authorization_endpoint"],
        honest_client_id=CLIENT,
        honest_redirect_uri=BANK_CB,
    ).start()
    yield attacker
    attacker.stop()


def at_attacker(world, attacker, redirect_uri, **options):
    reg = attacker.register(ClientRegistration("client-at-attacker", (redirect_uri,)))
    return RelyingParty(
        world.net, reg, issuer=attacker.issuer, clock=world.clock, store_dir=world.store, ids=DemoIds(next(_SEEDS)), **options
    )


def test_mixup_steals_the_code_from_a_naive_client(world, mixup):
    # One redirect URI for both OPs and no iss check: the client cannot tell who answered.
    session = at_attacker(world, mixup, BANK_CB, check_response_iss=False)
    request = session.authorization_request()
    response = session.receive_response(session.authorize(request))
    assert response.iss == world.op.issuer  # the honest OP answered, and said so
    with pytest.raises(JoselabError):
        session.redeem(response)  # posted to the attacker's token endpoint
    assert mixup.stolen == [(response.code, request.code_verifier)]


def test_mixup_stopped_by_rfc9207_iss(world, mixup):
    session = at_attacker(world, mixup, BANK_CB)
    request = session.authorization_request()
    with pytest.raises(InvalidIssuer) as exc:
        session.receive_response(session.authorize(request))
    assert exc.value.section == "RFC 9207 §2.4" and world.op.issuer in str(exc.value)
    assert mixup.stolen == []


def test_mixup_stopped_by_per_op_redirect_uris(world, mixup):
    # Even without the iss check: the honest OP sends the code to the redirect URI registered there,
    # which is not the one this client uses for the attacker's OP.
    session = at_attacker(world, mixup, "https://client.example/cb/attacker", check_response_iss=False)
    request = session.authorization_request()
    with pytest.raises(InvalidIssuer) as exc:
        session.receive_response(session.authorize(request))
    assert exc.value.section == "RFC 9700 §4.4.2.2"
    assert mixup.stolen == []


def test_missing_iss_refused_when_the_op_announces_it(world):
    client = rp(world)
    request = client.authorization_request()
    location = client.authorize(request)
    parts = urlsplit(location)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "iss"}
    with pytest.raises(InvalidIssuer) as exc:
        client.receive_response(f"{BANK_CB}?{urlencode(query)}")
    assert exc.value.section == "RFC 9207 §2.4"


# -- issuers: one key per algorithm, alg and use on every published key, metadata = algs used --------------
def test_op_keys_one_per_algorithm_with_alg_and_use(world):
    keys = world.op.jwks()["keys"]
    assert all(k.get("use") == "sig" and isinstance(k.get("alg"), str) for k in keys)
    assert len({k["kid"] for k in keys}) == len(keys) == len({k["alg"] for k in keys})
    assert not any("d" in k for k in keys)
    advertised = world.op.metadata()["id_token_signing_alg_values_supported"]
    assert advertised == [k["alg"] for k in keys] + ["HS256"]
    assert world.op.metadata()["authorization_response_iss_parameter_supported"] is True


def test_op_refuses_one_key_for_two_algorithms(world):
    rsa = demo_key("rfc7515-a2-rsa")
    with pytest.raises(JoselabError, match="one algorithm"):
        OpenIDProvider(
            Network(), clock=world.clock, store_dir=world.store, host="x.example", signing_keys={"RS256": rsa, "PS256": rsa}
        )


def test_op_refuses_a_client_alg_it_has_no_key_for(world):
    with pytest.raises(JoselabError, match="no key for ES256"):
        world.op.register(ClientRegistration("es.example", ("https://es.example/cb",), id_token_signed_response_alg="ES256"))


def test_rs256_access_token_key_differs_from_ps256_id_token_key(world):
    at = world.op.issue_access_token(CLIENT)
    it = world.op.issue_id_token("ps.example", nonce="n")
    kid = [json.loads(base64.urlsafe_b64decode(t.split(".")[0] + "=="))["kid"] for t in (at, it)]
    assert kid[0] != kid[1]


def test_directory_publishes_alg_and_use(world, tmp_path):
    net = Network()
    directory = Directory(net, clock=world.clock, ids=DemoIds(1))
    directory.enroll(SimpleNamespace(software_id="s", org_id="o"), demo_key("rfc7520-bilbo-rsa"))
    net.start()
    try:
        own = net.get_json(directory.jwks_uri)["keys"]
        soft = net.get_json(directory.server.url("/o/s.jwks"))["keys"]
        assert own[0]["alg"] == "ES256" and own[0]["use"] == "sig"
        assert soft[0]["alg"] == "PS256" and soft[0]["use"] == "sig"
        with pytest.raises(JoselabError, match="needs its alg"):
            directory.enroll(SimpleNamespace(software_id="t", org_id="o"), demo_key("rfc7520-bilbo-rsa").public())
    finally:
        net.close()


# -- issuer identifiers with a path ---------------------------------------------------------------------------
def test_op_issuer_with_a_path(world):
    assert world.tenant.issuer == "https://idp.bank.example/tenant1"
    client = RelyingParty(
        world.net,
        world.tenant.clients[CLIENT],
        issuer=world.tenant.issuer,
        clock=world.clock,
        store_dir=world.store,
        ids=DemoIds(77),
    )
    metadata = client.discover()  # OIDC Discovery §4: /.well-known/openid-configuration appended to the path
    assert metadata["jwks_uri"] == "https://idp.bank.example/tenant1/jwks"
    _, trace = client.login()
    assert trace.ok, str(trace)
    assert trace.result["iss"] == "https://idp.bank.example/tenant1"
    # The same host's root is not this issuer.
    with pytest.raises(JoselabError):
        world.net.get_json("https://idp.bank.example/.well-known/openid-configuration")


def test_as_issuer_with_a_path(world, tmp_path):
    net = Network()
    auth = AuthorizationServer(net, clock=world.clock, ids=DemoIds(3), db_path=tmp_path / "as.sqlite", issuer_path="/tenant1")
    net.start()
    try:
        assert auth.issuer == "https://as.bank.example/tenant1"
        # RFC 8414 §3: the well-known suffix goes before the path.
        assert metadata_url(auth.issuer) == "https://as.bank.example/.well-known/oauth-authorization-server/tenant1"
        assert net.get_json(metadata_url(auth.issuer))["issuer"] == auth.issuer
        token = auth.issue_access_token(sub="alice", client_id="c", audience="https://api.bank.example", scope="accounts")
        cache = JwksCache(net, auth.issuer, clock=world.clock)
        validator = AccessTokenValidator(issuer=auth.issuer, audience="https://api.bank.example", keys=cache, clock=world.clock)
        trace = validator.validate(token)
        assert trace.ok, str(trace)
        assert all(k["alg"] == "RS256" and k["use"] == "sig" for k in net.get_json(auth.metadata()["jwks_uri"])["keys"])
    finally:
        net.close()
        auth.db.close()


def test_directory_issuer_with_a_path(world):
    net = Network()
    directory = Directory(net, issuer_path="/uk", clock=world.clock, ids=DemoIds(4))
    net.start()
    try:
        assert directory.issuer.endswith("/uk") and directory.jwks_uri.endswith("/uk/directory.jwks")
        from joselab.registration import DEMO_SOFTWARE

        directory.enroll(DEMO_SOFTWARE, demo_key("rfc7520-bilbo-rsa"))
        trace = SoftwareStatementValidator([directory.trusted()], net, clock=world.clock).validate(
            directory.issue_ssa(DEMO_SOFTWARE)
        )
        assert trace.ok, str(trace)
    finally:
        net.close()


@pytest.mark.parametrize("path", ["tenant1", "/tenant1/", "/t?x=1"])
def test_malformed_issuer_paths_are_refused(world, path):
    with pytest.raises(JoselabError):
        OpenIDProvider(Network(), clock=world.clock, store_dir=world.store, host="y.example", issuer_path=path)


def test_hybrid_token_response_must_match_the_front_channel_token(world):
    client = rp(world)
    response = hybrid_response(client)
    assert client.validate_front_channel(response).ok
    tokens = client.redeem(response)
    trace = client.validator.validate(
        tokens.id_token,
        nonce=response.request.nonce,
        code=tokens.code,
        hybrid=True,
        front_claims={"iss": world.op.issuer, "sub": "someone-else"},
    )
    stopped_at(trace, "OIDC Core §3.3.3.6", InvalidClaim)


def test_hybrid_token_response_needs_the_front_channel_token_validated_first(world):
    client = rp(world)
    response = hybrid_response(client)
    tokens = client.redeem(response)  # the front-channel ID token was never validated
    stopped_at(client.validate(tokens), "OIDC Core §3.3.3.6", InvalidClaim)


@pytest.mark.parametrize(
    "value",
    ["jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"],
)
def test_hashes_agree_with_authlib(value):
    # Authlib (a second, independent implementation, pinned for this test) hashes EdDSA with SHA-512:
    # the working group's choice for Ed25519. (It has no hash for the RFC 9864 names, nor for Ed448.)
    from authlib.oidc.core.util import create_half_hash

    assert token_hash(value, "EdDSA", "Ed25519") == create_half_hash(value, "EdDSA").decode("ascii")
    for alg in ("RS256", "PS384", "ES512", "HS256"):
        assert token_hash(value, alg) == create_half_hash(value, alg).decode("ascii")


def test_eddsa_name_with_an_ed25519_key_end_to_end(world, tmp_path):
    # An OP that names the alg "EdDSA" (RFC 8037) rather than "Ed25519" (RFC 9864): the curve of
    # the verifying key picks SHA-512, and the whole login passes.
    net = Network()
    op = OpenIDProvider(
        net,
        clock=world.clock,
        store_dir=tmp_path,
        host="eddsa.example",
        signing_keys={"RS256": demo_key("rfc7515-a2-rsa"), "EdDSA": demo_key("rfc8037-ed25519")},
    )
    reg = op.register(ClientRegistration("c.example", ("https://c.example/cb",), id_token_signed_response_alg="EdDSA"))
    net.start()
    client = RelyingParty(net, reg, issuer=op.issuer, clock=world.clock, store_dir=tmp_path, ids=DemoIds(91))
    try:
        tokens, trace = client.login()
        assert trace.ok, str(trace)
        assert trace.result["at_hash"] == b64url_encode(hashlib.sha512(tokens.access_token.encode()).digest()[:32])
        assert [k["alg"] for k in op.jwks()["keys"]] == ["RS256", "EdDSA"]
    finally:
        client.close()
        net.close()
        op.db.close()


def test_hybrid_needs_the_response_type_registered(world):
    # OIDC Registration §2: a client that registered no response_types uses only code.
    client = rp(world, "ps")
    request = client.authorization_request(response_type="code id_token")
    with pytest.raises(JoselabError, match="unauthorized_client"):
        client.receive_response(client.authorize(request))


@pytest.mark.parametrize(
    "location",
    [
        "https://[::1/cb?code=x",  # urlsplit raises ValueError on this
        "https://client.example/cb/bank?state=%ED%A0%80&code=1",
        "https://client.example/cb/bank#state=a&state=b",
        "",
        "\ud800",
        "https://client.example/cb/bank?" + "a=1&" * 2000,
    ],
)
def test_hostile_redirects_get_joselab_errors(world, location):
    client = rp(world)
    client.authorization_request()
    with pytest.raises(JoselabError):
        client.receive_response(location)


def test_op_registers_only_the_algorithms_its_metadata_lists(world):
    # HS384 would be MACed with the client's secret, but the metadata lists HS256 only.
    with pytest.raises(JoselabError, match="no key for HS384"):
        world.op.register(
            ClientRegistration(
                "h.example", ("https://h.example/cb",), client_secret=SECRET * 2, id_token_signed_response_alg="HS384"
            )
        )
