"""``rdsbot policy lint``: mistakes a policy can load with but should not.

Errors (non-zero exit): anything that stops loading, and actions that match no
action the bot knows. Warnings: allows that a deny always overrides, roles
nobody holds or that grant nothing, duplicated lines, suspicious spellings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .actions import KNOWN_ACTIONS, SENSITIVE_BOT_ACTIONS, canonical
from .arn import account_segment
from .casbin_model import load_model
from .engine import MODEL_FILE, POLICY_FILE, read_text
from .errors import PolicyError
from .matching import covers, wildcard_match
from .parsing import parse_policy
from .roles import RoleGraph
from .rules import ANYONE, GROUP_PREFIX, ROLE_PREFIX, SLACK_USER, Rule, subject_kind

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One lint result, printed as ``path:line: severity: code: message``."""

    severity: Severity
    code: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.severity}: {self.code}: {self.message}"


def lint_dir(path: Path, *, account_id: str = "*") -> list[Finding]:
    """Lint ``path/model.conf`` and ``path/policy.csv``."""
    model_path, policy_path = Path(path) / MODEL_FILE, Path(path) / POLICY_FILE
    try:
        model_text, policy_text = read_text(model_path), read_text(policy_path)
    except PolicyError as exc:
        return [Finding("error", "unreadable", exc.path, exc.line, exc.message)]
    return lint_text(model_text, policy_text, source=str(policy_path),
                     model_source=str(model_path), account_id=account_id)


def lint_text(model_text: str, policy_text: str, *, source: str = POLICY_FILE,
              model_source: str = MODEL_FILE, account_id: str = "*") -> list[Finding]:
    """Every finding, errors first within file order."""
    findings: list[Finding] = []
    try:
        load_model(model_text, model_source)
    except PolicyError as exc:
        findings.append(Finding("error", "model", exc.path, exc.line, exc.message))
    parsed = parse_policy(policy_text, source)
    findings += [Finding("error", "syntax", source, line, message)
                 for line, message in parsed.problems]
    graph: RoleGraph | None
    try:
        graph = RoleGraph(parsed.grants, source)
    except PolicyError as exc:
        findings.append(Finding("error", "roles", source, exc.line, exc.message))
        graph = None
    rules = parsed.rules
    findings += _actions(rules)
    findings += _resources(rules, account_id)
    findings += _duplicates(parsed.rules, parsed.grants)
    findings += _subjects(rules, parsed.grants)
    if graph is not None:
        findings += _shadowed(rules, graph)
        findings += _roles(rules, graph, source)
    order = {"error": 0, "warning": 1}
    return sorted(findings, key=lambda f: (order[f.severity], f.line or 0, f.code))


def _actions(rules: list[Rule]) -> list[Finding]:
    found = []
    known = [action.lower() for action in KNOWN_ACTIONS]
    for rule in rules:
        pattern = rule.action.lower()
        if not any(wildcard_match(pattern, action) for action in known):
            found.append(Finding("error", "unknown-action", rule.path, rule.line,
                                 f"{rule.action} matches no action the bot knows"))
        elif "*" not in rule.action and canonical(rule.action) != rule.action:
            found.append(Finding("warning", "action-spelling", rule.path, rule.line,
                                 f"{rule.action} is spelled {canonical(rule.action)}"))
        if rule.effect == "allow" and "*" in rule.action:
            granted = [a for a in SENSITIVE_BOT_ACTIONS if wildcard_match(pattern, a.lower())]
            if granted:
                found.append(Finding("warning", "wildcard-grants-bot-power", rule.path, rule.line,
                                     f"{rule.action} also grants {' and '.join(granted)}: name the actions "
                                     "you mean, or confirm this subject may approve"))
    return found


def _resources(rules: list[Rule], account_id: str) -> list[Finding]:
    found = []
    for rule in rules:
        if rule.resource != rule.resource.lower():
            found.append(Finding(
                "warning", "arn-case", rule.path, rule.line,
                f"{rule.resource} has capitals: regions and instance IDs are lower case "
                "and resource matching is case-sensitive"))
        account = account_segment(rule.resource)
        if account_id == "*" and account is not None and "*" not in account:
            found.append(Finding(
                "warning", "arn-account", rule.path, rule.line,
                f"{rule.resource} names account {account}, but RDSBOT_ACCOUNT_ID is unset, "
                "so request ARNs carry '*' and this line never matches"))
    return found


def _duplicates(rules: list[Rule], grants: list) -> list[Finding]:
    found = []
    seen: dict[tuple, int] = {}
    for rule in rules:
        key = ("p", rule.subject, rule.action.lower(), rule.resource, rule.effect,
               tuple(sorted(c.text for c in rule.conditions)))
        if key in seen:
            found.append(Finding("warning", "duplicate", rule.path, rule.line,
                                 f"same rule as line {seen[key]}"))
        else:
            seen[key] = rule.line
    for grant in grants:
        key = ("g", grant.member, grant.role)
        if key in seen:
            found.append(Finding("warning", "duplicate", grant.path, grant.line,
                                 f"same grant as line {seen[key]}"))
        else:
            seen[key] = grant.line
    return found


def _subjects(rules: list[Rule], grants: list) -> list[Finding]:
    found = []
    lines = [(r.subject, r.path, r.line) for r in rules] + [
        (g.member, g.path, g.line) for g in grants]
    for subject, path, line in lines:
        if subject_kind(subject) == "user" and not SLACK_USER.fullmatch(subject):
            found.append(Finding("warning", "user-id", path, line,
                                 f"{subject} does not look like a Slack user ID (U0123ABC)"))
        if subject.startswith(GROUP_PREFIX) and not subject[len(GROUP_PREFIX):].startswith("S"):
            found.append(Finding("warning", "usergroup-id", path, line,
                                 f"{subject}: Slack user group IDs start with S"))
    return found


def _shadowed(rules: list[Rule], graph: RoleGraph) -> list[Finding]:
    """Allows that some unconditional (or less conditional) deny always overrides."""
    found = []
    denies = [rule for rule in rules if rule.effect == "deny"]
    for allow in (rule for rule in rules if rule.effect == "allow"):
        applies_to = {allow.subject, ANYONE} | set(graph.roles_of(allow.subject))
        if allow.subject == ANYONE:
            applies_to = {ANYONE}
        allow_conditions = {c.text for c in allow.conditions}
        for deny in denies:
            if (deny.subject in applies_to
                    and covers(deny.action.lower(), allow.action.lower())
                    and covers(deny.resource, allow.resource)
                    and {c.text for c in deny.conditions} <= allow_conditions):
                found.append(Finding(
                    "warning", "shadowed-allow", allow.path, allow.line,
                    f"never takes effect: every request it allows is denied by "
                    f"line {deny.line} ({deny.text})"))
                break
    return found


def _roles(rules: list[Rule], graph: RoleGraph, source: str) -> list[Finding]:
    found = []
    granted = {rule.subject for rule in rules}
    first_line: dict[str, int] = {}
    for grant in sorted(graph.grants, key=lambda g: g.line):
        first_line.setdefault(grant.member, grant.line)
        first_line.setdefault(grant.role, grant.line)
    for rule in rules:
        first_line.setdefault(rule.subject, rule.line)
    for role in sorted(name for name in first_line if name.startswith(ROLE_PREFIX)):
        holders = [m for m in graph.members_of(role) if not m.startswith(ROLE_PREFIX)]
        if not holders:
            found.append(Finding("warning", "role-unassigned", source, first_line[role],
                                 f"{role} is held by no user or user group"))
        elif not ({role} | graph.roles_of(role)) & granted:
            found.append(Finding("warning", "role-grants-nothing", source, first_line[role],
                                 f"{role} is assigned but no line grants or denies it anything"))
    return found
