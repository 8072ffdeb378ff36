"""Answers to people: denials with their rule, status, help, the backup listing, reminder lists.

Notices the workflow posts (cards, thread replies, DMs) are rendered in
:mod:`bot.slack.notice_views`. User-supplied text always passes through
``escape`` so it shows as typed and can never ping or disguise a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import operations
from bot.i18n import _, _n, tr
from bot.operations.base import Operation, role_name
from bot.policy import Decision
from bot.rds.directory import CrossRegionBackup
from bot.store.models import AuditEvent, Reminder, Request
from bot.timeutil import human_bytes, human_time, slack_date, zoned_time
from bot.workflow.dry_run import DryRun
from bot.workflow.dry_run import lines as dry_run_lines
from bot.workflow import schedules
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
    who, action, resource = user(decision.subject), code(decision.action), code(decision.resource)
    if decision.allowed:
        head = _("{who} may {action} on {resource}", who=who, action=action, resource=resource)
    else:
        head = _("{who} may not {action} on {resource}", who=who, action=action, resource=resource)
    if decision.rule is None:
        why = _("No rule allows it.")
        if decision.needs_tags is not None:
            why += " " + _("{rule} would, but the instance's tags could not be read.",
                           rule=code(_where(decision.needs_tags)))
    else:
        rule, via = code(_where(decision.rule)), code(decision.via) if decision.via else ""
        if decision.allowed:
            why = _("Allowed by {rule} via {via}.", rule=rule, via=via) if via else _("Allowed by {rule}.", rule=rule)
        else:
            why = (_("Explicitly denied by {rule} via {via}.", rule=rule, via=via) if via
                   else _("Explicitly denied by {rule}.", rule=rule))
        if decision.tags_assumed:
            why += " " + _("The instance's tags are unknown, so this tag-conditioned deny applies.")
    if decision.unknown_groups:
        why += " " + _("Slack could not say whether you are in {groups}, so their rules count only when they deny.",
                       groups=", ".join(code(g) for g in decision.unknown_groups))
    return _("{head}. {why} · policy {version}", head=head, why=why, version=code(decision.policy_version))


def _where(rule: Any) -> str:
    return f"{Path(rule.path).name}:{rule.line}  {rule.text}"


def denied(op: Operation, decision: Decision, request_id: str | None = None, request: Request | None = None) -> str:
    """Why a request was refused; when the refusal is about another instance it touches, which one."""
    other = _refused_other(decision, request)
    if other is not None:
        sentence = _("You may not use `{instance}` as the {role} of this {operation} (recorded as {request_id}).",
                     instance=escape(str(other.get("instance_id"))), role=role_name(str(other.get("role"))),
                     operation=operations.noun(op.name), request_id=request_id or "")
    elif request_id:
        sentence = _("You are not allowed to {verb} this instance (recorded as {request_id}).",
                     verb=op.verb, request_id=request_id)
    else:
        sentence = _("You are not allowed to {verb} this instance.", verb=op.verb)
    return f":lock: {sentence}\n{decision_text(decision)}"




def _refused_other(decision: Decision, request: Request | None) -> dict[str, Any] | None:
    """The resource a refusal names, when it is not the request's main instance."""
    if request is None:
        return None
    for resource in request.resources or []:
        if resource.get("arn") == decision.resource and resource.get("instance_id") != request.instance_id:
            return resource
    return None


def dry_run(result: DryRun) -> str:
    """A dry run's facts, every value escaped (bot.workflow.dry_run.lines says what they are)."""
    first, *rest = dry_run_lines(result, code, decision_text, user)
    return "\n".join([(":white_check_mark: " if result.allowed else ":lock: ") + first, *rest])


def submitted(request: Request, op: Operation, approval_channel: str | None) -> str:
    if State(request.state) is State.PENDING_APPROVAL:
        link = f"<#{approval_channel}>" if approval_channel else ""
        needed = max(request.approvals_needed, 1)
        if link:
            waiting = _n("Request *{request_id}* is waiting for {n} approval in {channel}.",
                         "Request *{request_id}* is waiting for {n} approvals in {channel}.", needed,
                         request_id=request.id, channel=link)
        else:
            waiting = _n("Request *{request_id}* is waiting for {n} approval.",
                         "Request *{request_id}* is waiting for {n} approvals.", needed, request_id=request.id)
        return (f":hourglass_flowing_sand: {waiting} "
                + _("Progress will be posted in its thread, and I'll message you when it ends."))
    return ":rocket: " + _("Request *{request_id}* is on its way to RDS. Progress follows in a thread.",
                           request_id=request.id)


def status_list(requests: Sequence[Request]) -> str:
    if not requests:
        return _("You have no requests yet. Try `/rds help`.")
    lines = [_("*Your recent requests*")]
    for r in requests:
        state = State(r.state)
        lines.append(f"{EMOJI[state]} `{r.id}` · {r.operation} `{escape(r.instance_id)}` · {LABELS[state]} · "
                     f"{slack_date(r.created_at)}")
    lines.append(_("`/rds status <request-id>` shows one request's timeline."))
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
        lines.append(_("• {when} · *{event}* by {actor}{extra}", when=slack_date(event.ts), event=escape(event.event),
                       actor=actor, extra=extra))
    return "\n".join(lines)[:3900]


# Wrapped at import (an English id): shown through help_text(), in the reader's language.
HELP = _("""*rdsbot* runs ApsaraDB RDS operations from Slack, behind policy and approval.
• `/rds clone [instance-id]` — clone an instance from a backup set or a point in time (needs approval)
• `/rds copy [instance-id]` — copy SQL Server databases to another instance (needs approval)
• `/rds restore [instance-id]` — restore databases/tables from a cross-region backup (needs approval)
• `/rds backup [instance-id]` — back up an instance now
• `/rds backups [instance-id]` — list cross-region backup sets (last 7 days by default)
• `/rds remind <instance-id> daily 09:00 [tz]` — backup reminders (also `weekly`, `cron`, `in 10 minutes`, `list`, `delete`)
• `/rds status [request-id]` — your recent requests, or one request's timeline
• `/rds pending` — the requests waiting that you may approve now
• `/rds cancel <request-id>` — withdraw your own request before it reaches RDS
Every request is checked against the policy; approvals happen in the approvals channel.""")


def help_text() -> str:
    """``/rds help``, in the reader's language."""
    return tr(HELP)


def cross_backup_label(backup: CrossRegionBackup) -> str:
    when = human_time(backup.consistent or backup.end) if (backup.consistent or backup.end) else "?"
    return f"{backup.id} · {when} · {set_kind(backup.method, backup.type)} · {human_bytes(backup.size)}"


def set_kind(method: str, backup_type: str) -> str:
    """A backup set's method and type ("Logical full"...), one whole phrase per combination."""
    if method == "L":
        return _("Logical full") if backup_type == "F" else _("Logical incremental")
    return _("Physical full") if backup_type == "F" else _("Physical incremental")


def listing(result: Listing) -> Message:
    """A page of cross-region backup sets with page buttons and "Restore from this"."""
    q, page = result.query, result.page
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text",
                                    "text": _("Cross-region backups of {instance}", instance=q.instance_id)[:150]}},
        context(f"{slack_date(q.start)} → {slack_date(q.end)}",
                 _("stored in {region}", region=escape(q.region)) if q.region else _("all regions"),
                 _("page {page} of {pages} · {total} sets", page=page.page, pages=page.pages, total=page.total)),
    ]
    if not page.items:
        blocks.append(section(_("No cross-region backup sets in this window.")))
    with_buttons = len(page.items) <= MAX_BUTTON_ROWS
    lines = []
    for item in page.items:
        status = ":x: " + _("*failed*") if item.failed else ":white_check_mark: " + _("ok")
        scope = _("databases") if item.scale == 1 else _("instance")
        regions = ", ".join(item.restore_regions) or "?"
        line = _("*{id}* · {region} · data as of {when} · {kind} · {scope} · {size} · {status} · restorable in {regions}",
                 id=item.id, region=escape(item.region),
                 when=slack_date(item.consistent or item.end) if (item.consistent or item.end) else "?",
                 kind=set_kind(item.method, item.type), scope=scope, size=human_bytes(item.size), status=status,
                 regions=escape(regions))
        if with_buttons:
            block = section(line, block_id=f"xrb|{q.instance_id}|{item.id}")
            if not item.failed and item.method != "L":  # logical sets cannot restore databases
                block["accessory"] = {"type": "button", "action_id": Action.RESTORE_FROM_BACKUP, "value": str(item.id),
                                      "text": {"type": "plain_text", "text": _("Restore from this")}}
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
                "placeholder": {"type": "plain_text", "text": _("Restore from…")},
                "options": [{"text": {"type": "plain_text", "text": cross_backup_label(i)[:75]}, "value": str(i.id)}
                            for i in usable],
            }]})
    nav = []
    if page.page > 1:
        nav.append({"type": "button", "action_id": Action.PAGE_PREV, "text": {"type": "plain_text", "text": _("← Previous")},
                    "value": q.model_copy(update={"page": page.page - 1}).pointer()})
    if page.page < page.pages:
        nav.append({"type": "button", "action_id": Action.PAGE_NEXT, "text": {"type": "plain_text", "text": _("Next →")},
                    "value": q.model_copy(update={"page": page.page + 1}).pointer()})
    if nav:
        blocks.append({"type": "actions", "block_id": "pages", "elements": nav})
    text = _("{total} cross-region backup sets of {instance} (page {page} of {pages})", total=page.total,
             instance=q.instance_id, page=page.page, pages=page.pages)
    return Message(text=text, blocks=blocks)


def reminder_list(reminders: Sequence[Reminder]) -> str:
    if not reminders:
        return _("No backup reminders in this channel. `/rds remind <instance-id> daily 09:00`")
    lines = [_("*Backup reminders in this channel*")]
    for r in reminders:
        # In the schedule's own zone: the reader's would misstate a schedule set in another.
        when = zoned_time(r.next_run_at, r.timezone) if r.next_run_at else _("done")
        lines.append(_("• `{id}` · `{instance}` · {schedule} · next: {when} · by {creator}", id=r.id,
                       instance=escape(r.instance_id), schedule=escape(schedules.load(r.schedule, r.timezone).describe()),
                       when=escape(when), creator=user(r.created_by)))
    return "\n".join(lines)
