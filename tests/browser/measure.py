"""Measure a built site as a reader sees it, page by page (the numbers in issue 13's closing note).

    .venv/bin/python -m tests.browser.measure [SITE_DIR] [--shots DIR] [--json FILE]

For every page, over HTTP, at 1280 and 390 px, light and dark, it runs ``probe.js`` (the same probe the
browser tests use) and prints the smallest diagram label, the clipped blocks and the low-contrast table
cells; ``--shots`` also saves a full-page screenshot of each variant, to look at.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import threading
from pathlib import Path

from .conftest import CHROMIUM, CHROMIUM_ARGS, HIDDEN_SCROLLBARS, SITE
from .reading import PROBE, settle


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("site", nargs="?", default=str(SITE))
    ap.add_argument("--shots")
    ap.add_argument("--json")
    ap.add_argument("--pages", nargs="*")
    ap.add_argument("--file", action="store_true", help="open the pages from file:// instead of HTTP")
    args = ap.parse_args()
    site = Path(args.site).resolve()
    pages = args.pages or sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if "_static" not in p.parts and p.name not in ("genindex.html", "search.html")
    )
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = site.as_uri() if args.file else f"http://127.0.0.1:{server.server_address[1]}"
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, ignore_default_args=HIDDEN_SCROLLBARS
        )
        for scheme in ("light", "dark"):
            for width in (1280, 390):
                ctx = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
                page = ctx.new_page()
                for rel in pages:
                    page.goto(f"{base}/{rel}", wait_until="load")
                    settle(page)
                    r = page.evaluate(PROBE)
                    results[f"{rel} {width} {scheme}"] = r
                    if args.shots:
                        out = Path(args.shots) / f"{rel.replace('/', '_')[:-5]}-{width}-{scheme}.png"
                        out.parent.mkdir(parents=True, exist_ok=True)
                        page.screenshot(path=str(out), full_page=True)
                    d = r["diagrams"]
                    print(
                        f"{rel:32} {width:4} {scheme:5} diagrams {d['drawn']}/{d['count']} min label {d['minLabel']!s:>5} px"
                        f" | clipped {r['clipped']:3} overflow {r['pageOverflow']:4}"
                        f" | low-contrast cells {r['lowContrastCells']:3}/{r['cells']:<3} other text {r['lowContrastText']:3}"
                        f" min {r['minRatio']}",
                        flush=True,
                    )
                ctx.close()
        browser.close()
    server.shutdown()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
