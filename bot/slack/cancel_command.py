"""``/rds cancel <request-id>``: the requester withdraws their own request, as the card's Cancel does.

Answered after the ack (it writes). The workflow step is the Cancel button's
(:func:`bot.workflow.own.withdraw`): someone else's ID is answered like an
unknown one, and a request past withdrawing says which state it is in.
"""

from __future__ import annotations

from bot.i18n import _
from bot.slack.commands import REQUEST_ID
from bot.slack.text import escape
from bot.workflow.deps import Deps
from bot.workflow.own import withdraw


def cancel_text(deps: Deps, user: str, request_id: str | None) -> str:
    """The answer to ``/rds cancel [request-id]`` for ``user``."""
    if not request_id:
        return _("Which request? `/rds cancel <request-id>` withdraws one of yours that has not reached RDS yet; "
                 "`/rds status` lists your requests.")
    if not REQUEST_ID.match(request_id):
        return _("`{request_id}` is not a request ID (like clone-20261129-9f3a1c2b).",
                 request_id=escape(request_id[:64]))
    outcome = withdraw(deps, request_id, user=user)
    return (":heavy_multiplication_x: " if outcome.ok else ":warning: ") + escape(outcome.message)
