"""Scenario 4: JOSE on the HTTP message (RFC 7515 Appendix F, RFC 7797, OB ``x-jws-signature``, JWE).

* :mod:`~joselab.message.detached`: detached and unencoded JWS over exact body bytes, and ``crit``;
* :mod:`~joselab.message.ob`: UK Open Banking message signing, both profiles (v3.1.3 and earlier
  with ``b64: false``; v3.1.4 and later without), every verifier rule a row of the trace;
* :mod:`~joselab.message.nesting`: JWE for the body, sign-then-encrypt (nested JWT) and OB's
  encrypt-then-sign;
* :mod:`~joselab.message.httpsig`: HTTP Message Signatures (RFC 9421) with Content-Digest
  (RFC 9530), every check of RFC 9421 §3.2 a row of the trace;
* :mod:`~joselab.message.parties`: the keystore, the bank's API, the client and a re-serialising
  gateway, over real HTTP on 127.0.0.1.
"""

from .detached import (
    MAX_BODY_BYTES,
    sign_detached,
    signing_input,
    unencoded,
    verify_detached,
    verify_message,
)
from .httpsig import (
    ALGORITHM,
    CONTENT_DIGEST,
    DIGEST_ALGORITHMS,
    LABEL,
    SIGNATURE,
    SIGNATURE_INPUT,
    TAG,
    HttpSigSigner,
    HttpSigVerifier,
    Verified,
    content_digest,
    signature_base_lines,
)
from .nesting import ENCRYPTIONS, KEY_ALGORITHMS, NestedJWTValidator, decrypt_body, encrypt_body, sign_then_encrypt
from .ob import (
    HEADER,
    OB_ALGORITHMS,
    OB_IAT,
    OB_ISS,
    OB_TAN,
    OB_V313,
    OB_V314,
    KeystoreKeys,
    OBParticipant,
    OBProfile,
    OBSigner,
    OBVerifier,
    TrustAnchor,
    ob_error_code,
)
from .parties import (
    CONSENTS_PATH,
    DEMO_ANCHOR,
    DEMO_BANK,
    DEMO_TPP,
    ENCRYPTED_PATH,
    PAYMENTS_PATH,
    SIGNED_CONSENTS_PATH,
    SIGNED_PAYMENTS_PATH,
    BankAPI,
    Exchange,
    HttpSigClient,
    JsonGateway,
    Keystore,
    MessageDemo,
    OBClient,
    RewritingHop,
    build_demo,
)

__all__ = [
    "ALGORITHM",
    "CONSENTS_PATH",
    "CONTENT_DIGEST",
    "DEMO_ANCHOR",
    "DEMO_BANK",
    "DEMO_TPP",
    "DIGEST_ALGORITHMS",
    "ENCRYPTED_PATH",
    "ENCRYPTIONS",
    "HEADER",
    "KEY_ALGORITHMS",
    "LABEL",
    "MAX_BODY_BYTES",
    "OB_ALGORITHMS",
    "OB_IAT",
    "OB_ISS",
    "OB_TAN",
    "OB_V313",
    "OB_V314",
    "PAYMENTS_PATH",
    "SIGNATURE",
    "SIGNATURE_INPUT",
    "SIGNED_CONSENTS_PATH",
    "SIGNED_PAYMENTS_PATH",
    "TAG",
    "BankAPI",
    "Exchange",
    "HttpSigClient",
    "HttpSigSigner",
    "HttpSigVerifier",
    "JsonGateway",
    "Keystore",
    "KeystoreKeys",
    "MessageDemo",
    "NestedJWTValidator",
    "OBClient",
    "OBParticipant",
    "OBProfile",
    "OBSigner",
    "OBVerifier",
    "RewritingHop",
    "TrustAnchor",
    "Verified",
    "build_demo",
    "content_digest",
    "decrypt_body",
    "encrypt_body",
    "ob_error_code",
    "sign_detached",
    "sign_then_encrypt",
    "signature_base_lines",
    "signing_input",
    "unencoded",
    "verify_detached",
    "verify_message",
]  # fmt: skip
