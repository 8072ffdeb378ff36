"""What each workflow notice looks like in Slack: one renderer per notice type.

Pure functions from stored facts (the notice, the request row, its operation)
to a :class:`~bot.slack.blocks.Message`. :func:`render` finds the renderer from
the notice's type; a notice type without one is a bug the sender reports as
undeliverable rather than a message silently dropped. User-supplied text
always passes through ``escape`` so it can never ping or disguise a link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from bot.operations.base import Operation
from bot.rds.errors import RdsError
from bot.store.models import Request
from bot.timeutil import human_duration, human_time
from bot.workflow import notices as n
from bot.workflow.states import EMOJI, LABELS, State
from bot.slack.blocks import Blocks, Message, context, fields, section, strip, update_metadata
from bot.slack.ids import Action, Block, Metadata
from bot.slack.text import escape, quote, user


@dataclass(frozen=True)
class Facts:
    """What a renderer may know besides the notice: the request, its votes, the retry delay."""

    request: Request | None = None
    op: Operation | None = None
    approvers: Sequence[str] = ()
    rejection: tuple[str, str] | None = None
    retry_in_s: float = 0.0


N = TypeVar("N", bound=n.Notice)
_RENDERERS: dict[type[n.Notice], Callable[[Any, Facts], Message]] = {}


def renders(*types: type[N]) -> Callable[[Callable[[N, Facts], Message]], Callable[[N, Facts], Message]]:
    """Register the decorated function as the renderer of ``types``."""
    def register(fn: Callable[[N, Facts], Message]) -> Callable[[N, Facts], Message]:
        for cls in types:
            _RENDERERS[cls] = fn
        return fn
    return register


class NoRenderer(LookupError):
    """A notice type nobody taught the Slack layer to show."""


def render(notice: n.Notice, facts: Facts) -> Message:
    fn = _RENDERERS.get(type(notice))
    if fn is None:
        raise NoRenderer(f"no renderer for {type(notice).__name__}")
    return fn(notice, facts)


def missing_renderers() -> list[str]:
    """Notice kinds without a renderer (a test keeps this empty)."""
    return sorted(kind for kind, cls in n.KINDS.items() if cls not in _RENDERERS)


def _need(facts: Facts) -> tuple[Request, Operation]:
    if facts.request is None or facts.op is None:
        raise NoRenderer("this notice belongs to a request, and none was given")
    return facts.request, facts.op


def headline(request: Request, op: Operation) -> str:
    tags = ", ".join(f"{k}={v}" for k, v in sorted((request.tags or {}).items()))
    tag_text = f" ({escape(tags)})" if tags else ""
    return f"{user(request.requester)} wants to *{op.verb}* `{escape(request.instance_id)}`{tag_text}"


@renders(n.Anchor, n.AnchorUpdate)
def anchor(_notice: n.Notice, facts: Facts) -> Message:
    """The request's message: the approval card, or the start of a no-approval job's thread."""
    request, op = _need(facts)
    approvers = facts.approvers
    rejecter, reject_reason = facts.rejection if facts.rejection else (None, None)
    state = State(request.state)
    title = f"{EMOJI[state]} {op.title} · {request.id}"
    blocks: Blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        section(headline(request, op)),
        *fields(op.summary(request.params)),
    ]
    if request.reason:
        blocks.append(section(f"*Reason*\n{quote(request.reason)}", block_id=Block.REASON))
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
    blocks.append(context(status, f"policy {escape(request.policy_version)}"))
    if reject_reason:
        blocks.append(section(f"*Why it was rejected*\n{quote(reject_reason)}"))
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
        blocks.append(context(decided))
    text = f"{op.title} {request.id} by <@{request.requester}>: {LABELS[state]}"
    return Message(text=text, blocks=blocks, metadata=update_metadata(request))


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


@renders(n.Started)
def started(_notice: n.Started, facts: Facts) -> Message:
    request, op = _need(facts)
    made = {k: v for k, v in (request.result or {}).items() if k not in {"ApiRequestId"} and v}
    what = ", ".join(f"{k} `{escape(str(v))}`" for k, v in made.items())
    text = f":outbox_tray: Sent to RDS ({op.api_action}). {what}".strip()
    text += "\nI'll reply here when its status changes."
    return Message(text=text, blocks=[section(text)], metadata=update_metadata(request))


@renders(n.ProgressReply, n.ProgressEdit)
def progress(notice: n.ProgressReply | n.ProgressEdit, facts: Facts) -> Message:
    request, op = _need(facts)
    status, percent = notice.status, notice.percent
    pct = f" · {percent}%" if percent is not None else ""
    target = (request.result or {}).get("DBInstanceId") or request.instance_id
    if op.progress_of:
        text = f":gear: {op.progress_of} on `{escape(str(target))}`: *{escape(status)}*{pct}"
    else:
        text = f":gear: `{escape(str(target))}` is *{escape(status)}*{pct}"
    return Message(text=text, blocks=[section(text)], metadata=update_metadata(request))


@renders(n.Retrying)
def retrying(notice: n.Retrying, facts: Facts) -> Message:
    request, _op = _need(facts)
    retry_in_s = facts.retry_in_s
    safe = notice.safe
    why = escape(str(notice.plain or notice.code or "RDS did not answer"))
    guard = ("The retry reuses the same ClientToken, so RDS cannot start a second job."
             if safe else "Before retrying, the bot checks whether the job already started, so it cannot run twice.")
    text = (f":warning: RDS did not confirm the job: {why}\nI'll try again in about "
            f"{human_duration(timedelta(seconds=max(retry_in_s, 0)))}. {guard}")
    return Message(text=text, blocks=[section(text)], metadata=update_metadata(request))


@renders(n.Final)
def final(_notice: n.Final, facts: Facts) -> Message:
    """The last reply of the thread, with the contract's metadata."""
    request, op = _need(facts)
    state = State(request.state)
    if state is State.SUCCEEDED:
        body = f":large_green_circle: *Done.* {op.outcome(request.params, request.result or {})}"
    elif state is State.DENIED:
        body = f":lock: *Not sent to RDS.* {escape(request.error_message or '')}"
    else:
        error = RdsError(request.error_code or "Unknown", request.error_message or "")
        body = f":red_circle: *Failed.* {escape(error.plain())}"
        if request.error_code and request.error_code.startswith("Job"):
            body = f":red_circle: *Failed.* {escape(request.error_message or '')} [{escape(request.error_code)}]"
    took = ""
    if request.submitted_at and request.finished_at:
        took = f"took {human_duration(request.finished_at - request.submitted_at)}"
    blocks = [section(body), context(f"{request.id}", took, f"requested by {user(request.requester)}")]
    return Message(
        text=strip(body),
        blocks=blocks,
        metadata={"event_type": Metadata.FINAL, "event_payload": {"request_id": request.id, "state": state.value}},
    )


@renders(n.DirectMessage)
def direct(_notice: n.DirectMessage, facts: Facts) -> Message:
    """A DM to the requester about their request's end (rejected, expired, finished...)."""
    request, op = _need(facts)
    by, reason = facts.rejection if facts.rejection else (None, None)
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
    return Message(text=strip(text), blocks=[section(text)], metadata=update_metadata(request))


@renders(n.Opened)
def opened(_notice: n.Opened, facts: Facts) -> Message:
    """The first reply when a request runs under someone else's message (Back up now)."""
    request, op = _need(facts)
    text = f":arrow_forward: {user(request.requester)} started a {op.name} of `{escape(request.instance_id)}` ({request.id})."
    return Message(text=strip(text), blocks=[section(text)], metadata=update_metadata(request))


@renders(n.ReminderPost)
def reminder(notice: n.ReminderPost, _facts: Facts) -> Message:
    """A reminder firing: how old the last backup is, and "Back up now"."""
    instance = escape(notice.instance)
    last = notice.last_backup or {}
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
        section(text),
        context(f"reminder {escape(notice.reminder_id)} · {escape(notice.schedule)}"),
        {"type": "actions", "block_id": "reminder_actions", "elements": [{
            "type": "button", "action_id": Action.BACKUP_NOW, "style": "primary", "value": notice.reminder_id,
            "text": {"type": "plain_text", "text": "Back up now"},
        }]},
    ]
    return Message(text=strip(text), blocks=blocks,
                   metadata={"event_type": Metadata.UPDATE, "event_payload": {"reminder_id": notice.reminder_id}})


@renders(n.AuditSealPost)
def audit_seal(notice: n.AuditSealPost, _facts: Facts) -> Message:
    """The audit trail's anchor, posted where the database's owner cannot rewrite it; or the alarm."""
    if notice.ok:
        anchor = escape(str(notice.anchor))
        text = (f":lock: Audit trail sealed: {int(notice.count or 0)} events, chain intact"
                + (", and the previous seal still matches." if notice.previous else "."))
        detail = f"Anyone can check it later: `rdsbot audit verify --anchor {anchor}`"
    else:
        text = (f":rotating_light: *The audit trail is broken* at event {escape(str(notice.bad_seq))}: "
                f"{escape(str(notice.reason))}.")
        detail = ("Someone changed the bot's database outside the bot. Nothing was repaired; "
                  "`rdsbot audit verify` names the first bad event.")
    return Message(text=strip(f"{text} {detail}"), blocks=[section(text), context(detail)],
                   metadata={"event_type": Metadata.UPDATE, "event_payload": {"seal": True}})
