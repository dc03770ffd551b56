"""joselab's exceptions: one type per failed check, each naming the check and its spec section.

Every function in joselab that is given untrusted input raises a subclass of :class:`JoselabError`
and nothing else: never a bare ``ValueError``, ``KeyError`` or a library's own exception.

A :class:`ValidationError` carries the name of the check that failed (``check``), the spec section
that requires it (``section``) and what was seen (``evidence``), so a caller can log or show exactly
why a token was refused.
"""

from __future__ import annotations


class JoselabError(Exception):
    """Base class of every error joselab raises on purpose."""


class ValidationError(JoselabError):
    """A check failed. ``section`` cites the spec, ``check`` names it, ``evidence`` says what was seen."""

    def __init__(self, check: str, section: str, evidence: str = "") -> None:
        self.check = check
        self.section = section
        self.evidence = evidence
        message = f"{section}: {check}"
        if evidence:
            message += f" ({evidence})"
        super().__init__(message)


# Structure and encoding (RFC 7515 §5.2, RFC 7516 §5.2, RFC 8725 §3.7), and joselab's own limits
class MalformedToken(ValidationError):
    """The token is not well-formed: parts, base64url, UTF-8 or JSON."""


class TokenTooLarge(MalformedToken):
    """The token is longer than the cap checked before any parsing."""


class UnexpectedTokenKind(MalformedToken):
    """A JWS was expected and a JWE came, or the other way round (RFC 8725bis: tell them apart)."""


# Header and key selection (RFC 7515 §4.1, RFC 8725 §3.1, §3.10)
class InvalidHeader(ValidationError):
    """A header member is missing, of the wrong type, or not allowed here."""


class AlgorithmNotAllowed(ValidationError):
    """``alg`` is not on the validator's allowlist (``none`` never is)."""


class UnsupportedCritical(ValidationError):
    """``crit`` is malformed or lists an extension this validator does not understand (RFC 7515 §4.1.11)."""


class EmbeddedKeyRejected(ValidationError):
    """The header carries a key or a key URL (``jwk``, ``jku``, ``x5u``, ``x5c``) that must not be trusted."""


class KeyNotFound(ValidationError):
    """No trusted key matches the header's ``kid`` (or the key does not fit the algorithm)."""


class InvalidSignature(ValidationError):
    """The signature or MAC does not verify."""


class MissingSignature(ValidationError):
    """A message that must carry a signature (a detached JWS in an HTTP header, say) came without one."""


class DecryptionFailed(ValidationError):
    """A JWE could not be decrypted with the expected key and algorithms."""


# Claims (RFC 7519 §4.1 and each profile)
class InvalidType(ValidationError):
    """``typ`` (or ``cty``) is not what this kind of token must carry (RFC 8725 §3.11)."""


class InvalidIssuer(ValidationError):
    """``iss`` is not the expected issuer."""


class InvalidAudience(ValidationError):
    """``aud`` does not contain this recipient, or contains one it must not."""


class MissingClaim(ValidationError):
    """A required claim is absent."""


class InvalidClaim(ValidationError):
    """A claim has the wrong type or a value the profile forbids."""


class TokenExpired(ValidationError):
    """Now is at or after ``exp`` plus the leeway."""


class TokenNotYetValid(ValidationError):
    """Now is before ``nbf`` minus the leeway."""


class InvalidIssuedAt(ValidationError):
    """``iat`` is in the future, too old, or the token lives longer than the policy allows."""


class ReplayDetected(ValidationError):
    """A one-time value (``jti``, ``nonce``) was seen before."""


class InsufficientScope(ValidationError):
    """The token is valid but does not grant what the request needs (RFC 6750 §3.1)."""


# Keys and fetching (not about one token)
class KeySetError(JoselabError):
    """A JWK or JWK Set is malformed or unsafe (duplicate ``kid``, short RSA key, ...)."""


class FetchError(JoselabError):
    """An HTTP fetch of metadata or a JWK Set failed, was too large, or was not JSON.

    Raised as ``FetchError(message)``, or by :mod:`joselab.fetch` as one of the subclasses below with
    ``check`` (what was refused), ``section`` (the spec section, or "joselab policy") and ``evidence``."""

    def __init__(self, message: str = "", *, check: str = "", section: str = "", evidence: str = "") -> None:
        self.check = check or message
        self.section = section
        self.evidence = evidence
        if not message:
            message = f"{section}: {check}" if section else check
            if evidence:
                message += f" ({evidence})"
        super().__init__(message)


class InsecureTransport(FetchError):
    """The URL is not ``https`` (plain ``http`` is allowed only to a loopback address, and only when
    the caller opted in), or it carries credentials or a fragment."""


class CertificateError(FetchError):
    """The TLS server certificate did not verify against the trusted CA certificates."""


class RedirectRefused(FetchError):
    """The server answered with a redirect; a metadata or JWK Set fetch never follows one."""


class ResponseTooLarge(FetchError):
    """The response body is over the fetcher's size limit."""


class FetchTimeout(FetchError):
    """The server did not answer, or did not finish answering, within the fetcher's time limit."""


class BadResponse(FetchError):
    """The status is not 200, the content type is not JSON, or the body is not strict JSON."""


class IssuerMismatch(FetchError):
    """The metadata's ``issuer`` is not the issuer identifier it was fetched for (RFC 8414 §3.3,
    OIDC Discovery §4.3)."""


class InvalidMetadata(FetchError):
    """A metadata document lacks a member the key source needs (``jwks_uri``) or has it in the wrong form."""


# Client authentication with a JWT (RFC 7523 §3, RFC 7521 §4.2, OIDC Core §9)
class UnknownClient(ValidationError):
    """The client an assertion names (the form's ``client_id``, or the assertion's ``sub``) is not
    registered here, or registered no keys (RFC 7521 §4.2; RFC 6749 §5.2 ``invalid_client``)."""


class ClientMismatch(ValidationError):
    """``sub`` (or the form's ``client_id``) is not the client the assertion authenticates
    (RFC 7523 §3 (2), RFC 7521 §4.2)."""


# DPoP proofs (RFC 9449 §4.3): one type per check that has no general type above
class DPoPHeaderCount(ValidationError):
    """Not exactly one ``DPoP`` header field in the request (RFC 9449 §4.3 (1))."""


class DPoPNonceRequired(MissingClaim):
    """The server provided a nonce and the proof carries none (RFC 9449 §4.2, §8, §9, §11.3): answered
    with ``use_dpop_nonce`` and a ``DPoP-Nonce`` header."""


class DPoPPrivateKey(ValidationError):
    """The proof's ``jwk`` header holds private key members (RFC 9449 §4.3 (7))."""


class DPoPMethodMismatch(ValidationError):
    """``htm`` is not the request's method (RFC 9449 §4.3 (8))."""


class DPoPUrlMismatch(ValidationError):
    """``htu`` is not the request's URI, query and fragment aside (RFC 9449 §4.3 (9))."""


class DPoPNonceMismatch(ValidationError):
    """``nonce`` is not one the server provided (RFC 9449 §4.3 (10)): answered with ``use_dpop_nonce``
    and a fresh nonce (RFC 9449 §8)."""


class DPoPAccessTokenHashMismatch(ValidationError):
    """``ath`` is not the hash of the access token presented with the proof (RFC 9449 §4.3 (12))."""


class DPoPKeyMismatch(ValidationError):
    """The proof's key is not the one the access token is bound to (``cnf.jkt``, RFC 9449 §4.3 (12), §6.1)."""


# Sender-constrained tokens (RFC 7800 §3.1, RFC 8705 §3, RFC 9449 §6, §7.1): the token is bound to a key
class SenderConstraintError(ValidationError):
    """The token's ``cnf`` binds it to a key or certificate, and this request did not show that the
    sender holds it (or ``cnf`` names no confirmation method this resource server can check)."""


class CertificateBindingError(SenderConstraintError):
    """A certificate-bound token (``cnf.x5t#S256``) came over a connection with another client
    certificate, or with none (RFC 8705 §3)."""


class DpopBindingError(SenderConstraintError):
    """A DPoP-bound token (``cnf.jkt``) came without the DPoP scheme, or with a proof made by another
    key; or the DPoP scheme carried a token that is not DPoP-bound (RFC 9449 §6, §7.1, §7.2)."""
