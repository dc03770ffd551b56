"""Every citation in the book is in the sections table (joselab/data/sections.json), and every row of
the table is cited; plus the parser and the linker of :mod:`joselab.sections`.

The scan covers the package (code, docstrings, trace rows and errors, the data files), the notebooks
(markdown, code and committed outputs) and the book's pages. A section written alone (``§3.2``) is
read as a section of the document cited last before it on the same page (or in the same file, cell
output or docstring), as a reader would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from joselab import sections
from joselab.sections import POLICY, Section, citations, link_html, lookup, missing, policy, table, with_table_context

ROOT = Path(__file__).resolve().parent.parent


def _texts() -> list[tuple[str, str]]:
    """(where, text) for everything the book shows or the package says."""
    found: list[tuple[str, str]] = []
    for path in sorted((ROOT / "joselab").rglob("*")):
        if path.suffix in (".py", ".json") and path.name not in ("sections.py", "sections.json"):
            found.append((str(path.relative_to(ROOT)), path.read_text("utf-8")))
    for path in sorted((ROOT / "book").glob("*.md")):
        found.append((str(path.relative_to(ROOT)), with_table_context(path.read_text("utf-8"))))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text("utf-8"))
        name = str(path.relative_to(ROOT))
        # The cells read as one page: a section alone belongs to the document the page cited last.
        found.append((name, with_table_context("\n\n".join("".join(cell["source"]) for cell in notebook["cells"]))))
        for i, cell in enumerate(notebook["cells"]):
            for output in cell.get("outputs", []):
                for text in _output_texts(output):
                    found.append((f"{name} cell {i} output", text))
    return found


def _output_texts(output: dict) -> list[str]:
    texts = []
    if "text" in output:
        texts.append("".join(output["text"]))
    for mime, value in output.get("data", {}).items():
        if mime.startswith("text/") or mime.endswith("json"):
            texts.append(value if isinstance(value, str) else "".join(value) if isinstance(value, list) else json.dumps(value))
    return texts


TEXTS = _texts()


def test_the_scan_sees_the_book():
    names = {where.split(" cell ")[0] for where, _ in TEXTS}
    assert {"book/checklist.md", "notebooks/02_access_token.ipynb", "joselab/jws.py", "joselab/data/demo_keys.json"} <= names
    assert any(" output" in where for where, _ in TEXTS)
    assert sum(len(citations(text)) for _, text in TEXTS) > 1000


def test_every_citation_is_in_the_table():
    lacking = sorted({f"{where}: {cited}" for where, text in TEXTS for cited in missing(text, context=True)})
    assert not lacking, "cited but not in joselab/data/sections.json:\n" + "\n".join(lacking)


def test_every_section_in_the_table_is_cited():
    cited = {(spec, section) for _, text in TEXTS for spec, section in citations(text, context=True)}
    documents = {spec for spec, _ in cited}
    unused = sorted(
        f"{spec} {section}".strip()
        for spec, section in table()
        if (spec, section) not in cited and not (section == "" and spec in documents)
    )
    assert not unused, "in joselab/data/sections.json but cited nowhere:\n" + "\n".join(unused)


def test_table_rows_are_complete_and_anchored():
    for (spec, section), row in table().items():
        assert row.title and row.title == row.title.strip(), row
        assert row.url.startswith("https://"), row
        if spec.startswith("RFC ") and spec != "RFC 8725bis":
            number = spec.removeprefix("RFC ")
            anchor = {"": "", "§": f"#section-{section[1:]}"}.get(section[:1], f"#appendix-{section.removeprefix('Appendix ')}")
            assert row.url == f"https://www.rfc-editor.org/rfc/rfc{number}{anchor}", row
        if spec.startswith("OIDC ") and section:
            assert re.fullmatch(r"https://openid\.net/specs/openid-connect-[a-z]+-1_0\.html#[A-Za-z][A-Za-z0-9_.-]*", row.url), (
                row
            )
        if spec.startswith("OB ") and section:
            assert "#" in row.url, row
    anchored = [row.url for row in table().values() if "#" in row.url]
    assert len(anchored) == len(set(anchored)), "two rows link to the same anchor"


def test_the_json_is_sorted_by_nothing_but_has_no_duplicates():
    raw = json.loads((ROOT / "joselab/data/sections.json").read_text("utf-8"))["sections"]
    keys = [(row["spec"], row["section"]) for row in raw]
    assert len(keys) == len(set(keys))
    assert all(set(row) == {"spec", "section", "title", "url"} for row in raw)


# -- the parser -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RFC 9068 §4 (3)", [("RFC 9068", "§4")]),
        ("RFC 9068 §4, §2.2.3", [("RFC 9068", "§4"), ("RFC 9068", "§2.2.3")]),
        ("RFC 7515 Appendix F and RFC 7515 App. A.2", [("RFC 7515", "Appendix F"), ("RFC 7515", "Appendix A.2")]),
        ("OIDC Core §3.1.3.7 (11)", [("OIDC Core", "§3.1.3.7")]),
        ("Core §3.2.2.9 and Discovery §4.3", [("OIDC Core", "§3.2.2.9"), ("OIDC Discovery", "§4.3")]),
        ("OpenID Connect Core 1.0 §2", [("OIDC Core", "§2")]),
        ('error_description="RFC 9068 section 4 (6): now"', [("RFC 9068", "§4")]),
        ("RFC 8725, then RFC 8725bis", [("RFC 8725", ""), ("RFC 8725bis", "")]),
        ("OB DCR v3.2 (Self-signed SSA); OB Directory SSA", [("OB DCR v3.2", "Self-signed SSA"), ("OB Directory SSA", "")]),
        ("OB R/W ≥3.1.4 Message Signing (iat)", [("OB R/W ≥3.1.4 Message Signing", "")]),
        ("RFC 7520 (PS256)", [("RFC 7520", "")]),
        ("CVE-2015-9235 and rfc7515-a2-rsa", []),
        ("FIPS 186-5 §6.4.2; SEC 2 §2.4.2", [("FIPS 186-5", "§6.4.2"), ("SEC 2", "§2.4.2")]),
    ],
)
def test_citations(text, expected):
    assert citations(text) == expected


def test_a_section_alone_belongs_to_the_document_cited_before_it():
    text = "RFC 8725 §3.1 says so. Later, §3.12 too; RFC 8725bis adds more (§3.6). OB DCR v3.2 then §2.6."
    assert citations(text, context=True) == [
        ("RFC 8725", "§3.1"), ("RFC 8725", "§3.12"), ("RFC 8725bis", ""), ("RFC 8725", "§3.6"),
        ("OB DCR v3.2", ""), ("RFC 8725", "§2.6"),
    ]  # fmt: skip
    assert citations("§3.2 first", context=True) == [("?", "§3.2")]
    assert citations("§3.2 first") == []


def test_a_table_header_names_the_document_of_its_rows():
    page = "| RFC 8725 | practice |\n| --- | --- |\n| §3.4 | inputs, see OIDC Core §2 |\n\n| §3.5 | not a table row of it |"
    assert citations(with_table_context(page), context=True) == [
        ("RFC 8725", ""), ("RFC 8725", "§3.4"), ("OIDC Core", "§2"), ("OIDC Core", "§3.5"),
    ]  # fmt: skip


def test_lookup_and_missing():
    assert lookup("RFC 7515", "§4.1.11") == Section(
        "RFC 7515", "§4.1.11", '"crit" (Critical) Header Parameter', "https://www.rfc-editor.org/rfc/rfc7515#section-4.1.11"
    )
    assert lookup("RFC 7515", "§ 4.1.11") == lookup("RFC 7515", "section 4.1.11") == lookup("RFC 7515", "§4.1.11")
    assert lookup("Core", "§3.1.3.7") is lookup("OIDC Core", "§3.1.3.7") is not None
    assert lookup("RFC 7515", "§99") is None
    assert missing("RFC 7515 §4.1.11, §99 and RFC 1234") == ["RFC 7515 §99", "RFC 1234"]
    assert missing("OB DCR v3.2 (No Such Heading)") == ["OB DCR v3.2 (No Such Heading)"]
    assert missing("nothing cited here") == []


def test_policy_wording():
    assert POLICY == "joselab policy"
    assert policy("RFC 7519 §4.1.6") == "joselab policy; RFC 7519 §4.1.6 sets no bound"
    assert citations(policy("RFC 7519 §4.1.6")) == [("RFC 7519", "§4.1.6")]


# -- the linker -------------------------------------------------------------------------------------


def test_link_html_links_each_section_and_escapes_the_rest():
    html = link_html('RFC 9068 §4 (3), §2.2.3: iss <"x"> & RFC 7515')
    assert html == (
        '<a class="jl-cite" href="https://www.rfc-editor.org/rfc/rfc9068#section-4" '
        'title="RFC 9068 §4: Validating JWT Access Tokens">RFC 9068 §4</a> (3), '
        '<a class="jl-cite" href="https://www.rfc-editor.org/rfc/rfc9068#section-2.2.3" '
        'title="RFC 9068 §2.2.3: Authorization Claims">§2.2.3</a>: iss &lt;&quot;x&quot;&gt; &amp; '
        '<a class="jl-cite" href="https://www.rfc-editor.org/rfc/rfc7515" title="RFC 7515: JSON Web Signature (JWS)">RFC 7515</a>'
    )


def test_link_html_leaves_unknown_sections_as_text():
    assert link_html("RFC 7515 §99 <b>") == "RFC 7515 §99 &lt;b&gt;"
    assert link_html("no citation") == "no citation"


def test_link_html_links_an_open_banking_heading_and_a_policy_row():
    html = link_html("OB DCR v3.2 (Self-signed SSA)")
    assert (
        html.startswith('<a class="jl-cite" href="https://openbankinguk.github.io/dcr-docs-pub/v3.2/')
        and "#self-signed-ssa" in html
    )
    assert html.endswith(">OB DCR v3.2 (Self-signed SSA)</a>")
    row = link_html(policy("RFC 7519 §4.1.6"))
    assert row.startswith("joselab policy; <a ") and row.endswith(">RFC 7519 §4.1.6</a> sets no bound")


def test_the_table_is_read_once():
    assert sections.table() is sections.table()


# -- the site's extension (_ext/joselab_cite.py) ------------------------------------------------------


def _extension():
    import importlib.util

    spec = importlib.util.spec_from_file_location("joselab_cite", ROOT / "_ext" / "joselab_cite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _links(source: str) -> list[tuple[str, str]]:
    from docutils.core import publish_doctree

    doctree = publish_doctree(source, settings_overrides={"report_level": 5})
    _extension().link_citations(None, doctree)
    return [(ref.astext(), ref["refuri"]) for ref in doctree.findall(lambda n: n.tagname == "reference")]


def test_the_site_links_prose_citations_but_not_code():
    links = _links("RFC 8725 §3.1 first, then §3.12 alone. ``RFC 7515 §4.1.11`` is code. OB DCR v3.2 (Self-signed SSA).")
    assert links == [
        ("§3.1", "https://www.rfc-editor.org/rfc/rfc8725#section-3.1"),
        ("§3.12", "https://www.rfc-editor.org/rfc/rfc8725#section-3.12"),
        ("OB DCR v3.2 (Self-signed SSA)", "https://openbankinguk.github.io/dcr-docs-pub/v3.2/dynamic-client-registration.html#self-signed-ssa"),
    ]  # fmt: skip
    assert _links("§3.2 with no document before it, RFC 7515 §99 unknown.") == []


def test_the_site_reads_a_table_header_as_the_first_column_s_document():
    table = "+----------+------------------+\n| RFC 8725 | what             |\n+==========+==================+\n"
    table += "| §3.4     | see OIDC Core §2 |\n+----------+------------------+\n| §3.5     | keys             |\n+----------+------------------+\n"
    assert [url.rsplit("#", 1)[-1] for _, url in _links(table)][1:] == ["section-3.4", "IDToken", "section-3.5"]
