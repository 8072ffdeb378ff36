"""Reading ``policy.csv``: lines -> ``Rule``/``Grant`` objects, or problems with line numbers.

Format (policies/README.md)::

    p, <subject>, <action>, <resource>, <effect>[, <conditions>]
    g, <member>, role:<name>

Fields are separated by ``,`` and trimmed; there is no quoting, so no field
holds a comma. Blank lines and lines starting with ``#`` are ignored (comments
take the whole line: ``#`` inside a line is data).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from .actions import action_pattern_problem
from .arn import arn_pattern_problem
from .conditions import parse_conditions
from .errors import PolicyError
from .rules import GROUP_PREFIX, ROLE_PREFIX, Grant, Rule, subject_problem

EFFECTS = ("allow", "deny")

# Lines repeat their subjects, actions, resources and conditions, and a reload re-reads
# mostly the same ones: each distinct value is checked once (all pure functions of the
# text; checking every field of every line was a third of loading 10,000 lines, profiled).
# Decisions check their subject with the same cache (engine.py).
cached_subject_problem = functools.lru_cache(maxsize=8192)(subject_problem)
_action_problem = functools.lru_cache(maxsize=1024)(action_pattern_problem)
_resource_problem = functools.lru_cache(maxsize=8192)(arn_pattern_problem)
_conditions = functools.lru_cache(maxsize=1024)(parse_conditions)


@dataclass
class ParsedPolicy:
    """What a policy text holds; ``problems`` are ``(line, message)`` in file order."""

    source: str
    rules: list[Rule] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def raise_for_problems(self) -> None:
        """Raise a PolicyError naming the first problem (and counting the rest)."""
        if self.problems:
            line, message = self.problems[0]
            raise PolicyError(
                message,
                path=self.source,
                line=line,
                problems=tuple((ln, msg) for ln, msg in self.problems),
            )


def parse_policy(text: str, source: str = "policy.csv") -> ParsedPolicy:
    """Parse every line, collecting every problem rather than stopping at the first."""
    parsed = ParsedPolicy(source=source)
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [part.strip() for part in stripped.split(",")]
        try:
            if fields[0] == "p":
                parsed.rules.append(_rule(fields, number, stripped, source))
            elif fields[0] == "g":
                parsed.grants.append(_grant(fields, number, stripped, source))
            else:
                raise ValueError(f"unknown line type {fields[0]!r}: lines start with 'p' or 'g'")
        except ValueError as exc:
            parsed.problems.append((number, str(exc)))
    return parsed


def load_policy(text: str, source: str = "policy.csv") -> ParsedPolicy:
    """Parse and raise PolicyError on the first problem."""
    parsed = parse_policy(text, source)
    parsed.raise_for_problems()
    return parsed


def _rule(fields: list[str], number: int, text: str, source: str) -> Rule:
    if len(fields) not in (5, 6):
        raise ValueError(
            f"a p line has 5 or 6 fields (p, subject, action, resource, effect"
            f"[, conditions]), found {len(fields)}"
        )
    _, subject, action, resource, effect = fields[:5]
    _require(subject, "subject")
    _require(action, "action")
    _require(resource, "resource")
    _require(effect, "effect")
    for problem in (cached_subject_problem(subject), _action_problem(action), _resource_problem(resource)):
        if problem is not None:
            raise ValueError(problem)
    effect_name = effect.lower()
    if effect_name not in EFFECTS:
        raise ValueError(f"unknown effect {effect!r} (allow or deny)")
    conditions = ()
    if len(fields) == 6:
        if not fields[5]:
            raise ValueError("empty conditions field (remove the trailing comma)")
        conditions = _conditions(fields[5])
    return Rule(
        path=source,
        line=number,
        text=text,
        subject=subject,
        action=action,
        resource=resource,
        effect=effect_name,  # type: ignore[arg-type]
        conditions=conditions,
    )


def _grant(fields: list[str], number: int, text: str, source: str) -> Grant:
    if len(fields) != 3:
        raise ValueError(f"a g line has 3 fields (g, member, role:<name>), found {len(fields)}")
    _, member, role = fields
    _require(member, "member")
    _require(role, "role")
    problem = cached_subject_problem(member, allow_anyone=False)
    if problem is not None:
        raise ValueError(f"{problem} (use a p line with subject '*' for anyone)"
                         if member == "*" else problem)
    if not role.startswith(ROLE_PREFIX):
        hint = " (user groups are resolved by Slack, not granted)" if role.startswith(
            GROUP_PREFIX) else ""
        raise ValueError(f"the second field of a g line must be role:<name>, got {role!r}{hint}")
    problem = cached_subject_problem(role)
    if problem is not None:
        raise ValueError(problem)
    if member == role:
        raise ValueError(f"role cycle: {role} is a member of itself")
    return Grant(path=source, line=number, text=text, member=member, role=role)


def _require(value: str, name: str) -> None:
    if not value:
        raise ValueError(f"empty {name} field")
