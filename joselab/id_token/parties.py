"""The demo parties of scenario 3 (OpenID Connect), around the validator of
:mod:`joselab.id_token.validator`.

Both are real:

* :class:`OpenIDProvider`, an OP on 127.0.0.1 with a discovery document (OpenID Connect Discovery 1.0
  §3, §4), a JWK Set, an authorization endpoint that approves a demo user without a login page and
  redirects with ``code`` and ``state`` (Core §3.1.2), and a token endpoint that checks PKCE S256
  (RFC 7636 §4.6) and answers with an ID token (Core §2, §3.1.3.3, §3.1.3.6), signed and, when the
  client registered for it, then encrypted (Core §2, §16.14; a Nested JWT, RFC 7519 §5.2);
* :class:`RelyingParty`, the client that runs the authorization code flow (or the hybrid flow,
  ``code id_token``) with ``state``, ``nonce`` and PKCE, follows the redirect's ``Location`` itself
  (no browser), checks who answered (``iss``, RFC 9207 §2.4), redeems the code and validates.

Production defaults: without ``ids`` both use :class:`~joselab.clock.RandomIds` (``state``, ``nonce``,
PKCE verifiers, codes, ``jti``); without ``signing_keys`` the OP makes fresh keys. The demos pass
:class:`~joselab.clock.DemoIds` and :func:`demo_signing_keys` explicitly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

from jwcrypto import jwk

from ..client_assertion import (
    CLIENT_ASSERTION_TYPE,
    ClientAssertionValidator,
    assertion_form,
    sign_client_assertion,
)
from ..clock import Clock, IdSource, RandomIds
from ..compact import b64url_encode
from ..errors import (
    FetchError,
    InvalidClaim,
    InvalidIssuer,
    JoselabError,
    MissingClaim,
)
from ..jwe import encrypt_compact
from ..jws import sign_compact
from ..keys import DemoKey, as_jwk, demo_key, generate_key, load_jwks, public_jwks
from ..parties.http import LocalServer, Network, Request, Response, json_response
from ..parties.store import Database, ReplayStore
from ..trace import Trace, as_evidence
from .validator import C_HASH_SECTION, S_HASH_SECTION, IdTokenValidator, _secret_key, token_hash

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
#: Response types the OP and the client support: the code flow and the hybrid flow with an ID token.
RESPONSE_TYPES = ("code", "code id_token")
_ENC_ALGS = ("RSA-OAEP-256", "ECDH-ES+A256KW")
_ENC_ENCS = ("A256GCM",)


def pkce_challenge(verifier: str) -> str:
    """``code_challenge`` for method S256: BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2)."""
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


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


def demo_signing_keys() -> dict[str, DemoKey]:
    """The demo OP's keys, one per algorithm: published example keys (:func:`joselab.keys.demo_keys`),
    for reproducible demos only, never for production."""
    return {"RS256": demo_key("rfc7515-a2-rsa"), "PS256": demo_key("rfc7517-a2-rsa"), "Ed25519": demo_key("rfc8037-ed25519")}


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
    #: OIDC Registration §2 ``token_endpoint_auth_method``: None means ``client_secret_basic`` when the
    #: client has a secret, else ``none``; ``private_key_jwt`` (OIDC Core §9) needs ``jwks``.
    token_endpoint_auth_method: str | None = None
    #: The client's registered public keys (OIDC Registration §2 ``jwks``, a JWK Set document): the
    #: keys its ``private_key_jwt`` assertions are verified with.
    jwks: Mapping[str, Any] | None = field(default=None, repr=False)
    #: OIDC Registration §2 ``grant_types``; ``client_credentials`` (RFC 6749 §4.4) needs client authentication.
    grant_types: tuple[str, ...] = ("authorization_code",)

    def __post_init__(self) -> None:
        if self.token_endpoint_auth_method not in (None, "client_secret_basic", "private_key_jwt", "none"):
            raise JoselabError("joselab's OP supports client_secret_basic, private_key_jwt and none")
        if self.token_endpoint_auth_method == "private_key_jwt" and not self.jwks:
            raise JoselabError("private_key_jwt needs the client's public keys (jwks, OIDC Registration §2)")
        if any(g not in ("authorization_code", "client_credentials") for g in self.grant_types):
            raise JoselabError("joselab's OP supports the authorization_code and client_credentials grants")
        if "client_credentials" in self.grant_types and self.auth_method == "none":
            raise JoselabError("client_credentials needs an authenticated client (RFC 6749 §4.4)")
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

    @property
    def auth_method(self) -> str:
        """How this client authenticates at the token endpoint (OIDC Registration §2)."""
        if self.token_endpoint_auth_method is not None:
            return self.token_endpoint_auth_method
        return "client_secret_basic" if self.client_secret else "none"


# -- the OpenID Provider --------------------------------------------------------------------------
class OpenIDProvider:
    """An OpenID Provider over real HTTP on 127.0.0.1, playing ``https://<host><issuer_path>``.

    Routes, under the issuer's path: ``/.well-known/openid-configuration`` (OIDC Discovery §4: appended to
    the issuer, path included), ``/jwks`` (RFC 7517 §5), ``/authorize`` (OIDC Core §3.1.2, §3.3.2:
    approves :data:`DEMO_SUBJECT`, no login page) and ``/token`` (OIDC Core §3.1.3, RFC 6749 §4.1.3,
    RFC 7636 §4.6). Codes live in a sqlite file and are one-time (RFC 6749 §4.1.2).

    Keys: ``signing_keys`` maps each signature algorithm to its own key, so a key serves one
    algorithm (RFC 8725 §3.1); by default a fresh key each for RS256, PS256 and Ed25519 (no demo key
    unless asked for). The demos pass :func:`demo_signing_keys`: RS256 → RFC 7515 Appendix A.2's RSA
    key, PS256 → RFC 7517 Appendix A.2's RSA key, Ed25519 → RFC 8037 Appendix A.1's key (all published
    example keys). The
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
            # No demo key unless asked for (demo_signing_keys()): fresh keys for each algorithm.
            signing_keys = {alg: generate_key(alg) for alg in ("RS256", "PS256", "Ed25519")}
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
        self.ids = ids if ids is not None else RandomIds()  # production default; demos pass DemoIds(3)
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
        #: private_key_jwt (OIDC Core §9): the client assertions' checks, RFC 10070 §4's audience rule,
        #: and their jti values in the same sqlite file as the codes (a restart forgets none).
        self.client_assertion_validator = ClientAssertionValidator(
            issuer=self.issuer,
            client_keys=self._client_keys,
            replay_store=ReplayStore(self.db, "seen_client_assertion"),
            clock=clock,
        )
        #: The trace of the last client assertion the token endpoint checked (for the demo to show).
        self.last_client_assertion: Trace | None = None
        self._client_key_sets: dict[str, jwk.JWKSet] = {}
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
        self._client_key_sets.pop(client.client_id, None)  # a registration replaced: its keys too
        return client

    def _client_keys(self, client_id: str) -> jwk.JWKSet | None:
        """The registered keys of a ``private_key_jwt`` client (its ``jwks``), or None."""
        client = self.clients.get(client_id)
        if client is None or client.auth_method != "private_key_jwt" or not client.jwks:
            return None
        if client_id not in self._client_key_sets:
            self._client_key_sets[client_id] = load_jwks(client.jwks)
        return self._client_key_sets[client_id]

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
            "grant_types_supported": ["authorization_code", "implicit", "client_credentials"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid"],
            "id_token_signing_alg_values_supported": self.signing_algorithms(),
            "id_token_encryption_alg_values_supported": list(_ENC_ALGS),
            "id_token_encryption_enc_values_supported": list(_ENC_ENCS),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": list(self.client_assertion_validator.algorithms),
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
        grant = form.get("grant_type")
        if grant not in ("authorization_code", "client_credentials"):
            return error(400, "unsupported_grant_type", "only authorization_code and client_credentials")
        client = self._authenticate(req, form, error)
        if isinstance(client, Response):
            return client
        if grant == "client_credentials":
            return self._client_credentials(client, form, error)
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

    def _authenticate(self, req: Request, form: Mapping[str, str], error: Any) -> ClientRegistration | Response:
        """Client authentication at the token endpoint (RFC 6749 §3.2.1), one method per request
        (RFC 6749 §2.3): ``private_key_jwt`` (OIDC Core §9: ``client_assertion_type`` and
        ``client_assertion``, RFC 7523 §2.2, checked by :attr:`client_assertion_validator`),
        ``client_secret_basic`` (RFC 6749 §2.3.1) or ``none`` (a public client names itself).
        A client registered for one method is refused with another. Failures are 401
        ``invalid_client`` (RFC 6749 §5.2; RFC 7523 §3.2), naming the failed row's section."""
        auth = req.headers.get("Authorization", "")
        if "client_assertion" in form or "client_assertion_type" in form:
            repeated = parse_qs(req.body.decode("ascii", "replace"), keep_blank_values=True)
            if any(len(repeated.get(name, ())) > 1 for name in ("client_assertion", "client_assertion_type", "client_id")):
                # RFC 6749 §3.2: no parameter more than once; RFC 7523 §2.2: one JWT.
                return error(400, "invalid_request", "a client authentication parameter is repeated (RFC 6749 section 3.2)")
            if auth.startswith("Basic "):
                return error(400, "invalid_request", "more than one client authentication method (RFC 6749 section 2.3)")
            if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
                return error(
                    401, "invalid_client", f"client_assertion_type is not {CLIENT_ASSERTION_TYPE} (RFC 7523 section 2.2)"
                )
            trace = self.client_assertion_validator.validate(form.get("client_assertion", ""), client_id=form.get("client_id"))
            self.last_client_assertion = trace
            if not trace.ok:
                row = trace.failed
                assert row is not None
                return error(401, "invalid_client", _description(f"{row.section}: {row.name} ({row.evidence})"))
            return self.clients[trace.result["sub"]]
        client_id = form.get("client_id")
        secret = None
        if auth.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(auth[6:], validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return error(401, "invalid_client", "malformed Basic credentials")
            client_id = user
        client = self.clients.get(client_id or "")
        if client is None:
            return error(401, "invalid_client", "unknown client")
        if client.auth_method == "private_key_jwt":
            return error(401, "invalid_client", "this client authenticates with private_key_jwt (OIDC Registration section 2)")
        if client.auth_method == "client_secret_basic":
            assert client.client_secret is not None
            if secret is None or not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
                return error(401, "invalid_client", "client authentication failed (client_secret_basic)")
        return client

    def _client_credentials(self, client: ClientRegistration, form: Mapping[str, str], error: Any) -> Response:
        """The client credentials grant (RFC 6749 §4.4): an access token for the authenticated client
        itself (``sub`` is its client_id), for a client registered for that grant; no refresh token
        (RFC 6749 §4.4.3)."""
        if "client_credentials" not in client.grant_types:
            return error(400, "unauthorized_client", "client_credentials is not registered for this client")
        scope = form.get("scope") or "accounts"
        access_token = self.issue_access_token(client.client_id, client.client_id, scope)
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": self.access_token_lifetime, "scope": scope}
        return json_response(200, body)

    def __repr__(self) -> str:
        return f"<OpenIDProvider {self.issuer} ({len(self.clients)} clients)>"


def _description(text: str) -> str:
    """An ``error_description`` in the characters RFC 6749 §5.2 allows (printable ASCII without
    quote or backslash): ``§`` is written ``section``."""
    text = text.replace("§", "section ").replace('"', "'").replace("\\", "/")
    return "".join(c for c in text if 0x20 <= ord(c) <= 0x7E)


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
        token_endpoint_auth_method: str | None = None,
        client_key: DemoKey | jwk.JWK | None = None,
        client_key_alg: str = "PS256",
    ) -> None:
        self.check_response_iss = check_response_iss
        #: How the client authenticates at the token endpoint: the registered method unless given.
        #: ``private_key_jwt`` (OIDC Core §9) signs an assertion with ``client_key`` (``client_key_alg``)
        #: for every token request; its ``aud`` is the issuer identifier (RFC 10070 §4).
        self.token_endpoint_auth_method = token_endpoint_auth_method or registration.auth_method
        if self.token_endpoint_auth_method == "private_key_jwt" and client_key is None:
            raise JoselabError("private_key_jwt needs the client's private key (client_key)")
        self.client_key = client_key
        self.client_key_alg = client_key_alg
        #: The last client assertion this client sent (for the demo to show).
        self.last_client_assertion: str | None = None
        self.network = network
        self.registration = registration
        self.client_id = registration.client_id
        self.redirect_uri = registration.redirect_uris[0]
        self.issuer = issuer
        self.clock = clock
        self.ids = ids if ids is not None else RandomIds()  # production default; demos pass DemoIds(7)
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
        headers = self._client_authentication(form)
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

    def _client_authentication(self, form: dict[str, str]) -> dict[str, str]:
        """Add this client's authentication to a token request's ``form``; return the headers it needs.

        ``private_key_jwt``: a fresh assertion (OIDC Core §9; RFC 7523 §2.2) whose ``aud`` is the
        issuer identifier this client verified in discovery (RFC 10070 §4; OIDC Discovery §4.3),
        never an endpoint URL from the metadata. ``client_secret_basic``: RFC 6749 §2.3.1."""
        if self.token_endpoint_auth_method == "private_key_jwt":
            assert self.client_key is not None
            assertion = sign_client_assertion(
                self.client_id, self.client_key, audience=self.issuer, alg=self.client_key_alg, clock=self.clock, ids=self.ids
            )
            self.last_client_assertion = assertion
            form.update(assertion_form(assertion))
            return {}
        if self.token_endpoint_auth_method == "client_secret_basic" and self.registration.client_secret:
            # RFC 6749 §2.3.1: form-encode both, then Basic.
            creds = f"{quote_plus(self.client_id)}:{quote_plus(self.registration.client_secret)}"
            return {"Authorization": "Basic " + base64.b64encode(creds.encode()).decode("ascii")}
        form["client_id"] = self.client_id
        return {}

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
