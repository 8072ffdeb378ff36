"""RAM documents for a cloud identity per request (``RDSBOT_RAM_ROLE_ARN``).

With a role, the bot's own AccessKey keeps only the reads (pickers, checks, progress)
and ``sts:AssumeRole`` on the role; the role holds the mutating actions, each scoped
as :func:`bot.policy.tools.ram_policy` scopes it; its trust policy lets the bot's
account assume it. Each request then narrows the role further with a session policy
(:mod:`bot.rds.session`), so neither the bot's key nor a session reaches past what
was approved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .tools import ram_policy

_ROLE_ARN = re.compile(r"acs:ram::(\d+):role/[A-Za-z0-9.@_-]+")


def role_account(role_arn: str) -> str:
    """The account that owns ``role_arn`` (``acs:ram::<account>:role/<name>``); ValueError otherwise."""
    found = _ROLE_ARN.fullmatch(role_arn)
    if found is None:
        raise ValueError(f"not a RAM role ARN (acs:ram::<account id>:role/<name>): {role_arn!r}")
    return found.group(1)


def trust_policy(role_arn: str, trusted_account: str | None = None) -> dict[str, Any]:
    """Who may assume the role: RAM identities of ``trusted_account`` (default: the role's own account)
    that are themselves allowed ``sts:AssumeRole`` on it, i.e. the bot's AccessKey."""
    account = trusted_account if trusted_account and trusted_account != "*" else role_account(role_arn)
    return {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                           "Principal": {"RAM": [f"acs:ram::{account}:root"]}}]}


def role_policies(role_arn: str, mutating: Iterable[str], reads: Iterable[str], *, region: str = "*",
                  account: str = "*") -> dict[str, Any]:
    """The three documents to attach: the bot's own key, the role's trust, the role's permissions."""
    role_account(role_arn)
    mutating = sorted(set(mutating))
    bot = ram_policy(sorted(set(reads) - set(mutating)), region=region, account=account)
    bot["Statement"].append({"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": [role_arn]})
    return {
        "RoleArn": role_arn,
        "BotPolicy": bot,
        "RoleTrustPolicy": trust_policy(role_arn),
        "RolePermissionPolicy": ram_policy(mutating, region=region, account=account),
    }
