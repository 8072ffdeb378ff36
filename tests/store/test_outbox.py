"""Outbox delivery with a fake Slack sender: order, retry, dead letters, crash recovery, two workers."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.store.db import Database
from bot.store.models import AuditEvent, OutboxMessage, Request
from bot.timeutil import utcnow
from bot.workflow import outbox as outbox_module
from bot.workflow import transitions as tx
from bot.workflow.outbox import OutboxDispatcher
from bot.workflow.ports import SendError
from bot.workflow.states import State

from .conftest import insert_request, raw, raw_set_time


class FakeSender:
    """Slack, as far as the outbox can tell: records posts, fails on demand, remembers what it has."""

    _ts = itertools.count(1)

    def __init__(self, log: list[tuple[str, int]] | None = None, name: str = "sender", delay: float = 0.0) -> None:
        self.name = name
        self.log = log if log is not None else []  # (sender name, outbox id), shared between workers
        self.delay = delay
        self.lock = threading.Lock()
        self.failures: dict[str, list[Exception]] = {}  # dedupe_key -> errors to raise, one per call
        self.found: dict[str, tuple[str, str]] = {}  # dedupe_key -> what Slack already has
        self.find_calls: list[int] = []
        self.hooks: dict[str, Callable[[OutboxMessage], None]] = {}  # dedupe_key -> run inside send

    def send(self, message: OutboxMessage, request: Request | None) -> tuple[str, str]:
        assert message.id is not None
        hook = self.hooks.pop(message.dedupe_key, None)
        if hook is not None:
            hook(message)
        with self.lock:
            errors = self.failures.get(message.dedupe_key)
            if errors:
                raise errors.pop(0)
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.log.append((self.name, message.id))
        return "C0OPS", f"1700000000.{next(self._ts):06d}"

    def find_sent(self, message: OutboxMessage, request: Request | None) -> tuple[str, str] | None:
        assert message.id is not None
        self.find_calls.append(message.id)
        return self.found.get(message.dedupe_key)

    def update_progress(self, request: Request, text: str) -> None:  # pragma: no cover - not used here
        pass

    @property
    def sent_ids(self) -> list[int]:
        return [i for name, i in self.log if name == self.name]


def _enqueue(db: Database, items: list[tuple[str | None, str, str]]) -> dict[str, int]:
    """Enqueue (request_id, kind, dedupe_key) in order; returns dedupe_key -> outbox id."""
    with db.session() as session:
        for request_id, kind, key in items:
            assert tx.enqueue(session, request_id=request_id, kind=kind, dedupe_key=key, data={"text": key})
    with db.session() as session:
        return {r.dedupe_key: r.id for r in session.exec(select(OutboxMessage))}  # type: ignore[misc]


def _rows(db: Database) -> dict[str, OutboxMessage]:
    with db.session() as session:
        return {r.dedupe_key: r for r in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))}


def _events(db: Database, event: str) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.seq)))


def _drain(dispatcher: OutboxDispatcher, rounds: int = 50) -> None:
    for _ in range(rounds):
        if dispatcher.deliver() == 0 and not [r for r in dispatcher.pending() if r["state"] in {"pending", "sending"}]:
            return
    raise AssertionError("outbox did not drain")


def _age_claim(db: Database, outbox_id: int, seconds: float) -> None:
    """Move a row's claim (and its retry wait) ``seconds`` into the past."""
    raw_set_time(db, "outbox", "claimed_at", utcnow() - timedelta(seconds=seconds), "id = :id", id=outbox_id)
    raw_set_time(db, "outbox", "not_before", utcnow() - timedelta(seconds=seconds), "id = :id", id=outbox_id)


# -- order ----------------------------------------------------------------------------------------

def test_messages_of_one_request_go_out_in_id_order(db: Database) -> None:
    a = insert_request(db, State.RUNNING, request_id="clone-a")
    b = insert_request(db, State.RUNNING, request_id="clone-b")
    ids = _enqueue(db, [
        (a, "anchor", "a:anchor"), (b, "anchor", "b:anchor"), (a, "reply", "a:1"), (None, "dm", "dm:1"),
        (b, "reply", "b:1"), (a, "reply", "a:2"), (b, "final", "b:final"), (a, "final", "a:final"),
    ])
    sender = FakeSender()
    _drain(OutboxDispatcher(db, sender, worker_id="w1"))
    assert sorted(sender.sent_ids) == sorted(ids.values())  # each exactly once
    order = {rid: [i for i in sender.sent_ids if i in {ids[k] for k in ids if k.startswith(rid[-1] + ":")}]
             for rid in (a, b)}
    assert order[a] == [ids["a:anchor"], ids["a:1"], ids["a:2"], ids["a:final"]]
    assert order[b] == [ids["b:anchor"], ids["b:1"], ids["b:final"]]
    rows = _rows(db)
    assert {r.state for r in rows.values()} == {"sent"}
    assert all(r.slack_channel == "C0OPS" and r.slack_ts and r.sent_at and r.claimed_by == "w1"
               for r in rows.values())
    # the anchor became the request's thread; each final reply is on the audit trail once
    with db.session() as session:
        request_a = session.get(Request, a)
        assert request_a is not None
        assert (request_a.thread_channel, request_a.thread_ts) == ("C0OPS", rows["a:anchor"].slack_ts)
    finals = _events(db, "final_posted")
    assert sorted(e.request_id for e in finals) == [a, b]  # type: ignore[type-var]


# -- transient failures -----------------------------------------------------------------------------

def test_a_transient_failure_is_retried_later_and_holds_back_its_request(db: Database) -> None:
    a = insert_request(db, State.RUNNING, request_id="clone-a")
    b = insert_request(db, State.RUNNING, request_id="clone-b")
    ids = _enqueue(db, [(a, "anchor", "a:anchor"), (a, "reply", "a:1"), (b, "anchor", "b:anchor")])
    sender = FakeSender()
    sender.failures["a:anchor"] = [SendError("ratelimited", permanent=False)]
    dispatcher = OutboxDispatcher(db, sender, worker_id="w1")

    assert dispatcher.deliver() == 1  # b's anchor: another request is not held back
    rows = _rows(db)
    assert (rows["a:anchor"].state, rows["a:anchor"].attempts, rows["a:anchor"].last_error) == (
        "pending", 1, "ratelimited")
    assert rows["a:1"].state == "pending" and rows["a:1"].attempts == 0

    assert dispatcher.deliver() == 0  # inside the backoff: a:anchor waits, and a:1 waits behind it
    assert _rows(db)["a:1"].attempts == 0

    _age_claim(db, ids["a:anchor"], 10)  # the backoff (2 s after one failure) has passed
    assert dispatcher.deliver() == 2  # a's anchor, then (next round of the same call) its reply
    assert sender.sent_ids == [ids["b:anchor"], ids["a:anchor"], ids["a:1"]]
    assert sender.find_calls == [ids["a:anchor"]]  # a second attempt first asks Slack
    rows = _rows(db)
    assert (rows["a:anchor"].state, rows["a:anchor"].attempts, rows["a:anchor"].last_error) == ("sent", 2, None)
    assert _events(db, "notification_failed") == []


def test_a_sender_crash_is_treated_as_transient(db: Database) -> None:
    ids = _enqueue(db, [(None, "dm", "dm:1")])
    sender = FakeSender()
    sender.failures["dm:1"] = [RuntimeError("bug in the sender")]
    dispatcher = OutboxDispatcher(db, sender, worker_id="w1")
    assert dispatcher.deliver() == 0
    row = _rows(db)["dm:1"]
    assert (row.state, row.last_error) == ("pending", "RuntimeError: bug in the sender")
    _age_claim(db, ids["dm:1"], 10)
    assert dispatcher.deliver() == 1


# -- permanent failures -----------------------------------------------------------------------------

def test_a_permanent_failure_is_dead_and_audited(db: Database) -> None:
    a = insert_request(db, State.RUNNING, request_id="clone-a")
    ids = _enqueue(db, [(a, "anchor", "a:anchor"), (a, "reply", "a:1")])
    sender = FakeSender()
    sender.failures["a:anchor"] = [SendError("channel_not_found", permanent=True)]
    dispatcher = OutboxDispatcher(db, sender, worker_id="w1")
    assert dispatcher.deliver() == 0
    row = _rows(db)["a:anchor"]
    assert (row.state, row.attempts, row.last_error) == ("dead", 1, "channel_not_found")
    (event,) = _events(db, "notification_failed")
    assert (event.request_id, event.state, event.actor) == (a, "running", "rdsbot")
    assert event.detail == {"kind": "anchor", "error": "channel_not_found", "attempts": 1}
    # a dead message is never retried; the rest of its request is no longer held back
    _drain(dispatcher)
    assert sender.sent_ids == [ids["a:1"]]
    assert _rows(db)["a:anchor"].state == "dead"


def test_too_many_transient_failures_make_a_message_dead(db: Database) -> None:
    ids = _enqueue(db, [(None, "dm", "dm:1")])
    raw(db, "UPDATE outbox SET attempts = :n WHERE id = :id", n=outbox_module.MAX_ATTEMPTS - 1, id=ids["dm:1"])
    sender = FakeSender()
    sender.failures["dm:1"] = [SendError("timeout", permanent=False)]
    assert OutboxDispatcher(db, sender, worker_id="w1").deliver() == 0
    row = _rows(db)["dm:1"]
    assert (row.state, row.attempts) == ("dead", outbox_module.MAX_ATTEMPTS)
    (event,) = _events(db, "notification_failed")
    assert event.detail["attempts"] == outbox_module.MAX_ATTEMPTS and event.request_id is None


# -- crash recovery ---------------------------------------------------------------------------------

def _crash_mid_send(db: Database, outbox_id: int, *, age_s: float) -> None:
    raw(db, "UPDATE outbox SET state = 'sending', attempts = 1, claimed_by = 'crashed' WHERE id = :id", id=outbox_id)
    _age_claim(db, outbox_id, age_s)


def test_a_stale_claim_asks_slack_first_and_does_not_post_twice(db: Database) -> None:
    a = insert_request(db, State.RUNNING, request_id="clone-a")
    ids = _enqueue(db, [(a, "anchor", "a:anchor"), (a, "reply", "a:1")])
    _crash_mid_send(db, ids["a:anchor"], age_s=120)
    sender = FakeSender()
    sender.found["a:anchor"] = ("C0OPS", "1699999999.000001")  # the crashed worker's post did arrive
    dispatcher = OutboxDispatcher(db, sender, worker_id="w2")
    _drain(dispatcher)
    assert sender.find_calls == [ids["a:anchor"]]
    assert sender.sent_ids == [ids["a:1"]]  # the anchor was NOT posted again
    row = _rows(db)["a:anchor"]
    assert (row.state, row.slack_ts, row.claimed_by, row.attempts) == ("sent", "1699999999.000001", "w2", 2)
    with db.session() as session:
        request = session.get(Request, a)
        assert request is not None and request.thread_ts == "1699999999.000001"


def test_a_stale_claim_whose_post_never_arrived_is_sent_once(db: Database) -> None:
    ids = _enqueue(db, [(None, "dm", "dm:1")])
    _crash_mid_send(db, ids["dm:1"], age_s=120)
    sender = FakeSender()
    _drain(OutboxDispatcher(db, sender, worker_id="w2"))
    assert sender.find_calls == [ids["dm:1"]]
    assert sender.sent_ids == [ids["dm:1"]]


def test_a_fresh_claim_is_left_to_its_worker_and_holds_back_its_request(db: Database) -> None:
    a = insert_request(db, State.RUNNING, request_id="clone-a")
    ids = _enqueue(db, [(a, "anchor", "a:anchor"), (a, "reply", "a:1")])
    _crash_mid_send(db, ids["a:anchor"], age_s=10)  # within the 60 s lease: someone is still sending it
    sender = FakeSender()
    dispatcher = OutboxDispatcher(db, sender, worker_id="w2")
    assert dispatcher.deliver() == 0
    assert (sender.sent_ids, sender.find_calls) == ([], [])
    assert _rows(db)["a:1"].state == "pending"


# -- two workers ----------------------------------------------------------------------------------

def test_two_dispatchers_send_each_row_exactly_once_in_request_order(db: Database) -> None:
    requests = [insert_request(db, State.RUNNING, request_id=f"clone-{k}") for k in range(8)]
    items: list[tuple[str | None, str, str]] = []
    for step in range(5):
        for rid in requests:
            items.append((rid, "reply", f"{rid}:{step}"))
        items.append((None, "dm", f"dm:{step}"))
        items.append((None, "dm", f"dm:{step}b"))
    assert len(items) == 50
    ids = _enqueue(db, items)
    log: list[tuple[str, int]] = []
    senders = [FakeSender(log, name=f"w{k}", delay=0.002) for k in range(2)]
    dispatchers = [OutboxDispatcher(db, s, worker_id=s.name) for s in senders]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(dispatcher: OutboxDispatcher) -> None:
        try:
            barrier.wait()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                dispatcher.deliver()
                if all(r["state"] not in {"pending", "sending"} for r in dispatcher.pending()):
                    return
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=work, args=(d,)) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    sent = [i for _, i in log]
    assert sorted(sent) == sorted(ids.values())  # all 50, none twice
    for rid in requests:
        mine = [ids[f"{rid}:{step}"] for step in range(5)]
        assert [i for i in sent if i in mine] == mine
    rows = _rows(db)
    assert {r.state for r in rows.values()} == {"sent"}
    assert all(r.attempts == 1 for r in rows.values())
    assert {r.claimed_by for r in rows.values()} <= {"w0", "w1"}


# -- a channel's pace -------------------------------------------------------------------------------

def test_a_paced_message_waits_unclaimed_and_holds_back_only_its_request(db: Database) -> None:
    a = insert_request(db, State.RUNNING, request_id="clone-a")
    b = insert_request(db, State.RUNNING, request_id="clone-b")
    ids = _enqueue(db, [(a, "reply", "a:1"), (a, "final", "a:final"), (b, "final", "b:final")])
    busy = {a}  # a's channel has posted its fill
    sender = FakeSender()
    dispatcher = OutboxDispatcher(db, sender, worker_id="w1",
                                  pace=lambda row, request: 0.8 if request and request.id in busy else 0.0)
    assert dispatcher.deliver() == 1 and sender.sent_ids == [ids["b:final"]]
    assert 0 < dispatcher.paced_for_s() <= 0.8, "the sender wakes when a's channel is free"
    held = _rows(db)["a:1"]
    assert (held.state, held.attempts, held.claimed_by, held.last_error) == ("pending", 0, None, None), \
        "held back, not tried: no attempt counted"
    busy.clear()
    assert dispatcher.deliver() == 2 and dispatcher.paced_for_s() == 0
    assert sender.sent_ids == [ids["b:final"], ids["a:1"], ids["a:final"]]


def test_messages_held_back_by_the_pace_do_not_hide_the_ones_behind_them(db: Database,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_module, "PAGE", 3)
    held = [insert_request(db, State.RUNNING, request_id=f"clone-held-{n}") for n in range(7)]
    free = insert_request(db, State.RUNNING, request_id="clone-free")
    ids = _enqueue(db, [(r, "final", f"{r}:final") for r in held] + [(free, "final", "free:final")])
    sender = FakeSender()
    dispatcher = OutboxDispatcher(db, sender, worker_id="w1",
                                  pace=lambda row, request: 5.0 if request and request.id in held else 0.0)
    assert dispatcher.deliver() == 1 and sender.sent_ids == [ids["free:final"]]


def test_in_a_busy_channel_a_new_card_goes_before_older_replies(db: Database) -> None:
    old = insert_request(db, State.RUNNING, request_id="clone-old")
    new = insert_request(db, State.PENDING_APPROVAL, request_id="clone-new")
    ids = _enqueue(db, [(old, "final", "old:final"), (new, "anchor", "new:anchor")])
    sender = FakeSender()
    slots = [0.0]  # the channel has room for one post

    def pace(row: OutboxMessage, request: Request | None) -> float:
        return 0.0 if slots else 1.0

    def posted(message: OutboxMessage) -> None:
        slots.pop()

    sender.hooks = {"new:anchor": posted, "old:final": posted}
    OutboxDispatcher(db, sender, worker_id="w1", pace=pace).deliver()
    assert sender.sent_ids == [ids["new:anchor"]]


def test_an_edit_of_a_posted_progress_line_that_a_newer_edit_overwrites_is_skipped(db: Database) -> None:
    line = insert_request(db, State.RUNNING, request_id="backup-a", operation="backup", thread_channel="C0OPS",
                          thread_ts="1.000100", progress_ts="1.000200")
    fresh = insert_request(db, State.RUNNING, request_id="backup-b", operation="backup", thread_channel="C0OPS",
                           thread_ts="1.000300")
    ids = _enqueue(db, [(line, "progress_edit", f"a:edit:{p}") for p in (10, 40, 70)]
                   + [(fresh, "progress_edit", f"b:edit:{p}") for p in (10, 40)])
    sender = FakeSender()
    _drain(OutboxDispatcher(db, sender, worker_id="w1"))
    assert sorted(sender.sent_ids) == sorted([ids["a:edit:70"], ids["b:edit:10"], ids["b:edit:40"]]), \
        "a's line shows 70% at once; b's line did not exist yet: its first edit posts it"
    rows = _rows(db)
    assert {r.state for r in rows.values()} == {"sent"}
    assert (rows["a:edit:10"].slack_channel, rows["a:edit:10"].slack_ts) == ("C0OPS", "1.000200")


# -- bugs -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("permanent", [False, True], ids=["transient", "permanent"])
def test_a_late_failure_from_an_expired_claim_does_not_undo_a_delivery(db: Database, permanent: bool) -> None:
    ids = _enqueue(db, [(None, "dm", "dm:1")])
    log: list[tuple[str, int]] = []
    slow, fast = FakeSender(log, name="slow"), FakeSender(log, name="fast")
    worker_b = OutboxDispatcher(db, fast, worker_id="fast")

    def lease_expires_and_b_delivers(_: OutboxMessage) -> None:
        _age_claim(db, ids["dm:1"], 120)
        assert worker_b.deliver() == 1

    slow.hooks["dm:1"] = lease_expires_and_b_delivers
    slow.failures["dm:1"] = [SendError("timeout", permanent=permanent)]
    OutboxDispatcher(db, slow, worker_id="slow").deliver()
    row = _rows(db)["dm:1"]
    assert (row.state, row.claimed_by) == ("sent", "fast")
    assert _events(db, "notification_failed") == []
    _age_claim(db, ids["dm:1"], 120)
    worker_b.deliver()
    assert [i for _, i in log] == [ids["dm:1"]]


def test_final_posted_is_audited_once_when_a_claim_was_taken_over(db: Database) -> None:
    a = insert_request(db, State.SUCCEEDED, request_id="clone-a")
    ids = _enqueue(db, [(a, "final", "a:final")])
    slow, fast = FakeSender(name="slow"), FakeSender(name="fast")
    worker_b = OutboxDispatcher(db, fast, worker_id="fast")

    def lease_expires_and_b_delivers(_: OutboxMessage) -> None:
        _age_claim(db, ids["a:final"], 120)
        assert worker_b.deliver() == 1

    slow.hooks["a:final"] = lease_expires_and_b_delivers
    OutboxDispatcher(db, slow, worker_id="slow").deliver()
    assert _rows(db)["a:final"].claimed_by == "fast"
    assert len(_events(db, "final_posted")) == 1


def test_a_long_backlog_of_one_request_does_not_starve_the_others(db: Database) -> None:
    x = insert_request(db, State.RUNNING, request_id="clone-x")
    y = insert_request(db, State.RUNNING, request_id="clone-y")
    ids = _enqueue(db, [(x, "reply", f"x:{i}") for i in range(200)] + [(y, "final", "y:final")])
    sender = FakeSender()
    sender.failures["x:0"] = [SendError("ratelimited")]  # x's head is now backing off
    dispatcher = OutboxDispatcher(db, sender, worker_id="w1")
    dispatcher.deliver()
    dispatcher.deliver()
    assert ids["y:final"] in sender.sent_ids
