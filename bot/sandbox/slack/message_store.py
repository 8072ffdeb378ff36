"""Channels' messages, threads, edits and ephemeral messages, kept like Slack keeps them.

The store is the single place that decides whether a post is allowed
(``channel_not_found``, ``not_in_channel``, ``thread_not_found`` ...), so the Web
API, response_url posts and the driver all see the same rules.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from . import block_kit, validation
from .changes import ChangeFeed
from .errors import SlackError
from .ids import TsClock
from .workspace import Workspace


class _Keep:
    """Marker for "argument not sent": ``chat.update`` then keeps the old value."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass(frozen=True)
class MessageVersion:
    """One earlier content of an edited message."""

    text: str
    blocks: list[dict[str, Any]] | None
    attachments: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None
    since_ts: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for tests."""
        return {
            "text": self.text,
            "blocks": self.blocks,
            "attachments": self.attachments,
            "metadata": self.metadata,
            "since_ts": self.since_ts,
        }


@dataclass
class StoredMessage:
    """A message in a channel or thread, current content plus its history."""

    channel: str
    ts: str
    user: str
    team: str
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    broadcast: bool = False
    edited: dict[str, str] | None = None
    deleted: bool = False
    versions: list[MessageVersion] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        """True for a message inside a thread (not the thread's parent)."""
        return self.thread_ts is not None and self.thread_ts != self.ts


@dataclass
class EphemeralMessage:
    """A message only ``user`` sees; never in history, never editable through chat.update."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    attachments: list[dict[str, Any]] | None
    thread_ts: str | None
    source: str  # "chat.postEphemeral" | "response_url" | "command_ack"
    bot_id: str | None
    deleted: bool = False
    versions: list[MessageVersion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form: ``user`` is the recipient, ``source`` says how it was sent."""
        out: dict[str, Any] = {
            "type": "message",
            "channel": self.channel,
            "user": self.user,
            "ts": self.ts,
            "text": self.text,
            "source": self.source,
            "bot_id": self.bot_id,
        }
        if self.blocks is not None:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments is not None:
            out["attachments"] = copy.deepcopy(self.attachments)
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.versions:
            out["replaced"] = len(self.versions)
        return out


def check_metadata(metadata: Any) -> dict[str, Any] | None:
    """Message metadata as Slack accepts it (``event_type`` + object ``event_payload``)."""
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": copy.deepcopy(metadata["event_payload"])}


class MessageStore:
    """Every channel's messages and every user's ephemerals, thread-safe."""

    def __init__(
        self, workspace: Workspace, clock: TsClock, feed: ChangeFeed, *, strict_blocks: bool = True
    ) -> None:
        self.workspace = workspace
        self._clock = clock
        self._feed = feed
        self._strict = strict_blocks
        self._lock = threading.RLock()
        self._channels: dict[str, dict[str, StoredMessage]] = {}
        self._ephemerals: list[EphemeralMessage] = []

    # --- rules -------------------------------------------------------------------
    def resolve_channel(self, channel: str | None, *, need_membership: bool = True) -> str:
        """The conversation id a post to ``channel`` lands in, or Slack's refusal.

        A user id means the bot's DM with that user, as in Slack.
        """
        ws = self.workspace
        if not channel:
            raise SlackError("channel_not_found")
        if channel.startswith("#"):
            # chat.postMessage still accepts a channel name; everything else wants ids.
            named = ws.channel_by_name(channel)
            channel = named.id if named is not None else channel
        if channel[0] in "UW":
            user = ws.user(channel)
            if user is None or user.is_bot:
                raise SlackError("channel_not_found")
            return ws.dm_channel_id(channel)
        seeded = ws.channel(channel)
        if seeded is not None:
            if need_membership and not seeded.bot_is_member:
                raise SlackError("not_in_channel")
            return channel
        if ws.dm_user(channel) is not None:
            return channel
        raise SlackError("channel_not_found")

    def user_can_see(self, channel: str, user: str) -> bool:
        """True when ``user`` is in ``channel`` (a seeded channel's members, or the DM's human)."""
        seeded = self.workspace.channel(channel)
        if seeded is not None:
            return not seeded.members or user in seeded.members
        dm_user = self.workspace.dm_user(channel)
        return dm_user is not None and dm_user.id == user

    def _check_content(self, text: Any, blocks: Any, attachments: Any) -> None:
        if self._strict:
            validation.check_message(text, blocks, attachments)
        elif not text and not blocks and not attachments:
            raise SlackError("no_text")

    # --- writing -----------------------------------------------------------------
    def post(
        self,
        channel: str | None,
        *,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        author: str | None = None,
        need_membership: bool = True,
    ) -> StoredMessage:
        """Post a message (as the bot unless ``author`` names a human); a snapshot of it."""
        channel_id = self.resolve_channel(channel, need_membership=need_membership)
        self._check_content(text, blocks, attachments)
        clean_metadata = check_metadata(metadata)
        ws = self.workspace
        is_bot = author is None or author == ws.bot_user_id
        with self._lock:
            messages = self._channels.setdefault(channel_id, {})
            root_ts = None
            if thread_ts:
                parent = messages.get(thread_ts)
                if parent is None or parent.deleted:
                    # Stricter than Slack, which accepts an unknown thread_ts and
                    # files the reply under a parent nobody can see.
                    raise SlackError("thread_not_found")
                root_ts = parent.thread_ts if parent.is_reply else parent.ts
            message = StoredMessage(
                channel=channel_id,
                ts=self._clock.next(),
                user=ws.bot_user_id if is_bot else str(author),
                team=ws.team_id,
                text=text or "",
                blocks=block_kit.normalise_blocks(blocks) if blocks else None,
                attachments=copy.deepcopy(attachments) if attachments else None,
                metadata=clean_metadata,
                thread_ts=root_ts,
                bot_id=ws.bot_id if is_bot else None,
                broadcast=bool(root_ts and reply_broadcast),
            )
            messages[message.ts] = message
            snapshot = copy.deepcopy(message)
        self._feed.bump()
        return snapshot

    def update(
        self,
        channel: str | None,
        ts: str | None,
        *,
        text: Any = KEEP,
        blocks: Any = KEEP,
        attachments: Any = KEEP,
        metadata: Any = KEEP,
        editor: str | None = None,
        need_membership: bool = True,
    ) -> StoredMessage:
        """Edit a message like ``chat.update``: what is not sent is kept, ``[]``/``{}`` removes."""
        channel_id = self.resolve_channel(channel, need_membership=need_membership)
        editor_id = editor or self.workspace.bot_user_id
        with self._lock:
            message = self._channels.get(channel_id, {}).get(ts or "")
            if message is None or message.deleted:
                raise SlackError("message_not_found")
            if message.user != editor_id:
                raise SlackError("cant_update_message")
            new_text = message.text if text is KEEP or text is None else str(text)
            new_blocks = (
                message.blocks if blocks is KEEP else (block_kit.normalise_blocks(blocks) if blocks else None)
            )
            new_attachments = (
                message.attachments if attachments is KEEP else (copy.deepcopy(attachments) or None)
            )
            self._check_content(new_text, new_blocks, new_attachments)
            new_metadata = (
                message.metadata if metadata is KEEP else (check_metadata(metadata) if metadata else None)
            )
            edit_ts = self._clock.next()
            message.versions.append(
                MessageVersion(
                    message.text,
                    message.blocks,
                    message.attachments,
                    message.metadata,
                    message.edited["ts"] if message.edited else message.ts,
                )
            )
            message.text, message.blocks, message.attachments = new_text, new_blocks, new_attachments
            message.metadata = new_metadata
            message.edited = {"user": editor_id, "ts": edit_ts}
            snapshot = copy.deepcopy(message)
        self._feed.bump()
        return snapshot

    def delete(
        self, channel: str | None, ts: str | None, *, by: str | None = None, need_membership: bool = True
    ) -> None:
        """Delete a message like ``chat.delete`` (only the bot's own)."""
        channel_id = self.resolve_channel(channel, need_membership=need_membership)
        with self._lock:
            message = self._channels.get(channel_id, {}).get(ts or "")
            if message is None or message.deleted:
                raise SlackError("message_not_found")
            if message.user != (by or self.workspace.bot_user_id):
                raise SlackError("cant_delete_message")
            message.deleted = True
        self._feed.bump()

    def post_ephemeral(
        self,
        channel: str | None,
        user: str | None,
        *,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        source: str = "chat.postEphemeral",
        need_membership: bool = True,
    ) -> EphemeralMessage:
        """Show a message to one user in a channel; Slack's refusals when it cannot."""
        channel_id = self.resolve_channel(channel, need_membership=need_membership)
        human = self.workspace.user(user or "")
        if human is None or human.is_bot:
            raise SlackError("user_not_found")
        if not self.user_can_see(channel_id, human.id):
            raise SlackError("user_not_in_channel")
        self._check_content(text, blocks, attachments)
        ephemeral = EphemeralMessage(
            channel=channel_id,
            user=human.id,
            ts=self._clock.next(),
            text=text or "",
            blocks=block_kit.normalise_blocks(blocks) if blocks else None,
            attachments=copy.deepcopy(attachments) if attachments else None,
            thread_ts=thread_ts,
            source=source,
            bot_id=self.workspace.bot_id,
        )
        with self._lock:
            self._ephemerals.append(ephemeral)
            snapshot = copy.deepcopy(ephemeral)
        self._feed.bump()
        return snapshot

    def replace_ephemeral(
        self,
        channel: str,
        ts: str,
        *,
        text: str | None,
        blocks: list[dict[str, Any]] | None,
        attachments: list[dict[str, Any]] | None,
    ) -> None:
        """Replace an ephemeral's content (what ``replace_original`` does to one)."""
        self._check_content(text, blocks, attachments)
        with self._lock:
            ephemeral = self._find_ephemeral(channel, ts)
            ephemeral.versions.append(
                MessageVersion(ephemeral.text, ephemeral.blocks, ephemeral.attachments, None, ephemeral.ts)
            )
            ephemeral.text = text or ""
            ephemeral.blocks = block_kit.normalise_blocks(blocks) if blocks else None
            ephemeral.attachments = copy.deepcopy(attachments) if attachments else None
        self._feed.bump()

    def delete_ephemeral(self, channel: str, ts: str) -> None:
        """Remove an ephemeral (what ``delete_original`` does to one)."""
        with self._lock:
            self._find_ephemeral(channel, ts).deleted = True
        self._feed.bump()

    def _find_ephemeral(self, channel: str, ts: str) -> EphemeralMessage:
        for ephemeral in self._ephemerals:
            if ephemeral.channel == channel and ephemeral.ts == ts and not ephemeral.deleted:
                return ephemeral
        raise SlackError("message_not_found")

    # --- reading -----------------------------------------------------------------
    def get(self, channel: str, ts: str) -> StoredMessage | None:
        """A snapshot of one live message, or ``None``."""
        with self._lock:
            message = self._channels.get(channel, {}).get(ts)
            return copy.deepcopy(message) if message is not None and not message.deleted else None

    def get_ephemeral(self, channel: str, ts: str) -> EphemeralMessage | None:
        """A snapshot of one live ephemeral, or ``None``."""
        with self._lock:
            try:
                return copy.deepcopy(self._find_ephemeral(channel, ts))
            except SlackError:
                return None

    def top_level(self, channel: str) -> list[StoredMessage]:
        """Live channel messages (and broadcast replies), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._channels.get(channel, {}).values()
                if not m.deleted and (not m.is_reply or m.broadcast)
            ]

    def replies(self, channel: str, thread_ts: str) -> list[StoredMessage]:
        """Live replies of a thread, oldest first (the parent excluded)."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._channels.get(channel, {}).values()
                if not m.deleted and m.is_reply and m.thread_ts == thread_ts
            ]

    def thread_root(self, channel: str, ts: str) -> str | None:
        """The parent ts of the thread ``ts`` belongs to (itself for a parent), or ``None``."""
        message = self.get(channel, ts)
        if message is None:
            return None
        return message.thread_ts if message.is_reply else message.ts

    def ephemerals(self, *, user: str | None = None, channel: str | None = None) -> list[EphemeralMessage]:
        """Live ephemerals, oldest first, optionally for one user / channel."""
        with self._lock:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if not e.deleted
                and (user is None or e.user == user)
                and (channel is None or e.channel == channel)
            ]

    def render(self, message: StoredMessage, *, include_metadata: bool = True) -> dict[str, Any]:
        """The message as Slack's APIs return it (thread fields included)."""
        ws = self.workspace
        out: dict[str, Any] = {
            "type": "message",
            "user": message.user,
            "text": message.text,
            "ts": message.ts,
            "team": message.team,
        }
        if message.bot_id:
            out["bot_id"] = message.bot_id
            out["app_id"] = ws.app_id
            out["bot_profile"] = {
                "id": message.bot_id,
                "app_id": ws.app_id,
                "name": ws.bot_name,
                "deleted": False,
                "team_id": ws.team_id,
            }
        if message.blocks is not None:
            out["blocks"] = copy.deepcopy(message.blocks)
        if message.attachments is not None:
            out["attachments"] = copy.deepcopy(message.attachments)
        if message.is_reply:
            parent = self.get(message.channel, str(message.thread_ts))
            out["thread_ts"] = message.thread_ts
            out["parent_user_id"] = parent.user if parent else ws.bot_user_id
            if message.broadcast:
                out["subtype"] = "thread_broadcast"
        else:
            replies = self.replies(message.channel, message.ts)
            if replies:
                reply_users = list(dict.fromkeys(r.user for r in replies))
                out.update(
                    thread_ts=message.ts,
                    reply_count=len(replies),
                    reply_users_count=len(reply_users),
                    latest_reply=replies[-1].ts,
                    reply_users=reply_users,
                    is_locked=False,
                    subscribed=False,
                )
        if message.edited:
            out["edited"] = dict(message.edited)
        if include_metadata and message.metadata:
            out["metadata"] = copy.deepcopy(message.metadata)
        return out
