"""Measure a built site as a reader sees it, page by page (the numbers in issue 13's closing note).

    .venv/bin/python -m tests.browser.measure [SITE_DIR] [--file] [--shots DIR] [--json FILE]

For every page, over HTTP (or from ``file://`` with ``--file``), in every layout of
``reading.LAYOUTS``, it prints what ``probe.js`` found: the smallest diagram label, the clipped blocks
and the low-contrast table cells and text; ``--shots`` also saves a full-page screenshot of each.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import threading
from pathlib import Path

from .conftest import CHROMIUM, CHROMIUM_ARGS, HIDDEN_SCROLLBARS, SITE
from .reading import read_site


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
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = site.as_uri() if args.file else f"http://127.0.0.1:{server.server_address[1]}"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, ignore_default_args=HIDDEN_SCROLLBARS
        )
        readings = read_site(browser, base, pages, shots=Path(args.shots) if args.shots else None)
        browser.close()
    server.shutdown()
    out = {}
    for rel, reading in readings.items():
        for name, r in reading.layouts.items():
            d = r["diagrams"]
            print(
                f"{rel:32} {name:16} diagrams {d['drawn']}/{d['count']} min label {d['minLabel']!s:>5} px"
                f" | clipped {r['clipped']:3} overflow {r['pageOverflow']:4}"
                f" | low-contrast cells {r['lowContrastCells']:3}/{r['cells']:<4} other text {r['lowContrastText']:3}"
                f" min {r['minRatio']}"
            )
            out[f"{rel} {name}"] = r
        if reading.errors:
            print(f"{rel:32} console errors: {reading.errors[:3]}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
