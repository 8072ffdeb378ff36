"""Approval rules: how many distinct people must approve which requests, and who.

Read from ``approvals.toml`` beside ``policy.csv`` (format: policies/README.md)
and reloaded when it changes, like the policy. Without the file, an operation
that needs approval needs one approver (DESIGN.md).

Every rule whose action, resource and tags match a request applies, and the
strictest wins (most approvers; its ``from`` role) — so the order of rules
never matters and adding a rule can only ask for more. When the instance's
tags are unknown, every tag-conditioned rule counts as matching: not knowing
can only ask for more approvals, never fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.i18n import _, _n, tr
from bot.policy.matching import compile_wildcard
from bot.workflow.reloading import FileStore, RulesReload, text_version, toml_tables


FILE = "approvals.toml"
MAX_APPROVERS = 10


class ApprovalRulesError(ValueError):
    """The rules file is malformed; the message names the rule and the key."""


@dataclass(frozen=True)
class Requirement:
    """What one request needs before it may run."""

    approvers: int = 1
    pool: str | None = None  # e.g. "role:dba": approvers must hold this role too
    rule: str = _("default: one approver")  # an English id (import time): shown through bot.i18n.tr


DEFAULT = Requirement()


@dataclass(frozen=True)
class Rule:
    """One ``[[rule]]`` of the file."""

    name: str
    action: str
    resource: str = "*"
    tags: dict[str, str] = field(default_factory=dict)
    approvers: int = 1
    pool: str | None = None
    on: str | None = None  # only instances in this role of a request ("source", "target"); None: any

    def matches(self, action: str, resource: str, tags: Mapping[str, str] | None, role: str | None = None) -> bool:
        if self.on is not None and role is not None and role != self.on:
            return False
        if not compile_wildcard(self.action.lower())(action.lower()):
            return False
        if not compile_wildcard(self.resource)(resource):
            return False
        if not self.tags:
            return True
        if tags is None:
            return True  # unknown tags: assume the rule applies (it can only ask for more)
        return all(key in tags and compile_wildcard(value)(tags[key]) for key, value in self.tags.items())

    def requirement(self, where: str) -> Requirement:
        about = {"where": where, "name": self.name, "pool": self.pool}
        text = (_n("{where}: {name} ({n} approver from {pool})", "{where}: {name} ({n} approvers from {pool})",
                   self.approvers, **about) if self.pool
                else _n("{where}: {name} ({n} approver)", "{where}: {name} ({n} approvers)", self.approvers, **about))
        return Requirement(self.approvers, self.pool, text)


class ApprovalRules:
    """A loaded rule set; ``requirement`` answers for one request."""

    def __init__(self, rules: tuple[Rule, ...] = (), *, version: str = "default", source: str = FILE) -> None:
        self.rules = rules
        self.version = version
        self.source = source

    @classmethod
    def from_text(cls, text: str, *, source: str = FILE) -> ApprovalRules:
        raw_rules = toml_tables(text, source=source, key="rule", allowed={"rule", "version"}, error=ApprovalRulesError)
        rules = tuple(_rule(i, raw, source) for i, raw in enumerate(raw_rules, 1))
        return cls(rules, version=text_version(text), source=source)

    @classmethod
    def from_dir(cls, path: Path) -> ApprovalRules:
        file = path / FILE
        if not file.exists():
            return cls()
        return cls.from_text(file.read_text(encoding="utf-8"), source=str(file))

    def requirement(self, action: str, resource: str, tags: Mapping[str, str] | None, *,
                    floor: int = 1, role: str | None = None) -> Requirement:
        """The strictest matching rule, or the default; never fewer than ``floor`` approvers.

        ``role`` is the instance's part in the request (``source``, ``target``); rules with
        ``on`` set apply only to instances in that role.
        """
        where = Path(self.source).name
        matched = [r for r in self.rules if r.matches(action, resource, tags, role)]
        candidates = [r.requirement(f"{where} v{self.version}") for r in matched]
        if not candidates or (tags is None and any(r.tags for r in matched)):
            # No rule, or rules matched only because the tags are unknown: the
            # default stays in play, so unknown tags never lower the bar.
            candidates.append(DEFAULT)
        best = max(candidates, key=lambda r: (r.approvers, r.pool is not None))
        if best.approvers < floor:
            return Requirement(floor, best.pool, _("{rule}; raised to {floor}: this operation always needs approval",
                                                   rule=tr(best.rule), floor=floor))
        return best


_KEYS = {"name", "action", "resource", "tags", "approvers", "from", "on"}
ROLES = ("source", "target", "instance")


def _rule(index: int, raw: Any, source: str) -> Rule:
    where = f"{source}: rule {index}"
    if not isinstance(raw, dict):
        raise ApprovalRulesError(f"{where} must be a table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ApprovalRulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(_KEYS))})")
    action = raw.get("action")
    if not isinstance(action, str) or ":" not in action:
        raise ApprovalRulesError(f"{where}: 'action' must be a RAM action like rds:CloneDBInstance")
    resource = raw.get("resource", "*")
    if not isinstance(resource, str) or not (resource == "*" or resource.startswith("acs:rds:")):
        raise ApprovalRulesError(f"{where}: 'resource' must be an ARN pattern like acs:rds:*:*:dbinstance/*")
    tags = raw.get("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise ApprovalRulesError(f"{where}: 'tags' must map tag keys to values, like {{ env = \"prod\" }}")
    approvers = raw.get("approvers", 1)
    if not isinstance(approvers, int) or isinstance(approvers, bool) or not 0 <= approvers <= MAX_APPROVERS:
        raise ApprovalRulesError(f"{where}: 'approvers' must be a whole number from 0 to {MAX_APPROVERS}")
    pool = raw.get("from")
    if pool is not None and (not isinstance(pool, str) or not pool.startswith("role:")):
        raise ApprovalRulesError(f"{where}: 'from' must be a role, like \"role:dba\"")
    on = raw.get("on")
    if on is not None and on not in ROLES:
        raise ApprovalRulesError(f"{where}: 'on' must be one of {', '.join(ROLES)} (the instance's part in a request)")
    name = raw.get("name") or f"rule {index}"
    return Rule(name=str(name)[:80], action=action, resource=resource, tags=dict(tags), approvers=approvers, pool=pool,
                on=on)


class ApprovalRulesStore(FileStore[ApprovalRules]):
    """Holds the current rules and swaps in new ones when the file changes (thread-safe)."""

    def __init__(self, path: Path, *, on_reload: Callable[[RulesReload], None] | None = None) -> None:
        super().__init__(path, file=FILE, load=ApprovalRules.from_dir, errors=(ApprovalRulesError,),
                         on_reload=on_reload)
