"""``python -m benchmarks [--only NAME ...] [--quick | --tiny] [--json PATH]``: run, print one table, write JSON.

Exits 1 when a goal fails (2 when a benchmark crashed). ``--quick`` keeps the whole
suite under two minutes for iterating; the figures quoted in the README are from a
full run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

from benchmarks import BENCHMARKS
from benchmarks.core import Figure, Size

RESULTS = Path(__file__).resolve().with_name("results.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this one (repeatable)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", const=Size.QUICK, dest="size", help="under 2 minutes in all")
    size.add_argument("--tiny", action="store_const", const=Size.TINY, dest="size",
                      help="seconds; figures are meaningless (what the test suite runs)")
    parser.add_argument("--json", type=Path, default=None, help=f"where to write results (default {RESULTS})")
    args = parser.parse_args(argv)
    run_size: Size = args.size or Size.FULL
    names = args.only or list(BENCHMARKS)
    figures: list[Figure] = []
    crashed: list[str] = []
    timings: dict[str, float] = {}
    for name in names:
        started = time.monotonic()
        print(f"… {name} ({run_size})", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{name}")
            figures.extend(module.run(run_size))
        except Exception:  # noqa: BLE001 - one crashed benchmark must not hide the others' figures
            traceback.print_exc()
            crashed.append(name)
        timings[name] = round(time.monotonic() - started, 1)
    print(table(figures))
    failed = [f for f in figures if f.passed is False]
    summary = f"{len(figures)} figures, {sum(f.passed is True for f in figures)} goals met, {len(failed)} failed"
    if crashed:
        summary += f", crashed: {', '.join(crashed)}"
    print(summary)
    # Only a full run of everything replaces results.json (the figures the README quotes).
    whole = run_size is Size.FULL and not args.only
    target = args.json or (RESULTS if whole else RESULTS.with_name(f"results-{run_size}.json"))
    target.write_text(json.dumps({
        "commit": _commit(), "size": str(run_size), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "seconds": timings, "crashed": crashed,
        "figures": [f.as_json() for f in figures],
    }, indent=2) + "\n", encoding="utf-8")
    return 2 if crashed else (1 if failed else 0)


def table(figures: list[Figure]) -> str:
    """One row a figure: bench, what, value, reference, goal, verdict."""
    rows = [("bench", "figure", "value", "reference (same run)", "goal", "")]
    for f in figures:
        value = f"{_num(f.value)} {f.unit}".strip()
        ref = f"{_num(f.reference)} {f.reference_unit or f.unit} {f.reference_label}".strip() if f.reference is not None \
            else ""
        goal = f"{f.goal_op} {_num(f.goal)} {f.unit}".strip() if f.goal_op and f.goal is not None else "(info)"
        verdict = {True: "pass", False: "FAIL", None: ""}[f.passed]
        rows.append((f.bench, f.name, value, ref, goal, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _num(value: float | None) -> str:
    if value is None:
        return ""
    if value == int(value) and abs(value) >= 10:
        return f"{int(value):,}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parents[1], check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
