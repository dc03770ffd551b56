"""Keys: the book's demo key set, JWK Set loading with hygiene checks, and fresh keys.

Demo keys are the published example keys of RFC 7515 Appendix A, RFC 7520 §3 and §5, and RFC 8037
Appendix A. Their private halves are printed in those RFCs, so anyone can sign with them: they make
the book reproducible and are NEVER for production. Each carries its source.

:func:`load_jwks` parses a JWK Set (RFC 7517 §5) and refuses what a verifier should not accept: a
member that is not a key, duplicate ``kid`` values (RFC 7517 §4.5 asks them to be distinct so a
``kid`` picks one key), private parts in a set that should be public, and RSA keys under 2048 bits
(RFC 7518 §3.3). :func:`key_fits_alg` ties a key to the algorithms it may be used with (RFC 8725 §3.1:
"each key MUST be used with exactly one algorithm"), and :func:`generate_key` makes a fresh key for
each algorithm the book uses, with ``Ed25519`` named as RFC 9864 does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

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
_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


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
    return int.from_bytes(b64url_decode(key["n"], "RSA modulus"), "big").bit_length()


def key_fits_alg(key: jwk.JWK | dict[str, Any], alg: str) -> tuple[bool, str]:
    """Whether ``key`` may be used with signature algorithm ``alg``, and why not (RFC 7518 §3,
    RFC 8037 §3.1, RFC 9864, RFC 8725 §3.1 and §3.5)."""
    kty = key.get("kty")
    if key.get("alg") not in (None, alg):
        return False, f"key is for {key.get('alg')}, not {alg}"
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
    if alg in _OKP_CURVES:
        if kty != "OKP" or key.get("crv") not in _OKP_CURVES[alg]:
            return False, f"{alg} needs an OKP {'/'.join(_OKP_CURVES[alg])} key, not {kty} {key.get('crv', '')}".rstrip()
        return True, f"OKP {key.get('crv')} key"
    return False, f"{alg} is not a signature algorithm joselab knows"


def load_jwks(data: str | bytes | dict[str, Any], *, public_only: bool = True) -> jwk.JWKSet:
    """Parse a JWK Set (RFC 7517 §5) and check its hygiene; raise :class:`KeySetError` if unsafe.

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
            if key.get("kty") != "oct":
                # jwcrypto builds the key lazily: build it now, so that an EC point off its curve (the
                # invalid-curve attack, RFC 8725 §2.5) or a broken modulus is refused here, not at use.
                key.export_to_pem()
            keyset.add(key)
        except (JWException, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # jwcrypto and cryptography raise several types on malformed members; all mean "not a key".
            raise KeySetError(f"key {i} is not a valid JWK: {type(exc).__name__}") from None
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
