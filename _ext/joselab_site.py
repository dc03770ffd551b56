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
WORKBENCH_SCRIPTS = ("vendor/jose/jose.js", "vendor/joselab-workbench.js", "vendor/joselab-workbench-ui.js")


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


def _workbench_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    # Sphinx copies static and extra files only when some page is rebuilt ("no targets are out of
    # date" copies nothing): a changed workbench script or style makes its page out of date.
    built = Path(app.outdir) / f"{WORKBENCH}.html"
    if not built.exists():
        return []
    stamp = built.stat().st_mtime
    newer = [f for f in WORKBENCH_FILES if (Path(app.srcdir) / f).exists() and (Path(app.srcdir) / f).stat().st_mtime > stamp]
    return [WORKBENCH] if newer else []


def setup(app: Sphinx) -> dict:
    # After sphinxcontrib-mermaid's own html-page-context handler (priority 500), which adds the module.
    app.connect("html-page-context", _classic_mermaid, priority=900)
    app.connect("html-page-context", _workbench, priority=901)
    app.connect("env-get-outdated", _workbench_outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
