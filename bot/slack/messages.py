"""Message builders: what each request event looks like in Slack.

Pure functions from stored facts (the request row, the operation) to
(text, blocks[, metadata]). User-supplied text always passes through
``escape`` so it shows as typed and can never ping or disguise a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.operations.base import Operation
from bot.policy import Decision
from bot.rds.errors import RdsError
from bot.rds.directory import CrossRegionBackup
from bot.store.models import AuditEvent, Reminder, Request
from bot.timeutil import human_bytes, human_duration, human_time
from bot.workflow.service import Listing
from bot.workflow.states import EMOJI, LABELS, State
from bot.slack.ids import Action, Block, Metadata
from bot.slack.text import escape, quote, user

Blocks = list[dict[str, Any]]
MAX_BUTTON_ROWS = 40  # a message holds 50 blocks; beyond this, a "Restore from…" menu


@dataclass
class Message:
    """A rendered message: fallback text, blocks and optional metadata."""

    text: str
    blocks: Blocks = field(default_factory=list)
    metadata: dict[str, Any] | None = None


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:3000]} for t in texts if t][:10]}


def _fields(rows: Sequence[tuple[str, str]]) -> Blocks:
    """Parameter rows as section fields, ten per section (Slack's limit)."""
    blocks: Blocks = []
    for start in range(0, len(rows), 10):
        chunk = rows[start:start + 10]
        blocks.append({
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{escape(label)}*\n{escape(value, limit=1900)}"} for label, value in chunk],
        })
    return blocks


def _metadata(request: Request) -> dict[str, Any]:
    return {"event_type": Metadata.UPDATE, "event_payload": {"request_id": request.id}}


def headline(request: Request, op: Operation) -> str:
    tags = ", ".join(f"{k}={v}" for k, v in sorted((request.tags or {}).items()))
    tag_text = f" ({escape(tags)})" if tags else ""
    return f"{user(request.requester)} wants to *{op.verb}* `{escape(request.instance_id)}`{tag_text}"


def anchor(request: Request, op: Operation, *, approvers: Sequence[str] = (), rejecter: str | None = None,
           reject_reason: str | None = None) -> Message:
    """The request's message: the approval card, or the start of a no-approval job's thread."""
    state = State(request.state)
    title = f"{EMOJI[state]} {op.title} · {request.id}"
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        _section(headline(request, op)),
        *_fields(op.summary(request.params)),
    ]
    if request.reason:
        blocks.append(_section(f"*Reason*\n{quote(request.reason)}", block_id=Block.REASON))
    status = f"*Status:* {LABELS[state]}"
    if state is State.PENDING_APPROVAL:
        needed = max(request.approvals_needed, 1)
        pool = f" from {escape(request.approver_pool)}" if request.approver_pool else ""
        status += f" · {len(approvers)}/{needed} approvals{pool}"
        if request.expires_at:
            status += f" · expires {human_time(request.expires_at)}"
    if approvers:
        status += f" · approved by {', '.join(user(a) for a in approvers)}"
    if rejecter:
        status += f" · rejected by {user(rejecter)}"
    blocks.append(_context(status, f"policy {escape(request.policy_version)}"))
    if reject_reason:
        blocks.append(_section(f"*Why it was rejected*\n{quote(reject_reason)}"))
    if state is State.PENDING_APPROVAL:
        blocks.append({
            "type": "actions",
            "block_id": Block.ACTIONS,
            "elements": [
                {"type": "button", "action_id": Action.APPROVE, "style": "primary", "value": request.id,
                 "text": {"type": "plain_text", "text": "Approve"}},
                {"type": "button", "action_id": Action.REJECT, "style": "danger", "value": request.id,
                 "text": {"type": "plain_text", "text": "Reject"}},
                {"type": "button", "action_id": Action.CANCEL, "value": request.id,
                 "text": {"type": "plain_text", "text": "Cancel (requester)"}},
            ],
        })
    decided = _decided_line(request)
    if decided:
        blocks.append(_context(decided))
    text = f"{op.title} {request.id} by <@{request.requester}>: {LABELS[state]}"
    return Message(text=text, blocks=blocks, metadata=_metadata(request))


def _decided_line(request: Request) -> str:
    state = State(request.state)
    when = human_time(request.updated_at) if request.updated_at else ""
    lines = {
        State.EXPIRED: f":alarm_clock: Nobody answered in time; expired {when}.",
        State.CANCELLED: f":heavy_multiplication_x: Cancelled by the requester {when}.",
        State.REJECTED: f":no_entry: Rejected {when}.",
        State.SUCCEEDED: f":large_green_circle: Finished {when}; details in the thread.",
        State.FAILED: f":red_circle: Failed {when}; details in the thread.",
    }
    return lines.get(state, "")


def started(request: Request, op: Operation) -> Message:
    made = {k: v for k, v in (request.result or {}).items() if k not in {"ApiRequestId"} and v}
    what = ", ".join(f"{k} `{escape(str(v))}`" for k, v in made.items())
    text = f":outbox_tray: Sent to RDS ({op.api_action}). {what}".strip()
    text += "\nI'll reply here when its status changes."
    return Message(text=text, blocks=[_section(text)], metadata=_metadata(request))


def progress(request: Request, op: Operation, status: str, percent: int | None) -> Message:
    pct = f" · {percent}%" if percent is not None else ""
    target = (request.result or {}).get("DBInstanceId") or request.instance_id
    if op.progress_of:
        text = f":gear: {op.progress_of} on `{escape(str(target))}`: *{escape(status)}*{pct}"
    else:
        text = f":gear: `{escape(str(target))}` is *{escape(status)}*{pct}"
    return Message(text=text, blocks=[_section(text)], metadata=_metadata(request))


def retrying(request: Request, data: dict[str, Any], retry_in_s: float) -> Message:
    safe = data.get("safe")
    why = escape(str(data.get("plain") or data.get("code") or "RDS did not answer"))
    guard = ("The retry reuses the same ClientToken, so RDS cannot start a second job."
             if safe else "Before retrying, the bot checks whether the job already started, so it cannot run twice.")
    text = (f":warning: RDS did not confirm the job: {why}\nI'll try again in about "
            f"{human_duration(timedelta(seconds=max(retry_in_s, 0)))}. {guard}")
    return Message(text=text, blocks=[_section(text)], metadata=_metadata(request))


def final(request: Request, op: Operation) -> Message:
    """The last reply of the thread, with the contract's metadata."""
    state = State(request.state)
    if state is State.SUCCEEDED:
        body = f":large_green_circle: *Done.* {op.outcome(request.params, request.result or {})}"
    else:
        error = RdsError(request.error_code or "Unknown", request.error_message or "")
        body = f":red_circle: *Failed.* {escape(error.plain())}"
        if request.error_code and request.error_code.startswith("Job"):
            body = f":red_circle: *Failed.* {escape(request.error_message or '')} [{escape(request.error_code)}]"
    took = ""
    if request.submitted_at and request.finished_at:
        took = f"took {human_duration(request.finished_at - request.submitted_at)}"
    blocks = [_section(body), _context(f"{request.id}", took, f"requested by {user(request.requester)}")]
    return Message(
        text=_strip(body),
        blocks=blocks,
        metadata={"event_type": Metadata.FINAL, "event_payload": {"request_id": request.id, "state": state.value}},
    )


def direct(request: Request, op: Operation, event: str, *, reason: str | None = None, by: str | None = None) -> Message:
    """A DM to the requester about their request's end (rejected, expired, finished...)."""
    state = State(request.state)
    lines = {
        State.REJECTED: f":no_entry: Your request {request.id} ({op.verb} `{escape(request.instance_id)}`) was rejected"
                        + (f" by {user(by)}" if by else "") + "." + (f"\n{quote(reason)}" if reason else ""),
        State.EXPIRED: f":alarm_clock: Your request {request.id} ({op.verb} `{escape(request.instance_id)}`) expired: "
                       "nobody approved it in time. Submit it again if it is still needed.",
        State.CANCELLED: f":heavy_multiplication_x: Your request {request.id} is cancelled; nothing was sent to RDS.",
        State.SUCCEEDED: f":large_green_circle: Your request {request.id} finished. {op.outcome(request.params, request.result or {})}",
        State.FAILED: f":red_circle: Your request {request.id} failed: "
                      f"{escape(RdsError(request.error_code or 'Unknown', request.error_message or '').plain())}",
    }
    text = lines.get(state, f"Your request {request.id} is {LABELS[state]}.")
    return Message(text=_strip(text), blocks=[_section(text)], metadata=_metadata(request))


def code(text: str) -> str:
    """Inline code: ARNs and rules keep their '*' instead of turning bold."""
    return f"`{escape(text).replace('`', chr(39))}`"


def decision_text(decision: Decision) -> str:
    """A policy decision for Slack: action, resource, the deciding rule, the version."""
    who = user(decision.subject)
    head = (f"{who} may {'' if decision.allowed else 'not '}{code(decision.action)} on {code(decision.resource)}")
    if decision.rule is None:
        why = "No rule allows it."
        if decision.needs_tags is not None:
            why += (f" {code(_where(decision.needs_tags))} would, but the instance's tags could not be read.")
    else:
        verb = "Allowed" if decision.allowed else "Explicitly denied"
        via = f" via {code(decision.via)}" if decision.via else ""
        why = f"{verb} by {code(_where(decision.rule))}{via}."
        if decision.tags_assumed:
            why += " The instance's tags are unknown, so this tag-conditioned deny applies."
    return f"{head}. {why} · policy {code(decision.policy_version)}"


def _where(rule: Any) -> str:
    return f"{Path(rule.path).name}:{rule.line}  {rule.text}"


def denied(op: Operation, decision: Decision, request_id: str | None = None) -> str:
    rid = f" (recorded as {request_id})" if request_id else ""
    return f":lock: You are not allowed to {op.verb} this instance{rid}.\n{decision_text(decision)}"


def submitted(request: Request, op: Operation, approval_channel: str | None) -> str:
    if State(request.state) is State.PENDING_APPROVAL:
        where = f" in <#{approval_channel}>" if approval_channel else ""
        needed = max(request.approvals_needed, 1)
        return (f":hourglass_flowing_sand: Request *{request.id}* is waiting for {needed} approval"
                f"{'s' if needed > 1 else ''}{where}. Progress will be posted in its thread, "
                "and I'll message you when it ends.")
    return f":rocket: Request *{request.id}* is on its way to RDS. Progress follows in a thread."


def status_list(requests: Sequence[Request]) -> str:
    if not requests:
        return "You have no requests yet. Try `/rds help`."
    lines = ["*Your recent requests*"]
    for r in requests:
        state = State(r.state)
        lines.append(f"{EMOJI[state]} `{r.id}` · {r.operation} `{escape(r.instance_id)}` · {LABELS[state]} · "
                     f"{human_time(r.created_at)}")
    lines.append("`/rds status <request-id>` shows one request's timeline.")
    return "\n".join(lines)


def timeline(request: Request, events: Sequence[AuditEvent]) -> str:
    state = State(request.state)
    lines = [f"{EMOJI[state]} *{request.id}* · {request.operation} `{escape(request.instance_id)}` · {LABELS[state]}"]
    for event in events:
        actor = user(event.actor) if event.actor.startswith(("U", "W")) else escape(event.actor)
        extra = ""
        detail = event.detail or {}
        if event.event == "progress":
            extra = f" · {escape(str(detail.get('status')))}"
        elif event.event in {"failed"}:
            extra = f" · {escape(str(detail.get('code')))}"
        elif "decision" in detail and isinstance(detail["decision"], dict):
            extra = f" · {escape(str(detail['decision'].get('explanation', '')))[:300]}"
        lines.append(f"• {human_time(event.ts)} · *{escape(event.event)}* by {actor}{extra}")
    return "\n".join(lines)[:3900]


HELP = """*rdsbot* runs ApsaraDB RDS operations from Slack, behind policy and approval.
• `/rds clone [instance-id]` — clone an instance from a backup set or a point in time (needs approval)
• `/rds copy [instance-id]` — copy SQL Server databases to another instance (needs approval)
• `/rds restore [instance-id]` — restore databases/tables from a cross-region backup (needs approval)
• `/rds backup [instance-id]` — back up an instance now
• `/rds backups [instance-id]` — list cross-region backup sets (last 7 days by default)
• `/rds remind <instance-id> daily 09:00 [tz]` — backup reminders (also `weekly`, `cron`, `in 10 minutes`, `list`, `delete`)
• `/rds status [request-id]` — your recent requests, or one request's timeline
Every request is checked against the policy; approvals happen in the approvals channel."""


def cross_backup_label(backup: CrossRegionBackup) -> str:
    when = human_time(backup.consistent or backup.end) if (backup.consistent or backup.end) else "?"
    kind = f"{'Logical' if backup.method == 'L' else 'Physical'} {'full' if backup.type == 'F' else 'incremental'}"
    return f"{backup.id} · {when} · {kind} · {human_bytes(backup.size)}"


def listing(result: Listing) -> Message:
    """A page of cross-region backup sets with page buttons and "Restore from this"."""
    q, page = result.query, result.page
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Cross-region backups of {q.instance_id}"[:150]}},
        _context(f"{human_time(q.start)} → {human_time(q.end)}",
                 f"stored in {escape(q.region)}" if q.region else "all regions",
                 f"page {page.page} of {page.pages} · {page.total} sets"),
    ]
    if not page.items:
        blocks.append(_section("No cross-region backup sets in this window."))
    with_buttons = len(page.items) <= MAX_BUTTON_ROWS
    lines = []
    for item in page.items:
        status = ":x: *failed*" if item.failed else ":white_check_mark: ok"
        scope = "databases" if item.scale == 1 else "instance"
        regions = ", ".join(item.restore_regions) or "?"
        line = (f"*{item.id}* · {escape(item.region)} · data as of {human_time(item.consistent or item.end) if (item.consistent or item.end) else '?'}"
                f" · {'Logical' if item.method == 'L' else 'Physical'} {'full' if item.type == 'F' else 'incremental'}"
                f" · {scope} · {human_bytes(item.size)} · {status} · restorable in {escape(regions)}")
        if with_buttons:
            block = _section(line, block_id=f"xrb|{q.instance_id}|{item.id}")
            if not item.failed and item.method != "L":  # logical sets cannot restore databases
                block["accessory"] = {"type": "button", "action_id": Action.RESTORE_FROM_BACKUP, "value": str(item.id),
                                      "text": {"type": "plain_text", "text": "Restore from this"}}
            blocks.append(block)
        else:
            lines.append(line)
    if lines:
        for start in range(0, len(lines), 12):
            blocks.append(_section("\n".join(lines[start:start + 12])))
        usable = [i for i in page.items if not i.failed and i.method != "L"][:100]
        if usable:
            blocks.append({"type": "actions", "block_id": f"xrb|{q.instance_id}", "elements": [{
                "type": "static_select", "action_id": Action.RESTORE_FROM_BACKUP,
                "placeholder": {"type": "plain_text", "text": "Restore from…"},
                "options": [{"text": {"type": "plain_text", "text": cross_backup_label(i)[:75]}, "value": str(i.id)}
                            for i in usable],
            }]})
    nav = []
    if page.page > 1:
        nav.append({"type": "button", "action_id": Action.PAGE_PREV, "text": {"type": "plain_text", "text": "← Previous"},
                    "value": q.model_copy(update={"page": page.page - 1}).pointer()})
    if page.page < page.pages:
        nav.append({"type": "button", "action_id": Action.PAGE_NEXT, "text": {"type": "plain_text", "text": "Next →"},
                    "value": q.model_copy(update={"page": page.page + 1}).pointer()})
    if nav:
        blocks.append({"type": "actions", "block_id": "pages", "elements": nav})
    text = f"{page.total} cross-region backup sets of {q.instance_id} (page {page.page} of {page.pages})"
    return Message(text=text, blocks=blocks)


def reminder_list(reminders: Sequence[Reminder]) -> str:
    if not reminders:
        return "No backup reminders in this channel. " + "`/rds remind <instance-id> daily 09:00`"
    lines = ["*Backup reminders in this channel*"]
    for r in reminders:
        when = human_time(r.next_run_at) if r.next_run_at else "done"
        lines.append(f"• `{r.id}` · `{escape(r.instance_id)}` · {escape(r.schedule)} ({escape(r.timezone)}) · "
                     f"next {when} · by {user(r.created_by)}")
    return "\n".join(lines)


def reminder(data: dict[str, Any]) -> Message:
    """A reminder firing: how old the last backup is, and "Back up now"."""
    instance = escape(str(data.get("instance")))
    last = data.get("last_backup") or {}
    if last.get("none"):
        age = ":warning: it has *no successful backup* at all."
    elif last.get("error"):
        age = f"I could not read its backups ({escape(str(last['error']))})."
    else:
        seconds = int(last.get("age_s", 0))
        icon = ":large_green_circle:" if seconds < 86400 else (":large_yellow_circle:" if seconds < 3 * 86400 else ":red_circle:")
        age = (f"{icon} its last successful backup finished *{human_duration(timedelta(seconds=seconds))} ago* "
               f"(set {escape(str(last.get('id')))}, {escape(str(last.get('method')))}).")
    text = f":alarm_clock: Backup reminder for `{instance}`: {age}"
    blocks: Blocks = [
        _section(text),
        _context(f"reminder {escape(str(data.get('reminder_id')))} · {escape(str(data.get('schedule')))}"),
        {"type": "actions", "block_id": "reminder_actions", "elements": [{
            "type": "button", "action_id": Action.BACKUP_NOW, "style": "primary", "value": str(data.get("reminder_id")),
            "text": {"type": "plain_text", "text": "Back up now"},
        }]},
    ]
    return Message(text=_strip(text), blocks=blocks,
                   metadata={"event_type": Metadata.UPDATE, "event_payload": {"reminder_id": data.get("reminder_id")}})


def opened(request: Request, op: Operation) -> Message:
    """The first reply when a request runs under someone else's message (Back up now)."""
    text = f":arrow_forward: {user(request.requester)} started a {op.name} of `{escape(request.instance_id)}` ({request.id})."
    return Message(text=_strip(text), blocks=[_section(text)], metadata=_metadata(request))


def _strip(text: str) -> str:
    return text.replace("*", "").replace(":large_green_circle: ", "").replace(":red_circle: ", "")


def audit_seal(data: dict[str, Any]) -> Message:
    """The audit trail's anchor, posted where the database's owner cannot rewrite it; or the alarm."""
    if data.get("ok"):
        anchor = escape(str(data.get("anchor")))
        text = (f":lock: Audit trail sealed: {int(data.get('count') or 0)} events, chain intact"
                + (", and the previous seal still matches." if data.get("previous") else "."))
        detail = f"Anyone can check it later: `rdsbot audit verify --anchor {anchor}`"
    else:
        text = (f":rotating_light: *The audit trail is broken* at event {escape(str(data.get('bad_seq')))}: "
                f"{escape(str(data.get('reason')))}.")
        detail = ("Someone changed the bot's database outside the bot. Nothing was repaired; "
                  "`rdsbot audit verify` names the first bad event.")
    return Message(text=_strip(f"{text} {detail}"), blocks=[_section(text), _context(detail)],
                   metadata={"event_type": Metadata.UPDATE, "event_payload": {"seal": True}})
