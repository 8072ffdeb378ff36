"""Builds the Bolt app: request verification, duplicate-delivery guard, listeners."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot import metrics
from bot.config import Settings
from bot.slack.listeners import Listeners

log = logging.getLogger(__name__)


class DeliveryGuard:
    """Drops a request Slack (or anyone) delivers twice, before any listener runs.

    Signature verification already rejects anything older than five minutes;
    inside that window an identical signed request, or an Events API retry of
    an event already seen, is acknowledged and ignored.
    """

    def __init__(self, window_s: float = 600.0, *, seen: Callable[[str], bool] | None = None) -> None:
        self.window_s = window_s
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._shared = seen  # a database-backed check, shared by replicas

    def first_time(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - self.window_s:
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now
        if self._shared is not None:
            return self._shared(key)
        return True

    def __call__(self, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        key = _delivery_key(req)
        if key is not None and not self.first_time(key):
            metrics.SLACK_REQUESTS.labels("duplicate").inc()
            log.info("duplicate delivery ignored", extra={"retry_num": _header(req, "x-slack-retry-num")})
            return BoltResponse(status=200, body="")
        metrics.SLACK_REQUESTS.labels("ok").inc()
        return next()


def _header(req: BoltRequest, name: str) -> str | None:
    values = req.headers.get(name) or []
    return values[0] if values else None


def _delivery_key(req: BoltRequest) -> str | None:
    event_id = (req.body or {}).get("event_id") if isinstance(req.body, dict) else None
    if event_id:
        return f"event:{event_id}"
    signature = _header(req, "x-slack-signature")
    return f"sig:{signature}" if signature else None


def build_bolt_app(
    settings: Settings,
    client: WebClient,
    listeners: Listeners,
    *,
    executor: ThreadPoolExecutor,
    guard: DeliveryGuard,
) -> App:
    if settings.slack_signing_secret is None:
        raise ValueError("SLACK_SIGNING_SECRET is required in HTTP mode")
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        token_verification_enabled=False,
        request_verification_enabled=True,
        process_before_response=False,
        listener_executor=executor,
        ignoring_self_events_enabled=False,
        url_verification_enabled=True,
        ssl_check_enabled=True,
    )
    app.use(guard)
    listeners.register(app)

    @app.error
    def _on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener failed", extra={"error": f"{type(error).__name__}: {error}", "type": (body or {}).get("type")})

    return app
