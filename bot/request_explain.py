"""``rdsbot policy explain``: one policy question, or every resource of a whole request.

``--op copy --param DBInstanceId=… --param TargetDBInstanceId=…`` names the
operation and its parameters; every instance the request would touch (a copy's
source and target, a point-in-time restore's source) is then explained in turn,
with its region and tags read from RDS like the bot reads them, or taken from
``--tag`` with ``--offline``. The approval rule in force for the whole request
closes the answer. Without ``--op`` it explains one ARN, as ``rdsbot policy
check`` decides it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from bot.policy import PolicyEngine, PolicyError, instance_arn, tools
from bot.policy.cli import Groups, NoTags, PolicyDir, Tags, _tags
from bot.policy.explain import trace


@dataclass(frozen=True)
class Named:
    """One instance a request names: its role, ID, region and tags (None: unknown), and the ID of the
    account it was found in (with accounts.toml; None: RDSBOT_ACCOUNT_ID)."""

    role: str
    instance_id: str
    region: str
    tags: dict[str, str] | None
    account_id: str | None = None


def named_instances(op_name: str, params: Mapping[str, str], *, default_region: str) -> list[Named]:
    """The instances ``params`` name for operation ``op_name`` (tags unknown until looked up)."""
    from bot import operations  # here, not at import: `rdsbot --help` must stay quick

    op = operations.form(op_name)
    if op is None:
        raise ValueError(f"unknown operation {op_name!r} (one of {', '.join(operations.FORMS)})")
    found = []
    for role, param, region_param in op.meta.instances:
        instance_id = params.get(param)
        if instance_id:
            region = (params.get(region_param) if region_param else None) or params.get("RegionId") or default_region
            found.append(Named(role, instance_id, region, None))
    if not found:
        raise ValueError(f"{op_name} names its instances in {', '.join(p for _r, p, _g in op.meta.instances)}; "
                         "give them with --param")
    return found


def looked_up(instances: Sequence[Named], policy_dir: Path | None = None) -> list[Named]:
    """Region, tags and account of each instance as RDS reports them (the bot's own credentials, from the
    environment; every account of ``policy_dir``'s accounts.toml, like the bot)."""
    from bot.config import load_settings
    from bot.rds.errors import RdsError
    from bot.rds.estate import Estate
    from bot.rds.pool import Gateways
    from bot.workflow.accounts import load

    settings = load_settings()
    accounts = load(policy_dir or settings.policy_dir, settings)  # a broken file: ValueError, said as is
    directory = Estate(Gateways(settings, lambda: accounts))
    found = []
    for named in instances:
        try:
            info = directory.instance(named.instance_id, region=named.region, fresh=True)
        except RdsError as error:
            raise ValueError(f"{named.instance_id}: {error.plain()}") from None
        found.append(Named(named.role, info.id, info.region_id or named.region, info.tags,
                           accounts.account_id(info.account) if accounts.named else None))
    return found


def with_given_tags(instances: Sequence[Named], tags: list[str], no_tags: bool) -> list[Named]:
    """Offline tags: ``key=value`` for every instance, ``<instance-id>:key=value`` for one."""
    shared: list[str] = []
    own: dict[str, list[str]] = {}
    for item in tags:
        head, sep, rest = item.partition(":")
        if sep and "=" in rest and "=" not in head:
            own.setdefault(head, []).append(rest)
        else:
            shared.append(item)
    return [Named(n.role, n.instance_id, n.region, _tags(shared + own.get(n.instance_id, []) or None, no_tags))
            for n in instances]


def explain_request(policy_dir: Path, user: str, op_name: str, instances: Sequence[Named], *,
                    account: str, groups: Sequence[str] = ()) -> tools.ToolResult:
    """Every resource's decision for ``user``, the approval rule over all of them; exit 0 only if all allow."""
    from bot import operations
    from bot.workflow.approvals import ApprovalRules

    op = operations.form(op_name)
    assert op is not None
    try:
        engine = PolicyEngine.from_dir(policy_dir)
        rules = ApprovalRules.from_dir(policy_dir)
    except PolicyError as exc:
        return tools.ToolResult(f"error: {exc}", tools.EXIT_ERROR)
    out, allowed = [f"{op_name}: {op.ram_action} for {user} on {len(instances)} instance(s)"], True
    needed = []
    for named in instances:
        arn = instance_arn(named.region, named.account_id or account, named.instance_id)
        tags = "unknown" if named.tags is None else (", ".join(f"{k}={v}" for k, v in sorted(named.tags.items()))
                                                     or "none")
        out.append(f"\n== {named.role}: {arn} (tags: {tags})")
        result = trace(engine, user, op.ram_action, arn, tags=named.tags, groups=groups)
        allowed = allowed and result.decision.allowed
        out.append(result.render())
        if op.needs_approval:
            needed.append(rules.requirement(op.ram_action, arn, named.tags, role=named.role,
                                            floor=1 if op.approval == "always" else 0))
    out.append("")
    out.append(f"request: {'allow' if allowed else 'deny'} (every instance must allow)")
    if needed:
        best = max(needed, key=lambda r: (r.approvers, r.pool is not None))
        out.append(f"approval: {best.approvers} approver(s)" + (f" from {best.pool}" if best.pool else "")
                   + f", by {best.rule} (the strictest over every instance)")
    else:
        out.append("approval: none needed")
    return tools.ToolResult("\n".join(out), tools.EXIT_ALLOW if allowed else tools.EXIT_DENY)


def _params(pairs: list[str] | None) -> dict[str, str]:
    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not Name=value", param_hint="--param")
        params[key.strip()] = value.strip()
    return params


def explain(
    user: Annotated[str, typer.Argument(help="Slack user ID, e.g. U0ALICE.")],
    action: Annotated[str | None, typer.Argument(help="e.g. rds:CloneDBInstance (not with --op).")] = None,
    resource: Annotated[str | None, typer.Argument(help="Instance ARN (not with --op).")] = None,
    op: Annotated[str | None, typer.Option("--op", help="Explain a whole request of this operation: "
                                                        "clone, copy, restore, backup, backups.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="An API parameter Name=value of the "
                                                                    "request (repeat).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Do not ask RDS; tags from --tag, regions "
                                                            "from the parameters or RDSBOT_REGION_ID.")] = False,
    tag: Tags = None,
    no_tags: NoTags = False,
    group: Groups = None,
    policy_dir: PolicyDir = Path("policies"),
) -> None:
    """Like check, plus the user's roles and a verdict for every line considered; with --op, for every
    instance the request touches, and the approval rule in force."""
    if op is None:
        if action is None or resource is None:
            raise typer.BadParameter("give ACTION and RESOURCE, or --op with --param")
        result = tools.explain(policy_dir, user, action, resource, tags=_tags(tag, no_tags), groups=group or ())
    else:
        from bot.config import load_settings

        settings = load_settings()
        try:
            instances = named_instances(op, _params(param), default_region=settings.region_id)
            if offline:
                instances = with_given_tags(instances, tag or [], no_tags)
            else:
                instances = looked_up(instances, policy_dir)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(tools.EXIT_ERROR) from None
        result = explain_request(policy_dir, user, op, instances, account=settings.account_id, groups=group or ())
    typer.echo(result.output)
    raise typer.Exit(result.exit_code)
