"""The smaller holes, each tried from outside: group lookups failing, huge unsigned bodies,
Socket Mode, replayed type-ahead, another person's modal, a policy naming an account."""

from __future__ import annotations

import socket
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.error import HTTPError

import pytest

from bot.app import StartupError, build_runtime
from bot.config import Settings
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, BOB, ERIN, OPS_CHANNEL
from bot.sandbox.stack import Emulators, Stack, bot_env
from tests.e2e.flows import DEV_MYSQL, approval_message, request_clone, request_id_of
from tests.e2e.flows_ops import MYSQL_DEV


def _edit_policy(policy_dir: Path, drop_prefix: str = "", add: tuple[str, ...] = ()) -> None:
    policy = policy_dir / "policy.csv"
    lines = [line for line in policy.read_text().splitlines() if not (drop_prefix and line.startswith(drop_prefix))]
    policy.write_text("\n".join([*lines, *add]) + "\n")


# ------------------------------------------------------------------ user groups fail closed
def test_an_approval_through_a_group_slack_cannot_confirm_does_not_count(make_stack: Callable[..., Stack],
                                                                         policy_dir: Path) -> None:
    _edit_policy(policy_dir, drop_prefix="g, U0BOB,")  # Bob is a DBA only through usergroup:S0DBA now
    stack = make_stack(RDSBOT_USERGROUP_TTL_S="0.001")
    request_clone(stack, instance=DEV_MYSQL)  # deciding for Alice read the groups once: Bob was in S0DBA
    card = approval_message(stack)
    stack.slack.inject("usergroups.users.list", error="ratelimited", times=None)
    stack.driver.click(BOB, channel=APPROVALS_CHANNEL, ts=card["ts"], action_id="approve")
    told = stack.slack.wait_for_ephemeral(BOB, timeout=15)
    assert "may not decide" in told["text"] and "could not say" in told["text"], told["text"]
    stack.drain()
    assert stack.requests.approvers_of(request_id_of(card)) == []
    assert stack.rds.calls_for("CloneDBInstance") == [], "a group membership nobody could confirm approved a clone"


def test_a_group_deny_applies_while_slack_cannot_say_who_is_in_the_group(make_stack: Callable[..., Stack],
                                                                          policy_dir: Path) -> None:
    _edit_policy(policy_dir, add=("p, usergroup:S0ONCALL, rds:CreateBackup, acs:rds:*:*:dbinstance/*, deny",))
    stack = make_stack()
    stack.slack.inject("usergroups.users.list", error="ratelimited", times=None)
    view = stack.driver.open_modal(ERIN, f"backup {MYSQL_DEV}", channel=OPS_CHANNEL)
    submitted = stack.driver.submit_view(ERIN, view["id"], {"DBInstanceId": MYSQL_DEV}, validate=False)
    assert submitted.status == 200
    stack.drain()
    [request] = stack.requests.recent(ERIN)
    assert request.state == "denied", "a deny for the group was skipped because Slack did not answer"
    assert stack.rds.calls_for("CreateBackup") == []
    assert "usergroup:S0ONCALL" in request.decision["explanation"], request.decision


# ------------------------------------------------------------------ bodies too big to be Slack's
def test_an_oversized_unsigned_body_is_refused_before_it_is_read(stack: Stack) -> None:
    host, port = stack.bot_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 52428800\r\n\r\n" + b"a" * 65536)
        conn.settimeout(5)
        try:
            first = conn.recv(200)
        except TimeoutError:
            first = b""
    assert first.startswith(b"HTTP/1.1 413"), f"the server waited for 50 MiB before answering: {first[:80]!r}"


# ------------------------------------------------------------------ Socket Mode
def test_socket_mode_starts_without_a_signing_secret_and_serves_no_slack_endpoint(
        emulators: Emulators, database_url: str, policy_dir: Path) -> None:
    env = bot_env(emulators, database_url=database_url, policy_dir=policy_dir)
    env.pop("SLACK_SIGNING_SECRET")
    env["SLACK_APP_TOKEN"] = "xapp-1-sandbox-socket-token"
    runtime = build_runtime(Settings(**env))  # type: ignore[arg-type]
    try:
        host, port = runtime.listen()
        threading.Thread(target=runtime.serve_forever, daemon=True).start()
        runtime.start()
        base = f"http://{host}:{port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=15) as health:  # noqa: S310 - local URL
            assert health.status == 200
        request = urllib.request.Request(f"{base}/slack/events", data=b"token=x&command=/rds&text=help",
                                         method="POST")
        with pytest.raises(HTTPError) as refused:
            urllib.request.urlopen(request, timeout=15)  # noqa: S310 - local URL
        assert refused.value.code == 404, "Socket Mode still serves POST /slack/events"
    finally:
        runtime.stop()


# ------------------------------------------------------------------ read-only requests are never replays
def test_the_same_type_ahead_twice_within_a_second_gets_options_both_times(stack: Stack) -> None:
    view = stack.driver.open_modal(ALICE, "clone", channel=OPS_CHANNEL)
    first = stack.driver.suggest(ALICE, view["id"], "DBInstanceId", "dev")
    again = stack.driver.replay(first)
    assert first.options, first.text
    assert again.status == 200 and again.options == first.options, again.text


# ------------------------------------------------------------------ one person's modal is not another's
def test_a_submission_key_from_someone_elses_modal_never_returns_their_request(stack: Stack) -> None:
    from bot.operations.base import FieldErrors
    from bot.workflow import intake

    request_clone(stack, instance=DEV_MYSQL)
    request = stack.requests.recent(ALICE)[0]
    assert request.submission_key
    try:
        outcome = intake.submit(stack.runtime.deps, "backup", user=ERIN, channel=OPS_CHANNEL,
                                form={"DBInstanceId": DEV_MYSQL}, submission_key=request.submission_key)
    except FieldErrors as refused:
        assert "already submitted" in " ".join(refused.errors.values()), refused.errors
    else:
        assert outcome.request is None or outcome.request.id != request.id, "Erin was handed Alice's request"


# ------------------------------------------------------------------ an account the policy names
def test_serve_refuses_a_policy_naming_an_account_when_the_account_is_unset(
        emulators: Emulators, database_url: str, policy_dir: Path) -> None:
    _edit_policy(policy_dir, add=("p, U0ALICE, rds:*, acs:rds:*:1234567890:dbinstance/*, deny",))
    env = bot_env(emulators, database_url=database_url, policy_dir=policy_dir)
    with pytest.raises(StartupError, match="RDSBOT_ACCOUNT_ID=1234567890"):
        build_runtime(Settings(**env))  # type: ignore[arg-type]
    env["RDSBOT_ACCOUNT_ID"] = "1234567890"
    build_runtime(Settings(**env)).stop()  # type: ignore[arg-type]  # with the account set, it starts
