"""The client's side of ``private_key_jwt``: the assertion it signs for each token request
(OIDC Core §9; RFC 7523 §2.2, §3; RFC 10070 §4).

The claims are ``iss`` = ``sub`` = the client_id (RFC 7523 §3 (1), (2)), ``aud`` = the AS's issuer
identifier as the sole value (RFC 10070 §4: never the token endpoint URL), ``iat``, a short ``exp``
(RFC 7523 §3 (4)) and a fresh ``jti`` (OIDC Core §9: REQUIRED, used once); the header says
``typ: client-authentication+jwt`` (RFC 10070 §4: clients SHOULD).

Production defaults: without ``clock`` the real time, without ``ids`` random identifiers; the demos
pass :class:`~joselab.clock.FixedClock` and :class:`~joselab.clock.DemoIds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jwcrypto import jwk

from ..claims import with_changes
from ..clock import Clock, IdSource, RandomIds, SystemClock
from ..jws import sign_compact
from ..keys import DemoKey, as_jwk
from .validator import CLIENT_ASSERTION_TYP, CLIENT_ASSERTION_TYPE

#: joselab policy (RFC 7523 §3 (4) sets no bound): one request's worth of time.
DEFAULT_ASSERTION_LIFETIME = 60


def client_assertion_claims(
    client_id: str, audience: str | list[str], *, clock: Clock, ids: IdSource, lifetime: int = DEFAULT_ASSERTION_LIFETIME
) -> dict[str, Any]:
    """The claims of one assertion (OIDC Core §9), for the AS whose issuer identifier is ``audience``."""
    now = clock.now()
    return {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + lifetime, "jti": ids.uuid4()}


def sign_client_assertion(
    client_id: str,
    key: DemoKey | jwk.JWK,
    *,
    audience: str | list[str],
    alg: str = "PS256",
    clock: Clock | None = None,
    ids: IdSource | None = None,
    lifetime: int = DEFAULT_ASSERTION_LIFETIME,
    header: Mapping[str, Any] | None = None,
    **changes: Any,
) -> str:
    """A signed ``client_assertion`` (a compact JWS). ``audience`` is the AS's issuer identifier
    (RFC 10070 §4). ``header`` adds or replaces header members (``{"typ": None}`` removes ``typ``) and
    ``changes`` claims (None removes one), for demos of what the AS refuses."""
    key = as_jwk(key)
    claims = client_assertion_claims(
        client_id, audience, clock=clock or SystemClock(), ids=ids if ids is not None else RandomIds(), lifetime=lifetime
    )
    with_changes(claims, changes)
    head: dict[str, Any] = {"alg": alg, "typ": CLIENT_ASSERTION_TYP}
    if "kid" in key:
        head["kid"] = key["kid"]
    with_changes(head, dict(header or {}))
    return sign_compact(claims, key, head)


def assertion_form(assertion: str) -> dict[str, str]:
    """The two form parameters that carry it (RFC 7523 §2.2)."""
    return {"client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": assertion}
