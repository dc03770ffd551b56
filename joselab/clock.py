"""Clocks and one-time identifiers that demos can fix.

Every validator takes a :class:`Clock`, so a notebook can pin "now" and its output stays the same on
every run (RFC 7519 §4.1.4-4.1.6 compare NumericDate values with the current time). Production code
passes :class:`SystemClock`.

:class:`DemoIds` makes ``jti`` and ``nonce`` values that look like version 4 UUIDs (RFC 9562 §5.4) but
come from a seeded generator, so demo tokens are byte-for-byte reproducible. It is for demos only: a
real issuer uses :func:`uuid.uuid4` or :func:`secrets.token_urlsafe`, as :class:`RandomIds` does.
"""

from __future__ import annotations

import random
import secrets
import time
import uuid
from typing import Protocol

#: 2026-01-01T00:00:00Z, the instant every demo in the book happens at.
DEMO_EPOCH = 1_767_225_600


class Clock(Protocol):
    def now(self) -> int:
        """Seconds since the epoch, as a NumericDate (RFC 7519 §2)."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> int:
        return int(time.time())

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that only moves when told to; for demos and tests."""

    def __init__(self, now: int = DEMO_EPOCH) -> None:
        self._now = int(now)

    def now(self) -> int:
        return self._now

    def set(self, now: int) -> None:
        self._now = int(now)

    def advance(self, seconds: int) -> int:
        self._now += int(seconds)
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now})"


class IdSource(Protocol):
    def uuid4(self) -> str: ...

    def token(self, nbytes: int = 16) -> str: ...


class RandomIds:
    """Unpredictable identifiers, as production needs (RFC 7519 §4.1.7: collision-resistant ``jti``)."""

    def uuid4(self) -> str:
        return str(uuid.uuid4())

    def token(self, nbytes: int = 16) -> str:
        return secrets.token_urlsafe(nbytes)


class DemoIds:
    """Reproducible identifiers for demos. Predictable by design: never use outside a demo."""

    def __init__(self, seed: int = 2026) -> None:
        self._rng = random.Random(seed)

    def uuid4(self) -> str:
        return str(uuid.UUID(bytes=self._rng.randbytes(16), version=4))

    def token(self, nbytes: int = 16) -> str:
        import base64

        return base64.urlsafe_b64encode(self._rng.randbytes(nbytes)).rstrip(b"=").decode("ascii")
