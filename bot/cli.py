"""The ``rdsbot`` command line.

Heavy imports (the RDS SDK, Bolt) happen inside the commands that need them,
so ``rdsbot --help`` and the audit/policy tools start in a fraction of a second.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot import freeze_cli
from bot.policy import cli as policy_cli
from bot.request_explain import explain as explain_command

# `rdsbot policy`: the policy package's commands (check, lint, test, who-can) and `explain`,
# which can take a whole request (--op) and so lives outside the policy package.
policy_app = typer.Typer(help="Check, explain, lint and test the access policy.", no_args_is_help=True)
# `check` and `lint` come from bot.freeze_cli instead: they add change freezes (freeze.toml), which
# live in the workflow and so cannot be read from inside the policy package.
policy_app.registered_commands = [c for c in policy_cli.app.registered_commands
                                  if getattr(c.callback, "__name__", "") not in {"check", "lint"}]
policy_app.command("check")(freeze_cli.check)
policy_app.command("lint")(freeze_cli.lint)
policy_app.command("explain")(explain_command)

app = typer.Typer(help="rdsbot: ApsaraDB RDS operations from Slack, behind policy and approval.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The state and audit database.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(policy_app, name="policy", help="Check, explain, lint and test the access policy.")


def _settings():  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from bot.config import load_settings

    try:
        return load_settings()
    except ValidationError as error:
        typer.echo(f"configuration error: {error}", err=True)
        raise typer.Exit(2) from None


def _migrated_db():  # type: ignore[no-untyped-def]
    """The database, or a clear exit when its schema is missing or old."""
    from bot.store import migrate
    from bot.store.db import Database, redact_url

    settings = _settings()
    if settings.database_url.startswith("sqlite:///") and not Path(settings.database_url[len("sqlite:///"):]).exists():
        typer.echo(f"no database at {settings.database_url}; set RDSBOT_DATABASE_URL", err=True)
        raise typer.Exit(2)
    db = Database(settings.database_url)
    if not migrate.is_current(db):
        typer.echo(f"{redact_url(db.url)} is not at the newest schema: run `rdsbot db upgrade`", err=True)
        raise typer.Exit(2)
    return db


@app.command()
def serve() -> None:
    """Run the bot (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set)."""
    from bot import logs
    from bot.app import StartupError, build_runtime

    settings = _settings()
    logs.setup(settings.log_level, settings.log_format)
    try:
        runtime = build_runtime(settings)
    except StartupError as error:
        typer.echo(f"rdsbot cannot start: {error}", err=True)
        raise typer.Exit(2) from None
    host, port = runtime.listen()
    runtime.start()
    def _stop(*_: object) -> None:
        runtime.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if settings.slack_app_token is not None:
        from bot.slack.socket_mode import connect_socket_mode

        # Held in this frame while the bot serves.
        handler = connect_socket_mode(runtime.bolt, settings.slack_app_token.get_secret_value())  # noqa: F841
        typer.echo(f"rdsbot: Socket Mode connected; health on http://{host}:{port}/healthz", err=True)
    else:
        typer.echo(f"rdsbot: listening on http://{host}:{port}/slack/events", err=True)
    runtime.serve_forever()


@app.command()
def sandbox(
    keep_running: Annotated[bool, typer.Option("--keep-running", help="Leave the bot and emulators up after the demo.")] = False,
    speed: Annotated[float, typer.Option(help="Emulated job durations in seconds.")] = 5.0,
    only: Annotated[list[str] | None, typer.Option("--only", help="Chapters to play: clone, backup, copy, restore, remind.")] = None,
) -> None:
    """The bot, an RDS emulator and a Slack emulator, with seeded data: watch every operation end to end."""
    from bot.sandbox.demo import CHAPTERS, run_demo

    unknown = [c for c in only or [] if c not in CHAPTERS]
    if unknown:
        typer.echo(f"unknown chapter(s) {', '.join(unknown)}; choose from {', '.join(CHAPTERS)}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(run_demo(keep_running=keep_running, job_seconds=speed, chapters=only or None))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or upgrade the schema (safe to run from several replicas at once)."""
    from bot.store import migrate
    from bot.store.db import Database, redact_url

    settings = _settings()
    db = Database(settings.database_url)
    before, after = migrate.upgrade(db, revision)
    typer.echo(f"{redact_url(db.url)}: {before or 'empty'} -> {after}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision and whether it is the newest."""
    from bot.store import migrate
    from bot.store.db import Database

    db = Database(_settings().database_url)
    current = migrate.current_revision(db)
    head = migrate.head_revision()
    typer.echo(f"{current or 'empty'} (newest: {head})")
    raise typer.Exit(0 if current == head else 1)


@audit_app.command("export")
def audit_export(
    request_id: Annotated[str | None, typer.Option("--request", help="Only this request's events.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """The audit trail as JSON Lines, oldest first."""
    from bot.store import audit

    db = _migrated_db()
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        with db.reader() as session:
            for row in audit.events(session, request_id=request_id):
                out.write(json.dumps(audit.export_record(row), ensure_ascii=False, default=str) + "\n")
    finally:
        if output:
            out.close()


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[list[str] | None, typer.Option(
        "--anchor", help="SEQ:HASH printed by an earlier verify and kept elsewhere; the trail must still hold "
                         "that event unchanged (catches truncation and wholesale rewrites). Repeatable.")] = None,
) -> None:
    """Exit 0 only when the hash chain is intact; otherwise name the first bad event."""
    from bot.store import audit

    try:
        anchors = [audit.parse_anchor(text) for text in anchor or []]
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    db = _migrated_db()
    with db.reader() as session:
        result = audit.verify(session, anchors)
    if result.ok:
        checked = f", {len(anchors)} anchor(s) match" if anchors else ""
        typer.echo(f"ok: {result.count} events, chain intact{checked}")
        if result.count:
            typer.echo(f"anchor: {result.anchor}")
        return
    typer.echo(f"BROKEN at event {result.bad_seq}: {result.reason} ({result.count} events verified before it)", err=True)
    raise typer.Exit(1)


@app.command("plan")
def plan_command(
    operation: Annotated[str, typer.Argument(help="clone, copy, restore or backup.")],
    param: Annotated[list[str] | None, typer.Option("--param", help="A form field Name=value (the API "
                                                                    "parameter; repeat).")] = None,
    user: Annotated[list[str] | None, typer.Option("--user", help="Slack user ID whose request it would be "
                                                                  "(repeat for several).")] = None,
) -> None:
    """A dry run: validate and decide a request like the bot would, send nothing; exit 0 would go
    through, 1 denied, 2 bad input. Audited as one `dry-…` event per person."""
    from bot.plan import EXIT_BAD_INPUT, run_plan
    from bot.request_explain import _params

    try:
        params = _params(param)
    except typer.BadParameter as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    raise typer.Exit(run_plan(_settings(), _migrated_db(), operation, params, user or [], typer.echo))


@app.command("ram-policy")
def ram_policy_command(
    role_arn: Annotated[str | None, typer.Option("--role-arn", help="The role each request's calls use "
                                                 "(default RDSBOT_RAM_ROLE_ARN).")] = None,
) -> None:
    """The least-privilege RAM policy the bot's own AccessKey needs; with a role (RDSBOT_RAM_ROLE_ARN or
    --role-arn), also the role's trust and permission policies, and the bot's key keeps only the reads."""
    from bot import operations
    from bot.policy import ram_policy
    from bot.policy.ram_role import role_policies

    settings = _settings()
    role_arn = role_arn or settings.ram_role_arn
    if not role_arn:
        typer.echo(json.dumps(ram_policy(operations.ram_actions(), account=settings.account_id), indent=2))
        return
    mutating = [op.ram_action for op in operations.REGISTRY.values()]
    try:
        document = role_policies(role_arn, mutating, operations.ram_actions(), account=settings.account_id)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(document, indent=2))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
