"""Client authentication with a JWT the client signs itself: ``private_key_jwt`` (OIDC Core §9;
RFC 7523 §2.2, §3, as RFC 10070 §4 updates them), used at the token endpoint in scenario 3.

* :mod:`~joselab.client_assertion.validator`: :class:`ClientAssertionValidator`, the AS's checks, on
  their own (the module a reader copies);
* :mod:`~joselab.client_assertion.client`: :func:`sign_client_assertion`, the client's side.

Every name is re-exported here, so ``from joselab.client_assertion import ClientAssertionValidator`` works.
"""

from __future__ import annotations

from .client import DEFAULT_ASSERTION_LIFETIME, assertion_form, client_assertion_claims, sign_client_assertion
from .validator import (
    ACCEPTED_TYPES,
    ASYMMETRIC_ALGORITHMS,
    AUD_SECTION,
    CLIENT_ASSERTION_TYP,
    CLIENT_ASSERTION_TYPE,
    CLIENT_SECTION,
    DEFAULT_MAX_LIFETIME,
    EXP_SECTION,
    IAT_SECTION,
    ISS_SECTION,
    JTI_SECTION,
    MAX_JTI_LENGTH,
    MAX_LEEWAY,
    NBF_SECTION,
    REPLAY_SECTION,
    SIGNATURE_SECTION,
    SUB_SECTION,
    TYP_OTHER_SECTION,
    TYP_SECTION,
    ClientAssertionValidator,
    ClientKeys,
)

__all__ = [
    "ACCEPTED_TYPES",
    "ASYMMETRIC_ALGORITHMS",
    "AUD_SECTION",
    "CLIENT_ASSERTION_TYP",
    "CLIENT_ASSERTION_TYPE",
    "CLIENT_SECTION",
    "DEFAULT_ASSERTION_LIFETIME",
    "DEFAULT_MAX_LIFETIME",
    "EXP_SECTION",
    "IAT_SECTION",
    "ISS_SECTION",
    "JTI_SECTION",
    "MAX_JTI_LENGTH",
    "MAX_LEEWAY",
    "NBF_SECTION",
    "REPLAY_SECTION",
    "SIGNATURE_SECTION",
    "SUB_SECTION",
    "TYP_OTHER_SECTION",
    "TYP_SECTION",
    "ClientAssertionValidator",
    "ClientKeys",
    "assertion_form",
    "client_assertion_claims",
    "sign_client_assertion",
]
