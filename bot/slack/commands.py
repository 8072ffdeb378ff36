"""Parse the text after ``/rds``; anything unknown becomes a request for help."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot import operations

OPERATIONS = tuple(operations.FORMS)  # the operations' own list: clone, copy, restore, backup, backups
OTHERS = ("status", "pending", "cancel", "remind", "help")
REQUEST_ID = re.compile(r"^[a-z]+-\d{8}-[0-9a-f]{8}$")
MAX_TEXT = 500


@dataclass(frozen=True)
class Command:
    """One parsed ``/rds`` invocation."""

    name: str
    args: list[str] = field(default_factory=list)
    unknown: str | None = None  # what the user typed when it was not a command

    @property
    def first(self) -> str | None:
        return self.args[0] if self.args else None


def parse(text: str | None) -> Command:
    words = (text or "")[:MAX_TEXT].split()
    if not words:
        return Command("help")
    name = words[0].lower()
    if name in OPERATIONS or name in OTHERS:
        return Command(name, words[1:])
    return Command("help", unknown=words[0][:40])
