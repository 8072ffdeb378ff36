"""Modals (per-user view stacks) and App Home views, with what the user has typed so far.

Slack keeps a user's unsaved input ("drafts") while the app updates the view,
as long as the block_id and action_id stay the same; the driver fills drafts
and the store carries them across ``views.update``.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import block_kit, ids, validation
from .changes import ChangeFeed
from .errors import SlackError
from .tokens import TriggerRegistry
from .workspace import Workspace

MAX_STACK = 3
_VIEW_FIELDS = (
    "title",
    "submit",
    "close",
    "callback_id",
    "private_metadata",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
)


@dataclass
class ViewRecord:
    """One view: its current definition, hash, place in a stack and drafts."""

    id: str
    user: str
    type: str
    definition: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None
    trigger_id: str | None
    is_open: bool = True
    drafts: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)
    opened_at: float = field(default_factory=time.time)
    closed_at: float | None = None

    @property
    def blocks(self) -> list[dict[str, Any]]:
        """The view's blocks (normalised: every block and element has its id)."""
        return list(self.definition.get("blocks", []))

    @property
    def callback_id(self) -> str:
        """The view's callback_id ('' when none)."""
        return str(self.definition.get("callback_id") or "")

    @property
    def external_id(self) -> str:
        """The view's external_id ('' when none)."""
        return str(self.definition.get("external_id") or "")

    def state(self) -> dict[str, Any]:
        """``{"values": {block_id: {action_id: entry}}}`` from the drafts."""
        values: dict[str, dict[str, Any]] = {}
        for (block_id, action_id), entry in self.drafts.items():
            values.setdefault(block_id, {})[action_id] = copy.deepcopy(entry)
        return {"values": values}

    def to_slack(self, workspace: Workspace, *, state: dict[str, Any] | None = None) -> dict[str, Any]:
        """The view object as the Web API and payloads carry it."""
        d = self.definition
        view: dict[str, Any] = {
            "id": self.id,
            "team_id": workspace.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": d.get("private_metadata", ""),
            "callback_id": d.get("callback_id", ""),
            "state": state if state is not None else self.state(),
            "hash": self.hash,
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
            "app_id": workspace.app_id,
            "external_id": d.get("external_id", ""),
            "app_installed_team_id": workspace.team_id,
            "bot_id": workspace.bot_id,
        }
        if self.type == "modal":
            view.update(
                title=copy.deepcopy(d.get("title")),
                close=copy.deepcopy(d.get("close")),
                submit=copy.deepcopy(d.get("submit")),
                submit_disabled=bool(d.get("submit_disabled", False)),
            )
        return view


class ViewStore:
    """All views, thread-safe; modal stacks per user, home tabs per user."""

    def __init__(self, workspace: Workspace, triggers: TriggerRegistry, feed: ChangeFeed) -> None:
        self.workspace = workspace
        self._triggers = triggers
        self._feed = feed
        self._lock = threading.RLock()
        self._views: dict[str, ViewRecord] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}

    # --- Web API operations ------------------------------------------------------------
    def open(self, view: Any, trigger_id: str | None) -> ViewRecord:
        """``views.open``: redeem the trigger, start a new modal stack for its user."""
        definition = self._checked(view, "modal")
        trigger = self._triggers.redeem(trigger_id)
        with self._lock:
            self._check_external_id(definition)
            for view_id in self._stacks.get(trigger.user, []):
                self._close_locked(view_id)
            record = self._new_record(trigger.user, definition, previous=None, trigger_id=trigger.trigger_id)
            self._stacks[trigger.user] = [record.id]
            snapshot = copy.deepcopy(record)
        self._feed.bump()
        return snapshot

    def push(self, view: Any, trigger_id: str | None) -> ViewRecord:
        """``views.push``: redeem the trigger, push onto its user's open modal stack."""
        definition = self._checked(view, "modal")
        trigger = self._triggers.redeem(trigger_id)
        return self.push_definition(trigger.user, definition, trigger_id=trigger.trigger_id)

    def push_definition(self, user: str, view: Any, *, trigger_id: str | None = None) -> ViewRecord:
        """Push a view for ``user`` (also what ``response_action: push`` does)."""
        definition = self._checked(view, "modal")
        with self._lock:
            self._check_external_id(definition)
            stack = self._stacks.get(user, [])
            if not stack:
                raise SlackError("not_found", "[ERROR] no modal is open to push onto")
            if len(stack) >= MAX_STACK:
                raise SlackError("push_limit_reached")
            record = self._new_record(
                user, definition, previous=self._views[stack[-1]], trigger_id=trigger_id
            )
            stack.append(record.id)
            snapshot = copy.deepcopy(record)
        self._feed.bump()
        return snapshot

    def update(
        self,
        view: Any,
        *,
        view_id: str | None = None,
        external_id: str | None = None,
        expected_hash: str | None = None,
    ) -> ViewRecord:
        """``views.update`` by id or external_id; ``hash_conflict`` when ``hash`` is stale."""
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", "[ERROR] view_id or external_id is required")
        with self._lock:
            record = self._views.get(view_id or "") if view_id else self._by_external_id(str(external_id))
            if record is None or not record.is_open:
                raise SlackError("not_found")
            definition = self._checked(view, record.type)
            if expected_hash and expected_hash != record.hash:
                raise SlackError("hash_conflict")
            self._replace_locked(record, definition)
            snapshot = copy.deepcopy(record)
        self._feed.bump()
        return snapshot

    def publish(self, user: str, view: Any, expected_hash: str | None = None) -> ViewRecord:
        """``views.publish``: create or replace a user's App Home view."""
        definition = self._checked(view, "home")
        if self.workspace.user(user) is None:
            raise SlackError("user_not_found")
        with self._lock:
            existing = self._views.get(self._homes.get(user, ""))
            if existing is not None:
                if expected_hash and expected_hash != existing.hash:
                    raise SlackError("hash_conflict")
                self._replace_locked(existing, definition)
                record = existing
            else:
                record = self._new_record(user, definition, previous=None, trigger_id=None)
                self._homes[user] = record.id
            snapshot = copy.deepcopy(record)
        self._feed.bump()
        return snapshot

    # --- platform-side operations (driver) ---------------------------------------------
    def replace(self, view_id: str, view: Any) -> ViewRecord:
        """``response_action: update``: replace an open view, no hash check."""
        return self.update(view, view_id=view_id)

    def close(self, view_id: str) -> list[str]:
        """Close one view (a submission acked with no body); the ids closed."""
        with self._lock:
            record = self._require_open(view_id)
            stack = self._stacks.get(record.user, [])
            closed = [view_id]
            self._close_locked(view_id)
            if view_id in stack:
                stack.remove(view_id)
        self._feed.bump()
        return closed

    def clear(self, view_id: str) -> list[str]:
        """Close the whole stack ``view_id`` is in (``response_action: clear``); the ids closed."""
        with self._lock:
            record = self._require_open(view_id)
            closed = list(self._stacks.pop(record.user, []))
            for closing in closed:
                self._close_locked(closing)
        self._feed.bump()
        return closed

    def set_draft(self, view_id: str, block_id: str, action_id: str, entry: dict[str, Any]) -> None:
        """Remember what the user typed or picked in one element of an open view."""
        with self._lock:
            self._require_open(view_id).drafts[(block_id, action_id)] = copy.deepcopy(entry)
        self._feed.bump()

    # --- reading -----------------------------------------------------------------------
    def get(self, view_id: str) -> ViewRecord | None:
        """A snapshot of a view (open or closed), or ``None``."""
        with self._lock:
            record = self._views.get(view_id)
            return copy.deepcopy(record) if record is not None else None

    def stack(self, user: str) -> list[ViewRecord]:
        """The user's open modals, root first (the last one is what they see)."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._stacks.get(user, [])]

    def home(self, user: str) -> ViewRecord | None:
        """The user's published App Home view, or ``None``."""
        with self._lock:
            record = self._views.get(self._homes.get(user, ""))
            return copy.deepcopy(record) if record is not None else None

    def all(self) -> list[ViewRecord]:
        """Every view ever opened or published, in creation order."""
        with self._lock:
            return [copy.deepcopy(v) for v in self._views.values()]

    # --- internals ---------------------------------------------------------------------
    def _checked(self, view: Any, expected_type: str) -> dict[str, Any]:
        validation.check_view(view)
        if view.get("type") != expected_type:
            raise SlackError(
                "invalid_arguments",
                f"[ERROR] view type must be {expected_type} here [json-pointer:/view/type]",
            )
        definition = {k: copy.deepcopy(view[k]) for k in ("type", "blocks", *_VIEW_FIELDS) if k in view}
        definition["blocks"] = block_kit.normalise_blocks(list(view.get("blocks", [])))
        return definition

    def _check_external_id(self, definition: dict[str, Any]) -> None:
        external_id = definition.get("external_id")
        if external_id and self._by_external_id(str(external_id)) is not None:
            raise SlackError("duplicate_external_id")

    def _by_external_id(self, external_id: str) -> ViewRecord | None:
        return next((v for v in self._views.values() if v.is_open and v.external_id == external_id), None)

    def _new_record(
        self, user: str, definition: dict[str, Any], *, previous: ViewRecord | None, trigger_id: str | None
    ) -> ViewRecord:
        view_id = ids.view_id()
        record = ViewRecord(
            id=view_id,
            user=user,
            type=str(definition["type"]),
            definition=definition,
            hash=ids.view_hash(),
            root_view_id=previous.root_view_id if previous else view_id,
            previous_view_id=previous.id if previous else None,
            trigger_id=trigger_id,
        )
        self._views[view_id] = record
        return record

    def _replace_locked(self, record: ViewRecord, definition: dict[str, Any]) -> None:
        record.versions.append(record.to_slack(self.workspace))
        record.definition = definition
        record.hash = ids.view_hash()
        # Slack keeps typed input only where the same block_id/action_id/type survives.
        surviving = {
            (b.get("block_id"), e.get("action_id")): e.get("type")
            for b, e in block_kit.iter_elements(record.blocks)
        }
        record.drafts = {
            key: entry for key, entry in record.drafts.items() if surviving.get(key) == entry.get("type")
        }

    def _require_open(self, view_id: str) -> ViewRecord:
        record = self._views.get(view_id)
        if record is None or not record.is_open:
            raise SlackError("not_found")
        return record

    def _close_locked(self, view_id: str) -> None:
        record = self._views[view_id]
        record.is_open = False
        record.closed_at = time.time()
