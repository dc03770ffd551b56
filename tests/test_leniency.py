"""The named leniencies: each accepts only what it names, and each shows as a row of the trace."""

from __future__ import annotations

import pytest

from joselab import FixedClock, Trace
from joselab.access_token import DEFAULT_MAX_LIFETIME, AccessTokenValidator
from joselab.errors import InvalidIssuedAt, InvalidType
from joselab.jws import sign_compact
from joselab.keys import generate_key
from joselab.keysource import StaticKeys
from joselab.trace import active_trace

NOW = 1_767_225_600
KEY = generate_key("RS256", kid="k")
KEYS = StaticKeys({"keys": [{**KEY.export_public(as_dict=True), "alg": "RS256", "use": "sig"}]})
CLAIMS = {"iss": "https://as", "aud": "https://api", "sub": "s", "client_id": "c", "iat": NOW, "exp": NOW + 300, "jti": "j"}


def _token(typ: str | None = "at+jwt", **claims) -> str:
    header = {"alg": "RS256", "kid": "k", **({"typ": typ} if typ is not None else {})}
    return sign_compact({**CLAIMS, **claims}, KEY, header)


def _validator(**options) -> AccessTokenValidator:
    return AccessTokenValidator(issuer="https://as", audience="https://api", keys=KEYS, clock=FixedClock(NOW), **options)


def _leniencies(trace: Trace) -> list[str]:
    return [c.name for c in trace if c.name.startswith("leniency ")]


def test_typ_jwt_refused_by_default():
    trace = _validator().validate(_token("JWT"))
    assert isinstance(trace.error, InvalidType) and trace.error.section == "RFC 9068 §4 (1)"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/JWT"])
def test_typ_jwt_accepted_by_name(typ):
    trace = _validator(accept_typ_jwt=True).validate(_token(typ))
    assert trace.ok, str(trace)
    assert _leniencies(trace) == ["leniency accept_typ_jwt: typ JWT accepted where at+jwt is required"]


@pytest.mark.parametrize("typ", [None, "id_token+jwt", "logout+jwt", "JOSE"])
def test_accept_typ_jwt_accepts_nothing_else(typ):
    trace = _validator(accept_typ_jwt=True).validate(_token(typ))
    assert isinstance(trace.error, InvalidType)


def test_at_jwt_needs_no_leniency():
    trace = _validator(accept_typ_jwt=True).validate(_token())
    assert trace.ok and _leniencies(trace) == []


def test_longer_lifetime_refused_by_default_and_shown_when_allowed():
    token = _token(exp=NOW + 5400)
    assert isinstance(_validator().validate(token).error, InvalidIssuedAt)
    trace = _validator(max_lifetime=5400).validate(token)
    assert trace.ok and _leniencies(trace) == [
        f"leniency max_lifetime: lifetimes up to 5400s accepted (default {DEFAULT_MAX_LIFETIME}s)"
    ]
    # A shorter bound is not a leniency.
    assert _leniencies(_validator(max_lifetime=600).validate(_token())) == []


def test_active_trace_is_the_running_one():
    assert active_trace() is None
    outer = Trace("outer")
    with outer.run():
        assert active_trace() is outer
        inner = Trace("inner")
        with inner.run():
            assert active_trace() is inner
        assert active_trace() is outer
    assert active_trace() is None
