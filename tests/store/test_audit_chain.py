"""The hash-chained audit trail: append, verify, tamper detection, concurrency, redaction, rollback."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.store import audit
from bot.store.db import Database
from bot.store.models import AuditEvent, AuditHead

from .conftest import raw, raw_set_json, raw_set_time


def _append_n(db: Database, n: int, *, request_id: str = "clone-20261129-aaaa0001") -> None:
    for i in range(n):
        with db.session() as session:
            audit.append(
                session, event=f"step{i + 1}", actor="U0ALICE", request_id=request_id,
                state="pending_approval", detail={"i": i + 1, "note": f"event {i + 1}"},
            )


def _verify(db: Database) -> audit.VerifyResult:
    with db.session() as session:
        return audit.verify(session)


def _rows(db: Database) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.seq)))


def _head(db: Database) -> tuple[int, str]:
    with db.session() as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        return head.seq, head.hash


# -- a fresh chain --------------------------------------------------------------------------------

def test_empty_chain_verifies(db: Database) -> None:
    assert _verify(db) == audit.VerifyResult(True, 0)


def test_fresh_chain_is_linked_and_verifies(db: Database) -> None:
    _append_n(db, 5)
    rows = _rows(db)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    for earlier, later in zip(rows, rows[1:]):
        assert later.prev_hash == earlier.hash
    for row in rows:  # each stored hash is the documented SHA-256 of the row's fields
        assert row.hash == audit.event_hash(
            seq=row.seq, request_id=row.request_id, event=row.event, state=row.state, actor=row.actor,
            ts=row.ts, detail=row.detail, prev_hash=row.prev_hash,
        )
        assert row.ts.utcoffset() == timedelta(0)
    assert _head(db) == (5, rows[-1].hash)
    assert _verify(db) == audit.VerifyResult(True, 5)


def test_several_appends_in_one_transaction_chain_in_order(db: Database) -> None:
    with db.session() as session:
        a = audit.append(session, event="a", actor="x")
        b = audit.append(session, event="b", actor="x")
    assert (a.seq, b.seq, b.prev_hash) == (1, 2, a.hash)
    assert _verify(db).ok


# -- tampering ------------------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["detail", "actor", "event", "ts", "state", "request_id"])
def test_an_edited_column_is_detected_at_that_event(db: Database, column: str) -> None:
    _append_n(db, 5)
    if column == "detail":
        raw_set_json(db, "audit_events", "detail", {"i": 3, "note": "nothing to see"}, "seq = 3")
    elif column == "ts":
        row = _rows(db)[2]
        raw_set_time(db, "audit_events", "ts", row.ts - timedelta(seconds=1), "seq = 3")
    else:
        assert raw(db, f"UPDATE audit_events SET {column} = 'U0MALLORY' WHERE seq = 3") == 1
    result = _verify(db)
    assert not result.ok
    assert result.bad_seq == 3
    assert result.count == 2
    assert "hash" in result.reason


def test_a_microsecond_change_of_ts_is_detected(db: Database) -> None:
    _append_n(db, 3)
    row = _rows(db)[1]
    raw_set_time(db, "audit_events", "ts", row.ts + timedelta(microseconds=1), "seq = 2")
    assert _verify(db).bad_seq == 2


def test_a_deleted_middle_row_is_detected(db: Database) -> None:
    _append_n(db, 5)
    assert raw(db, "DELETE FROM audit_events WHERE seq = 3") == 1
    result = _verify(db)
    assert not result.ok
    # event 3 is gone; the first event present that does not fit is 4
    assert (result.bad_seq, result.count) == (4, 2)
    assert "3 is missing" in result.reason


def test_a_deleted_first_row_is_detected(db: Database) -> None:
    _append_n(db, 3)
    raw(db, "DELETE FROM audit_events WHERE seq = 1")
    result = _verify(db)
    assert (result.ok, result.bad_seq, result.count) == (False, 2, 0)


def test_a_deleted_last_row_is_a_head_mismatch(db: Database) -> None:
    _append_n(db, 5)
    assert raw(db, "DELETE FROM audit_events WHERE seq = 5") == 1
    result = _verify(db)
    assert not result.ok
    assert (result.bad_seq, result.count) == (5, 4)
    assert "head" in result.reason


def test_all_rows_deleted_is_a_head_mismatch(db: Database) -> None:
    _append_n(db, 3)
    raw(db, "DELETE FROM audit_events")
    result = _verify(db)
    assert (result.ok, result.bad_seq, result.count) == (False, 1, 0)


def test_two_rows_swapped_keeping_seq_are_detected(db: Database) -> None:
    _append_n(db, 5)
    rows = {r.seq: r for r in _rows(db)}
    cols = ["request_id", "event", "state", "actor", "prev_hash", "hash"]
    for seq, source in ((2, rows[3]), (3, rows[2])):
        assignments = ", ".join(f"{c} = :{c}" for c in cols)
        raw(db, f"UPDATE audit_events SET {assignments} WHERE seq = :seq",
            seq=seq, **{c: getattr(source, c) for c in cols})
        raw_set_time(db, "audit_events", "ts", source.ts, "seq = :seq", seq=seq)
        raw_set_json(db, "audit_events", "detail", source.detail, "seq = :seq", seq=seq)
    swapped = {r.seq: r for r in _rows(db)}
    assert (swapped[2].event, swapped[3].event) == ("step3", "step2")
    result = _verify(db)
    assert not result.ok
    assert (result.bad_seq, result.count) == (2, 1)


def _rehash(db: Database, seq: int, **changes: object) -> str:
    """Rewrite event ``seq`` with ``changes`` and a freshly computed, self-consistent hash."""
    row = next(r for r in _rows(db) if r.seq == seq)
    fields = dict(seq=row.seq, request_id=row.request_id, event=row.event, state=row.state, actor=row.actor,
                  ts=row.ts, detail=row.detail, prev_hash=row.prev_hash)
    fields.update(changes)
    digest = audit.event_hash(**fields)  # type: ignore[arg-type]
    raw(db, "UPDATE audit_events SET actor = :actor, prev_hash = :prev, hash = :hash WHERE seq = :seq",
        actor=fields["actor"], prev=fields["prev_hash"], hash=digest, seq=seq)
    return digest


def test_a_recomputed_row_with_a_forged_link_is_detected_at_that_row(db: Database) -> None:
    """The row's own hash is right for its content, but its prev_hash points nowhere."""
    _append_n(db, 5)
    _rehash(db, 3, actor="U0MALLORY", prev_hash="f" * 64)
    result = _verify(db)
    assert (result.ok, result.bad_seq, result.count) == (False, 3, 2)
    assert "prev_hash" in result.reason


def test_a_recomputed_middle_row_breaks_the_next_link(db: Database) -> None:
    """Edit event 3 and recompute its hash: 3 is self-consistent, 4 no longer links to it."""
    _append_n(db, 5)
    _rehash(db, 3, actor="U0MALLORY")
    result = _verify(db)
    assert not result.ok
    assert (result.bad_seq, result.count) == (4, 3)


def test_a_recomputed_last_row_is_named_by_verify(db: Database) -> None:
    _append_n(db, 5)
    _rehash(db, 5, actor="U0MALLORY")
    result = _verify(db)
    assert not result.ok
    assert result.bad_seq == 5


def test_a_deleted_head_row_with_truncated_events_is_detected(db: Database) -> None:
    _append_n(db, 5)
    raw(db, "DELETE FROM audit_events WHERE seq > 3")
    raw(db, "DELETE FROM audit_head")
    assert not _verify(db).ok


def test_verify_ignores_events_committed_after_the_head_it_read(db: Database) -> None:
    """Documented behaviour: events beyond the head (a concurrent append) are not examined."""
    _append_n(db, 3)
    ts = _rows(db)[0].ts
    with db.session() as session:
        head = session.get(AuditHead, 1)
        assert head is not None and head.seq == 3
        # an event row past the head, as a concurrent writer's would be before its head update is seen
        session.add(AuditEvent(seq=4, event="late", actor="x", ts=ts, detail={},
                               prev_hash=head.hash, hash="0" * 64))
    assert _verify(db) == audit.VerifyResult(True, 3)


# -- concurrency (the fork test) ------------------------------------------------------------------

def test_concurrent_appends_form_one_linear_chain(db: Database) -> None:
    threads_n, per_thread = 8, 50
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with db.session() as session:
                    audit.append(session, event="tick", actor=f"thread{k}", request_id=f"req-{k}",
                                 detail={"i": i})
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    rows = _rows(db)
    total = threads_n * per_thread
    assert [r.seq for r in rows] == list(range(1, total + 1))
    assert len({r.hash for r in rows}) == total
    assert len({r.prev_hash for r in rows}) == total  # no two events share a parent: no fork
    for earlier, later in zip(rows, rows[1:]):
        assert later.prev_hash == earlier.hash
    # every thread's events are all there, in the order that thread wrote them
    for k in range(threads_n):
        assert [r.detail["i"] for r in rows if r.actor == f"thread{k}"] == list(range(per_thread))
    assert _head(db) == (total, rows[-1].hash)
    assert _verify(db) == audit.VerifyResult(True, total)


# -- redaction ------------------------------------------------------------------------------------

def test_secrets_in_detail_are_redacted_before_hashing(db: Database) -> None:
    detail = {
        "token": "xoxb-12345-abcdef",
        "nested": {"list": ["ok", "Bearer xoxp-999999-abcdef"], "url": "https://x/?signature=abc123&a=1"},
        "ak": "LTAI5tAbCdEfGhIjKlMn",
        "n": 7,
    }
    with db.session() as session:
        audit.append(session, event="requested", actor="U0ALICE", detail=detail)
    (row,) = _rows(db)
    assert row.detail == {
        "token": "[redacted]",
        "nested": {"list": ["ok", "Bearer [redacted]"], "url": "https://x/?signature=[redacted]&a=1"},
        "ak": "[redacted]",
        "n": 7,
    }
    stored = raw(db, "SELECT detail FROM audit_events WHERE seq = 1")[0][0]
    assert "xoxb-12345-abcdef" not in str(stored) and "abc123" not in str(stored) and "LTAI5t" not in str(stored)
    # the hash covers the redacted detail, so the chain verifies as stored
    assert row.hash == audit.event_hash(seq=1, request_id=None, event="requested", state=None, actor="U0ALICE",
                                        ts=row.ts, detail=row.detail, prev_hash=audit.GENESIS)
    assert _verify(db).ok


def test_detail_is_stored_as_canonical_json_that_survives_the_round_trip(db: Database) -> None:
    """Non-JSON values (tuples, datetimes, sets) are normalised before hashing, so verify holds."""
    when = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    with db.session() as session:
        audit.append(session, event="e", actor="a",
                     detail={"t": (1, 2), "when": when, "f": 0.1, "big": 2**60, "u": "ünïcødé ☃", "none": None})
    (row,) = _rows(db)
    assert row.detail == {"t": [1, 2], "when": "2026-11-29 09:00:00+00:00", "f": 0.1, "big": 2**60,
                          "u": "ünïcødé ☃", "none": None}
    assert _verify(db).ok


def test_detail_with_mixed_key_types_can_be_appended(db: Database) -> None:
    with db.session() as session:
        audit.append(session, event="e", actor="a", detail={3: "int key", "s": "str key"})
    (row,) = _rows(db)
    assert row.detail == {"3": "int key", "s": "str key"}
    assert _verify(db).ok


# -- transactions ---------------------------------------------------------------------------------

class _Boom(Exception):
    pass


def test_a_failed_transaction_leaves_no_event_and_no_head_change(db: Database) -> None:
    _append_n(db, 2)
    head_before = _head(db)
    with pytest.raises(_Boom):
        with db.session() as session:
            audit.append(session, event="doomed", actor="x", detail={"a": 1})
            audit.append(session, event="doomed2", actor="x")
            raise _Boom
    assert [r.event for r in _rows(db)] == ["step1", "step2"]
    assert _head(db) == head_before
    # and the next append continues the chain from where it was
    _append_n(db, 1)
    assert [r.seq for r in _rows(db)] == [1, 2, 3]
    assert _verify(db) == audit.VerifyResult(True, 3)


# -- reading ----------------------------------------------------------------------------------------

def test_events_reads_in_batches_oldest_first_with_a_request_filter(db: Database) -> None:
    for i in range(7):
        with db.session() as session:
            audit.append(session, event=f"e{i}", actor="x", request_id="even" if i % 2 == 0 else "odd")
    with db.session() as session:
        assert [e.seq for e in audit.events(session, batch=2)] == [1, 2, 3, 4, 5, 6, 7]
        assert [e.event for e in audit.events(session, request_id="even", batch=2)] == ["e0", "e2", "e4", "e6"]
        assert [e.event for e in audit.events(session, request_id="odd", batch=1)] == ["e1", "e3", "e5"]


def test_verify_while_a_writer_keeps_appending_stays_ok(db: Database) -> None:
    """A live bot: verify walks the chain up to the head it read; concurrent appends never break it."""
    _append_n(db, 20)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                with db.session() as session:
                    audit.append(session, event="live", actor="rdsbot", detail={"n": 1})
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = [_verify(db) for _ in range(5)]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert errors == []
    assert all(r.ok for r in results), results
    assert [r.count for r in results] == sorted(r.count for r in results)
    assert _verify(db).count == len(_rows(db))


# -- anchors: what the chain alone cannot see ------------------------------------------------------
def test_an_anchor_kept_elsewhere_catches_a_cut_trail_with_a_rewritten_head(db: Database) -> None:
    """Cutting the tail and pointing the head at the new last event fools the chain, not the anchor."""
    _append_n(db, 5)
    anchor = _verify(db).anchor
    assert anchor == f"5:{_head(db)[1]}"
    kept = audit.parse_anchor(anchor)
    third = _rows(db)[2].hash
    raw(db, "DELETE FROM audit_events WHERE seq > 3")
    raw(db, "UPDATE audit_head SET seq = 3, hash = :hash", hash=third)
    assert _verify(db).ok  # the chain alone cannot tell
    with db.session() as session:
        result = audit.verify(session, [kept])
    assert (result.ok, result.bad_seq) == (False, 5)
    assert "ends at 3" in result.reason


def test_an_anchor_catches_a_trail_recomputed_from_the_edit_onwards(db: Database) -> None:
    _append_n(db, 4)
    kept = audit.parse_anchor(_verify(db).anchor)
    prev = _rehash(db, 2, actor="U0MALLORY")
    for seq in (3, 4):
        prev = _rehash(db, seq, prev_hash=prev)
    raw(db, "UPDATE audit_head SET hash = :hash", hash=prev)
    assert _verify(db).ok  # self-consistent again
    with db.session() as session:
        result = audit.verify(session, [kept])
    assert (result.ok, result.bad_seq) == (False, 4)
    assert "not the one anchored" in result.reason


def test_older_anchors_still_match_after_more_events(db: Database) -> None:
    _append_n(db, 2)
    first = audit.parse_anchor(_verify(db).anchor)
    _append_n(db, 3)
    second = audit.parse_anchor(_verify(db).anchor)
    with db.session() as session:
        result = audit.verify(session, [first, second])
    assert (result.ok, result.count) == (True, 5)


@pytest.mark.parametrize("text", ["", "5", "0:" + "a" * 64, "x:" + "a" * 64, "5:" + "a" * 63, "5:" + "A" * 64,
                                  "5:" + "g" * 64])
def test_a_malformed_anchor_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="<event number>:<64 lowercase hex digits>"):
        audit.parse_anchor(text)
