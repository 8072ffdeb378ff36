"""``/rds pending``: the requests waiting that the caller may approve now, each linked to its card.

Answered after the ack (a link costs one ``chat.getPermalink`` per request); who may
approve is the workflow's question (:func:`bot.workflow.routing.pending_for`).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import operations
from bot.i18n import _
from bot.store.models import Request
from bot.timeutil import human_duration, utcnow
from bot.workflow.deps import Deps
from bot.workflow.routing import pending_for
from bot.slack.text import escape, user

log = logging.getLogger(__name__)

#: Requests listed in one answer; the rest are counted.
SHOWN = 20


def pending_text(deps: Deps, client: WebClient, who: str) -> str:
    """The answer to ``/rds pending`` for ``who``."""
    waiting = pending_for(deps, who)
    if not waiting:
        return _("Nothing is waiting for your approval.")
    lines = [_("*Waiting for your approval* ({count})", count=len(waiting))]
    lines += [_line(client, request) for request in waiting[:SHOWN]]
    if len(waiting) > SHOWN:
        lines.append(_("… and {more} more, oldest first above.", more=len(waiting) - SHOWN))
    return "\n".join(lines)


def _line(client: WebClient, request: Request) -> str:
    link = _permalink(client, request)
    name = f"<{link}|{request.id}>" if link else f"`{request.id}`"
    have = _("needs {needed} approvals", needed=max(request.approvals_needed, 1))
    return "• " + _("{request} · {operation} `{instance}` · by {requester} · {age} ago · {needs}", request=name,
                    operation=escape(operations.noun(request.operation)), instance=escape(request.instance_id),
                    requester=user(request.requester), age=human_duration(utcnow() - request.created_at), needs=have)


def _permalink(client: WebClient, request: Request) -> str | None:
    """A link to the request's card; None when it is not posted yet or Slack cannot say."""
    if not (request.thread_channel and request.thread_ts):
        return None
    try:
        response = client.chat_getPermalink(channel=request.thread_channel, message_ts=request.thread_ts)
    except SlackApiError as error:
        log.info("no permalink for a pending card", extra={"request_id": request.id,
                                                          "error": str(error.response.get("error"))})
        return None
    link = str(response.get("permalink") or "")
    return link if link.startswith("https://") and "|" not in link and ">" not in link else None
