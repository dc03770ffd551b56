"""The reading probe (probe.js) and how long to wait before running it."""

from __future__ import annotations

from pathlib import Path

PROBE = (Path(__file__).with_name("probe.js")).read_text("utf-8")

# Ready when every Mermaid block holds its SVG and every saved widget has rendered (or 8 s passed:
# the probe then reports what is missing).
_READY = """() => {
  const m = [...document.querySelectorAll('pre.mermaid, div.mermaid')];
  const drawn = m.every((b) => b.querySelector('svg'));
  const w = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const shown = document.querySelectorAll('.jupyter-widgets.widget-container, .jupyter-widgets.widget-inline-hbox, .jupyter-widgets.widget-inline-vbox, .jupyter-widgets.widget-html, .jupyter-widgets.widget-output, .jupyter-widgets.widget-box').length;
  return drawn && (w === 0 || shown > 0) && document.readyState === 'complete';
}"""


def settle(page, timeout: float = 8_000) -> bool:
    """Wait until the page's diagrams and widgets are drawn; False if they never were."""
    try:
        page.wait_for_function(_READY, timeout=timeout)
    except Exception:  # a timeout: the probe reports what is missing
        return False
    page.wait_for_timeout(150)  # layout after the last render
    return True
