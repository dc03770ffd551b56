"""Shared fixtures. Helpers live in joselab_testkit: import them from there ("from conftest import
..." is ambiguous once a subfolder has its own conftest.py)."""

from __future__ import annotations

import pytest

from joselab import DEMO_EPOCH, FixedClock, Trace


@pytest.fixture
def trace() -> Trace:
    return Trace("test")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEMO_EPOCH)


# -- hypothesis: one reproducible profile for every property test (CI and laptops alike) -----------
# derandomize=True makes each run draw the same examples, so a failure in CI fails the same way
# locally; the example database is off (nothing to carry between runs). HYPOTHESIS_PROFILE=dev
# switches to hypothesis's random default when hunting for new failures.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("joselab", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "joselab"))
