"""joselab.keys: demo keys, JWK Set hygiene (RFC 7517 §4.5, §5), key/alg fit (RFC 8725 §3.1, §3.5)."""

from __future__ import annotations

import json

import pytest
from jwcrypto import jwk

from joselab.compact import b64url_encode
from joselab.errors import JoselabError, KeySetError, MalformedToken
from joselab.keys import (
    MIN_RSA_BITS,
    PRODUCTION_WARNING,
    demo_key,
    demo_keys,
    generate_key,
    key_fits_alg,
    load_jwks,
    public_jwks,
    rsa_bits,
)

RSA = demo_key("rfc7515-a2-rsa")
P256 = demo_key("rfc7515-a3-p256")
HMAC = demo_key("rfc7515-a1-hmac")
ED = demo_key("rfc8037-ed25519")


def test_demo_keys_are_labelled_published_examples():
    keys = demo_keys()
    assert {"rfc7515-a1-hmac", "rfc7515-a2-rsa", "rfc7515-a3-p256", "rfc8037-ed25519", "rfc7520-samwise-rsa"} <= set(keys)
    for name, key in keys.items():
        assert key.name == name and key.source and key.kid
        assert PRODUCTION_WARNING in repr(key)


def test_demo_key_kid_defaults_to_thumbprint():
    assert RSA.kid == RSA.jwk.thumbprint()
    assert HMAC.kid == "HMAC key used in JWS A.1 example"  # RFC 7515 A.1 gives its own


def test_demo_key_unknown_name():
    with pytest.raises(KeySetError, match="no demo key named"):
        demo_key("nope")


def test_public_half_has_no_private_parts():
    public = RSA.public().export(as_dict=True)
    assert "d" not in public and public["n"] == RSA.jwk["n"]
    assert HMAC.public() is HMAC.jwk  # a symmetric key has no public half


def test_rsa_bits():
    assert rsa_bits(RSA.jwk) == 2048
    assert rsa_bits({"n": b64url_encode(b"\x01" + b"\x00" * 127)}) == 1017


@pytest.mark.parametrize(
    ("key", "alg", "fits"),
    [
        (RSA.jwk, "RS256", True),
        (RSA.jwk, "PS512", True),
        (P256.jwk, "ES256", True),
        (demo_key("rfc7515-a4-p521").jwk, "ES512", True),
        (HMAC.jwk, "HS256", True),
        (HMAC.jwk, "HS512", True),
        (ED.jwk, "Ed25519", True),
        (ED.jwk, "EdDSA", True),
        (RSA.public(), "HS256", False),  # RS256 public key used as an HMAC secret: CVE-2016-10555
        (HMAC.jwk, "RS256", False),
        (P256.jwk, "ES384", False),
        (P256.jwk, "RS256", False),
        (ED.jwk, "ES256", False),
        (P256.jwk, "Ed25519", False),
        (RSA.jwk, "none", False),
        (RSA.jwk, "RSA-OAEP", False),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_key_fits_alg(key, alg, fits):
    assert key_fits_alg(key, alg)[0] is fits


def test_key_alg_and_use_pin_the_key():
    ok, why = key_fits_alg({**RSA.public().export(as_dict=True), "alg": "RS256"}, "PS256")
    assert not ok and "RS256" in why
    ok, why = key_fits_alg({**RSA.public().export(as_dict=True), "use": "enc"}, "RS256")
    assert not ok and "use" in why


@pytest.mark.parametrize(
    ("alg", "size", "fits"),
    [("HS256", 31, False), ("HS256", 32, True), ("HS384", 47, False), ("HS512", 63, False), ("HS512", 64, True)],
)
def test_short_hmac_keys(alg, size, fits):
    """RFC 7518 §3.2: a key of the same size as the hash output or larger."""
    ok, why = key_fits_alg({"kty": "oct", "k": b64url_encode(b"k" * size)}, alg)
    assert ok is fits
    if not fits:
        assert "RFC 7518 §3.2" in why


def test_rsa_under_2048_bits_does_not_fit():
    small = jwk.JWK.generate(kty="RSA", size=1024)
    ok, why = key_fits_alg(small, "RS256")
    assert not ok and "RFC 7518 §3.3" in why


def test_malformed_key_material_raises_joselab_error():
    with pytest.raises(MalformedToken):
        key_fits_alg({"kty": "oct", "k": "a=="}, "HS256")


def jwks(*entries):
    return json.dumps({"keys": list(entries)})


def test_load_jwks_accepts_public_set():
    loaded = load_jwks(public_jwks(RSA, P256, ED))
    assert {k["kid"] for k in loaded["keys"]} == {RSA.kid, P256.kid, ED.kid}


def test_load_jwks_accepts_text_and_bytes():
    text = jwks(P256.public().export(as_dict=True))
    assert len(load_jwks(text)["keys"]) == 1
    assert len(load_jwks(text.encode())["keys"]) == 1


RSA_PUB = RSA.public().export(as_dict=True)
P256_PUB = P256.public().export(as_dict=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        ("[" * 50_000 + "]" * 50_000, "not JSON"),
        ({"keys": {}}, '"keys" array'),
        ([], '"keys" array'),
        ({"keys": ["x"]}, "is not an object"),
        ({"keys": [{**RSA_PUB, "kid": "a"}, {**RSA_PUB, "kid": "a"}]}, "duplicate"),
        ({"keys": [{**RSA_PUB, "kid": "a"}, {**P256_PUB, "kid": "a"}]}, "mixed key types"),
        ({"keys": [RSA.jwk.export(as_dict=True)]}, "private"),
        ({"keys": [HMAC.jwk.export(as_dict=True)]}, "private or symmetric"),
        ({"keys": [{**RSA_PUB, "kid": 7}]}, "kid that is not a string"),
        ({"keys": [{**RSA_PUB, "n": "a=="}]}, "malformed RSA modulus"),
        ({"keys": [jwk.JWK.generate(kty="RSA", size=1024).export_public(as_dict=True)]}, "under 2048"),
        ({"keys": [{"kty": "EC", "crv": "P-999", "x": "AA", "y": "AA"}]}, "not a valid JWK"),
        ({"keys": [{**P256_PUB, "y": P256_PUB["x"]}]}, "not a valid JWK"),  # point off the curve (RFC 8725 §2.5)
        ({"keys": [{"kty": "nope"}]}, "not a valid JWK"),
    ],
    ids=[
        "not-json", "not-utf8", "deep-nesting", "keys-not-array", "not-object", "member-not-object", "duplicate-kid",
        "mixed-kty-one-kid", "private-rsa", "symmetric", "kid-not-string", "bad-modulus", "rsa-1024", "bad-curve",
        "off-curve-point", "unknown-kty",
    ],
)  # fmt: skip
def test_load_jwks_hygiene(data, message):
    with pytest.raises(KeySetError, match=message):
        load_jwks(data)


def test_load_jwks_private_allowed_when_asked():
    loaded = load_jwks({"keys": [RSA.jwk.export(as_dict=True)]}, public_only=False)
    assert next(iter(loaded["keys"])).has_private


def test_minimum_rsa_size_is_2048():
    assert MIN_RSA_BITS == 2048


def test_public_jwks_refuses_symmetric_key():
    with pytest.raises(KeySetError, match="symmetric"):
        public_jwks(HMAC)


def test_public_jwks_exports_public_halves():
    doc = public_jwks(RSA, P256.jwk)
    assert all("d" not in k for k in doc["keys"])


@pytest.mark.parametrize(
    ("alg", "kty"), [("RS256", "RSA"), ("PS256", "RSA"), ("ES256", "EC"), ("Ed25519", "OKP"), ("HS256", "oct")]
)
def test_generate_key(alg, kty):
    key = generate_key(alg)
    assert key["kty"] == kty and key["kid"] == key.thumbprint()
    assert key_fits_alg(key, alg)[0]


def test_generate_key_with_kid_and_unknown_alg():
    assert generate_key("ES256", kid="k1")["kid"] == "k1"
    with pytest.raises(KeySetError):
        generate_key("none")
    with pytest.raises(JoselabError):
        generate_key("EdDSA")  # RFC 9864: name the curve, Ed25519
