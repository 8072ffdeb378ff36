"""``rdsbot policy lint`` findings."""

from __future__ import annotations

from bot.policy import DEFAULT_MODEL_TEXT, lint_dir, lint_text

from .conftest import POLICY_DIR


def codes(policy: str, **kwargs) -> dict[str, list[int | None]]:
    found: dict[str, list[int | None]] = {}
    for finding in lint_text(DEFAULT_MODEL_TEXT, policy, **kwargs):
        found.setdefault(finding.code, []).append(finding.line)
    return found


def test_example_policy_is_clean():
    assert lint_dir(POLICY_DIR) == []


def test_unknown_actions_are_errors():
    policy = ("g, U0A, role:x\n"
              "p, role:x, rds:CloneDBInstance, *, allow\n"
              "p, role:x, rds:DeleteDBInstance, *, allow\n"
              "p, role:x, rds:Nothing*, *, deny\n"
              "p, role:x, rds:Describe*, *, allow\n"
              "p, role:x, rdsbot:*, *, allow\n")
    findings = lint_text(DEFAULT_MODEL_TEXT, policy)
    unknown = [f for f in findings if f.code == "unknown-action"]
    assert [f.line for f in unknown] == [3, 4]
    assert all(f.severity == "error" for f in unknown)
    assert "rds:DeleteDBInstance" in str(unknown[0]) and str(unknown[0]).startswith("policy.csv:3")


def test_syntax_and_role_graph_errors_are_reported_together():
    found = codes("p, U0A, rds:CreateBackup, arn:x, allow\n"
                  "p, U0A, rds:CreateBackup, *, nope\n"
                  "g, role:a, role:b\ng, role:b, role:a\n")
    assert found["syntax"] == [1, 2]
    assert found["roles"] == [4]


def test_shadowed_allow_is_a_warning():
    policy = ("g, U0A, role:eng\ng, role:eng, role:staff\n"
              "p, role:eng, rds:CreateBackup, acs:rds:*:*:dbinstance/rm-1, allow\n"
              "p, role:staff, rds:Create*, acs:rds:*, deny\n"
              "p, role:eng, rds:CloneDBInstance, *, allow, rds:ResourceTag/env=dev\n"
              "p, *, rds:CloneDBInstance, *, deny, rds:ResourceTag/env=dev\n"
              "p, role:eng, rds:DescribeBackups, *, allow\n"
              "p, *, rds:DescribeBackups, *, deny, rds:ResourceTag/env=prod\n")
    findings = [f for f in lint_text(DEFAULT_MODEL_TEXT, policy) if f.code == "shadowed-allow"]
    assert [f.line for f in findings] == [3, 5]  # line 7 is only partly denied
    assert all(f.severity == "warning" for f in findings)
    assert "line 4" in findings[0].message


def test_idle_roles():
    policy = ("g, U0A, role:holder\n"
              "g, role:lonely, role:parent\n"
              "p, role:unheld, rds:CreateBackup, *, allow\n"
              "p, role:parent, rds:CreateBackup, *, allow\n")
    found = codes(policy)
    assert found["role-unassigned"] == [2, 2, 3]  # role:lonely, role:parent, role:unheld
    assert found["role-grants-nothing"] == [1]


def test_spelling_duplicates_and_arns():
    policy = ("p, U0A, rds:createbackup, *, allow\n"
              "p, U0A, rds:createbackup, *, allow\n"
              "p, U0A, rds:CreateBackup, acs:rds:*:*:dbinstance/RM-1, allow\n"
              "p, U0A, rds:CreateBackup, acs:rds:*:1234:dbinstance/rm-1, allow\n"
              "p, alice, rds:CreateBackup, *, allow\n")
    found = codes(policy)
    assert found["action-spelling"] == [1, 2]
    assert found["duplicate"] == [2]
    assert found["arn-case"] == [3]
    assert found["arn-account"] == [4]
    assert found["user-id"] == [5]
    assert "arn-account" not in codes(policy, account_id="1234")


def test_errors_sort_first():
    findings = lint_text(DEFAULT_MODEL_TEXT, "p, U0A, rds:createbackup, *, allow\n"
                                             "p, U0A, rds:Bogus, *, allow\n")
    assert [f.severity for f in findings] == ["error", "warning"]
