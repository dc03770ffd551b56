"""joselab.trace and joselab.errors: the validation trace and the one-exception-per-check errors."""

from __future__ import annotations

import pytest

from joselab import errors
from joselab.errors import (
    InvalidIssuer,
    JoselabError,
    KeySetError,
    MalformedToken,
    TokenTooLarge,
    UnexpectedTokenKind,
    ValidationError,
)
from joselab.trace import Check, Outcome, Trace


def test_validation_error_names_check_section_and_evidence():
    exc = InvalidIssuer("iss equals x", "RFC 9068 §4 (3)", 'iss = "y"')
    assert (exc.check, exc.section, exc.evidence) == ("iss equals x", "RFC 9068 §4 (3)", 'iss = "y"')
    assert str(exc) == 'RFC 9068 §4 (3): iss equals x (iss = "y")'
    assert str(ValidationError("c", "s")) == "s: c"


def test_error_hierarchy():
    assert issubclass(TokenTooLarge, MalformedToken) and issubclass(UnexpectedTokenKind, MalformedToken)
    assert issubclass(KeySetError, JoselabError) and not issubclass(KeySetError, ValidationError)
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == errors.__name__:
            assert issubclass(obj, JoselabError), name


def test_check_row():
    row = Check("RFC 1 §2", "a thing", Outcome.PASS, "seen")
    assert row.passed and str(row) == "RFC 1 §2 a thing — pass (seen)"
    assert str(Check("S", "n", Outcome.FAIL)) == "S n — FAIL"


def test_passing_trace():
    trace = Trace("title")
    with trace.run():
        assert trace.check("S1", "first", True, "e1")
        trace.check("S2", "second", True)
        trace.result = {"ok": 1}
    assert trace.ok and bool(trace) and trace.error is None and trace.failed is None
    assert len(trace) == 2 and [c.name for c in trace] == ["first", "second"]
    assert trace.raise_for_failure() is trace
    assert trace.verdict() == "ACCEPTED: 2 checks passed"
    assert "S1  first   pass  e1" in trace.table()
    assert str(trace).splitlines()[0] == "title: ACCEPTED, all 2 checks passed"
    assert repr(trace) == "<Trace 'title': ACCEPTED: 2 checks passed>"


def test_first_failure_ends_the_run():
    trace = Trace("t")
    with trace.run():
        trace.check("S1", "first", True)
        trace.check("S2", "second", False, "bad", InvalidIssuer)
        trace.check("S3", "never reached", True)
    assert not trace.ok and len(trace) == 2
    assert isinstance(trace.error, InvalidIssuer) and trace.failed.name == "second"
    assert trace.verdict() == "REJECTED at S2 second"
    with pytest.raises(InvalidIssuer):
        trace.raise_for_failure()


def test_check_raises_outside_run():
    with pytest.raises(ValidationError):
        Trace("t").check("S", "n", False)


def test_note_failure_adds_a_row_once():
    trace = Trace("t")
    with trace.run():
        raise MalformedToken("parsed", "RFC 7515 §7.1", "2 parts")
    assert [(c.section, c.name, c.outcome) for c in trace] == [("RFC 7515 §7.1", "parsed", Outcome.FAIL)]
    # a check that already recorded its own failing row is not duplicated
    trace = Trace("t")
    with trace.run():
        trace.check("S", "n", False, "e")
    assert len(trace) == 1


def test_empty_trace_is_not_ok():
    trace = Trace("t")
    assert not trace.ok
    assert trace.verdict() == "REJECTED at no check ran"


def test_unexpected_library_exception_becomes_a_failed_row():
    trace = Trace("t")
    with trace.run():
        raise KeyError("n")
    assert not trace.ok and trace.failed.evidence == "unexpected KeyError"
    with pytest.raises(ValidationError):
        trace.raise_for_failure()


def test_non_validation_joselab_error_propagates():
    with pytest.raises(KeySetError):
        with Trace("t").run():
            raise KeySetError("bad set")


def _failing_trace(passed: int = 5) -> Trace:
    trace = Trace("access token")
    with trace.run():
        for i in range(passed):
            trace.check("RFC 7515 §5.2", f"check {i}", True, f"evidence {i}")
        trace.check("RFC 9068 §4 (3)", "iss equals", False, 'iss = "https://evil.example"', InvalidIssuer)
    return trace


def test_text_leads_with_the_verdict_and_the_failing_row():
    lines = str(_failing_trace()).splitlines()
    assert lines[0] == "access token: REJECTED at check 6 of 6"
    assert lines[1] == "  ✗ RFC 9068 §4 (3)  iss equals"
    assert lines[2] == '      evidence: iss = "https://evil.example"'
    # the passed rows are condensed to their names, not one line each
    assert "5 checks passed before it: check 0; check 1; check 2; check 3; check 4" in str(_failing_trace())
    assert "evidence 0" not in str(_failing_trace())
    assert len(str(_failing_trace(30)).splitlines()) < 12


def test_table_lists_every_row():
    table = _failing_trace(3).table()
    assert table.count("\n") == 5  # title, 4 rows, verdict
    assert "RFC 9068 §4 (3)  iss equals  FAIL  iss" in table and "evidence 2" in table


def test_html_shows_the_verdict_first_and_every_row_behind_details():
    page = _failing_trace()._repr_html_()
    verdict, _, rest = page.partition("<details")
    assert "REJECTED" in verdict and "check 6 of 6" in verdict and "iss equals" in verdict
    assert "evidence 0" not in verdict  # passed rows wait behind the click
    assert rest.count("<tr") == 1 + 6 and "evidence 0" in rest
    assert "REJECTED</strong> before any check ran" in Trace("t")._repr_html_()


def test_html_links_each_section_to_its_text():
    page = _failing_trace()._repr_html_()
    # RFC 9068 §4 is in the sections table: the failing row and its table row both link to it
    assert page.count('href="https://www.rfc-editor.org/rfc/rfc9068#section-4"') == 2


def test_html_reads_on_dark_pages():
    page = _failing_trace()._repr_html_()
    # the text takes the page's colour; a dark page (site, JupyterLab) gets no fixed light-theme text
    assert "<style>" in page and "color:inherit" in page
    assert "color:#" not in page.split("<details")[1]


def test_html_escapes_and_colours():
    trace = Trace("<title>")
    with trace.run():
        trace.check("S", "<b>", True, "a & b")
        trace.check("S", "n", False, "x")
    html = trace._repr_html_()
    assert "&lt;title&gt;" in html and "&lt;b&gt;" in html and "a &amp; b" in html
    assert "jl-pass" in html and "jl-fail" in html and "REJECTED" in html


def test_pretty_repr_is_the_text():
    class Printer:
        text_out = ""

        def text(self, value):
            self.text_out += value

    trace = Trace("t")
    with trace.run():
        trace.check("S", "n", True)
    printer = Printer()
    trace._repr_pretty_(printer, False)
    assert printer.text_out == str(trace)
