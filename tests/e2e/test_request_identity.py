"""A cloud identity per request (RDSBOT_RAM_ROLE_ARN): each mutating call is signed with STS
credentials whose session names the requester and the request and whose policy allows only
that request's action on its resources; reads stay on the bot's own key."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.policy import instance_arn
from bot.rds.errors import ErrorKind, RdsError
from bot.rds.retry import CallSafety
from bot.sandbox.slack import ALICE, APPROVALS_CHANNEL, ERIN, OPS_CHANNEL
from bot.sandbox.stack import ACCESS_KEY_ID, ROLE_ARN, Stack
from tests.e2e.flows import approval_message, approve_fully, final_reply, request_clone, request_id_of
from tests.e2e.flows_ops import MYSQL_DEV, MYSQL_PROD, final_state, ok_calls

ROLE_ACCOUNT = ROLE_ARN.split(":")[3]


@pytest.fixture
def role_stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack(RDSBOT_RAM_ROLE_ARN=ROLE_ARN)


def _backup(stack: Stack, user: str, instance: str) -> tuple[str, dict[str, Any]]:
    view = stack.driver.open_modal(user, f"backup {instance}", channel=OPS_CHANNEL)
    submitted = stack.driver.submit_view(user, view["id"], {}, validate=False)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    [request] = stack.requests.recent(user)
    anchor = stack.slack.wait_for_message(OPS_CHANNEL, where=lambda m: request.id in m.get("text", ""), timeout=10)
    return request.id, final_reply(stack, OPS_CHANNEL, anchor["ts"])


def _session(stack: Stack, name: str) -> Any:
    assert stack.emulators.sts is not None
    found = [s for s in stack.emulators.sts.sessions.all() if s.session_name == name]
    assert len(found) == 1, [s.session_name for s in stack.emulators.sts.sessions.all()]
    return found[0]


def test_a_backup_reaches_rds_as_a_session_named_after_the_requester_and_the_request(role_stack: Stack) -> None:
    request_id, final = _backup(role_stack, ERIN, MYSQL_DEV)
    assert final_state(final) == "succeeded", final["text"]

    [call] = ok_calls(role_stack, "CreateBackup")
    assert call.session_name == f"{ERIN}@{request_id}" and call.access_key_id.startswith("STS.")
    session = _session(role_stack, call.session_name)
    assert session.role_arn == ROLE_ARN and session.caller == ACCESS_KEY_ID
    assert session.expires_at - session.issued_at == 900
    assert session.policy == {"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": ["rds:CreateBackup"],
        "Resource": [instance_arn("cn-hangzhou", "*", MYSQL_DEV)]}]}
    # Progress, pickers and checks stay on the bot's own key.
    others = [c for c in role_stack.rds.calls if c.action != "CreateBackup"]
    assert others and {c.access_key_id for c in others} == {ACCESS_KEY_ID}
    assert any(c.action == "DescribeBackupTasks" for c in others)


def test_an_approved_clone_runs_as_the_requesters_session_on_the_source_only(role_stack: Stack) -> None:
    _, submitted = request_clone(role_stack, user=ALICE, instance=MYSQL_PROD)
    assert submitted.status == 200 and not submitted.errors, submitted.text
    card = approval_message(role_stack)
    request_id = request_id_of(card)
    assert role_stack.emulators.sts is not None and role_stack.emulators.sts.sessions.all() == [], \
        "no session before approval"
    approve_fully(role_stack, card)
    final = final_reply(role_stack, APPROVALS_CHANNEL, card["ts"])
    assert final_state(final) == "succeeded", final["text"]

    [call] = ok_calls(role_stack, "CloneDBInstance")
    assert call.session_name == f"{ALICE}@{request_id}" and call.client_token == request_id
    session = _session(role_stack, call.session_name)
    statement = session.policy["Statement"]
    assert statement == [{"Effect": "Allow", "Action": ["rds:CloneDBInstance"],
                          "Resource": [instance_arn("cn-hangzhou", "*", MYSQL_PROD)]}]


def test_a_session_for_request_a_is_refused_on_instance_b_and_on_another_action(role_stack: Stack) -> None:
    gateway = role_stack.runtime.gateway
    arn_a = instance_arn("cn-hangzhou", "*", MYSQL_DEV)
    session_a = gateway.for_request("backup-a", ERIN, "rds:CreateBackup", [arn_a])
    assert gateway.for_request("backup-a", ERIN, "rds:CreateBackup", [arn_a]) is session_a, "cached per request"

    for action, params in (("CreateBackup", {"DBInstanceId": MYSQL_PROD}),
                           ("DescribeDBInstanceAttribute", {"DBInstanceId": MYSQL_DEV})):
        with pytest.raises(RdsError) as refused:
            session_a.call(action, params, safety=CallSafety.UNSAFE)
        assert refused.value.code == "Forbidden.RAM" and refused.value.kind is ErrorKind.AUTH
        assert "not allowed" in refused.value.plain()
    assert not ok_calls(role_stack, "CreateBackup")
    # The bot's own identity is untouched by the session.
    assert gateway.call("DescribeDBInstanceAttribute", {"DBInstanceId": MYSQL_DEV})


def test_a_call_outside_the_session_policy_fails_plainly_and_starts_nothing(make_stack: Callable[..., Stack]) -> None:
    # The policy's ARNs name another account than the role's: RAM sees the call outside the session policy.
    stack = make_stack(RDSBOT_RAM_ROLE_ARN=ROLE_ARN, RDSBOT_ACCOUNT_ID="999999999999")
    request_id, final = _backup(stack, ERIN, MYSQL_DEV)
    assert final_state(final) == "failed", final["text"]
    assert "Forbidden.RAM" in final["text"], final["text"]
    refused = [c for c in stack.rds.calls_for("CreateBackup") if c.code == "Forbidden.RAM"]
    assert len(refused) == 1 and refused[0].session_name == f"{ERIN}@{request_id}", "refused once, not retried"
    assert not ok_calls(stack, "CreateBackup") and not stack.rds.jobs("CreateBackup")


def test_without_a_role_every_call_uses_the_bots_own_key(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    _, final = _backup(stack, ERIN, MYSQL_DEV)
    assert final_state(final) == "succeeded", final["text"]
    assert {c.access_key_id for c in stack.rds.calls} == {ACCESS_KEY_ID}
    assert stack.emulators.sts is not None and stack.emulators.sts.sessions.all() == []


def test_ram_policy_prints_the_roles_trust_and_permission_policies() -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    runner = CliRunner()
    plain = runner.invoke(app, ["ram-policy"], env={"RDSBOT_RAM_ROLE_ARN": ""})
    assert plain.exit_code == 0 and "RoleTrustPolicy" not in plain.output
    result = runner.invoke(app, ["ram-policy"], env={"RDSBOT_RAM_ROLE_ARN": ROLE_ARN})
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["RoleArn"] == ROLE_ARN
    [trust] = document["RoleTrustPolicy"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole" and trust["Principal"] == {"RAM": [f"acs:ram::{ROLE_ACCOUNT}:root"]}
    role_actions = {a for s in document["RolePermissionPolicy"]["Statement"] for a in s["Action"]}
    assert role_actions == {"rds:CloneDBInstance", "rds:CopyDatabaseBetweenInstances", "rds:CreateBackup",
                            "rds:RestoreDdrTable"}
    restore = [s for s in document["RolePermissionPolicy"]["Statement"] if "rds:RestoreDdrTable" in s["Action"]]
    assert restore[0]["Resource"] == ["*"], "RestoreDdrTable has no resource-level permission"
    bot_actions = {a for s in document["BotPolicy"]["Statement"] for a in s["Action"]}
    assert "sts:AssumeRole" in bot_actions and not bot_actions & role_actions
    assert {"Effect": "Allow", "Action": ["sts:AssumeRole"], "Resource": [ROLE_ARN]} in \
        document["BotPolicy"]["Statement"]
    bad = runner.invoke(app, ["ram-policy", "--role-arn", "arn:aws:iam::1:role/x"])
    assert bad.exit_code == 2
