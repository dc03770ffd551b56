"""The client's validator of OpenID Connect ID tokens, on its own: :class:`IdTokenValidator`
(OpenID Connect Core 1.0 incorporating errata set 2, §3.1.3.7 steps 1-13, then ``at_hash`` (§3.1.3.8,
which points to §3.2.2.9) and ``c_hash`` (§3.3.2.10; the claim is defined in §3.3.2.11); one trace row
(or more) per step labelled ``OIDC Core §3.1.3.7 (N)``).

This module is the one to read whole and copy: it imports joselab's core and the replay store, and
runs no server. The OpenID Provider and the relying party of the demo are in
:mod:`joselab.id_token.parties`. ``keys`` may be a key source from :mod:`joselab.keysource`; without
a ``clock`` it uses the real time; a ``max_lifetime`` above :data:`DEFAULT_MAX_LIFETIME` is the named
leniency ``max_lifetime``, shown in the trace.

On the order of OIDC Core §3.1.3.7: steps 2-5 compare ``iss``, ``aud`` and ``azp`` *before* the signature is
checked at step 6, as the spec lists them. Nothing is trusted or used before step 6 passes (the trace
hands back the claims only when every row passed); comparing first is what picks the keys step 6 may
use ("the keys provided by the Issuer") and the client_secret of step 8 ("corresponding to the
client_id contained in the aud").

:func:`token_hash` computes ``at_hash`` / ``c_hash`` (and FAPI 1 Advanced's ``s_hash``): the
base64url of the left-most half of the hash of the ASCII value, the hash being the one JWA (RFC 7518
§3.1) names for the ID token's ``alg``: SHA-256 for ``*256``, SHA-384 for ``*384``, SHA-512 for
``*512``. JWA names no hash for ``EdDSA`` / ``Ed25519`` / ``Ed448``, and Core errata set 2 says
nothing about them. joselab follows the OpenID Connect working group's consensus (its issue #1125,
which certified providers and several libraries implement; not yet in a published specification):
Ed25519 → SHA-512, left 32 bytes; Ed448 → SHAKE256 with a 114-byte output, left 57 bytes. ``EdDSA``
names no curve, so the curve of the key that verified the token decides.

Hybrid flow (``response_type=code id_token``, OIDC Core §3.3): the authorization response carries an ID
token beside the code, a detached signature over the response: ``c_hash`` binds the code (REQUIRED,
§3.3.2.11), ``s_hash`` binds ``state`` (FAPI 1 Advanced §5.1.1, as UK Open Banking uses it). Both ID
tokens of one authentication carry the same ``nonce`` (§3.3.3.6), so the replay store accepts that
nonce twice for that authentication (keyed by the code both tokens are bound to) and never for another.

Mix-up (RFC 9700 §4.4): a client of several OPs checks that the authorization response came from the
OP it sent the request to: the OP's ``iss`` response parameter (RFC 9207 §2.4) and one redirect URI
per OP (RFC 9700 §4.4.2.2).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Mapping, Sequence
from functools import lru_cache
from typing import Any

from jwcrypto import jwk

from ..claims import (
    audiences,
    check_audience,
    check_expiry,
    check_issued_at,
    check_issuer,
    check_not_before,
    is_numeric_date,
    normalise_typ,
)
from ..clock import Clock, SystemClock
from ..compact import CompactJWS, b64url_encode
from ..errors import (
    AlgorithmNotAllowed,
    InvalidAudience,
    InvalidClaim,
    InvalidType,
    JoselabError,
    KeyNotFound,
    MissingClaim,
    ReplayDetected,
    UnexpectedTokenKind,
    ValidationError,
)
from ..jwe import decrypt_jwe
from ..jws import KeySource, select_key, verify_jws
from ..keys import KeyBinding
from ..parties.store import ReplayStore
from ..trace import Evidence, RowNames, Trace, as_evidence

#: joselab policy (OIDC Core §3.1.3.7 (10) leaves the acceptable ``iat`` range to the client and sets
#: no bound on ``exp - iat``): a larger ``max_lifetime`` is a named leniency and shows in the trace.
DEFAULT_MAX_LIFETIME = 3600
STEP = "OIDC Core §3.1.3.7 ({})"
#: Each step's label, made once.
_STEPS = tuple(STEP.format(i) for i in range(14))
AT_HASH_SECTION = "OIDC Core §3.1.3.8, §3.2.2.9"
C_HASH_SECTION = "OIDC Core §3.3.2.10, §3.3.2.11"
S_HASH_SECTION = "FAPI 1 Advanced §5.1.1"
#: Where the EdDSA hashes come from: not a published section (see the module docstring).
EDDSA_HASH_SOURCE = "OpenID Connect WG consensus (connect issue #1125), not yet in a published spec"

_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
_EDDSA_HASHES = {"Ed25519": "SHA-512", "Ed448": "SHAKE256"}


# -- at_hash, c_hash, PKCE ------------------------------------------------------------------------
def hash_alg_for(alg: str, crv: str | None = None, *, section: str = AT_HASH_SECTION) -> str:
    """The hash for ``at_hash`` / ``c_hash`` / ``s_hash`` of an ID token signed with ``alg``.

    ``HS``/``RS``/``PS``/``ES`` with 256, 384 or 512: the SHA-2 hash JWA (RFC 7518 §3.1) names.
    ``Ed25519`` → SHA-512 and ``Ed448`` → SHAKE256, by the OpenID Connect working group's consensus
    (:data:`EDDSA_HASH_SOURCE`); for ``EdDSA`` the curve ``crv`` of the verifying key decides (RFC 9864
    names the two fully specified algorithms). Anything else raises
    :class:`~joselab.errors.AlgorithmNotAllowed`, citing ``section`` (the claim's own)."""
    if isinstance(alg, str) and alg[:2] in ("HS", "RS", "PS", "ES") and alg[2:] in _HASHES:
        return f"SHA-{alg[2:]}"
    curve = alg if alg in _EDDSA_HASHES else crv if alg == "EdDSA" else None
    if curve in _EDDSA_HASHES:
        return _EDDSA_HASHES[curve]
    detail = "EdDSA and no Ed25519/Ed448 key to name the curve" if alg == "EdDSA" else "JWA names no hash for it"
    raise AlgorithmNotAllowed("alg names the hash for the hash claim", section, f"alg = {json.dumps(alg)[:30]}: {detail}")


def token_hash(value: str, alg: str, crv: str | None = None, *, section: str = AT_HASH_SECTION) -> str:
    """``at_hash`` / ``c_hash`` / ``s_hash`` of ``value`` for an ID token signed with ``alg``: base64url
    of the left-most half of the hash of the octets of its ASCII representation (OIDC Core §3.1.3.6,
    §3.2.2.9, §3.3.2.10, §3.3.2.11; FAPI 1 Advanced §5.1.1). RS256 hashes with SHA-256 and keeps 128
    bits; Ed25519 with SHA-512 and keeps 32 bytes; Ed448 with SHAKE256 (114 bytes) and keeps 57."""
    name = hash_alg_for(alg, crv, section=section)
    if not isinstance(value, str):
        raise InvalidClaim("hashed value is a string", section, f"got {type(value).__name__}")
    try:
        octets = value.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidClaim("hashed value is ASCII", section, "non-ASCII characters") from None
    if name == "SHAKE256":
        full = hashlib.shake_256(octets).digest(114)  # Ed448's hash, with Ed448's output length (RFC 8032 §5.2)
    else:
        full = _HASHES[name[4:]](octets).digest()
    return b64url_encode(full[: len(full) // 2])


def _secret_key(secret: str) -> jwk.JWK:
    """Core §3.1.3.7 step 8 (and §10.1): the MAC key is the octets of the UTF-8 client_secret."""
    return jwk.JWK(kty="oct", k=b64url_encode(secret.encode("utf-8")))


# -- the client-side validator --------------------------------------------------------------------
_REQUIRED = ("iss", "sub", "aud", "exp", "iat")
_REQUIRED_SET = frozenset(_REQUIRED)
_REQUIRED_ROW = "required claims present: " + ", ".join(_REQUIRED)
_AZP_NAMES = RowNames("azp equals the client_id {}", as_json=True)


@lru_cache(maxsize=64)
def _registered_alg_row(alg: str) -> str:
    return f"alg is the registered id_token_signed_response_alg {alg}"


def _late(name: str, value: Any) -> Evidence:
    """``name = <value as JSON>``, formatted when read if the value is a string or a number."""
    if value.__class__ is str or value.__class__ in _SCALARS or value is None:
        return lambda: f"{name} = {as_evidence(value)}"
    return f"{name} = {as_evidence(value)}"


_SCALARS = (int, float, bool)


class IdTokenValidator:
    """The client's validation of an ID token: OIDC Core §3.1.3.7 steps 1-13, then ``at_hash`` and
    ``c_hash``. One validator per client registration.

    * ``issuer``: the OP's Issuer Identifier from discovery (step 2, exact match);
    * ``client_id``, ``trusted_audiences`` (step 3: any other audience is refused);
    * ``keys``: the OP's published keys (step 6): a :class:`jwcrypto.jwk.JWKSet` or a key source
      (:class:`joselab.keysource.StaticKeys`, :class:`joselab.keysource.DiscoveredKeys`, any
      ``header -> JWK | None``); ``client_secret`` for HS* (step 8);
    * ``clock``: the real time (:class:`joselab.clock.SystemClock`) unless given;
    * ``id_token_signed_response_alg``: the registered alg, RS256 by default (step 7); ``algorithms``
      is the allowlist the JWS layer applies first (RFC 8725 §3.1), the registered alg by default;
    * ``decryption_key`` with ``encryption_alg`` and ``encryption_enc`` when the client registered
      for encrypted ID tokens (step 1);
    * ``nonce_store`` remembers nonces (step 11, replay); ``iat_window`` (step 10) bounds how long;
    * ``max_lifetime`` bounds ``exp - iat`` (a policy, with step 10: an ID token is short-lived, and
      one that claims to live for years is refused); above :data:`DEFAULT_MAX_LIFETIME` it is the named
      leniency ``max_lifetime``, a row in every trace it applies to;
    * ``require_hashes`` (joselab policy) refuses a token-response ID token without ``at_hash`` /
      ``c_hash``, which OIDC Core makes OPTIONAL there (§3.1.3.6, §3.3.2.11); ``require_s_hash`` refuses a
      front-channel ID token without ``s_hash`` (FAPI 1 Advanced §5.1.1's detached signature).

    Explicit typing (RFC 8725 §3.11, §3.12): Core registers no ``typ`` for ID tokens, so the rule that
    keeps other JWTs out is that ``typ``, if present, is ``JWT``: an RFC 9068 access token
    (``at+jwt``) or a logout token (``logout+jwt``) is never an ID token here.
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        keys: KeySource,
        clock: Clock | None = None,
        nonce_store: ReplayStore,
        client_secret: str | None = None,
        id_token_signed_response_alg: str = "RS256",
        algorithms: Collection[str] | None = None,
        trusted_audiences: Collection[str] = (),
        decryption_key: jwk.JWK | None = None,
        encryption_alg: str | None = None,
        encryption_enc: str | None = None,
        leeway: int = 60,
        iat_window: int = 600,
        max_lifetime: int = DEFAULT_MAX_LIFETIME,
        require_hashes: bool = False,
        binding: KeyBinding | None = None,
        require_s_hash: bool = False,
    ) -> None:
        if (decryption_key is None) != (encryption_alg is None) or (encryption_alg is None) != (encryption_enc is None):
            raise JoselabError("decryption_key, encryption_alg and encryption_enc go together (step 1)")
        self.issuer = issuer
        self.client_id = client_id
        self.keys = keys
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.nonce_store = nonce_store
        self.client_secret = client_secret
        self.registered_alg = id_token_signed_response_alg
        self.algorithms = tuple(a for a in (algorithms or (id_token_signed_response_alg,)) if a != "none")
        self.trusted_audiences = tuple(trusted_audiences)
        self.decryption_key = decryption_key
        self.encryption_alg = encryption_alg
        self.encryption_enc = encryption_enc
        self.leeway = leeway
        self.iat_window = iat_window
        self.max_lifetime = max_lifetime
        self.require_hashes = require_hashes
        self.binding = binding  # RFC 8725 §3.1: the one algorithm of each key (joselab.keys.KeyBinding)
        self.require_s_hash = require_s_hash

    @property
    def encrypted(self) -> bool:
        return self.decryption_key is not None

    def validate(
        self,
        token: str,
        *,
        nonce: str | None,
        access_token: str | None = None,
        code: str | None = None,
        state: str | None = None,
        max_age: int | None = None,
        acr_values: Sequence[str] | None = None,
        front_channel: bool = False,
        hybrid: bool = False,
        front_claims: Mapping[str, Any] | None = None,
        strict: bool = False,
    ) -> Trace:
        """Validate ``token`` as the ID token answering an authentication request that sent
        ``nonce`` (and ``max_age`` / ``acr_values`` if given); check ``at_hash`` against
        ``access_token``, ``c_hash`` against ``code`` and ``s_hash`` against ``state`` when those are
        given. On success ``trace.result`` is the claims set.

        ``front_channel``: the ID token came in a hybrid authorization response (OIDC Core §3.3.2.12 →
        §3.2.2.11): ``c_hash`` is then REQUIRED (§3.3.2.11). ``hybrid``: it is one of the two ID tokens
        of a hybrid authentication (front channel, token response), which carry the same ``nonce``
        (§3.3.3.6): step 11's replay row accepts that nonce for both, and only for the authentication
        of this ``code``. ``front_claims``: the validated front-channel ID token of the same
        authentication, whose ``iss`` and ``sub`` this token's must equal (§3.3.3.6)."""
        hybrid = hybrid or front_channel
        title = "OIDC Core §3.3.2.12: front-channel ID token at the client" if front_channel else None
        trace = Trace(title or "OIDC Core §3.1.3.7: ID token validation at the client")
        with trace.run():
            jws_token = self._step1(trace, token)
            before: list[dict[str, Any]] = []  # the claims steps 2-5 read: the payload is parsed once
            parsed = verify_jws(
                trace,
                jws_token,
                self._key_for,
                self.algorithms,
                signature_section=_STEPS[6],
                check_header=lambda p: before.append(self._before_signature(trace, p)),
                binding=self.binding,
            )
            claims = before[0] if before else parsed.claims()
            alg = parsed.header["alg"]
            owner = hashlib.sha256(str(code).encode("utf-8", "replace")).hexdigest() if hybrid and code else ""
            self._steps_7_to_13(trace, alg, claims, nonce=nonce, max_age=max_age, acr_values=acr_values, owner=owner)
            # The curve names the hash of an EdDSA signature (at_hash and the others); look it up only
            # when one of those values was given.
            if access_token is not None or code is not None or state is not None:
                crv = None if alg.startswith("HS") else self._key_for(parsed.header).get("crv")
                self._hashes(
                    trace, alg, crv, claims, access_token=access_token, code=code, state=state, front_channel=front_channel
                )
            if front_claims is not None:
                same = all(n in front_claims and claims.get(n) == front_claims[n] for n in ("iss", "sub"))
                trace.check(
                    "OIDC Core §3.3.3.6",
                    "iss and sub identical to the front-channel ID token's",
                    same,
                    "identical" if same else "they differ (or no front-channel ID token passed): not the same authentication",
                    InvalidClaim,
                )
            trace.result = claims
        return trace.raise_for_failure() if strict else trace

    # -- step 1 -------------------------------------------------------------------------------
    def _step1(self, trace: Trace, token: str) -> str:
        section = _STEPS[1]
        # Tell JWE from JWS by counting the parts (RFC 7516 §9); the parsers below do the rest.
        kind = "JWE" if isinstance(token, str) and token.count(".") == 4 else "JWS"
        if not self.encrypted:
            trace.check(
                section,
                "not encrypted (no encryption registered)",
                kind != "JWE",
                "a JWE arrived, but this client registered no ID token encryption" if kind == "JWE" else "a JWS, as registered",
                UnexpectedTokenKind,
            )
            return token
        trace.check(
            section,
            f"encrypted, as registered ({self.encryption_alg} / {self.encryption_enc})",
            kind == "JWE",
            "a JWE" if kind == "JWE" else "an unencrypted token: refused, encryption was registered",
            UnexpectedTokenKind,
        )
        assert self.decryption_key is not None and self.encryption_alg and self.encryption_enc
        parsed, plaintext = decrypt_jwe(
            trace, token, self.decryption_key, [self.encryption_alg], [self.encryption_enc], section=section, binding=self.binding
        )
        cty = parsed.header.get("cty")
        trace.check(
            "RFC 7519 §5.2",
            "cty is JWT: a signed JWT is nested inside",
            isinstance(cty, str) and normalise_typ(cty) == "jwt",
            f"cty = {as_evidence(cty)}",
            InvalidType,
        )
        try:
            return plaintext.decode("ascii")
        except UnicodeDecodeError:
            raise UnexpectedTokenKind("nested token is a compact JWS", "RFC 7519 §7.2", "plaintext is not ASCII") from None

    # -- steps 2-5, on the parsed but not yet verified token ------------------------------------
    def _before_signature(self, trace: Trace, parsed: CompactJWS) -> dict[str, Any]:
        header = parsed.header
        typ = header.get("typ")
        trace.check(
            "RFC 8725 §3.11",
            "typ absent or JWT (not an access token or another kind of JWT)",
            # typ: null is not absent
            "typ" not in header or typ == "JWT" or (isinstance(typ, str) and normalise_typ(typ) == "jwt"),
            _late("typ", typ),
            InvalidType,
        )
        claims = parsed.claims()
        missing = [] if claims.keys() >= _REQUIRED_SET else [n for n in _REQUIRED if n not in claims]
        trace.check(
            "OIDC Core §2",
            _REQUIRED_ROW,
            not missing,
            f"missing {missing}" if missing else "all present",
            MissingClaim,
        )
        sub = claims["sub"]
        trace.check(
            "OIDC Core §2",
            "sub is a string of 1-255 ASCII characters",
            isinstance(sub, str) and 0 < len(sub) <= 255 and sub.isascii(),
            _late("sub", sub),
            InvalidClaim,
        )
        check_issuer(trace, claims, self.issuer, _STEPS[2])
        check_audience(trace, claims, self.client_id, _STEPS[3], trusted=self.trusted_audiences)
        # Steps 4-5 as errata set 2 rewrote them: azp matters only under an extension that defines it
        # (joselab uses none, so only its form is checked, OIDC Core §2), and step 5's "MAY": when azp is there,
        # it must be this client. The pre-errata rule "several audiences: azp SHOULD be present" is gone.
        if "azp" not in claims:
            trace.check(_STEPS[4], "azp absent (no extension in use defines it)", True, "absent")
            return claims
        azp = claims["azp"]
        trace.check(
            _STEPS[4],
            "azp is a StringOrURI (no extension in use defines more)",
            isinstance(azp, str) and bool(azp),
            _late("azp", azp),
            InvalidClaim,
        )
        trace.check(_STEPS[5], _AZP_NAMES.get_name(self.client_id), azp == self.client_id, _late("azp", azp), InvalidAudience)
        return claims

    def _key_for(self, header: Mapping[str, Any]) -> jwk.JWK | None:
        """Step 6 uses the Issuer's keys; step 8 says an HS* MAC key is the client_secret."""
        alg = header.get("alg")
        if isinstance(alg, str) and alg.startswith("HS"):
            if not self.client_secret:
                raise KeyNotFound("HS* key is the client_secret", _STEPS[8], "this client has no client_secret")
            return _secret_key(self.client_secret)
        return select_key(self.keys, header)

    # -- steps 7-13 ---------------------------------------------------------------------------
    def _steps_7_to_13(
        self,
        trace: Trace,
        alg: str,
        claims: Mapping[str, Any],
        *,
        nonce: str | None,
        max_age: int | None,
        acr_values: Sequence[str] | None,
        owner: str = "",
    ) -> None:
        trace.check(
            _STEPS[7],
            _registered_alg_row(self.registered_alg),
            alg == self.registered_alg,
            lambda: f"alg = {alg}",
            AlgorithmNotAllowed,
        )
        if alg.startswith("HS"):
            auds = audiences(claims) or []
            # "the behavior is unspecified if the aud is multi-valued": refuse rather than guess.
            trace.check(
                _STEPS[8],
                "MAC key was the UTF-8 client_secret of the one client in aud",
                len(auds) == 1 and auds[0] == self.client_id,
                f"aud has {len(auds)} values",
                InvalidAudience,
            )
        else:
            trace.check(_STEPS[8], "not a MAC alg: the Issuer's published key was used", True, lambda: f"alg = {alg}")
        check_expiry(trace, claims, self.clock, self.leeway, _STEPS[9])
        if "nbf" in claims:
            # Core defines no nbf for ID tokens, but a JWT that carries one "MUST NOT be accepted"
            # before it (RFC 7519 §4.1.5); without this row a future-dated token passed.
            check_not_before(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.5")
        check_issued_at(
            trace, claims, self.clock, self.leeway, _STEPS[10], max_age=self.iat_window, max_lifetime=self.max_lifetime
        )
        if self.max_lifetime > DEFAULT_MAX_LIFETIME:
            # A named leniency, never a silent one: the same row the access-token validator writes.
            trace.leniency(
                "max_lifetime",
                "joselab policy; OIDC Core §3.1.3.7 (10) sets no bound",
                f"lifetimes up to {self.max_lifetime}s accepted (default {DEFAULT_MAX_LIFETIME}s)",
                f"exp - iat = {int(claims['exp'] - claims['iat'])}s"
                if isinstance(claims.get("exp"), int | float) and isinstance(claims.get("iat"), int | float)
                else "no iat",
            )
        self._step11(trace, claims, nonce, owner)
        section = _STEPS[12]
        if acr_values:
            acr = claims.get("acr")
            trace.check(
                section,
                f"acr is one of the requested {list(acr_values)}",
                acr in acr_values,
                f"acr = {as_evidence(acr)}",
                InvalidClaim,
            )
        else:
            trace.check(section, "acr not requested: nothing to check", True, _late("acr", claims.get("acr")))
        section = _STEPS[13]
        if max_age is None:
            trace.check(section, "max_age not sent: nothing to check", True, "auth_time not requested")
            return
        auth_time = claims.get("auth_time")
        trace.check(
            section,
            "auth_time present (max_age was sent, Core §2)",
            "auth_time" in claims,
            "absent" if auth_time is None else "present",
            MissingClaim,
        )
        trace.check(
            section,
            "auth_time is a NumericDate",
            is_numeric_date(auth_time),
            f"auth_time = {as_evidence(auth_time)}",
            InvalidClaim,
        )
        now = self.clock.now()
        age = now - auth_time
        trace.check(
            section,
            f"authenticated at most max_age={max_age}s ago (+{self.leeway}s leeway, joselab policy)",
            age <= max_age + self.leeway,
            f"{int(age)}s since auth_time",
            InvalidClaim,
        )

    def _step11(self, trace: Trace, claims: Mapping[str, Any], nonce: str | None, owner: str = "") -> None:
        section = _STEPS[11]
        value = claims.get("nonce")
        if nonce is None:
            # Core §2: a nonce in the token that was never sent cannot be "equal to the one sent".
            trace.check(
                section,
                "no nonce sent, and none in the token",
                value is None,
                "absent" if value is None else "present",
                InvalidClaim,
            )
            return
        trace.check(section, "nonce present", value is not None, "present" if value is not None else "absent", MissingClaim)
        same = isinstance(value, str) and hmac.compare_digest(value.encode(), nonce.encode())
        # Evidence never shows the nonce itself: it is a one-time secret of the client's session.
        trace.check(section, "nonce equals the one sent in the request", same, "equal" if same else "differs", InvalidClaim)
        iat = claims["iat"]
        keep_until = int(max(claims["exp"], iat + self.iat_window)) + self.leeway
        if not owner:
            first = self.nonce_store.first_use(f"{self.client_id} {value}", keep_until, self.clock.now())
            trace.check(
                section, "nonce not seen before (replay)", first, "first use" if first else "already used", ReplayDetected
            )
            return
        # Hybrid flow: both ID tokens of one authentication carry this nonce (OIDC Core §3.3.3.6). The
        # store keys it to that authentication's code (by its SHA-256) and allows it twice.
        first = self.nonce_store.first_use(f"{self.client_id} {value}", keep_until, self.clock.now(), owner=owner, max_uses=2)
        trace.check(
            section + ", §3.3.3.6",
            "nonce not seen before, except in the other ID token of this authentication (replay)",
            first,
            "first use for this authentication" if first else "already used (another authentication, or a third time)",
            ReplayDetected,
        )

    # -- at_hash, c_hash, s_hash -------------------------------------------------------------
    def _hashes(
        self,
        trace: Trace,
        alg: str,
        crv: str | None,
        claims: Mapping[str, Any],
        *,
        access_token: str | None,
        code: str | None,
        state: str | None,
        front_channel: bool = False,
    ) -> None:
        rows = (
            ("at_hash", access_token, "access token", AT_HASH_SECTION),
            ("c_hash", code, "code", C_HASH_SECTION),
            ("s_hash", state, "state", S_HASH_SECTION),
        )
        for name, value, what, section in rows:
            if value is None:
                continue
            if name not in claims:
                trace.check(section, *self._absent(name, front_channel), "absent", MissingClaim)
                continue
            try:
                hash_name: str | None = hash_alg_for(alg, crv, section=section)
            except ValidationError:
                hash_name = None
            trace.check(
                section,
                f"alg names the hash for {name}",
                hash_name is not None,
                f"alg = {alg}: {hash_name}" + (f" ({EDDSA_HASH_SOURCE})" if alg in ("EdDSA", *_EDDSA_HASHES) else "")
                if hash_name
                else f"alg = {alg}: no hash is defined for it",
                AlgorithmNotAllowed,
            )
            assert hash_name is not None
            try:
                expected: str | None = token_hash(value, alg, crv, section=section)
            except ValidationError:
                expected = None
            given = claims[name]
            same = isinstance(given, str) and expected is not None and hmac.compare_digest(given, expected)
            trace.check(
                section,
                f"{name} is the left half of the {hash_name} hash of the {what}",
                same,
                "matches" if same else f"does not match this {what}",
                InvalidClaim,
            )

    def _absent(self, name: str, front_channel: bool) -> tuple[str, bool]:
        """The row for a hash claim that is absent: its name, and whether that passes."""
        if name == "s_hash":
            if self.require_s_hash:
                return "s_hash present (FAPI 1 Advanced: the ID token is a detached signature over state)", False
            return "s_hash absent: only FAPI 1 Advanced defines it, and this client does not require it", True
        if name == "c_hash" and front_channel:
            return "c_hash present (REQUIRED with a code from the authorization endpoint)", False
        if self.require_hashes:
            return f"{name} present (joselab policy: this client requires it; Core makes it OPTIONAL here)", False
        return f"{name} absent: OPTIONAL in this response (nothing to compare)", True
