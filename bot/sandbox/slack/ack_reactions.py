"""What Slack does with the bot's ack: show it, apply a response_action, or report an error.

Every refusal real Slack would show the user is appended to the response's
``problems`` rather than raised, so a test can assert there were none.
"""

from __future__ import annotations

from typing import Any

from . import block_kit
from .delivery import ACK_DEADLINE_S, BotResponse
from .errors import SlackError
from .message_store import MessageStore
from .view_store import ViewRecord, ViewStore
from .workspace import User

MAX_SUGGESTED_OPTIONS = 100
MAX_OPTION_VALUE = 150


def check_ack(response: BotResponse, consequence: str) -> bool:
    """Note a late or failed ack; True when Slack accepted it."""
    if not response.acked_in_time:
        response.problems.append(
            f"ack took {response.elapsed_s:.2f}s (> {ACK_DEADLINE_S:.0f}s): {consequence}"
        )
        return False
    if response.status != 200:
        response.problems.append(f"ack was HTTP {response.status}: {consequence}")
        return False
    return True


def apply_command_ack(
    messages: MessageStore, response: BotResponse, who: User, channel: str, command: str
) -> None:
    """Show a slash command's ack body the way Slack does (ephemeral unless ``in_channel``)."""
    if not response.acked_in_time:
        check_ack(response, f'Slack shows "{command} failed with the error "operation_timeout""')
        return
    if not check_ack(response, f'Slack shows "{command} failed with the error "dispatch_failed""'):
        return
    if not response.body.strip():
        return
    reply: dict[str, Any] = response.json if isinstance(response.json, dict) else {"text": response.text}
    try:
        if reply.get("response_type") == "in_channel":
            messages.post(
                channel,
                text=reply.get("text"),
                blocks=reply.get("blocks"),
                attachments=reply.get("attachments"),
                need_membership=False,
            )
        else:
            messages.post_ephemeral(
                channel,
                who.id,
                text=reply.get("text"),
                blocks=reply.get("blocks"),
                attachments=reply.get("attachments"),
                source="command_ack",
                need_membership=False,
            )
    except SlackError as refused:
        response.problems.append(
            f"the command's ack body was refused by Slack: {refused.error} {refused.messages}"
        )


def apply_submission_ack(views: ViewStore, response: BotResponse, record: ViewRecord) -> None:
    """Apply a view_submission ack's ``response_action`` to the user's modal stack."""
    if not check_ack(response, "the modal shows 'We had some trouble connecting' and stays open"):
        return
    if response.body.strip() and response.json is None:
        response.problems.append("view_submission ack body is not JSON: the modal shows an error")
        return
    action = response.response_action
    current = views.get(record.id)
    if action in (None, "clear") and (current is None or not current.is_open):
        return  # the bot already replaced the modal (views.open with the submission's trigger)
    try:
        if action is None:
            views.close(record.id)
        elif action == "errors":
            inputs = {b.get("block_id") for b in block_kit.input_blocks(record.blocks)}
            for block_id in response.errors:
                if block_id not in inputs:
                    response.problems.append(
                        f"errors names {block_id!r}, not an input block of {record.id}: "
                        "Slack rejects the response and shows a generic error"
                    )
        elif action == "update":
            views.replace(record.id, response.json.get("view"))
        elif action == "push":
            views.push_definition(record.user, response.json.get("view"))
        elif action == "clear":
            views.clear(record.id)
        else:
            response.problems.append(f"unknown response_action {action!r}")
    except SlackError as refused:
        response.problems.append(
            f"response_action {action} refused by Slack: {refused.error} {refused.messages}"
        )


def check_options(response: BotResponse) -> None:
    """Note what Slack would refuse in a block_suggestion answer."""
    if not response.ok or not response.acked_in_time:
        return
    if not isinstance(response.json, dict):
        response.problems.append("block_suggestion answer is not a JSON object: the select shows no options")
        return
    options = response.options
    if len(options) > MAX_SUGGESTED_OPTIONS:
        response.problems.append(f"{len(options)} options; Slack shows none above {MAX_SUGGESTED_OPTIONS}")
    for option in options:
        text = option.get("text")
        if not isinstance(text, dict) or text.get("type") != "plain_text":
            response.problems.append(f"option {option.get('value')!r}: text must be a plain_text object")
        if len(str(option.get("value", ""))) > MAX_OPTION_VALUE:
            response.problems.append(
                f"option value longer than {MAX_OPTION_VALUE} characters: {option.get('value')!r}"
            )
