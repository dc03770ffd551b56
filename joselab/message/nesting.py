"""Encryption of a message body, and the two ways to nest a signature and an encryption.

* **Sign, then encrypt** (a nested JWT, RFC 7519 §5.2 and §7.1 step 5): the JWS is the JWE's
  plaintext and the JWE header says ``cty: JWT``. Only the recipient sees who signed, and what; the
  signature proves the signer wrote the plaintext. A validator must check *both* layers
  (RFC 8725 §3.3): a decryptable JWE proves nothing about its author, since anyone with the
  recipient's public key can make one.
* **Encrypt, then sign** (a JWE inside a JWS, UK Open Banking's convention:
  OB R/W ≥3.1.4 Message Signing (Message Signing and Encryption)): the body is a JWE and the
  ``x-jws-signature`` covers its bytes. Any hop can check who sent it before decrypting anything,
  but the signature is over ciphertext: it does not prove the signer knew the plaintext.

Encryption is RSA-OAEP-256 or ECDH-ES+A256KW with A256GCM by default; no compression ever
(RFC 8725 §3.6). Encryption is randomized: the same plaintext gives a new JWE every time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from jwcrypto import jwk

from ..claims import check_audience, check_expiry, check_issued_at, check_issuer, check_not_before, normalise_typ
from ..clock import Clock, SystemClock
from ..errors import InvalidType
from ..jwe import decrypt_jwe, encrypt_compact
from ..jws import KeySource, sign_compact, verify_jws
from ..keys import DemoKey, KeyBinding, as_jwk
from ..trace import Trace

#: Key management algorithms for message bodies: RSA-OAEP with SHA-256, or ECDH-ES with AES key wrap.
KEY_ALGORITHMS = ("RSA-OAEP-256", "ECDH-ES+A256KW")
#: Content encryption: AES-256 in GCM.
ENCRYPTIONS = ("A256GCM",)


def _public(key: jwk.JWK | DemoKey) -> jwk.JWK:
    k = as_jwk(key)
    return jwk.JWK(**k.export_public(as_dict=True))


def encrypt_body(
    plaintext: bytes,
    recipient: jwk.JWK | DemoKey,
    *,
    alg: str = "RSA-OAEP-256",
    enc: str = "A256GCM",
    cty: str | None = "json",
) -> str:
    """Encrypt a body to ``recipient``'s public key (RFC 7516 §7.1); ``kid`` names the recipient key."""
    public = _public(recipient)
    header: dict[str, Any] = {"alg": alg, "enc": enc, "kid": public["kid"]}
    if cty:
        header["cty"] = cty
    return encrypt_compact(plaintext, public, header)


def decrypt_body(
    trace: Trace,
    token: str,
    key: jwk.JWK | DemoKey,
    *,
    algorithms: Collection[str] = KEY_ALGORITHMS,
    encryptions: Collection[str] = ENCRYPTIONS,
    binding: KeyBinding | None = None,
) -> bytes:
    """Decrypt a JWE body with the recipient's private key; the JWE rows go on ``trace``."""
    _, plaintext = decrypt_jwe(trace, token, as_jwk(key), algorithms, encryptions, binding=binding)
    return plaintext


def sign_then_encrypt(
    claims: Mapping[str, Any] | bytes,
    signing_key: jwk.JWK | DemoKey,
    sign_header: Mapping[str, Any],
    recipient: jwk.JWK | DemoKey,
    *,
    alg: str = "RSA-OAEP-256",
    enc: str = "A256GCM",
) -> str:
    """A nested JWT (RFC 7519 §7.1 step 5): sign ``claims``, then encrypt the JWS with ``cty: JWT``."""
    inner = sign_compact(claims, as_jwk(signing_key), sign_header)
    public = _public(recipient)
    return encrypt_compact(inner, public, {"alg": alg, "enc": enc, "kid": public["kid"], "cty": "JWT"})


class NestedJWTValidator:
    """Validates a signed-then-encrypted JWT (RFC 7519 §5.2, §7.2 steps 8-9): decrypt, check ``cty``,
    verify the inner JWS with the signer's keys, then the claims against a clock: ``exp`` required and
    at most ``max_lifetime`` seconds away, ``nbf`` and ``iat`` when present."""

    def __init__(
        self,
        *,
        decryption_key: jwk.JWK | DemoKey,
        signer_keys: KeySource,
        algorithms: Collection[str],
        clock: Clock | None = None,
        key_algorithms: Collection[str] = KEY_ALGORITHMS,
        encryptions: Collection[str] = ENCRYPTIONS,
        issuer: str | None = None,
        audience: str | None = None,
        leeway: int = 30,
        max_lifetime: int = 3600,
        binding: KeyBinding | None = None,
    ) -> None:
        self.decryption_key = as_jwk(decryption_key)
        self.signer_keys = signer_keys
        self.algorithms = tuple(algorithms)
        self.key_algorithms = tuple(key_algorithms)
        self.encryptions = tuple(encryptions)
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.max_lifetime = max_lifetime
        self.binding = binding  # RFC 8725 §3.1: the one algorithm of each key, both layers

    def validate(self, token: str, *, strict: bool = False) -> Trace:
        trace = Trace("RFC 7519 §5.2: nested JWT, signed then encrypted")
        with trace.run():
            outer, plaintext = decrypt_jwe(
                trace, token, self.decryption_key, self.key_algorithms, self.encryptions, binding=self.binding
            )
            cty = outer.header.get("cty")
            trace.check(
                "RFC 7519 §5.2, §7.2 step 8",
                "outer cty is JWT: the plaintext is a nested JWT",
                isinstance(cty, str) and normalise_typ(cty) == "jwt",
                f"cty = {cty!r}",
                InvalidType,
            )
            # The plaintext is untrusted until its own signature verifies: it goes through the same
            # strict parser and checks as any JWS (RFC 8725 §3.3).
            inner = verify_jws(
                trace, plaintext.decode("utf-8", "replace"), self.signer_keys, self.algorithms, binding=self.binding
            )
            claims = inner.claims()
            if self.issuer is not None:
                check_issuer(trace, claims, self.issuer, "RFC 7519 §4.1.1")
            if self.audience is not None:
                check_audience(trace, claims, self.audience, "RFC 7519 §4.1.3")
            check_expiry(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.4", max_lifetime=self.max_lifetime)
            # nbf and iat are optional here (RFC 7520 §6's nested JWT has neither), but held to the
            # clock when present: a future-dated token is not valid yet (RFC 7519 §4.1.5, §4.1.6).
            if "nbf" in claims:
                check_not_before(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.5")
            if "iat" in claims:
                check_issued_at(trace, claims, self.clock, self.leeway, "RFC 7519 §4.1.6", max_lifetime=self.max_lifetime)
            trace.result = claims
        return trace.raise_for_failure() if strict else trace
