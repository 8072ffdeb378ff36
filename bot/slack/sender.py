"""Delivers outbox messages to Slack (the workflow's Sender port).

Each notice is rendered by the renderer registered for its type and sent where
its placement says, in the language of who reads it there: a DM in its
person's Slack locale, anything in a channel (cards, threads, reminders) in
RDSBOT_CHANNEL_LOCALE. Every message carries metadata naming its request (and,
for updates, its outbox key), so after a crash between "Slack has it" and "we recorded it" the
sender can find it in the thread instead of posting it twice. Posts keep Slack's per-channel
rate (:mod:`bot.slack.pacing`): :meth:`SlackSender.wait_s` tells the outbox when a message may go.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics, operations
from bot.i18n import SOURCE, Reader, use_reader
from bot.operations.base import Operation
from bot.store.models import OutboxMessage, Request
from bot.workflow.notices import Final, Notice, Placement, UnknownNotice, decode
from bot.workflow.ports import SendError
from bot.workflow.queries import Requests
from bot.workflow.routing import Approvers
from bot.workflow.states import State
from bot.slack import notice_views
from bot.slack.blocks import Message
from bot.slack.ids import Metadata
from bot.slack.notice_views import Facts
from bot.slack.pacing import ChannelPace
from bot.slack.people import People

log = logging.getLogger(__name__)

Routing = Callable[[Request, Sequence[str]], Approvers]

# Errors that no retry can fix: the message goes elsewhere or is given up.
PERMANENT = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "msg_too_long", "message_not_found",
    "cant_update_message", "invalid_auth", "account_inactive", "token_revoked", "missing_scope", "not_authed",
    "user_not_found", "cannot_dm_bot", "restricted_action", "no_permission", "invalid_metadata_format",
}
# Where a lost delivery is looked for in the request's thread.
THREADED = {Placement.REPLY, Placement.PROGRESS_EDIT, Placement.FINAL}
# Errors after which posting to the user directly is the fallback (DESIGN: a DM).
UNREACHABLE_CHANNEL = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "no_permission"}
MAX_DMS = 1024  # DM channels remembered (conversations.open gives a person the same one every time)


class SlackSender:
    """Renders outbox notices with :mod:`bot.slack.notice_views` and sends each where its placement says."""

    def __init__(self, client: WebClient, *, approval_channel: str | None, requests: Requests,
                 retry_in_s: float, routing: Routing | None = None, people: People | None = None,
                 default_locale: str = SOURCE, channel_locale: str = SOURCE, pace: ChannelPace | None = None) -> None:
        self.client = client
        self.pace = pace or ChannelPace()
        self._dms: OrderedDict[str, str] = OrderedDict()
        self.people = people  # a DM is written in its reader's Slack locale
        self.default_locale = default_locale  # RDSBOT_DEFAULT_LOCALE: when that locale is unknown
        self.channel_locale = channel_locale  # RDSBOT_CHANNEL_LOCALE: cards, threads, channel posts
        self.approval_channel = approval_channel
        self.requests = requests
        self.retry_in_s = retry_in_s
        self.routing = routing  # who may approve a pending request (the card names them)

    # ------------------------------------------------------------- the port
    def send(self, message: OutboxMessage, request: Request | None) -> tuple[str, str]:
        notice = _decode(message)
        with use_reader(self._reader(notice, request)):
            return self._deliver(notice, message, request)

    def wait_s(self, message: OutboxMessage, request: Request | None) -> float:
        """Seconds until ``message`` may be posted without going over its channel's rate (0: now).
        Edits and messages whose channel is not known yet (a first DM) may go now."""
        try:
            notice = _decode(message)
        except SendError:
            return 0.0
        placement = notice.placement
        channel: str | None = None
        if placement is Placement.CHANNEL:
            channel = str(getattr(notice, "channel", "") or "")
        elif placement is Placement.DM:
            to = str(getattr(notice, "to", "") or (request.requester if request is not None else ""))
            channel = self._dms.get(to)
        elif request is None or placement is Placement.ANCHOR_UPDATE:
            channel = None
        elif placement is Placement.ANCHOR:
            channel = self._anchor_channel(request)
        elif placement is not Placement.PROGRESS_EDIT or not request.progress_ts:
            channel = request.thread_channel
        return self.pace.wait_s(channel)

    def _reader(self, notice: Notice, request: Request | None) -> Reader:
        """Who reads it: a DM, its person (in their Slack locale); anything in a channel, the channel."""
        if notice.placement is Placement.DM:
            to = str(getattr(notice, "to", "") or (request.requester if request is not None else ""))
            if to and self.people is not None:
                locale = self.people.locale
                return Reader(lambda: locale(to), fallback=self.default_locale)
            return Reader.fixed(self.default_locale)
        return Reader.fixed(self.channel_locale)

    def _deliver(self, notice: Notice, message: OutboxMessage, request: Request | None) -> tuple[str, str]:
        if notice.placement is Placement.CHANNEL:
            channel = str(getattr(notice, "channel", "") or "")
            # A channel post may belong to a request (an overdue review): its renderer then gets the facts.
            facts = self._facts(request, notice) if request is not None else Facts()
            return self._post(channel, notice_views.render(notice, facts), message)
        if request is None:
            raise SendError("the outbox row names no request", permanent=True)
        facts = self._facts(request, notice)
        msg = notice_views.render(notice, facts)
        placement = notice.placement
        if placement is Placement.ANCHOR:
            return self._post_anchor(message, request, msg)
        if placement is Placement.DM:
            return self._post(self._dm_channel(str(getattr(notice, "to", "") or request.requester)), msg, message)
        if not (request.thread_channel and request.thread_ts):
            if placement is Placement.ANCHOR_UPDATE:
                raise SendError("the request's message was never posted", permanent=True)
            raise SendError("the request's thread does not exist yet")
        if placement is Placement.ANCHOR_UPDATE:
            self._call("chat.update", self.client.chat_update, channel=request.thread_channel, ts=request.thread_ts,
                       text=msg.text, blocks=msg.blocks)
            return request.thread_channel, request.thread_ts
        if placement is Placement.PROGRESS_EDIT and request.progress_ts:
            self._call("chat.update", self.client.chat_update, channel=request.thread_channel,
                       ts=request.progress_ts, text=msg.text, blocks=msg.blocks)
            return request.thread_channel, request.progress_ts
        return self._post(request.thread_channel, msg, message, thread_ts=request.thread_ts)

    def find_sent(self, message: OutboxMessage, request: Request | None) -> tuple[str, str] | None:
        try:
            notice = _decode(message)
        except SendError:
            return None
        placement = notice.placement
        if request is None and placement is not Placement.CHANNEL:
            return None
        try:
            if placement in THREADED and request is not None and request.thread_channel and request.thread_ts:
                return self._search(request.thread_channel, message, request, thread_ts=request.thread_ts)
            if placement is Placement.ANCHOR and request is not None:
                return self._search(self._anchor_channel(request), message, request)
            if placement is Placement.CHANNEL:
                return self._search(str(getattr(notice, "channel", "") or ""), message, None)
            if placement is Placement.DM and request is not None:
                to = str(getattr(notice, "to", "") or request.requester)
                return self._search(self._dm_channel(to), message, request)
        except SlackApiError as error:
            log.info("could not look for an earlier delivery", extra={"error": _error(error)})
            return None
        return None  # updates are harmless to repeat

    # ------------------------------------------------------------ internals
    def _facts(self, request: Request, notice: Notice) -> Facts:
        op = _op(request)
        rejected = request.state == State.REJECTED and notice.placement in {Placement.ANCHOR_UPDATE, Placement.DM}
        needs_votes = notice.placement in {Placement.ANCHOR, Placement.ANCHOR_UPDATE}
        votes = self.requests.approvers_of(request.id) if needs_votes else []
        return Facts(request=request, op=op, approvers=votes,
                     rejection=self.requests.rejection_of(request.id) if rejected else None,
                     retry_in_s=self.retry_in_s,
                     eligible=self._eligible(request, votes) if needs_votes else None)

    def _eligible(self, request: Request, votes: Sequence[str]) -> Approvers | None:
        if self.routing is None or request.state != State.PENDING_APPROVAL:
            return None
        try:
            return self.routing(request, votes)
        except Exception:  # noqa: BLE001 - the card still goes out, without the names
            log.exception("could not work out who may approve", extra={"request_id": request.id})
            return None

    def _anchor_channel(self, request: Request) -> str:
        if (request.approvals_needed > 0 or request.break_glass) and self.approval_channel:
            return self.approval_channel  # a break-glass card is for the approvers who owe its review
        return request.channel_id

    def _post_anchor(self, row: OutboxMessage, request: Request, msg: Message) -> tuple[str, str]:
        try:
            return self._post(self._anchor_channel(request), msg, row)
        except SendError as error:
            if request.approvals_needed > 0 or request.break_glass or str(error) not in UNREACHABLE_CHANNEL:
                raise
        # The bot cannot post where the command was typed: the thread lives in a DM.
        return self._post(self._dm_channel(request.requester), msg, row)

    def _dm_channel(self, user_id: str) -> str:
        known = self._dms.get(user_id)
        if known is not None:
            return known
        response = self._call("conversations.open", self.client.conversations_open, users=user_id)
        channel = (response.get("channel") or {}).get("id")
        if not channel:
            raise SendError("conversations.open returned no channel")
        self._dms[user_id] = str(channel)
        while len(self._dms) > MAX_DMS:
            self._dms.popitem(last=False)
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
        self.pace.posted(channel)
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
            if row.kind == Final.kind and meta.get("event_type") == Metadata.FINAL:
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


def _decode(message: OutboxMessage) -> Notice:
    try:
        return decode(message)
    except UnknownNotice as error:
        raise SendError(str(error), permanent=True) from None


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
