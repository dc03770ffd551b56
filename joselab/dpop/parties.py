"""The demo parties of scenario 5 (DPoP, RFC 9449), around :mod:`joselab.dpop.validator`, each on
real HTTP on 127.0.0.1 (:mod:`joselab.parties`):

* :class:`DPoPClient` is the client (Budget Buddy): it holds a key pair of its own and signs a proof
  for every request (RFC 9449 §4.2: ``typ: dpop+jwt``, ``jwk``; ``jti``, ``htm``, ``htu``, ``iat``,
  ``ath`` with an access token, ``nonce`` once a server provided one). It keeps the last nonce each
  server sent (``DPoP-Nonce``) and retries once when a server answers ``use_dpop_nonce``.
* :class:`DPoPTokenEndpoint` adds a token endpoint to the demo
  :class:`~joselab.access_token.parties.AuthorizationServer` (``https://as.bank.example/token``): it
  validates the proof (RFC 9449 §5), asks for a nonce first (§8: 400 ``use_dpop_nonce`` with
  ``DPoP-Nonce``), and issues access tokens bound to the proof's key, ``cnf.jkt`` (§6.1), with
  ``token_type: DPoP``. The grant is an authorization code the demo hands out by a method call
  (:meth:`DPoPTokenEndpoint.authorization_code`): the PSU's consent happens off stage.
* :class:`DPoPResourceApi` is the bank's API (``https://api.bank.example``): the access token first
  (:class:`~joselab.access_token.AccessTokenValidator`), then the proof with that token and its
  ``cnf.jkt``; answers as RFC 9449 §7.1 says (401 with ``WWW-Authenticate: DPoP error=...``), with
  its own nonce (§9); a DPoP-bound token sent as a Bearer token is refused (§7.2).

:func:`build_demo` wires them with the demo clock, identifiers and published keys; without those
arguments the parties use production defaults (random identifiers and nonces, a fresh key).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from jwcrypto import jwk

from ..access_token.parties import (
    API_HOST,
    DEFAULT_ENDPOINTS,
    AuthorizationServer,
    Endpoint,
    JwksCache,
    ResourceApi,
    _quoted_safe,
)
from ..access_token.validator import SCOPE_SECTION, AccessTokenValidator
from ..clock import Clock, IdSource, RandomIds
from ..cnf import Presented, jwk_thumbprint
from ..compact import b64url_encode
from ..errors import (
    DPoPKeyMismatch,
    DPoPNonceMismatch,
    DPoPNonceRequired,
    JoselabError,
)
from ..jws import encode_claims, encode_header, sign_compact
from ..keys import DemoKey, as_jwk, demo_key, generate_key
from ..parties import Database, Network, Request, Response, json_response
from ..parties.http import HttpResponse
from ..parties.store import ReplayStore
from ..trace import Trace
from .validator import DPOP_TYPE, DPoPNonces, DPoPProofValidator, b64url_sha256

TOKEN_PATH = "/token"
#: The client's DPoP key in the demo: RFC 8032 §7.1's second Ed25519 test key (TEST 2), which no other
#: role uses (the OP's Ed25519 key is TEST 1, as RFC 8037 Appendix A.1 prints it).
#: (RFC 9449's own examples print only the public key of theirs, so nobody can sign with it.)
CLIENT_DPOP_KEY = "rfc8032-test2-ed25519"
CLIENT_DPOP_ALG = "Ed25519"
CLIENT_ID = "fc1b1af7-5abc-4f35-8fcd-fb0221067585"
USER_SUB = "248289761001"
#: What the demo accepts in a proof: the algorithms FAPI 2.0 allows (PS256, ES256, and EdDSA with
#: Ed25519, here by its fully specified name, RFC 9864 §2.2).
DEMO_ALGORITHMS = ("ES256", "PS256", "Ed25519")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _htu(url: str) -> str:
    # RFC 9449 §4.2: the target URI "without query and fragment parts".
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


# ------------------------------------------------------------------------------------------------
# The client
# ------------------------------------------------------------------------------------------------
class DPoPClient:
    """A client that proves possession of its key on every request (RFC 9449 §4).

    ``key`` is its private key (default: a fresh one for ``alg``; the demo passes the published
    RFC 8032 Ed25519 test key, :data:`CLIENT_DPOP_KEY`). ``nonces`` holds the last ``DPoP-Nonce``
    each server (by origin) sent; RFC 9449 §9: a nonce is used only at the server that issued it."""

    def __init__(
        self,
        network: Network,
        *,
        clock: Clock,
        ids: IdSource | None = None,
        key: DemoKey | jwk.JWK | None = None,
        alg: str = "ES256",
        client_id: str = CLIENT_ID,
    ) -> None:
        self.network = network
        self.clock = clock
        self.ids = ids if ids is not None else RandomIds()  # production default: unpredictable jti
        self.key = as_jwk(key) if key is not None else generate_key(alg)
        self.alg = alg
        self.client_id = client_id
        self.nonces: dict[str, str] = {}
        #: Every response the client got, in order: (status, what it was for).
        self.log: list[tuple[int, str]] = []

    def __repr__(self) -> str:
        return f"<DPoPClient {self.client_id} {self.alg} jkt={self.jkt}>"

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public key that goes into every proof's ``jwk`` header (RFC 9449 §4.2): no ``kid``,
        no private member."""
        public = self.key.export_public(as_dict=True)
        return {k: public[k] for k in ("kty", "crv", "x", "y", "n", "e") if k in public}

    @property
    def jkt(self) -> str:
        """The RFC 7638 thumbprint of the public key: what the AS puts in ``cnf.jkt`` (RFC 9449 §6.1)."""
        return jwk_thumbprint(self.public_jwk)

    def proof_claims(self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None) -> dict[str, Any]:
        """The payload of a proof for ``method`` ``url`` (RFC 9449 §4.2)."""
        claims: dict[str, Any] = {"jti": self.ids.token(16), "htm": method, "htu": _htu(url), "iat": self.clock.now()}
        if access_token is not None:
            claims["ath"] = b64url_sha256(access_token)
        nonce = nonce if nonce is not None else self.nonces.get(_origin(url))
        if nonce is not None:
            claims["nonce"] = nonce
        return claims

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
        key: jwk.JWK | None = None,
        alg: str | None = None,
    ) -> str:
        """A signed proof for one request. ``claims`` and ``header`` replace members (``None``
        removes one): the chapter's failing cases are made this way. ``key`` (with its ``alg``, by
        default the client's) signs instead of the client's own key: an attacker's proof."""
        body = self.proof_claims(method, url, access_token=access_token, nonce=nonce)
        public = self.public_jwk if key is None else _public(key)
        head: dict[str, Any] = {"alg": alg or self.alg, "typ": DPOP_TYPE, "jwk": public}
        for target, changes in ((body, claims), (head, header)):
            for name, value in (changes or {}).items():
                if value is None:
                    target.pop(name, None)
                else:
                    target[name] = value
        return sign_compact(body, key if key is not None else self.key, head)

    # -- requests -------------------------------------------------------------------------------------
    def _remember_nonce(self, url: str, response: HttpResponse) -> None:
        nonce = response.headers.get("dpop-nonce")
        if nonce:
            self.nonces[_origin(url)] = nonce

    def send(
        self, method: str, url: str, *, headers: list[tuple[str, str]], body: bytes | None = None, what: str = ""
    ) -> HttpResponse:
        """One request as given (its DPoP fields included); the nonce it answers with is kept."""
        response = self.network.request(method, url, body=body, headers=headers)
        self._remember_nonce(url, response)
        self.log.append((response.status, what or f"{method} {url}"))
        return response

    def redeem(self, token_endpoint: str, code: str, proof: str) -> HttpResponse:
        """One token request (RFC 9449 §5, Figure 5): the authorization code, with ``proof`` in ``DPoP``."""
        form = urlencode({"grant_type": "authorization_code", "code": code, "client_id": self.client_id}).encode("ascii")
        headers = [("Content-Type", "application/x-www-form-urlencoded"), ("DPoP", proof)]
        return self.send("POST", token_endpoint, headers=headers, body=form, what="token request")

    def token_request(self, token_endpoint: str, code: str, *, retry_on_nonce: bool = True) -> HttpResponse:
        """Redeem ``code`` at ``token_endpoint`` with a proof; on a ``use_dpop_nonce`` error (RFC 9449
        §8) retry once, with a new proof carrying the nonce the AS sent."""
        for _ in range(2 if retry_on_nonce else 1):
            response = self.redeem(token_endpoint, code, self.proof("POST", token_endpoint))
            if response.status == 400 and _error(response) == "use_dpop_nonce":
                continue
            return response
        return response

    def call(self, url: str, access_token: str, *, retry_on_nonce: bool = True, method: str = "GET") -> HttpResponse:
        """Call the API with ``Authorization: DPoP <token>`` and a proof with ``ath`` (RFC 9449 §7.1,
        Figure 13); on a ``use_dpop_nonce`` challenge (§9) retry once with the API's nonce."""
        for _ in range(2 if retry_on_nonce else 1):
            proof = self.proof(method, url, access_token=access_token)
            headers = [("Authorization", f"DPoP {access_token}"), ("DPoP", proof)]
            response = self.send(method, url, headers=headers, what="API call")
            if response.status == 401 and 'error="use_dpop_nonce"' in response.headers.get("www-authenticate", ""):
                continue
            return response
        return response


def unsigned(proof: str) -> str:
    """``proof`` with ``alg: none`` and no signature: what a validator that reads ``alg`` from the
    token would accept (RFC 9449 §4.2, §11.6 forbid ``none``)."""
    header_b64, payload, _ = proof.split(".")
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    return f"{encode_header({**header, 'alg': 'none'})}.{payload}."


def tampered(proof: str, **changes: Any) -> str:
    """``proof`` with claims changed and its signature kept: what someone without the key can make."""
    header_b64, payload, signature = proof.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header_b64}.{b64url_encode(encode_claims({**claims, **changes}))}.{signature}"


def _public(key: jwk.JWK) -> dict[str, Any]:
    public = key.export_public(as_dict=True)
    return {k: public[k] for k in ("kty", "crv", "x", "y", "n", "e") if k in public}


def _error(response: HttpResponse) -> str | None:
    try:
        body = response.json()
    except Exception:  # a body that is not JSON has no error code
        return None
    return body.get("error") if isinstance(body, dict) else None


# ------------------------------------------------------------------------------------------------
# The authorization server's token endpoint
# ------------------------------------------------------------------------------------------------
class DPoPTokenEndpoint:
    """``POST https://as.bank.example/token``: DPoP-bound access tokens (RFC 9449 §5, §6.1, §8).

    Every request must carry a valid proof (checked with ``validator``, whose nonce source is the
    AS's own, RFC 9449 §8); a proof without the current nonce gets 400 ``use_dpop_nonce`` and a
    ``DPoP-Nonce`` header; any other invalid proof 400 ``invalid_dpop_proof`` (RFC 9449 §5). The
    token is bound to the proof's key, ``cnf.jkt`` (RFC 9449 §6.1: the key's RFC 7638 thumbprint),
    and the response says ``token_type: DPoP`` (RFC 9449 §5). Codes are single use, kept in the AS's sqlite file.
    ``last_trace`` keeps the last proof validation, for display."""

    def __init__(self, authorization_server: AuthorizationServer, validator: DPoPProofValidator, *, audience: str) -> None:
        self.auth = authorization_server
        self.validator = validator
        self.audience = audience
        self.last_trace: Trace | None = None
        self.path = authorization_server.path + TOKEN_PATH
        if ("POST", self.path) in authorization_server.server.routes:
            # One token endpoint per AS: the mutual-TLS one (AuthorizationServer.enable_mtls) is there already.
            raise ValueError(f"{authorization_server.issuer} already has a token endpoint at {self.path}")
        self.auth.server.route("POST", self.path)(self.handle)
        self.auth.extra_metadata.update(
            {
                "token_endpoint": self.url,
                "dpop_signing_alg_values_supported": list(validator.algorithms),  # RFC 9449 §5.1
            }
        )

    @property
    def url(self) -> str:
        return self.auth.server.url(self.path)

    def authorization_code(self, *, sub: str = USER_SUB, client_id: str = CLIENT_ID, scope: str = "accounts") -> str:
        """A code for ``client_id``, as if the PSU had just consented at the authorization endpoint
        (:meth:`AuthorizationServer.authorize`: one use, a short life)."""
        return self.auth.authorize(sub=sub, client_id=client_id, audience=self.audience, scope=scope)

    def handle(self, request: Request) -> Response:
        nonce_source = self.validator.nonce_source
        trace = self.validator.validate(request.header_values("dpop"), method=request.method, url=self.url)
        self.last_trace = trace
        error = trace.error
        if error is not None:
            if isinstance(error, DPoPNonceRequired | DPoPNonceMismatch) and nonce_source is not None:
                # RFC 9449 §8 (Figure 20): 400 use_dpop_nonce, with the nonce to use in the DPoP-Nonce header.
                return json_response(
                    400,
                    {"error": "use_dpop_nonce", "error_description": "Authorization server requires nonce in DPoP proof"},
                    {"DPoP-Nonce": nonce_source.issue()},
                )
            # RFC 9449 §5: an invalid proof is an RFC 6749 §5.2 error response, invalid_dpop_proof.
            return json_response(400, {"error": "invalid_dpop_proof", "error_description": f"{error.section}: {error.check}"})
        form = request.form()
        if form.get("grant_type") != "authorization_code":
            return json_response(400, {"error": "unsupported_grant_type"})
        client_id = form.get("client_id", "")
        grant = self.auth.redeem_code(form.get("code", ""), client_id)
        if grant is None:
            return json_response(400, {"error": "invalid_grant"})
        proof = trace.result
        token = self.auth.issue_access_token(
            sub=grant["sub"], client_id=client_id, audience=grant["audience"], scope=grant["scope"], cnf={"jkt": proof.jkt}
        )
        body = {"access_token": token, "token_type": "DPoP", "expires_in": self.auth.lifetime, "scope": grant["scope"]}
        headers = {"DPoP-Nonce": nonce_source.issue()} if nonce_source is not None else {}  # RFC 9449 §8.2
        return json_response(200, body, headers)


# ------------------------------------------------------------------------------------------------
# The API
# ------------------------------------------------------------------------------------------------
def dpop_challenge(algorithms: tuple[str, ...], error: str | None = None, description: str | None = None) -> str:
    """A ``WWW-Authenticate`` value for the DPoP scheme (RFC 9449 §7.1): ``error`` and
    ``error_description`` when the request carried credentials, ``algs`` always."""
    params = []
    if error:
        params.append(f'error="{error}"')
    if description:
        params.append(f'error_description="{_quoted_safe(description)}"')
    params.append(f'algs="{" ".join(algorithms)}"')
    return "DPoP " + ", ".join(params)


class DPoPResourceApi(ResourceApi):
    """The bank's API at ``https://api.bank.example`` with DPoP-bound tokens (RFC 9449 §7).

    For ``Authorization: DPoP <token>``: the access token is validated first (RFC 9068 §4, with
    ``presented=Presented("DPoP")``: :mod:`joselab.cnf` refuses a token without ``cnf.jkt``), then
    the proof, with the token (``ath``) and the token's ``cnf.jkt``
    (RFC 9449 §7.1: "check the DPoP proof according to the rules in Section 4.3, and check that the
    public key of the DPoP proof matches the public key to which the access token is bound"). Answers:

    * no credentials: 401 ``WWW-Authenticate: DPoP algs="..."`` (Figure 15);
    * a proof without the API's current nonce: 401 ``DPoP error="use_dpop_nonce"`` with ``DPoP-Nonce``
      (RFC 9449 §9, Figure 24), when the API provides nonces;
    * an invalid proof: 401 ``error="invalid_dpop_proof"``; a key that is not the token's:
      401 ``error="invalid_token"`` (Figure 16); an invalid token: 401 ``invalid_token``;
    * ``Authorization: Bearer`` with a DPoP-bound token: 401 ``invalid_token`` at the access token's
      row from :mod:`joselab.cnf` (RFC 9449 §7.2: "MUST reject a DPoP-bound access token received as a
      bearer token"); an unbound bearer token: 401 too (this API takes DPoP-bound tokens only);
    * a valid call without the endpoint's scope: 403 ``insufficient_scope``; otherwise 200.

    ``last_trace`` is the access token's trace, ``last_proof_trace`` the proof's."""

    def __init__(
        self,
        network: Network,
        token_validator: AccessTokenValidator,
        proof_validator: DPoPProofValidator,
        *,
        host: str = API_HOST,
        endpoints: tuple[Endpoint, ...] = DEFAULT_ENDPOINTS,
    ) -> None:
        # The proof validator first: the routes the base class adds call handle(), which uses it.
        self.proof_validator = proof_validator
        self.last_proof_trace: Trace | None = None
        super().__init__(network, token_validator, host=host, endpoints=endpoints)

    @property
    def token_validator(self) -> AccessTokenValidator:
        """The access token's validator (RFC 9068 §4), :attr:`ResourceApi.validator`."""
        return self.validator

    def _refuse(self, status: int, error: str, description: str, headers: Mapping[str, str] | None = None) -> Response:
        challenge = dpop_challenge(self.proof_validator.algorithms, error, description)
        return json_response(
            status, {"error": error, "error_description": description}, {"WWW-Authenticate": challenge, **(headers or {})}
        )

    def handle(self, request: Request, endpoint: Endpoint) -> Response:
        self.last_trace = self.last_proof_trace = None
        authorizations = request.header_values("authorization")
        if not authorizations:
            return json_response(
                401,
                {"message": "a DPoP-bound access token is required"},
                {"WWW-Authenticate": dpop_challenge(self.proof_validator.algorithms)},
            )
        if len(authorizations) > 1:
            return self._refuse(400, "invalid_request", "Multiple methods used to include access token")
        scheme, _, token = authorizations[0].strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in ("dpop", "bearer") or not token:
            return self._refuse(401, "invalid_request", "RFC 9449 §7.1: credentials are DPoP <token68>")
        # The token first, with how it came (RFC 9449 §7.1, §7.2: joselab.cnf's rows refuse a bound
        # token sent as Bearer, and the DPoP scheme with an unbound one); the scope last, once the
        # token and its proof are known good (RFC 6750 §3.1: 403).
        dpop = scheme.lower() == "dpop"
        trace = self.token_validator.validate(token, presented=Presented("DPoP" if dpop else "Bearer"))
        self.last_trace = trace
        error = trace.error
        if error is not None:
            return self._refuse(401, "invalid_token", f"{error.section}: {error.check}")
        claims = trace.result
        cnf = claims.get("cnf")
        if not dpop:
            return self._refuse(401, "invalid_token", "this API accepts DPoP-bound access tokens only")
        cnf_jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        url = self.server.url(request.path)
        proof_trace = self.proof_validator.validate(
            request.header_values("dpop"), method=request.method, url=url, access_token=token, cnf_jkt=cnf_jkt
        )
        self.last_proof_trace = proof_trace
        proof_error = proof_trace.error
        nonces = self.proof_validator.nonce_source
        if proof_error is not None:
            description = f"{proof_error.section}: {proof_error.check}"
            if isinstance(proof_error, DPoPNonceRequired | DPoPNonceMismatch) and nonces is not None:
                # RFC 9449 §9 (Figure 24): 401, WWW-Authenticate: DPoP error="use_dpop_nonce", and DPoP-Nonce.
                return self._refuse(
                    401, "use_dpop_nonce", "Resource server requires nonce in DPoP proof", {"DPoP-Nonce": nonces.issue()}
                )
            if isinstance(proof_error, DPoPKeyMismatch):
                return self._refuse(401, "invalid_token", "Invalid DPoP key binding")  # RFC 9449 Figure 16
            return self._refuse(401, "invalid_dpop_proof", description)
        scope = claims.get("scope")
        if endpoint.scope not in (scope.split(" ") if isinstance(scope, str) else []):
            # The token and its proof are valid; the call is not allowed (RFC 9068 §4, §2.2.3; RFC 6750 §3.1).
            description = f"{SCOPE_SECTION}: authorization: scope includes {endpoint.scope!r}"
            challenge = dpop_challenge(self.proof_validator.algorithms, "insufficient_scope", description)
            return json_response(
                403, {"error": "insufficient_scope", "error_description": description}, {"WWW-Authenticate": challenge}
            )
        return json_response(200, endpoint.answer(claims))


# ------------------------------------------------------------------------------------------------
# The whole scenario, wired
# ------------------------------------------------------------------------------------------------
@dataclass
class DPoPDemo:
    """Every party of scenario 5 on one :class:`~joselab.parties.Network`."""

    network: Network
    authorization_server: AuthorizationServer
    token_endpoint: DPoPTokenEndpoint
    api: DPoPResourceApi
    client: DPoPClient
    token_validator: AccessTokenValidator
    as_nonces: DPoPNonces
    api_nonces: DPoPNonces
    stores: list[Database] = field(default_factory=list)

    def url(self, path: str) -> str:
        """The public URL of ``path`` at the API."""
        return self.api.server.url(path)

    def get_token(self, *, scope: str = "accounts") -> dict[str, Any]:
        """The client's whole token request, nonce challenge included: the token response's JSON."""
        code = self.token_endpoint.authorization_code(scope=scope, client_id=self.client.client_id)
        return self.client.token_request(self.token_endpoint.url, code).json()

    def call(self, path: str, *, headers: list[tuple[str, str]]) -> HttpResponse:
        """GET ``path`` at the API with exactly ``headers`` (for the failing cases)."""
        return self.network.request("GET", self.url(path), headers=headers)

    def explain(self, response: HttpResponse, trace: Trace | None = None) -> str:
        """What came back, for a reader: the status, the headers that matter (``WWW-Authenticate``,
        ``DPoP-Nonce``), the JSON body (long values cut), and the failing row of ``trace`` (default:
        the API's last proof validation), if the request was refused. The JSON body of a refusal is
        left out when ``WWW-Authenticate`` already says it."""
        lines = [f"HTTP {response.status}"]
        for name, label in (("www-authenticate", "WWW-Authenticate"), ("dpop-nonce", "DPoP-Nonce")):
            if name in response.headers:
                lines.append(f"{label}: {response.headers[name]}")
        try:
            body = response.json()
        except JoselabError:
            body = None
        if isinstance(body, dict) and (response.status < 400 or "www-authenticate" not in response.headers):
            cut = {
                k: (f"{v[:24]}... ({len(v)} characters)" if isinstance(v, str) and len(v) > 60 else v) for k, v in body.items()
            }
            lines.append(json.dumps(cut, ensure_ascii=False))
        trace = trace if trace is not None else self.api.last_proof_trace
        if response.status >= 400 and trace is not None and trace.failed is not None:
            failed = trace.failed
            lines.append(f"refused by {trace.title}, at check {trace.checks.index(failed) + 1}:")
            lines.append(f"  {failed.section}  {failed.name}")
            if failed.evidence:
                lines.append(f"  evidence: {failed.evidence}")
        return "\n".join(lines)

    def close(self) -> None:
        self.network.close()
        self.authorization_server.db.close()
        for db in self.stores:
            db.close()


def build_demo(db_dir: str | Path, *, clock: Clock, ids: IdSource, nonce_at_api: bool = True) -> DPoPDemo:
    """Start the AS (with its DPoP token endpoint) and the bank API on loopback; the client's key is
    published Ed25519 test key of RFC 8032 §7.1 (:data:`CLIENT_DPOP_KEY`), the AS signs with
    ``rfc7515-a2-rsa`` (RS256) as in chapter 2. Each server has its own nonces (RFC 9449 §9) and its
    own ``jti`` store in a sqlite file under ``db_dir``."""
    db_dir = Path(db_dir)
    network = Network()
    auth = AuthorizationServer(network, clock=clock, ids=ids, db_path=db_dir / "as.sqlite", key=demo_key("rfc7515-a2-rsa"))
    api_audience = f"https://{API_HOST}"
    as_nonces = DPoPNonces(clock, ids)
    api_nonces = DPoPNonces(clock, ids)
    as_db, api_db = Database(db_dir / "as_dpop_jti.sqlite"), Database(db_dir / "api_dpop_jti.sqlite")
    as_validator = DPoPProofValidator(
        algorithms=DEMO_ALGORITHMS, replay_store=ReplayStore(as_db, "dpop_jti"), clock=clock, nonce_source=as_nonces
    )
    endpoint = DPoPTokenEndpoint(auth, as_validator, audience=api_audience)
    cache = JwksCache(network, auth.issuer, clock=clock)
    token_validator = AccessTokenValidator(issuer=auth.issuer, audience=api_audience, keys=cache, clock=clock)
    api_validator = DPoPProofValidator(
        algorithms=DEMO_ALGORITHMS,
        replay_store=ReplayStore(api_db, "dpop_jti"),
        clock=clock,
        nonce_source=api_nonces if nonce_at_api else None,
    )
    api = DPoPResourceApi(network, token_validator, api_validator)
    client = DPoPClient(network, clock=clock, ids=ids, key=demo_key(CLIENT_DPOP_KEY), alg=CLIENT_DPOP_ALG)
    network.start()
    return DPoPDemo(network, auth, endpoint, api, client, token_validator, as_nonces, api_nonces, [as_db, api_db])
