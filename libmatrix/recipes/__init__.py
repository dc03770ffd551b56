"""One recommended validation per library and scenario, written once, as each library's docs advise.

Each :class:`Recipe` is the call a reader copies from the library's documentation (the page it cites),
given what the relying party knows (:class:`libmatrix.context.Context`): ``validate(ctx, token, body,
options)`` returns the claims (or payload) or raises. ``options`` names the documented options to turn
on for the second run; the empty set is the library as its docs' example uses it. ``hardened`` is the
same call with every option, plus the few lines a reader adds to reach joselab's checks: the page
prints that function and says which corpus cases still get through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..context import Context

Validate = Callable[[Context, Any, bytes | None, frozenset[str]], Any]
Hardened = Callable[[Context, Any, bytes | None], Any]


@dataclass(frozen=True)
class Recipe:
    library: str
    scenario: str
    doc: str  # the documentation page the call follows
    validate: Validate
    options: dict[str, str] = field(default_factory=dict)  # the option as a reader writes it -> what it adds
    hardened: Hardened | None = None


@dataclass(frozen=True)
class Unsupported:
    """A library with no validator for this profile, and why (shown in its column)."""

    library: str
    scenario: str
    reason: str
    doc: str = ""
    #: optional demonstration that the reason holds: raises (or returns False) when it no longer does
    demonstrate: Callable[[Context, Any, bytes | None], bool] | None = None


def all_recipes() -> list[Recipe | Unsupported]:
    from . import authlib_recipes, joserfc_recipes, jwcrypto_recipes, pyjwt_recipes

    out: list[Recipe | Unsupported] = []
    for module in (pyjwt_recipes, joserfc_recipes, jwcrypto_recipes, authlib_recipes):
        out.extend(module.RECIPES)
    return out
