"""The validation trace: every check a validator makes, in spec order, with its section and evidence.

A validator records each check with :meth:`Trace.check`. The first failure stops the run (a later
check must not trust what an earlier one refused: RFC 8725 §3.3 "validate all cryptographic
operations" before using the claims), and the trace keeps the error so that strict callers can raise
it.

A trace shows its verdict first: all N checks passed, or the failing row with its section and
evidence. In a notebook (JupyterLab and the book's pages alike) every row is one click away, in an
HTML ``<details>``, and every section links to its text (:func:`joselab.sections.link_html`). As
text it is just as short::

    access token at the API: REJECTED at check 7 of 7
      ✗ RFC 9068 §4 (3)  iss equals "https://as.example"
          evidence: iss = "https://evil.example"
      ✓ 6 checks passed before it: compact form; alg allowed; ...

and :meth:`Trace.table` prints every row, one line a check.
"""

from __future__ import annotations

import html
import json
import textwrap
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from enum import StrEnum
from json.encoder import encode_basestring as _encode_str
from typing import Any

from . import theme
from .errors import JoselabError, ValidationError
from .sections import link_html

# Row tints that read on light and dark themes (the site and JupyterLab alike).
_PASS = theme.PASS_TINT
_FAIL = theme.FAIL_TINT


def as_evidence(value: object, limit: int = 80) -> str:
    """A JSON value as a row's evidence: compact JSON, cut to ``limit`` characters."""
    kind = type(value)
    if kind is str:
        text = _encode_str(value)  # what json.dumps(value, ensure_ascii=False) writes, without its set-up
    elif kind is int:
        text = int.__repr__(value)
    elif value is None:
        text = "null"
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Evidence is a string, or a function of no arguments that returns it: a row's evidence is formatted
#: only when someone reads it (a failure, a rendered trace), and reads the same either way.
Evidence = str | Callable[[], str]


class RowNames(dict):
    """The row names of one template, one per configured value (an issuer, a leeway, a claim's name),
    made the first time each is needed: a validator's names depend on its configuration, not on the
    token, so a validation finds each name with one dictionary look-up (``names[value]``; use
    :meth:`get_name` where the value may be unhashable). At most 256 are kept per template (joselab
    policy: bounded memory whatever a caller configures)."""

    __slots__ = ("as_json", "template")

    def __init__(self, template: str, *, as_json: bool = False) -> None:
        super().__init__()
        self.template = template
        self.as_json = as_json

    def __missing__(self, value: Any) -> str:
        name = self.template.format(as_evidence(value) if self.as_json else value)
        if len(self) < 256 and value.__class__ in (str, int):
            self[value] = name
        return name

    def get_name(self, value: Any) -> str:
        """The name for ``value``, which may be unhashable (a list is formatted each time)."""
        try:
            return self[value]
        except TypeError:
            return self.__missing__(value)


#: The trace whose :meth:`Trace.run` is in progress, so that a key source called from inside a
#: validator can add the rows of what it did (a fetch, a leniency) to the trace being shown.
_ACTIVE: ContextVar[Trace | None] = ContextVar("joselab_active_trace", default=None)


def active_trace() -> Trace | None:
    """The trace of the validation running in this context, if any."""
    return _ACTIVE.get()


def _all(n: int) -> str:
    return "its one check" if n == 1 else f"all {n} checks"


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

    __slots__ = ("__weakref__", "_built", "_rows", "error", "result", "title")

    def __init__(self, title: str) -> None:
        self.title = title
        # A passing row is kept as a tuple (section, name, evidence) until someone reads the rows:
        # a validation that nobody looks at builds no Check objects (they are most of a row's cost).
        self._rows: list[Check | tuple[str, str, Evidence]] = []
        self._built = 0  # rows before this index are Check objects
        self.error: ValidationError | None = None
        self.result: object = None  # what the validator hands back on success (e.g. the claims)

    @property
    def checks(self) -> list[Check]:
        """Every row, in order, as :class:`Check` objects (the same objects each time it is read)."""
        rows = self._rows
        count = len(rows)
        if self._built != count:
            for i in range(self._built, count):
                row = rows[i]
                if row.__class__ is tuple:
                    rows[i] = Check(row[0], row[1], _PASSED, row[2])  # type: ignore[index]
            self._built = count
        return rows  # type: ignore[return-value]

    @checks.setter
    def checks(self, rows: list[Check]) -> None:
        self._rows = rows  # type: ignore[assignment]
        self._built = 0

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
            self._rows.append((section, name, evidence))
            return True
        row = Check(section, name, Outcome.FAIL, evidence)
        self._rows.append(row)
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
        self._rows.append((section, f"leniency {option}: {what}", evidence))

    # -- reading ---------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        return self.error is None and bool(self._rows)

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
        return len(self._rows)

    def __iter__(self) -> Iterator[Check]:
        return iter(self.checks)

    def verdict(self) -> str:
        if self.ok:
            return f"ACCEPTED: {len(self.checks)} checks passed"
        failed = self.failed
        where = f"{failed.section} {failed.name}" if failed else "no check ran"
        return f"REJECTED at {where}"

    def headline(self) -> str:
        """The verdict in a sentence, led by the title: what a reader needs first."""
        head = f"{self.title}: " if self.title else ""
        if self.ok:
            return f"{head}ACCEPTED, {_all(len(self.checks))} passed"
        if not self.checks:
            return f"{head}REJECTED before any check ran"
        index = self.checks.index(self.failed) + 1 if self.failed else len(self.checks)
        return f"{head}REJECTED at check {index} of {len(self.checks)}"

    def table(self) -> str:
        """Every row, one line a check: ``print(trace.table())``."""
        width_s = max((len(c.section) for c in self.checks), default=0)
        width_n = max((len(c.name) for c in self.checks), default=0)
        lines = [self.title] if self.title else []
        for c in self.checks:
            mark = "pass" if c.passed else "FAIL"
            lines.append(f"  {c.section:<{width_s}}  {c.name:<{width_n}}  {mark}  {c.evidence}".rstrip())
        lines.append(self.verdict())
        return "\n".join(lines)

    def __str__(self) -> str:
        """The headline, the failing row with its evidence, and the passed checks in one wrapped line."""
        lines = [self.headline()]
        failed = self.failed
        passed = [c for c in self.checks if c.passed]
        if failed is not None:
            lines.append(f"  ✗ {failed.section}  {failed.name}")
            if failed.evidence:
                lines.append(f"      evidence: {failed.evidence}")
        if passed:
            label = "passed before it" if failed is not None else "passed"
            text = f"✓ {len(passed)} {'check' if len(passed) == 1 else 'checks'} {label}: " + "; ".join(c.name for c in passed)
            lines.extend(textwrap.wrap(text, width=100, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False))
        if len(self.checks) > 1 or (passed and failed is None):
            lines.append("  (print(trace.table()) lists every row with its section and evidence)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Trace {self.title!r}: {self.verdict()}>"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's plain-text repr
        printer.text(str(self))

    def _row_html(self, c: Check) -> str:
        cls, tint = ("jl-pass", _PASS) if c.passed else ("jl-fail", _FAIL)
        mark = "✓ pass" if c.passed else "✗ fail"
        return (
            f'<tr class="{cls}" style="background:{tint}"><td>{link_html(c.section)}</td>'
            f"<td>{html.escape(c.name)}</td><td><strong>{mark}</strong></td>"
            f"<td><code>{html.escape(c.evidence)}</code></td></tr>"
        )

    def _repr_html_(self) -> str:
        """Verdict first; the failing row in full; every row one click away in a ``<details>``."""
        failed = self.failed
        cls, tint = ("jl-pass", _PASS) if self.ok else ("jl-fail", _FAIL)
        sign = "✓" if self.ok else "✗"
        title = f"{link_html(self.title)}: " if self.title else ""
        if self.ok:
            verdict = f"ACCEPTED</strong>, {_all(len(self.checks))} passed"
        elif failed is None:
            verdict = "REJECTED</strong> before any check ran"
        else:
            verdict = f"REJECTED</strong> at check {self.checks.index(failed) + 1} of {len(self.checks)}"
        head = (
            f'<div class="jl-verdict {cls}" style="background:{tint};padding:4px 8px;border-left:4px solid '
            f'{"#2ea043" if self.ok else "#f85149"}">{sign} {title}<strong>{verdict}'
        )
        if failed is not None:
            evidence = (
                f'<br>evidence: <code style="color:inherit;background:none;white-space:pre-wrap;overflow-wrap:anywhere">'
                f"{html.escape(failed.evidence)}</code>"
                if failed.evidence
                else ""
            )
            head += f'<div class="jl-failed" style="margin-top:2px">{link_html(failed.section)} {html.escape(failed.name)}{evidence}</div>'
        head += "</div>"
        rows = "".join(self._row_html(c) for c in self.checks)
        n = len(self.checks)
        summary = f"every check ({n})" if n != 1 else "the check"
        table = (
            f'<details class="jl-rows" style="margin-top:2px"><summary style="cursor:pointer">{summary}</summary>'
            '<table class="jl-trace-table" style="border-collapse:collapse;text-align:left;color:inherit">'
            "<thead><tr><th>spec</th><th>check</th><th>outcome</th><th>evidence</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></details>"
            if self.checks
            else ""
        )
        return f'<div class="jl-trace">{theme.STYLE}{head}{table}</div>'
