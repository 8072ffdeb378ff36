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

from bot import operations
from bot.i18n import _
from bot.operations.base import Operation
from bot.rds.errors import ErrorKind, RdsError
from bot.store.models import Request
from bot.timeutil import human_duration, slack_date
from bot.workflow import notices as n
from bot.workflow.own import RESUBMITTABLE
from bot.workflow.routing import Approvers
from bot.workflow.states import EMOJI, LABELS, State
from bot.slack.card_parts import (break_glass_blocks, decided_line, headline, iso_time, resubmit_actions, review_button,
                                  vote_buttons, who_may_approve)
from bot.slack.blocks import Blocks, Message, context, fields, section, strip, update_metadata
from bot.slack.checked_view import checked_blocks
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
    eligible: Approvers | None = None  # who may still approve (pending requests only)


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
        blocks.append(section(_("*Reason*\n{reason}", reason=quote(request.reason)), block_id=Block.REASON))
    blocks += checked_blocks(request)
    status = _("*Status:* {state}", state=LABELS[state])
    if state is State.PENDING_APPROVAL:
        needed = max(request.approvals_needed, 1)
        if request.approver_pool:
            status += " · " + _("{have}/{needed} approvals from {pool}", have=len(approvers), needed=needed,
                                pool=escape(request.approver_pool))
        else:
            status += " · " + _("{have}/{needed} approvals", have=len(approvers), needed=needed)
        if request.expires_at:
            status += " · " + _("expires {when}", when=slack_date(request.expires_at))
    if state is State.HELD and request.expires_at:
        status += " · " + _("{why}; sent when it ends, {when}, if the decision made again still holds",
                            why=escape(request.error_message or ""), when=slack_date(request.expires_at))
    if approvers:
        status += " · " + _("approved by {approvers}", approvers=", ".join(user(a) for a in approvers))
    if rejecter:
        status += " · " + _("rejected by {rejecter}", rejecter=user(rejecter))
    blocks.append(context(status, _("policy {version}", version=escape(request.policy_version))))
    if reject_reason:
        blocks.append(section(_("*Why it was rejected*\n{reason}", reason=quote(reject_reason))))
    if state is State.PENDING_APPROVAL and facts.eligible is not None:
        blocks.append(section(who_may_approve(facts.eligible), block_id=Block.APPROVERS))
    if state is State.PENDING_APPROVAL:
        blocks.append(vote_buttons(request, cancel=True))
    if request.break_glass:
        blocks += break_glass_blocks(request)
    decided = decided_line(request)
    if decided:
        blocks.append(context(decided))
    mention = f"<@{request.requester}>"
    text = _("{title} {request_id} by {requester}: {state}", title=op.title, request_id=request.id,
             requester=mention, state=LABELS[state])
    return Message(text=text, blocks=blocks, metadata=update_metadata(request))


@renders(n.ReviewOverdue)
def review_overdue(_notice: n.ReviewOverdue, facts: Facts) -> Message:
    """An overdue break-glass review, posted again in the approvals channel."""
    request, _op = _need(facts)
    since = iso_time(request.created_at.isoformat())
    text = ":rotating_light: " + _("*Break-glass review overdue*: {request_id}, a {operation} of `{instance}` run by "
                                   "{requester} without approval on {since}. An approver must review it.",
                                   request_id=escape(request.id), operation=escape(operations.noun(request.operation)),
                                   instance=escape(request.instance_id), requester=user(request.requester), since=since)
    blocks: Blocks = [section(text)]
    if request.reason:
        blocks.append(section(_("*Reason*\n{reason}", reason=quote(request.reason))))
    blocks.append(review_button(request.id))
    return Message(text=strip(text), blocks=blocks)


@renders(n.ApproverDM)
def approver_dm(_notice: n.ApproverDM, facts: Facts) -> Message:
    """A direct ask to one person who may approve: the request in short, and the buttons."""
    request, op = _need(facts)
    text = ":inbox_tray: " + _("You may approve {request_id}: {headline}", request_id=request.id,
                               headline=headline(request, op))
    blocks: Blocks = [section(text), *fields(op.summary(request.params))]
    if request.reason:
        blocks.append(section(_("*Reason*\n{reason}", reason=quote(request.reason)), block_id=Block.REASON))
    if State(request.state) is State.PENDING_APPROVAL:
        blocks.append(vote_buttons(request, cancel=False))
    blocks.append(context(_("The card in the approvals channel shows every vote; "
                            "your click counts the same from here.")))
    return Message(text=strip(text), blocks=blocks, metadata=update_metadata(request))


@renders(n.Started)
def started(_notice: n.Started, facts: Facts) -> Message:
    request, op = _need(facts)
    made = {k: v for k, v in (request.result or {}).items() if k not in {"ApiRequestId"} and v}
    what = ", ".join(f"{k} `{escape(str(v))}`" for k, v in made.items())
    text = (":outbox_tray: " + _("Sent to RDS ({action}). {made}", action=op.api_action, made=what)).strip()
    text += "\n" + _("I'll reply here when its status changes.")
    return Message(text=text, blocks=[section(text)], metadata=update_metadata(request))


@renders(n.ProgressReply, n.ProgressEdit)
def progress(notice: n.ProgressReply | n.ProgressEdit, facts: Facts) -> Message:
    request, op = _need(facts)
    status, percent = notice.status, notice.percent
    pct = f" · {percent}%" if percent is not None else ""
    target = (request.result or {}).get("DBInstanceId") or request.instance_id
    if op.progress_of:
        text = ":gear: " + _("{what} on `{target}`: *{status}*{percent}", what=op.progress_of,
                             target=escape(str(target)), status=escape(status), percent=pct)
    else:
        text = ":gear: " + _("`{target}` is *{status}*{percent}", target=escape(str(target)), status=escape(status),
                             percent=pct)
    return Message(text=text, blocks=[section(text)], metadata=update_metadata(request))


@renders(n.Retrying)
def retrying(notice: n.Retrying, facts: Facts) -> Message:
    request, _op = _need(facts)
    retry_in_s = facts.retry_in_s
    safe = notice.safe
    why = escape(_error_words(notice.code, notice.message, notice.error_kind, notice.plain) or notice.code
                 or _("RDS did not answer"))
    guard = (_("The retry reuses the same ClientToken, so RDS cannot start a second job.")
             if safe else _("Before retrying, the bot checks whether the job already started, so it cannot run twice."))
    text = ":warning: " + _("RDS did not confirm the job: {why}\nI'll try again in about {delay}. {guard}", why=why,
                            delay=human_duration(timedelta(seconds=max(retry_in_s, 0))), guard=guard)
    return Message(text=text, blocks=[section(text)], metadata=update_metadata(request))


def _error_words(code: str, message: str, kind: str, english: str) -> str:
    """An RDS error stored with a notice, in the reader's words (a row from before ``kind`` was kept: its English)."""
    if code and kind in set(ErrorKind):
        return RdsError(code, message, kind=ErrorKind(kind)).plain()
    return english


@renders(n.Held)
def held(notice: n.Held, facts: Facts) -> Message:
    """A change freeze holds the approved request; it goes when the window ends."""
    request, _op = _need(facts)
    until = iso_time(notice.until)
    text = ":snowflake: " + _("Held: change freeze *{window}* is in force until {until}. Nothing was sent to RDS; "
                              "when it ends the whole decision is made again, then it is sent.",
                              window=escape(notice.window), until=until)
    return Message(text=strip(text), blocks=[section(text)], metadata=update_metadata(request))


@renders(n.Final)
def final(_notice: n.Final, facts: Facts) -> Message:
    """The last reply of the thread, with the contract's metadata."""
    request, op = _need(facts)
    state = State(request.state)
    if state is State.SUCCEEDED:
        body = ":large_green_circle: " + _("*Done.* {outcome}", outcome=op.outcome(request.params, request.result or {}))
    elif state is State.DENIED:
        body = ":lock: " + _("*Not sent to RDS.* {why}", why=escape(request.error_message or ''))
    else:
        error = RdsError(request.error_code or "Unknown", request.error_message or "")
        body = ":red_circle: " + _("*Failed.* {error}", error=escape(error.plain()))
        if request.error_code and request.error_code.startswith("Job"):
            body = ":red_circle: " + _("*Failed.* {error} [{code}]", error=escape(request.error_message or ''),
                                       code=escape(request.error_code))
    took = ""
    if request.submitted_at and request.finished_at:
        took = _("took {duration}", duration=human_duration(request.finished_at - request.submitted_at))
    blocks = [section(body), context(f"{request.id}", took, _("requested by {requester}", requester=user(request.requester)))]
    if state is State.FAILED and request.approvals_needed == 0:  # no DM follows: the requester reads it here
        blocks.append(resubmit_actions(request.id))
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
    about = {"request_id": request.id, "verb": op.verb, "instance": escape(request.instance_id)}
    rejected = (_("Your request {request_id} ({verb} `{instance}`) was rejected by {approver}.", approver=user(by), **about)
                if by else _("Your request {request_id} ({verb} `{instance}`) was rejected.", **about))
    lines = {
        State.REJECTED: ":no_entry: " + rejected + (f"\n{quote(reason)}" if reason else ""),
        State.EXPIRED: ":alarm_clock: " + _("Your request {request_id} ({verb} `{instance}`) expired: "
                                            "nobody approved it in time. Submit it again if it is still needed.", **about),
        State.CANCELLED: ":heavy_multiplication_x: " + _("Your request {request_id} is cancelled; nothing was sent to RDS.",
                                                         request_id=request.id),
        State.SUCCEEDED: ":large_green_circle: " + _("Your request {request_id} finished. {outcome}", request_id=request.id,
                                                     outcome=op.outcome(request.params, request.result or {})),
        State.FAILED: ":red_circle: " + _("Your request {request_id} failed: {error}", request_id=request.id, error=escape(
            RdsError(request.error_code or 'Unknown', request.error_message or '').plain())),
        State.DENIED: ":lock: " + _("Your request {request_id} ({verb} `{instance}`) was not sent to RDS: {why}",
                                    why=escape(request.error_message or ""), **about),
    }
    text = lines.get(state) or _("Your request {request_id} is {state}.", request_id=request.id, state=LABELS[state])
    blocks = [section(text), *([resubmit_actions(request.id)] if state in RESUBMITTABLE else [])]
    return Message(text=strip(text), blocks=blocks, metadata=update_metadata(request))


@renders(n.Opened)
def opened(_notice: n.Opened, facts: Facts) -> Message:
    """The first reply when a request runs under someone else's message (Back up now)."""
    request, op = _need(facts)
    text = ":arrow_forward: " + _("{requester} started a {operation} of `{instance}` ({request_id}).",
                                 requester=user(request.requester), operation=operations.noun(op.name),
                                 instance=escape(request.instance_id), request_id=request.id)
    return Message(text=strip(text), blocks=[section(text)], metadata=update_metadata(request))


@renders(n.ReminderPost)
def reminder(notice: n.ReminderPost, _facts: Facts) -> Message:
    """A reminder firing: how old the last backup is, and "Back up now"."""
    instance = escape(notice.instance)
    last = notice.last_backup or {}
    if last.get("none"):
        age = ":warning: " + _("it has *no successful backup* at all.")
    elif last.get("error"):
        error = _error_words(str(last.get("code") or ""), str(last.get("message") or ""), str(last.get("kind") or ""),
                             str(last["error"]))
        age = _("I could not read its backups ({error}).", error=escape(error))
    else:
        seconds = int(last.get("age_s", 0))
        icon = ":large_green_circle:" if seconds < 86400 else (":large_yellow_circle:" if seconds < 3 * 86400 else ":red_circle:")
        age = f"{icon} " + _("its last successful backup finished *{age} ago* (set {backup}, {method}).",
                             age=human_duration(timedelta(seconds=seconds)), backup=escape(str(last.get('id'))),
                             method=escape(str(last.get('method'))))
    text = ":alarm_clock: " + _("Backup reminder for `{instance}`: {age}", instance=instance, age=age)
    blocks: Blocks = [
        section(text),
        context(_("reminder {reminder_id} · {schedule}", reminder_id=escape(notice.reminder_id),
                  schedule=escape(notice.schedule))),
        {"type": "actions", "block_id": "reminder_actions", "elements": [{
            "type": "button", "action_id": Action.BACKUP_NOW, "style": "primary", "value": notice.reminder_id,
            "text": {"type": "plain_text", "text": _("Back up now")},
        }]},
    ]
    return Message(text=strip(text), blocks=blocks,
                   metadata={"event_type": Metadata.UPDATE, "event_payload": {"reminder_id": notice.reminder_id}})


@renders(n.AuditSealPost)
def audit_seal(notice: n.AuditSealPost, _facts: Facts) -> Message:
    """The audit trail's anchor, posted where the database's owner cannot rewrite it; or the alarm."""
    if notice.ok:
        anchor = escape(str(notice.anchor))
        count = int(notice.count or 0)
        text = ":lock: " + (_("Audit trail sealed: {count} events, chain intact, and the previous seal still matches.",
                              count=count) if notice.previous
                            else _("Audit trail sealed: {count} events, chain intact.", count=count))
        detail = _("Anyone can check it later: `rdsbot audit verify --anchor {anchor}`", anchor=anchor)
    else:
        text = ":rotating_light: " + _("*The audit trail is broken* at event {seq}: {reason}.",
                                       seq=escape(str(notice.bad_seq)), reason=escape(str(notice.reason)))
        detail = _("Someone changed the bot's database outside the bot. Nothing was repaired; "
                   "`rdsbot audit verify` names the first bad event.")
    return Message(text=strip(f"{text} {detail}"), blocks=[section(text), context(detail)],
                   metadata={"event_type": Metadata.UPDATE, "event_payload": seal_payload(notice)})


def seal_payload(notice: n.AuditSealPost) -> dict[str, Any]:
    """What a seal carries for :mod:`bot.slack.seal_reader` to read back: the anchor it vouches for."""
    payload: dict[str, Any] = {"seal": True}
    if notice.ok and notice.anchor:
        payload["anchor"] = notice.anchor
    return payload
