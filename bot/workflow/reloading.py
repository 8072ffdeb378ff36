"""One optional TOML file beside ``policy.csv``, reloaded when it changes, like the policy.

:class:`FileStore` holds what was loaded from the file and swaps in a new version
when the file's bytes change (thread-safe); a broken edit is refused and the last
good version stays in force. ``approvals.toml`` (:mod:`bot.workflow.approvals`)
and ``freeze.toml`` (:mod:`bot.workflow.freezes`) are both kept by one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)


class Versioned(Protocol):
    version: str


T = TypeVar("T", bound=Versioned)


def toml_tables(text: str, *, source: str, key: str, allowed: set[str], error: type[ValueError]) -> list[Any]:
    """The ``[[key]]`` tables of a TOML file; ``error`` (naming ``source``) for bad TOML or unknown top-level keys."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        raise error(f"{source}: not valid TOML: {problem}") from None
    unknown = set(data) - allowed
    if unknown:
        raise error(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    tables = data.get(key, [])
    if not isinstance(tables, list):
        raise error(f"{source}: write them as [[{key}]] tables")
    return tables


def text_version(text: str) -> str:
    """A file's version: the start of its content's hash."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class RulesReload:
    """The outcome of noticing a change in the file."""

    ok: bool
    version: str
    previous_version: str
    error: str | None = None


class FileStore(Generic[T]):
    """Holds the current contents of ``path / file`` as loaded by ``load`` (which raises ``errors``)."""

    def __init__(self, path: Path, *, file: str, load: Callable[[Path], T], errors: tuple[type[Exception], ...],
                 on_reload: Callable[[RulesReload], None] | None = None) -> None:
        self.path = Path(path)
        self._file = file
        self._load = load
        self._errors = errors
        self._value = load(self.path)  # a broken file at start-up stops the bot
        self._seen = self._fingerprint()
        self._on_reload = on_reload
        self._lock = threading.Lock()

    def subscribe(self, on_reload: Callable[[RulesReload], None]) -> None:
        """Be told of every reload from now on (the bot audits them)."""
        self._on_reload = on_reload

    def current(self) -> T:
        return self._value

    def _fingerprint(self) -> str:
        file = self.path / self._file
        try:
            return hashlib.sha256(file.read_bytes()).hexdigest() if file.exists() else "absent"
        except OSError:
            return "unreadable"

    def reload_if_changed(self) -> RulesReload | None:
        with self._lock:
            fingerprint = self._fingerprint()
            if fingerprint == self._seen:
                return None
            self._seen = fingerprint
            previous = self._value.version
            try:
                value = self._load(self.path)
            except (*self._errors, OSError, UnicodeDecodeError) as error:
                log.error("%s reload failed, keeping %s: %s", self._file, previous, error)
                event = RulesReload(False, fingerprint[:12], previous, str(error))
            else:
                self._value = value
                log.info("%s reloaded: %s -> %s", self._file, previous, value.version)
                event = RulesReload(True, value.version, previous)
        if self._on_reload is not None:
            self._on_reload(event)
        return event
