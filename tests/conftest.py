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
