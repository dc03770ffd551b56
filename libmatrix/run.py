"""Run the hostile corpus through joselab and through every library's recommended validation.

For each scenario, every corpus case that joselab's validator for it refuses (its structural cases,
the crypto and claims cases forged for it, the other scenarios' valid tokens), and the scenario's own
cases of :mod:`libmatrix.cases`, is put through:

* joselab, to learn which trace row refuses it: the matrix's row (section + check);
* each library's recipe as its docs advise (``default``), then once per documented option, and once
  with all of them (``+all``) where there are several;
* the recipe with the reader's added lines (``hardened``).

A library *checks* a case when it raises; what it raises is kept by class name only. Each library must
accept the scenario's valid base token, on every run, or the matrix is void (:func:`run` raises).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import time_machine

from .cases import extra_cases
from .context import Context, contexts
from .recipes import Recipe, Unsupported, all_recipes

SCENARIOS = ("software_statement", "registration_request", "access_token", "id_token", "ob_signature")
LIBRARIES = ("PyJWT", "joserfc", "jwcrypto", "Authlib")
ACCEPTED = "accepted"


def _own_errors() -> dict[str, tuple[type[BaseException], ...]]:
    from .recipes import authlib_recipes, joserfc_recipes, jwcrypto_recipes, pyjwt_recipes

    return {
        "PyJWT": pyjwt_recipes.OWN_ERRORS,
        "joserfc": joserfc_recipes.OWN_ERRORS,
        "jwcrypto": jwcrypto_recipes.OWN_ERRORS,
        "Authlib": authlib_recipes.OWN_ERRORS,
    }


def attempt(fn: Callable[[], Any], own: tuple[type[BaseException], ...]) -> str:
    """``accepted``, or the class of what was raised, marked ``!`` when it is not the library's own."""
    try:
        fn()
    except RecursionError:
        return "RecursionError!"
    except Exception as exc:
        name = type(exc).__name__
        return name if isinstance(exc, own) else f"{name}!"
    return ACCEPTED


def runs_of(recipe: Recipe) -> list[str]:
    """The runs a recipe gets: default, each option, all options together (if several), hardened."""
    names = ["default", *recipe.options]
    if len(recipe.options) > 1:
        names.append("+all")
    if recipe.hardened is not None:
        names.append("hardened")
    return names


def _call(recipe: Recipe, run: str, ctx: Context, token: Any, body: bytes | None) -> Callable[[], Any]:
    if run == "hardened":
        assert recipe.hardened is not None
        return lambda: recipe.hardened(ctx, token, body)  # type: ignore[misc]
    options = frozenset(recipe.options) if run == "+all" else frozenset() if run == "default" else frozenset({run})
    return lambda: recipe.validate(ctx, token, body, options)


def run() -> dict[str, Any]:
    """Every scenario, every case, every library run: the raw results the page is made from."""
    from hostile.corpus import build_corpus
    from hostile.harness import Harness

    own = _own_errors()
    recipes = all_recipes()
    out: dict[str, Any] = {"scenarios": {}}
    with tempfile.TemporaryDirectory(prefix="libmatrix-") as tmp:
        h = Harness(Path(tmp))
        try:
            corpus = build_corpus(h) + extra_cases(h)
            ctxs = contexts(h)
            for scenario in SCENARIOS:
                out["scenarios"][scenario] = _scenario(h, corpus, ctxs[scenario], scenario, recipes, own)
        finally:
            h.close()
    return out


def _scenario(
    h: Any, corpus: Iterable[Any], ctx: Context, scenario: str, recipes: list[Recipe | Unsupported], own: Any
) -> dict[str, Any]:
    mine = [r for r in recipes if r.scenario == scenario]
    base = h.bases[scenario]
    libs: dict[str, Any] = {}
    for r in mine:
        if isinstance(r, Unsupported):
            shown = None
            if r.demonstrate is not None:
                with time_machine.travel(_epoch(), tick=False):
                    shown = bool(r.demonstrate(ctx, base.token, base.body or ctx.body))
            libs[r.library] = {"unsupported": r.reason, "doc": r.doc, "demonstrated": shown}
            continue
        runs = runs_of(r)
        with time_machine.travel(_epoch(), tick=False):
            base_outcomes = {run: attempt(_call(r, run, ctx, base.token, base.body or ctx.body), own[r.library]) for run in runs}
        bad = {run: o for run, o in base_outcomes.items() if o != ACCEPTED}
        if bad:
            raise RuntimeError(f"{r.library} refuses the valid {scenario} token: {bad}")
        libs[r.library] = {"doc": r.doc, "options": dict(r.options), "runs": runs}

    cases: list[dict[str, Any]] = []
    for case in corpus:
        if scenario not in case.expect or (case.category == "cross" and case.home == scenario):
            continue
        trace = h.run(scenario, case.token, case.body)
        if trace.ok or trace.error is None:
            raise RuntimeError(f"joselab accepts {case.id} at {scenario}: the corpus no longer holds")
        body = case.body if case.body is not None else ctx.body
        outcomes: dict[str, list[str]] = {}
        with time_machine.travel(_epoch(), tick=False):
            for r in mine:
                if isinstance(r, Recipe):
                    outcomes[r.library] = [attempt(_call(r, run, ctx, case.token, body), own[r.library]) for run in runs_of(r)]
        cases.append(
            {
                "id": case.id,
                "category": case.category,
                "description": case.description,
                "error": type(trace.error).__name__,
                "section": trace.error.section,
                "check": trace.error.check,
                "position": len(trace.checks) - 1,
                "libraries": outcomes,
            }
        )
    return {"libraries": libs, "cases": cases}


def _epoch() -> int:
    from joselab import DEMO_EPOCH

    return DEMO_EPOCH
