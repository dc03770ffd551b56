"""Site builds and `make test`, timed in the throwaway copy of the tree (see :mod:`tree`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import nbformat
from tree import BIN, VENV, copy_env

BUILD = [str(BIN / "jupyter-book"), "build", ".", "--warningiserror", "--keep-going", "--builder", "html"]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXECUTING = re.compile(r"(\S+\.ipynb): Executing notebook")
_STAGE = re.compile(r"^stage (\S+): (\d+)s$", re.M)
_TOTAL = re.compile(r"^make test: (\d+)s$", re.M)


def _run(cmd: list[str], cwd: Path, timeout: int, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env or copy_env(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout
        )
        out, rc = proc.stdout.decode("utf-8", "replace"), proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, rc = (exc.stdout or b"").decode("utf-8", "replace") + f"\n[bench] timed out after {timeout}s", -1
    return time.perf_counter() - start, rc, _ANSI.sub("", out)


def build(copy: Path, timeout: int = 600) -> dict:
    """One `jupyter-book build` as the Makefile runs it; which notebooks it executed (jupyter-cache
    misses), from its log."""
    seconds, rc, log = _run(BUILD, copy, timeout)
    executed = sorted({Path(m).name for m in _EXECUTING.findall(log)})
    result = {"seconds": seconds, "returncode": rc, "executed": executed}
    if rc != 0:
        result["log_tail"] = log[-3000:]
    return result


def change_one_cell(path: Path) -> str:
    """Edit one code cell of ``path`` (a comment line at the end of its last code cell): its source
    hash changes, so jupyter-cache must execute this notebook again, and only this one."""
    nb = nbformat.read(path, as_version=4)
    cell = [c for c in nb.cells if c.cell_type == "code"][-1]
    cell.source = cell.source.rstrip("\n") + "\n# (edited by make bench)"
    nbformat.write(nb, path)
    return path.name


def site_builds(copy: Path, changed: str) -> dict:
    """Cold build (no _build at all), warm rebuild (nothing changed), rebuild after one notebook's
    code cell changed. The notebook is put back afterwards (byte for byte).

    Then one diagnostic, not a target: a warm rebuild again, with ``rfc3987_syntax`` hidden from the
    build. jsonschema (which jupyter-book imports at start-up) imports that optional package when
    it is installed (here it comes with JupyterLab: jupyter_server → jupyter-events →
    jsonschema[format-nongpl]), and its import compiles dozens of Lark grammars: a fixed cost on
    every build that a warm rebuild cannot avoid. The figure says how much of the warm rebuild it is."""
    shutil.rmtree(copy / "_build", ignore_errors=True)
    cold = build(copy)
    warm = build(copy)
    path = copy / "notebooks" / changed
    original = path.read_bytes()
    change_one_cell(path)
    try:
        one = build(copy)
    finally:
        path.write_bytes(original)
    one["changed"] = changed
    build(copy)  # back to the original notebook: a cache hit, re-rendered
    shim = copy / ".bench" / "shim" / "rfc3987_syntax"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "__init__.py").write_text('raise ImportError("hidden by make bench (a what-if build)")\n')
    env = copy_env(copy)
    env["PYTHONPATH"] = f"{shim.parent}:{env['PYTHONPATH']}"
    seconds, rc, _log = _run(BUILD, copy, 600, env)
    whatif = {"seconds": seconds, "returncode": rc}
    return {"cold": cold, "warm": warm, "one_notebook_changed": one, "warm_without_rfc3987_syntax": whatif}


def import_seconds(module: str, runs: int = 3) -> float:
    """Median seconds to import ``module`` in a fresh interpreter of the venv."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    values = sorted(
        float(subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, check=True).stdout) for _ in range(runs)
    )
    return values[len(values) // 2]


def make_test(copy: Path, timeout: int = 900) -> dict:
    """`make test` in the copy, with the repository's .venv (by absolute path) and a fresh stamp of
    the copy's own, so nothing is installed; returns the "stage X: Ns" lines and the total.

    pytest's cache is switched off (``PYTEST_ADDOPTS=-p no:cacheprovider``): the unit stage would
    otherwise leave ``.pytest_cache/README.md``, which the strict build then reads as a page that is
    in no toctree, and fails. The stages run exactly as the Makefile has them otherwise."""
    stamp = copy / ".bench" / "venv-stamp"
    stamp.parent.mkdir(exist_ok=True)
    stamp.touch()
    assets = copy / "_vendor" / "_static" / "vendor" / ".installed"
    if assets.exists():
        assets.touch()  # the copied vendor files are the ones `make assets` made: no npm ci
    env = copy_env(copy)
    env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + " -p no:cacheprovider").strip()
    overrides = [f"VENV={VENV}", f"STAMP={stamp}"]
    seconds, rc, log = _run(["make", "--no-print-directory", "test", *overrides], copy, timeout, env)
    stages = {name: int(value) for name, value in _STAGE.findall(log)}
    total = _TOTAL.search(log)
    result: dict = {
        "wall_seconds": seconds,
        "returncode": rc,
        "stages_s": stages,
        "total_s": int(total.group(1)) if total else None,
    }
    if rc != 0:
        result["log_tail"] = log[-4000:]
        # make test stops at the first failing stage (work in progress in the tree, say). Time the
        # failing stage and the ones after it one by one, so that every stage still has a figure.
        order = _stages(copy)
        failed = next((name for name in order if name not in stages), None)
        result["failed_stage"] = failed
        separate: dict[str, dict] = {}
        for name in order[order.index(failed) :] if failed in order else []:
            s, code, out = _run(["make", "--no-print-directory", name, *overrides], copy, timeout, env)
            separate[name] = {"seconds": s, "returncode": code}
            if code != 0:
                separate[name]["log_tail"] = out[-2000:]
        result["stages_run_separately"] = separate
        result["sum_of_stages_s"] = sum(stages.values()) + sum(v["seconds"] for v in separate.values())
    return result


def _stages(copy: Path) -> list[str]:
    """The stages `make test` runs, read from the copy's Makefile (``for stage in ...; do``)."""
    match = re.search(r"for stage in ([^;]+); do", (copy / "Makefile").read_text())
    return match.group(1).split() if match else []
