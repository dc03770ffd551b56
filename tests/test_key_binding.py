"""One key, one algorithm (RFC 8725 §3.1), also when a JWK has no ``alg``; and no secret beside public keys.

RFC 8725 §3.1: "each key MUST be used with exactly one algorithm, and this MUST be checked when the
cryptographic operation is performed." Each test here failed before :class:`joselab.keys.KeyBinding`:
a JWK without ``alg`` verified every algorithm its key type fits (one RSA key verified RS256 *and*
PS256), ``decrypt_jwe`` used a key with any allowed key management algorithm (an ``A128GCMKW`` key
unwrapped an ``A128KW`` token, an ``A256KW`` key's bytes worked as a PBES2 password), and a JWK Set
mixing secret and public keys was accepted.
"""

from __future__ import annotations

import json

import pytest
from joselab_testkit import forge_jws, keyset
from jwcrypto import jwe, jwk

from joselab import DEMO_EPOCH, FixedClock, Trace, demo_key, load_jwks, public_jwks, sign_compact
from joselab.access_token import AccessTokenValidator
from joselab.compact import b64url_encode
from joselab.errors import KeyNotFound, KeySetError
from joselab.jwe import decrypt_jwe, jwcrypto_decrypt
from joselab.jws import verify_jws
from joselab.keys import CURVE_ALGORITHMS, KeyBinding
from joselab.serialization import decrypt_json_jwe

RSA = demo_key("rfc7515-a2-rsa")
P256 = demo_key("rfc7515-a3-p256")
ED25519 = demo_key("rfc8037-ed25519")
HMAC = demo_key("rfc7515-a1-hmac")
SAMWISE = demo_key("rfc7520-samwise-rsa").jwk
MERIADOC = demo_key("rfc7520-meriadoc-p256").jwk
CLAIMS = b'{"sub":"alice"}'
BOTH = ["RS256", "PS256"]


def public(key, **members) -> jwk.JWK:
    """The public JWK of a demo key, without ``alg`` unless given."""
    return jwk.JWK(**{**key.jwk.export_public(as_dict=True), **members})


def token(alg: str, key=RSA) -> str:
    return forge_jws({"alg": alg, "kid": key.kid}, CLAIMS, key.jwk, alg)


def key_row(trace: Trace):
    return next(c for c in trace if c.name.startswith("the key kid selects is one for"))


def verify(tok, keys, algorithms, binding=None) -> Trace:
    trace = Trace("t")
    with trace.run():
        verify_jws(trace, tok, keys, algorithms, binding=binding)
    return trace


# -- signatures ------------------------------------------------------------------------------------
def test_one_rsa_key_without_alg_no_longer_verifies_both_rs256_and_ps256():
    """Before the fix both verified: the JWK had no alg, and RSA fits RS256 and PS256 alike."""
    keys = keyset(public(RSA))
    for alg in BOTH:
        trace = verify(token(alg), keys, BOTH)
        row = key_row(trace)
        assert not trace.ok and not row.passed and row.section == "RFC 8725 §3.1"
        assert "RSA key has no alg and the allowlist has ['PS256', 'RS256']" in row.evidence
        assert "configure its algorithm" in row.evidence


@pytest.mark.parametrize(
    ("binding", "serves"),
    [
        (KeyBinding(by_kid={RSA.kid: "RS256"}), "RS256"),
        (KeyBinding(by_kid={RSA.kid: "PS256"}), "PS256"),
        (KeyBinding(by_type={("RSA", None): "PS256"}), "PS256"),
    ],
)
def test_a_configured_rsa_key_serves_exactly_its_one_algorithm(binding, serves):
    keys = keyset(public(RSA))
    for alg in BOTH:
        trace = verify(token(alg), keys, BOTH, binding)
        assert trace.ok == (alg == serves), str(trace)
        if alg != serves:
            assert f"serves {serves}, configured for" in key_row(trace).evidence


def test_the_jwk_alg_binds_and_a_conflicting_configuration_is_refused():
    keys = keyset(public(RSA, alg="RS256"))
    assert verify(token("RS256"), keys, BOTH).ok
    assert not verify(token("PS256"), keys, BOTH).ok
    trace = verify(token("RS256"), keys, BOTH, KeyBinding(by_kid={RSA.kid: "PS256"}))
    assert "its JWK says alg RS256, the configuration says PS256" in key_row(trace).evidence


def test_an_allowlist_with_one_algorithm_for_the_key_type_binds_it():
    keys = keyset(public(RSA))
    trace = verify(token("PS256"), keys, ["PS256", "ES256"])
    assert trace.ok and "PS256, the one RSA algorithm on the allowlist" in key_row(trace).evidence


def test_oct_keys_without_alg_need_configuring_when_the_allowlist_is_wider():
    secret = jwk.JWK(**{k: v for k, v in HMAC.jwk.export(as_dict=True).items() if k != "alg"})
    tok = forge_jws({"alg": "HS256", "kid": HMAC.kid}, CLAIMS, HMAC.jwk, "HS256")
    assert not verify(tok, keyset(secret), ["HS256", "HS384"]).ok
    assert verify(tok, keyset(secret), ["HS256", "HS384"], KeyBinding(by_kid={HMAC.kid: "HS256"})).ok
    assert verify(tok, keyset(secret), ["HS256"]).ok


def test_curves_that_name_one_algorithm_bind_by_default():
    assert CURVE_ALGORITHMS[("EC", "P-256")] == "ES256" and CURVE_ALGORITHMS[("OKP", "Ed25519")] == "Ed25519"
    trace = verify(token("ES256", P256), keyset(public(P256)), ["ES256", "ES384", "RS256"])
    assert trace.ok and "ES256, the one algorithm of curve P-256" in key_row(trace).evidence
    # A configuration can still say otherwise: the curve is only the default.
    assert not verify(token("ES256", P256), keyset(public(P256)), ["ES256"], KeyBinding(by_kid={P256.kid: "ES384"})).ok


@pytest.mark.parametrize("alg", ["Ed25519", "EdDSA"])
def test_eddsa_is_another_name_of_the_ed25519_key_s_one_algorithm(alg):
    """RFC 9864 §2.2: Ed25519 is EdDSA with the Ed25519 parameter set, so an Ed25519 key serves both
    names, one computation; the allowlist still decides which names are accepted."""
    tok = forge_jws({"alg": alg, "kid": ED25519.kid}, CLAIMS, ED25519.jwk, "EdDSA")
    keys = keyset(public(ED25519))
    assert verify(tok, keys, ["Ed25519", "EdDSA"]).ok
    assert verify(tok, keyset(public(ED25519, alg="Ed25519")), [alg]).ok
    assert not verify(tok, keys, ["Ed25519" if alg == "EdDSA" else "EdDSA"]).ok  # not on the allowlist


def test_access_token_validator_with_an_as_jwks_without_alg():
    """The issue's case: the AS's JWK Set without alg, at an API allowing RS256 and PS256. Before the
    fix the one RSA key verified both; now neither until the API says which one the key serves."""
    claims = {
        "iss": "https://as.bank.example", "aud": "https://api.bank.example", "sub": "alice", "client_id": "tpp",
        "iat": DEMO_EPOCH, "exp": DEMO_EPOCH + 300, "jti": "j-1",
    }  # fmt: skip
    rs, ps = (sign_compact(claims, RSA.jwk, {"alg": a, "typ": "at+jwt", "kid": RSA.kid}) for a in BOTH)
    keys = load_jwks(public_jwks(RSA))
    assert all("alg" not in k for k in public_jwks(RSA)["keys"])

    def api(binding=None):
        return AccessTokenValidator(
            issuer=claims["iss"], audience=claims["aud"], keys=keys, clock=FixedClock(DEMO_EPOCH), binding=binding
        )

    for tok in (rs, ps):
        trace = api().validate(tok)
        assert trace.failed is not None and trace.failed.section == "RFC 8725 §3.1", str(trace)
        assert isinstance(trace.error, KeyNotFound)
    bound = api(KeyBinding(by_kid={RSA.kid: "RS256"}))
    assert bound.validate(rs).ok
    assert not bound.validate(ps).ok and bound.validate(ps).failed.section == "RFC 8725 §3.1"


# -- secret keys beside public keys --------------------------------------------------------------
def test_a_jwk_set_mixing_secret_and_public_keys_is_refused_by_default():
    mixed = {"keys": [HMAC.jwk.export(as_dict=True), RSA.jwk.export_public(as_dict=True)]}
    with pytest.raises(KeySetError, match="mixes secret"):
        load_jwks(mixed, public_only=False)
    assert len(load_jwks(mixed, public_only=False, allow_secret_with_public=True)["keys"]) == 2
    with pytest.raises(KeySetError, match="private or symmetric"):
        load_jwks(mixed)  # a public set takes no secret at all
    load_jwks({"keys": [HMAC.jwk.export(as_dict=True)]}, public_only=False)  # secrets alone are fine


def test_a_verifier_given_a_mixed_set_refuses_it_unless_told():
    keys = keyset(HMAC.jwk, public(RSA, alg="RS256"))
    tok = token("RS256")
    trace = verify(tok, keys, ["RS256", "HS256"])
    assert trace.failed is not None and trace.failed.name == "trusted keys: no secret (oct) key beside public keys"
    assert trace.failed.section.startswith("joselab policy")
    assert verify(tok, keys, ["RS256", "HS256"], KeyBinding(allow_secret_with_public=True)).ok


# -- JWE: the recipient key serves its own key management algorithm ----------------------------------
def oct_key(size: int, **members) -> jwk.JWK:
    return jwk.JWK(kty="oct", k=b64url_encode(bytes(range(size))), kid="wrap-1", **members)


def encrypt(key: jwk.JWK, alg: str, enc: str = "A128GCM", **header) -> str:
    """A compact JWE by jwcrypto alone, with the key's bytes whatever its JWK's alg says."""
    bare = jwk.JWK(**{k: v for k, v in key.export(as_dict=True).items() if k != "alg"})
    token = jwe.JWE(b"secret", protected=json.dumps({"alg": alg, "enc": enc, **header}))
    token.allowed_algs = [alg, enc]
    token.add_recipient(bare)
    return token.serialize(compact=True)


def decrypt(tok, key, algorithms, encs=("A128GCM",), binding=None) -> Trace:
    trace = Trace("t")
    with trace.run():
        decrypt_jwe(trace, tok, key, algorithms, encs, binding=binding)
    return trace


def recipient_row(trace: Trace):
    return next(c for c in trace if c.name.startswith("the recipient key is the one for"))


def test_an_a128gcmkw_key_does_not_unwrap_an_a128kw_token():
    """Before the fix it did, whenever the allowlist held both algorithms."""
    key = oct_key(16, alg="A128GCMKW")
    tok = encrypt(key, "A128KW")
    assert jwcrypto_decrypt(tok, key, "A128KW", "A128GCM")[0]  # jwcrypto alone would unwrap it
    trace = decrypt(tok, key, ["A128KW", "A128GCMKW"])
    row = recipient_row(trace)
    assert not trace.ok and not row.passed and row.section == "RFC 8725 §3.1"
    assert "key is for A128GCMKW, not A128KW" in row.evidence
    assert decrypt(encrypt(key, "A128GCMKW"), key, ["A128KW", "A128GCMKW"]).ok  # its own algorithm: fine


def test_an_a256kw_key_is_not_a_pbes2_password():
    """Before the fix the key's 32 bytes worked as the PBES2 password."""
    key = oct_key(32, alg="A256KW")
    tok = encrypt(key, "PBES2-HS256+A128KW", p2c=1000)
    allowed = ["A256KW", "PBES2-HS256+A128KW"]
    assert jwcrypto_decrypt(tok, key, "PBES2-HS256+A128KW", "A128GCM")[0]  # jwcrypto alone would use it
    trace = decrypt(tok, key, allowed)
    assert not trace.ok and "key is for A256KW, not PBES2-HS256+A128KW" in recipient_row(trace).evidence


def test_an_oct_key_without_alg_is_refused_while_several_oct_algorithms_are_allowed():
    key = oct_key(16)
    tok = encrypt(key, "A128KW")
    trace = decrypt(tok, key, ["A128KW", "A128GCMKW"])
    assert "oct key has no alg and the allowlist has ['A128GCMKW', 'A128KW']" in recipient_row(trace).evidence
    assert decrypt(tok, key, ["A128KW", "A128GCMKW"], binding=KeyBinding(by_kid={"wrap-1": "A128KW"})).ok
    assert decrypt(tok, key, ["A128KW"]).ok  # the one oct algorithm allowed


@pytest.mark.parametrize(
    ("key", "own", "other"),
    [(SAMWISE, "RSA-OAEP-256", "RSA-OAEP"), (MERIADOC, "ECDH-ES+A256KW", "ECDH-ES")],
)
def test_rsa_oaep_and_ecdh_es_keys_serve_their_own_alg(key, own, other):
    bound = jwk.JWK(**{**key.export(as_dict=True), "alg": own})
    tok = encrypt(jwk.JWK(**key.export_public(as_dict=True)), other, "A256GCM")
    trace = decrypt(tok, bound, [own, other], ("A256GCM",))
    assert not trace.ok and f"key is for {own}, not {other}" in recipient_row(trace).evidence
    # without alg and both allowed: configure it
    assert not decrypt(tok, key, [own, other], ("A256GCM",)).ok
    assert decrypt(tok, key, [own, other], ("A256GCM",), KeyBinding(by_kid={key["kid"]: other})).ok


def test_a_signing_key_is_not_a_decryption_key():
    key = jwk.JWK(**{**SAMWISE.export(as_dict=True), "use": "sig"})
    tok = encrypt(jwk.JWK(**SAMWISE.export_public(as_dict=True)), "RSA-OAEP-256", "A256GCM")
    trace = decrypt(tok, key, ["RSA-OAEP-256"], ("A256GCM",))
    assert "key use is 'sig', not 'enc'" in recipient_row(trace).evidence


def test_the_json_serialization_binds_the_recipient_key_too():
    key = oct_key(16, alg="A128GCMKW")
    tok = encrypt(key, "A128KW")
    head, ek, iv, ct, tag = tok.split(".")
    doc = {"protected": head, "encrypted_key": ek, "iv": iv, "ciphertext": ct, "tag": tag}
    with pytest.raises(KeyNotFound) as info:
        decrypt_json_jwe(Trace("t"), doc, key, ["A128KW", "A128GCMKW"], ["A128GCM"])
    assert info.value.section == "RFC 8725 §3.1"
