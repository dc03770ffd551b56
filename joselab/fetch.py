"""Fetching metadata and JWK Sets over real HTTP(S), with httpx, the way a verifier in production must.

A verifier that takes its keys from the network trusts whatever that fetch returns, so the fetch is
part of the security of every token. :class:`Fetcher` refuses everything it was not told to accept:

* **https, verified.** The server's certificate is checked against the system's CA certificates
  (httpx's default, ``certifi``), or against ``ca_bundle`` when one is given (OIDC Discovery §7.1: "a
  TLS server certificate check MUST be performed"; §7.2 says why: an unverified fetch lets a
  man in the middle hand over its own keys and endpoints).
* **Plain http only to loopback, only on request.** ``allow_loopback_http=True`` allows ``http`` to an
  IP literal in 127.0.0.0/8 or ``::1`` (joselab policy: a provider running on the same machine, as in
  the book's chapter). The name ``localhost`` is refused: it is resolved, and can resolve elsewhere.
* **No redirects.** A 3xx answer is refused, not followed (joselab policy: the issuer check of
  RFC 8414 §3.3 covers the metadata, but nothing would tie a redirected JWK Set to the issuer).
* **Bounded.** At most ``max_bytes`` of body (no compressed encodings are accepted, so the count is
  the real size) and ``timeout`` seconds for the whole exchange (joselab policy).
* **Strict JSON.** Status 200 (RFC 8414 §3.2, OIDC Discovery §4.2), a JSON media type
  (``application/json``, or a ``+json`` type such as RFC 7517 §8.5's ``application/jwk-set+json``),
  and strict JSON (no duplicate member names, :func:`joselab.compact.loads_strict`).
* **Cache-Control honoured, within bounds.** ``max-age`` (RFC 9111 §5.2.2.1), less any ``Age``
  (RFC 9111 §5.1, §4.2.3), says how long the copy is fresh; ``no-store`` and ``no-cache``
  (RFC 9111 §5.2.2.5, §5.2.2.4) make it fresh for the floor only. The result is clamped between
  ``min_cache`` and ``max_cache`` (joselab policy: a floor so that no header can make every token a
  fetch, a ceiling so that a retired key stops being trusted), and ``default_cache`` applies when the
  server says nothing. :attr:`Fetched.cache_note` says which rule applied.

Every refusal is a :class:`~joselab.errors.FetchError` subclass naming the check.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from .compact import loads_strict
from .errors import (
    BadResponse,
    CertificateError,
    FetchError,
    FetchTimeout,
    InsecureTransport,
    MalformedToken,
    RedirectRefused,
    ResponseTooLarge,
)
from .sections import POLICY

__all__ = [
    "DEFAULT_CACHE_SECONDS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "MAX_CACHE_SECONDS",
    "MIN_CACHE_SECONDS",
    "Fetched",
    "Fetcher",
    "cache_lifetime",
    "is_loopback_url",
]

#: joselab policy: the whole exchange, connection to last byte, in seconds.
DEFAULT_TIMEOUT = 5.0
#: joselab policy: the largest body read (real metadata documents and JWK Sets are a few KiB).
DEFAULT_MAX_BYTES = 256 * 1024
#: joselab policy: a fetched copy is kept at least this long, whatever the headers say.
MIN_CACHE_SECONDS = 60
#: joselab policy: and at most this long, whatever the headers say.
MAX_CACHE_SECONDS = 24 * 3600
#: joselab policy: how long a copy is kept when the server sends no ``Cache-Control: max-age``.
DEFAULT_CACHE_SECONDS = 300

_TLS_SECTION = "OIDC Discovery §7.1"
_STATUS_SECTION = "RFC 8414 §3.2, OIDC Discovery §4.2"


@dataclass(frozen=True)
class Fetched:
    """One successful fetch: the JSON ``document``, and how long it may be used (``fresh_for``
    seconds, after the floor and ceiling) with the rule that decided it (``cache_note``)."""

    url: str
    document: Any
    status: int
    content_type: str
    size: int
    fresh_for: int
    cache_note: str


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is an IP literal in the loopback range (127.0.0.0/8 or ``::1``)."""
    try:
        host = urlsplit(url).hostname
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cache_lifetime(
    headers: httpx.Headers | dict[str, str],
    *,
    min_cache: int = MIN_CACHE_SECONDS,
    max_cache: int = MAX_CACHE_SECONDS,
    default_cache: int = DEFAULT_CACHE_SECONDS,
) -> tuple[int, str]:
    """How long a response may be used, from its ``Cache-Control`` and ``Age`` (RFC 9111), clamped
    to [``min_cache``, ``max_cache``] (joselab policy); returns (seconds, the rule that applied)."""
    h = headers if isinstance(headers, httpx.Headers) else httpx.Headers(headers, encoding="utf-8")
    directives: dict[str, str | None] = {}
    for value in h.get_list("cache-control", split_commas=True):
        name, _, arg = value.strip().partition("=")
        # RFC 9111 §5.2: directive names are compared case-insensitively; the first occurrence wins.
        directives.setdefault(name.strip().lower(), arg.strip() or None)
    if "no-store" in directives or "no-cache" in directives:
        which = "no-store" if "no-store" in directives else "no-cache"
        return min_cache, f"Cache-Control {which} (RFC 9111 §5.2.2.5, §5.2.2.4): kept {min_cache}s, the floor ({POLICY})"
    max_age = directives.get("max-age")
    if max_age is not None and len(max_age) > 2 and max_age[0] == max_age[-1] == '"':
        # RFC 9111 §5.2: recipients ought to accept the quoted form, which §5.2.2.1 forbids senders.
        max_age = max_age[1:-1]
    if max_age is None or not _is_digits(max_age):
        note = "no Cache-Control max-age" if max_age is None else f"malformed max-age={max_age[:20]!r}"
        return _clamp(default_cache, min_cache, max_cache, f"{note}, the {default_cache}s default ({POLICY})")
    lifetime = int(max_age[:12])
    age_text = h.get("age", "").strip()
    age = int(age_text[:12]) if _is_digits(age_text) else 0
    seen = f"Cache-Control max-age={lifetime}" + (f", Age {age}" if age else "")
    return _clamp(max(lifetime - age, 0), min_cache, max_cache, f"{seen} (RFC 9111 §5.2.2.1, §4.2.3)")


def _is_digits(text: str) -> bool:
    # delta-seconds is 1*DIGIT (RFC 9111 §1.2.2): ASCII digits only, not any Unicode digit.
    return text.isascii() and text.isdigit()


def _clamp(seconds: int, low: int, high: int, note: str) -> tuple[int, str]:
    if seconds < low:
        return low, f"{note}: raised to the {low}s floor ({POLICY})"
    if seconds > high:
        return high, f"{note}: cut to the {high}s ceiling ({POLICY})"
    return seconds, f"{note}: kept {seconds}s"


class Fetcher:
    """GET JSON documents the way a verifier must (see the module docstring); one instance keeps one
    connection pool. Use :meth:`close`, or ``with Fetcher(...) as f:``.

    ``ca_bundle`` (a PEM file) replaces the system's CA certificates: only servers whose certificate
    chains to one of them are accepted. ``allow_loopback_http`` opts in to plain ``http`` to a
    loopback IP literal. ``timeout``, ``max_bytes`` and the cache bounds are joselab policy.
    """

    def __init__(
        self,
        *,
        ca_bundle: str | Path | None = None,
        allow_loopback_http: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        min_cache: int = MIN_CACHE_SECONDS,
        max_cache: int = MAX_CACHE_SECONDS,
        default_cache: int = DEFAULT_CACHE_SECONDS,
    ) -> None:
        if not 0 < timeout <= 60:
            raise ValueError("timeout must be in (0, 60] seconds")
        if not 0 < max_bytes <= 16 * 1024 * 1024:
            raise ValueError("max_bytes must be in (0, 16 MiB]")
        if not 0 <= min_cache <= max_cache:
            raise ValueError("min_cache must be between 0 and max_cache")
        self.ca_bundle = str(ca_bundle) if ca_bundle is not None else None
        self.allow_loopback_http = allow_loopback_http
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.min_cache = min_cache
        self.max_cache = max_cache
        self.default_cache = default_cache
        verify: ssl.SSLContext | bool = True
        if self.ca_bundle is not None:
            try:
                verify = ssl.create_default_context(cafile=self.ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise CertificateError(
                    check="CA bundle loads", section=_TLS_SECTION, evidence=f"{self.ca_bundle}: {type(exc).__name__}"
                ) from None
        # trust_env=False: no proxy or CA settings from the environment change what is trusted.
        self._client = httpx.Client(verify=verify, follow_redirects=False, trust_env=False, timeout=timeout)

    def __repr__(self) -> str:
        trust = f"CA bundle {self.ca_bundle}" if self.ca_bundle else "system CAs"
        http = ", http to loopback allowed" if self.allow_loopback_http else ""
        return f"<Fetcher https verified with {trust}{http}; {self.max_bytes} bytes, {self.timeout}s>"

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # -- the URL ----------------------------------------------------------------------------------
    def check_url(self, url: str) -> str:
        """Refuse a URL this fetcher must not GET; return what was checked, as evidence."""
        if not isinstance(url, str) or len(url) > 2048:
            raise InsecureTransport(check="URL is a string of at most 2048 characters", section=POLICY, evidence=repr(url)[:60])
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            raise InsecureTransport(check="URL is well formed", section=POLICY, evidence=url[:80]) from None
        if not parts.hostname:
            raise InsecureTransport(check="URL names a host", section=POLICY, evidence=url[:80])
        if parts.username is not None or parts.password is not None:
            raise InsecureTransport(check="URL carries no credentials", section=POLICY, evidence="userinfo present")
        if parts.fragment:
            raise InsecureTransport(check="URL has no fragment", section=POLICY, evidence=url[:80])
        if parts.scheme == "https":
            return "https"
        if parts.scheme == "http":
            if not self.allow_loopback_http:
                raise InsecureTransport(
                    check="https (TLS) is used", section=_TLS_SECTION, evidence="plain http, and allow_loopback_http is off"
                )
            if not is_loopback_url(url):
                raise InsecureTransport(
                    check="plain http only to a loopback IP address",
                    section=f"{POLICY}; {_TLS_SECTION}",
                    evidence=f"host {parts.hostname!r} is not 127.0.0.0/8 or ::1",
                )
            return "http to loopback (allow_loopback_http)"
        raise InsecureTransport(check="scheme is https", section=_TLS_SECTION, evidence=f"scheme {parts.scheme!r}")

    # -- the fetch --------------------------------------------------------------------------------
    def get_json(self, url: str) -> Fetched:
        """GET ``url`` and return its JSON document; raise a :class:`~joselab.errors.FetchError`
        subclass naming the check that refused it."""
        self.check_url(url)
        deadline = time.monotonic() + self.timeout
        headers = {"Accept": "application/json", "Accept-Encoding": "identity", "User-Agent": "joselab"}
        try:
            with self._client.stream("GET", url, headers=headers) as resp:
                body = self._read(resp, url, deadline)
                status, resp_headers = resp.status_code, resp.headers
        except FetchError:
            raise
        except httpx.TimeoutException:
            raise FetchTimeout(check=f"answered within {self.timeout}s", section=POLICY, evidence=url[:80]) from None
        except (httpx.InvalidURL, UnicodeError, ValueError):
            # httpx's own URL parser is stricter than urlsplit (spaces, bad IDNA labels, ...).
            raise InsecureTransport(check="URL is well formed", section=POLICY, evidence=url[:80]) from None
        except httpx.HTTPError as exc:
            if _certificate_failure(exc):
                raise CertificateError(
                    check="server certificate verifies against the trusted CAs",
                    section=_TLS_SECTION,
                    evidence=_certificate_reason(exc),
                ) from None
            raise FetchError(
                check="server reachable, answering well-formed HTTP",
                section=POLICY,
                evidence=f"{type(exc).__name__} for {url[:80]}",
            ) from None
        content_type = resp_headers.get("content-type", "")
        try:
            document = loads_strict(body, "fetched document", "RFC 8259")
        except MalformedToken as exc:
            raise BadResponse(check="body is strict JSON", section=_STATUS_SECTION, evidence=exc.evidence or exc.check) from None
        fresh_for, note = cache_lifetime(
            resp_headers, min_cache=self.min_cache, max_cache=self.max_cache, default_cache=self.default_cache
        )
        return Fetched(url, document, status, content_type, len(body), fresh_for, note)

    def _read(self, resp: httpx.Response, url: str, deadline: float) -> bytes:
        status = resp.status_code
        if 300 <= status < 400:
            location = resp.headers.get("location", "")
            raise RedirectRefused(check="no redirect (never followed)", section=POLICY, evidence=f"{status} to {location[:80]!r}")
        if status != 200:
            raise BadResponse(check="status is 200 OK", section=_STATUS_SECTION, evidence=f"status {status}")
        media = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if not (media == "application/json" or (media.startswith("application/") and media.endswith("+json"))):
            raise BadResponse(
                check="content type is application/json (or a +json type)",
                section="OIDC Discovery §4, RFC 8414 §3.2",
                evidence=f"Content-Type {media[:60]!r}",
            )
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            # Identity was asked for; a compressed body's real size is unknown until it is inflated.
            raise BadResponse(check="body is not compressed", section=POLICY, evidence=f"Content-Encoding {encoding[:30]!r}")
        length = resp.headers.get("content-length")
        if length is not None and _is_digits(length.strip()) and int(length.strip()[:12]) > self.max_bytes:
            raise ResponseTooLarge(
                check=f"body at most {self.max_bytes} bytes", section=POLICY, evidence=f"Content-Length {length.strip()[:12]}"
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in resp.iter_raw():
            size += len(chunk)
            if size > self.max_bytes:
                raise ResponseTooLarge(
                    check=f"body at most {self.max_bytes} bytes", section=POLICY, evidence=f"over {self.max_bytes} bytes read"
                )
            if time.monotonic() > deadline:
                raise FetchTimeout(
                    check=f"answered within {self.timeout}s", section=POLICY, evidence=f"{url[:80]}: body too slow"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _certificate_failure(exc: BaseException) -> bool:
    return any(isinstance(e, ssl.SSLCertVerificationError) for e in _causes(exc)) or "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _certificate_reason(exc: BaseException) -> str:
    for e in _causes(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return str(e.verify_message or "certificate verify failed")[:100]
    return "certificate verify failed"
