"""Loading: malformed files fail with file and line; role graphs casbin can't follow fail too."""

from __future__ import annotations

import pytest

from bot.policy import DEFAULT_MODEL_TEXT, PolicyEngine, PolicyError, compute_version
from bot.policy.roles import MAX_HOPS

from .conftest import arn, engine_of

GOOD = "p, U0A, rds:CreateBackup, acs:rds:*:*:dbinstance/*, allow"


@pytest.mark.parametrize(("line", "fragment"), [
    ("p, U0A, rds:CreateBackup, acs:rds:*", "5 or 6 fields"),
    ("p, U0A, rds:CreateBackup, acs:rds:*, allow, rds:ResourceTag/a=b, extra", "5 or 6 fields"),
    ("p, U0A, rds:CreateBackup, acs:rds:*, permit", "unknown effect 'permit'"),
    ("p, U0A, CreateBackup, acs:rds:*, allow", "no service prefix"),
    ("p, U0A, ecs:CreateBackup, acs:rds:*, allow", "unknown service"),
    ("p, U0A, rds*:CreateBackup, acs:rds:*, allow", "<service>:<name>"),
    ("p, U0A, rds:Create Backup, acs:rds:*, allow", "<service>:<name>"),
    ("p, U0A, rds:CreateBackup, arn:aws:rds:*, allow", "must start with 'acs:rds:'"),
    ("p, U0A, rds:CreateBackup, acs:rds:cn-hangzhou, allow", "incomplete"),
    ("p, U0A, rds:CreateBackup, acs:rds:cn-hangzhou:1:instance/rm-1, allow", "dbinstance/<id>"),
    ("p, U0A, rds:CreateBackup, acs:rds:cn_hangzhou:1:dbinstance/rm-1, allow", "region"),
    ("p, U0A, rds:CreateBackup, acs:rds:cn-hangzhou:acct:dbinstance/rm-1, allow", "account"),
    ("p, U0A, rds:CreateBackup, acs:rds:a:1:dbinstance/x:y, allow", "more than 5"),
    ("p, U0A, rds:CreateBackup, acs:rds:*, allow, env=prod", "rds:ResourceTag/<key>"),
    ("p, U0A, rds:CreateBackup, acs:rds:*, allow, rds:ResourceTag/env", "'=' or '!='"),
    ("p, U0A, rds:CreateBackup, acs:rds:*, allow, rds:ResourceTag/=x", "bad tag key"),
    ("p, U0A, rds:CreateBackup, acs:rds:*, allow, rds:ResourceTag/a=b &", "empty condition"),
    ("p, U0A, rds:CreateBackup, acs:rds:*, allow,", "empty conditions field"),
    ("p, , rds:CreateBackup, acs:rds:*, allow", "empty subject"),
    ("p, rol:x, rds:CreateBackup, acs:rds:*, allow", "unknown kind"),
    ("p, role:, rds:CreateBackup, acs:rds:*, allow", "bad name"),
    ("g, U0A", "3 fields"),
    ("g, U0A, dba", "must be role:<name>"),
    ("g, U0A, usergroup:S0X", "resolved by Slack"),
    ("g, *, role:x", "anyone"),
    ("g, role:x, role:x", "role cycle"),
    ("x, U0A, role:x", "unknown line type"),
])
def test_malformed_line_names_file_and_line(line, fragment):
    text = f"# comment\n\n{GOOD}\n{line}\n"
    with pytest.raises(PolicyError) as caught:
        PolicyEngine.from_text(DEFAULT_MODEL_TEXT, text, source="team.csv")
    error = caught.value
    assert (error.path, error.line) == ("team.csv", 4)
    assert fragment in str(error) and str(error).startswith("team.csv:4: ")


def test_every_problem_is_collected_and_counted():
    text = "p, U0A, nope, *, allow\n" + GOOD + "\np, U0A, rds:X, *, maybe\n"
    with pytest.raises(PolicyError) as caught:
        engine_of(text)
    assert [line for line, _ in caught.value.problems] == [1, 3]
    assert "(and 1 more problem)" in str(caught.value)


def test_comments_blank_lines_and_effect_case():
    engine = engine_of("# top\n\n   # indented comment\n" + GOOD.replace("allow", "Allow") + "\n")
    assert len(engine.rules) == 1 and engine.rules[0].line == 4
    assert engine.rules[0].effect == "allow"


def test_five_and_six_column_lines():
    engine = engine_of(GOOD + "\n" + GOOD.replace("U0A", "U0B") + ", rds:ResourceTag/env=dev\n")
    plain, conditional = engine.rules
    assert plain.conditions == ()
    assert [c.text for c in conditional.conditions] == ["rds:ResourceTag/env=dev"]


def test_role_cycle_is_refused_at_the_closing_line():
    text = "g, role:a, role:b\ng, role:b, role:c\ng, U0A, role:a\ng, role:c, role:a\n"
    with pytest.raises(PolicyError) as caught:
        engine_of(text)
    assert caught.value.line == 4
    assert "role cycle: role:a -> role:b -> role:c -> role:a" in str(caught.value)


def _chain(links: int) -> str:
    nodes = ["U0A"] + [f"role:r{i}" for i in range(links)]
    return "\n".join(f"g, {a}, {b}" for a, b in zip(nodes, nodes[1:])) + "\n"


def test_role_chain_deeper_than_casbin_follows_is_refused():
    engine_of(_chain(MAX_HOPS))
    with pytest.raises(PolicyError) as caught:
        engine_of(_chain(MAX_HOPS + 1))
    assert "too deep" in str(caught.value) and caught.value.line == MAX_HOPS + 1
    assert "U0A -> role:r0" in str(caught.value)


def test_deep_role_graph_of_roles_only_is_refused_too():
    nodes = [f"role:r{i}" for i in range(12)]
    text = "\n".join(f"g, {a}, {b}" for a, b in zip(nodes, nodes[1:])) + "\n"
    with pytest.raises(PolicyError, match="too deep"):
        engine_of(text)


@pytest.mark.parametrize(("edit", "fragment"), [
    (lambda m: m.replace("r = sub, act, obj, grp, tags", "r = sub, obj, act"), "r must be"),
    (lambda m: m.replace("p = sub, act, obj, eft, cond, rule", "p = sub, obj, act"), "p must be"),
    (lambda m: m.replace("e = some(where (p.eft == allow)) && !some(where (p.eft == deny))",
                         "e = some(where (p.eft == allow))"), "deny-override"),
    (lambda m: m.replace("g = _, _", "g = _, _, _"), "g must be"),
    (lambda m: m.replace("arnMatch(r.obj, p.obj)", "keyMatch(r.obj, p.obj)"), "contract"),
    (lambda m: m.replace("arnMatch(r.obj, p.obj)", "nosuch(r.obj)"), "cannot be evaluated"),
    (lambda m: m.replace("arnMatch(r.obj, p.obj)", "arnMatch(r.obj, p.obj"), "not a valid"),
    (lambda m: m.split("[matchers]")[0], "missing [matchers]"),
])
def test_broken_model_is_refused(edit, fragment):
    with pytest.raises(PolicyError) as caught:
        PolicyEngine.from_text(edit(DEFAULT_MODEL_TEXT), GOOD)
    assert fragment in str(caught.value)
    assert caught.value.path == "model.conf"


def test_from_dir_reads_both_files_and_cites_their_paths(policy_dir):
    folder = policy_dir(GOOD + "\n")
    engine = PolicyEngine.from_dir(folder)
    assert engine.rules[0].path == str(folder / "policy.csv")
    assert engine.version == compute_version(DEFAULT_MODEL_TEXT, GOOD + "\n")
    d = engine.decide("U0A", "rds:CreateBackup", arn())
    assert f"{folder / 'policy.csv'}:1" in d.explain()


def test_from_dir_missing_file_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        PolicyEngine.from_dir(tmp_path)


def test_version_is_a_short_hash_of_both_files():
    a = engine_of(GOOD)
    assert len(a.version) == 12 and int(a.version, 16) >= 0
    assert engine_of(GOOD).version == a.version
    assert engine_of(GOOD + "\n").version != a.version
    other_model = DEFAULT_MODEL_TEXT.replace("# rdsbot's", "# the")
    assert PolicyEngine.from_text(other_model, GOOD).version != a.version


def test_shipped_model_file_is_the_default_model():
    from .conftest import POLICY_DIR
    assert (POLICY_DIR / "model.conf").read_text(encoding="utf-8") == DEFAULT_MODEL_TEXT


def test_model_error_names_the_line():
    broken = DEFAULT_MODEL_TEXT.replace("e = some(where (p.eft == allow)) && ", "e = ")
    with pytest.raises(PolicyError) as caught:
        PolicyEngine.from_text(broken, GOOD)
    line = caught.value.line
    assert line is not None and broken.splitlines()[line - 1].startswith("e = ")
