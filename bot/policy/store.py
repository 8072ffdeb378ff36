"""``PolicyStore``: holds the current engine and swaps in a new one when the files change.

A reload builds a complete new ``PolicyEngine`` and replaces the reference in
one assignment: readers see the old engine or the new one, never a mix, and
casbin's ``load_policy`` (RecursionError on deep role graphs) is never used.
A file that does not load keeps the old engine and is reported once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from bot.timeutil import utcnow

from .engine import MODEL_FILE, POLICY_FILE, PolicyEngine, compute_version
from .errors import PolicyError

log = logging.getLogger(__name__)


class ReloadEvent(BaseModel, frozen=True):
    """The outcome of noticing a change: ``ok`` with the new version, or the error."""

    ok: bool
    version: str
    previous_version: str
    error: str | None = None
    at: datetime = Field(default_factory=utcnow)


class PolicyStore:
    """Thread-safe holder of the current ``PolicyEngine`` for the files in ``path``.

    The first load must succeed (it raises PolicyError). Afterwards call
    ``reload_if_changed`` from any thread, e.g. a scheduler job every few
    seconds; it reads both files and compares their content hash (the policy
    version), so a same-size edit within one mtime tick is still seen.
    Editors should replace files atomically (write, then rename); a file that
    changes while it is being read is skipped until the next call.
    """

    def __init__(self, path: Path, *,
                 on_reload: Callable[[ReloadEvent], None] | None = None) -> None:
        self.path = Path(path)
        self._on_reload = on_reload
        self._lock = threading.Lock()
        self._engine = PolicyEngine.from_dir(self.path)
        self._failed_version: str | None = None

    def subscribe(self, on_reload: Callable[[ReloadEvent], None]) -> None:
        """Be told of every reload from now on (the bot audits them)."""
        self._on_reload = on_reload

    def current(self) -> PolicyEngine:
        """The engine to decide with (a plain read: swaps are single assignments)."""
        return self._engine

    def reload_if_changed(self) -> ReloadEvent | None:
        """Load the files again if their content changed; ``None`` when nothing changed."""
        with self._lock:
            event = self._reload_locked()
        if event is not None and self._on_reload is not None:
            try:
                self._on_reload(event)
            except Exception:  # a faulty listener must not undo or block a reload
                log.exception("policy on_reload callback failed")
        return event

    def _reload_locked(self) -> ReloadEvent | None:
        current = self._engine
        model_path, policy_path = self.path / MODEL_FILE, self.path / POLICY_FILE
        try:
            before = _signature(model_path, policy_path)
            model_text = model_path.read_text(encoding="utf-8")
            policy_text = policy_path.read_text(encoding="utf-8")
            if _signature(model_path, policy_path) != before:
                return None  # being written right now: the next call sees the whole file
        except (OSError, UnicodeDecodeError) as exc:
            return self._failed(f"{self.path}: cannot read: {exc}", "unreadable", current)
        version = compute_version(model_text, policy_text)
        if version == current.version:
            self._failed_version = None  # back to what is loaded: report the next failure
            return None
        if version == self._failed_version:
            return None
        try:
            engine = PolicyEngine(model_text, policy_text, source=str(policy_path),
                                  model_source=str(model_path))
        except PolicyError as exc:
            return self._failed(str(exc), version, current)
        self._engine = engine
        self._failed_version = None
        log.info("policy reloaded: %s -> %s", current.version, engine.version)
        return ReloadEvent(ok=True, version=engine.version, previous_version=current.version)

    def _failed(self, error: str, version: str, current: PolicyEngine) -> ReloadEvent | None:
        if version == self._failed_version:
            return None
        self._failed_version = version
        log.error("policy reload failed, keeping %s: %s", current.version, error)
        return ReloadEvent(ok=False, version=version, previous_version=current.version,
                           error=error)


def _signature(*paths: Path) -> tuple[tuple[int, int], ...]:
    return tuple((stat.st_mtime_ns, stat.st_size) for stat in (p.stat() for p in paths))
