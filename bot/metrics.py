"""Prometheus metrics, served on ``GET /metrics``.

One registry per process (not the global default), so tests that build several
apps in one interpreter do not collide.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "rdsbot_requests_total",
    "Request state transitions, by operation and the state entered.",
    ["operation", "state"],
    registry=REGISTRY,
)
RDS_CALLS = Histogram(
    "rdsbot_rds_call_seconds",
    "Latency of RDS API calls, retries included, by action and outcome.",
    ["action", "outcome"],
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
RDS_ERRORS = Counter(
    "rdsbot_rds_errors_total",
    "RDS API errors by action and code (each attempt counted).",
    ["action", "code"],
    registry=REGISTRY,
)
SLACK_ERRORS = Counter(
    "rdsbot_slack_errors_total",
    "Slack Web API errors by method and error.",
    ["method", "error"],
    registry=REGISTRY,
)
POLL_LAG = Gauge(
    "rdsbot_poll_lag_seconds",
    "Seconds the oldest running request has waited since its last progress poll.",
    registry=REGISTRY,
)
SLACK_REQUESTS = Counter(
    "rdsbot_slack_requests_total",
    "Requests received on /slack/events, by outcome (ok, unsigned, replay, duplicate).",
    ["outcome"],
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge(
    "rdsbot_outbox_pending",
    "Slack messages decided but not yet delivered.",
    registry=REGISTRY,
)


def render() -> bytes:
    return generate_latest(REGISTRY)
