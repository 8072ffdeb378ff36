"""What a Slack user ID looks like: the one pattern every layer checks people against.

Policy subjects, payload fields and mentions all use it, so a string that is
not a person (``role:dba``, ``usergroup:S0DBA``, ``<!channel>``) is never taken
for one anywhere.
"""

from __future__ import annotations

import re

USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def is_user_id(value: object) -> bool:
    """True for a Slack user ID (``U…``/``W…``), and for nothing else."""
    return isinstance(value, str) and USER_ID.fullmatch(value) is not None
