"""joselab.clock: fixed and system clocks (RFC 7519 §2 NumericDate), demo and random identifiers."""

from __future__ import annotations

import re
import time
import uuid

from joselab.clock import DEMO_EPOCH, DemoIds, FixedClock, RandomIds, SystemClock


def test_demo_epoch_is_2026_01_01():
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(DEMO_EPOCH)) == "2026-01-01T00:00:00Z"


def test_fixed_clock_moves_only_when_told():
    clock = FixedClock()
    assert clock.now() == DEMO_EPOCH == clock.now()
    assert clock.advance(90) == DEMO_EPOCH + 90 == clock.now()
    clock.set(1_300_819_380)
    assert clock.now() == 1_300_819_380
    assert repr(clock) == "FixedClock(1300819380)"
    assert FixedClock(12.9).now() == 12  # NumericDate seconds, as an int


def test_system_clock_is_an_int_near_time_time():
    now = SystemClock().now()
    assert isinstance(now, int)
    assert abs(now - time.time()) < 3600  # not a timing assertion: only that it is today's epoch
    assert repr(SystemClock()) == "SystemClock()"


def test_demo_ids_are_reproducible_version_4_uuids():
    a, b = DemoIds(7), DemoIds(7)
    first = [a.uuid4() for _ in range(3)]
    assert first == [b.uuid4() for _ in range(3)]
    assert len(set(first)) == 3
    for value in first:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert DemoIds(8).uuid4() != DemoIds(7).uuid4()


def test_demo_ids_tokens_are_base64url():
    ids = DemoIds()
    token = ids.token(16)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)
    assert DemoIds().token(16) == token


def test_random_ids_differ():
    ids = RandomIds()
    assert ids.uuid4() != ids.uuid4()
    assert uuid.UUID(ids.uuid4()).version == 4
    assert ids.token() != ids.token()
