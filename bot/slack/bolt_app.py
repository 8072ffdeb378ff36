"""Builds the Bolt app: request verification, duplicate-delivery guard, the reader's language, listeners."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot import metrics
from bot.config import Settings
from bot.i18n import Reader, set_reader
from bot.policy.subjects import is_user_id
from bot.slack import envelope
from bot.slack.listeners import Listeners
from bot.slack.people import People
from bot.slack.replies import acting_user
from bot.slack.verdict import VERDICT, Verdict

log = logging.getLogger(__name__)


class DeliveryGuard(Middleware):
    """Drops a request Slack (or anyone) delivers twice, before any listener runs.

    Signature verification already rejects anything older than five minutes;
    inside that window an identical signed request, or an Events API retry of
    an event already seen, is acknowledged and ignored. The keys kept here are
    only the most recent ``keep`` (a busy bot sees thousands in ten minutes, and
    each kept key is memory): ``seen``, the database's record shared by replicas,
    answers for every new key anyway. A slash command is acked before that answer
    (see :class:`Verdict`); everything else waits for it.
    """

    def __init__(self, window_s: float = 600.0, *, seen: Callable[[str], bool] | None = None,
                 keep: int = 1024) -> None:
        self.window_s = window_s
        self.keep = keep
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._shared = seen  # a database-backed check, shared by replicas

    def first_time(self, key: str) -> bool:
        return self.first_here(key) and (self._shared is None or self._shared(key))

    def first_here(self, key: str) -> bool:
        """This process's own memory of recent keys (no database)."""
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) >= self.keep
                                  or next(iter(self._seen.values())) < now - self.window_s):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
        return True

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        key = _delivery_key(req)
        if key is None:
            return self._pass(next)
        if not self.first_here(key):
            return self._duplicate(req)
        shared = self._shared
        if shared is None:
            return self._pass(next)
        if _is_slash_command(req.body):
            # Bolt runs the listener after every middleware has returned: the listener settles it.
            req.context[VERDICT] = Verdict(lambda: shared(key))
            return self._pass(next)
        if not shared(key):
            return self._duplicate(req)
        return self._pass(next)

    @staticmethod
    def _pass(next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        metrics.SLACK_REQUESTS.labels("ok").inc()
        return next()

    @staticmethod
    def _duplicate(req: BoltRequest) -> BoltResponse:
        metrics.SLACK_REQUESTS.labels("duplicate").inc()
        log.info("duplicate delivery ignored", extra={"retry_num": _header(req, "x-slack-retry-num")})
        return BoltResponse(status=200, body="")


def _is_slash_command(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("command"), str) and "type" not in body


def malformed(body: Any) -> str | None:
    """The 400 body for a payload whose envelope would crash Bolt's routing (counted, logged), else None."""
    why = envelope.problem(body)
    if why is None:
        return None
    metrics.SLACK_REQUESTS.labels("malformed").inc()
    log.warning("malformed Slack payload refused", extra={"problem": why})
    return f"malformed payload: {why}"


# The middlewares below are Middleware subclasses, not functions: Bolt calls a function middleware
# through its argument injection (inspecting its signature on every request), a subclass directly.


class WellFormedOnly(Middleware):
    """Socket Mode's envelope check (HTTP mode checks in the server, before Bolt's own middleware)."""

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        refusal = malformed(req.body)
        return BoltResponse(status=400, body=refusal) if refusal is not None else next()


class KnownUsersOnly(Middleware):
    """Refuse a payload whose acting user is not a Slack user ID (e.g. "role:dba").

    Policy subjects include roles and groups; a request must never be able to
    claim to be one. Events without a user (url_verification) pass through.
    """

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        body = req.body if isinstance(req.body, dict) else {}
        claims_user = "user_id" in body or "user" in body
        if claims_user and acting_user(body) is None:
            metrics.SLACK_REQUESTS.labels("bad_user").inc()
            log.warning("request with a malformed user id refused")
            return BoltResponse(status=400, body="unknown user")
        return next()


class ReaderLocale(Middleware):
    """Sets who reads this request's answers (:mod:`bot.i18n`): the acting user, in their Slack locale.

    Lazy: ``users.info`` is asked (through the :class:`People` cache) only when
    something is first translated, so an ack that says nothing stays fast. Bolt
    runs listeners after every middleware has returned, so the reader is set for
    the rest of this request's handling, not around ``next()``: every request
    passes here and sets its own, and :class:`~bot.workflow.background.Background`
    copies it into the threads that run the listeners and their follow-ups.
    """

    def __init__(self, people: People, *, fallback: str) -> None:
        self.people = people
        self.fallback = fallback  # RDSBOT_DEFAULT_LOCALE

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        who = _reader_of(req.body if isinstance(req.body, dict) else {})
        locale = self.people.locale
        set_reader(Reader(lambda: locale(who), fallback=self.fallback) if who else Reader.fixed(self.fallback))
        return next()


def _reader_of(body: dict[str, Any]) -> str | None:
    """The person a request's answers are for: its acting user, or the user of an event (App Home)."""
    who = acting_user(body)
    if who is None and isinstance(body.get("event"), dict):
        user = body["event"].get("user")
        who = user if is_user_id(user) else None
    return who


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None


# Read-only payloads: answering one twice changes nothing, and dropping a repeat
# would leave a type-ahead with no options (Slack sends none a trigger_id).
READ_ONLY_TYPES = frozenset({"block_suggestion"})


def _delivery_key(req: BoltRequest) -> str | None:
    body = req.body if isinstance(req.body, dict) else {}
    if body.get("type") in READ_ONLY_TYPES:
        return None
    event_id = body.get("event_id")
    if event_id:
        return f"event:{event_id}"
    # One user gesture = one trigger_id, however often (and however signed) it is delivered.
    trigger_id = body.get("trigger_id")
    if trigger_id:
        return f"trigger:{trigger_id}"
    signature = _header(req, "x-slack-signature")
    return f"sig:{signature}" if signature else None


def build_bolt_app(
    settings: Settings,
    client: WebClient,
    listeners: Listeners,
    *,
    executor: ThreadPoolExecutor,
    guard: DeliveryGuard,
    people: People | None = None,
) -> App:
    if settings.slack_signing_secret is None and not settings.socket_mode:
        raise ValueError("SLACK_SIGNING_SECRET is required in HTTP mode")
    # Socket Mode payloads arrive over the app token's WebSocket, not signed HTTP: nothing to verify.
    # Over HTTP the server (bot.slack.server.WebApp) checks every signature on the raw bytes before
    # Bolt sees the request, and will not serve Bolt without the secret: Bolt need not check again.
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = App(
        client=client,
        signing_secret=secret,
        token_verification_enabled=False,
        request_verification_enabled=False,
        # Ack functions run in the request's own thread and Bolt answers when they return: an ack
        # never queues for a pool thread (nor waits out Bolt's 10 ms polling for it). So every
        # non-lazy listener answers, then hands any further work to the background (deps.later);
        # lazy listeners still run on ``executor``.
        process_before_response=True,
        listener_executor=executor,
        ignoring_self_events_enabled=False,
        url_verification_enabled=True,
        ssl_check_enabled=True,
    )
    if settings.socket_mode:
        app.use(WellFormedOnly())  # over HTTP the server refuses a malformed envelope before Bolt parses it
    app.use(guard)
    app.use(KnownUsersOnly())
    app.use(ReaderLocale(people or People(client), fallback=settings.default_locale))
    listeners.register(app)

    @app.error
    def _on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed", exc_info=error, extra={"type": (body or {}).get("type")})

    return app
