"""Property-based fuzzing of every joselab function that takes untrusted input.

The property is the same everywhere: whatever comes in, the only exceptions are joselab's own
(``JoselabError`` subclasses), and every example finishes within the hypothesis ``deadline``
(:data:`DEADLINE_MS`, or :data:`VALIDATOR_DEADLINE_MS` for the validators, which do real I/O); a validator never accepts a fuzzed token and never ends on the catch-all
"validator completed" row, which stands for a library exception joselab did not expect.

Inputs are drawn from three families, so that fuzzing reaches past the first check: raw text and
bytes; structured tokens (base64url JSON headers and claims with the member names and values joselab
looks at, random signatures and JWE parts); and the six valid base tokens of the hostile corpus with
a few characters changed, inserted or deleted.

Reproducible: the ``joselab`` hypothesis profile (tests/conftest.py) derandomizes every run; the
example counts are :data:`EXAMPLES` (their sum is what the closing note reports).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hostile.harness import VALIDATORS, Harness, make_harness
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joselab import DEMO_EPOCH, TokenView, Trace, b64url_decode, b64url_encode, decode_unverified, demo_key, parse
from joselab.cnf import Presented, check_confirmation, jwk_thumbprint
from joselab.compact import loads_strict, parse_json_object, parse_jwe, parse_jws
from joselab.errors import JoselabError, ValidationError
from joselab.jwe import decrypt_jwe
from joselab.jws import verify_jws
from joselab.keys import key_fits_alg, load_jwks
from joselab.message.ob import OB_IAT, OB_ISS, OB_TAN
from joselab.serialization import decrypt_json_jwe, verify_json_jws

#: Per-example bounds. A typical example takes well under a millisecond (a validator a few, with its
#: loopback HTTP and sqlite); the bounds are wide so that a loaded CI machine does not trip them, and
#: still far below what unbounded work costs (a PBES2 count of 10^9, a 100 MB inflate, a quadratic
#: parse of a megabyte: seconds to minutes).
DEADLINE_MS = 2000
#: The scenario validators also make a loopback HTTP request (the statement and request validators
#: fetch their keys) and write sqlite.
VALIDATOR_DEADLINE_MS = 5000
#: max_examples per fuzz test; the module's total is their sum.
EXAMPLES = {
    "parsing": 400,
    "json": 300,
    "jwks": 200,
    "jws": 200,
    "jwe": 120,
    "json_serialization": 200,
    "validator": 120,
    "member": 80,
    "view": 200,
    "server": 150,
    "client_assertion": 150,
    "cnf": 400,
}
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def fuzz(kind: str):
    return settings(
        max_examples=EXAMPLES[kind],
        deadline=VALIDATOR_DEADLINE_MS if kind in ("validator", "member", "server", "client_assertion") else DEADLINE_MS,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def total_examples() -> int:
    """What this module runs: each test's max_examples (the validator test runs once per validator)."""
    per_test = {
        "parsing": 2, "json": 1, "jwks": 1, "jws": 1, "jwe": 1, "json_serialization": 2,
        "validator": len(VALIDATORS), "member": len(VALIDATORS), "view": 1, "server": 1, "client_assertion": 1,
        "cnf": 2,
    }  # fmt: skip
    return sum(EXAMPLES[k] * n for k, n in per_test.items())


# -- strategies --------------------------------------------------------------------------------
HEADER_NAMES = [
    "alg", "kid", "typ", "cty", "crit", "b64", "jwk", "jku", "x5u", "x5c", "x5t", "zip", "enc", "epk", "p2c", "p2s",
    "iv", "tag", OB_IAT, OB_ISS, OB_TAN,
]  # fmt: skip
ALGS = ["none", "None", "RS256", "PS256", "ES256", "ES384", "HS256", "EdDSA", "Ed25519", "RSA-OAEP-256", "RSA1_5", "dir"]
CLAIM_NAMES = [
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "azp", "auth_time", "acr", "amr", "client_id", "scope",
    "software_id", "software_statement", "redirect_uris", "token_endpoint_auth_method", "org_status",
    "software_redirect_uris", "software_roles", "software_jwks_endpoint", "at_hash", "c_hash",
]  # fmt: skip
KNOWN_STRINGS = [
    "https://as.bank.example", "https://api.bank.example", "https://op.bank.example", "client.example", "n-0S6_WzA2Mj",
    "at+jwt", "JWT", "JOSE", "application/json", "b64", "Active", demo_key("rfc7515-a2-rsa").kid,
    demo_key("rfc7520-bilbo-rsa").kid, "directory.example", "0015800001041REAAY/payments-app-001", "../../../dev/null",
]  # fmt: skip

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=DEMO_EPOCH - 10**6, max_value=DEMO_EPOCH + 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=16),
    st.sampled_from(KNOWN_STRINGS + ALGS),
)
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10
)
header_st = st.dictionaries(st.sampled_from(HEADER_NAMES) | st.text(max_size=6), json_value, max_size=6).flatmap(
    lambda h: st.sampled_from(ALGS).map(lambda alg: {"alg": alg, **h}) | st.just(h)
)
claims_st = st.dictionaries(st.sampled_from(CLAIM_NAMES) | st.text(max_size=6), json_value, max_size=10)


def b64json(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


#: Characters outside base64url that a ``str`` token can hold: lone surrogates (no UTF-8 encodes
#: them, RFC 3629 §3), beyond-BMP, control and non-ASCII characters. hypothesis's ``text()`` leaves
#: surrogates out unless asked, so they are asked for here.
OUTSIDE = ["\ud800", "\udfff", "\udbff\udbff", "é", "\x00", "€", "\U0001f600", " ", "=", "\n"]
any_text_st = st.lists(st.sampled_from(OUTSIDE) | st.characters(exclude_categories=()), max_size=40).map("".join)
#: A b64: false header (RFC 7797), whose payload part is the payload itself: any text goes there.
UNENCODED_HEADER = b64url_encode(
    json.dumps({"alg": "RS256", "kid": demo_key("rfc7515-a2-rsa").kid, "b64": False, "crit": ["b64"]}).encode()
)

segment_st = st.one_of(
    st.binary(max_size=300).map(b64url_encode),
    any_text_st,
    header_st.map(b64json),
    claims_st.map(b64json),
    st.text(alphabet=ALPHABET + "=+/ .\n\x00é", max_size=60),
    st.just(""),
)
jws_st = st.one_of(
    st.tuples(segment_st, segment_st, segment_st).map(".".join),
    st.tuples(st.just(UNENCODED_HEADER), any_text_st, segment_st).map(".".join),
)
jwe_st = st.tuples(header_st.map(b64json), *[segment_st] * 4).map(".".join)
token_st = st.one_of(
    st.text(max_size=300), any_text_st, jws_st, jwe_st, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
)
anything_st = st.one_of(token_st, st.none(), st.integers(), st.binary(max_size=50), st.lists(st.text(max_size=5), max_size=3))


def only_joselab(fn: Callable[[], object]) -> object:
    """Run ``fn``; a JoselabError is a fine answer, anything else fails the test."""
    try:
        return fn()
    except JoselabError:
        return None


def rejected(trace: Trace) -> None:
    """A validator's answer to fuzz: refused, by a real check (not the catch-all for a crash)."""
    assert not trace.ok, str(trace)
    assert isinstance(trace.error, ValidationError) and trace.error.section != "joselab", str(trace)


# -- the core parsers -----------------------------------------------------------------------------
@fuzz("parsing")
@given(anything_st)
def test_parsers_raise_only_joselab_errors(token):
    for fn in (parse, parse_jws, parse_jwe, decode_unverified):
        only_joselab(lambda fn=fn: fn(token))
    only_joselab(lambda: parse_jws(token, detached_payload=b"{}"))


@fuzz("parsing")
@given(st.one_of(st.text(alphabet=ALPHABET + "=+/ \n", max_size=80), st.text(max_size=40), st.none(), st.binary(max_size=10)))
def test_b64url_decode_raises_only_joselab_errors(text):
    data = only_joselab(lambda: b64url_decode(text))
    if data is not None:
        assert b64url_encode(data) == text  # canonical: what it accepts, it gives back unchanged


@fuzz("json")
@given(
    st.one_of(st.binary(max_size=200), json_value.map(lambda v: json.dumps(v).encode()), st.text(max_size=100).map(str.encode))
)
def test_json_parsers_raise_only_joselab_errors(data):
    only_joselab(lambda: parse_json_object(data, "fuzz"))
    value = only_joselab(lambda: loads_strict(data, "fuzz"))
    if value is not None:
        json.dumps(value).encode("utf-8")  # whatever it accepts is re-encodable UTF-8 JSON


# -- keys ------------------------------------------------------------------------------------------
jwk_st = st.fixed_dictionaries(
    {"kty": st.sampled_from(["RSA", "EC", "OKP", "oct", "XYZ"]) | json_leaf},
    optional={
        "kid": json_leaf,
        "n": st.binary(max_size=300).map(b64url_encode) | json_leaf,
        "e": st.sampled_from(["AQAB", "Aw", ""]) | json_leaf,
        "crv": st.sampled_from(["P-256", "P-384", "Ed25519", "X25519", "secp256k1"]) | json_leaf,
        "x": st.binary(max_size=70).map(b64url_encode),
        "y": st.binary(max_size=70).map(b64url_encode),
        "alg": st.sampled_from(ALGS) | json_leaf,
        "use": st.sampled_from(["sig", "enc"]) | json_leaf,
        "k": st.binary(max_size=70).map(b64url_encode),
    },
)
jwks_st = st.one_of(
    st.lists(jwk_st, max_size=4).map(lambda keys: {"keys": keys}),
    st.lists(jwk_st, max_size=3).map(lambda keys: json.dumps({"keys": keys})),
    json_value,
    st.text(max_size=100),
    st.binary(max_size=100),
)


@fuzz("jwks")
@given(jwks_st, st.sampled_from([*ALGS, "RS384", "PS512", "HS512"]))
def test_load_jwks_and_key_fits_alg_raise_only_joselab_errors(data, alg):
    keyset = only_joselab(lambda: load_jwks(data))
    for key in keyset["keys"] if keyset is not None else []:
        fits = only_joselab(lambda key=key: key_fits_alg(key, alg))
        assert fits is None or isinstance(fits[0], bool)


# -- JWS and JWE -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def harness():
    h, tmp = make_harness()
    yield h
    h.close()
    tmp.cleanup()


TRUSTED = load_jwks(
    {
        "keys": [
            {**demo_key("rfc7515-a2-rsa").jwk.export_public(as_dict=True), "alg": "RS256"},
            demo_key("rfc7515-a3-p256").jwk.export_public(as_dict=True),
        ]
    }
)
SAMWISE = demo_key("rfc7520-samwise-rsa").jwk


@fuzz("jws")
@given(st.one_of(token_st, jws_st))
def test_verify_jws_raises_only_joselab_errors_and_accepts_nothing(token):
    trace = Trace("fuzz")
    assert only_joselab(lambda: verify_jws(trace, token, TRUSTED, ["RS256", "ES256", "PS256"], understood_crit=["b64"])) is None


@fuzz("jwe")
@given(
    st.one_of(
        jwe_st,
        st.tuples(
            st.fixed_dictionaries(
                {"alg": st.just("RSA-OAEP-256"), "enc": st.just("A256GCM")}, optional={"zip": json_leaf, "crit": json_value}
            ),
            st.binary(min_size=256, max_size=256),
            st.binary(max_size=16),
            st.binary(max_size=64),
            st.binary(max_size=16),
        ).map(lambda p: ".".join([b64json(p[0]), *map(b64url_encode, p[1:])])),
    )
)
def test_decrypt_jwe_raises_only_joselab_errors_and_decrypts_nothing(token):
    trace = Trace("fuzz")
    assert only_joselab(lambda: decrypt_jwe(trace, token, SAMWISE, ["RSA-OAEP-256", "PBES2-HS256+A128KW"], ["A256GCM"])) is None


json_doc_st = st.one_of(
    st.dictionaries(
        st.sampled_from(
            [
                "protected",
                "header",
                "payload",
                "signature",
                "signatures",
                "recipients",
                "unprotected",
                "encrypted_key",
                "iv",
                "ciphertext",
                "tag",
                "aad",
            ]
        ),
        st.one_of(
            segment_st,
            header_st,
            json_value,
            st.lists(
                st.dictionaries(
                    st.sampled_from(["protected", "header", "signature", "encrypted_key"]), st.one_of(segment_st, header_st)
                ),
                max_size=3,
            ),
        ),
        max_size=8,
    ).map(json.dumps),
    st.text(max_size=100),
    json_value.map(json.dumps),
    st.binary(max_size=100),
)


@fuzz("json_serialization")
@given(json_doc_st)
def test_verify_json_jws_raises_only_joselab_errors(doc):
    assert only_joselab(lambda: verify_json_jws(Trace("fuzz"), doc, TRUSTED, ["RS256", "ES256"])) is None


@fuzz("json_serialization")
@given(json_doc_st)
def test_decrypt_json_jwe_raises_only_joselab_errors(doc):
    assert only_joselab(lambda: decrypt_json_jwe(Trace("fuzz"), doc, SAMWISE, ["RSA-OAEP-256"], ["A256GCM"])) is None


# -- the scenario validators -------------------------------------------------------------------------
def mutated(data, token: str) -> str:
    """A base token with a few characters changed, inserted or deleted."""
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, max(len(token) - 1, 0)))
        edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        char = data.draw(st.sampled_from([*ALPHABET, *".=+/ ", *OUTSIDE]))
        if edit == "replace":
            token = token[:i] + char + token[i + 1 :]
        elif edit == "insert":
            token = token[:i] + char + token[i:]
        else:
            token = token[:i] + token[i + 1 :]
    return token


@pytest.mark.parametrize("validator", VALIDATORS)
@fuzz("validator")
@given(data=st.data())
def test_validators_reject_fuzz_with_joselab_errors_only(harness: Harness, validator, data):
    source = data.draw(st.sampled_from(["text", "structured", "mutated", "resigned"]))
    body = None
    if source == "text":
        token = data.draw(anything_st)
    elif source == "structured":
        token = data.draw(st.one_of(jws_st, jwe_st))
    else:
        # Re-signed fuzz uses this validator's own base and key, so that it gets past the signature.
        base = harness.bases[validator if source == "resigned" else data.draw(st.sampled_from(VALIDATORS))]
        if source == "mutated":
            token = mutated(data, base.token)
            if token == base.token:
                return  # the edits cancelled out (insert then delete, replace with the same character)
        else:
            # Signed for real by the base's key: fuzz that gets past the signature to the claims.
            # New members, and new values for the members the base already has (its own profile's).
            names = sorted(base.header.keys() - {"alg"})
            changed = data.draw(st.dictionaries(st.sampled_from(names), json_value, min_size=1, max_size=2)) if names else {}
            added = data.draw(header_st.filter(lambda h: "alg" not in h)) if data.draw(st.booleans()) else {}
            header = {**base.header, **changed, **added}
            if base.claims is None:
                payload = base.payload()
            else:
                payload = json.dumps({**base.claims, **data.draw(claims_st)}).encode()
            token = only_joselab(lambda: base.sign(header, payload))
            if token is None or token == base.token:
                return
        if base.body is not None and data.draw(st.booleans()):
            body = data.draw(st.binary(max_size=100))
    try:
        trace = harness.run(validator, token, body)
    except JoselabError:
        return  # strict mode is off: validators report through the trace, but a joselab error is still fine
    rejected(trace) if source != "resigned" else _claims_fuzz_outcome(trace)


def _claims_fuzz_outcome(trace: Trace) -> None:
    # A re-signed base with fuzzed members may happen to be valid (an extra unknown claim is): the
    # property is only that the validator finished with a real check, whichever way it went.
    if not trace.ok:
        assert isinstance(trace.error, ValidationError) and trace.error.section != "joselab", str(trace)


@pytest.mark.parametrize("validator", VALIDATORS)
@fuzz("member")
@given(data=st.data())
def test_validators_with_one_signed_header_member_fuzzed(harness: Harness, validator, data):
    # One member of the validator's own header gets any JSON value, signed for real: every check on
    # that member sees every type (a list inside crit once crashed the OB verifier: unhashable).
    base = harness.bases[validator]
    name = data.draw(st.sampled_from(sorted(base.header)))
    value = data.draw(json_value)
    if value == base.header[name]:
        return
    token = base.sign({**base.header, name: value}, base.payload())
    trace = harness.run(validator, token, base.body)
    if not trace.ok:  # a value the profile allows (another kid spelling the same key, say) may pass
        assert isinstance(trace.error, ValidationError) and trace.error.section != "joselab", str(trace)


@fuzz("server")
@given(st.one_of(token_st, jws_st, st.binary(max_size=200)))
def test_registration_server_answers_fuzz_with_a_400(harness: Harness, body):
    # The server's own entry point, body as received (str or bytes): a refusal, never an exception
    # (a lone surrogate in an unencoded payload once escaped as UnicodeEncodeError).
    outcome = harness.registration.bank.register(body)
    assert outcome.status == 400 and outcome.body["error"]


@fuzz("view")
@given(anything_st)
def test_token_view_renders_anything(token):
    view = TokenView(token)
    assert isinstance(str(view), str)
    assert view._repr_html_().startswith('<div class="jl-tokenview">')
    if view.error is not None:
        assert isinstance(view.error, JoselabError)


# -- the client assertion validator (private_key_jwt at the token endpoint) ----------------------------
@pytest.fixture(scope="module")
def assertion_world():
    import tempfile

    from joselab import DemoIds, FixedClock
    from joselab.client_assertion import ClientAssertionValidator, sign_client_assertion
    from joselab.keys import public_jwks
    from joselab.parties import Database, ReplayStore

    bilbo = demo_key("rfc7520-bilbo-rsa")
    keys = load_jwks({"keys": [{**public_jwks(bilbo)["keys"][0], "alg": "PS256", "use": "sig"}]})
    tmp = tempfile.TemporaryDirectory(prefix="joselab-fuzz-assertion-")
    db = Database(f"{tmp.name}/as.sqlite")
    db.execute("PRAGMA synchronous=OFF")
    clock = FixedClock(DEMO_EPOCH)
    validator = ClientAssertionValidator(
        issuer="https://as.bank.example", client_keys={"sw-budget-buddy-01": keys}, replay_store=ReplayStore(db), clock=clock
    )
    base = sign_client_assertion("sw-budget-buddy-01", bilbo, audience="https://as.bank.example", clock=clock, ids=DemoIds(1))
    yield validator, base, bilbo
    db.close()
    tmp.cleanup()


@fuzz("client_assertion")
@given(data=st.data())
def test_client_assertion_validator_rejects_fuzz_with_joselab_errors_only(assertion_world, data):
    from joselab_testkit import forge_jws

    validator, base, key = assertion_world
    source = data.draw(st.sampled_from(["text", "structured", "mutated", "resigned"]))
    client_id = data.draw(st.one_of(st.none(), st.sampled_from(["sw-budget-buddy-01", "x"]), st.text(max_size=8)))
    if source == "text":
        token = data.draw(anything_st)
    elif source == "structured":
        token = data.draw(st.one_of(jws_st, jwe_st))
    elif source == "mutated":
        token = mutated(data, base)
        if token == base:
            return
    else:
        parsed = parse_jws(base)
        header = {**parsed.header, **data.draw(header_st.filter(lambda h: "alg" not in h))}
        claims = {**parsed.claims(), **data.draw(claims_st)}
        token = only_joselab(lambda: forge_jws(header, json.dumps(claims).encode(), key.jwk, "PS256"))
        if token is None:
            return
    try:
        trace = validator.validate(token, client_id=client_id)
    except JoselabError:
        return
    rejected(trace) if source != "resigned" else _claims_fuzz_outcome(trace)


# -- the cnf claim (RFC 7800 §3.1, RFC 8705 §3.1, RFC 9449 §6.1) -------------------------------------
THUMBPRINT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
thumbprint_st = st.one_of(st.none(), st.just(THUMBPRINT), st.text(alphabet=ALPHABET + "=", max_size=50), any_text_st, json_value)
cnf_st = st.one_of(
    json_value,
    st.dictionaries(
        st.sampled_from(["x5t#S256", "jkt", "jwk", "kid", "jku", "x5t#s256"]) | st.text(max_size=6), thumbprint_st, max_size=4
    ),
)
presented_st = st.one_of(
    st.none(),
    st.builds(
        Presented,
        scheme=st.sampled_from(["Bearer", "DPoP", "dpop", "", "Basic"]) | any_text_st | json_value,
        certificate_thumbprint=thumbprint_st,
        dpop_jkt=thumbprint_st,
    ),
)


@fuzz("cnf")
@given(cnf_st, presented_st, st.booleans())
def test_check_confirmation_raises_only_joselab_errors(cnf, presented, with_cnf):
    # Any cnf value, any way of presenting it: a row passes or fails, nothing else escapes; and a
    # token with cnf is never accepted from a connection that shows no key at all.
    trace = Trace("fuzz")
    claims = {"cnf": cnf} if with_cnf else {}
    with trace.run():
        check_confirmation(trace, claims, presented)
    if trace.error is not None:
        assert isinstance(trace.error, ValidationError) and trace.error.section != "joselab", str(trace)
    elif with_cnf:
        assert presented is not None and (presented.certificate_thumbprint is not None or presented.is_dpop), str(trace)


@fuzz("cnf")
@given(
    st.one_of(json_value, st.dictionaries(st.sampled_from(["kty", "crv", "x", "y", "n", "e", "k"]), thumbprint_st, max_size=5))
)
def test_jwk_thumbprint_raises_only_joselab_errors(jwk):
    result = only_joselab(lambda: jwk_thumbprint(jwk))
    assert result is None or (isinstance(result, str) and len(result) == 43)
