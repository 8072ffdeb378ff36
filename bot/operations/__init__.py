"""The RDS operations the bot offers, one module each, all of one shape (base.py)."""

from __future__ import annotations

from bot.operations.base import Operation
from bot.operations.clone import Clone

_ALL: tuple[Operation, ...] = (Clone(),)
REGISTRY: dict[str, Operation] = {op.name: op for op in _ALL}


def get(name: str) -> Operation | None:
    return REGISTRY.get(name)


def ram_actions() -> list[str]:
    return [op.ram_action for op in _ALL]
