"""Block Kit pieces every message is built from, and the rendered :class:`Message`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.store.models import Request
from bot.slack.ids import Metadata
from bot.slack.text import escape
from bot.timeutil import slack_date_of

API_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z")  # RestoreTime, StartTime... as RDS takes them

Blocks = list[dict[str, Any]]


@dataclass
class Message:
    """A rendered message: fallback text, blocks and optional metadata."""

    text: str
    blocks: Blocks = field(default_factory=list)
    metadata: dict[str, Any] | None = None


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:3000]} for t in texts if t][:10]}


def fields(rows: Sequence[tuple[str, str]]) -> Blocks:
    """Parameter rows as section fields, ten per section (Slack's limit)."""
    blocks: Blocks = []
    for start in range(0, len(rows), 10):
        chunk = rows[start:start + 10]
        blocks.append({
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{escape(label)}*\n{_value(value)}"} for label, value in chunk],
        })
    return blocks


def _value(value: str) -> str:
    """A parameter as shown: a UTC API time in each reader's zone, next to the exact value RDS gets; else escaped."""
    shown = slack_date_of(value) if API_TIME.fullmatch(value) else None
    return f"{shown} (`{value}`)" if shown else escape(value, limit=1900)


def update_metadata(request: Request) -> dict[str, Any]:
    return {"event_type": Metadata.UPDATE, "event_payload": {"request_id": request.id}}


def strip(text: str) -> str:
    return text.replace("*", "").replace(":large_green_circle: ", "").replace(":red_circle: ", "")
