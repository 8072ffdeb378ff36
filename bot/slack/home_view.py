"""The App Home view: Block Kit from :class:`bot.workflow.home.Home` (no decisions here).

Slack takes at most 100 blocks in a view: each list shows a bounded number of
rows and says how many more there are, so the whole view always fits
(``tests`` build one from lists far longer than that).
The buttons are the cards' own: ``approve``/``reject`` and ``cancel`` with the
request ID as value, and ``resubmit`` on a rejected or failed request; whoever
clicks is checked again server-side, as on a card.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot import operations
from bot.i18n import Translated, _, tr
from bot.policy.conditions import TAG_KEY_PREFIX
from bot.slack.blocks import Blocks, context, section
from bot.slack.card_parts import resubmit_button, vote_buttons
from bot.slack.ids import Action
from bot.slack.text import escape, quote, user
from bot.store.models import Reminder, Request
from bot.timeutil import human_duration, slack_date, utcnow, zoned_time
from bot.workflow.home import Home
from bot.workflow.own import CANCELLABLE, RESUBMITTABLE
from bot.workflow.rights import ActionRights, Rights, Scope
from bot.workflow.states import EMOJI, LABELS, State

MAX_BLOCKS = 100
MINE_SHOWN = 30  # one block each
WAITING_SHOWN = 20  # two blocks each: the request, its buttons
REMINDERS_SHOWN = 20  # lines of one section
SCOPES_SHOWN = 4  # resource patterns named per action and effect
ANY_INSTANCE = frozenset({"*", "acs:rds:*:*:dbinstance/*"})
NOTE_BLOCK = "home_note"

Link = Callable[[Request], str | None]

# Wrapped at import (English ids), like the state labels; each read is in the reader's language.
BOT_ACTION_NAMES: Translated[str] = Translated({
    "rds:DescribeDBInstances": _("See instances"),
    "rdsbot:Approve": _("Approve requests"),
    "rdsbot:Remind": _("Set backup reminders"),
    "rdsbot:BreakGlass": _("Break glass"),
})


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}


def _divider() -> dict[str, Any]:
    return {"type": "divider"}


def _button(action: str, text: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action, "value": value,
                              "text": {"type": "plain_text", "text": text[:75]}}
    if style:
        button["style"] = style
    return button


def _more(hidden: int) -> list[dict[str, Any]]:
    return [context(_("… and {more} more.", more=hidden))] if hidden > 0 else []


def _name(request: Request, link: Link) -> str:
    url = link(request)
    return f"<{url}|{request.id}>" if url else f"`{request.id}`"


def home_view(home: Home, *, link: Link, note: str | None = None) -> dict[str, Any]:
    """The whole home tab of ``home.user``; ``note`` says what their last click there did."""
    blocks: Blocks = [section(note, block_id=NOTE_BLOCK)] if note else []
    blocks += mine_blocks(home.mine, link)
    blocks += [_divider(), *waiting_blocks(home.waiting, link)]
    blocks += [_divider(), *reminder_blocks(home.reminders, unknown=home.channels_unknown)]
    blocks += [_divider(), *rights_blocks(home.rights)]
    blocks.append(context(_("`/rds help` lists every command. This page is refreshed each time you open it.")))
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def mine_blocks(requests: Sequence[Request], link: Link) -> Blocks:
    """Your requests: open ones first, each with Cancel while it can be withdrawn, or Edit and resubmit."""
    blocks: Blocks = [_header(_("Your requests"))]
    if not requests:
        return [*blocks, section(_("You have no requests yet. Try `/rds help`."))]
    for request in requests[:MINE_SHOWN]:
        state = State(request.state)
        text = f"{EMOJI[state]} " + _("{request} · {operation} `{instance}` · *{state}* · {when}",
                                      request=_name(request, link), operation=escape(operations.noun(request.operation)),
                                      instance=escape(request.instance_id), state=LABELS[state],
                                      when=slack_date(request.created_at))
        block = section(text, block_id=f"mine_{request.id}")
        if state in CANCELLABLE:
            block["accessory"] = _button(Action.CANCEL, _("Cancel"), request.id, "danger")
        elif state in RESUBMITTABLE:
            block["accessory"] = resubmit_button(request.id)
        blocks.append(block)
    return blocks + _more(len(requests) - MINE_SHOWN)


def waiting_blocks(requests: Sequence[Request], link: Link) -> Blocks:
    """What waits for your approval, with the cards' Approve and Reject."""
    blocks: Blocks = [_header(_("Waiting for your approval"))]
    if not requests:
        return [*blocks, section(_("Nothing is waiting for your approval."))]
    now = utcnow()
    for request in requests[:WAITING_SHOWN]:
        text = _("{request} · {operation} `{instance}` · by {requester} · {age} ago", request=_name(request, link),
                 operation=escape(operations.noun(request.operation)), instance=escape(request.instance_id),
                 requester=user(request.requester), age=human_duration(now - request.created_at))
        if request.reason:
            text += "\n" + quote(request.reason, limit=300)
        blocks.append(section(text, block_id=f"wait_{request.id}"))
        blocks.append({**vote_buttons(request, cancel=False), "block_id": f"vote_{request.id}"})
    return blocks + _more(len(requests) - WAITING_SHOWN)


def reminder_blocks(reminders: Sequence[Reminder], *, unknown: bool) -> Blocks:
    """The backup reminders of the channels you are in."""
    blocks: Blocks = [_header(_("Backup reminders in your channels"))]
    if unknown:
        return [*blocks, section(":warning: " + _("Slack did not say which channels you are in, so no reminders "
                                                  "are listed."))]
    if not reminders:
        return [*blocks, section(_("No backup reminders in your channels."))]
    lines = []
    for reminder in reminders[:REMINDERS_SHOWN]:
        # In the schedule's own zone, as `/rds remind list` says it: the reader's would misstate it.
        when = escape(zoned_time(reminder.next_run_at, reminder.timezone)) if reminder.next_run_at else _("done")
        lines.append("• " + _("`{instance}` in <#{channel}> · {schedule} ({timezone}) · next {when}",
                              instance=escape(reminder.instance_id), channel=escape(reminder.channel_id),
                              schedule=escape(reminder.schedule), timezone=escape(reminder.timezone), when=when))
    return [*blocks, section("\n".join(lines)), *_more(len(reminders) - REMINDERS_SHOWN)]


def rights_blocks(rights: Rights) -> Blocks:
    """What you may do: your roles, and per action where the policy allows and denies it."""
    roles = ", ".join(f"`{escape(role)}`" for role in rights.roles)
    head = _("*Your roles:* {roles}", roles=roles) if roles else _("You hold no role in the policy.")
    if rights.unknown_groups:
        head += "\n" + _("Slack could not say whether you are in {groups}; what they allow is not counted.",
                         groups=escape(", ".join(rights.unknown_groups)))
    lines = [_action_line(each) for each in rights.actions]
    return [_header(_("What you may do")), section(head), section("\n".join(lines)),
            context(_("Each request is still decided in full when you make it; a deny always wins."))]


def _action_line(rights: ActionRights) -> str:
    op = next((o for o in operations.FORMS.values() if o.ram_action == rights.action), None)
    title = tr(op.title) if op is not None else BOT_ACTION_NAMES.get(rights.action, rights.action)
    everywhere = any(s.resource in ANY_INSTANCE and not s.conditions for s in rights.denied)
    mark = ":white_check_mark:" if rights.allowed and not everywhere else ":no_entry_sign:"
    parts = [_("allowed on {scopes}", scopes=_scopes(rights.allowed))] if rights.allowed else []
    if rights.denied:
        parts.append(_("denied on {scopes}", scopes=_scopes(rights.denied)))
    if not parts:
        parts.append(_("not allowed"))
    return _("{mark} *{title}* (`{action}`): {rights}", mark=mark, title=escape(title), action=rights.action,
             rights="; ".join(parts))


def _scopes(scopes: Sequence[Scope]) -> str:
    named = [_scope(scope) for scope in scopes[:SCOPES_SHOWN]]
    text = ", ".join(named)
    if len(scopes) > SCOPES_SHOWN:
        text = _("{scopes} and {more} more", scopes=text, more=len(scopes) - SCOPES_SHOWN)
    return text


def _scope(scope: Scope) -> str:
    where = _("any instance") if scope.resource in ANY_INSTANCE else f"`{escape(scope.resource, limit=200)}`"
    if not scope.conditions:
        return where
    tags = escape(scope.conditions.replace(TAG_KEY_PREFIX, ""), limit=200)
    return _("{resource} where tag {conditions}", resource=where, conditions=tags)
