"""The RDS operations the bot offers, one module each, all of one shape (base.py)."""

from __future__ import annotations

from bot.operations.base import Operation
from bot.operations.clone import Clone

_ALL: tuple[Operation, ...] = (Clone(),)
REGISTRY: dict[str, Operation] = {op.name: op for op in _ALL}


def get(name: str) -> Operation | None:
    return REGISTRY.get(name)


# Every operation's pickers and policy checks read these.
COMMON_READS = ("rds:DescribeDBInstances", "rds:DescribeDBInstanceAttribute", "rds:ListTagResources")


def ram_actions() -> list[str]:
    """Every RAM action the bot's own AccessKey calls, for `rdsbot ram-policy`."""
    actions = set(COMMON_READS)
    for op in _ALL:
        actions.add(op.ram_action)
        actions.update(op.reads)
    return sorted(actions)
