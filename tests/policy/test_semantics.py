"""The policy contract, one row a rule of it: subject x action x resource x tags -> allow/deny."""

from __future__ import annotations

import pytest

from .conftest import arn, engine_of

POLICY = """
# users and roles
g, U0ALICE, role:engineer
g, U0BOB, role:dba
g, role:dba, role:ops
g, role:ops, role:reader
g, usergroup:S0DBA, role:dba
g, U0DENIED, role:ops

p, role:reader, rds:Describe*, acs:rds:*:*:dbinstance/*, allow
p, role:ops, rds:CreateBackup, acs:rds:*, allow
p, role:dba, rds:*, *, allow
p, role:dba, rdsbot:Approve, acs:rds:*:*:dbinstance/*, allow

# a user's deny beats a role's allow
p, U0DENIED, rds:CreateBackup, acs:rds:*:*:dbinstance/rm-secret, deny
# a role's deny beats a user's allow
p, U0ALICE, rds:CopyDatabaseBetweenInstances, *, allow
p, role:engineer, rds:CopyDatabaseBetweenInstances, acs:rds:cn-shanghai:*:dbinstance/*, deny
# an ops deny reaches every dba (inherited), never the reverse
p, role:ops, rds:CloneDBInstance, acs:rds:*:*:dbinstance/rm-frozen-*, deny
p, role:dba, rds:DescribeHistoryTasks, acs:rds:*:*:dbinstance/rm-dba-only, deny

# wildcards in every ARN segment
p, U0REGION, rds:CreateBackup, acs:rds:cn-*:*:dbinstance/*, allow
p, U0ACCOUNT, rds:CreateBackup, acs:rds:*:1234*:dbinstance/*, allow
p, U0INSTANCE, rds:CreateBackup, acs:rds:*:*:dbinstance/rm-t1-*, allow
p, U0SPAN, rds:CreateBackup, acs:rds:*/rm-9, allow
p, U0MID, rds:CreateBackup, acs:rds:cn-hangzhou:*-x, allow

# anyone
p, *, rds:DescribeDBInstances, *, allow
p, *, rds:RestoreDdrTable, *, deny, rds:ResourceTag/env=prod

# conditions
p, U0TAG, rds:CreateBackup, *, allow, rds:ResourceTag/env!=prod
p, U0TAG, rds:CloneDBInstance, *, allow, rds:ResourceTag/env=dev* & rds:ResourceTag/team=db
p, U0TAG, rds:RestoreDdrTable, *, allow
p, U0TAGDENY, rds:CreateBackup, *, allow
p, U0TAGDENY, rds:CreateBackup, *, deny, rds:ResourceTag/env=prod
"""

E = engine_of(POLICY)
PROD, DEV = {"env": "prod"}, {"env": "dev"}

CASES = [
    # (subject, action, resource, tags, groups, expected, why)
    ("U0BOB", "rds:CloneDBInstance", arn(), None, (), True, "dba allow via role"),
    ("U0BOB", "rdsbot:Approve", arn(), None, (), True, "dba approves"),
    ("U0BOB", "rds:DescribeBackups", arn(), None, (), True, "nested: dba > ops > reader"),
    ("U0DENIED", "rds:CreateBackup", arn("rm-secret"), None, (), False,
     "user deny beats role allow"),
    ("U0DENIED", "rds:CreateBackup", arn("rm-other"), None, (), True, "user deny is narrow"),
    ("U0ALICE", "rds:CopyDatabaseBetweenInstances", arn(region="cn-shanghai"), None, (), False,
     "role deny beats user allow"),
    ("U0ALICE", "rds:CopyDatabaseBetweenInstances", arn(), None, (), True, "user allow elsewhere"),
    ("U0BOB", "rds:CloneDBInstance", arn("rm-frozen-1"), None, (), False, "ops deny reaches dba"),
    ("U0DENIED", "rds:DescribeHistoryTasks", arn("rm-dba-only"), None, (), True,
     "dba deny never reaches ops"),
    ("U0DENIED", "rds:CloneDBInstance", arn(), None, (), False, "ops does not get dba allows"),
    ("U0DENIED", "rdsbot:Approve", arn(), None, (), False, "ops does not get dba approve"),
    ("U0ALICE", "rds:DescribeBackups", arn(), None, (), False, "no rule for engineer"),
    # rds:* never covers rdsbot:
    ("U0BOB", "rdsbot:Remind", arn(), None, (), False, "rds:* does not cover rdsbot:"),
    # actions compare case-insensitively (a deny can't miss on case)
    ("U0BOB", "rds:clonedbinstance", arn(), None, (), True, "case-insensitive action"),
    # wildcards in each ARN segment, '*' crossing ':' and '/'
    ("U0REGION", "rds:CreateBackup", arn(region="cn-beijing"), None, (), True, "region *"),
    ("U0REGION", "rds:CreateBackup", arn(region="ap-southeast-1"), None, (), False, "region miss"),
    ("U0ACCOUNT", "rds:CreateBackup", arn(account="123456"), None, (), True, "account *"),
    ("U0ACCOUNT", "rds:CreateBackup", arn(account="*"), None, (), False, "account '*' literal"),
    ("U0INSTANCE", "rds:CreateBackup", arn("rm-t1-a"), None, (), True, "instance *"),
    ("U0INSTANCE", "rds:CreateBackup", arn("rm-t2-a"), None, (), False, "instance miss"),
    ("U0SPAN", "rds:CreateBackup", arn("rm-9"), None, (), True, "* spans region:account:type"),
    ("U0SPAN", "rds:CreateBackup", arn("rm-99"), None, (), False, "rest stays literal"),
    ("U0MID", "rds:CreateBackup", arn("rm-x"), None, (), True, "* spans account:dbinstance/"),
    ("U0MID", "rds:CreateBackup", arn("rm-x", region="cn-shanghai"), None, (), False, "literal"),
    ("U0BOB", "rds:CreateBackup", "acs:rds:cn-hangzhou:*:dbinstance/a:b/c", None, (), True,
     "acs:rds:* spans anything"),
    # user groups
    ("U0FRANK", "rdsbot:Approve", arn(), None, ("S0DBA",), True, "group > role:dba"),
    ("U0FRANK", "rdsbot:Approve", arn(), None, ("usergroup:S0DBA",), True, "prefixed group"),
    ("U0FRANK", "rds:DescribeBackups", arn(), None, ("S0DBA",), True, "group > dba > ops > reader"),
    ("U0FRANK", "rdsbot:Approve", arn(), None, (), False, "not in group"),
    ("U0FRANK", "rdsbot:Approve", arn(), None, ("S0OTHER",), False, "other group"),
    # anyone
    ("U0STRANGER", "rds:DescribeDBInstances", arn(), None, (), True, "* subject"),
    ("U0STRANGER", "rds:DescribeBackups", arn(), None, (), False, "no allow = deny"),
    ("U0BOB", "rds:RestoreDdrTable", arn(), PROD, (), False, "* deny beats dba allow"),
    ("U0BOB", "rds:RestoreDdrTable", arn(), DEV, (), True, "* deny condition unmet"),
    # conditions: match, mismatch, unknown, !=, several, wildcard value
    ("U0TAG", "rds:CreateBackup", arn(), DEV, (), True, "!= prod, env=dev"),
    ("U0TAG", "rds:CreateBackup", arn(), {}, (), True, "!= prod, no tags known"),
    ("U0TAG", "rds:CreateBackup", arn(), PROD, (), False, "!= prod, env=prod"),
    ("U0TAG", "rds:CreateBackup", arn(), None, (), False, "conditional allow, tags unknown"),
    ("U0TAG", "rds:CloneDBInstance", arn(), {"env": "dev2", "team": "db"}, (), True, "both hold"),
    ("U0TAG", "rds:CloneDBInstance", arn(), {"env": "dev2"}, (), False, "one missing"),
    ("U0TAG", "rds:CloneDBInstance", arn(), {"env": "prod", "team": "db"}, (), False, "one fails"),
    ("U0TAG", "rds:RestoreDdrTable", arn(), None, (), False, "* conditional deny, unknown tags"),
    ("U0TAG", "rds:RestoreDdrTable", arn(), {}, (), True, "* conditional deny, known no tags"),
    ("U0TAGDENY", "rds:CreateBackup", arn(), None, (), False, "conditional deny, tags unknown"),
    ("U0TAGDENY", "rds:CreateBackup", arn(), PROD, (), False, "conditional deny holds"),
    ("U0TAGDENY", "rds:CreateBackup", arn(), DEV, (), True, "conditional deny unmet"),
    ("U0TAGDENY", "rds:CreateBackup", arn(), {"ENV": "prod"}, (), True, "tag keys case-sensitive"),
]


@pytest.mark.parametrize(("subject", "action", "resource", "tags", "groups", "expected", "why"),
                         CASES, ids=[case[-1] for case in CASES])
def test_decision_table(subject, action, resource, tags, groups, expected, why):
    decision = E.decide(subject, action, resource, tags=tags, groups=groups)
    assert decision.allowed is expected, decision.explain()
    assert decision.explain().split()[0].rstrip(":") == ("allow" if expected else "deny")


def test_same_answer_as_casbin_scanning_every_line():
    for subject, action, resource, tags, groups, expected, _ in CASES:
        assert E.enforce_all(subject, action, resource, tags=tags, groups=groups) is expected


def test_allow_names_rule_version_and_role_chain():
    d = E.decide("U0BOB", "rds:DescribeBackups", arn())
    assert d.rule is not None and d.rule.effect == "allow"
    assert d.rule.text.startswith("p, role:") and d.via == d.rule.subject
    assert d.path[0] == "U0BOB" and d.path[-1] == d.via
    text = d.explain()
    assert text.startswith("allow")
    assert f"policy.csv:{d.rule.line}" in text and d.rule.text in text
    assert E.version in text and d.policy_version == E.version
    assert all(name in text for name in ("U0BOB", "rds:DescribeBackups", arn()))


def test_explicit_deny_names_the_deny_rule():
    d = E.decide("U0ALICE", "rds:CopyDatabaseBetweenInstances", arn(region="cn-shanghai"))
    assert not d.allowed and d.rule is not None and d.rule.effect == "deny"
    assert d.via == "role:engineer" and d.path == ("U0ALICE", "role:engineer")
    assert d.explain().startswith("deny") and "explicitly denied by policy.csv:" in d.explain()


def test_default_deny_says_no_rule_allows():
    d = E.decide("U0STRANGER", "rds:CloneDBInstance", arn())
    assert d.rule is None and d.via is None
    assert d.explain() == (f"deny: no rule allows rds:CloneDBInstance on {arn()} for U0STRANGER "
                           f"(policy version {E.version}).")


def test_unknown_tags_are_named_in_explanations():
    deny = E.decide("U0TAGDENY", "rds:CreateBackup", arn())
    assert deny.tags_assumed and "tags are unknown" in deny.explain()
    missing = E.decide("U0TAG", "rds:CreateBackup", arn())
    assert missing.needs_tags is not None and "env!=prod" in missing.explain()
    assert not E.decide("U0TAGDENY", "rds:CreateBackup", arn(), tags=PROD).tags_assumed


def test_group_and_anyone_paths():
    d = E.decide("U0FRANK", "rdsbot:Approve", arn(), groups=["S0DBA"])
    assert d.path == ("U0FRANK", "usergroup:S0DBA", "role:dba") and d.via == "role:dba"
    star = E.decide("U0STRANGER", "rds:DescribeDBInstances", arn())
    assert star.via == "*" and "everyone" in star.explain()


@pytest.mark.parametrize("bad", [
    dict(subject="", action="rds:CreateBackup", resource=arn()),
    dict(subject="*", action="rds:CreateBackup", resource=arn()),
    dict(subject="U0A", action="CreateBackup", resource=arn()),
    dict(subject="U0A", action="rds:Create*", resource=arn()),
    dict(subject="U0A", action="rds:CreateBackup", resource=""),
    dict(subject="U0A", action="rds:CreateBackup", resource="acs:rds:a b"),
])
def test_malformed_requests_raise(bad):
    with pytest.raises(ValueError):
        E.decide(bad["subject"], bad["action"], bad["resource"])


def test_roles_members_groups_and_possible_approvers():
    assert E.roles_of("U0BOB") == ["role:dba", "role:ops", "role:reader"]
    assert E.roles_of("U0FRANK", ["S0DBA"]) == ["role:dba", "role:ops", "role:reader"]
    assert E.roles_of("U0NOBODY") == []
    assert E.members_of("role:ops") == ["U0BOB", "U0DENIED", "usergroup:S0DBA"]
    assert E.members_of("role:dba") == ["U0BOB", "usergroup:S0DBA"]
    assert E.referenced_usergroups() == {"S0DBA"}
    assert E.subjects_allowed("rdsbot:Approve", arn()) == ["U0BOB", "usergroup:S0DBA"]
    assert E.subjects_allowed("rds:DescribeDBInstances", arn())[0] == "*"


def test_roles_nest_only_upwards():
    engine = engine_of("g, U0A, role:child\ng, role:child, role:parent\n"
                       "p, role:parent, rds:CreateBackup, *, allow\n"
                       "p, role:child, rds:CloneDBInstance, *, allow\n"
                       "g, U0P, role:parent\n")
    assert engine.decide("U0A", "rds:CreateBackup", arn()).allowed
    assert not engine.decide("U0P", "rds:CloneDBInstance", arn()).allowed


def test_role_chain_of_nine_links_still_applies():
    chain = ["U0A"] + [f"role:r{i}" for i in range(9)]
    lines = [f"g, {a}, {b}" for a, b in zip(chain, chain[1:])]
    engine = engine_of("\n".join(lines) + "\np, role:r8, rds:CreateBackup, *, allow\n")
    d = engine.decide("U0A", "rds:CreateBackup", arn())
    assert d.allowed and d.path == tuple(chain)
