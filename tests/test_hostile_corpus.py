"""The hostile corpus (tests/hostile/corpus.py) against every scenario validator.

The only acceptable outcome for any case at any validator is a joselab rejection: never an acceptance,
never an exception escaping the validator, never the catch-all "validator completed" row that the
trace records when a library raised something joselab did not expect (a crash, masked). Where a case
names its outcome for a validator, the error type must be exactly that one, and the section too
where the case gives it.
"""

from __future__ import annotations

import pytest
from hostile.corpus import CLAIM_VALIDATORS, Case, build_corpus, summary
from hostile.harness import VALIDATORS, Harness, make_harness

from joselab import decode_unverified, parse, parse_jwe, parse_jws
from joselab.errors import JoselabError, ValidationError

MIN_CORPUS = 150


@pytest.fixture(scope="module")
def harness():
    h, tmp = make_harness()
    yield h
    h.close()
    tmp.cleanup()


@pytest.fixture(scope="module")
def corpus(harness: Harness) -> list[Case]:
    return build_corpus(harness)


def outcome(h: Harness, case: Case, validator: str) -> str | None:
    """None if the outcome is acceptable, else what went wrong."""
    try:
        trace = h.run(validator, case.token, case.body)
    except Exception as exc:  # the point of the test: nothing may escape
        return f"raised {type(exc).__name__}: {exc}"
    if trace.ok:
        return "ACCEPTED"
    error = trace.error
    if not isinstance(error, ValidationError) or error.section == "joselab":
        return f"crashed inside the validator: {error}"
    if validator in case.expect:
        want_type, want_section = case.expect[validator]
        if type(error).__name__ != want_type or (want_section is not None and error.section != want_section):
            return f"want {want_type} at {want_section}, got {type(error).__name__} at {error.section}: {error}"
    return None


@pytest.mark.parametrize("category", ["structural", "crypto", "claims", "cross"])
@pytest.mark.parametrize("validator", VALIDATORS)
def test_every_case_is_rejected_as_expected(harness, corpus, validator, category):
    cases = [c for c in corpus if c.category == category]
    assert cases
    failures = []
    for case in cases:
        if case.category == "cross" and case.home == validator:
            continue  # the diagonal: the base token at its own validator (test_bases_are_valid)
        problem = outcome(harness, case, validator)
        if problem is not None:
            failures.append(f"{case.id} ({case.description}): {problem}")
    assert not failures, "\n".join(failures)


def test_corpus_size_and_shape(corpus):
    counts = summary(corpus)
    assert len(corpus) >= MIN_CORPUS, counts
    assert set(counts) == {"structural", "crypto", "claims", "cross"}
    # Every validator is the home of crypto cases, and every claim-bearing one of claims cases.
    homes = {(c.home, c.category) for c in corpus}
    assert all((v, "crypto") in homes and (v, "claims") in homes for v in VALIDATORS)
    assert set(CLAIM_VALIDATORS) < set(VALIDATORS)
    # Structural and cross cases name the outcome at every validator they run against.
    for case in corpus:
        if case.category == "structural":
            assert set(case.expect) == set(VALIDATORS), case.id
        elif case.category == "cross":
            assert set(case.expect) == set(VALIDATORS) - {case.home}, case.id
        else:
            assert set(case.expect) == {case.home}, case.id


def randomized(case: Case) -> bool:
    """ES*, PS* and JWE output differ on every run; everything else here is the same bytes."""
    token = case.token
    if case.category != "structural" and case.home not in ("access_token", "id_token"):
        return True  # signed with ES256 or PS256, or encrypted
    if not isinstance(token, str):
        return False
    if token.count(".") == 4:
        return True
    try:
        alg = decode_unverified(token).header.get("alg")
    except JoselabError:
        return False
    return isinstance(alg, str) and alg[:2] in ("ES", "PS")


def test_corpus_is_deterministic(harness, corpus):
    again = build_corpus(harness)
    assert [c.key() for c in again] == [c.key() for c in corpus]
    fixed = [(a.token, b.token) for a, b in zip(corpus, again, strict=True) if not randomized(a)]
    assert len(fixed) > len(corpus) / 3
    assert all(a == b for a, b in fixed)


def test_bases_are_valid(tmp_path):
    # On a fresh harness (its replay stores empty): each base passes its own validator, so a case
    # rejected in the corpus is rejected for what its mutation changed, not for the base.
    h = Harness(tmp_path)
    try:
        for validator in VALIDATORS:
            base = h.bases[validator]
            trace = h.run(validator, base.token, base.body)
            assert trace.ok, str(trace)
    finally:
        h.close()


def test_a_case_that_would_pass_is_caught(harness):
    # The runner itself can fail: the access token's base, labelled as a case, is reported ACCEPTED.
    base = harness.bases["access_token"]
    case = Case(
        "self-test", "crypto", "the base itself", base.token, "access_token", expect={"access_token": ("MalformedToken", None)}
    )
    assert outcome(harness, case, "access_token") == "ACCEPTED"
    wrong = Case("self-test", "crypto", "", "x.y", "access_token", expect={"access_token": ("InvalidSignature", None)})
    assert (outcome(harness, wrong, "access_token") or "").startswith("want InvalidSignature")


def test_parsers_and_the_registration_server_answer_every_case_with_joselab_errors(tmp_path, corpus):
    """``parse``, ``parse_jws``, ``parse_jwe``, ``decode_unverified`` and the registration server's
    ``register`` on every case: a joselab error (a 400 for the server), never another exception. A
    lone surrogate in an unencoded payload once escaped all of them as UnicodeEncodeError."""
    h = Harness(tmp_path)  # a fresh server, so that nothing here uses up a jti of the shared one
    try:
        for case in corpus:
            for fn in (parse, parse_jws, parse_jwe, decode_unverified):
                try:
                    fn(case.token)
                except JoselabError:
                    pass
            if case.id == "cross/registration_request":
                continue  # the one valid registration request: the server registers it (201)
            if isinstance(case.token, str):
                outcome = h.registration.bank.register(case.token)
                assert outcome.status == 400 and outcome.body["error"], case.id
    finally:
        h.close()
