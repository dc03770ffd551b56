"""Sphinx extension for joselab's site: Mermaid without ES modules, so diagrams draw from file:// too.

sphinxcontrib-mermaid 2.1.1 always loads Mermaid with ``<script type="module">import mermaid from
...``, and a browser refuses module imports from ``file://`` (the page has no origin), so a site
opened from disk drew no diagram. This extension drops that script and loads, on the pages that have
a diagram, Mermaid's classic build (``mermaid.min.js`` from the same pinned npm package) and
``joselab-mermaid.js``, which draws the diagrams at their natural size and redraws them when the
reader switches between light and dark.
"""

from __future__ import annotations

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


def setup(app: Sphinx) -> dict:
    # After sphinxcontrib-mermaid's own html-page-context handler (priority 500), which adds the module.
    app.connect("html-page-context", _classic_mermaid, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
