"""Safe text for Slack: user input can never ping a channel or disguise a link."""

from __future__ import annotations

import re

from bot.i18n import _
from bot.policy.subjects import is_user_id

# C0/C1 controls and bidi overrides, which can make text display as something else.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape(text: str | None, *, limit: int = 2900) -> str:
    """Escape mrkdwn control characters (&, <, >) and cut to ``limit`` characters.

    ``<!channel>``, ``<@U123>`` and ``<http://evil|trusted>`` only work when
    the angle brackets reach Slack unescaped; after this they show as text.
    """
    if not text:
        return ""
    text = _CONTROL.sub("", str(text))
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    entity = cut.rfind("&")
    if entity != -1 and ";" not in cut[entity:]:
        cut = cut[:entity]  # never leave half an entity like "&am"
    return cut + "…"


def quote(text: str | None, *, limit: int = 2900) -> str:
    """A block quote of escaped user text."""
    body = escape(text, limit=limit)
    return "\n".join(f"> {line}" for line in body.splitlines()) if body else "> _" + _("(none)") + "_"


def plain(text: str | None, *, limit: int = 150) -> str:
    """For plain_text objects (labels, option texts): no escaping needed, only length."""
    text = _CONTROL.sub("", str(text or ""))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user(user_id: str) -> str:
    """A mention of a Slack user ID we validated (never of free text)."""
    if is_user_id(user_id):
        return f"<@{user_id}>"
    return escape(user_id)
