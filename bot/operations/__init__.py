"""The RDS operations the bot offers, one module each, all of one shape (base.py)."""

from __future__ import annotations

from bot.operations.backup import Backup
from bot.operations.backups import CrossRegionListing
from bot.operations.base import FormSpec, Operation
from bot.operations.clone import Clone
from bot.operations.copy import Copy
from bot.operations.restore import Restore

_ALL: tuple[Operation, ...] = (Clone(), Copy(), Restore(), Backup())
REGISTRY: dict[str, Operation] = {op.name: op for op in _ALL}
LISTING = CrossRegionListing()
FORMS: dict[str, FormSpec] = {**REGISTRY, LISTING.name: LISTING}

# Every operation's pickers and policy checks read these.
COMMON_READS = ("rds:DescribeDBInstances", "rds:DescribeDBInstanceAttribute", "rds:ListTagResources")


def get(name: str) -> Operation | None:
    return REGISTRY.get(name)


def form(name: str) -> FormSpec | None:
    return FORMS.get(name)


def ram_actions() -> list[str]:
    """Every RAM action the bot's own AccessKey calls, for `rdsbot ram-policy`."""
    actions = set(COMMON_READS) | {LISTING.ram_action}
    for op in _ALL:
        actions.add(op.ram_action)
        actions.update(op.reads)
    return sorted(actions)
