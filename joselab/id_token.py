"""Scenario 3: the OpenID Connect ID token (OpenID Connect Core 1.0 incorporating errata set 2).

Three parts, all real:

* :class:`OpenIDProvider`, an OP on 127.0.0.1 with a discovery document (OpenID Connect Discovery 1.0
  §3, §4), a JWK Set, an authorization endpoint that approves a demo user without a login page and
  redirects with ``code`` and ``state`` (Core §3.1.2), and a token endpoint that checks PKCE S256
  (RFC 7636 §4.6) and answers with an ID token (Core §2, §3.1.3.3, §3.1.3.6), signed and, when the
  client registered for it, then encrypted (Core §2, §16.14; a Nested JWT, RFC 7519 §5.2);
* :class:`IdTokenValidator`, the client's side: Core §3.1.3.7 steps 1-13 in the spec's order, one
  trace row (or more) per step labelled ``OIDC Core §3.1.3.7 (N)``, then ``at_hash`` (§3.1.3.8,
  which points to §3.2.2.9) and ``c_hash`` (§3.3.2.10; the claim is defined in §3.3.2.11);
* :class:`RelyingParty`, the client that runs the authorization code flow (or the hybrid flow,
  ``code id_token``) with ``state``, ``nonce`` and PKCE, follows the redirect's ``Location`` itself
  (no browser), checks who answered (``iss``, RFC 9207 §2.4), redeems the code and validates.

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

import base64
import hashlib
import hmac
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

from jwcrypto import jwk

from .claims import (
    audiences,
    check_audience,
    check_expiry,
    check_issued_at,
    check_issuer,
    check_not_before,
    is_numeric_date,
    normalise_typ,
)
from .clock import Clock, DemoIds, IdSource
from .compact import CompactJWS, b64url_encode
from .errors import (
    AlgorithmNotAllowed,
    FetchError,
    InvalidAudience,
    InvalidClaim,
    InvalidIssuer,
    InvalidType,
    JoselabError,
    KeyNotFound,
    MissingClaim,
    ReplayDetected,
    UnexpectedTokenKind,
    ValidationError,
)
from .jwe import decrypt_jwe, encrypt_compact
from .jws import select_key, sign_compact, verify_jws
from .keys import DemoKey, KeyBinding, as_jwk, demo_key, load_jwks, public_jwks
from .parties.http import LocalServer, Network, Request, Response, json_response
from .parties.store import Database, ReplayStore
from .trace import Trace, as_evidence

__all__ = [
    "DEMO_ACR",
    "DEMO_AMR",
    "DEMO_SUBJECT",
    "AuthorizationRequest",
    "AuthorizationResponse",
    "ClientRegistration",
    "IdTokenValidator",
    "OpenIDProvider",
    "RelyingParty",
    "TokenResponse",
    "hash_alg_for",
    "pkce_challenge",
    "token_hash",
]

STEP = "OIDC Core §3.1.3.7 ({})"
AT_HASH_SECTION = "OIDC Core §3.1.3.8, §3.2.2.9"
C_HASH_SECTION = "OIDC Core §3.3.2.10, §3.3.2.11"
S_HASH_SECTION = "FAPI 1 Advanced §5.1.1"
#: Where the EdDSA hashes come from: not a published section (see the module docstring).
EDDSA_HASH_SOURCE = "OpenID Connect WG consensus (connect issue #1125), not yet in a published spec"

#: The demo user the OP approves without a login page (``sub`` from Core §3.1.3.3's example).
DEMO_SUBJECT = "248289761001"
#: The authentication context the demo OP asserts (the example of Core §2) and how it got there
#: (RFC 8176 §2: password, then a one-time password).
DEMO_ACR = "urn:mace:incommon:iap:silver"
DEMO_AMR = ("pwd", "otp")

#: Signature algorithms an ID token may use here: ``none`` never (Core §2 allows it only when asked
#: for at registration, and joselab never asks).
SUPPORTED_ALGS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
    "Ed25519", "Ed448", "EdDSA", "HS256", "HS384", "HS512",
)  # fmt: skip
_HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
_EDDSA_HASHES = {"Ed25519": "SHA-512", "Ed448": "SHAKE256"}
#: Response types the OP and the client support: the code flow and the hybrid flow with an ID token.
RESPONSE_TYPES = ("code", "code id_token")
_ENC_ALGS = ("RSA-OAEP-256", "ECDH-ES+A256KW")
_ENC_ENCS = ("A256GCM",)


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


def pkce_challenge(verifier: str) -> str:
    """``code_challenge`` for method S256: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2)."""
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def _secret_key(secret: str) -> jwk.JWK:
    """Core §3.1.3.7 step 8 (and §10.1): the MAC key is the octets of the UTF-8 client_secret."""
    return jwk.JWK(kty="oct", k=b64url_encode(secret.encode("utf-8")))


def _host(url: str) -> str | None:
    """The host of ``url``, or None when it is not a URL at all."""
    try:
        return urlsplit(url).hostname
    except (TypeError, ValueError, AttributeError):
        return None


def _with_kid(key: jwk.JWK) -> jwk.JWK:
    """``key`` with a ``kid`` (its RFC 7638 thumbprint when it has none), so a header can name it."""
    if "kid" in key:
        return key
    return jwk.JWK(**{**key.export(as_dict=True), "kid": key.thumbprint()})


# -- registration ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientRegistration:
    """What the OP knows about a client (metadata names from OIDC Registration §2). ``encryption_key`` stands for the client's ``jwks``: the public key the OP
    encrypts ID tokens to."""

    client_id: str
    redirect_uris: tuple[str, ...]
    client_secret: str | None = None
    id_token_signed_response_alg: str = "RS256"
    id_token_encrypted_response_alg: str | None = None
    id_token_encrypted_response_enc: str | None = None
    encryption_key: jwk.JWK | None = field(default=None, repr=False)
    #: OIDC Registration §2: when omitted, the client uses only the ``code`` response type.
    response_types: tuple[str, ...] = ("code",)

    def __post_init__(self) -> None:
        if any(rt not in RESPONSE_TYPES for rt in self.response_types):
            raise JoselabError(f"joselab supports the response types {RESPONSE_TYPES}")
        if self.id_token_signed_response_alg not in SUPPORTED_ALGS:
            raise JoselabError(f"id_token_signed_response_alg {self.id_token_signed_response_alg!r} is not supported")
        if self.id_token_signed_response_alg.startswith("HS") and not self.client_secret:
            raise JoselabError("an HS* ID token needs a client_secret (Core §10.1)")
        if self.encrypted:
            if self.encryption_key is None or self.id_token_encrypted_response_enc is None:
                raise JoselabError("encrypted ID tokens need the client's public key and an enc (Registration §2)")
            if self.id_token_encrypted_response_alg not in _ENC_ALGS or self.id_token_encrypted_response_enc not in _ENC_ENCS:
                raise JoselabError(f"joselab's OP encrypts with {_ENC_ALGS} and {_ENC_ENCS} only")

    @property
    def encrypted(self) -> bool:
        return self.id_token_encrypted_response_alg is not None


# -- the OpenID Provider --------------------------------------------------------------------------
class OpenIDProvider:
    """An OpenID Provider over real HTTP on 127.0.0.1, playing ``https://<host><issuer_path>``.

    Routes, under the issuer's path: ``/.well-known/openid-configuration`` (OIDC Discovery §4: appended to
    the issuer, path included), ``/jwks`` (RFC 7517 §5), ``/authorize`` (OIDC Core §3.1.2, §3.3.2:
    approves :data:`DEMO_SUBJECT`, no login page) and ``/token`` (OIDC Core §3.1.3, RFC 6749 §4.1.3,
    RFC 7636 §4.6). Codes live in a sqlite file and are one-time (RFC 6749 §4.1.2).

    Keys: ``signing_keys`` maps each signature algorithm to its own key, so a key serves one
    algorithm (RFC 8725 §3.1); by default RS256 → RFC 7515 Appendix A.2's RSA key, PS256 → RFC 7517
    Appendix A.2's RSA key, Ed25519 → RFC 8037 Appendix A.1's key (all published example keys). The
    JWK Set publishes each with its ``alg`` and ``use: sig``; the metadata lists those algorithms
    (and HS256, MACed with a client's secret, OIDC Core §10.1). Access tokens are signed with
    ``access_token_alg``'s key. Every authorization response carries ``iss`` (RFC 9207 §2).
    """

    def __init__(
        self,
        network: Network,
        *,
        clock: Clock,
        store_dir: str | Path,
        host: str = "op.bank.example",
        issuer_path: str = "",
        signing_keys: Mapping[str, DemoKey | jwk.JWK] | None = None,
        access_token_alg: str = "RS256",
        ids: IdSource | None = None,
        id_token_lifetime: int = 300,
        access_token_lifetime: int = 300,
        code_lifetime: int = 60,
        api_audience: str = "https://api.bank.example",
    ) -> None:
        if issuer_path and (
            not issuer_path.startswith("/") or issuer_path.endswith("/") or "?" in issuer_path or "#" in issuer_path
        ):
            raise JoselabError("issuer_path starts with / and has no trailing /, query or fragment (OIDC Discovery §3, issuer)")
        if signing_keys is None:
            signing_keys = {
                "RS256": demo_key("rfc7515-a2-rsa"),
                "PS256": demo_key("rfc7517-a2-rsa"),
                "Ed25519": demo_key("rfc8037-ed25519"),
            }
        self.signing_keys: dict[str, jwk.JWK] = {alg: _with_kid(as_jwk(k)) for alg, k in signing_keys.items()}
        if any(alg.startswith("HS") or alg == "none" for alg in self.signing_keys):
            raise JoselabError("signing_keys holds asymmetric keys; HS* ID tokens are MACed with the client's secret")
        kids = [k["kid"] for k in self.signing_keys.values()]
        if len(set(kids)) != len(kids):
            raise JoselabError("each signing key serves one algorithm: give every algorithm its own key (RFC 8725 §3.1)")
        if access_token_alg not in self.signing_keys:
            raise JoselabError(f"no signing key for access_token_alg {access_token_alg!r}")
        self.access_token_alg = access_token_alg
        #: The key access tokens are signed with (``access_token_alg``'s).
        self.key: jwk.JWK = self.signing_keys[access_token_alg]
        self.clock = clock
        self.ids = ids if ids is not None else DemoIds(3)
        self.id_token_lifetime = id_token_lifetime
        self.access_token_lifetime = access_token_lifetime
        self.code_lifetime = code_lifetime
        self.api_audience = api_audience
        self.clients: dict[str, ClientRegistration] = {}
        #: When the demo user last authenticated at this OP (None: not yet); Core §3.1.2.1 max_age.
        self.user_auth_time: int | None = None
        self.server = LocalServer(host, network)
        self.path = issuer_path
        self.issuer = self.server.url(issuer_path)
        name = host + "".join(c if c.isalnum() else "_" for c in issuer_path)
        self.db = Database(Path(store_dir) / f"{name}.sqlite")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS codes (code TEXT PRIMARY KEY, client_id TEXT, redirect_uri TEXT, nonce TEXT,"
            " code_challenge TEXT, sub TEXT, auth_time INTEGER, acr TEXT, scope TEXT, expires_at INTEGER, used INTEGER)"
        )
        self.server.serve_json(f"{issuer_path}/.well-known/openid-configuration", self.metadata)
        self.server.serve_json(f"{issuer_path}/jwks", self.jwks)
        self.server.route("GET", f"{issuer_path}/authorize")(self._authorize)
        self.server.route("POST", f"{issuer_path}/token")(self._token)

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 §5): each key with the one ``alg`` it serves and ``use: sig``."""
        return {"keys": [{**public_jwks(k)["keys"][0], "alg": alg, "use": "sig"} for alg, k in self.signing_keys.items()]}

    # -- set-up -------------------------------------------------------------------------------
    def register(self, client: ClientRegistration) -> ClientRegistration:
        """Register ``client``; its ``id_token_signed_response_alg`` must be one this OP signs with."""
        alg = client.id_token_signed_response_alg
        if alg not in self.signing_algorithms():
            raise JoselabError(f"{self.issuer} has no key for {alg}; it signs ID tokens with {self.signing_algorithms()}")
        self.clients[client.client_id] = client
        return client

    def signing_algorithms(self) -> list[str]:
        """The ID token algorithms this OP uses: one per signing key, and HS256 with a client's secret."""
        return [*self.signing_keys, "HS256"]

    def start(self) -> OpenIDProvider:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.db.close()

    def metadata(self) -> dict[str, Any]:
        """The discovery document (Discovery §3); ``issuer`` is the URL it is served under (§4.3)."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.server.url(f"{self.path}/authorize"),
            "token_endpoint": self.server.url(f"{self.path}/token"),
            "jwks_uri": self.server.url(f"{self.path}/jwks"),
            "response_types_supported": list(RESPONSE_TYPES),
            "response_modes_supported": ["query", "fragment"],
            "grant_types_supported": ["authorization_code", "implicit"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid"],
            "id_token_signing_alg_values_supported": self.signing_algorithms(),
            "id_token_encryption_alg_values_supported": list(_ENC_ALGS),
            "id_token_encryption_enc_values_supported": list(_ENC_ENCS),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp"],
        }

    # -- tokens -------------------------------------------------------------------------------
    def issue_access_token(self, client_id: str, sub: str = DEMO_SUBJECT, scope: str = "openid accounts") -> str:
        """A JWT access token for the bank's API (RFC 9068 §2): ``typ: at+jwt``, audience the API."""
        now = self.clock.now()
        claims = {
            "iss": self.issuer,
            "exp": now + self.access_token_lifetime,
            "aud": self.api_audience,
            "sub": sub,
            "client_id": client_id,
            "iat": now,
            "jti": self.ids.uuid4(),
            "scope": scope,
        }
        return sign_compact(claims, self.key, {"alg": self.access_token_alg, "typ": "at+jwt", "kid": self.key["kid"]})

    def issue_id_token(
        self,
        client_id: str,
        *,
        nonce: str | None,
        sub: str = DEMO_SUBJECT,
        auth_time: int | None = None,
        acr: str | None = DEMO_ACR,
        amr: Sequence[str] | None = DEMO_AMR,
        access_token: str | None = None,
        code: str | None = None,
        state: str | None = None,
        alg: str | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> str:
        """An ID token for ``client_id`` (Core §2, §3.1.3.6), signed with the registered alg and then
        encrypted if the client registered for it (Core §2: "signed then encrypted").

        ``alg`` and ``overrides`` exist so that a demo can play a faulty or hostile OP: a claim set to
        ``None`` in ``overrides`` is removed. The token endpoint never uses them."""
        client = self.clients.get(client_id)
        if client is None:
            raise JoselabError(f"no client {client_id!r} is registered at {self.issuer}")
        alg = alg or client.id_token_signed_response_alg
        now = self.clock.now()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": client_id,
            "exp": now + self.id_token_lifetime,
            "iat": now,
            "auth_time": now if auth_time is None else auth_time,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if acr is not None:
            claims["acr"] = acr
        if amr is not None:
            claims["amr"] = list(amr)
        # Core §2 (errata set 2) discourages azp without an extension that needs it; the book's OP
        # sends it (equal to the sole audience, which §2 allows) so the client's steps 4-5 show.
        claims["azp"] = client_id
        key = None if alg.startswith("HS") else self.signing_keys.get(alg)
        crv = key.get("crv") if key is not None else None
        if access_token is not None:
            claims["at_hash"] = token_hash(access_token, alg, crv)
        if code is not None:
            claims["c_hash"] = token_hash(code, alg, crv, section=C_HASH_SECTION)
        if state is not None:
            claims["s_hash"] = token_hash(state, alg, crv, section=S_HASH_SECTION)
        for name, value in (overrides or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        if alg.startswith("HS"):
            if not client.client_secret:
                raise JoselabError(f"{client_id} has no client_secret to MAC an {alg} ID token with")
            token = sign_compact(claims, _secret_key(client.client_secret), {"alg": alg, "typ": "JWT"})
        else:
            if key is None:
                raise JoselabError(f"{self.issuer} has no key for {alg} (each key serves one algorithm)")
            token = sign_compact(claims, key, {"alg": alg, "typ": "JWT", "kid": key["kid"]})
        if not client.encrypted:
            return token
        assert client.encryption_key is not None
        header = {
            "alg": client.id_token_encrypted_response_alg,
            "enc": client.id_token_encrypted_response_enc,
            "cty": "JWT",  # RFC 7519 §5.2: a nested JWT says so
            "kid": client.encryption_key.get("kid"),
        }
        return encrypt_compact(token, client.encryption_key, {k: v for k, v in header.items() if v is not None})

    # -- HTTP ---------------------------------------------------------------------------------
    def _authorize(self, req: Request) -> Response:
        """OIDC Core §3.1.2.2 / §3.3.2.2 checks, then approve the demo user and redirect with the code,
        ``state`` and ``iss`` (RFC 9207 §2): in the query for ``code`` (OIDC Core §3.1.2.5), in the
        fragment with an ID token for ``code id_token`` (OIDC Core §3.3.2.5)."""
        q = {k: v[0] for k, v in req.query.items() if len(v) == 1}
        if any(len(v) != 1 for v in req.query.values()):
            return json_response(400, {"error": "invalid_request", "error_description": "a parameter is repeated"})
        client = self.clients.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri", "")
        # RFC 6749 §4.1.2.1: with an unknown client or redirect_uri, do NOT redirect (open redirector).
        if client is None or redirect_uri not in client.redirect_uris:
            return json_response(400, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"})
        state = q.get("state")
        response_type = q.get("response_type")
        # OIDC Core §3.3.2.5-6: the hybrid flow answers in the fragment, errors included.
        sep = "#" if response_type == "code id_token" else "?"

        def error(code: str, description: str) -> Response:
            params = {"error": code, "error_description": description, **({"state": state} if state else {}), "iss": self.issuer}
            return Response(302, b"", {"Location": f"{redirect_uri}{sep}{urlencode(params)}"})

        if response_type not in RESPONSE_TYPES:
            return error("unsupported_response_type", f"only {' or '.join(RESPONSE_TYPES)}")
        if response_type not in client.response_types:
            return error("unauthorized_client", f"{response_type} is not registered for this client (OIDC Registration §2)")
        if response_type == "code id_token" and not q.get("nonce"):
            return error("invalid_request", "the hybrid flow requires a nonce (OIDC Core §3.3.2.11)")
        if "openid" not in q.get("scope", "").split():
            return error("invalid_scope", "an OpenID request has scope openid (Core §3.1.2.1)")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return error("invalid_request", "PKCE with S256 is required (RFC 7636 §4.3)")
        now = self.clock.now()
        max_age = q.get("max_age")
        if (
            self.user_auth_time is None
            or (max_age is not None and max_age.isdigit() and now - self.user_auth_time > int(max_age))
            or q.get("prompt") == "login"
        ):
            self.user_auth_time = now  # Core §3.1.2.1: re-authenticate (here: approve the demo user)
        code = self.ids.token(32)
        self.db.execute(
            "INSERT INTO codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (
                code,
                client.client_id,
                redirect_uri,
                q.get("nonce"),
                q["code_challenge"],
                DEMO_SUBJECT,
                self.user_auth_time,
                DEMO_ACR,
                q["scope"],
                now + self.code_lifetime,
            ),
        )
        params = {"code": code, **({"state": state} if state else {})}
        if response_type == "code id_token":
            # The front-channel ID token: a detached signature over the response (c_hash, s_hash).
            params["id_token"] = self.issue_id_token(
                client.client_id, nonce=q.get("nonce"), auth_time=self.user_auth_time, code=code, state=state
            )
        params["iss"] = self.issuer  # RFC 9207 §2: who answered, so a client of several OPs can tell
        return Response(302, b"", {"Location": f"{redirect_uri}{sep}{urlencode(params)}", "Cache-Control": "no-store"})

    def _token(self, req: Request) -> Response:
        """RFC 6749 §4.1.3 and §3.2.1 (client authentication), RFC 7636 §4.6 (PKCE), Core §3.1.3.3."""

        def error(status: int, code: str, description: str) -> Response:
            headers = {"WWW-Authenticate": 'Basic realm="token"'} if status == 401 else None
            return json_response(status, {"error": code, "error_description": description}, headers)

        form = req.form()
        if form.get("grant_type") != "authorization_code":
            return error(400, "unsupported_grant_type", "only authorization_code")
        client_id = form.get("client_id")
        secret = None
        auth = req.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(auth[6:], validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return error(401, "invalid_client", "malformed Basic credentials")
            client_id = user
        client = self.clients.get(client_id or "")
        if client is None:
            return error(401, "invalid_client", "unknown client")
        if client.client_secret is not None:
            if secret is None or not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
                return error(401, "invalid_client", "client authentication failed (client_secret_basic)")
        code = form.get("code", "")
        rows = self.db.execute("SELECT * FROM codes WHERE code = ?", (code,))
        if not rows:
            return error(400, "invalid_grant", "unknown code")
        _, code_client, redirect_uri, nonce, challenge, sub, auth_time, acr, scope, expires_at, _used = rows[0]
        # One use only, atomically (RFC 6749 §4.1.2); a second use is refused.
        if self.db.execute_count("UPDATE codes SET used = 1 WHERE code = ? AND used = 0", (code,)) != 1:
            return error(400, "invalid_grant", "code already used")
        if code_client != client.client_id:
            return error(400, "invalid_grant", "code was issued to another client")
        if form.get("redirect_uri") != redirect_uri:
            return error(400, "invalid_grant", "redirect_uri differs from the authorization request (RFC 6749 §4.1.3)")
        if self.clock.now() >= expires_at:
            return error(400, "invalid_grant", "code expired")
        verifier = form.get("code_verifier", "")
        if not (43 <= len(verifier) <= 128) or not hmac.compare_digest(pkce_challenge(verifier), challenge):
            return error(400, "invalid_grant", "code_verifier does not match code_challenge (RFC 7636 §4.6)")
        access_token = self.issue_access_token(client.client_id, sub, scope)
        id_token = self.issue_id_token(
            client.client_id, nonce=nonce, sub=sub, auth_time=auth_time, acr=acr, access_token=access_token, code=code
        )
        return json_response(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": self.access_token_lifetime,
                "scope": scope,
                "id_token": id_token,
            },
        )

    def __repr__(self) -> str:
        return f"<OpenIDProvider {self.issuer} ({len(self.clients)} clients)>"


# -- the client-side validator --------------------------------------------------------------------
class IdTokenValidator:
    """The client's validation of an ID token: OIDC Core §3.1.3.7 steps 1-13, then ``at_hash`` and
    ``c_hash``. One validator per client registration.

    * ``issuer``: the OP's Issuer Identifier from discovery (step 2, exact match);
    * ``client_id``, ``trusted_audiences`` (step 3: any other audience is refused);
    * ``keys``: the OP's published keys (step 6); ``client_secret`` for HS* (step 8);
    * ``id_token_signed_response_alg``: the registered alg, RS256 by default (step 7); ``algorithms``
      is the allowlist the JWS layer applies first (RFC 8725 §3.1), the registered alg by default;
    * ``decryption_key`` with ``encryption_alg`` and ``encryption_enc`` when the client registered
      for encrypted ID tokens (step 1);
    * ``nonce_store`` remembers nonces (step 11, replay); ``iat_window`` (step 10) bounds how long;
    * ``max_lifetime`` bounds ``exp - iat`` (a policy, with step 10: an ID token is short-lived, and
      one that claims to live for years is refused);
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
        keys: jwk.JWKSet,
        clock: Clock,
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
        max_lifetime: int = 3600,
        require_hashes: bool = False,
        binding: KeyBinding | None = None,
        require_s_hash: bool = False,
    ) -> None:
        if (decryption_key is None) != (encryption_alg is None) or (encryption_alg is None) != (encryption_enc is None):
            raise JoselabError("decryption_key, encryption_alg and encryption_enc go together (step 1)")
        self.issuer = issuer
        self.client_id = client_id
        self.keys = keys
        self.clock = clock
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
            parsed = verify_jws(
                trace,
                jws_token,
                self._key_for,
                self.algorithms,
                signature_section=STEP.format(6),
                check_header=lambda p: self._before_signature(trace, p),
                binding=self.binding,
            )
            claims = parsed.claims()
            alg = parsed.header["alg"]
            owner = hashlib.sha256(str(code).encode("utf-8", "replace")).hexdigest() if hybrid and code else ""
            self._steps_7_to_13(trace, alg, claims, nonce=nonce, max_age=max_age, acr_values=acr_values, owner=owner)
            crv = None if alg.startswith("HS") else self._key_for(parsed.header).get("crv")
            self._hashes(trace, alg, crv, claims, access_token=access_token, code=code, state=state, front_channel=front_channel)
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
        section = STEP.format(1)
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
    def _before_signature(self, trace: Trace, parsed: CompactJWS) -> None:
        typ = parsed.header.get("typ")
        trace.check(
            "RFC 8725 §3.11",
            "typ absent or JWT (not an access token or another kind of JWT)",
            "typ" not in parsed.header or (isinstance(typ, str) and normalise_typ(typ) == "jwt"),  # typ: null is not absent
            f"typ = {as_evidence(typ)}",
            InvalidType,
        )
        claims = parsed.claims()
        required = ("iss", "sub", "aud", "exp", "iat")
        missing = [n for n in required if n not in claims]
        trace.check(
            "OIDC Core §2",
            "required claims present: " + ", ".join(required),
            not missing,
            f"missing {missing}" if missing else "all present",
            MissingClaim,
        )
        sub = claims["sub"]
        trace.check(
            "OIDC Core §2",
            "sub is a string of 1-255 ASCII characters",
            isinstance(sub, str) and 0 < len(sub) <= 255 and sub.isascii(),
            f"sub = {as_evidence(sub)}",
            InvalidClaim,
        )
        check_issuer(trace, claims, self.issuer, STEP.format(2))
        check_audience(trace, claims, self.client_id, STEP.format(3), trusted=self.trusted_audiences)
        # Steps 4-5 as errata set 2 rewrote them: azp matters only under an extension that defines it
        # (joselab uses none, so only its form is checked, OIDC Core §2), and step 5's "MAY": when azp is there,
        # it must be this client. The pre-errata rule "several audiences: azp SHOULD be present" is gone.
        if "azp" not in claims:
            trace.check(STEP.format(4), "azp absent (no extension in use defines it)", True, "absent")
            return
        azp = claims["azp"]
        trace.check(
            STEP.format(4),
            "azp is a StringOrURI (no extension in use defines more)",
            isinstance(azp, str) and bool(azp),
            f"azp = {as_evidence(azp)}",
            InvalidClaim,
        )
        trace.check(
            STEP.format(5),
            f"azp equals the client_id {as_evidence(self.client_id)}",
            azp == self.client_id,
            f"azp = {as_evidence(azp)}",
            InvalidAudience,
        )

    def _key_for(self, header: Mapping[str, Any]) -> jwk.JWK | None:
        """Step 6 uses the Issuer's keys; step 8 says an HS* MAC key is the client_secret."""
        alg = header.get("alg")
        if isinstance(alg, str) and alg.startswith("HS"):
            if not self.client_secret:
                raise KeyNotFound("HS* key is the client_secret", STEP.format(8), "this client has no client_secret")
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
            STEP.format(7),
            f"alg is the registered id_token_signed_response_alg {self.registered_alg}",
            alg == self.registered_alg,
            f"alg = {alg}",
            AlgorithmNotAllowed,
        )
        if alg.startswith("HS"):
            auds = audiences(claims) or []
            # "the behavior is unspecified if the aud is multi-valued": refuse rather than guess.
            trace.check(
                STEP.format(8),
                "MAC key was the UTF-8 client_secret of the one client in aud",
                len(auds) == 1 and auds[0] == self.client_id,
                f"aud has {len(auds)} values",
                InvalidAudience,
            )
        else:
            trace.check(STEP.format(8), "not a MAC alg: the Issuer's published key was used", True, f"alg = {alg}")
        check_expiry(trace, claims, self.clock, self.leeway, STEP.format(9))
        if "nbf" in claims:
            # Core defines no nbf for ID tokens, but a JWT that carries one "MUST NOT be accepted"
            # before it (RFC 7519 §4.1.5); without this row a future-dated token passed.
            check_not_before(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.5")
        check_issued_at(
            trace, claims, self.clock, self.leeway, STEP.format(10), max_age=self.iat_window, max_lifetime=self.max_lifetime
        )
        self._step11(trace, claims, nonce, owner)
        section = STEP.format(12)
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
            trace.check(section, "acr not requested: nothing to check", True, f"acr = {as_evidence(claims.get('acr'))}")
        section = STEP.format(13)
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
        section = STEP.format(11)
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


# -- the client (relying party) -------------------------------------------------------------------
@dataclass(frozen=True)
class AuthorizationRequest:
    """One authentication request (Core §3.1.2.1) and the secrets the client keeps for it."""

    url: str
    state: str
    nonce: str
    code_verifier: str
    max_age: int | None = None
    acr_values: tuple[str, ...] | None = None
    response_type: str = "code"
    #: Where the request went: the OP's issuer, and the redirect URI registered there.
    issuer: str = ""
    redirect_uri: str = ""

    @property
    def hybrid(self) -> bool:
        return self.response_type == "code id_token"


@dataclass(frozen=True)
class AuthorizationResponse:
    """The authorization response the client accepted (OIDC Core §3.1.2.5, §3.3.2.5): the code, the
    front-channel ID token of the hybrid flow (None in the code flow), ``iss`` (RFC 9207) and the
    request it answers."""

    code: str
    state: str
    iss: str | None
    id_token: str | None
    request: AuthorizationRequest


@dataclass(frozen=True)
class TokenResponse:
    """A successful token response (RFC 6749 §5.1, Core §3.1.3.3), and the code it answered."""

    id_token: str
    access_token: str
    token_type: str
    expires_in: int | None
    scope: str | None
    code: str
    request: AuthorizationRequest
    #: The hybrid flow's front-channel ID token (same authentication, same nonce), if any.
    front_id_token: str | None = None


class RelyingParty:
    """A client (relying party) that runs the authorization code flow over real HTTP.

    :meth:`discover` reads the OP's metadata and keys; :meth:`authorization_request` makes ``state``,
    ``nonce`` and a PKCE verifier; :meth:`authorize` sends it and reads the redirect's ``Location``
    (the client plays the browser); :meth:`redeem` posts the code to the token endpoint; and
    :attr:`validator` checks the ID token. Nonces are remembered in a sqlite file (step 11).

    One :class:`RelyingParty` talks to one OP. A client of several OPs keeps one per OP, each with
    its own redirect URI (RFC 9700 §4.4.2.2), and checks the ``iss`` of every authorization response
    (RFC 9207 §2.4; ``check_response_iss``): together they stop mix-up (RFC 9700 §4.4).
    """

    def __init__(
        self,
        network: Network,
        registration: ClientRegistration,
        *,
        issuer: str,
        clock: Clock,
        store_dir: str | Path,
        ids: IdSource | None = None,
        decryption_key: jwk.JWK | None = None,
        trusted_audiences: Collection[str] = (),
        leeway: int = 60,
        check_response_iss: bool = True,
    ) -> None:
        self.check_response_iss = check_response_iss
        self.network = network
        self.registration = registration
        self.client_id = registration.client_id
        self.redirect_uri = registration.redirect_uris[0]
        self.issuer = issuer
        self.clock = clock
        self.ids = ids if ids is not None else DemoIds(7)
        self.decryption_key = decryption_key
        self.trusted_audiences = tuple(trusted_audiences)
        self.leeway = leeway
        safe = "".join(c if c.isalnum() else "_" for c in self.client_id)
        self.db = Database(Path(store_dir) / f"rp-{safe}.sqlite")
        self.nonce_store = ReplayStore(self.db, "seen_nonce")
        self.pending: dict[str, AuthorizationRequest] = {}
        #: Claims of the front-channel ID tokens that passed, by code (hybrid flow, OIDC Core §3.3.3.6).
        self._front_claims: dict[str, Mapping[str, Any]] = {}
        self.metadata: dict[str, Any] | None = None
        self._validator: IdTokenValidator | None = None

    def discover(self) -> dict[str, Any]:
        """Fetch the discovery document and the JWK Set (Discovery §4). The ``issuer`` inside must be
        identical to the issuer asked for (§4.3), or an impostor could name itself."""
        metadata = self.network.get_json(self.issuer + "/.well-known/openid-configuration")
        if not isinstance(metadata, dict) or metadata.get("issuer") != self.issuer:
            got = metadata.get("issuer") if isinstance(metadata, dict) else None
            raise FetchError(f"discovery issuer {got!r} is not {self.issuer!r} (OpenID Connect Discovery §4.3)")
        keys = load_jwks(self.network.get_json(metadata["jwks_uri"]))
        reg = self.registration
        self.metadata = metadata
        self._validator = IdTokenValidator(
            issuer=self.issuer,
            client_id=self.client_id,
            keys=keys,
            clock=self.clock,
            nonce_store=self.nonce_store,
            client_secret=reg.client_secret,
            id_token_signed_response_alg=reg.id_token_signed_response_alg,
            # The allowlist is the one alg this client registered (OIDC Registration §2; RS256 when none
            # was), not all the OP advertises: an OP that signs with several algs never widens it.
            algorithms=[reg.id_token_signed_response_alg],
            require_s_hash=True,
            trusted_audiences=self.trusted_audiences,
            decryption_key=self.decryption_key if reg.encrypted else None,
            encryption_alg=reg.id_token_encrypted_response_alg,
            encryption_enc=reg.id_token_encrypted_response_enc,
            leeway=self.leeway,
        )
        return metadata

    @property
    def validator(self) -> IdTokenValidator:
        if self._validator is None:
            self.discover()
        assert self._validator is not None
        return self._validator

    def authorization_request(
        self,
        *,
        scope: str = "openid accounts",
        max_age: int | None = None,
        acr_values: Sequence[str] | None = None,
        response_type: str = "code",
    ) -> AuthorizationRequest:
        """A fresh request: ``state`` against CSRF (RFC 6749 §10.12), ``nonce`` against ID token
        replay and injection (OIDC Core §3.1.2.1, §15.5.2), PKCE against code interception (RFC 7636).
        ``response_type`` is ``code`` (OIDC Core §3.1) or ``code id_token`` (the hybrid flow, §3.3)."""
        if response_type not in RESPONSE_TYPES:
            raise JoselabError(f"response_type is one of {RESPONSE_TYPES}")
        if self.metadata is None:
            self.discover()
        assert self.metadata is not None
        state, nonce, verifier = self.ids.token(16), self.ids.token(16), self.ids.token(32)
        params = {
            "response_type": response_type,
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
        if max_age is not None:
            params["max_age"] = str(max_age)
        if acr_values:
            params["acr_values"] = " ".join(acr_values)
        url = f"{self.metadata['authorization_endpoint']}?{urlencode(params)}"
        request = AuthorizationRequest(
            url,
            state,
            nonce,
            verifier,
            max_age,
            tuple(acr_values) if acr_values else None,
            response_type,
            self.issuer,
            self.redirect_uri,
        )
        self.pending[state] = request
        return request

    def authorize(self, request: AuthorizationRequest | str) -> str:
        """Send the request (as the browser would), follow redirects between the demo's parties, and
        return the Location that leaves them: the redirect to a client's redirect URI."""
        url = request.url if isinstance(request, AuthorizationRequest) else request
        for _ in range(5):
            resp = self.network.request("GET", url)
            location = resp.headers.get("location")
            if resp.status not in (302, 303) or not location:
                raise FetchError(f"the authorization endpoint answered {resp.status}, not a redirect")
            if _host(location) not in self.network.servers:
                return location
            url = location  # a party redirecting the browser on (as a mix-up attacker does)
        raise FetchError("too many redirects between the demo's parties")

    def receive_response(self, location: str) -> AuthorizationResponse:
        """The authorization response at a redirect URI (OIDC Core §3.1.2.5-7, §3.3.2.5-8; RFC 6749 §4.1.2).

        In order: ``state`` is one this client sent, used once (RFC 6749 §10.12); the response came
        to the redirect URI of the OP that request went to (RFC 9700 §4.4.2.2); its ``iss`` is that
        OP's issuer, and is present when the OP's metadata says it sends one (RFC 9207 §2.4); then
        the error or the code (and, in the hybrid flow, the ID token, from the fragment)."""
        try:
            parts = urlsplit(location)
        except (TypeError, ValueError, AttributeError):
            raise FetchError("the redirect Location is not a URL") from None
        at = f"{parts.scheme}://{parts.netloc}{parts.path}"
        raw = parts.fragment if parts.fragment else parts.query
        values = parse_qs(raw, keep_blank_values=True)
        if any(len(v) != 1 for v in values.values()):
            raise InvalidClaim("each response parameter appears once", "RFC 6749 §3.1", "a parameter is repeated")
        query = {k: v[0] for k, v in values.items()}
        request = self.pending.pop(query.get("state", ""), None)
        if request is None:
            raise InvalidClaim("state is one this client sent", "RFC 6749 §10.12", "unknown or reused state")
        if at != request.redirect_uri:
            raise InvalidIssuer(
                "response arrived at the redirect URI of the OP the request went to",
                "RFC 9700 §4.4.2.2",
                f"arrived at {at}; the request went to {request.issuer}, whose redirect URI is {request.redirect_uri}",
            )
        iss = query.get("iss")
        if self.check_response_iss:
            announced = bool(self.metadata and self.metadata.get("authorization_response_iss_parameter_supported"))
            if iss is None and announced:
                raise InvalidIssuer("iss present (the OP's metadata says it sends one)", "RFC 9207 §2.4", "absent")
            if iss is not None and iss != request.issuer:
                raise InvalidIssuer(
                    "iss is the issuer the request went to",
                    "RFC 9207 §2.4",
                    f"iss = {as_evidence(iss)}; the request went to {request.issuer}",
                )
        if "error" in query:
            raise FetchError(f"the OP refused: {query['error']}: {query.get('error_description', '')}")
        if "code" not in query:
            raise FetchError("the redirect carries no code")
        id_token = query.get("id_token")
        if request.hybrid and id_token is None:
            raise MissingClaim("id_token in the hybrid authorization response", "OIDC Core §3.3.2.5", "absent")
        if request.hybrid != (parts.fragment != ""):
            raise FetchError("the response mode is not the response type's default (OIDC Core §3.3.2.5: fragment)")
        return AuthorizationResponse(query["code"], request.state, iss, id_token, request)

    def receive_redirect(self, location: str) -> tuple[str, AuthorizationRequest]:
        """:meth:`receive_response` for the code flow: the code and the request it answers."""
        response = self.receive_response(location)
        return response.code, response.request

    def validate_front_channel(self, response: AuthorizationResponse, *, strict: bool = False) -> Trace:
        """Validate the hybrid flow's front-channel ID token (OIDC Core §3.3.2.12, §3.2.2.11): every step
        of §3.1.3.7, ``c_hash`` REQUIRED over the code (§3.3.2.10-11), ``s_hash`` over ``state``
        (FAPI 1 Advanced §5.1.1)."""
        if response.id_token is None:
            raise JoselabError("not a hybrid response: no front-channel ID token")
        req = response.request
        trace = self.validator.validate(
            response.id_token,
            nonce=req.nonce,
            code=response.code,
            state=response.state,
            max_age=req.max_age,
            acr_values=req.acr_values,
            front_channel=True,
            strict=strict,
        )
        if trace.ok:
            self._front_claims[response.code] = trace.result
        return trace

    def redeem(self, code: str | AuthorizationResponse, request: AuthorizationRequest | None = None) -> TokenResponse:
        """POST the code with the PKCE verifier to the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5)."""
        assert self.metadata is not None
        front = None
        if isinstance(code, AuthorizationResponse):
            code, request, front = code.code, code.request, code.id_token
        assert request is not None
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": request.code_verifier,
        }
        headers = {}
        if self.registration.client_secret:
            # RFC 6749 §2.3.1: form-encode both, then Basic.
            creds = f"{quote_plus(self.client_id)}:{quote_plus(self.registration.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(creds.encode()).decode("ascii")
        else:
            form["client_id"] = self.client_id
        resp = self.network.post(
            self.metadata["token_endpoint"], urlencode(form).encode("ascii"), "application/x-www-form-urlencoded", headers
        )
        body = resp.json()
        if not isinstance(body, dict):
            raise FetchError(f"token endpoint answered {resp.status} with JSON that is not an object")
        if resp.status != 200:
            raise FetchError(f"token endpoint answered {resp.status}: {body.get('error')}: {body.get('error_description', '')}")
        if not isinstance(body.get("id_token"), str) or not isinstance(body.get("access_token"), str):
            raise FetchError("token response lacks id_token or access_token (Core §3.1.3.3)")
        if str(body.get("token_type", "")).lower() != "bearer":
            raise FetchError(f"token_type {body.get('token_type')!r} is not Bearer (Core §3.1.3.3)")
        return TokenResponse(
            body["id_token"],
            body["access_token"],
            body["token_type"],
            body.get("expires_in"),
            body.get("scope"),
            code,
            request,
            front,
        )

    def validate(self, tokens: TokenResponse, *, strict: bool = False) -> Trace:
        """Validate the ID token of ``tokens`` against the request it answers (OIDC Core §3.1.3.7, §3.1.3.8)."""
        req = tokens.request
        return self.validator.validate(
            tokens.id_token,
            nonce=req.nonce,
            access_token=tokens.access_token,
            code=tokens.code,
            max_age=req.max_age,
            acr_values=req.acr_values,
            hybrid=req.hybrid,
            # Hybrid: the token response's ID token is checked against the front-channel one, which
            # must have passed first (an empty dict makes the OIDC Core §3.3.3.6 row fail if it did not).
            front_claims=self._front_claims.pop(tokens.code, {}) if tokens.front_id_token is not None else None,
            strict=strict,
        )

    def login(self, **request_options: Any) -> tuple[TokenResponse, Trace]:
        """The whole flow: request, redirect, (hybrid: the front-channel ID token, which must pass
        first), token response, validation of its ID token."""
        request = self.authorization_request(**request_options)
        response = self.receive_response(self.authorize(request))
        if response.id_token is not None:
            self.validate_front_channel(response, strict=True)
        tokens = self.redeem(response)
        return tokens, self.validate(tokens)

    def close(self) -> None:
        self.db.close()

    def __repr__(self) -> str:
        return f"<RelyingParty {self.client_id} of {self.issuer}>"
