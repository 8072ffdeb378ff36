"""The STS emulator over the real STS SDK, and the RDS emulator enforcing its sessions.

A session made for one request (CreateBackup on one instance) is refused on the same
action against another instance and on another action against the same instance,
with the real RDS SDK signing with the session's STS credentials.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.seed import MSSQL_PROD, MSSQL_QA, MYSQL_DEV, MYSQL_PROD
from bot.sandbox.sts import StsEmulator, allows

KEY_ID, SECRET = "LTAI5tStsTestKey", "sts-test-secret-not-real"
ROLE = "acs:ram::1234567890123456:role/rdsbot-requests"


@pytest.fixture
def sts_pair() -> Iterator[tuple[StsEmulator, RdsEmulator]]:
    sts = StsEmulator(keys={KEY_ID: SECRET}, roles={ROLE})
    sts.start()
    rds = RdsEmulator(access_key_id=KEY_ID, access_key_secret=SECRET, sessions=sts.sessions)
    rds.start()
    yield sts, rds
    rds.stop()
    sts.stop()


def _config(endpoint: str, key: str, secret: str, token: str | None = None) -> Any:
    from alibabacloud_tea_openapi.utils_models import Config

    return Config(access_key_id=key, access_key_secret=secret, security_token=token, endpoint=endpoint,
                  protocol="http", region_id="cn-hangzhou")


def _assume(sts: StsEmulator, policy: dict[str, Any] | None, *, secret: str = SECRET,
            name: str = "U0ERIN@backup-1", role: str = ROLE) -> Any:
    from alibabacloud_sts20150401 import models
    from alibabacloud_sts20150401.client import Client

    client = Client(_config(sts.endpoint, KEY_ID, secret))
    request = models.AssumeRoleRequest(role_arn=role, role_session_name=name, duration_seconds=900,
                                       policy=json.dumps(policy) if policy is not None else None)
    return client.assume_role(request).body


def _rds_with(rds: RdsEmulator, credentials: Any, token: str | None = None) -> Any:
    from alibabacloud_rds20140815.client import Client

    return Client(_config(rds.endpoint, credentials.access_key_id, credentials.access_key_secret,
                          token if token is not None else credentials.security_token))


def _only(action: str, *instances: str) -> dict[str, Any]:
    resources = [f"acs:rds:*:*:dbinstance/{i}" for i in instances] or ["*"]
    return {"Version": "1", "Statement": [{"Effect": "Allow", "Action": [action], "Resource": resources}]}


def _code(call: Any) -> tuple[str, int]:
    from Tea.exceptions import TeaException

    with pytest.raises(TeaException) as caught:
        call()
    return str(caught.value.code), int(caught.value.data.get("statusCode") or 0)


def test_assume_role_with_a_good_signature_issues_a_session_with_its_name_and_policy(sts_pair) -> None:
    sts, _ = sts_pair
    body = _assume(sts, _only("rds:CreateBackup", MYSQL_DEV))
    credentials = body.credentials
    assert credentials.access_key_id.startswith("STS.") and credentials.security_token
    assert credentials.expiration.endswith("Z")
    assert body.assumed_role_user.arn.endswith("/U0ERIN@backup-1")
    [session] = sts.sessions.all()
    assert session.session_name == "U0ERIN@backup-1" and session.caller == KEY_ID and session.role_arn == ROLE
    assert session.expires_at - session.issued_at == 900
    assert session.policy == _only("rds:CreateBackup", MYSQL_DEV)


def test_assume_role_with_a_bad_signature_is_refused_and_issues_nothing(sts_pair) -> None:
    sts, _ = sts_pair
    assert _code(lambda: _assume(sts, None, secret="not-the-secret")) == ("SignatureDoesNotMatch", 400)
    assert sts.sessions.all() == []


@pytest.mark.parametrize(("role", "name", "code"), [
    ("acs:ram::1234567890123456:role/someone-else", "U0ERIN@r1", "EntityNotExist.Role"),
    ("arn:aws:iam::1:role/x", "U0ERIN@r1", "InvalidParameter.RoleArn"),
    (ROLE, "x", "InvalidParameter.RoleSessionName"),
    (ROLE, "U0ERIN request 1", "InvalidParameter.RoleSessionName"),
])
def test_assume_role_checks_its_parameters(sts_pair, role: str, name: str, code: str) -> None:
    sts, _ = sts_pair
    assert _code(lambda: _assume(sts, None, role=role, name=name))[0] == code


def test_a_session_for_request_a_runs_only_its_action_on_its_instance(sts_pair) -> None:
    from alibabacloud_rds20140815 import models

    sts, rds = sts_pair
    client = _rds_with(rds, _assume(sts, _only("rds:CreateBackup", MYSQL_DEV)).credentials)

    body = client.create_backup(models.CreateBackupRequest(dbinstance_id=MYSQL_DEV, backup_method="Snapshot")).body
    assert body.backup_job_id
    # The same action against instance B.
    assert _code(lambda: client.create_backup(models.CreateBackupRequest(dbinstance_id=MYSQL_PROD))) == (
        "Forbidden.RAM", 403)
    # Another action against instance A (a read, too: the session is for one action only).
    assert _code(lambda: client.describe_dbinstance_attribute(
        models.DescribeDBInstanceAttributeRequest(dbinstance_id=MYSQL_DEV)))[0] == "Forbidden.RAM"
    assert _code(lambda: client.clone_dbinstance(models.CloneDBInstanceRequest(
        dbinstance_id=MYSQL_DEV, pay_type="Postpaid", restore_time="2026-01-01T00:00:00Z")))[0] == "Forbidden.RAM"

    calls = rds.calls
    assert [c.code for c in calls] == [None, "Forbidden.RAM", "Forbidden.RAM", "Forbidden.RAM"]
    assert {c.session_name for c in calls} == {"U0ERIN@backup-1"}
    assert len(rds.jobs("CreateBackup")) == 1


def test_a_copy_session_needs_both_instances_and_a_token_that_matches(sts_pair) -> None:
    from alibabacloud_rds20140815 import models

    sts, rds = sts_pair
    credentials = _assume(sts, _only("rds:CopyDatabaseBetweenInstances", MSSQL_PROD)).credentials
    request = models.CopyDatabaseBetweenInstancesRequest(dbinstance_id=MSSQL_PROD, target_dbinstance_id=MSSQL_QA,
                                                         db_names=json.dumps({"erp": "erp_copy"}),
                                                         restore_time="2026-01-01T00:00:00Z")
    assert _code(lambda: _rds_with(rds, credentials).copy_database_between_instances(request))[0] == "Forbidden.RAM"
    wrong_token = _rds_with(rds, credentials, token="CAISnot-the-token")
    assert _code(lambda: wrong_token.copy_database_between_instances(request))[0] == (
        "InvalidSecurityToken.MismatchWithAccessKey")


def test_a_policy_on_star_covers_every_instance_and_the_bots_own_key_is_not_narrowed(sts_pair) -> None:
    from alibabacloud_rds20140815 import models
    from alibabacloud_rds20140815.client import Client

    sts, rds = sts_pair
    assert allows(_only("rds:RestoreDdrTable"), "rds:RestoreDdrTable", ["acs:rds:cn-hangzhou:1:dbinstance/x"])
    assert not allows(_only("rds:RestoreDdrTable"), "rds:CreateBackup", ["acs:rds:cn-hangzhou:1:dbinstance/x"])
    deny = {"Statement": [*_only("rds:*")["Statement"], {"Effect": "Deny", "Action": "rds:CreateBackup",
                                                          "Resource": "*"}]}
    assert not allows(deny, "rds:CreateBackup", ["acs:rds:cn-hangzhou:1:dbinstance/x"])
    own = Client(_config(rds.endpoint, KEY_ID, SECRET))
    assert own.create_backup(models.CreateBackupRequest(dbinstance_id=MYSQL_PROD)).body.backup_job_id
    assert rds.calls[-1].session_name is None
