"""Production defaults (issue 14): the real clock, unpredictable identifiers, no demo key unless asked;
the validators in modules of their own; and one key-binding mechanism for the key sources."""

from __future__ import annotations

import ast
import tempfile
import time
from pathlib import Path

import pytest

import joselab
from joselab import DEMO_EPOCH, FixedClock
from joselab.access_token import AccessTokenValidator, AuthorizationServer
from joselab.clock import DemoIds, RandomIds, SystemClock
from joselab.errors import KeyNotFound
from joselab.id_token import DEFAULT_MAX_LIFETIME, IdTokenValidator, OpenIDProvider, RelyingParty
from joselab.jws import sign_compact
from joselab.keys import KeyBinding, generate_key
from joselab.keysource import StaticKeys
from joselab.message import NestedJWTValidator, OBVerifier
from joselab.parties import Database, Network, ReplayStore
from joselab.registration import RegistrationRequestValidator, SoftwareStatementValidator, TrustedDirectory

PACKAGE = Path(joselab.__file__).parent
RSA = generate_key("RS256", kid="r1")


def _public(key, **extra) -> dict:
    return {**key.export_public(as_dict=True), **extra}


# -- the real clock ----------------------------------------------------------------------------------
def test_access_token_validator_without_a_clock_uses_the_system_clock():
    validator = AccessTokenValidator(issuer="https://as", audience="https://api", keys=StaticKeys({"keys": []}))
    assert isinstance(validator.clock, SystemClock)
    # and it is the real time: a token valid now passes, one valid at the demo epoch has expired
    now = int(time.time())
    claims = {"iss": "https://as", "aud": "https://api", "sub": "s", "client_id": "c", "jti": "j"}
    keys = StaticKeys({"keys": [_public(RSA, alg="RS256")]})
    validator = AccessTokenValidator(issuer="https://as", audience="https://api", keys=keys)
    header = {"alg": "RS256", "typ": "at+jwt", "kid": "r1"}
    assert validator.validate(sign_compact({**claims, "iat": now, "exp": now + 60}, RSA, header)).ok
    old = validator.validate(sign_compact({**claims, "iat": DEMO_EPOCH, "exp": DEMO_EPOCH + 60}, RSA, header))
    assert old.failed is not None and old.failed.section == "RFC 9068 §4 (6)"


def test_every_validator_defaults_to_the_system_clock(tmp_path):
    db = Database(tmp_path / "r.sqlite")
    try:
        validators = [
            IdTokenValidator(issuer="https://op", client_id="c", keys=StaticKeys({"keys": []}), nonce_store=ReplayStore(db)),
            SoftwareStatementValidator(network=Network(), directories=[TrustedDirectory("d", "https://d/jwks")]),
            RegistrationRequestValidator(network=Network(), replay=ReplayStore(db, "jti"), audience="https://as"),
            NestedJWTValidator(decryption_key=generate_key("RS256"), signer_keys=StaticKeys({"keys": []}), algorithms=("PS256",)),
        ]
        for validator in validators:
            assert isinstance(validator.clock, SystemClock), type(validator).__name__
    finally:
        db.close()


def test_ob_verifier_defaults_to_the_system_clock():
    import inspect

    assert inspect.signature(OBVerifier).parameters["clock"].default is None


# -- unpredictable identifiers -----------------------------------------------------------------------
def test_production_issuers_and_clients_use_unpredictable_ids():
    with tempfile.TemporaryDirectory() as tmp:
        net = Network()
        auth = AuthorizationServer(net, clock=FixedClock(), db_path=Path(tmp) / "as.sqlite", key=generate_key("RS256"))
        op = OpenIDProvider(net, clock=FixedClock(), store_dir=tmp, signing_keys={"RS256": generate_key("RS256")})
        try:
            assert isinstance(auth.ids, RandomIds) and not isinstance(auth.ids, DemoIds)
            assert isinstance(op.ids, RandomIds)
            registration = op.register(
                joselab.id_token.ClientRegistration("c.example", ("https://c.example/cb",), client_secret="s" * 32)
            )
            rp = RelyingParty(net, registration, issuer=op.issuer, clock=FixedClock(), store_dir=tmp)
            assert isinstance(rp.ids, RandomIds)
            # two issuers built the same way mint different jti values (DemoIds would repeat them)
            other = AuthorizationServer(net, clock=FixedClock(), db_path=Path(tmp) / "b.sqlite", key=generate_key("RS256"))
            args = {"sub": "s", "client_id": "c", "audience": "https://api", "scope": "accounts"}
            assert auth.access_token_claims(**args)["jti"] != other.access_token_claims(**args)["jti"]
            other.close()
        finally:
            auth.close()
            net.close()


# -- the ID token's max_lifetime leniency ------------------------------------------------------------
def _id_token(lifetime: int) -> str:
    claims = {"iss": "https://op", "sub": "u", "aud": "c", "iat": DEMO_EPOCH, "exp": DEMO_EPOCH + lifetime, "nonce": "n"}
    return sign_compact(claims, RSA, {"alg": "RS256", "kid": "r1"})


@pytest.mark.parametrize("lifetime", [7200])
def test_id_token_longer_lifetime_is_a_named_leniency(tmp_path, lifetime):
    db = Database(tmp_path / "n.sqlite")
    try:

        def validator(**options):
            return IdTokenValidator(
                issuer="https://op",
                client_id="c",
                keys=StaticKeys({"keys": [_public(RSA, alg="RS256")]}),
                clock=FixedClock(DEMO_EPOCH),
                nonce_store=ReplayStore(db, f"n{len(options)}"),
                **options,
            )

        refused = validator().validate(_id_token(lifetime), nonce="n")
        assert refused.failed is not None and "OIDC Core §3.1.3.7 (10)" in refused.failed.section
        trace = validator(max_lifetime=lifetime).validate(_id_token(lifetime), nonce="n")
        assert trace.ok, str(trace)
        rows = [c for c in trace if c.name.startswith("leniency max_lifetime")]
        assert [c.name for c in rows] == [
            f"leniency max_lifetime: lifetimes up to {lifetime}s accepted (default {DEFAULT_MAX_LIFETIME}s)"
        ]
        assert rows[0].evidence == f"exp - iat = {lifetime}s"
        short = validator(max_lifetime=600, iat_window=600).validate(_id_token(300), nonce="n")
        assert short.ok and not [c for c in short if c.name.startswith("leniency")]
    finally:
        db.close()


# -- one key-binding mechanism -----------------------------------------------------------------------
def test_key_sources_decide_through_key_binding():
    source = StaticKeys({"keys": [_public(RSA)]}, key_algorithms={"RSA": "PS256"})
    assert isinstance(source.binding, KeyBinding) and source.binding.infer is False
    assert source.binding.by_type == {("RSA", None): "PS256"}
    assert source({"alg": "PS256", "kid": "r1"})["alg"] == "PS256"


def test_key_source_takes_a_key_binding():
    source = StaticKeys({"keys": [_public(RSA)]}, binding=KeyBinding(by_kid={"r1": "RS256"}, infer=False))
    assert source({"alg": "RS256", "kid": "r1"})["alg"] == "RS256"
    with pytest.raises(ValueError):
        StaticKeys({"keys": []}, key_algorithms={"RSA": "RS256"}, binding=KeyBinding())


def test_key_source_infers_nothing_for_a_curve_key_without_alg():
    p256 = generate_key("ES256", kid="e1")
    with pytest.raises(KeyNotFound) as refused:
        StaticKeys({"keys": [_public(p256)]})({"alg": "ES256", "kid": "e1"})
    assert refused.value.section == "RFC 8725 §3.1"
    # a key type without a curve covers every curve of that type
    assert StaticKeys({"keys": [_public(p256)]}, key_algorithms={"EC": "ES256"})({"alg": "ES256", "kid": "e1"})["alg"] == "ES256"


def test_key_whose_alg_contradicts_its_configuration_serves_nothing():
    source = StaticKeys({"keys": [_public(RSA, alg="RS256")]}, key_algorithms={"r1": "PS256"})
    with pytest.raises(KeyNotFound) as refused:
        source({"alg": "RS256", "kid": "r1"})
    assert refused.value.section == "RFC 8725 §3.1" and "PS256" in refused.value.evidence


def test_key_binding_from_names_and_infer():
    binding = KeyBinding.from_names({"a": "PS256", "OKP Ed25519": "Ed25519", "RSA": "RS256"})
    assert binding.by_type == {("OKP", "Ed25519"): "Ed25519", ("RSA", None): "RS256"}
    assert binding.algorithm_for({"kty": "RSA", "kid": "a"}, ())[0] == "PS256"
    assert binding.configured_name({"kty": "RSA", "kid": "b"}) == "RSA"
    curve = {"kty": "EC", "crv": "P-256"}
    assert KeyBinding().algorithm_for(curve, ())[0] == "ES256"
    assert KeyBinding(infer=False).algorithm_for(curve, ())[0] is None
    assert KeyBinding(infer=False).algorithm_for({"kty": "RSA"}, ("RS256",))[0] is None


# -- the layout --------------------------------------------------------------------------------------
@pytest.mark.parametrize("scenario", ["access_token", "id_token", "registration"])
def test_validator_modules_import_no_demo_party(scenario):
    tree = ast.parse((PACKAGE / scenario / "validator.py").read_text("utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "parties" not in imported and not any(m.endswith((".parties", "http", "tls")) for m in imported), imported


CORE = ("compact", "keys", "clock", "trace", "errors", "display", "sections", "jws", "jwe", "claims", "serialization")


@pytest.mark.parametrize("module", CORE)
def test_the_core_imports_no_scenario(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text("utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    scenarios = {"access_token", "id_token", "registration", "message", "keysource", "provider", "attacks", "widgets"}
    assert not imported & scenarios, imported
