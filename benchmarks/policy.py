"""Policy: decisions at 10 / 1,000 / 10,000 lines beside plain pycasbin, reload, and who may approve.

One population for every size (2,000 users; 500 roles nested four levels deep, each
holding one or two roles of the level above; 50 Slack user groups of 40 members that
hold roles too) and ``p`` lines drawn from one mix: subjects mostly roles, then users,
groups and a few ``*``; a third of the actions and most resources wildcards (``rds:*``,
``rdsbot:*``, ``*``, ``acs:rds:*:*:dbinstance/rm-t3-*``); ~12 % denies and ~12 % tag
conditions. Queries are real people (with their groups) asking for one of the bot's
actions on one instance, with known, empty or unknown tags.

Beside ``PolicyEngine.decide`` (what every request, vote and picker asks), in the same
run: plain pycasbin — a ``casbin.Enforcer`` over the same model and lines through an
ordinary adapter, with RAM wildcard functions written here, not bot.policy's — and the
policy tests' reference reader of the contract (``tests/policy/test_properties.py``:
deny wins across roles, ``rds:*`` never covers ``rdsbot:``), which also says which
lines could have decided, so the rule the engine names is checked too. Mismatches
with either are counted on every query they were asked.

Reload is what the bot's watcher does when policy.csv changes
(``PolicyStore.reload_if_changed``: read, parse, index), then the first decision.
"Who may approve" is ``bot.workflow.routing.approvers_for`` on a card, checked against
deciding each person one by one as a vote does.
"""

from __future__ import annotations

import functools
import gc
import random
import re
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import casbin
from casbin.persist.adapter import Adapter, load_policy_line

from benchmarks.core import Figure, Size, median, percentile
from bot.policy import DEFAULT_MODEL_TEXT, KNOWN_ACTIONS, PolicyEngine, PolicyStore

BENCH = "policy"
SIZES = (10, 1_000, 10_000)
USERS, ROLE_LEVELS, GROUPS, GROUP_SIZE = 2_000, (50, 100, 150, 200), 50, 40
REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1")
ACCOUNTS = ("1234567890123456", "2345678901234567")
TEAMS, INSTANCES = 40, 25
WILDCARD_ACTIONS = ("rds:Describe*", "rds:*", "rds:Create*", "rds:Clone*", "rds:*Backup*", "rdsbot:*", "*")
TAG_CONDITIONS = ("rds:ResourceTag/env=prod", "rds:ResourceTag/env!=prod", "rds:ResourceTag/env=p*",
                  "rds:ResourceTag/team=db & rds:ResourceTag/env!=dev")
ENVS = ("prod", "staging", "dev", "pre")
DECIDE_GOAL_MS, RELOAD_GOAL_S, APPROVERS_GOAL_MS = 0.1, 0.2, 50.0

Query = tuple[str, str, str, "dict[str, str] | None", tuple[str, ...]]


@dataclass
class Population:
    """People, roles and groups, and the ``g`` lines that tie them."""

    users: list[str]
    roles: list[str]
    groups: dict[str, frozenset[str]]  # bare Slack group ID -> members
    groups_of: dict[str, tuple[str, ...]]  # user -> usergroup:IDs
    g_lines: list[str]


def population(rng: random.Random) -> Population:
    users = [f"U{i:08d}" for i in range(USERS)]
    levels = [[f"role:l{depth}-{i}" for i in range(count)] for depth, count in enumerate(ROLE_LEVELS)]
    lines = [f"g, {role}, {parent}" for depth in range(1, len(levels)) for role in levels[depth]
             for parent in rng.sample(levels[depth - 1], rng.randint(1, 2))]
    roles = [role for level in levels for role in level]
    lines += [f"g, {user}, {role}" for user in users for role in rng.sample(roles, rng.randint(1, 3))]
    groups = {f"S{i:06d}": frozenset(rng.sample(users, GROUP_SIZE)) for i in range(GROUPS)}
    lines += [f"g, usergroup:{group}, {role}" for group in groups for role in rng.sample(roles, rng.randint(1, 2))]
    groups_of: dict[str, tuple[str, ...]] = {}
    for group, members in sorted(groups.items()):
        for member in members:
            groups_of[member] = (*groups_of.get(member, ()), f"usergroup:{group}")
    return Population(users, roles, groups, groups_of, lines)


def arn_pattern(rng: random.Random) -> str:
    team, shape = rng.randrange(TEAMS), rng.random()
    if shape < 0.08:
        return "acs:rds:*"
    if shape < 0.3:
        return f"acs:rds:{rng.choice(REGIONS)}:*:dbinstance/*"
    if shape < 0.65:
        return f"acs:rds:*:{rng.choice(ACCOUNTS)}:dbinstance/rm-t{team}-*"
    return f"acs:rds:{rng.choice(REGIONS)}:*:dbinstance/rm-t{team}-{rng.randrange(INSTANCES)}"


def policy_lines(pop: Population, count: int, rng: random.Random) -> list[str]:
    """``count`` p lines of the mix (the module docstring)."""
    out = []
    for _ in range(count):
        pick = rng.random()
        subject = (rng.choice(pop.roles) if pick < 0.6 else rng.choice(pop.users) if pick < 0.9
                   else f"usergroup:{rng.choice(sorted(pop.groups))}" if pick < 0.99 else "*")
        action = rng.choice(WILDCARD_ACTIONS) if rng.random() < 0.3 else rng.choice(KNOWN_ACTIONS)
        effect = "deny" if rng.random() < 0.12 else "allow"
        resource = arn_pattern(rng)
        if subject == "*" and (effect == "deny" or action == "*"):
            resource = resource.replace("dbinstance/*", "dbinstance/rm-t0-*")  # no deny of everything
        line = f"p, {subject}, {action}, {resource}, {effect}"
        if rng.random() < 0.12:
            line += f", {rng.choice(TAG_CONDITIONS)}"
        out.append(line)
    return out


def queries(pop: Population, count: int, rng: random.Random) -> list[Query]:
    out = []
    for _ in range(count):
        user = rng.choice(pop.users)
        resource = (f"acs:rds:{rng.choice(REGIONS)}:{rng.choice(ACCOUNTS)}:dbinstance/"
                    f"rm-t{rng.randrange(TEAMS)}-{rng.randrange(INSTANCES)}")
        pick = rng.random()
        tags = None if pick < 0.15 else {} if pick < 0.25 else {"env": rng.choice(ENVS), "team": rng.choice(("db", "app"))}
        out.append((user, rng.choice(KNOWN_ACTIONS), resource, tags, pop.groups_of.get(user, ())))
    return out


# -- plain pycasbin: the same model and lines, RAM wildcards written here -------------------------

@functools.lru_cache(maxsize=None)
def _wildcard(pattern: str, fold: bool = False) -> Callable[[str], Any]:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.compile(regex, re.DOTALL | (re.IGNORECASE if fold else 0)).fullmatch


@functools.lru_cache(maxsize=None)
def _parsed_conditions(text: str) -> tuple[tuple[str, str, str], ...]:
    """``rds:ResourceTag/env=prod & ...`` -> ((key, op, value), ...)."""
    out = []
    for part in text.split("&"):
        op = "!=" if "!=" in part else "="
        key, value = part.split(op, 1)
        out.append((key.strip().removeprefix("rds:ResourceTag/"), op, value.strip()))
    return tuple(out)


def _condition_match(tags: Mapping[str, str] | None, cond: str, effect: str) -> bool:
    if tags is None:
        return effect == "deny"  # unknown tags: conditioned denies apply, conditioned allows do not
    return all((key in tags and _wildcard(value)(tags[key]) is not None) is (op == "=")
               for key, op, value in _parsed_conditions(cond))


class _Lines(Adapter):
    """casbin's adapter interface over lines in memory (as its file adapter reads them)."""

    def __init__(self, lines: Sequence[str]) -> None:
        self._lines = lines

    def load_policy(self, model: Any) -> None:
        for line in self._lines:
            load_policy_line(line, model)


def casbin_lines(pop: Population, lines: Sequence[str]) -> list[str]:
    """The lines as the model's ``p = sub, act, obj, eft, cond, rule`` reads them (rule: the index)."""
    out = list(pop.g_lines)
    for number, line in enumerate(lines):
        fields = line.split(", ", 5)[1:]
        out.append("p, " + ", ".join([*fields[:4], fields[4] if len(fields) > 4 else "", str(number)]))
    return out


def plain_casbin(pop: Population, lines: Sequence[str]) -> casbin.Enforcer:
    model = casbin.model.Model()
    model.load_model_from_text(DEFAULT_MODEL_TEXT)
    enforcer = casbin.Enforcer(model, _Lines(casbin_lines(pop, lines)))
    roles = enforcer.get_role_manager()
    enforcer.add_function("actionMatch", lambda act, pattern: _wildcard(pattern, True)(act) is not None)
    enforcer.add_function("arnMatch", lambda obj, pattern: _wildcard(pattern)(obj) is not None)
    enforcer.add_function("groupMatch", lambda groups, sub: any(roles.has_link(g, sub) for g in groups))
    enforcer.add_function("conditionMatch", _condition_match)
    return enforcer


# -- the policy tests' reference reader ------------------------------------------------------------

def reference(pop: Population, lines: Sequence[str]) -> Callable[[Query], tuple[bool, set[int]]]:
    from tests.policy.test_properties import RefRule, ref_decide  # the tests' reader, used as they use it

    rules = []
    for line in lines:
        _, subject, action, resource, effect, *cond = line.split(", ", 5)
        rules.append(RefRule(subject, action, resource, effect, _parsed_conditions(cond[0]) if cond else ()))
    grants = [tuple(line.split(", ")[1:]) for line in pop.g_lines]
    return lambda q: ref_decide(rules, grants, q[0], q[1], q[2], q[3], list(q[4]))


# -- decisions ------------------------------------------------------------------------------------

def _timed(decide: Callable[[Query], Any], batch: Sequence[Query],
           cpu: list[float] | None = None) -> tuple[list[float], list[Any]]:
    """Per-query latency in ms, and the answers; with ``cpu``, each query's CPU time in ms is appended to it
    (what a busy machine's scheduler does not add: a decision that spans a preemption waits a whole slice)."""
    latencies, answers = [], []
    clock, thread_clock = time.perf_counter_ns, time.thread_time_ns
    for query in batch:
        began_cpu = thread_clock()
        began = clock()
        answers.append(decide(query))
        latencies.append((clock() - began) / 1e6)
        if cpu is not None:
            cpu.append((thread_clock() - began_cpu) / 1e6)
    return latencies, answers


def _index_of(decision: Any, pop: Population) -> int | None:
    """The index among the p lines of the rule a decision names (the g lines come first in the file)."""
    return None if decision.rule is None else decision.rule.line - len(pop.g_lines) - 1


def decisions(size: Size, pop: Population, lines: Sequence[str], rng: random.Random) -> tuple[Figure, dict[str, int]]:
    """p99 of ``decide`` (median of rounds) beside plain pycasbin; mismatch counts with both judges."""
    engine = PolicyEngine.from_text(DEFAULT_MODEL_TEXT, "\n".join([*pop.g_lines, *lines]) + "\n", source="bench.csv")
    plain, judge = plain_casbin(pop, lines), reference(pop, lines)

    def ours(q: Query) -> Any:
        return engine.decide(q[0], q[1], q[2], tags=q[3], groups=q[4])

    # A running bot has asked about every action before: its per-action tables exist (other queries than timed).
    _timed(ours, queries(pop, size.pick(500, 300, 50), rng))
    gc.collect()  # not the previous phase's garbage during this one's timing
    batch = queries(pop, size.pick(5_000, 2_000, 200), rng)
    p99s, p50s, cpu_p99s, answers = [], [], [], []
    for _ in range(size.pick(5, 3, 1)):
        cpu: list[float] = []
        latencies, answers = _timed(ours, batch, cpu)
        p99s.append(percentile(latencies, 99))
        p50s.append(median(latencies))
        cpu_p99s.append(percentile(cpu, 99))
    scale = 1 if len(lines) <= 10 else 20 if len(lines) <= 1_000 else 100  # plain casbin scans every line
    asked = batch[: max(5, len(batch) // scale)]
    plain_latencies, plain_answers = _timed(lambda q: plain.enforce_ex(q[0], q[1], q[2], q[4], q[3]), asked)
    # The same answer, and the same line named (casbin's explanation: the first deny, else the last allow).
    vs_casbin = sum((d.allowed, _index_of(d, pop)) != (allowed, int(row[-1]) if row else None)
                    for d, (allowed, row) in zip(answers, plain_answers, strict=False))
    checked = batch[: size.pick(300, 60, 10)]
    vs_reference = 0
    for query, decision in zip(checked, answers, strict=False):
        allowed, deciders = judge(query)
        # The rule named must be one the reference says could decide (none for a default deny).
        named = _index_of(decision, pop)
        vs_reference += decision.allowed != allowed or (named not in deciders if deciders else named is not None)
    figure = Figure(BENCH, f"decision p99 at {len(lines):,} lines", round(median(p99s), 4), "ms", "<=", DECIDE_GOAL_MS,
                    reference=round(percentile(plain_latencies, 99), 3), reference_label="plain pycasbin",
                    note=f"median of {len(p99s)} rounds of {len(batch):,} queries; pycasbin on {len(asked):,}",
                    extra={"p99_rounds_ms": [round(p, 4) for p in p99s], "p50_ms": round(median(p50s), 4),
                           "cpu_p99_ms": round(median(cpu_p99s), 4),
                           "pycasbin_p50_ms": round(median(plain_latencies), 3),
                           "allowed_share": round(sum(d.allowed for d in answers) / len(answers), 3),
                           "explicit_deny_share": round(sum(d.rule is not None and not d.allowed for d in answers)
                                                        / len(answers), 3)})
    return figure, {"pycasbin": vs_casbin, "pycasbin_asked": len(asked), "reference": vs_reference,
                    "reference_asked": len(checked)}


# -- reload -----------------------------------------------------------------------------------------

def reload(size: Size, pop: Population, lines: Sequence[str], rng: random.Random) -> Figure:
    """``PolicyStore.reload_if_changed`` after policy.csv changed (median of rounds), then the first decision."""
    probe = queries(pop, 1, rng)[0]
    texts = ["\n".join([*pop.g_lines, *lines, f"# edit {i}"]) + "\n" for i in range(2)]
    took, first, plain = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        (path / "model.conf").write_text(DEFAULT_MODEL_TEXT, encoding="utf-8")
        (path / "policy.csv").write_text(texts[1], encoding="utf-8")
        store = PolicyStore(path)
        for i in range(size.pick(5, 3, 1)):
            (path / "policy.csv").write_text(texts[i % 2], encoding="utf-8")
            gc.collect()  # the engine replaced last round is garbage with cycles: not collected mid-timing
            began = time.perf_counter()
            event = store.reload_if_changed()
            took.append(time.perf_counter() - began)
            if event is None or not event.ok:
                raise RuntimeError(f"the policy did not reload: {event}")
            began = time.perf_counter()
            store.current().decide(probe[0], probe[1], probe[2], tags=probe[3], groups=probe[4])
            first.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            plain_casbin(pop, lines)
            plain.append(time.perf_counter() - began)
    return Figure(BENCH, f"reload at {len(lines):,} lines", round(median(took), 3), "s", "<", RELOAD_GOAL_S,
                  reference=round(median(plain), 3), reference_label="plain pycasbin enforcer built",
                  note=f"PolicyStore.reload_if_changed, median of {len(took)}",
                  extra={"rounds_s": [round(t, 3) for t in took], "first_decision_ms": round(median(first), 3)})


# -- who may approve ----------------------------------------------------------------------------------

class _Groups:
    """Slack user groups with fixed members (the GroupResolver port, no Slack)."""

    def __init__(self, members: dict[str, frozenset[str]]) -> None:
        self._members = members

    def members(self, group_id: str) -> frozenset[str] | None:
        return self._members.get(group_id, frozenset())

    def membership(self, user_id: str, candidates: Sequence[str]) -> tuple[list[str], list[str]]:
        bare = [c.removeprefix("usergroup:") for c in candidates]
        return [f"usergroup:{g}" for g in bare if user_id in self._members.get(g, frozenset())], []


def _request(rid: str, requester: str, resources: Sequence[tuple[str, str, dict[str, str]]], pool: str) -> Any:
    from bot.store.models import Request

    rows = [{"role": role, "instance_id": arn.rsplit("/", 1)[-1], "region_id": arn.split(":")[2], "arn": arn,
             "tags": tags} for role, arn, tags in resources]
    return Request(id=rid, operation="clone", state="pending_approval", requester=requester, channel_id="C0OPS",
                   region_id=rows[0]["region_id"], instance_id=rows[0]["instance_id"], resource=rows[0]["arn"],
                   params={}, tags=rows[0]["tags"], resources=rows, approvals_needed=2, approver_pool=pool,
                   policy_version="bench")


def approvers(size: Size, pop: Population, lines: Sequence[str], rng: random.Random) -> list[Figure]:
    """``approvers_for`` on two cards (median of runs, worst case) beside deciding each person one by one."""
    from bot.workflow.access import APPROVE_ACTION, stored_resources
    from bot.workflow.routing import approvers_for, everyone

    approving = rng.sample(pop.roles, 25)  # so there is someone to find
    extra = [f"p, {role}, rdsbot:Approve, acs:rds:*:*:dbinstance/*, allow" for role in approving]
    extra += [f"p, usergroup:{g}, rdsbot:Approve, acs:rds:*:*:dbinstance/rm-t1-*, allow" for g in sorted(pop.groups)[:5]]
    extra.append(f"p, {approving[1]}, rdsbot:*, acs:rds:*:*:dbinstance/*, deny, rds:ResourceTag/env=prod")
    engine = PolicyEngine.from_text(DEFAULT_MODEL_TEXT, "\n".join([*pop.g_lines, *lines, *extra]) + "\n")
    deps = SimpleNamespace(policy=SimpleNamespace(current=lambda: engine), groups=_Groups(pop.groups))
    arn = "acs:rds:{}:{}:dbinstance/rm-t1-{}"
    cases = [_request("clone-bench", pop.users[0], [("source", arn.format(REGIONS[0], ACCOUNTS[0], 3),
                                                     {"env": "prod"})], ""),
             _request("copy-bench", pop.users[1], [("source", arn.format(REGIONS[1], ACCOUNTS[0], 4), {"env": "dev"}),
                                                   ("target", arn.format(REGIONS[0], ACCOUNTS[1], 5), {})],
                      approving[0])]
    medians, first, slow, differ, found = [], [], [], 0, []
    for req in cases:
        gc.collect()
        began = time.perf_counter()
        approvers_for(deps, req, voted=[])  # type: ignore[arg-type]
        first.append((time.perf_counter() - began) * 1000)
        runs = []
        for _ in range(size.pick(20, 10, 2)):
            began = time.perf_counter()
            answer = approvers_for(deps, req, voted=[])  # type: ignore[arg-type]
            runs.append((time.perf_counter() - began) * 1000)
        medians.append(median(runs))
        began = time.perf_counter()
        people, _unknown = everyone(deps, engine)  # type: ignore[arg-type]
        expected = sorted(user for user, (groups, _u) in people.items() if user != req.requester
                          and all(engine.decide(user, APPROVE_ACTION, r.arn, tags=r.tags, groups=groups).allowed
                                  for r in stored_resources(req))
                          and (not req.approver_pool or req.approver_pool in engine.roles_of(user, groups)))
        slow.append((time.perf_counter() - began) * 1000)
        differ += list(answer.people) != expected
        found.append(len(expected))
    return [Figure(BENCH, f"who may approve one request ({USERS:,} users)", round(max(medians), 2), "ms", "<",
                   APPROVERS_GOAL_MS, reference=round(max(slow), 1), reference_label="deciding each person",
                   note="bot.workflow.routing.approvers_for, worst of 2 cards, median of runs",
                   extra={"medians_ms": [round(m, 2) for m in medians], "first_call_ms": [round(f, 2) for f in first],
                          "approvers_found": found}),
            Figure(BENCH, "approver lists differing from deciding each person", differ, "", "==", 0)]


def run(size: Size) -> list[Figure]:
    rng = random.Random(15)
    pop = population(rng)
    figures: list[Figure] = []
    counts: dict[str, int] = {}
    biggest: list[str] = []
    for lines_count in SIZES if size is not Size.TINY else (10, 100, 1_000):  # tiny: seconds, figures mean nothing
        biggest = policy_lines(pop, lines_count, rng)
        figure, found = decisions(size, pop, biggest, rng)
        figures.append(figure)
        for key, value in found.items():
            counts[key] = counts.get(key, 0) + value
    for judge, label in (("pycasbin", "plain pycasbin"), ("reference", "the tests' reference")):
        figures.append(Figure(BENCH, f"decisions or named rules differing from {label}", counts[judge], "", "==", 0,
                              note=f"{counts[judge + '_asked']:,} queries over the three sizes"))
    figures.append(reload(size, pop, biggest, rng))
    figures.extend(approvers(size, pop, biggest, rng))
    return figures
