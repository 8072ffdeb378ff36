"""ram_policy and instance ARNs."""

from __future__ import annotations

import pytest

from bot.policy import instance_arn, ram_policy
from bot.policy.actions import RDS_ACTIONS


def test_ram_policy_scopes_resource_level_actions_to_instance_arns():
    document = ram_policy()
    assert document["Version"] == "1"
    scoped, unscoped = document["Statement"]
    assert scoped["Effect"] == unscoped["Effect"] == "Allow"
    assert scoped["Resource"] == ["acs:rds:*:*:dbinstance/*"]
    assert set(scoped["Action"]) == {"rds:CloneDBInstance", "rds:CopyDatabaseBetweenInstances",
                                     "rds:CreateBackup", "rds:DescribeCrossRegionBackups"}
    assert unscoped["Resource"] == ["*"]
    assert "rds:RestoreDdrTable" in unscoped["Action"]
    assert "rds:DescribePrice" in unscoped["Action"], "a clone's card shows its price"
    assert sorted(scoped["Action"] + unscoped["Action"]) == sorted(RDS_ACTIONS)


def test_ram_policy_for_some_actions_and_an_account():
    document = ram_policy(["rds:CreateBackup", "rds:Describe*"], region="cn-hangzhou",
                          account="1234")
    scoped, unscoped = document["Statement"]
    assert scoped == {"Effect": "Allow", "Action": ["rds:CreateBackup",
                                                    "rds:DescribeCrossRegionBackups"],
                      "Resource": ["acs:rds:cn-hangzhou:1234:dbinstance/*"]}
    assert "rds:CreateBackup" not in unscoped["Action"]
    assert ram_policy(["rds:CreateBackup"])["Statement"][0]["Action"] == ["rds:CreateBackup"]


@pytest.mark.parametrize("action", ["rdsbot:Approve", "rds:Nothing", "CreateBackup"])
def test_ram_policy_refuses_non_ram_actions(action):
    with pytest.raises(ValueError):
        ram_policy([action])


def test_instance_arn():
    assert instance_arn("cn-hangzhou", "*", "rm-bp1") == "acs:rds:cn-hangzhou:*:dbinstance/rm-bp1"
    assert instance_arn("cn-hangzhou", "1234", "rm-bp1").split(":")[3] == "1234"
    for bad in (("cn hangzhou", "*", "rm"), ("cn-hangzhou", "acct", "rm"),
                ("cn-hangzhou", "*", "rm/1"), ("cn-hangzhou", "*", "")):
        with pytest.raises(ValueError):
            instance_arn(*bad)
