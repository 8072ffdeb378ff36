"""``rdsbot policy check`` and ``rdsbot policy lint``, with change freezes (``freeze.toml``).

The policy package's own ``check`` and ``lint`` (:mod:`bot.policy.cli`) know only
``policy.csv``. Freezes live in the workflow (:mod:`bot.workflow.freezes`: they
are about *when* a request may be sent, and the policy package must never import
the workflow), so these wrappers, mounted by :mod:`bot.cli` in their place, add
them: ``check --at TIME`` answers ``deny`` when a window covers the action on the
instance at that moment, and ``lint`` also parses ``freeze.toml`` and ``accounts.toml``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.policy import tools
from bot.policy.actions import KNOWN_ACTIONS
from bot.policy.cli import Groups, NoTags, PolicyDir, Tags, _finish, _tags
from bot.policy.matching import compile_wildcard
from bot.rds.places import Accounts
from bot.workflow.freezes import FILE, FreezeError, Freezes

At = Annotated[str | None, typer.Option(
    "--at", help="Also apply change freezes (freeze.toml) at this moment: ISO 8601, e.g. 2026-12-24T10:00+08:00 "
                 "(no offset: UTC), or 'now'.")]


def _moment(text: str) -> datetime:
    if text.strip().lower() == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter("write a date and time like 2026-12-24T10:00+08:00", param_hint="--at") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check(
    user: Annotated[str, typer.Argument(help="Slack user ID, e.g. U0ALICE.")],
    action: Annotated[str, typer.Argument(help="e.g. rds:CloneDBInstance.")],
    resource: Annotated[str, typer.Argument(help="Instance ARN, acs:rds:<region>:<account>:dbinstance/<id>.")],
    tag: Tags = None,
    no_tags: NoTags = False,
    group: Groups = None,
    at: At = None,
    policy_dir: PolicyDir = Path("policies"),
) -> None:
    """Print allow or deny, the deciding rule and the policy version (exit 0/1, 2 on error); with --at, a change
    freeze in force at that moment turns an allow into a deny naming the window and its end."""
    tags = _tags(tag, no_tags)
    result = tools.check(policy_dir, user, action, resource, tags=tags, groups=group or ())
    if at is None or result.exit_code != 0:
        _finish(result)
    moment = _moment(at or "")
    try:
        frozen = Freezes.from_dir(policy_dir).frozen(action, [(resource, tags)], moment)
    except FreezeError as error:
        _finish(tools.ToolResult(f"error: {error}", 2))
        return
    if frozen is None:
        _finish(tools.ToolResult(f"{result.output}\nno change freeze at {moment.isoformat()}", 0))
        return
    _finish(tools.ToolResult(
        f"deny: change freeze {frozen.window!r} is in force at {moment.isoformat()} until {frozen.local_end()} "
        f"({FILE} {frozen.version}; rdsbot:BreakGlass waives it, with a review owed)\n"
        f"the policy alone: {result.output}", 1))


def lint(policy_dir: PolicyDir = Path("policies")) -> None:
    """Report unknown actions, bad ARNs, shadowed allows and idle roles, and check freeze.toml and
    accounts.toml (exit 1 on errors)."""
    account_lines, accounts = _accounts(policy_dir)
    # With accounts.toml every ARN carries an account ID, so lines naming accounts do match.
    account_id = accounts.default.account_id if accounts is not None else os.environ.get("RDSBOT_ACCOUNT_ID", "*")
    result = tools.lint(policy_dir, account_id=account_id)
    lines, code = [result.output, *account_lines], result.exit_code
    if account_lines and account_lines[0].startswith("error:"):
        code = 1
    try:
        freezes = Freezes.from_dir(policy_dir)
    except FreezeError as error:
        lines.append(f"error: {error}")
        code = 1
    else:
        for window in freezes.windows:
            for action in window.actions:
                if not any(compile_wildcard(action.lower())(known.lower()) for known in KNOWN_ACTIONS):
                    lines.append(f"warning: {FILE}: window {window.name!r}: action {action} matches no known action")
        if (Path(policy_dir) / FILE).exists():
            lines.append(f"{FILE}: {len(freezes.windows)} window(s), version {freezes.version}")
    _finish(tools.ToolResult("\n".join(line for line in lines if line), code))


def _accounts(policy_dir: Path) -> tuple[list[str], Accounts | None]:
    """accounts.toml checked: its lines for the report, and the accounts when it exists and parses."""
    from bot.config import load_settings
    from bot.workflow.accounts import FILE as ACCOUNTS_FILE
    from bot.workflow.accounts import AccountsError, load

    if not (Path(policy_dir) / ACCOUNTS_FILE).exists():
        return [], None
    try:
        accounts = load(Path(policy_dir), load_settings())
    except AccountsError as error:
        return [f"error: {error}"], None
    return [f"{ACCOUNTS_FILE}: {len(accounts.entries)} account(s) ({', '.join(a.alias for a in accounts.entries)}), "
            f"version {accounts.version}"], accounts
