"""Slack user-group membership for policy subjects like ``usergroup:S0123``.

Members come from usergroups.users.list and are cached for a short while, so
a decision costs no Slack call most of the time, and a change in a group takes
effect within the TTL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

PREFIX = "usergroup:"


class SlackGroups:
    """GroupResolver over the Web API with a per-group TTL cache."""

    def __init__(self, client: WebClient, *, ttl_s: float = 60.0) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, group_id: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            hit = self._members.get(group_id)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]
        try:
            response = self.client.usergroups_users_list(usergroup=group_id)
            users = frozenset(response.get("users") or [])
        except SlackApiError as error:
            # Keep the last known members if any: a Slack hiccup must not grant or
            # revoke rights at random. With none known, the user is not a member.
            log.warning("usergroup lookup failed", extra={"group": group_id, "error": str(error.response.get("error"))})
            with self._lock:
                stale = self._members.get(group_id)
            return stale[1] if stale else frozenset()
        with self._lock:
            self._members[group_id] = (time.monotonic(), users)
        return users

    def groups_of(self, user_id: str, candidates: Sequence[str]) -> list[str]:
        found = []
        for subject in candidates:
            group_id = subject[len(PREFIX):] if subject.startswith(PREFIX) else subject
            if user_id in self.members(group_id):
                found.append(subject if subject.startswith(PREFIX) else f"{PREFIX}{group_id}")
        return found
