"""HTTP Message Signatures (RFC 9421) with Content-Digest (RFC 9530): the payment request signed over
its method, target URI, headers and body, next to Open Banking's ``x-jws-signature``.

A detached JWS signs the body bytes only. RFC 9421 signs a *signature base*: one line per covered
component (a derived component such as ``@method``, or an HTTP field), then the signature's own
parameters (RFC 9421 §2.5). The body is covered through the ``Content-Digest`` field (RFC 9530 §2),
which the verifier must also check against the content it received (RFC 9421 §7.2.8).

What :class:`HttpSigSigner` covers, and why (RFC 9421 §1.4 leaves the choice to the application, and
§7.2.1 says to cover as much as possible of what the recipient acts on):

* ``@method`` (RFC 9421 §2.2.1) and ``@target-uri`` (§2.2.2): the request's control data, which
  §3.1 (4) says a request's signer SHOULD cover. The target URI carries scheme, authority, path and
  query, so a signature made for one endpoint does not verify at another;
* ``content-type`` (RFC 9421 §2.1): the bank reads the body as JSON because of it;
* ``content-digest`` (RFC 9530 §2), for a request with a body: RFC 9421 does not cover content by
  itself (§7.2.8); a SHA-256 digest (an "Active" algorithm, RFC 9530 §5) brings the body in;
* ``authorization``, when the request carries it: the access token says who may call, and the
  signature then binds it to this request; ``dpop`` likewise, when a DPoP proof is sent (FAPI 2.0
  Http Signatures lists both);
* the parameters ``created`` (RECOMMENDED by RFC 9421 §2.3, SHOULD by §3.1 (4)), ``expires``
  (``created`` + 60 s, joselab policy: §2.3 sets no lifetime), ``keyid`` (the key at the trust
  anchor, §3.2 (5)) and ``tag`` (``fapi-2-request``, as FAPI 2.0 Http Signatures asks, so that a
  verifier picks its signature by a signed value, §7.2.5, §7.2.7). No ``alg``: the verifier knows
  the algorithm from its configuration (§3.2 (6)), and an ``alg`` chosen by the message would let the
  sender choose the rules.

:class:`HttpSigVerifier` makes every check of RFC 9421 §3.2 a row, in its order: the two fields
parse as RFC 8941 Dictionaries (RFC 9651 obsoletes RFC 8941 with the same Dictionary type), the
label, the covered components and parameters, the components joselab requires (policy, RFC 9421 §3.2.1), the
``tag``, the ``created``/``expires`` window (policy), the key by ``keyid``, the algorithm, the
signature base, the signature, and then the Content-Digest over the received body. Nothing from
the message is trusted before the signature row but what the earlier rows can only reject.

The library: ``http-message-signatures`` (pyauth) derives each component's value and serialises the
base; ``http-sf`` parses the Structured Fields; the rows and their errors are joselab's. Both the
library and this verifier verify the examples of RFC 9421 Appendix B.2 and re-create their bases, and
:func:`content_digest` gives RFC 9530 Appendix D's sample values (tests/test_httpsig.py).

Not here: a ``nonce`` and a replay store (RFC 9421 §7.2.2: ``created`` and ``expires`` limit a
replay to the window, they do not stop one), and signed responses (``req``, RFC 9421 §2.4).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import http_sf
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
from http_message_signatures.resolvers import HTTPSignatureComponentResolver
from http_sf.compat import Item
from jwcrypto import jwk

from ..clock import Clock, SystemClock
from ..errors import (
    AlgorithmNotAllowed,
    ContentDigestMismatch,
    InsufficientCoverage,
    InvalidCoveredComponents,
    InvalidSignature,
    InvalidSignatureParameter,
    JoselabError,
    KeyNotFound,
    MalformedContentDigest,
    MalformedSignatureField,
    MissingSignature,
    SignatureBaseError,
    SignatureCreatedInvalid,
    SignatureExpired,
    SignatureLabelMissing,
    SignatureTagMismatch,
    TokenTooLarge,
    UnsupportedDigestAlgorithm,
)
from ..keys import DemoKey, as_jwk
from ..sections import policy
from ..trace import Trace, as_evidence

#: The label joselab's signer writes. Labels are not signed and a hop may rename them (RFC 9421
#: §7.2.5): the verifier needs the label to find the signature, the ``tag`` to trust the choice.
LABEL = "sig1"
#: The ``tag`` FAPI 2.0 Http Signatures asks for on a signed resource request.
TAG = "fapi-2-request"
#: The one algorithm the demo signs and verifies (RFC 9421 §3.3.1), and the others the verifier
#: knows (for the examples of RFC 9421 Appendix B.2).
ALGORITHM = "rsa-pss-sha512"
_ALGORITHMS: dict[str, Any] = {
    "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
    "ed25519": algorithms.ED25519,
}
#: Signature parameters RFC 9421 §2.3 defines, with the Structured Field type each must have.
_PARAM_TYPES = {"created": int, "expires": int, "keyid": str, "alg": str, "nonce": str, "tag": str}
#: RFC 9530 §5: only "Active" algorithms in an adversarial setting (sha-256, sha-512 today).
DIGEST_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
#: Caps before parsing (joselab policy; RFC 9421 §4.1 and RFC 9530 §2 set none).
MAX_FIELD_BYTES = 8192
MAX_BODY_BYTES = 1024 * 1024
_CAP = policy("RFC 9421 §4.1")
#: A signature from the future is accepted within this leeway; one older than ``max_age`` is refused.
LEEWAY = 5
MAX_AGE = 60
LIFETIME = 60

SIGNATURE_INPUT = "Signature-Input"
SIGNATURE = "Signature"
CONTENT_DIGEST = "Content-Digest"


def content_digest(body: bytes, algorithm: str = "sha-256") -> str:
    """The Content-Digest field value for ``body`` (RFC 9530 §2): ``sha-256=:<base64>:``."""
    if algorithm not in DIGEST_ALGORITHMS:
        raise JoselabError(f"{algorithm!r} is not an Active digest algorithm joselab computes (RFC 9530 §5)")
    return http_sf.ser({algorithm: (DIGEST_ALGORITHMS[algorithm](body).digest(), {})})


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    """A field's value, its lines combined with ", " (RFC 9421 §2.1), or None when absent."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    values = [str(v) for k, v in pairs if str(k).lower() == name.lower()]
    return ", ".join(v.strip(" \t") for v in values) if values else None


@dataclass
class _Message:
    """The view of a request that the library's component resolver reads."""

    method: str
    url: str
    headers: _Headers


class _Headers:
    """Field lines in order, with the writes the library's signer makes (it adds Content-Digest,
    Signature-Input and Signature)."""

    def __init__(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        self.lines: list[tuple[str, str]] = [(str(k), str(v)) for k, v in pairs]

    def items(self) -> list[tuple[str, str]]:
        return list(self.lines)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(dict.fromkeys(name for name, _ in self.lines))

    def __contains__(self, name: object) -> bool:
        return any(k.lower() == str(name).lower() for k, _ in self.lines)

    def __setitem__(self, name: str, value: str) -> None:
        del self[name]
        self.lines.append((name, value))

    def __delitem__(self, name: str) -> None:
        self.lines = [(k, v) for k, v in self.lines if k.lower() != name.lower()]


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, private: Any) -> None:
        self.private = private

    def resolve_private_key(self, key_id: str) -> Any:
        return self.private

    def resolve_public_key(self, key_id: str) -> Any:  # pragma: no cover - the signer never verifies
        return self.private.public_key()


class HttpSigSigner:
    """The client's RFC 9421 signer: covers ``@method``, ``@target-uri``, ``content-type``,
    ``content-digest`` (with a body), ``authorization`` and ``dpop`` (when sent), with ``created``,
    ``expires``, ``keyid`` and ``tag`` (see the module's docstring for why each)."""

    def __init__(
        self,
        key: jwk.JWK | DemoKey,
        clock: Clock | None = None,
        *,
        keyid: str | None = None,
        label: str = LABEL,
        tag: str | None = TAG,
        lifetime: int | None = LIFETIME,
        digest: str = "sha-256",
        algorithm: str = ALGORITHM,
    ) -> None:
        self.key = as_jwk(key)
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.keyid = keyid if keyid is not None else self.key.get("kid")
        if not isinstance(self.keyid, str) or not self.keyid:
            raise JoselabError("the signing key needs a kid (or pass keyid=): the verifier finds the key by it")
        if algorithm not in _ALGORITHMS:
            raise JoselabError(f"unknown HTTP signature algorithm {algorithm!r}")
        if digest not in DIGEST_ALGORITHMS:
            raise JoselabError(f"{digest!r} is not an Active digest algorithm (RFC 9530 §5)")
        self.label = label
        self.tag = tag
        self.lifetime = lifetime
        self.digest = digest
        self.algorithm = algorithm

    def components(self, headers: Mapping[str, str], body: bytes) -> list[str]:
        """The covered components for this request, in signing order."""
        covered = ["@method", "@target-uri"]
        if _header(headers, "content-type") is not None:
            covered.append("content-type")
        if body:
            covered.append("content-digest")
        for name in ("authorization", "dpop"):
            if _header(headers, name) is not None:
                covered.append(name)
        return covered

    def sign(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        covered: Sequence[str] | None = None,
    ) -> dict[str, str]:
        """The fields to add to the request: Content-Digest (with a body), Signature-Input, Signature.
        ``covered`` replaces the default components (to show a verifier refusing less)."""
        lines = _Headers({k: v for k, v in headers.items() if k.lower() not in ("signature", "signature-input")})
        if body and CONTENT_DIGEST not in lines:
            lines[CONTENT_DIGEST] = content_digest(body, self.digest)
        message = _Message(method, url, lines)
        now = self.clock.now()
        expires = now + self.lifetime if self.lifetime is not None else None
        signer = HTTPMessageSigner(
            signature_algorithm=_ALGORITHMS[self.algorithm], key_resolver=_OneKey(self.key.get_op_key("sign"))
        )
        signer.sign(
            message,
            key_id=self.keyid,
            created=datetime.fromtimestamp(now, UTC),
            expires=datetime.fromtimestamp(expires, UTC) if expires is not None else None,
            label=self.label,
            tag=self.tag,
            include_alg=False,
            use_existing_digest=CONTENT_DIGEST in lines,  # the digest above, or one the caller set
            covered_component_ids=list(covered if covered is not None else self.components(dict(lines.lines), body)),  # type: ignore[arg-type]
        )
        names = {CONTENT_DIGEST.lower(), SIGNATURE_INPUT.lower(), SIGNATURE.lower()}
        return {k: v for k, v in lines.lines if k.lower() in names}


@dataclass(frozen=True)
class Verified:
    """What a passing verification hands back: the label, the covered components and parameters,
    the signature base that was verified, and the key's id."""

    label: str
    components: tuple[str, ...]
    params: dict[str, Any]
    signature_base: str
    keyid: str


KeysByKid = jwk.JWKSet | Callable[[Mapping[str, Any]], jwk.JWK | None]


class HttpSigVerifier:
    """The bank's RFC 9421 verifier: every check of RFC 9421 §3.2 and RFC 9530 §2 a row of the trace.

    ``keys`` is a JWK Set or a key source called with ``{"kid": keyid}`` (such as
    :class:`~joselab.message.ob.KeystoreKeys` on the client's JWK Set at the trust anchor). The
    algorithm is configured, never taken from the message (RFC 9421 §3.2 (6.1)). ``required`` lists
    the components every signature must cover; ``content-type``, ``authorization`` and ``dpop`` are
    required whenever the request carries them, and ``content-digest`` whenever it has a body (joselab policy,
    after FAPI 2.0 Http Signatures' list for a resource server)."""

    def __init__(
        self,
        keys: KeysByKid,
        clock: Clock | None = None,
        *,
        label: str = LABEL,
        tag: str | None = TAG,
        algorithm: str = ALGORITHM,
        required: Collection[str] = ("@method", "@target-uri"),
        required_when_present: Collection[str] = ("content-type", "authorization", "dpop"),
        require_digest_with_body: bool = True,
        max_age: int | None = MAX_AGE,
        leeway: int = LEEWAY,
        min_rsa_bits: int = 2048,
    ) -> None:
        if algorithm not in _ALGORITHMS:
            raise JoselabError(f"unknown HTTP signature algorithm {algorithm!r}")
        self.keys = keys
        self.clock = clock if clock is not None else SystemClock()  # production default: the real time
        self.label = label
        self.tag = tag
        self.algorithm = algorithm
        self.required = tuple(required)
        self.required_when_present = tuple(required_when_present)
        self.require_digest_with_body = require_digest_with_body
        self.max_age = max_age
        self.leeway = leeway
        self.min_rsa_bits = min_rsa_bits

    # -- the rows ---------------------------------------------------------------------------------
    def verify(
        self,
        method: str,
        target_uri: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        trace: Trace | None = None,
        strict: bool = False,
    ) -> Trace:
        """Verify the request ``method target_uri`` with ``headers`` and the received ``body`` bytes.
        ``target_uri`` is the URI the server was asked for, as it knows its own origin (RFC 9421
        §2.2.2, §1.4): never a value the client chose in a header."""
        if trace is None:
            trace = Trace(f"RFC 9421 §3.2: HTTP message signature {self.label!r}")
        with trace.run():
            lines = list(headers.items())
            sig_input = _header(lines, SIGNATURE_INPUT)
            sig_value = _header(lines, SIGNATURE)
            digest_value = _header(lines, CONTENT_DIGEST)
            sizes = {
                n: len(v.encode("utf-8", "replace"))
                for n, v in ((SIGNATURE_INPUT, sig_input), (SIGNATURE, sig_value), (CONTENT_DIGEST, digest_value))
                if v is not None
            }
            over = {n: s for n, s in sizes.items() if s > MAX_FIELD_BYTES}
            trace.check(
                _CAP,
                f"fields within {MAX_FIELD_BYTES} bytes, body within {MAX_BODY_BYTES} bytes",
                not over and len(body) <= MAX_BODY_BYTES,
                f"{over or sizes}, body {len(body)} bytes",
                TokenTooLarge,
            )
            trace.check(
                "RFC 9421 §4.1",
                "Signature-Input field is present",
                sig_input is not None,
                "absent" if sig_input is None else f"{len(sig_input)} characters",
                MissingSignature,
            )
            trace.check(
                "RFC 9421 §4.2",
                "Signature field is present",
                sig_value is not None,
                "absent" if sig_value is None else f"{len(sig_value)} characters",
                MissingSignature,
            )
            assert sig_input is not None and sig_value is not None
            inputs = self._dictionary(trace, sig_input, "RFC 9421 §4.1; RFC 8941 §3.2", SIGNATURE_INPUT)
            signatures = self._dictionary(trace, sig_value, "RFC 9421 §4.2; RFC 8941 §3.2", SIGNATURE)
            label = self.label
            same = set(inputs) == set(signatures)
            trace.check(
                "RFC 9421 §3.2 (1), §4",
                f"label {label!r} is in both fields, and both carry the same labels",
                label in inputs and label in signatures and same,
                f"Signature-Input {sorted(inputs)}, Signature {sorted(signatures)}",
                SignatureLabelMissing,
            )
            member, params = inputs[label]
            trace.check(
                "RFC 9421 §3.2 (2), §4.1",
                f"{label} in Signature-Input is an Inner List of component identifiers (Strings)",
                isinstance(member, list) and all(isinstance(c, tuple) and type(c[0]) is str for c in member),
                as_evidence(sig_input, 120),
                MalformedSignatureField,
            )
            signature, _ = signatures[label]
            trace.check(
                "RFC 9421 §3.2 (3), §4.2",
                f"{label} in Signature is a Byte Sequence",
                isinstance(signature, bytes),
                f"{len(signature)} bytes" if isinstance(signature, bytes) else f"a {type(signature).__name__}",
                MalformedSignatureField,
            )
            components = [(str(name), dict(cparams)) for name, cparams in member]
            ids = [_serialise_id(name, cparams) for name, cparams in components]
            self._check_components(trace, components, ids)
            self._check_params(trace, params)
            self._check_coverage(trace, components, lines, body)
            if self.tag is not None:
                trace.check(
                    "RFC 9421 §2.3, §7.2.7; FAPI 2.0 Http Signatures",
                    f"tag is {self.tag!r}",
                    params.get("tag") == self.tag,
                    f"tag = {as_evidence(params.get('tag'))}" if "tag" in params else "absent",
                    SignatureTagMismatch,
                )
            self._check_times(trace, params)
            key = self._key(trace, params)
            public = self._check_algorithm(trace, key, params)
            base = self._signature_base(trace, method, target_uri, lines, components, ids, sig_input, label)
            try:
                _ALGORITHMS[self.algorithm](public_key=public).verify(signature=signature, message=base.encode("ascii"))
                verified = True
            except (_CryptoInvalidSignature, ValueError, TypeError, JoselabError) as exc:
                verified, why = False, type(exc).__name__
            except Exception as exc:  # the library's own exception for a malformed signature value
                verified, why = False, type(exc).__name__
            trace.check(
                "RFC 9421 §3.2 (8), §3.3.1" if self.algorithm == "rsa-pss-sha512" else "RFC 9421 §3.2 (8), §3.3.6",
                f"{self.algorithm} signature verifies over the signature base",
                verified,
                f"keyid={params['keyid']!r}, {len(base)}-byte base" if verified else f"{why}, keyid={params['keyid']!r}",
                InvalidSignature,
            )
            if "content-digest" in [name for name, cparams in components if not cparams]:
                self._check_digest(trace, digest_value, body)
            trace.result = Verified(label, tuple(ids), dict(params), base, params["keyid"])
        return trace.raise_for_failure() if strict else trace

    # -- helpers, each a row or a few ---------------------------------------------------------------
    @staticmethod
    def _dictionary(trace: Trace, value: str, section: str, name: str) -> dict[str, Any]:
        def duplicate(key: str, context: str) -> None:
            if context == "dictionary":
                raise ValueError(f"duplicate label {key!r}")

        try:
            parsed = http_sf.parse(value.encode("latin-1"), tltype="dictionary", on_duplicate_key=duplicate)
            ok, why = isinstance(parsed, dict), ""
        except Exception as exc:  # a parser's error on untrusted input becomes this row's failure
            parsed, ok, why = {}, False, f"{type(exc).__name__}: {str(exc)[:80]}"
        trace.check(
            section,
            f"{name} parses as a Dictionary, each label once",
            ok,
            why or f"labels {sorted(parsed)}",
            MalformedSignatureField,
        )
        return parsed

    @staticmethod
    def _check_components(trace: Trace, components: list[tuple[str, dict]], ids: list[str]) -> None:
        names = [name for name, _ in components]
        identities = [(name, frozenset(cparams.items())) for name, cparams in components]
        bad = [n for n in names if n != n.lower() or not n or n == "@signature-params"]
        trace.check(
            "RFC 9421 §2, §2.3",
            "covered components are lowercase, each listed once, never @signature-params",
            not bad and len(set(identities)) == len(identities),
            f"{bad} not allowed"
            if bad
            else (f"({' '.join(ids)})" if len(set(identities)) == len(identities) else f"repeated in ({' '.join(ids)})"),
            InvalidCoveredComponents,
        )

    @staticmethod
    def _check_params(trace: Trace, params: Mapping[str, Any]) -> None:
        wrong = [name for name, value in params.items() if name not in _PARAM_TYPES or type(value) is not _PARAM_TYPES[name]]
        trace.check(
            "RFC 9421 §2.3",
            "signature parameters are ones §2.3 defines, each of its type",
            not wrong,
            f"not allowed or wrong type: {wrong}" if wrong else f"{sorted(params)}",
            InvalidSignatureParameter,
        )

    def _check_coverage(
        self, trace: Trace, components: list[tuple[str, dict]], lines: list[tuple[str, str]], body: bytes
    ) -> None:
        covered = {name for name, cparams in components if not cparams}
        required = list(self.required)
        required += [f for f in self.required_when_present if _header(lines, f) is not None and f not in required]
        if body and self.require_digest_with_body and "content-digest" not in required:
            required.append("content-digest")
        lacking = [r for r in required if r not in covered]
        trace.check(
            f"RFC 9421 §3.2 (4); {policy('RFC 9421 §3.2.1', 'leaves the list to the application')}",
            f"covers {required}",
            not lacking,
            f"{lacking} not covered" if lacking else f"covered {sorted(covered)}",
            InsufficientCoverage,
        )

    def _check_times(self, trace: Trace, params: Mapping[str, Any]) -> None:
        now = self.clock.now()
        created = params.get("created")
        trace.check(
            "RFC 9421 §2.3, §3.2.1",
            "created is present",
            created is not None,
            f"created = {created}" if created is not None else "absent",
            SignatureCreatedInvalid,
        )
        assert isinstance(created, int)
        oldest = now - self.max_age if self.max_age is not None else None
        ok = created <= now + self.leeway and (oldest is None or created >= oldest - self.leeway)
        window = f"not after now +{self.leeway}s" + (f", not before now -{self.max_age}s" if self.max_age is not None else "")
        trace.check(
            policy("RFC 9421 §3.2.1", "sets no window"),
            f"created is {window}",
            ok,
            f"now={now}, created={created}",
            SignatureCreatedInvalid,
        )
        expires = params.get("expires")
        trace.check(
            "RFC 9421 §2.3, §3.2.1",
            f"expires, if present, is after now (-{self.leeway}s leeway)",
            expires is None or now < expires + self.leeway,
            f"now={now}, expires={expires}" if expires is not None else "absent",
            SignatureExpired,
        )

    def _key(self, trace: Trace, params: Mapping[str, Any]) -> jwk.JWK | None:
        keyid = params.get("keyid")
        key = None
        if isinstance(keyid, str):
            try:
                if isinstance(self.keys, jwk.JWKSet):
                    key = next((k for k in self.keys["keys"] if k.get("kid") == keyid), None)
                else:
                    key = self.keys({"kid": keyid})
            except JoselabError as exc:  # a key fetch that failed: the key is not known
                key, keyid = None, f"{keyid} ({type(exc).__name__})"
        trace.check(
            "RFC 9421 §3.2 (5)",
            "keyid names a trusted key of the expected signer",
            key is not None,
            f"keyid = {as_evidence(keyid)}" if keyid is not None else "absent",
            KeyNotFound,
        )
        return key

    def _check_algorithm(self, trace: Trace, key: jwk.JWK | None, params: Mapping[str, Any]) -> Any:
        assert key is not None
        alg = params.get("alg")
        jwk_alg = key.get("alg")
        public: Any = None
        why = ""
        try:
            public = key.get_op_key("verify")
        except Exception as exc:  # jwcrypto refuses a key that cannot verify
            why = type(exc).__name__
        if self.algorithm == "rsa-pss-sha512":
            fits = isinstance(public, rsa.RSAPublicKey) and public.key_size >= self.min_rsa_bits
            kind = f"RSA key of {public.key_size} bits" if isinstance(public, rsa.RSAPublicKey) else f"{key.get('kty')} key"
        else:
            fits = isinstance(public, ed25519.Ed25519PublicKey)
            kind = f"{key.get('kty')} {key.get('crv', '')} key".replace("  ", " ")
        ok = fits and alg in (None, self.algorithm) and jwk_alg is None
        trace.check(
            "RFC 9421 §3.2 (6), §3.3.1" if self.algorithm == "rsa-pss-sha512" else "RFC 9421 §3.2 (6), §3.3.6",
            f"the algorithm is {self.algorithm} (configured); alg, if present, agrees; the key fits it",
            ok,
            why
            or f"{kind}; alg = {as_evidence(alg) if alg is not None else 'absent'}"
            + (f"; the JWK names alg {as_evidence(jwk_alg)}" if jwk_alg is not None else ""),
            AlgorithmNotAllowed,
        )
        return public

    @staticmethod
    def _signature_base(
        trace: Trace,
        method: str,
        target_uri: str,
        lines: list[tuple[str, str]],
        components: list[tuple[str, dict]],
        ids: list[str],
        sig_input: str,
        label: str,
    ) -> str:
        """RFC 9421 §2.5: one line per covered component, then ``"@signature-params"``, whose value is
        the Signature-Input member re-serialised (§3.2 (7))."""
        base_lines: list[str] = []
        why = ""
        try:
            resolver = HTTPSignatureComponentResolver(_Message(method, target_uri, _Headers(lines)))
            for (name, cparams), ident in zip(components, ids, strict=True):
                item = Item(name)
                item.params.update(cparams)
                value = resolver.resolve(item)
                if not isinstance(value, str) or "\n" in value or "\r" in value:
                    raise ValueError(f"{ident} has no single-line value")
                base_lines.append(f"{ident}: {value}")
            params_line = http_sf.ser({label: http_sf.parse(sig_input.encode("latin-1"), tltype="dictionary")[label]})
            base_lines.append(f'"@signature-params": {params_line[len(label) + 1 :]}')
            base = "\n".join(base_lines)
            if not base.isascii():
                raise ValueError("the signature base is not US-ASCII")
        except Exception as exc:  # the library names the component it could not derive
            base, why = "", f"{type(exc).__name__}: {str(exc)[:100]}"
        trace.check(
            "RFC 9421 §2.5, §3.2 (7)",
            "signature base re-created from the received message",
            not why,
            why or f"{len(base_lines)} lines, {len(base)} bytes",
            SignatureBaseError,
        )
        return base

    @staticmethod
    def _check_digest(trace: Trace, value: str | None, body: bytes) -> None:
        members: dict[str, Any] = {}
        why = ""
        if value is None:
            why = "absent"
        else:
            try:
                members = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
                if (
                    not isinstance(members, dict)
                    or not members
                    or not all(isinstance(v, tuple) and isinstance(v[0], bytes) for v in members.values())
                ):
                    why = "not a non-empty Dictionary of Byte Sequences"
            except Exception as exc:
                why = f"{type(exc).__name__}: {str(exc)[:80]}"
        trace.check(
            "RFC 9530 §2",
            "Content-Digest is a Dictionary of Byte Sequences",
            not why,
            why or f"algorithms {sorted(members)}",
            MalformedContentDigest,
        )
        usable = [a for a in members if a in DIGEST_ALGORITHMS]
        trace.check(
            "RFC 9530 §5",
            f"Content-Digest has an Active algorithm joselab accepts {sorted(DIGEST_ALGORITHMS)}",
            bool(usable),
            f"algorithms {sorted(members)}",
            UnsupportedDigestAlgorithm,
        )
        wrong = [a for a in usable if not hmac.compare_digest(members[a][0], DIGEST_ALGORITHMS[a](body).digest())]
        trace.check(
            "RFC 9530 §2; RFC 9421 §7.2.8",
            "Content-Digest matches the received body",
            not wrong,
            f"{wrong} differ over {len(body)} bytes" if wrong else f"{', '.join(usable)} over {len(body)} bytes",
            ContentDigestMismatch,
        )


def _serialise_id(name: str, params: Mapping[str, Any]) -> str:
    """A component identifier as it appears in the base: ``"content-type"``, ``"x";key="a"``."""
    try:
        return http_sf.ser((name, dict(params)))
    except Exception:
        return f'"{name}"'


def signature_base_lines(trace: Trace) -> list[str]:
    """The verified signature base of a passing trace, one line a component (for display)."""
    result = trace.result
    return result.signature_base.split("\n") if isinstance(result, Verified) else []


__all__ = [
    "ALGORITHM",
    "CONTENT_DIGEST",
    "DIGEST_ALGORITHMS",
    "LABEL",
    "SIGNATURE",
    "SIGNATURE_INPUT",
    "TAG",
    "HttpSigSigner",
    "HttpSigVerifier",
    "Verified",
    "content_digest",
    "signature_base_lines",
]
