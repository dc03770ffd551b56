"""The notebooks in JupyterLab, as `make lab` serves them: MyST renders (no raw labels, diagrams
drawn, admonitions, solutions folded away), a notebook runs from the top, and each of its labs
answers live from the kernel.

JupyterLab runs from the worktree's .venv on 127.0.0.1 with an ephemeral port, a random token and
throwaway settings, and is shut down at the end. The browser may reach nothing but that server."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import last_verdict

ROOT = Path(__file__).resolve().parents[2]
JUPYTER = ROOT / ".venv" / "bin" / "jupyter"
NOTEBOOK = "notebooks/02_access_token.ipynb"  # the one chapter with all four labs


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("jupyterlab")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "PYTHONHASHSEED": "0",
    }
    # Render every cell (JupyterLab 4 renders only the cells near the viewport by default), so the
    # test finds a cell by its text wherever the chapter puts it.
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    token = secrets.token_hex(16)
    command = [
        str(JUPYTER),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run cells by command
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (home / "server.log").open("w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        info = None
        while info is None:
            assert server.poll() is None, (home / "server.log").read_text()
            assert time.monotonic() < deadline, "JupyterLab did not start: " + (home / "server.log").read_text()
            for path in (home / "runtime").glob("jpserver-*.json"):
                info = json.loads(path.read_text() or "null")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{info['port']}/lab/tree/{NOTEBOOK}?token={token}"
    finally:
        server.terminate()  # JupyterLab shuts its kernels down (and they clean up, see running.md)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _verdict(lab) -> str:
    text = lab.locator(".jl-out").inner_text()
    return last_verdict(text) or text[:300]


def _until(page, predicate, what: str, timeout: float = 60, lab=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}" + (f": shows {_verdict(lab)!r}" if lab else "")
        page.wait_for_timeout(200)


def test_a_notebook_in_jupyterlab_renders_myst_runs_and_its_labs_answer(browser, lab_url):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    own = urlsplit(lab_url).netloc
    elsewhere: list[str] = []

    def only_our_server(route):
        host = urlsplit(route.request.url).netloc
        if host in (own, "") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_our_server)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(lab_url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")

    # MyST, as a reader sees it before running anything.
    first = notebook.locator(".jp-MarkdownCell").first
    # A label is not shown as text, once MyST has rendered the cell.
    _until(page, lambda: "2. The JWT access token" in first.inner_text() and "(scenario-02)=" not in first.inner_text(), "MyST")
    _until(page, lambda: notebook.locator(".jp-MarkdownCell svg[aria-roledescription='sequence']").count() > 0, "the diagram")
    assert "```{mermaid}" not in notebook.inner_text() and "sequenceDiagram" not in notebook.inner_text()
    exercise = notebook.locator(".jp-MarkdownCell", has_text="Exercise").first
    exercise.scroll_into_view_if_needed()
    _until(page, lambda: ":::" not in exercise.inner_text() and exercise.locator("details").count() > 0, "the exercise to render")
    solution = exercise.locator("details").first
    assert solution.count() == 1 and solution.get_attribute("open") is None  # the solution is folded away
    assert not solution.locator("pre, code").first.is_visible()
    page.screenshot(path=str(ROOT / "_build" / "jupyterlab-myst.png"))

    # Run it from the top, as the first cell says; wait for the last cell and an idle kernel.
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    status = "window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status"
    last_count = ".jp-Notebook .jp-CodeCell:last-of-type .jp-InputPrompt"
    _until(page, lambda: page.locator(last_count).last.inner_text().strip() not in ("[ ]:", "[*]:", ""), "the last cell", 240)
    _until(page, lambda: page.evaluate(status) == "idle", "an idle kernel", 60)
    assert notebook.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    labs = notebook.locator(".jl-lab")
    assert labs.count() == 4

    inspector = notebook.locator(".jl-lab-inspector")
    inspector.scroll_into_view_if_needed()
    _until(page, lambda: "Live" in inspector.locator(".jl-note").inner_text(), "the live note", 20)
    assert not inspector.locator("textarea").is_disabled()
    _until(page, lambda: _verdict(inspector).startswith("ACCEPTED"), "the inspector's first answer", 20)
    inspector.locator(".jl-c-validator select").select_option(index=1)  # GET /transactions needs another scope
    _until(
        page, lambda: _verdict(inspector).startswith("REJECTED at RFC 9068 §4, §2.2.3"), "the inspector's answer", lab=inspector
    )
    inspector.locator("textarea").fill("not a token")
    _until(page, lambda: "Not a JOSE object" in inspector.locator(".jl-out").inner_text(), "the inspector on garbage")

    tamper = notebook.locator(".jl-lab-tamper")
    tamper.scroll_into_view_if_needed()
    tamper.locator(".jl-c-target select").select_option(label="claims.aud")
    # The kernel sends the member's own values; the notebook's value comes first.
    _until(
        page,
        lambda: (
            tamper.locator(".jl-c-value select").input_value() != ""
            and "payments" in tamper.locator(".jl-c-value select option").first.inner_text()
        ),
        "the values of aud",
    )
    _until(page, lambda: _verdict(tamper).startswith("REJECTED at RFC 9068 §4 (5)"), "an outsider's change", lab=tamper)
    resign = tamper.locator(".jl-c-resign")
    label = resign.locator("label, .widget-label-basic").first
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the re-sign label is cut off"
    resign.locator("input").check()
    _until(page, lambda: _verdict(tamper).startswith("REJECTED at RFC 9068 §4 (4)"), "an insider's change", lab=tamper)
    tamper.locator(".jl-c-value select").select_option(label="another value: type JSON in the box")
    tamper.locator(".jl-c-custom input").fill('"https://api.bank.example"')
    tamper.locator(".jl-c-custom input").press("Enter")
    _until(page, lambda: _verdict(tamper).startswith("ACCEPTED"), "a typed value (the original audience, re-signed)", lab=tamper)
    page.screenshot(path=str(ROOT / "_build" / "jupyterlab-tamper.png"))

    clock = notebook.locator(".jl-lab-clock")
    clock.scroll_into_view_if_needed()
    clock.locator(".widget-readout").click()
    page.keyboard.press("Control+A")
    page.keyboard.type("360")
    page.keyboard.press("Enter")
    _until(page, lambda: _verdict(clock).startswith("REJECTED at RFC 9068 §4 (6)"), "the clock at exp + leeway", lab=clock)

    chooser = notebook.locator(".jl-lab-algorithms")
    chooser.scroll_into_view_if_needed()
    chooser.locator(".jl-c-algorithm button", has_text="ES256").click()
    _until(page, lambda: "ES256 with" in chooser.locator(".jl-out").inner_text(), "the chooser's answer")

    assert elsewhere == [] and errors == []
    page.close()
