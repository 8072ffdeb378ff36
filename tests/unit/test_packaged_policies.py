"""The sandbox's policy ships inside the package (issue 16), and stays the repository's policy.

``bot/defaults/policies/`` is what ``rdsbot sandbox`` and ``rdsbot playground`` load, so they
work from an installed wheel; ``policies/`` at the repository root is the operator's starting
point and what the docs point at. The two must not drift apart, and the package data must
name every file the playground and the sandbox need at run time.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from bot.sandbox.stack import DEFAULT_POLICIES, POLICY_FILES

ROOT = Path(__file__).resolve().parents[2]


def _package_data() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["setuptools"]["package-data"]["bot"])


def _shipped(path: Path) -> bool:
    relative = path.relative_to(ROOT / "bot").as_posix()
    return any(fnmatch.fnmatch(relative, pattern) for pattern in _package_data())


def test_the_packaged_policy_is_the_repository_policy() -> None:
    drifted = [name for name in POLICY_FILES
               if (DEFAULT_POLICIES / name).read_bytes() != (ROOT / "policies" / name).read_bytes()]
    assert not drifted, (f"bot/defaults/policies/ and policies/ differ in {drifted}: "
                         "change both (copy policies/<file> over bot/defaults/policies/<file>)")


def test_the_packaged_policy_is_package_data() -> None:
    assert DEFAULT_POLICIES == ROOT / "bot" / "defaults" / "policies"
    missing = [name for name in POLICY_FILES if not _shipped(DEFAULT_POLICIES / name)]
    assert not missing, f"pyproject's package-data does not ship {missing}"


def test_the_playground_assets_are_package_data() -> None:
    static = ROOT / "bot" / "sandbox" / "playground" / "static"
    assets = [p for p in static.iterdir() if p.is_file()]
    assert any(p.name == "index.html" for p in assets), "the playground has no index.html"
    missing = [p.name for p in assets if not _shipped(p)]
    assert not missing, f"pyproject's package-data does not ship the playground's {missing}"
