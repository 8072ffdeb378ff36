"""What the page shows, read from where Slack, RDS and an auditor would read it.

``state_for`` is one person's Slack (the Slack emulator's stores: messages, threads, ephemerals,
their modal stack, their App Home); ``panel`` is the side panel (the RDS emulator's instances,
backup sets and jobs; the audit trail from the bot's database, read-only, with ``audit verify``'s
answer); ``fingerprint`` is what the change stream compares to tell the page to refetch.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.playground.world import Playground, human
from bot.timeutil import CLOCK, iso

AUDIT_SHOWN = 200
BACKUPS_SHOWN = 60
JOBS_SHOWN = 60
# The panel shows a job's progress in whole percent; the change stream wakes the page every 5 %.
PROGRESS_STEP = 20


def state_for(playground: Playground, user_id: Any, seq: int) -> dict[str, Any]:
    """What ``user_id`` sees in Slack right now (the API's ``/api/state``)."""
    user = human(playground, user_id)
    slack = playground.stack.slack
    ws = slack.workspace
    messages = slack.state.messages
    channels = {c.id: _conversation(slack, c.id) for c in ws.channels if messages.user_can_see(c.id, user.id)}
    dm = ws.dm_channel_id(user.id)
    ephemerals = [{k: v for k, v in e.items() if k != "user"} for e in slack.ephemerals(user.id)]
    views = [_with_errors(playground, record.to_slack(ws)) for record in slack.state.views.stack(user.id)]
    home = slack.state.views.home(user.id)
    return {"seq": seq, "channels": channels, "dms": {dm: _conversation(slack, dm)}, "ephemerals": ephemerals,
            "views": views, "home": home.to_slack(ws) if home is not None else None}


def _conversation(slack: Any, channel: str) -> list[dict[str, Any]]:
    """Top-level messages oldest first, each with its thread's replies."""
    found = slack.messages(channel)
    for message in found:
        message["replies"] = slack.messages(channel, message["ts"]) if message.get("reply_count") else []
    return found


def _with_errors(playground: Playground, view: dict[str, Any]) -> dict[str, Any]:
    """The field errors Slack's client still shows: those of the last submission, until the view changes."""
    with playground.lock:
        kept = playground.view_errors.get(view["id"])
    view["errors"] = dict(kept[1]) if kept is not None and kept[0] == view["hash"] else {}
    return view


def panel(playground: Playground) -> dict[str, Any]:
    """The side panel (the API's ``/api/panel``)."""
    rds = playground.stack.rds
    instances = sorted(rds.instances(), key=lambda i: (i.region, i.id))
    backups = sorted((b for i in instances for b in rds.backups(i.id)), key=lambda b: b.end, reverse=True)
    now = rds.state.clock()
    jobs = sorted(rds.jobs(), key=lambda j: j.started_at, reverse=True)[:JOBS_SHOWN]
    return {
        "instances": [{"id": i.id, "region": i.region, "engine": i.engine, "status": i.status,
                       "description": i.description, "tags": dict(i.tags)} for i in instances],
        "backups": [{"instance": b.instance_id, "id": b.id, "type": b.backup_type, "mode": b.mode,
                     "method": b.method, "status": b.status, "end": iso(b.end)} for b in backups[:BACKUPS_SHOWN]],
        "jobs": [{"id": j.id, "kind": j.action, "instance": j.instance_id, "status": j.history_status(),
                  "progress": round(j.fraction(now) * 100)} for j in jobs],
        "audit": audit(playground),
        "faults": {"rds": playground.fault},
        "clock": clocks(playground),
    }


def clocks(playground: Playground) -> dict[str, float]:
    return {"bot_offset_s": CLOCK.offset_s, "rds_offset_s": playground.rds_clock.offset_s}


def audit(playground: Playground) -> dict[str, Any]:
    """The newest events and ``audit verify``'s answer on the whole chain."""
    from sqlmodel import select

    from bot.store import audit as trail
    from bot.store.models import AuditEvent

    with playground.audit_db.reader() as session:
        newest = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(AUDIT_SHOWN)  # type: ignore[attr-defined]
        rows = session.exec(newest)
        events = [{"seq": r.seq, "ts": iso(r.ts), "request_id": r.request_id, "event": r.event, "state": r.state,
                   "actor": r.actor, "hash": r.hash} for r in rows]
        verified = trail.verify(session)
    return {"events": events,
            "verify": {"ok": verified.ok, "count": verified.count, "anchor": verified.anchor if verified.ok else None,
                       "first_bad": None if verified.bad_seq is None else str(verified.bad_seq),
                       "reason": verified.reason}}


def fingerprint(playground: Playground) -> tuple[Any, ...]:
    """Changes whenever something the page shows changed: Slack's stores, RDS's estate and jobs, the
    audit trail's head, the faults and the clocks."""
    from bot.store.models import AuditHead

    rds = playground.stack.rds.state
    with rds.lock:
        rds.tick()
        now = rds.clock()
        estate = (tuple((i.id, i.status) for i in rds.instances.values()),
                  tuple((b.id, b.status) for b in rds.backups.values()),
                  tuple((j.id, j.done, int(j.fraction(now) * PROGRESS_STEP)) for j in rds.jobs))
    with playground.audit_db.reader() as session:
        head = session.get(AuditHead, 1)
        trail = (head.seq, head.hash) if head is not None else (0, "")
    return (playground.stack.slack.state.feed.version, estate, trail, playground.fault,
            tuple(clocks(playground).values()))
