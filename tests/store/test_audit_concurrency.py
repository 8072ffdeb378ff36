"""The chain under concurrency: threads and two engines on one database (two replicas) never fork it.

Appenders run as the workflow does: a request's state change and its audit event
in one transaction (``transitions.move``), and some transactions fail after
appending, which must leave neither behind. Afterwards the chain is one line,
holds exactly the committed events, and every committed change has its event.
Also here: the fast hash ``append`` and ``verify`` use is the documented
``event_hash``, and rows stored the way older versions stored them still verify.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from enum import StrEnum

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.store import audit, audit_sql
from bot.store.db import Database
from bot.store.models import AuditEvent, AuditHead, Request
from bot.workflow import transitions as tx
from bot.workflow.states import State

from .conftest import insert_request, new_request, raw, raw_set_json

REPLICAS, THREADS, PER_THREAD, SHARED = 2, 3, 24, 12


class _Rollback(Exception):
    """Raised after appending, inside the transaction: the change and its event must both vanish."""


def _appender(db: Database, name: str, mine: list[str], shared: list[str], rolled: list[str],
              barrier: threading.Barrier, errors: list[BaseException]) -> None:
    try:
        barrier.wait()
        for i, request_id in enumerate(mine):
            try:
                with db.session() as session:
                    moved = tx.move(session, request_id, State.APPROVED, actor=name, detail={"i": i})
                    assert moved is not None
                    if i % 5 == 4:
                        raise _Rollback
            except _Rollback:
                rolled.append(request_id)
            if i < len(shared):  # every appender also races everyone else for the same requests
                with db.session() as session:
                    tx.move(session, shared[i], State.APPROVED, actor=name, detail={"i": i, "shared": True})
    except BaseException as error:  # noqa: BLE001 - the test asserts there were none
        errors.append(error)


def test_threads_on_two_engines_never_fork_the_chain(db: Database) -> None:
    replicas = [db, Database(db.url)]  # a second engine on the same database: another replica's
    names = [f"replica{r}-thread{t}" for r in range(REPLICAS) for t in range(THREADS)]
    mine = {n: [insert_request(db, State.PENDING_APPROVAL) for _ in range(PER_THREAD)] for n in names}
    shared = [insert_request(db, State.PENDING_APPROVAL) for _ in range(SHARED)]
    rolled: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(names))
    threads = [threading.Thread(target=_appender, args=(replicas[k // THREADS], n, mine[n], shared, rolled,
                                                        barrier, errors)) for k, n in enumerate(names)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
    finally:
        replicas[1].dispose()
    assert errors == []
    assert not any(t.is_alive() for t in threads)

    with db.reader() as session:
        rows = list(session.exec(select(AuditEvent).order_by(AuditEvent.seq)))  # type: ignore[arg-type]
        states = {r.id: r.state for r in session.exec(select(Request))}
        head = session.get(AuditHead, 1)
    committed = len(names) * PER_THREAD - len(rolled) + SHARED
    assert len(rolled) == len(names) * (PER_THREAD // 5)
    # one line: 1..n, each event's predecessor the one before it, no two events with one parent
    assert [r.seq for r in rows] == list(range(1, committed + 1))
    assert rows[0].prev_hash == audit.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    assert len({r.prev_hash for r in rows}) == len({r.hash for r in rows}) == committed
    assert head is not None and (head.seq, head.hash) == (committed, rows[-1].hash)
    with db.reader() as session:
        assert audit.verify(session) == audit.VerifyResult(True, committed)
    # a change and its event committed together or not at all; a shared request moved exactly once
    by_request: dict[str | None, list[AuditEvent]] = {}
    for row in rows:
        by_request.setdefault(row.request_id, []).append(row)
    for request_id, state in states.items():
        assert len(by_request.get(request_id, [])) == (1 if state == State.APPROVED else 0), request_id
        assert (state == State.PENDING_APPROVAL) == (request_id in rolled)
    # each appender's own events are in the chain in the order it committed them
    for name in names:
        order = [r.detail["i"] for r in rows if r.actor == name and not r.detail.get("shared")]
        assert order == [i for i in range(PER_THREAD) if i % 5 != 4]


def test_the_append_turn_is_given_back_when_a_transaction_ends(db: Database) -> None:
    """Commit or rollback, the next appender (another thread) is never left waiting for a turn."""
    with db.session() as session:
        audit.append(session, event="one", actor="x")
    with pytest.raises(_Rollback):
        with db.session() as session:
            audit.append(session, event="two", actor="x")
            raise _Rollback
    turns = [db._writers] if db.is_sqlite else [audit_sql._TURNS[db.engine]]
    free: list[bool] = []

    def take() -> None:
        for turn in turns:
            free.append(turn.acquire(blocking=False))
            if free[-1]:
                turn.release()

    other = threading.Thread(target=take)
    other.start()
    other.join()
    assert free == [True]


def test_a_commit_that_fails_after_handing_over_its_head_leaves_the_chain_whole(db: Database) -> None:
    """The head is passed on when the commit starts; if the commit then fails, the next append sees through it."""
    with db.session() as session:
        audit.append(session, event="one", actor="x")
    taken = insert_request(db, State.PENDING_APPROVAL)
    with pytest.raises(IntegrityError):
        with db.session() as session:
            audit.append(session, event="lost", actor="x")
            session.add(new_request(State.PENDING_APPROVAL, request_id=taken))  # fails at commit, in its flush
    assert audit_sql._HEADS[db.engine][0] == 2  # what was handed over: an event that never committed
    with db.session() as session:
        audit.append(session, event="two", actor="x")
    with db.reader() as session:
        assert [r.event for r in session.exec(select(AuditEvent).order_by(AuditEvent.seq))] == ["one", "two"]
        assert audit.verify(session) == audit.VerifyResult(True, 2)


class _Kind(StrEnum):
    DONE = "done"


@pytest.mark.parametrize(("request_id", "event", "state", "actor", "detail"), [
    (None, "e", None, "a", {}),
    ("clone-1", "requested", _Kind.DONE, "U0ALICE", {"b": [1, 2.5, None, True], "a": {"z": "", "y": -0.0}}),
    ("r\"q\\", "tab\there\nnewline", "ctl\x01\x1f", "ünï ☃ \u2028 \ud7ff", {"k\u00e9y": "v\"al\\ue", "n": 2**70}),
    ("x", "e", "s", "a", {"f": 1e16, "g": 1.5e-7, "h": 123456789.123456789, "i": -1, "nested": {"c": {"b": {"a": 1}}}}),
])
def test_the_fast_hash_is_the_documented_event_hash(request_id: str | None, event: str, state: str | None,
                                                      actor: str, detail: dict) -> None:
    ts = datetime(2026, 11, 29, 9, 0, 0, 123456, tzinfo=UTC)
    detail_json = audit.canonical(detail)
    expected = audit.event_hash(seq=42, request_id=request_id, event=event, state=state, actor=actor, ts=ts,
                                detail=json.loads(detail_json), prev_hash="ab" * 32)
    assert audit.text_hash(42, request_id, event, state, actor, audit.iso(ts), detail_json, "ab" * 32) == expected


def test_rows_stored_as_older_versions_stored_them_still_verify(db: Database) -> None:
    """Details written as json.dumps left them (not canonical text) verify; a changed one still breaks."""
    for i in range(4):
        with db.session() as session:
            audit.append(session, event="e", actor="ä", detail={"n": i, "text": "ünï ☃", "z": [1, {"b": 2, "a": 1}]})
    with db.reader() as session:
        details = {r.seq: r.detail for r in session.exec(select(AuditEvent))}
    for seq, detail in details.items():
        reordered = dict(reversed(list(detail.items())))  # same content, other key order, ASCII escapes, spaces
        assert raw_set_json(db, "audit_events", "detail", reordered, "seq = :seq", seq=seq) == 1
    stored = raw(db, "SELECT CAST(detail AS TEXT) FROM audit_events WHERE seq = 1")[0][0]
    assert stored != audit.canonical(details[1])
    with db.reader() as session:
        assert audit.verify(session) == audit.VerifyResult(True, 4)
    raw_set_json(db, "audit_events", "detail", {**details[3], "n": 99}, "seq = 3")
    with db.reader() as session:
        result = audit.verify(session)
    assert (result.ok, result.bad_seq, result.count) == (False, 3, 2)
