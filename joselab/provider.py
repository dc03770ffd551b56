"""Chapter 7, "Your own provider": joselab's validators pointed at an issuer URL, and nothing else.

A reader's own authorization server (Keycloak, Entra ID, Auth0, Okta, a bank's AS) is known to a
verifier by one string, its issuer identifier. Everything else comes from it:

1. :class:`joselab.keysource.DiscoveredKeys` fetches the discovery document (OIDC Discovery §4 or
   RFC 8414 §3), checks its ``issuer`` (OIDC Discovery §4.3 / RFC 8414 §3.3), and fetches the JWK Set at ``jwks_uri``, over
   https verified by :class:`joselab.fetch.Fetcher`;
2. :class:`joselab.access_token.AccessTokenValidator` (RFC 9068 §4) and
   :class:`joselab.id_token.IdTokenValidator` (OIDC Core §3.1.3.7) take that key source as ``keys``.

:class:`ProviderLab` wires this to a real, independent provider started on 127.0.0.1
(:class:`joselab.parties.oidc_provider.NodeOidcProvider`, node-oidc-provider from npm). Its
validators have production defaults except where the caller names a leniency.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .access_token import AccessTokenValidator
from .clock import Clock, SystemClock
from .fetch import Fetcher
from .id_token import IdTokenValidator
from .keysource import DiscoveredKeys
from .parties.oidc_provider import NodeOidcProvider, TokenSet, demo_provider
from .parties.store import Database, ReplayStore

__all__ = ["ProviderLab", "leniency_rows", "start_lab"]


@dataclass
class ProviderLab:
    """A running provider, the key source a verifier builds from its issuer URL, and validators."""

    provider: NodeOidcProvider
    clock: Clock
    store_dir: Path
    fetcher: Fetcher = field(init=False)
    _db: Database | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.fetcher = self.provider.fetcher()

    @property
    def issuer(self) -> str:
        return self.provider.issuer

    def key_source(self, *, discovery: str = "openid-configuration", **options: Any) -> DiscoveredKeys:
        """Keys from the issuer URL alone (``key_algorithms``, ``accept_eddsa`` and
        ``min_refetch_interval`` pass through)."""
        return DiscoveredKeys(self.issuer, discovery=discovery, fetcher=self.fetcher, clock=self.clock, **options)

    def access_token_validator(
        self, audience: str, *, algorithms: Collection[str], keys: DiscoveredKeys | None = None, **options: Any
    ) -> AccessTokenValidator:
        """RFC 9068 §4 at the resource server ``audience`` (an RFC 8707 resource indicator)."""
        return AccessTokenValidator(
            issuer=self.issuer,
            audience=audience,
            keys=keys if keys is not None else self.key_source(),
            clock=self.clock,
            algorithms=tuple(algorithms),
            **options,
        )

    def id_token_validator(
        self,
        client_id: str,
        alg: str,
        *,
        keys: DiscoveredKeys | None = None,
        algorithms: Collection[str] | None = None,
        **options: Any,
    ) -> IdTokenValidator:
        """OIDC Core §3.1.3.7 at the client ``client_id``, registered for ``alg``; nonces kept in sqlite."""
        if self._db is None:
            self._db = Database(self.store_dir / "rp-nonces.sqlite")
        return IdTokenValidator(
            issuer=self.issuer,
            client_id=client_id,
            keys=keys if keys is not None else self.key_source(),
            clock=self.clock,
            nonce_store=ReplayStore(self._db, "seen_nonce"),
            id_token_signed_response_alg=alg,
            algorithms=tuple(algorithms) if algorithms is not None else (alg,),
            **options,
        )

    def client_credentials(self, client_id: str, resource: str, scope: str = "accounts") -> TokenSet:
        return self.provider.client(client_id).client_credentials(resource, scope)

    def login(self, client_id: str, resource: str, **options: Any) -> TokenSet:
        return self.provider.client(client_id).login(resource, **options)

    def close(self) -> None:
        self.fetcher.close()
        if self._db is not None:
            self._db.close()
        self.provider.stop()

    def __enter__(self) -> ProviderLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_lab(
    directory: str | Path,
    *,
    demo: bool = False,
    clock: Clock | None = None,
    alongside: ProviderLab | None = None,
    **provider_options: Any,
) -> ProviderLab:
    """Start node-oidc-provider in ``directory`` and return the lab around it.

    ``demo=True`` is the chapter's reproducible set-up: published example keys and the provider's
    clock frozen at 2026-01-01T00:00:00Z (pass a matching ``FixedClock``). Otherwise: fresh keys, the
    real clock on both sides. ``alongside=other_lab`` runs this provider in the other lab's Node
    process (another issuer, port, certificate and keys; one Node start-up instead of two)."""
    directory = Path(directory)
    provider = (
        demo_provider(directory / "op", **provider_options) if demo else NodeOidcProvider(directory / "op", **provider_options)
    )
    provider.start(alongside=alongside.provider if alongside is not None else None)
    return ProviderLab(provider, clock if clock is not None else SystemClock(), directory)


def leniency_rows(trace: Any) -> list[Mapping[str, str]]:
    """The leniency rows of a trace: what a named option accepted that the strict default refuses."""
    return [
        {"option": c.name.split(":")[0][len("leniency ") :], "section": c.section, "evidence": c.evidence}
        for c in trace
        if c.name.startswith("leniency ")
    ]
