"""The spec sections the book cites: one table (``joselab/data/sections.json``) and a parser for citations.

Every trace row, error, docstring and page cites sections in the table, each with its published
title and a URL anchored to it, so a rendered trace can link every section to its text (and a test
fails on a citation the table lacks). A citation reads ``RFC 9068 §4 (3)``: the document, the
section (``§4.1.11``, ``Appendix F``; ``section 4`` where only ASCII will do, as in an HTTP header)
and, optionally, a numbered item inside it, which is kept in the text but not in the table.
``RFC 9068 §4, §2.2.3`` cites two sections of one document. ``OIDC Core`` may be written ``Core``
when a section follows (``Core §3.1.3.7``), as the OpenID specs cite each other. The UK Open Banking
pages number no sections: a citation names the heading in parentheses, ``OB DCR v3.2 (Self-signed
SSA)``, or the whole page. A section written alone (``§3.2``) belongs to the document cited last
before it in the same text (:func:`citations` with ``context=True``).

A number joselab chooses is not a citation: it reads ``joselab policy; RFC 7519 §4.1.6 sets no
bound`` (see :data:`POLICY` and :func:`policy`).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: How a row labels a number joselab chose, beside the section that leaves it open:
#: ``f"{POLICY}; RFC 7519 §4.1.6 sets no bound"`` (:func:`policy` writes it).
POLICY = "joselab policy"

#: Documents the book cites, as they are written in citations. The UK Open Banking pages number no
#: sections: a citation may name a heading in parentheses after the page.
_OB = r"OB DCR v3\.2|OB Directory SSA|OB R/W [≤≥]3\.1\.[34] Message Signing"
_DOC = (
    r"RFC 8725bis|RFC \d{4,5}(?!\d)|OIDC (?:Core|Discovery|Registration)|(?:Core|Discovery|Registration)(?= §| Appendix)"
    r"|OpenID Connect (?:Core|Discovery|Dynamic Client Registration) 1\.0|FIPS 186-[45]|SEC 2"
    r"|FAPI 1 Advanced|FAPI 2\.0 (?:Security Profile|Message Signing)"
)
_REF = (
    r"§\s?(?:\d+(?:\.\d+)*|[A-Z](?:\.\d+)*)(?![\w.]\d)|Appendix [A-Z](?:\.\d+)*|App\. [A-Z](?:\.\d+)*"
    r"|section \d+(?:\.\d+)*"
)
CITATION = re.compile(
    rf"(?<![\w/-])(?:(?P<ob>{_OB})(?: \((?P<heading>[A-Z][^()]*)\))?"
    rf"|(?P<doc>{_DOC})(?P<refs>(?:\s*(?:,|and|or)?\s*(?:{_REF})(?:\s\(\d+\))?)*))"
)
_ONE_REF = re.compile(_REF)
_BARE = re.compile(rf"(?<![\w.])(?:{_REF})")
_ALIAS = {
    "Core": "OIDC Core",
    "Discovery": "OIDC Discovery",
    "Registration": "OIDC Registration",
    "OpenID Connect Core 1.0": "OIDC Core",
    "OpenID Connect Discovery 1.0": "OIDC Discovery",
    "OpenID Connect Dynamic Client Registration 1.0": "OIDC Registration",
}
#: Documents a section written alone is never attributed to (they number no sections we cite).
_UNNUMBERED = ("OB ", "RFC 8725bis", "FAPI ")


@dataclass(frozen=True)
class Section:
    """One row of the table: ``spec`` ("RFC 7515"), ``section`` ("§4.1.11", "Appendix F", a heading
    of an Open Banking page, or "" for the whole document), its published ``title`` and the ``url``
    of its text."""

    spec: str
    section: str
    title: str
    url: str

    @property
    def citation(self) -> str:
        if self.spec.startswith("OB ") and self.section:
            return f"{self.spec} ({self.section})"
        return f"{self.spec} {self.section}".strip()


def policy(section: str, what: str = "sets no bound") -> str:
    """How a number joselab chose is labelled: ``joselab policy; RFC 7519 §4.1.6 sets no bound``."""
    return f"{POLICY}; {section} {what}"


def _normalise(ref: str) -> str:
    ref = ref.replace("App. ", "Appendix ")
    ref = re.sub(r"^section ", "§", ref)
    return re.sub(r"^§\s?", "§", ref)


@cache
def table() -> dict[tuple[str, str], Section]:
    """Every section the book cites, by (spec, section)."""
    data = json.loads(resources.files("joselab.data").joinpath("sections.json").read_text("utf-8"))
    return {(row["spec"], row["section"]): Section(**row) for row in data["sections"]}


def _doc(name: str) -> str:
    return _ALIAS.get(name, name)


def citations(text: str, *, context: bool = False) -> list[tuple[str, str]]:
    """The (spec, section) pairs cited in ``text``, in order; ``section`` is "" for a bare document.

    With ``context``, a section written alone (``§3.2``, not after a document) is attributed to the
    document with numbered sections cited last before it in ``text``; one with no document before it
    is returned as ``("?", "§3.2")``.
    """
    spans: list[tuple[int, int]] = []
    items: list[tuple[int, str, str]] = []
    for match in CITATION.finditer(text):
        spans.append(match.span())
        if match["ob"]:
            items.append((match.start(), match["ob"], match["heading"] or ""))
            continue
        doc = _doc(match["doc"])
        refs = [_normalise(r) for r in _ONE_REF.findall(match["refs"])]
        items.extend((match.start(), doc, ref) for ref in refs or [""])
    if context:
        for bare in _BARE.finditer(text):
            if not any(a <= bare.start() < b for a, b in spans):
                items.append((bare.start(), "", _normalise(bare.group())))
    found: list[tuple[str, str]] = []
    last_doc = None
    for _, doc, ref in sorted(items, key=lambda item: item[0]):
        if doc == "":
            found.append((last_doc or "?", ref))
            continue
        if not doc.startswith(_UNNUMBERED):
            last_doc = doc
        found.append((doc, ref))
    return found


_TABLE_HEAD = re.compile(rf"^\|\s*(?P<doc>{_DOC})\s*\|")
_TABLE_ROW = re.compile(rf"^\|\s*(?P<ref>{_REF})\s*\|")


def with_table_context(markdown: str) -> str:
    """``markdown`` with the document written into the first cell of each table row that cites a
    section alone, when the table's header names the document there (``| RFC 8725 | ...`` over
    ``| §3.4 | ...`` reads ``| RFC 8725 §3.4 | ...``), so that :func:`citations` attributes it."""
    out: list[str] = []
    doc = None
    for line in markdown.split("\n"):
        head = _TABLE_HEAD.match(line)
        if head:
            doc = head["doc"]
        elif not line.startswith("|"):
            doc = None
        elif doc and (row := _TABLE_ROW.match(line)):
            line = f"| {doc} {row['ref']} |" + line[row.end() :]
        out.append(line)
    return "\n".join(out)


def lookup(spec: str, section: str = "") -> Section | None:
    """The table's row for one section, or None."""
    return table().get((_doc(spec), _normalise(section)))


def missing(text: str, *, context: bool = False) -> list[str]:
    """The citations in ``text`` that the table lacks."""
    return [
        Section(spec, section, "", "").citation
        for spec, section in citations(text, context=context)
        if lookup(spec, section) is None
    ]


def link_html(text: str) -> str:
    """``text`` as HTML, with every cited section that the table holds made a link to its text."""
    out: list[str] = []
    last = 0
    for match in CITATION.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        last = match.end()
        if match["ob"]:
            row = lookup(match["ob"], match["heading"] or "") or lookup(match["ob"], "")
            out.append(_anchor(row, html.escape(match.group())))
            continue
        doc = _doc(match["doc"])
        refs = list(_ONE_REF.finditer(match["refs"]))
        if not refs:
            out.append(_anchor(lookup(doc, ""), html.escape(match["doc"])))
            out.append(html.escape(text[match.end("doc") : match.end()]))
            continue
        # The first section's link carries the document's name ("RFC 9068 §4"), so the citation
        # reads as one, also to a reader who copies the link text; later ones are the section alone.
        cursor = match.start()
        for i, ref in enumerate(refs):
            start, end = match.start("refs") + ref.start(), match.start("refs") + ref.end()
            if i:
                out.append(html.escape(text[cursor:start]))
            label = text[match.start() : end] if i == 0 else ref.group()
            out.append(_anchor(lookup(doc, ref.group()), html.escape(label)))
            cursor = end
        out.append(html.escape(text[cursor : match.end()]))
    out.append(html.escape(text[last:]))
    return "".join(out)


def _anchor(section: Section | None, label: str) -> str:
    if section is None:
        return label
    title = html.escape(section.citation + ": " + section.title)
    return f'<a class="jl-cite" href="{html.escape(section.url)}" title="{title}">{label}</a>'
