"""Property tests: the engine against a tiny independent reader of the contract.

The reference below is written from DESIGN.md's policy contract and
policies/README.md alone, with its own wildcard matcher (dynamic programming,
no regexes) and its own role walk; it shares no code with bot/policy. Random
policies over a small vocabulary make wildcards, nesting, groups, ``*``,
conditions and denies collide often.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.policy import DEFAULT_MODEL_TEXT, PolicyEngine
from bot.policy.matching import compile_wildcard, covers

# -- the reference ---------------------------------------------------------------


def ref_wildcard(pattern: str, text: str) -> bool:
    """``*`` = any run of characters; everything else literal."""
    m, n = len(pattern), len(text)
    ok = [[False] * (n + 1) for _ in range(m + 1)]
    ok[0][0] = True
    for i in range(1, m + 1):
        ok[i][0] = ok[i - 1][0] and pattern[i - 1] == "*"
        for j in range(1, n + 1):
            if pattern[i - 1] == "*":
                ok[i][j] = ok[i - 1][j] or ok[i][j - 1]
            else:
                ok[i][j] = ok[i - 1][j - 1] and pattern[i - 1] == text[j - 1]
    return ok[m][n]


@dataclass(frozen=True)
class RefRule:
    subject: str
    action: str
    resource: str
    effect: str
    conditions: tuple[tuple[str, str, str], ...]  # (key, op, value)


def ref_action(pattern: str, action: str) -> bool:
    if pattern == "*":
        return True  # a bare * is every action, the bot's own included (as in RAM)
    p_service, p_name = pattern.lower().split(":", 1)
    a_service, a_name = action.lower().split(":", 1)
    return p_service == a_service and ref_wildcard(p_name, a_name)


def ref_conditions(rule: RefRule, tags: dict[str, str] | None) -> bool:
    if not rule.conditions:
        return True
    if tags is None:
        return rule.effect == "deny"  # unknown tags: denies apply, allows don't
    for key, op, value in rule.conditions:
        present = key in tags and ref_wildcard(value, tags[key])
        if present != (op == "="):
            return False
    return True


def ref_decide(rules, grants, subject, action, resource, tags, groups) -> tuple[bool, set[int]]:
    """(allowed, indices of the rules that could have decided)."""
    holders = {subject, *groups}
    frontier = list(holders)
    while frontier:
        member = frontier.pop()
        for child, role in grants:
            if child == member and role not in holders:
                holders.add(role)
                frontier.append(role)
    matching = [i for i, r in enumerate(rules)
                if (r.subject == "*" or r.subject in holders)
                and ref_action(r.action, action)
                and ref_wildcard(r.resource, resource)
                and ref_conditions(r, tags)]
    denies = {i for i in matching if rules[i].effect == "deny"}
    allows = {i for i in matching if rules[i].effect == "allow"}
    if denies:
        return False, denies
    return bool(allows), allows


# -- random policies ---------------------------------------------------------------

USERS = ["U0A", "U0B", "U0C"]
GROUPS = ["usergroup:S0X", "usergroup:S0Y"]
ROLES = ["role:r0", "role:r1", "role:r2", "role:r3"]
ACTION_PATTERNS = ["rds:CreateBackup", "rds:Create*", "rds:*", "rds:Describe*", "rds:*Backup*",
                   "rdsbot:Approve", "rdsbot:*", "RDS:createbackup", "rds:CloneDBInstance", "*"]
REQUEST_ACTIONS = ["rds:CreateBackup", "rds:CloneDBInstance", "rds:DescribeBackups",
                   "rds:DescribeCrossRegionBackups", "rdsbot:Approve", "rdsbot:Remind"]
RESOURCE_PATTERNS = ["*", "acs:rds:*", "acs:rds:cn-hangzhou:*:dbinstance/*",
                     "acs:rds:cn-*:*:dbinstance/rm-1", "acs:rds:*:123:dbinstance/*",
                     "acs:rds:*:*:dbinstance/rm-1*", "acs:rds:*/rm-2",
                     "acs:rds:cn-shanghai:*:dbinstance/rm-2", "acs:rds:*:dbinstance/rm-1"]
REQUEST_RESOURCES = [f"acs:rds:{region}:{account}:dbinstance/{instance}"
                     for region in ("cn-hangzhou", "cn-shanghai")
                     for account in ("*", "123")
                     for instance in ("rm-1", "rm-2", "rm-1x")]
CONDITIONS = [("env", "=", "prod"), ("env", "!=", "prod"), ("env", "=", "p*"),
              ("team", "=", "db")]
TAGS = st.one_of(st.none(), st.dictionaries(st.sampled_from(["env", "team"]),
                                            st.sampled_from(["prod", "dev", "db", "pre"]),
                                            max_size=2))

rule_strategy = st.builds(
    RefRule,
    subject=st.sampled_from(USERS + GROUPS + ROLES + ["*"]),
    action=st.sampled_from(ACTION_PATTERNS),
    resource=st.sampled_from(RESOURCE_PATTERNS),
    effect=st.sampled_from(["allow", "allow", "deny"]),
    conditions=st.lists(st.sampled_from(CONDITIONS), max_size=2, unique=True).map(tuple),
)


@st.composite
def grants_strategy(draw):
    """Members to roles; roles only nest upwards in index order, so no cycles."""
    grants = set()
    for member in USERS + GROUPS:
        for role in draw(st.lists(st.sampled_from(ROLES), max_size=2, unique=True)):
            grants.add((member, role))
    for i, child in enumerate(ROLES):
        for parent in draw(st.lists(st.sampled_from(ROLES[i + 1:] or ROLES[-1:]), max_size=2,
                                    unique=True)):
            if parent != child:
                grants.add((child, parent))
    return sorted(grants)


request_strategy = st.tuples(
    st.sampled_from(USERS + ["U0NOBODY"]),
    st.sampled_from(REQUEST_ACTIONS),
    st.sampled_from(REQUEST_RESOURCES),
    TAGS,
    st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
)


def policy_text(rules, grants) -> str:
    lines = [f"g, {member}, {role}" for member, role in grants]
    for rule in rules:
        line = f"p, {rule.subject}, {rule.action}, {rule.resource}, {rule.effect}"
        if rule.conditions:
            line += ", " + " & ".join(f"rds:ResourceTag/{k}{op}{v}" for k, op, v in rule.conditions)
        lines.append(line)
    return "\n".join(lines) + "\n"


_SUBJECT_TERM = '(p.sub == "*" || g(r.sub, p.sub) || groupMatch(r.grp, p.sub))'
#: The shipped matcher with its terms in another order: the same contract, but not the shipped text, so
#: casbin's matcher judges every decision (the engine trusts its index only for the shipped matcher).
REORDERED_MODEL_TEXT = DEFAULT_MODEL_TEXT.replace(f"m = {_SUBJECT_TERM} && actionMatch(r.act, p.act)",
                                                  f"m = actionMatch(r.act, p.act) && {_SUBJECT_TERM}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(rule_strategy, max_size=12), grants=grants_strategy(),
       requests=st.lists(request_strategy, min_size=1, max_size=8))
def test_engine_agrees_with_reference(rules, grants, requests):
    agrees_with_reference(DEFAULT_MODEL_TEXT, rules, grants, requests)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=st.lists(rule_strategy, max_size=12), grants=grants_strategy(),
       requests=st.lists(request_strategy, min_size=1, max_size=8))
def test_engine_judged_by_casbin_agrees_with_reference(rules, grants, requests):
    agrees_with_reference(REORDERED_MODEL_TEXT, rules, grants, requests)


def agrees_with_reference(model, rules, grants, requests) -> None:
    engine = PolicyEngine.from_text(model, policy_text(rules, grants))
    first_rule_line = len(grants) + 1
    for subject, action, resource, tags, groups in requests:
        decision = engine.decide(subject, action, resource, tags=tags, groups=groups)
        expected, deciders = ref_decide(rules, grants, subject, action, resource, tags, groups)
        assert decision.allowed is expected, decision.explain()
        # the rule named is one that really decided, in the reference's eyes
        if deciders:
            assert decision.rule is not None
            assert decision.rule.line - first_rule_line in deciders
        else:
            assert decision.rule is None
        # the index never hides a line from casbin: same answer as scanning every line
        assert engine.enforce_all(subject, action, resource, tags=tags,
                                  groups=groups) is expected


@settings(max_examples=500, deadline=None)
@given(pattern=st.text(alphabet="ab:/*", max_size=8), text=st.text(alphabet="ab:/*", max_size=8))
def test_wildcard_matcher_agrees_with_reference(pattern, text):
    assert bool(compile_wildcard(pattern)(text)) is ref_wildcard(pattern, text)


@settings(max_examples=300, deadline=None)
@given(general=st.text(alphabet="ab*", max_size=6), specific=st.text(alphabet="ab*", max_size=6),
       fills=st.lists(st.text(alphabet="ab:", max_size=3), min_size=6, max_size=6))
def test_covers_is_sound(general, specific, fills):
    """If ``general`` covers ``specific``, every instance of ``specific`` matches ``general``."""
    if covers(general, specific):
        parts = specific.split("*")
        instance = parts[0] + "".join(fill + part for fill, part in zip(fills, parts[1:]))
        assert ref_wildcard(general, instance)


def test_concurrent_decisions_match_sequential_ones():
    """Many threads on one engine: no errors, the same answers as one thread."""
    rules = [RefRule(s, a, r, e, ()) for s in USERS + ROLES + ["*"] for a in ACTION_PATTERNS[:4]
             for r, e in (("acs:rds:*", "allow"), ("acs:rds:*:*:dbinstance/rm-2", "deny"))]
    grants = [("U0A", "role:r0"), ("role:r0", "role:r1"), ("U0B", "role:r2"),
              ("usergroup:S0X", "role:r3")]
    engine = PolicyEngine.from_text(DEFAULT_MODEL_TEXT, policy_text(rules, grants))
    requests = [(u, a, r, None, g) for u in USERS for a in REQUEST_ACTIONS
                for r in REQUEST_RESOURCES for g in ((), ("usergroup:S0X",))]
    expected = [engine.decide(u, a, r, tags=t, groups=g).allowed for u, a, r, t, g in requests]
    errors: list[BaseException] = []
    mismatches: list[int] = []

    def work() -> None:
        try:
            for _ in range(3):
                for i, (u, a, r, t, g) in enumerate(requests):
                    if engine.decide(u, a, r, tags=t, groups=g).allowed is not expected[i]:
                        mismatches.append(i)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and mismatches == []
