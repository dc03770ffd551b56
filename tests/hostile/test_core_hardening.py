"""The core checks added for issue 7, each made to fail (the corpus covers the ones a token reaches)."""

from __future__ import annotations

import json

import pytest
from jwcrypto import jwk

from joselab import DEMO_EPOCH, FixedClock, Trace, demo_key, load_jwks
from joselab.claims import check_expiry
from joselab.compact import loads_strict, parse_json_object
from joselab.errors import FetchError, InvalidIssuedAt, KeySetError, MalformedToken
from joselab.keys import MAX_JWKS_BYTES, MAX_JWKS_KEYS, MAX_RSA_BITS
from joselab.parties import LocalServer, Network, Request, Response

RSA_PUBLIC = demo_key("rfc7515-a2-rsa").jwk.export_public(as_dict=True)


@pytest.mark.parametrize(
    ("text", "check", "section"),
    [
        ('{"a":1,"a":2}', "has unique member names", "RFC 8259 §4"),
        ('{"a":{"b":1,"b":1}}', "has unique member names", "RFC 8259 §4"),
        ('{"a":NaN}', "is JSON", "RFC 8259 §4"),
        ('{"a":-Infinity}', "is JSON", "RFC 8259 §4"),
        ('{"a":1e400}', "is JSON", "RFC 8259 §4"),
        ('{"a":"\\ud800"}', "has no lone surrogate", "RFC 7493 §2.1"),
        ('{"\\udfff":1}', "has no lone surrogate", "RFC 7493 §2.1"),
        ('["x", ["\\ud83d"]]', "has no lone surrogate", "RFC 7493 §2.1"),
    ],
)
def test_loads_strict_refuses(text, check, section):
    with pytest.raises(MalformedToken) as info:
        loads_strict(text, "doc")
    assert info.value.check == f"doc {check}" and info.value.section == section


def test_loads_strict_accepts_json_and_a_surrogate_pair():
    assert loads_strict('{"a":[1.5,"\\ud83d\\ude00",null]}', "doc") == {"a": [1.5, "😀", None]}
    assert parse_json_object(b'{"alg":"RS256"}', "header") == {"alg": "RS256"}


def test_load_jwks_caps_text_before_parsing_and_counts_keys():
    with pytest.raises(KeySetError, match=r"over the \d+ cap"):
        load_jwks(" " * (MAX_JWKS_BYTES + 1))
    many = {"keys": [dict(RSA_PUBLIC, kid=f"k{i}") for i in range(MAX_JWKS_KEYS + 1)]}
    with pytest.raises(KeySetError, match=f"{MAX_JWKS_KEYS + 1} keys, over"):
        load_jwks(many)
    assert len(load_jwks({"keys": many["keys"][:MAX_JWKS_KEYS]})["keys"]) == MAX_JWKS_KEYS


def test_load_jwks_refuses_a_duplicate_member_inside_a_key():
    text = json.dumps({"keys": [RSA_PUBLIC]})[:-3] + ',"kty":"EC"}]}'
    with pytest.raises(KeySetError, match="unique member names"):
        load_jwks(text)


def test_load_jwks_refuses_an_rsa_modulus_too_large_to_be_worth_the_work():
    huge = dict(RSA_PUBLIC, n=jwk.base64url_encode((1 << (MAX_RSA_BITS + 7)).to_bytes((MAX_RSA_BITS + 15) // 8, "big")))
    with pytest.raises(KeySetError, match=f"over {MAX_RSA_BITS}"):
        load_jwks({"keys": [huge]})


def test_check_expiry_max_lifetime():
    clock = FixedClock(DEMO_EPOCH)
    trace = Trace("t")
    check_expiry(trace, {"exp": DEMO_EPOCH + 3600 + 30}, clock, 30, "RFC 7519 §4.1.4", max_lifetime=3600)
    assert [c.name for c in trace] == [
        "exp is a NumericDate",
        "now is before exp (+30s leeway, joselab policy)",
        "exp at most 3600s from now",
    ]
    assert trace.checks[-1].section == "joselab policy; RFC 7519 §4.1.4 sets no bound"
    with pytest.raises(InvalidIssuedAt) as info:
        check_expiry(Trace("t"), {"exp": DEMO_EPOCH + 3600 + 31}, clock, 30, "RFC 7519 §4.1.4", max_lifetime=3600)
    assert info.value.evidence == "exp - now = 3631s"


def test_http_json_is_strict_both_ways():
    net = Network()
    server = LocalServer("jwks.example", net)
    server.routes[("GET", "/dup")] = lambda _r: Response(200, b'{"keys":[],"keys":[{"kty":"oct"}]}')
    server.routes[("GET", "/nan")] = lambda _r: Response(200, b'{"exp":NaN}')
    with net:
        for path in ("/dup", "/nan"):
            with pytest.raises(FetchError, match="not strict JSON"):
                net.get_json(f"https://jwks.example{path}")
    request = Request("POST", "/", {}, {}, b'{"a":1,"a":2}')
    with pytest.raises(MalformedToken, match="unique member names"):
        request.json()
    assert Request("POST", "/", {}, {}, b'{"a":1}').json() == {"a": 1}
