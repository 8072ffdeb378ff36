"""One request's STS credentials and what names and limits them (no SDK here).

``RoleSessionName`` and the session policy are what ActionTrail and RAM see: the
name says who asked and for which request; the policy allows that request's one
action on its own resources (``*`` where RAM has no resource-level permission for
the action), so the credentials are worth nothing beyond what was approved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: STS's minimum (and the bot's only) session length.
SESSION_DURATION_S = 900
_NAME_CHARS = re.compile(r"[^A-Za-z0-9.@_-]")
_NAME_MAX = 64


@dataclass(frozen=True)
class SessionCredentials:
    """An STS AccessKey pair and its security token; ``repr`` shows only the key ID."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str = field(repr=False)
    expires_at: float  # Unix time
    session_name: str = ""


def session_name(requester: str, request_id: str) -> str:
    """``<requester>@<request id>``, within STS's 2–64 characters of letters, digits and ``. @ - _``.

    A name too long keeps the whole request ID (the unique part) and as much of the
    requester as fits.
    """
    who = _NAME_CHARS.sub("_", requester) or "unknown"
    what = _NAME_CHARS.sub("_", request_id)[-(_NAME_MAX - 2):]
    return f"{who[: _NAME_MAX - 1 - len(what)]}@{what}"


def session_policy(action: str | Sequence[str], resources: Sequence[str]) -> str:
    """The session policy (RAM policy JSON) allowing exactly ``action`` (or these actions) on ``resources``."""
    actions = [action] if isinstance(action, str) else list(action)
    document: dict[str, Any] = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": sorted(set(resources)) or ["*"]}],
    }
    return json.dumps(document, separators=(",", ":"))
