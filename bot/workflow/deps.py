"""The one dependencies object every workflow step takes.

Built once by the composition root (:mod:`bot.app`) and never changed after:
the workflow's modules are functions over it, so there is no object graph to
wire by mutation and no cycle between the workflow and the Slack sender (the
sender rings :attr:`Deps.wakeup`, the workflow never holds the sender).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.config import Settings
from bot.policy import PolicyStore
from bot.rds.estate import Estate
from bot.rds.gateway import RdsGateway
from bot.store.db import Database
from bot.workflow.approvals import ApprovalRulesStore
from bot.workflow.background import Wakeup
from bot.workflow.freezes import FreezeStore
from bot.workflow.limits import RateLimits
from bot.workflow.ports import GroupResolver, NoGroups


def _inline(fn: Callable[..., Any], *args: Any) -> None:
    fn(*args)


@dataclass(frozen=True)
class Deps:
    """Settings, storage, policy, RDS, and the two hooks to the bot's background work."""

    settings: Settings
    db: Database
    policy: PolicyStore
    gateway: RdsGateway  # the default place's (the bot's own identity in RDSBOT_REGION_ID)
    directory: Estate  # every account and region (bot.rds.estate); ``at(place)`` for one
    rules: ApprovalRulesStore | None = None
    freezes: FreezeStore | None = None  # change freezes (freeze.toml); None: no freezes
    groups: GroupResolver = field(default_factory=NoGroups)
    limits: RateLimits | None = None  # per-person rate limits; None: unlimited (scripts, unit tests)
    wakeup: Wakeup = field(default_factory=Wakeup)
    # Runs follow-up work after the caller has answered Slack (a thread pool in
    # production); inline by default, for scripts and unit tests.
    later: Callable[..., Any] = _inline

    def kick(self) -> None:
        """Wake the outbox sender: messages were recorded."""
        self.wakeup.ring()
