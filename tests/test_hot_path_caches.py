"""The caches on the validators' hot path (issue 18) never change an answer: a protected header parsed
once is handed out as a copy, a key's verdict follows its members, and a trace's rows read the same
however they are stored."""

from __future__ import annotations

from jwcrypto import jwk

from joselab.compact import parse_jws
from joselab.errors import KeyNotFound
from joselab.jws import sign_compact, verify_jws
from joselab.keys import generate_key
from joselab.trace import Check, Outcome, Trace


def test_a_cached_header_is_handed_out_as_a_copy():
    key = generate_key("ES256", kid="k1")
    token = sign_compact({"sub": "a"}, key, {"alg": "ES256", "kid": "k1", "crit": ["exp"], "exp": 1})
    first = parse_jws(token).header
    first["kid"] = "changed"
    first["crit"].append("more")
    again = parse_jws(token).header
    assert again == {"alg": "ES256", "kid": "k1", "crit": ["exp"], "exp": 1}
    assert again is not parse_jws(token).header


def test_a_key_verdict_follows_the_key_members():
    """The same key material under another alg is another key: RFC 8725 §3.1, one algorithm a key."""
    key = generate_key("RS256", kid="k1")
    token = sign_compact({"sub": "a"}, key, {"alg": "RS256", "kid": "k1"})
    members = key.export_public(as_dict=True)
    rs256 = jwk.JWKSet()
    rs256.add(jwk.JWK(**{**members, "alg": "RS256"}))
    ps256 = jwk.JWKSet()
    ps256.add(jwk.JWK(**{**members, "alg": "PS256"}))
    for _ in range(2):  # the second time from the cache
        ok = Trace("t")
        with ok.run():
            verify_jws(ok, token, rs256, ["RS256", "PS256"])
        assert ok.ok, str(ok)
        refused = Trace("t")
        with refused.run():
            verify_jws(refused, token, ps256, ["RS256", "PS256"])
        assert isinstance(refused.error, KeyNotFound) and "serves" not in refused.failed.evidence
        assert "key is for PS256, not RS256" in refused.failed.evidence


def test_rows_read_as_checks_the_same_objects_each_time():
    trace = Trace("t")
    trace.check("S", "first", True, lambda: "seen")
    rows = trace.checks
    assert rows == [Check("S", "first", Outcome.PASS, "seen")] and trace.checks[0] is rows[0]
    trace.leniency("opt", "S", "allowed")
    trace.check("S", "second", True, "x")
    assert [c.name for c in trace.checks] == ["first", "leniency opt: allowed", "second"]
    assert all(isinstance(c, Check) and c.passed for c in trace.checks) and len(trace) == 3 and trace.ok


def test_a_key_changed_in_place_is_judged_again():
    """The verdict and the prepared key are kept per key object only while its members are unchanged:
    the same object given another alg (or another modulus) is judged and prepared again."""
    key = generate_key("RS256", kid="k1")
    other = generate_key("RS256", kid="k1")
    token = sign_compact({"sub": "a"}, key, {"alg": "RS256", "kid": "k1"})
    public = jwk.JWK(**{**key.export_public(as_dict=True), "alg": "RS256"})
    keys = jwk.JWKSet()
    keys.add(public)

    def verify() -> Trace:
        trace = Trace("t")
        with trace.run():
            verify_jws(trace, token, keys, ["RS256", "PS256"])
        return trace

    assert verify().ok and verify().ok  # the second time from the cache
    public["alg"] = "PS256"
    refused = verify()
    assert isinstance(refused.error, KeyNotFound) and "key is for PS256, not RS256" in refused.failed.evidence
    public["alg"] = "RS256"
    assert verify().ok
    public["n"] = other.export_public(as_dict=True)["n"]  # another modulus under the same object
    changed = verify()
    assert not changed.ok and changed.failed.name == "RS256 signature verifies"


def test_row_names_are_made_once_per_value_and_bounded():
    from joselab.trace import RowNames

    names = RowNames("iss equals {}", as_json=True)
    first = names["https://as.example"]
    assert first == 'iss equals "https://as.example"' and names["https://as.example"] is first
    assert names.get_name(["a", "b"]) == 'iss equals ["a", "b"]'  # unhashable: formatted, not kept
    for i in range(300):
        assert names[f"https://{i}.example"] == f'iss equals "https://{i}.example"'
    assert len(names) == 256  # joselab policy: bounded, whatever a caller configures
