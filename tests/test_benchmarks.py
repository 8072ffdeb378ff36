"""Every benchmark still runs and reports: ``python -m benchmarks --tiny --only NAME`` for each of them.

Tiny runs take seconds and their figures mean nothing: these tests check that each benchmark ran
to the end (exit 0, or 1 for a goal missed; 2 is a crash) and wrote its figures with their goals,
never how fast anything was. The speed and memory goals live in ``benchmarks/`` alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks import BENCHMARKS

REPO = Path(__file__).resolve().parents[1]


def _process_audits_help(figures: list[dict[str, Any]]) -> None:
    audit = next((f for f in figures if f["name"] == "SDK, Bolt or casbin modules imported by --help"), None)
    assert audit is not None, "the import audit of `rdsbot --help` is missing"
    assert audit["goal_op"] == "==" and audit["goal"] == 0
    assert audit["value"] == len(audit["extra"]["modules"]) and audit["extra"]["imported"] > 0


# What a benchmark must report beyond figures with goals.
SPECIFIC: dict[str, Callable[[list[dict[str, Any]]], None]] = {"process": _process_audits_help}


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_benchmark_runs_tiny_and_reports_its_figures_with_goals(name: str, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--tiny", "--only", name, "--json", str(results)],
                          cwd=REPO, capture_output=True, text=True, timeout=110, check=False)
    assert done.returncode in (0, 1), f"benchmark {name} crashed (exit {done.returncode}):\n{done.stderr[-4000:]}"
    written = json.loads(results.read_text(encoding="utf-8"))
    assert written["size"] == "tiny" and written["crashed"] == []
    figures = [f for f in written["figures"] if f["bench"] == name]
    assert figures, f"benchmark {name} reported no figures"
    with_goals = [f for f in figures if f["goal_op"] is not None]
    assert with_goals, f"benchmark {name} has no figure with a goal"
    for figure in figures:
        assert isinstance(figure["value"], int | float), figure
        assert figure["passed"] in ((True, False) if figure["goal_op"] else (None,)), figure
    SPECIFIC.get(name, lambda _figures: None)(figures)
