"""Sender-constrained tokens at the resource server: the ``cnf`` claim and the checks it asks for.

A bearer token works for whoever holds it. A *sender-constrained* token names, in its ``cnf``
(confirmation) claim (RFC 7800 §3.1), the key its legitimate sender holds, and the resource server
refuses it from anyone who does not show that key on the request:

* ``x5t#S256`` (RFC 8705 §3.1): the base64url SHA-256 of the DER of the client's X.509 certificate.
  The resource server "MUST obtain, from its TLS implementation layer, the client certificate used
  for mutual TLS and MUST verify that the certificate matches" (RFC 8705 §3): compare
  :func:`certificate_thumbprint` of the peer certificate with the claim.
* ``jkt`` (RFC 9449 §6.1): the RFC 7638 SHA-256 thumbprint (:func:`jwk_thumbprint`) of the public
  key of the client's DPoP proofs. Such a token travels with the ``DPoP`` scheme (RFC 9449 §7.1), and
  a resource server that also takes Bearer tokens "MUST reject a DPoP-bound access token received
  as a bearer token" (RFC 9449 §7.2).

:class:`Presented` says how a token reached the resource server (the scheme, the certificate of the
TLS connection, the key of a DPoP proof already verified), and :func:`check_confirmation` writes
one trace row per check. This module is core: it knows no scenario, parses no HTTP and verifies no
DPoP proof (the caller does that and passes the proof key's thumbprint).

What joselab decides where the specs leave it open (labelled ``joselab policy`` in the rows):
RFC 7800 §3.1 leaves the set of confirmation members a token must carry to the application, and
says members that are not understood are ignored "in the absence of such requirements". A token
whose ``cnf`` carries no member this resource server can check would otherwise be a bearer token
that its issuer meant to bind, so it is refused; members joselab does not know, beside one it
checks, are ignored (and named in the evidence). A token without ``cnf.jkt`` presented with the
DPoP scheme is refused too. RFC 9449 §7.1 defines the scheme for a DPoP-bound token and requires the
proof's key to match "the public key to which the access token is bound"; it says nothing of a token
bound to no key, and a resource server that accepted one would let a client believe its token is
sender-constrained when it is not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .compact import b64url_encode
from .errors import (
    CertificateBindingError,
    DpopBindingError,
    InvalidClaim,
    KeySetError,
    SenderConstraintError,
)
from .sections import policy
from .trace import Trace, as_evidence

__all__ = [
    "CONFIRMATION_METHODS",
    "Presented",
    "certificate_thumbprint",
    "check_confirmation",
    "is_bound",
    "jwk_thumbprint",
]

#: The confirmation methods this resource server checks: RFC 8705 §3.1 and RFC 9449 §6.1.
CONFIRMATION_METHODS = ("x5t#S256", "jkt")

#: RFC 7638 §3.2 (EC, RSA, oct) and RFC 8037 §2 (OKP): the required members of each key type, the
#: only ones a thumbprint hashes.
THUMBPRINT_MEMBERS: dict[str, tuple[str, ...]] = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "oct": ("k", "kty"),
    "OKP": ("crv", "kty", "x"),
}

# A SHA-256 value in base64url without padding: 32 octets are 43 characters, the last of which
# carries 4 bits, so it is one of the 16 characters whose low two bits are zero (canonical form).
_SHA256_B64URL = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
#: A thumbprint member longer than this is cut in evidence (it is never a secret, but it is text
#: an attacker chose).
_EVIDENCE = 60


@dataclass(frozen=True)
class Presented:
    """How an access token reached the resource server.

    ``scheme`` is the ``Authorization`` scheme, ``"Bearer"`` (RFC 6750 §2.1) or ``"DPoP"`` (RFC 9449
    §7.1), compared case-insensitively (RFC 9110 §11.1); ``certificate_thumbprint`` the base64url
    SHA-256 of the DER of the client certificate on this TLS connection (:func:`certificate_thumbprint`,
    RFC 8705 §3.1), or None when the client presented none; ``dpop_jkt`` the RFC 7638 thumbprint of the
    ``jwk`` of a DPoP proof the caller has already verified, if it has one.
    """

    scheme: str = "Bearer"
    certificate_thumbprint: str | None = None
    dpop_jkt: str | None = None

    @property
    def is_dpop(self) -> bool:
        return isinstance(self.scheme, str) and self.scheme.lower() == "dpop"


def certificate_thumbprint(der: bytes) -> str:
    """``x5t#S256`` of a certificate (RFC 8705 §3.1): base64url, without padding, of the SHA-256 of
    its DER encoding, as ``ssl.SSLSocket.getpeercert(binary_form=True)`` returns it."""
    if not isinstance(der, bytes | bytearray | memoryview):
        raise TypeError("certificate_thumbprint takes the certificate's DER bytes")
    return b64url_encode(hashlib.sha256(bytes(der)).digest())


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 §3 SHA-256 thumbprint of a JWK, base64url without padding (the value of
    ``cnf.jkt``, RFC 9449 §6.1).

    Only the required members of the key type are hashed (RFC 7638 §3.2; OKP from RFC 8037 §2), as a
    JSON object with no whitespace and the members in lexicographic order (RFC 7638 §3, step 1), UTF-8
    encoded; RFC 7638 §3.1 works the example through (a test vector in ``tests/test_cnf.py``).
    A key that is not a JSON object, has an unknown ``kty`` or lacks a required member (or has one that
    is not a string) raises :class:`~joselab.errors.KeySetError`.
    """
    if not isinstance(jwk, Mapping):
        raise KeySetError("RFC 7638 §3: a JWK thumbprint is computed over a JWK (a JSON object)")
    kty = jwk.get("kty")
    members = THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if members is None:
        raise KeySetError(f"RFC 7638 §3.2: no thumbprint for kty {as_evidence(kty, 40)}")
    missing = [name for name in members if not isinstance(jwk.get(name), str)]
    if missing:
        raise KeySetError(f"RFC 7638 §3.2: the JWK's required member(s) {', '.join(missing)} are missing or not strings")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    try:
        data = canonical.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a member: not a JSON string RFC 7638 §3 can hash
        raise KeySetError("RFC 7638 §3: the JWK's members are not valid Unicode") from None
    return b64url_encode(hashlib.sha256(data).digest())


def is_bound(claims: Mapping[str, Any]) -> bool:
    """True when ``claims`` carries ``cnf``: the validator then runs :func:`check_confirmation`."""
    return "cnf" in claims


def _cited(section: str, prefix: str) -> str:
    return f"{prefix}, {section}" if prefix else section


def _thumb(value: object) -> str:
    return as_evidence(value, _EVIDENCE)


def check_confirmation(trace: Trace, claims: Mapping[str, Any], presented: Presented | None, *, section_prefix: str = "") -> None:
    """Check the token's ``cnf`` binding against how it was presented; one row per check on ``trace``.

    Runs the rows below when ``claims`` carries ``cnf`` or ``presented`` uses the DPoP scheme (a
    token without ``cnf`` sent as Bearer gets no row: it is a bearer token, as RFC 6750 has it).
    ``presented=None`` is a Bearer token on a connection without a client certificate, so a bound
    token is refused. ``section_prefix`` (say, a profile's section that makes sender-constraining
    mandatory) is written before each row's section.

    1. RFC 7800 §3.1: ``cnf`` is a JSON object;
    2. joselab policy on RFC 7800 §3.1: it carries a method this server checks (``x5t#S256``, ``jkt``);
    3. RFC 8705 §3.1: ``x5t#S256`` has the form of a base64url SHA-256 value;
    4. RFC 8705 §3, §3.1: it equals the thumbprint of this connection's client certificate (none: refused);
    5. RFC 9449 §6.1: ``jkt`` has the form of a base64url SHA-256 value;
    6. RFC 9449 §7.1, §7.2: a ``jkt``-bound token came with the DPoP scheme, not as a bearer token;
    7. RFC 9449 §6, §7.1: ``jkt`` equals the thumbprint of the verified DPoP proof's key (when given);
    8. joselab policy on RFC 9449 §7.1: the DPoP scheme carries a DPoP-bound token (a token without
       ``cnf.jkt`` sent with the DPoP scheme is refused: there is no bound key for the proof's to match).
    """
    presented = presented if presented is not None else Presented()
    dpop = presented.is_dpop
    if "cnf" not in claims:
        if dpop:
            _check_dpop_scheme_is_bound(trace, None, section_prefix)
        return
    cnf = claims["cnf"]
    trace.check(
        _cited("RFC 7800 §3.1", section_prefix),
        "cnf is a JSON object",
        isinstance(cnf, dict),
        f"cnf = {as_evidence(cnf)}",
        InvalidClaim,
    )
    known = [name for name in CONFIRMATION_METHODS if name in cnf]
    ignored = [name for name in cnf if name not in CONFIRMATION_METHODS]
    evidence = f"methods: {', '.join(known) or 'none'}"
    if ignored:
        evidence += f"; ignored (not understood, RFC 7800 §3.1): {as_evidence(ignored)}"
    trace.check(
        _cited(policy("RFC 7800 §3.1", "leaves required members open"), section_prefix),
        "cnf carries a confirmation method this resource server checks (x5t#S256, jkt)",
        bool(known),
        evidence,
        SenderConstraintError,
    )
    if "x5t#S256" in cnf:
        _check_certificate(trace, cnf["x5t#S256"], presented, section_prefix)
    if "jkt" in cnf:
        _check_jkt(trace, cnf["jkt"], presented, section_prefix)
    elif dpop:
        _check_dpop_scheme_is_bound(trace, cnf, section_prefix)


def _check_format(trace: Trace, section: str, member: str, value: object) -> str:
    ok = isinstance(value, str) and _SHA256_B64URL.fullmatch(value) is not None
    trace.check(
        section,
        f"cnf.{member} is a base64url SHA-256 value (43 characters, no padding)",
        ok,
        f"cnf.{member} = {_thumb(value)}",
        InvalidClaim,
    )
    return value  # type: ignore[return-value]  # a str: the check above passed


def _check_certificate(trace: Trace, value: object, presented: Presented, prefix: str) -> None:
    bound = _check_format(trace, _cited("RFC 8705 §3.1", prefix), "x5t#S256", value)
    seen = presented.certificate_thumbprint
    if not isinstance(seen, str):
        ok, evidence = False, "no client certificate on this connection"
    else:
        ok = hmac.compare_digest(seen.encode("ascii", "replace"), bound.encode("ascii"))
        evidence = f"client certificate x5t#S256 = {_thumb(seen)}; cnf.x5t#S256 = {_thumb(bound)}"
    trace.check(
        _cited("RFC 8705 §3, §3.1", prefix),
        "the client certificate of this TLS connection is the one the token is bound to",
        ok,
        evidence,
        CertificateBindingError,
    )


def _check_jkt(trace: Trace, value: object, presented: Presented, prefix: str) -> None:
    bound = _check_format(trace, _cited("RFC 9449 §6.1", prefix), "jkt", value)
    trace.check(
        _cited("RFC 9449 §7.1, §7.2", prefix),
        "a DPoP-bound token is presented with the DPoP scheme, not as a bearer token",
        presented.is_dpop,
        f"Authorization scheme = {as_evidence(presented.scheme, 20)}",
        DpopBindingError,
    )
    seen = presented.dpop_jkt
    if seen is None:
        return  # the caller checks the proof's key against cnf.jkt itself (RFC 9449 §4.3, check 12)
    ok = isinstance(seen, str) and hmac.compare_digest(seen.encode("ascii", "replace"), bound.encode("ascii"))
    trace.check(
        _cited("RFC 9449 §6, §7.1", prefix),
        "the DPoP proof's key is the one the token is bound to (cnf.jkt)",
        ok,
        f"proof key thumbprint = {_thumb(seen)}; cnf.jkt = {_thumb(bound)}",
        DpopBindingError,
    )


def _check_dpop_scheme_is_bound(trace: Trace, cnf: Mapping[str, Any] | None, prefix: str) -> None:
    trace.check(
        _cited(policy("RFC 9449 §7.1", "defines the DPoP scheme for DPoP-bound tokens"), prefix),
        "the DPoP scheme carries a DPoP-bound token (cnf.jkt)",
        False,
        "no cnf claim" if cnf is None else "cnf has no jkt",
        DpopBindingError,
    )
