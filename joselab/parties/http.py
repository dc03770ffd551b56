"""Real HTTP on 127.0.0.1: a tiny routed server, and a client that resolves the demo's host names.

RFC 9110 semantics, the standard library's ``http.server`` and ``http.client``; no framework. Bodies
are capped on both sides so that no peer can make the other allocate without bound, and the client
never follows redirects (a JWKS fetch that redirects is refused, not followed).

A server may speak TLS (``LocalServer.tls``, a server context, say from
:meth:`joselab.parties.tls.DemoCA.mtls_server_context`); a handler then finds the client's
certificate, if it sent one, in :attr:`Request.client_certificate` (DER, as RFC 8705 §3 asks the
resource server to take it "from its TLS implementation layer"). The :class:`Network` then speaks TLS
to it, verifying the server's certificate for its public host name against ``Network.ca_file``, and
presents a client certificate when the request names one (``identity=``).
"""

from __future__ import annotations

import atexit
import http.client
import json
import socket
import ssl
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..compact import loads_strict
from ..errors import FetchError, MalformedToken

MAX_BODY_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 5.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    #: Every header field as received, in order, repeated names included (``headers`` keeps one value
    #: a name): what a check that counts fields needs (RFC 9449 §4.3 (1): not more than one ``DPoP``).
    header_fields: list[tuple[str, str]] = field(default_factory=list)
    #: The DER of the client certificate of this TLS connection (None: plain HTTP, or no certificate).
    client_certificate: bytes | None = None

    def header_values(self, name: str) -> list[str]:
        """Every value of the header fields called ``name`` (case-insensitive, RFC 9110 §5.1), in order."""
        name = name.lower()
        fields = self.header_fields or list(self.headers.items())
        return [v for k, v in fields if k.lower() == name]

    def json(self) -> Any:
        """The body as strict JSON (no duplicate names, no NaN): :class:`~joselab.errors.MalformedToken`
        otherwise, which a route turns into a 400."""
        return loads_strict(self.body, "request body")

    def form(self) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body, one value a name."""
        return {k: v[0] for k, v in parse_qs(self.body.decode("ascii", "replace"), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(value, indent=None, separators=(",", ":")).encode("utf-8")
    return Response(status, body, {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})})


Handler = Callable[[Request], Response]


class LocalServer:
    """An HTTP server on 127.0.0.1 with an ephemeral port, serving ``routes`` from a thread.

    ``host`` is the public name it plays (``as.bank.example``); :meth:`url` gives the ``https://``
    URL that tokens and metadata carry. Use as a context manager, or :meth:`start` / :meth:`stop`.
    """

    def __init__(self, host: str, network: Network | None = None) -> None:
        self.host = host
        self.routes: dict[tuple[str, str], Handler] = {}
        self.hits: Counter[str] = Counter()
        #: A server-side TLS context: set it before :meth:`start` to serve HTTPS.
        self.tls: ssl.SSLContext | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if network is not None:
            network.add(self)

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.routes[(method.upper(), path)] = fn
            return fn

        return register

    def serve_json(self, path: str, value: Callable[[], Any] | Any) -> None:
        """Serve a JSON document at ``path`` (metadata, a JWK Set); a callable is called per request."""
        self.routes[("GET", path)] = lambda _req: json_response(200, value() if callable(value) else value)

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> LocalServer:
        if self._httpd is not None:
            return self
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle(self) -> None:
                # The TLS handshake runs here, in this connection's thread, not in the accept loop:
                # a client that stalls it holds its own thread until the timeout, not the server.
                if isinstance(self.connection, ssl.SSLSocket):
                    try:
                        self.connection.settimeout(TIMEOUT_SECONDS)
                        self.connection.do_handshake()
                    except (OSError, ssl.SSLError):
                        self.close_connection = True
                        return
                    try:
                        super().handle()
                    except (OSError, ssl.SSLError):  # the peer broke the TLS session: nothing to answer
                        self.close_connection = True
                    return
                super().handle()

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0:
                    self.close_connection = True
                    self._send(Response(400, b"bad Content-Length", {"Connection": "close"}))
                    return
                if length > MAX_BODY_BYTES:
                    # Read (and drop) a bounded amount first, so a client still sending gets the 413
                    # rather than a reset connection; then close.
                    self._drain(min(length, 2 * MAX_BODY_BYTES))
                    self.close_connection = True
                    self._send(Response(413, b"request body too large", {"Connection": "close"}))
                    return
                body = self.rfile.read(length) if length else b""
                handler = server.routes.get((self.command, parts.path))
                server.hits[parts.path] += 1
                if handler is None:
                    known = any(path == parts.path for _, path in server.routes)
                    self._send(json_response(405 if known else 404, {"error": "not_found"}))
                    return
                fields = list(self.headers.items())
                peer = self.connection.getpeercert(binary_form=True) if isinstance(self.connection, ssl.SSLSocket) else None
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(fields),
                    body,
                    header_fields=fields,
                    client_certificate=peer,
                )
                try:
                    response = handler(request)
                except Exception as exc:  # a demo party answers 500, it does not die
                    response = json_response(500, {"error": "server_error", "error_description": type(exc).__name__})
                self._send(response)

            def _drain(self, count: int) -> None:
                while count > 0:
                    chunk = self.rfile.read(min(count, 64 * 1024))
                    if not chunk:
                        return
                    count -= len(chunk)

            def _send(self, response: Response) -> None:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:  # keep notebook output clean
                pass

        self._httpd = (_TlsHTTPServer if self.tls is not None else ThreadingHTTPServer)(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        if self.tls is not None:
            self._httpd.tls = self.tls  # type: ignore[attr-defined]
        # shutdown() waits for the loop's next poll: a short interval makes stop() take ~50 ms, not 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"joselab {self.host}", daemon=True
        )
        self._thread.start()
        _LIVE.add(self)
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
            _LIVE.discard(self)

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise FetchError(f"{self.host} is not running")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """Where it really listens: ``http://127.0.0.1:<ephemeral port>`` (``https`` with :attr:`tls`)."""
        return f"{'https' if self.tls is not None else 'http'}://127.0.0.1:{self.port}"

    def url(self, path: str = "") -> str:
        """The public URL of ``path`` (what goes into tokens and metadata)."""
        return f"https://{self.host}{path}"

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"<LocalServer {self.host} at {where}>"


_LIVE: weakref.WeakSet[LocalServer] = weakref.WeakSet()


class _TlsHTTPServer(ThreadingHTTPServer):
    """Accepts TCP and wraps each connection in TLS; the handshake waits for the handler's thread."""

    tls: ssl.SSLContext

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        # TLS 1.3 servers send session tickets after the handshake: with Nagle's algorithm on, the
        # response then waits for the client's delayed ACK (40 ms a request on Linux loopback).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


class _LoopbackHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 that verifies the server's certificate for the public host name it plays
    (SNI and the hostname check use ``host``; the TCP connection goes to loopback)."""

    def connect(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client's own connect does
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as strict JSON: a JWK Set or metadata document with two members of one name (which
        one wins is up to each parser, RFC 8259 §4) or a ``NaN`` is refused, not read."""
        try:
            return loads_strict(self.body, "response body")
        except MalformedToken as exc:
            raise FetchError(f"response ({self.status}) is not JSON, or not strict JSON: {exc.check} ({exc.evidence})") from None


class Network:
    """The demo's name service: ``https://<host>/...`` goes to the loopback server playing ``host``.

    It stands in for DNS, and for TLS to a server without ``tls`` (a real deployment verifies the
    server's certificate for that name); everything else about the request is real HTTP. A server
    with ``tls`` gets real TLS: its certificate is verified for its host name against ``ca_file``.
    Unknown names are refused.
    """

    def __init__(self, *, ca_file: str | None = None) -> None:
        self.servers: dict[str, LocalServer] = {}
        #: The CA certificates (PEM) that TLS servers on this network are verified against.
        self.ca_file = ca_file
        self._contexts: dict[object, ssl.SSLContext] = {}

    def add(self, server: LocalServer) -> LocalServer:
        self.servers[server.host] = server
        return server

    def start(self) -> Network:
        for server in self.servers.values():
            server.start()
        return self

    def close(self) -> None:
        """Stop every server (the end of a notebook). They stop together: each stop waits up to one
        poll interval for its server's loop to notice."""
        stopping = [threading.Thread(target=server.stop) for server in self.servers.values()]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()

    def __enter__(self) -> Network:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        max_bytes: int = MAX_BODY_BYTES,
        identity: Any = None,
    ) -> HttpResponse:
        """Send one request over real HTTP on loopback; refuse unknown hosts, redirects and big bodies.
        ``headers`` as a list of pairs may repeat a name (two ``DPoP`` fields, say): each is sent.
        ``identity`` (a :class:`joselab.parties.tls.TlsIdentity`) is the client certificate presented
        to a TLS server (mutual TLS); a plain HTTP server ignores it."""
        try:
            parts = urlsplit(url)
            port = parts.port  # raises ValueError on a port that is not a number
        except (TypeError, ValueError, AttributeError):
            raise FetchError(f"{url!r} is not a URL (no request was sent)") from None
        server = self.servers.get(parts.hostname or "")
        if parts.scheme != "https" or server is None or port is not None:
            raise FetchError(f"{url!r} is not a party on this demo network (no request was sent)")
        if not server.running:
            raise FetchError(f"{server.host} is not running")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            conn: http.client.HTTPConnection = (
                _LoopbackHTTPSConnection(
                    server.host, server.port, timeout=TIMEOUT_SECONDS, context=self._client_context(identity)
                )
                if getattr(server, "tls", None) is not None
                else http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT_SECONDS)
            )
        except (OSError, ssl.SSLError) as exc:  # a certificate or key file that does not load
            raise FetchError(f"{method} {url} failed: {type(exc).__name__}") from None
        try:
            try:
                if headers is None or isinstance(headers, Mapping):
                    conn.request(method, path, body=body, headers={"Host": server.host, **(headers or {})})
                else:
                    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                    conn.putheader("Host", server.host)
                    for name, value in headers:
                        conn.putheader(name, value)
                    if body is not None:
                        conn.putheader("Content-Length", str(len(body)))
                    conn.endheaders(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early and closed (e.g. 413): its answer may still be there to read
            resp = conn.getresponse()
            length = resp.getheader("Content-Length")
            if length is not None and int(length) > max_bytes:
                raise FetchError(f"{url} answered {length} bytes, over the {max_bytes} cap")
            data = resp.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise FetchError(f"{url} answered over the {max_bytes} byte cap")
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # ValueError: a Content-Length not a number
            raise FetchError(f"{method} {url} failed: {type(exc).__name__}") from None
        finally:
            conn.close()

    def _client_context(self, identity: Any) -> ssl.SSLContext:
        key = None if identity is None else (str(identity.cert_file), str(identity.key_file))
        context = self._contexts.get(key)
        if context is None:
            context = ssl.create_default_context(cafile=self.ca_file)
            if identity is not None:
                context.load_cert_chain(identity.cert_file, identity.key_file)
            self._contexts[key] = context
        return context

    def get_json(self, url: str, *, max_bytes: int = 256 * 1024) -> Any:
        """GET a JSON document (metadata, a JWK Set): 200 and JSON, or :class:`FetchError`."""
        resp = self.request("GET", url, max_bytes=max_bytes)
        if resp.status != 200:
            raise FetchError(f"GET {url} answered {resp.status}")
        return resp.json()

    def post(self, url: str, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return self.request("POST", url, body=body, headers={"Content-Type": content_type, **(headers or {})})
