"""Structured logging: one JSON object a line, secrets redacted, extras kept.

``log.info("msg", extra={"request_id": ...})`` puts request_id in the line, so
every step of a request can be found with one grep.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.redact import redact, redact_text

_REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Every log line inside the block carries this request ID."""
    token = _REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats records as redacted JSON with any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        bound_id = _REQUEST_ID.get()
        if bound_id and "request_id" not in record.__dict__:
            data["request_id"] = bound_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = redact(value) if isinstance(value, (str, dict, list)) else value
        if record.exc_info:
            data["error"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for the sandbox, redacted too."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def setup(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party chatter that can include request details stays at WARNING.
    for noisy in ("slack_bolt", "slack_sdk", "apscheduler", "waitress", "urllib3", "alibabacloud", "Tea"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
