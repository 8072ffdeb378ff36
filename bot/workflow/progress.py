"""Watching running jobs: one look per request per round, a reply only when something changed.

A job that ends moves to ``succeeded``/``failed`` with one final reply; a job
that RDS forgets (its resource is gone for several polls) fails; a job still
running after ``RDSBOT_JOB_TIMEOUT_S`` is reported failed so nobody waits forever.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import crashpoints, logs, metrics, operations
from bot.i18n import _
from bot.operations.base import Operation, Progress
from bot.rds.errors import RdsError
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


def poll(deps: Deps, request_id: str) -> Progress | None:
    """Look at one running job; post a reply when its status changed."""
    with logs.bound(request_id):
        request = Requests(deps.db).get(request_id)
        if request is None or request.state != State.RUNNING:
            return None
        op = operations.require(request.operation)
        now = utcnow()
        try:
            memo = {**(request.progress or {}).get("memo", {}),
                    "submitted_at": (request.submitted_at or request.created_at).isoformat()}
            progress = op.probe(identity.directory_for(deps, request), request.params, request.result, memo)
        except RdsError as error:
            _poll_error(deps, request, error, now)
            return None
        crashpoints.reached("while_polling")
        progress = _timed_out(deps, request, progress, now)
        with deps.db.session() as session:
            fresh = session.get(Request, request_id)
            if fresh is None or fresh.state != State.RUNNING:
                return None
            if progress.done:
                _finish(deps, session, fresh, op, progress, now)
            elif not _step(session, fresh, op, progress, now):
                return progress  # someone else polled it at the same moment
        deps.kick()
        return progress


def _timed_out(deps: Deps, request: Request, progress: Progress, now: datetime) -> Progress:
    limit = timedelta(seconds=deps.settings.job_timeout_s)
    if progress.done or request.submitted_at is None or now - request.submitted_at <= limit:
        return progress
    return Progress(status=progress.status, done=True, failed=True, error_code="JobTimeout",
                    error_message=_("The job was still {status} after {seconds} s; the bot stopped waiting. "
                                    "Check it in the RDS console.", status=progress.status,
                                    seconds=int(deps.settings.job_timeout_s)))


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
    if op.progress_in_place and fresh.progress_ts:
        # Leave the in-place progress line showing how it ended.
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
    new = {"key": progress.key, "status": progress.status, "percent": progress.percent,
           "seq": int(seen.get("seq", 0)) + (1 if changed else 0), "checked_at": now.isoformat(),
           "misses": 0, "memo": progress.memo}
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


def _poll_error(deps: Deps, request: Request, error: RdsError, now: datetime) -> None:
    misses = int((request.progress or {}).get("misses", 0)) + 1
    with deps.db.session() as session:
        fresh = session.get(Request, request.id)
        if fresh is None or fresh.state != State.RUNNING:
            return
        if error.code.endswith("NotFound") and misses >= MAX_NOT_FOUND_POLLS:
            moved = tx.move(session, request.id, State.FAILED, actor="rdsbot", event="failed",
                            sources={State.RUNNING}, error_code=error.code,
                            error_message=_("RDS no longer knows the job's resource: {error}", error=error.message),
                            detail={"code": error.code, "message": error.message, "polls": misses})
            if moved is not None:
                n.announce(session, moved)
        else:
            tx.touch(session, fresh, expect_version=fresh.version,
                     progress={**(fresh.progress or {}), "misses": misses, "last_error": error.code,
                               "checked_at": now.isoformat()})
    log.info("poll failed", extra={"request_id": request.id, "code": error.code, "misses": misses})
    deps.kick()


def poll_lag_s(running: list[Request]) -> float:
    """How long the longest-waiting running request has gone without a poll."""
    now = utcnow()
    worst = 0.0
    for request in running:
        checked = (request.progress or {}).get("checked_at")
        last = datetime.fromisoformat(checked) if checked else (request.submitted_at or request.updated_at)
        worst = max(worst, (now - last).total_seconds())
    return worst


def poll_all(deps: Deps) -> int:
    """One round over every running request; returns how many were looked at."""
    running = Requests(deps.db).running()
    metrics.POLL_LAG.set(poll_lag_s(running))
    count = 0
    for request in running:
        try:
            poll(deps, request.id)
            count += 1
        except Exception:  # noqa: BLE001 - one bad request must not stop the others' progress
            log.exception("poll crashed", extra={"request_id": request.id})
    return count
