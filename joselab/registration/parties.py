"""The demo parties of scenario 1 (software statement and Dynamic Client Registration), around the
validators of :mod:`joselab.registration.validator`.

Three parties, each a real HTTP server on 127.0.0.1 (:mod:`joselab.parties`):

* a **directory** (:class:`Directory`) that the bank trusts. It signs software statements with its own
  key (ES256, ``typ: JWT``, ``kid``) carrying the claims of the Open Banking directory SSA, and serves
  its JWK Set and, as Open Banking's keystore does, each enrolled software's public JWK Set at the
  SSA's ``software_jwks_endpoint``;
* a **client** (:class:`Client`, the TPP) that builds a registration request: a JWT signed with its
  own key (PS256), addressed to the bank (``aud``), short-lived (``exp``), with a one-time ``jti``,
  its metadata and the ``software_statement`` (OB DCR v3.2 request);
* the bank's **registration endpoint** (:class:`RegistrationServer`): ``POST /register`` validates the
  statement (:class:`SoftwareStatementValidator`), then the request with keys fetched from the
  statement's ``software_jwks_endpoint`` (:class:`RegistrationRequestValidator`), and answers
  201 with ``client_id`` and the registered metadata (RFC 7591 §3.2.1) or 400 with an RFC 7591
  §3.2.2 error. Registered clients and seen ``jti`` values live in sqlite, so a replay is refused
  after a restart too.

Production defaults: without ``key`` the directory and the client make a fresh key; :func:`build_demo`
passes the published example keys, the demo clock and :class:`~joselab.clock.DemoIds`.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jwcrypto import jwk

from .. import cast
from ..claims import with_changes
from ..clock import Clock, DemoIds, FixedClock, IdSource
from ..compact import b64url_encode, parse_jws
from ..errors import (
    JoselabError,
    MalformedToken,
    ValidationError,
)
from ..jws import encode_claims, encode_header, sign_compact
from ..keys import DemoKey, as_jwk, demo_key, generate_key, public_jwks
from ..parties import Database, HttpResponse, LocalServer, Network, ReplayStore, Request, Response, json_response
from ..trace import Trace
from .validator import (
    OB_DCR,
    REQUEST_CONTENT_TYPES,
    RegistrationRequestValidator,
    SoftwareStatementValidator,
    TrustedDirectory,
    extract_software_statement,
    registered_metadata,
    rfc7591_error,
)

DIRECTORY_HOST = cast.DIRECTORY_HOST
AS_HOST = cast.AS_HOST

# -- parties ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Software:
    """What the directory knows about one piece of client software and its organisation."""

    org_id: str
    org_name: str
    software_id: str
    client_name: str
    redirect_uris: tuple[str, ...]
    roles: tuple[str, ...]
    org_status: str = "Active"


class Directory:
    """The directory: signs software statements and serves keys (its own, and each software's).

    Public names, under the issuer (``https://<host><issuer_path>``, a path allowed):
    ``/directory.jwks`` (its JWK Set) and ``/<org_id>/<software_id>.jwks`` (a software's, the SSA's
    ``software_jwks_endpoint``). Every published key carries the one ``alg`` it serves and
    ``use: sig`` (RFC 7517 §4.2, §4.4), so a verifier never tries it with another algorithm.
    """

    def __init__(
        self,
        network: Network,
        *,
        host: str = DIRECTORY_HOST,
        issuer_path: str = "",
        key: DemoKey | jwk.JWK | None = None,
        alg: str = "ES256",
        clock: Clock,
        ids: IdSource,
    ) -> None:
        if issuer_path and (not issuer_path.startswith("/") or issuer_path.endswith("/")):
            raise JoselabError("issuer_path starts with / and has no trailing /")
        self.key = key if key is not None else generate_key(alg)  # no demo key unless asked for
        self.alg = alg
        self.clock = clock
        self.ids = ids
        self.server = LocalServer(host, network)
        self.path = issuer_path
        self.issuer = self.server.url(issuer_path)
        self.jwks_uri = self.server.url(f"{issuer_path}/directory.jwks")
        self.server.serve_json(f"{issuer_path}/directory.jwks", _published(self.key, alg))
        self.software: dict[str, Software] = {}

    @property
    def _jwk(self) -> jwk.JWK:
        return as_jwk(self.key)

    def trusted(self) -> TrustedDirectory:
        """How an AS that trusts this directory configures it."""
        return TrustedDirectory(self.issuer, self.jwks_uri)

    def software_jwks_endpoint(self, software: Software) -> str:
        return self.server.url(f"{self.path}/{software.org_id}/{software.software_id}.jwks")

    def enroll(self, software: Software, *keys: DemoKey | jwk.JWK, alg: str | None = None) -> None:
        """Record ``software`` and publish the public halves of its ``keys`` at its jwks endpoint,
        each with ``use: sig`` and its ``alg``: ``alg`` if given, else the demo key's own."""
        self.software[software.software_id] = software
        path = urlsplit(self.software_jwks_endpoint(software)).path
        published = [_published(k, alg or _alg_of(k))["keys"][0] for k in keys]
        self.server.serve_json(path, {"keys": published})

    def ssa_claims(self, software: Software) -> dict[str, Any]:
        """The claims of a fresh SSA (OB Directory SSA), ``jti`` from the id source."""
        return {
            "iss": self.issuer,
            "iat": self.clock.now(),
            "jti": self.ids.uuid4(),
            "software_id": software.software_id,
            "software_client_id": software.software_id,
            "software_client_name": software.client_name,
            "software_redirect_uris": list(software.redirect_uris),
            "software_roles": list(software.roles),
            "software_jwks_endpoint": self.software_jwks_endpoint(software),
            "org_id": software.org_id,
            "org_name": software.org_name,
            "org_status": software.org_status,
        }

    def issue_ssa(self, software: Software | str, **changes: Any) -> str:
        """Sign an SSA for enrolled software; ``changes`` replace claims (None removes one)."""
        software = self.software[software if isinstance(software, str) else software.software_id]
        claims = with_changes(self.ssa_claims(software), changes)
        return sign_compact(claims, self._jwk, {"alg": self.alg, "kid": self._jwk["kid"], "typ": "JWT"})


def _alg_of(key: DemoKey | jwk.JWK) -> str:
    alg = key.alg if isinstance(key, DemoKey) else key.get("alg")
    if not isinstance(alg, str):
        raise JoselabError("a published key needs its alg: pass alg= for a key that names none")
    return alg


def _published(key: DemoKey | jwk.JWK, alg: str) -> dict[str, Any]:
    """A JWK Set with the public half of ``key``, tied to ``alg`` and ``use: sig``."""
    return {"keys": [{**public_jwks(key)["keys"][0], "alg": alg, "use": "sig"}]}


class Client:
    """The TPP's software: builds and sends its signed registration request (OB DCR v3.2)."""

    def __init__(
        self, software: Software, *, key: DemoKey | jwk.JWK | None = None, alg: str = "PS256", clock: Clock, ids: IdSource
    ) -> None:
        self.software = software
        self.key = key if key is not None else generate_key(alg)  # no demo key unless asked for
        self.alg = alg
        self.clock = clock
        self.ids = ids

    @property
    def jwk(self) -> jwk.JWK:
        return as_jwk(self.key)

    def request_claims(self, ssa: str, audience: str, *, lifetime: int = 300, **changes: Any) -> dict[str, Any]:
        """The request's claims; ``changes`` replace claims (None removes one)."""
        now = self.clock.now()
        claims = {
            "iss": self.software.software_id,
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "jti": self.ids.uuid4(),
            "software_id": self.software.software_id,
            "redirect_uris": list(self.software.redirect_uris[:1]),
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": self.alg,
            "grant_types": ["authorization_code", "client_credentials", "refresh_token"],
            "response_types": ["code"],
            "application_type": "web",
            "software_statement": ssa,
        }
        return with_changes(claims, changes)

    def sign(self, claims: Mapping[str, Any], **header: Any) -> str:
        return sign_compact(claims, self.jwk, {"alg": self.alg, "kid": self.jwk["kid"], "typ": "JWT", **header})

    def registration_request(self, ssa: str, audience: str, **changes: Any) -> str:
        """A signed registration request for the AS ``audience``."""
        return self.sign(self.request_claims(ssa, audience, **changes))

    @staticmethod
    def send(network: Network, register_url: str, request: str) -> HttpResponse:
        """POST the signed request: the body is the JWT (OB DCR v3.2 (POST /register); RFC 7591 §3.1 sends JSON)."""
        return network.post(register_url, request.encode("ascii"), "application/jwt")


class ClientStore:
    """Registered clients, in sqlite (so they survive a restart of the AS)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.execute(
            "CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, software_id TEXT NOT NULL,"
            " issued_at INTEGER NOT NULL, metadata TEXT NOT NULL)"
        )

    def add(self, client_id: str, software_id: str, issued_at: int, metadata: Mapping[str, Any]) -> bool:
        """Store a client; False if ``client_id`` is taken."""
        sql = "INSERT OR IGNORE INTO clients VALUES (?, ?, ?, ?)"
        return self.db.execute_count(sql, (client_id, software_id, issued_at, json.dumps(dict(metadata)))) == 1

    def get(self, client_id: str) -> dict[str, Any] | None:
        rows = self.db.execute("SELECT metadata FROM clients WHERE client_id = ?", (client_id,))
        return json.loads(rows[0][0]) if rows else None

    def for_software(self, software_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT client_id FROM clients WHERE software_id = ? ORDER BY issued_at, client_id", (software_id,)
        )
        return [r[0] for r in rows]

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM clients")[0][0]


@dataclass
class Registration:
    """What the AS did with one registration request: the HTTP answer and the two traces."""

    status: int
    body: dict[str, Any]
    statement_trace: Trace | None
    request_trace: Trace | None
    overridden: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 201

    def traces(self) -> list[Trace]:
        return [t for t in (self.statement_trace, self.request_trace) if t is not None]

    def __str__(self) -> str:
        head = f"HTTP {self.status} {json.dumps(_short(self.body), ensure_ascii=False)}"
        return "\n\n".join([head, *(str(t) for t in self.traces())])

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        head = f"<p><strong>HTTP {self.status}</strong> <code>{html.escape(json.dumps(_short(self.body), ensure_ascii=False))}</code></p>"
        return head + "".join(t._repr_html_() for t in self.traces())


def _short(body: Mapping[str, Any]) -> dict[str, Any]:
    # The statement is echoed in a 201 (RFC 7591 §3.2.1); a one-line summary need not repeat it.
    return {k: ("<the software statement, unmodified>" if k == "software_statement" else v) for k, v in body.items()}


class RegistrationServer:
    """The bank's registration endpoint, ``POST https://<host>/register`` (RFC 7591 §3, OB DCR v3.2).

    State lives in the sqlite file ``db_path``: registered clients (:class:`ClientStore`) and the
    request ``jti`` values seen (:class:`~joselab.parties.ReplayStore`). A new server on the same
    file after :meth:`stop` remembers both. ``outcomes`` keeps every :class:`Registration`, traces
    included, for the notebook to show.
    """

    def __init__(
        self,
        network: Network,
        db_path: str | Path,
        *,
        directories: Sequence[TrustedDirectory],
        clock: Clock,
        ids: IdSource,
        host: str = AS_HOST,
        accept_unsigned_ssa: bool = False,
        ssa_max_age: int = 86_400,
        client_ids: IdSource | None = None,
    ) -> None:
        self.network = network
        self.clock = clock
        self.ids = ids
        #: Where ``client_id`` values come from: ``ids`` unless given (the demo passes its own, so the
        #: first client registered gets :data:`joselab.cast.CLIENT_ID`).
        self.client_ids = client_ids if client_ids is not None else ids
        self.server = LocalServer(host, network)
        self.issuer = self.server.url("")
        self.register_url = self.server.url("/register")
        self.db = Database(db_path)
        self.replay = ReplayStore(self.db, "registration_jti")
        self.clients = ClientStore(self.db)
        self.statements = SoftwareStatementValidator(
            directories, network, clock=clock, max_age=ssa_max_age, accept_unsigned=accept_unsigned_ssa
        )
        self.requests = RegistrationRequestValidator(self.issuer, network, self.replay, clock=clock)
        self.outcomes: list[Registration] = []
        self._lock = threading.Lock()
        self.server.route("POST", "/register")(self._handle)

    def start(self) -> RegistrationServer:
        self.server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the database (the file stays)."""
        self.server.stop()
        self.db.close()

    @property
    def last(self) -> Registration:
        return self.outcomes[-1]

    def _handle(self, request: Request) -> Response:
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        outcome = self.register(request.body, content_type)
        return json_response(outcome.status, outcome.body)

    def register(self, body: bytes | str, content_type: str = "application/jwt") -> Registration:
        """Process one registration request: the body of ``POST /register`` and its media type."""
        if content_type not in REQUEST_CONTENT_TYPES:
            trace = Trace("OB DCR v3.2: the registration request, at the AS")
            trace.note_failure(MalformedToken("body is a signed JWT (application/jwt)", OB_DCR, f"Content-Type {content_type!r}"))
            outcome = self._refuse(None, trace, "request")
        else:
            outcome = self._register(body)
        with self._lock:
            self.outcomes.append(outcome)
        return outcome

    def _register(self, body: bytes | str) -> Registration:
        request_trace = Trace("OB DCR v3.2: the registration request, at the AS")
        try:
            token = body.decode("ascii") if isinstance(body, bytes) else body
            ssa = extract_software_statement(token)
        except UnicodeDecodeError:
            request_trace.note_failure(MalformedToken("body is a compact JWS (ASCII)", "RFC 7515 §7.1", "non-ASCII bytes"))
            return self._refuse(None, request_trace, "request")
        except ValidationError as exc:
            request_trace.note_failure(exc)
            return self._refuse(None, request_trace, "request")
        statement_trace = self.statements.validate(ssa)
        if not statement_trace.ok:
            return self._refuse(statement_trace, None, "statement")
        ssa_claims = statement_trace.result
        assert isinstance(ssa_claims, dict)
        request_trace = self.requests.validate(token, ssa_claims, ssa)
        if not request_trace.ok:
            return self._refuse(statement_trace, request_trace, "request")
        claims = request_trace.result
        assert isinstance(claims, dict)
        metadata, overridden = registered_metadata(claims, ssa_claims)
        now = self.clock.now()
        for _ in range(8):  # a fresh id cannot collide in practice; a reused demo seed can
            client_id = self.client_ids.uuid4()
            if self.clients.add(client_id, ssa_claims["software_id"], now, metadata):
                break
        else:  # pragma: no cover - eight collisions in a row
            raise JoselabError("could not allocate a client_id")
        # RFC 7591 §3.2.1: client_id, all registered metadata, and the statement returned unmodified.
        body_out = {"client_id": client_id, "client_id_issued_at": now, **metadata, "software_statement": ssa}
        return Registration(201, body_out, statement_trace, request_trace, overridden)

    @staticmethod
    def _refuse(statement_trace: Trace | None, request_trace: Trace | None, stage: str) -> Registration:
        failed = request_trace if stage == "request" else statement_trace
        assert failed is not None and failed.error is not None
        body = {"error": rfc7591_error(stage, failed.error), "error_description": str(failed.error)}
        return Registration(400, body, statement_trace, request_trace)


# -- what attackers do, for the demos --------------------------------------------------------------


def tamper_claims(token: str, **changes: Any) -> str:
    """Change claims in a signed token and keep its header and signature, as an attacker who cannot
    sign would (the signature no longer matches: RFC 7515 §5.2)."""
    header_b64, _, signature = token.split(".")
    claims = with_changes(parse_jws(token).claims(), changes)
    return f"{header_b64}.{b64url_encode(encode_claims(claims))}.{signature}"


def unsigned_jwt(claims: Mapping[str, Any], **header: Any) -> str:
    """An unsecured JWT (RFC 7519 §6): ``alg: none`` and an empty signature. Anyone can write one."""
    return f"{encode_header({'alg': 'none', 'typ': 'JWT', **header})}.{b64url_encode(encode_claims(claims))}."


# -- the demo, assembled ---------------------------------------------------------------------------

#: The demo's client software, as the directory enrolled it: the cast's Budget Buddy (:mod:`joselab.cast`).
DEMO_SOFTWARE = Software(
    org_id=cast.ORG_ID,
    org_name=cast.ORG_NAME,
    software_id=cast.SOFTWARE_ID,
    client_name=cast.CLIENT_NAME,
    redirect_uris=cast.REDIRECT_URIS,
    roles=cast.ROLES,
)


@dataclass
class RegistrationDemo:
    """Everything scenario 1 runs on: the network, the directory, the client, the bank's AS."""

    network: Network
    directory: Directory
    client: Client
    bank: RegistrationServer
    clock: FixedClock
    ids: DemoIds
    db_path: Path
    client_ids: DemoIds | None = None

    def restart_bank(self, **options: Any) -> RegistrationServer:
        """Stop the AS and start a new one on the same sqlite file (same host name)."""
        self.bank.stop()
        options.setdefault("client_ids", self.client_ids)
        self.bank = RegistrationServer(
            self.network, self.db_path, directories=[self.directory.trusted()], clock=self.clock, ids=self.ids, **options
        ).start()
        return self.bank

    def close(self) -> None:
        self.network.close()
        self.bank.db.close()


def build_demo(
    db_path: str | Path, *, clock: FixedClock | None = None, ids: DemoIds | None = None, **bank_options: Any
) -> RegistrationDemo:
    """Start the three parties of the cast (:mod:`joselab.cast`) on 127.0.0.1, with the demo keys,
    clock and ids. The bank draws client identifiers from ``DemoIds(cast.CLIENT_ID_SEED)``, so the
    first client it registers, Budget Buddy, gets :data:`joselab.cast.CLIENT_ID`."""
    clock = clock or FixedClock()
    ids = ids or DemoIds()
    network = Network()
    directory = Directory(network, key=demo_key(cast.DIRECTORY_KEY), alg=cast.DIRECTORY_ALG, clock=clock, ids=ids)
    client = Client(DEMO_SOFTWARE, key=demo_key(cast.CLIENT_KEY), alg=cast.CLIENT_ALG, clock=clock, ids=ids)
    directory.enroll(DEMO_SOFTWARE, client.key)
    client_ids = bank_options.pop("client_ids", None) or DemoIds(cast.CLIENT_ID_SEED)
    bank = RegistrationServer(
        network, db_path, directories=[directory.trusted()], clock=clock, ids=ids, client_ids=client_ids, **bank_options
    )
    network.start()
    return RegistrationDemo(network, directory, client, bank, clock, ids, Path(db_path), client_ids)
