"""Claim checks every JWT profile shares (RFC 7519 §4.1, RFC 8725 §3.8, §3.9, §3.10, §3.11), each a row of a trace.

The scenario validators call these with their own section labels so that a row cites the profile that
requires the check (``RFC 9068 §4 (3)``, ``OIDC Core §3.1.3.7 (2)``) rather than the generic RFC.
Times are NumericDate values (RFC 7519 §2): JSON numbers, never strings or booleans.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .clock import Clock
from .errors import (
    InvalidAudience,
    InvalidClaim,
    InvalidIssuedAt,
    InvalidIssuer,
    InvalidType,
    MissingClaim,
    TokenExpired,
    TokenNotYetValid,
)
from .sections import POLICY, policy
from .trace import Evidence, RowNames, Trace, as_evidence

#: The bound on a NumericDate's magnitude (about 31.7 million years): beyond it a float loses whole
#: seconds, and no real token needs it.
_MAX_DATE = 10**15


def is_numeric_date(value: Any) -> bool:
    """A JSON number that is not a boolean (RFC 7519 §2 NumericDate)."""
    if value.__class__ is int:  # what JSON gives for a time: the common case, decided in one comparison
        return -_MAX_DATE < value < _MAX_DATE  # int with int: no conversion to float
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) < 1e15


def normalise_typ(value: str) -> str:
    """RFC 7515 §4.1.9: compare media types case-insensitively, with ``application/`` optional."""
    value = value.lower()
    return value[len("application/") :] if value.startswith("application/") else value


def check_typ(trace: Trace, header: Mapping[str, Any], accepted: Collection[str], section: str) -> None:
    """Explicit typing (RFC 8725 §3.11): the header's ``typ`` is one of ``accepted``."""
    typ = header.get("typ")
    found = _TYP_NAMES.get(accepted) if accepted.__class__ is tuple else None  # type: ignore[call-overload]
    name, want, exact = found if found is not None else _typ_names(accepted)
    if typ.__class__ is str and typ in exact:  # spelled as accepted: no normalising needed
        trace.check(section, name, True, lambda: f"typ = {as_evidence(typ)}")
        return
    ok = isinstance(typ, str) and normalise_typ(typ) in want
    trace.check(section, name, ok, _immutable_evidence("typ", typ), InvalidType)


_TYP_NAMES: dict[tuple[str, ...], tuple[str, frozenset[str], frozenset[Any]]] = {}


def _typ_names(accepted: Collection[str]) -> tuple[str, frozenset[str], frozenset[Any]]:
    # The row's name, the normalised set and the accepted spellings themselves, made once per
    # distinct set of accepted types.
    key = tuple(accepted)
    found = _TYP_NAMES.get(key)
    if found is None:
        exact = frozenset(a for a in key if a.__class__ is str)
        found = (f"typ is {' or '.join(sorted(key))}", frozenset(normalise_typ(a) for a in key), exact)
        if len(_TYP_NAMES) < 64:
            _TYP_NAMES[key] = found
    return found


def check_required(trace: Trace, claims: Mapping[str, Any], names: Collection[str], section: str) -> None:
    if names.__class__ is tuple:
        wanted = _REQUIRED_SETS.get(names)  # type: ignore[call-overload]
        if wanted is None:
            wanted = frozenset(names)
            if len(_REQUIRED_SETS) < 256:
                _REQUIRED_SETS[names] = wanted  # type: ignore[index]
        if claims.keys() >= wanted:  # the common case: every name present, decided in C
            trace.check(section, _REQUIRED_NAMES[", ".join(names)], True, "all present")
            return
    missing = [n for n in names if n not in claims]
    trace.check(
        section,
        _REQUIRED_NAMES.get_name(", ".join(names)),
        not missing,
        (lambda: f"missing {missing}") if missing else "all present",
        MissingClaim,
    )


def check_issuer(trace: Trace, claims: Mapping[str, Any], expected: str, section: str) -> None:
    """``iss`` equals the expected issuer exactly: simple string comparison (RFC 7519 §4.1.1, RFC 8725 §3.8)."""
    iss = claims.get("iss")
    trace.check(
        section,
        _ISSUER_NAMES[expected],
        isinstance(iss, str) and iss == expected,
        (lambda: f"iss = {as_evidence(iss)}") if iss.__class__ is str else f"iss = {as_evidence(iss)}",
        InvalidIssuer,
    )


def audiences(claims: Mapping[str, Any]) -> list[str] | None:
    """``aud`` as a list, or None if it is neither a string nor an array of strings (RFC 7519 §4.1.3)."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
        return aud
    return None


def check_audience(
    trace: Trace, claims: Mapping[str, Any], expected: str, section: str, *, trusted: Collection[str] | None = None
) -> None:
    """``aud`` contains ``expected`` (RFC 7519 §4.1.3, RFC 8725 §3.9); with ``trusted``, every other
    audience must be one of them too (OIDC Core §3.1.3.7 step 3)."""
    aud = claims.get("aud")
    auds = [aud] if aud.__class__ is str else audiences(claims)
    ok = auds is not None and expected in auds
    evidence = (lambda: f"aud = {as_evidence(aud)}") if aud.__class__ is str else f"aud = {as_evidence(aud)}"
    trace.check(section, _AUDIENCE_NAMES[expected], ok, evidence, InvalidAudience)
    if trusted is not None and auds is not None:
        extra = [] if len(auds) == 1 and ok else [a for a in auds if a != expected and a not in trusted]
        trace.check(section, "no untrusted extra audience", not extra, f"untrusted {extra}" if extra else "none", InvalidAudience)


def check_numeric(trace: Trace, claims: Mapping[str, Any], name: str, section: str, *, required: bool) -> float | None:
    """A time claim is a NumericDate (a JSON number) when present, and present when required."""
    value = claims.get(name, _ABSENT)
    if value.__class__ is int and -_MAX_DATE < value < _MAX_DATE:  # what JSON gives for a time: decided at once
        trace.check(section, _NUMERIC_NAMES[name], True, lambda: f"{name} = {int.__repr__(value)}")
        return float(value)
    if value is _ABSENT:
        trace.check(section, f"{name} present", not required, "absent", MissingClaim)
        return None
    trace.check(section, _NUMERIC_NAMES.get_name(name), is_numeric_date(value), _immutable_evidence(name, value), InvalidClaim)
    return float(value)


_ABSENT = object()


_NUMERIC_NAMES = RowNames("{} is a NumericDate")
_STRING_NAMES = RowNames("{} is a non-empty string")
_ISSUER_NAMES = RowNames("iss equals {}", as_json=True)
_AUDIENCE_NAMES = RowNames("aud contains {}", as_json=True)
_REQUIRED_NAMES = RowNames("required claims present: {}")
_EXP_NAMES = RowNames("now is before exp (+{}s leeway, " + POLICY + ")")
_EXP_MAX_NAMES = RowNames("exp at most {}s from now")
_NBF_NAMES = RowNames("now is not before nbf (-{}s leeway, " + POLICY + ")")
_IAT_NAMES = RowNames("iat is not in the future (+{}s leeway, " + POLICY + ")")
_AGE_NAMES = RowNames("iat is at most {}s old")
_LIFETIME_NAMES = RowNames("lifetime exp - iat at most {}s")
#: The set of each tuple of required names, for one C-level comparison with the claims' names.
_REQUIRED_SETS: dict[tuple[str, ...], frozenset[str]] = {}


class _PolicyLabels(dict):
    # The label of a number joselab chose beside the section that leaves it open: it depends on the
    # section alone, so it is made once per section (at most 256, joselab policy).
    def __missing__(self, section: str) -> str:
        label = policy(section)
        if len(self) < 256:
            self[section] = label
        return label


_POLICY = _PolicyLabels()


def _immutable_evidence(name: str, value: Any) -> Evidence:
    """``name = <value as JSON>``, formatted when read if ``value`` cannot change meanwhile (a string
    or a number); a list or an object is formatted now, so the row shows what was checked."""
    if value.__class__ in (str, int, float, bool) or value is None:
        return lambda: f"{name} = {as_evidence(value)}"
    return f"{name} = {as_evidence(value)}"


def check_expiry(
    trace: Trace,
    claims: Mapping[str, Any],
    clock: Clock,
    leeway: int,
    section: str,
    *,
    required: bool = True,
    max_lifetime: int | None = None,
) -> None:
    """Now is before ``exp`` plus a small leeway (RFC 7519 §4.1.4). With ``max_lifetime``, ``exp`` is
    also at most that many seconds after now: a token without ``iat`` can still not claim to live for
    centuries (joselab policy, shown beside the section: a stolen token is useful until it expires). ``exp - iat`` is
    :func:`check_issued_at`'s ``max_lifetime``."""
    exp = claims.get("exp")
    if exp.__class__ is int and -_MAX_DATE < exp < _MAX_DATE:  # check_numeric's common case, without its call
        trace.check(section, _NUMERIC_NAMES["exp"], True, lambda: f"exp = {int.__repr__(exp)}")
    else:
        exp = check_numeric(trace, claims, "exp", section, required=required)
    if exp is not None:
        now = clock.now()
        trace.check(
            section,
            _EXP_NAMES[leeway],
            now < exp + leeway,
            lambda: f"now={now}, exp={int(exp)}",
            TokenExpired,
        )
        if max_lifetime is not None:
            trace.check(
                _POLICY[section],
                _EXP_MAX_NAMES[max_lifetime],
                exp - now <= max_lifetime + leeway,
                lambda: f"exp - now = {int(exp - now)}s",
                InvalidIssuedAt,  # errors.py: "the token lives longer than the policy allows"
            )


def check_not_before(trace: Trace, claims: Mapping[str, Any], clock: Clock, leeway: int, section: str) -> None:
    """If present, ``nbf`` is not after now (RFC 7519 §4.1.5)."""
    nbf = check_numeric(trace, claims, "nbf", section, required=False)
    if nbf is not None:
        now = clock.now()
        trace.check(
            section,
            _NBF_NAMES[leeway],
            now + leeway >= nbf,
            lambda: f"now={now}, nbf={int(nbf)}",
            TokenNotYetValid,
        )


def check_issued_at(
    trace: Trace,
    claims: Mapping[str, Any],
    clock: Clock,
    leeway: int,
    section: str,
    *,
    required: bool = True,
    max_age: int | None = None,
    max_lifetime: int | None = None,
) -> None:
    """``iat`` is not in the future (RFC 7519 §4.1.6); optionally not older than ``max_age``; and
    ``exp - iat`` is within ``max_lifetime``. The age and the lifetime are joselab policy: RFC 7519 §4.1.6
    sets no bound, and the section the caller cites is shown beside the label (:func:`joselab.sections.policy`)."""
    iat = claims.get("iat")
    if iat.__class__ is int and -_MAX_DATE < iat < _MAX_DATE:  # check_numeric's common case, without its call
        trace.check(section, _NUMERIC_NAMES["iat"], True, lambda: f"iat = {int.__repr__(iat)}")
    else:
        iat = check_numeric(trace, claims, "iat", section, required=required)
        if iat is None:
            return
    now = clock.now()
    trace.check(
        section,
        _IAT_NAMES[leeway],
        iat <= now + leeway,
        lambda: f"now={now}, iat={int(iat)}",
        InvalidIssuedAt,
    )
    if max_age is not None:
        trace.check(
            _POLICY[section],
            _AGE_NAMES[max_age],
            now - iat <= max_age + leeway,
            lambda: f"age {int(now - iat)}s",
            InvalidIssuedAt,
        )
    exp = claims.get("exp")
    if max_lifetime is not None and ((exp.__class__ is int and -_MAX_DATE < exp < _MAX_DATE) or is_numeric_date(exp)):
        life = exp - iat
        trace.check(
            _POLICY[section],
            _LIFETIME_NAMES[max_lifetime],
            life <= max_lifetime,
            lambda: f"{int(life)}s",
            InvalidIssuedAt,
        )


def check_string(trace: Trace, claims: Mapping[str, Any], name: str, section: str, *, required: bool = True) -> str | None:
    """A claim that must be a non-empty string (``sub``, ``jti``, ``client_id``)."""
    if name not in claims:
        trace.check(section, f"{name} present", not required, "absent", MissingClaim)
        return None
    value = claims[name]
    if value.__class__ is str and value:  # the common case: the row's evidence is formatted when read
        trace.check(section, _STRING_NAMES[name], True, lambda: f"{name} = {as_evidence(value)}")
        return value
    trace.check(
        section,
        _STRING_NAMES.get_name(name),
        isinstance(value, str) and bool(value),
        _immutable_evidence(name, value),
        InvalidClaim,
    )
    return value


def check_strings(trace: Trace, claims: Mapping[str, Any], names: Collection[str], section: str) -> None:
    """:func:`check_string` for each of ``names``, in order: required, non-empty strings."""
    for name in names:
        value = claims.get(name)
        if value.__class__ is str and value:
            trace.check(section, _STRING_NAMES[name], True, lambda value=value, name=name: f"{name} = {as_evidence(value)}")
        else:
            check_string(trace, claims, name, section)


def with_changes(claims: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``claims`` with ``changes`` applied in place: a value replaces a member, None removes it (for
    issuers' demo options and for forging tokens in the attack chapter)."""
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims
