"""`rdsbot serve` as a real process with the environment contract, and `rdsbot --help`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from bot.sandbox.stack import Emulators, bot_env, wait_healthy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_binds_the_configured_port_and_reports_healthy(emulators: Emulators, database_url: str, policy_dir: Path) -> None:
    port = _free_port()
    env = {**os.environ, **bot_env(emulators, database_url=database_url, policy_dir=policy_dir, port=port)}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout_s=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:  # noqa: S310
            assert r.status == 200 and json.loads(r.read())["ok"] is True
    finally:
        process.terminate()
        _, err = process.communicate(timeout=15)
    assert process.returncode in (0, -15), err.decode()[-2000:]
    assert emulators.access_key_secret not in err.decode() and emulators.signing_secret not in err.decode()


def test_serve_refuses_to_start_without_required_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RDSBOT_"))}
    env["RDSBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert b"SLACK_BOT_TOKEN" in done.stderr and b"RDSBOT_APPROVAL_CHANNEL" in done.stderr


HEAVY = ("alibabacloud_", "Tea", "darabonba", "slack_bolt", "slack_sdk", "casbin", "rich")


def test_help_imports_no_sdk_bolt_casbin_nor_rich() -> None:
    # What keeps `--help` fast is what it does not import (the SDK, Bolt, casbin, Rich's help
    # formatter); how fast it is belongs in benchmarks/.
    code = ("import sys\nfrom bot.cli import main\nsys.argv = ['rdsbot', '--help']\n"
            "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
            f"print('MODULES', sorted(m for m in sys.modules if m.split('.')[0].startswith({HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "policy" in done.stdout and "Check, explain, lint and test the access policy." in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "MODULES []"


def test_policy_group_is_built_when_used() -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    listed = CliRunner().invoke(app, ["policy", "--help"])
    assert listed.exit_code == 0, listed.output
    for command in ("check", "explain", "lint", "test", "who-can"):
        assert f"  {command} " in listed.output
    checked = CliRunner().invoke(app, ["policy", "check", "U0BOB", "rdsbot:Approve",
                                       "acs:rds:cn-hangzhou:*:dbinstance/rm-1", "--tag", "env=prod",
                                       "--policy-dir", str(Path(__file__).resolve().parents[2] / "policies")])
    assert checked.exit_code in (0, 1) and checked.output.split()[0] in ("allow:", "deny:"), checked.output
