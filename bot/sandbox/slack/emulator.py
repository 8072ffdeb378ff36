"""``SlackEmulator``: one emulated workspace served over HTTP, with the test-facing accessors.

The bot talks to it through ``slack_sdk.WebClient(base_url=emu.api_url)``; tests
read what the bot did (``messages``, ``thread``, ``ephemerals``, ``views``,
``calls``), wait for it (``wait_for*``) and make it misbehave (``inject``).
The signing secret stays inside: the driver asks for signed headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from . import signing
from .faults import Fault, FaultPlan
from .journal import Call, Journal
from .response_log import ResponseRecord
from .server import ThreadedWsgiServer
from .state import SlackState
from .view_store import ViewRecord
from .web_api import WebApi
from .workspace import Workspace, default_workspace

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0


class SlackEmulator:
    """An emulated Slack workspace: Web API + response URLs (face 1), state for the driver (face 2)."""

    def __init__(
        self,
        *,
        bot_token: str,
        signing_secret: str,
        seed: Workspace | None = None,
        trigger_ttl_s: float = 3.0,
        strict_blocks: bool = True,
    ) -> None:
        if not bot_token or not signing_secret:
            raise ValueError("bot_token and signing_secret are required")
        self._bot_token = bot_token
        self._signing_secret = signing_secret
        self._seed = seed or default_workspace()
        self._trigger_ttl_s = trigger_ttl_s
        self._strict_blocks = strict_blocks
        self.faults = FaultPlan()
        self._build_state()
        self._server: ThreadedWsgiServer | None = None

    def __repr__(self) -> str:
        # Deliberately without the token and the secret.
        return (
            f"SlackEmulator(team={self.workspace.team_id}, base_url={self.state.base_url or 'not started'})"
        )

    def _build_state(self) -> None:
        self.state = SlackState.create(
            self._seed, trigger_ttl_s=self._trigger_ttl_s, strict_blocks=self._strict_blocks
        )
        self.journal = Journal(self.state.feed)
        self._web_api = WebApi(
            self.state, bot_token=self._bot_token, journal=self.journal, faults=self.faults
        )

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI app serving face 1 (stable across ``reset``), for mounting in another server."""
        return self._web_api(environ, start_response)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0 = any free port) in the background; returns ``api_url``."""
        if self._server is not None:
            return self.api_url
        self._server = ThreadedWsgiServer(self.wsgi_app, host, port)
        self._server.start()
        self.bind(host, self._server.port)
        log.info("Slack emulator serving %s", self.api_url)
        return self.api_url

    def bind(self, host: str, port: int) -> None:
        """Tell the emulator where it is served (when another server, e.g. waitress, runs ``wsgi_app``)."""
        reachable = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        self.state.base_url = f"http://{reachable}:{port}"

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> SlackEmulator:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reset(self, seed: Workspace | None = None) -> None:
        """Forget every message, view, call and fault (optionally switching the seed); keeps serving."""
        base_url = self.state.base_url
        if seed is not None:
            self._seed = seed
        self.faults.clear()
        self._build_state()
        self.state.base_url = base_url

    @property
    def api_url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``, ending with ``/api/``."""
        if not self.state.base_url:
            raise RuntimeError("the Slack emulator is not started")
        return f"{self.state.base_url}/api/"

    @property
    def base_url(self) -> str:
        """``http://host:port`` the emulator is served at."""
        return self.state.base_url

    @property
    def workspace(self) -> Workspace:
        """The seeded workspace."""
        return self.state.workspace

    # --- face 2 hooks (used by SlackDriver) ---------------------------------------------------
    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """Slack's signature headers for ``body`` with this app's signing secret."""
        return signing.signed_headers(self._signing_secret, body, timestamp)

    def issue_trigger(self, user: str, source: str, *, view_id: str | None = None) -> str:
        """Mint a trigger id for an interaction by ``user``."""
        return self.state.triggers.issue(user, source, view_id=view_id)

    def issue_response_url(
        self,
        kind: str,
        *,
        user: str,
        channel: str,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> str:
        """Mint a response_url for an interaction."""
        token = self.state.response_urls.issue(
            kind,
            user=user,
            channel=channel,
            message_ts=message_ts,
            is_ephemeral=is_ephemeral,
            thread_ts=thread_ts,
        )
        return self.state.response_url(token)

    def post_as_user(
        self, user: str, channel: str, text: str, *, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A human posts a message (e.g. a reply in a bot's thread); returns it as Slack shows it."""
        posted = self.state.messages.post(
            channel, text=text, thread_ts=thread_ts, author=user, need_membership=False
        )
        return self.state.messages.render(posted)

    # --- journal ------------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        """Every Web API call (and ``response_url`` post), oldest first, optionally of one method."""
        return self.journal.calls(method)

    # --- messages -----------------------------------------------------------------------------
    def messages(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        """Current channel messages, or the replies of thread ``thread_ts`` (parent excluded), oldest first.

        Metadata is always included here (the test sees everything).
        """
        store = self.state.messages
        found = store.replies(channel, thread_ts) if thread_ts else store.top_level(channel)
        return [store.render(m) for m in found]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The thread of ``ts``: parent first, then replies, as ``conversations.replies`` orders them."""
        store = self.state.messages
        root = store.thread_root(channel, ts)
        parent = store.get(channel, root) if root else None
        if parent is None:
            return []
        return [store.render(parent)] + [store.render(m) for m in store.replies(channel, parent.ts)]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One current message, or ``None`` (deleted or never posted)."""
        found = self.state.messages.get(channel, ts)
        return self.state.messages.render(found) if found is not None else None

    def message_versions(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Every content a message has had, oldest first, the current one last."""
        found = self.state.messages.get(channel, ts)
        if found is None:
            return []
        current = {
            "text": found.text,
            "blocks": found.blocks,
            "attachments": found.attachments,
            "metadata": found.metadata,
            "since_ts": found.edited["ts"] if found.edited else found.ts,
        }
        return [v.to_dict() for v in found.versions] + [current]

    def ephemerals(self, user: str | None = None, *, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages (``user`` = recipient, ``source`` = how), oldest first."""
        return [e.to_dict() for e in self.state.messages.ephemerals(user=user, channel=channel)]

    def responses(self, user: str | None = None) -> list[ResponseRecord]:
        """Posts to response URLs and what they did, oldest first."""
        return self.state.responses.records(user=user)

    # --- views --------------------------------------------------------------------------------
    def views(self, user: str | None = None, *, include_closed: bool = False) -> list[dict[str, Any]]:
        """Modal and home views as Slack returns them, in opening order."""
        return [
            v.to_slack(self.workspace)
            for v in self.state.views.all()
            if (user is None or v.user == user) and (include_closed or v.is_open)
        ]

    def current_view(self, view_id: str) -> dict[str, Any] | None:
        """The current version of a view (open or closed), or ``None``."""
        record = self.state.views.get(view_id)
        return record.to_slack(self.workspace) if record is not None else None

    def open_view(self, user: str) -> dict[str, Any] | None:
        """The modal ``user`` is looking at (top of their stack), or ``None``."""
        stack = self.state.views.stack(user)
        return stack[-1].to_slack(self.workspace) if stack else None

    def view_record(self, view_id: str) -> ViewRecord | None:
        """Everything known about a view: owner, open or not, earlier versions, drafts."""
        return self.state.views.get(view_id)

    # --- waiting ------------------------------------------------------------------------------
    def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = DEFAULT_TIMEOUT_S, *, what: str = ""
    ) -> T:
        """Poll until ``predicate()`` is truthy and return it; ``TimeoutError`` listing recent calls."""

        def describe() -> str:
            return f"waiting for {what or 'condition'}; last Web API calls:\n{self.journal.tail()}"

        return self.state.feed.wait_until(predicate, timeout, describe)

    def wait_for_message(
        self,
        channel: str,
        *,
        thread_ts: str | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> dict[str, Any]:
        """The first (current) message in the channel / thread matching ``where``."""

        def found() -> dict[str, Any] | None:
            return next((m for m in self.messages(channel, thread_ts) if where is None or where(m)), None)

        place = f"{channel} thread {thread_ts}" if thread_ts else channel
        return self.wait_for(found, timeout, what=f"a message in {place}")

    def wait_for_ephemeral(
        self,
        user: str,
        *,
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> dict[str, Any]:
        """The first ephemeral to ``user`` matching ``where``."""

        def found() -> dict[str, Any] | None:
            return next((e for e in self.ephemerals(user) if where is None or where(e)), None)

        return self.wait_for(found, timeout, what=f"an ephemeral message to {user}")

    def wait_for_view(
        self, user: str, *, callback_id: str | None = None, timeout: float = DEFAULT_TIMEOUT_S
    ) -> dict[str, Any]:
        """The modal ``user`` sees, once it has ``callback_id`` (if given)."""

        def found() -> dict[str, Any] | None:
            view = self.open_view(user)
            return view if view is not None and callback_id in (None, view.get("callback_id")) else None

        return self.wait_for(found, timeout, what=f"a modal for {user} with callback_id={callback_id!r}")

    def wait_for_call(
        self, method: str, *, where: Callable[[Call], bool] | None = None, timeout: float = DEFAULT_TIMEOUT_S
    ) -> Call:
        """The first journaled call of ``method`` matching ``where``."""

        def found() -> Call | None:
            return next((c for c in self.calls(method) if where is None or where(c)), None)

        return self.wait_for(found, timeout, what=f"a {method} call")

    # --- faults -------------------------------------------------------------------------------
    def inject(
        self,
        method: str | None = None,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        error: str | None = None,
        delay_s: float = 0.0,
        times: int | None = 1,
        side_effect: bool = False,
    ) -> Fault:
        """Queue a fault for the next ``times`` calls of ``method``.

        ``method=None`` matches any method, ``times=None`` means every call.

        ``status=429`` (+``retry_after``) rate-limits, ``status=5xx`` fails the
        server, ``error="..."`` answers a Slack error with HTTP 200, ``delay_s``
        adds latency; ``side_effect=True`` lets the call take effect first.
        ``method="response_url"`` targets response_url posts.
        """
        if status is None and error is None and not delay_s:
            raise ValueError("a fault needs a status, an error or a delay")
        fault = Fault(
            method=method,
            status=status or 200,
            error=error,
            retry_after=retry_after,
            delay_s=delay_s,
            times=times,
            side_effect=side_effect,
        )
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        """Drop faults not used up yet."""
        self.faults.clear()
