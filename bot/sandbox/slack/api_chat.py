"""Web API methods ``chat.*``: post, update, delete, ephemeral, permalink."""

from __future__ import annotations

from typing import Any

from .errors import SlackError
from .message_store import KEEP
from .params import Params
from .state import SlackState


def _content(p: Params, *, keep_missing: bool) -> dict[str, Any]:
    """text/blocks/attachments/metadata as sent; ``KEEP`` for absent ones when editing."""
    missing = KEEP if keep_missing else None
    return {
        "text": p.string("text") if p.has("text") else missing,
        "blocks": p.decoded("blocks", error="invalid_blocks_format") if p.has("blocks") else missing,
        "attachments": p.decoded("attachments", error="invalid_attachments")
        if p.has("attachments")
        else missing,
        "metadata": p.decoded("metadata", error="invalid_metadata_format") if p.has("metadata") else missing,
    }


def post_message(state: SlackState, p: Params) -> dict[str, Any]:
    """``chat.postMessage``."""
    message = state.messages.post(
        p.string("channel"),
        **_content(p, keep_missing=False),
        thread_ts=p.string("thread_ts"),
        reply_broadcast=p.flag("reply_broadcast"),
    )
    return {
        "ok": True,
        "channel": message.channel,
        "ts": message.ts,
        "message": state.messages.render(message),
    }


def update(state: SlackState, p: Params) -> dict[str, Any]:
    """``chat.update``: what is not sent is kept; ``blocks=[]``/``metadata={}`` remove."""
    message = state.messages.update(p.string("channel"), p.string("ts"), **_content(p, keep_missing=True))
    rendered = state.messages.render(message)
    return {
        "ok": True,
        "channel": message.channel,
        "ts": message.ts,
        "text": message.text,
        "message": rendered,
    }


def post_ephemeral(state: SlackState, p: Params) -> dict[str, Any]:
    """``chat.postEphemeral``."""
    content = _content(p, keep_missing=False)
    content.pop("metadata")
    ephemeral = state.messages.post_ephemeral(
        p.string("channel"), p.string("user"), **content, thread_ts=p.string("thread_ts")
    )
    return {"ok": True, "message_ts": ephemeral.ts}


def delete(state: SlackState, p: Params) -> dict[str, Any]:
    """``chat.delete``."""
    channel = state.messages.resolve_channel(p.string("channel"))
    ts = p.string("ts")
    state.messages.delete(channel, ts)
    return {"ok": True, "channel": channel, "ts": ts}


def get_permalink(state: SlackState, p: Params) -> dict[str, Any]:
    """``chat.getPermalink``."""
    channel = state.messages.resolve_channel(p.string("channel"), need_membership=False)
    ts = p.string("message_ts", required=True, missing_error="message_not_found") or ""
    message = state.messages.get(channel, ts)
    if message is None:
        raise SlackError("message_not_found")
    link = f"https://{state.workspace.domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel}"
    return {"ok": True, "channel": channel, "permalink": link}


HANDLERS = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.postEphemeral": post_ephemeral,
    "chat.delete": delete,
    "chat.getPermalink": get_permalink,
}
