"""The code keeps a shape a newcomer can hold in mind (issue 11), read from the source with ``ast``.

- No module in ``bot/`` is over 400 lines and no class has more than 20 methods
  (``bot/sandbox/``, the emulators, and the Alembic revisions are exempt).
- Bolt is imported only under ``bot/slack/``; the Alibaba Cloud SDK (``alibabacloud_*``,
  ``darabonba``, ``Tea``) only under ``bot/rds/``. These two rules hold for every
  module, ``bot/sandbox/`` included: today the emulators import neither (they are
  the servers the SDK and Slack's clients talk to), so nothing needs exempting.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
MAX_LINES = 400
MAX_METHODS = 20
SHAPE_EXEMPT = ("bot/sandbox/", "bot/store/migrations/")


def _name(path: Path) -> str:
    return path.relative_to(BOT.parent).as_posix()


def _modules(*, exempt: tuple[str, ...] = ()) -> list[Path]:
    found = sorted(p for p in BOT.rglob("*.py") if not _name(p).startswith(exempt))
    assert any(_name(p) == "bot/rds/directory.py" for p in found), "the walk found no bot/ modules"
    return found


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every absolute import, at any depth (lazy imports inside functions too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def _offenders(package: str, is_banned: Callable[[str], bool]) -> list[str]:
    """Imports of a banned top-level package by modules outside ``package``."""
    return [
        f"{_name(path)}:{line} imports {module}"
        for path in _modules()
        if not _name(path).startswith(package)
        for line, module in _imports(path)
        if is_banned(module.split(".")[0])
    ]


def test_no_module_is_over_400_lines() -> None:
    long = {_name(p): n for p in _modules(exempt=SHAPE_EXEMPT)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them, one job each): {long}"


def test_no_class_has_more_than_20_methods() -> None:
    big = {}
    for path in _modules(exempt=SHAPE_EXEMPT):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ClassDef):
                methods = sum(isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) for item in node.body)
                if methods > MAX_METHODS:
                    big[f"{_name(path)}:{node.lineno} {node.name}"] = methods
    assert not big, f"classes with more than {MAX_METHODS} methods (split them): {big}"


def test_bolt_is_imported_only_in_the_slack_package() -> None:
    offenders = _offenders("bot/slack/", lambda top: top == "slack_bolt")
    assert not offenders, offenders


def test_the_alibaba_cloud_sdk_is_imported_only_in_the_rds_package() -> None:
    offenders = _offenders("bot/rds/", lambda top: top.startswith("alibabacloud_") or top in {"darabonba", "Tea"})
    assert not offenders, offenders
