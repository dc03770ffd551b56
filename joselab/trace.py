"""The validation trace: every check a validator makes, in spec order, with its section and evidence.

A validator records each check with :meth:`Trace.check`. The first failure stops the run (a later
check must not trust what an earlier one refused: RFC 8725 §3.3 "validate all cryptographic
operations" before using the claims), and the trace keeps the error so that strict callers can raise
it. In a notebook a trace renders as a table; as text it prints one line a check, e.g.::

    RFC 9068 §4 (3)  iss equals "https://as.example"  pass  iss = "https://as.example"
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from enum import StrEnum
from json.encoder import encode_basestring as _encode_str

from .errors import JoselabError, ValidationError

# Colours that read on light and dark themes (the site and JupyterLab alike).
_PASS = "rgba(46, 160, 67, 0.15)"
_FAIL = "rgba(248, 81, 73, 0.22)"


def as_evidence(value: object, limit: int = 80) -> str:
    """A JSON value as a row's evidence: compact JSON, cut to ``limit`` characters."""
    kind = type(value)
    if kind is str:
        text = _encode_str(value)  # what json.dumps(value, ensure_ascii=False) writes, without its set-up
    elif kind is int:
        text = int.__repr__(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Evidence is a string, or a function of no arguments that returns it: a row's evidence is formatted
#: only when someone reads it (a failure, a rendered trace), and reads the same either way.
Evidence = str | Callable[[], str]


#: The trace whose :meth:`Trace.run` is in progress, so that a key source called from inside a
#: validator can add the rows of what it did (a fetch, a leniency) to the trace being shown.
_ACTIVE: ContextVar[Trace | None] = ContextVar("joselab_active_trace", default=None)


def active_trace() -> Trace | None:
    """The trace of the validation running in this context, if any."""
    return _ACTIVE.get()


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"


_PASSED = Outcome.PASS


class Check:
    """One row of a trace: its section, the check's name, the outcome and the evidence.

    The evidence may be given as a function of no arguments (see :data:`Evidence`); it is called the
    first time :attr:`evidence` is read, and its text is kept, so a row reads the same however often
    it is shown. Rows are values: compared by their four fields, and not meant to be changed."""

    __slots__ = ("_evidence", "name", "outcome", "section")

    def __init__(self, section: str, name: str, outcome: Outcome, evidence: Evidence = "") -> None:
        self.section = section
        self.name = name
        self.outcome = outcome
        self._evidence = evidence

    @property
    def evidence(self) -> str:
        value = self._evidence
        if value.__class__ is not str:
            value = self._evidence = str(value())
        return value

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASS

    def _fields(self) -> tuple[str, str, Outcome, str]:
        return (self.section, self.name, self.outcome, self.evidence)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Check):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Check(section={self.section!r}, name={self.name!r}, outcome={self.outcome!r}, evidence={self.evidence!r})"

    def __str__(self) -> str:
        mark = "pass" if self.passed else "FAIL"
        text = f"{self.section} {self.name} — {mark}"
        return text + (f" ({self.evidence})" if self.evidence else "")


class _Run:
    """The context of :meth:`Trace.run` (a class rather than a generator: it runs on every validation)."""

    __slots__ = ("_token", "_trace")

    def __init__(self, trace: Trace) -> None:
        self._trace = trace

    def __enter__(self) -> Trace:
        self._token = _ACTIVE.set(self._trace)
        return self._trace

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        _ACTIVE.reset(self._token)
        if kind is None:
            return False
        if isinstance(exc, ValidationError):
            self._trace.note_failure(exc)
            return True
        if isinstance(exc, JoselabError) or not isinstance(exc, Exception):
            return False
        self._trace.note_failure(ValidationError("validator completed", "joselab", f"unexpected {kind.__name__}"))
        return True


class Trace:
    """The checks one validation ran, in order, and how it ended."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.checks: list[Check] = []
        self.error: ValidationError | None = None
        self.result: object = None  # what the validator hands back on success (e.g. the claims)

    # -- recording -------------------------------------------------------------------------------
    def check(
        self,
        section: str,
        name: str,
        passed: bool,
        evidence: Evidence = "",
        error: type[ValidationError] = ValidationError,
    ) -> bool:
        """Record a check. A failed check raises ``error`` (caught by :meth:`run`). ``evidence`` may be
        a function that formats it (:data:`Evidence`): it runs only when the row is read, or now if
        the check failed."""
        if passed:
            self.checks.append(Check(section, name, _PASSED, evidence))
            return True
        row = Check(section, name, Outcome.FAIL, evidence)
        self.checks.append(row)
        raise error(name, section, row.evidence)

    def note_failure(self, exc: ValidationError) -> None:
        """Record an error raised by a helper (a parser, a key lookup) as the failing row."""
        last = self.checks[-1] if self.checks else None
        if last is None or last.passed or (last.section, last.name) != (exc.section, exc.check):
            self.checks.append(Check(exc.section, exc.check, Outcome.FAIL, exc.evidence))
        self.error = exc

    def run(self) -> _Run:
        """Run a validator's body: the first failed check ends it and is kept in :attr:`error`.

        ``with trace.run(): ...``: a :class:`~joselab.errors.ValidationError` becomes the failing row;
        any other joselab error goes on up; any other exception becomes a failing ``validator
        completed`` row (a library surprised us: report, never crash the caller)."""
        return _Run(self)

    def leniency(self, option: str, section: str, what: str, evidence: Evidence = "") -> None:
        """Record that a named option accepted what the strict default refuses: a passing row whose
        name starts with ``leniency <option>:``, so that no leniency is ever silent."""
        self.checks.append(Check(section, f"leniency {option}: {what}", Outcome.PASS, evidence))

    # -- reading ---------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.checks)

    @property
    def failed(self) -> Check | None:
        """The failed check, if any."""
        return next((c for c in self.checks if not c.passed), None)

    def raise_for_failure(self) -> Trace:
        """Strict mode: raise the first failure as joselab's own exception, else return self."""
        if self.error is not None:
            raise self.error
        return self

    def __bool__(self) -> bool:
        return self.ok

    def __len__(self) -> int:
        return len(self.checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def verdict(self) -> str:
        if self.ok:
            return f"ACCEPTED: {len(self.checks)} checks passed"
        failed = self.failed
        where = f"{failed.section} {failed.name}" if failed else "no check ran"
        return f"REJECTED at {where}"

    def __str__(self) -> str:
        width_s = max((len(c.section) for c in self.checks), default=0)
        width_n = max((len(c.name) for c in self.checks), default=0)
        lines = [self.title]
        for c in self.checks:
            mark = "pass" if c.passed else "FAIL"
            lines.append(f"  {c.section:<{width_s}}  {c.name:<{width_n}}  {mark}  {c.evidence}".rstrip())
        lines.append(self.verdict())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Trace {self.title!r}: {self.verdict()}>"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's plain-text repr
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = []
        for c in self.checks:
            cls, colour = ("jl-pass", _PASS) if c.passed else ("jl-fail", _FAIL)
            mark = "✓ pass" if c.passed else "✗ fail"
            rows.append(
                f'<tr class="{cls}" style="background:{colour}"><td>{html.escape(c.section)}</td>'
                f"<td>{html.escape(c.name)}</td><td><strong>{mark}</strong></td>"
                f"<td><code>{html.escape(c.evidence)}</code></td></tr>"
            )
        cls, colour = ("jl-pass", _PASS) if self.ok else ("jl-fail", _FAIL)
        return (
            '<div class="jl-trace"><table class="jl-trace-table" style="border-collapse:collapse;text-align:left">'
            f'<caption style="text-align:left;font-weight:bold">{html.escape(self.title)}</caption>'
            "<thead><tr><th>spec</th><th>check</th><th>outcome</th><th>evidence</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<p class="jl-verdict {cls}" style="background:{colour};padding:2px 6px">'
            f"<strong>{html.escape(self.verdict())}</strong></p></div>"
        )
