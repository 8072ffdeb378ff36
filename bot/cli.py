"""The ``rdsbot`` command line.

Heavy imports (the RDS SDK, Bolt) happen inside the commands that need them,
so ``rdsbot --help`` and the audit/policy tools start in a fraction of a second.
``rdsbot policy`` is built only when it is run or asked for its own help: its
commands import casbin and the workflow's freezes and accounts just to be
declared. Help is plain text (``rich_markup_mode=None``): Rich's formatter alone
costs more to import than everything else ``--help`` needs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

POLICY_HELP = "Check, explain, lint and test the access policy."


def _policy_group() -> Any:
    """``rdsbot policy``: the policy package's commands (check, lint, test, who-can) and ``explain``,
    which can take a whole request (--op) and so lives outside the policy package."""
    from bot import freeze_cli
    from bot.policy import cli as policy_cli
    from bot.request_explain import explain as explain_command

    policy_app = typer.Typer(help=POLICY_HELP, no_args_is_help=True, rich_markup_mode=None, add_completion=False)
    # `check` and `lint` come from bot.freeze_cli instead: they add change freezes (freeze.toml), which
    # live in the workflow and so cannot be read from inside the policy package.
    policy_app.registered_commands = [c for c in policy_cli.app.registered_commands
                                      if getattr(c.callback, "__name__", "") not in {"check", "lint"}]
    policy_app.command("check")(freeze_cli.check)
    policy_app.command("lint")(freeze_cli.lint)
    policy_app.command("explain")(explain_command)
    group = typer.main.get_command(policy_app)
    group.name = "policy"
    return group


class _LazyGroups(TyperGroup):
    """The top-level group, with sub-groups built from a factory when first resolved.

    Listing them in ``rdsbot --help`` reads only their one-line help, so a placeholder says it
    and nothing is imported."""

    lazy: dict[str, tuple[str, Any]] = {"policy": (POLICY_HELP, _policy_group)}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        help_text, build = self.lazy[cmd_name]
        if self._listing:
            return TyperCommand(cmd_name, help=help_text)
        self.commands[cmd_name] = build()
        return self.commands[cmd_name]

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(help="rdsbot: ApsaraDB RDS operations from Slack, behind policy and approval.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None, cls=_LazyGroups)
db_app = typer.Typer(help="The state and audit database.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")


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


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Two malloc arenas for the whole process, as ``MALLOC_ARENA_MAX=2`` would (which still wins when set).

    glibc gives threads that allocate at once arenas of their own, up to eight per core, and an arena
    keeps what its threads freed. With the bot's ~40 threads (the HTTP server's, the listener pool, the
    jobs) that was 15 MB more resident memory within the first few hundred requests, for nothing: Python
    allocates small objects itself, one thread at a time, so the arenas are rarely contended.
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc (musl, say): there are no per-thread arenas to limit
    m_arena_max = -8  # from glibc's <malloc.h>
    libc.mallopt(m_arena_max, arenas)


@app.command()
def serve() -> None:
    """Run the bot (HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set)."""
    _limit_malloc_arenas()
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
    web: Annotated[bool, typer.Option("--web", help="Serve the sandbox in a browser instead (as `rdsbot playground`).")] = False,
) -> None:
    """The bot, an RDS emulator and a Slack emulator, with seeded data: watch every operation end to end."""
    if web:
        playground(speed=speed)
        return
    from bot.sandbox.demo import CHAPTERS, run_demo

    unknown = [c for c in only or [] if c not in CHAPTERS]
    if unknown:
        typer.echo(f"unknown chapter(s) {', '.join(unknown)}; choose from {', '.join(CHAPTERS)}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(run_demo(keep_running=keep_running, job_seconds=speed, chapters=only or None))


@app.command()
def playground(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: only this machine).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the page.")] = 8000,
    speed: Annotated[float, typer.Option(help="Emulated job durations in seconds.")] = 5.0,
) -> None:
    """The sandbox in your browser, as Slack shows it: type /rds, fill the forms, approve as someone else."""
    from bot.sandbox.playground import run

    raise typer.Exit(run(host=host, port=port, job_seconds=speed))


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
