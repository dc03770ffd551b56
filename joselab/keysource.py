"""Key sources: where a validator gets the issuer's public keys, from configuration or from the network.

Every validator in joselab takes ``keys``: a :class:`jwcrypto.jwk.JWKSet`, or a callable
``header -> JWK | None`` (:data:`joselab.jws.KeySource`). The two classes here are such callables:

* :class:`StaticKeys`: a JWK Set given in configuration (pinned keys, no network);
* :class:`DiscoveredKeys`: from the issuer identifier alone, the metadata document and then the JWK
  Set at its ``jwks_uri``, fetched with :class:`joselab.fetch.Fetcher` (https verified, no redirects,
  bounded, cached as ``Cache-Control`` says within joselab's floor and ceiling). Two discovery
  documents exist:

  - OpenID Connect Discovery §4: ``/.well-known/openid-configuration`` *appended* to the issuer
    (any terminating ``/`` removed first, §4.1): ``https://h/t`` → ``https://h/t/.well-known/openid-configuration``;
  - RFC 8414 §3: ``/.well-known/oauth-authorization-server`` *inserted* between the host and the
    path: ``https://h/t`` → ``https://h/.well-known/oauth-authorization-server/t``.

  Either way the document's ``issuer`` must be identical to the issuer it was fetched for (RFC 8414
  §3.3, OIDC Discovery §4.3), or the document is not used: otherwise a server could publish metadata
  naming another issuer and have its keys trusted for that issuer's tokens (OIDC Discovery §7.2).

  A ``kid`` that is not in the cached set fetches the set again at once (the provider rotated its
  keys: OIDC Core §10.1.1), but at most once every ``min_refetch_interval`` seconds (joselab
  policy): tokens with made-up ``kid`` values cannot turn every request into a fetch.

Both bind each key to one algorithm (RFC 8725 §3.1). A key whose JWK has ``alg`` serves that
algorithm. A key without ``alg`` (RFC 7517 §4.4 makes it optional, and several providers omit it) is
refused unless ``key_algorithms`` names its algorithm, by ``kid`` or by key type (``"RSA"``,
``"EC P-256"``, ``"OKP Ed25519"``); and ``EdDSA`` (the polymorphic name RFC 9864 deprecates in favour
of ``Ed25519``) is refused unless ``accept_eddsa`` is on. Each of these leniencies is a named option,
and each time one is used it adds a row to the trace of the validation (``leniency key_algorithms:``,
``leniency accept_eddsa:``), so none is ever silent. The decision is the core's
:class:`joselab.keys.KeyBinding`, built from ``key_algorithms`` with :meth:`~joselab.keys.KeyBinding.from_names`
and inferring nothing (``infer=False``); a source may be given a ``binding`` of its own instead.
A key whose ``alg`` contradicts its configured one serves nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from jwcrypto import jwk

from .clock import Clock, SystemClock
from .errors import FetchError, InvalidMetadata, IssuerMismatch, JoselabError, KeyNotFound, KeySetError, ValidationError
from .fetch import Fetched, Fetcher
from .keys import KeyBinding, load_jwks
from .sections import POLICY
from .trace import Trace, active_trace, as_evidence

__all__ = [
    "DISCOVERY_KINDS",
    "MIN_REFETCH_INTERVAL",
    "DiscoveredKeys",
    "StaticKeys",
    "metadata_url",
    "oauth_metadata_url",
    "openid_configuration_url",
]

OPENID_CONFIGURATION = "/.well-known/openid-configuration"  # OIDC Discovery §4
OAUTH_AUTHORIZATION_SERVER = "/.well-known/oauth-authorization-server"  # RFC 8414 §3
#: The two discovery documents, by the name :class:`DiscoveredKeys` takes.
DISCOVERY_KINDS = ("openid-configuration", "oauth-authorization-server")
#: joselab policy: at most one refetch for an unknown ``kid`` in this many seconds.
MIN_REFETCH_INTERVAL = 60

_KID_SECTION = "RFC 7515 §4.1.4"
_BIND_SECTION = "RFC 8725 §3.1"


def openid_configuration_url(issuer: str) -> str:
    """OIDC Discovery §4, §4.1: the issuer, any terminating ``/`` removed, then
    ``/.well-known/openid-configuration``."""
    return issuer.rstrip("/") + OPENID_CONFIGURATION if urlsplit(issuer).path else issuer + OPENID_CONFIGURATION


def oauth_metadata_url(issuer: str) -> str:
    """RFC 8414 §3: ``/.well-known/oauth-authorization-server`` inserted between the host component
    and the path component (a terminating ``/`` of the path removed first)."""
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}{OAUTH_AUTHORIZATION_SERVER}{parts.path.rstrip('/')}"


def metadata_url(issuer: str, kind: str = "openid-configuration") -> str:
    """The metadata URL of ``issuer`` for ``kind``, one of :data:`DISCOVERY_KINDS`."""
    if kind == "openid-configuration":
        return openid_configuration_url(issuer)
    if kind == "oauth-authorization-server":
        return oauth_metadata_url(issuer)
    raise ValueError(f"discovery must be one of {DISCOVERY_KINDS}, not {kind!r}")


class _Binding:
    """What both key sources share: the key-to-algorithm binding (RFC 8725 §3.1), decided by a
    :class:`joselab.keys.KeyBinding` that infers nothing (``infer=False``), and its two named
    leniencies, each a trace row when used."""

    def __init__(self, key_algorithms: Mapping[str, str] | None, accept_eddsa: bool, binding: KeyBinding | None) -> None:
        if binding is not None and key_algorithms:
            raise ValueError("give key_algorithms or binding, not both")
        self.key_algorithms = dict(key_algorithms or {})
        self.accept_eddsa = accept_eddsa
        #: The one decision of which algorithm a key without ``alg`` serves (the core's KeyBinding).
        self.binding = binding if binding is not None else KeyBinding.from_names(self.key_algorithms, infer=False)

    def bind(self, key: jwk.JWK, header: Mapping[str, Any]) -> jwk.JWK:
        """``key`` with the one algorithm it serves; raise :class:`KeyNotFound` when none is known."""
        alg = header.get("alg")
        kid = key.get("kid")
        trace = active_trace()
        if alg == "EdDSA":
            if not self.accept_eddsa:
                raise KeyNotFound(
                    "alg is fully specified (Ed25519, not the deprecated EdDSA)",
                    "RFC 9864",
                    "alg = EdDSA, and accept_eddsa is off",
                )
            if trace is not None:
                curve = f"{key.get('kty')} {key.get('crv')}"
                trace.leniency("accept_eddsa", "RFC 9864", "the deprecated name EdDSA accepted", f"kid={kid!r}, {curve} key")
        served, how = self.binding.algorithm_for(key, (alg,) if isinstance(alg, str) else ())
        if served is None:
            if "alg" in key:
                raise KeyNotFound("the key kid selects names its one algorithm (alg)", _BIND_SECTION, f"kid={kid!r}: {how}")
            raise KeyNotFound(
                "the key kid selects names its one algorithm (alg)",
                _BIND_SECTION,
                f"kid={kid!r} has no alg, and key_algorithms names none for it",
            )
        renamed = self.accept_eddsa and alg == "EdDSA" and served == "Ed25519"
        if "alg" in key:
            if renamed:
                return jwk.JWK(**{**key.export(as_dict=True, private_key=False), "alg": "EdDSA"})
            return key
        if trace is not None:
            trace.leniency(
                "key_algorithms",
                "RFC 7517 §4.4",
                f"a key without alg, bound to {served} by configuration",
                f"kid={kid!r}, by {self.binding.configured_name(key)!r}",
            )
        return jwk.JWK(**{**key.export(as_dict=True, private_key=False), "alg": "EdDSA" if renamed else served})


def _find(keyset: jwk.JWKSet | None, kid: Any) -> tuple[jwk.JWK | None, int]:
    keys = list(keyset["keys"]) if keyset is not None else []
    if kid is None:
        return (keys[0] if len(keys) == 1 else None), len(keys)
    return next((k for k in keys if k.get("kid") == kid), None), len(keys)


class StaticKeys(_Binding):
    """A JWK Set from configuration, as a key source (no network). ``jwks`` is a JWK Set document (a
    dict or JSON text, checked by :func:`joselab.keys.load_jwks`) or a :class:`jwcrypto.jwk.JWKSet`."""

    def __init__(
        self,
        jwks: jwk.JWKSet | Mapping[str, Any] | str | bytes,
        *,
        key_algorithms: Mapping[str, str] | None = None,
        accept_eddsa: bool = False,
        binding: KeyBinding | None = None,
    ) -> None:
        super().__init__(key_algorithms, accept_eddsa, binding)
        self.keyset = jwks if isinstance(jwks, jwk.JWKSet) else load_jwks(dict(jwks) if isinstance(jwks, Mapping) else jwks)

    def __repr__(self) -> str:
        return f"<StaticKeys: {len(list(self.keyset['keys']))} keys>"

    def __call__(self, header: Mapping[str, Any]) -> jwk.JWK | None:
        key, count = _find(self.keyset, header.get("kid"))
        if key is None and header.get("kid") is None:
            raise KeyNotFound("kid names a trusted key", _KID_SECTION, f"no kid, and {count} trusted keys")
        return None if key is None else self.bind(key, header)


class DiscoveredKeys(_Binding):
    """The issuer's keys from its issuer identifier alone: metadata, then the JWK Set, over
    verified https (see the module docstring). A key source for any joselab validator.

    ``discovery`` picks the document (:data:`DISCOVERY_KINDS`): ``"openid-configuration"`` for an
    OpenID Provider, ``"oauth-authorization-server"`` for an RFC 8414 authorization server.
    ``fetcher`` is a :class:`joselab.fetch.Fetcher` (a default one, system CAs, https only, if not
    given); ``clock`` times the cache (the real clock by default). :meth:`discover` fetches now and
    returns the trace of what it checked; otherwise the first key lookup fetches. ``fetches`` counts
    the JWK Set fetches and ``log`` says why each happened.
    """

    def __init__(
        self,
        issuer: str,
        *,
        discovery: str = "openid-configuration",
        fetcher: Fetcher | None = None,
        clock: Clock | None = None,
        min_refetch_interval: int = MIN_REFETCH_INTERVAL,
        key_algorithms: Mapping[str, str] | None = None,
        accept_eddsa: bool = False,
        binding: KeyBinding | None = None,
    ) -> None:
        super().__init__(key_algorithms, accept_eddsa, binding)
        self.issuer = issuer
        self.discovery = discovery
        self.metadata_url = metadata_url(issuer, discovery)
        self.fetcher = fetcher if fetcher is not None else Fetcher()
        self.clock = clock if clock is not None else SystemClock()
        self.min_refetch_interval = min_refetch_interval
        self.metadata: dict[str, Any] | None = None
        self.keyset: jwk.JWKSet | None = None
        self.kids: list[str | None] = []
        self.fetches = 0
        self.log: list[str] = []
        self._metadata_until = 0
        self._keys_until = 0
        self._last_attempt: int | None = None
        self._last_unknown_kid_fetch: int | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<DiscoveredKeys {self.issuer} via {self.discovery}: {len(self.kids)} keys, {self.fetches} fetches>"

    @property
    def jwks_uri(self) -> str | None:
        return self.metadata.get("jwks_uri") if self.metadata else None

    # -- fetching -------------------------------------------------------------------------------
    def discover(self, *, strict: bool = False) -> Trace:
        """Fetch the metadata and the JWK Set now; return the trace of every check made on them.
        With ``strict`` a failure raises its :class:`~joselab.errors.FetchError` (or
        :class:`~joselab.errors.KeySetError`)."""
        trace = Trace(f"Discovery from the issuer identifier {self.issuer}")
        failure: JoselabError | None = None
        with trace.run(), self._lock:
            try:
                self._refresh(trace, "discover()", force_metadata=True)
            except (FetchError, KeySetError) as exc:
                failure = exc
                section = getattr(exc, "section", "") or "RFC 7517 §5"
                trace.note_failure(ValidationError(getattr(exc, "check", "") or str(exc), section, getattr(exc, "evidence", "")))
            trace.result = self.metadata
        if strict and failure is not None:
            raise failure
        return trace

    def refresh(self, reason: str = "refresh") -> Trace:
        """Fetch the JWK Set again now (and the metadata, if its copy is stale); return its trace."""
        trace = Trace(f"JWK Set refresh: {self.issuer}")
        with trace.run(), self._lock:
            try:
                self._refresh(trace, reason, force_metadata=False)
            except (FetchError, KeySetError) as exc:
                section = getattr(exc, "section", "") or "RFC 7517 §5"
                trace.note_failure(ValidationError(getattr(exc, "check", "") or str(exc), section, getattr(exc, "evidence", "")))
        return trace

    def _fetch(self, trace: Trace, url: str, what: str) -> Fetched:
        fetched = self.fetcher.get_json(url)  # raises a FetchError subclass naming the check
        https = url.startswith("https://")
        trace.check(
            "OIDC Discovery §7.1" if https else POLICY,
            f"{what} fetched over {'https, server certificate verified' if https else 'http to loopback (allow_loopback_http)'}",
            True,
            f"GET {url} → 200, {fetched.size} bytes",
        )
        return fetched

    def _refresh(self, trace: Trace, reason: str, *, force_metadata: bool) -> None:
        now = self.clock.now()
        # The attempt counts for the rate limit even if it fails: a failing server is not hammered either.
        self._last_attempt = now
        self.log.append(reason)
        if force_metadata or self.metadata is None or now >= self._metadata_until:
            self._load_metadata(trace, now)
        assert self.metadata is not None
        fetched = self._fetch(trace, self.metadata["jwks_uri"], "JWK Set")
        self.fetches += 1
        keyset = load_jwks(fetched.document)  # KeySetError if unsafe
        kids = [entry.get("kid") for entry in fetched.document["keys"]]
        trace.check(
            "RFC 7517 §5",
            "JWK Set: public keys, distinct kid values, sizes within bounds",
            True,
            f"{len(kids)} keys: {as_evidence(kids, 120)}",
        )
        trace.check(POLICY, f"JWK Set cached for {fetched.fresh_for}s", True, fetched.cache_note)
        self.keyset, self.kids = keyset, kids
        self._keys_until = now + fetched.fresh_for

    def _load_metadata(self, trace: Trace, now: int) -> None:
        openid = self.discovery == "openid-configuration"
        trace.check(
            "OIDC Discovery §4.1" if openid else "RFC 8414 §3.1",
            f"metadata URL from the issuer ({self.discovery})",
            True,
            self.metadata_url,
        )
        fetched = self._fetch(trace, self.metadata_url, "metadata")
        doc = fetched.document
        if not isinstance(doc, dict):
            raise InvalidMetadata(check="metadata is a JSON object", section="OIDC Discovery §4.2" if openid else "RFC 8414 §3.2")
        got = doc.get("issuer")
        section = "OIDC Discovery §4.3" if openid else "RFC 8414 §3.3"
        if not (isinstance(got, str) and got == self.issuer):
            raise IssuerMismatch(
                check="issuer is identical to the issuer the metadata was fetched for",
                section=section,
                evidence=f"issuer = {as_evidence(got)}, fetched for {as_evidence(self.issuer)}",
            )
        trace.check(
            section, "issuer is identical to the issuer the metadata was fetched for", True, f"issuer = {as_evidence(got)}"
        )
        jwks_uri = doc.get("jwks_uri")
        # OIDC Discovery §3 requires jwks_uri; RFC 8414 §2 makes it optional, but a verifier needs it.
        jwks_section = "OIDC Discovery §3" if openid else "RFC 8414 §2"
        if not (isinstance(jwks_uri, str) and jwks_uri):
            raise InvalidMetadata(check="jwks_uri present", section=jwks_section, evidence=f"jwks_uri = {as_evidence(jwks_uri)}")
        how = self.fetcher.check_url(jwks_uri)  # the JWK Set is fetched under the same rules
        trace.check(jwks_section, "jwks_uri present, and a URL this fetcher may GET", True, f"{how}: {jwks_uri}")
        self.metadata = doc
        self._metadata_until = now + fetched.fresh_for

    # -- the key source ---------------------------------------------------------------------------
    def __call__(self, header: Mapping[str, Any]) -> jwk.JWK | None:
        kid = header.get("kid")
        with self._lock:
            now = self.clock.now()
            running = active_trace()
            # The rows of a fetch made for this lookup go into the validation's own trace.
            rows = running if running is not None else Trace("key lookup")
            if self.keyset is None or now >= self._keys_until:
                if (
                    self.keyset is None
                    and self._last_attempt is not None
                    and now - self._last_attempt < self.min_refetch_interval
                ):
                    raise KeyNotFound(
                        "kid names a trusted key", _KID_SECTION, "no JWK Set yet: the last fetch failed, retry later"
                    )
                self._refresh_rows(rows, "first use" if self.keyset is None else "cache expired")
            key, count = _find(self.keyset, kid)
            if key is None and kid is None:
                raise KeyNotFound("kid names a trusted key", _KID_SECTION, f"no kid, and {count} trusted keys")
            if key is None:
                last = self._last_unknown_kid_fetch
                if last is not None and now - last < self.min_refetch_interval:
                    raise KeyNotFound(
                        "kid names a trusted key",
                        _KID_SECTION,
                        f"kid = {kid!r} unknown; not refetched: the last unknown-kid refetch was {now - last}s ago"
                        f" (at most one in {self.min_refetch_interval}s, {POLICY})",
                    )
                self._last_unknown_kid_fetch = now
                self._refresh_rows(rows, f"unknown kid {kid!r}")
                key, _ = _find(self.keyset, kid)
                if key is None:
                    raise KeyNotFound(
                        "kid names a trusted key", _KID_SECTION, f"kid = {kid!r} unknown, also after refetching the JWK Set"
                    )
            return self.bind(key, header)

    def _refresh_rows(self, trace: Trace, reason: str) -> None:
        try:
            self._refresh(trace, reason, force_metadata=False)
        except JoselabError as exc:
            if self.keyset is None:
                raise KeyNotFound("kid names a trusted key", _KID_SECTION, f"JWK Set could not be fetched: {exc}") from None
            # Keep the keys already held: an outage at the issuer must not reject valid tokens.
            self.log.append(f"{reason}: fetch failed, cached keys kept")
