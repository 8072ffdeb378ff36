"""What makes decisions and loads fast must not change an answer: the index without casbin's re-check,
casbin's per-thread views for an edited matcher, the per-action tables, the string wildcard matcher,
the pruned role walk and the validation caches of the parser."""

from __future__ import annotations

import itertools
import threading

import pytest

from bot.policy import DEFAULT_MODEL_TEXT, PolicyEngine, PolicyError, PolicyStore
from bot.policy.index import TABLE_CACHE_LIMIT
from bot.policy.matching import compile_wildcard

from .conftest import arn, engine_of
from .test_properties import REORDERED_MODEL_TEXT as REORDERED
from .test_properties import ref_wildcard

#: A stricter matcher: nobody may act as U0EVIL, whatever the lines say.
STRICTER = DEFAULT_MODEL_TEXT.replace("(p.cond == \"\" || conditionMatch(r.tags, p.cond, p.eft))",
                                      "(p.cond == \"\" || conditionMatch(r.tags, p.cond, p.eft)) && r.sub != \"U0EVIL\"")

POLICY = """\
g, U0EVIL, role:ops
g, U0A, role:ops
g, role:ops, role:base
p, role:base, rds:Create*, acs:rds:*, allow
p, role:ops, rds:CreateBackup, acs:rds:*:*:dbinstance/rm-2, deny
p, U0A, rds:*, acs:rds:cn-*:*:dbinstance/rm-1*, allow, rds:ResourceTag/env=dev
p, *, rds:DescribeDBInstances, *, allow
"""


def test_the_variant_models_are_what_they_claim():
    assert REORDERED != DEFAULT_MODEL_TEXT and STRICTER != DEFAULT_MODEL_TEXT
    assert engine_of(POLICY)._core.contract_matcher
    assert not PolicyEngine.from_text(REORDERED, POLICY)._core.contract_matcher


def test_an_edited_matcher_is_still_obeyed():
    shipped, stricter = engine_of(POLICY), PolicyEngine.from_text(STRICTER, POLICY)
    assert shipped.decide("U0EVIL", "rds:CreateBackup", arn()).allowed
    refused = stricter.decide("U0EVIL", "rds:CreateBackup", arn())
    assert not refused.allowed and refused.rule is None  # casbin refused the line the index picked
    allowed = stricter.decide("U0A", "rds:CreateBackup", arn())
    assert allowed.allowed and allowed.rule == shipped.decide("U0A", "rds:CreateBackup", arn()).rule


def test_casbin_judging_each_decision_agrees_with_the_index():
    shipped, reordered = engine_of(POLICY), PolicyEngine.from_text(REORDERED, POLICY)
    for subject, action, instance, tags in itertools.product(
            ("U0A", "U0EVIL", "U0NOBODY"), ("rds:CreateBackup", "rds:CloneDBInstance", "rds:DescribeDBInstances"),
            ("rm-1", "rm-2", "rm-1x"), (None, {}, {"env": "dev"})):
        ours, casbins = (e.decide(subject, action, arn(instance), tags=tags) for e in (shipped, reordered))
        assert (ours.allowed, ours.rule, ours.path) == (casbins.allowed, casbins.rule, casbins.path)


def test_a_matcher_that_lets_failed_conditions_deny_is_refused():
    loose = DEFAULT_MODEL_TEXT.replace("(p.cond == \"\" || conditionMatch", "(p.cond == \"\" || p.eft == \"deny\" || "
                                       "conditionMatch")
    with pytest.raises(PolicyError, match="contract"):
        PolicyEngine.from_text(loose, POLICY)


@pytest.mark.parametrize("model", [DEFAULT_MODEL_TEXT, REORDERED])
def test_threads_share_an_engine_and_casbin_views_stay_per_thread(model):
    engine = PolicyEngine.from_text(model, POLICY)
    asks = [(s, a, arn(i), t) for s in ("U0A", "U0EVIL") for a in ("rds:CreateBackup", "rds:CloneDBInstance")
            for i in ("rm-1", "rm-2") for t in (None, {"env": "dev"})]
    expected = [engine.decide(s, a, r, tags=t).rule for s, a, r, t in asks]
    wrong: list[int] = []

    def work() -> None:
        for _ in range(20):
            wrong.extend(i for i, (s, a, r, t) in enumerate(asks) if engine.decide(s, a, r, tags=t).rule != expected[i])

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_a_reload_is_seen_by_the_next_decision_after_the_tables_were_built(policy_dir):
    folder = policy_dir(POLICY)
    store = PolicyStore(folder)
    assert store.current().decide("U0A", "rds:CreateBackup", arn()).allowed  # builds CreateBackup's table
    (folder / "policy.csv").write_text(POLICY + "p, role:base, rds:*Backup, *, deny\n", encoding="utf-8")
    assert store.reload_if_changed() is not None
    decision = store.current().decide("U0A", "rds:CreateBackup", arn())
    assert not decision.allowed and decision.rule is not None and decision.rule.text.endswith("*, deny")
    assert decision.path == ("U0A", "role:ops", "role:base")


def test_actions_beyond_the_table_cache_are_still_decided():
    engine = engine_of(POLICY)
    for i in range(TABLE_CACHE_LIMIT + 5):
        assert not engine.decide("U0A", f"rds:Unknown{i}", arn()).allowed
    assert engine.decide("U0A", "rds:CreateBackup", arn()).allowed
    assert engine.decide("U0A", "rds:RestoreDdrTable", arn("rm-1"), tags={"env": "dev"}).allowed
    assert not engine.decide("U0A", "rds:RestoreDdrTable", arn("rm-1"), tags={"env": "prod"}).allowed


def test_wildcards_match_as_the_reference_on_every_short_pattern():
    for length in range(6):
        for pattern in map("".join, itertools.product("ab*", repeat=length)):
            matcher = compile_wildcard(pattern)
            for size in range(6):
                for text in map("".join, itertools.product("ab", repeat=size)):
                    assert bool(matcher(text)) is ref_wildcard(pattern, text), (pattern, text)


def test_the_role_walk_still_names_the_first_shortest_chain():
    engine = engine_of("g, U0A, role:long\ng, role:long, role:mid\ng, role:mid, role:top\n"
                       "g, U0A, role:decoy\ng, role:decoy, role:elsewhere\ng, U0A, role:short\n"
                       "g, role:short, role:top\ng, U0A, role:also\ng, role:also, role:top\n"
                       "p, role:top, rds:CreateBackup, *, allow\n")
    assert engine.decide("U0A", "rds:CreateBackup", arn()).path == ("U0A", "role:short", "role:top")


def test_a_bad_line_is_reported_on_every_load_not_only_the_first():
    bad = "p, U0A, rds:CreateBackup, acs:ecs:*, allow\np, U0A, rds:CreateBackup, *, allow, env=prod\n"
    messages = []
    for _ in range(2):
        with pytest.raises(PolicyError) as caught:
            engine_of(bad)
        messages.append([message for _line, message in caught.value.problems])
    assert messages[0] == messages[1] and len(messages[0]) == 2
