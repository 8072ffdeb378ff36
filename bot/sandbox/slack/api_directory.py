"""Web API methods that read the workspace: auth, users, user groups, team, conversations."""

from __future__ import annotations

import base64
from typing import Any

from .errors import SlackError
from .message_store import StoredMessage
from .params import Params
from .state import SlackState


def _page(items: list[Any], p: Params, default_limit: int) -> tuple[list[Any], dict[str, Any]]:
    """One page of ``items`` with Slack's cursor fields."""
    limit = p.integer("limit", default_limit) or default_limit
    cursor = p.string("cursor")
    offset = 0
    if cursor:
        try:
            offset = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
        except ValueError:
            raise SlackError("invalid_cursor") from None
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    next_cursor = base64.b64encode(f"offset:{offset + limit}".encode()).decode() if more else ""
    return page, {"has_more": more, "response_metadata": {"next_cursor": next_cursor}}


def _in_window(message: StoredMessage, p: Params) -> bool:
    """``oldest``/``latest``/``inclusive`` filtering, compared as numbers like Slack does."""
    inclusive = p.flag("inclusive")
    ts = float(message.ts)
    oldest, latest = p.string("oldest"), p.string("latest")
    if oldest is not None and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
        return False
    return latest is None or ts < float(latest) or (ts == float(latest) and inclusive)


# --- auth & team --------------------------------------------------------------------------
def auth_test(state: SlackState, _p: Params) -> dict[str, Any]:
    """``auth.test`` for the bot token."""
    ws = state.workspace
    return {
        "ok": True,
        "url": f"https://{ws.domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def api_test(_state: SlackState, p: Params) -> dict[str, Any]:
    """``api.test`` echoes its arguments."""
    return {"ok": True, "args": dict(p.args)}


def team_info(state: SlackState, _p: Params) -> dict[str, Any]:
    """``team.info``."""
    ws = state.workspace
    return {
        "ok": True,
        "team": {
            "id": ws.team_id,
            "name": ws.team_name,
            "domain": ws.domain,
            "email_domain": "example.com",
            "icon": {},
        },
    }


def bots_info(state: SlackState, p: Params) -> dict[str, Any]:
    """``bots.info`` for the app's own bot."""
    ws = state.workspace
    if p.string("bot") not in (None, ws.bot_id):
        raise SlackError("bot_not_found")
    return {
        "ok": True,
        "bot": {
            "id": ws.bot_id,
            "deleted": False,
            "name": ws.bot_name,
            "updated": 1700000000,
            "app_id": ws.app_id,
            "user_id": ws.bot_user_id,
            "icons": {},
        },
    }


# --- users & groups ----------------------------------------------------------------------
def users_info(state: SlackState, p: Params) -> dict[str, Any]:
    """``users.info``."""
    user = state.workspace.user(p.string("user", required=True, missing_error="user_not_found") or "")
    if user is None:
        raise SlackError("user_not_found")
    return {"ok": True, "user": user.to_slack(state.workspace.team_id, include_locale=p.flag("include_locale"))}


def users_list(state: SlackState, p: Params) -> dict[str, Any]:
    """``users.list`` (paginated)."""
    ws = state.workspace
    include_locale = p.flag("include_locale")
    page, paging = _page([u.to_slack(ws.team_id, include_locale=include_locale) for u in ws.users], p, 1000)
    return {"ok": True, "members": page, **paging}


def usergroups_list(state: SlackState, p: Params) -> dict[str, Any]:
    """``usergroups.list``."""
    ws = state.workspace
    include_users = p.flag("include_users")
    return {
        "ok": True,
        "usergroups": [g.to_slack(ws.team_id, include_users=include_users) for g in ws.usergroups],
    }


def usergroups_users_list(state: SlackState, p: Params) -> dict[str, Any]:
    """``usergroups.users.list``."""
    group = state.workspace.usergroup(p.string("usergroup", required=True) or "")
    if group is None:
        raise SlackError("no_such_subteam")
    return {"ok": True, "users": list(group.users)}


# --- conversations -----------------------------------------------------------------------
def conversations_open(state: SlackState, p: Params) -> dict[str, Any]:
    """``conversations.open`` for a one-to-one DM (``D0ALICE`` for ``U0ALICE``)."""
    ws = state.workspace
    if p.string("channel"):
        existing = state.messages.resolve_channel(p.string("channel"), need_membership=False)
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": existing}}
    users = [
        u.strip()
        for u in (p.string("users", required=True, missing_error="users_list_not_supplied") or "").split(",")
        if u.strip()
    ]
    if len(users) != 1:
        raise SlackError("not_supported", "[ERROR] the emulator opens one-to-one DMs only")
    user = ws.user(users[0])
    if user is None:
        raise SlackError("user_not_found")
    if user.is_bot:
        raise SlackError("cannot_dm_bot")
    channel_id = ws.dm_channel_id(user.id)
    channel: dict[str, Any] = {"id": channel_id}
    if p.flag("return_im"):
        channel.update(
            created=1700000000,
            is_im=True,
            is_org_shared=False,
            user=user.id,
            is_user_deleted=False,
            priority=0,
        )
    return {"ok": True, "no_op": True, "already_open": True, "channel": channel}


def conversations_info(state: SlackState, p: Params) -> dict[str, Any]:
    """``conversations.info`` for seeded channels and DMs."""
    ws = state.workspace
    channel_id = p.string("channel", required=True, missing_error="channel_not_found") or ""
    seeded = ws.channel(channel_id)
    if seeded is not None:
        return {"ok": True, "channel": seeded.to_slack(ws.bot_user_id)}
    dm_user = ws.dm_user(channel_id)
    if dm_user is None:
        raise SlackError("channel_not_found")
    return {
        "ok": True,
        "channel": {
            "id": channel_id,
            "created": 1700000000,
            "is_im": True,
            "is_org_shared": False,
            "user": dm_user.id,
            "is_user_deleted": False,
            "priority": 0,
        },
    }


def conversations_members(state: SlackState, p: Params) -> dict[str, Any]:
    """``conversations.members``."""
    ws = state.workspace
    channel_id = state.messages.resolve_channel(p.string("channel"))
    seeded, dm_user = ws.channel(channel_id), ws.dm_user(channel_id)
    members = list(seeded.members) if seeded else [dm_user.id] if dm_user else []
    page, paging = _page([*members, ws.bot_user_id], p, 100)
    return {"ok": True, "members": page, **paging}


def users_conversations(state: SlackState, p: Params) -> dict[str, Any]:
    """``users.conversations`` for a user (the bot when none): the channels they are in.

    As with a bot token on real Slack, a private channel is listed only when the bot is
    in it too; ``types`` filters public and private channels (DMs are not listed here).
    """
    ws = state.workspace
    who = p.string("user") or ws.bot_user_id
    if ws.user(who) is None:
        raise SlackError("user_not_found")
    types = {t.strip() for t in (p.string("types") or "public_channel").split(",") if t.strip()}
    is_bot = who == ws.bot_user_id

    def member(channel: Any) -> bool:
        return channel.bot_is_member if is_bot else who in channel.members

    listed = [
        c.to_slack(ws.bot_user_id)
        for c in ws.channels
        if member(c)
        and ("private_channel" if c.is_private else "public_channel") in types
        and (not c.is_private or c.bot_is_member)
    ]
    page, paging = _page(listed, p, 100)
    return {"ok": True, "channels": page, "response_metadata": paging["response_metadata"]}


def conversations_history(state: SlackState, p: Params) -> dict[str, Any]:
    """``conversations.history``: newest first, metadata only with ``include_all_metadata``."""
    messages = state.messages
    channel = messages.resolve_channel(p.string("channel"))
    with_metadata = p.flag("include_all_metadata")
    chosen = [m for m in reversed(messages.top_level(channel)) if _in_window(m, p)]
    page, paging = _page(chosen, p, 100)
    return {
        "ok": True,
        "messages": [messages.render(m, include_metadata=with_metadata) for m in page],
        "pin_count": 0,
        **paging,
    }


def conversations_replies(state: SlackState, p: Params) -> dict[str, Any]:
    """``conversations.replies``: the parent, then its replies oldest first."""
    messages = state.messages
    channel = messages.resolve_channel(p.string("channel"))
    ts = p.string("ts", required=True, missing_error="thread_not_found") or ""
    root = messages.thread_root(channel, ts)
    parent = messages.get(channel, root) if root else None
    if parent is None:
        raise SlackError("thread_not_found")
    thread = [parent] + [m for m in messages.replies(channel, parent.ts) if _in_window(m, p)]
    page, paging = _page(thread, p, 1000)
    with_metadata = p.flag("include_all_metadata")
    return {
        "ok": True,
        "messages": [messages.render(m, include_metadata=with_metadata) for m in page],
        **paging,
    }


HANDLERS = {
    "auth.test": auth_test,
    "api.test": api_test,
    "team.info": team_info,
    "bots.info": bots_info,
    "users.info": users_info,
    "users.list": users_list,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "users.conversations": users_conversations,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
}
