"""The spec sections the book cites: one table (``joselab/data/sections.json``) and a parser for citations.

Every trace row, error, docstring and page cites sections in the table, each with its published
title and a URL anchored to it, so a rendered trace can link every section to its text (and a test
fails on a citation the table lacks). A citation reads ``RFC 9068 §4 (3)``: the document, the
section (``§4.1.11``, ``Appendix F``) and, optionally, a numbered item inside it, which is kept in the
text but not in the table. ``RFC 9068 §4, §2.2.3`` cites two sections of one document.

A number joselab chooses is not a citation: it reads ``joselab policy; RFC 7519 §4.1.6 sets no
bound`` (see :data:`POLICY`).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: How a row labels a number joselab chose, beside the section that leaves it open.
POLICY = "joselab policy"

#: Documents the book cites, as they are written in citations.
_DOC = r"RFC \d{4}|OIDC (?:Core|Discovery|Registration)|FAPI 1 Advanced|FAPI 2\.0 (?:Security Profile|Message Signing)|OB (?:DCR|Message Signing)"
_REF = r"§\s?(?:\d+(?:\.\d+)*|[A-Z](?:\.\d+)*)|Appendix [A-Z](?:\.\d+)*|App\. [A-Z](?:\.\d+)*"
CITATION = re.compile(rf"(?P<doc>{_DOC})(?P<refs>(?:\s*(?:,|and)?\s*(?:{_REF})(?:\s\(\d+\))?)*)")
_ONE_REF = re.compile(_REF)


@dataclass(frozen=True)
class Section:
    """One row of the table: ``spec`` ("RFC 7515"), ``section`` ("§4.1.11", "Appendix F" or "" for the
    whole document), its published ``title`` and the ``url`` of its text."""

    spec: str
    section: str
    title: str
    url: str

    @property
    def citation(self) -> str:
        return f"{self.spec} {self.section}".strip()


def _normalise(ref: str) -> str:
    ref = ref.replace("App. ", "Appendix ")
    return re.sub(r"^§\s?", "§", ref)


@cache
def table() -> dict[tuple[str, str], Section]:
    """Every section the book cites, by (spec, section)."""
    data = json.loads(resources.files("joselab.data").joinpath("sections.json").read_text("utf-8"))
    return {(row["spec"], row["section"]): Section(**row) for row in data["sections"]}


def citations(text: str) -> list[tuple[str, str]]:
    """The (spec, section) pairs cited in ``text``, in order; ``section`` is "" for a bare document."""
    found: list[tuple[str, str]] = []
    for match in CITATION.finditer(text):
        refs = [_normalise(r) for r in _ONE_REF.findall(match["refs"])]
        found.extend((match["doc"], ref) for ref in refs or [""])
    return found


def lookup(spec: str, section: str = "") -> Section | None:
    """The table's row for one section, or None."""
    return table().get((spec, _normalise(section)))


def missing(text: str) -> list[str]:
    """The citations in ``text`` that the table lacks."""
    return [f"{spec} {section}".strip() for spec, section in citations(text) if lookup(spec, section) is None]


def link_html(text: str) -> str:
    """``text`` as HTML, with every cited section that the table holds made a link to its text."""
    out: list[str] = []
    last = 0
    for match in CITATION.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        doc = match["doc"]
        whole = lookup(doc, "")
        pieces: list[str] = []
        cursor = match.start("refs")
        refs = list(_ONE_REF.finditer(match["refs"]))
        head = html.escape(doc)
        if not refs:
            pieces.append(_anchor(whole, head))
        else:
            pieces.append(head)
        for ref in refs:
            start, end = match.start("refs") + ref.start(), match.start("refs") + ref.end()
            pieces.append(html.escape(text[cursor:start]))
            pieces.append(_anchor(lookup(doc, ref.group()), html.escape(ref.group())))
            cursor = end
        pieces.append(html.escape(text[cursor : match.end()]))
        out.append("".join(pieces))
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def _anchor(section: Section | None, label: str) -> str:
    if section is None:
        return label
    return f'<a class="jl-cite" href="{html.escape(section.url)}" title="{html.escape(section.citation + ": " + section.title)}">{label}</a>'
