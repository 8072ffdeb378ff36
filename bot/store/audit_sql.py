"""The audit chain's statements per dialect, run on the DBAPI cursor, and how appenders take turns.

An append is a statement or two inside the caller's transaction, and verify reads rows by
the hundred thousand: through the ORM (statement objects, cache keys, result rows, model
instances) they cost several times the database's own work. The statements are plain SQL;
values go through the type processors SQLAlchemy uses (``bind_ts``), so rows are stored
exactly as the ORM would store them and read back the same way.

The chain's head is locked from an append to its transaction's commit, so appends are serial
by nature, and on PostgreSQL with ``synchronous_commit`` that serial part holds each commit's
fsync. Three things keep it short: this process's appenders queue on a lock (``take_turn``)
rather than all waiting on the row; an appender builds on the head the previous one left
(``guessed_head``) and moves it with one compare-and-swap statement instead of reading it
first; and the turn and that head are passed on as a commit starts (``_hand_over``), so the
next swap already waits in the database when the commit ends. A wrong guess (another
replica appended, a commit failed) costs one read of the head, never a fork.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session as OrmSession, SessionTransaction
from sqlmodel import Session

from bot.store.types import UTCDateTime

_COLUMNS = "seq, request_id, event, state, actor, ts, detail, prev_hash, hash"
GENESIS = "0" * 64
TURN_TIMEOUT_S = 5.0
_TURN, _HEAD = "rdsbot_audit_turn", "rdsbot_audit_head"


@dataclass(frozen=True)
class Statements:
    """One dialect's SQL for the chain (positional parameters in the driver's own style)."""

    lock_head: str
    create_head: str
    # Moves the head to the new event and inserts it, only if the head still is what the caller
    # built on: a compare-and-swap under the head row's lock. PostgreSQL does both in one
    # statement (a round trip fewer while the head is locked), SQLite in two (``insert_event``).
    advance: str
    insert_event: str | None
    rows: str
    bind_ts: Callable[[datetime], Any]
    # SQLite: every write transaction holds the database's one write lock from its start, so
    # appenders take turns where transactions begin (``Database.session``), not at the head.
    locks_whole_transaction: bool = False

    def advance_head(self, cursor: Any, old: tuple[int, str], row: Sequence[Any]) -> bool:
        """Insert ``row`` (columns in table order, ts and detail processed) and move the head to it, if the
        head still is ``old``; False, with nothing written, when another writer moved it."""
        if self.insert_event is None:
            cursor.execute(self.advance, (*old, row[0], *old, row[8], *row, row[0], row[8]))
            return bool(cursor.rowcount == 1)
        cursor.execute(self.advance, (row[0], row[8], *old))
        if cursor.rowcount != 1:
            return False
        cursor.execute(self.insert_event, tuple(row))
        return True

    def head(self, cursor: Any) -> tuple[int, str]:
        """Lock the head row (PostgreSQL: ``FOR UPDATE``) and read (seq, hash), creating it when missing."""
        cursor.execute(self.lock_head)
        found = cursor.fetchone()
        if found is None:
            cursor.execute(self.create_head)
            return 0, GENESIS
        return int(found[0]), str(found[1])

    def scan(self, session: Session, batch: int) -> Iterator[tuple[Any, ...]]:
        """Every event row oldest first as plain tuples (detail as its stored JSON text), a batch at a time."""
        cursor = raw_cursor(session)
        try:
            last = 0
            while True:
                cursor.execute(self.rows, (last, batch))
                rows = cursor.fetchall()
                if not rows:
                    return
                yield from rows
                last = rows[-1][0]
        finally:
            cursor.close()


def raw_cursor(session: Session) -> Any:
    """A DBAPI cursor on the session's connection, inside its transaction (begun if it was not)."""
    session.flush()  # the caller's pending changes first, as the ORM's autoflush would
    return session.connection().connection.cursor()


def _build(dialect: Dialect) -> Statements:
    bind_ts = UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
    rows = (f"SELECT {_COLUMNS.replace('detail', 'CAST(detail AS TEXT)')} FROM audit_events "
            "WHERE seq > ? ORDER BY seq LIMIT ?")
    create_head = f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')"
    move_head = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? AND hash = ?"
    if dialect.name == "postgresql":
        values = "%s, %s, %s, %s, %s, %s, CAST(%s AS JSON), %s, %s"
        # The head row is updated whatever it holds (moved only if it still is the old one): a
        # condition in WHERE would be judged on the statement's snapshot, so a swap built on a
        # commit still in flight would skip the row instead of waiting for that commit.
        moved = "seq = %s AND hash = %s"
        return Statements(
            lock_head="SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE", create_head=create_head,
            advance=f"WITH head AS (UPDATE audit_head SET seq = CASE WHEN {moved} THEN %s ELSE seq END, "
                    f"hash = CASE WHEN {moved} THEN %s ELSE hash END WHERE id = 1 RETURNING seq, hash) "
                    f"INSERT INTO audit_events ({_COLUMNS}) SELECT {values} FROM head WHERE {moved}",
            insert_event=None, rows=rows.replace("?", "%s"), bind_ts=bind_ts,
        )
    if dialect.name == "sqlite":
        return Statements(
            # No row locks: the write transaction (BEGIN IMMEDIATE) already excludes every other writer.
            lock_head="SELECT seq, hash FROM audit_head WHERE id = 1", create_head=create_head, advance=move_head,
            insert_event=f"INSERT INTO audit_events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows=rows, bind_ts=bind_ts, locks_whole_transaction=True,
        )
    raise NotImplementedError(f"the audit trail supports SQLite and PostgreSQL, not {dialect.name}")


_BUILT: dict[str, Statements] = {}


def for_dialect(dialect: Dialect) -> Statements:
    """The statements for ``dialect`` (built once per dialect name)."""
    found = _BUILT.get(dialect.name)
    if found is None:
        found = _BUILT[dialect.name] = _build(dialect)
    return found


def statements(session: Session) -> Statements:
    """The statements for the dialect ``session`` is bound to."""
    return for_dialect(session.get_bind().dialect)


_TURNS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_TURNS_LOCK = threading.Lock()


def take_turn(session: Session) -> None:
    """Queue behind this process's other appenders before locking the head; held until the commit starts.

    The head row's lock is held to the commit, and PostgreSQL wakes every waiter when it is
    released, to fight for it again: 4 threads appended at a quarter of one thread's rate.
    Waiting here instead hands the turn to one thread at once, and only one backend of this
    process ever waits on the row. The database's lock stays the guard (other replicas); after
    ``TURN_TIMEOUT_S`` a thread goes ahead to it anyway, so a deadlock between an appender and
    a row another thread holds is still found and broken by the database, as before.
    """
    if _TURN in session.info:
        return
    engine = session.get_bind()
    lock = _TURNS.get(engine)
    if lock is None:
        with _TURNS_LOCK:
            lock = _TURNS.setdefault(engine, threading.Lock())
    if lock.acquire(timeout=TURN_TIMEOUT_S):
        session.info[_TURN] = lock


_HEADS: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()


def guessed_head(session: Session) -> tuple[int, str] | None:
    """The head as this session's last append left it, or as this process's last committed append did.

    Building on a guess saves reading the head (and on PostgreSQL a round trip while it is
    locked); when another writer moved it since, :meth:`Statements.advance_head` writes nothing
    and the caller reads the head under its lock. Take the turn first, so the guess is fresh.
    """
    return session.info.get(_HEAD) or _HEADS.get(session.get_bind())


def appended(session: Session, head: tuple[int, str]) -> None:
    """Remember where this session's transaction left the head; published to the process when it commits."""
    session.info[_HEAD] = head


@event.listens_for(OrmSession, "before_commit")
def _hand_over(session: OrmSession) -> None:
    """About to commit: pass the turn and this transaction's head on now, not when the commit is back.

    The next appender builds on this head and sends its compare-and-swap at once; the database
    holds it on the head's row until this commit is done (fsync and all), then lets it through,
    without a round trip to this process in between. Should this commit fail, that swap finds the
    head unmoved, writes nothing, and its appender reads the head instead (``append``).
    """
    if session.in_nested_transaction():
        return  # a savepoint, not the commit
    head = session.info.pop(_HEAD, None)
    if head is not None:
        _HEADS[session.get_bind()] = head
    lock = session.info.pop(_TURN, None)
    if lock is not None:
        lock.release()


@event.listens_for(OrmSession, "after_transaction_end")
def _end_turn(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_HEAD, None)  # rolled back: the head this transaction moved never happened
        lock = session.info.pop(_TURN, None)
        if lock is not None:
            lock.release()
