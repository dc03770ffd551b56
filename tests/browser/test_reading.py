"""What a reader of the site notices, on every page, over HTTP and from ``file://`` (the README's
first suggestion), light and dark, at 1280 px and on a 390 px phone (issue 13).

- every diagram is drawn, and its smallest label is at least 11 px on screen;
- no code, output, token, trace, table or widget is wider than its box unless that box scrolls with
  a drawn scrollbar, and the page itself never scrolls sideways;
- text in tokens, traces, widgets and every table cell is at least 4.5:1 against what is behind it
  (WCAG 2.x AA);
- no console error, no failed request, and no request to any other host.

The pages are read once per transport (tests/browser/reading.py: five layouts over HTTP, two from
file://); each test checks one page in one layout, so a failure names both.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .conftest import SITE
from .reading import FILE_LAYOUTS, LAYOUTS, read_site

MIN_LABEL_PX = 11
MIN_CONTRAST = 4.5
TRANSPORTS = ("http", "file")


def reading_pages() -> list[str]:
    if not SITE.exists():
        return ["index.html"]
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html") if "_static" not in p.parts)


PAGES = reading_pages()


@pytest.fixture(scope="session")
def readings(browser, site_url):
    """Every page read in every layout, once per transport."""
    bases = {"http": site_url, "file": SITE.as_uri()}
    layouts = {"http": LAYOUTS, "file": FILE_LAYOUTS}
    return {t: read_site(browser, bases[t], PAGES, layouts=layouts[t]) for t in TRANSPORTS}


def _layout(readings, transport, path, layout):
    return readings[transport][path].layouts[layout]


CASES = [(t, p, name) for t in TRANSPORTS for p in PAGES for name, *_ in (LAYOUTS if t == "http" else FILE_LAYOUTS)]
IDS = [f"{t}:{p}:{name}" for t, p, name in CASES]


@pytest.mark.parametrize(("transport", "path", "layout"), CASES, ids=IDS)
def test_page_reads_well(readings, transport, path, layout):
    r = _layout(readings, transport, path, layout)
    expected_theme = "dark" if layout.endswith("dark") else "light"
    problems = []
    if r["theme"] != expected_theme:
        problems.append(f"page theme is {r['theme']!r}, not {expected_theme}")
    d = r["diagrams"]
    if d["drawn"] != d["count"]:
        problems.append(f"{d['count'] - d['drawn']} of {d['count']} diagrams not drawn")
    if d["count"] and (d["minLabel"] is None or d["minLabel"] < MIN_LABEL_PX):
        problems.append(f"smallest diagram label {d['minLabel']} px ({d['smallest']!r}), under {MIN_LABEL_PX} px")
    if r["clipped"]:
        problems.append(f"{r['clipped']} blocks clipped: {r['clippedBlocks']}")
    if r["pageOverflow"] > 1:
        problems.append(f"the page scrolls sideways by {r['pageOverflow']} px")
    if r["offRight"]:
        problems.append(f"{r['offRight']} elements cut off at the right edge: {r['offRightSamples']}")
    if r["lowContrastCells"]:
        problems.append(
            f"{r['lowContrastCells']} of {r['cells']} table cells under {MIN_CONTRAST}:1: {r['lowContrastCellSamples']}"
        )
    if r["lowContrastText"]:
        problems.append(f"{r['lowContrastText']} token/trace/widget texts under {MIN_CONTRAST}:1: {r['lowContrastTextSamples']}")
    assert problems == [], f"{transport}:{path} at {layout}: " + "; ".join(problems)


@pytest.mark.parametrize(
    ("transport", "path"), [(t, p) for t in TRANSPORTS for p in PAGES], ids=[f"{t}:{p}" for t in TRANSPORTS for p in PAGES]
)
def test_page_loads_alone_and_without_errors(readings, site_url, transport, path):
    reading = readings[transport][path]
    own = {urlsplit(site_url).netloc} if transport == "http" else {"file"}
    assert reading.hosts <= own | {"data", "blob"}, (
        f"{path} requested other hosts: {sorted(reading.hosts - own - {'data', 'blob'})}"
    )
    assert reading.errors == [], f"{transport}:{path} logged errors: {reading.errors}"


def test_every_page_links_to_the_repository():
    for path in PAGES:
        source = (SITE / path).read_text("utf-8")
        if 'http-equiv="Refresh"' in source:  # the root's redirect to the first page
            continue
        assert 'href="https://github.com/joselab/joselab"' in source, path
