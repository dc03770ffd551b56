"""The access token validator's ``cnf`` rows (RFC 8705 §3, RFC 9449 §7.1, §7.2): a bound token is
checked against how it was presented, after the claims rows and before the scope; a token without
``cnf`` validates exactly as before."""

from __future__ import annotations

import pytest
from jwcrypto import jwk

from joselab import DEMO_EPOCH, FixedClock, demo_key, sign_compact
from joselab.access_token import AccessTokenValidator
from joselab.cnf import Presented, certificate_thumbprint
from joselab.errors import CertificateBindingError, DpopBindingError, InsufficientScope, InvalidClaim, SenderConstraintError

ISS = "https://as.bank.example"
API = "https://api.bank.example"
AS_KEY = demo_key("rfc7515-a2-rsa")
X5T = certificate_thumbprint(b"the TPP's transport certificate")
OTHER = certificate_thumbprint(b"Mallory's transport certificate")
JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"  # RFC 9449 §6.1


def published() -> jwk.JWKSet:
    keyset = jwk.JWKSet()
    keyset.add(jwk.JWK(**{**AS_KEY.jwk.export_public(as_dict=True), "alg": "RS256", "use": "sig"}))
    return keyset


def token(**extra) -> str:
    claims = {
        "iss": ISS,
        "exp": DEMO_EPOCH + 300,
        "aud": API,
        "sub": "248289761001",
        "client_id": "sw-budget-buddy-01",
        "iat": DEMO_EPOCH,
        "jti": "8f0c6a52-3a53-4a4d-9d0e-6a5a8f7d6c01",
        "scope": "accounts",
        **extra,
    }
    return sign_compact(claims, AS_KEY.jwk, {"alg": "RS256", "typ": "at+jwt", "kid": AS_KEY.kid})


@pytest.fixture
def validator():
    return AccessTokenValidator(issuer=ISS, audience=API, keys=published(), clock=FixedClock(DEMO_EPOCH))


def sections(trace) -> list[str]:
    return [c.section for c in trace]


def test_a_token_without_cnf_validates_as_before(validator):
    plain = validator.validate(token(), required_scope="accounts")
    assert plain.ok
    with_presented = validator.validate(token(), required_scope="accounts", presented=Presented(certificate_thumbprint=X5T))
    assert with_presented.ok and sections(with_presented) == sections(plain)
    assert not any("RFC 8705" in s or "RFC 7800" in s for s in sections(plain))


def test_certificate_bound_token_on_its_connection_passes_with_the_cnf_rows_before_the_scope(validator):
    trace = validator.validate(
        token(cnf={"x5t#S256": X5T}), required_scope="accounts", presented=Presented(certificate_thumbprint=X5T)
    )
    assert trace.ok, str(trace)
    rows = sections(trace)
    assert rows[-1] == "RFC 9068 §4, §2.2.3"
    assert rows[-3:-1] == ["RFC 8705 §3.1", "RFC 8705 §3, §3.1"]
    assert rows.index("RFC 7800 §3.1") > rows.index("RFC 9068 §2.2.3")
    assert trace.result["cnf"] == {"x5t#S256": X5T}


@pytest.mark.parametrize("presented", [None, Presented(), Presented(certificate_thumbprint=OTHER)])
def test_certificate_bound_token_replayed_elsewhere_fails_at_the_binding_row(validator, presented):
    trace = validator.validate(token(cnf={"x5t#S256": X5T}), required_scope="accounts", presented=presented)
    assert trace.failed.section == "RFC 8705 §3, §3.1"
    assert isinstance(trace.error, CertificateBindingError)
    with pytest.raises(CertificateBindingError):
        validator.validate(token(cnf={"x5t#S256": X5T}), presented=presented, strict=True)


def test_a_stolen_token_is_refused_as_stolen_before_its_scope_is_read(validator):
    trace = validator.validate(token(cnf={"x5t#S256": X5T}), required_scope="payments", presented=Presented())
    assert isinstance(trace.error, CertificateBindingError) and not isinstance(trace.error, InsufficientScope)


def test_dpop_bound_token_presented_as_bearer_fails(validator):
    trace = validator.validate(token(cnf={"jkt": JKT}), presented=Presented("Bearer", certificate_thumbprint=X5T))
    assert trace.failed.section == "RFC 9449 §7.1, §7.2" and isinstance(trace.error, DpopBindingError)


def test_dpop_bound_token_with_the_dpop_scheme_passes_and_leaves_the_proof_to_the_caller(validator):
    trace = validator.validate(token(cnf={"jkt": JKT}), presented=Presented("DPoP"))
    assert trace.ok and sections(trace)[-1] == "RFC 9449 §7.1, §7.2"


def test_dpop_scheme_with_an_unbound_token_fails(validator):
    trace = validator.validate(token(), presented=Presented("DPoP", dpop_jkt=JKT))
    assert trace.failed.section.endswith("RFC 9449 §7.1 defines the DPoP scheme for DPoP-bound tokens")
    assert isinstance(trace.error, DpopBindingError)


@pytest.mark.parametrize("cnf,error", [("x5t", InvalidClaim), ({}, SenderConstraintError), ({"jwk": {}}, SenderConstraintError)])
def test_malformed_or_unknown_cnf_fails(validator, cnf, error):
    trace = validator.validate(token(cnf=cnf), presented=Presented(certificate_thumbprint=X5T))
    assert type(trace.error) is error
