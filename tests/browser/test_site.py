"""The built site in a real browser: it loads from its own server alone, without errors, shows its
widgets and diagrams, finds what a reader searches for, and has no broken internal link."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from .conftest import SITE


def site_pages() -> list[str]:
    """Every HTML page of the built site, relative to its root."""
    if not SITE.exists():
        return ["index.html"]
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html") if "_static" not in p.parts)


# The anatomy chapter and the four scenarios each carry labs (issue: widgets in every scenario page).
WIDGET_PAGES = [
    f"notebooks/{name}.html" for name in ("00_anatomy", "01_registration", "02_access_token", "03_id_token", "04_message")
]


def _load(browser, url: str, *, wait_for: str | None = None):
    """Open ``url``; return the page, its console errors and every host it requested."""
    page = browser.new_page()
    errors: list[str] = []
    hosts: set[str] = set()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda resp: errors.append(f"HTTP {resp.status} {resp.url}") if resp.status >= 400 else None)
    page.on("request", lambda req: hosts.add(urlsplit(req.url).netloc or urlsplit(req.url).scheme))
    page.goto(url, wait_until="load")
    if wait_for:
        page.wait_for_selector(wait_for, timeout=15_000)
    return page, errors, hosts


@pytest.mark.parametrize("path", WIDGET_PAGES)
def test_notebook_page_renders_its_widgets(browser, site_url, path):
    source = (SITE / path).read_text("utf-8")
    if "application/vnd.jupyter.widget-state+json" not in source:
        pytest.fail(f"{path} was built without saved widget state")
    page, errors, _ = _load(browser, f"{site_url}/{path}", wait_for=".jupyter-widgets")
    assert page.locator(".jupyter-widgets").count() > 0
    # A rendered lab shows its saved HTML (a trace or a table), not the "loading" placeholder.
    assert page.locator(".jupyter-widgets .jl-trace-table, .jupyter-widgets table").count() > 0
    assert errors == []
    page.close()


def test_intro_diagram_is_drawn_by_the_local_mermaid(browser, site_url):
    page, errors, _ = _load(browser, f"{site_url}/book/intro.html", wait_for="pre.mermaid svg, div.mermaid svg")
    assert page.locator("svg[aria-roledescription='sequence']").count() == 1
    assert errors == []
    page.close()


def test_search_finds_at_jwt(browser, site_url):
    """Sphinx's search splits a query on punctuation and drops stop words, so `at+jwt` alone would
    search for "jwt" on every page. Notebook 02 carries an index entry `at+jwt` where the type is
    introduced; the search page matches index entries against the whole query, and links to it."""
    target = '#search-results a[href^="notebooks/02_access_token.html#index-"]'
    page, errors, _ = _load(browser, f"{site_url}/search.html?q=at%2Bjwt", wait_for=target)
    hrefs = page.locator("#search-results li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs[0].startswith("notebooks/02_access_token.html#index-"), hrefs  # the best match comes first
    assert errors == []
    page.close()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if tag in ("a", "link", "script", "img") and attrs.get(name):
                self.links.append(attrs[name])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text("utf-8"))
    return parser


def test_every_internal_link_resolves():
    broken = []
    ids = {}
    for rel in site_pages():
        parsed = _parse(SITE / rel)
        ids[rel] = parsed.ids
        for link in parsed.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target = urlsplit(urljoin(f"http://site/{rel}", link))
            file = SITE / unquote(target.path.lstrip("/"))
            if file.is_dir():
                file = file / "index.html"
            if not file.exists():
                broken.append(f"{rel} -> {link}")
            elif target.fragment and file.suffix == ".html":
                page_ids = ids.get(file.relative_to(SITE).as_posix()) or _parse(file).ids
                if unquote(target.fragment) not in page_ids:
                    broken.append(f"{rel} -> {link} (no such anchor)")
    assert broken == []


@pytest.mark.parametrize(
    "path", sorted(f"notebooks/{p.stem}.html" for p in (Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
)
def test_notebook_page_offers_its_notebook_for_download(path):
    source = Path(path).with_suffix(".ipynb").name
    links = _parse(SITE / path).links
    assert f"../_sources/notebooks/{source}" in links
    assert (SITE / "_sources" / "notebooks" / source).is_file()


def test_cited_sections_are_links_and_the_references_page_lists_the_table():
    """The site's extension (_ext/joselab_cite.py) links citations in prose, never in code; the
    References page is the whole sections table."""
    from joselab.sections import table

    checklist = (SITE / "book" / "checklist.html").read_text("utf-8")
    for section in ("3.1", "3.4", "3.12"):  # the first column: sections of the RFC the header names
        assert f'href="https://www.rfc-editor.org/rfc/rfc8725#section-{section}"' in checklist, section
    assert 'class="reference external jl-cite"' in checklist or "jl-cite reference external" in checklist
    references = _parse(SITE / "book" / "references.html").links
    urls = {row.url for row in table().values()}
    assert urls <= set(references), sorted(urls - set(references))[:5]
