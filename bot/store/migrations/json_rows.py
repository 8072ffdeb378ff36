"""Reading a JSON column inside a migration: SQLite hands back text, PostgreSQL a dict.

Kept beside the revisions (not in bot/store) so a later change to the app's own
code can never alter what an old migration does.
"""

from __future__ import annotations

import json
from typing import Any


def as_object(raw: object) -> dict[str, Any]:
    """The stored JSON object, or {} for anything else (NULL, malformed text, a list)."""
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if isinstance(raw, (str, bytes)) and raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
