"""``rdsbot policy ...`` through typer's CliRunner: output and exit codes."""

from __future__ import annotations

import json

import pytest
from typer import Typer
from typer.testing import CliRunner

from bot.policy.cli import app, ram_policy_command

from .conftest import POLICY_DIR, arn

runner = CliRunner()
ENV = {"RDSBOT_POLICY_DIR": str(POLICY_DIR)}


def run(*args: str, env: dict[str, str] | None = None):
    if args and args[0] == "explain":  # explain is mounted by the main CLI (it can take a whole request)
        from bot.cli import app as main_app

        return runner.invoke(main_app, ["policy", *args], env=env if env is not None else ENV)
    return runner.invoke(app, list(args), env=env if env is not None else ENV)


def test_check_allow_exits_zero_and_starts_with_allow():
    result = run("check", "U0BOB", "rdsbot:Approve", arn("rm-prod1"), "--tag", "env=prod")
    assert result.exit_code == 0, result.output
    assert result.output.split()[0] == "allow:"
    assert "policies/policy.csv:" in result.output and "role:dba" in result.output
    assert "policy version:" in result.output


def test_check_deny_exits_one_and_names_the_deny():
    result = run("check", "U0DAVE", "rds:CloneDBInstance", arn(), "--tag", "env=dev")
    assert result.exit_code == 1
    assert result.output.startswith("deny")
    assert "explicitly denied by" in result.output and "rds:Clone*" in result.output


def test_check_default_deny_and_unknown_tags():
    result = run("check", "U0ALICE", "rds:CreateBackup", arn())
    assert result.exit_code == 1
    assert result.output.startswith("deny: no rule allows rds:CreateBackup")
    assert "tags are unknown" in result.output
    known = run("check", "U0ALICE", "rds:CreateBackup", arn(), "--no-tags")
    assert known.exit_code == 0


def test_check_with_group():
    result = run("check", "U0FRANK", "rdsbot:Approve", arn(), "--group", "S0DBA")
    assert result.exit_code == 0 and "usergroup:S0DBA" in result.output
    assert run("check", "U0FRANK", "rdsbot:Approve", arn()).exit_code == 1


@pytest.mark.parametrize("args", [
    ("check", "U0A", "CreateBackup", arn()),
    ("check", "U0A", "rds:CreateBackup", arn(), "--tag", "novalue"),
    ("check", "U0A", "rds:CreateBackup", arn(), "--tag", "a=b", "--no-tags"),
])
def test_bad_input_exits_two(args):
    assert run(*args).exit_code == 2


def test_broken_policy_exits_two(policy_dir):
    folder = policy_dir("p, U0A, rds:CreateBackup, *, allow\np, U0A, oops\n")
    result = run("check", "U0A", "rds:CreateBackup", arn(), env={"RDSBOT_POLICY_DIR": str(folder)})
    assert result.exit_code == 2
    assert f"{folder / 'policy.csv'}:2" in result.output


def test_policy_dir_option_beats_environment(policy_dir):
    folder = policy_dir("p, U0A, rds:CreateBackup, *, allow\n")
    result = run("check", "U0A", "rds:CreateBackup", arn(), "--policy-dir", str(folder))
    assert result.exit_code == 0


def test_explain_lists_roles_and_every_line_considered():
    result = run("explain", "U0DAVE", "rds:CreateBackup", arn(), "--tag", "env=dev",
                 "--group", "S0ONCALL")
    assert result.exit_code == 1
    out = result.output
    assert out.startswith("deny")
    assert "roles: role:intern, role:oncall, role:reader" in out
    assert "APPLIES" in out and "<- decided" in out
    assert "U0DAVE > usergroup:S0ONCALL > role:oncall" in out
    assert "held by other subjects" in out


def test_explain_shows_lines_that_did_not_apply():
    result = run("explain", "U0ALICE", "rds:CreateBackup", arn(), "--tag", "env=prod")
    assert result.exit_code == 1
    assert "no      " in result.output and "not met" in result.output


def test_lint_clean_and_dirty(policy_dir):
    assert run("lint").exit_code == 0
    folder = policy_dir("g, U0A, role:x\np, role:x, rds:Bogus, *, allow\n")
    result = run("lint", env={"RDSBOT_POLICY_DIR": str(folder)})
    assert result.exit_code == 1 and "unknown-action" in result.output
    warn_only = policy_dir("g, U0A, role:x\np, role:x, rds:createbackup, *, allow\n")
    result = run("lint", env={"RDSBOT_POLICY_DIR": str(warn_only)})
    assert result.exit_code == 0 and "action-spelling" in result.output


def test_test_command(tmp_path):
    table = POLICY_DIR / "policy_tests.csv"
    assert run("test", str(table)).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("U0BOB, rdsbot:Approve, acs:rds:cn-hangzhou:*:dbinstance/x, deny, -\n",
                   encoding="utf-8")
    result = run("test", str(bad))
    assert result.exit_code == 1 and "expected deny, got allow" in result.output
    assert run("test", str(tmp_path / "missing.csv")).exit_code == 2


def test_ram_policy_command_mounts_and_prints_json():
    outer = Typer()
    outer.command("ram-policy")(ram_policy_command)
    outer.command("noop")(lambda: None)
    result = runner.invoke(outer, ["ram-policy", "--account", "1234"], env={})
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["Version"] == "1"
    assert "acs:rds:*:1234:dbinstance/*" in document["Statement"][0]["Resource"]
    assert runner.invoke(outer, ["ram-policy", "--action", "rdsbot:Approve"]).exit_code == 2
