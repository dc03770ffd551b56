"""Scenario 2: the JWT access token (RFC 9068), issued by the AS and validated locally by the API.

* :mod:`~joselab.access_token.validator`: :class:`AccessTokenValidator`, the resource server's checks
  of RFC 9068 §4, on its own (the module a reader copies);
* :mod:`~joselab.access_token.parties`: the demo parties (authorization server, API, introspection
  client, the JWK Set cache of the demo network) and :func:`build_demo`.

Every name is re-exported here, so ``from joselab.access_token import AccessTokenValidator`` works.
"""

from __future__ import annotations

from .parties import (
    API_HOST,
    AS_HOST,
    DEFAULT_ENDPOINTS,
    INTROSPECTION_PATH,
    JWKS_PATH,
    METADATA_PATH,
    TOKEN_PATH,
    TPP_CLIENT_ID,
    AccessTokenDemo,
    AuthorizationServer,
    Endpoint,
    IntrospectionClient,
    JwksCache,
    ResourceApi,
    bearer_challenge,
    build_demo,
    metadata_url,
)
from .validator import (
    ACCESS_TOKEN_TYPES,
    DEFAULT_MAX_LIFETIME,
    MAX_LEEWAY,
    REQUIRED_CLAIMS,
    SCOPE_SECTION,
    AccessTokenValidator,
)

__all__ = [
    "ACCESS_TOKEN_TYPES",
    "API_HOST",
    "AS_HOST",
    "DEFAULT_ENDPOINTS",
    "DEFAULT_MAX_LIFETIME",
    "INTROSPECTION_PATH",
    "JWKS_PATH",
    "MAX_LEEWAY",
    "METADATA_PATH",
    "REQUIRED_CLAIMS",
    "SCOPE_SECTION",
    "TOKEN_PATH",
    "TPP_CLIENT_ID",
    "AccessTokenDemo",
    "AccessTokenValidator",
    "AuthorizationServer",
    "Endpoint",
    "IntrospectionClient",
    "JwksCache",
    "ResourceApi",
    "bearer_challenge",
    "build_demo",
    "metadata_url",
]
