"""joselab.claims: the claim checks every JWT profile shares (RFC 7519 §4.1, RFC 8725 §3.8-3.11)."""

from __future__ import annotations

import pytest

from joselab import DEMO_EPOCH, FixedClock, Trace
from joselab.claims import (
    audiences,
    check_audience,
    check_expiry,
    check_issued_at,
    check_issuer,
    check_not_before,
    check_numeric,
    check_required,
    check_string,
    check_typ,
    is_numeric_date,
    normalise_typ,
)
from joselab.errors import (
    InvalidAudience,
    InvalidClaim,
    InvalidIssuedAt,
    InvalidIssuer,
    InvalidType,
    MissingClaim,
    TokenExpired,
    TokenNotYetValid,
)

NOW = DEMO_EPOCH
S = "RFC 9068 §4 (6)"


def run(fn, *args, **kw):
    """Run one check inside a trace; return the trace (its error, if any, kept)."""
    trace = Trace("t")
    with trace.run():
        fn(trace, *args, **kw)
    return trace


def fails(error, fn, *args, **kw):
    trace = run(fn, *args, **kw)
    assert isinstance(trace.error, error), trace
    return trace


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (1, True),
        (1.5, True),
        (0, True),
        (True, False),
        (False, False),
        ("1", False),
        (None, False),
        (float("nan"), False),
        (1e16, False),
        (float("inf"), False),
    ],
)
def test_is_numeric_date(value, ok):
    assert is_numeric_date(value) is ok


@pytest.mark.parametrize(
    ("value", "normal"),
    [
        ("at+jwt", "at+jwt"),
        ("application/at+jwt", "at+jwt"),
        ("AT+JWT", "at+jwt"),
        ("Application/AT+JWT", "at+jwt"),
        ("JWT", "jwt"),
    ],
)
def test_normalise_typ(value, normal):
    """RFC 7515 §4.1.9: media types compare case-insensitively, application/ optional."""
    assert normalise_typ(value) == normal


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT", "Application/At+Jwt"])
def test_check_typ_accepts_spellings(typ):
    assert run(check_typ, {"typ": typ}, ["at+jwt"], "RFC 9068 §4 (1)").ok


@pytest.mark.parametrize(
    "header",
    [{}, {"typ": "JWT"}, {"typ": "text/at+jwt"}, {"typ": ["at+jwt"]}, {"typ": "at+jwt "}],
    ids=["absent", "jwt", "other-prefix", "array", "space"],
)
def test_check_typ_rejects(header):
    """Explicit typing (RFC 8725 §3.11): an ID token (typ JWT) is not an access token."""
    trace = fails(InvalidType, check_typ, header, ["at+jwt"], "RFC 9068 §4 (1)")
    assert trace.checks[-1].section == "RFC 9068 §4 (1)"


def test_check_required():
    assert run(check_required, {"iss": 1, "sub": 2}, ["iss", "sub"], "s").ok
    trace = fails(MissingClaim, check_required, {"iss": 1}, ["iss", "sub", "jti"], "s")
    assert "['sub', 'jti']" in trace.checks[-1].evidence


@pytest.mark.parametrize(
    "iss",
    ["https://as.example/", "https://AS.example", None, ["https://as.example"], 1],
    ids=["slash", "case", "absent", "array", "number"],
)
def test_check_issuer_exact(iss):
    claims = {} if iss is None else {"iss": iss}
    fails(InvalidIssuer, check_issuer, claims, "https://as.example", "s")
    assert run(check_issuer, {"iss": "https://as.example"}, "https://as.example", "s").ok


def test_audiences():
    assert audiences({"aud": "a"}) == ["a"]
    assert audiences({"aud": ["a", "b"]}) == ["a", "b"]
    for bad in [{}, {"aud": []}, {"aud": [1]}, {"aud": 1}, {"aud": None}]:
        assert audiences(bad) is None


@pytest.mark.parametrize("aud", ["https://api.example", ["https://other.example", "https://api.example"]], ids=["string", "list"])
def test_audience_string_and_list(aud):
    assert run(check_audience, {"aud": aud}, "https://api.example", "s").ok


@pytest.mark.parametrize(
    "aud",
    ["https://other.example", ["https://other.example"], [], None, [1]],
    ids=["other", "list-other", "empty", "absent", "numbers"],
)
def test_audience_missing(aud):
    claims = {} if aud is None else {"aud": aud}
    fails(InvalidAudience, check_audience, claims, "https://api.example", "s")


def test_untrusted_extra_audience():
    """OIDC Core §3.1.3.7 (3): reject an ID token that also names an audience the client does not trust."""
    claims = {"aud": ["client-1", "evil-client"]}
    assert run(check_audience, claims, "client-1", "s").ok  # without a trust list, extra audiences pass
    trace = fails(InvalidAudience, check_audience, claims, "client-1", "s", trusted=["client-2"])
    assert "evil-client" in trace.checks[-1].evidence
    assert run(check_audience, claims, "client-1", "s", trusted=["evil-client"]).ok


def test_check_numeric():
    trace = Trace("t")
    assert check_numeric(trace, {"exp": 5}, "exp", "s", required=True) == 5.0
    assert check_numeric(trace, {}, "nbf", "s", required=False) is None
    fails(MissingClaim, check_numeric, {}, "exp", "s", required=True)


@pytest.mark.parametrize("exp", ["1767225700", True, None, [1], 10**20], ids=["string", "bool", "null", "array", "huge"])
def test_exp_must_be_a_numeric_date(exp):
    fails(InvalidClaim, check_expiry, {"exp": exp}, FixedClock(NOW), 0, S)


def test_expiry_with_leeway():
    clock = FixedClock(NOW)
    assert run(check_expiry, {"exp": NOW + 1}, clock, 0, S).ok
    fails(TokenExpired, check_expiry, {"exp": NOW}, clock, 0, S)  # at exp is already too late
    assert run(check_expiry, {"exp": NOW - 30}, clock, 60, S).ok
    fails(TokenExpired, check_expiry, {"exp": NOW - 60}, clock, 60, S)
    fails(MissingClaim, check_expiry, {}, clock, 0, S)
    assert run(check_expiry, {}, clock, 0, S, required=False).ok


def test_not_before():
    clock = FixedClock(NOW)
    assert run(check_not_before, {}, clock, 0, S).ok
    assert run(check_not_before, {"nbf": NOW}, clock, 0, S).ok
    trace = fails(TokenNotYetValid, check_not_before, {"nbf": NOW + 120}, clock, 60, S)
    assert "nbf=" in trace.checks[-1].evidence
    assert run(check_not_before, {"nbf": NOW + 60}, clock, 60, S).ok
    fails(InvalidClaim, check_not_before, {"nbf": "soon"}, clock, 0, S)


def test_issued_at():
    clock = FixedClock(NOW)
    assert run(check_issued_at, {"iat": NOW}, clock, 0, S).ok
    fails(InvalidIssuedAt, check_issued_at, {"iat": NOW + 300}, clock, 60, S)  # iat in the future
    assert run(check_issued_at, {"iat": NOW + 30}, clock, 60, S).ok
    fails(MissingClaim, check_issued_at, {}, clock, 0, S)
    assert run(check_issued_at, {}, clock, 0, S, required=False).ok
    fails(InvalidClaim, check_issued_at, {"iat": False}, clock, 0, S)


def test_max_age():
    clock = FixedClock(NOW)
    assert run(check_issued_at, {"iat": NOW - 300}, clock, 0, S, max_age=300).ok
    fails(InvalidIssuedAt, check_issued_at, {"iat": NOW - 301}, clock, 0, S, max_age=300)


def test_exp_far_in_the_future_with_max_lifetime():
    """A token valid for ten years passes exp but not a lifetime policy."""
    clock = FixedClock(NOW)
    claims = {"iat": NOW, "exp": NOW + 10 * 365 * 86400}
    assert run(check_expiry, claims, clock, 0, S).ok
    trace = fails(InvalidIssuedAt, check_issued_at, claims, clock, 0, S, max_lifetime=3600)
    assert "lifetime" in trace.checks[-1].name
    assert run(check_issued_at, {"iat": NOW, "exp": NOW + 3600}, clock, 0, S, max_lifetime=3600).ok


def test_check_string():
    trace = Trace("t")
    assert check_string(trace, {"sub": "alice"}, "sub", "s") == "alice"
    assert check_string(trace, {}, "jti", "s", required=False) is None
    for bad in ["", 1, None, ["a"]]:
        fails(InvalidClaim, check_string, {"sub": bad}, "sub", "s")
    fails(MissingClaim, check_string, {}, "sub", "s")


def test_long_evidence_is_truncated():
    trace = fails(InvalidIssuer, check_issuer, {"iss": "x" * 500}, "https://as.example", "s")
    assert len(trace.checks[-1].evidence) < 100
