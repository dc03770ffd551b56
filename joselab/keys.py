"""Keys: the book's demo key set, JWK Set loading with hygiene checks, and fresh keys.

Demo keys are the published example keys of RFC 7515 Appendix A, RFC 7520 §3 and §5, and RFC 8037
Appendix A. Their private halves are printed in those RFCs, so anyone can sign with them: they make
the book reproducible and are NEVER for production. Each carries its source.

:func:`load_jwks` parses a JWK Set (RFC 7517 §5) and refuses what a verifier should not accept: a
member that is not a key, duplicate ``kid`` values (RFC 7517 §4.5 asks them to be distinct so a
``kid`` picks one key), private parts in a set that should be public, and RSA keys under 2048 bits
(RFC 7518 §3.3). :func:`key_fits_alg` says whether a key's type and size fit an algorithm, and
:class:`KeyBinding` says which *one* algorithm each trusted key serves (RFC 8725 §3.1: "each key MUST
be used with exactly one algorithm, and this MUST be checked when the cryptographic operation is
performed"), also when its JWK has no ``alg``. :func:`generate_key` makes a fresh key for each
algorithm the book uses, with ``Ed25519`` named as RFC 9864 does.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwcrypto import jwk
from jwcrypto.common import JWException

from .compact import b64url_decode, loads_strict
from .errors import JoselabError, KeySetError, MalformedToken

PRODUCTION_WARNING = "published example key: its private part is in an RFC; never use it in production"

MIN_RSA_BITS = 2048
#: Caps on a JWK Set read from the network: its text, and how many keys it may hold.
MAX_JWKS_BYTES = 256 * 1024
MAX_JWKS_KEYS = 64
#: The largest RSA modulus accepted from a JWK Set: far above any real key, low enough to bound the work.
MAX_RSA_BITS = 16384
_HMAC_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_OKP_CURVES = {"Ed25519": ("Ed25519",), "Ed448": ("Ed448",), "EdDSA": ("Ed25519", "Ed448")}
#: ML-DSA (RFC 9964 §5): an AKP key whose own ``alg`` names the parameter set (RFC 9964 §3).
_MLDSA = ("ML-DSA-44", "ML-DSA-65", "ML-DSA-87")
#: The JWK key types (``kty``) joselab knows.
_KEY_TYPES = frozenset({"RSA", "EC", "OKP", "oct", "AKP"})
_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
#: The curves that name one signature algorithm each (RFC 7518 §3.4, RFC 9864 §2.2): a key on one of
#: them serves that algorithm unless configured otherwise.
CURVE_ALGORITHMS = {
    ("EC", "P-256"): "ES256", ("EC", "P-384"): "ES384", ("EC", "P-521"): "ES512",
    ("OKP", "Ed25519"): "Ed25519", ("OKP", "Ed448"): "Ed448",
}  # fmt: skip
#: Key management algorithms (RFC 7518 §4.1) by the key type they take.
_JWE_KEY_TYPES = {
    "RSA": ("RSA1_5", "RSA-OAEP", "RSA-OAEP-256", "RSA-OAEP-384", "RSA-OAEP-512"),
    "EC": ("ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"),
    "OKP": ("ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW"),
    "oct": (
        "dir", "A128KW", "A192KW", "A256KW", "A128GCMKW", "A192GCMKW", "A256GCMKW",
        "PBES2-HS256+A128KW", "PBES2-HS384+A192KW", "PBES2-HS512+A256KW",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class DemoKey:
    """A published example key, labelled with where it was published."""

    name: str
    source: str
    alg: str
    role: str
    jwk: jwk.JWK

    @property
    def kid(self) -> str:
        return self.jwk["kid"]

    def public(self) -> jwk.JWK:
        """The public half (a copy); for a symmetric key, the key itself."""
        if self.jwk["kty"] == "oct":
            return self.jwk
        return jwk.JWK(**self.jwk.export_public(as_dict=True))

    def __repr__(self) -> str:
        return f"<DemoKey {self.name} ({self.alg}, kid={self.kid!r}) from {self.source}: {PRODUCTION_WARNING}>"


@cache
def demo_keys() -> dict[str, DemoKey]:
    """All demo keys by name. Each JWK's ``kid`` is its own where the RFC gives one, else its RFC 7638
    thumbprint."""
    data = json.loads(resources.files("joselab.data").joinpath("demo_keys.json").read_text("utf-8"))
    keys = {}
    for entry in data["keys"]:
        key = jwk.JWK(**entry["jwk"])
        if "kid" not in key:
            key = jwk.JWK(**{**entry["jwk"], "kid": key.thumbprint()})
        keys[entry["name"]] = DemoKey(entry["name"], entry["source"], entry["alg"], entry["role"], key)
    return keys


def demo_key(name: str) -> DemoKey:
    """One demo key by name (see :func:`demo_keys`)."""
    try:
        return demo_keys()[name]
    except KeyError:
        raise KeySetError(f"no demo key named {name!r}; have {sorted(demo_keys())}") from None


def rsa_bits(key: jwk.JWK | dict[str, Any]) -> int:
    """The modulus size of an RSA JWK, in bits."""
    n = key["n"]
    if n.__class__ is str:
        return _modulus_bits(n)
    return int.from_bytes(b64url_decode(n, "RSA modulus"), "big").bit_length()


@lru_cache(maxsize=256)
def _modulus_bits(n: str) -> int:
    # A verifier asks this of the same few keys on every call; the answer depends on n alone.
    return int.from_bytes(b64url_decode(n, "RSA modulus"), "big").bit_length()


# A prepared key is found by exactly the members that make up the public key (RSA n, e: RFC 7518
# §6.3.1; EC crv, x, y: §6.2.1; OKP crv, x: RFC 8037 §2), so a JWK with the same kid and other members
# is another key.
_EC_PYCA_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}
_OKP_PYCA = {"Ed25519": ed25519.Ed25519PublicKey, "Ed448": ed448.Ed448PublicKey}
#: How many prepared public keys are kept (least recently used goes first): joselab policy, a bound
#: on memory however many keys a verifier meets.
MAX_PREPARED_KEYS = 256
_PREPARED: OrderedDict[tuple[str, ...], Any] = OrderedDict()
_PREPARED_LOCK = threading.Lock()


def prepared_public_key(key: jwk.JWK | Mapping[str, Any]) -> Any | None:
    """The ``cryptography`` public key object of an RSA, EC or OKP signature JWK, built once per
    distinct public key and kept (at most :data:`MAX_PREPARED_KEYS`), or None for any other key or
    one whose members do not make a valid key (the caller then takes the slow path, which refuses it).

    The cache is keyed by the key type and its exact public members (``n``/``e``, ``crv``/``x``/``y``,
    ``crv``/``x``), never by ``kid``: a rotated key under an old ``kid`` is a new entry, and a JWK
    whose members changed finds its new key. An EC point is checked to be on its curve when the key
    is built (``cryptography`` refuses it otherwise), as jwcrypto does."""
    get = key.get
    kty = get("kty")
    if kty == "RSA":
        values: tuple[Any, ...] = (get("n"), get("e"))
    elif kty == "EC":
        values = (get("crv"), get("x"), get("y"))
    elif kty == "OKP":
        values = (get("crv"), get("x"))
    else:
        return None
    for value in values:
        if value.__class__ is not str:
            return None
    cache_key = (kty, *values)
    found = _PREPARED.get(cache_key)
    if found is not None:
        try:
            _PREPARED.move_to_end(cache_key)
        except KeyError:  # another thread dropped it just now: it is still the right key
            pass
        return found
    try:
        built = _build_public_key(kty, values)
    except (JoselabError, ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if built is None:
        return None
    with _PREPARED_LOCK:  # validators run in server threads too
        _PREPARED[cache_key] = built
        while len(_PREPARED) > MAX_PREPARED_KEYS:
            _PREPARED.popitem(last=False)
    return built


def clear_prepared_keys() -> None:
    """Forget every prepared public key (:func:`prepared_public_key`)."""
    with _PREPARED_LOCK:
        _PREPARED.clear()


def _int(value: str, what: str) -> int:
    return int.from_bytes(b64url_decode(value, what), "big")


def _build_public_key(kty: str, values: tuple[str, ...]) -> Any | None:
    if kty == "RSA":
        n, e = values
        if _modulus_bits(n) > MAX_RSA_BITS:
            return None
        return rsa.RSAPublicNumbers(_int(e, "RSA exponent"), _int(n, "RSA modulus")).public_key()
    if kty == "EC":
        crv, x, y = values
        curve = _EC_PYCA_CURVES.get(crv)
        if curve is None:
            return None
        size = (curve.key_size + 7) // 8
        xb, yb = b64url_decode(x, "EC x"), b64url_decode(y, "EC y")
        if len(xb) != size or len(yb) != size:  # RFC 7518 §6.2.1.2, §6.2.1.3: the full coordinate length
            return None
        return ec.EllipticCurvePublicNumbers(int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), curve()).public_key()
    crv, x = values
    cls = _OKP_PYCA.get(crv)
    return None if cls is None else cls.from_public_bytes(b64url_decode(x, "OKP x"))


def key_fits_alg(key: jwk.JWK | dict[str, Any], alg: str) -> tuple[bool, str]:
    """Whether ``key`` may be used with signature algorithm ``alg``, and why not (RFC 7518 §3,
    RFC 8037 §3.1, RFC 9864, RFC 9964 §3, RFC 8725 §3.1 and §3.5)."""
    kty = key.get("kty")
    own = key.get("alg")
    if own is not None and not (isinstance(own, str) and same_algorithm(own, alg, key)):
        return False, f"key is for {own}, not {alg}"
    if key.get("use") not in (None, "sig"):
        return False, f"key use is {key.get('use')!r}, not 'sig'"
    if alg in _HMAC_BYTES:
        if kty != "oct":
            return False, f"{alg} needs a symmetric (oct) key, not {kty}"
        size = len(b64url_decode(key.get("k", ""), "symmetric key"))
        if size < _HMAC_BYTES[alg]:
            return False, f"{alg} key is {size} bytes, under the {_HMAC_BYTES[alg]} RFC 7518 §3.2 requires"
        return True, f"oct key of {size} bytes"
    if alg[:2] in ("RS", "PS") and alg[2:] in ("256", "384", "512"):
        if kty != "RSA":
            return False, f"{alg} needs an RSA key, not {kty}"
        bits = rsa_bits(key)
        if bits < MIN_RSA_BITS:
            return False, f"RSA key of {bits} bits, under the {MIN_RSA_BITS} RFC 7518 §3.3 requires"
        return True, f"RSA key of {bits} bits"
    if alg in _EC_CURVES:
        if kty != "EC" or key.get("crv") != _EC_CURVES[alg]:
            return False, f"{alg} needs an EC {_EC_CURVES[alg]} key, not {kty} {key.get('crv', '')}".rstrip()
        return True, f"EC {key.get('crv')} key"
    if alg in _MLDSA:
        if kty != "AKP" or key.get("alg") != alg:
            return False, f"{alg} needs an AKP key with alg {alg}, not {kty} {key.get('alg') or ''}".rstrip()
        return True, f"AKP {alg} key"
    if alg in _OKP_CURVES:
        if kty != "OKP" or key.get("crv") not in _OKP_CURVES[alg]:
            return False, f"{alg} needs an OKP {'/'.join(_OKP_CURVES[alg])} key, not {kty} {key.get('crv', '')}".rstrip()
        return True, f"OKP {key.get('crv')} key"
    return False, f"{alg} is not a signature algorithm joselab knows"


def same_algorithm(bound: str, alg: str, key: jwk.JWK | Mapping[str, Any]) -> bool:
    """Whether ``alg`` names the algorithm ``bound``: the same name, or ``EdDSA`` (RFC 8037 §3.1, which
    RFC 9864 deprecates) and the fully specified name of the key's curve (``Ed25519``, ``Ed448``,
    RFC 9864 §2.2), which are one computation on that key."""
    if bound == alg:
        return True
    crv = key.get("crv")
    return key.get("kty") == "OKP" and crv in ("Ed25519", "Ed448") and {bound, alg} <= {"EdDSA", crv}


def _fits_type(key: jwk.JWK | Mapping[str, Any], alg: str, use: str) -> bool:
    kty = key.get("kty")
    if use == "enc":
        if kty == "OKP" and key.get("crv") not in ("X25519", "X448"):
            return False  # RFC 8037 §3.2: ECDH-ES takes X25519 or X448 OKP keys, not Ed25519 ones
        return alg in _JWE_KEY_TYPES.get(str(kty), ())
    if alg in _HMAC_BYTES:
        return kty == "oct"
    if alg[:2] in ("RS", "PS"):
        return kty == "RSA"
    if alg in _EC_CURVES:
        return kty == "EC" and key.get("crv") == _EC_CURVES[alg]
    if alg in _OKP_CURVES:
        return kty == "OKP" and key.get("crv") in _OKP_CURVES[alg]
    return False


@dataclass(frozen=True)
class KeyBinding:
    """Which one algorithm each trusted key serves (RFC 8725 §3.1: "each key MUST be used with exactly
    one algorithm"), and whether secret keys may sit beside public ones. A verifier takes one of these
    with its keys; every validator in the book has a ``binding`` argument.

    A key's algorithm is, in this order:

    1. its JWK's ``alg`` member (RFC 7517 §4.4); a ``by_kid`` entry that names another one is a
       conflict, and the key serves nothing;
    2. ``by_kid[kid]``: ``KeyBinding(by_kid={"as-2026-01": "PS256"})``;
    3. ``by_type[(kty, crv)]``, with ``crv`` ``None`` for RSA and ``oct`` keys:
       ``KeyBinding(by_type={("RSA", None): "PS256"})``;
    4. for a signature key on a curve that names one algorithm (:data:`CURVE_ALGORITHMS`: P-256 is
       ES256, Ed25519 is Ed25519, ...), that algorithm. ``EdDSA`` is accepted as another name of the
       curve's algorithm (see :func:`same_algorithm`), if the verifier's allowlist has it;
    5. the one algorithm on the verifier's allowlist that takes this kind of key, if there is exactly
       one (the allowlist is configuration too: an RS256-only verifier's RSA keys serve RS256).

    Otherwise the key serves no algorithm and is refused: an RSA key without ``alg`` at a verifier
    that allows RS256 *and* PS256, or an ``oct`` key at a decrypter that allows ``A128KW`` and
    ``A128GCMKW``, must be configured by ``kid`` or by type.

    A ``by_type`` entry with ``crv`` ``None`` also covers the keys of that type on every curve
    (``("EC", None)``); an entry naming the curve comes first.

    ``infer`` (on by default) allows steps 4 and 5. With ``infer=False`` a key without ``alg`` serves
    only what ``by_kid`` or ``by_type`` configure: that is how the key sources of
    :mod:`joselab.keysource` bind keys fetched from an issuer, where a missing ``alg`` is a named
    leniency (``key_algorithms``), never a guess. :meth:`from_names` builds that binding from their
    ``key_algorithms`` names.

    ``allow_secret_with_public`` lets a key set hold symmetric (``oct``) keys beside public keys. It
    is off by default (joselab policy): a secret published beside public keys is a leak, or the key
    confusion of RFC 8725 §2.1 (RS256 → HS256) waiting for a verifier that picks keys loosely.
    """

    by_kid: Mapping[str, str] = field(default_factory=dict)
    by_type: Mapping[tuple[str, str | None], str] = field(default_factory=dict)
    allow_secret_with_public: bool = False
    infer: bool = True

    @classmethod
    def from_names(cls, names: Mapping[str, str], **options: Any) -> KeyBinding:
        """A binding from names as configuration writes them: a ``kid``, ``"kty crv"``
        (``"OKP Ed25519"``, ``"EC P-256"``) or ``"kty"`` (``"RSA"``), each to one algorithm. A name is
        tried as a ``kid`` first, then as a key type. ``options`` are the other fields."""
        by_type: dict[tuple[str, str | None], str] = {}
        for name, alg in names.items():
            kty, _, crv = name.partition(" ")
            if kty in _KEY_TYPES and " " not in crv:
                by_type[(kty, crv or None)] = alg
        return cls(by_kid=dict(names), by_type=by_type, **options)

    def configured_name(self, key: jwk.JWK | Mapping[str, Any]) -> str | None:
        """The configuration entry that decides ``key``'s algorithm, as :meth:`from_names` spells it
        (``kid``, ``"kty crv"`` or ``"kty"``); ``None`` if no entry does."""
        kid, kty, crv = key.get("kid"), str(key.get("kty")), key.get("crv")
        crv = crv if isinstance(crv, str) else None
        if isinstance(kid, str) and kid in self.by_kid:
            return kid
        if crv is not None and (kty, crv) in self.by_type:
            return f"{kty} {crv}"
        if (kty, None) in self.by_type:
            return kty
        return None

    def algorithm_for(
        self, key: jwk.JWK | Mapping[str, Any], allowed: Collection[str], *, use: str = "sig"
    ) -> tuple[str | None, str]:
        """The one algorithm ``key`` serves, and how that was decided (evidence for a trace row);
        ``(None, why)`` when it serves none. ``allowed`` is the verifier's allowlist, ``use`` is
        ``"sig"`` (JWS) or ``"enc"`` (JWE key management)."""
        kid, kty, crv = key.get("kid"), str(key.get("kty")), key.get("crv")
        crv = crv if isinstance(crv, str) else None
        configured = self.by_kid.get(kid) if isinstance(kid, str) else None
        own = key.get("alg")
        if own is not None:
            if not isinstance(own, str):
                return None, "its JWK's alg is not a string"
            if configured is not None and configured != own:
                return None, f"its JWK says alg {own}, the configuration says {configured}"
            return own, f"{own}, its JWK's alg"
        if configured is not None:
            return configured, f"{configured}, configured for kid {kid!r}"
        by_type = self.by_type.get((kty, crv))
        if by_type is None and crv is not None:
            by_type = self.by_type.get((kty, None))
        if by_type is not None:
            return by_type, f"{by_type}, configured for {kty} {crv or ''}".rstrip() + " keys"
        if not self.infer:
            return None, f"{kty} key has no alg, and the configuration names none for it"
        if use == "sig" and (kty, crv) in CURVE_ALGORITHMS:
            alg = CURVE_ALGORITHMS[(kty, crv)]
            return alg, f"{alg}, the one algorithm of curve {crv}"
        fitting = sorted({a for a in allowed if isinstance(a, str) and _fits_type(key, a, use)})
        if len(fitting) == 1:
            return fitting[0], f"{fitting[0]}, the one {kty} algorithm on the allowlist"
        what = f"{kty} key has no alg"
        if not fitting:
            return None, f"{what}, and no allowed algorithm takes it"
        return None, f"{what} and the allowlist has {fitting}: configure its algorithm (by kid or key type)"


MIXED_KEYS_MESSAGE = (
    "key set mixes secret (oct) keys with public keys: refused (joselab policy; the RS256 → HS256 "
    "confusion of RFC 8725 §2.1); allow_secret_with_public=True if this is meant"
)


def mixes_secret_and_public(keys: Collection[jwk.JWK] | Collection[Mapping[str, Any]]) -> bool:
    """Whether a key set holds both symmetric (``oct``) and asymmetric keys."""
    types = {k.get("kty") for k in keys}
    return "oct" in types and bool(types - {"oct"})


def key_fits_jwe_alg(key: jwk.JWK | Mapping[str, Any], alg: str, enc: str | None = None) -> tuple[bool, str]:
    """Whether ``key`` may be the recipient key of key management algorithm ``alg`` (RFC 7518 §4.1):
    its JWK's ``alg``, if any, is ``alg`` (for ``dir``, where the key is the content encryption key,
    it may be the content encryption algorithm ``enc`` instead, as RFC 7520 §5.6's key is), its
    ``use``, if any, is ``enc`` (RFC 7517 §4.2), and its type is the one ``alg`` takes (the sizes
    are jwcrypto's to check)."""
    own = key.get("alg")
    if own is not None and own != alg and not (alg == "dir" and own == enc):
        return False, f"key is for {own}, not {alg}"
    if key.get("use") not in (None, "enc"):
        return False, f"key use is {key.get('use')!r}, not 'enc'"
    kty = key.get("kty")
    if not _fits_type(key, alg, "enc"):
        return False, f"{alg} does not take {kty} keys"
    return True, f"{kty} {key.get('crv', '')}".rstrip() + " key"


def load_jwks(
    data: str | bytes | dict[str, Any], *, public_only: bool = True, allow_secret_with_public: bool = False
) -> jwk.JWKSet:
    """Parse a JWK Set (RFC 7517 §5) and check its hygiene; raise :class:`KeySetError` if unsafe.

    A set that mixes secret (``oct``) keys with public keys is refused unless
    ``allow_secret_with_public`` (joselab policy; see :class:`KeyBinding`); with ``public_only`` (the
    default) no secret is accepted at all.

    Text is capped at :data:`MAX_JWKS_BYTES` before it is parsed, and parsed strictly (no duplicate
    member names, which jwcrypto's ``JWKSet.from_json`` would resolve silently to the last one); a set
    holds at most :data:`MAX_JWKS_KEYS` keys (joselab policy: bounded work on untrusted input; RFC 7517 §5 sets no bound)."""
    if isinstance(data, (str, bytes, bytearray)):
        if len(data) > MAX_JWKS_BYTES:
            raise KeySetError(
                f"JWK Set of {len(data)} bytes, over the {MAX_JWKS_BYTES} cap (joselab policy; RFC 7517 §5 sets no bound)"
            )
        try:
            data = loads_strict(data if isinstance(data, str) else bytes(data), "JWK Set", "RFC 7517 §5")
        except MalformedToken as exc:
            raise KeySetError(f"JWK Set is not JSON, or not strict JSON (RFC 7517 §5): {exc.check} ({exc.evidence})") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeySetError('a JWK Set is an object with a "keys" array (RFC 7517 §5)')
    if len(data["keys"]) > MAX_JWKS_KEYS:
        raise KeySetError(
            f"JWK Set has {len(data['keys'])} keys, over the {MAX_JWKS_KEYS} cap (joselab policy; RFC 7517 §5 sets no bound)"
        )
    seen: dict[str, str] = {}
    keyset = jwk.JWKSet()
    for i, entry in enumerate(data["keys"]):
        if not isinstance(entry, dict):
            raise KeySetError(f"key {i} is not an object")
        if public_only and _PRIVATE_MEMBERS & set(entry):
            raise KeySetError(f"key {i} has private or symmetric key material in a public JWK Set")
        kid = entry.get("kid")
        if kid is not None:
            if not isinstance(kid, str):
                raise KeySetError(f"key {i} has a kid that is not a string")
            if kid in seen:
                detail = "mixed key types" if seen[kid] != entry.get("kty") else "duplicate"
                raise KeySetError(f"kid {kid!r} names two keys ({detail}); RFC 7517 §4.5")
            seen[kid] = str(entry.get("kty"))
        if entry.get("kty") == "RSA" and "n" in entry:
            try:
                bits = rsa_bits(entry)
            except JoselabError:
                raise KeySetError(f"key {i} has a malformed RSA modulus") from None
            if bits < MIN_RSA_BITS:
                raise KeySetError(f"key {i} is RSA {bits} bits, under {MIN_RSA_BITS} (RFC 7518 §3.3)")
            if bits > MAX_RSA_BITS:
                raise KeySetError(
                    f"key {i} is RSA {bits} bits, over {MAX_RSA_BITS}: refused as a cost bound (joselab policy; RFC 7518 §3.3 sets no upper bound)"
                )
        try:
            key = jwk.JWK(**entry)
            if key.get("kty") != "oct" and prepared_public_key(key) is None:
                # jwcrypto builds the key lazily: build it now, so that an EC point off its curve (the
                # invalid-curve attack, RFC 8725 §2.5) or a broken modulus is refused here, not at use.
                # A key that prepared_public_key built (the same cryptography checks) is kept for
                # verifying; any other goes through jwcrypto, which refuses it or builds it.
                key.export_to_pem()
            keyset.add(key)
        except (JWException, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # jwcrypto and cryptography raise several types on malformed members; all mean "not a key".
            raise KeySetError(f"key {i} is not a valid JWK: {type(exc).__name__}") from None
    if not allow_secret_with_public and mixes_secret_and_public(list(keyset["keys"])):
        raise KeySetError(MIXED_KEYS_MESSAGE)
    return keyset


def as_jwk(key: jwk.JWK | DemoKey) -> jwk.JWK:
    """The JWK itself, whether given a :class:`DemoKey` or a JWK."""
    return key.jwk if isinstance(key, DemoKey) else key


def public_jwks(*keys: jwk.JWK | DemoKey) -> dict[str, Any]:
    """A JWK Set document with the public halves of ``keys`` (what a ``jwks_uri`` serves)."""
    out = []
    for key in keys:
        k = as_jwk(key)
        if k["kty"] == "oct":
            raise KeySetError("a symmetric key never goes into a published JWK Set")
        out.append(k.export_public(as_dict=True))
    return {"keys": out}


def generate_key(alg: str, *, kid: str | None = None) -> jwk.JWK:
    """A fresh key for ``alg`` (RS256, PS256, ES256, Ed25519, HS256, ...), with ``kid`` defaulting to
    the RFC 7638 thumbprint."""
    if alg[:2] in ("RS", "PS"):
        params: dict[str, Any] = {"kty": "RSA", "size": 2048}
    elif alg in _EC_CURVES:
        params = {"kty": "EC", "crv": _EC_CURVES[alg]}
    elif alg in ("Ed25519", "Ed448"):
        params = {"kty": "OKP", "crv": alg}
    elif alg in _HMAC_BYTES:
        params = {"kty": "oct", "size": _HMAC_BYTES[alg] * 8}
    else:
        raise KeySetError(f"joselab does not generate keys for {alg!r}")
    key = jwk.JWK.generate(**params)
    return jwk.JWK(**{**key.export(as_dict=True), "kid": kid or key.thumbprint()})
