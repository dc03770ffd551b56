"""Evidence formatted when it is read (joselab.trace.Evidence): a row reads the same as one given the
text, the formatting runs at most once, and a failing check carries the text in its error."""

from __future__ import annotations

import pytest

from joselab.errors import InvalidIssuer
from joselab.trace import Check, Outcome, Trace, as_evidence


def test_lazy_evidence_reads_like_text_and_is_formatted_once():
    calls = []

    def evidence() -> str:
        calls.append(1)
        return 'iss = "x"'

    trace = Trace("t")
    with trace.run():
        trace.check("S", "iss equals", True, evidence)
    assert calls == []  # nothing formatted while validating
    row = trace.checks[0]
    assert row.evidence == 'iss = "x"' and row == Check("S", "iss equals", Outcome.PASS, 'iss = "x"')
    assert str(trace) == str(_eager()) and trace._repr_html_() == _eager()._repr_html_()
    assert calls == [1]


def _eager() -> Trace:
    trace = Trace("t")
    with trace.run():
        trace.check("S", "iss equals", True, 'iss = "x"')
    return trace


def test_a_failing_check_formats_its_evidence_into_the_error():
    trace = Trace("t")
    with trace.run():
        trace.check("S", "iss equals", False, lambda: 'iss = "y"', InvalidIssuer)
    assert isinstance(trace.error, InvalidIssuer) and trace.error.evidence == 'iss = "y"'
    assert trace.failed.evidence == 'iss = "y"'


def test_rows_are_values():
    assert Check("S", "n", Outcome.PASS, lambda: "e") == Check("S", "n", Outcome.PASS, "e")
    assert hash(Check("S", "n", Outcome.PASS, lambda: "e")) == hash(Check("S", "n", Outcome.PASS, "e"))
    assert Check("S", "n", Outcome.PASS, "e") != Check("S", "n", Outcome.FAIL, "e")


@pytest.mark.parametrize("value", ['a\u00e9"\\\n', 12, -3, 2**70, True, None, 1.5, ["a", 1], {"k": "v"}, "x" * 200])
def test_as_evidence_is_compact_json(value):
    import json

    text = json.dumps(value, ensure_ascii=False)
    assert as_evidence(value) == (text if len(text) <= 80 else text[:77] + "...")


def test_the_run_context_keeps_its_rules():
    trace = Trace("t")
    with trace.run():
        raise KeyError("surprise")
    assert trace.failed.name == "validator completed" and trace.failed.evidence == "unexpected KeyError"
    with pytest.raises(KeyboardInterrupt), Trace("t").run():
        raise KeyboardInterrupt
