"""Reads the audit seals back from the seal channel, where the database's owner cannot rewrite them.

Only messages this bot posted (its ``bot_id``) with seal metadata count: a
person, or another app, posting a look-alike seal in the channel proves nothing.
"""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.ids import Metadata

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200  # seals are daily by default: this reaches months back


class SlackSealReader:
    """``anchors()`` for :class:`bot.workflow.audit_seal.AuditSeal`, newest first."""

    def __init__(self, client: WebClient, channel: str) -> None:
        self.client = client
        self.channel = channel
        self._bot_id: str | None = None
        self._lock = threading.Lock()

    def _own_bot_id(self) -> str:
        with self._lock:
            if self._bot_id is None:
                self._bot_id = str(self.client.auth_test().get("bot_id") or "")
            return self._bot_id

    def anchors(self) -> list[str]:
        """The anchors of this bot's seals in the channel; raises SealUnreadable when Slack cannot say."""
        try:
            bot_id = self._own_bot_id()
            response = self.client.conversations_history(channel=self.channel, include_all_metadata=True,
                                                         limit=HISTORY_LIMIT)
        except SlackApiError as error:
            raise SealUnreadable(str(error.response.get("error") or "unknown_error")) from None
        found = []
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if message.get("bot_id") != bot_id or meta.get("event_type") != Metadata.UPDATE:
                continue
            if payload.get("seal") and isinstance(payload.get("anchor"), str):
                found.append(payload["anchor"])
        return found


class SealUnreadable(Exception):
    """Slack did not give the seal channel's history."""
