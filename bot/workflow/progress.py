"""Watching running jobs: one round over every running request, a reply only when something changed.

A round (:func:`poll_all`) reads RDS as little as it can: the jobs of each place
(account and region) share one :class:`~bot.rds.snapshot.Snapshot`, which reads
the status of every instance they watch (clones, restores) in one
DescribeDBInstances call per 30 instances; the probes that still read RDS
themselves (a backup's tasks, a copy target's databases) run side by side, at
most one read per instance. Then the outcomes are stored: each job with a new
status, an end or a failed look (its reply, its audit event) in its own savepoint,
a chunk of them a transaction; then, in one more transaction, every other job's
last look in one batched update, and the edits of in-place progress lines whose
percentage moved (a backup's) in one insert.

A job that ends moves to ``succeeded``/``failed`` with one final reply; a job
that RDS forgets (its resource is gone for several polls) fails; a job still
running after ``RDSBOT_JOB_TIMEOUT_S`` is reported failed so nobody waits forever.
A look that fails (a throttled batch) only counts a miss: the job is asked about
again next round.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import load_only
from sqlmodel import Session, select

from bot import crashpoints, logs, metrics, operations
from bot.i18n import _
from bot.operations.base import Operation, Progress
from bot.rds.errors import RdsError
from bot.rds.places import Place
from bot.rds.snapshot import Snapshot
from bot.store.models import Request
from bot.timeutil import utcnow
from bot.workflow import identity
from bot.workflow import notices as n
from bot.workflow import transitions as tx
from bot.workflow.deps import Deps
from bot.workflow.queries import Requests
from bot.workflow.states import State

log = logging.getLogger(__name__)

MAX_NOT_FOUND_POLLS = 5
#: Reads of one round in flight at once (statuses of each place, then the probes' own reads).
POLL_WORKERS = 8
#: Changed jobs stored per transaction: a round never holds the write lock for long.
CHUNK = 100
#: What a round reads of each running request (its other JSON columns cost more to load than the rest).
_LOOKED_AT = (Request.id, Request.operation, Request.state, Request.account, Request.region_id, Request.instance_id,
              Request.params, Request.result, Request.progress, Request.version, Request.submitted_at,
              Request.created_at, Request.updated_at)


@dataclass
class Look:
    """One job's probe in a round: its progress, or the error RDS answered."""

    request: Request
    op: Operation
    progress: Progress | None = None
    error: RdsError | None = None


def poll(deps: Deps, request_id: str) -> Progress | None:
    """Look at one running job now; post a reply when its status changed."""
    request = Requests(deps.db).get(request_id)
    if request is None or request.state != State.RUNNING:
        return None
    looks = _round(deps, [request])
    return looks[0].progress if looks else None


def poll_all(deps: Deps) -> int:
    """One round over every running request; returns how many were looked at."""
    running = _running(deps)
    metrics.POLL_LAG.set(poll_lag_s(running))
    return len(_round(deps, running))


def _running(deps: Deps) -> list[Request]:
    """Every running request, with only the columns a round reads (a row with news is read whole again)."""
    with deps.db.reader() as session:
        return list(session.exec(
            select(Request).where(Request.state == State.RUNNING).order_by(Request.updated_at)  # type: ignore[arg-type]
            .options(load_only(*_LOOKED_AT))))


def poll_lag_s(running: list[Request]) -> float:
    """How long the longest-waiting running request has gone without a poll."""
    now = utcnow()
    worst = 0.0
    for request in running:
        checked = (request.progress or {}).get("checked_at")
        last = datetime.fromisoformat(checked) if checked else (request.submitted_at or request.updated_at)
        worst = max(worst, (now - last).total_seconds())
    return worst


# -- looking ----------------------------------------------------------------


def _round(deps: Deps, requests: list[Request]) -> list[Look]:
    if not requests:
        return []
    snapshots = _snapshots(deps, requests)
    with ThreadPoolExecutor(max_workers=POLL_WORKERS, thread_name_prefix="rdsbot-poll") as pool:
        loads = [pool.submit(snapshot.load, batch) for snapshot in snapshots.values() for batch in snapshot.batches()]
        # Probes that read RDS themselves (a backup's tasks) go side by side with the batches; those answered
        # from a snapshot alone (a watched instance's status) run here once their place's batches are in.
        reads = {r.id: pool.submit(_look, deps, r, snapshots[identity.place_of(r)])
                 for r in requests if not _watching(r)}
        for load in loads:
            load.result()
        found = [reads[r.id].result() if r.id in reads else _look(deps, r, snapshots[identity.place_of(r)])
                 for r in requests]
    looks = [look for look in found if look is not None]
    if looks:
        crashpoints.reached("while_polling")
    _record(deps, looks)
    deps.kick()
    return looks


def _watching(request: Request) -> str | None:
    """The instance whose status the request's probe reads (from the round's snapshot), if any."""
    op = operations.get(request.operation)
    return op.watched(request.params, request.result) if op is not None else None


def _snapshots(deps: Deps, requests: Iterable[Request]) -> dict[Place, Snapshot]:
    """One snapshot per place, watching every instance whose status its jobs' probes read."""
    watched: dict[Place, set[str]] = {}
    for request in requests:
        instance = _watching(request)
        watched.setdefault(identity.place_of(request), set()).update([instance] if instance else [])
    return {place: Snapshot(deps.directory.at(place), ids) for place, ids in watched.items()}


def _look(deps: Deps, request: Request, snapshot: Snapshot) -> Look | None:
    with logs.bound(request.id):
        try:
            op = operations.require(request.operation)
            memo = {**(request.progress or {}).get("memo", {}),
                    "submitted_at": (request.submitted_at or request.created_at).isoformat()}
            try:
                progress = op.probe(snapshot, request.params, request.result, memo)
            except RdsError as error:
                return Look(request, op, error=error)
            return Look(request, op, progress=_timed_out(deps, request, progress, utcnow()))
        except Exception:  # noqa: BLE001 - one bad request must not stop the others' progress
            log.exception("poll crashed", extra={"request_id": request.id})
            return None


def _timed_out(deps: Deps, request: Request, progress: Progress, now: datetime) -> Progress:
    limit = timedelta(seconds=deps.settings.job_timeout_s)
    if progress.done or request.submitted_at is None or now - request.submitted_at <= limit:
        return progress
    return Progress(status=progress.status, done=True, failed=True, error_code="JobTimeout",
                    error_message=_("The job was still {status} after {seconds} s; the bot stopped waiting. "
                                    "Check it in the RDS console.", status=progress.status,
                                    seconds=int(deps.settings.job_timeout_s)))


# -- storing ----------------------------------------------------------------


def _record(deps: Deps, looks: list[Look]) -> None:
    """Store a round: jobs with news one by one, then every other job's last look (and percentage) at once."""
    now = utcnow()
    quiet: list[tuple[Request, dict[str, Any]]] = []
    edits: list[tuple[Request, dict[str, Any]]] = []
    loud = []
    for look in looks:
        seen = look.request.progress or {}
        progress = look.progress
        if progress is None or progress.done or progress.key != seen.get("key"):
            loud.append(look)
            continue
        moved = look.op.progress_in_place and progress.percent is not None and progress.percent != seen.get("percent")
        (edits if moved else quiet).append((look.request, _next(seen, progress, now)))
    for start in range(0, len(loud), CHUNK):
        chunk = loud[start:start + CHUNK]
        with deps.db.session() as session:
            fresh = {r.id: r for r in session.exec(
                select(Request).where(Request.id.in_([look.request.id for look in chunk])))}  # type: ignore[attr-defined]
            for look in chunk:
                row = fresh.get(look.request.id)
                if row is not None and row.state == State.RUNNING:
                    _store(deps, session, row, look, now)
    _touch_all(deps, quiet, edits, now)


def _store(deps: Deps, session: Session, row: Request, look: Look, now: datetime) -> None:
    try:
        with session.begin_nested():
            if look.error is not None:
                _poll_error(session, row, look.error, now)
            elif look.progress is not None and look.progress.done:
                _finish(deps, session, row, look.op, look.progress, now)
            elif look.progress is not None:
                _step(session, row, look.op, look.progress, now)
    except Exception:  # noqa: BLE001 - its savepoint is rolled back; the others' stand
        log.exception("poll crashed", extra={"request_id": row.id})


def _next(seen: dict[str, Any], progress: Progress, now: datetime) -> dict[str, Any]:
    """The ``progress`` column after this look."""
    changed = progress.key != seen.get("key")
    return {"key": progress.key, "status": progress.status, "percent": progress.percent,
            "seq": int(seen.get("seq", 0)) + (1 if changed else 0), "checked_at": now.isoformat(),
            "misses": 0, "memo": progress.memo}


def _touch_all(deps: Deps, quiet: list[tuple[Request, dict[str, Any]]], edits: list[tuple[Request, dict[str, Any]]],
               now: datetime) -> None:
    """Every other job's last look: the unchanged in one statement, those whose percentage moved one by one
    with the edit of their progress line. A job someone else changed meanwhile keeps their change (and gets
    no edit)."""
    if not quiet and not edits:
        return
    table = Request.__table__  # type: ignore[attr-defined]
    statement = (update(table)
                 .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"),
                        table.c.state == State.RUNNING.value)
                 .values(progress=bindparam("b_progress"), updated_at=now, version=table.c.version + 1))

    def params(request: Request, progress: dict[str, Any]) -> dict[str, Any]:
        return {"b_id": request.id, "b_version": request.version, "b_progress": progress}

    with deps.db.session() as session:
        connection = session.connection()
        if quiet:
            connection.execute(statement, [params(r, p) for r, p in quiet])
        moved = [(r, p) for r, p in edits if connection.execute(statement, params(r, p)).rowcount == 1]
        n.post_many(session, [(n.ProgressEdit(status=p["status"], percent=p["percent"]), r.id,
                               f"{r.id}:edit:{p['seq']}:{p['percent']}") for r, p in moved])


def _finish(deps: Deps, session: Session, fresh: Request, op: Operation, progress: Progress, now: datetime) -> None:
    target = State.FAILED if progress.failed else State.SUCCEEDED
    moved = tx.move(session, fresh.id, target, actor="rdsbot", event=target.value,
                    sources={State.RUNNING}, result={**fresh.result, **progress.result},
                    progress={**fresh.progress, "status": progress.status, "checked_at": now.isoformat()},
                    error_code=progress.error_code, error_message=progress.error_message,
                    detail={"status": progress.status, "result": progress.result,
                            "code": progress.error_code, "message": progress.error_message})
    if moved is None:
        return
    if op.progress_in_place and (fresh.progress_ts or (fresh.progress or {}).get("key")):
        # Leave the in-place progress line showing how it ended: it is posted, or queued (a look recorded
        # a status, so its line is in the outbox, and this edit goes out after it).
        n.post(session, n.ProgressEdit(status=progress.status,
                                       percent=100 if not progress.failed else progress.percent),
               request_id=fresh.id, key=f"{fresh.id}:edit:end")
    n.announce(session, moved)
    deps.directory.forget(fresh.instance_id)


def _step(session: Session, fresh: Request, op: Operation, progress: Progress, now: datetime) -> bool:
    """Record a still-running job's status; False when another poller got there first."""
    seen = fresh.progress or {}
    changed = progress.key != seen.get("key")
    percent_moved = progress.percent is not None and progress.percent != seen.get("percent")
    new = _next(seen, progress, now)
    if not tx.touch(session, fresh, expect_version=fresh.version, progress=new):
        return False
    if changed:
        tx.note(session, fresh.id, "progress", actor="rdsbot", state=State.RUNNING,
                detail={"status": progress.status, "percent": progress.percent})
    if op.progress_in_place and (changed or percent_moved):
        n.post(session, n.ProgressEdit(status=progress.status, percent=progress.percent),
               request_id=fresh.id, key=f"{fresh.id}:edit:{new['seq']}:{progress.percent}")
    elif changed:
        n.post(session, n.ProgressReply(status=progress.status, percent=progress.percent),
               request_id=fresh.id, key=f"{fresh.id}:progress:{new['seq']}")
    return True


def _poll_error(session: Session, fresh: Request, error: RdsError, now: datetime) -> None:
    misses = int((fresh.progress or {}).get("misses", 0)) + 1
    if error.code.endswith("NotFound") and misses >= MAX_NOT_FOUND_POLLS:
        moved = tx.move(session, fresh.id, State.FAILED, actor="rdsbot", event="failed",
                        sources={State.RUNNING}, error_code=error.code,
                        error_message=_("RDS no longer knows the job's resource: {error}", error=error.message),
                        detail={"code": error.code, "message": error.message, "polls": misses})
        if moved is not None:
            n.announce(session, moved)
    else:
        tx.touch(session, fresh, expect_version=fresh.version,
                 progress={**(fresh.progress or {}), "misses": misses, "last_error": error.code,
                           "checked_at": now.isoformat()})
    log.info("poll failed", extra={"request_id": fresh.id, "code": error.code, "misses": misses})
