"""joselab.cnf: the thumbprints against the RFCs' own examples, and every check of
:func:`check_confirmation` failing once on the binding that breaks it."""

from __future__ import annotations

import hashlib

import pytest
from jwcrypto import jwk

from joselab import Trace, b64url_encode
from joselab.cnf import (
    CONFIRMATION_METHODS,
    Presented,
    certificate_thumbprint,
    check_confirmation,
    is_bound,
    jwk_thumbprint,
)
from joselab.errors import (
    CertificateBindingError,
    DpopBindingError,
    InvalidClaim,
    JoselabError,
    KeySetError,
    SenderConstraintError,
)

# RFC 7638 §3.1: the example RSA key (RFC 7517 Appendix A.1) and its thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMst"
    "n64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5haj"
    "rn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_KEY = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
# RFC 9449 §7.1 (Figure 13's proof header) and §6.1: the proof key, and the cnf.jkt bound to it.
RFC9449_JWK = {
    "kty": "EC",
    "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
    "crv": "P-256",
}
RFC9449_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

CERT = b"\x30\x82certificate DER of the TPP"  # any bytes: the thumbprint hashes them as given
OTHER_CERT = b"\x30\x82certificate DER of someone else"
X5T = certificate_thumbprint(CERT)


def rows(claims, presented=None) -> Trace:
    trace = Trace("test")
    with trace.run():
        check_confirmation(trace, claims, presented)
    return trace


def failed(claims, presented=None):
    trace = rows(claims, presented)
    assert not trace.ok
    return trace.failed, trace.error


# -- thumbprints -------------------------------------------------------------------------------------
def test_jwk_thumbprint_is_rfc7638s_example():
    assert jwk_thumbprint(RFC7638_KEY) == RFC7638_THUMBPRINT
    # Only the required members count (RFC 7638 §3.2): the order and the optional members do not.
    assert jwk_thumbprint({"e": "AQAB", "n": RFC7638_N, "kty": "RSA"}) == RFC7638_THUMBPRINT


def test_jwk_thumbprint_is_rfc9449s_cnf_jkt():
    assert jwk_thumbprint(RFC9449_JWK) == RFC9449_JKT


@pytest.mark.parametrize("kty,crv", [("EC", "P-256"), ("EC", "P-384"), ("OKP", "Ed25519"), ("RSA", None), ("oct", None)])
def test_jwk_thumbprint_agrees_with_jwcrypto(kty, crv):
    params = {"kty": kty, **({"crv": crv} if crv else {}), **({"size": 2048} if kty == "RSA" else {})}
    if kty == "oct":
        params["size"] = 256
    key = jwk.JWK.generate(**params)
    exported = key.export(as_dict=True) if kty == "oct" else key.export_public(as_dict=True)
    assert jwk_thumbprint(exported) == key.thumbprint()


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "a string",
        [],
        {},
        {"kty": "XYZ"},
        {"kty": 1},
        {"kty": "RSA", "n": RFC7638_N},
        {"kty": "EC", "crv": "P-256", "x": 1, "y": "a"},
    ],
)
def test_jwk_thumbprint_refuses_what_is_not_a_key(bad):
    with pytest.raises(KeySetError):
        jwk_thumbprint(bad)


def test_jwk_thumbprint_refuses_a_lone_surrogate():
    with pytest.raises(KeySetError):
        jwk_thumbprint({"kty": "oct", "k": "\ud800"})


def test_certificate_thumbprint_is_base64url_sha256_of_the_der():
    assert X5T == b64url_encode(hashlib.sha256(CERT).digest())
    assert len(X5T) == 43 and "=" not in X5T  # RFC 8705 §3.1: no padding
    assert certificate_thumbprint(bytearray(CERT)) == X5T
    with pytest.raises(TypeError):
        certificate_thumbprint("not bytes")  # type: ignore[arg-type]


# -- the rows ----------------------------------------------------------------------------------------
def test_a_token_without_cnf_presented_as_bearer_gets_no_row():
    assert not is_bound({"sub": "x"})
    assert len(rows({"sub": "x"})) == 0
    assert len(rows({"sub": "x"}, Presented(certificate_thumbprint=X5T))) == 0


def test_certificate_bound_token_on_its_connection_passes():
    trace = rows({"cnf": {"x5t#S256": X5T}}, Presented(certificate_thumbprint=X5T))
    assert trace.ok
    assert [c.section for c in trace] == [
        "RFC 7800 §3.1",
        "joselab policy; RFC 7800 §3.1 leaves required members open",
        "RFC 8705 §3.1",
        "RFC 8705 §3, §3.1",
    ]


def test_dpop_bound_token_with_the_dpop_scheme_and_its_key_passes():
    trace = rows({"cnf": {"jkt": RFC9449_JKT}}, Presented("DPoP", dpop_jkt=RFC9449_JKT))
    assert trace.ok
    assert [c.section for c in trace][2:] == ["RFC 9449 §6.1", "RFC 9449 §7.1, §7.2", "RFC 9449 §6, §7.1"]
    # Without a proof key, the caller compares it (RFC 9449 §4.3 check 12): no key row here.
    assert len(rows({"cnf": {"jkt": RFC9449_JKT}}, Presented("dpop"))) == 4  # the scheme is case-insensitive


@pytest.mark.parametrize("cnf", ["x5t", ["x5t#S256"], None, 5, True])
def test_cnf_that_is_not_an_object_fails(cnf):
    row, error = failed({"cnf": cnf}, Presented(certificate_thumbprint=X5T))
    assert row.section == "RFC 7800 §3.1" and isinstance(error, InvalidClaim)


@pytest.mark.parametrize("cnf", [{}, {"jwk": RFC9449_JWK}, {"kid": "k1"}, {"x5t#s256": X5T}])
def test_cnf_without_a_method_this_server_checks_fails(cnf):
    row, error = failed({"cnf": cnf}, Presented(certificate_thumbprint=X5T))
    assert row.name.startswith("cnf carries a confirmation method") and type(error) is SenderConstraintError


def test_unknown_members_beside_a_checked_one_are_ignored_and_named():
    trace = rows({"cnf": {"x5t#S256": X5T, "kid": "k1"}}, Presented(certificate_thumbprint=X5T))
    assert trace.ok
    assert '["kid"]' in trace.checks[1].evidence and "RFC 7800 §3.1" in trace.checks[1].evidence


@pytest.mark.parametrize("value", [X5T + "=", X5T[:-1], X5T[:-1] + "B", 5, None, "", "a" * 44, X5T.replace(X5T[0], "+")])
def test_x5t_s256_that_is_not_a_sha256_value_fails(value):
    row, error = failed({"cnf": {"x5t#S256": value}}, Presented(certificate_thumbprint=X5T))
    assert row.section == "RFC 8705 §3.1" and isinstance(error, InvalidClaim)


def test_certificate_bound_token_over_another_certificate_fails():
    row, error = failed({"cnf": {"x5t#S256": X5T}}, Presented(certificate_thumbprint=certificate_thumbprint(OTHER_CERT)))
    assert row.section == "RFC 8705 §3, §3.1" and isinstance(error, CertificateBindingError)
    assert X5T in row.evidence


@pytest.mark.parametrize("presented", [None, Presented(), Presented("DPoP", dpop_jkt=RFC9449_JKT)])
def test_certificate_bound_token_without_a_client_certificate_fails(presented):
    row, error = failed({"cnf": {"x5t#S256": X5T}}, presented)
    assert row.section == "RFC 8705 §3, §3.1" and isinstance(error, CertificateBindingError)
    assert row.evidence == "no client certificate on this connection"


@pytest.mark.parametrize("value", [RFC9449_JKT + "=", 7, None, "", RFC7638_THUMBPRINT[:40]])
def test_jkt_that_is_not_a_sha256_value_fails(value):
    row, error = failed({"cnf": {"jkt": value}}, Presented("DPoP"))
    assert row.section == "RFC 9449 §6.1" and isinstance(error, InvalidClaim)


@pytest.mark.parametrize("presented", [None, Presented(), Presented("Bearer", certificate_thumbprint=X5T)])
def test_dpop_bound_token_presented_as_bearer_fails(presented):
    row, error = failed({"cnf": {"jkt": RFC9449_JKT}}, presented)
    assert row.section == "RFC 9449 §7.1, §7.2" and isinstance(error, DpopBindingError)


def test_dpop_bound_token_with_a_proof_by_another_key_fails():
    row, error = failed({"cnf": {"jkt": RFC9449_JKT}}, Presented("DPoP", dpop_jkt=RFC7638_THUMBPRINT))
    assert row.section == "RFC 9449 §6, §7.1" and isinstance(error, DpopBindingError)


@pytest.mark.parametrize("claims", [{"sub": "x"}, {"cnf": {"x5t#S256": X5T}}])
def test_dpop_scheme_with_a_token_that_is_not_dpop_bound_fails(claims):
    row, error = failed(claims, Presented("DPoP", certificate_thumbprint=X5T, dpop_jkt=RFC9449_JKT))
    assert row.section == "joselab policy; RFC 9449 §7.1 defines the DPoP scheme for DPoP-bound tokens"
    assert isinstance(error, DpopBindingError) and row.name == "the DPoP scheme carries a DPoP-bound token (cnf.jkt)"


def test_a_token_bound_both_ways_checks_both():
    claims = {"cnf": {"x5t#S256": X5T, "jkt": RFC9449_JKT}}
    assert rows(claims, Presented("DPoP", certificate_thumbprint=X5T, dpop_jkt=RFC9449_JKT)).ok
    row, _ = failed(claims, Presented("DPoP", dpop_jkt=RFC9449_JKT))
    assert row.section == "RFC 8705 §3, §3.1"


def test_section_prefix_is_written_before_each_row():
    trace = Trace("test")
    with trace.run():
        check_confirmation(trace, {"cnf": {"x5t#S256": X5T}}, Presented(certificate_thumbprint=X5T), section_prefix="RFC 9068 §4")
    assert all(c.section.startswith("RFC 9068 §4, ") for c in trace)


def test_every_failure_is_a_sender_constraint_or_claim_error():
    for error in (CertificateBindingError, DpopBindingError):
        assert issubclass(error, SenderConstraintError) and issubclass(error, JoselabError)
    assert CONFIRMATION_METHODS == ("x5t#S256", "jkt")
