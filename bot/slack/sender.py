"""Delivers outbox messages to Slack (the workflow's Sender port).

Every message carries metadata naming its request (and, for updates, its
outbox key), so after a crash between "Slack has it" and "we recorded it" the
sender can find it in the thread instead of posting it twice.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics, operations
from bot.operations.base import Operation
from bot.store.models import OutboxMessage, Request
from bot.workflow.ports import SendError
from bot.workflow.states import State
from bot.slack import messages
from bot.slack.ids import Metadata
from bot.slack.messages import Message

log = logging.getLogger(__name__)

# Errors that no retry can fix: the message goes elsewhere or is given up.
PERMANENT = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "msg_too_long", "message_not_found",
    "cant_update_message", "invalid_auth", "account_inactive", "token_revoked", "missing_scope", "not_authed",
    "user_not_found", "cannot_dm_bot", "restricted_action", "no_permission", "invalid_metadata_format",
}
# Messages that belong to no request: posted to the channel their data names.
CHANNEL_POSTS = {"reminder", "audit_seal"}
# Errors after which posting to the user directly is the fallback (DESIGN: a DM).
UNREACHABLE_CHANNEL = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "no_permission"}


class SlackSender:
    """Renders outbox rows with :mod:`bot.slack.messages` and sends them."""

    def __init__(self, client: WebClient, *, approval_channel: str | None, workflow: Any) -> None:
        self.client = client
        self.approval_channel = approval_channel
        self.workflow = workflow

    # ------------------------------------------------------------- the port
    def send(self, message: OutboxMessage, request: Request | None) -> tuple[str, str]:
        if message.kind == "reminder":
            return self._post(str(message.data.get("channel")), messages.reminder(message.data), message)
        if message.kind == "audit_seal":
            return self._post(str(message.data.get("channel")), messages.audit_seal(message.data), message)
        if request is None:
            raise SendError("the outbox row names no request", permanent=True)
        op = _op(request)
        kind = message.kind
        if kind == "anchor":
            return self._post_anchor(message, request, op)
        if kind == "anchor_update":
            return self._update_anchor(request, op)
        if kind in {"reply", "final", "progress_edit"}:
            return self._reply(message, request, op)
        if kind == "dm":
            return self._dm(message, request, op)
        raise SendError(f"unknown outbox kind {kind!r}", permanent=True)

    def find_sent(self, message: OutboxMessage, request: Request | None) -> tuple[str, str] | None:
        if request is None and message.kind not in CHANNEL_POSTS:
            return None
        try:
            if request is not None and message.kind in {"reply", "final", "progress_edit"} and request.thread_channel and request.thread_ts:
                found = self._search(request.thread_channel, message, request, thread_ts=request.thread_ts)
            elif message.kind == "anchor":
                found = self._search(self._anchor_channel(request, _op(request)), message, request)
            elif message.kind in CHANNEL_POSTS:
                found = self._search(str(message.data.get("channel")), message, None)
            elif message.kind == "dm" and request is not None:
                found = self._search(self._dm_channel(str(message.data.get("to") or request.requester)), message, request)
            else:
                return None  # updates are harmless to repeat
        except SlackApiError as error:
            log.info("could not look for an earlier delivery", extra={"error": _error(error)})
            return None
        return found

    def update_progress(self, request: Request, text: str) -> None:
        if not (request.thread_channel and request.progress_ts):
            return
        self._call("chat.update", self.client.chat_update, channel=request.thread_channel, ts=request.progress_ts, text=text)

    # ------------------------------------------------------------ internals
    def _anchor_channel(self, request: Request, op: Operation) -> str:
        if request.approvals_needed > 0 and self.approval_channel:
            return self.approval_channel
        return request.channel_id

    def _post_anchor(self, row: OutboxMessage, request: Request, op: Operation) -> tuple[str, str]:
        msg = messages.anchor(request, op, approvers=self.workflow.approvers_of(request.id))
        channel = self._anchor_channel(request, op)
        try:
            return self._post(channel, msg, row)
        except SendError as error:
            if request.approvals_needed > 0 or str(error) not in UNREACHABLE_CHANNEL:
                raise
        # The bot cannot post where the command was typed: the thread lives in a DM.
        return self._post(self._dm_channel(request.requester), msg, row)

    def _update_anchor(self, request: Request, op: Operation) -> tuple[str, str]:
        if not (request.thread_channel and request.thread_ts):
            raise SendError("the request's message was never posted", permanent=True)
        reject = self.workflow.rejection_of(request.id) if request.state == State.REJECTED else None
        msg = messages.anchor(
            request, op,
            approvers=self.workflow.approvers_of(request.id),
            rejecter=reject[0] if reject else None,
            reject_reason=reject[1] if reject else None,
        )
        self._call("chat.update", self.client.chat_update, channel=request.thread_channel, ts=request.thread_ts,
                   text=msg.text, blocks=msg.blocks)
        return request.thread_channel, request.thread_ts

    def _reply(self, row: OutboxMessage, request: Request, op: Operation) -> tuple[str, str]:
        if not (request.thread_channel and request.thread_ts):
            raise SendError("the request's thread does not exist yet")
        data = row.data or {}
        if row.kind == "final":
            msg = messages.final(request, op)
        elif row.kind == "progress_edit":
            msg = messages.progress(request, op, str(data.get("status")), data.get("percent"))
            if request.progress_ts:
                self._call("chat.update", self.client.chat_update, channel=request.thread_channel,
                           ts=request.progress_ts, text=msg.text, blocks=msg.blocks)
                return request.thread_channel, request.progress_ts
        elif data.get("event") == "started":
            msg = messages.started(request, op)
        elif data.get("event") == "opened":
            msg = messages.opened(request, op)
        elif data.get("event") == "retrying":
            msg = messages.retrying(request, data, self.workflow.retry_delay_s())
        else:
            msg = messages.progress(request, op, str(data.get("status")), data.get("percent"))
        return self._post(request.thread_channel, msg, row, thread_ts=request.thread_ts)

    def _dm(self, row: OutboxMessage, request: Request, op: Operation) -> tuple[str, str]:
        reject = self.workflow.rejection_of(request.id) if request.state == State.REJECTED else None
        msg = messages.direct(request, op, row.data.get("event", ""), reason=reject[1] if reject else None,
                              by=reject[0] if reject else None)
        return self._post(self._dm_channel(str(row.data.get("to") or request.requester)), msg, row)

    def _dm_channel(self, user_id: str) -> str:
        response = self._call("conversations.open", self.client.conversations_open, users=user_id)
        channel = (response.get("channel") or {}).get("id")
        if not channel:
            raise SendError("conversations.open returned no channel")
        return str(channel)

    def _post(self, channel: str, msg: Message, row: OutboxMessage, *, thread_ts: str | None = None) -> tuple[str, str]:
        metadata = dict(msg.metadata) if msg.metadata else None
        if metadata and metadata.get("event_type") == Metadata.UPDATE:
            metadata["event_payload"] = {**metadata.get("event_payload", {}), "key": row.dedupe_key}
        kwargs: dict[str, Any] = {"channel": channel, "text": msg.text, "blocks": msg.blocks}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if metadata:
            kwargs["metadata"] = metadata
        response = self._call("chat.postMessage", self.client.chat_postMessage, **kwargs)
        return str(response.get("channel") or channel), str(response["ts"])

    def _search(self, channel: str, row: OutboxMessage, request: Request | None, *,
                thread_ts: str | None = None) -> tuple[str, str] | None:
        if thread_ts:
            response = self.client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True, limit=200)
        else:
            response = self.client.conversations_history(channel=channel, include_all_metadata=True, limit=200)
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if payload.get("key") == row.dedupe_key:
                return channel, str(message["ts"])
            if request is None or payload.get("request_id") != request.id:
                continue
            if row.kind == "final" and meta.get("event_type") == Metadata.FINAL:
                return channel, str(message["ts"])
        return None

    def _call(self, method: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except SlackApiError as error:
            code = _error(error)
            metrics.SLACK_ERRORS.labels(method, code).inc()
            raise SendError(code, permanent=code in PERMANENT, retry_after_s=_retry_after(error)) from None
        except (OSError, TimeoutError) as error:
            metrics.SLACK_ERRORS.labels(method, type(error).__name__).inc()
            raise SendError(f"{type(error).__name__}: {error}") from None


def _op(request: Request) -> Operation:
    op = operations.get(request.operation)
    if op is None:
        raise SendError(f"unknown operation {request.operation}", permanent=True)
    return op


def _retry_after(error: SlackApiError) -> float | None:
    """Slack's Retry-After (seconds) on a 429, if it sent one."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    for key, value in dict(headers).items():
        if str(key).lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return None
    return None


def _error(error: SlackApiError) -> str:
    response = getattr(error, "response", None)
    try:
        return str(response.get("error") or "unknown_error") if response is not None else "unknown_error"
    except AttributeError:
        return "unknown_error"
