"""Answers to people: denials with their rule, status, help, the backup listing, reminder lists.

Notices the workflow posts (cards, thread replies, DMs) are rendered in
:mod:`bot.slack.notice_views`. User-supplied text always passes through
``escape`` so it shows as typed and can never ping or disguise a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.operations.base import Operation
from bot.policy import Decision
from bot.rds.directory import CrossRegionBackup
from bot.store.models import AuditEvent, Reminder, Request
from bot.timeutil import human_bytes, human_time
from bot.workflow.outcomes import Listing
from bot.workflow.states import EMOJI, LABELS, State
from bot.slack.blocks import Blocks, Message, context, section
from bot.slack.ids import Action
from bot.slack.text import escape, user

MAX_BUTTON_ROWS = 40  # a message holds 50 blocks; beyond this, a "Restore from…" menu


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
        context(f"{human_time(q.start)} → {human_time(q.end)}",
                 f"stored in {escape(q.region)}" if q.region else "all regions",
                 f"page {page.page} of {page.pages} · {page.total} sets"),
    ]
    if not page.items:
        blocks.append(section("No cross-region backup sets in this window."))
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
            block = section(line, block_id=f"xrb|{q.instance_id}|{item.id}")
            if not item.failed and item.method != "L":  # logical sets cannot restore databases
                block["accessory"] = {"type": "button", "action_id": Action.RESTORE_FROM_BACKUP, "value": str(item.id),
                                      "text": {"type": "plain_text", "text": "Restore from this"}}
            blocks.append(block)
        else:
            lines.append(line)
    if lines:
        for start in range(0, len(lines), 12):
            blocks.append(section("\n".join(lines[start:start + 12])))
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
