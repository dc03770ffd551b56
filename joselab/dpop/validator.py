"""The server's validator of DPoP proofs (RFC 9449), on its own: :class:`DPoPProofValidator`.

This module is the one to read whole and copy. It imports only joselab's core and the sqlite
replay store; the demo client, authorization server and API around it are in
:mod:`joselab.dpop.parties`.

A DPoP proof is a JWT the client signs with a key of its own and sends in the ``DPoP`` request
header (RFC 9449 §4.1, §4.2): ``typ: dpop+jwt``, ``alg``, and the public key itself in ``jwk``; in
the payload ``jti``, the request's method ``htm`` and URI ``htu``, ``iat``, and, with an access
token, ``ath`` (its hash) and, when the server asked for one, ``nonce``. It proves that whoever sent
this request holds the private key, so a token bound to that key (``cnf.jkt``, RFC 9449 §6.1) is
useless to a thief who has only the token.

The order of the checks
-----------------------
RFC 9449 §4.3 lists twelve checks and says they "may be performed in any order". joselab keeps the
RFC's order, which puts the signature (6) before anything from the payload is *used*:

1. exactly one ``DPoP`` header field;
2. its value is a single, well-formed JWT (token68 syntax, RFC 9449 §4.1; three parts, strict JSON);
3. the header parameters and claims RFC 9449 §4.2 requires are present, with their JSON types
   (``ath`` when an access token is presented, ``nonce`` when the server provided one). This runs
   before the signature and can only reject;
4. ``typ`` is ``dpop+jwt`` (also RFC 9449 §11.5: a JWT made for another purpose is refused);
5. ``alg`` is an asymmetric signature algorithm on the allowlist: never ``none``, never a MAC
   (RFC 9449 §11.6);
6. the signature verifies with the public key in the header's ``jwk`` (the key must fit ``alg``);
7. that ``jwk`` holds no private key;
8. ``htm`` is the request's method;
9. ``htu`` is the request's URI, ignoring query and fragment, both normalized as RFC 9449 §4.3 asks
   (RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based normalization);
10. ``nonce`` is one the server provided, when it provided one (RFC 9449 §8, §9; §11.3: no proof
    without it once a nonce was given);
11. ``iat`` is within the window (the RFC leaves the window to the server, RFC 9449 §11.1: "on the
    order of seconds or minutes"; joselab policy is :data:`DEFAULT_IAT_WINDOW` seconds either way);
    then the ``jti`` has not been seen before at this URI (RFC 9449 §11.1), kept in a real sqlite
    store for as long as the proof would be accepted;
12. with an access token: ``ath`` is the base64url SHA-256 of it, and the RFC 7638 thumbprint of the
    proof's ``jwk`` (:func:`joselab.cnf.jwk_thumbprint`) is the token's ``cnf.jkt`` (RFC 9449 §6.1).
    The resource server validates the access token first, with
    ``presented=Presented("DPoP")`` (:class:`joselab.cnf.Presented`), which refuses a token without
    ``cnf.jkt`` and a bound one sent as a bearer token (RFC 9449 §7.1, §7.2), and passes its
    ``cnf.jkt`` here.

Untrusted input never raises anything but :class:`~joselab.errors.JoselabError` subclasses: the
header count and length are capped before anything is parsed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from ..claims import check_typ, is_numeric_date
from ..clock import Clock, IdSource, RandomIds, SystemClock
from ..cnf import jwk_thumbprint
from ..compact import parse_jws
from ..errors import (
    AlgorithmNotAllowed,
    DPoPAccessTokenHashMismatch,
    DPoPHeaderCount,
    DPoPKeyMismatch,
    DPoPMethodMismatch,
    DPoPNonceMismatch,
    DPoPNonceRequired,
    DPoPPrivateKey,
    DPoPUrlMismatch,
    InvalidClaim,
    InvalidIssuedAt,
    InvalidSignature,
    MalformedToken,
    MissingClaim,
    ReplayDetected,
    TokenTooLarge,
    UnsupportedCritical,
    ValidationError,
)
from ..jws import signature_verifies
from ..keys import key_fits_alg, prepared_public_key, rsa_bits
from ..parties.store import Database, ReplayStore
from ..sections import policy
from ..trace import Trace, as_evidence

#: RFC 9449 §4.2 (typ), §4.3 (4): the one media type of a DPoP proof.
DPOP_TYPE = "dpop+jwt"
#: RFC 9449 §4.2: what every proof's JOSE header and payload carry.
REQUIRED_HEADER = ("typ", "alg", "jwk")
REQUIRED_CLAIMS = ("jti", "htm", "htu", "iat")
#: Asymmetric JWS signature algorithms (RFC 7518 §3.1, RFC 8037 §3.1, RFC 9864): the only ones a
#: DPoP proof may use (RFC 9449 §4.2, §11.6). ``none`` and the HMACs are not among them.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448"}
)
#: joselab policy (RFC 9449 §11.1 asks for "a relatively brief period on the order of seconds or
#: minutes" and lets a server accept an ``iat`` "in the reasonably near future"): seconds either way.
DEFAULT_IAT_WINDOW = 60
MAX_IAT_WINDOW = 600
#: joselab policy: the longest ``DPoP`` header value read (RFC 9449 sets no bound; a proof with an
#: RSA 4096 key in its header is about 1.5 KiB).
MAX_PROOF_LENGTH = 8 * 1024
#: joselab policy: RFC 9449 §11.1 asks servers to "reject DPoP proof JWTs with unnecessarily large jti values".
MAX_JTI_LENGTH = 256
#: joselab policy: how many ``DPoP`` header fields are looked at (one is allowed; RFC 9449 §4.3 (1)).
MAX_HEADER_FIELDS = 16
#: JWK members that are private key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
#: The public members of each asymmetric key type (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2): the only ones
#: the signature is verified with.
PUBLIC_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}

# RFC 9449 §4.1 Figure 3 (RFC 9110 §11.2): token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_TITLE = "RFC 9449 §4.3: DPoP proof"
_WINDOW_SECTION = "RFC 9449 §4.3 (11)"


@dataclass(frozen=True)
class DPoPProof:
    """A verified DPoP proof: its header and claims, and the RFC 7638 thumbprint of its key."""

    header: dict[str, Any]
    claims: dict[str, Any]
    jkt: str

    @property
    def jwk(self) -> dict[str, Any]:
        return self.header["jwk"]


class NonceSource(Protocol):
    """Where a server keeps the DPoP nonces it provided (RFC 9449 §8, §9)."""

    def issue(self) -> str:
        """The nonce to send in the next ``DPoP-Nonce`` header."""
        ...

    def accepts(self, nonce: str) -> bool:
        """Whether ``nonce`` is one this server provided recently."""
        ...


class DPoPNonces:
    """A server's DPoP nonces: a new unpredictable value every ``lifetime`` seconds (RFC 9449 §8:
    "Nonce values MUST be unpredictable"), the current and the previous one accepted ("servers need
    to keep a window of recent nonces"). ``lifetime`` is joselab policy (RFC 9449 §8.2 leaves it to
    the server). Production default: random nonces (``secrets``); demos pass ``DemoIds``."""

    def __init__(self, clock: Clock | None = None, ids: IdSource | None = None, *, lifetime: int = 300) -> None:
        self.clock = clock if clock is not None else SystemClock()
        self.ids = ids if ids is not None else RandomIds()
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._current: tuple[str, int] | None = None
        self._previous: str | None = None

    def issue(self) -> str:
        with self._lock:
            now = self.clock.now()
            if self._current is None or now - self._current[1] >= self.lifetime:
                self._previous = self._current[0] if self._current else None
                self._current = (self.ids.token(16), now)
            return self._current[0]

    def accepts(self, nonce: str) -> bool:
        with self._lock:
            if self._current is None:
                return False
            if self.clock.now() - self._current[1] >= 2 * self.lifetime:
                return False
            return nonce in {self._current[0], self._previous}

    def __repr__(self) -> str:
        return f"DPoPNonces(lifetime={self.lifetime})"  # never the values


def b64url_sha256(text: str) -> str:
    """base64url (RFC 7515 §2) of the SHA-256 of the ASCII text: ``ath`` (RFC 9449 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode("ascii", "replace")).digest()).rstrip(b"=").decode("ascii")


_DEFAULT_PORTS = {"https": 443, "http": 80}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _percent(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    # RFC 3986 §6.2.2.2: decode percent-encoded unreserved characters; §6.2.2.1: uppercase the rest.
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 §5.2.4, which §6.2.2.3 applies.
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


def normalize_htu(uri: str) -> str | None:
    """``uri`` without query and fragment (RFC 9449 §4.2, §4.3 (9)), normalized as RFC 9449 §4.3
    asks: RFC 3986 §6.2.2 syntax-based (case of scheme and host, percent-encodings, dot segments) and
    §6.2.3 scheme-based (the default port dropped, an empty path is ``/``). None if it is not an
    absolute ``http``/``https`` URI with a host."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None or parts.password is not None:
        return None
    netloc = host.lower() if port in (None, _DEFAULT_PORTS[scheme]) else f"{host.lower()}:{port}"
    if ":" in host:  # an IPv6 literal keeps its brackets
        netloc = f"[{host.lower()}]" + ("" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}")
    path = _remove_dot_segments(_PERCENT.sub(_percent, parts.path or "/"))
    return urlunsplit((scheme, netloc, path, "", ""))


class DPoPProofValidator:
    """Validate DPoP proofs as RFC 9449 §4.3 lists, one trace row a check (see the module docstring).

    ``algorithms`` is the allowlist; only asymmetric signature algorithms may be on it (a MAC or
    ``none`` is a configuration error). The default is FAPI 2.0's set: ES256, PS256 and EdDSA with
    Ed25519, by its fully specified name (RFC 9864 §2.2). ``replay_store`` keeps the ``jti`` of every accepted proof
    for as long as it would be accepted (default: an in-memory sqlite store; pass a
    :class:`~joselab.parties.store.ReplayStore` on a file so replays are refused after a restart
    too). ``clock`` is the real time unless given. ``iat_window`` is how far ``iat`` may be from now,
    either way (joselab policy, :data:`DEFAULT_IAT_WINDOW`). ``nonce_source`` is the server's
    :class:`NonceSource` when it provides nonces (RFC 9449 §8, §9): every proof must then carry one it
    accepts.

    :meth:`validate` returns a :class:`~joselab.trace.Trace`; on success ``trace.result`` is a
    :class:`DPoPProof`.
    """

    def __init__(
        self,
        *,
        algorithms: Collection[str] = ("ES256", "PS256", "Ed25519"),
        replay_store: ReplayStore | None = None,
        clock: Clock | None = None,
        iat_window: int = DEFAULT_IAT_WINDOW,
        nonce_source: NonceSource | None = None,
    ) -> None:
        bad = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if bad or not algorithms:
            # A configuration mistake, not bad input: RFC 9449 §4.2, §11.6 allow asymmetric algorithms only.
            raise ValueError(f"DPoP allows asymmetric signature algorithms only (RFC 9449 §11.6); not {bad}")
        if not isinstance(iat_window, int) or not 0 < iat_window <= MAX_IAT_WINDOW:
            raise ValueError(f"iat_window must be 1..{MAX_IAT_WINDOW} seconds (joselab policy; RFC 9449 §11.1)")
        self.algorithms = tuple(algorithms)
        self.replay_store = replay_store if replay_store is not None else ReplayStore(Database(":memory:"), "dpop_jti")
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.iat_window = iat_window
        self.nonce_source = nonce_source
        self._alg_row = f"alg is an asymmetric signature algorithm on the allowlist {sorted(self.algorithms)}"
        self._window_row = f"iat within {iat_window}s of now ({policy('RFC 9449 §11.1', 'leaves the window to the server')})"

    def __repr__(self) -> str:
        return f"DPoPProofValidator(algorithms={list(self.algorithms)}, iat_window={self.iat_window})"

    def validate(
        self,
        dpop_headers: Sequence[str],
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        cnf_jkt: str | None = None,
        nonce: str | None = None,
        strict: bool = False,
    ) -> Trace:
        """Check the proof in ``dpop_headers`` (every value of the request's ``DPoP`` header fields, in
        order) for a request of ``method`` to ``url``. With ``access_token`` (at a protected resource,
        RFC 9449 §7) the proof must carry its hash ``ath`` and its key must be the one the token is
        bound to, ``cnf_jkt`` (the token's ``cnf.jkt``). ``nonce`` is the nonce this server provided
        to the client, if it provided one (or give the validator a ``nonce_source``).
        With ``strict`` the first failure is raised as its :mod:`joselab.errors` type."""
        trace = Trace(_TITLE)
        with trace.run():
            value = self._one_header(trace, dpop_headers)
            header, claims, parsed = self._parse(trace, value)
            nonce_expected = nonce is not None or self.nonce_source is not None
            self._required(trace, header, claims, access_token is not None, nonce_expected)
            check_typ(trace, header, [DPOP_TYPE], "RFC 9449 §4.3 (4)")
            alg = header["alg"]
            trace.check(
                "RFC 9449 §4.3 (5)", self._alg_row, alg in self.algorithms, f"alg = {as_evidence(alg)}", AlgorithmNotAllowed
            )
            jwk = header["jwk"]
            self._signature(trace, alg, jwk, parsed.signing_input, parsed.signature)
            private = [m for m in PRIVATE_MEMBERS if m in jwk]
            trace.check(
                "RFC 9449 §4.3 (7)",
                "the jwk holds no private key",
                not private,
                f"private members {private}" if private else f"public {jwk.get('kty')} key",
                DPoPPrivateKey,
            )
            # Only now is anything from the payload used.
            htm = claims["htm"]
            trace.check(
                "RFC 9449 §4.3 (8)",
                f"htm is the request's method {method}",
                htm == method,
                f"htm = {as_evidence(htm)}",
                DPoPMethodMismatch,
            )
            want = normalize_htu(url)
            got = normalize_htu(claims["htu"])
            trace.check(
                "RFC 9449 §4.3 (9)",
                f"htu is the request's URI {want} (query and fragment ignored; RFC 3986 §6.2.2, §6.2.3 normalization)",
                want is not None and got == want,
                f"htu = {as_evidence(claims['htu'])}",
                DPoPUrlMismatch,
            )
            if nonce_expected:
                proof_nonce = claims["nonce"]
                ok = (
                    hmac.compare_digest(proof_nonce.encode(), nonce.encode())
                    if nonce is not None
                    else bool(self.nonce_source and self.nonce_source.accepts(proof_nonce))
                )
                trace.check(
                    "RFC 9449 §4.3 (10)",
                    "nonce is the one the server provided",
                    ok,
                    "a nonce this server provided" if ok else "not a nonce this server provided recently",
                    DPoPNonceMismatch,
                )
            now = self.clock.now()
            iat = claims["iat"]
            trace.check(
                _WINDOW_SECTION,
                self._window_row,
                abs(now - iat) <= self.iat_window,
                f"now - iat = {int(now - iat)}s",
                InvalidIssuedAt,
            )
            # RFC 9449 §11.1: "in the context of the target URI", for as long as the proof is accepted;
            # a hash is stored, not the value, as §11.1 allows.
            key = b64url_sha256(f"{want} {claims['jti']}")
            first = self.replay_store.first_use(key, int(iat) + self.iat_window + 1, now)
            trace.check(
                "RFC 9449 §11.1",
                "jti not seen before at this URI",
                first,
                "first use" if first else "jti seen before",
                ReplayDetected,
            )
            jkt = jwk_thumbprint(jwk)
            if access_token is not None:
                expected = b64url_sha256(access_token)
                ath = claims["ath"]
                trace.check(
                    "RFC 9449 §4.3 (12)",
                    "ath is the base64url SHA-256 of the access token",
                    hmac.compare_digest(ath.encode(), expected.encode()),
                    f"ath = {as_evidence(ath)}",
                    DPoPAccessTokenHashMismatch,
                )
                bound = isinstance(cnf_jkt, str) and hmac.compare_digest(jkt.encode(), cnf_jkt.encode())
                trace.check(
                    "RFC 9449 §4.3 (12)",
                    "the jwk's RFC 7638 thumbprint is the access token's cnf.jkt",
                    bound,
                    f"thumbprint = cnf.jkt = {jkt}" if bound else f"cnf.jkt = {as_evidence(cnf_jkt)}; the proof's key is another",
                    DPoPKeyMismatch,
                )
            trace.result = DPoPProof(header, claims, jkt)
        return trace.raise_for_failure() if strict else trace

    # -- the steps ----------------------------------------------------------------------------------
    def _one_header(self, trace: Trace, dpop_headers: Any) -> str:
        if not isinstance(dpop_headers, (list, tuple)):
            trace.check(
                "RFC 9449 §4.3 (1)",
                "exactly one DPoP header field",
                False,
                f"got {type(dpop_headers).__name__}, not a list of field values",
                DPoPHeaderCount,
            )
        count = len(dpop_headers)
        trace.check(
            "RFC 9449 §4.3 (1)",
            "exactly one DPoP header field",
            count == 1 and isinstance(dpop_headers[0], str),
            f"{min(count, MAX_HEADER_FIELDS)}{'+' if count > MAX_HEADER_FIELDS else ''} DPoP header field{'s' if count != 1 else ''}"
            + ("" if count != 1 or isinstance(dpop_headers[0], str) else f" (a {type(dpop_headers[0]).__name__}, not text)"),
            DPoPHeaderCount,
        )
        return dpop_headers[0]

    def _parse(self, trace: Trace, value: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
        section, name = "RFC 9449 §4.3 (2)", "the DPoP header is a single, well-formed JWT"
        if len(value) > MAX_PROOF_LENGTH:
            trace.check(
                section, name, False, f"{len(value)} > {MAX_PROOF_LENGTH} characters ({policy('RFC 9449 §4.1')})", TokenTooLarge
            )
        if not _TOKEN68.fullmatch(value):
            trace.check(section, name, False, "not token68 (RFC 9449 §4.1): a list, a space or another character", MalformedToken)
        try:
            parsed = parse_jws(value, max_length=MAX_PROOF_LENGTH)
            claims = parsed.claims()
        except ValidationError as exc:
            trace.check(section, name, False, f"{exc.check} ({exc.evidence})" if exc.evidence else exc.check, type(exc))
        header = parsed.header
        if "b64" in header or "crit" in header:
            # No extension is understood here (RFC 7515 §4.1.11); a proof is a JWT with a base64url payload (RFC 7519 §7.2).
            trace.check(
                section,
                name,
                False,
                "crit or b64 in the header: no extension is understood (RFC 7515 §4.1.11)",
                UnsupportedCritical,
            )
        trace.check(section, name, True, "three parts, strict JSON header and claims")
        return header, claims, parsed

    def _required(
        self, trace: Trace, header: Mapping[str, Any], claims: Mapping[str, Any], with_token: bool, with_nonce: bool
    ) -> None:
        section = "RFC 9449 §4.3 (3)"
        names = list(REQUIRED_CLAIMS) + (["ath"] if with_token else []) + (["nonce"] if with_nonce else [])
        name = (
            f"required header parameters ({', '.join(REQUIRED_HEADER)}) and claims ({', '.join(names)}) present, with their types"
        )
        missing = [f"header {n}" for n in REQUIRED_HEADER if n not in header] + [n for n in names if n not in claims]
        if missing:
            only_nonce = missing == ["nonce"]
            trace.check(section, name, False, f"missing {', '.join(missing)}", DPoPNonceRequired if only_nonce else MissingClaim)
        wrong = [n for n in ("typ", "alg") if not isinstance(header[n], str)]
        if not isinstance(header["jwk"], dict):
            wrong.append("header jwk (a JSON object)")
        wrong += [
            n for n in ("jti", "htm", "htu", "ath", "nonce") if n in names and not (isinstance(claims[n], str) and claims[n])
        ]
        if not is_numeric_date(claims["iat"]):
            wrong.append("iat (a NumericDate)")
        if isinstance(claims["jti"], str) and len(claims["jti"]) > MAX_JTI_LENGTH:
            wrong.append(f"jti longer than {MAX_JTI_LENGTH} characters ({policy('RFC 9449 §11.1')})")
        trace.check(section, name, not wrong, f"wrong type: {', '.join(wrong)}" if wrong else "all present", InvalidClaim)

    def _signature(self, trace: Trace, alg: str, jwk: Mapping[str, Any], signing_input: bytes, signature: bytes) -> None:
        section, name = "RFC 9449 §4.3 (6)", "the signature verifies with the public key in the header's jwk"
        try:
            fits, why = key_fits_alg(jwk, alg)
        except ValidationError as exc:  # a member that is not base64url, say
            fits, why = False, f"{exc.check} ({exc.evidence})"
        if not fits:
            trace.check(section, name, False, f"jwk does not fit {alg}: {why}", InvalidSignature)
        members = PUBLIC_MEMBERS.get(jwk.get("kty"), ())
        public = {m: jwk[m] for m in members if m in jwk}
        if prepared_public_key(public) is None:
            trace.check(section, name, False, f"jwk is not a valid {jwk.get('kty')} public key", InvalidSignature)
        size = _signature_size(alg, public)
        if len(signature) != size:
            trace.check(section, name, False, f"{len(signature)}-byte signature; {alg} makes {size}", InvalidSignature)
        ok = signature_verifies(alg, public, signing_input, signature)
        key = f"{jwk.get('kty')} {jwk.get('crv')} key" if "crv" in jwk else f"{jwk.get('kty')} key"
        trace.check(section, name, ok, f"{alg}, {key}" if ok else f"does not verify ({alg}, {key})", InvalidSignature)


def _signature_size(alg: str, key: Mapping[str, Any]) -> int:
    # RFC 7518 §3.4 (ECDSA r || s), §3.3 and §3.5 (the RSA modulus length), RFC 8037 §3.1 (EdDSA).
    fixed = {"ES256": 64, "ES384": 96, "ES512": 132, "Ed25519": 64, "Ed448": 114}
    if alg == "EdDSA":
        return fixed.get(str(key.get("crv")), 0)
    if alg in fixed:
        return fixed[alg]
    return (rsa_bits(key) + 7) // 8
