"""The notebook labs (joselab.widgets): each builds, shows a trace, and follows its controls."""

from __future__ import annotations

import html
import json
import re

import pytest

from joselab import DEMO_EPOCH, FixedClock, Trace, demo_key, load_jwks, parse_jws, public_jwks, sign_compact
from joselab.access_token import AccessTokenValidator
from joselab.claims import check_audience, check_expiry, check_issued_at, check_issuer
from joselab.errors import FetchError
from joselab.jws import verify_jws
from joselab.keys import KeyBinding
from joselab.message import sign_detached
from joselab.parties import LocalServer, Network
from joselab.widgets import (
    ALGORITHM_KEYS,
    CUSTOM,
    FLIP,
    REMOVE,
    REMOVE_LABEL,
    STRIP,
    FetchOnce,
    Lab,
    algorithm_chooser,
    algorithm_table,
    clock_lab,
    fresh_replay_store,
    tamper,
    tamper_choices,
    tamper_lab,
    token_inspector,
    variant,
)


def _text(value: str) -> str:
    """A widget's HTML as the reader reads it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", value))


AS_KEY = demo_key("rfc7515-a2-rsa")
ISS, AUD = "https://as.bank.example", "https://api.bank.example"
# The AS's key without alg: the one RS256 key of these validators, by kid (RFC 8725 §3.1).
KEYS = load_jwks(public_jwks(AS_KEY))
BINDING = KeyBinding(by_kid={AS_KEY.kid: "RS256"})


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
def test_each_lab_saves_what_the_static_site_needs():
    token = make_token()
    labs = {
        "inspector": token_inspector({"a": validator(), "b": validator(audience="https://payments.example")}, token),
        "tamper": tamper_lab(token, validator(), resign),
        "clock": clock_lab(token, lambda clock: validator(clock)(token)),
        "algorithms": algorithm_chooser({"sub": "alice"}, {"HS256": ALGORITHM_KEYS["HS256"]}, repeat=1),
    }
    for kind, lab in labs.items():
        assert {"jl-lab", f"jl-lab-{kind}"} <= set(lab._dom_classes)
        assert "jl-out" in lab.output._dom_classes and "jl-note" in lab.note._dom_classes
        saved = lab.static_answers
        for name in saved["keys"] + saved["kernel_only"]:
            assert f"jl-c-{name}" in lab.controls[name]._dom_classes
        assert saved["answers"] and "On this page" in saved["note"]
        # The widget state is JSON: what nbconvert saves and the site's script reads.
        assert json.loads(json.dumps(lab.get_state()["static_answers"])) == saved
    assert labs["inspector"].static_answers["kernel_only"] == ["token"]
    answer = _text(
        "".join(labs["inspector"].static_answers["pieces"][i] for i in labs["inspector"].static_answers["answers"]['["b"]'])
    )
    assert "REJECTED" in answer and "RFC 7519 §4.1.3" in answer


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


def test_inspector_with_a_bad_token_says_it_is_not_a_jose_object():
    lab = token_inspector({"test": validator()}, "not-a-token")
    assert failed_section(lab) == "RFC 7515 §7.1"
    assert "Not a JOSE object" in lab.output.value and "not-a-token" in lab.output.value
    assert "protected header" not in lab.output.value  # garbage is not labelled as a token's part
    assert "REJECTED" in _text(lab.output.value) and "RFC 7515 §7.1" in _text(lab.output.value)


def test_inspector_labels_the_decoded_parts_by_what_the_trace_found():
    lab = token_inspector({"this API": validator(), "another API": validator(audience="https://payments.example")}, make_token())
    assert "UNVERIFIED" not in lab.output.value and "ACCEPTED by the validation below" in lab.output.value
    lab.controls["validator"].value = "another API"  # the signature verifies, the audience does not
    assert "UNVERIFIED" not in lab.output.value
    assert "REFUSED at RFC 7519 §4.1.3" in html.unescape(lab.output.value)


def test_inspector_with_an_empty_box_asks_for_a_token():
    lab = token_inspector({"test": validator()}, "  ")
    assert lab.trace is None and "paste a token" in lab.output.value


def test_inspector_does_not_echo_an_oversized_paste():
    lab = token_inspector({"test": validator()}, "a" * 100_000)
    assert (
        failed_section(lab) == "joselab policy; RFC 7515 §7.1 and RFC 7516 §7.1 set no bound"
    )  # the validator's length cap, before parsing
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
    forged = tamper(token, "header.kid", REMOVE)
    assert forged.split(".")[1:] == [payload, sig] and "kid" not in parse_jws(forged).header
    assert parse_jws(tamper(token, "claims.sub", None)).claims()["sub"] is None  # JSON null is a value, not a removal
    forged = tamper(token, "signature", FLIP)
    assert forged.split(".")[:2] == [head, payload] and forged.split(".")[2] != sig
    assert tamper(token, "signature", STRIP) == f"{head}.{payload}."
    assert parse_jws(tamper(token, "claims.exp", REMOVE, resign)).claims().keys() == {"iss", "sub", "aud", "iat"}


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
    lab = tamper_lab(make_token(), validator(), resign, values={"claims.aud": ["https://payments.example"]})
    assert failed_section(lab) == "RFC 7515 §5.2"  # initially: a flipped signature bit
    lab.controls["target"].value = "claims.aud"
    assert lab.controls["value"].value == '"https://payments.example"'  # the notebook's value first
    assert failed_section(lab) == "RFC 7515 §5.2"  # an outsider: the signature no longer verifies
    assert "the signature is the original one" in lab.output.value
    lab.controls["resign"].value = True
    assert failed_section(lab) == "RFC 7519 §4.1.3"  # an insider: the audience check catches it
    assert "REJECTED" in _text(lab.output.value) and "RFC 7519 §4.1.3 aud" in _text(lab.output.value)
    assert "re-signed with" in lab.output.value
    lab.controls["target"].value = "header.jku"
    assert lab.controls["value"].value == '"https://evil.example/jwks.json"'
    assert failed_section(lab) == "RFC 8725 §3.10"


def test_tamper_lab_removes_a_member_only_when_asked():
    lab = tamper_lab(make_token(), validator(), resign)
    lab.controls["target"].value = "claims.aud"
    assert REMOVE_LABEL in lab.controls["value"].options and lab.controls["value"].value != REMOVE_LABEL
    assert parse_jws(_shown_token(lab)).claims()["aud"] == "https://evil.example"
    lab.controls["value"].value = REMOVE_LABEL
    assert "aud" not in parse_jws(_shown_token(lab)).claims() and "Removed <code>claims.aud</code>" in lab.output.value
    lab.controls["value"].value = CUSTOM  # an empty box asks for a value; it never deletes the member
    assert lab.trace is None and "type a JSON value" in lab.output.value and not lab.controls["custom"].disabled
    assert REMOVE_LABEL not in tamper_choices("header.jku")  # nothing to remove where the token has no member


def test_tamper_lab_resets_the_value_when_the_member_changes():
    lab = tamper_lab(make_token(), validator(), resign)
    lab.controls["target"].value = "claims.iss"
    lab.controls["value"].value = CUSTOM
    lab.controls["custom"].value = '"https://as.other.example"'
    assert parse_jws(_shown_token(lab)).claims()["iss"] == "https://as.other.example"
    lab.controls["target"].value = "claims.exp"  # a new member starts from its own first value
    assert lab.controls["value"].value == str(DEMO_EPOCH + 300 + 3600) and lab.controls["custom"].value == ""
    assert lab.controls["custom"].disabled
    assert parse_jws(_shown_token(lab)).claims()["exp"] == DEMO_EPOCH + 300 + 3600


def test_tamper_lab_takes_a_bare_word_as_a_string_and_reports_what_it_cannot_sign():
    lab = tamper_lab(make_token(), validator(), resign)
    lab.controls["target"].value = "claims.iss"
    lab.controls["value"].value = CUSTOM
    lab.controls["custom"].value = "mallory"
    lab.controls["resign"].value = True
    assert failed_section(lab) == "RFC 7519 §4.1.1" and 'iss = "mallory"' in lab.trace.failed.evidence
    lab.controls["target"].value = "header.alg"
    lab.controls["resign"].value = True
    lab.controls["value"].value = '"none"'  # the insider's signer refuses to make an unsigned token
    assert lab.trace is None and "could not be made" in lab.output.value and "InvalidHeader" in lab.output.value


def test_tamper_lab_never_re_signs_a_changed_signature():
    lab = tamper_lab(make_token(), validator(), resign)
    assert lab.controls["resign"].disabled  # as it opens: the signature is the target
    lab.controls["target"].value = "claims.sub"
    lab.controls["resign"].value = True
    lab.controls["target"].value = "signature"
    assert lab.controls["resign"].disabled and lab.controls["resign"].value is False
    assert failed_section(lab) == "RFC 7515 §5.2"


def test_tamper_lab_saves_an_answer_for_every_offered_choice():
    lab = tamper_lab(make_token(), validator(), resign)
    saved = lab.static_answers
    assert saved["keys"] == ["target", "value", "resign"] and saved["kernel_only"] == ["custom"]
    by_target = saved["options"]["value"]["by"]
    assert set(by_target) == set(lab.controls["target"].options) and CUSTOM not in by_target["claims.aud"]
    expected = sum(len(labels) * (1 if target == "signature" else 2) for target, labels in by_target.items())
    assert len(saved["answers"]) == expected
    # Each saved answer is exactly what the live lab shows for that choice.
    for target, value, signed in [
        ("claims.aud", REMOVE_LABEL, True),
        ("header.alg", '"none"', False),
        ("signature", STRIP, False),
    ]:
        lab.controls["target"].value = target
        lab.controls["value"].value = value
        lab.controls["resign"].value = signed
        ids = saved["answers"][json.dumps([target, value, signed], ensure_ascii=False, separators=(",", ":"))]
        assert "".join(saved["pieces"][i] for i in ids) == lab.output.value


def test_tamper_lab_without_resign_disables_the_insider_box():
    lab = tamper_lab(make_token(), validator())
    lab.controls["target"].value = "claims.sub"
    assert lab.controls["resign"].disabled
    assert not any(json.loads(key)[2] for key in lab.static_answers["answers"])


def _shown_token(lab: Lab) -> str:
    """The forged token the tamper lab shows (its coloured parts, joined)."""
    parts = re.findall(r'<span class="jl-part[ "][^>]*>([^<]*)</span>', lab.output.value)
    return ".".join(html.unescape(p) for p in parts)


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
    saved = lab.static_answers
    assert saved["keys"] == ["now"] and len(saved["answers"]) == len(range(slider.min, slider.max + 1, slider.step))
    ids = saved["answers"]["[360]"]
    slider.value = 360
    assert "".join(saved["pieces"][i] for i in ids) == lab.output.value


def test_clock_lab_with_a_scenario_validator():
    token = sign_compact(
        {"iss": ISS, "exp": DEMO_EPOCH + 300, "aud": AUD, "sub": "alice", "client_id": "tpp-1", "iat": DEMO_EPOCH, "jti": "j1"},
        AS_KEY.jwk,
        {"alg": "RS256", "typ": "at+jwt", "kid": AS_KEY.kid},
    )

    def validate_at(clock):
        return AccessTokenValidator(issuer=ISS, audience=AUD, keys=KEYS, clock=clock, binding=BINDING).validate(token)

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
    assert seen == [DEMO_EPOCH] + [DEMO_EPOCH + offset for offset in range(-120, 121, 10)]  # live, then every saved position
    seen.clear()
    lab.controls["now"].value = -40
    assert seen == [DEMO_EPOCH - 40]
    with pytest.raises(ValueError):
        clock_lab(sign_compact({"sub": "x"}, AS_KEY.jwk, {"alg": "RS256"}), validate_at)  # no nbf, iat or exp


# -- helpers --------------------------------------------------------------------------------------
def test_fresh_replay_store_is_a_new_store_each_time(tmp_path):
    with fresh_replay_store("seen_nonce", tmp_path) as store:
        assert store.first_use("n-1", DEMO_EPOCH + 60, DEMO_EPOCH)
        assert not store.first_use("n-1", DEMO_EPOCH + 60, DEMO_EPOCH)  # a real store: the replay is seen
        assert store.db.path.exists() and store.db.path.parent.parent == tmp_path  # a real sqlite file
        first = store.table
        with fresh_replay_store("seen_nonce", tmp_path) as nested:  # a try within a try: another table
            assert nested.table != first and nested.first_use("n-1", DEMO_EPOCH + 60, DEMO_EPOCH)
        assert not store.first_use("n-1", DEMO_EPOCH + 60, DEMO_EPOCH)  # the nested try left it alone
    assert len(store) == 0  # emptied when its block ends
    with fresh_replay_store("seen_nonce", tmp_path) as store:
        assert store.first_use("n-1", DEMO_EPOCH + 60, DEMO_EPOCH)  # the next try starts afresh
    with pytest.raises(RuntimeError), fresh_replay_store("seen_nonce", tmp_path) as store:
        assert store.first_use("n-2", DEMO_EPOCH + 60, DEMO_EPOCH)
        raise RuntimeError("a try that fails")
    with fresh_replay_store("seen_nonce", tmp_path) as store:
        assert store.first_use("n-2", DEMO_EPOCH + 60, DEMO_EPOCH)  # emptied after a failed try too


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
    assert " ms</td>" in lab.output.value and "<strong>ES256</strong>" in lab.output.value
    lab.controls["algorithm"].value = "HS256"
    assert "<strong>HS256</strong>" in lab.output.value and "a signature of 32 bytes" in lab.output.value
    assert "UNVERIFIED" not in lab.output.value  # the chooser verified each token before timing it
    assert set(lab.static_answers["answers"]) == {'["ES256"]', '["HS256"]'}


def test_variant_swaps_named_parts_and_leaves_the_original_alone(clock):
    original = AccessTokenValidator(issuer=ISS, audience=AUD, keys=KEYS, clock=clock, binding=BINDING)
    later = FixedClock(DEMO_EPOCH + 3600)
    copy = variant(original, clock=later)
    assert copy.clock is later and original.clock is clock and copy.audience == AUD
    with pytest.raises(AttributeError):
        variant(original, replay_store=None)  # no such part: refused, not added
