"""Scenario 4: JOSE on the HTTP message (RFC 7515 Appendix F, RFC 7797, OB ``x-jws-signature``, JWE).

* :mod:`~joselab.message.detached`: detached and unencoded JWS over exact body bytes, and ``crit``;
* :mod:`~joselab.message.ob`: UK Open Banking message signing, both profiles (v3.1.3 and earlier
  with ``b64: false``; v3.1.4 and later without), every verifier rule a row of the trace;
* :mod:`~joselab.message.nesting`: JWE for the body, sign-then-encrypt (nested JWT) and OB's
  encrypt-then-sign;
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
    BankAPI,
    Exchange,
    JsonGateway,
    Keystore,
    MessageDemo,
    OBClient,
    build_demo,
)

__all__ = [
    "CONSENTS_PATH",
    "DEMO_ANCHOR",
    "DEMO_BANK",
    "DEMO_TPP",
    "ENCRYPTED_PATH",
    "ENCRYPTIONS",
    "HEADER",
    "KEY_ALGORITHMS",
    "MAX_BODY_BYTES",
    "OB_ALGORITHMS",
    "OB_IAT",
    "OB_ISS",
    "OB_TAN",
    "OB_V313",
    "OB_V314",
    "BankAPI",
    "Exchange",
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
    "TrustAnchor",
    "build_demo",
    "decrypt_body",
    "encrypt_body",
    "ob_error_code",
    "sign_detached",
    "sign_then_encrypt",
    "signing_input",
    "unencoded",
    "verify_detached",
    "verify_message",
]  # fmt: skip
