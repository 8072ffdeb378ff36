"""The App Home tab: published on ``app_home_opened``, and again after a click made in it.

Links to a request's thread are built from the workspace's URL (one
``auth.test`` per process) and the message's channel and ts, the form
``chat.getPermalink`` answers for a top-level message, so a home with forty
requests costs no forty calls. The channels a person is in come from one paged
``users.conversations``, asked only when some reminder is active.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.policy.subjects import is_user_id
from bot.slack.home_view import home_view
from bot.slack.replies import CHANNEL_ID, tell
from bot.store.models import Request
from bot.workflow.deps import Deps
from bot.workflow.home import home_of

log = logging.getLogger(__name__)

CHANNEL_PAGES = 10  # users.conversations pages read at most (200 channels each)
TS = re.compile(r"^\d{1,12}\.\d{1,8}$")
WORKSPACE_URL = re.compile(r"^https://[A-Za-z0-9.-]+/$")


def from_home(body: dict[str, Any]) -> bool:
    """Whether a click was made in the App Home tab (its answer goes there, not to a channel)."""
    view = body.get("view")
    return isinstance(view, dict) and view.get("type") == "home"


class HomeTab:
    """Publishes each person's home view."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._workspace_url: str | None = None
        self._lock = threading.Lock()

    def opened(self, body: dict[str, Any], client: WebClient) -> None:
        """``app_home_opened`` on the Home tab (the Messages tab sends it too, and is left alone)."""
        event = body.get("event") or {}
        who = event.get("user") if isinstance(event, dict) else None
        if isinstance(event, dict) and event.get("tab") == "home" and is_user_id(who):
            self.publish(client, str(who))

    def publish(self, client: WebClient, user: str, note: str | None = None) -> None:
        """Build and publish ``user``'s home; ``note`` tops it (what their last click there did)."""
        home = home_of(self.deps, user, channels_of=lambda who: self._channels(client, who))
        base = self._base(client)
        view = home_view(home, link=lambda request: _link(base, request), note=note)
        try:
            client.views_publish(user_id=user, view=view)
        except SlackApiError as error:
            log.warning("home not published", extra={"user": user, "error": error.response.get("error")})

    def answer(self, body: dict[str, Any], client: WebClient, user: str, channel: str, text: str) -> None:
        """What a click did, told where it was made: on the home (published again) or as on a card."""
        if from_home(body):
            self.publish(client, user, note=text)
        else:
            tell(client, channel, user, text)

    def _channels(self, client: WebClient, user: str) -> set[str] | None:
        """The channels ``user`` is in that the bot can see; None when Slack would not say."""
        found: set[str] = set()
        cursor = None
        for _page in range(CHANNEL_PAGES):
            try:
                response = client.users_conversations(user=user, types="public_channel,private_channel",
                                                      exclude_archived=True, limit=200, cursor=cursor)
            except SlackApiError as error:
                log.info("channels of a user unknown", extra={"error": error.response.get("error")})
                return None
            found |= {str(c.get("id")) for c in response.get("channels") or [] if isinstance(c, dict)}
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found

    def _base(self, client: WebClient) -> str | None:
        """``https://<workspace>.slack.com/``, asked once; None (links left out) when Slack will not say."""
        with self._lock:
            if self._workspace_url is not None:
                return self._workspace_url or None
        try:
            url = str(client.auth_test().get("url") or "")
        except SlackApiError as error:
            log.info("workspace URL unknown", extra={"error": error.response.get("error")})
            return None  # asked again next time
        url = url if WORKSPACE_URL.match(url) else ""
        with self._lock:
            self._workspace_url = url
        return url or None


def _link(base: str | None, request: Request) -> str | None:
    """The permalink of the request's message, as Slack writes one for a top-level message."""
    channel, ts = request.thread_channel or "", request.thread_ts or ""
    if not base or not CHANNEL_ID.match(channel) or not TS.match(ts):
        return None
    return f"{base}archives/{channel}/p{ts.replace('.', '')}"
