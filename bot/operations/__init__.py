"""The RDS operations the bot offers, one module each, all of one shape (base.py).

Owns: the one list of operations (:data:`REGISTRY`, :data:`FORMS`), each one's
parameters, seed validation, RAM action, SDK request and progress probe.
Must never import: ``bot.workflow``, ``bot.slack``, ``bot.store``.
"""

from __future__ import annotations

from bot.i18n import Translated, _
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


# What an operation is called inside a sentence ("A {operation} of X is already under way"), as a noun
# in the reader's language; the internal name is for commands and storage only.
_NOUNS = Translated({"clone": _("clone"), "copy": _("database copy"), "restore": _("restore"), "backup": _("backup"),
                     "backups": _("backup listing")})


def noun(name: str) -> str:
    """The operation ``name`` as a noun for sentences, in the reader's language (the name itself if unknown)."""
    return _NOUNS[name] if name in _NOUNS else name


def get(name: str) -> Operation | None:
    return REGISTRY.get(name)


def require(name: str) -> Operation:
    """The operation a stored request names (a KeyError for one this release does not know)."""
    op = REGISTRY.get(name)
    if op is None:
        raise KeyError(name)
    return op


def form(name: str) -> FormSpec | None:
    return FORMS.get(name)


def ram_actions() -> list[str]:
    """Every RAM action the bot's own AccessKey calls, for `rdsbot ram-policy`."""
    actions = set(COMMON_READS) | {LISTING.ram_action}
    for op in _ALL:
        actions.add(op.ram_action)
        actions.update(op.reads)
    return sorted(actions)
