"""UK Open Banking message signing: the ``x-jws-signature`` header, both profiles.

The Read/Write API signs a request or response body with a detached JWS (RFC 7515 Appendix F) sent
in the ``x-jws-signature`` HTTP header. The JOSE header carries (OB R/W API v3.1 "Message Signing",
"Step 2: Form the JOSE Header"):

* ``alg`` ``PS256``; ``kid`` the signing key's id at the trust anchor;
* ``typ`` ``JOSE`` and ``cty`` ``json`` / ``application/json``, both optional;
* three private header parameters (RFC 7515 §4.3) that ``crit`` must list:
  ``http://openbanking.org.uk/iat`` (a JSON number, the signing time, in the past),
  ``http://openbanking.org.uk/iss`` (``{org-id}/{software-statement-id}`` for a TPP, ``{org-id}``
  for an ASPSP, when the Open Banking directory is the trust anchor) and
  ``http://openbanking.org.uk/tan`` (the domain name of the trust anchor that hosts the key);
* up to v3.1.3, ``b64: false`` too, listed in ``crit`` (RFC 7797); from v3.1.4, no ``b64``: the
  payload is base64url-encoded in the signing input as in plain RFC 7515.

:class:`OBVerifier` checks every rule as a row of the trace, *before* the key is looked up (the
``tan`` and the expected party decide which JWK Set is fetched), then the shared JWS checks and the
signature. A key is fetched only from an allowlisted trust anchor, at the path of the party the
verifier already expects (never a URL the header names: RFC 8725 §3.10).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jwcrypto import jwk

from ..claims import check_numeric, normalise_typ
from ..clock import Clock, SystemClock
from ..compact import CompactJWS
from ..errors import (
    InvalidClaim,
    InvalidHeader,
    InvalidIssuedAt,
    InvalidIssuer,
    InvalidType,
    JoselabError,
    MalformedToken,
    MissingClaim,
    MissingSignature,
    UnsupportedCritical,
    ValidationError,
)
from ..jws import KeySource, select_key
from ..keys import DemoKey, KeyBinding, as_jwk, load_jwks
from ..parties.http import Network
from ..trace import Evidence, Trace, as_evidence
from .detached import sign_detached, verify_detached

OB_IAT = "http://openbanking.org.uk/iat"
OB_ISS = "http://openbanking.org.uk/iss"
OB_TAN = "http://openbanking.org.uk/tan"
#: The HTTP header that carries the detached JWS.
HEADER = "x-jws-signature"
#: The only signature algorithm the profile allows.
OB_ALGORITHMS = ("PS256",)


@dataclass(frozen=True)
class OBProfile:
    """One version family of OB message signing: ``unencoded`` is True up to v3.1.3 (``b64: false``)."""

    name: str
    unencoded: bool

    @property
    def crit(self) -> tuple[str, ...]:
        """Exactly the names ``crit`` must list."""
        return (("b64",) if self.unencoded else ()) + (OB_IAT, OB_ISS, OB_TAN)

    @property
    def section(self) -> str:
        return f"OB R/W {self.name} Message Signing"

    @property
    def allowed_members(self) -> frozenset[str]:
        return frozenset({"alg", "kid", "typ", "cty", "crit", "b64", OB_IAT, OB_ISS, OB_TAN})


#: Read/Write API v3.1.3 and earlier: ``b64: false``, and ``b64`` in ``crit``.
OB_V313 = OBProfile("≤3.1.3", unencoded=True)
#: Read/Write API v3.1.4 and later: no ``b64``; the payload is base64url-encoded when signing.
OB_V314 = OBProfile("≥3.1.4", unencoded=False)


@dataclass(frozen=True)
class OBParticipant:
    """A party as the trust anchor knows it: an ASPSP (bank) by ``org_id``, a TPP (client) by
    ``org_id`` and the ``software_id`` of its software statement."""

    org_id: str
    software_id: str | None = None
    name: str = ""

    @property
    def role(self) -> str:
        return "TPP" if self.software_id else "ASPSP"

    @property
    def iss(self) -> str:
        """The ``http://openbanking.org.uk/iss`` value this party signs with."""
        return f"{self.org_id}/{self.software_id}" if self.software_id else self.org_id

    @property
    def jwks_path(self) -> str:
        """Where the trust anchor's keystore publishes this party's JWK Set."""
        return f"/{self.org_id}/{self.software_id or self.org_id}.jwks"


@dataclass(frozen=True)
class TrustAnchor:
    """A trust anchor: the ``tan`` name signers put in the header, and the keystore host serving keys."""

    name: str
    keystore_host: str

    def jwks_url(self, party: OBParticipant) -> str:
        return f"https://{self.keystore_host}{party.jwks_path}"


class KeystoreKeys:
    """A key source for :func:`joselab.jws.verify_jws`: ``kid`` → key from a JWK Set fetched over HTTP.

    On an unknown ``kid`` the set is fetched again (the signer may have rotated: OIDC Core §10.1.1),
    at most once every ``min_refresh`` seconds so that a stream of made-up ``kid`` values cannot turn
    the verifier into a request amplifier."""

    def __init__(self, network: Network, url: str, clock: Clock, *, min_refresh: int = 60) -> None:
        self.network = network
        self.url = url
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.min_refresh = min_refresh
        self.fetches = 0
        self._keys: jwk.JWKSet | None = None
        self._fetched_at: int | None = None
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        self.fetches += 1
        self._fetched_at = self.clock.now()
        self._keys = load_jwks(self.network.get_json(self.url))

    def _find(self, kid: Any) -> jwk.JWK | None:
        if self._keys is None:
            return None
        return next((k for k in self._keys["keys"] if k.get("kid") == kid), None)

    def __call__(self, header: Mapping[str, Any]) -> jwk.JWK | None:
        kid = header.get("kid")
        with self._lock:
            key = self._find(kid)
            stale = self._fetched_at is None or self.clock.now() - self._fetched_at >= self.min_refresh
            if key is None and stale:
                self._fetch()
                key = self._find(kid)
            return key


class OBSigner:
    """Signs message bodies for ``x-jws-signature`` as ``participant``, with a key the trust anchor
    publishes under ``kid``."""

    def __init__(
        self,
        key: jwk.JWK | DemoKey,
        participant: OBParticipant,
        trust_anchor: TrustAnchor,
        clock: Clock | None = None,
        *,
        profile: OBProfile = OB_V314,
        typ: str | None = "JOSE",
        cty: str | None = "application/json",
    ) -> None:
        self.key = as_jwk(key)
        self.participant = participant
        self.trust_anchor = trust_anchor
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.profile = profile
        self.typ = typ
        self.cty = cty

    def header(self, *, cty: str | bool | None = True) -> dict[str, Any]:
        """The JOSE header for a signature made now. ``cty=None`` leaves ``cty`` out."""
        header: dict[str, Any] = {"alg": "PS256", "kid": self.key["kid"]}
        if self.profile.unencoded:
            header["b64"] = False
        if self.typ is not None:
            header["typ"] = self.typ
        content_type = self.cty if cty is True else cty
        if content_type:
            header["cty"] = content_type
        header[OB_IAT] = self.clock.now()
        header[OB_ISS] = self.participant.iss
        header[OB_TAN] = self.trust_anchor.name
        header["crit"] = list(self.profile.crit)
        return header

    def sign(
        self,
        body: bytes,
        *,
        cty: str | bool | None = True,
        header_overrides: Mapping[str, Any] | None = None,
        omit: Collection[str] = (),
    ) -> str:
        """The ``x-jws-signature`` value for ``body`` (its exact bytes). ``header_overrides`` and ``omit``
        change the header, to show what a verifier makes of a header that breaks the profile."""
        header = {k: v for k, v in self.header(cty=cty).items() if k not in omit}
        header.update(header_overrides or {})
        return sign_detached(body, self.key, header)


@dataclass(frozen=True)
class _HeaderRows:
    """The sections and names of :meth:`OBVerifier.check_header`'s rows, which depend on the verifier's
    configuration only, made once per configuration."""

    unencoded: bool
    allowed_members: frozenset[str]
    crit: frozenset[str]
    cty_types: frozenset[str]
    header_section: str
    kid_section: str
    b64_section: str
    typ_section: str
    cty_section: str
    cty_name: str
    iat_section: str
    iat_name: str
    iss_section: str
    iss_present: str
    iss_name: str
    tan_section: str
    tan_present: str
    tan_name: str
    crit_section: str
    crit_name: str
    title: str  # the trace's title, when OBVerifier.verify makes the trace
    request_section: str


#: The first row's name: the header that carries the signature arrived.
_PRESENT_ROW = f"{HEADER} header is present"


@lru_cache(maxsize=64)
def _header_rows(
    profile: OBProfile, expected: OBParticipant, leeway: int, anchors: tuple[str, ...], accepted_cty: tuple[str, ...]
) -> _HeaderRows:
    sec = profile.section
    return _HeaderRows(
        unencoded=profile.unencoded,
        allowed_members=profile.allowed_members,
        crit=frozenset(profile.crit),
        cty_types=frozenset(normalise_typ(c) for c in accepted_cty),
        header_section=f"{sec} (JOSE header)",
        kid_section=f"{sec} (kid)",
        b64_section=f"{sec} (b64); RFC 7797 §3" if profile.unencoded else f"{sec} (b64)",
        typ_section=f"{sec} (typ); RFC 7515 §4.1.9",
        cty_section=f"{sec} (cty); RFC 7515 §4.1.10",
        cty_name=f"cty is one of {list(accepted_cty)}",
        iat_section=f"{sec} (iat)",
        iat_name=f"{OB_IAT} is in the past (+{leeway}s leeway, joselab policy)",
        iss_section=f"{sec} (iss)",
        iss_present=f"{OB_ISS} is present",
        iss_name=f"{OB_ISS} is the expected {expected.role} {expected.iss!r}",
        tan_section=f"{sec} (tan)",
        tan_present=f"{OB_TAN} is present",
        tan_name=f"{OB_TAN} is an allowlisted trust anchor {sorted(anchors)}",
        crit_section=f"{sec} (crit); RFC 7515 §4.1.11",
        crit_name=f"crit lists exactly {list(profile.crit)}",
        title=f"{profile.section}: {HEADER} from {expected.role} {expected.iss}",
        request_section=f"{profile.section} (request)",
    )


def _evidence(name: str, value: Any) -> Evidence:
    """``name = <value as JSON>`` (the value alone without ``name``), formatted when read if the value
    is a string or a number, which cannot change meanwhile; anything else is formatted now."""
    if value.__class__ in (str, int, float, bool) or value is None:
        return (lambda: f"{name} = {as_evidence(value)}") if name else (lambda: as_evidence(value))
    return f"{name} = {as_evidence(value)}" if name else as_evidence(value)


class OBVerifier:
    """Verifies ``x-jws-signature`` from one expected party, per one profile, with keys from allowlisted
    trust anchors. Every rule of the profile is a row of the trace."""

    def __init__(
        self,
        expected: OBParticipant,
        trust_anchors: Sequence[TrustAnchor],
        clock: Clock | None = None,
        *,
        profile: OBProfile = OB_V314,
        network: Network | None = None,
        keys: KeySource | None = None,
        leeway: int = 30,
        accepted_cty: Collection[str] = ("json", "application/json"),
        binding: KeyBinding | None = None,
    ) -> None:
        if (network is None) == (keys is None):
            raise JoselabError("OBVerifier needs either a network (to fetch keys at the trust anchor) or keys")
        self.expected = expected
        self.anchors = {anchor.name: anchor for anchor in trust_anchors}
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.profile = profile
        self.leeway = leeway
        self.accepted_cty = tuple(accepted_cty)
        self.binding = binding  # RFC 8725 §3.1: the one algorithm of each key (joselab.keys.KeyBinding)
        self._static_keys = keys
        self._memo: tuple[tuple[Any, ...], _HeaderRows] | None = None
        self._keystores: dict[str, KeystoreKeys] = {}
        if network is not None:
            for name, anchor in self.anchors.items():
                self._keystores[name] = KeystoreKeys(network, anchor.jwks_url(expected), clock)

    def keys_for(self, header: Mapping[str, Any]) -> jwk.JWK | None:
        """The key source: the JWK Set of the *expected* party at the trust anchor ``tan`` names (which
        the header rows have already found on the allowlist)."""
        if self._static_keys is not None:
            try:
                return select_key(self._static_keys, header)
            except ValidationError:
                return None
        store = self._keystores.get(header.get(OB_TAN))  # type: ignore[arg-type]
        return store(header) if store is not None else None

    def _rows(self) -> _HeaderRows:
        # The rows' names follow from the configuration, which rarely changes: the last one is kept
        # here, so a validation does not hash the profile and the participant to find them.
        config = (self.profile, self.expected, self.leeway, tuple(self.anchors), tuple(self.accepted_cty))
        memo = self._memo
        if memo is not None and memo[0] == config:  # each member is compared by identity first
            return memo[1]
        rows = _header_rows(*config)
        self._memo = (config, rows)
        return rows

    def check_header(self, trace: Trace, parsed: CompactJWS) -> None:
        """The profile's rules on the protected header, each a row (OB R/W v3.1 Message Signing)."""
        header = parsed.header
        rows = self._rows()
        extra = [] if rows.allowed_members.issuperset(header) else sorted(set(header) - rows.allowed_members)
        count = len(header)
        trace.check(
            rows.header_section,
            "header has only the members the profile specifies",
            not extra,
            f"unexpected {extra}" if extra else lambda: f"{count} members",
            InvalidHeader,
        )
        kid = header.get("kid")
        trace.check(
            rows.kid_section,
            "kid is present (a non-empty string)",
            isinstance(kid, str) and bool(kid),
            _evidence("kid", kid) if "kid" in header else "absent",
            MissingClaim,
        )
        if rows.unencoded:
            trace.check(
                rows.b64_section,
                "b64 is false: the body is signed unencoded",
                header.get("b64") is False,
                f"b64 = {as_evidence(header.get('b64'))}" if "b64" in header else "absent",
                InvalidHeader,
            )
        else:
            trace.check(
                rows.b64_section,
                "b64 is absent: the body is signed base64url-encoded",
                "b64" not in header,
                f"b64 = {as_evidence(header.get('b64'))}" if "b64" in header else "absent",
                InvalidHeader,
            )
        if "typ" in header:
            typ = header["typ"]
            ok = isinstance(typ, str) and normalise_typ(typ) == "jose"  # RFC 7515 §4.1.9: "application/" optional
            trace.check(rows.typ_section, "typ is JOSE", ok, _evidence("typ", typ), InvalidType)
        if "cty" in header:
            cty = header["cty"]
            # RFC 7515 §4.1.10: "application/" may be omitted, so "json" and "application/json" are one type.
            ok = isinstance(cty, str) and normalise_typ(cty) in rows.cty_types
            trace.check(rows.cty_section, rows.cty_name, ok, _evidence("cty", cty), InvalidType)
        iat = check_numeric(trace, header, OB_IAT, rows.iat_section, required=True)
        now = self.clock.now()
        assert iat is not None  # required=True: absent or not a number has raised
        trace.check(
            rows.iat_section,
            rows.iat_name,
            iat <= now + self.leeway,
            lambda: f"now={now}, iat={int(iat)}",
            InvalidIssuedAt,
        )
        iss = header.get(OB_ISS)
        present = OB_ISS in header
        trace.check(
            rows.iss_section,
            rows.iss_present,
            present,
            _evidence("", iss) if present else "absent",
            MissingClaim,
        )
        trace.check(rows.iss_section, rows.iss_name, iss == self.expected.iss, _evidence("iss", iss), InvalidIssuer)
        tan = header.get(OB_TAN)
        present = OB_TAN in header
        trace.check(
            rows.tan_section,
            rows.tan_present,
            present,
            _evidence("", tan) if present else "absent",
            MissingClaim,
        )
        trace.check(
            rows.tan_section,
            rows.tan_name,
            isinstance(tan, str) and tan in self.anchors,
            _evidence("tan", tan),
            InvalidClaim,
        )
        crit = header.get("crit")
        # Names must be strings before they go into a set: a list or object inside crit is unhashable.
        names = isinstance(crit, list) and all(isinstance(name, str) for name in crit)
        exact = names and len(crit) == len(set(crit)) and set(crit) == rows.crit
        if names:
            listed = tuple(crit)  # strings, kept as they are now: the row shows what was checked
            evidence: Evidence = lambda: f"crit = {as_evidence(list(listed))}"  # noqa: E731
        else:
            evidence = f"crit = {as_evidence(crit)}" if "crit" in header else "absent"
        trace.check(rows.crit_section, rows.crit_name, exact, evidence, UnsupportedCritical)

    def verify(self, signature: str | None, body: bytes, *, trace: Trace | None = None, strict: bool = False) -> Trace:
        """Verify the ``x-jws-signature`` value ``signature`` over the received ``body`` bytes."""
        rows = self._rows()
        if trace is None:
            trace = Trace(rows.title)
        with trace.run():
            trace.check(
                rows.request_section,
                _PRESENT_ROW,
                bool(signature),
                # Any value may arrive here (a parsed header, a test's None): describe it without len().
                f"{len(signature)} characters"
                if isinstance(signature, str) and signature
                else "absent"
                if not signature
                else f"a {type(signature).__name__}",
                MissingSignature,
            )
            assert signature is not None
            parsed = verify_detached(
                trace,
                signature,
                body,
                self.keys_for,
                OB_ALGORITHMS,
                understood_crit=self.profile.crit,
                check_header=lambda p: self.check_header(trace, p),
                binding=self.binding,
            )
            trace.result = parsed.header
        return trace.raise_for_failure() if strict else trace


#: OB's error codes for signature failures (Read/Write API, standard error codes).
_OB_CODES: tuple[tuple[type[ValidationError], str], ...] = (
    (MissingSignature, "UK.OBIE.Signature.Missing"),
    (MalformedToken, "UK.OBIE.Signature.Malformed"),
    (MissingClaim, "UK.OBIE.Signature.MissingClaim"),
    (InvalidClaim, "UK.OBIE.Signature.InvalidClaim"),
    (InvalidIssuer, "UK.OBIE.Signature.InvalidClaim"),
    (InvalidIssuedAt, "UK.OBIE.Signature.InvalidClaim"),
    (InvalidType, "UK.OBIE.Signature.InvalidClaim"),
    (InvalidHeader, "UK.OBIE.Signature.InvalidClaim"),
    (UnsupportedCritical, "UK.OBIE.Signature.InvalidClaim"),
)


def ob_error_code(error: ValidationError | None) -> str:
    """The OB error code for a failed signature check (``UK.OBIE.Signature.Invalid`` by default)."""
    for kind, code in _OB_CODES:
        if isinstance(error, kind):
            return code
    return "UK.OBIE.Signature.Invalid"
