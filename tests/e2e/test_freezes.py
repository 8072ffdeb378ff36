"""Issue 13: change freezes (policies/freeze.toml). Inside a window a new request is refused up front
with the window's name and end; one approved before the window is held, and sent when it ends, after
the whole decision is made again; `rdsbot policy check --at` and `policy lint` know the windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL
from bot.sandbox.stack import Stack
from bot.timeutil import CLOCK, utcnow
from tests.e2e.flows import PROD_MYSQL, approval_message, approve_fully, final_reply, request_clone
from tests.e2e.flows_ops import audit_ok, audit_rows, events, replies


def _freeze(policy_dir: Path, *, hours: float = 2.0, name: str = "payday") -> str:
    now = utcnow()
    start, end = (now - timedelta(minutes=5)).isoformat(), (now + timedelta(hours=hours)).isoformat()
    (policy_dir / "freeze.toml").write_text(
        f'[[window]]\nname = "{name}"\ntimezone = "UTC"\nstart = "{start}"\nend = "{end}"\n'
        f'actions = ["rds:CloneDBInstance"]\ntags = {{ env = "prod" }}\n', encoding="utf-8")
    return (now + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")


def _state(stack: Stack, request_id: str) -> str:
    request = stack.requests.get(request_id)
    assert request is not None
    return str(request.state)


def test_a_request_inside_a_freeze_is_refused_with_the_window_and_its_end(
        make_stack: Callable[..., Stack], policy_dir: Path) -> None:
    end = _freeze(policy_dir)
    stack = make_stack()
    _view, submitted = request_clone(stack)
    assert submitted.response_action == "errors", submitted.text
    error = (submitted.errors or {})["DBInstanceId"]
    assert "payday" in error and end in error, error
    stack.drain()
    assert stack.requests.recent(ALICE) == [] and stack.rds.calls_for("CloneDBInstance") == []
    [refused] = [e for e in audit_rows(stack) if e.event == "freeze_refused"]
    assert refused.actor == ALICE and refused.detail["freeze"]["window"] == "payday"
    assert audit_ok(stack)


def test_a_request_approved_before_a_freeze_is_held_until_it_ends_then_sent(
        make_stack: Callable[..., Stack], policy_dir: Path) -> None:
    stack = make_stack()
    _view, submitted = request_clone(stack)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    stack.drain()
    card = approval_message(stack)
    [request] = stack.requests.recent(ALICE)
    _freeze(policy_dir, hours=1)  # the window starts while the approvals are being collected
    approve_fully(stack, card)
    stack.drain()
    assert _state(stack, request.id) == "held"
    assert stack.rds.calls_for("CloneDBInstance") == [], "nothing is sent inside the window"
    thread = [m.get("text", "") for m in replies(stack, APPROVALS_CHANNEL, card["ts"])]
    assert any("Held" in t and "payday" in t for t in thread), thread
    card_now = stack.slack.wait_for_message(APPROVALS_CHANNEL, where=lambda m: m.get("ts") == card["ts"]
                                            and "held by a change freeze" in str(m.get("blocks")), timeout=10)
    assert card_now

    CLOCK.advance(600)
    stack.runtime.jobs.run_now("recover")  # the window has not ended: still held, nothing sent
    stack.drain()
    assert _state(stack, request.id) == "held" and stack.rds.calls_for("CloneDBInstance") == []

    CLOCK.advance(3600)
    stack.runtime.jobs.run_now("recover")
    stack.drain()
    final = final_reply(stack, APPROVALS_CHANNEL, card["ts"], timeout=30)
    assert (final.get("metadata") or {}).get("event_payload", {}).get("state") == "succeeded", final.get("text")
    assert len(stack.rds.calls_for("CloneDBInstance")) == 1
    trail = events(stack, request.id)
    assert trail.index("held") < trail.index("freeze_ended") < trail.index("submitted"), trail
    assert audit_ok(stack)


def test_policy_check_at_a_time_inside_a_freeze_says_deny_and_lint_reads_the_file(policy_dir: Path) -> None:
    (policy_dir / "freeze.toml").write_text(
        '[[window]]\nname = "weekend"\ntimezone = "Asia/Shanghai"\ndays = ["sat", "sun"]\nfrom = "00:00"\n'
        'to = "24:00"\nactions = ["rds:CloneDBInstance", "rds:Restore*"]\ntags = { env = "prod" }\n',
        encoding="utf-8")
    runner = CliRunner()
    args = ["policy", "check", ALICE, "rds:CloneDBInstance", f"acs:rds:cn-hangzhou:*:dbinstance/{PROD_MYSQL}",
            "--tag", "env=prod", "--policy-dir", str(policy_dir)]
    saturday = runner.invoke(app, [*args, "--at", "2026-12-05T12:00+08:00"])
    assert saturday.exit_code == 1 and saturday.output.startswith("deny"), saturday.output
    assert "weekend" in saturday.output and "Mon 2026-12-07 00:00 Asia/Shanghai" in saturday.output
    monday = runner.invoke(app, [*args, "--at", "2026-12-07T12:00+08:00"])
    assert monday.exit_code == 0 and monday.output.startswith("allow"), monday.output
    plain = runner.invoke(app, args)
    assert plain.exit_code == 0 and plain.output.startswith("allow")
    linted = runner.invoke(app, ["policy", "lint", "--policy-dir", str(policy_dir)])
    assert "freeze.toml: 1 window(s)" in linted.output, linted.output
    (policy_dir / "freeze.toml").write_text('[[window]]\nname = "x"\nactions = ["rds:*"]\n', encoding="utf-8")
    broken = runner.invoke(app, ["policy", "lint", "--policy-dir", str(policy_dir)])
    assert broken.exit_code == 1 and "window 'x'" in broken.output, broken.output
