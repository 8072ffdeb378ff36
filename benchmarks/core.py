"""What every benchmark reports: figures with their reference, goal and verdict.

A benchmark module exposes ``run(size: Size) -> list[Figure]``. ``Size`` says how
hard to push: ``full`` (the figures the README and the closing note quote),
``quick`` (the whole suite in under two minutes, for iterating) and ``tiny``
(seconds: what the test suite runs, only to prove the benchmark still reports;
its figures mean nothing). Goals are checked on the figure's ``value``; a figure
compared with a reference measured in the same run (a plain Bolt app, plain
pycasbin) carries that reference and its value is usually the ratio, because
this machine is noisy and ratios are what count.
"""

from __future__ import annotations

import operator
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Size(StrEnum):
    """How much work a run does."""

    FULL = "full"
    QUICK = "quick"
    TINY = "tiny"

    def pick(self, full: int, quick: int, tiny: int) -> int:
        """The count for this size."""
        return {Size.FULL: full, Size.QUICK: quick, Size.TINY: tiny}[self]


_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge,
                                                   ">": operator.gt, "==": operator.eq}


@dataclass
class Figure:
    """One measured figure and its goal, e.g. ``Figure("policy", "decision p99 at 10k lines", 0.04, "ms", "<=", 0.1)``.

    ``reference``/``reference_label``: the same measure of the thing we compare with, taken in the
    same run (its unit is ``unit``, or ``reference_unit`` when the value is a ratio). ``goal_op`` None:
    a figure reported for information, without a goal.
    """

    bench: str
    name: str
    value: float
    unit: str
    goal_op: str | None = None
    goal: float | None = None
    reference: float | None = None
    reference_label: str = ""
    reference_unit: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """True/False against the goal; None when the figure has no goal."""
        if self.goal_op is None or self.goal is None:
            return None
        return _OPS[self.goal_op](self.value, self.goal)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["passed"] = self.passed
        return out


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank on the sorted values); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0
