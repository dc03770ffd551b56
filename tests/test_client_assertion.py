"""private_key_jwt: the client's assertion at the token endpoint (RFC 7523 §3, RFC 10070 §4, OIDC Core §9).

Every row of :class:`ClientAssertionValidator` fails once here, on the validator directly and, for the
main ones, over real HTTP at the demo OP's token endpoint (401 ``invalid_client`` naming the row's
section, RFC 6749 §5.2). The replay store is a real sqlite file: a replay after a restart of the AS is
still refused. The audience-injection attack (2025) works against the old rule and not against
RFC 10070's.
"""

from __future__ import annotations

import json

import pytest
from joselab_testkit import forge_jws

from joselab import DEMO_EPOCH, DemoIds, FixedClock, demo_key, generate_key
from joselab.client_assertion import (
    AUD_SECTION,
    CLIENT_ASSERTION_TYP,
    CLIENT_SECTION,
    EXP_SECTION,
    IAT_SECTION,
    ISS_SECTION,
    JTI_SECTION,
    NBF_SECTION,
    REPLAY_SECTION,
    SIGNATURE_SECTION,
    SUB_SECTION,
    TYP_OTHER_SECTION,
    TYP_SECTION,
    ClientAssertionValidator,
    sign_client_assertion,
)
from joselab.errors import (
    AlgorithmNotAllowed,
    ClientMismatch,
    EmbeddedKeyRejected,
    InvalidAudience,
    InvalidClaim,
    InvalidHeader,
    InvalidIssuedAt,
    InvalidIssuer,
    InvalidSignature,
    InvalidType,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    ReplayDetected,
    TokenExpired,
    TokenNotYetValid,
    UnknownClient,
)
from joselab.keys import load_jwks, public_jwks
from joselab.parties import Database, ReplayStore
from joselab.sections import lookup

ISSUER = "https://as.bank.example"
CLIENT = "sw-budget-buddy-01"
BILBO = demo_key("rfc7520-bilbo-rsa")
FRODO = demo_key("rfc7520-frodo-rsa")


def registered(key, alg="PS256"):
    return load_jwks({"keys": [{**public_jwks(key)["keys"][0], "alg": alg, "use": "sig"}]})


@pytest.fixture
def world(tmp_path):
    clock = FixedClock(DEMO_EPOCH)
    db = Database(tmp_path / "as.sqlite")
    validator = ClientAssertionValidator(
        issuer=ISSUER, client_keys={CLIENT: registered(BILBO)}, replay_store=ReplayStore(db, "seen_assertion"), clock=clock
    )
    source = DemoIds(41)
    ids = iter(source.uuid4() for _ in range(1000))

    class World:
        pass

    w = World()
    w.clock, w.db, w.validator, w.path = clock, db, validator, tmp_path / "as.sqlite"

    def assertion(client=CLIENT, key=BILBO, *, audience=ISSUER, header=None, **changes):
        changes.setdefault("jti", next(ids))
        return sign_client_assertion(client, key, audience=audience, clock=clock, header=header, **changes)

    w.assertion = assertion
    yield w
    db.close()


def failed(trace):
    assert not trace.ok, trace.table()
    return trace.failed


def test_a_good_assertion_passes_every_row_in_order(world):
    trace = world.validator.validate(world.assertion(), strict=True)
    sections = [c.section for c in trace]
    assert sections[:3] == ["RFC 7515 §7.1", TYP_SECTION, CLIENT_SECTION]
    assert sections.index(SIGNATURE_SECTION) < sections.index(ISS_SECTION) < sections.index(SUB_SECTION)
    aud_row = next(i for i, c in enumerate(trace) if c.name.startswith("aud is"))
    assert sections.index(SUB_SECTION) < aud_row < sections.index(EXP_SECTION)
    assert sections[aud_row] == AUD_SECTION
    assert sections[-1] == REPLAY_SECTION
    assert trace.result["iss"] == trace.result["sub"] == CLIENT
    # Every section a row cites is in the table.
    for check in trace:
        cited = check.section.split("; ")[-1].removesuffix(" sets no bound")
        doc, _, rest = cited.partition(" §")
        assert lookup(doc, "§" + rest.split(" ")[0]) is not None, check.section


def test_the_form_client_id_picks_the_keys_and_must_match(world):
    assert world.validator.validate(world.assertion(), client_id=CLIENT).ok
    row = failed(world.validator.validate(world.assertion(), client_id="someone-else"))
    assert (row.section, row.name) == (CLIENT_SECTION, "the client it names is registered, with keys")


def test_form_client_id_of_another_registered_client_is_refused(tmp_path):
    clock = FixedClock(DEMO_EPOCH)
    db = Database(tmp_path / "two.sqlite")
    v = ClientAssertionValidator(
        issuer=ISSUER,
        client_keys={CLIENT: registered(BILBO), "other": registered(BILBO)},
        replay_store=ReplayStore(db),
        clock=clock,
    )
    token = sign_client_assertion(CLIENT, BILBO, audience=ISSUER, clock=clock, ids=DemoIds(5))
    trace = v.validate(token, client_id="other")
    # The keys were "other"'s (the same key here, so the signature verifies): iss then refuses.
    assert failed(trace).section == ISS_SECTION
    token = sign_client_assertion(CLIENT, BILBO, audience=ISSUER, clock=clock, ids=DemoIds(6), iss="other")
    row = failed(v.validate(token, client_id="other"))
    assert row.section == SUB_SECTION
    with pytest.raises(ClientMismatch):
        v.validate(
            sign_client_assertion(CLIENT, BILBO, audience=ISSUER, clock=clock, ids=DemoIds(8), iss="other"),
            client_id="other",
            strict=True,
        )
    token = sign_client_assertion("other", BILBO, audience=ISSUER, clock=clock, ids=DemoIds(7))
    row = failed(v.validate(token, client_id=CLIENT))
    assert row.section == ISS_SECTION
    db.close()


@pytest.mark.parametrize(
    ("make", "section", "error"),
    [
        (lambda w: "not-a-jwt", "RFC 7515 §7.1", MalformedToken),
        (lambda w: w.assertion(header={"typ": "at+jwt"}), TYP_OTHER_SECTION, InvalidType),
        (lambda w: w.assertion(header={"typ": "dpop+jwt"}), TYP_OTHER_SECTION, InvalidType),
        (lambda w: w.assertion(header={"typ": "application/oauth-authz-req+jwt"}), TYP_OTHER_SECTION, InvalidType),
        (lambda w: w.assertion(client="mallory"), CLIENT_SECTION, UnknownClient),
        (lambda w: w.assertion(sub=None), CLIENT_SECTION, UnknownClient),
        (
            lambda w: w.assertion(header={"jwk": FRODO.public().export_public(as_dict=True)}),
            "RFC 8725 §3.10",
            EmbeddedKeyRejected,
        ),
        (lambda w: w.assertion(header={"kid": "someone-elses-key"}), "RFC 7515 §4.1.4", KeyNotFound),
        (lambda w: w.assertion(key=FRODO, header={"kid": BILBO.kid}), SIGNATURE_SECTION, InvalidSignature),
        (lambda w: w.assertion(iss="mallory"), ISS_SECTION, InvalidIssuer),
        (lambda w: w.assertion(iss=None), ISS_SECTION, InvalidIssuer),
        (lambda w: w.assertion(sub=CLIENT, iss=CLIENT, aud=f"{ISSUER}/token"), AUD_SECTION, InvalidAudience),
        (lambda w: w.assertion(aud=[ISSUER, f"{ISSUER}/token"]), AUD_SECTION, InvalidAudience),
        (lambda w: w.assertion(aud=[ISSUER, "https://evil.example"]), AUD_SECTION, InvalidAudience),
        (lambda w: w.assertion(aud=ISSUER + "/"), AUD_SECTION, InvalidAudience),
        (lambda w: w.assertion(aud=None), AUD_SECTION, InvalidAudience),
        (lambda w: w.assertion(exp=None), EXP_SECTION, MissingClaim),
        (lambda w: w.assertion(exp="soon"), EXP_SECTION, InvalidClaim),
        (lambda w: w.assertion(exp=DEMO_EPOCH - 61), EXP_SECTION, TokenExpired),
        (
            lambda w: w.assertion(exp=DEMO_EPOCH + 3600, iat=None),
            "joselab policy; " + EXP_SECTION + " sets no bound",
            InvalidIssuedAt,
        ),
        (lambda w: w.assertion(nbf=DEMO_EPOCH + 120), NBF_SECTION, TokenNotYetValid),
        (lambda w: w.assertion(iat=DEMO_EPOCH + 120, exp=DEMO_EPOCH + 180), IAT_SECTION, InvalidIssuedAt),
        (
            lambda w: w.assertion(iat=DEMO_EPOCH - 400, exp=DEMO_EPOCH + 60),
            "joselab policy; " + IAT_SECTION + " sets no bound",
            InvalidIssuedAt,
        ),
        (lambda w: w.assertion(jti=None), JTI_SECTION, MissingClaim),
        (lambda w: w.assertion(jti=""), JTI_SECTION, InvalidClaim),
        (lambda w: w.assertion(jti="j" * 257), "joselab policy; " + JTI_SECTION + " sets no bound", InvalidClaim),
    ],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", None),
)
def test_each_check_fails_once(world, make, section, error):
    trace = world.validator.validate(make(world))
    assert failed(trace).section == section
    with pytest.raises(error) as raised:
        world.validator.validate(make(world), strict=True)
    assert raised.value.section == section


def test_alg_allowlist_is_asymmetric_and_enforced(world):
    es = generate_key("ES256")
    v = ClientAssertionValidator(
        issuer=ISSUER,
        client_keys={CLIENT: registered(BILBO)},
        replay_store=ReplayStore(world.db, "t2"),
        clock=world.clock,
        algorithms=("ES256",),
    )
    row = failed(v.validate(world.assertion()))
    assert row.section == "RFC 8725 §3.1" and "allowlist" in row.name
    with pytest.raises(AlgorithmNotAllowed):
        v.validate(world.assertion(), strict=True)
    for bad in (("HS256",), ("PS256", "none"), ()):
        with pytest.raises(ValueError):
            ClientAssertionValidator(issuer=ISSUER, client_keys={}, replay_store=ReplayStore(world.db), algorithms=bad)
    # An HMAC "assertion" (client_secret_jwt) is not on the allowlist either.
    header = {"alg": "HS256", "typ": CLIENT_ASSERTION_TYP}
    claims = json.dumps({"iss": CLIENT, "sub": CLIENT, "aud": ISSUER, "exp": DEMO_EPOCH + 60, "jti": "h1"}).encode()
    secret = demo_key("rfc7515-a1-hmac").jwk
    row = failed(world.validator.validate(forge_jws(header, claims, secret, "HS256")))
    assert row.section == "RFC 8725 §3.1"
    assert es  # a key of another type is simply not the client's


def test_typ_absent_or_generic_is_accepted_as_rfc10070_advises(world):
    for header in ({"typ": None}, {"typ": "JWT"}, {"typ": "application/client-authentication+jwt"}, {"typ": "jwt"}):
        trace = world.validator.validate(world.assertion(header=header))
        assert trace.ok, trace.table()
        assert next(c for c in trace if c.section == TYP_SECTION).passed


def test_typ_that_is_not_a_string_is_refused(world):
    header = {"alg": "PS256", "typ": 5, "kid": BILBO.kid}
    claims = json.dumps({"iss": CLIENT, "sub": CLIENT, "aud": ISSUER, "exp": DEMO_EPOCH + 60, "jti": "t5"}).encode()
    row = failed(world.validator.validate(forge_jws(header, claims, BILBO.jwk, "PS256")))
    assert row.section == "RFC 7515 §4.1.9"
    with pytest.raises(InvalidHeader):
        world.validator.validate(forge_jws(header, claims, BILBO.jwk, "PS256"), strict=True)


def test_aud_as_one_member_array_is_the_sole_value(world):
    assert world.validator.validate(world.assertion(aud=[ISSUER])).ok


def test_replay_is_refused_and_a_refused_assertion_does_not_use_up_its_jti(world):
    token = world.assertion()
    assert world.validator.validate(token).ok
    row = failed(world.validator.validate(token))
    assert row.section == REPLAY_SECTION
    with pytest.raises(ReplayDetected):
        world.validator.validate(token, strict=True)
    # The same jti refused at aud first is still free for the good assertion.
    bad = world.assertion(jti="shared-jti", aud=f"{ISSUER}/token")
    assert failed(world.validator.validate(bad)).section == AUD_SECTION
    assert world.validator.validate(world.assertion(jti="shared-jti")).ok
    # A jti is per client: another client may use the same value.
    assert len(world.validator.replay_store) == 2


def test_replay_after_a_restart_of_the_store(world):
    token = world.assertion()
    assert world.validator.validate(token).ok
    world.db.close()
    again = Database(world.path)
    v = ClientAssertionValidator(
        issuer=ISSUER,
        client_keys={CLIENT: registered(BILBO)},
        replay_store=ReplayStore(again, "seen_assertion"),
        clock=world.clock,
    )
    assert failed(v.validate(token)).section == REPLAY_SECTION
    world.db = again


def test_client_keys_may_be_a_function_and_its_errors_mean_unknown(world):
    def lookup_keys(client_id):
        if client_id == CLIENT:
            return registered(BILBO)
        raise UnknownClient("client registered", CLIENT_SECTION, client_id)

    v = ClientAssertionValidator(
        issuer=ISSUER, client_keys=lookup_keys, replay_store=ReplayStore(world.db, "t3"), clock=world.clock
    )
    assert v.validate(world.assertion()).ok
    assert failed(v.validate(world.assertion(client="x"))).section == CLIENT_SECTION


def test_untrusted_input_raises_only_joselab_errors(world):
    for token in (None, 5, "", "a.b.c", "." * 3, "eyJ9." * 3, "x" * 100_000, [], "a.b.c.d.e"):
        trace = world.validator.validate(token)
        assert not trace.ok
        assert trace.failed.section != "joselab", trace.table()


# -- over real HTTP, at the token endpoint of the demo OP ----------------------------------------------
from urllib.parse import urlencode  # noqa: E402

from joselab.client_assertion import CLIENT_ASSERTION_TYPE, assertion_form  # noqa: E402
from joselab.errors import FetchError, JoselabError  # noqa: E402
from joselab.id_token import ClientRegistration, OpenIDProvider, RelyingParty, demo_signing_keys  # noqa: E402
from joselab.parties import Network  # noqa: E402

REDIRECT = "https://app.hobbiton.example/callback"


def _registration():
    return ClientRegistration(
        CLIENT,
        (REDIRECT,),
        token_endpoint_auth_method="private_key_jwt",
        jwks={"keys": [{**public_jwks(BILBO)["keys"][0], "alg": "PS256", "use": "sig"}]},
        grant_types=("authorization_code", "client_credentials"),
    )


def _op(net, clock, store):
    op = OpenIDProvider(
        net, clock=clock, store_dir=store, host="as.bank.example", signing_keys=demo_signing_keys(), ids=DemoIds(3)
    )
    op.register(_registration())
    return op.start()


@pytest.fixture
def bank(tmp_path):
    clock = FixedClock(DEMO_EPOCH)
    net = Network()
    op = _op(net, clock, tmp_path)

    class Bank:
        pass

    b = Bank()
    b.net, b.clock, b.op, b.store = net, clock, op, tmp_path
    b.ids = DemoIds(77)
    b.token_endpoint = op.metadata()["token_endpoint"]

    def post(form, headers=None):
        resp = net.post(b.token_endpoint, urlencode(form).encode("ascii"), "application/x-www-form-urlencoded", headers)
        return resp.status, resp.json()

    def assertion(**changes):
        header = changes.pop("header", None)
        key = changes.pop("key", BILBO)
        return sign_client_assertion(CLIENT, key, audience=b.op.issuer, clock=clock, ids=b.ids, header=header, **changes)

    def client_credentials(token, **extra):
        return post({"grant_type": "client_credentials", "scope": "accounts", **assertion_form(token), **extra})

    b.post, b.assertion, b.client_credentials = post, assertion, client_credentials
    yield b
    b.op.stop()
    net.close()


def test_login_with_private_key_jwt_over_http(bank):
    rp = RelyingParty(
        bank.net, _registration(), issuer=bank.op.issuer, clock=bank.clock, store_dir=bank.store, ids=DemoIds(7), client_key=BILBO
    )
    assert rp.token_endpoint_auth_method == "private_key_jwt"
    _tokens, trace = rp.login()
    assert trace.ok, trace.table()
    assert bank.op.last_client_assertion.ok
    sent = bank.op.last_client_assertion.result
    assert sent["aud"] == bank.op.issuer != rp.metadata["token_endpoint"]
    assert "private_key_jwt" in rp.metadata["token_endpoint_auth_methods_supported"]
    assert rp.last_client_assertion.count(".") == 2
    rp.close()


def test_a_private_key_jwt_client_needs_its_key_and_its_assertion(bank):
    with pytest.raises(JoselabError):
        RelyingParty(bank.net, _registration(), issuer=bank.op.issuer, clock=bank.clock, store_dir=bank.store)
    status, body = bank.post({"grant_type": "client_credentials", "client_id": CLIENT})
    assert (status, body["error"]) == (401, "invalid_client")
    with pytest.raises(JoselabError):
        ClientRegistration(CLIENT, (REDIRECT,), token_endpoint_auth_method="private_key_jwt")


def test_client_credentials_with_a_good_assertion(bank):
    status, body = bank.client_credentials(bank.assertion())
    assert status == 200 and body["token_type"] == "Bearer", body


@pytest.mark.parametrize(
    ("changes", "section"),
    [
        ({"header": {"typ": "at+jwt"}}, TYP_OTHER_SECTION),
        ({"sub": "mallory"}, CLIENT_SECTION),
        ({"key": FRODO, "header": {"kid": BILBO.kid}}, SIGNATURE_SECTION),
        ({"key": FRODO}, "RFC 7515 §4.1.4"),
        ({"iss": "mallory"}, ISS_SECTION),
        ({"aud": "https://as.bank.example/token"}, AUD_SECTION),
        ({"aud": ["https://as.bank.example", "https://as.bank.example/token"]}, AUD_SECTION),
        ({"exp": DEMO_EPOCH - 61}, EXP_SECTION),
        ({"nbf": DEMO_EPOCH + 120, "exp": DEMO_EPOCH + 180, "iat": None}, NBF_SECTION),
        ({"iat": DEMO_EPOCH + 120, "exp": DEMO_EPOCH + 180}, IAT_SECTION),
        ({"jti": None}, JTI_SECTION),
    ],
)
def test_each_main_check_fails_over_http_with_invalid_client(bank, changes, section):
    status, body = bank.client_credentials(bank.assertion(**changes))
    assert (status, body["error"]) == (401, "invalid_client")
    assert body["error_description"].startswith(section.replace("§", "section "))
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in body["error_description"])  # RFC 6749 §5.2
    assert bank.op.last_client_assertion.failed.section == section


def test_replay_over_http_and_after_a_restart_of_the_as(bank):
    token = bank.assertion()
    assert bank.client_credentials(token)[0] == 200
    status, body = bank.client_credentials(token)
    assert (status, body["error"]) == (401, "invalid_client") and body["error_description"].startswith("RFC 7523 section 3 (7)")
    fresh = bank.assertion()  # not yet used when the AS goes down
    bank.op.stop()
    bank.op = _op(bank.net, bank.clock, bank.store)  # same host, same sqlite file
    status, body = bank.client_credentials(token)
    assert (status, body["error"]) == (401, "invalid_client"), body
    assert bank.op.last_client_assertion.failed.section == REPLAY_SECTION
    assert bank.client_credentials(fresh)[0] == 200


def test_the_endpoint_refuses_other_assertion_types_and_two_methods(bank):
    status, body = bank.post(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            "client_assertion": bank.assertion(),
        }
    )
    assert (status, body["error"]) == (401, "invalid_client")
    form = {"grant_type": "client_credentials", **assertion_form(bank.assertion())}
    status, body = bank.post(form, {"Authorization": "Basic c3c6c2VjcmV0"})
    assert (status, body["error"]) == (400, "invalid_request")
    assert form["client_assertion_type"] == CLIENT_ASSERTION_TYPE


def test_a_form_client_id_that_differs_is_refused_over_http(bank):
    status, body = bank.client_credentials(bank.assertion(), client_id="someone-else")
    assert (status, body["error"]) == (401, "invalid_client")
    assert bank.op.last_client_assertion.failed.section == CLIENT_SECTION


def test_redeem_reports_the_refusal(bank):
    rp = RelyingParty(
        bank.net, _registration(), issuer=bank.op.issuer, clock=bank.clock, store_dir=bank.store, ids=DemoIds(9), client_key=FRODO
    )
    request = rp.authorization_request()
    code, request = rp.receive_redirect(rp.authorize(request))
    with pytest.raises(FetchError, match="invalid_client"):
        rp.redeem(code, request)
    rp.close()


# -- the audience-injection attack (2025), against the old rule and against RFC 10070's ----------------
from joselab.attacks import AUDIENCE_INJECTION_CVES, AssertionClient, AudienceInjectionAS, old_audience_rule  # noqa: E402


@pytest.fixture
def mallory(bank):
    evil = AudienceInjectionAS(bank.net, honest_token_endpoint=bank.token_endpoint).start()
    yield evil
    evil.stop()


def _client(bank, audience_from, seed):
    return AssertionClient(bank.net, CLIENT, BILBO, clock=bank.clock, ids=DemoIds(seed), audience_from=audience_from)


def test_audience_injection_works_against_the_old_rule(bank, mallory):
    victim = _client(bank, "token_endpoint", 61)  # the old advice: aud = the metadata's token_endpoint
    assert victim.push_authorization_request(mallory.issuer) == 201
    stolen = mallory.captured[-1]
    with old_audience_rule(bank.op):
        status, body = mallory.replay(stolen)
    assert status == 200 and body["token_type"] == "Bearer"  # Mallory holds an access token as the client
    assert bank.op.last_client_assertion.ok
    assert bank.op.last_client_assertion.result["aud"] == bank.token_endpoint


def test_rfc10070_refuses_the_injected_audience_at_the_aud_row(bank, mallory):
    victim = _client(bank, "token_endpoint", 62)
    victim.push_authorization_request(mallory.issuer)
    status, body = mallory.replay(mallory.captured[-1])
    assert (status, body["error"]) == (401, "invalid_client")
    assert bank.op.last_client_assertion.failed.section == AUD_SECTION
    assert body["error_description"].startswith("RFC 10070 section 4")


def test_a_client_that_follows_rfc10070_gives_mallory_nothing_even_at_an_old_as(bank, mallory):
    careful = _client(bank, "issuer", 63)
    careful.push_authorization_request(mallory.issuer)
    assert parse_claims(mallory.captured[-1])["aud"] == mallory.issuer
    with old_audience_rule(bank.op):
        status, body = mallory.replay(mallory.captured[-1])
    assert (status, body["error"]) == (401, "invalid_client")
    assert bank.op.last_client_assertion.failed.section == "RFC 7523 §3 (3)"
    # The real rule is back after the block.
    assert type(bank.op.client_assertion_validator) is ClientAssertionValidator


def test_the_cves_are_named_beside_the_guard():
    import inspect

    source = inspect.getsource(ClientAssertionValidator.check_audience)
    assert all(cve in source for cve in AUDIENCE_INJECTION_CVES)


def test_assertion_client_checks_the_metadata_issuer(bank, mallory):
    with pytest.raises(FetchError):
        _client(bank, "issuer", 64).discover("https://as.evil.example/other")
    with pytest.raises(ValueError):
        _client(bank, "par_endpoint", 65)


def parse_claims(token):
    from joselab import parse_jws

    return parse_jws(token).claims()


def test_a_repeated_assertion_parameter_is_refused(bank):
    one, two = bank.assertion(), bank.assertion()
    body = urlencode(
        [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", one),
            ("client_assertion", two),
        ]
    )
    resp = bank.net.post(bank.token_endpoint, body.encode("ascii"), "application/x-www-form-urlencoded")
    assert (resp.status, resp.json()["error"]) == (400, "invalid_request")


# -- the attacks of chapter 6, on a client assertion ---------------------------------------------------
from joselab.attacks import (  # noqa: E402
    forge_embedded_jwk,
    forge_key_url,
    forge_psychic_signature,
    forge_public_key_as_hmac_secret,
    forge_unsigned,
)


@pytest.mark.parametrize(
    ("forge", "section"),
    [
        (lambda t: forge_unsigned(t), "RFC 8725 §3.1"),
        (lambda t: forge_unsigned(t, alg="nOnE"), "RFC 8725 §3.1"),
        (lambda t: forge_public_key_as_hmac_secret(t, BILBO.public()), "RFC 8725 §3.1"),
        (lambda t: forge_embedded_jwk(t, FRODO.jwk), "RFC 8725 §3.10"),
        (lambda t: forge_key_url(t, FRODO.jwk, member="jku", url="https://as.evil.example/jwks"), "RFC 8725 §3.10"),
        (lambda t: forge_psychic_signature(t), "RFC 8725 §3.1"),
    ],
)
def test_chapter_6_forgeries_are_refused(world, forge, section):
    forged = forge(world.assertion())
    row = failed(world.validator.validate(forged))
    assert row.section == section, row


def test_production_defaults(tmp_path):
    from joselab.clock import SystemClock

    db = Database(tmp_path / "p.sqlite")
    v = ClientAssertionValidator(issuer=ISSUER, client_keys={}, replay_store=ReplayStore(db))
    assert isinstance(v.clock, SystemClock)
    a = sign_client_assertion(CLIENT, BILBO, audience=ISSUER)
    b = sign_client_assertion(CLIENT, BILBO, audience=ISSUER)
    from joselab import parse_jws

    assert parse_jws(a).claims()["jti"] != parse_jws(b).claims()["jti"]  # RandomIds without ids
    db.close()


def test_the_remaining_shared_rows_fail_once(world):
    # The key kid selects serves PS256: an RS256 signature by the same key is refused at the key row.
    rs = world.assertion(header={"alg": "RS256"})
    row = failed(world.validator.validate(rs))
    assert (row.section, row.name) == ("RFC 8725 §3.1", "the key kid selects is one for RS256")
    # A signature of the wrong length (RFC 7518 §3) never reaches the verification.
    head, payload, _sig = world.assertion().split(".")
    row = failed(world.validator.validate(f"{head}.{payload}.{'A' * 100}"))
    assert row.section == "RFC 7518 §3"
    # nbf and iat, when present, are NumericDates (RFC 7523 §3 (5), (6)).
    assert failed(world.validator.validate(world.assertion(nbf="now"))).section == NBF_SECTION
    assert failed(world.validator.validate(world.assertion(iat=True))).section == IAT_SECTION
    # crit is refused unless understood (RFC 7515 §4.1.11).
    row = failed(world.validator.validate(world.assertion(header={"crit": ["exp"], "exp": 1})))
    assert row.section == "RFC 7515 §4.1.11"


def test_registering_again_replaces_the_keys(bank):
    assert bank.client_credentials(bank.assertion())[0] == 200
    bank.op.register(
        ClientRegistration(
            CLIENT,
            (REDIRECT,),
            token_endpoint_auth_method="private_key_jwt",
            jwks={"keys": [{**public_jwks(FRODO)["keys"][0], "alg": "PS256", "use": "sig"}]},
            grant_types=("client_credentials",),
        )
    )
    status, body = bank.client_credentials(bank.assertion())  # still signed with Bilbo's key
    assert (status, body["error"]) == (401, "invalid_client")
    assert bank.client_credentials(bank.assertion(key=FRODO, header={"kid": FRODO.kid}))[0] == 200
