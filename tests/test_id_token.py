"""Scenario 3 (OIDC Core 1.0, errata set 2): the code flow over real HTTP, every §3.1.3.7 step made to
fail by the token that breaks it, at_hash / c_hash against Appendix A, and explicit typing both ways."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto import jwk

from joselab import DEMO_EPOCH, DemoIds, FixedClock, b64url_encode, demo_key, load_jwks, public_jwks
from joselab.errors import (
    AlgorithmNotAllowed,
    DecryptionFailed,
    FetchError,
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
    UnexpectedTokenKind,
    ValidationError,
)
from joselab.id_token import (
    AT_HASH_SECTION,
    C_HASH_SECTION,
    DEMO_ACR,
    ClientRegistration,
    IdTokenValidator,
    OpenIDProvider,
    RelyingParty,
    demo_signing_keys,
    hash_alg_for,
    pkce_challenge,
    token_hash,
)
from joselab.jwe import encrypt_compact
from joselab.parties import Database, Network, ReplayStore

VECTORS = Path(__file__).parent / "vectors" / "oidc-core-hashes.json"
CLIENT = "client.example"
REDIRECT = "https://client.example/cb"
SECRET = DemoIds(11).token(32)  # 43 characters: at least the 32 octets HS256 needs (RFC 7518 §3.2)
NONCE = "n-0S6_WzA2Mj"  # Core §2's example nonce
SAMWISE = demo_key("rfc7520-samwise-rsa")
PEREGRIN = demo_key("rfc7520-peregrin-p384")


def step(n: int) -> str:
    return f"OIDC Core §3.1.3.7 ({n})"


# -- the parties, once per module (stopping an HTTP server waits for its poll loop) -------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    clock = FixedClock(DEMO_EPOCH)
    store = tmp_path_factory.mktemp("id_token")
    net = Network()
    op = OpenIDProvider(net, clock=clock, store_dir=store, signing_keys=demo_signing_keys())
    regs = {
        "rs": op.register(ClientRegistration(CLIENT, (REDIRECT,), client_secret=SECRET)),
        "other": op.register(ClientRegistration("other.example", ("https://other.example/cb",))),
        "hs": op.register(
            ClientRegistration(
                "mac.example", ("https://mac.example/cb",), client_secret=SECRET, id_token_signed_response_alg="HS256"
            )
        ),
        "rsa-oaep": op.register(
            ClientRegistration(
                "sealed.example",
                ("https://sealed.example/cb",),
                id_token_encrypted_response_alg="RSA-OAEP-256",
                id_token_encrypted_response_enc="A256GCM",
                encryption_key=SAMWISE.public(),
            )
        ),
        "ecdh": op.register(
            ClientRegistration(
                "agreed.example",
                ("https://agreed.example/cb",),
                id_token_encrypted_response_alg="ECDH-ES+A256KW",
                id_token_encrypted_response_enc="A256GCM",
                encryption_key=PEREGRIN.public(),
            )
        ),
    }
    net.start()
    yield SimpleNamespace(clock=clock, net=net, op=op, regs=regs, store=store)
    net.close()
    op.db.close()


@pytest.fixture(autouse=True)
def _reset_clock(world):
    world.clock.set(DEMO_EPOCH)
    world.op.user_auth_time = None


@pytest.fixture
def nonce_store(tmp_path):
    db = Database(tmp_path / "nonces.sqlite")
    yield ReplayStore(db, "seen_nonce")
    db.close()


@pytest.fixture
def make(world, tmp_path):
    """A validator for ``client.example`` (or as overridden), each with its own nonce store."""
    dbs = []

    def build(**overrides) -> IdTokenValidator:
        dbs.append(Database(tmp_path / f"nonces-{len(dbs)}.sqlite"))
        options = dict(
            issuer=world.op.issuer,
            client_id=CLIENT,
            keys=load_jwks(public_jwks(world.op.key)),
            clock=world.clock,
            nonce_store=ReplayStore(dbs[-1], "seen_nonce"),
            client_secret=SECRET,
        )
        options.update(overrides)
        return IdTokenValidator(**options)

    yield build
    for db in dbs:
        db.close()


def failed(trace, section: str, error: type[ValidationError]) -> None:
    """The run stopped at ``section`` with ``error``, and that row is the last one."""
    assert not trace.ok
    assert trace.failed is trace.checks[-1]
    assert trace.failed.section == section, str(trace)
    assert type(trace.error) is error, (type(trace.error), str(trace))


_SEEDS = itertools.count(1000)


def rp_for(world, key: str, **options) -> RelyingParty:
    # Each client gets its own seed: two clients with one seed would send the same nonces, and the
    # shared sqlite nonce store would (rightly) call the second one a replay.
    options.setdefault("ids", DemoIds(next(_SEEDS)))
    return RelyingParty(world.net, world.regs[key], issuer=world.op.issuer, clock=world.clock, store_dir=world.store, **options)


# -- at_hash, c_hash, PKCE ---------------------------------------------------------------------------
def test_appendix_a_hashes_are_reproduced():
    vectors = json.loads(VECTORS.read_text("utf-8"))["tests"]
    assert {v["kind"] for v in vectors} == {"at_hash", "c_hash"}
    for v in vectors:
        assert token_hash(v["input"], v["alg"]) == v["expected"]


@pytest.mark.parametrize(
    ("alg", "digest", "length"),
    [("RS256", hashlib.sha256, 16), ("ES384", hashlib.sha384, 24), ("HS512", hashlib.sha512, 32), ("PS512", hashlib.sha512, 32)],
)
def test_hash_follows_alg(alg, digest, length):
    value = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
    assert token_hash(value, alg) == b64url_encode(digest(value.encode()).digest()[:length])
    assert hash_alg_for(alg) == f"SHA-{alg[2:]}"


@pytest.mark.parametrize("alg", ["EdDSA", "none", "RS1", "", None, "ES256K"])
def test_hash_refuses_algs_without_a_hash(alg):
    # EdDSA alone names no curve, so no hash: the verifying key's crv must say which.
    with pytest.raises(AlgorithmNotAllowed):
        token_hash("abc", alg)


VALUE = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"


@pytest.mark.parametrize(
    ("alg", "crv", "expected"),
    [
        # Computed here with hashlib, independently of joselab: the OpenID Connect WG's consensus
        # (connect issue #1125): Ed25519 -> SHA-512, left 32 bytes; Ed448 -> SHAKE256(114), left 57.
        ("Ed25519", None, b64url_encode(hashlib.sha512(VALUE.encode()).digest()[:32])),
        ("EdDSA", "Ed25519", b64url_encode(hashlib.sha512(VALUE.encode()).digest()[:32])),
        ("Ed448", None, b64url_encode(hashlib.shake_256(VALUE.encode()).digest(114)[:57])),
        ("EdDSA", "Ed448", b64url_encode(hashlib.shake_256(VALUE.encode()).digest(114)[:57])),
    ],
)
def test_eddsa_hashes_follow_the_working_group_consensus(alg, crv, expected):
    assert token_hash(VALUE, alg, crv) == expected
    assert len(base64.urlsafe_b64decode(expected + "=" * (-len(expected) % 4))) == (32 if "25519" in (crv or alg) else 57)


def test_eddsa_hashes_match_a_second_implementation():
    # The same values from cryptography's hash implementations (OpenSSL), not hashlib's.
    from cryptography.hazmat.primitives import hashes

    def digest(algorithm):
        h = hashes.Hash(algorithm)
        h.update(VALUE.encode())
        return h.finalize()

    assert token_hash(VALUE, "Ed25519") == b64url_encode(digest(hashes.SHA512())[:32])
    assert token_hash(VALUE, "Ed448") == b64url_encode(digest(hashes.SHAKE256(digest_size=114))[:57])
    # An RFC 8037 key says its curve; EdDSA over it hashes as Ed25519 does.
    assert hash_alg_for("EdDSA", demo_key("rfc8037-ed25519").jwk["crv"]) == "SHA-512"


@pytest.mark.parametrize("value", ["café", None, b"bytes"])
def test_hash_input_is_ascii_text(value):
    with pytest.raises(InvalidClaim):
        token_hash(value, "RS256")


def test_pkce_s256_rfc7636_appendix_b():
    assert pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


# -- the flow over HTTP ---------------------------------------------------------------------------------
def test_code_flow_validates_every_step_in_order(world):
    rp = rp_for(world, "rs")
    tokens, trace = rp.login()
    assert trace.ok, str(trace)
    claims = trace.result
    assert claims["aud"] == CLIENT and claims["nonce"] == tokens.request.nonce
    assert claims["at_hash"] == token_hash(tokens.access_token, "RS256")
    assert claims["c_hash"] == token_hash(tokens.code, "RS256")
    steps = [int(m.group(1)) for c in trace for m in [re.fullmatch(r"OIDC Core §3\.1\.3\.7 \((\d+)\)", c.section)] if m]
    assert sorted(set(steps)) == list(range(1, 14))
    assert steps == sorted(steps), "rows follow the order of §3.1.3.7"
    sections = [c.section for c in trace]
    assert sections.index(AT_HASH_SECTION) > sections.index(step(13)) and C_HASH_SECTION in sections
    # ID tokens with RS256 are deterministic; the same login twice gives the same bytes only with the
    # same nonce, so check the header instead.
    assert tokens.id_token.startswith("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIs")
    rp.close()


def test_validating_the_same_id_token_twice_is_a_replay(world):
    rp = rp_for(world, "rs")
    tokens, trace = rp.login()
    assert trace.ok
    failed(rp.validate(tokens), step(11), ReplayDetected)
    rp.close()


def test_nonce_replay_survives_a_restart_of_the_client(world):
    rp = rp_for(world, "rs", ids=DemoIds(99))
    tokens, trace = rp.login()
    assert trace.ok
    rp.close()
    again = rp_for(world, "rs", ids=DemoIds(99))  # same sqlite file, a new process would see the same
    failed(again.validate(tokens), step(11), ReplayDetected)
    again.close()


@pytest.mark.parametrize(("reg", "key"), [("rsa-oaep", SAMWISE), ("ecdh", PEREGRIN)])
def test_encrypted_id_token_both_layers(world, reg, key):
    rp = rp_for(world, reg, decryption_key=key.jwk)
    tokens, trace = rp.login()
    assert tokens.id_token.count(".") == 4
    assert trace.ok, str(trace)
    sections = [c.section for c in trace]
    assert sections[:2] == [step(1), "RFC 7516 §7.1"] and "RFC 7519 §5.2" in sections and step(6) in sections
    rp.close()


def test_hs256_client_flow(world):
    rp = rp_for(world, "hs")
    tokens, trace = rp.login()
    assert trace.ok, str(trace)
    assert json.loads(base64.urlsafe_b64decode(tokens.id_token.split(".")[0] + "=="))["alg"] == "HS256"
    rp.close()


def test_max_age_makes_the_op_re_authenticate(world):
    rp = rp_for(world, "rs")
    first, trace = rp.login()
    assert trace.ok and first.request.max_age is None
    world.clock.advance(1000)
    _, stale = rp.login()
    assert stale.result["auth_time"] == DEMO_EPOCH  # no max_age: the OP's session is reused
    _, fresh = rp.login(max_age=300)
    assert fresh.ok, str(fresh)
    assert fresh.result["auth_time"] == DEMO_EPOCH + 1000
    rp.close()


def test_acr_values_satisfied(world):
    rp = rp_for(world, "rs")
    _, trace = rp.login(acr_values=[DEMO_ACR])
    assert trace.ok
    rp.close()


# -- the OP's endpoints refuse what they must ---------------------------------------------------------
def test_token_endpoint_checks_pkce_and_one_time_codes(world):
    rp = rp_for(world, "rs")
    request = rp.authorization_request()
    code, request = rp.receive_redirect(rp.authorize(request))
    forged = type(request)(request.url, request.state, request.nonce, "x" * 43)
    with pytest.raises(FetchError, match=r"invalid_grant.*RFC 7636"):
        rp.redeem(code, forged)
    request2 = rp.authorization_request()
    code2, request2 = rp.receive_redirect(rp.authorize(request2))
    assert rp.redeem(code2, request2).id_token
    with pytest.raises(FetchError, match="already used"):
        rp.redeem(code2, request2)
    rp.close()


def test_token_endpoint_authenticates_the_client(world):
    reg = ClientRegistration(CLIENT, (REDIRECT,), client_secret="w" * 43)
    rp = RelyingParty(world.net, reg, issuer=world.op.issuer, clock=world.clock, store_dir=world.store)
    request = rp.authorization_request()
    code, request = rp.receive_redirect(rp.authorize(request))
    with pytest.raises(FetchError, match="401: invalid_client"):
        rp.redeem(code, request)
    rp.close()


def test_code_expires(world):
    rp = rp_for(world, "rs")
    request = rp.authorization_request()
    code, request = rp.receive_redirect(rp.authorize(request))
    world.clock.advance(61)
    with pytest.raises(FetchError, match="code expired"):
        rp.redeem(code, request)
    rp.close()


def test_authorize_never_redirects_to_an_unregistered_uri(world):
    rp = rp_for(world, "rs")
    request = rp.authorization_request()
    url = request.url.replace("client.example%2Fcb", "evil.example%2Fcb")
    resp = world.net.request("GET", url)
    assert resp.status == 400 and "location" not in resp.headers
    rp.close()


def test_authorize_requires_pkce(world):
    rp = rp_for(world, "rs")
    request = rp.authorization_request()
    url = re.sub(r"&code_challenge_method=S256", "&code_challenge_method=plain", request.url)
    location = world.net.request("GET", url).headers["location"]
    assert parse_qs(urlsplit(location).query)["error"] == ["invalid_request"]
    rp.close()


def test_client_refuses_unknown_state(world):
    rp = rp_for(world, "rs")
    request = rp.authorization_request()
    location = rp.authorize(request)
    other = rp_for(world, "rs", ids=DemoIds(5))
    other.discover()
    with pytest.raises(InvalidClaim, match=re.escape("RFC 6749 §10.12")):
        other.receive_redirect(location)
    rp.close()
    other.close()


def test_discovery_issuer_must_match(world):
    rp = RelyingParty(world.net, world.regs["rs"], issuer=world.op.issuer + "/", clock=world.clock, store_dir=world.store)
    with pytest.raises(FetchError):
        rp.discover()
    rp.close()


# -- every step of §3.1.3.7 fails once ---------------------------------------------------------------
def issue(world, client: str = CLIENT, **kwargs) -> str:
    kwargs.setdefault("nonce", NONCE)
    return world.op.issue_id_token(client, **kwargs)


def test_happy_minted_token(world, make):
    trace = make().validate(issue(world), nonce=NONCE)
    assert trace.ok, str(trace)


def test_step1_unencrypted_token_when_encryption_was_registered(world, make):
    v = make(decryption_key=SAMWISE.jwk, encryption_alg="RSA-OAEP-256", encryption_enc="A256GCM")
    failed(v.validate(issue(world), nonce=NONCE), step(1), UnexpectedTokenKind)


def test_step1_encrypted_token_when_none_was_registered(world, make):
    failed(make(client_id="sealed.example").validate(issue(world, "sealed.example"), nonce=NONCE), step(1), UnexpectedTokenKind)


def test_step1_token_encrypted_to_another_key(world, make):
    inner = issue(world)
    jwe = encrypt_compact(inner, demo_key("rfc7520-frodo-rsa").public(), {"alg": "RSA-OAEP-256", "enc": "A256GCM", "cty": "JWT"})
    v = make(decryption_key=SAMWISE.jwk, encryption_alg="RSA-OAEP-256", encryption_enc="A256GCM")
    failed(v.validate(jwe, nonce=NONCE), step(1), DecryptionFailed)


def test_nested_jwt_says_cty_jwt(world, make):
    jwe = encrypt_compact(issue(world), SAMWISE.public(), {"alg": "RSA-OAEP-256", "enc": "A256GCM"})
    v = make(decryption_key=SAMWISE.jwk, encryption_alg="RSA-OAEP-256", encryption_enc="A256GCM")
    failed(v.validate(jwe, nonce=NONCE), "RFC 7519 §5.2", InvalidType)


def test_access_token_is_not_an_id_token(world, make):
    access_token = world.op.issue_access_token(CLIENT)
    failed(make().validate(access_token, nonce=NONCE), "RFC 8725 §3.11", InvalidType)


def test_required_claims(world, make):
    failed(make().validate(issue(world, overrides={"sub": None}), nonce=NONCE), "OIDC Core §2", MissingClaim)
    failed(make().validate(issue(world, overrides={"sub": "x" * 256}), nonce=NONCE), "OIDC Core §2", InvalidClaim)


def test_step2_issuer_mismatch(world, make):
    failed(make().validate(issue(world, overrides={"iss": "https://op.attacker.example"}), nonce=NONCE), step(2), InvalidIssuer)


def test_step3_token_for_another_client(world, make):
    trace = make().validate(issue(world, "other.example"), nonce=NONCE)
    failed(trace, step(3), InvalidAudience)
    assert trace.failed.name == 'aud contains "client.example"'


def test_step3_untrusted_extra_audience(world, make):
    token = issue(world, overrides={"aud": [CLIENT, "https://api.elsewhere.example"]})
    trace = make().validate(token, nonce=NONCE)
    failed(trace, step(3), InvalidAudience)
    assert trace.failed.name == "no untrusted extra audience"
    assert make(trusted_audiences=["https://api.elsewhere.example"]).validate(token, nonce=NONCE).ok


def test_step4_azp_must_be_a_string(world, make):
    failed(make().validate(issue(world, overrides={"azp": ["client.example"]}), nonce=NONCE), step(4), InvalidClaim)


def test_step5_azp_is_another_client(world, make):
    failed(make().validate(issue(world, overrides={"azp": "other.example"}), nonce=NONCE), step(5), InvalidAudience)


def test_step4_azp_absent_is_fine(world, make):
    trace = make().validate(issue(world, overrides={"azp": None}), nonce=NONCE)
    assert trace.ok and any(c.section == step(4) and c.evidence == "absent" for c in trace)


def test_step6_signature(world, make):
    header, payload, sig = issue(world).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = f"{header}.{b64url_encode(json.dumps(claims).encode())}.{sig}"
    failed(make().validate(forged, nonce=NONCE), step(6), InvalidSignature)


def test_step6_keys_are_the_issuers(world, make):
    attacker = demo_key("rfc7520-frodo-rsa").jwk
    world.op.signing_keys["RS256"], saved = attacker, world.op.signing_keys["RS256"]
    try:
        token = issue(world)
    finally:
        world.op.signing_keys["RS256"] = saved
    trace = make().validate(token, nonce=NONCE)
    failed(trace, "RFC 7515 §4.1.4", KeyNotFound)


def test_step7_alg_other_than_registered(world, make):
    # The OP signs with HS256 (as anyone holding the client_secret could), valid MAC, wrong alg.
    token = issue(world, alg="HS256")
    failed(make(algorithms=["RS256", "HS256"]).validate(token, nonce=NONCE), step(7), AlgorithmNotAllowed)
    # With the default allowlist (the registered alg only) the JWS layer refuses it even earlier.
    failed(make().validate(token, nonce=NONCE), "RFC 8725 §3.1", AlgorithmNotAllowed)


def test_step8_hs_needs_the_client_secret(world, make):
    token = issue(world, "mac.example")
    v = make(client_id="mac.example", client_secret=None, id_token_signed_response_alg="HS256")
    failed(v.validate(token, nonce=NONCE), step(8), KeyNotFound)
    v = make(client_id="mac.example", client_secret="x" * 43, id_token_signed_response_alg="HS256")
    failed(v.validate(token, nonce=NONCE), step(6), InvalidSignature)
    v = make(client_id="mac.example", id_token_signed_response_alg="HS256")
    assert v.validate(token, nonce=NONCE).ok


def test_step8_hs_with_multi_valued_aud_is_refused(world, make):
    token = issue(world, "mac.example", overrides={"aud": ["mac.example", "partner.example"]})
    v = make(client_id="mac.example", id_token_signed_response_alg="HS256", trusted_audiences=["partner.example"])
    failed(v.validate(token, nonce=NONCE), step(8), InvalidAudience)


def test_step8_short_secret_is_not_an_hs256_key(world, make):
    v = make(client_id="mac.example", client_secret="s" * 20, id_token_signed_response_alg="HS256")
    failed(v.validate(issue(world, "mac.example"), nonce=NONCE), "RFC 8725 §3.1", KeyNotFound)


def test_step9_expired(world, make):
    token = issue(world)
    world.clock.advance(300 + 60)
    failed(make().validate(token, nonce=NONCE), step(9), TokenExpired)
    failed(make().validate(issue(world, overrides={"exp": "soon"}), nonce=NONCE), step(9), InvalidClaim)


def test_step10_iat_window(world, make):
    future = issue(world, overrides={"iat": DEMO_EPOCH + 600})
    failed(make().validate(future, nonce=NONCE), step(10), InvalidIssuedAt)
    old = issue(world, overrides={"iat": DEMO_EPOCH - 3600, "exp": DEMO_EPOCH + 300})
    trace = make().validate(old, nonce=NONCE)
    failed(trace, f"joselab policy; {step(10)} sets no bound", InvalidIssuedAt)
    assert trace.failed.name == "iat is at most 600s old"


def test_step11_nonce(world, make):
    failed(make().validate(issue(world, nonce=None), nonce=NONCE), step(11), MissingClaim)
    failed(make().validate(issue(world, nonce="another-session"), nonce=NONCE), step(11), InvalidClaim)
    failed(make().validate(issue(world), nonce=None), step(11), InvalidClaim)
    assert make().validate(issue(world, nonce=None), nonce=None).ok
    v = make()
    assert v.validate(issue(world), nonce=NONCE).ok
    failed(v.validate(issue(world), nonce=NONCE), step(11), ReplayDetected)


def test_step11_evidence_never_shows_the_nonce(world, make):
    trace = make().validate(issue(world, nonce="another-session"), nonce=NONCE)
    assert all(NONCE not in c.evidence and "another-session" not in c.evidence for c in trace)


def test_step12_acr_not_the_one_requested(world, make):
    gold = "urn:mace:incommon:iap:gold"
    failed(make().validate(issue(world), nonce=NONCE, acr_values=[gold]), step(12), InvalidClaim)
    assert make().validate(issue(world, acr=gold), nonce=NONCE, acr_values=[gold]).ok


def test_step13_auth_time_and_max_age(world, make):
    failed(make().validate(issue(world, overrides={"auth_time": None}), nonce=NONCE, max_age=300), step(13), MissingClaim)
    failed(make().validate(issue(world, overrides={"auth_time": "early"}), nonce=NONCE, max_age=300), step(13), InvalidClaim)
    old = issue(world, auth_time=DEMO_EPOCH - 3600)
    failed(make().validate(old, nonce=NONCE, max_age=300), step(13), InvalidClaim)
    assert make().validate(old, nonce=NONCE).ok  # no max_age sent: step 13 has nothing to check


def test_at_hash_of_a_swapped_access_token(world, make):
    mine, theirs = world.op.issue_access_token(CLIENT), world.op.issue_access_token(CLIENT, sub="someone")
    token = issue(world, access_token=mine)
    failed(make().validate(token, nonce=NONCE, access_token=theirs), AT_HASH_SECTION, InvalidClaim)
    assert make().validate(issue(world, access_token=mine), nonce=NONCE, access_token=mine).ok


def test_c_hash_of_another_code(world, make):
    token = issue(world, code="code-one")
    failed(make().validate(token, nonce=NONCE, code="code-two"), C_HASH_SECTION, InvalidClaim)


def test_hashes_absent_pass_unless_required(world, make):
    token = issue(world)
    assert make().validate(token, nonce=NONCE, access_token="at", code="c").ok
    failed(make(require_hashes=True).validate(issue(world), nonce=NONCE, access_token="at"), AT_HASH_SECTION, MissingClaim)


def test_strict_raises_the_failing_check(world, make):
    with pytest.raises(InvalidIssuer) as info:
        make().validate(issue(world, overrides={"iss": "https://x.example"}), nonce=NONCE, strict=True)
    assert info.value.section == step(2)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "a.b",
        "a.b.c",
        "a.b.c.d.e",
        "x" * 40_000,
        "eyJhbGciOiJub25lIn0.e30.",
        None,
        42,
        b"eyJ.e30.",
        "....",
        ".....",
        "eyJ9.e30.AA",
    ],
)
def test_garbage_is_a_joselab_error_not_a_crash(make, token):
    trace = make().validate(token, nonce=NONCE)
    assert not trace.ok and isinstance(trace.error, ValidationError)
    assert isinstance(trace.error, JoselabError)
    assert trace.error.section != "joselab", "no library exception leaked through"


def test_garbage_to_an_encrypting_client(make):
    v = make(decryption_key=SAMWISE.jwk, encryption_alg="RSA-OAEP-256", encryption_enc="A256GCM")
    for token in ["a.b.c.d.e", "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.AA.AA.AA.AA"]:
        trace = v.validate(token, nonce=NONCE)
        assert isinstance(trace.error, (MalformedToken, DecryptionFailed)), str(trace)


def test_validator_configuration_must_be_consistent(world, nonce_store):
    with pytest.raises(JoselabError):
        IdTokenValidator(
            issuer="https://op.bank.example",
            client_id=CLIENT,
            keys=jwk.JWKSet(),
            clock=world.clock,
            nonce_store=nonce_store,
            decryption_key=SAMWISE.jwk,
        )
    with pytest.raises(JoselabError):
        ClientRegistration("c", ("https://c/cb",), id_token_signed_response_alg="HS256")


def test_id_token_is_refused_by_the_api_and_the_access_token_accepted(world):
    """RFC 8725 §3.11-3.12 both ways: the API of scenario 2 takes the OP's at+jwt and refuses the ID
    token, on explicit typing first (and its aud names the client, not the API)."""
    from joselab.access_token import AccessTokenValidator

    rp = rp_for(world, "rs")
    tokens, trace = rp.login()
    assert trace.ok
    # The OP's JWK has no alg: the API names the one algorithm it takes (RFC 8725 §3.1, KeyBinding).
    api = AccessTokenValidator(
        issuer=world.op.issuer,
        audience=world.op.api_audience,
        keys=load_jwks(public_jwks(world.op.key)),
        clock=world.clock,
        algorithms=("RS256",),
    )
    assert api.validate(tokens.access_token, required_scope="accounts").ok
    refused = api.validate(tokens.id_token)
    failed(refused, "RFC 9068 §4 (1)", InvalidType)
    assert trace.result["aud"] != world.op.api_audience
    rp.close()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_claim_names = st.sampled_from(["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "azp", "at_hash", "c_hash"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(_claim_names, _json, min_size=1, max_size=4))
def test_any_signed_claims_end_in_a_check_not_a_crash(world, make, changes):
    """A correctly signed token whose claims have any JSON types: only joselab errors, from a named check."""
    token = issue(world, access_token="at", code="c", overrides={k: v for k, v in changes.items() if v is not None})
    trace = make().validate(token, nonce=NONCE, access_token="at", code="c", max_age=300, acr_values=[DEMO_ACR])
    assert trace.ok or (isinstance(trace.error, ValidationError) and trace.error.section != "joselab"), str(trace)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(alphabet="eyJABC.-_=" + "é", max_size=60))
def test_any_text_ends_in_a_check_not_a_crash(make, token):
    trace = make().validate(token, nonce=NONCE)
    assert not trace.ok and isinstance(trace.error, ValidationError) and trace.error.section != "joselab"
