"""Policy decision speed: PolicyEngine.decide vs plain casbin enforce on the same lines.

    .venv/bin/python benchmarks/policy_bench.py [--queries 5000] [--seed 7]

Policies of 10, 1,000 and 10,000 ``p`` lines (plus their ``g`` lines) with a
realistic mix: many users, roles nested up to three levels, user groups, a few
rules for everyone, wildcard actions and ARNs, ~15 % denies, ~10 % tag
conditions. Both sides use the same model and custom functions; plain casbin
scans every line, so it gets fewer queries at 10,000 lines. Every sampled
query is also checked for the same answer on both sides. Goal: decide p99 < 1 ms
at 10,000 lines.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.policy import DEFAULT_MODEL_TEXT, PolicyEngine  # noqa: E402
from bot.policy.actions import KNOWN_ACTIONS  # noqa: E402

REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1")
WILDCARD_ACTIONS = ("rds:Describe*", "rds:*", "rds:Create*", "rds:Clone*", "rdsbot:*")
ENVS = ("prod", "staging", "dev")


def make_policy(lines: int, rng: random.Random) -> tuple[str, dict]:
    """A policy text with ``lines`` p lines, and the population to query it with."""
    n_users = max(5, lines // 5)
    n_roles = max(3, lines // 20)
    n_groups = max(1, lines // 200)
    n_teams = max(2, lines // 100)
    users = [f"U{i:07d}" for i in range(n_users)]
    groups = [f"S{i:05d}" for i in range(n_groups)]
    # Three levels: base roles, roles nesting one base role, roles nesting a level-1 role.
    levels = [[f"role:l0-{i}" for i in range(max(1, n_roles // 6))],
              [f"role:l1-{i}" for i in range(max(1, n_roles // 3))],
              [f"role:l2-{i}" for i in range(max(1, n_roles - n_roles // 6 - n_roles // 3))]]
    roles = [r for level in levels for r in level]
    out = ["# generated benchmark policy"]
    for role in levels[1]:
        out.append(f"g, {role}, {rng.choice(levels[0])}")
    for role in levels[2]:
        out.append(f"g, {role}, {rng.choice(levels[1])}")
    for user in users:
        for role in rng.sample(roles, k=min(len(roles), rng.randint(1, 3))):
            out.append(f"g, {user}, {role}")
    for group in groups:
        out.append(f"g, usergroup:{group}, {rng.choice(roles)}")
    g_lines = len(out) - 1
    for _ in range(lines):
        pick = rng.random()
        if pick < 0.6:
            subject = rng.choice(roles)
        elif pick < 0.92:
            subject = rng.choice(users)
        elif pick < 0.99:
            subject = f"usergroup:{rng.choice(groups)}"
        else:
            subject = "*"
        action = (rng.choice(WILDCARD_ACTIONS) if rng.random() < 0.3
                  else rng.choice(KNOWN_ACTIONS))
        shape = rng.random()
        team = rng.randrange(n_teams)
        if shape < 0.3:
            resource = "acs:rds:*:*:dbinstance/*"
        elif shape < 0.6:
            resource = f"acs:rds:{rng.choice(REGIONS)}:*:dbinstance/rm-t{team}-*"
        elif shape < 0.9:
            resource = f"acs:rds:{rng.choice(REGIONS)}:*:dbinstance/rm-t{team}-{rng.randrange(20)}"
        else:
            resource = "acs:rds:*"
        effect = "deny" if rng.random() < 0.15 else "allow"
        line = f"p, {subject}, {action}, {resource}, {effect}"
        if rng.random() < 0.1:
            op = rng.choice(("=", "!="))
            line += f", rds:ResourceTag/env{op}{rng.choice(ENVS)}"
        out.append(line)
    population = {"users": users, "groups": groups, "teams": n_teams, "g_lines": g_lines}
    return "\n".join(out) + "\n", population


def make_queries(population: dict, count: int, rng: random.Random) -> list[tuple]:
    queries = []
    for _ in range(count):
        user = rng.choice(population["users"])
        groups = tuple(rng.sample(population["groups"],
                                  k=min(len(population["groups"]), rng.choice((0, 0, 1, 2)))))
        resource = (f"acs:rds:{rng.choice(REGIONS)}:*:dbinstance/"
                    f"rm-t{rng.randrange(population['teams'])}-{rng.randrange(20)}")
        pick = rng.random()
        tags = None if pick < 0.2 else ({} if pick < 0.3 else {"env": rng.choice(ENVS)})
        queries.append((user, rng.choice(KNOWN_ACTIONS), resource, tags, groups))
    return queries


def timed(func, queries: list[tuple]) -> tuple[list[float], list[bool]]:
    latencies, answers = [], []
    for user, action, resource, tags, groups in queries:
        start = time.perf_counter_ns()
        answer = func(user, action, resource, tags=tags, groups=groups)
        latencies.append((time.perf_counter_ns() - start) / 1e6)
        answers.append(answer if isinstance(answer, bool) else answer.allowed)
    return latencies, answers


def summary(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    rate = len(ordered) / (sum(ordered) / 1000)
    return (f"  {name:<22} {rate:>10,.0f} decisions/s   p50 {p50:7.3f} ms   "
            f"p99 {p99:7.3f} ms   ({len(ordered)} queries)")


def threaded_rate(engine: PolicyEngine, queries: list[tuple], threads: int) -> float:
    def work(chunk: list[tuple]) -> None:
        for user, action, resource, tags, groups in chunk:
            engine.decide(user, action, resource, tags=tags, groups=groups)

    chunks = [queries[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(queries) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"python {sys.version.split()[0]}, seed {args.seed}")
    worst_p99 = 0.0
    for lines in (10, 1_000, 10_000):
        text, population = make_policy(lines, rng)
        start = time.perf_counter()
        engine = PolicyEngine.from_text(DEFAULT_MODEL_TEXT, text, source="bench.csv")
        load_s = time.perf_counter() - start
        print(f"\n{lines:,} p lines + {population['g_lines']:,} g lines "
              f"({len(population['users']):,} users); load {load_s:.2f} s")
        queries = make_queries(population, args.queries, rng)
        for query in queries[:200]:  # warm the action cache, as a running bot would be
            engine.decide(query[0], query[1], query[2], tags=query[3], groups=query[4])
        decide_lat, decide_ans = timed(engine.decide, queries)
        plain_count = {10: args.queries, 1_000: min(args.queries, 1000)}.get(lines, 200)
        plain_lat, plain_ans = timed(engine.enforce_all, queries[:plain_count])
        mismatches = sum(a != b for a, b in zip(decide_ans, plain_ans))
        print(summary("PolicyEngine.decide", decide_lat))
        print(summary("casbin enforce (all)", plain_lat))
        print(f"  {'decide, 8 threads':<22} {threaded_rate(engine, queries, 8):>10,.0f} "
              f"decisions/s   allowed {sum(decide_ans) / len(decide_ans):.0%}   "
              f"disagreements with plain casbin: {mismatches}")
        ordered = sorted(decide_lat)
        worst_p99 = max(worst_p99, ordered[int(len(ordered) * 0.99)])
        if mismatches:
            print("  ERROR: the index changed an answer")
            return 1
    goal = "met" if worst_p99 < 1.0 else "MISSED"
    print(f"\ngoal p99 < 1 ms: {goal} (worst decide p99 {worst_p99:.3f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
