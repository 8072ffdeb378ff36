"""Delivers the outbox: each recorded Slack message is sent once, in order.

A message is *claimed* with a conditional update before it is sent, so two
threads or replicas never send the same one. A claim that is older than the
lease belongs to a sender that died mid-send: before sending again, the Slack
side is asked whether the message already arrived (our messages carry
metadata), so a crash between "posted" and "recorded" does not post twice.
Within one request, messages go out in the order they were recorded; the
thread's anchor comes first and the final reply last; an edit of a progress
line that a newer edit will overwrite is skipped. A ``pace`` (the Slack
sender's :meth:`~bot.slack.sender.SlackSender.wait_s`) may hold a message back
while its channel is at Slack's rate: it is left unclaimed, no attempt counted,
and the sender wakes when the channel is free again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from bot import crashpoints, metrics
from bot.store import audit
from bot.store.db import Database
from bot.store.models import OutboxMessage, Request
from bot.timeutil import utcnow
from bot.workflow import notices as n
from bot.workflow.background import Wakeup
from bot.workflow.ports import Sender, SendError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
PAGE = 200
MAX_WAITING = 10_000
IDLE_WAIT_S = 2.0  # the sender looks again at least this often, doorbell or not
Pace = Callable[[OutboxMessage, Request | None], float]


def _oldest_unsent_of_request() -> Any:
    """The id of the oldest unsent message of the row's request (correlated subquery)."""
    other = aliased(OutboxMessage)
    return (
        select(func.min(other.id))
        .where(other.request_id == OutboxMessage.request_id, other.state.in_(["pending", "sending"]))  # type: ignore[attr-defined]
        .correlate(OutboxMessage)
        .scalar_subquery()
    )


class OutboxDispatcher:
    """Sends pending outbox rows; :meth:`kick` wakes the background sender."""

    def __init__(self, db: Database, sender: Sender, *, worker_id: str, lease_s: float = 60.0,
                 wakeup: Wakeup | None = None, pace: Pace | None = None) -> None:
        self.db = db
        self.sender = sender
        self.pace = pace
        self._paced_until: float | None = None  # monotonic: when the soonest held-back message may go
        # Messages the pace holds back, as read when first held: their channel cannot change while they wait,
        # so a busy channel's backlog is not read again on every round.
        self._waiting: dict[int, tuple[OutboxMessage, Request | None]] = {}
        self.worker_id = worker_id
        self.lease = timedelta(seconds=lease_s)
        self.wakeup = wakeup or Wakeup()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.ring()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def kick(self) -> None:
        self.wakeup.ring()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.wakeup.wait(min(IDLE_WAIT_S, self.paced_for_s() or IDLE_WAIT_S))
            if self._stop.is_set():
                return
            try:
                self.deliver()
            except Exception:  # noqa: BLE001 - the loop must survive anything; it logs and retries
                log.exception("outbox delivery round failed")

    def deliver(self) -> int:
        """Send everything that is due, round after round; returns how many went out."""
        # One delivery loop at a time per process; other processes are kept apart by claims.
        with self._run_lock:
            sent = 0
            for _ in range(50):
                self._paced_until = None
                round_sent, after = 0, 0
                while after is not None:
                    # Page on: messages held back by the pace must not hide the ones behind them.
                    due, after = self._due(after)
                    paced = self._for_pace(due)
                    # In a busy channel a new request's card goes first: someone is waiting for it.
                    due.sort(key=lambda i: (i not in paced or paced[i][0].kind != n.Anchor.kind, i))
                    round_sent += sum(1 for row_id in due
                                      if not self._held(row_id, paced.get(row_id)) and self._deliver_one(row_id))
                sent += round_sent
                if not round_sent:
                    break
            self._gauge()
            return sent

    def paced_for_s(self) -> float:
        """Seconds until the soonest message held back by the pace may go (0: none is held back)."""
        until = self._paced_until
        return 0.0 if until is None else max(until - time.monotonic(), 0.001)

    def _for_pace(self, due: list[int]) -> dict[int, tuple[OutboxMessage, Request | None]]:
        """What the pace needs to know of each due message (none without a pace): the row, its request."""
        if self.pace is None or not due:
            return {}
        unread = [i for i in due if i not in self._waiting]
        found = {i: self._waiting[i] for i in due if i in self._waiting}
        if unread:
            with self.db.reader() as session:
                rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.id.in_(unread))))  # type: ignore[union-attr]
                ids = {r.request_id for r in rows if r.request_id}
                requests = {r.id: r for r in session.exec(select(Request).where(Request.id.in_(ids)))} if ids else {}  # type: ignore[attr-defined]
            found.update({r.id: (r, requests.get(r.request_id or "")) for r in rows if r.id is not None})
        return found

    def _held(self, row_id: int, found: tuple[OutboxMessage, Request | None] | None) -> bool:
        """Whether the pace holds this message back now (asked right before it would be sent, after
        the round's earlier posts); if so, the sender wakes when it may go."""
        if self.pace is None or found is None:
            return False
        wait = self.pace(*found)
        if wait <= 0:
            self._waiting.pop(row_id, None)
            return False
        if len(self._waiting) >= MAX_WAITING:
            self._waiting.clear()  # rows another sender delivered linger here: start afresh now and then
        self._waiting[row_id] = found
        until = time.monotonic() + wait
        self._paced_until = until if self._paced_until is None else min(self._paced_until, until)
        return True

    def _due(self, after: int = 0) -> tuple[list[int], int | None]:
        """The messages that may be sent now among the next page after id ``after``, and where the
        page after it starts (None: this was the last)."""
        stale = utcnow() - self.lease
        with self.db.reader() as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(
                    or_(
                        OutboxMessage.state == "pending",
                        (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < stale),  # type: ignore[operator]
                    )
                )
                # Only each request's oldest unsent message is due, so one busy
                # request's backlog never hides the others'.
                .where(or_(OutboxMessage.request_id.is_(None), OutboxMessage.id == _oldest_unsent_of_request()))  # type: ignore[union-attr]
                .where(OutboxMessage.id > after)  # type: ignore[operator]
                .order_by(OutboxMessage.id)  # type: ignore[arg-type]
                .limit(PAGE)
            ).all()
            blocked: set[str] = set()
            earliest_unsent = self._earliest_unsent(session, {r.request_id for r in rows if r.request_id})
            due = []
            now = utcnow()
            for row in rows:
                if row.state == "pending" and row.not_before is not None and row.not_before > now:
                    # Waiting after a failure; later messages of its request wait behind it.
                    if row.request_id:
                        blocked.add(row.request_id)
                    continue
                rid = row.request_id
                if rid is not None:
                    # Keep per-request order: only the oldest unsent message may go.
                    if rid in blocked or earliest_unsent.get(rid, row.id) != row.id:
                        blocked.add(rid)
                        continue
                    blocked.add(rid)
                assert row.id is not None
                due.append(row.id)
            return due, (rows[-1].id if len(rows) == PAGE else None)

    @staticmethod
    def _earliest_unsent(session: Session, request_ids: set[str]) -> dict[str, int]:
        if not request_ids:
            return {}
        rows = session.exec(
            select(OutboxMessage.request_id, OutboxMessage.id)
            .where(OutboxMessage.request_id.in_(request_ids))  # type: ignore[union-attr]
            .where(OutboxMessage.state.in_(["pending", "sending"]))  # type: ignore[attr-defined]
            .order_by(OutboxMessage.id)  # type: ignore[arg-type]
        ).all()
        first: dict[str, int] = {}
        for rid, mid in rows:
            first.setdefault(rid, mid)
        return first

    def _claim(self, row_id: int) -> OutboxMessage | None:
        now = utcnow()
        with self.db.session() as session:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)  # type: ignore[arg-type]
                .where(
                    or_(
                        OutboxMessage.state == "pending",
                        (OutboxMessage.state == "sending") & (OutboxMessage.claimed_at < now - self.lease),  # type: ignore[operator]
                    )
                )
                .values(state="sending", claimed_at=now, claimed_by=self.worker_id, attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return session.get(OutboxMessage, row_id)

    def _deliver_one(self, row_id: int) -> bool:
        row = self._claim(row_id)
        if row is None:
            return False
        request = self._request(row.request_id)
        if self._superseded(row, request):
            assert request is not None and request.thread_channel and request.progress_ts
            self._sent(row, request, request.thread_channel, request.progress_ts)
            return True
        try:
            found = self.sender.find_sent(row, request) if row.attempts > 1 else None
            channel, ts = found if found is not None else self.sender.send(row, request)
        except SendError as error:
            self._failed(row, request, str(error), permanent=error.permanent, retry_after_s=error.retry_after_s)
            return False
        except Exception as error:  # noqa: BLE001 - any sender bug must not lose the message
            log.exception("outbox sender crashed", extra={"outbox_id": row.id})
            self._failed(row, request, f"{type(error).__name__}: {error}", permanent=False)
            return False
        if row.kind == n.Final.kind:
            crashpoints.reached("while_posting_final")
        self._sent(row, request, channel, ts)
        return True

    def _superseded(self, row: OutboxMessage, request: Request | None) -> bool:
        """An edit of a posted progress line with a newer edit queued behind it: the line will show the
        newer one, so this one is done without a call (a backlog of percentages costs one chat.update)."""
        if row.kind != n.ProgressEdit.kind or request is None or not (request.progress_ts and request.thread_channel):
            return False
        with self.db.reader() as session:
            newer = session.exec(select(OutboxMessage.id).where(
                OutboxMessage.request_id == row.request_id, OutboxMessage.kind == row.kind,
                OutboxMessage.id > row.id, OutboxMessage.state == "pending").limit(1)).first()  # type: ignore[operator]
        return newer is not None

    def _request(self, request_id: str | None) -> Request | None:
        if request_id is None:
            return None
        with self.db.reader() as session:
            return session.get(Request, request_id)

    def _sent(self, row: OutboxMessage, request: Request | None, channel: str, ts: str) -> None:
        with self.db.session() as session:
            mine = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == self.worker_id)  # type: ignore[arg-type]
                .where(OutboxMessage.state == "sending")
                .values(state="sent", slack_channel=channel, slack_ts=ts, sent_at=utcnow(), last_error=None)
                .execution_options(synchronize_session=False)
            )
            if mine.rowcount != 1:  # type: ignore[attr-defined]
                return  # our claim expired and another sender took the message over
            if request is not None and row.kind == n.ProgressEdit.kind and not request.progress_ts:
                session.execute(
                    update(Request)
                    .where(Request.id == request.id, Request.progress_ts.is_(None))  # type: ignore[union-attr]
                    .values(progress_ts=ts)
                    .execution_options(synchronize_session=False)
                )
            if request is not None and row.kind == n.Anchor.kind and not request.thread_ts:
                session.execute(
                    update(Request)
                    .where(Request.id == request.id, Request.thread_ts.is_(None))  # type: ignore[union-attr]
                    .values(thread_channel=channel, thread_ts=ts)
                    .execution_options(synchronize_session=False)
                )
            if row.kind == n.Final.kind:
                audit.append(session, request_id=row.request_id, event="final_posted", actor="rdsbot",
                             state=request.state if request else None, detail={"channel": channel, "ts": ts})

    def _failed(self, row: OutboxMessage, request: Request | None, error: str, *, permanent: bool,
                retry_after_s: float | None = None) -> None:
        dead = permanent or row.attempts >= MAX_ATTEMPTS
        # 1, 2, 4... seconds (at most a minute), or longer if Slack said so.
        wait = max(min(2 ** (row.attempts - 1), 60), retry_after_s or 0)
        with self.db.session() as session:
            mine = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == self.worker_id)  # type: ignore[arg-type]
                .where(OutboxMessage.state == "sending")
                .values(state="dead" if dead else "pending", last_error=error[:500], claimed_at=utcnow(),
                        not_before=utcnow() + timedelta(seconds=wait))
                .execution_options(synchronize_session=False)
            )
            if mine.rowcount != 1:  # type: ignore[attr-defined]
                return  # another sender owns the message now; its outcome stands
            if dead:
                # Never silent: the audit trail says which message never reached Slack.
                audit.append(session, request_id=row.request_id, event="notification_failed", actor="rdsbot",
                             state=request.state if request else None,
                             detail={"kind": row.kind, "error": error[:300], "attempts": row.attempts})
        log.warning("outbox message not delivered", extra={"outbox_id": row.id, "kind": row.kind, "dead": dead, "error": error[:200]})

    def _gauge(self) -> None:
        with self.db.reader() as session:
            count = session.exec(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state.in_(["pending", "sending"]))  # type: ignore[attr-defined]
            ).one()
        metrics.OUTBOX_PENDING.set(count)

    def pending(self) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.state != "sent")).all()
            return [r.model_dump() for r in rows]
