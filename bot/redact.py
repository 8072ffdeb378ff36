"""Keep secrets out of logs, Slack messages, audit rows and error texts.

Two layers: the exact values configured at start-up (tokens, signing secret,
AccessKey pair) and shapes that look like credentials even when they are not
ours (a token pasted into a reason field must not be echoed back either).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"

# (pattern, replacement): credential shapes, whoever they belong to.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"xox[abprsoe]-[A-Za-z0-9-]{6,}"), MASK),  # Slack tokens
    (re.compile(r"xapp-[A-Za-z0-9-]{6,}"), MASK),  # Slack app-level tokens
    (re.compile(r"LTAI[A-Za-z0-9]{12,30}"), MASK),  # Alibaba Cloud AccessKey IDs
    (re.compile(r"(?i)\b(?!client_?token=)(\w*(?:signature|secret|password|passwd|token))=[^&\s,]+"), r"\1=" + MASK),
    (re.compile(r"(?i)(authorization:\s*)\S+(\s+\S+)?"), r"\1" + MASK),
]
# Every pattern above needs one of these (a new pattern adds its own): text with none skips the
# substitutions, which nearly always find nothing yet cost most of redacting an audit event or a
# log line. One search is about a fifth of five substitutions.
_NEEDED = re.compile(r"xox|xapp-|LTAI|=|(?i:authorization:)")

_lock = threading.Lock()
_known: tuple[str, ...] = ()


def register_secrets(values: Iterable[str]) -> None:
    """Remember exact secret values so every later redaction hides them."""
    global _known
    cleaned = {v for v in values if v and len(v) >= 4}
    with _lock:
        # Longest first, so a secret containing another is hidden whole.
        _known = tuple(sorted(set(_known) | cleaned, key=len, reverse=True))


def redact_text(text: str) -> str:
    """The text with every known secret and credential-shaped string masked."""
    for value in _known:
        if value in text:
            text = text.replace(value, MASK)
    if _NEEDED.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# ClientToken is the request ID (an idempotency key), not a secret.
_SECRET_KEY = re.compile(r"(?i)^(?!client_?token$).*(authorization|password|passwd|secret|token|signature|credential)")


def redact(value: Any) -> Any:
    """Redact strings anywhere inside nested dicts, lists and tuples.

    A value whose key names a secret (``password``, ``Authorization``...) is
    masked whole, whatever it looks like.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, str) and v else redact(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value
