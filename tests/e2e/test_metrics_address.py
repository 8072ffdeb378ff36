"""`/metrics` on its own address, and cheap however often it is scraped."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from urllib.error import HTTPError

import pytest

from bot import metrics
from bot.sandbox.stack import Stack


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - local URL
            return response.status, response.read().decode()
    except HTTPError as error:
        return error.code, ""


def test_metrics_move_off_the_slack_port_when_given_their_own(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(RDSBOT_METRICS_PORT="0")
    address = stack.runtime.metrics_address
    assert address is not None
    status, body = _get(f"http://{address[0]}:{address[1]}/metrics")
    assert status == 200 and "rdsbot_requests_current" in body
    base = stack.bot_url.rsplit("/slack/events", 1)[0]
    assert _get(f"{base}/metrics")[0] == 404, "metrics still served beside /slack/events"
    assert _get(f"{base}/healthz")[0] == 200


def test_scraping_often_asks_the_database_once(stack: Stack) -> None:
    base = stack.bot_url.rsplit("/slack/events", 1)[0]
    before = metrics.REQUESTS_BY_STATE.queries
    for _ in range(20):
        assert _get(f"{base}/metrics")[0] == 200
    assert metrics.REQUESTS_BY_STATE.queries - before <= 1


@pytest.fixture(autouse=True)
def _fresh_gauge() -> None:
    metrics.REQUESTS_BY_STATE.forget()  # each test starts with nothing cached
