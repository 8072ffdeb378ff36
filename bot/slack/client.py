"""The Slack Web API client: one per process, with Slack's own retry handlers.

429s are retried after ``Retry-After``, 5xx and connection errors with
backoff, so a flaky Slack costs latency rather than lost messages.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config import Settings


def build_client(settings: Settings, *, timeout_s: int = 10, outbox: bool = False) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=timeout_s)
    if outbox:
        # The outbox retries itself, after asking Slack whether the message arrived;
        # a client-side resend (or a sleep longer than the claim's lease) would post twice.
        client.retry_handlers = []
        return client
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
    ]
    return client
