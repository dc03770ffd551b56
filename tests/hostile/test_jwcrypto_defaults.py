"""Each row of :data:`hostile.jwcrypto_defaults.DEFAULTS`, shown both ways: jwcrypto 1.6.1's plain API
lets the input through, and joselab refuses it with the error and section the row names.

jwcrypto's side uses the real clock, as its API does (``time.time()``); joselab's uses the fixed demo
clock. Nothing here measures time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from joselab_testkit import forge_jws
from jwcrypto import jwe, jwk, jws, jwt
from jwcrypto.common import JWException

from joselab import DEMO_EPOCH, FixedClock, Trace, b64url_decode, b64url_encode, demo_key, load_jwks, parse_jws
from joselab.access_token import AccessTokenValidator
from joselab.errors import JoselabError, ValidationError
from joselab.jwe import MAX_PLAINTEXT_BYTES, decrypt_jwe
from joselab.jws import verify_jws
from joselab.keys import key_fits_alg

from .jwcrypto_defaults import DEFAULTS, Tightened, as_dicts

RSA = demo_key("rfc7515-a2-rsa").jwk
EC = demo_key("rfc7515-a3-p256").jwk
SAMWISE = demo_key("rfc7520-samwise-rsa").jwk
ISS, API = "https://as.bank.example", "https://api.bank.example"
DEMOS: dict[str, Callable[[Tightened], None]] = {}


def demo(fn: Callable[[Tightened], None]) -> Callable[[Tightened], None]:
    DEMOS[fn.__name__.removeprefix("demo_").replace("_", "-")] = fn
    return fn


def public(key: jwk.JWK, **extra: str) -> jwk.JWK:
    return jwk.JWK(**{**key.export_public(as_dict=True), **extra})


def keyset(*keys: jwk.JWK) -> jwk.JWKSet:
    out = jwk.JWKSet()
    for k in keys:
        out.add(k)
    return out


def jwcrypto_payload(token: str, key: jwk.JWK) -> bytes:
    """What jwcrypto's plain JWS API hands back for ``token``: verified, it says."""
    obj = jws.JWS()
    obj.deserialize(token)
    obj.verify(key)
    return obj.payload


def jwcrypto_claims(token: str, key: jwk.JWK | jwk.JWKSet, **options) -> dict:
    return json.loads(jwt.JWT(jwt=token, key=key, **options).claims)


def refused(row: Tightened, fn: Callable[[], object]) -> ValidationError:
    """joselab refuses, with exactly the row's error type and section."""
    with pytest.raises(JoselabError) as info:
        fn()
    exc = info.value
    assert type(exc).__name__ == row.error, f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ValidationError):
        assert exc.section == row.section, str(exc)
    else:
        assert row.section in str(exc), str(exc)
    return exc


def jws_trace(token: str, keys: jwk.JWKSet, algorithms=("RS256",)) -> object:
    return verify_jws(Trace("test"), token, keys, algorithms)


def access_validator() -> AccessTokenValidator:
    return AccessTokenValidator(issuer=ISS, audience=API, keys=keyset(public(RSA, alg="RS256")), clock=FixedClock(DEMO_EPOCH))


def access_token(claims: dict, *, raw: bytes | None = None) -> str:
    header = {"alg": "RS256", "typ": "at+jwt", "kid": RSA["kid"]}
    return forge_jws(header, raw if raw is not None else json.dumps(claims).encode(), RSA, "RS256")


def at_claims(**changes) -> dict:
    claims = {
        "iss": ISS, "aud": API, "sub": "alice", "client_id": "tpp-1", "jti": "j-1",
        "iat": DEMO_EPOCH, "exp": DEMO_EPOCH + 300,
    }  # fmt: skip
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not ...}


def strict(token: str) -> Callable[[], object]:
    return lambda: access_validator().validate(token, strict=True)


def real_now() -> int:
    return int(time.time())


# -- the demonstrations ------------------------------------------------------------------------
@demo
def demo_key_alg_binding(row: Tightened) -> None:
    token = forge_jws({"alg": "RS256", "kid": RSA["kid"]}, b"{}", RSA, "RS256")
    ps_only = public(RSA, alg="PS256")
    assert jwcrypto_payload(token, ps_only) == b"{}"
    assert key_fits_alg(ps_only, "RS256")[0] is False
    refused(row, lambda: jws_trace(token, keyset(ps_only), ("RS256", "PS256")))


@demo
def demo_ecdsa_length(row: Tightened) -> None:
    token = forge_jws({"alg": "ES256"}, b"{}", EC, "ES256")
    head, payload, sig = token.split(".")
    raw = b64url_decode(sig)
    zero = bytes(1)
    padded = f"{head}.{payload}.{b64url_encode(zero + raw[:32] + zero + raw[32:])}"
    assert jwcrypto_payload(padded, public(EC)) == b"{}"
    refused(row, lambda: jws_trace(padded, keyset(public(EC)), ("ES256",)))


@demo
def demo_b64_padding(row: Tightened) -> None:
    token = forge_jws({"alg": "RS256"}, b"{}", RSA, "RS256")
    head, payload, sig = token.split(".")
    assert len(sig) % 4 == 2, "a 256-byte signature needs two '=' in padded base64"
    padded = f"{head}.{payload}.{sig}=="
    assert jwcrypto_payload(padded, public(RSA)) == b"{}"
    refused(row, lambda: parse_jws(padded))


@demo
def demo_b64_alphabet(row: Tightened) -> None:
    token = forge_jws({"alg": "RS256"}, b"{}", RSA, "RS256")
    head, payload, sig = token.split(".")
    assert "-" in sig or "_" in sig
    std = f"{head}.{payload}.{sig.replace('-', '+').replace('_', '/')}"
    assert jwcrypto_payload(std, public(RSA)) == b"{}"
    refused(row, lambda: parse_jws(std))


@demo
def demo_b64_noncanonical(row: Tightened) -> None:
    token = forge_jws({"alg": "RS256"}, b"{}", RSA, "RS256")
    head, payload, sig = token.split(".")
    assert len(sig) % 4 == 2, "a 256-byte signature leaves 4 unused bits in its last character"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = f"{head}.{payload}.{sig[:-1]}{alphabet[alphabet.index(sig[-1]) ^ 1]}"
    assert twin != token and jwcrypto_payload(twin, public(RSA)) == b"{}"
    refused(row, lambda: parse_jws(twin))


@demo
def demo_size_cap(row: Tightened) -> None:
    token = forge_jws({"alg": "RS256", "x": "A" * 2_000_000}, json.dumps({"exp": real_now() + 3600}).encode(), RSA, "RS256")
    assert "exp" in jwcrypto_claims(token, public(RSA))
    refused(row, lambda: parse_jws(token))


@demo
def demo_dup_header(row: Tightened) -> None:
    head = b64url_encode(b'{"alg":"none","alg":"RS256"}')
    token = forge_jws(head, b"{}", RSA, "RS256")
    assert jwcrypto_payload(token, public(RSA)) == b"{}"
    refused(row, lambda: parse_jws(token))


@demo
def demo_dup_claims(row: Tightened) -> None:
    raw = b'{"sub":"alice","sub":"admin","exp":%d}' % (real_now() + 3600)
    token = forge_jws({"alg": "RS256"}, raw, RSA, "RS256")
    assert jwcrypto_claims(token, public(RSA))["sub"] == "admin"
    refused(row, lambda: parse_jws(token).claims())


@demo
def demo_nan_header(row: Tightened) -> None:
    token = forge_jws(b64url_encode(b'{"alg":"RS256","x":NaN}'), b"{}", RSA, "RS256")
    assert jwcrypto_payload(token, public(RSA)) == b"{}"
    refused(row, lambda: parse_jws(token))


@demo
def demo_compact_only(row: Tightened) -> None:
    obj = jws.JWS(json.dumps({"exp": real_now() + 3600}).encode())
    obj.add_signature(RSA, None, json.dumps({"alg": "RS256"}), {"kid": "a.b.c"})
    flattened = obj.serialize()  # jwcrypto's default is the JSON serialization
    assert flattened.startswith("{") and flattened.count(".") == 2
    assert "exp" in jwcrypto_claims(flattened, public(RSA))
    refused(row, lambda: parse_jws(flattened))


@demo
def demo_exp_required(row: Tightened) -> None:
    assert jwcrypto_claims(forge_jws({"alg": "RS256"}, b'{"iss":"x"}', RSA, "RS256"), public(RSA)) == {"iss": "x"}
    refused(row, strict(access_token(at_claims(exp=...))))


@demo
def demo_exp_numeric(row: Tightened) -> None:
    huge = forge_jws({"alg": "RS256"}, b'{"exp":1e300}', RSA, "RS256")
    assert jwcrypto_claims(huge, public(RSA))["exp"] == 1e300
    text = forge_jws({"alg": "RS256"}, b'{"exp":"99999999999"}', RSA, "RS256")
    with pytest.raises(TypeError):  # not even a jwcrypto exception
        jwcrypto_claims(text, public(RSA))
    refused(row, strict(access_token(at_claims(exp=1e300))))
    refused(row, strict(access_token(at_claims(exp=str(DEMO_EPOCH + 300)))))


@demo
def demo_exp_nbf_with_check_claims(row: Tightened) -> None:
    now = real_now()
    expired = forge_jws({"alg": "RS256"}, json.dumps({"iss": ISS, "exp": now - 86400, "nbf": now + 86400}).encode(), RSA, "RS256")
    with pytest.raises(JWException):  # without check_claims, jwcrypto does check exp...
        jwcrypto_claims(expired, public(RSA))
    assert jwcrypto_claims(expired, public(RSA), check_claims={"iss": ISS})["iss"] == ISS  # ...with it, not
    refused(row, strict(access_token(at_claims(exp=DEMO_EPOCH - 86400))))


@demo
def demo_iat_future(row: Tightened) -> None:
    now = real_now()
    token = forge_jws({"alg": "RS256"}, json.dumps({"exp": now + 3600, "iat": now + 86400}).encode(), RSA, "RS256")
    assert "iat" in jwcrypto_claims(token, public(RSA))
    refused(row, strict(access_token(at_claims(iat=DEMO_EPOCH + 86400, exp=DEMO_EPOCH + 86400 + 300))))


@demo
def demo_max_lifetime(row: Tightened) -> None:
    now = real_now()
    century = 100 * 365 * 86400
    token = forge_jws({"alg": "RS256"}, json.dumps({"iat": now, "exp": now + century}).encode(), RSA, "RS256")
    assert "exp" in jwcrypto_claims(token, public(RSA))
    refused(row, strict(access_token(at_claims(exp=DEMO_EPOCH + century))))


@demo
def demo_decompression(row: Tightened) -> None:
    size = 10_000_000
    obj = jwe.JWE(b" " * size, protected=json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"}))
    obj.add_recipient(public(SAMWISE))
    bomb = obj.serialize(compact=True)
    assert len(bomb) < 32 * 1024  # under joselab's own length cap: the zip check is what stops it
    plain = jwe.JWE()
    plain.deserialize(bomb, SAMWISE)
    assert len(plain.plaintext) == size > MAX_PLAINTEXT_BYTES
    refused(row, lambda: decrypt_jwe(Trace("test"), bomb, SAMWISE, ["RSA-OAEP-256"], ["A256GCM"]))


@demo
def demo_rsa_1024(row: Tightened) -> None:
    small = jwk.JWK.generate(kty="RSA", size=1024, kid="small")
    token = forge_jws({"alg": "RS256", "kid": "small"}, json.dumps({"exp": real_now() + 3600}).encode(), small, "RS256")
    assert "exp" in jwcrypto_claims(token, public(small))
    assert key_fits_alg(public(small), "RS256")[0] is False
    refused(row, lambda: load_jwks({"keys": [small.export_public(as_dict=True)]}))


@demo
def demo_jwks_dup_kid(row: Tightened) -> None:
    other = jwk.JWK.generate(kty="RSA", size=2048)
    doc = {"keys": [public(RSA, kid="k1").export_public(as_dict=True), public(other, kid="k1").export_public(as_dict=True)]}
    loaded = jwk.JWKSet.from_json(json.dumps(doc))
    assert len(loaded["keys"]) == 2
    token = forge_jws({"alg": "RS256", "kid": "k1"}, json.dumps({"exp": real_now() + 3600}).encode(), other, "RS256")
    assert "exp" in jwcrypto_claims(token, loaded)  # the second key under the kid verified it
    exc = refused(row, lambda: load_jwks(doc))
    assert "duplicate" in str(exc)


@demo
def demo_jwks_mixed_kty(row: Tightened) -> None:
    doc = {"keys": [public(RSA, kid="k1").export_public(as_dict=True), public(EC, kid="k1").export_public(as_dict=True)]}
    assert len(jwk.JWKSet.from_json(json.dumps(doc))["keys"]) == 2
    exc = refused(row, lambda: load_jwks(doc))
    assert "mixed key types" in str(exc)


@demo
def demo_jwks_dup_member(row: Tightened) -> None:
    attacker = demo_key("rfc7520-frodo-rsa").jwk.export_public(as_dict=True)
    issuer = RSA.export_public(as_dict=True)
    text = '{"keys":[' + json.dumps(attacker) + '],"keys":[' + json.dumps(issuer) + "]}"
    loaded = jwk.JWKSet.from_json(text)
    assert [k["kid"] for k in loaded["keys"]] == [issuer["kid"]]  # another parser may keep the first
    exc = refused(row, lambda: load_jwks(text))
    assert "unique member names" in str(exc)


# -- the list and the demonstrations match ------------------------------------------------------
@pytest.mark.parametrize("row", DEFAULTS, ids=[d.id for d in DEFAULTS])
def test_jwcrypto_lets_it_through_and_joselab_refuses(row: Tightened) -> None:
    DEMOS[row.id](row)


def test_every_row_has_a_demonstration_and_every_demonstration_a_row() -> None:
    assert [d.id for d in DEFAULTS] == list(DEMOS)
    assert {d["id"] for d in as_dicts()} == set(DEMOS)
    assert all(d.jwcrypto and d.joselab and d.section for d in DEFAULTS)


def test_the_list_covers_every_hardening_item_of_the_issue() -> None:
    items = " | ".join(d.item for d in DEFAULTS)
    for phrase in (
        "its own algorithm", "signature length for ECDSA", "strict base64url", "size cap before parsing",
        "duplicate JSON member names rejected in headers", "in claims", "compact serialization only", "exp required",
        "exp numeric", "nbf checked", "iat checked", "maximum token lifetime", "decompression limited",
        "RSA keys under 2048", "no duplicate kid", "no mixed key types",
    ):  # fmt: skip
        assert phrase in items, phrase
