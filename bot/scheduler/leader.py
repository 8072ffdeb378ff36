"""Which replica runs the background jobs.

On SQLite there is one process by construction. On PostgreSQL the leader holds
a session-level advisory lock on a dedicated connection; if the process dies,
PostgreSQL releases the lock and another replica takes it on its next try.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from sqlalchemy import text

from bot.store.db import Database

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x5244_5342_4F54_0002


class Leadership(Protocol):
    """Answers "may I run the shared jobs now?"."""

    def is_leader(self) -> bool: ...

    def release(self) -> None: ...


class SoleLeader:
    """A single process (SQLite) always leads."""

    def is_leader(self) -> bool:
        return True

    def release(self) -> None:
        return None


class AdvisoryLockLeader:
    """PostgreSQL advisory lock held on a dedicated connection."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Any = None
        self._lock = threading.Lock()
        self._leading = False

    def is_leader(self) -> bool:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self.db.engine.connect()
                if self._leading:
                    # Still holding it? A dropped connection loses the lock.
                    self._conn.execute(text("SELECT 1"))
                    return True
                got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK_KEY}).scalar()
                self._conn.commit()
                if got:
                    log.info("became the leader")
                self._leading = bool(got)
                return self._leading
            except Exception:  # noqa: BLE001 - any database failure means "not the leader now"
                log.warning("leadership check failed", exc_info=True)
                self._drop()
                return False

    def _drop(self) -> None:
        self._leading = False
        if self._conn is not None:
            try:
                self._conn.invalidate()
            except Exception:  # noqa: BLE001 - the connection is being thrown away anyway
                log.debug("invalidate failed", exc_info=True)
            self._conn = None

    def release(self) -> None:
        with self._lock:
            if self._conn is not None and self._leading:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK_KEY})
                    self._conn.commit()
                except Exception:  # noqa: BLE001 - closing the connection releases it too
                    log.debug("unlock failed", exc_info=True)
            self._drop()


def leadership_for(db: Database) -> Leadership:
    return SoleLeader() if db.is_sqlite else AdvisoryLockLeader(db)
