"""Slack user-group membership for policy subjects like ``usergroup:S0123``.

Members come from usergroups.users.list and are cached for ``RDSBOT_USERGROUP_TTL_S``,
so a decision costs no Slack call most of the time and a change in a group takes
effect within that age. When Slack cannot say, membership is unknown (never the
last answer past its age, never "not a member"): the policy fails closed.
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

    def members(self, group_id: str) -> frozenset[str] | None:
        """The group's members, at most ``ttl_s`` old; None when Slack could not say (fail closed)."""
        now = time.monotonic()
        with self._lock:
            hit = self._members.get(group_id)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]
        try:
            response = self.client.usergroups_users_list(usergroup=group_id)
            users = frozenset(response.get("users") or [])
        except SlackApiError as error:
            # Never an old answer past its age, never "not a member": unknown. The policy
            # then applies the group's denies and not its allows, and says so.
            log.warning("usergroup lookup failed", extra={"group": group_id, "error": str(error.response.get("error"))})
            return None
        with self._lock:
            self._members[group_id] = (time.monotonic(), users)
        return users

    def membership(self, user_id: str, candidates: Sequence[str]) -> tuple[list[str], list[str]]:
        found: list[str] = []
        unknown: list[str] = []
        for subject in candidates:
            group_id = subject[len(PREFIX):] if subject.startswith(PREFIX) else subject
            name = subject if subject.startswith(PREFIX) else f"{PREFIX}{group_id}"
            members = self.members(group_id)
            if members is None:
                unknown.append(name)
            elif user_id in members:
                found.append(name)
        return found, unknown
