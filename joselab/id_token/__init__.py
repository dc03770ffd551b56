"""Scenario 3: the OpenID Connect ID token (OpenID Connect Core 1.0 incorporating errata set 2).

* :mod:`~joselab.id_token.validator`: :class:`IdTokenValidator` and the hash claims
  (:func:`token_hash`), on their own (the module a reader copies);
* :mod:`~joselab.id_token.parties`: the demo OpenID Provider, the relying party and the client
  registration.

Every name is re-exported here, so ``from joselab.id_token import IdTokenValidator`` works.
"""

from __future__ import annotations

from .parties import (
    DEMO_ACR,
    DEMO_AMR,
    DEMO_SUBJECT,
    RESPONSE_TYPES,
    SUPPORTED_ALGS,
    AuthorizationRequest,
    AuthorizationResponse,
    ClientRegistration,
    OpenIDProvider,
    RelyingParty,
    TokenResponse,
    demo_signing_keys,
    pkce_challenge,
)
from .validator import (
    AT_HASH_SECTION,
    C_HASH_SECTION,
    DEFAULT_MAX_LIFETIME,
    EDDSA_HASH_SOURCE,
    S_HASH_SECTION,
    STEP,
    IdTokenValidator,
    hash_alg_for,
    token_hash,
)

__all__ = [
    "AT_HASH_SECTION",
    "C_HASH_SECTION",
    "DEFAULT_MAX_LIFETIME",
    "DEMO_ACR",
    "DEMO_AMR",
    "DEMO_SUBJECT",
    "EDDSA_HASH_SOURCE",
    "RESPONSE_TYPES",
    "STEP",
    "SUPPORTED_ALGS",
    "S_HASH_SECTION",
    "AuthorizationRequest",
    "AuthorizationResponse",
    "ClientRegistration",
    "IdTokenValidator",
    "OpenIDProvider",
    "RelyingParty",
    "TokenResponse",
    "demo_signing_keys",
    "hash_alg_for",
    "pkce_challenge",
    "token_hash",
]
