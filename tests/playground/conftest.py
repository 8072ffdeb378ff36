"""Browser fixtures for the playground (issue 16): Debian's chromium driven by Playwright.

One browser serves the whole session and one playground (both emulators and the bot on SQLite)
serves each test module; each test gets a fresh browser context (its own page and storage) and
leaves a screenshot in ``tests/playground/artifacts/`` (or ``$RDSBOT_PLAYWRIGHT_ARTIFACTS``).

Only tests that ask for a browser need chromium: without it they are skipped, or fail under
``CI=true`` (CI must run them; ``.ci/run`` installs chromium with apt). Playwright never
downloads a browser here: ``executable_path`` points at the system's chromium.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(os.environ.get("RDSBOT_PLAYWRIGHT_ARTIFACTS") or Path(__file__).parent / "artifacts")
VIEWPORT = {"width": 1440, "height": 900}
# The page reads dates in the browser's zone: a fixed one makes what the tests see the same everywhere.
BROWSER_ZONE = "Asia/Tokyo"
TIMEOUT_MS = 20_000


def chromium_path() -> str | None:
    """The system's chromium: ``$RDSBOT_CHROMIUM``, else ``chromium`` on PATH, else Debian's path."""
    given = os.environ.get("RDSBOT_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _unavailable(reason: str) -> None:
    """Skip, or fail when CI must run the browser tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the playground's browser tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    executable = chromium_path()
    if executable is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The whole playground on a free port, for one test module. Jobs take 3 s: short enough for quick
    flows, long enough (the bot polls each second) for a progress reply to be seen before it is edited."""
    from bot.sandbox.playground import serve_in_background

    server = serve_in_background(port=0, job_seconds=3.0, workdir=tmp_path_factory.mktemp("playground"))
    yield server
    server.stop()


def artifact_path(name: str) -> Path:
    """Where a screenshot called ``name`` goes (the folder keeps itself out of git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ignore = ARTIFACTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# screenshots the browser tests leave behind\n*\n", encoding="utf-8")
    return ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"


@contextmanager
def open_context(browser: Any, screenshot: Path, *, full_page: bool = False) -> Iterator[Any]:
    """A fresh context and page; its uncaught errors fail the test; a screenshot is kept at the end."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(viewport=VIEWPORT, timezone_id=BROWSER_ZONE, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    crashes: list[str] = []
    page.on("pageerror", lambda error: crashes.append(str(error)))
    try:
        yield page
    finally:
        try:
            page.screenshot(path=str(screenshot), full_page=full_page)
            print(f"screenshot: {screenshot}")
        finally:
            context.close()
    assert not crashes, f"the page threw: {crashes}"


@pytest.fixture
def blank_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh context, not loaded yet."""
    with open_context(browser, artifact_path(request.node.name)) as opened:
        yield opened


@pytest.fixture
def page(blank_page: Any, playground: Any) -> Any:
    """The playground's page, loaded and live (its event stream connected)."""
    from playwright.sync_api import expect

    blank_page.goto(playground.url)
    expect(blank_page.get_by_test_id("live")).to_have_text("● live")
    return blank_page
