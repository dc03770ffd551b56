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

    A database still open when the process ends (a notebook's kernel shut down before its last cell
    ran) is closed at exit, before the temporary folder that holds it is removed."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
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
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (value TEXT PRIMARY KEY, expires_at INTEGER NOT NULL,"
            " owner TEXT NOT NULL DEFAULT '', uses INTEGER NOT NULL DEFAULT 1)"
        )

    def first_use(self, value: str, expires_at: int, now: int, *, owner: str = "", max_uses: int = 1) -> bool:
        """Record ``value``; True the first time it is seen (while unexpired), False on a replay.

        With an ``owner`` and ``max_uses`` > 1, a value already recorded for the same owner is
        accepted again until it has been used ``max_uses`` times; any other owner is a replay."""
        self.db.execute(f"DELETE FROM {self.table} WHERE expires_at < ?", (now,))
        inserted = self.db.execute_count(
            f"INSERT OR IGNORE INTO {self.table} (value, expires_at, owner, uses) VALUES (?, ?, ?, 1)",
            (value, int(expires_at), owner),
        )
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
