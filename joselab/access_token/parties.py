"""The demo parties of scenario 2 (RFC 9068 access tokens), around the validator of
:mod:`joselab.access_token.validator`, each a real HTTP server on 127.0.0.1 (:mod:`joselab.parties`):

* :class:`AuthorizationServer` (``https://as.bank.example``) mints RFC 9068 access tokens
  (``typ: at+jwt``, RS256 with a ``kid``), publishes RFC 8414 metadata at
  ``/.well-known/oauth-authorization-server`` (``issuer``, ``jwks_uri``, ``introspection_endpoint``)
  and its JWK Set at ``/jwks``, keeps the tokens it issued and a revocation list in sqlite, and
  answers RFC 7662 introspection at ``/introspect`` (``client_secret_basic``, RFC 7662 §2.1).
* :class:`JwksCache` is the resource server's view of the AS's keys: metadata, then the JWK Set,
  fetched over HTTP and cached. An unknown ``kid`` fetches the set again, at most once per
  ``min_refetch_interval`` (OIDC Core §10.1.1 describes this rotation: the signer adds the new key to
  its set and starts using it; verifiers fetch the set when they meet a ``kid`` they do not know).
  The rate limit is what keeps a stream of tokens with made-up ``kid`` values from turning every API
  call into a JWKS fetch against the AS.
* :class:`ResourceApi` (``https://api.bank.example``) uses the validator on each request and answers
  as RFC 6750 §3 says: 401 ``invalid_token``, 403 ``insufficient_scope``, 200 otherwise.
* :class:`IntrospectionClient` is the other way to check a token: ask the AS (RFC 7662).

With ``build_demo(..., mtls=True)`` the AS and the API speak real TLS, and ask every client for a
certificate from the demo's CA (:class:`~joselab.parties.tls.DemoCA`, made at run time; the directory
plays the CA that issues the participants' transport certificates). The AS then has a token endpoint
(``POST /token``) that authenticates the client by its certificate (``tls_client_auth``, the PKI
method of RFC 8705 §2.1) and binds each access token it issues to that certificate
(``cnf: {"x5t#S256": ...}``, RFC 8705 §3.1); the API takes the client certificate of each connection
and hands its thumbprint to the validator (RFC 8705 §3), so a token replayed over another
connection gets 401 ``invalid_token`` at the binding row.

:func:`build_demo` wires them with the demo clock, identifiers and the published RFC 7515 A.2 key;
without those arguments the parties use production defaults (:class:`~joselab.clock.RandomIds`,
a fresh key), never a demo key.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from cryptography import x509
from jwcrypto import jwk

from .. import cast
from ..clock import Clock, IdSource, RandomIds
from ..cnf import Presented, certificate_thumbprint
from ..errors import (
    FetchError,
    InsufficientScope,
    JoselabError,
    KeyNotFound,
    KeySetError,
)
from ..jws import sign_compact
from ..keys import DemoKey, as_jwk, demo_key, generate_key, load_jwks
from ..parties import Database, LocalServer, Network, Request, Response, json_response
from ..parties.tls import DemoCA, TlsIdentity
from ..trace import Trace
from .validator import AccessTokenValidator

AS_HOST = cast.AS_HOST
API_HOST = cast.API_HOST
METADATA_PATH = "/.well-known/oauth-authorization-server"  # RFC 8414 §3
JWKS_PATH = "/jwks"
INTROSPECTION_PATH = "/introspect"
TOKEN_PATH = "/token"  # served only with mutual TLS (AuthorizationServer.enable_mtls)
#: RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is RECOMMENDED."
CODE_LIFETIME = 600


# ------------------------------------------------------------------------------------------------
# The resource server's key cache
# ------------------------------------------------------------------------------------------------
def metadata_url(issuer: str) -> str:
    """Where RFC 8414 §3.1 puts the metadata of ``issuer``: the well-known suffix goes between the
    host and the issuer's path (``https://h/t`` → ``https://h/.well-known/oauth-authorization-server/t``)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{METADATA_PATH}{path}"


class JwksCache:
    """The AS's published keys as the resource server sees them: a key source for the validator.

    The first lookup fetches the RFC 8414 metadata (its ``issuer`` must equal the one asked for,
    RFC 8414 §3.3), then the JWK Set at its ``jwks_uri`` (hygiene-checked by
    :func:`joselab.keys.load_jwks`). Later lookups use the cache. A ``kid`` not in the cache fetches
    the set again, but only if the last fetch is at least ``min_refetch_interval`` seconds old
    (on ``clock``); otherwise the lookup fails at once. After ``max_age`` seconds the set is fetched
    again on the next lookup, so a key the AS has retired stops being trusted.

    ``fetches`` counts the JWK Set fetches, and ``log`` says why each happened.
    """

    def __init__(
        self,
        network: Network,
        issuer: str,
        *,
        clock: Clock,
        min_refetch_interval: int = 60,
        max_age: int = 600,
    ) -> None:
        self.network = network
        self.issuer = issuer
        self.clock = clock
        self.min_refetch_interval = min_refetch_interval
        self.max_age = max_age
        self.metadata: dict[str, Any] | None = None
        self.keyset: jwk.JWKSet | None = None
        self.fetched_at: int | None = None
        self.fetches = 0
        self.log: list[str] = []
        self._kids: list[str] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<JwksCache {self.issuer}: {len(self.kids)} keys, {self.fetches} fetches>"

    @property
    def kids(self) -> list[str]:
        """The cached keys' ``kid`` values, in the order the AS published them."""
        return list(self._kids)

    def _load_metadata(self) -> dict[str, Any]:
        if self.metadata is None:
            doc = self.network.get_json(metadata_url(self.issuer))
            if not isinstance(doc, dict) or doc.get("issuer") != self.issuer:
                got = doc.get("issuer") if isinstance(doc, dict) else None
                raise FetchError(f"metadata issuer {got!r} is not {self.issuer!r} (RFC 8414 §3.3)")
            jwks_uri = doc.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
                raise FetchError("metadata has no https jwks_uri (RFC 8414 §2)")
            self.metadata = doc
        return self.metadata

    def refresh(self, reason: str = "refresh") -> jwk.JWKSet:
        """Fetch the JWK Set now (and the metadata, the first time)."""
        with self._lock:
            return self._refresh(reason)

    def _refresh(self, reason: str) -> jwk.JWKSet:
        # The attempt counts for the rate limit even if it fails: a failing AS is not hammered either.
        self.fetched_at = self.clock.now()
        self.fetches += 1
        self.log.append(reason)
        metadata = self._load_metadata()
        document = self.network.get_json(metadata["jwks_uri"])
        self.keyset = load_jwks(document)
        # jwcrypto keeps a set (no order); remember the document's order for display.
        self._kids = [entry.get("kid") for entry in document["keys"]]
        return self.keyset

    def _find(self, kid: str | None) -> jwk.JWK | None:
        keys = list(self.keyset["keys"]) if self.keyset is not None else []
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((k for k in keys if k.get("kid") == kid), None)

    def __call__(self, header: Mapping[str, Any]) -> jwk.JWK:
        kid = header.get("kid")
        with self._lock:
            now = self.clock.now()
            if self.keyset is None:
                if self.fetched_at is not None and now - self.fetched_at < self.min_refetch_interval:
                    raise KeyNotFound(
                        "kid names a trusted key", "RFC 7515 §4.1.4", "no JWK Set yet; the last fetch failed, retry later"
                    )
                self._refresh("first use")
            elif self.fetched_at is not None and now - self.fetched_at >= self.max_age:
                self._refresh_quietly(f"cache older than {self.max_age}s")
            key = self._find(kid)
            if key is not None:
                return key
            since = now - (self.fetched_at or 0)
            if since < self.min_refetch_interval:
                raise KeyNotFound(
                    "kid names a trusted key",
                    "RFC 7515 §4.1.4",
                    f"kid = {kid!r} unknown; not refetched, last fetch {since}s ago (min {self.min_refetch_interval}s)",
                )
            self._refresh_quietly(f"unknown kid {kid!r}")
            key = self._find(kid)
            if key is None:
                raise KeyNotFound(
                    "kid names a trusted key", "RFC 7515 §4.1.4", f"kid = {kid!r} unknown, also after refetching the JWK Set"
                )
            return key

    def _refresh_quietly(self, reason: str) -> None:
        # Keep the keys we have if the AS cannot be reached: an outage must not reject valid tokens.
        try:
            self._refresh(reason)
        except JoselabError:
            pass


# ------------------------------------------------------------------------------------------------
# The authorization server
# ------------------------------------------------------------------------------------------------
class AuthorizationServer:
    """The demo AS at ``https://as.bank.example``: it mints RFC 9068 access tokens and publishes what
    resource servers need to check them.

    Routes: ``GET /.well-known/oauth-authorization-server`` (RFC 8414 §3), ``GET /jwks`` (RFC 7517
    §5), ``POST /introspect`` (RFC 7662 §2, authenticated with ``client_secret_basic``). An issuer
    may have a path (``issuer_path="/tenant1"``: ``https://as.bank.example/tenant1``): the metadata
    is then at ``/.well-known/oauth-authorization-server/tenant1`` (RFC 8414 §3 inserts the
    well-known suffix before the path) and the other routes under the path. Every
    token it issues is stored (by its SHA-256) in the sqlite file ``db_path`` with a revoked flag;
    :meth:`revoke` sets it (RFC 7009 defines an endpoint for that; here it is a method).

    The demo mints tokens by a method call, not through an authorization or token endpoint, so its
    metadata leaves out ``authorization_endpoint``, ``token_endpoint`` and
    ``response_types_supported``, which a complete AS publishes (RFC 8414 §2).
    With :meth:`enable_mtls` it also serves a token endpoint over mutual TLS (authorization codes from
    :meth:`authorize`, clients registered with :meth:`register_tls_client`) and publishes it.

    Keys: it signs with ``key`` (default a fresh key for ``alg``: no demo key unless asked for;
    :func:`build_demo` passes the published RFC 7515 A.2 RSA key, for deterministic signatures). :meth:`rotate_key` publishes a new key next to the old one and signs with it from
    then on; :meth:`retire_key` removes a key from the published set. Every key serves the one
    ``alg`` the AS signs with, and every published key carries that ``alg`` and ``use: sig``, so a
    verifier ties each key to one algorithm (RFC 8725 §3.1). RFC 8414 has no metadata member for the
    access tokens' signing algorithm (RFC 9068 defines none either), so the JWK Set's ``alg`` is
    where a resource server learns it.
    """

    def __init__(
        self,
        network: Network,
        *,
        clock: Clock,
        ids: IdSource | None = None,
        db_path: str | Path,
        host: str = AS_HOST,
        issuer_path: str = "",
        key: DemoKey | jwk.JWK | None = None,
        alg: str = "RS256",
        lifetime: int = 300,
    ) -> None:
        if issuer_path and (
            not issuer_path.startswith("/") or issuer_path.endswith("/") or "?" in issuer_path or "#" in issuer_path
        ):
            raise KeySetError(
                "issuer_path starts with / and has no query or fragment (RFC 8414 §2), nor a trailing / (joselab policy)"
            )
        self.path = issuer_path
        self.server = LocalServer(host, network)
        self.clock = clock
        self.ids = ids if ids is not None else RandomIds()  # production default: unpredictable jti
        self.alg = alg
        self.lifetime = lifetime
        first = _as_jwk(key if key is not None else generate_key(alg))  # no demo key unless asked for
        self._keys: dict[str, jwk.JWK] = {first["kid"]: first}
        self._signing_kid: str = first["kid"]
        self._clients: dict[str, str] = {}
        self._tls_clients: dict[str, x509.Name] = {}
        self.mtls = False
        self.db = Database(db_path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS issued (token_sha256 TEXT PRIMARY KEY, jti TEXT NOT NULL, claims TEXT NOT NULL,"
            " exp INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"
        )
        # The authorization codes of both token endpoints (mutual TLS here, DPoP in joselab.dpop).
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS codes (code_sha256 TEXT PRIMARY KEY, client_id TEXT NOT NULL, grant TEXT NOT NULL,"
            " exp INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0)"
        )
        # RFC 8414 §3 (example in §3.1): the well-known suffix goes between the host and the issuer's path.
        self.server.serve_json(METADATA_PATH + issuer_path, self.metadata)
        self.server.serve_json(issuer_path + JWKS_PATH, self.jwks)
        self.server.route("POST", issuer_path + INTROSPECTION_PATH)(self._introspection_endpoint)
        #: Metadata members an endpoint added to this AS publishes (a DPoP token endpoint adds
        #: ``token_endpoint`` and ``dpop_signing_alg_values_supported``, RFC 9449 §5.1).
        self.extra_metadata: dict[str, Any] = {}

    # -- published documents ----------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return self.server.url(self.path)

    @property
    def signing_kid(self) -> str:
        return self._signing_kid

    def metadata(self) -> dict[str, Any]:
        """RFC 8414 §2 metadata: what a resource server needs to validate tokens locally or remotely."""
        return {
            "issuer": self.issuer,
            "jwks_uri": self.server.url(self.path + JWKS_PATH),
            "introspection_endpoint": self.server.url(self.path + INTROSPECTION_PATH),
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
            "scopes_supported": ["accounts", "transactions"],
            **(self._mtls_metadata() if self.mtls else {}),
            **self.extra_metadata,
        }

    def _mtls_metadata(self) -> dict[str, Any]:
        # RFC 8414 §2 token endpoint members; RFC 8705 §3.3: this AS binds tokens to certificates.
        return {
            "token_endpoint": self.server.url(self.path + TOKEN_PATH),
            "token_endpoint_auth_methods_supported": ["tls_client_auth"],
            "grant_types_supported": ["authorization_code"],
            "tls_client_certificate_bound_access_tokens": True,
        }

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 §5): public halves only, each tied to ``alg`` and ``use``."""
        return {"keys": [{**k.export_public(as_dict=True), "use": "sig", "alg": self.alg} for k in self._keys.values()]}

    # -- keys ---------------------------------------------------------------------------------------
    def rotate_key(self, key: DemoKey | jwk.JWK) -> str:
        """Publish ``key`` next to the current ones and sign with it from now on; return its ``kid``."""
        new = _as_jwk(key)
        self._keys[new["kid"]] = new
        self._signing_kid = new["kid"]
        return new["kid"]

    def retire_key(self, kid: str) -> None:
        """Stop publishing ``kid`` (after the last token it signed has expired)."""
        if kid == self._signing_kid:
            raise KeySetError("cannot retire the key the AS signs with; rotate first")
        self._keys.pop(kid, None)

    # -- tokens -------------------------------------------------------------------------------------
    def access_token_claims(
        self,
        *,
        sub: str,
        client_id: str,
        audience: str | list[str],
        scope: str,
        lifetime: int | None = None,
        auth_time: int | None = None,
        acr: str | None = None,
        amr: list[str] | None = None,
        cnf: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The RFC 9068 §2.2 claims set of a new token (``iss exp aud sub client_id iat jti``, then
        ``scope`` (§2.2.3) and the optional §2.2.1 claims); ``cnf`` binds it to a key (RFC 7800 §3.1):
        ``{"jkt": ...}`` for a DPoP key (RFC 9449 §6.1)."""
        now = self.clock.now()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "exp": now + (self.lifetime if lifetime is None else lifetime),
            "aud": audience,
            "sub": sub,
            "client_id": client_id,
            "iat": now,
            "jti": self.ids.uuid4(),
            "scope": scope,
        }
        optional = {"auth_time": auth_time, "acr": acr, "amr": amr, "cnf": dict(cnf) if cnf is not None else None}
        claims.update({k: v for k, v in optional.items() if v is not None})
        return claims

    def issue_access_token(self, **kwargs: Any) -> str:
        """Mint, record and return a JWT access token (RFC 9068 §2): header ``{"alg", "typ": "at+jwt",
        "kid"}`` (§2.1). Takes the keyword arguments of :meth:`access_token_claims`."""
        claims = self.access_token_claims(**kwargs)
        header = {"alg": self.alg, "typ": "at+jwt", "kid": self._signing_kid}
        token = sign_compact(claims, self._keys[self._signing_kid], header)
        self.db.execute(
            "INSERT INTO issued (token_sha256, jti, claims, exp) VALUES (?, ?, ?, ?)",
            (_sha256(token), claims["jti"], json.dumps(claims), claims["exp"]),
        )
        return token

    def revoke(self, token: str) -> bool:
        """Put ``token`` on the revocation list; True if it was one this AS issued."""
        return self.db.execute_count("UPDATE issued SET revoked = 1 WHERE token_sha256 = ?", (_sha256(token),)) == 1

    # -- introspection (RFC 7662) ---------------------------------------------------------------------
    def register_resource_server(self, client_id: str) -> str:
        """Give a protected resource credentials for the introspection endpoint (RFC 7662 §2.1 requires
        the caller to be authorized); return the secret. Demo ids make it reproducible; never print it."""
        secret = self.ids.token(32)
        self._clients[client_id] = secret
        return secret

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662 §2.2: ``{"active": true, ...claims}`` for a token this AS issued that is neither
        revoked nor expired; ``{"active": false}`` and nothing more otherwise. A certificate-bound
        token's ``cnf`` is among its claims, so the response conveys it (RFC 8705 §3.2)."""
        rows = self.db.execute("SELECT claims, exp, revoked FROM issued WHERE token_sha256 = ?", (_sha256(token),))
        if not rows:
            return {"active": False}
        claims_text, exp, revoked = rows[0]
        claims = json.loads(claims_text)
        now = self.clock.now()
        if revoked or now >= exp or now < claims.get("nbf", now):
            return {"active": False}
        # RFC 9449 §6.2: for a DPoP-bound token, token_type (when included) is DPoP.
        token_type = "DPoP" if isinstance(claims.get("cnf"), dict) and "jkt" in claims["cnf"] else "Bearer"
        return {"active": True, "token_type": token_type, **claims}

    def _introspection_endpoint(self, request: Request) -> Response:
        if not self._authenticated(request.headers):
            return json_response(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="introspection"'})
        token = request.form().get("token")
        if not token:
            return json_response(400, {"error": "invalid_request", "error_description": "token parameter missing"})
        return json_response(200, self.introspect(token))

    def _authenticated(self, headers: Mapping[str, str]) -> bool:
        value = _header(headers, "authorization") or ""
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        client_id, sep, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
        expected = self._clients.get(unquote(client_id))
        return bool(sep) and expected is not None and hmac.compare_digest(expected.encode(), unquote(secret).encode())

    # -- mutual TLS: the token endpoint (RFC 8705) ------------------------------------------------------
    def enable_mtls(self, tls: ssl.SSLContext) -> None:
        """Serve over TLS with ``tls`` (a context that requests client certificates, such as
        :meth:`~joselab.parties.tls.DemoCA.mtls_server_context`) and open the token endpoint
        ``POST /token``, whose tokens are bound to the client's certificate (RFC 8705 §3). Call it
        before the server starts."""
        self.server.tls = tls
        self.mtls = True
        self.server.route("POST", self.path + TOKEN_PATH)(self._token_endpoint)

    def register_tls_client(self, client_id: str, subject_dn: str) -> None:
        """Register a client that authenticates with ``tls_client_auth``: the PKI method of RFC 8705
        §2.1, by the one subject DN its certificate must carry (its ``tls_client_auth_subject_dn``)."""
        self._tls_clients[client_id] = x509.Name.from_rfc4514_string(subject_dn)

    def authorize(self, *, sub: str, client_id: str, audience: str | list[str], scope: str) -> str:
        """An authorization code for ``client_id``, standing for what the authorization endpoint
        returns once ``sub`` has consented (RFC 6749 §4.1.2; chapter 3 shows that step). The code is
        kept in sqlite, for :data:`CODE_LIFETIME` seconds and one use."""
        code = self.ids.token(32)
        grant = json.dumps({"sub": sub, "audience": audience, "scope": scope})
        self.db.execute(
            "INSERT INTO codes (code_sha256, client_id, grant, exp) VALUES (?, ?, ?, ?)",
            (_sha256(code), client_id, grant, self.clock.now() + CODE_LIFETIME),
        )
        return code

    def redeem_code(self, code: str, client_id: str) -> dict[str, Any] | None:
        """The grant behind ``code`` (``sub``, ``audience``, ``scope``), once: None when the code is
        unknown, used, expired or another client's (RFC 6749 §4.1.2, §4.1.3)."""
        rows = self.db.execute("SELECT client_id, grant, exp FROM codes WHERE code_sha256 = ?", (_sha256(code),))
        fresh = bool(rows) and rows[0][0] == client_id and self.clock.now() < rows[0][2]
        # RFC 6749 §4.1.2: a code is used once; the UPDATE is the atomic test-and-set.
        if (
            not fresh
            or self.db.execute_count("UPDATE codes SET used = 1 WHERE code_sha256 = ? AND used = 0", (_sha256(code),)) != 1
        ):
            return None
        return json.loads(rows[0][1])

    def _authenticate_tls_client(self, client_id: str, der: bytes | None) -> bool:
        """RFC 8705 §2, §2.1: a certificate was presented in the handshake (the TLS layer verified its
        chain to the CA), and its subject is the one registered for ``client_id``. The names are
        compared attribute by attribute, exact values (RFC 8705 §2.1 asks for a predictable treatment,
        such as distinguishedNameMatch)."""
        expected = self._tls_clients.get(client_id)
        if der is None or expected is None:
            return False
        try:
            subject = x509.load_der_x509_certificate(der).subject
        except ValueError:
            return False
        return subject == expected

    def _token_endpoint(self, request: Request) -> Response:
        form = request.form()
        if form.get("grant_type") != "authorization_code":
            return _token_error("unsupported_grant_type", "RFC 6749 §4.1.3: grant_type is authorization_code")
        client_id = form.get("client_id")
        if not client_id:  # RFC 8705 §2: the client MUST send client_id with mutual-TLS client authentication
            return _token_error("invalid_request", "RFC 8705 §2: client_id is required")
        if not self._authenticate_tls_client(client_id, request.client_certificate):
            return _token_error("invalid_client", "RFC 8705 §2.1: no client certificate, or not the one registered")
        grant = self.redeem_code(form.get("code") or "", client_id)
        if grant is None:
            return _token_error("invalid_grant", "RFC 6749 §4.1.3: the code is unknown, used, expired or not this client's")
        # RFC 8705 §3.1: bind the token to the certificate of this TLS connection.
        bound = {"x5t#S256": certificate_thumbprint(request.client_certificate or b"")}
        token = self.issue_access_token(
            sub=grant["sub"], client_id=client_id, audience=grant["audience"], scope=grant["scope"], cnf=bound
        )
        # RFC 6749 §5.1: the token, its type and lifetime; json_response adds Cache-Control: no-store.
        return json_response(
            200, {"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime, "scope": grant["scope"]}
        )

    def close(self) -> None:
        self.server.stop()
        self.db.close()


def _token_error(error: str, description: str) -> Response:
    """RFC 6749 §5.2: an error response, 400 unless specified otherwise (RFC 8705 §2: ``invalid_client``
    when the certificate does not authenticate the client)."""
    return json_response(400, {"error": error, "error_description": description})


class IntrospectionClient:
    """A resource server asking the AS about a token over HTTP (RFC 7662 §2.1), authenticated with
    HTTP Basic as RFC 6749 §2.3.1 describes."""

    def __init__(self, network: Network, endpoint: str, client_id: str, secret: str) -> None:
        self.network = network
        self.endpoint = endpoint
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
        self._authorization = "Basic " + base64.b64encode(pair).decode("ascii")

    def __repr__(self) -> str:
        return f"<IntrospectionClient {self.endpoint}>"  # never the secret

    def introspect(self, token: str) -> dict[str, Any]:
        body = urlencode({"token": token, "token_type_hint": "access_token"}).encode("ascii")
        resp = self.network.post(
            self.endpoint, body, "application/x-www-form-urlencoded", headers={"Authorization": self._authorization}
        )
        if resp.status != 200:
            raise FetchError(f"introspection answered {resp.status}")
        doc = resp.json()
        if not isinstance(doc, dict) or not isinstance(doc.get("active"), bool):
            raise FetchError('introspection response has no boolean "active" (RFC 7662 §2.2)')
        return doc


# ------------------------------------------------------------------------------------------------
# The API (resource server)
# ------------------------------------------------------------------------------------------------
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # HTTP field names are case-insensitive (RFC 9110 §5.1).
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _quoted_safe(text: str, limit: int = 200) -> str:
    """Text that may go inside an RFC 6750 §3 quoted attribute: only %x20-21 / %x23-5B / %x5D-7E."""
    text = text.replace("§", "section ").replace('"', "'").replace("\\", "/")
    return "".join(c for c in text if c in _QUOTED_SAFE)[:limit]


_QUOTED_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F) if c not in (0x22, 0x5C))


def bearer_challenge(realm: str, error: str | None = None, description: str | None = None, scope: str | None = None) -> str:
    """A ``WWW-Authenticate`` value for the Bearer scheme (RFC 6750 §3)."""
    params = [f'realm="{_quoted_safe(realm)}"']
    if error:
        params.append(f'error="{error}"')
    if description:
        params.append(f'error_description="{_quoted_safe(description)}"')
    if scope:
        params.append(f'scope="{_quoted_safe(scope)}"')
    return "Bearer " + ", ".join(params)


@dataclass(frozen=True)
class Endpoint:
    """One protected resource: its path and the scope a token needs for it."""

    path: str
    scope: str
    answer: Callable[[Mapping[str, Any]], Any]


def _accounts(claims: Mapping[str, Any]) -> Any:
    return {"sub": claims["sub"], "accounts": [{"id": "acc-001", "currency": "EUR"}]}


def _transactions(claims: Mapping[str, Any]) -> Any:
    return {"sub": claims["sub"], "transactions": [{"id": "tx-001", "amount": "12.50", "currency": "EUR"}]}


DEFAULT_ENDPOINTS = (Endpoint("/accounts", "accounts", _accounts), Endpoint("/transactions", "transactions", _transactions))


class ResourceApi:
    """The bank's API at ``https://api.bank.example``; each endpoint validates the bearer token locally.

    Answers (RFC 6750 §3, §3.1):

    * no ``Authorization: Bearer`` credentials: 401 with ``WWW-Authenticate: Bearer realm=...`` and
      no error code (§3.1: the client may not know authentication is needed);
    * a ``Bearer`` value that is not an RFC 6750 §2.1 ``b64token``: 400 ``invalid_request``;
    * a token that fails a check: 401 ``error="invalid_token"`` with ``error_description`` naming the
      check and its section; that includes a certificate-bound token over a connection with another
      client certificate or none (RFC 8705 §3), which the API reads from each TLS connection;
    * a valid token without the endpoint's scope: 403 ``error="insufficient_scope"`` with ``scope``;
    * otherwise 200 with the resource.

    ``last_trace`` keeps the most recent validation, for display.
    """

    def __init__(
        self, network: Network, validator: AccessTokenValidator, *, host: str = API_HOST, endpoints=DEFAULT_ENDPOINTS
    ) -> None:
        self.server = LocalServer(host, network)
        self.validator = validator
        self.last_trace: Trace | None = None
        for endpoint in endpoints:
            self.server.route("GET", endpoint.path)(self._handler(endpoint))

    @property
    def audience(self) -> str:
        return self.server.url("")

    def _handler(self, endpoint: Endpoint) -> Callable[[Request], Response]:
        def handle(request: Request) -> Response:
            return self.handle(request, endpoint)

        return handle

    def handle(self, request: Request, endpoint: Endpoint) -> Response:
        realm = self.server.host
        scheme, _, token = (_header(request.headers, "authorization") or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return json_response(
                401, {"message": "a Bearer access token is required"}, {"WWW-Authenticate": bearer_challenge(realm)}
            )
        if not _B64TOKEN.fullmatch(token):
            description = "RFC 6750 §2.1: the Bearer credentials are a b64token"
            return json_response(
                400,
                {"error": "invalid_request", "error_description": description},
                {"WWW-Authenticate": bearer_challenge(realm, "invalid_request", description)},
            )
        # RFC 8705 §3: the client certificate of this connection, from the TLS layer (None: plain HTTP,
        # or the client sent none); the validator compares it with a certificate-bound token's cnf.
        der = request.client_certificate
        presented = Presented("Bearer", certificate_thumbprint(der) if der else None)
        trace = self.validator.validate(token, required_scope=endpoint.scope, presented=presented)
        self.last_trace = trace
        error = trace.error
        if error is None:
            return json_response(200, endpoint.answer(trace.result))
        description = f"{error.section}: {error.check}"
        if isinstance(error, InsufficientScope):
            challenge = bearer_challenge(realm, "insufficient_scope", description, endpoint.scope)
            return json_response(
                403, {"error": "insufficient_scope", "error_description": description}, {"WWW-Authenticate": challenge}
            )
        challenge = bearer_challenge(realm, "invalid_token", description)
        return json_response(401, {"error": "invalid_token", "error_description": description}, {"WWW-Authenticate": challenge})


# ------------------------------------------------------------------------------------------------
# The whole scenario, wired
# ------------------------------------------------------------------------------------------------
@dataclass
class AccessTokenDemo:
    """Every party of scenario 2 on one :class:`~joselab.parties.Network`."""

    network: Network
    authorization_server: AuthorizationServer
    cache: JwksCache
    validator: AccessTokenValidator
    api: ResourceApi
    introspection: IntrospectionClient
    #: With ``mtls=True``: the CA of the transport certificates, and two clients' certificates (the
    #: TPP's, registered at the AS; Mallory's, from the same CA, registered nowhere).
    ca: DemoCA | None = None
    tpp: TlsIdentity | None = None
    mallory: TlsIdentity | None = None

    def call(self, path: str, token: str | None, *, identity: TlsIdentity | None = None) -> tuple[int, dict[str, str], Any]:
        """GET ``https://api.bank.example<path>`` with ``Authorization: Bearer <token>``, over a TLS
        connection that presents ``identity``'s certificate (with ``mtls``); return the status, the
        ``WWW-Authenticate`` header (if any) and the JSON body."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        resp = self.network.request("GET", self.api.server.url(path), headers=headers, identity=identity)
        return resp.status, resp.headers.get("www-authenticate", ""), resp.json()

    def token_request(self, code: str, *, client_id: str, identity: TlsIdentity | None) -> tuple[int, Any]:
        """POST the authorization code to the AS's token endpoint (RFC 6749 §4.1.3) over mutual TLS
        with ``identity``'s certificate; return the status and the JSON body."""
        body = urlencode({"grant_type": "authorization_code", "code": code, "client_id": client_id}).encode("ascii")
        url = self.authorization_server.metadata()["token_endpoint"]
        resp = self.network.request(
            "POST", url, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, identity=identity
        )
        return resp.status, resp.json()

    def close(self) -> None:
        self.network.close()
        self.authorization_server.db.close()


#: The demo's transport certificates (``mtls=True``): the TPP's subject is what the AS registers for
#: ``tls_client_auth`` (RFC 8705 §2.1); Mallory's comes from the same CA.
TPP_CLIENT_ID = cast.CLIENT_ID
TPP_SUBJECT = "CN=sw-budget-buddy-01,O=Hobbiton Fintech Ltd,C=GB"
MALLORY_SUBJECT = "CN=mallory,O=evil.example"


def build_demo(
    db_dir: str | Path,
    *,
    clock: Clock,
    ids: IdSource,
    min_refetch_interval: int = 60,
    max_age: int = 600,
    mtls: bool = False,
) -> AccessTokenDemo:
    """Start the AS and the API of the cast (:mod:`joselab.cast`) on loopback and wire the API's
    validator to the AS's published keys. The AS signs with the cast's RS256 key; the client it
    issues tokens to is :data:`joselab.cast.CLIENT_ID`, for :data:`joselab.cast.USER_SUB`.

    With ``mtls``, both speak TLS with certificates from a :class:`~joselab.parties.tls.DemoCA` made
    now, seeded so that its certificates (and their thumbprints) are the same on every run, and ask
    clients for certificates; the AS opens its token endpoint (RFC 8705 §2.1, §3)."""
    ca = (
        DemoCA(
            Path(db_dir) / "pki",
            "directory.example transport CA (demo)",
            seed=b"joselab demo: directory.example transport CA",
            not_before=datetime.datetime.fromtimestamp(clock.now() - 86400, datetime.UTC),
        )
        if mtls
        else None
    )
    network = Network(ca_file=str(ca.ca_file) if ca is not None else None)
    auth = AuthorizationServer(
        network, clock=clock, ids=ids, db_path=Path(db_dir) / "as.sqlite", key=demo_key(cast.AS_KEYS["RS256"])
    )
    cache = JwksCache(network, auth.issuer, clock=clock, min_refetch_interval=min_refetch_interval, max_age=max_age)
    api_audience = f"https://{API_HOST}"
    validator = AccessTokenValidator(issuer=auth.issuer, audience=api_audience, keys=cache, clock=clock)
    api = ResourceApi(network, validator)
    tpp = mallory = None
    if ca is not None:
        auth.enable_mtls(ca.mtls_server_context("as", dns=(AS_HOST,)))
        api.server.tls = ca.mtls_server_context("api", dns=(API_HOST,))
        tpp = ca.issue_client("tpp", TPP_SUBJECT)
        mallory = ca.issue_client("mallory", MALLORY_SUBJECT)
        auth.register_tls_client(TPP_CLIENT_ID, TPP_SUBJECT)
    secret = auth.register_resource_server(API_HOST)
    network.start()
    introspection = IntrospectionClient(network, auth.metadata()["introspection_endpoint"], API_HOST, secret)
    return AccessTokenDemo(network, auth, cache, validator, api, introspection, ca, tpp, mallory)


def _as_jwk(key: DemoKey | jwk.JWK) -> jwk.JWK:
    k = as_jwk(key)
    if "kid" not in k:
        k = jwk.JWK(**{**k.export(as_dict=True), "kid": k.thumbprint()})
    return k


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
