"""The resource server's validator of RFC 9068 JWT access tokens, on its own: :class:`AccessTokenValidator`.

This module is the one to read whole and copy. It imports only joselab's core (parsing, JWS
verification, claim checks, the trace) and runs no server; the demo parties around it (the
authorization server, the API, the JWK Set cache of the demo network) are in
:mod:`joselab.access_token.parties`. In production give it a key source from
:mod:`joselab.keysource` (:class:`~joselab.keysource.DiscoveredKeys` for an issuer URL,
:class:`~joselab.keysource.StaticKeys` for pinned keys); without a ``clock`` it uses the real time.

The order of the checks
-----------------------
RFC 9068 §4 lists six numbered steps: (1) ``typ``, (2) decryption, (3) ``iss``, (4) ``aud``,
(5) signature with an allowed ``alg``, (6) ``exp``; a paragraph after the list asks the resource
server to authorize the call from ``scope`` and the other authorization claims of §2.2.3 (labelled
``RFC 9068 §4, §2.2.3`` in the trace: it is not a numbered step). The validator keeps that order
except where it would trust a claim before the signature:

1. the token is parsed strictly (RFC 7515 §7.1: three parts, header a JSON object);
2. **(1) typ** is read from the *protected header* before the signature is checked. That is safe:
   the header is covered by the signature, and this check can only reject; an attacker who edits
   ``typ`` breaks the signature anyway;
3. **(2)**: this resource server agreed no encryption with the AS, so a JWE (five parts) is refused;
4. **(5)** the shared JWS rows of :func:`joselab.jws.verify_jws`: ``alg`` on the allowlist, never
   ``none`` (RFC 8725 §3.1), ``crit``, no key taken from the token (RFC 8725 §3.10), the ``kid``
   selects one of the AS's published keys and that key is for ``alg``, then the signature itself;
5. only now are the claims read: **(3) iss**, **(4) aud**, **(6) exp** (with a leeway of at most
   :data:`MAX_LEEWAY` seconds), then ``nbf`` and ``iat`` (RFC 7519 §4.1.5, §4.1.6) with the same
   leeway and a maximum lifetime ``exp - iat`` as policy;
6. **RFC 9068 §2.2**: the required claims ``iss exp aud sub client_id iat jti`` are present, and
   ``sub``, ``client_id``, ``jti`` are non-empty strings; the optional §2.2.1 claims (``auth_time``,
   ``acr``, ``amr``) and §2.2.3 ``scope`` have their types;
7. **the sender constraint** (:func:`joselab.cnf.check_confirmation`), whenever the token carries
   ``cnf`` or came with the DPoP scheme: ``cnf`` is a JSON object with a confirmation method this
   server checks (RFC 7800 §3.1); ``x5t#S256`` is the thumbprint of this connection's client
   certificate (RFC 8705 §3, §3.1: none, or another, is refused); a ``jkt``-bound token came with the
   DPoP scheme, not as a bearer token (RFC 9449 §7.2), and matches the verified proof's key when the
   caller passes it; the DPoP scheme carries only a DPoP-bound token (joselab policy on RFC 9449
   §7.1). A token without ``cnf`` sent as Bearer gets no row here. These run before the scope: a stolen token is refused as
   stolen (401 ``invalid_token``, RFC 8705 §3), not as too weak for the call;
8. **authorization** (RFC 9068 §4, from the §2.2.3 claims): the scope the endpoint needs is in ``scope``
   (a failure here is :class:`~joselab.errors.InsufficientScope`: the token is valid, the call is
   not allowed).

Steps (3) and (4) therefore come after (5): checking ``iss`` or ``aud`` on an unverified payload
would only ever reject too, but a validator that reads claims before the signature is one edit away
from one that *uses* them (to pick a key by ``iss``, say); RFC 8725 §3.3 asks that every
cryptographic operation is validated before anything relies on the result.

What local validation cannot do: see a revocation. Until ``exp`` the token is valid to every
resource server that validates it locally, whatever the AS knows. Short lifetimes bound that
window; RFC 7662 introspection closes it at the price of a call to the AS per request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..claims import (
    check_audience,
    check_expiry,
    check_issued_at,
    check_issuer,
    check_not_before,
    check_numeric,
    check_required,
    check_strings,
    check_typ,
    normalise_typ,
)
from ..clock import Clock, SystemClock
from ..cnf import Presented, check_confirmation
from ..compact import MAX_TOKEN_LENGTH, CompactJWS
from ..errors import (
    InsufficientScope,
    InvalidClaim,
    UnexpectedTokenKind,
)
from ..jws import KeySource, verify_jws
from ..keys import KeyBinding
from ..trace import RowNames, Trace, as_evidence

#: RFC 9068 §4 (1): the only two spellings of the access token's media type.
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
#: RFC 9068 §2.2: claims every JWT access token carries.
REQUIRED_CLAIMS = ("iss", "exp", "aud", "sub", "client_id", "iat", "jti")
#: RFC 9068 §4 (6): "some small leeway, usually no more than a few minutes".
MAX_LEEWAY = 300
#: joselab policy (RFC 9068 sets no bound on ``exp - iat``): a larger ``max_lifetime`` is a named
#: leniency and shows as a row in the trace.
DEFAULT_MAX_LIFETIME = 3600
#: The authorization check's label: RFC 9068 §4 numbers six steps, and the paragraph after them asks
#: the resource server to authorize the call from the §2.2.3 claims (``scope``).
SCOPE_SECTION = "RFC 9068 §4, §2.2.3"

_TITLE = "RFC 9068 §4: access token at the resource server"
_SCOPE_NAMES = RowNames("authorization: scope includes {!r}")


# ------------------------------------------------------------------------------------------------
# The resource server's validator
# ------------------------------------------------------------------------------------------------
class AccessTokenValidator:
    """Validate an RFC 9068 JWT access token locally, as a resource server does (RFC 9068 §4).

    ``issuer`` is the AS's issuer identifier (from its RFC 8414 metadata), compared exactly;
    ``audience`` is this resource server's identifier, which ``aud`` must contain (RFC 8707
    resource indicator). ``keys`` is a :class:`jwcrypto.jwk.JWKSet` or a key source (a callable
    ``header -> JWK | None``) such as :class:`joselab.keysource.DiscoveredKeys`; ``clock`` is the real time
    (:class:`~joselab.clock.SystemClock`) unless given. ``algorithms`` is the allowlist (``none``
    never is on it). ``leeway`` (seconds, at most :data:`MAX_LEEWAY`) applies to ``exp``, ``nbf`` and
    ``iat``; ``max_lifetime`` bounds ``exp - iat`` (a policy: access tokens are meant to be short).

    :meth:`validate` returns a :class:`~joselab.trace.Trace` whose rows are the checks in the order
    the module docstring explains; on success ``trace.result`` is the claims set.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: KeySource,
        clock: Clock | None = None,
        algorithms: Sequence[str] = ("RS256", "PS256"),
        leeway: int = 60,
        max_lifetime: int = DEFAULT_MAX_LIFETIME,
        accept_typ_jwt: bool = False,
        binding: KeyBinding | None = None,
    ) -> None:
        if not isinstance(leeway, int) or not 0 <= leeway <= MAX_LEEWAY:
            # A configuration mistake, not bad input: fail loudly at construction.
            raise ValueError(
                f"leeway must be 0..{MAX_LEEWAY} seconds (joselab policy; RFC 7519 §4.1.4 allows a small leeway,"
                " usually no more than a few minutes)"
            )
        if not isinstance(max_lifetime, int) or max_lifetime <= 0:
            raise ValueError("max_lifetime must be a positive number of seconds")
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.algorithms = tuple(a for a in algorithms if a != "none")
        self.leeway = leeway
        self.max_lifetime = max_lifetime
        #: Leniency: accept ``typ: JWT`` (many authorization servers still send it) where RFC 9068 §4 (1)
        #: requires ``at+jwt``; each token accepted this way gets a ``leniency accept_typ_jwt`` row.
        self.accept_typ_jwt = accept_typ_jwt
        self.max_token_length = MAX_TOKEN_LENGTH
        # RFC 8725 §3.1: one algorithm per key. The default binds a key by its JWK's alg; an RSA key
        # without one serves nothing while both RS256 and PS256 are allowed, unless configured here.
        self.binding = binding

    def __repr__(self) -> str:
        return (
            f"AccessTokenValidator(issuer={self.issuer!r}, audience={self.audience!r}, algorithms={list(self.algorithms)}, "
            f"leeway={self.leeway}, max_lifetime={self.max_lifetime})"
        )

    def _check_header(self, trace: Trace) -> Callable[[CompactJWS], None]:
        def check(parsed: CompactJWS) -> None:
            # In the protected header, so covered by the signature checked next; this can only reject.
            typ = parsed.header.get("typ")
            if self.accept_typ_jwt and isinstance(typ, str) and normalise_typ(typ) == "jwt":
                trace.leniency(
                    "accept_typ_jwt", "RFC 9068 §4 (1)", "typ JWT accepted where at+jwt is required", f"typ = {as_evidence(typ)}"
                )
            else:
                check_typ(trace, parsed.header, ACCESS_TOKEN_TYPES, "RFC 9068 §4 (1)")
            trace.check(
                "RFC 9068 §4 (2)",
                "not encrypted: no encryption agreed with the AS",
                True,
                "a signed JWT (JWS, three parts)",
                UnexpectedTokenKind,
            )

        return check

    def validate(
        self,
        token: str,
        *,
        required_scope: str | None = None,
        presented: Presented | None = None,
        strict: bool = False,
    ) -> Trace:
        """Run the checks of RFC 9068 §4 on ``token``; ``required_scope`` is what the endpoint needs
        (the authorization paragraph of §4, on the §2.2.3 ``scope``); ``presented`` is how the token
        came (:class:`~joselab.cnf.Presented`: scheme, client certificate, DPoP proof key), against
        which a ``cnf`` binding is checked (``None``: a Bearer token on a connection without a client
        certificate). With ``strict`` the first failure is raised as its :mod:`joselab.errors` type."""
        trace = Trace(_TITLE)
        with trace.run():
            if isinstance(token, str) and len(token) <= self.max_token_length and token.count(".") == 4:
                # RFC 9068 §4 (2): a JWE would need keys agreed with the AS at registration; none were.
                trace.check(
                    "RFC 9068 §4 (2)",
                    "not encrypted: no encryption agreed with the AS",
                    False,
                    "five parts: a JWE",
                    UnexpectedTokenKind,
                )
            parsed = verify_jws(
                trace,
                token,
                self.keys,
                self.algorithms,
                signature_section="RFC 9068 §4 (5)",
                check_header=self._check_header(trace),
                max_length=self.max_token_length,
                binding=self.binding,
            )
            claims = parsed.claims()
            check_issuer(trace, claims, self.issuer, "RFC 9068 §4 (3)")
            check_audience(trace, claims, self.audience, "RFC 9068 §4 (4)")
            check_expiry(trace, claims, self.clock, self.leeway, "RFC 9068 §4 (6)")
            if "nbf" in claims:  # optional in RFC 9068; checked whenever present (RFC 7519 §4.1.5)
                check_not_before(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.5")
            check_issued_at(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.6", max_lifetime=self.max_lifetime)
            if self.max_lifetime > DEFAULT_MAX_LIFETIME:
                trace.leniency(
                    "max_lifetime",
                    "joselab policy; RFC 9068 §4 sets no bound",
                    f"lifetimes up to {self.max_lifetime}s accepted (default {DEFAULT_MAX_LIFETIME}s)",
                    f"exp - iat = {int(claims['exp'] - claims['iat'])}s" if "iat" in claims else "no iat",
                )
            check_required(trace, claims, REQUIRED_CLAIMS, "RFC 9068 §2.2")
            check_strings(trace, claims, ("sub", "client_id", "jti"), "RFC 9068 §2.2")
            _check_optional(trace, claims)
            scopes = _check_scope_format(trace, claims)
            if "cnf" in claims or (presented is not None and presented.is_dpop):
                check_confirmation(trace, claims, presented)  # RFC 8705 §3, RFC 9449 §7.1, §7.2
            if required_scope is not None:
                scope = claims.get("scope")
                trace.check(
                    SCOPE_SECTION,
                    _SCOPE_NAMES.get_name(required_scope),
                    required_scope in scopes,
                    (lambda: f"scope = {as_evidence(scope)}") if scope.__class__ is str else f"scope = {as_evidence(scope)}",
                    InsufficientScope,
                )
            trace.result = claims
        return trace.raise_for_failure() if strict else trace


def _check_optional(trace: Trace, claims: Mapping[str, Any]) -> None:
    """RFC 9068 §2.2.1: ``auth_time`` a NumericDate, ``acr`` a string, ``amr`` an array of strings
    (their OIDC Core §2 types), each only when present."""
    if "auth_time" in claims:
        check_numeric(trace, claims, "auth_time", "RFC 9068 §2.2.1", required=False)
    if "acr" in claims:
        acr = claims["acr"]
        trace.check("RFC 9068 §2.2.1", "acr is a string", isinstance(acr, str), f"acr = {as_evidence(acr)}", InvalidClaim)
    if "amr" in claims:
        amr = claims["amr"]
        ok = isinstance(amr, list) and all(isinstance(a, str) for a in amr)
        trace.check("RFC 9068 §2.2.1", "amr is an array of strings", ok, f"amr = {as_evidence(amr)}", InvalidClaim)


# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single spaces.
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*")


def _check_scope_format(trace: Trace, claims: Mapping[str, Any]) -> list[str]:
    """RFC 9068 §2.2.3: ``scope`` is a space-delimited string of RFC 6749 §3.3 scope tokens."""
    if "scope" not in claims:
        return []
    scope = claims["scope"]
    ok = isinstance(scope, str) and _SCOPE.fullmatch(scope) is not None
    evidence = (lambda: f"scope = {as_evidence(scope)}") if scope.__class__ is str else f"scope = {as_evidence(scope)}"
    trace.check("RFC 9068 §2.2.3", "scope is a space-delimited string", ok, evidence, InvalidClaim)
    return scope.split(" ")
