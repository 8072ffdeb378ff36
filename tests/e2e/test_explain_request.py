"""`rdsbot policy explain --op …`: every resource of a request, read from RDS like the bot reads it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox.stack import Emulators, bot_env
from tests.e2e.flows_ops import MSSQL_PROD, MSSQL_QA, MYSQL_DEV, MYSQL_PROD

runner = CliRunner()


def _run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["policy", "explain", *args], env=env)


def test_a_copy_is_explained_for_its_source_and_target_with_tags_from_rds(emulators: Emulators, tmp_path: Path,
                                                                         policy_dir: Path) -> None:
    env = bot_env(emulators, database_url=f"sqlite:///{tmp_path / 'x.db'}", policy_dir=policy_dir)
    result = _run(env, "U0ALICE", "--op", "copy", "--param", f"DBInstanceId={MSSQL_PROD}",
                  "--param", f"TargetDBInstanceId={MSSQL_QA}", "--policy-dir", str(policy_dir))
    assert result.exit_code == 1, result.output
    out = result.output
    assert f"== source: acs:rds:cn-hangzhou:*:dbinstance/{MSSQL_PROD}" in out and "env=prod" in out
    assert f"== target: acs:rds:cn-hangzhou:*:dbinstance/{MSSQL_QA}" in out and "env=qa" in out
    assert "request: deny" in out and "approval: 1 approver" in out


def test_offline_tags_can_name_one_instance(policy_dir: Path) -> None:
    result = _run({"RDSBOT_REGION_ID": "cn-hangzhou"}, "U0ALICE", "--op", "restore", "--offline",
                  "--param", f"DBInstanceId={MYSQL_DEV}", "--param", f"SourceDBInstanceName={MYSQL_PROD}",
                  "--param", "SourceRegion=cn-hangzhou", "--tag", f"{MYSQL_DEV}:env=dev",
                  "--tag", f"{MYSQL_PROD}:env=prod", "--policy-dir", str(policy_dir))
    assert result.exit_code == 1, result.output
    target, source = result.output.split("== source:")
    assert "(tags: env=dev)" in target and "allow: U0ALICE may" in target
    assert "(tags: env=prod)" in source and "explicitly denied by" in source
    # A waiver for dev targets does not waive what the production source needs.
    assert "approval: 1 approver" in result.output


def test_the_single_arn_form_still_works(policy_dir: Path) -> None:
    result = _run({}, "U0BOB", "rdsbot:Approve", f"acs:rds:cn-hangzhou:*:dbinstance/{MYSQL_PROD}",
                  "--tag", "env=prod", "--policy-dir", str(policy_dir))
    assert result.exit_code == 0 and result.output.startswith("allow:"), result.output
