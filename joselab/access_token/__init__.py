"""INIT DOC"""

from __future__ import annotations

from .parties import (
    API_HOST,
    AS_HOST,
    DEFAULT_ENDPOINTS,
    INTROSPECTION_PATH,
    JWKS_PATH,
    METADATA_PATH,
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
