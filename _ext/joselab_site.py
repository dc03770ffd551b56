"""Sphinx extension for joselab's site: Mermaid without ES modules, so diagrams draw from file:// too.

sphinxcontrib-mermaid 2.1.1 always loads Mermaid with ``<script type="module">import mermaid from
...``, and a browser refuses module imports from ``file://`` (the page has no origin), so a site
opened from disk drew no diagram. This extension drops that script and loads, on the pages that have
a diagram, Mermaid's classic build (``mermaid.min.js`` from the same pinned npm package) and
``joselab-mermaid.js``, which draws the diagrams at their natural size and redraws them when the
reader switches between light and dark.

It also wires the token workbench (``workbench.md``): that page alone loads jose's classic bundle and
joselab's workbench scripts (copied into ``_static/vendor`` by the Makefile), and every chapter
(every notebook page) gets one line under its title that links to it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinxcontrib.mermaid import mermaid


def _classic_mermaid(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if scripts is None:
        return
    scripts[:] = [s for s in scripts if "import mermaid from" not in str(getattr(s, "attributes", {}).get("body", ""))]
    if doctree is not None and doctree.next_node(mermaid) is not None:
        app.add_js_file("vendor/mermaid/mermaid.min.js", priority=500)
        app.add_js_file("vendor/joselab-mermaid.js", priority=501)


WORKBENCH = "workbench"
#: Loaded by the workbench page only, in this order: jose (window.jose), the profiles, the page.
WORKBENCH_SCRIPTS = (
    "vendor/jose/jose.js",
    "vendor/joselab-sections.js",
    "vendor/joselab-workbench.js",
    "vendor/joselab-workbench-ui.js",
)
#: Made at each build from joselab/data/sections.json and joselab.sections' citation pattern, so the
#: workbench links each row's section to its text exactly as joselab.sections.link_html does.
SECTIONS_SCRIPT = "_static/vendor/joselab-sections.js"


def _workbench(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if pagename == WORKBENCH:
        for i, script in enumerate(WORKBENCH_SCRIPTS):
            app.add_js_file(script, priority=600 + i)
        return
    body = context.get("body")
    if not pagename.startswith("notebooks/") or not isinstance(body, str) or "</h1>" not in body:
        return
    href = app.builder.get_relative_uri(pagename, WORKBENCH)
    note = (
        '<p class="jl-workbench-link">Have a token of your own? Paste it into the '
        f'<a href="{href}">token workbench</a>: this book\'s checks, row for row, in your browser, offline.</p>'
    )
    context["body"] = body.replace("</h1>", "</h1>" + note, 1)


#: The workbench's own files (sources of what WORKBENCH_SCRIPTS loads, and its CSS), relative to the
#: source directory.
WORKBENCH_FILES = (
    "_vendor/_static/vendor/joselab-workbench.js",
    "_vendor/_static/vendor/joselab-workbench-ui.js",
    "_vendor/_static/vendor/jose/jose.js",
    "_static/joselab-workbench.css",
)


def _copy_workbench_files(app: Sphinx, exception: Exception | None) -> None:
    # Sphinx copies static and extra files only when some page is rebuilt ("no targets are out of
    # date" copies nothing), and an incremental rebuild drops the search index's index entries of
    # the pages it did not rebuild: a changed workbench script or style is copied here instead.
    if exception is not None or app.builder.format != "html":
        return
    for name in WORKBENCH_FILES:
        source = Path(app.srcdir) / name
        target = Path(app.outdir) / name.removeprefix("_vendor/")
        if source.exists() and (not target.exists() or target.read_bytes() != source.read_bytes()):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def _js_pattern(pattern: str) -> str:
    # Python's named groups in JavaScript's spelling; the rest of the pattern reads the same.
    return pattern.replace("(?P<", "(?<")


def _write_sections(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import json

    from joselab import sections

    data = {
        "citation": _js_pattern(sections.CITATION.pattern),
        "ref": _js_pattern(sections._ONE_REF.pattern),
        "alias": sections._ALIAS,
        "table": {f"{s.spec}\u0000{s.section}": [s.url, s.citation + ": " + s.title] for s in sections.table().values()},
    }
    target = Path(app.outdir) / SECTIONS_SCRIPT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "/* Made by _ext/joselab_site.py from joselab/data/sections.json: the sections the book cites. */\n"
        f"window.JoselabSections = {json.dumps(data, ensure_ascii=False, sort_keys=True)};\n",
        "utf-8",
    )


def setup(app: Sphinx) -> dict:
    # After sphinxcontrib-mermaid's own html-page-context handler (priority 500), which adds the module.
    app.connect("html-page-context", _classic_mermaid, priority=900)
    app.connect("html-page-context", _workbench, priority=901)
    app.connect("build-finished", _copy_workbench_files)
    app.connect("build-finished", _write_sections)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
