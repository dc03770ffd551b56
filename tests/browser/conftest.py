"""Browser tests of the built site (`_build/html`), with Playwright driving Debian's chromium.

They run after the book is built (`make test`'s last stage). Playwright is pointed at the system's
chromium through ``executable_path``; it never downloads a browser of its own. Where no chromium is
installed the tests skip with a message saying so; CI installs it (.ci/run).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

# JOSELAB_SITE points the tests at another build (e.g. an older one, to see them fail on it).
SITE = Path(os.environ.get("JOSELAB_SITE") or Path(__file__).resolve().parents[2] / "_build" / "html").resolve()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The probe's flags: no background traffic from the browser itself, so every request seen is the page's.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright hides scrollbars by default; a reader's browser draws them, and the reading tests look
# for the scrollbar of a box that scrolls.
HIDDEN_SCROLLBARS = ["--hide-scrollbars"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if CHROMIUM is None:
        reason = "no chromium installed: `apt-get install chromium` (CI always has it)"
    elif not (SITE / "index.html").exists():
        reason = "the site is not built: run `make book` first"
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript"}

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site_url() -> Iterator[str]:
    """The built site served on 127.0.0.1 with an ephemeral port."""
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, ignore_default_args=HIDDEN_SCROLLBARS
        )
        yield chromium
        chromium.close()


_REJECTED = re.compile(r"REJECTED\s+at check \d+ of \d+\s+(?:✗\s*)?(?P<row>.+?)\s+evidence:", re.S)
_OTHER = re.compile(r"ACCEPTED\s*,\s+(?:all \d+ checks|its one check) passed|REJECTED\s+before any check ran")


def last_verdict(text: str) -> str | None:
    """The last trace verdict in a lab's visible text, as a reader reads it: "REJECTED at <section>
    <check>" (the failing row the trace shows under its verdict) or "ACCEPTED, ... passed"."""
    found = [
        (m.start(), "REJECTED at " + re.sub(r" ([,;])", r"\1", " ".join(m["row"].split()))) for m in _REJECTED.finditer(text)
    ]
    found += [(m.start(), re.sub(r"\s*,", ",", " ".join(m.group().split()))) for m in _OTHER.finditer(text)]
    return max(found)[1] if found else None


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """The number of cases the workbench's parity test compared, per profile (issue 16)."""
    from .test_workbench import COUNTS

    if COUNTS:
        terminalreporter.section("token workbench parity")
        for profile, counts in COUNTS.items():
            terminalreporter.write_line(
                f"{profile}: {counts['compared']} cases compared ({counts['corpus']} hostile corpus, "
                f"{counts['base']} corpus bases, {counts['assertion']} client assertions, {counts['dpop proof']} DPoP proofs, {counts['bound access token']} cnf-bound access tokens, {counts['vector']} RFC vectors; Python {counts['accept']} accept, "
                f"{counts['reject']} reject): "
                + (f"{counts['differ']} differ" if counts["differ"] else "verdict, failing section and every row agree")
            )
