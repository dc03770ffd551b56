"""Scenario 5: DPoP (RFC 9449), sender-constrained access tokens at the API.

* :mod:`~joselab.dpop.validator`: :class:`DPoPProofValidator`, the server's checks of RFC 9449 §4.3,
  on its own (the module a reader copies), and the nonces of RFC 9449 §8, §9;
* :mod:`~joselab.dpop.parties`: the demo client that makes proofs, the token endpoint that binds
  tokens to its key (``cnf.jkt``), the bank API that checks the DPoP scheme, and :func:`build_demo`.

Every name is re-exported here, so ``from joselab.dpop import DPoPProofValidator`` works.
"""

from __future__ import annotations

from ..cnf import jwk_thumbprint
from .parties import (
    CLIENT_DPOP_ALG,
    CLIENT_DPOP_KEY,
    DEMO_ALGORITHMS,
    TOKEN_PATH,
    USER_SUB,
    DPoPClient,
    DPoPDemo,
    DPoPResourceApi,
    DPoPTokenEndpoint,
    build_demo,
    dpop_challenge,
    tampered,
    unsigned,
)
from .validator import (
    ASYMMETRIC_ALGORITHMS,
    DEFAULT_IAT_WINDOW,
    DPOP_TYPE,
    MAX_JTI_LENGTH,
    MAX_PROOF_LENGTH,
    REQUIRED_CLAIMS,
    REQUIRED_HEADER,
    DPoPNonces,
    DPoPProof,
    DPoPProofValidator,
    NonceSource,
    b64url_sha256,
    normalize_htu,
)

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "CLIENT_DPOP_ALG",
    "CLIENT_DPOP_KEY",
    "DEFAULT_IAT_WINDOW",
    "DEMO_ALGORITHMS",
    "DPOP_TYPE",
    "MAX_JTI_LENGTH",
    "MAX_PROOF_LENGTH",
    "REQUIRED_CLAIMS",
    "REQUIRED_HEADER",
    "TOKEN_PATH",
    "USER_SUB",
    "DPoPClient",
    "DPoPDemo",
    "DPoPNonces",
    "DPoPProof",
    "DPoPProofValidator",
    "DPoPResourceApi",
    "DPoPTokenEndpoint",
    "NonceSource",
    "b64url_sha256",
    "build_demo",
    "dpop_challenge",
    "jwk_thumbprint",
    "normalize_htu",
    "tampered",
    "unsigned",
]
