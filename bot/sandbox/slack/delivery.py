"""One delivery from Slack's servers to the bot: how it is sent and what came back.

Builds the exact bytes and headers (signature, retry headers, deliberate
corruption for negative tests), posts them, and times the ack against Slack's
3-second deadline.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from . import block_kit, payloads, signing
from .errors import DriverError

ACK_DEADLINE_S = 3.0
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

SignHeaders = Callable[[bytes, int | None], dict[str, str]]


@dataclass(frozen=True)
class DeliveryOptions:
    """How to deliver one request, for signature, replay and retry tests.

    ``timestamp`` forces ``X-Slack-Request-Timestamp`` (e.g. 10 minutes ago);
    ``secret`` signs with another secret; ``tamper`` changes the body after
    signing (``True`` appends harmless bytes, or give a function);
    ``sign=False`` sends no signature headers; ``retry_num``/``retry_reason``
    add Slack's retry headers; ``headers`` adds or overrides any header.
    """

    timestamp: int | None = None
    secret: str | None = field(default=None, repr=False)
    tamper: bool | Callable[[bytes], bytes] = False
    sign: bool = True
    retry_num: int | None = None
    retry_reason: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SentRequest:
    """Exactly what went over the wire (kept so it can be replayed byte for byte)."""

    url: str
    body: bytes
    headers: dict[str, str]
    payload: Any


@dataclass
class BotResponse:
    """The bot's answer to one delivery, and how long the ack took."""

    kind: str
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_s: float
    request: SentRequest
    trigger_id: str | None = None
    response_url: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300

    @property
    def acked_in_time(self) -> bool:
        """True when the answer came within Slack's 3-second deadline."""
        return self.elapsed_s <= ACK_DEADLINE_S

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", errors="replace")

    @cached_property
    def json(self) -> Any:
        """The body parsed as JSON, or ``None`` when empty or not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def payload(self) -> Any:
        """What was sent: form fields for a command, the JSON payload otherwise."""
        return self.request.payload

    def _field(self, name: str) -> Any:
        return self.json.get(name) if isinstance(self.json, dict) else None

    @property
    def response_action(self) -> str | None:
        """``response_action`` of a view_submission ack."""
        action = self._field("response_action")
        return str(action) if action is not None else None

    @property
    def errors(self) -> dict[str, str]:
        """Field errors of a ``response_action: errors`` ack (block_id -> message)."""
        return dict(self._field("errors") or {})

    @property
    def options(self) -> list[dict[str, Any]]:
        """Options of a block_suggestion answer (groups flattened)."""
        return block_kit.all_options(self.json) if isinstance(self.json, dict) else []

    @property
    def option_groups(self) -> list[dict[str, Any]]:
        """Option groups of a block_suggestion answer, as sent."""
        return list(self._field("option_groups") or [])


def build_request(
    url: str,
    body: bytes,
    content_type: str,
    payload: Any,
    *,
    options: DeliveryOptions,
    sign_with_app_secret: SignHeaders,
) -> SentRequest:
    """The request as it goes over the wire, signed (or mis-signed) as ``options`` say."""
    headers = {"Content-Type": content_type, "User-Agent": SLACK_USER_AGENT, "Accept": "application/json,*/*"}
    if options.sign:
        if options.secret is not None:
            headers.update(signing.signed_headers(options.secret, body, options.timestamp))
        else:
            headers.update(sign_with_app_secret(body, options.timestamp))
    if options.retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(options.retry_num)
        headers["X-Slack-Retry-Reason"] = options.retry_reason or "http_timeout"
    headers.update(options.headers)
    if options.tamper:
        body = options.tamper(body) if callable(options.tamper) else body + _harmless_suffix(content_type)
    return SentRequest(url, body, headers, payload)


def post(
    opener: urllib.request.OpenerDirector,
    kind: str,
    sent: SentRequest,
    *,
    timeout_s: float,
    trigger_id: str | None = None,
    response_url: str | None = None,
) -> BotResponse:
    """POST ``sent`` and time the answer; ``DriverError`` when the bot cannot be reached."""
    request = urllib.request.Request(sent.url, data=sent.body, headers=sent.headers, method="POST")
    started = time.monotonic()
    try:
        with opener.open(request, timeout=timeout_s) as answer:
            status, headers, body = answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as refused:
        status, headers, body = refused.code, dict(refused.headers.items()), refused.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError) as unreachable:
        raise DriverError(f"the bot at {sent.url} did not answer the {kind}: {unreachable}") from None
    elapsed = time.monotonic() - started
    return BotResponse(kind, status, headers, body, elapsed, sent, trigger_id, response_url)


def _harmless_suffix(content_type: str) -> bytes:
    """Bytes that keep the body parseable but break its signature."""
    return b" " if content_type.startswith(payloads.JSON) else b"&tampered=1"
