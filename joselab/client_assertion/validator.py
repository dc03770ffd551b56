"""The authorization server's validator of ``private_key_jwt`` client assertions, on its own:
:class:`ClientAssertionValidator`.

A client that registered a public key authenticates at the token endpoint with a JWT it signs itself
(OIDC Core §9 ``private_key_jwt``; RFC 7523 §2.2): the form carries
``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` and
``client_assertion=<the JWT>``. This module is the one to read whole and copy: it imports only
joselab's core (parsing, JWS verification, the claim checks, the trace) and a replay store, and runs no
server. The demo's token endpoint that calls it is in :mod:`joselab.id_token.parties`.

The checks, in the order of the trace
-------------------------------------
RFC 7523 §3 numbers the processing rules (1) ``iss``, (2) ``sub``, (3) ``aud``, (4) ``exp``,
(5) ``nbf``, (6) ``iat``, (7) ``jti``, (9) the signature; RFC 10070 §4 (which updates RFC 7523, and
which the Internet-Draft draft-ietf-oauth-rfc7523bis became) replaces rule (3) and adds explicit
typing to §3.2. OIDC Core §9 makes ``jti`` REQUIRED and one-time. The trace runs:

1. **RFC 7515 §7.1**: one compact JWS (RFC 7523 §2.2: the parameter holds a single JWT);
2. **typ** (RFC 10070 §4; RFC 8725 §3.11, §3.12): ``client-authentication+jwt`` is accepted, and so is
   an assertion without it, or with the generic ``JWT``: RFC 10070 §4 says clients SHOULD type their
   assertions but that it is NOT RECOMMENDED for servers to reject JWTs that do not have explicit
   types. A JWT that declares *another* explicit type (``at+jwt``, ``dpop+jwt``,
   ``oauth-authz-req+jwt``...) says it is a different kind of token, and is refused: that is what
   explicit typing is for (RFC 8725 §3.11), and the validation rules of different kinds of JWT must
   not both accept one token (RFC 8725 §3.12);
3. **the client** (RFC 7521 §4.2): the keys that may verify the assertion are the registered keys
   of the client it claims to authenticate, named by the form's ``client_id`` when the client sent
   one, else by the assertion's ``sub`` (RFC 7521 §4.2: "the client is identified by the subject of
   the assertion"). That name is read before the signature is checked, and it is the one thing read
   early that is *used*: to choose whose keys to try. This is safe because the choice can only make
   the signature fail: an attacker who names another client gets that client's keys, which it does
   not hold, and the signature row refuses; a name no client has is refused at once. Every claim is
   then compared against the verified payload: item 5 checks that ``iss`` and ``sub`` are that
   same client_id, so an assertion verified with one client's key can never authenticate another;
4. **the signature** (RFC 7523 §3 (9); the shared JWS rows of :func:`joselab.jws.verify_jws`):
   ``alg`` on the allowlist, asymmetric only (``private_key_jwt`` is the public-key method; the
   HMAC one, ``client_secret_jwt``, is not this validator), no key taken from the token
   (RFC 8725 §3.10), the ``kid`` selecting one of the client's registered keys, bound to one
   algorithm (RFC 8725 §3.1), then the signature itself;
5. **iss** = client_id (RFC 7523 §3 (1)), **sub** = client_id (RFC 7523 §3 (2)), the client_id being
   the one whose keys verified the signature: so when the form carried ``client_id``, the assertion
   must be that same client's (RFC 7521 §4.2: it "MUST identify the same client");
6. **aud** (RFC 10070 §4, replacing RFC 7523 §3 (3)): the AS's issuer identifier (RFC 8414) as the
   *sole* value: a string, or an array whose one member it is; the token endpoint URL is not
   accepted, nor an array that lists the issuer beside anything else;
7. **exp** (RFC 7523 §3 (4)), with a leeway; **nbf** and **iat** when present (RFC 7523 §3 (5), (6));
   a bound on the lifetime (``exp`` at most ``max_lifetime`` from now, and ``exp - iat`` within it):
   joselab policy, RFC 7523 sets no bound;
8. **jti** present, a non-empty string of bounded length (OIDC Core §9: REQUIRED), and not seen
   before for this client (OIDC Core §9: "These tokens MUST only be used once"; RFC 7523 §3 (7): the
   set of used values is kept until ``exp``). The value is recorded only when every other row
   passed, in the sqlite :class:`~joselab.parties.store.ReplayStore`, until ``exp`` plus the leeway.

Why ``aud`` is the issuer and nothing else
------------------------------------------
Before RFC 10070, RFC 7523 §3 let the token endpoint URL serve as an audience and OIDC Core §9 said
the audience SHOULD be that URL; many servers accepted their issuer, their token endpoint, their PAR
endpoint... In 2025 researchers at the University of Stuttgart showed the audience-injection attack
(the OpenID Foundation's disclosure of 24 January 2025; CVE-2025-27370, CVE-2025-27371): a malicious
AS publishes, as *its own* token endpoint, the URL of an honest AS's token endpoint; a client that
takes ``aud`` from that metadata signs an assertion for the honest AS and hands it to the attacker
(at any endpoint where the attacker asks for client authentication), who replays it at the honest AS
as the client. An issuer identifier, unlike an endpoint URL, is checked by the client against the
metadata it fetched (RFC 8414 §3.3), so an assertion addressed to it cannot be collected by another
AS. :mod:`joselab.attacks` runs the attack against the old rule; this validator refuses it at the
``aud`` row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jwcrypto import jwk

from ..claims import (
    check_expiry,
    check_issued_at,
    check_not_before,
    check_string,
    normalise_typ,
)
from ..clock import Clock, SystemClock
from ..compact import MAX_TOKEN_LENGTH, CompactJWS
from ..errors import (
    ClientMismatch,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidType,
    JoselabError,
    ReplayDetected,
    UnknownClient,
)
from ..jws import KeySource, select_key, verify_jws
from ..keys import KeyBinding
from ..parties.store import ReplayStore
from ..sections import policy
from ..trace import Trace, as_evidence

#: RFC 7523 §2.2: the value of ``client_assertion_type`` for a JWT.
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: RFC 10070 §4: the explicit type clients SHOULD put in ``typ``.
CLIENT_ASSERTION_TYP = "client-authentication+jwt"
#: Explicit types accepted: RFC 10070 §4's, the generic ``JWT`` (RFC 7519 §5.1: no explicit type), or none.
ACCEPTED_TYPES = (CLIENT_ASSERTION_TYP, "jwt")
#: The asymmetric algorithms a ``private_key_jwt`` assertion may use (OIDC Core §9: signed with the
#: client's registered public key); the default allowlist.
ASYMMETRIC_ALGORITHMS = ("PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519")
#: joselab policy (RFC 7523 §3 sets no bound): an assertion is signed for one request, so it need not
#: live long, and every ``jti`` is kept until ``exp``.
DEFAULT_MAX_LIFETIME = 300
#: joselab policy (RFC 7519 §4.1.7 sets no bound): the longest ``jti`` kept in the replay store.
MAX_JTI_LENGTH = 256
MAX_LEEWAY = 300

#: The sections of the rows, in the order of the trace (``workbench`` mirrors them).
TYP_SECTION = "RFC 10070 §4"
TYP_OTHER_SECTION = "RFC 8725 §3.12"
CLIENT_SECTION = "RFC 7521 §4.2"
SIGNATURE_SECTION = "RFC 7523 §3 (9)"
ISS_SECTION = "RFC 7523 §3 (1)"
SUB_SECTION = "RFC 7523 §3 (2)"
AUD_SECTION = "RFC 10070 §4"
EXP_SECTION = "RFC 7523 §3 (4)"
NBF_SECTION = "RFC 7523 §3 (5)"
IAT_SECTION = "RFC 7523 §3 (6)"
JTI_SECTION = "OIDC Core §9"
REPLAY_SECTION = "RFC 7523 §3 (7)"

_TITLE = "RFC 7523 §3, RFC 10070 §4: client assertion at the token endpoint"
_ASYMMETRIC = re.compile(r"(RS|PS|ES)(256|384|512)|EdDSA|Ed25519|Ed448|ML-DSA-(44|65|87)")

#: Where a client's registered keys come from: a mapping, or a function of the client_id; the value is
#: a JWK Set (or None for a client that has none).
ClientKeys = Mapping[str, KeySource | None] | Callable[[str], KeySource | None]


class ClientAssertionValidator:
    """Validate a ``private_key_jwt`` client assertion at the AS (RFC 7523 §3, RFC 10070 §4, OIDC Core §9).

    ``issuer`` is this AS's issuer identifier (RFC 8414 §2), the one value ``aud`` may carry.
    ``client_keys`` finds a client's registered keys (its ``jwks``, OIDC Registration §2) by
    ``client_id``: a mapping or a function returning a JWK Set or a key source, or None for an unknown
    client. ``replay_store`` keeps the ``jti`` values seen (a sqlite file, so a restart forgets
    nothing). ``clock`` is the real time unless given. ``algorithms`` is the allowlist: asymmetric
    algorithms only. ``leeway`` (at most :data:`MAX_LEEWAY` s) applies to ``exp``, ``nbf`` and ``iat``;
    ``max_lifetime`` bounds ``exp - now`` and ``exp - iat`` (joselab policy).

    :meth:`validate` returns a :class:`~joselab.trace.Trace` with the rows the module docstring lists;
    on success ``trace.result`` is the verified claims set.
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_keys: ClientKeys,
        replay_store: ReplayStore,
        clock: Clock | None = None,
        algorithms: Sequence[str] = ASYMMETRIC_ALGORITHMS,
        leeway: int = 60,
        max_lifetime: int = DEFAULT_MAX_LIFETIME,
        binding: KeyBinding | None = None,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ValueError("issuer is the AS's issuer identifier (RFC 10070 §4: the AS MUST have one)")
        symmetric = [a for a in algorithms if not (isinstance(a, str) and _ASYMMETRIC.fullmatch(a))]
        if symmetric or not algorithms:
            # A configuration mistake: private_key_jwt is the public-key method (OIDC Core §9).
            raise ValueError(f"private_key_jwt takes asymmetric algorithms only, not {symmetric}")
        if not isinstance(leeway, int) or not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be 0..{MAX_LEEWAY} seconds (joselab policy)")
        if not isinstance(max_lifetime, int) or max_lifetime <= 0:
            raise ValueError("max_lifetime must be a positive number of seconds")
        self.issuer = issuer
        self.client_keys = client_keys
        self.replay_store = replay_store
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.algorithms = tuple(algorithms)
        self.leeway = leeway
        self.max_lifetime = max_lifetime
        self.binding = binding
        self.max_token_length = MAX_TOKEN_LENGTH
        self._aud_name = f"aud is {as_evidence(issuer)}, the AS's issuer identifier, as its sole value"

    def __repr__(self) -> str:
        return (
            f"ClientAssertionValidator(issuer={self.issuer!r}, algorithms={list(self.algorithms)}, "
            f"leeway={self.leeway}, max_lifetime={self.max_lifetime})"
        )

    def _keys_of(self, client_id: str) -> KeySource | None:
        try:
            if callable(self.client_keys) and not isinstance(self.client_keys, Mapping):
                return self.client_keys(client_id)
            return self.client_keys.get(client_id)
        except JoselabError:
            return None

    def validate(self, assertion: str, *, client_id: str | None = None, strict: bool = False) -> Trace:
        """Run the checks on ``assertion``, the ``client_assertion`` form parameter; ``client_id`` is
        the form's ``client_id`` when the request carried one (RFC 7521 §4.2: OPTIONAL). With
        ``strict`` the first failure is raised as its :mod:`joselab.errors` type."""
        trace = Trace(_TITLE)
        chosen: dict[str, Any] = {}
        with trace.run():

            def check_header(parsed: CompactJWS) -> None:
                _check_typ(trace, parsed.header)
                chosen["client_id"], chosen["keys"] = self._client(trace, parsed, client_id)

            def keys(header: Mapping[str, Any]) -> jwk.JWK | None:
                # The client's registered keys only: by kid, or its one key (RFC 7515 §4.1.4).
                return select_key(chosen["keys"], header) if "keys" in chosen else None

            parsed = verify_jws(
                trace,
                assertion,
                keys,
                self.algorithms,
                signature_section=SIGNATURE_SECTION,
                check_header=check_header,
                max_length=self.max_token_length,
                binding=self.binding,
            )
            claims = parsed.claims()
            # The client whose keys verified it: the form's client_id if sent (so iss and sub must be
            # that client too, RFC 7521 §4.2), else the sub read early, now verified.
            who = chosen["client_id"]
            iss, sub = claims.get("iss"), claims.get("sub")
            trace.check(
                ISS_SECTION,
                "iss is the client_id",
                isinstance(iss, str) and iss == who,
                f"iss = {as_evidence(iss)}, client_id = {as_evidence(who)}",
                InvalidIssuer,
            )
            trace.check(
                SUB_SECTION,
                "sub is the client_id",
                isinstance(sub, str) and sub == who,
                f"sub = {as_evidence(sub)}, client_id = {as_evidence(who)}",
                ClientMismatch,
            )
            self.check_audience(trace, claims)
            check_expiry(trace, claims, self.clock, self.leeway, EXP_SECTION, max_lifetime=self.max_lifetime)
            if "nbf" in claims:  # RFC 7523 §3 (5): MAY be present; checked whenever it is
                check_not_before(trace, claims, self.clock, self.leeway, NBF_SECTION)
            if "iat" in claims:  # RFC 7523 §3 (6), OIDC Core §9: OPTIONAL
                check_issued_at(
                    trace, claims, self.clock, self.leeway, IAT_SECTION, required=False, max_lifetime=self.max_lifetime
                )
            jti = check_string(trace, claims, "jti", JTI_SECTION)
            trace.check(
                policy(JTI_SECTION),
                f"jti is at most {MAX_JTI_LENGTH} characters",
                isinstance(jti, str) and len(jti) <= MAX_JTI_LENGTH,
                f"{len(jti) if isinstance(jti, str) else 0} characters",
                InvalidClaim,
            )
            # Recorded last, so a refused assertion never uses up its jti; kept until exp (+ leeway),
            # after which the exp row refuses the assertion anyway. Scoped to the client: two clients
            # may pick the same jti.
            first = self.replay_store.first_use(f"{who}\x1f{jti}", int(claims["exp"]) + self.leeway, self.clock.now())
            trace.check(
                REPLAY_SECTION,
                "jti not used before by this client (kept until exp)",
                first,
                f"jti = {as_evidence(jti)}" + ("" if first else ": seen before"),
                ReplayDetected,
            )
            trace.result = claims
        return trace.raise_for_failure() if strict else trace

    def check_audience(self, trace: Trace, claims: Mapping[str, Any]) -> None:
        """RFC 10070 §4: "the aud (audience) claim value MUST use the issuer identifier [RFC8414] of the
        authorization server as its sole value"; a string, or an array of that one member. The guard
        against audience injection (CVE-2025-27370, CVE-2025-27371): no token endpoint URL, and no
        second audience beside the issuer."""
        aud = claims.get("aud")
        ok = aud == self.issuer if isinstance(aud, str) else isinstance(aud, list) and aud == [self.issuer]
        trace.check(AUD_SECTION, self._aud_name, ok, f"aud = {as_evidence(aud)}", InvalidAudience)

    def _client(self, trace: Trace, parsed: CompactJWS, form_client_id: str | None) -> tuple[str, KeySource]:
        """Whose keys verify the assertion (the module docstring says why reading this early is safe)."""
        if form_client_id is not None:
            who, source = form_client_id, "the form's client_id"
        else:
            try:
                sub = parsed.claims().get("sub")
            except JoselabError:
                sub = None  # a payload that is not a claims set: no client named; refused just below
            who, source = sub, "the assertion's sub (not yet verified)"
        keys = self._keys_of(who) if isinstance(who, str) and who else None
        trace.check(
            CLIENT_SECTION,
            "the client it names is registered, with keys",
            keys is not None,
            f"client_id = {as_evidence(who)}, from {source}",
            UnknownClient,
        )
        assert isinstance(who, str) and keys is not None
        return who, keys


def _check_typ(trace: Trace, header: Mapping[str, Any]) -> None:
    """RFC 10070 §4: ``client-authentication+jwt``, or no explicit type (absent, or ``JWT``); RFC 8725
    §3.12: another explicit type is another kind of JWT. A ``typ`` that is not a string fails in the
    shared rows (RFC 7515 §4.1.9)."""
    if "typ" not in header:
        trace.check(TYP_SECTION, _TYP_NAME, True, "no typ (accepted: not rejected for lack of an explicit type)")
        return
    typ = header["typ"]
    if not isinstance(typ, str):
        return  # verify_signature's RFC 7515 §4.1.9 row refuses it
    ok = normalise_typ(typ) in ACCEPTED_TYPES
    trace.check(TYP_SECTION if ok else TYP_OTHER_SECTION, _TYP_NAME, ok, f"typ = {as_evidence(typ)}", InvalidType)


_TYP_NAME = f"typ is {CLIENT_ASSERTION_TYP}, JWT or absent: no other explicit type"
