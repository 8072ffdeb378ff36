"""Prometheus metrics, served on ``GET /metrics``.

One registry per process (not the global default), so tests that build several
apps in one interpreter do not collide.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)
REGISTRY = CollectorRegistry(auto_describe=True)


def _counter(name: str, documentation: str, *labels: str) -> Counter:
    return Counter(name, documentation, labels, registry=REGISTRY)


def _gauge(name: str, documentation: str) -> Gauge:
    return Gauge(name, documentation, registry=REGISTRY)


REQUESTS = _counter("rdsbot_requests_total", "Request state transitions, by operation and the state entered.",
                    "operation", "state")
RDS_CALLS = Histogram(
    "rdsbot_rds_call_seconds",
    "Latency of RDS API calls, retries included, by action and outcome.",
    ["action", "outcome"],
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
RDS_ERRORS = _counter("rdsbot_rds_errors_total", "RDS API errors by action and code (each attempt counted).",
                      "action", "code")
SLACK_ERRORS = _counter("rdsbot_slack_errors_total", "Slack Web API errors by method and error.", "method", "error")
POLL_LAG = _gauge("rdsbot_poll_lag_seconds", "Seconds the oldest running request has waited since its last progress poll.")
SLACK_REQUESTS = _counter(
    "rdsbot_slack_requests_total",
    "Requests received on /slack/events, by outcome (ok, unsigned, duplicate, malformed, bad_user, too_large).",
    "outcome",
)
BREAKGLASS_OVERDUE = _gauge("rdsbot_breakglass_reviews_overdue",
                            "Break-glass requests whose review is overdue (not reviewed within RDSBOT_BREAKGLASS_REVIEW_S).")
OUTBOX_PENDING = _gauge("rdsbot_outbox_pending", "Slack messages decided but not yet delivered.")


class RequestsByState:
    """Current number of requests per operation and state, read from the database.

    At most once per ``max_age_s`` however often (or however many) scrapers ask:
    a scrape is a cached answer, not a GROUP BY over the requests table.
    """

    def __init__(self, max_age_s: float = 15.0) -> None:
        self.count: Callable[[], list[tuple[str, str, int]]] | None = None
        self.max_age_s = max_age_s
        self._rows: list[tuple[str, str, int]] = []
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        self.queries = 0  # how many times the database was asked (tests check scrapes stay cheap)

    def forget(self) -> None:
        """The next scrape reads the database again."""
        with self._lock:
            self._read_at = float("-inf")

    def _current(self) -> list[tuple[str, str, int]]:
        with self._lock:
            if self.count is None or time.monotonic() - self._read_at < self.max_age_s:
                return self._rows
            try:
                self._rows = self.count()
                self.queries += 1
            except Exception:  # noqa: BLE001 - a scrape must not fail because the database is busy
                log.warning("requests-by-state gauge not refreshed; the previous counts stand", exc_info=True)
            self._read_at = time.monotonic()
            return self._rows

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("rdsbot_requests_current", "Requests by operation and current state.",
                                   labels=["operation", "state"])
        for operation, state, number in self._current():
            family.add_metric([operation, state], number)
        yield family


REQUESTS_BY_STATE = RequestsByState()
REGISTRY.register(REQUESTS_BY_STATE)  # type: ignore[arg-type]


def render() -> bytes:
    return generate_latest(REGISTRY)
