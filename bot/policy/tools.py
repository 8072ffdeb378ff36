"""Operator tools behind ``rdsbot policy ...`` and ``rdsbot ram-policy``.

Each tool returns its text and exit code (``ToolResult``) so the CLI stays a
thin shell and tests call the tools directly. Exit codes: 0 allow / clean,
1 deny / findings or mismatches, 2 the policy (or the input) cannot be used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .actions import RAM_SCOPES, RDS_ACTIONS, ResourceScope, action_pattern_problem
from .arn import ARN_PREFIX, RESOURCE_TYPE
from .engine import PolicyEngine
from .errors import PolicyError
from .explain import trace
from .lint import lint_dir
from .matching import wildcard_match
from .table import run_file
from .rules import ANYONE, subject_kind

EXIT_ALLOW = 0
EXIT_DENY = 1
EXIT_ERROR = 2


@dataclass(frozen=True)
class ToolResult:
    """What to print and the process exit code."""

    output: str
    exit_code: int


def check(policy_dir: Path, subject: str, action: str, resource: str, *,
          tags: Mapping[str, str] | None = None, groups: Sequence[str] = ()) -> ToolResult:
    """``allow``/``deny`` first, then the deciding rule and the version; exit 0/1/2."""
    try:
        engine = PolicyEngine.from_dir(policy_dir)
        decision = engine.decide(subject, action, resource, tags=tags, groups=groups)
    except PolicyError as exc:
        return ToolResult(f"error: {exc}", EXIT_ERROR)
    except ValueError as exc:
        return ToolResult(f"error: bad request: {exc}", EXIT_ERROR)
    text = f"{decision.explain()}\npolicy version: {decision.policy_version}"
    return ToolResult(text, EXIT_ALLOW if decision.allowed else EXIT_DENY)


def explain(policy_dir: Path, subject: str, action: str, resource: str, *,
            tags: Mapping[str, str] | None = None, groups: Sequence[str] = ()) -> ToolResult:
    """Like ``check``, plus the subject's roles and a verdict for every line considered."""
    try:
        engine = PolicyEngine.from_dir(policy_dir)
        result = trace(engine, subject, action, resource, tags=tags, groups=groups)
    except PolicyError as exc:
        return ToolResult(f"error: {exc}", EXIT_ERROR)
    except ValueError as exc:
        return ToolResult(f"error: bad request: {exc}", EXIT_ERROR)
    return ToolResult(result.render(), EXIT_ALLOW if result.decision.allowed else EXIT_DENY)


def who_can(policy_dir: Path, action: str, resource: str, *,
            tags: Mapping[str, str] | None = None) -> ToolResult:
    """Every user and user group the policy names that may do ``action`` on ``resource``, each with
    the rule that allows it; exit 0 when anyone may, 1 when nobody may, 2 on error. Offline: a
    group's members are Slack's to say, so groups are listed as groups, not expanded."""
    try:
        engine = PolicyEngine.from_dir(policy_dir)
        allowed = engine.allowed_rules(action, resource, tags=tags)
    except PolicyError as exc:
        return ToolResult(f"error: {exc}", EXIT_ERROR)
    except ValueError as exc:
        return ToolResult(f"error: bad request: {exc}", EXIT_ERROR)
    tag_text = "unknown" if tags is None else (", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or "none")
    lines = [f"{action} on {resource} (tags: {tag_text})"]
    people = sorted(s for s in allowed if subject_kind(s) == "user")
    groups = sorted(s for s in allowed if subject_kind(s) == "usergroup")
    width = max((len(s) for s in allowed), default=0)
    for subject in (*people, *groups):
        rule = allowed[subject]
        chain = " -> ".join(engine.graph.path((subject,), rule.subject)[1:]) or rule.subject
        via = "" if rule.subject == subject else f" (via {chain})"
        kind = "  [user group]" if subject in groups else ""
        lines.append(f"{subject:<{width}}  {rule.where}  {rule.text}{via}{kind}")
    if ANYONE in allowed:
        lines.append(f"*  anyone else too: {allowed[ANYONE].where}  {allowed[ANYONE].text}")
    if groups:
        lines.append("user groups are not expanded here (their members are Slack's to say); the bot reads them "
                     "at run time, and each member's own denies still apply")
    lines.append(f"{len(people)} user(s), {len(groups)} user group(s) · policy version {engine.version}")
    return ToolResult("\n".join(lines), EXIT_ALLOW if allowed else EXIT_DENY)


def lint(policy_dir: Path, *, account_id: str = "*") -> ToolResult:
    """Every finding, one a line, then a count; exit 1 when any is an error."""
    findings = lint_dir(policy_dir, account_id=account_id)
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    lines = [str(f) for f in findings]
    lines.append(f"{errors} error(s), {warnings} warning(s)")
    return ToolResult("\n".join(lines), 1 if errors else 0)


def run_table(policy_dir: Path, table: Path) -> ToolResult:
    """Run an expected-decision table; print mismatches with explanations; exit 1 on any."""
    try:
        engine = PolicyEngine.from_dir(policy_dir)
        outcomes = run_file(engine, table)
    except PolicyError as exc:
        return ToolResult(f"error: {exc}", EXIT_ERROR)
    lines = []
    for outcome in outcomes:
        if not outcome.ok:
            case = outcome.case
            lines.append(f"{case.where}: expected {case.expect}, got "
                         f"{outcome.decision.effect}: {outcome.decision.explain()}")
    bad = len(lines)
    lines.append(f"{len(outcomes)} case(s), {bad} mismatch(es), policy version "
                 f"{engine.version}")
    return ToolResult("\n".join(lines), 1 if bad else 0)


#: The RDS actions the bot's own AccessKey calls (the five operations, pickers, polling).
BOT_RDS_ACTIONS: tuple[str, ...] = RDS_ACTIONS


def ram_policy(actions: Iterable[str] = BOT_RDS_ACTIONS, *, region: str = "*",
               account: str = "*") -> dict[str, Any]:
    """A least-privilege RAM policy document for the bot's AccessKey.

    ``actions`` are RDS actions or patterns over the known ones (``rds:Describe*``).
    Actions RAM authorises per instance (RDS_API.md: CloneDBInstance,
    CopyDatabaseBetweenInstances, CreateBackup, DescribeCrossRegionBackups) get
    the DBInstance ARN for ``region``/``account``; the others get ``*`` because
    their pages document no resource-level authorisation (RestoreDdrTable's
    cell is empty; DescribeDBInstances lists). ``rdsbot:`` actions are the bot's
    own and have no place in RAM (ValueError).
    """
    expanded: list[str] = []
    for action in actions:
        problem = action_pattern_problem(action)
        if problem is not None:
            raise ValueError(problem)
        if action.lower().startswith("rdsbot:"):
            raise ValueError(f"{action} is an rdsbot action, not a RAM action")
        hits = [known for known in RDS_ACTIONS if wildcard_match(action.lower(), known.lower())]
        if not hits:
            raise ValueError(f"{action} matches no RDS action the bot knows")
        expanded += [hit for hit in hits if hit not in expanded]
    arn = f"{ARN_PREFIX}{region}:{account}:{RESOURCE_TYPE}*"
    scoped = sorted(a for a in expanded if RAM_SCOPES[a] is ResourceScope.INSTANCE)
    unscoped = sorted(a for a in expanded if RAM_SCOPES[a] is ResourceScope.ANY)
    statements = []
    if scoped:
        statements.append({"Effect": "Allow", "Action": scoped, "Resource": [arn]})
    if unscoped:
        statements.append({"Effect": "Allow", "Action": unscoped, "Resource": ["*"]})
    return {"Version": "1", "Statement": statements}
