"""The time checks every hardened recipe adds, once: each library passes its own exception type."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def check_times(claims: dict[str, Any], bound: int | None, error: Callable[[str], Exception], *, lifetime: bool = True) -> None:
    # NumericDates as integers (not bool, float or text), checked against the clock, and a bound on
    # the lifetime (or, for a statement without exp, on the age): joselab policy, not the spec's.
    now, leeway = int(time.time()), 60
    for name in ("iat", "exp", "nbf"):
        if name in claims and type(claims[name]) is not int:
            raise error(name)
    iat = claims["iat"]
    if iat > now + leeway or claims.get("nbf", now) > now + leeway or claims.get("exp", now + 1) <= now - leeway:
        raise error("time")
    if bound and ((lifetime and claims["exp"] - iat > bound) or (not lifetime and now - iat > bound)):
        raise error("lifetime")
