"""The notebook labs (joselab.widgets): each builds, shows a trace, and follows its controls."""

from __future__ import annotations

import html
import re

import pytest

from joselab import DEMO_EPOCH, FixedClock, Trace, demo_key, load_jwks, parse_jws, public_jwks, sign_compact
from joselab.access_token import AccessTokenValidator
from joselab.claims import check_audience, check_expiry, check_issued_at, check_issuer
from joselab.errors import FetchError
from joselab.jws import verify_jws
from joselab.message import sign_detached
from joselab.parties import LocalServer, Network
from joselab.widgets import (
    ALGORITHM_KEYS,
    FetchOnce,
    Lab,
    algorithm_chooser,
    algorithm_table,
    clock_lab,
    fresh_replay_store,
    tamper,
    tamper_lab,
    token_inspector,
    variant,
)


def _text(value: str) -> str:
    """A widget's HTML as the reader reads it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", value))


AS_KEY = demo_key("rfc7515-a2-rsa")
ISS, AUD = "https://as.bank.example", "https://api.bank.example"
KEYS = load_jwks(public_jwks(AS_KEY))


def make_token(**changes) -> str:
    claims = {"iss": ISS, "sub": "alice", "aud": AUD, "iat": DEMO_EPOCH, "exp": DEMO_EPOCH + 300, **changes}
    return sign_compact(claims, AS_KEY.jwk, {"alg": "RS256", "typ": "JWT", "kid": AS_KEY.kid})


def resign(header, claims):
    return sign_compact(claims, AS_KEY.jwk, header)


def validator(clock: FixedClock | None = None, audience: str = AUD):
    clock = clock or FixedClock(DEMO_EPOCH)

    def validate(token: str) -> Trace:
        trace = Trace("test JWT validation")
        with trace.run():
            claims = verify_jws(trace, token, KEYS, ["RS256"]).claims()
            check_issuer(trace, claims, ISS, "RFC 7519 §4.1.1")
            check_audience(trace, claims, audience, "RFC 7519 §4.1.3")
            check_issued_at(trace, claims, clock, 60, "RFC 7519 §4.1.6")
            check_expiry(trace, claims, clock, 60, "RFC 7519 §4.1.4")
        return trace

    return validate


def failed_section(lab: Lab) -> str:
    assert lab.trace is not None and lab.trace.failed is not None, lab.output.value
    return lab.trace.failed.section


# -- every lab ----------------------------------------------------------------------------------
def test_each_lab_has_a_one_line_text_form():
    token = make_token()
    labs = [
        token_inspector({"test": validator()}, token),
        tamper_lab(token, validator(), resign),
        clock_lab(token, lambda clock: validator(clock)(token)),
        algorithm_chooser({"sub": "alice"}, {"HS256": ALGORITHM_KEYS["HS256"]}, repeat=1),
    ]
    for lab in labs:
        assert isinstance(lab, Lab)
        assert "\n" not in repr(lab) and repr(lab).startswith(f"<{lab.title}:")


# -- token inspector ----------------------------------------------------------------------------
def test_inspector_shows_the_parts_and_the_trace():
    lab = token_inspector({"test": validator()}, make_token())
    assert lab.trace is not None and lab.trace.ok
    assert "jl-tokenview" in lab.output.value and "jl-trace-table" in lab.output.value
    assert "ACCEPTED" in lab.output.value


def test_inspector_follows_the_validator_and_the_token():
    lab = token_inspector({"this API": validator(), "another API": validator(audience="https://payments.example")}, make_token())
    lab.controls["validator"].value = "another API"
    assert failed_section(lab) == "RFC 7519 §4.1.3"
    lab.controls["validator"].value = "this API"
    lab.controls["token"].value = make_token(iss="https://evil.example")
    assert failed_section(lab) == "RFC 7519 §4.1.1"


def test_inspector_with_a_bad_token_shows_joselabs_error():
    lab = token_inspector({"test": validator()}, "not-a-token")
    assert failed_section(lab) == "RFC 7515 §7.1"
    assert "not a well-formed token" in lab.output.value
    # the verdict, with the failing row (section and check) beside it
    assert "REJECTED" in _text(lab.output.value) and "RFC 7515 §7.1 token is a JWS" in _text(lab.output.value)


def test_inspector_with_an_empty_box_asks_for_a_token():
    lab = token_inspector({"test": validator()}, "  ")
    assert lab.trace is None and "paste a token" in lab.output.value


def test_inspector_does_not_echo_an_oversized_paste():
    lab = token_inspector({"test": validator()}, "a" * 100_000)
    assert failed_section(lab) == "joselab limit"  # the validator's length cap, before parsing
    assert "a" * 1000 not in lab.output.value and "not displayed" in lab.output.value


def test_inspector_shows_an_error_the_validator_raises():
    def unreachable(token: str) -> Trace:
        raise FetchError("GET https://as.bank.example/jwks failed: ConnectionRefusedError")

    lab = token_inspector({"keys gone": unreachable}, make_token())
    assert lab.trace is None
    assert "FetchError" in lab.output.value and "ConnectionRefusedError" in lab.output.value


# -- tamper ---------------------------------------------------------------------------------------
def test_tamper_changes_only_the_part_it_targets():
    token = make_token()
    head, payload, sig = token.split(".")
    forged = tamper(token, "claims.sub", "mallory")
    assert forged.split(".")[0] == head and forged.split(".")[2] == sig and parse_jws(forged).claims()["sub"] == "mallory"
    forged = tamper(token, "header.kid", None)
    assert forged.split(".")[1:] == [payload, sig] and "kid" not in parse_jws(forged).header
    forged = tamper(token, "signature", None)
    assert forged.split(".")[:2] == [head, payload] and forged.split(".")[2] != sig
    assert parse_jws(tamper(token, "claims.exp", None, resign)).claims().keys() == {"iss", "sub", "aud", "iat"}


def test_tamper_refuses_an_unknown_target():
    with pytest.raises(ValueError):
        tamper(make_token(), "payload.sub", "x")


def test_tamper_on_a_detached_jws_changes_the_header_only():
    body = b'{"Amount":"1.00"}'
    key = demo_key("rfc7520-bilbo-rsa")
    token = sign_detached(body, key.jwk, {"alg": "PS256", "kid": key.kid})
    with pytest.raises(ValueError):
        tamper(token, "claims.Amount", "9.00")
    seen = []
    tamper(token, "header.kid", "other", lambda header, claims: seen.append((header, claims)) or token)
    assert seen == [({"alg": "PS256", "kid": "other"}, None)]
    lab = tamper_lab(token, lambda t: Trace("unused"))
    assert not any(t.startswith("claims.") for t in lab.controls["target"].options)


def test_tamper_lab_shows_which_check_catches_each_change():
    lab = tamper_lab(make_token(), validator(), resign)
    assert failed_section(lab) == "RFC 7515 §5.2"  # initially: a flipped signature bit
    lab.controls["target"].value = "claims.aud"
    lab.controls["value"].value = '"https://payments.example"'
    assert failed_section(lab) == "RFC 7515 §5.2"  # an outsider: the signature no longer verifies
    lab.controls["resign"].value = True
    assert failed_section(lab) == "RFC 7519 §4.1.3"  # an insider: the audience check catches it
    assert "REJECTED" in _text(lab.output.value) and "RFC 7519 §4.1.3 aud" in _text(lab.output.value)
    lab.controls["target"].value = "header.jku"
    lab.controls["value"].value = '"https://evil.example/jwks"'
    assert failed_section(lab) == "RFC 8725 §3.10"


def test_tamper_lab_takes_a_bare_word_as_a_string_and_reports_what_it_cannot_sign():
    lab = tamper_lab(make_token(), validator(), resign)
    lab.controls["target"].value = "claims.iss"
    lab.controls["value"].value = "mallory"
    lab.controls["resign"].value = True
    assert failed_section(lab) == "RFC 7519 §4.1.1" and 'iss = "mallory"' in lab.trace.failed.evidence
    lab.controls["target"].value = "header.alg"
    lab.controls["value"].value = '"none"'  # the insider's signer refuses to make an unsigned token
    assert lab.trace is None and "could not be made" in lab.output.value and "InvalidHeader" in lab.output.value


def test_tamper_lab_without_resign_disables_the_insider_box():
    assert tamper_lab(make_token(), validator()).controls["resign"].disabled


# -- clock ----------------------------------------------------------------------------------------
def test_clock_lab_moves_now_across_iat_and_exp():
    token = make_token()
    lab = clock_lab(token, lambda clock: validator(clock)(token), leeway=60)
    slider = lab.controls["now"]
    assert lab.trace is not None and lab.trace.ok  # now = iat
    assert (slider.min, slider.max) == (-180, 300 + 180)
    slider.value = 350  # past exp, within the leeway: still accepted
    assert lab.trace.ok
    slider.value = 360  # exp + leeway: "now is before exp" no longer holds
    assert failed_section(lab) == "RFC 7519 §4.1.4" and "REJECTED" in lab.output.value
    slider.value = -70  # issued in the future, beyond the leeway
    assert failed_section(lab) == "RFC 7519 §4.1.6"


def test_clock_lab_with_a_scenario_validator():
    token = sign_compact(
        {"iss": ISS, "exp": DEMO_EPOCH + 300, "aud": AUD, "sub": "alice", "client_id": "tpp-1", "iat": DEMO_EPOCH, "jti": "j1"},
        AS_KEY.jwk,
        {"alg": "RS256", "typ": "at+jwt", "kid": AS_KEY.kid},
    )

    def validate_at(clock):
        return AccessTokenValidator(issuer=ISS, audience=AUD, keys=KEYS, clock=clock).validate(token)

    lab = clock_lab(token, validate_at)
    assert lab.trace.ok
    lab.controls["now"].value = lab.controls["now"].max
    assert failed_section(lab) == "RFC 9068 §4 (6)"


def test_clock_lab_with_named_instants_for_a_detached_jws():
    key = demo_key("rfc7520-bilbo-rsa")
    token = sign_detached(b"{}", key.jwk, {"alg": "PS256", "kid": key.kid})
    seen = []

    def validate_at(clock):
        seen.append(clock.now())
        return Trace("header iat")

    lab = clock_lab(token, validate_at, leeway=30, times={"OB iat": DEMO_EPOCH})
    assert (lab.controls["now"].min, lab.controls["now"].max) == (-120, 120)
    lab.controls["now"].value = -40
    assert seen == [DEMO_EPOCH, DEMO_EPOCH - 40]
    with pytest.raises(ValueError):
        clock_lab(sign_compact({"sub": "x"}, AS_KEY.jwk, {"alg": "RS256"}), validate_at)  # no nbf, iat or exp


# -- helpers --------------------------------------------------------------------------------------
def test_fresh_replay_store_is_a_new_sqlite_file_each_time(tmp_path):
    with fresh_replay_store("seen_nonce", tmp_path) as store:
        assert store.first_use("n-1", DEMO_EPOCH + 60, DEMO_EPOCH)
        assert not store.first_use("n-1", DEMO_EPOCH + 60, DEMO_EPOCH)  # a real store: the replay is seen
        assert store.db.path.exists() and store.db.path.parent.parent == tmp_path
    with fresh_replay_store("seen_nonce", tmp_path) as store:
        assert store.first_use("n-1", DEMO_EPOCH + 60, DEMO_EPOCH)  # the next try starts afresh
    assert list(tmp_path.iterdir()) == []  # and nothing is left behind


def test_fetch_once_keeps_what_it_fetched_after_the_servers_stop():
    network = Network()
    server = LocalServer("keys.example", network)
    server.serve_json("/jwks", public_jwks(AS_KEY))
    server.serve_json("/other", {"keys": []})
    network.start()
    try:
        fetch = FetchOnce(network)
        first = fetch.get_json("https://keys.example/jwks")
        first["keys"].clear()  # a caller's change does not reach the kept copy
        assert fetch.get_json("https://keys.example/jwks") == public_jwks(AS_KEY)
        assert server.hits["/jwks"] == 1
    finally:
        network.close()
    assert fetch.get_json("https://keys.example/jwks") == public_jwks(AS_KEY)
    with pytest.raises(FetchError):
        fetch.get_json("https://keys.example/other")


# -- algorithms -----------------------------------------------------------------------------------
def test_algorithm_table_signature_sizes():
    rows = algorithm_table({"iss": ISS, "sub": "alice"}, repeat=1)
    sizes = {row["alg"]: row["signature bytes"] for row in rows}
    # RSA 2048 (RFC 8017), P-256 r||s (RFC 7518 §3.4), Ed25519 (RFC 8032 §5.1.6), HMAC SHA-256 output.
    assert sizes == {"RS256": 256, "PS256": 256, "ES256": 64, "Ed25519": 64, "HS256": 32}
    for row in rows:
        assert row["token characters"] > row["signature bytes"] and row["sign"] > 0 and row["verify"] > 0


def test_algorithm_chooser_follows_its_selection():
    lab = algorithm_chooser({"sub": "alice"}, {"ES256": ALGORITHM_KEYS["ES256"], "HS256": ALGORITHM_KEYS["HS256"]}, repeat=1)
    assert "<td>ES256</td>" in lab.output.value and "<td>HS256</td>" in lab.output.value
    assert " ms</td>" in lab.output.value
    lab.controls["algorithms"].value = ("HS256",)
    assert "<td>ES256</td>" not in lab.output.value and "<td>32</td>" in lab.output.value


def test_variant_swaps_named_parts_and_leaves_the_original_alone(clock):
    original = AccessTokenValidator(issuer=ISS, audience=AUD, keys=KEYS, clock=clock)
    later = FixedClock(DEMO_EPOCH + 3600)
    copy = variant(original, clock=later)
    assert copy.clock is later and original.clock is clock and copy.audience == AUD
    with pytest.raises(AttributeError):
        variant(original, replay_store=None)  # no such part: refused, not added
