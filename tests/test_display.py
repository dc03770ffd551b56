"""joselab.display: tokens shown with coloured parts and UNVERIFIED decoded contents."""

from __future__ import annotations

import pytest

from joselab.display import JWE_PARTS, JWS_PARTS, TokenView, is_jwe, show
from joselab.jwe import encrypt_compact
from joselab.jws import sign_compact
from joselab.keys import demo_key

JWS = sign_compact({"sub": "<alice>"}, demo_key("rfc7515-a2-rsa").jwk, {"alg": "RS256"})
ES = sign_compact({"sub": "a"}, demo_key("rfc7515-a3-p256").jwk, {"alg": "ES256"})
JWE = encrypt_compact(b"x", demo_key("rfc7520-samwise-rsa").jwk, {"alg": "RSA-OAEP-256", "enc": "A256GCM"})


def test_jws_view_text_and_html():
    view = show(JWS, "access token")
    text = str(view)
    assert text.startswith("access token\nJWS, 3 parts")
    assert "UNVERIFIED" in text and '"sub": "<alice>"' in text
    html = view._repr_html_()
    assert "&lt;alice&gt;" in html and "<alice>" not in html  # claims are escaped
    assert all(colour in html for _, colour in JWS_PARTS)
    assert "UNVERIFIED" in html


def test_randomized_parts_are_marked():
    assert [r for *_, r in TokenView(JWS).parts] == [False, False, False]  # RS256 is deterministic
    assert [r for *_, r in TokenView(ES).parts] == [False, False, True]
    assert [r for *_, r in TokenView(JWE).parts] == [False, True, True, True, True]


def test_jwe_view_shows_header_only():
    view = TokenView(JWE)
    assert [n for n, *_ in view.parts] == [n for n, _ in JWE_PARTS]
    assert "payload (UNVERIFIED)" not in str(view) and "JWE, 5 parts" in str(view)
    assert "RSA-OAEP-256" in view._repr_html_()


@pytest.mark.parametrize(
    "bad", ["", "a.b", "x.y.z", "e30.e30.e30=", None, 42], ids=["empty", "two", "garbage", "padding", "none", "int"]
)
def test_malformed_input_is_shown_with_its_error(bad):
    view = TokenView(bad)
    assert view.error is not None and view.unverified is None
    assert "not a well-formed token" in str(view)
    assert "not a well-formed token" in view._repr_html_()


def test_pretty_repr():
    class Printer:
        out = ""

        def text(self, value):
            self.out += value

    printer = Printer()
    TokenView(JWS)._repr_pretty_(printer, False)
    assert printer.out == str(TokenView(JWS))


def test_raw_payload_shown_as_bytes():
    token = sign_compact(b"\x00raw", demo_key("rfc7515-a1-hmac").jwk, {"alg": "HS256"})
    assert "b'\\x00raw'" in str(TokenView(token))


def test_is_jwe():
    assert is_jwe(JWE) and not is_jwe(JWS) and not is_jwe("junk") and not is_jwe(None)  # type: ignore[arg-type]
