"""Sphinx extension: every cited spec section on the site is a link to its text.

* In the text of the pages and of the notebooks' markdown, each citation the sections table holds
  (``RFC 9068 §4 (3)``, ``OIDC Core §3.1.3.7``, ``OB DCR v3.2 (Self-signed SSA)``) becomes a link to
  the section, titled with its published title. A section written alone (``§3.12``) links to the
  document cited last before it on the page, or to the one a table's header names for its first
  column (the checklist). Code (inline literals, code cells, outputs) is left as it is: a rendered
  trace links its own sections (:func:`joselab.sections.link_html`).
* ``{joselab-references}`` writes the References page: the whole table, generated from
  ``joselab/data/sections.json`` at build time, never copied by hand.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from joselab import sections

#: Nodes whose text is not prose: code, raw HTML, existing links, titles and math.
_SKIP = (nodes.literal, nodes.literal_block, nodes.raw, nodes.reference, nodes.title, nodes.math, nodes.math_block,
         nodes.comment, nodes.target, nodes.FixedTextElement)  # fmt: skip
_HEAD_DOC = re.compile(rf"^\s*(?:{sections._DOC})\s*$")


def _inside(node: nodes.Node, kinds: tuple[type, ...]) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, kinds) or parent.__class__.__name__ == "pending_xref":
            return True
        parent = parent.parent
    return False


def _link(row: sections.Section, label: str) -> nodes.reference:
    return nodes.reference(label, label, refuri=row.url, reftitle=f"{row.citation}: {row.title}", classes=["jl-cite"])


def _table_doc(text: nodes.Text) -> str | None:
    """The document a table's header names over the first column, for a text in that column."""
    entry = text.parent
    while entry is not None and not isinstance(entry, nodes.entry):
        entry = entry.parent
    if entry is None or entry.parent.index(entry) != 0 or isinstance(entry.parent.parent, nodes.thead):
        return None
    group = entry.parent.parent.parent  # entry -> row -> tbody -> tgroup
    for head in group.findall(nodes.thead):
        first = next(head.findall(nodes.entry), None)
        if first is not None and _HEAD_DOC.match(first.astext()):
            return sections._doc(first.astext().strip())
    return None


def _pieces(text: str, last_doc: str | None) -> tuple[list[nodes.Node], str | None]:
    """``text`` as Text and reference nodes, and the document cited last in it."""
    found: list[tuple[int, int, sections.Section | None]] = []
    spans: list[tuple[int, int]] = []
    docs: list[tuple[int, str]] = []
    for match in sections.CITATION.finditer(text):
        spans.append(match.span())
        if match["ob"]:
            row = sections.lookup(match["ob"], match["heading"] or "") or sections.lookup(match["ob"], "")
            found.append((match.start(), match.end(), row))
            continue
        doc = sections._doc(match["doc"])
        docs.append((match.start(), doc))
        refs = list(sections._ONE_REF.finditer(match["refs"]))
        if not refs:
            found.append((match.start("doc"), match.end("doc"), sections.lookup(doc, "")))
        base = match.start("refs")
        for ref in refs:
            found.append((base + ref.start(), base + ref.end(), sections.lookup(doc, ref.group())))
    for bare in sections._BARE.finditer(text):
        if any(a <= bare.start() < b for a, b in spans):
            continue
        before = [doc for at, doc in docs if at < bare.start() and not doc.startswith(sections._UNNUMBERED)]
        doc = before[-1] if before else last_doc
        if doc:
            found.append((bare.start(), bare.end(), sections.lookup(doc, bare.group())))
    numbered = [doc for _, doc in docs if not doc.startswith(sections._UNNUMBERED)]
    out: list[nodes.Node] = []
    cursor = 0
    for start, end, row in sorted(found, key=lambda item: item[0]):
        if row is None or start < cursor:
            continue
        if start > cursor:
            out.append(nodes.Text(text[cursor:start]))
        out.append(_link(row, text[start:end]))
        cursor = end
    if cursor < len(text):
        out.append(nodes.Text(text[cursor:]))
    return out, (numbered[-1] if numbered else last_doc)


def link_citations(app: Sphinx, doctree: nodes.document) -> None:
    last_doc: str | None = None
    for text in list(doctree.findall(nodes.Text)):
        if _inside(text, _SKIP):
            continue
        context = _table_doc(text) or last_doc
        pieces, last_doc = _pieces(str(text), context)
        if len(pieces) == 1 and isinstance(pieces[0], nodes.Text):
            continue
        text.parent.replace(text, pieces)


def _sort_key(spec: str) -> tuple[int, int, str]:
    if spec.startswith("RFC ") and spec[4:8].isdigit():
        return (0, int(spec[4:8]), spec)
    return (1 if spec.startswith(("OIDC", "FAPI")) else 2, 0, spec)


class ReferencesDirective(SphinxDirective):
    """The sections table as a table: document, section, published title, each linked to its text."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        rows = sorted(sections.table().values(), key=lambda r: (_sort_key(r.spec), r.section != "", _section_key(r.section)))
        table = nodes.table(classes=["jl-references"])
        group = nodes.tgroup(cols=2)
        table += group
        group += [nodes.colspec(colwidth=30), nodes.colspec(colwidth=70)]
        head = nodes.thead()
        head += self._row([nodes.Text("cited as")], [nodes.Text("published title")])
        group += head
        body = nodes.tbody()
        for row in rows:
            label = row.citation
            title: list[nodes.Node] = [nodes.strong(row.title, row.title)] if not row.section else [nodes.Text(row.title)]
            body += self._row([_link(row, label)], title)
        group += body
        return [table]

    @staticmethod
    def _row(first: list[nodes.Node], second: list[nodes.Node]) -> nodes.row:
        row = nodes.row()
        for content in (first, second):
            entry = nodes.entry()
            paragraph = nodes.paragraph()
            paragraph += content
            entry += paragraph
            row += entry
        return row


def _section_key(section: str) -> tuple:
    numbers = re.findall(r"\d+|[A-Z]", section)
    return tuple((0, int(n)) if n.isdigit() else (1, n) for n in numbers) or ((2, section),)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", link_citations)
    app.add_directive("joselab-references", ReferencesDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
