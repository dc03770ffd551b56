"""A demo certificate authority made at run time, and a small HTTP(S) document server on 127.0.0.1.

:class:`DemoCA` makes a CA certificate and server certificates for ``127.0.0.1`` with
``cryptography`` (EC P-256, valid from an hour ago for a day), written as PEM files into a directory
the caller owns (a ``tempfile.TemporaryDirectory()``). Its CA file is what a
:class:`joselab.fetch.Fetcher` is given as ``ca_bundle``; without it, the server's certificate does
not verify, exactly as with an unknown CA in production. Nothing here is for production use: the CA's
private key sits in a temporary directory.

:class:`DocumentServer` serves fixed answers (status, headers, body) by path, over plain HTTP or
over TLS with a certificate from a :class:`DemoCA`, and counts the requests per path. Tests and the
provider chapter use it to show what a fetcher refuses.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .http import shutdown_server

__all__ = ["Answer", "DemoCA", "DocumentServer"]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


class DemoCA:
    """A throwaway CA in ``directory``: ``ca_file`` is its certificate (PEM)."""

    def __init__(self, directory: str | Path, name: str = "joselab demo CA") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.name = name
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # keyCertSign, cRLSign
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = self.directory / "ca.pem"
        self.ca_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def __repr__(self) -> str:
        return f"<DemoCA {self.name!r} in {self.directory}>"

    def issue(self, name: str = "server", ips: tuple[str, ...] = ("127.0.0.1",)) -> tuple[Path, Path]:
        """A server certificate for ``ips`` (subjectAltName IP entries); returns (cert file, key file)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        cert_file = self.directory / f"{name}.pem"
        key_file = self.directory / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key_file, key)
        return cert_file, key_file

    def server_context(self, name: str = "server") -> ssl.SSLContext:
        """A TLS server context with a fresh certificate for 127.0.0.1 from this CA."""
        cert_file, key_file = self.issue(name)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        return context


@dataclass
class Answer:
    """What :class:`DocumentServer` answers on one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] | None = None
    chunks: int = 1  # send the body in this many writes
    length: bool = True  # False: no Content-Length, the body ends when the connection closes

    @classmethod
    def json(cls, value: Any, status: int = 200, **headers: str) -> Answer:
        hdrs = {"Content-Type": "application/json", **{k.replace("_", "-"): v for k, v in headers.items()}}
        return cls(status, json.dumps(value).encode("utf-8"), hdrs)


class DocumentServer:
    """Fixed answers by path on 127.0.0.1 (an ephemeral port), over http, or https with ``tls``.

    ``answers`` maps a path to an :class:`Answer` or to a callable returning one (called per
    request). ``hits`` counts requests per path. Use as a context manager, or ``start``/``stop``.
    """

    def __init__(
        self, answers: dict[str, Answer | Callable[[], Answer]] | None = None, *, tls: ssl.SSLContext | None = None
    ) -> None:
        self.answers: dict[str, Answer | Callable[[], Answer]] = dict(answers or {})
        self.tls = tls
        self.hits: Counter[str] = Counter()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> DocumentServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.hits[path] += 1
                answer = server.answers.get(path)
                if callable(answer):
                    answer = answer()
                if answer is None:
                    answer = Answer.json({"error": "not found"}, 404)
                self.send_response(answer.status)
                if answer.length:
                    headers = {"Content-Length": str(len(answer.body)), **(answer.headers or {})}
                else:
                    headers = {"Connection": "close", **(answer.headers or {})}
                    self.close_connection = True
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                step = max(1, len(answer.body) // max(answer.chunks, 1))
                try:
                    for i in range(0, len(answer.body), step):
                        self.wfile.write(answer.body[i : i + step])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: that is what a size limit does

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="joselab-documents", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            shutdown_server(self._httpd)  # at once, not at the loop's next poll
            self._httpd = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() first"
        return self._httpd.server_address[1]

    def url(self, path: str = "") -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> DocumentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
