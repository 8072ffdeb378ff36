"""A full account of one decision for operators: every line considered, and why it applied or not.

``PolicyEngine.decide`` decides; the per-line verdicts here are
recomputed in plain Python for the operator's benefit and never feed back into
a decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .conditions import conditions_apply, conditions_text
from .decision import Decision
from .engine import PolicyEngine
from .matching import wildcard_match
from .rules import ANYONE, Rule, normalize_group


@dataclass(frozen=True)
class RuleCheck:
    """One line and whether it applied to the request, with the reason."""

    rule: Rule
    applied: bool
    reason: str


@dataclass(frozen=True)
class Trace:
    """A decision plus the subject's roles and every line that was considered."""

    decision: Decision
    roles: list[str]
    principals: list[str]
    checks: list[RuleCheck] = field(default_factory=list)
    elsewhere: list[Rule] = field(default_factory=list)

    def render(self) -> str:
        """Plain text: the decision first, then roles and one line per rule."""
        d = self.decision
        out = [d.explain(), f"policy version: {d.policy_version}"]
        groups = ", ".join(d.groups) or "none"
        tags = "unknown" if d.tags is None else (
            ", ".join(f"{k}={v}" for k, v in sorted(d.tags.items())) or "none")
        out.append(f"subject: {d.subject}; groups: {groups}; roles: "
                   f"{', '.join(self.roles) or 'none'}; instance tags: {tags}")
        if not self.checks:
            out.append(f"no line for these principals names {d.action}: "
                       f"{', '.join(self.principals)}")
        else:
            out.append(f"lines considered ({len(self.checks)}):")
            for check in self.checks:
                mark = "APPLIES " if check.applied else "no      "
                decided = "  <- decided" if d.rule is not None and check.rule == d.rule else ""
                out.append(f"  {mark}{check.rule.where}  {check.rule.text}  -- "
                           f"{check.reason}{decided}")
        if self.elsewhere:
            out.append("lines for this action and resource held by other subjects:")
            for rule in self.elsewhere:
                out.append(f"  {rule.where}  {rule.text}  -- {rule.subject} is not among "
                           "the subject's principals")
        return "\n".join(out)


def trace(engine: PolicyEngine, subject: str, action: str, resource: str, *,
          tags: Mapping[str, str] | None = None, groups: Sequence[str] = ()) -> Trace:
    """Decide, then account for every candidate line of the request."""
    decision = engine.decide(subject, action, resource, tags=tags, groups=groups)
    group_ids = [normalize_group(group) for group in groups]
    principals = engine.principals(subject, group_ids)
    checks = [_check(rule, resource, decision, _chain(engine, subject, group_ids, rule))
              for rule in engine.candidate_rules(subject, action, group_ids)]
    elsewhere = [rule for rule in engine.rules
                 if rule.subject not in principals
                 and wildcard_match(rule.action.lower(), action.lower())
                 and wildcard_match(rule.resource, resource)]
    return Trace(decision=decision, roles=engine.roles_of(subject, group_ids),
                 principals=sorted(principals), checks=checks, elsewhere=elsewhere)


def _chain(engine: PolicyEngine, subject: str, groups: Sequence[str], rule: Rule) -> str:
    """How the rule reaches the subject: ``the subject``, ``everyone``, or a chain."""
    if rule.subject == subject:
        return "the subject"
    if rule.subject == ANYONE:
        return "everyone"
    path = engine.graph.path((subject, *groups), rule.subject)
    return " > ".join(path if path and path[0] == subject else (subject, *path))


def _check(rule: Rule, resource: str, decision: Decision, who: str) -> RuleCheck:
    if not wildcard_match(rule.resource, resource):
        return RuleCheck(rule, False, f"resource pattern {rule.resource} does not match")
    if not rule.conditions:
        return RuleCheck(rule, True, f"{rule.effect} for {who}")
    wanted = conditions_text(rule.conditions)
    applied = conditions_apply(rule.conditions, rule.effect, decision.tags)
    if decision.tags is None:
        why = ("tags unknown: a conditional deny applies" if applied
               else "tags unknown: a conditional allow does not apply")
        return RuleCheck(rule, applied, f"{rule.effect} for {who} when {wanted}; {why}")
    state = "met" if applied else "not met"
    return RuleCheck(rule, applied, f"{rule.effect} for {who} when {wanted}: {state}")
