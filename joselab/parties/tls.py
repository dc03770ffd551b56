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
import hashlib
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
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Answer", "DemoCA", "DocumentServer", "TlsIdentity"]

#: RFC 5280 §4.1.2.5: a notAfter of 99991231235959Z means the certificate has no well-defined
#: expiration date. A seeded (reproducible) demo CA uses it, so its certificates never change.
NO_EXPIRY = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


@dataclass(frozen=True)
class TlsIdentity:
    """A TLS client's certificate and private key (PEM files), and the certificate's DER."""

    name: str
    cert_file: Path
    key_file: Path
    der: bytes

    @property
    def subject(self) -> str:
        """The certificate's subject DN as an RFC 4514 string."""
        return x509.load_der_x509_certificate(self.der).subject.rfc4514_string()

    def __repr__(self) -> str:
        return f"<TlsIdentity {self.name}: {self.subject}>"


class DemoCA:
    """A throwaway CA in ``directory``: ``ca_file`` is its certificate (PEM).

    By default its keys are fresh EC P-256 keys and its certificates are valid from an hour ago for a
    day. With ``seed`` (a demo builder's choice, for reproducible notebooks) every key is an Ed25519
    key derived from the seed and the certificate's name, serial numbers are derived too, and the
    certificates are valid from ``not_before`` with no expiry (:data:`NO_EXPIRY`): Ed25519 signatures
    are deterministic, so the same seed makes byte-identical certificates, and so the same
    ``x5t#S256`` thumbprints, on every run. Never use a seeded CA outside a demo: anyone who knows
    the seed has its keys.
    """

    def __init__(
        self,
        directory: str | Path,
        name: str = "joselab demo CA",
        *,
        seed: bytes | None = None,
        not_before: datetime.datetime | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        now = datetime.datetime.now(datetime.UTC)
        if seed is None:
            self._validity = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))
        else:
            start = not_before if not_before is not None else datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
            self._validity = (start, NO_EXPIRY)
        self._key = self._new_key("ca")
        self.name = name
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self._key.public_key())
            .serial_number(self._serial("ca"))
            .not_valid_before(self._validity[0])
            .not_valid_after(self._validity[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # keyCertSign, cRLSign
            .sign(self._key, self._hash)
        )
        self.ca_file = self.directory / "ca.pem"
        self.ca_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def __repr__(self) -> str:
        return f"<DemoCA {self.name!r} in {self.directory}>"

    @property
    def _hash(self) -> hashes.HashAlgorithm | None:
        return None if self.seed is not None else hashes.SHA256()  # Ed25519 signs without a separate hash

    def _new_key(self, label: str) -> ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey:
        if self.seed is None:
            return ec.generate_private_key(ec.SECP256R1())
        return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(self.seed + b"/key/" + label.encode()).digest())

    def _serial(self, label: str) -> int:
        if self.seed is None:
            return x509.random_serial_number()
        # RFC 5280 §4.1.2.2: a positive integer of at most 20 octets; 152 bits keep the top bit clear.
        return int.from_bytes(hashlib.sha256(self.seed + b"/serial/" + label.encode()).digest()[:19], "big") | 1

    def issue(
        self,
        name: str = "server",
        ips: tuple[str, ...] = ("127.0.0.1",),
        *,
        dns: tuple[str, ...] = (),
    ) -> tuple[Path, Path]:
        """A server certificate for ``ips`` and the host names ``dns`` (subjectAltName entries);
        returns (cert file, key file)."""
        sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        cert, key = self._leaf(name, _name(name), ExtendedKeyUsageOID.SERVER_AUTH, sans)
        return self._write(name, cert, key)

    def issue_client(self, name: str, subject: x509.Name | str | None = None) -> TlsIdentity:
        """A TLS client certificate (extended key usage clientAuth) with ``subject`` (an
        :class:`x509.Name` or an RFC 4514 string; default ``CN=<name>``)."""
        if isinstance(subject, str):
            subject = x509.Name.from_rfc4514_string(subject)
        cert, key = self._leaf(name, subject if subject is not None else _name(name), ExtendedKeyUsageOID.CLIENT_AUTH, [])
        cert_file, key_file = self._write(name, cert, key)
        return TlsIdentity(name, cert_file, key_file, cert.public_bytes(serialization.Encoding.DER))

    def _leaf(self, label: str, subject: x509.Name, usage: x509.ObjectIdentifier, sans: list) -> tuple[x509.Certificate, Any]:
        key = self._new_key(label)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(self._serial(label))
            .not_valid_before(self._validity[0])
            .not_valid_after(self._validity[1])
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(self._key, self._hash), key

    def _write(self, name: str, cert: x509.Certificate, key: Any) -> tuple[Path, Path]:
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

    def mtls_server_context(self, name: str, dns: tuple[str, ...] = ()) -> ssl.SSLContext:
        """A TLS server context for the host names ``dns`` that asks every client for a certificate
        from this CA (RFC 8705 §3: the server must request it in the handshake, before it sees the
        token). A client may send none (``CERT_OPTIONAL``, as RFC 8705 §6.1 describes for an AS that
        serves other clients in parallel; the API needs it too, to answer a call without a certificate
        with a 401 at the binding row rather than a failed handshake); one that does not verify
        against this CA ends the handshake. RFC 8705 §6.2 lets a resource server skip the chain check; Python's ``ssl`` has no
        switch for "request, but do not verify", so this demo verifies."""
        cert_file, key_file = self.issue(name, dns=dns)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(self.ca_file)
        return context

    def client_context(self, identity: TlsIdentity | None = None) -> ssl.SSLContext:
        """A TLS client context that trusts this CA and presents ``identity``'s certificate, if given."""
        context = ssl.create_default_context(cafile=self.ca_file)
        if identity is not None:
            context.load_cert_chain(identity.cert_file, identity.key_file)
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
            self._httpd.shutdown()
            self._httpd.server_close()
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
