"""A real, independent OpenID Provider: node-oidc-provider, started by joselab on 127.0.0.1.

`oidc-provider <https://github.com/panva/node-oidc-provider>`_ is an OpenID Certified implementation
on npm, written by nobody here; ``package-lock.json`` pins it and ``npm ci`` installs it (``make
setup`` runs it). :class:`NodeOidcProvider` writes its configuration, starts
``providers/oidc-provider/server.mjs`` with ``node`` as a subprocess on an ephemeral port, over TLS
with a certificate from a :class:`~joselab.parties.tls.DemoCA` made at run time, waits until it
listens, and stops it at the end. Its :attr:`~NodeOidcProvider.issuer` is all a verifier is given.
A second provider can run in the same Node process (``start(alongside=first)``): its own issuer,
port, TLS certificate, keys, clients and resources, without loading oidc-provider a second time.

The provider issues ID tokens (one test client per algorithm, each with its
``id_token_signed_response_alg``) and RFC 9068 JWT access tokens for resource indicators (RFC 8707),
one resource server per algorithm: RS256, PS256, ES256 and Ed25519 (and whatever else a test
configures). :meth:`~NodeOidcProvider.rotate` gives it new signing keys while it runs.

The flows are driven from Python over real HTTPS (:class:`ProviderClient`): ``client_credentials``
(RFC 6749 §4.4) for an access token, and the authorization code flow with PKCE (RFC 7636) for an ID
token and an access token, where the provider's login and consent are approved by the launcher
without a page (see its header comment).

Production defaults: fresh keys (:func:`joselab.keys.generate_key`), the real clock, random client
secrets. :func:`demo_provider` is the demo builder: published example keys and a frozen clock, so that
the chapter's outputs are the same on every run.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import json
import os
import secrets
import selectors
import shutil
import subprocess
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
from jwcrypto import jwk

from .. import cast
from ..clock import DEMO_EPOCH
from ..errors import FetchError, JoselabError
from ..fetch import Fetcher
from ..keys import as_jwk, demo_key, generate_key
from .tls import DemoCA

__all__ = [
    "ALGORITHMS",
    "LAUNCHER",
    "ClientConfig",
    "NodeOidcProvider",
    "ProviderClient",
    "ResourceConfig",
    "TokenSet",
    "demo_provider",
    "provider_available",
]

#: The algorithms the chapter and the tests exercise, each with its own key (RFC 8725 §3.1).
ALGORITHMS = ("RS256", "PS256", "ES256", "Ed25519")
REDIRECT_URI = "https://rp.example/callback"
_ROOT = Path(os.environ.get("JOSELAB_ROOT", Path(__file__).resolve().parents[2]))
#: The launcher script, in the repository (``providers/oidc-provider/server.mjs``).
LAUNCHER = _ROOT / "providers" / "oidc-provider" / "server.mjs"
_READY_SECONDS = 60
_LIVE: weakref.WeakSet[NodeOidcProvider] = weakref.WeakSet()


def provider_available() -> tuple[bool, str]:
    """Whether node and the installed ``oidc-provider`` package are there, and if not, how to get them."""
    if shutil.which("node") is None:
        return False, "node is not installed (Node.js 20 or later; `apt-get install nodejs npm`)"
    if not (_ROOT / "node_modules" / "oidc-provider" / "package.json").exists():
        return False, f"oidc-provider is not installed: run `npm ci` (or `make setup`) in {_ROOT}"
    if not LAUNCHER.exists():
        return False, f"the launcher {LAUNCHER} is missing: run from a clone of the joselab repository"
    return True, "node and oidc-provider are installed"


@dataclass(frozen=True)
class ClientConfig:
    """One registered client: its ``id_token_signed_response_alg`` (OIDC Registration §2)."""

    client_id: str
    id_token_alg: str
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def registration(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_types": ["authorization_code", "client_credentials"],
            "response_types": ["code"],
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "client_secret_basic",
            "id_token_signed_response_alg": self.id_token_alg,
        }


@dataclass(frozen=True)
class ResourceConfig:
    """One resource server (an RFC 8707 resource indicator): the ``alg`` and lifetime of its JWT
    access tokens, and the scope it accepts."""

    indicator: str
    alg: str
    ttl: int = 300
    scope: str = "accounts"


def _default_clients(algorithms: Sequence[str]) -> list[ClientConfig]:
    return [ClientConfig(f"rp-{alg.lower()}", alg) for alg in algorithms]


def _default_resources(algorithms: Sequence[str]) -> list[ResourceConfig]:
    return [ResourceConfig(f"https://api.example/{alg.lower()}", alg) for alg in algorithms]


def _private_jwk(key: jwk.JWK, alg: str | None) -> dict[str, Any]:
    doc = key.export(as_dict=True, private_key=True)
    doc.pop("alg", None)
    doc["use"] = "sig"
    if alg is not None:
        doc["alg"] = alg
    return doc


class _NodeProcess:
    """One ``node`` running the launcher, and the providers it serves (by the launcher's ids).

    Commands and answers are JSON lines, one answer per command, in order; the lock keeps a command
    and its answer together. The process ends when its last provider stops."""

    def __init__(self, config_file: Path, log_file: Path) -> None:
        self.log_file = log_file
        self._log = log_file.open("w", encoding="utf-8")
        self._lock = threading.Lock()
        self.live: set[int] = set()
        env = {**os.environ, "NODE_ENV": "production"}
        self.proc: subprocess.Popen[str] = subprocess.Popen(
            ["node", str(LAUNCHER), str(config_file)],
            cwd=str(LAUNCHER.parent),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def read_line(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return {"error": f"no answer within {timeout}s"}
        line = self.proc.stdout.readline()
        if not line:
            return {"error": f"the process ended (exit code {self.proc.poll()})"}
        try:
            return json.loads(line)
        except ValueError:
            return {"error": f"unexpected output {line[:80]!r}"}

    def request(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        with self._lock:
            if not self.alive or self.proc.stdin is None:
                return {"error": f"the process ended (exit code {self.proc.poll()})"}
            try:
                self.proc.stdin.write(json.dumps(command) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                return {"error": f"the process does not listen ({exc})"}
            return self.read_line(timeout)

    def release(self, ident: int | None) -> None:
        """Provider ``ident`` stops (``None``: it never started); the last one ends the process."""
        if ident is not None and ident in self.live:
            self.live.discard(ident)
            if self.live and self.alive:
                self.request({"cmd": "stop", "id": ident}, 5)
                return
        if not self.live:
            self.close()

    def close(self) -> None:
        """End stdin (the launcher closes its servers and exits), or terminate the process."""
        self.live.clear()
        proc = self.proc
        try:
            if proc.stdin is not None and not proc.stdin.closed:
                proc.stdin.close()
            proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, BrokenPipeError, OSError):
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
        self._log.close()


class NodeOidcProvider:
    """node-oidc-provider on 127.0.0.1 (an ephemeral port, https with a demo CA), as a subprocess.

    ``keys`` maps each algorithm to its private signing key (fresh keys by default); with
    ``publish_alg=False`` the keys carry no ``alg`` (as several providers publish them), and
    oidc-provider then lets one RSA key serve every RS*/PS* algorithm. ``clients`` and ``resources``
    default to one per algorithm in ``algorithms``. ``fixed_time`` freezes the provider's clock (demos
    only). ``directory`` holds the configuration, the demo CA and the provider's log.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        algorithms: Sequence[str] = ALGORITHMS,
        keys: Mapping[str, jwk.JWK] | None = None,
        clients: Sequence[ClientConfig] | None = None,
        resources: Sequence[ResourceConfig] | None = None,
        publish_alg: bool = True,
        fixed_time: int | None = None,
        id_token_ttl: int = 300,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.algorithms = tuple(algorithms)
        self.keys = dict(keys) if keys is not None else {alg: generate_key(alg) for alg in self.algorithms}
        self.clients = {c.client_id: c for c in (clients if clients is not None else _default_clients(self.algorithms))}
        self.resources = {r.indicator: r for r in (resources if resources is not None else _default_resources(self.algorithms))}
        self.publish_alg = publish_alg
        self.fixed_time = fixed_time
        self.id_token_ttl = id_token_ttl
        self.ca = DemoCA(self.directory / "tls", "joselab demo CA for oidc-provider")
        self.issuer: str = ""
        self._node: _NodeProcess | None = None
        self._id: int | None = None
        # The test clients' connection (kept alive between flows) and the metadata they read once.
        self._client_http: httpx.Client | None = None
        self._client_metadata: dict[str, Any] | None = None

    def __repr__(self) -> str:
        state = self.issuer if self.running else "stopped"
        return f"<NodeOidcProvider (node-oidc-provider) {state}: {', '.join(self.algorithms)}>"

    # -- configuration ----------------------------------------------------------------------------
    def jwks(self, keys: Mapping[str, jwk.JWK] | None = None) -> dict[str, Any]:
        """The private JWK Set the provider signs with (never published: it publishes the public halves)."""
        keys = self.keys if keys is None else keys
        seen: dict[str, dict[str, Any]] = {}
        for alg, key in keys.items():
            doc = _private_jwk(as_jwk(key), alg if self.publish_alg else None)
            seen.setdefault(doc.get("kid") or key.thumbprint(), doc)
        return {"keys": list(seen.values())}

    def _config(self) -> dict[str, Any]:
        cert, key = self.ca.issue("oidc-provider")
        return {
            "jwks": self.jwks(),
            "tls": {"cert": str(cert), "key": str(key)},
            "clients": [c.registration() for c in self.clients.values()],
            "resources": {r.indicator: {"alg": r.alg, "ttl": r.ttl, "scope": r.scope} for r in self.resources.values()},
            "scopes": sorted({s for r in self.resources.values() for s in r.scope.split()}),
            "fixed_time": self.fixed_time,
            "id_token_ttl": self.id_token_ttl,
        }

    # -- running ------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        node = self._node
        return node is not None and node.alive and self._id in node.live

    @property
    def ca_file(self) -> Path:
        """The demo CA certificate: what a :class:`~joselab.fetch.Fetcher` must be given to trust the provider."""
        return self.ca.ca_file

    def fetcher(self, **options: Any) -> Fetcher:
        """A :class:`~joselab.fetch.Fetcher` that trusts this provider's demo CA (and nothing else)."""
        return Fetcher(ca_bundle=self.ca_file, **options)

    def start(self, *, alongside: NodeOidcProvider | None = None) -> NodeOidcProvider:
        """Start the provider in a ``node`` process of its own, or, ``alongside`` a running one, in
        that one's process (same frozen clock required: the process has one clock)."""
        ok, why = provider_available()
        if not ok:
            raise JoselabError(f"cannot start node-oidc-provider: {why}")
        if self._node is not None:
            raise JoselabError("this provider is already started")
        config_file = self.directory / "config.json"
        config_file.write_text(json.dumps(self._config()), "utf-8")
        config_file.chmod(0o600)  # it holds private keys and client secrets
        if alongside is None:
            node = self._node = _NodeProcess(config_file, self.directory / "oidc-provider.log")
            _LIVE.add(self)  # stopped at exit, even if it never answers
            ready = node.read_line(_READY_SECONDS)
        else:
            if not alongside.running or alongside._node is None:
                raise JoselabError("cannot start alongside a provider that is not running")
            if alongside.fixed_time != self.fixed_time:
                raise JoselabError("a provider alongside another shares its process's clock: their fixed_time must be the same")
            node = alongside._node
            ready = node.request({"cmd": "start", "config": str(config_file)}, _READY_SECONDS)
        if not ready.get("ready"):
            if alongside is None:
                self._node = None
                node.close()
            raise JoselabError(f"node-oidc-provider did not start: {ready}; see {node.log_file}")
        self._node, self._id = node, int(ready["id"])
        node.live.add(self._id)
        _LIVE.add(self)
        self.issuer = ready["issuer"]
        return self

    def rotate(self, alg: str, key: jwk.JWK | None = None, *, keep_old: bool = True) -> str:
        """Sign ``alg`` tokens with ``key`` (a fresh one by default) from now on; the old key stays
        published when ``keep_old`` (so tokens it signed still verify). Returns the new ``kid``."""
        new = as_jwk(key) if key is not None else generate_key(alg)
        keys = {alg: new, **{a: k for a, k in self.keys.items() if a != alg}}
        jwks = self.jwks(keys)
        if keep_old:
            jwks["keys"].append(_private_jwk(as_jwk(self.keys[alg]), alg if self.publish_alg else None))
        if not self.running or self._node is None:
            raise JoselabError("cannot rotate the keys of a provider that is not running")
        answer = self._node.request({"cmd": "rotate", "id": self._id, "jwks": jwks}, 30)
        if "rotated" not in answer:
            raise JoselabError(f"rotation failed: {answer}")
        self.keys = keys
        return new["kid"]

    def stop(self) -> None:
        """Stop the provider; the last provider of its ``node`` process ends the process (its stdin
        ends: it closes its servers and exits; or it is terminated)."""
        node, ident = self._node, self._id
        self._node = self._id = None
        if self._client_http is not None:
            self._client_http.close()
        self._client_http = self._client_metadata = None
        if node is not None:
            node.release(ident)

    def __enter__(self) -> NodeOidcProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, client_id: str) -> ProviderClient:
        """A test client that runs real flows against this provider."""
        return ProviderClient(self, self.clients[client_id])


@atexit.register
def _stop_all() -> None:
    for provider in list(_LIVE):
        provider.stop()


# -- the flows ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenSet:
    """A token endpoint's answer (RFC 6749 §5.1), with what the client sent to get it."""

    access_token: str
    token_type: str
    expires_in: int | None
    scope: str | None
    id_token: str | None = None
    nonce: str | None = None
    code: str | None = None
    iss: str | None = None  # RFC 9207's iss in the authorization response


def _pkce_challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class ProviderClient:
    """A confidential client of a :class:`NodeOidcProvider`, speaking real HTTPS to it (redirects
    read, never followed blindly: each hop must stay on the provider or land on the redirect URI)."""

    def __init__(self, provider: NodeOidcProvider, config: ClientConfig) -> None:
        self.provider = provider
        self.config = config
        self.client_id = config.client_id

    def __repr__(self) -> str:
        return f"<ProviderClient {self.client_id} of {self.provider.issuer}>"

    def _http(self) -> httpx.Client:
        """The provider's test-client connection, shared by its clients (cookies are per flow)."""
        import ssl

        provider = self.provider
        if provider._client_http is None:
            provider._client_http = httpx.Client(
                verify=ssl.create_default_context(cafile=str(provider.ca_file)),
                follow_redirects=False,
                trust_env=False,
                timeout=10,
            )
        provider._client_http.cookies.clear()
        return provider._client_http

    def _metadata(self, http: httpx.Client) -> dict[str, Any]:
        # The endpoints stay where they are for the provider's life (a rotation changes keys only).
        if self.provider._client_metadata is None:
            self.provider._client_metadata = http.get(self.provider.issuer + "/.well-known/openid-configuration").json()
        return self.provider._client_metadata

    def _token(self, http: httpx.Client, endpoint: str, form: dict[str, str]) -> dict[str, Any]:
        resp = http.post(endpoint, data=form, auth=(self.client_id, self.config.client_secret))
        body = resp.json()
        if resp.status_code != 200:
            raise FetchError(
                f"token endpoint answered {resp.status_code}: {body.get('error')}: {body.get('error_description', '')}"
            )
        return body

    def client_credentials(self, resource: str, scope: str = "accounts") -> TokenSet:
        """An access token for ``resource`` (RFC 8707 §2) by the client credentials grant (RFC 6749 §4.4)."""
        http = self._http()
        meta = self._metadata(http)
        body = self._token(
            http, meta["token_endpoint"], {"grant_type": "client_credentials", "resource": resource, "scope": scope}
        )
        return TokenSet(body["access_token"], body["token_type"], body.get("expires_in"), body.get("scope"))

    def login(
        self, resource: str, *, scope: str = "openid accounts", nonce: str | None = None, state: str | None = None
    ) -> TokenSet:
        """The authorization code flow with PKCE (S256), ``nonce`` and ``state``, for ``resource``:
        returns the ID token and the access token for that resource."""
        nonce = nonce or secrets.token_urlsafe(16)
        state = state or secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)
        cookies: dict[str, str] = {}
        http = self._http()
        meta = self._metadata(http)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": _pkce_challenge(verifier),
            "code_challenge_method": "S256",
            "resource": resource,
        }
        url = f"{meta['authorization_endpoint']}?{urlencode(params)}"
        for _hop in range(8):
            http.cookies.clear()
            header = "; ".join(f"{k}={v}" for k, v in cookies.items())
            resp = http.get(url, headers={"Cookie": header} if header else {})
            for value in resp.headers.get_list("set-cookie"):
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                cookies.update({name: morsel.value for name, morsel in jar.items()})
            location = resp.headers.get("location")
            if resp.status_code not in (302, 303) or not location:
                raise FetchError(f"the provider answered {resp.status_code} at {urlsplit(url).path}: {resp.text[:200]}")
            url = urljoin(url, location)
            if url.startswith(REDIRECT_URI + "?"):
                break
            if not url.startswith(self.provider.issuer + "/"):
                raise FetchError(f"redirected off the provider, to {url[:80]}")
        else:
            raise FetchError("no redirect to the client after 8 hops")
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        if query.get("state") != state:
            raise FetchError("the redirect's state is not the one sent (RFC 6749 §10.12)")
        if "error" in query:
            raise FetchError(f"the provider refused: {query['error']}: {query.get('error_description', '')}")
        form = {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "resource": resource,
        }
        body = self._token(http, meta["token_endpoint"], form)
        return TokenSet(
            body["access_token"],
            body["token_type"],
            body.get("expires_in"),
            body.get("scope"),
            body.get("id_token"),
            nonce,
            query["code"],
            query.get("iss"),
        )


#: The chapter's provider signs as the bank's authorization server of the cast (:mod:`joselab.cast`):
#: its RS256, PS256 and Ed25519 keys, and an ES256 key of its own (RFC 9500 section 2.3).
DEMO_KEYS = {**cast.AS_KEYS, "ES256": cast.AS_ES256_KEY}


def demo_provider(directory: str | Path, **options: Any) -> NodeOidcProvider:
    """The chapter's provider: published example keys (labelled; never for production), a clock
    frozen at :data:`~joselab.clock.DEMO_EPOCH`, fixed client secrets; not started."""
    # The bank's authorization server's keys (joselab.cast), one per algorithm; no other party's.
    keys = {alg: demo_key(name) for alg, name in DEMO_KEYS.items()}
    algorithms = options.pop("algorithms", ALGORITHMS)
    clients = options.pop(
        "clients", [ClientConfig(f"rp-{alg.lower()}", alg, client_secret=f"demo-secret-{alg.lower()}") for alg in algorithms]
    )
    return NodeOidcProvider(
        directory,
        algorithms=algorithms,
        keys={alg: as_jwk(keys[alg]) for alg in algorithms if alg in keys} | options.pop("keys", {}),
        clients=clients,
        fixed_time=options.pop("fixed_time", DEMO_EPOCH),
        **options,
    )
