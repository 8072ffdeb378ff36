"""Request state changes: create, conditional move, exactly-once under races, outbox dedupe."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.store.db import Database
from bot.store.models import AuditEvent, OutboxMessage, Request
from bot.workflow import transitions as tx
from bot.workflow.states import INITIAL, TERMINAL, TRANSITIONS, State, can_move, sources_of

from .conftest import insert_request, new_request


def _events(db: Database, request_id: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.request_id == request_id)
                                 .order_by(AuditEvent.seq)))


def _request(db: Database, request_id: str) -> Request:
    with db.session() as session:
        request = session.get(Request, request_id)
        assert request is not None
        return request


def _outbox(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


# -- the state table itself -------------------------------------------------------------------------

def test_state_table_is_the_designed_machine() -> None:
    assert {s: set(t) for s, t in TRANSITIONS.items()} == {
        State.PENDING_APPROVAL: {State.APPROVED, State.REJECTED, State.EXPIRED, State.CANCELLED},
        # DESIGN.md: the decision made again just before the call may deny it or ask for more approvers.
        State.APPROVED: {State.SUBMITTED, State.CANCELLED, State.DENIED, State.PENDING_APPROVAL, State.HELD},
        # a change freeze in force when the gate looks: held, then approved again (and decided again) when it ends
        State.HELD: {State.APPROVED, State.CANCELLED},
        State.SUBMITTED: {State.RUNNING, State.FAILED},
        State.RUNNING: {State.SUCCEEDED, State.FAILED},
    }
    assert INITIAL == {State.PENDING_APPROVAL, State.APPROVED, State.DENIED}
    assert all(not TRANSITIONS.get(s) for s in TERMINAL)  # nothing leaves an end state
    assert TERMINAL.isdisjoint(TRANSITIONS)
    # every state is reachable from an initial state
    reachable = set(INITIAL)
    for _ in State:
        reachable |= {t for s in reachable for t in TRANSITIONS.get(s, ())}
    assert reachable == set(State)


def test_new_request_id_is_a_valid_client_token() -> None:
    ids = {tx.new_request_id("restore") for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) <= 64 and i.isascii() and i.startswith("restore-") for i in ids)


# -- create ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
def test_create_only_in_initial_states(shared_db: Database, state: State) -> None:
    request = new_request(state)
    if state in INITIAL:
        with shared_db.session() as session:
            tx.create(session, request, actor="U0ALICE", detail={"reason": "test"})
        assert _request(shared_db, request.id).state == state
        (event,) = _events(shared_db, request.id)
        assert (event.event, event.state, event.actor, event.detail) == (
            "requested", state.value, "U0ALICE", {"reason": "test"})
    else:
        with pytest.raises(ValueError):
            with shared_db.session() as session:
                tx.create(session, request, actor="U0ALICE", detail={})
        with shared_db.session() as session:
            assert session.get(Request, request.id) is None
        assert _events(shared_db, request.id) == []


# -- move: the full table ---------------------------------------------------------------------------

PAIRS = list(itertools.product(State, State))


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s.value}->{t.value}" for s, t in PAIRS])
def test_move_follows_the_transition_table(shared_db: Database, source: State, target: State) -> None:
    request_id = insert_request(shared_db, source)
    before = _request(shared_db, request_id)
    with shared_db.session() as session:
        moved = tx.move(session, request_id, target, actor="U0BOB")
    after = _request(shared_db, request_id)
    events = _events(shared_db, request_id)
    if can_move(source, target):
        assert moved is not None and moved.state == target
        assert after.state == target
        assert after.version == before.version + 1
        assert after.updated_at >= before.updated_at
        assert (after.finished_at is not None) == (target in TERMINAL)
        assert [(e.event, e.state, e.actor) for e in events] == [(target.value, target.value, "U0BOB")]
    else:
        assert moved is None
        assert (after.state, after.version, after.updated_at) == (source, before.version, before.updated_at)
        assert events == []


# -- move: exactly once -----------------------------------------------------------------------------

def test_move_writes_one_event_and_a_second_identical_move_does_nothing(db: Database) -> None:
    request_id = insert_request(db, State.APPROVED)
    with db.session() as session:
        moved = tx.move(session, request_id, State.SUBMITTED, actor="rdsbot", event="submitted",
                        detail={"api": "CloneDBInstance"}, attempts=Request.attempts + 1)
    assert moved is not None and moved.state == State.SUBMITTED and moved.attempts == 1
    with db.session() as session:
        again = tx.move(session, request_id, State.SUBMITTED, actor="rdsbot", event="submitted")
    assert again is None
    request = _request(db, request_id)
    assert (request.state, request.attempts, request.version) == (State.SUBMITTED, 1, 2)
    assert [(e.event, e.detail) for e in _events(db, request_id)] == [("submitted", {"api": "CloneDBInstance"})]


def test_a_move_in_a_failed_transaction_leaves_state_and_trail_alone(db: Database) -> None:
    request_id = insert_request(db, State.APPROVED)
    with pytest.raises(RuntimeError):
        with db.session() as session:
            assert tx.move(session, request_id, State.SUBMITTED, actor="rdsbot") is not None
            tx.enqueue(session, request_id=request_id, kind="reply", dedupe_key=f"{request_id}:submitted")
            raise RuntimeError("the RDS call blew up before commit")
    assert _request(db, request_id).state == State.APPROVED
    assert _events(db, request_id) == []
    assert _outbox(db) == []


def test_two_threads_racing_the_same_move_exactly_one_wins(db: Database) -> None:
    rounds = 20
    for round_no in range(rounds):
        request_id = insert_request(db, State.APPROVED, request_id=f"clone-race-{round_no:02d}")
        barrier = threading.Barrier(2)
        outcomes: list[bool] = []
        errors: list[BaseException] = []

        def click(who: str) -> None:
            try:
                barrier.wait()
                with db.session() as session:
                    moved = tx.move(session, request_id, State.SUBMITTED, actor=who, event="submitted")
                    if moved is not None:
                        tx.enqueue(session, request_id=request_id, kind="reply", dedupe_key=f"{request_id}:go")
                    time.sleep(0.005)  # hold the transaction open: the loser must wait and then see "submitted"
                outcomes.append(moved is not None)
            except BaseException as error:  # noqa: BLE001
                errors.append(error)

        threads = [threading.Thread(target=click, args=(f"replica{k}",)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        assert sorted(outcomes) == [False, True], f"round {round_no}"
        events = _events(db, request_id)
        assert [e.event for e in events] == ["submitted"]
        assert _request(db, request_id).version == 2
    assert len(_outbox(db)) == rounds


def test_racing_approve_against_reject_or_expire_only_one_wins(db: Database) -> None:
    """Different targets that both leave pending_approval only: still exactly one change."""
    for round_no in range(10):
        rival = State.REJECTED if round_no % 2 else State.EXPIRED
        request_id = insert_request(db, State.PENDING_APPROVAL, request_id=f"clone-ac-{round_no:02d}")
        barrier = threading.Barrier(2)
        outcomes: dict[State, bool] = {}

        def act(target: State) -> None:
            barrier.wait()
            with db.session() as session:
                outcomes[target] = tx.move(session, request_id, target, actor="U0X") is not None

        threads = [threading.Thread(target=act, args=(t,)) for t in (State.APPROVED, rival)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes.values()) == [False, True]
        winner = next(t for t, won in outcomes.items() if won)
        assert _request(db, request_id).state == winner
        assert [e.event for e in _events(db, request_id)] == [winner.value]


def test_sources_of_matches_the_table() -> None:
    for target in State:
        assert sources_of(target) == {s for s in State if can_move(s, target)}


# -- outbox enqueue ---------------------------------------------------------------------------------

def test_enqueue_same_dedupe_key_twice_keeps_one_row(db: Database) -> None:
    request_id = insert_request(db, State.RUNNING)
    with db.session() as session:
        assert tx.enqueue(session, request_id=request_id, kind="final", dedupe_key=f"{request_id}:final",
                          data={"text": "first"}) is True
        assert tx.enqueue(session, request_id=request_id, kind="final", dedupe_key=f"{request_id}:final",
                          data={"text": "second"}) is False
    with db.session() as session:
        assert tx.enqueue(session, request_id=request_id, kind="final", dedupe_key=f"{request_id}:final",
                          data={"text": "third"}) is False
    rows = _outbox(db)
    assert [(r.dedupe_key, r.data, r.state, r.attempts) for r in rows] == [
        (f"{request_id}:final", {"text": "first"}, "pending", 0)]


def test_concurrent_enqueue_of_one_dedupe_key_keeps_one_row(db: Database) -> None:
    for round_no in range(5):
        key = f"req-{round_no}:final"
        barrier = threading.Barrier(2)
        outcomes: list[bool] = []
        errors: list[BaseException] = []

        def record(k: int) -> None:
            try:
                barrier.wait()
                with db.session() as session:
                    outcomes.append(tx.enqueue(session, request_id=None, kind="final", dedupe_key=key,
                                               data={"by": k}))
                    time.sleep(0.01)  # the other insert must wait on the unique index
            except BaseException as error:  # noqa: BLE001
                errors.append(error)

        threads = [threading.Thread(target=record, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        assert sorted(outcomes) == [False, True]
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 5


def test_a_failed_enqueue_does_not_undo_the_rest_of_the_transaction(db: Database) -> None:
    """The duplicate insert is rolled back to its savepoint only; the move beside it stays."""
    request_id = insert_request(db, State.APPROVED)
    with db.session() as session:
        tx.enqueue(session, request_id=request_id, kind="reply", dedupe_key="k")
    with db.session() as session:
        assert tx.move(session, request_id, State.SUBMITTED, actor="rdsbot") is not None
        assert tx.enqueue(session, request_id=request_id, kind="reply", dedupe_key="k") is False
        assert tx.enqueue(session, request_id=request_id, kind="reply", dedupe_key="k2") is True
    assert _request(db, request_id).state == State.SUBMITTED
    assert [r.dedupe_key for r in _outbox(db)] == ["k", "k2"]
