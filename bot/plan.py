"""``rdsbot plan <operation> --param K=V ... --user U…``: a dry run from the command line.

The parameters are the operation's form (block_id = API parameter, as in the
modal), validated by the operation's own validator against the live estate
(the bot's own credentials, from the environment as for ``rdsbot serve``),
then decided and audited exactly like a dry run ticked in Slack
(:mod:`bot.workflow.dry_run`): nothing is sent to RDS, no request is made.
Exit 0 when every person's request would go through (possibly after
approval), 1 when one would be denied, 2 on bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.config import Settings
from bot.store.db import Database

EXIT_OK, EXIT_DENIED, EXIT_BAD_INPUT = 0, 1, 2
CLI_REASON = "planned with rdsbot plan"  # the form's reason when --param reason=… is not given


def as_form(op_name: str, params: Mapping[str, str]) -> dict[str, str | list[str] | None]:
    """The modal's form for ``params``: only the operation's own fields, a picker of databases as a list."""
    from bot import operations
    from bot.operations.base import FieldKind
    from bot.workflow import dry_run

    op = operations.get(op_name)
    if op is None:
        raise ValueError(f"unknown operation {op_name!r} (one of {', '.join(operations.REGISTRY)})")
    unknown = [name for name in params if not op.has_field(name)]
    if unknown:
        raise ValueError(f"{op_name} has no parameter {', '.join(unknown)} "
                         f"(it takes {', '.join(spec.name for spec in op.fields)})")
    form: dict[str, str | list[str] | None] = {"reason": CLI_REASON} if op.has_field("reason") else {}
    for name, value in params.items():
        many = op.field(name).kind is FieldKind.DATABASES
        form[name] = [v.strip() for v in value.split(",") if v.strip()] if many else value
    form[dry_run.FIELD] = dry_run.CHECKED
    return form


def run_plan(settings: Settings, db: Database, op_name: str, params: Mapping[str, str], users: Sequence[str],
             echo: Callable[[str], None]) -> int:
    """One audited dry run per person; the worst exit code of them."""
    from bot.operations.base import FieldErrors
    from bot.policy import PolicyStore
    from bot.rds.errors import RdsError
    from bot.rds.estate import Estate
    from bot.rds.pool import Gateways
    from bot.workflow.accounts import AccountsStore
    from bot.workflow import dry_run, intake
    from bot.workflow.approvals import ApprovalRulesStore
    from bot.workflow.deps import Deps
    from bot.workflow.freezes import FreezeStore

    try:
        form = as_form(op_name, params)
        policy, rules = PolicyStore(settings.policy_dir), ApprovalRulesStore(settings.policy_dir)
        freezes = FreezeStore(settings.policy_dir)  # a plan inside a change freeze says so (exit 1)
        accounts = AccountsStore(settings.policy_dir, settings)  # ARNs carry each account's ID
    except Exception as error:  # noqa: BLE001 - a bad operation, parameter or policy file: say which
        echo(f"error: {error}")
        return EXIT_BAD_INPUT
    if not users:
        echo("error: give --user U… (the person whose request this would be)")
        return EXIT_BAD_INPUT
    gateways = Gateways(settings, accounts.current)
    deps = Deps(settings=settings, db=db, policy=policy, gateway=gateways.at(gateways.default_place()),
                directory=Estate(gateways), rules=rules, freezes=freezes)
    worst = EXIT_OK
    for user in users:
        try:
            result = intake.submit(deps, op_name, user=user, channel="", form=form, via="cli")
        except FieldErrors as errors:
            echo("\n".join(f"error: {name}: {message}" for name, message in errors.errors.items()))
            return EXIT_BAD_INPUT
        except RdsError as error:
            echo(f"error: {error.plain()}")
            return EXIT_BAD_INPUT
        assert isinstance(result, dry_run.DryRun)
        echo("\n".join(dry_run.lines(result)))
        worst = max(worst, EXIT_OK if result.allowed else EXIT_DENIED)
    return worst
