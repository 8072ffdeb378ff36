"""Small shared pieces of the listeners: reading a click, answering one person.

Payload fields are read defensively (Slack, or someone forging Slack, may
send anything); button values and private_metadata are pointers and hints,
never trusted facts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.operations.base import FieldErrors
from bot.policy.subjects import is_user_id

log = logging.getLogger(__name__)

CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,20}$")


def acting_user(body: dict[str, Any]) -> str | None:
    """The Slack user behind a request, or None when the payload names none.

    Only a real Slack user ID passes: a payload claiming to be ``role:dba`` or
    ``usergroup:S0DBA`` must never be mistaken for a policy subject.
    """
    raw = body.get("user_id")
    if raw is None:
        user = body.get("user")
        raw = user.get("id") if isinstance(user, dict) else None
    return raw if is_user_id(raw) else None


def click(body: dict[str, Any]) -> tuple[str, str, str]:
    """(value, clicker, channel) of a button click, each cut to a sane length."""
    actions = body.get("actions") or [{}]
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    value = action.get("value")
    if value is None and isinstance(action.get("selected_option"), dict):
        value = action["selected_option"].get("value")
    user = acting_user(body) or ""
    channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")[:32]
    return str(value or "")[:300], user, channel


def block_id_of(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    return str(action.get("block_id") or "")[:255]


def message_ts(body: dict[str, Any]) -> str | None:
    container = body.get("container") or {}
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return str(ts) if ts and re.fullmatch(r"\d{1,12}\.\d{1,8}", str(ts)) else None


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """private_metadata as a dict; only ever used as a routing hint."""
    raw = view.get("private_metadata") or ""
    try:
        data = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def tell(client: WebClient, channel: str, user: str, text: str, *, blocks: list[dict[str, Any]] | None = None) -> None:
    """An ephemeral message to one user; a DM when the channel will not take it."""
    kwargs: dict[str, Any] = {"text": text}
    if blocks:
        kwargs["blocks"] = blocks
    if channel and CHANNEL_ID.match(channel) and not channel.startswith("D"):
        try:
            client.chat_postEphemeral(channel=channel, user=user, **kwargs)
            return
        except SlackApiError as error:
            log.info("ephemeral failed, sending a DM", extra={"error": error.response.get("error")})
    try:
        opened = client.conversations_open(users=user)
        client.chat_postMessage(channel=opened["channel"]["id"], **kwargs)
    except SlackApiError as error:
        log.warning("could not reach the user", extra={"user": user, "error": error.response.get("error")})


def just_ack(ack: Any) -> None:
    ack()


def answer_late(future: Future[Any], *, done: Callable[[Any], None], invalid: Callable[[FieldErrors], None],
                broken: Callable[[], None], what: str) -> None:
    """The second half of an answer that missed Slack's deadline: the result, its field errors,
    or, whatever else broke, an apology — the person always hears back."""
    try:
        result = future.result()
    except FieldErrors as errors:
        invalid(errors)
        return
    except Exception:  # noqa: BLE001 - the user must get an answer whatever broke
        log.exception("late answer failed", extra={"what": what})
        broken()
        return
    done(result)
