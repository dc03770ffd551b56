"""Signing and verifying compact JWS (RFC 7515) with the checks every profile shares.

:func:`sign_compact` writes the protected header with ``alg`` first and compact JSON, so a demo token
is the same bytes on every run. :func:`verify_jws` is the shared front half of every validator in the
book; each step is a row of the caller's trace:

1. parse strictly (:mod:`joselab.compact`);
2. ``alg`` on the caller's allowlist, never ``none`` (RFC 8725 §2.1, §3.1);
3. ``crit`` well formed and fully understood (RFC 7515 §4.1.11);
4. no key or key URL taken from the token itself (RFC 8725 §3.10; ``jwk`` injection, CVE-2018-0114);
5. ``kid`` selects one trusted key, the one algorithm that key serves is ``alg``, and the key fits
   it (RFC 8725 §3.1: "each key MUST be used with exactly one algorithm"; see
   :class:`~joselab.keys.KeyBinding` for a key whose JWK has no ``alg``). This is what stops
   RS256→HS256 key confusion (CVE-2015-9235 in node's jsonwebtoken, CVE-2016-10555 in jwt-simple),
   and one RSA key verifying both RS256 and PS256;
6. the signature has the exact length ``alg`` defines (ECDSA r||s, RFC 7518 §3.4; CVE-2022-21449
   "psychic signatures" sent r = s = 0) and verifies over the exact signing input.

The cryptography itself is jwcrypto's (``jwcrypto.jwa``); joselab decides what reaches it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwcrypto import jwk
from jwcrypto.common import JWException
from jwcrypto.jwa import JWA

from .compact import MAX_TOKEN_LENGTH, CompactJWS, b64url_encode, parse_jws
from .errors import (
    AlgorithmNotAllowed,
    EmbeddedKeyRejected,
    InvalidHeader,
    InvalidSignature,
    JoselabError,
    KeyNotFound,
    UnsupportedCritical,
    ValidationError,
)
from .keys import (
    MIXED_KEYS_MESSAGE,
    KeyBinding,
    key_fits_alg,
    mixes_secret_and_public,
    prepared_public_key,
    rsa_bits,
    same_algorithm,
)
from .trace import RowNames, Trace

#: Header parameter names the JOSE specs define (RFC 7515 §4.1, RFC 7516 §4.1, RFC 7518 §4.6, §4.7, §4.8,
#: RFC 7797 excluded): RFC 7515 §4.1.11 forbids listing them in ``crit``.
JOSE_DEFINED_HEADERS = frozenset(
    {
        "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
        "enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c",
    }
)  # fmt: skip
#: Header members through which a token would hand the verifier its own key (RFC 8725 §3.10).
EMBEDDED_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
_EMBEDDED = frozenset(EMBEDDED_KEY_HEADERS)
_CRIT_NAMES = RowNames("{}crit: well formed, every name understood")
_EMBEDDED_NAMES = RowNames("{}no key or key URL taken from the token (jwk, jku, x5u, x5c)")

#: Signature sizes fixed by the algorithm (RFC 7518 §3.2, §3.4; RFC 8032 §5.1.6; RFC 9964 §5, from
#: FIPS 204 Table 2).
_FIXED_SIGNATURE_BYTES = {
    "HS256": 32, "HS384": 48, "HS512": 64, "ES256": 64, "ES384": 96, "ES512": 132, "Ed25519": 64,
    "Ed448": 114, "ML-DSA-44": 2420, "ML-DSA-65": 3309, "ML-DSA-87": 4627,
}  # fmt: skip

KeySource = jwk.JWKSet | Callable[[Mapping[str, Any]], jwk.JWK | None]


def encode_header(header: Mapping[str, Any]) -> str:
    """BASE64URL(UTF8(JWS Protected Header)) with ``alg`` first and no insignificant whitespace."""
    ordered = {"alg": header["alg"], **{k: v for k, v in header.items() if k != "alg"}}
    return b64url_encode(json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def encode_claims(claims: Mapping[str, Any]) -> bytes:
    """A JWT Claims Set as compact UTF-8 JSON (RFC 7519 §7.1 step 1)."""
    return json.dumps(dict(claims), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_compact(payload: bytes | Mapping[str, Any], key: jwk.JWK, header: Mapping[str, Any], *, detached: bool = False) -> str:
    """Sign ``payload`` (bytes, or claims to encode as JSON) and return the compact JWS (RFC 7515 §7.1).

    ``header`` must hold ``alg``. With ``b64: false`` (RFC 7797) the payload goes into the signing
    input unencoded and ``b64`` must be listed in ``crit``. ``detached`` leaves the payload part empty
    (RFC 7515 Appendix F).
    """
    alg = header.get("alg")
    if not alg or alg == "none":
        raise InvalidHeader("alg names a signature algorithm", "RFC 7515 §4.1.1", f"alg = {alg!r}")
    fits, why = key_fits_alg(key, alg)
    if not fits:
        raise KeyNotFound("signing key fits alg", "RFC 8725 §3.1", why)
    data = encode_claims(payload) if isinstance(payload, Mapping) else bytes(payload)
    protected = encode_header(header)
    if "b64" in header and not isinstance(header["b64"], bool):
        raise InvalidHeader("b64 is a JSON boolean", "RFC 7797 §3", f"b64 = {json.dumps(header['b64'])[:40]}")
    b64 = header.get("b64", True) is not False
    crit = header.get("crit")
    if not b64 and not (isinstance(crit, list) and "b64" in crit):
        raise UnsupportedCritical("b64 is listed in crit", "RFC 7797 §6", "b64: false without crit")
    if b64:
        segment = b64url_encode(data)
        signing_input = f"{protected}.{segment}".encode("ascii")
    else:
        if not detached and b"." in data:
            raise InvalidHeader("unencoded attached payload has no '.'", "RFC 7797 §5.2", "payload contains '.'")
        try:
            segment = "" if detached else data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidHeader("unencoded attached payload is text", "RFC 7797 §5.2", "payload is not UTF-8") from None
        signing_input = protected.encode("ascii") + b"." + data
    signature = JWA.signing_alg(alg).sign(key, signing_input)
    return f"{protected}.{'' if detached else segment}.{b64url_encode(signature)}"


def check_crit(header: Mapping[str, Any], understood: Collection[str]) -> str:
    """Apply RFC 7515 §4.1.11 to a protected header; return evidence, raise on failure."""
    section = "RFC 7515 §4.1.11"
    if "crit" not in header:
        return "no crit"
    crit = header["crit"]  # present: null, a number or an object is malformed, not "no crit"
    if not isinstance(crit, list) or not crit:
        raise UnsupportedCritical("crit is a non-empty array", section, f"crit = {json.dumps(crit)[:60]}")
    if not all(isinstance(name, str) for name in crit):
        raise UnsupportedCritical("crit lists strings", section, f"crit = {json.dumps(crit)[:60]}")
    if len(set(crit)) != len(crit):
        raise UnsupportedCritical("crit has no duplicates", section, f"crit = {json.dumps(crit)[:60]}")
    defined = sorted(set(crit) & JOSE_DEFINED_HEADERS)
    if defined:
        raise UnsupportedCritical("crit lists no name the JOSE specs define", section, f"{defined} listed")
    absent = [name for name in crit if name not in header]
    if absent:
        raise UnsupportedCritical("every name in crit is present", section, f"{absent} absent")
    unknown = [name for name in crit if name not in understood]
    if unknown:
        raise UnsupportedCritical("every name in crit is understood", section, f"{unknown} not understood")
    return f"crit = {json.dumps(crit)}, all understood"


def _crit_understood(crit: Any, header: Mapping[str, Any], understood: Collection[str]) -> bool:
    """The common case of :func:`check_crit`, decided without formatting anything: a non-empty list
    of distinct names, each present, understood and none a JOSE name. False sends the header to
    :func:`check_crit`, which names what is wrong (or accepts it)."""
    if crit.__class__ is not list or not crit:
        return False
    for name in crit:
        if name.__class__ is not str or name not in header or name not in understood or name in JOSE_DEFINED_HEADERS:
            return False
    return len(set(crit)) == len(crit)


def select_key(keys: KeySource, header: Mapping[str, Any], *, allow_secret_with_public: bool = False) -> jwk.JWK:
    """The trusted key for this header: by ``kid`` (RFC 7515 §4.1.4), or the only key when the set has
    one and the header names none. A ``kid`` that is present must be a string (``null`` is not "no
    kid"). A JWK Set mixing secret and public keys is refused unless ``allow_secret_with_public``
    (joselab policy, see :class:`~joselab.keys.KeyBinding`)."""
    kid = header.get("kid")
    section = "RFC 7515 §4.1.4"
    if "kid" in header and not isinstance(kid, str):
        raise InvalidHeader("kid is a string", section, f"kid = {json.dumps(kid)[:40]}")
    # A key source is a callable that is not a JWK Set; a JWK Set itself, the common case, is told by its class at once.
    if keys.__class__ is not jwk.JWKSet and callable(keys) and not isinstance(keys, jwk.JWKSet):
        key = keys(header)
        if key is None:
            raise KeyNotFound("kid names a trusted key", section, f"kid = {kid!r} unknown")
        return key
    candidates = keys["keys"]
    if not allow_secret_with_public and len(candidates) > 1 and mixes_secret_and_public(candidates):
        raise KeyNotFound(
            "trusted keys: no secret (oct) key beside public keys", "joselab policy; RFC 8725 §2.1", MIXED_KEYS_MESSAGE
        )
    if kid is None:
        if len(candidates) == 1:
            return next(iter(candidates))
        raise KeyNotFound("kid names a trusted key", section, f"no kid, and {len(candidates)} trusted keys")
    for key in candidates:
        if key.get("kid") == kid:
            return key
    raise KeyNotFound("kid names a trusted key", section, f"kid = {kid!r} unknown")


def verify_jws(
    trace: Trace,
    token: str,
    keys: KeySource,
    algorithms: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    detached_payload: bytes | None = None,
    max_length: int = MAX_TOKEN_LENGTH,
    signature_section: str = "RFC 7515 §5.2",
    check_header: Callable[[CompactJWS], None] | None = None,
    binding: KeyBinding | None = None,
) -> CompactJWS:
    """Run the shared JWS checks, each as a row of ``trace``; return the parsed token once its
    signature has verified. Raises the failing check's :class:`~joselab.errors.ValidationError`.

    ``check_header``, if given, is called with the parsed (still unverified) token right after the
    parsing row and before ``alg`` is read or any key is looked up: a profile's checks on the
    protected header, such as explicit typing (RFC 8725 §3.11), go there. Such a check may only
    narrow what is accepted; it records its own rows and raises to reject.

    ``b64: false`` (RFC 7797) is honoured only when the caller lists ``"b64"`` in ``understood_crit``
    and the token lists it in ``crit`` (RFC 7797 §6): a verifier that did not opt in, such as a JWT
    validator (RFC 7797 §7 forbids unencoded JWTs), never reads a payload it would otherwise decode.

    ``binding`` says which one algorithm each key serves (RFC 8725 §3.1); the default
    :class:`~joselab.keys.KeyBinding` binds a key by its JWK's ``alg``, its curve, or the one
    algorithm of its type on ``algorithms``, and refuses a key it cannot bind."""
    try:
        parsed = parse_jws(token, detached_payload=detached_payload, max_length=max_length)
    except ValidationError as exc:
        trace.note_failure(exc)
        raise
    length = len(token)
    trace.check("RFC 7515 §7.1", "compact JWS: three base64url parts, header a JSON object", True, lambda: f"{length} characters")
    if check_header is not None:
        check_header(parsed)
    verify_signature(
        trace,
        parsed.header,
        parsed.signing_input,
        parsed.signature,
        keys,
        algorithms,
        understood_crit=understood_crit,
        signature_section=signature_section,
        binding=binding,
    )
    return parsed


def verify_signature(
    trace: Trace,
    header: Mapping[str, Any],
    signing_input: bytes,
    signature: bytes,
    keys: KeySource,
    algorithms: Collection[str],
    *,
    understood_crit: Collection[str] = (),
    signature_section: str = "RFC 7515 §5.2",
    label: str = "",
    binding: KeyBinding | None = None,
) -> jwk.JWK:
    """The header and signature rows every JWS shares, for one JOSE Header and one signature
    (RFC 7515 §5.2 steps 5 and 8): ``alg`` allowlisted, ``b64``/``crit`` understood, no embedded key,
    ``kid`` selecting a trusted key that fits ``alg``, the signature's exact length, and the signature
    over ``signing_input``. :func:`verify_jws` runs it for the compact form and
    :mod:`joselab.serialization` once per signature of a JSON JWS (``label`` names which). Returns the
    key that verified. ``binding`` as for :func:`verify_jws`.

    ``typ`` and ``cty``, when present, must be strings (RFC 7515 §4.1.9, §4.1.10); a profile that
    checks their values does so in its own row, and this one records a row only when one is not."""
    binding = binding or _DEFAULT_BINDING
    alg = header.get("alg")
    found = _ALLOWLISTS.get(algorithms) if algorithms.__class__ is tuple else None  # type: ignore[call-overload]
    allowed, allowlist_name = found if found is not None else _allowlist(algorithms)
    trace.check(
        "RFC 8725 §3.1",
        f"{label}{allowlist_name}",
        isinstance(alg, str) and alg in allowed,
        (lambda: f"alg = {json.dumps(alg)}") if alg.__class__ is str else f"alg = {json.dumps(alg)}",
        AlgorithmNotAllowed,
    )
    if "b64" in header:
        b64 = header["b64"]
        trace.check(
            "RFC 7797 §3", f"{label}b64 is a JSON boolean", isinstance(b64, bool), f"b64 = {json.dumps(b64)[:40]}", InvalidHeader
        )
        if b64 is False:
            _check_b64_false(trace, header, label)
    if "typ" in header and not isinstance(header["typ"], str):
        trace.check("RFC 7515 §4.1.9", f"{label}typ is a string", False, f"typ = {json.dumps(header['typ'])[:40]}", InvalidHeader)
    if "cty" in header and not isinstance(header["cty"], str):
        trace.check(
            "RFC 7515 §4.1.10", f"{label}cty is a string", False, f"cty = {json.dumps(header['cty'])[:40]}", InvalidHeader
        )
    if "crit" in header:
        crit = header["crit"]
        if _crit_understood(crit, header, understood_crit):
            listed = tuple(crit)  # the row shows the names that were checked
            trace.check(
                "RFC 7515 §4.1.11", _CRIT_NAMES[label], True, lambda: f"crit = {json.dumps(list(listed))}, all understood"
            )
        else:
            evidence = _run(lambda: check_crit(header, understood_crit))
            trace.check("RFC 7515 §4.1.11", _CRIT_NAMES.get_name(label), evidence[0], evidence[1], UnsupportedCritical)
    embedded = [] if _EMBEDDED.isdisjoint(header) else [name for name in EMBEDDED_KEY_HEADERS if name in header]
    trace.check(
        "RFC 8725 §3.10",
        _EMBEDDED_NAMES[label],
        not embedded,
        f"header has {embedded}" if embedded else "none present",
        EmbeddedKeyRejected,
    )
    try:
        key = select_key(keys, header, allow_secret_with_public=binding.allow_secret_with_public)
    except ValidationError as exc:
        trace.note_failure(exc)
        raise
    except JoselabError as exc:
        raise KeyNotFound("kid names a trusted key", "RFC 7515 §4.1.4", str(exc)) from None
    fits, why, expected_len = _key_verdict(key, alg, allowed, binding)
    kid = key.get("kid")
    key_name, length_name, signature_name = _row_names(label, alg, expected_len)
    trace.check("RFC 8725 §3.1", key_name, fits, lambda: f"kid={kid!r}: {why}", KeyNotFound)
    trace.check(
        "RFC 7518 §3",
        length_name,
        len(signature) == expected_len,
        lambda: f"{len(signature)} bytes",
        InvalidSignature,
    )
    trace.check(
        signature_section,
        signature_name,
        signature_verifies(alg, key, signing_input, signature),
        lambda: f"kid={kid!r}, over the exact signing input",
        InvalidSignature,
    )
    return key


def _check_b64_false(trace: Trace, header: Mapping[str, Any], label: str) -> None:
    # Without this a b64:false token with no crit passed as "no crit": RFC 7797 §6 requires b64 in crit.
    crit = header.get("crit")
    listed = isinstance(crit, list) and "b64" in crit
    evidence = f"crit = {json.dumps(crit)[:80]}" if "crit" in header else "no crit"
    trace.check("RFC 7797 §6", f"{label}b64: false is listed in crit", listed, evidence, UnsupportedCritical)


_DEFAULT_BINDING = KeyBinding()


def _judge_key(key: jwk.JWK, alg: str, allowed: list[str], binding: KeyBinding) -> tuple[bool, str, int]:
    """Whether ``key`` may verify ``alg`` (its type and size fit, and ``alg`` is the one algorithm
    it serves), why, and the signature length ``alg`` then defines (0 when it may not)."""
    fits, why = key_fits_alg(key, alg)
    if fits:  # the key's type fits alg; now, is alg the one algorithm it serves?
        served, how = binding.algorithm_for(key, allowed)
        if served is None:
            fits, why = False, how
        elif not same_algorithm(served, alg, key):
            fits, why = False, f"serves {how}, not {alg}"
        else:
            why = f"serves {how}; {why}"
    return fits, why, _signature_bytes(alg, key) if fits else 0


#: What this module decided about each key object it was given, found by the object itself (its
#: identity) while its members are the ones it had then: the verdicts of :func:`_judge_key` for the
#: default binding, by algorithm and allowlist, and the prepared ``cryptography`` key for each
#: algorithm. A verifier asks about the same few key objects on every call; a key whose members
#: changed, or another object with the same members, is a new entry, and a key with a list or an
#: object among its members (``key_ops``, ``x5c``) is not kept. At most 256 keys are kept, the oldest
#: going first (joselab policy); an entry holds its key, so an identity is never reused meanwhile.
_SEEN: dict[int, tuple[Any, dict[str, Any], dict[Any, Any]]] = {}
_SEEN_LOCK = threading.Lock()
_PLAIN_MEMBERS = (str, int, bool)


def _memo(key: Any) -> dict[Any, Any] | None:
    entry = _SEEN.get(id(key))
    if entry is not None and entry[0] is key and dict.__eq__(entry[1], key):
        return entry[2]
    if not isinstance(key, dict):
        return None
    members = dict(key)
    for value in members.values():
        if value.__class__ not in _PLAIN_MEMBERS:
            return None
    memo: dict[Any, Any] = {}
    with _SEEN_LOCK:
        _SEEN.pop(id(key), None)  # a changed key: its old entry goes
        while len(_SEEN) >= 256:
            del _SEEN[next(iter(_SEEN))]
        _SEEN[id(key)] = (key, members, memo)
    return memo


def _key_verdict(key: jwk.JWK, alg: str, allowed: list[str], binding: KeyBinding) -> tuple[bool, str, int]:
    if binding is not _DEFAULT_BINDING:  # a configured binding is judged every time
        return _judge_key(key, alg, allowed, binding)
    memo = _memo(key)
    if memo is None:
        return _judge_key(key, alg, allowed, binding)
    cache_key = (alg, tuple(allowed))
    found = memo.get(cache_key)
    if found is None:
        found = memo[cache_key] = _judge_key(key, alg, allowed, binding)
    return found


# The names of the key, length and signature rows depend on the algorithm, not on the token.
@lru_cache(maxsize=256)
def _row_names(label: str, alg: str, expected_len: int) -> tuple[str, str, str]:
    return (
        f"{label}the key kid selects is one for {alg}",
        f"{label}signature is {expected_len} bytes, as {alg} defines",
        f"{label}{alg} signature verifies",
    )


_ALLOWLISTS: dict[tuple[Any, ...], tuple[list[str], str]] = {}


def _allowlist(algorithms: Collection[str]) -> tuple[list[str], str]:
    # The sorted allowlist and its row's name, made once per distinct allowlist (a validator's
    # configuration, so a handful); the list is shared and must not be changed.
    key = tuple(algorithms)
    found = _ALLOWLISTS.get(key)
    if found is None:
        allowed = sorted(a for a in key if a != "none")
        found = (allowed, f"alg on the allowlist {allowed}")
        if len(_ALLOWLISTS) < 64 and all(a.__class__ is str for a in key):
            _ALLOWLISTS[key] = found
    return found


_SHA = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
#: For each asymmetric algorithm: the ``cryptography`` key class it needs, its padding (RSA) or
#: signature scheme (ECDSA) and its hash, with the semantics of jwcrypto's ``JWA``: RFC 7518 §3.3
#: PKCS #1 v1.5; §3.5 PSS with MGF1 and a salt as long as the hash; §3.4 ECDSA with r || s (given
#: to ``cryptography`` as DER) on the algorithm's own curve; RFC 8037 §3.1 and RFC 9864 EdDSA.
_DIRECT: dict[str, tuple[Any, Any, Any, str]] = {}
for _bits, _hash in _SHA.items():
    _DIRECT[f"RS{_bits}"] = (rsa.RSAPublicKey, padding.PKCS1v15(), _hash(), "")
    _DIRECT[f"PS{_bits}"] = (rsa.RSAPublicKey, padding.PSS(padding.MGF1(_hash()), _hash.digest_size), _hash(), "")
_DIRECT["ES256"] = (ec.EllipticCurvePublicKey, ec.ECDSA(hashes.SHA256()), None, "secp256r1")
_DIRECT["ES384"] = (ec.EllipticCurvePublicKey, ec.ECDSA(hashes.SHA384()), None, "secp384r1")
_DIRECT["ES512"] = (ec.EllipticCurvePublicKey, ec.ECDSA(hashes.SHA512()), None, "secp521r1")
_DIRECT["EdDSA"] = ((ed25519.Ed25519PublicKey, ed448.Ed448PublicKey), None, None, "")
_DIRECT["Ed25519"] = (ed25519.Ed25519PublicKey, None, None, "")
_DIRECT["Ed448"] = (ed448.Ed448PublicKey, None, None, "")


_KINDS: dict[tuple[type, str], bool] = {}


def _is_kind(cls: type, alg: str, kind: Any) -> bool:
    # isinstance against cryptography's abstract key classes goes through abc on every call; the
    # answer depends on the concrete class alone, so it is asked once per class and algorithm.
    found = _KINDS.get((cls, alg))
    if found is None:
        found = _KINDS[(cls, alg)] = issubclass(cls, kind)
    return found


def _der(signature: bytes) -> bytes:
    half = len(signature) // 2
    return encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))


_SLOW = "jwcrypto's JWA decides"  # the plan of a key that is not verified directly
_WRONG_CURVE = "another curve"  # an EC key on another curve than alg's: no signature of alg verifies


def _direct_plan(key: Any, alg: str, direct: tuple[Any, Any, Any, str]) -> tuple[Any, ...] | str:
    """How ``key`` verifies ``alg`` directly: the prepared key, its padding or scheme and its hash;
    :data:`_WRONG_CURVE` for an EC key on another curve; :data:`_SLOW` when jwcrypto's ``JWA`` must
    decide (the key's ``key_ops`` or ``use`` do not allow verifying, or it is not a key of that kind)."""
    ops = key.get("key_ops")
    if (ops is None or (isinstance(ops, list) and "verify" in ops)) and key.get("use") in (None, "sig"):
        public = prepared_public_key(key)
        kind, scheme, digest, curve = direct
        if public is not None and _is_kind(public.__class__, alg, kind):
            if digest is None and scheme is not None and public.curve.name != curve:
                return _WRONG_CURVE  # ECDSA is on the algorithm's own curve (RFC 7518 §3.4)
            return (public, scheme, digest)
    return _SLOW


def signature_verifies(alg: str, key: jwk.JWK, signing_input: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``alg``'s signature of ``signing_input`` under ``key``.

    For RSA, EC and OKP keys the ``cryptography`` key object is built once per public key and kept
    (:func:`joselab.keys.prepared_public_key`), and checked directly with jwcrypto's semantics; any
    other key (HMAC, ML-DSA), a key whose ``key_ops`` or ``use`` does not allow verifying, or a key
    object of the wrong kind, goes through jwcrypto's ``JWA``, which builds and checks it each call."""
    direct = _DIRECT.get(alg)
    if direct is not None:
        memo = _memo(key)
        plan = memo.get(alg) if memo is not None else None
        if plan is None:
            plan = _direct_plan(key, alg, direct)
            if memo is not None:
                memo[alg] = plan
        if plan.__class__ is tuple:
            public, scheme, digest = plan
            try:
                if digest is not None:  # RSASSA
                    public.verify(signature, signing_input, scheme, digest)
                elif scheme is not None:  # ECDSA
                    public.verify(_der(signature), signing_input, scheme)
                else:  # EdDSA
                    public.verify(signature, signing_input)
            except (_CryptoInvalidSignature, ValueError, TypeError):
                return False
            return True
        if plan is _WRONG_CURVE:  # no signature of alg verifies under this key
            return False
    try:
        JWA.signing_alg(alg).verify(key, signing_input, signature)
    except (_CryptoInvalidSignature, JWException, ValueError, TypeError):
        return False
    return True


def _signature_bytes(alg: str, key: jwk.JWK) -> int:
    if alg == "EdDSA":  # RFC 8037 §3.1: the size follows the key's curve (64 bytes Ed25519, 114 Ed448)
        return _FIXED_SIGNATURE_BYTES.get(str(key.get("crv")), 0)
    fixed = _FIXED_SIGNATURE_BYTES.get(alg)
    if fixed is not None:
        return fixed
    return (rsa_bits(key) + 7) // 8  # RSASSA: the modulus length (RFC 8017 §8.1.2, §8.2.2)


def _run(fn: Callable[[], str]) -> tuple[bool, str]:
    try:
        return True, fn()
    except ValidationError as exc:
        return False, f"{exc.check}: {exc.evidence}"
