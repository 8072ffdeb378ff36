"""Expected-decision tables (``rdsbot policy test FILE``): a policy's regression tests.

One case a line, fields separated by ``,``; ``#`` comments and blank lines are
ignored::

    <subject>, <action>, <resource>, <allow|deny>[, <tags>[, <groups>]]

``tags``: empty, omitted or ``?`` = unknown (the bot could not read them); ``-`` =
known, the instance has none; otherwise ``key=value`` pairs joined with ``&``.
``groups``: the user's Slack user group IDs, separated by spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .decision import Decision
from .engine import PolicyEngine, read_text
from .errors import PolicyError

UNKNOWN_TAGS = ("", "?")
NO_TAGS = "-"


class TableError(PolicyError):
    """A malformed expected-decision table (file and line)."""


@dataclass(frozen=True)
class Case:
    """One expected decision."""

    path: str
    line: int
    subject: str
    action: str
    resource: str
    expect: str
    tags: dict[str, str] | None
    groups: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Outcome:
    """A case and what the engine decided."""

    case: Case
    decision: Decision

    @property
    def ok(self) -> bool:
        return self.decision.effect == self.case.expect


def parse_table(text: str, source: str = "policy_tests.csv") -> list[Case]:
    """Read every case; raises TableError at the first malformed line."""
    cases = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [part.strip() for part in stripped.split(",")]
        if not 4 <= len(fields) <= 6:
            raise TableError(
                f"expected 4 to 6 fields (subject, action, resource, expect[, tags[, groups]]), "
                f"found {len(fields)}", path=source, line=number)
        subject, action, resource, expect = fields[:4]
        if expect.lower() not in ("allow", "deny"):
            raise TableError(f"expect must be allow or deny, got {expect!r}", path=source,
                             line=number)
        try:
            tags = parse_tags(fields[4] if len(fields) > 4 else "")
        except ValueError as exc:
            raise TableError(str(exc), path=source, line=number) from exc
        groups = tuple(fields[5].split()) if len(fields) > 5 else ()
        cases.append(Case(source, number, subject, action, resource, expect.lower(), tags,
                          groups))
    return cases


def parse_tags(text: str) -> dict[str, str] | None:
    """``?``/empty -> None (unknown), ``-`` -> {} (none), ``k=v & k2=v2`` -> dict."""
    text = text.strip()
    if text in UNKNOWN_TAGS:
        return None
    if text == NO_TAGS:
        return {}
    tags = {}
    for pair in (part.strip() for part in text.split("&")):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"tag {pair!r} must be key=value")
        tags[key.strip()] = value.strip()
    return tags


def run_cases(engine: PolicyEngine, cases: list[Case]) -> list[Outcome]:
    """Decide every case; a malformed request is a TableError naming its line."""
    outcomes = []
    for case in cases:
        try:
            decision = engine.decide(case.subject, case.action, case.resource, tags=case.tags,
                                     groups=case.groups)
        except ValueError as exc:
            raise TableError(f"bad request: {exc}", path=case.path, line=case.line) from exc
        outcomes.append(Outcome(case, decision))
    return outcomes


def run_file(engine: PolicyEngine, path: Path) -> list[Outcome]:
    """Parse and run the table in ``path``."""
    return run_cases(engine, parse_table(read_text(Path(path)), str(path)))
