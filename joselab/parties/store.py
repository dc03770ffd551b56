"""sqlite stores for the demo parties: registered clients, seen ``jti`` and ``nonce`` values.

Real files, so state survives a restart of the party that owns it: a replayed request is refused after
a restart too (RFC 7519 §4.1.7: ``jti`` "can be used to prevent the JWT from being replayed").
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class Database:
    """One sqlite file, shared safely by a server's threads.

    The file is in WAL mode with ``synchronous=NORMAL`` (joselab policy): a write is durable once it
    returns across a crash or restart of the process, which is what a replay store needs (a replayed
    token is refused after the party restarts), and it is not flushed to the disk on every commit,
    which made each write cost a disk flush (about 0.3 ms here, most of an ID token's validation).
    Only a power loss or an operating system crash can lose the last writes. ``synchronous="FULL"``
    flushes every commit, for a store that must survive those too.

    A database still open when the process ends (a notebook's kernel shut down before its last cell
    ran) is closed at exit, before the temporary folder that holds it is removed."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError("synchronous is NORMAL, FULL or EXTRA")
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={synchronous}")
        _OPEN.add(self)

    def execute(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def execute_count(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run a write and return how many rows it changed."""
        with self._lock:
            return self._conn.execute(sql, tuple(params)).rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        _OPEN.discard(self)


_OPEN: weakref.WeakSet[Database] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for db in list(_OPEN):
        db.close()


class ReplayStore:
    """Remembers one-time values until they expire; :meth:`first_use` is atomic.

    A value may carry an ``owner`` and a number of uses: OpenID Connect's hybrid flow delivers two ID
    tokens of one authentication (front channel and token response) with the same ``nonce``
    (OIDC Core §3.3.2.11, §3.3.3.6), so the nonce is "first use" for both tokens of *that* authentication
    and a replay for anything else."""

    def __init__(self, db: Database, table: str = "seen_jti") -> None:
        if not table.isidentifier():
            raise ValueError("table name must be an identifier")
        self.db = db
        self.table = table
        # WITHOUT ROWID: the table is the one B-tree of its key, the value, rather than a table of
        # rowids beside an index of the values; an insert writes one tree fewer (about a quarter of
        # the write here).
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (value TEXT PRIMARY KEY, expires_at INTEGER NOT NULL,"
            " owner TEXT NOT NULL DEFAULT '', uses INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID"
        )
        db.execute(f"CREATE INDEX IF NOT EXISTS {table}_expires_at ON {table} (expires_at)")
        # One statement a use: the insert takes the place of an expired row itself, so expired rows
        # are deleted once per second of the clock (an amortised clean-up), not before every insert.
        self._insert = (
            f"INSERT INTO {table} (value, expires_at, owner, uses) VALUES (?, ?, ?, 1)"
            f" ON CONFLICT (value) DO UPDATE SET expires_at = excluded.expires_at, owner = excluded.owner, uses = 1"
            f" WHERE {table}.expires_at < ?"
        )
        self._pruned_at: int | None = None

    def first_use(self, value: str, expires_at: int, now: int, *, owner: str = "", max_uses: int = 1) -> bool:
        """Record ``value``; True the first time it is seen (while unexpired), False on a replay.

        With an ``owner`` and ``max_uses`` > 1, a value already recorded for the same owner is
        accepted again until it has been used ``max_uses`` times; any other owner is a replay."""
        second = int(now)
        if self._pruned_at != second:
            self._pruned_at = second
            self.db.execute(f"DELETE FROM {self.table} WHERE expires_at < ?", (now,))
        # A row that is still there but expired counts as unseen: the insert replaces it.
        inserted = self.db.execute_count(self._insert, (value, int(expires_at), owner, now))
        if inserted == 1:
            return True
        if not owner or max_uses <= 1:
            return False
        return (
            self.db.execute_count(
                f"UPDATE {self.table} SET uses = uses + 1 WHERE value = ? AND owner = ? AND uses < ?",
                (value, owner, max_uses),
            )
            == 1
        )

    def __len__(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM {self.table}")[0][0]
