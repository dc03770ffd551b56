"""Each notebook's execution time against an empty notebook on the same kernel.

Run as a script (``python notebooks.py NOTEBOOK_DIR RUNS``) by :mod:`run`, in the copy of the tree
with the copy's ``joselab`` on the import path; prints one JSON document.

* Every notebook in NOTEBOOK_DIR and an empty one-cell notebook are executed RUNS times each with
  nbclient on the ``python3`` kernel (the venv's), interleaved; the figure is the median wall time
  of a whole run, kernel start-up and shut-down included. The empty notebook is the floor.
* A notebook's own crypto work is measured in its kernel: a first cell (added in memory, never saved)
  wraps jwcrypto's primitives, which is where joselab's cryptography happens (``jwcrypto.jwa``:
  every ``sign``/``verify``, key ``wrap``/``unwrap``, content ``encrypt``/``decrypt``; and
  ``JWK.generate``), and joselab's own signature check (``joselab.jws.signature_verifies``, which
  verifies RSA, EC and OKP signatures with ``cryptography`` directly), and a last cell reports the
  time spent inside them (nested calls counted once).
* joselab's bytecode is written before the first run (``compileall`` on the copy's package): the
  copy is fresh, and with ``PYTHONDONTWRITEBYTECODE`` set (as on the machines that run the bench)
  every kernel would compile joselab's sources again, a cost the empty notebook never pays and a
  reader's kernel pays once. Installed packages have their bytecode already.
* The target: median ≤ 2 × floor + crypto work. Also reported: the time inside the notebook's own
  cells (nbclient's per-cell timing), the rest being kernel start-up, shut-down and messaging.
"""

from __future__ import annotations

import compileall
import importlib.util
import json
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

_MARK = "__joselab_bench__"

INSTRUMENT = f"""\
import time as _t
import jwcrypto.jwa as _jwa
import jwcrypto.jwk as _jwk

{_MARK} = {{"seconds": 0.0, "calls": 0, "depth": 0}}


def _timed(fn):
    def wrapper(*args, **kwargs):
        state = {_MARK}
        state["depth"] += 1
        start = _t.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            state["depth"] -= 1
            if state["depth"] == 0:
                state["seconds"] += _t.perf_counter() - start
                state["calls"] += 1
    wrapper.__wrapped__ = fn
    return wrapper


for _cls in list(vars(_jwa).values()):
    if isinstance(_cls, type) and _cls.__module__ == _jwa.__name__:
        for _name in ("sign", "verify", "wrap", "unwrap", "encrypt", "decrypt"):
            if _name in vars(_cls):
                setattr(_cls, _name, _timed(vars(_cls)[_name]))
_jwk.JWK.generate = classmethod(_timed(_jwk.JWK.generate.__func__))
# joselab verifies RSA, EC and OKP signatures with cryptography directly (prepared keys), not through
# jwcrypto's JWA: that verification is crypto work too.
import joselab.jws as _jljws
_jljws.signature_verifies = _timed(_jljws.signature_verifies)
"""

REPORT = f"""\
import json as _json
print(_json.dumps({{"seconds": {_MARK}["seconds"], "calls": {_MARK}["calls"]}}))
"""


def _instrumented(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(INSTRUMENT))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    return nb


def _empty() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(""))
    return nb


def _report(cell) -> dict:
    """The last cell's JSON line. The kernel may send a print in more than one stream message (the
    text, then its newline), so the cell's stream outputs are joined before the line is read."""
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    return json.loads(text.strip().splitlines()[-1])


def _cell_seconds(cell) -> float | None:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return (end - start).total_seconds()


def execute(nb: nbformat.NotebookNode, cwd: Path) -> tuple[float, nbformat.NotebookNode]:
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}, record_timing=True
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start, nb


def compile_joselab() -> None:
    """Write the bytecode of the joselab the kernels will import (the first on the import path)."""
    spec = importlib.util.find_spec("joselab")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def measure(notebook_dir: Path, runs: int) -> dict:
    paths = sorted(notebook_dir.glob("*.ipynb"))
    compile_joselab()
    wall: dict[str, list[float]] = {"(empty)": []}
    crypto: dict[str, list[float]] = {}
    cells_s: dict[str, list[float]] = {}
    calls: dict[str, int] = {}
    slowest: dict[str, tuple[float, int]] = {}
    code_cells: dict[str, int] = {}
    for path in paths:
        wall[path.name] = []
        crypto[path.name] = []
        cells_s[path.name] = []
    execute(_empty(), notebook_dir)  # warm-up, not timed: the first kernel start reads its files from disk
    for _ in range(runs):
        seconds, _nb = execute(_empty(), notebook_dir)
        wall["(empty)"].append(seconds)
        for path in paths:
            seconds, nb = execute(_instrumented(path), notebook_dir)
            wall[path.name].append(seconds)
            report = _report(nb.cells[-1])
            crypto[path.name].append(report["seconds"])
            calls[path.name] = report["calls"]
            # The slowest cell of the notebook itself (the added first and last cells left out).
            cells = [(_cell_seconds(c) or 0.0, i) for i, c in enumerate(nb.cells[1:-1]) if c.cell_type == "code"]
            code_cells[path.name] = len(cells)
            cells_s[path.name].append(sum(t for t, _ in cells))
            top = max(cells, default=(0.0, -1))
            if top[0] > slowest.get(path.name, (0.0, -1))[0]:
                slowest[path.name] = top
    floor = statistics.median(wall["(empty)"])
    result = {"runs": runs, "floor_s": floor, "notebooks": {}}
    for path in paths:
        median = statistics.median(wall[path.name])
        work = statistics.median(crypto[path.name])
        budget = 2 * floor + work
        cell_s, cell_index = slowest.get(path.name, (0.0, -1))
        result["notebooks"][path.name] = {
            "median_s": median,
            "runs_s": wall[path.name],
            "ratio_to_floor": median / floor,
            "crypto_s": work,
            "cells_s": statistics.median(cells_s[path.name]),
            "crypto_calls": calls[path.name],
            "budget_s": budget,
            "met": median <= budget,
            "slowest_cell": {"index": cell_index, "seconds": cell_s},
            "code_cells": code_cells[path.name],
        }
    result["floor_runs_s"] = wall["(empty)"]
    return result


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]), int(sys.argv[2]))))
