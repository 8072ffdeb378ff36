"""What a person may do, in short: their roles and, per action, the resources the policy lines that
apply to them allow and deny.

A summary for the App Home, read from the current policy the way a decision
reads it (the person, their roles, their Slack user groups, ``*``): the lines
casbin would be handed for each action. It is a map for people, not a
decision: each request is still decided in full when it is made, and an
explicit deny wins there whatever the order shown here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import operations
from bot.policy.actions import BOT_ACTIONS
from bot.policy.conditions import conditions_text
from bot.policy.rules import Rule
from bot.workflow.deps import Deps

#: The actions summarised: each operation's, seeing instances, then the bot's own.
ACTIONS: tuple[str, ...] = (
    *dict.fromkeys(op.ram_action for op in operations.FORMS.values()),
    "rds:DescribeDBInstances",
    *BOT_ACTIONS,
)


@dataclass(frozen=True)
class Scope:
    """One policy line's reach: its resource pattern, its tag conditions ('' when none), where it is."""

    resource: str
    conditions: str
    where: str


@dataclass(frozen=True)
class ActionRights:
    """For one action: what the lines that apply to the person allow and deny."""

    action: str
    allowed: tuple[Scope, ...]
    denied: tuple[Scope, ...]


@dataclass(frozen=True)
class Rights:
    """A person's roles and their rights per action; groups Slack could not read count only for denies."""

    roles: tuple[str, ...]
    actions: tuple[ActionRights, ...]
    unknown_groups: tuple[str, ...] = ()


def _scopes(rules: list[Rule], effect: str) -> tuple[Scope, ...]:
    seen: dict[tuple[str, str], Scope] = {}
    for rule in rules:
        if rule.effect == effect:
            key = (rule.resource, conditions_text(rule.conditions))
            seen.setdefault(key, Scope(key[0], key[1], rule.where))
    return tuple(seen.values())


def rights_of(deps: Deps, user: str) -> Rights:
    """The summary for ``user`` from the policy in force now."""
    engine = deps.policy.current()
    candidates = sorted(engine.referenced_usergroups())
    groups, unknown = deps.groups.membership(user, candidates) if candidates else ([], [])
    actions = []
    for action in ACTIONS:
        allows = engine.candidate_rules(user, action, groups)
        # A group Slack could not confirm lends no allow, but its denies still apply (as in a decision).
        denies = engine.candidate_rules(user, action, [*groups, *unknown]) if unknown else allows
        actions.append(ActionRights(action, _scopes(allows, "allow"), _scopes(denies, "deny")))
    return Rights(tuple(engine.roles_of(user, groups)), tuple(actions), tuple(unknown))
