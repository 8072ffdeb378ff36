"""``POST /response/<token>``: what Slack does with a post to an interaction's response_url.

Default: an ephemeral message to the user who interacted. ``response_type:
in_channel`` posts for everyone (the bot need not be in the channel);
``replace_original`` edits and ``delete_original`` removes the message the
interaction came from.
"""

from __future__ import annotations

from typing import Any

from .errors import SlackError
from .message_store import KEEP
from .response_log import ResponseRecord
from .state import SlackState
from .tokens import ResponseTarget

_TRUE = (True, "true", "1", 1)


def deliver(state: SlackState, token: str, payload: Any) -> dict[str, Any]:
    """Apply one response_url post; raise ``SlackError`` (HTTP 4xx) when Slack refuses it."""
    if not isinstance(payload, dict):
        raise SlackError("invalid_payload", status=400)
    target = state.response_urls.use(token)
    try:
        outcome, ts = _apply(state, target, payload)
    except SlackError as refused:
        state.responses.add(ResponseRecord(target, payload, f"refused:{refused.error}", None))
        # A response_url answers its errors with HTTP 400 and the code.
        raise SlackError(refused.error, *refused.messages, status=400) from None
    state.responses.add(ResponseRecord(target, payload, outcome, ts))
    return {"ok": True}


def _apply(state: SlackState, target: ResponseTarget, payload: dict[str, Any]) -> tuple[str, str | None]:
    messages = state.messages
    text, blocks, attachments = payload.get("text"), payload.get("blocks"), payload.get("attachments")
    original = target.message_ts
    if payload.get("delete_original") in _TRUE and original:
        if target.is_ephemeral:
            messages.delete_ephemeral(target.channel, original)
        else:
            messages.delete(target.channel, original, need_membership=False)
        return "deleted", original
    if payload.get("replace_original") in _TRUE and original:
        if target.is_ephemeral:
            messages.replace_ephemeral(
                target.channel, original, text=text, blocks=blocks, attachments=attachments
            )
        else:
            # Replacing means the new content wholesale: blocks not sent are gone.
            messages.update(
                target.channel,
                original,
                text=text or "",
                blocks=blocks or [],
                attachments=attachments or [],
                metadata=payload.get("metadata", KEEP),
                need_membership=False,
            )
        return "replaced", original
    thread_ts = payload.get("thread_ts")
    if payload.get("response_type") == "in_channel":
        posted = messages.post(
            target.channel,
            text=text,
            blocks=blocks,
            attachments=attachments,
            metadata=payload.get("metadata"),
            thread_ts=thread_ts,
            need_membership=False,
        )
        return "in_channel", posted.ts
    ephemeral = messages.post_ephemeral(
        target.channel,
        target.user,
        text=text,
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts,
        source="response_url",
        need_membership=False,
    )
    return "ephemeral", ephemeral.ts
