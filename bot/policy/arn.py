"""RDS instance ARNs (``acs:rds:<region>:<account>:dbinstance/<id>``) and ARN patterns.

A request's resource is always the ARN of one instance (DESIGN.md: the source of
a clone, the target of a copy or restore, the instance itself otherwise).
Policy lines hold patterns of those ARNs in which ``*`` matches any run of
characters, ``:`` and ``/`` included.
"""

from __future__ import annotations

from collections.abc import Iterable

import re

ARN_PREFIX = "acs:rds:"
RESOURCE_TYPE = "dbinstance/"

_REGION = re.compile(r"[a-z]{2}-[a-z0-9-]+")
_ACCOUNT = re.compile(r"[0-9]+|\*")
_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

# Characters a pattern segment may hold, ``*`` included.
_REGION_CHARS = re.compile(r"[a-z0-9*-]+")
_ACCOUNT_CHARS = re.compile(r"[0-9*]+")
_ID_CHARS = re.compile(r"[A-Za-z0-9_.*-]+")
_ANY_CHARS = re.compile(r"[A-Za-z0-9_.*/-]+")
_RESOURCE = re.compile(r"[^\s,]+")


def instance_arn(region: str, account: str, instance_id: str) -> str:
    """The ARN of one RDS instance, as the policy sees it.

    ``account`` may be ``*`` (RDSBOT_ACCOUNT_ID's default): the ARN then holds a
    literal ``*``, which only policy patterns with ``*`` in the account segment
    match. Set RDSBOT_ACCOUNT_ID when policy lines name accounts.
    """
    if not _REGION.fullmatch(region):
        raise ValueError(f"not a region id: {region!r}")
    if not _ACCOUNT.fullmatch(account):
        raise ValueError(f"not an account id (digits or '*'): {account!r}")
    if not _INSTANCE.fullmatch(instance_id):
        raise ValueError(f"not an instance id: {instance_id!r}")
    return f"{ARN_PREFIX}{region}:{account}:{RESOURCE_TYPE}{instance_id}"


def check_resource(resource: str) -> None:
    """Reject a request resource that no policy could sensibly match (raises ValueError)."""
    # One regex (\s is str.isspace's set): a per-character loop was a tenth of a decision (profiled).
    if _RESOURCE.fullmatch(resource) is None:
        raise ValueError(f"not a resource ARN: {resource!r}")


def arn_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid instance ARN pattern, or ``None`` when it is.

    Valid: ``*`` alone, or ``acs:rds:`` followed by region, account and
    ``dbinstance/<id>`` segments, each of which may hold ``*``. Fewer than five
    ``:``-segments are allowed only when a ``*`` is there to span the missing
    ones (``acs:rds:*``); more than five can never match, instance ids hold no
    ``:``.
    """
    if pattern == "*":
        return None
    if not pattern.startswith(ARN_PREFIX):
        return f"resource {pattern!r} must start with {ARN_PREFIX!r} (or be '*')"
    segments = pattern.split(":")
    if len(segments) > 5:
        return f"resource {pattern!r} has more than 5 ':'-separated segments"
    rest = segments[2:]
    if len(segments) < 5:
        if not any("*" in seg for seg in rest):
            return (
                f"resource {pattern!r} is incomplete: expected "
                "acs:rds:<region>:<account>:dbinstance/<id>"
            )
        for seg in rest:
            if not _ANY_CHARS.fullmatch(seg):
                return f"resource {pattern!r}: bad segment {seg!r}"
        return None
    region, account, resource = rest
    if not _REGION_CHARS.fullmatch(region) or (
        "*" not in region and not _REGION.fullmatch(region)
    ):
        return f"resource {pattern!r}: bad region segment {region!r} (like cn-hangzhou or *)"
    if not _ACCOUNT_CHARS.fullmatch(account):
        return f"resource {pattern!r}: bad account segment {account!r} (digits or *)"
    if resource.startswith("*"):
        if not _ANY_CHARS.fullmatch(resource):
            return f"resource {pattern!r}: bad resource segment {resource!r}"
        return None
    if not resource.startswith(RESOURCE_TYPE):
        return f"resource {pattern!r}: last segment must be dbinstance/<id>, got {resource!r}"
    instance = resource[len(RESOURCE_TYPE):]
    if not _ID_CHARS.fullmatch(instance):
        return f"resource {pattern!r}: bad instance id {instance!r}"
    return None


def concrete_accounts(patterns: Iterable[str]) -> list[tuple[str, str]]:
    """(pattern, account) for each full pattern that names one account (no ``*`` in it)."""
    found = []
    for pattern in patterns:
        account = account_segment(pattern)
        if account is not None and "*" not in account:
            found.append((pattern, account))
    return found


def account_segment(pattern: str) -> str | None:
    """The account segment of a full five-segment pattern, else ``None``."""
    segments = pattern.split(":")
    return segments[3] if len(segments) == 5 else None
