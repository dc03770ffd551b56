"""Reading the site as a reader does: every page, in every layout, measured by ``probe.js``.

Each page is loaded once per transport and read in several layouts without reloading: over HTTP in
four: light at 1280 and 390 px, dark at 390 px (the system's colour scheme, which the pydata theme
follows) and dark at 1280 px chosen on the page itself (``html[data-theme=dark]`` under a light
system, as the theme button does); from
``file://`` in two (:data:`FILE_LAYOUTS`: both schemes, both widths), since the layout is the same
and what ``file://`` changes is whether scripts load at all.
One browser, one context per transport, one ``page.evaluate`` per layout: the whole site reads in
well under a minute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROBE = (Path(__file__).with_name("probe.js")).read_text("utf-8")

#: (name, width, colour scheme, theme chosen on the page or None)
LAYOUTS = (
    ("1280-light", 1280, "light", None),
    ("390-light", 390, "light", None),
    ("390-dark", 390, "dark", None),
    ("1280-chosen-dark", 1280, "light", "dark"),
)

#: From file://: light at 1280 px, dark at 390 px.
FILE_LAYOUTS = (LAYOUTS[0], LAYOUTS[2])

# Ready when every Mermaid block holds its SVG drawn in the page's theme, and every saved widget
# has rendered.
_READY = """(theme) => {
  const m = document.querySelectorAll('pre.mermaid, div.mermaid');
  const drawn = [...m].every((b) => b.querySelector('svg'));
  const dark = document.documentElement.dataset.theme === 'dark';
  const themed = m.length === 0 || document.documentElement.dataset.jlMermaid === (dark ? 'dark' : 'light');
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const shown = document.querySelectorAll('.jupyter-widgets.widget-box, .jupyter-widgets.widget-html, .jupyter-widgets.widget-inline-hbox').length;
  return drawn && themed && (views === 0 || shown > 0) && document.readyState === 'complete';
}"""


# Each page starts as a first-time reader sees it: no theme chosen on an earlier page.
_FORGET_CHOICE = "try { localStorage.removeItem('mode'); localStorage.removeItem('theme'); } catch (e) {}"


def settle(page, timeout: float = 10_000) -> bool:
    """Wait until the page's diagrams (in its current theme) and widgets are drawn; False if never."""
    try:
        page.wait_for_function(_READY, timeout=timeout)
    except Exception:  # a timeout: the probe then reports what is missing
        return False
    page.wait_for_timeout(100)  # the layout after the last render
    return True


@dataclass
class PageReading:
    """What one page showed: a probe result per layout, its console errors and the hosts it asked."""

    url: str
    layouts: dict[str, dict] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)


def read_page(page, url: str, *, layouts=LAYOUTS, shots: Path | None = None) -> PageReading:
    reading = PageReading(url)
    page.on("console", lambda msg: reading.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: reading.errors.append(str(exc)))
    page.on("requestfailed", lambda req: reading.errors.append(f"failed {req.url}"))
    page.on("response", lambda resp: reading.errors.append(f"HTTP {resp.status} {resp.url}") if resp.status >= 400 else None)
    page.on("request", lambda req: reading.hosts.add(urlsplit(req.url).netloc or urlsplit(req.url).scheme))
    first = layouts[0]
    page.set_viewport_size({"width": first[1], "height": 900})
    page.emulate_media(color_scheme=first[2])
    page.goto(url, wait_until="load")
    for name, width, scheme, chosen in layouts:
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        if chosen:  # the reader picks the theme with the theme button: it outranks the system's
            page.wait_for_function("(s) => document.documentElement.dataset.theme === s", arg=scheme)
            for _ in range(3):
                if page.evaluate("() => document.documentElement.dataset.mode") == chosen:
                    break
                page.locator(".theme-switch-button").first.click()
        drawn = settle(page)
        # Read as a reader who opens everything: every trace's rows, every hidden cell, every exercise.
        page.evaluate("() => document.querySelectorAll('details:not([open])').forEach((d) => { d.open = true; })")
        result = page.evaluate(PROBE)
        result["settled"] = drawn
        reading.layouts[name] = result
        if shots is not None:
            out = shots / f"{urlsplit(url).path.strip('/').replace('/', '_')[:-5]}-{name}.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
    return reading


def read_site(browser, base: str, pages: list[str], *, layouts=LAYOUTS, shots: Path | None = None) -> dict[str, PageReading]:
    """Every page under ``base`` (an http:// or file:// URL of the site's root), one context."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(_FORGET_CHOICE)
    readings = {}
    try:
        for rel in pages:
            page = context.new_page()
            readings[rel] = read_page(page, f"{base}/{rel}", layouts=layouts, shots=shots)
            page.close()
    finally:
        context.close()
    return readings
