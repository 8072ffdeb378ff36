"""The actions the policy speaks about: RDS RAM actions and the bot's own.

Action patterns are ``<service>:<name>`` where the service is literal (``rds`` or
``rdsbot``) and the name may hold ``*``; ``rds:*`` therefore never covers an
``rdsbot:`` action. A bare ``*`` means every action, the bot's own included, as
``"Action": "*"`` does in RAM (AdministratorAccess); lint points out where that
hands out ``rdsbot:Approve`` or ``rdsbot:BreakGlass``. Actions compare case-insensitively, so a deny written
``rds:clonedbinstance`` can never silently miss ``rds:CloneDBInstance``; lint
flags spellings that differ from the canonical ones.
"""

from __future__ import annotations

import re
from enum import Enum

SERVICES = ("rds", "rdsbot")

#: Every RDS action the bot calls, with how RAM scopes it (RDS_API.md, RAM facts).
RDS_ACTIONS: tuple[str, ...] = (
    "rds:CloneDBInstance",
    "rds:CopyDatabaseBetweenInstances",
    "rds:RestoreDdrTable",
    "rds:CreateBackup",
    "rds:DescribeCrossRegionBackups",
    "rds:DescribeDBInstances",
    "rds:DescribeDBInstanceAttribute",
    "rds:DescribeBackups",
    "rds:DescribeBackupTasks",
    "rds:DescribeDatabases",
    "rds:DescribeBackupPolicy",
    "rds:DescribeHistoryTasks",
    "rds:ListTagResources",
    "rds:DescribeDBInstanceTDE",
    "rds:DescribePrice",
)
BOT_ACTIONS: tuple[str, ...] = ("rdsbot:Approve", "rdsbot:Remind", "rdsbot:BreakGlass")
KNOWN_ACTIONS: tuple[str, ...] = RDS_ACTIONS + BOT_ACTIONS
_CANONICAL = {action.lower(): action for action in KNOWN_ACTIONS}

_PATTERN = re.compile(r"([a-z][a-z0-9-]*):([A-Za-z0-9*]+)", re.IGNORECASE)


class ResourceScope(str, Enum):
    """How a RAM policy may name the resource of an action."""

    INSTANCE = "instance"  # resource-level: the DBInstance ARN
    ANY = "any"  # no resource-level authorisation documented: Resource "*"


#: RDS_API.md's table: Clone, Copy, CreateBackup and DescribeCrossRegionBackups take
#: the DBInstance ARN; RestoreDdrTable's cell is empty; the Describe* calls the
#: pickers need are not in the table, and DescribeDBInstances lists, so "*".
RAM_SCOPES: dict[str, ResourceScope] = {
    "rds:CloneDBInstance": ResourceScope.INSTANCE,
    "rds:CopyDatabaseBetweenInstances": ResourceScope.INSTANCE,
    "rds:CreateBackup": ResourceScope.INSTANCE,
    "rds:DescribeCrossRegionBackups": ResourceScope.INSTANCE,
    "rds:RestoreDdrTable": ResourceScope.ANY,
    "rds:DescribeDBInstances": ResourceScope.ANY,
    "rds:DescribeDBInstanceAttribute": ResourceScope.ANY,
    "rds:DescribeBackups": ResourceScope.ANY,
    "rds:DescribeBackupTasks": ResourceScope.ANY,
    "rds:DescribeDatabases": ResourceScope.ANY,
    "rds:DescribeBackupPolicy": ResourceScope.ANY,
    "rds:DescribeHistoryTasks": ResourceScope.ANY,
    "rds:ListTagResources": ResourceScope.ANY,
    "rds:DescribeDBInstanceTDE": ResourceScope.ANY,
    "rds:DescribePrice": ResourceScope.ANY,  # prices a purchase: no instance to name
}


EVERY_ACTION = "*"
#: Bot actions whose grant to everyone-with-a-star deserves a second look.
SENSITIVE_BOT_ACTIONS: tuple[str, ...] = ("rdsbot:Approve", "rdsbot:BreakGlass")


def action_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid action pattern, or ``None`` when it is."""
    if pattern == EVERY_ACTION:
        return None
    if ":" not in pattern:
        return f"action {pattern!r} has no service prefix (like rds:CloneDBInstance)"
    found = _PATTERN.fullmatch(pattern)
    if found is None:
        return f"action {pattern!r} must be <service>:<name>, the name letters, digits and '*'"
    service = found.group(1).lower()
    if service not in SERVICES:
        return f"action {pattern!r}: unknown service {found.group(1)!r} (rds or rdsbot)"
    return None


def check_action(action: str) -> None:
    """Reject a request action that is not one concrete ``service:Name`` (raises ValueError)."""
    problem = action_pattern_problem(action)
    if problem is not None:
        raise ValueError(problem)
    if "*" in action:
        raise ValueError(f"a request names one action, not a pattern: {action!r}")


def canonical(action: str) -> str | None:
    """The canonical spelling of a known action, matched case-insensitively."""
    return _CANONICAL.get(action.lower())
