"""Remember which Slack deliveries were already acted on, across replicas and restarts.

Every Slack request asks :meth:`DeliveryLog.first_time` before it is acted on, so the check
is a group commit: callers arriving while one transaction is being written queue, and the
next transaction inserts all of their keys at once. A burst of eight requests costs one or
two transactions instead of eight taken in turn (on SQLite each waited for the write lock,
and for the interpreter while holding it: 20 ms for the median request of a burst).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete

from bot.store.db import Database
from bot.store.models import Delivery
from bot.store.types import UTCDateTime
from bot.timeutil import utcnow

KEEP = timedelta(hours=1)  # far beyond Slack's 5-minute signature window
# A key seen before is a row not inserted: nothing returned (no IntegrityError raised and caught).
INSERT = 'INSERT INTO deliveries ("key", seen_at) VALUES (?, ?) ON CONFLICT ("key") DO NOTHING RETURNING "key"'


@dataclass
class _Ask:
    """One caller's key, and what its batch found (or the error that broke the batch)."""

    key: str
    done: threading.Event | None = None  # made only for a caller who waits (the usual caller writes at once)
    lead: bool = False  # woken to write the next batch rather than with an answer
    new: bool = False
    error: Exception | None = None


class DeliveryLog:
    """``first_time(key)`` is True exactly once per key, whichever replica or thread asks."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Plain SQL on a DBAPI cursor (as bot.store.audit_sql does): through an ORM session the
        # check cost several times as much, most of it Python around one small statement. The time
        # goes through the column type's own processor, so it is stored as the ORM stores it.
        dialect = db.engine.dialect
        self._sql = INSERT if db.is_sqlite else INSERT.replace("?", "%s")
        self._bind_ts = UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
        self._lock = threading.Lock()
        self._queue: list[_Ask] = []
        self._writing = False  # a caller is writing a batch; the others wait for it

    def first_time(self, key: str) -> bool:
        ask = _Ask(key[:200])
        with self._lock:
            self._queue.append(ask)
            lead = not self._writing
            self._writing = True
            if not lead:
                ask.done = threading.Event()
        if ask.done is not None:
            ask.done.wait()
            lead = ask.lead
        if lead:
            self._write_batch()  # this caller's own key is in the batch: nobody else takes from the queue now
        if ask.error is not None:
            raise ask.error
        return ask.new

    def _write_batch(self) -> None:
        """Insert every queued key in one transaction, answer their callers, pass the pen to the next."""
        batch: list[_Ask] = []
        try:
            with self.db.write_cursor() as cursor:
                batch = self._take()  # taken once the write lock is ours: all who queued meanwhile
                seen_at = self._bind_ts(utcnow())
                for ask in batch:
                    cursor.execute(self._sql, (ask.key, seen_at))
                    ask.new = cursor.fetchone() is not None
        except Exception as error:  # noqa: BLE001 - not swallowed: every caller of the batch raises it
            batch = batch or self._take()
            for ask in batch:
                ask.error = error
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                self._writing = successor is not None
            for ask in batch:
                if ask.done is not None:
                    ask.done.set()
            if successor is not None:
                assert successor.done is not None  # it queued while this batch was being written
                successor.lead = True
                successor.done.set()

    def _take(self) -> list[_Ask]:
        with self._lock:
            batch, self._queue = self._queue, []
        return batch

    def prune(self) -> int:
        with self.db.session() as session:
            result = session.execute(delete(Delivery).where(Delivery.seen_at < utcnow() - KEEP))  # type: ignore[arg-type]
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
