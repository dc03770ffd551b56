"""DPoP (RFC 9449): the proof validator's rows, each failing once, over real HTTP at the bank API and
at the AS's token endpoint; RFC 9449's own example proofs (Figures 2, 7, 13) as vectors; fuzzing.

Each HTTP case sends a real request on loopback to the demo parties of :mod:`joselab.dpop.parties`
and asserts the status, the error code the spec prescribes, and the row (section and error type) at
which the proof validator stopped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joselab_testkit import b64json, forge_jws
from jwcrypto import jwk

from joselab.clock import DEMO_EPOCH, DemoIds, FixedClock
from joselab.cnf import Presented
from joselab.compact import b64url_encode
from joselab.data import load_json
from joselab.dpop import (
    CLIENT_DPOP_KEY,
    DPoPClient,
    DPoPNonces,
    DPoPProofValidator,
    DPoPTokenEndpoint,
    b64url_sha256,
    build_demo,
    jwk_thumbprint,
    normalize_htu,
    tampered,
    unsigned,
)
from joselab.errors import (
    AlgorithmNotAllowed,
    DPoPAccessTokenHashMismatch,
    DpopBindingError,
    DPoPHeaderCount,
    DPoPKeyMismatch,
    DPoPMethodMismatch,
    DPoPNonceMismatch,
    DPoPNonceRequired,
    DPoPPrivateKey,
    DPoPUrlMismatch,
    InvalidClaim,
    InvalidIssuedAt,
    InvalidSignature,
    InvalidType,
    JoselabError,
    KeySetError,
    MalformedToken,
    MissingClaim,
    ReplayDetected,
    TokenTooLarge,
    UnsupportedCritical,
    ValidationError,
)
from joselab.keys import demo_key, demo_keys, generate_key
from joselab.parties import Database, ReplayStore

VECTORS = load_json("rfc9449_examples.json")
ROOT = Path(__file__).resolve().parent


# ------------------------------------------------------------------------------------------------
# RFC 9449's example proofs
# ------------------------------------------------------------------------------------------------
def test_the_vectors_file_is_the_packaged_one():
    assert json.loads((ROOT / "vectors" / "rfc9449.json").read_text("utf-8")) == VECTORS


@pytest.mark.parametrize("figure", ["figure2", "figure7"])
def test_token_request_examples_verify_with_their_own_jwk(figure):
    example = VECTORS["proofs"][figure]
    validator = DPoPProofValidator(clock=FixedClock(example["iat"]), algorithms=("ES256",))
    trace = validator.validate([example["proof"]], method=example["htm"], url=example["htu"])
    assert trace.ok, trace.table()
    assert trace.result.jkt == VECTORS["jkt"]["value"]  # RFC 9449 §6.1 Figure 9: the same key
    assert [c.section for c in trace][:9] == [f"RFC 9449 §4.3 ({n})" for n in range(1, 10)]


def test_figure_13_verifies_and_its_ath_is_the_hash_of_its_token():
    example = VECTORS["proofs"]["figure13"]
    assert b64url_sha256(example["access_token"]) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    validator = DPoPProofValidator(clock=FixedClock(example["iat"]), algorithms=("ES256",))
    trace = validator.validate(
        [example["proof"]],
        method="GET",
        url=example["htu"],
        access_token=example["access_token"],
        cnf_jkt=VECTORS["jkt"]["value"],
    )
    assert trace.ok, trace.table()
    sections = [c.section for c in trace]
    assert sections == [f"RFC 9449 §4.3 ({n})" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11)] + [
        "RFC 9449 §11.1",
        "RFC 9449 §4.3 (12)",
        "RFC 9449 §4.3 (12)",
    ]


def test_figure_13_with_another_token_fails_at_ath():
    example = VECTORS["proofs"]["figure13"]
    validator = DPoPProofValidator(clock=FixedClock(example["iat"]), algorithms=("ES256",))
    trace = validator.validate(
        [example["proof"]], method="GET", url=example["htu"], access_token="another", cnf_jkt=VECTORS["jkt"]["value"]
    )
    assert isinstance(trace.error, DPoPAccessTokenHashMismatch)


def test_figure_2_is_refused_today_by_its_iat():
    example = VECTORS["proofs"]["figure2"]
    trace = DPoPProofValidator(clock=FixedClock(DEMO_EPOCH)).validate([example["proof"]], method="POST", url=example["htu"])
    assert isinstance(trace.error, InvalidIssuedAt)


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------
def test_thumbprints_agree_with_jwcrypto():
    for name in (CLIENT_DPOP_KEY, "rfc7515-a2-rsa", "rfc8037-ed25519"):
        key = demo_key(name).jwk
        public = {k: v for k, v in key.export_public(as_dict=True).items() if k != "kid"}
        assert jwk_thumbprint(public) == key.thumbprint()
    with pytest.raises(KeySetError):
        jwk_thumbprint({"kty": "XYZ", "k": "AAAA"})


@pytest.mark.parametrize(
    ("uri", "normal"),
    [
        ("https://api.bank.example/accounts", "https://api.bank.example/accounts"),
        ("HTTPS://API.Bank.Example:443/accounts?x=1#f", "https://api.bank.example/accounts"),  # RFC 3986 §6.2.2.1, §6.2.3
        ("https://api.bank.example", "https://api.bank.example/"),  # RFC 3986 §6.2.3: an empty path is /
        ("https://api.bank.example/a/./b/../accounts", "https://api.bank.example/a/accounts"),  # §6.2.2.3
        ("https://api.bank.example/%61ccounts%2f", "https://api.bank.example/accounts%2F"),  # §6.2.2.2
        ("https://api.bank.example:8443/x", "https://api.bank.example:8443/x"),
    ],
)
def test_htu_normalization(uri, normal):
    assert normalize_htu(uri) == normal


@pytest.mark.parametrize("uri", ["/accounts", "ftp://h/x", "https://user@h/x", "https://h:99999/x", "not a uri", ""])
def test_htu_normalization_refuses_what_is_not_an_absolute_http_uri(uri):
    assert normalize_htu(uri) is None


def test_configuration_refuses_symmetric_and_none():
    for algorithms in (("HS256",), ("none",), ("ES256", "HS256"), ()):
        with pytest.raises(ValueError):
            DPoPProofValidator(algorithms=algorithms)
    with pytest.raises(ValueError):
        DPoPProofValidator(iat_window=0)


def test_production_defaults():
    validator = DPoPProofValidator()
    assert type(validator.clock).__name__ == "SystemClock"
    nonces = DPoPNonces()
    assert type(nonces.ids).__name__ == "RandomIds"
    assert "value" not in repr(nonces)


def test_nonces_rotate_and_keep_one_previous():
    clock = FixedClock(DEMO_EPOCH)
    nonces = DPoPNonces(clock, DemoIds(1), lifetime=10)
    first = nonces.issue()
    assert nonces.accepts(first) and nonces.issue() == first
    clock.advance(10)
    second = nonces.issue()
    assert second != first and nonces.accepts(first) and nonces.accepts(second)
    clock.advance(10)
    nonces.issue()
    assert not nonces.accepts(first)
    clock.advance(100)
    assert not nonces.accepts(second)


# ------------------------------------------------------------------------------------------------
# The demo over real HTTP
# ------------------------------------------------------------------------------------------------
@pytest.fixture()
def demo(tmp_path):
    demo = build_demo(tmp_path, clock=FixedClock(DEMO_EPOCH), ids=DemoIds(5))
    yield demo
    demo.close()


@pytest.fixture()
def bound(demo):
    """A DPoP-bound access token, and the API's nonce already in the client's hands."""
    response = demo.get_token()
    token = response["access_token"]
    assert demo.client.call(demo.url("/accounts"), token).status == 200
    return token


def _api(demo, token, proofs, *, scheme="DPoP", path="/accounts"):
    headers = [("Authorization", f"{scheme} {token}")] + [("DPoP", p) for p in proofs]
    return demo.call(path, headers=headers)


def _refused(demo, response, error_type, code="invalid_dpop_proof", section=None):
    assert response.status == 401, response.body
    assert f'error="{code}"' in response.headers["www-authenticate"]
    trace = demo.api.last_proof_trace
    assert isinstance(trace.error, error_type), trace.table()
    assert type(trace.error) is error_type or issubclass(type(trace.error), error_type)
    if section is not None:
        assert trace.failed.section == section
    return trace


def test_the_whole_flow(demo):
    response = demo.get_token()
    assert response["token_type"] == "DPoP"  # RFC 9449 §5
    assert [status for status, _ in demo.client.log] == [400, 200]  # the §8 nonce challenge, then the token
    claims = demo.token_validator.validate(response["access_token"], presented=Presented("DPoP")).result
    assert claims["cnf"] == {"jkt": demo.client.jkt}  # RFC 9449 §6.1
    answer = demo.client.call(demo.url("/accounts"), response["access_token"])
    assert answer.status == 200 and answer.json()["sub"] == "248289761001"
    assert [status for status, _ in demo.client.log] == [400, 200, 401, 200]  # and the API's own nonce (§9)
    assert demo.api.last_proof_trace.ok and len(demo.api.last_proof_trace) == 14
    metadata = demo.network.get_json(demo.authorization_server.server.url("/.well-known/oauth-authorization-server"))
    assert metadata["dpop_signing_alg_values_supported"] == ["ES256", "PS256", "Ed25519"]  # RFC 9449 §5.1
    assert metadata["token_endpoint"] == demo.token_endpoint.url
    introspected = demo.authorization_server.introspect(response["access_token"])
    assert introspected["token_type"] == "DPoP"  # RFC 9449 §6.2


def test_no_credentials_gets_the_dpop_challenge(demo):
    response = demo.call("/accounts", headers=[])
    assert response.status == 401
    assert response.headers["www-authenticate"] == 'DPoP algs="ES256 PS256 Ed25519"'  # RFC 9449 §7.1 Figure 15


def test_1_two_dpop_headers(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound)
    _refused(demo, _api(demo, bound, [proof, proof]), DPoPHeaderCount, section="RFC 9449 §4.3 (1)")


def test_1_no_dpop_header(demo, bound):
    _refused(demo, _api(demo, bound, []), DPoPHeaderCount, section="RFC 9449 §4.3 (1)")


@pytest.mark.parametrize("value", ["not-a-jwt", "a.b.c", "x y", "{}.e30.AA"])
def test_2_not_a_well_formed_jwt(demo, bound, value):
    _refused(demo, _api(demo, bound, [value]), MalformedToken, section="RFC 9449 §4.3 (2)")


def test_2_two_proofs_in_one_field(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound)
    _refused(demo, _api(demo, bound, [f"{proof}, {proof}"]), MalformedToken, section="RFC 9449 §4.3 (2)")


def test_2_too_long(demo, bound):
    _refused(demo, _api(demo, bound, ["A" * 9000]), TokenTooLarge, section="RFC 9449 §4.3 (2)")


def test_2_crit(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, header={"crit": ["exp"], "exp": 1})
    _refused(demo, _api(demo, bound, [proof]), UnsupportedCritical, section="RFC 9449 §4.3 (2)")


@pytest.mark.parametrize("missing", ["htm", "jti", "htu", "iat", "ath"])
def test_3_a_required_claim_is_missing(demo, bound, missing):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, claims={missing: None})
    _refused(demo, _api(demo, bound, [proof]), MissingClaim, section="RFC 9449 §4.3 (3)")


def test_3_the_jwk_header_is_missing(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, header={"jwk": None})
    _refused(demo, _api(demo, bound, [proof]), MissingClaim, section="RFC 9449 §4.3 (3)")


@pytest.mark.parametrize(("name", "value"), [("iat", "now"), ("jti", 7), ("htm", ""), ("jti", "j" * 300)])
def test_3_a_claim_of_the_wrong_type(demo, bound, name, value):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, claims={name: value})
    _refused(demo, _api(demo, bound, [proof]), InvalidClaim, section="RFC 9449 §4.3 (3)")


def test_3_and_9_no_nonce_gets_the_resource_server_challenge(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, claims={"nonce": None})
    response = _api(demo, bound, [proof])
    trace = _refused(demo, response, DPoPNonceRequired, code="use_dpop_nonce", section="RFC 9449 §4.3 (3)")
    assert response.headers["dpop-nonce"]  # RFC 9449 §9 Figure 24
    assert trace.failed.evidence == "missing nonce"


def test_4_typ(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, header={"typ": "JWT"})
    _refused(demo, _api(demo, bound, [proof]), InvalidType, section="RFC 9449 §4.3 (4)")


def test_5_alg_none(demo, bound):
    claims = demo.client.proof_claims("GET", demo.url("/accounts"), access_token=bound)
    header = {"alg": "none", "typ": "dpop+jwt", "jwk": demo.client.public_jwk}
    proof = f"{b64json(header)}.{b64json(claims)}."
    _refused(demo, _api(demo, bound, [proof]), AlgorithmNotAllowed, section="RFC 9449 §4.3 (5)")


def test_5_alg_hs256_with_a_mac(demo, bound):
    secret = jwk.JWK(kty="oct", k=b64url_encode(b"k" * 32))
    claims = demo.client.proof_claims("GET", demo.url("/accounts"), access_token=bound)
    header = {"alg": "HS256", "typ": "dpop+jwt", "jwk": {"kty": "oct", "k": secret["k"]}}
    proof = forge_jws(header, json.dumps(claims).encode(), secret, "HS256")
    _refused(demo, _api(demo, bound, [proof]), AlgorithmNotAllowed, section="RFC 9449 §4.3 (5)")


def test_5_an_asymmetric_alg_off_the_allowlist(demo, bound):
    key = demo_key("rfc7515-a4-p521").jwk
    claims = demo.client.proof_claims("GET", demo.url("/accounts"), access_token=bound)
    public = {k: v for k, v in key.export_public(as_dict=True).items() if k != "kid"}
    proof = forge_jws({"alg": "ES512", "typ": "dpop+jwt", "jwk": public}, json.dumps(claims).encode(), key, "ES512")
    _refused(demo, _api(demo, bound, [proof]), AlgorithmNotAllowed, section="RFC 9449 §4.3 (5)")


def test_6_a_changed_signature(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound)
    head, body, sig = proof.split(".")
    forged = f"{head}.{body}.{'A' * len(sig)}"
    _refused(demo, _api(demo, bound, [forged]), InvalidSignature, section="RFC 9449 §4.3 (6)")


def test_6_signed_by_another_key_than_the_jwk(demo, bound):
    other = generate_key("ES256")
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound)
    head, body, _ = proof.split(".")
    forged = forge_jws(head, b"", other, "ES256", payload_segment=body)
    _refused(demo, _api(demo, bound, [forged]), InvalidSignature, section="RFC 9449 §4.3 (6)")


def test_6_a_jwk_that_does_not_fit_alg(demo, bound):
    rsa = {k: v for k, v in demo_key("rfc7515-a2-rsa").jwk.export_public(as_dict=True).items() if k != "kid"}
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, header={"jwk": rsa})
    _refused(demo, _api(demo, bound, [proof]), InvalidSignature, section="RFC 9449 §4.3 (6)")


def test_7_a_private_key_in_the_jwk(demo, bound):
    private = {k: v for k, v in demo.client.key.export(as_dict=True).items() if k != "kid"}
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, header={"jwk": private})
    _refused(demo, _api(demo, bound, [proof]), DPoPPrivateKey, section="RFC 9449 §4.3 (7)")


def test_8_htm(demo, bound):
    proof = demo.client.proof("POST", demo.url("/accounts"), access_token=bound)
    _refused(demo, _api(demo, bound, [proof]), DPoPMethodMismatch, section="RFC 9449 §4.3 (8)")


def test_9_htu_of_another_resource(demo, bound):
    proof = demo.client.proof("GET", demo.url("/transactions"), access_token=bound)
    _refused(demo, _api(demo, bound, [proof]), DPoPUrlMismatch, section="RFC 9449 §4.3 (9)")


def test_9_htu_of_another_host(demo, bound):
    proof = demo.client.proof("GET", "https://evil.example/accounts", access_token=bound, nonce=demo.client.nonces[demo.url("")])
    _refused(demo, _api(demo, bound, [proof]), DPoPUrlMismatch, section="RFC 9449 §4.3 (9)")


def test_9_htu_normalized_and_query_ignored(demo, bound):
    proof = demo.client.proof(
        "GET", demo.url("/accounts"), access_token=bound, claims={"htu": "HTTPS://API.BANK.EXAMPLE:443/accounts?x=1"}
    )
    response = _api(demo, bound, [proof], path="/accounts?from=2026-01-01")
    assert response.status == 200, demo.api.last_proof_trace.table()


def test_10_a_nonce_the_api_never_provided(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, nonce="made-up")
    response = _api(demo, bound, [proof])
    _refused(demo, response, DPoPNonceMismatch, code="use_dpop_nonce", section="RFC 9449 §4.3 (10)")
    assert response.headers["dpop-nonce"] == demo.client.nonces[demo.url("")]  # the current one, again


def test_10_the_as_nonce_is_not_the_apis(demo):
    response = demo.get_token()
    as_nonce = demo.client.nonces["https://as.bank.example"]
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=response["access_token"], nonce=as_nonce)
    _refused(demo, _api(demo, response["access_token"], [proof]), DPoPNonceMismatch, code="use_dpop_nonce")


def test_10_explicit_nonce():
    clock = FixedClock(DEMO_EPOCH)
    example = VECTORS["proofs"]["figure2"]
    validator = DPoPProofValidator(clock=FixedClock(example["iat"]), algorithms=("ES256",))
    trace = validator.validate([example["proof"]], method="POST", url=example["htu"], nonce="eyJ7S_zG.eyJH0-Z.HX4w-7v")
    assert isinstance(trace.error, DPoPNonceRequired) and clock.now() == DEMO_EPOCH


@pytest.mark.parametrize("offset", [-61, 61])
def test_11_iat_outside_the_window(demo, bound, offset):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, claims={"iat": DEMO_EPOCH + offset})
    _refused(demo, _api(demo, bound, [proof]), InvalidIssuedAt, section="RFC 9449 §4.3 (11)")


def test_11_a_proof_kept_for_later(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound)
    demo.authorization_server.clock.advance(120)
    _refused(demo, _api(demo, bound, [proof]), InvalidIssuedAt)


def test_replay_of_a_proof(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound)
    assert _api(demo, bound, [proof]).status == 200
    _refused(demo, _api(demo, bound, [proof]), ReplayDetected, section="RFC 9449 §11.1")


def test_replay_is_refused_after_a_restart(tmp_path):
    example = VECTORS["proofs"]["figure2"]
    for attempt in range(2):
        db = Database(tmp_path / "jti.sqlite")
        validator = DPoPProofValidator(
            replay_store=ReplayStore(db, "dpop_jti"), clock=FixedClock(example["iat"]), algorithms=("ES256",)
        )
        trace = validator.validate([example["proof"]], method="POST", url=example["htu"])
        db.close()
        assert trace.ok if attempt == 0 else isinstance(trace.error, ReplayDetected)


def test_12_ath_of_another_token(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token="some-other-token")
    _refused(demo, _api(demo, bound, [proof]), DPoPAccessTokenHashMismatch, section="RFC 9449 §4.3 (12)")


def test_12_a_stolen_token_with_the_thiefs_own_key(demo, bound):
    mallory = generate_key("ES256")
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound, key=mallory, alg="ES256")
    response = _api(demo, bound, [proof])
    trace = _refused(demo, response, DPoPKeyMismatch, code="invalid_token", section="RFC 9449 §4.3 (12)")
    assert "Invalid DPoP key binding" in response.headers["www-authenticate"]  # RFC 9449 Figure 16
    assert trace.failed.evidence == f'cnf.jkt = "{demo.client.jkt}"; the proof\'s key is another'


def test_12_an_unbound_token_with_a_proof(demo, bound):
    unbound = demo.authorization_server.issue_access_token(
        sub="248289761001", client_id=demo.client.client_id, audience=demo.url(""), scope="accounts"
    )
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=unbound)
    response = _api(demo, unbound, [proof])
    # Refused with the token, before the proof (RFC 9449 §7.1: the DPoP scheme carries a bound token) ...
    assert response.status == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]
    assert isinstance(demo.api.last_trace.error, DpopBindingError) and demo.api.last_proof_trace is None
    # ... and the proof validator's own row 12 refuses it too, given no cnf.jkt.
    validator = DPoPProofValidator(clock=demo.authorization_server.clock)
    trace = validator.validate([proof], method="GET", url=demo.url("/accounts"), access_token=unbound, cnf_jkt=None)
    assert isinstance(trace.error, DPoPKeyMismatch), trace.table()


def test_a_bound_token_as_a_bearer_token_is_refused(demo, bound):
    response = demo.call("/accounts", headers=[("Authorization", f"Bearer {bound}")])
    assert response.status == 401
    assert "RFC 9449 section 7.1, section 7.2" in response.headers["www-authenticate"]
    error = demo.api.last_trace.error
    assert isinstance(error, DpopBindingError) and error.section == "RFC 9449 §7.1, §7.2"
    assert demo.api.last_proof_trace is None  # refused before any proof is looked at


def test_an_unbound_bearer_token_is_refused_by_this_api(demo, bound):
    unbound = demo.authorization_server.issue_access_token(
        sub="248289761001", client_id=demo.client.client_id, audience=demo.url(""), scope="accounts"
    )
    response = demo.call("/accounts", headers=[("Authorization", f"Bearer {unbound}")])
    assert response.status == 401 and "DPoP-bound access tokens only" in response.headers["www-authenticate"]


def test_two_authorization_headers(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound)
    headers = [("Authorization", f"Bearer {bound}"), ("Authorization", f"DPoP {bound}"), ("DPoP", proof)]
    response = demo.call("/accounts", headers=headers)
    assert response.status == 400 and 'error="invalid_request"' in response.headers["www-authenticate"]  # Figure 19


def test_an_invalid_access_token_is_refused_before_the_proof(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound[:-4] + "AAAA")
    response = _api(demo, bound[:-4] + "AAAA", [proof])
    assert response.status == 401 and 'error="invalid_token"' in response.headers["www-authenticate"]
    assert demo.api.last_proof_trace is None


def test_insufficient_scope_after_a_valid_proof(demo, bound):
    proof = demo.client.proof("GET", demo.url("/transactions"), access_token=bound)
    response = _api(demo, bound, [proof], path="/transactions")
    assert response.status == 403 and 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert demo.api.last_proof_trace.ok


# -- at the token endpoint ------------------------------------------------------------------------
def _token_request(demo, proofs, code):
    form = f"grant_type=authorization_code&code={code}&client_id={demo.client.client_id}".encode()
    headers = [("Content-Type", "application/x-www-form-urlencoded")] + [("DPoP", p) for p in proofs]
    return demo.network.request("POST", demo.token_endpoint.url, body=form, headers=headers)


def test_as_asks_for_a_nonce_first(demo):
    code = demo.token_endpoint.authorization_code()
    response = _token_request(demo, [demo.client.proof("POST", demo.token_endpoint.url)], code)
    assert response.status == 400 and response.json()["error"] == "use_dpop_nonce"  # RFC 9449 §8 Figure 20
    assert response.headers["dpop-nonce"]
    assert isinstance(demo.token_endpoint.last_trace.error, DPoPNonceRequired)


def test_as_refuses_an_invalid_proof(demo):
    demo.get_token()  # the client now holds the AS's nonce
    code = demo.token_endpoint.authorization_code()
    proof = demo.client.proof("POST", "https://as.bank.example/other")
    response = _token_request(demo, [proof], code)
    assert response.status == 400 and response.json()["error"] == "invalid_dpop_proof"  # RFC 9449 §5
    assert isinstance(demo.token_endpoint.last_trace.error, DPoPUrlMismatch)


def test_as_refuses_a_request_without_a_proof(demo):
    response = _token_request(demo, [], demo.token_endpoint.authorization_code())
    assert response.status == 400 and response.json()["error"] == "invalid_dpop_proof"
    assert isinstance(demo.token_endpoint.last_trace.error, DPoPHeaderCount)


def test_as_refuses_a_replayed_proof_and_a_reused_code(demo):
    demo.get_token()
    code = demo.token_endpoint.authorization_code()
    proof = demo.client.proof("POST", demo.token_endpoint.url)
    assert _token_request(demo, [proof], code).status == 200
    replayed = _token_request(demo, [proof], demo.token_endpoint.authorization_code())
    assert replayed.json()["error"] == "invalid_dpop_proof"
    assert isinstance(demo.token_endpoint.last_trace.error, ReplayDetected)
    again = _token_request(demo, [demo.client.proof("POST", demo.token_endpoint.url)], code)
    assert again.json()["error"] == "invalid_grant"


# ------------------------------------------------------------------------------------------------
# Fuzz: arbitrary header values never raise anything but joselab's own errors
# ------------------------------------------------------------------------------------------------
_B64 = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=60)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_MEMBERS = st.dictionaries(
    st.sampled_from(
        ["typ", "alg", "jwk", "jti", "htm", "htu", "iat", "ath", "nonce", "crit", "b64", "kty", "crv", "x", "y", "d"]
    ),
    _JSON,
    max_size=8,
)
_STRUCTURED = st.builds(lambda h, p, s: f"{b64json(h)}.{b64json(p)}.{s}", _MEMBERS, _MEMBERS, _B64)
_VALUE = st.one_of(st.text(max_size=200), _STRUCTURED, st.builds(lambda p: p, st.just(VECTORS["proofs"]["figure13"]["proof"])))


@settings(max_examples=200, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_VALUE, max_size=3), st.booleans())
def test_fuzz_only_joselab_errors(values, strict):
    validator = DPoPProofValidator(
        clock=FixedClock(VECTORS["proofs"]["figure13"]["iat"]), algorithms=("ES256",), nonce_source=None
    )
    try:
        trace = validator.validate(
            values, method="GET", url="https://resource.example.org/protectedresource", access_token="t", strict=strict
        )
    except JoselabError as exc:
        assert strict and isinstance(exc, ValidationError)
        return
    if trace.error is not None:
        assert trace.failed.name != "validator completed", trace.table()


@settings(max_examples=50, deadline=5000)
@given(st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=2)))
def test_fuzz_headers_of_the_wrong_type(value):
    trace = DPoPProofValidator().validate(value, method="GET", url="https://api.bank.example/accounts")
    assert isinstance(trace.error, DPoPHeaderCount)


def test_the_chapters_forgeries_fail_where_they_should(demo, bound):
    proof = demo.client.proof("GET", demo.url("/accounts"), access_token=bound)
    _refused(demo, _api(demo, bound, [unsigned(proof)]), AlgorithmNotAllowed, section="RFC 9449 §4.3 (5)")
    _refused(demo, _api(demo, bound, [tampered(proof, jti="x")]), InvalidSignature, section="RFC 9449 §4.3 (6)")
    text = demo.explain(_api(demo, bound, [tampered(proof, jti="y")]))
    assert text.startswith('HTTP 401\nWWW-Authenticate: DPoP error="invalid_dpop_proof"')
    assert "RFC 9449 §4.3 (6)  the signature verifies" in text and "does not verify (Ed25519, OKP Ed25519 key)" in text


@pytest.mark.parametrize(
    ("jwk_value", "alg"),
    [
        ({"kty": "RSA", "n": "!!", "e": "AQAB"}, "PS256"),  # not base64url
        ({"kty": "RSA", "n": 5, "e": "AQAB"}, "PS256"),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": 5}, "ES256"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AA"}, "ES256"),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "use": "enc"}, "ES256"),
    ],
)
def test_6_a_jwk_that_is_no_usable_public_key(jwk_value, alg):
    claims = {"jti": "j", "htm": "GET", "htu": "https://h.example/x", "iat": DEMO_EPOCH}
    proof = f"{b64json({'typ': 'dpop+jwt', 'alg': alg, 'jwk': jwk_value})}.{b64json(claims)}.AAAA"
    trace = DPoPProofValidator(clock=FixedClock(DEMO_EPOCH)).validate([proof], method="GET", url="https://h.example/x")
    assert isinstance(trace.error, InvalidSignature) and trace.failed.section == "RFC 9449 §4.3 (6)", trace.table()


def test_parties_production_defaults(tmp_path):
    from joselab.parties import Network

    client = DPoPClient(Network(), clock=FixedClock(DEMO_EPOCH))
    assert type(client.ids).__name__ == "RandomIds"
    assert client.key.thumbprint() not in {k.jwk.thumbprint() for k in demo_keys().values()}  # a fresh key, no demo key
    assert client.proof("GET", "https://api.bank.example/x?q=1#f").count(".") == 2


def test_one_token_endpoint_per_as(demo):
    with pytest.raises(ValueError):
        DPoPTokenEndpoint(demo.authorization_server, demo.token_endpoint.validator, audience=demo.url(""))
