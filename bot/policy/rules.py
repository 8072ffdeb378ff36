"""The parsed lines of a policy: ``Rule`` (a ``p`` line) and ``Grant`` (a ``g`` line).

Subjects are Slack user IDs (``U0ALICE``), roles (``role:dba``), Slack user
groups (``usergroup:S0DBA``, membership resolved by the caller) or ``*``
(anyone).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from .conditions import Condition
from .subjects import USER_ID

ROLE_PREFIX = "role:"
GROUP_PREFIX = "usergroup:"
ANYONE = "*"

_USER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
SLACK_USER = USER_ID  # one pattern for people, everywhere

Effect = Literal["allow", "deny"]
SubjectKind = Literal["user", "role", "usergroup", "anyone"]


class Rule(BaseModel, frozen=True):
    """One ``p`` line: who may (or may not) do which action on which resources."""

    path: str
    line: int
    text: str
    subject: str
    action: str
    resource: str
    effect: Effect
    conditions: tuple[Condition, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


class Grant(BaseModel, frozen=True):
    """One ``g`` line: ``member`` holds ``role`` (and every role ``role`` holds)."""

    path: str
    line: int
    text: str
    member: str
    role: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def subject_kind(subject: str) -> SubjectKind:
    """Classify a valid subject."""
    if subject == ANYONE:
        return "anyone"
    if subject.startswith(ROLE_PREFIX):
        return "role"
    if subject.startswith(GROUP_PREFIX):
        return "usergroup"
    return "user"


def subject_problem(subject: str, *, allow_anyone: bool = True) -> str | None:
    """Why ``subject`` is not a valid subject, or ``None`` when it is."""
    if subject == ANYONE:
        return None if allow_anyone else "'*' (anyone) is not allowed here"
    for prefix in (ROLE_PREFIX, GROUP_PREFIX):
        if subject.startswith(prefix):
            name = subject[len(prefix):]
            if not _NAME.fullmatch(name):
                return f"bad name in {subject!r} (letters, digits, '_', '.', '-')"
            return None
    if ":" in subject:
        return f"subject {subject!r}: unknown kind (role:<name>, usergroup:<id>, a user ID or *)"
    if not _USER.fullmatch(subject):
        return f"subject {subject!r} is not a user ID, role:<name>, usergroup:<id> or *"
    return None


def normalize_group(group: str) -> str:
    """``S0DBA`` or ``usergroup:S0DBA`` -> ``usergroup:S0DBA`` (raises ValueError)."""
    full = group if group.startswith(GROUP_PREFIX) else GROUP_PREFIX + group
    problem = subject_problem(full, allow_anyone=False)
    if problem is not None:
        raise ValueError(problem)
    return full
