"""Approval rules: how many distinct people must approve which requests.

Without a rules file every operation that needs approval needs one approver
(DESIGN.md). A rule may ask for more approvers, or approvers from a given
role, for an action and for instances carrying given tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    """What one request needs before it may run."""

    approvers: int = 1
    pool: str | None = None  # e.g. "role:dba": approvers must hold this role too
    rule: str = "default: one approver"


DEFAULT = Requirement()


class ApprovalRules:
    """The default rule set; :mod:`bot.workflow.approval_rules` can load richer ones."""

    version: str = "default"

    def requirement(self, action: str, resource: str, tags: Mapping[str, str] | None) -> Requirement:
        return DEFAULT
