"""Scenario 1: the software statement (SSA) and Dynamic Client Registration (RFC 7591, UK Open Banking).

* :mod:`~joselab.registration.validator`: :class:`SoftwareStatementValidator` and
  :class:`RegistrationRequestValidator`, on their own (the module a reader copies);
* :mod:`~joselab.registration.parties`: the demo directory, client and registration endpoint, and
  :func:`build_demo`.

Every name is re-exported here, so ``from joselab.registration import SoftwareStatementValidator`` works.
"""

from __future__ import annotations

from ..keys import public_jwks  # re-exported: older code imports it from here
from .parties import (
    AS_HOST,
    DEMO_SOFTWARE,
    DIRECTORY_HOST,
    Client,
    ClientStore,
    Directory,
    Registration,
    RegistrationDemo,
    RegistrationServer,
    Software,
    build_demo,
    tamper_claims,
    unsigned_jwt,
)
from .validator import (
    AUTH_METHODS,
    INVALID_CLIENT_METADATA,
    INVALID_REDIRECT_URI,
    INVALID_SOFTWARE_STATEMENT,
    KNOWN_ROLES,
    OB_DCR,
    OB_DCR_CLAIMS,
    OB_SSA,
    REQUEST_ALGORITHMS,
    REQUEST_CONTENT_TYPES,
    REQUEST_METADATA,
    SSA_ALGORITHMS,
    SSA_REQUIRED_CLAIMS,
    STATEMENT_METADATA,
    UNAPPROVED_SOFTWARE_STATEMENT,
    InvalidRedirectUri,
    RegistrationRequestValidator,
    SoftwareNotApproved,
    SoftwareStatementValidator,
    TrustedDirectory,
    extract_software_statement,
    is_https_url,
    registered_metadata,
    rfc7591_error,
)

__all__ = [
    "AS_HOST",
    "AUTH_METHODS",
    "DEMO_SOFTWARE",
    "DIRECTORY_HOST",
    "INVALID_CLIENT_METADATA",
    "INVALID_REDIRECT_URI",
    "INVALID_SOFTWARE_STATEMENT",
    "KNOWN_ROLES",
    "OB_DCR",
    "OB_DCR_CLAIMS",
    "OB_SSA",
    "REQUEST_ALGORITHMS",
    "REQUEST_CONTENT_TYPES",
    "REQUEST_METADATA",
    "SSA_ALGORITHMS",
    "SSA_REQUIRED_CLAIMS",
    "STATEMENT_METADATA",
    "UNAPPROVED_SOFTWARE_STATEMENT",
    "Client",
    "ClientStore",
    "Directory",
    "InvalidRedirectUri",
    "Registration",
    "RegistrationDemo",
    "RegistrationRequestValidator",
    "RegistrationServer",
    "Software",
    "SoftwareNotApproved",
    "SoftwareStatementValidator",
    "TrustedDirectory",
    "build_demo",
    "extract_software_statement",
    "is_https_url",
    "public_jwks",
    "registered_metadata",
    "rfc7591_error",
    "tamper_claims",
    "unsigned_jwt",
]
