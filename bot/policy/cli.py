"""``rdsbot policy ...``: check, lint, test and who-can from a shell.

``explain`` lives in :mod:`bot.request_explain` (mounted beside these by ``bot.cli``):
it can explain a whole request, which needs the operations and RDS.

The main CLI mounts ``app`` as ``rdsbot policy`` and may register
``ram_policy_command`` as ``rdsbot ram-policy``. The policy folder comes from
``--policy-dir``, else RDSBOT_POLICY_DIR, else ``policies``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from . import tools
from .table import parse_tags

app = typer.Typer(help="Check, explain, lint and test the access policy.", no_args_is_help=True)

PolicyDir = Annotated[Path, typer.Option(
    "--policy-dir", envvar="RDSBOT_POLICY_DIR",
    help="Folder holding model.conf and policy.csv.")]
Tags = Annotated[list[str] | None, typer.Option(
    "--tag", help="An instance tag key=value (repeat). Without --tag or --no-tags the "
    "tags are unknown: tag-conditioned denies apply, tag-conditioned allows do not.")]
NoTags = Annotated[bool, typer.Option(
    "--no-tags", help="The instance is known to have no tags.")]
Groups = Annotated[list[str] | None, typer.Option(
    "--group", help="A Slack user group of the user, S0123 (repeat).")]


def _tags(tag: list[str] | None, no_tags: bool) -> dict[str, str] | None:
    if tag and no_tags:
        raise typer.BadParameter("--tag and --no-tags exclude each other")
    if no_tags:
        return {}
    if not tag:
        return None
    try:
        return parse_tags(" & ".join(tag)) or {}
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--tag") from exc


def _finish(result: tools.ToolResult) -> None:
    typer.echo(result.output)
    raise typer.Exit(result.exit_code)


@app.command()
def check(
    user: Annotated[str, typer.Argument(help="Slack user ID, e.g. U0ALICE.")],
    action: Annotated[str, typer.Argument(help="e.g. rds:CloneDBInstance.")],
    resource: Annotated[str, typer.Argument(
        help="Instance ARN, acs:rds:<region>:<account>:dbinstance/<id>.")],
    tag: Tags = None,
    no_tags: NoTags = False,
    group: Groups = None,
    policy_dir: PolicyDir = Path("policies"),
) -> None:
    """Print allow or deny, the deciding rule and the policy version (exit 0/1, 2 on error)."""
    _finish(tools.check(policy_dir, user, action, resource, tags=_tags(tag, no_tags),
                        groups=group or ()))


@app.command("who-can")
def who_can(
    action: Annotated[str, typer.Argument(help="e.g. rdsbot:Approve.")],
    resource: Annotated[str, typer.Argument(help="Instance ARN.")],
    tag: Tags = None,
    no_tags: NoTags = False,
    policy_dir: PolicyDir = Path("policies"),
) -> None:
    """Every user and user group allowed, each with its rule (exit 0; 1 when nobody is; offline:
    user groups are not expanded into their members)."""
    _finish(tools.who_can(policy_dir, action, resource, tags=_tags(tag, no_tags)))


@app.command()
def lint(policy_dir: PolicyDir = Path("policies")) -> None:
    """Report unknown actions, bad ARNs, shadowed allows and idle roles (exit 1 on errors)."""
    _finish(tools.lint(policy_dir, account_id=os.environ.get("RDSBOT_ACCOUNT_ID", "*")))


@app.command("test")
def test_table(
    table: Annotated[Path, typer.Argument(help="Expected-decision table, e.g. "
                                               "policies/policy_tests.csv.")],
    policy_dir: PolicyDir = Path("policies"),
) -> None:
    """Run a table of expected decisions; print mismatches (exit 1 on any)."""
    _finish(tools.run_table(policy_dir, table))


def ram_policy_command(
    action: Annotated[list[str] | None, typer.Option(
        "--action", help="RDS action or pattern (repeat); default: every action the bot calls.")]
    = None,
    region: Annotated[str, typer.Option(help="Region in the instance ARN.")] = "*",
    account: Annotated[str, typer.Option(envvar="RDSBOT_ACCOUNT_ID",
                                         help="Account in the instance ARN.")] = "*",
) -> None:
    """Print a least-privilege RAM policy for the bot's own AccessKey."""
    try:
        document = tools.ram_policy(action or tools.BOT_RDS_ACTIONS, region=region,
                                    account=account)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--action") from exc
    typer.echo(json.dumps(document, indent=2))
