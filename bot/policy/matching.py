"""RAM-style wildcard patterns: ``*`` matches any run of characters, ``:`` and ``/`` included.

casbin's ``globMatch`` stops ``*`` at ``/`` and ``keyMatch`` ignores whatever
follows the first ``*`` (CASBIN_NOTES.md), so neither gives RAM's meaning.
Here every character other than ``*`` is literal and each pattern is compiled
once, at load, into plain string tests.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

Matcher = Callable[[str], bool]


def compile_wildcard(pattern: str) -> Matcher:
    """Return a predicate telling whether a whole string matches ``pattern``.

    String tests, not ``re``: compiling a regex costs ~0.4 ms, and a 10,000-line
    policy holds thousands of patterns, so regexes made a reload cost seconds
    (profiled); matching is as fast. The text before the first ``*`` must start
    the value, the text after the last must end it, and each part between is
    found leftmost, in order, in what lies between: with ``*`` the only special
    character, the leftmost place for a part never rules out a match a later
    place would allow.
    """
    if "*" not in pattern:
        return pattern.__eq__
    head, *inner, tail = pattern.split("*")
    middle = tuple(part for part in inner if part)
    if not (head or tail or middle):
        return _always
    least = len(head) + len(tail) + sum(len(part) for part in middle)
    if not middle:
        return lambda value: len(value) >= least and value.startswith(head) and value.endswith(tail)
    return functools.partial(_match_parts, head, middle, tail, least)


def _match_parts(head: str, middle: tuple[str, ...], tail: str, least: int, value: str) -> bool:
    if len(value) < least or not value.startswith(head) or not value.endswith(tail):
        return False
    at, end = len(head), len(value) - len(tail)
    for part in middle:
        found = value.find(part, at, end)
        if found < 0:
            return False
        at = found + len(part)
    return True


def _always(_: str) -> bool:
    return True


def wildcard_match(pattern: str, value: str) -> bool:
    """One-off match; hot paths keep the compiled matcher from :class:`PatternCache`."""
    return bool(compile_wildcard(pattern)(value))


def covers(general: str, specific: str) -> bool:
    """True when every string ``specific`` matches also matches ``general``.

    For patterns whose only special character is ``*`` this is exact: ``general``
    must match ``specific`` read as text in which ``specific``'s own ``*`` can only
    be absorbed by a ``*`` of ``general`` (``general``'s literal parts never hold
    ``*``, so matching the text does just that).
    """
    return bool(compile_wildcard(general)(specific))


class PatternCache:
    """Compiled matchers keyed by pattern, filled at load and read-only afterwards.

    ``get`` of a pattern that was not preloaded compiles it without storing, so
    concurrent readers never see the dict change size.
    """

    def __init__(self, patterns: Iterable[str] = (), *, fold_case: bool = False) -> None:
        self._fold = fold_case
        self._compiled: dict[str, Matcher] = {}
        for pattern in patterns:
            key = pattern.lower() if fold_case else pattern
            if key not in self._compiled:
                self._compiled[key] = compile_wildcard(key)

    def get(self, pattern: str) -> Matcher:
        key = pattern.lower() if self._fold else pattern
        found = self._compiled.get(key)
        return found if found is not None else compile_wildcard(key)

    def match(self, pattern: str, value: str) -> bool:
        """Whole-string match; with ``fold_case`` both sides compare lower-cased."""
        return bool(self.get(pattern)(value.lower() if self._fold else value))
