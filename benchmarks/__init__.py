"""rdsbot's benchmark suite: ``python -m benchmarks`` (see ``benchmarks/__main__.py``).

One module a subject (``ack``, ``policy``, ``polling``, ``audit``, ``process``), each
``run(size) -> list[Figure]`` (``benchmarks/core.py``). Speed and memory goals live
here, never in timed unit tests; the test suite only runs each at ``tiny`` size to
prove it still reports.
"""

BENCHMARKS = ("ack", "policy", "polling", "audit", "process")
