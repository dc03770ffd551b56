"""From raw outcomes to the matrix: one verdict per (check, library), each backed by a corpus case.

A *row* is a joselab trace row (section + check) that refuses at least one corpus case in a scenario.
A library's *cell* in that row says, over all the row's cases:

* ``default``: the recipe as the docs write it refuses every one (the first case is the evidence);
* ``option``: some case gets through by default, and the named option (or options) refuses every
  case that did (the first such case is the evidence, shown by the second run);
* ``write``: some case gets through even with every option: that case is the evidence.

A case counts as refused whatever the library raised: a verdict says whether the input gets through,
not whether the library's reason matches joselab's. What each raised that is not its own error type
is listed separately (``foreign``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .run import ACCEPTED, LIBRARIES, SCENARIOS

RANK = {"default": 0, "option": 1, "write": 2}
NONE_SPELLINGS = {"alg-none", "alg-None", "alg-NONE", "alg-nOnE", "alg-none-kept-sig"}

#: RFC 8725 §3 (book/checklist.md): which cases exercise each practice, by what joselab refused.
CHECKLIST: list[tuple[str, str, Callable[[dict[str, Any]], bool]]] = [
    ("§3.1", "Perform algorithm verification", lambda c: c["section"] == "RFC 8725 §3.1"),
    ("§3.2", "Use appropriate algorithms (no none)", lambda c: _tail(c) in NONE_SPELLINGS),
    (
        "§3.3",
        "Validate all cryptographic operations",
        lambda c: c["error"] in ("InvalidSignature", "DecryptionFailed") and c["section"] != "RFC 7518 §3",
    ),
    ("§3.4", "Validate cryptographic inputs", lambda c: c["section"] == "RFC 7518 §3" or _tail(c) == "sig-psychic"),
    ("§3.5", "Ensure cryptographic keys have sufficient entropy", lambda c: False),
    ("§3.6", "Avoid compression of encryption inputs", lambda c: c["section"] == "RFC 8725 §3.6"),
    ("§3.7", "Use UTF-8", lambda c: c["section"] == "RFC 8725 §3.7"),
    (
        "§3.8",
        "Validate issuer and subject",
        lambda c: c["error"] == "InvalidIssuer" or _tail(c) in ("iss-missing", "sub-missing"),
    ),
    ("§3.9", "Use and validate audience", lambda c: c["error"] == "InvalidAudience" or _tail(c) in ("aud-missing", "aud-added")),
    (
        "§3.10",
        "Do not trust received claims (kid, jku, x5u, jwk, x5c)",
        lambda c: c["error"] == "EmbeddedKeyRejected" or c["section"] == "RFC 7515 §4.1.4" or _tail(c).startswith("inject-"),
    ),
    ("§3.11", "Use explicit typing", lambda c: c["error"] == "InvalidType"),
    ("§3.12", "Use mutually exclusive validation rules", lambda c: c["category"] == "cross"),
]


def _tail(case: dict[str, Any]) -> str:
    return case["id"].split("/", 1)[1]


def cell(cases: list[dict[str, Any]], library: str, runs: list[str]) -> dict[str, Any]:
    """The verdict of one library over some cases, with the case that shows it."""

    def refused(case: dict[str, Any], run: str) -> bool:
        return case["libraries"][library][runs.index(run)] != ACCEPTED

    options = [r for r in runs if r not in ("default", "+all", "hardened")]
    through = [c for c in cases if not refused(c, "default")]
    hardened = "hardened" in runs and all(refused(c, "hardened") for c in cases)
    if not through:
        return {"verdict": "default", "case": cases[0]["id"], "hardened": hardened}
    for option in options:
        if all(refused(c, option) for c in through):
            return {"verdict": "option", "option": option, "case": through[0]["id"], "hardened": hardened}
    if "+all" in runs and all(refused(c, "+all") for c in through):
        return {"verdict": "option", "option": " + ".join(options), "case": through[0]["id"], "hardened": hardened}
    last = "+all" if "+all" in runs else (options[0] if options else "default")
    evidence = next(c for c in through if not refused(c, last))
    return {"verdict": "write", "case": evidence["id"], "hardened": hardened}


def _worst(cells: list[tuple[str, dict[str, Any]]]) -> dict[str, Any] | None:
    if not cells:
        return None
    scenario, worst = max(cells, key=lambda sc: RANK[sc[1]["verdict"]])
    return {**worst, "scenario": scenario}


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """The matrix the page shows, and everything behind each cell."""
    scenarios: dict[str, Any] = {}
    foreign: dict[str, dict[str, list[str]]] = {lib: {} for lib in LIBRARIES}
    through_hardened: dict[str, dict[str, list[str]]] = {lib: {} for lib in LIBRARIES}
    for name in SCENARIOS:
        data = raw["scenarios"][name]
        libs = data["libraries"]
        cases = data["cases"]
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for index, case in enumerate(cases):
            key = (case["section"], case["check"])
            row = rows.setdefault(key, {"section": key[0], "check": key[1], "cases": [], "order": (case["position"], index)})
            row["cases"].append(case)
            row["order"] = min(row["order"], (case["position"], index))
        ordered = sorted(rows.values(), key=lambda r: r["order"])
        out_rows = []
        for row in ordered:
            cells = {}
            for lib in LIBRARIES:
                info = libs.get(lib)
                if info is None or "unsupported" in info:
                    continue
                cells[lib] = cell(row["cases"], lib, info["runs"])
            out_rows.append(
                {"section": row["section"], "check": row["check"], "cases": [c["id"] for c in row["cases"]], "cells": cells}
            )
        for lib, info in libs.items():
            if "unsupported" in info:
                continue
            for case in cases:
                outcome = case["libraries"][lib]
                if "hardened" in info["runs"] and outcome[info["runs"].index("hardened")] == ACCEPTED:
                    through_hardened[lib].setdefault(name, []).append(case["id"])
                names = sorted({o[:-1] for o in outcome if o.endswith("!")})
                for exc in names:
                    foreign[lib].setdefault(exc, []).append(f"{name}: {case['id']}")
        scenarios[name] = {
            "libraries": libs,
            "case_count": len(cases),
            "rows": out_rows,
            "cases": {c["id"]: {"description": c["description"], "libraries": c["libraries"]} for c in cases},
        }

    checklist = []
    for item, title, match in CHECKLIST:
        cells: dict[str, Any] = {}
        count = 0
        for lib in LIBRARIES:
            per = []
            for name in SCENARIOS:
                data = raw["scenarios"][name]
                info = data["libraries"].get(lib)
                matched = [c for c in data["cases"] if match(c)]
                if lib == LIBRARIES[0]:
                    count += len(matched)
                if info is None or "unsupported" in info or not matched:
                    continue
                per.append((name, cell(matched, lib, info["runs"])))
            worst = _worst(per)
            if worst is not None:
                cells[lib] = worst
        checklist.append({"item": item, "title": title, "case_count": count, "cells": cells})

    row_count = sum(len(s["rows"]) for s in scenarios.values())
    return {
        "size": {
            "rows": row_count + len(CHECKLIST),
            "scenario_rows": row_count,
            "checklist_rows": len(CHECKLIST),
            "libraries": len(LIBRARIES),
        },
        "libraries": list(LIBRARIES),
        "checklist": checklist,
        "scenarios": scenarios,
        "foreign": {lib: v for lib, v in foreign.items() if v},
        "through_hardened": through_hardened,
    }
