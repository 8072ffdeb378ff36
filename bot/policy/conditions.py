"""Tag conditions, the optional sixth column of a ``p`` line.

``rds:ResourceTag/<key>=<value>`` holds when the instance carries tag ``key``
with a value matching ``value`` (``*`` wildcards); ``!=`` holds when the tag is
absent or its value does not match. Several conditions are joined with ``&``
and must all hold.

Unknown tags (the caller passes ``tags=None`` because they could not be
fetched) are resolved in the safe direction, so a failed tag lookup can only
ever deny more: a conditional *deny* applies as if its conditions held, a
conditional *allow* does not apply. A rule without conditions does not care.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel

from .matching import Matcher, compile_wildcard

TAG_KEY_PREFIX = "rds:ResourceTag/"
SEPARATOR = "&"


class Condition(BaseModel, frozen=True):
    """One ``rds:ResourceTag/<key><op><value>`` test; ``value`` may hold ``*``."""

    key: str
    op: Literal["=", "!="]
    value: str

    @property
    def text(self) -> str:
        return f"{TAG_KEY_PREFIX}{self.key}{self.op}{self.value}"

    def holds(self, tags: Mapping[str, str]) -> bool:
        """Whether known ``tags`` satisfy it (one-off; engines use ``CompiledConditions``)."""
        return _holds(self.key, self.op == "!=", compile_wildcard(self.value), tags)


def _holds(key: str, negate: bool, matcher: Matcher, tags: Mapping[str, str]) -> bool:
    value = tags.get(key)
    matched = value is not None and bool(matcher(value))
    return matched is not negate


class CompiledConditions:
    """A rule's conditions with their value patterns compiled once, at load."""

    def __init__(self, conditions: Sequence[Condition]) -> None:
        self.conditions = tuple(conditions)
        self._tests = tuple((c.key, c.op == "!=", compile_wildcard(c.value)) for c in conditions)

    def apply(self, effect: str, tags: Mapping[str, str] | None) -> bool:
        """Whether a rule with these conditions and ``effect`` applies (see the module doc)."""
        if not self._tests:
            return True
        if tags is None:
            return effect == "deny"
        return all(_holds(key, negate, matcher, tags) for key, negate, matcher in self._tests)


def parse_conditions(text: str) -> tuple[Condition, ...]:
    """Parse the sixth column; raises ValueError naming the bad part."""
    conditions = []
    for part in (piece.strip() for piece in text.split(SEPARATOR)):
        if not part:
            raise ValueError(f"empty condition in {text!r} (join conditions with ' & ')")
        op: Literal["=", "!="]
        if "!=" in part:
            key, value = part.split("!=", 1)
            op = "!="
        elif "=" in part:
            key, value = part.split("=", 1)
            op = "="
        else:
            raise ValueError(f"condition {part!r} needs '=' or '!=' (rds:ResourceTag/env=prod)")
        key = key.strip()
        if not key.lower().startswith(TAG_KEY_PREFIX.lower()):
            raise ValueError(f"condition {part!r}: only {TAG_KEY_PREFIX}<key> is supported")
        tag_key = key[len(TAG_KEY_PREFIX):]
        if not tag_key or "*" in tag_key or any(ch.isspace() for ch in tag_key):
            raise ValueError(f"condition {part!r}: bad tag key {tag_key!r}")
        conditions.append(Condition(key=tag_key, op=op, value=value.strip()))
    return tuple(conditions)


def conditions_text(conditions: Sequence[Condition]) -> str:
    """The canonical sixth column for ``conditions`` ('' when there are none)."""
    return " & ".join(condition.text for condition in conditions)


def conditions_apply(
    conditions: Sequence[Condition], effect: str, tags: Mapping[str, str] | None
) -> bool:
    """Whether a rule with these conditions and effect applies to an instance with ``tags``."""
    return CompiledConditions(conditions).apply(effect, tags)
