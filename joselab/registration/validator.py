"""The registration endpoint's two validators, on their own (RFC 7591, UK Open Banking DCR):
:class:`SoftwareStatementValidator` (the directory's software statement, SSA) and
:class:`RegistrationRequestValidator` (the client's signed registration request).

This module is the one to read whole and copy: it imports joselab's core and the replay store, and
runs no server. It fetches JWK Sets with whatever it is given as ``network`` (anything with
``get_json(url)``, :class:`JsonFetcher`); without a ``clock`` it uses the real time. The demo's
directory, client and registration endpoint are in :mod:`joselab.registration.parties`.

Each validation returns a :class:`~joselab.trace.Trace`: every check in order, with its section.

Why the two validators can never accept each other's token (RFC 8725 §3.12)
--------------------------------------------------------------------------
Open Banking gives both JWTs the same header, ``typ: JWT``, so explicit typing (RFC 8725 §3.11)
cannot tell them apart, and a key alone is a weak separator (a small TPP could run its own directory
one day; an AS may trust many keys). The rules are therefore made mutually exclusive on the claims,
which hold whatever key signed:

* the statement validator **rejects** a token carrying ``aud`` or ``software_statement``;
* the request validator **requires** ``aud`` (this AS) and ``software_statement``.

No token can have and not have ``aud``, so the two sets of accepted tokens are disjoint by
construction, even if one key signed both (the unit tests show it with a key trusted for both).
``exp`` is required of the request as well and the issuers differ (a directory vs. a ``software_id``),
which are further, independent separators; but only the ``aud``/``software_statement`` rule is
*guaranteed* to separate them, so it is a check of its own, cited to RFC 8725 §3.12.

Sections cited: RFC 7591 §2, §2.3, §3.1.1, §3.2.1, §3.2.2; RFC 7519 §4.1.x and §6; RFC 8725 §3.1,
§3.8, §3.9, §3.10, §3.11, §3.12; "OB Directory SSA" (the Open Banking directory's software statement
claims) and "OB DCR v3.2" (Open Banking Dynamic Client Registration v3.2), with a heading of that page
where one states the rule: "OB DCR v3.2 (Data Dictionary)", "(Self-signed SSA)", "(POST /register)".
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

from jwcrypto import jwk

from ..claims import check_audience, check_expiry, check_issued_at, check_issuer, check_not_before
from ..clock import Clock, SystemClock
from ..compact import CompactJWS, parse_jws
from ..errors import (
    AlgorithmNotAllowed,
    InvalidClaim,
    InvalidIssuer,
    InvalidType,
    JoselabError,
    KeyNotFound,
    MalformedToken,
    MissingClaim,
    ReplayDetected,
    ValidationError,
)
from ..jws import verify_jws
from ..keys import KeyBinding, load_jwks
from ..parties.store import ReplayStore
from ..sections import policy
from ..trace import Evidence, Trace, as_evidence

#: Section labels for the Open Banking documents (they number no sections we could cite more precisely).
OB_SSA = "OB Directory SSA"
OB_DCR = "OB DCR v3.2"
#: The rules OB DCR v3.2 states in its data dictionary of the registration request's claims.
OB_DCR_CLAIMS = "OB DCR v3.2 (Data Dictionary)"

#: The Open Banking directory signs with ES256 or PS256.
SSA_ALGORITHMS = ("ES256", "PS256")
#: What a TPP may sign its registration request with (OB DCR v3.2 follows FAPI: PS256 or ES256).
REQUEST_ALGORITHMS = ("ES256", "PS256")
#: The claims every Open Banking SSA carries (OB Directory SSA); there is no ``exp`` and no ``aud``.
SSA_REQUIRED_CLAIMS = (
    "iss", "iat", "jti", "software_id", "software_client_name", "software_redirect_uris", "software_roles",
    "software_jwks_endpoint", "org_id", "org_name", "org_status",
)  # fmt: skip
#: Roles the Open Banking directory grants to software.
KNOWN_ROLES = frozenset({"AISP", "PISP", "CBPII", "ASPSP"})
#: Client authentication methods OB DCR v3.2 allows at the token endpoint.
AUTH_METHODS = ("private_key_jwt", "tls_client_auth")
#: Content types a signed registration request may be sent with (OB DCR v3.2; its API description
#: says ``application/jose``, its examples ``application/jwt``).
REQUEST_CONTENT_TYPES = ("application/jwt", "application/jose")

#: Client metadata (RFC 7591 §2, OB DCR v3.2) that the AS takes from the request's plain claims. Any
#: other member is ignored: RFC 7591 §2 "MUST ignore any client metadata sent by the client that it
#: does not understand".
REQUEST_METADATA = (
    "redirect_uris", "token_endpoint_auth_method", "token_endpoint_auth_signing_alg", "grant_types",
    "response_types", "application_type", "client_name", "scope", "id_token_signed_response_alg",
    "request_object_signing_alg", "tls_client_auth_subject_dn", "software_id",
)  # fmt: skip
#: Statement claim → the client metadata it sets. RFC 7591 §3.1.1: values in the statement take
#: precedence over the same metadata sent as plain JSON.
STATEMENT_METADATA = {
    "software_id": "software_id",
    "software_client_name": "client_name",
    "software_client_uri": "client_uri",
    "software_logo_uri": "logo_uri",
    "software_policy_uri": "policy_uri",
    "software_tos_uri": "tos_uri",
    "software_jwks_endpoint": "jwks_uri",
    "software_roles": "software_roles",
    "software_version": "software_version",
}

#: RFC 7591 §3.2.2 error codes.
INVALID_SOFTWARE_STATEMENT = "invalid_software_statement"
UNAPPROVED_SOFTWARE_STATEMENT = "unapproved_software_statement"
INVALID_REDIRECT_URI = "invalid_redirect_uri"
INVALID_CLIENT_METADATA = "invalid_client_metadata"


class JsonFetcher(Protocol):
    """What the validators fetch keys with: ``get_json(url)`` returns the parsed JSON document or raises a
    :class:`~joselab.errors.FetchError`. The demo's :class:`joselab.parties.Network` is one; so is any
    client that keeps the rules of :mod:`joselab.fetch` (https verified, no redirects, bounded)."""

    def get_json(self, url: str) -> Any: ...


class SoftwareNotApproved(ValidationError):
    """The statement is well formed and signed, but the software or its organisation is not approved
    (``org_status`` not Active): RFC 7591 §3.2.2 ``unapproved_software_statement``."""


class InvalidRedirectUri(InvalidClaim):
    """A requested redirect URI is not https, or not one the statement allows: RFC 7591 §3.2.2
    ``invalid_redirect_uri``."""


def is_https_url(value: Any) -> bool:
    """An absolute ``https`` URL with a host and no fragment (RFC 6749 §3.1.2: a redirection endpoint
    URI MUST NOT include a fragment)."""
    if not isinstance(value, str) or len(value) > 2048:
        return False
    return _is_https_text(str(value))


@lru_cache(maxsize=1024)
def _is_https_text(value: str) -> bool:
    # One client's statement names the same few URLs on every validation: each is parsed once.
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not parts.fragment and "#" not in value


def _string_list(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    for item in value:  # a loop, not all() over a generator: this runs on every statement
        if not isinstance(item, str) or not item:
            return False
    return True


def _all_https(values: list[Any]) -> bool:
    for value in values:
        if not is_https_url(value):
            return False
    return True


# Row names that depend on nothing but these constants, made once.
_SSA_CLAIMS_ROW = f"the {len(SSA_REQUIRED_CLAIMS)} claims of an SSA present (iss, iat, jti, software_*, org_*)"
_SSA_REQUIRED = frozenset(SSA_REQUIRED_CLAIMS)
_SSA_STRINGS = ("software_id", "software_client_name", "org_id", "org_name")
_SSA_STRINGS_ROW = f"{', '.join(_SSA_STRINGS)} are non-empty strings"
_SSA_ROLES_ROW = f"software_roles: non-empty array of {sorted(KNOWN_ROLES)}"


def _all_strings(claims: Mapping[str, Any], names: Sequence[str]) -> bool:
    for name in names:
        value = claims[name]
        if value.__class__ is not str or not value:
            return False
    return True


def _late(value: Any, prefix: str = "") -> Evidence:
    """``prefix`` and the value as JSON, formatted when read if the value is a string or a number."""
    if value.__class__ in (str, int, float, bool) or value is None:
        return lambda: prefix + as_evidence(value)
    return prefix + as_evidence(value)


def _listed(value: Any, strings: bool) -> Evidence:
    """A list's evidence: formatted when read from a snapshot of its strings (``strings``: it is a
    list of strings), else now, so the row shows what was checked."""
    if strings:
        snapshot = tuple(value)
        return lambda: as_evidence(list(snapshot))
    return as_evidence(value)


# -- the statement ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedDirectory:
    """A directory the AS trusts to vouch for software: its ``iss`` and where its keys are published.
    The keys come from this configuration, never from the token (RFC 8725 §3.10)."""

    issuer: str
    jwks_uri: str


class SoftwareStatementValidator:
    """The AS's checks on a software statement (RFC 7591 §2.3, OB Directory SSA, RFC 8725).

    ``directories`` is the allowlist of issuers; their JWK Sets are fetched over ``network`` for each
    validation. Open Banking SSAs have no ``exp``: freshness is a policy on ``iat`` (``max_age``,
    default one day). ``org_status`` is a snapshot taken when the directory signed, so the age bound
    is also how stale an "Active" the AS is willing to believe; the directory issues a fresh SSA on
    request, so a short bound costs the TPP nothing.

    ``accept_unsigned=True`` is the option OB DCR v3.2 (Self-signed SSA) gives a bank that accepts
    SSAs a TPP issues itself: to accept them unsigned (``alg: none``), which RFC 7591 §2.3 forbids
    ("MUST be digitally signed or MACed"). It exists so that the book can show what it lets an
    attacker do. Never enable it.
    """

    def __init__(
        self,
        directories: Sequence[TrustedDirectory],
        network: JsonFetcher,
        *,
        clock: Clock | None = None,
        algorithms: Collection[str] = SSA_ALGORITHMS,
        max_age: int = 86_400,
        leeway: int = 30,
        accept_unsigned: bool = False,
        binding: KeyBinding | None = None,
    ) -> None:
        self.directories = tuple(directories)
        self.network = network
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.algorithms = tuple(algorithms)
        self.max_age = max_age
        self.leeway = leeway
        self.accept_unsigned = accept_unsigned
        self.binding = binding  # RFC 8725 §3.1: the one algorithm of each key (joselab.keys.KeyBinding)
        self._loaded: dict[str, tuple[Any, jwk.JWKSet]] = {}  # jwks_uri -> (document, its loaded set)

    def _key_source(self, owner: dict[str, TrustedDirectory]):
        def lookup(header: Mapping[str, Any]) -> jwk.JWK | None:
            kid = header.get("kid")
            if kid is None:
                return None  # OB SSAs always carry kid; a key is never guessed
            matches = []
            for directory in self.directories:
                for key in self._jwks(directory.jwks_uri)["keys"]:
                    if key.get("kid") == kid:
                        matches.append((directory, key))
            if len(matches) > 1:
                # Two directories publishing one kid: which one vouches would be a guess.
                raise KeyNotFound("kid names exactly one trusted key", "RFC 7517 §4.5", f"kid = {kid!r} in {len(matches)} sets")
            if not matches:
                return None
            owner["directory"] = matches[0][0]
            return matches[0][1]

        return lookup

    def _jwks(self, url: str) -> jwk.JWKSet:
        """The directory's JWK Set as fetched now. The set is fetched on every validation, and loaded
        (:func:`~joselab.keys.load_jwks`: parsed, checked, keys built) only when the document differs
        from the last one loaded from ``url``, so a rotation is seen on the next validation."""
        document = self.network.get_json(url)
        last = self._loaded.get(url)
        if last is not None and last[0] == document:
            return last[1]
        keyset = load_jwks(document)  # raises on a bad set, which is then not kept
        # A copy of the document that was loaded: a caller's later change to its own object is a new document.
        self._loaded[url] = (json.loads(json.dumps(document)), keyset)
        return keyset

    def _check_header(self, trace: Trace, parsed: CompactJWS) -> None:
        alg = parsed.header.get("alg")
        unsigned = isinstance(alg, str) and alg.lower() == "none"
        trace.check(
            "RFC 7591 §2.3",
            "statement is signed (alg is not none)",
            not unsigned,
            _late(alg, "alg = "),
            AlgorithmNotAllowed,
        )
        self._check_typ(trace, parsed.header)

    def _check_typ(self, trace: Trace, header: Mapping[str, Any]) -> None:
        # Exact "JWT", as the directory writes it; the request carries the same typ, which is why
        # RFC 8725 §3.12 is enforced on the claims below rather than here.
        typ = header.get("typ")
        trace.check(OB_SSA, "typ is JWT", typ == "JWT", f"typ = {as_evidence(typ)}", InvalidType)

    def validate(self, ssa: str, *, strict: bool = False) -> Trace:
        """Validate ``ssa``; on success ``trace.result`` is its claims set."""
        trace = Trace("RFC 7591 §2.3: the software statement, at the AS")
        with trace.run():
            owner: dict[str, TrustedDirectory] = {}
            if self.accept_unsigned and _is_unsigned(ssa):
                parsed = self._accept_unsigned(trace, ssa)
            else:
                parsed = verify_jws(
                    trace,
                    ssa,
                    self._key_source(owner),
                    self.algorithms,
                    check_header=lambda p: self._check_header(trace, p),
                    binding=self.binding,
                )
            claims = parsed.claims()
            if "directory" in owner:
                # RFC 8725 §3.8: the key that verified belongs to one directory; iss must name that one.
                check_issuer(trace, claims, owner["directory"].issuer, "RFC 8725 §3.8")
            else:
                trusted = [d.issuer for d in self.directories]
                iss = claims.get("iss")
                trace.check(
                    "RFC 7591 §2.3", "iss names a trusted directory", iss in trusted, f"iss = {as_evidence(iss)}", InvalidIssuer
                )
            present = (
                [name for name in ("aud", "software_statement") if name in claims]
                if "aud" in claims or "software_statement" in claims
                else []
            )
            trace.check(
                "RFC 8725 §3.12",
                "no aud, no software_statement: a statement, not a registration request",
                not present,
                f"has {present}" if present else "neither present",
                InvalidClaim,
            )
            missing = [] if claims.keys() >= _SSA_REQUIRED else [n for n in SSA_REQUIRED_CLAIMS if n not in claims]
            trace.check(
                OB_SSA,
                _SSA_CLAIMS_ROW,
                not missing,
                f"missing {missing}" if missing else "all present",
                MissingClaim,
            )
            check_issued_at(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.6", max_age=self.max_age)
            # OB SSAs carry no exp or nbf; one that does is held to it (RFC 7519 §4.1.4, §4.1.5).
            if "exp" in claims:
                check_expiry(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.4")
            if "nbf" in claims:
                check_not_before(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.5")
            _check_jti(trace, claims)
            bad = (
                []
                if _all_strings(claims, _SSA_STRINGS)
                else [n for n in _SSA_STRINGS if not (isinstance(claims[n], str) and claims[n])]
            )
            trace.check(
                OB_SSA,
                _SSA_STRINGS_ROW,
                not bad,
                f"not strings: {bad}" if bad else "all are",
                InvalidClaim,
            )
            uris = claims["software_redirect_uris"]
            strings = _string_list(uris)
            ok = strings and _all_https(uris)
            trace.check(OB_SSA, "software_redirect_uris: non-empty array of https URLs", ok, _listed(uris, strings), InvalidClaim)
            roles = claims["software_roles"]
            strings = _string_list(roles)
            ok = strings and set(roles) <= KNOWN_ROLES
            trace.check(OB_SSA, _SSA_ROLES_ROW, ok, _listed(roles, strings), InvalidClaim)
            endpoint = claims["software_jwks_endpoint"]
            trace.check(OB_SSA, "software_jwks_endpoint is an https URL", is_https_url(endpoint), _late(endpoint), InvalidClaim)
            status = claims["org_status"]
            trace.check(OB_SSA, 'org_status is "Active"', status == "Active", _late(status, "org_status = "), SoftwareNotApproved)
            trace.result = claims
        return trace.raise_for_failure() if strict else trace

    def _accept_unsigned(self, trace: Trace, ssa: str) -> CompactJWS:
        parsed = parse_jws(ssa)
        trace.check("RFC 7515 §7.1", "compact JWS: three base64url parts, header a JSON object", True, f"{len(ssa)} characters")
        trace.check(
            f"{OB_DCR} (Self-signed SSA)",
            "unsigned statement accepted (the bank's option; RFC 7591 §2.3 forbids it)",
            True,
            "alg = none: nothing proves who wrote these claims",
        )
        trace.check(
            "RFC 7519 §6",
            "unsecured JWT: empty signature",
            parsed.signature == b"",
            f"{len(parsed.signature)} bytes",
            MalformedToken,
        )
        self._check_typ(trace, parsed.header)
        return parsed


_JTI_SECTION = policy("RFC 7519 §4.1.7")


def _check_jti(trace: Trace, claims: Mapping[str, Any]) -> None:
    # The value itself stays out of the evidence: in production it is random.
    jti = claims.get("jti")
    ok = isinstance(jti, str) and 0 < len(jti) <= 256
    evidence = (lambda: f"{len(jti)} characters") if isinstance(jti, str) else f"jti = {as_evidence(jti)}"
    trace.check(
        _JTI_SECTION,
        "jti is a string of 1 to 256 characters",
        ok,
        evidence,
        MissingClaim if jti is None else InvalidClaim,
    )


def _is_unsigned(token: str) -> bool:
    try:
        return parse_jws(token).header.get("alg") == "none"
    except JoselabError:
        return False


# -- the request -----------------------------------------------------------------------------------


def extract_software_statement(token: str) -> str:
    """The ``software_statement`` member of a registration request, read *before* the request is
    verified: the statement says which keys verify the request (OB DCR v3.2), so it must be validated
    first. Nothing else from the unverified request is used. The statement is a claim of the request
    JWT (OB DCR v3.2 (Data Dictionary)); RFC 7591 itself sends a JSON object whose ``software_statement``
    member holds it (§3.1), the statement's values taking precedence (§3.1.1)."""
    claims = parse_jws(token).claims()
    statement = claims.get("software_statement")
    if statement is None:
        raise MissingClaim("software_statement present", OB_DCR_CLAIMS, "absent")
    if not isinstance(statement, str):
        raise MalformedToken("software_statement is a JWT string", OB_DCR_CLAIMS, f"a {type(statement).__name__}")
    return statement


class RegistrationRequestValidator:
    """The AS's checks on the signed registration request (OB DCR v3.2, RFC 7591, RFC 7519, RFC 8725).

    ``ssa_claims`` are the claims of the statement that :class:`SoftwareStatementValidator` accepted:
    the request is verified with keys fetched from its ``software_jwks_endpoint`` (never from the
    request: RFC 8725 §3.10), its ``iss`` must be the statement's ``software_id``, and its redirect URIs
    a subset of the statement's. ``replay`` remembers each ``jti`` until the request expires; the
    replay row comes last, so a request refused for another reason does not use up its ``jti``.
    """

    def __init__(
        self,
        audience: str,
        network: JsonFetcher,
        replay: ReplayStore,
        *,
        clock: Clock | None = None,
        algorithms: Collection[str] = REQUEST_ALGORITHMS,
        auth_methods: Collection[str] = AUTH_METHODS,
        leeway: int = 30,
        max_lifetime: int = 3600,
        binding: KeyBinding | None = None,
    ) -> None:
        self.audience = audience
        self.network = network
        self.replay = replay
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.algorithms = tuple(algorithms)
        self.auth_methods = tuple(auth_methods)
        self.leeway = leeway
        self.max_lifetime = max_lifetime
        self.binding = binding  # RFC 8725 §3.1: the one algorithm of each key (joselab.keys.KeyBinding)

    def validate(self, token: str, ssa_claims: Mapping[str, Any], ssa: str | None = None, *, strict: bool = False) -> Trace:
        """Validate ``token`` against the accepted statement (its claims, and its text ``ssa`` if the
        caller extracted it from this request); on success ``trace.result`` is the request's claims."""
        trace = Trace("OB DCR v3.2: the registration request, at the AS")
        with trace.run():
            endpoint = ssa_claims.get("software_jwks_endpoint")
            try:
                keys = load_jwks(self.network.get_json(str(endpoint)))
                ok, evidence = True, f"GET {endpoint}: {len(keys['keys'])} key(s)"
            except JoselabError as exc:
                keys, ok, evidence = None, False, str(exc)
            trace.check("RFC 8725 §3.10", "client keys from the statement's software_jwks_endpoint", ok, evidence, KeyNotFound)
            parsed = verify_jws(
                trace, token, keys, self.algorithms, check_header=lambda p: self._check_typ(trace, p), binding=self.binding
            )
            claims = parsed.claims()
            missing = [n for n in ("aud", "software_statement") if n not in claims]
            trace.check(
                "RFC 8725 §3.12",
                "aud and software_statement present: a request, not a statement",
                not missing,
                f"missing {missing}" if missing else "both present",
                MissingClaim,
            )
            if ssa is not None:
                same = claims["software_statement"] == ssa
                trace.check(
                    "RFC 7591 §3.1.1",
                    "software_statement is the statement validated",
                    same,
                    "same JWT" if same else "differs",
                    InvalidClaim,
                )
            check_issuer(trace, claims, str(ssa_claims.get("software_id")), OB_DCR_CLAIMS)
            check_audience(trace, claims, self.audience, "RFC 8725 §3.9")
            check_expiry(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.4", required=True)
            if "nbf" in claims:
                check_not_before(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.5")
            check_issued_at(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.6", max_lifetime=self.max_lifetime)
            _check_jti(trace, claims)
            if "software_id" in claims:
                sid = claims["software_id"]
                trace.check(
                    OB_DCR_CLAIMS,
                    "software_id matches the statement's",
                    sid == ssa_claims.get("software_id"),
                    f"request {as_evidence(sid)}, statement {as_evidence(ssa_claims.get('software_id'))}",
                    InvalidClaim,
                )
            uris = claims.get("redirect_uris")
            trace.check(
                OB_DCR_CLAIMS,
                "redirect_uris: non-empty array of strings",
                _string_list(uris),
                as_evidence(uris),
                InvalidRedirectUri,
            )
            not_https = [u for u in uris if not is_https_url(u)]
            trace.check(
                OB_DCR_CLAIMS,
                "every redirect_uri is https",
                not not_https,
                f"not https: {as_evidence(not_https)}" if not_https else "all https",
                InvalidRedirectUri,
            )
            allowed = ssa_claims.get("software_redirect_uris") or []
            outside = [u for u in uris if u not in allowed]
            trace.check(
                OB_DCR_CLAIMS,
                "redirect_uris within the statement's software_redirect_uris",
                not outside,
                f"not in the statement: {as_evidence(outside)}" if outside else f"{len(uris)} of {len(allowed)}",
                InvalidRedirectUri,
            )
            method = claims.get("token_endpoint_auth_method")
            trace.check(
                OB_DCR_CLAIMS,
                f"token_endpoint_auth_method in {list(self.auth_methods)}",
                method in self.auth_methods,
                f"token_endpoint_auth_method = {as_evidence(method)}",
                InvalidClaim,
            )
            keyish = [n for n in ("jwks", "jwks_uri") if n in claims]
            trace.check(
                OB_DCR_CLAIMS,
                "no jwks or jwks_uri: the client's keys are the statement's",
                not keyish,
                f"has {keyish}" if keyish else "none",
                InvalidClaim,
            )
            # Scoped by iss: jti is unique per issuer (RFC 7519 §4.1.7), and one client must not be
            # able to burn another's. Kept until exp (+ leeway): after that, exp refuses it anyway.
            first = self.replay.first_use(f"{claims['iss']} {claims['jti']}", int(claims["exp"]) + self.leeway, self.clock.now())
            trace.check(
                "RFC 7519 §4.1.7",
                "jti not seen before (replay store)",
                first,
                "first use" if first else "seen before: a replay",
                ReplayDetected,
            )
            trace.result = claims
        return trace.raise_for_failure() if strict else trace

    def _check_typ(self, trace: Trace, parsed: CompactJWS) -> None:
        typ = parsed.header.get("typ")
        trace.check(OB_DCR, "typ is JWT", typ == "JWT", f"typ = {as_evidence(typ)}", InvalidType)


def registered_metadata(
    request_claims: Mapping[str, Any], ssa_claims: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The metadata to register, and what the statement overrode (RFC 7591 §3.1.1).

    Start from the request's plain client metadata (only the members in :data:`REQUEST_METADATA`; the
    rest is ignored, RFC 7591 §2), then let each statement claim in :data:`STATEMENT_METADATA` win.
    The second value maps each overridden member to ``{"sent": ..., "registered": ...}``.
    """
    metadata = {name: request_claims[name] for name in REQUEST_METADATA if name in request_claims}
    overridden: dict[str, Any] = {}
    for claim, name in STATEMENT_METADATA.items():
        if claim in ssa_claims:
            if name in metadata and metadata[name] != ssa_claims[claim]:
                overridden[name] = {"sent": metadata[name], "registered": ssa_claims[claim]}
            metadata[name] = ssa_claims[claim]
    return metadata, overridden


def rfc7591_error(stage: str, exc: ValidationError) -> str:
    """The RFC 7591 §3.2.2 error code for a failed check. ``stage`` is "statement" or "request"."""
    if stage == "statement":
        # An unknown kid or issuer means no trusted directory vouches: "not approved for use by this
        # authorization server"; anything else is an invalid statement.
        if isinstance(exc, (KeyNotFound, InvalidIssuer, SoftwareNotApproved)):
            return UNAPPROVED_SOFTWARE_STATEMENT
        return INVALID_SOFTWARE_STATEMENT
    if isinstance(exc, InvalidRedirectUri):
        return INVALID_REDIRECT_URI
    return INVALID_CLIENT_METADATA
