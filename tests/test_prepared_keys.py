"""joselab.keys.prepared_public_key and the direct verification in joselab.jws: the cache of
``cryptography`` key objects is keyed by the exact public members, so a changed key is never served
from it and two keys under one ``kid`` are never confused."""

from __future__ import annotations

import pytest
from jwcrypto import jwk

from joselab import jws, keys
from joselab.compact import parse_jws
from joselab.errors import InvalidSignature
from joselab.jws import sign_compact, signature_verifies, verify_jws
from joselab.keys import generate_key, load_jwks, prepared_public_key, public_jwks
from joselab.trace import Trace

ALGS = ("RS256", "PS256", "ES256", "Ed25519")


@pytest.fixture(autouse=True)
def _empty_cache():
    keys.clear_prepared_keys()
    yield
    keys.clear_prepared_keys()


def _public(key: jwk.JWK) -> jwk.JWK:
    return jwk.JWK(**key.export_public(as_dict=True))


@pytest.mark.parametrize("alg", ALGS)
def test_direct_verification_agrees_with_jwcrypto(alg):
    key = generate_key(alg, kid="k1")
    token = sign_compact({"sub": "a"}, key, {"alg": alg, "kid": "k1"})
    parsed = parse_jws(token)
    public = _public(key)
    assert signature_verifies(alg, public, parsed.signing_input, parsed.signature)
    assert prepared_public_key(public) is not None  # the direct path was taken and its key kept
    tampered = parsed.signing_input[:-1] + (b"B" if parsed.signing_input[-1:] != b"B" else b"C")
    assert not signature_verifies(alg, public, tampered, parsed.signature)
    bad = bytes([parsed.signature[0] ^ 1]) + parsed.signature[1:]
    assert not signature_verifies(alg, public, parsed.signing_input, bad)


def test_same_members_share_one_prepared_key_and_other_members_do_not():
    key = generate_key("ES256", kid="k")
    first, again = _public(key), _public(key)
    assert prepared_public_key(first) is prepared_public_key(again)
    other = _public(generate_key("ES256", kid="k"))  # the same kid, another key
    assert prepared_public_key(other) is not prepared_public_key(first)


def test_a_new_key_under_the_same_kid_is_not_confused_with_the_cached_one():
    old, new = generate_key("RS256", kid="as-1"), generate_key("RS256", kid="as-1")
    token_old = sign_compact({"sub": "a"}, old, {"alg": "RS256", "kid": "as-1"})
    token_new = sign_compact({"sub": "a"}, new, {"alg": "RS256", "kid": "as-1"})
    old_set, new_set = load_jwks(public_jwks(old)), load_jwks(public_jwks(new))
    verify_jws(Trace("warm"), token_old, old_set, ["RS256"])  # the old key is now prepared and kept
    trace = Trace("rotated")
    with trace.run():
        verify_jws(trace, token_old, new_set, ["RS256"])
    assert isinstance(trace.error, InvalidSignature)  # the old token does not verify under the new key
    assert verify_jws(Trace("new"), token_new, new_set, ["RS256"]).header["kid"] == "as-1"


def test_a_key_whose_members_change_is_prepared_again():
    a, b = generate_key("Ed25519", kid="k"), generate_key("Ed25519", kid="k")
    public = _public(a)
    token_b = parse_jws(sign_compact({"sub": "a"}, b, {"alg": "Ed25519", "kid": "k"}))
    assert not signature_verifies("Ed25519", public, token_b.signing_input, token_b.signature)
    members = b.export_public(as_dict=True)
    public_b = jwk.JWK(**members)
    assert signature_verifies("Ed25519", public_b, token_b.signing_input, token_b.signature)
    assert prepared_public_key(public_b) is not prepared_public_key(public)


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(keys, "MAX_PREPARED_KEYS", 2)
    made = [_public(generate_key("ES256")) for _ in range(3)]
    for k in made:
        prepared_public_key(k)
    assert len(keys._PREPARED) == 2


def test_key_ops_without_verify_is_still_refused():
    key = generate_key("ES256", kid="k")
    token = parse_jws(sign_compact({"sub": "a"}, key, {"alg": "ES256", "kid": "k"}))
    members = {**key.export_public(as_dict=True), "key_ops": ["sign"]}
    assert signature_verifies("ES256", _public(key), token.signing_input, token.signature)  # prepared now
    assert not signature_verifies("ES256", jwk.JWK(**members), token.signing_input, token.signature)


def test_an_es_algorithm_on_another_curve_fails():
    key = generate_key("ES384", kid="k")
    token = parse_jws(sign_compact({"sub": "a"}, key, {"alg": "ES384", "kid": "k"}))
    assert not jws.signature_verifies("ES256", _public(key), token.signing_input, token.signature)


def test_an_invalid_point_is_not_prepared():
    members = _public(generate_key("ES256")).export_public(as_dict=True)
    members["y"] = members["x"]  # (x, x) is not on P-256
    assert prepared_public_key(members) is None
