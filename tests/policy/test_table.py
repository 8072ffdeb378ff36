"""Expected-decision tables: the shipped one passes; a flipped expectation fails, explained."""

from __future__ import annotations

import pytest

from bot.policy import PolicyEngine
from bot.policy.table import TableError, parse_table, parse_tags, run_cases, run_file
from bot.policy.tools import run_table

from .conftest import POLICY_DIR, engine_of

TABLE = POLICY_DIR / "policy_tests.csv"


def test_shipped_table_passes_against_the_example_policy():
    outcomes = run_file(PolicyEngine.from_dir(POLICY_DIR), TABLE)
    assert len(outcomes) >= 30
    assert [o.case.where for o in outcomes if not o.ok] == []
    # the table exercises both answers, unknown tags and groups
    assert {o.case.expect for o in outcomes} == {"allow", "deny"}
    assert any(o.case.tags is None for o in outcomes)
    assert any(o.case.groups for o in outcomes)


def test_flipped_expectation_is_reported_with_explanation(tmp_path):
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("U0BOB, rdsbot:Approve"))
    lines[index] = lines[index].replace(", allow,", ", deny,")
    flipped = tmp_path / "flipped.csv"
    flipped.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_table(POLICY_DIR, flipped)
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith(f"{flipped}:{index + 1}: expected deny, got allow: allow: U0BOB")
    assert "1 mismatch(es)" in result.output


def test_shipped_table_via_tool_exits_zero():
    result = run_table(POLICY_DIR, TABLE)
    assert result.exit_code == 0, result.output
    assert "0 mismatch(es)" in result.output


def test_table_format():
    cases = parse_table("# c\n\nU0A, rds:CreateBackup, acs:rds:a, allow\n"
                        "U0A, rds:CreateBackup, acs:rds:a, DENY, env=prod & team=db, S0A S0B\n"
                        "U0A, rds:CreateBackup, acs:rds:a, deny, -\n"
                        "U0A, rds:CreateBackup, acs:rds:a, deny, ?, S0A\n")
    assert [c.line for c in cases] == [3, 4, 5, 6]
    assert cases[0].tags is None and cases[0].groups == ()
    assert cases[1].tags == {"env": "prod", "team": "db"} and cases[1].groups == ("S0A", "S0B")
    assert cases[1].expect == "deny"
    assert cases[2].tags == {} and cases[3].tags is None and cases[3].groups == ("S0A",)


@pytest.mark.parametrize(("line", "fragment"), [
    ("U0A, rds:CreateBackup, acs:rds:a", "4 to 6 fields"),
    ("U0A, rds:CreateBackup, acs:rds:a, maybe", "allow or deny"),
    ("U0A, rds:CreateBackup, acs:rds:a, allow, env", "key=value"),
])
def test_malformed_table_line(line, fragment):
    with pytest.raises(TableError) as caught:
        parse_table(f"# header\n{line}\n", "t.csv")
    assert caught.value.line == 2 and fragment in str(caught.value)


def test_bad_request_in_table_names_its_line():
    cases = parse_table("U0A, CreateBackup, acs:rds:a, allow\n", "t.csv")
    with pytest.raises(TableError, match="t.csv:1: bad request"):
        run_cases(engine_of("p, U0A, rds:CreateBackup, *, allow"), cases)


def test_parse_tags():
    assert parse_tags("?") is None and parse_tags("") is None and parse_tags("-") == {}
    assert parse_tags("a=1&b=") == {"a": "1", "b": ""}
