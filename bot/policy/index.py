"""Which policy lines could possibly match a request: what spares a decision casbin's scan of every line.

Plain ``enforce`` evaluates the matcher on every line (about 4 µs a line). Lines
are indexed by subject, then by action pattern, and for each action asked about
a table maps each subject to its lines for that action. A request gathers the
lines of its principals (the user, their roles, their groups and the groups'
roles, and ``*``); the engine then tests their resource patterns (the same
compiled matchers casbin's ``arnMatch`` calls) and conditions. The index never
drops a line casbin would match (the property tests compare decisions with plain
``enforce`` over every line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .matching import PatternCache
from .rules import Rule

#: Distinct request actions whose matching patterns are remembered; requests only
#: name a dozen actions, the bound keeps garbage input from growing the cache.
ACTION_CACHE_LIMIT = 1024
Table = dict[str, tuple[tuple[int, ...], tuple[int, ...]]]  # subject -> (deny lines, allow lines), in file order

#: Per-action tables kept (each holds every line of its action): the bot asks about 18 actions.
TABLE_CACHE_LIMIT = 64


class CandidateIndex:
    """Rule indices by action pattern and, per action asked about, by subject; read-only but for its caches."""

    def __init__(self, rules: Sequence[Rule], actions: PatternCache,
                 resources: PatternCache) -> None:
        self._actions = actions
        # One compiled matcher per line, shared with casbin's arnMatch through the cache.
        self.resource_matchers = [resources.get(rule.resource) for rule in rules]
        self._subjects = [rule.subject for rule in rules]
        by_pattern: dict[str, list[int]] = {}
        for index, rule in enumerate(rules):
            by_pattern.setdefault(rule.action.lower(), []).append(index)
        self._by_pattern = {pattern: tuple(ids) for pattern, ids in by_pattern.items()}
        self._denies = frozenset(index for index, rule in enumerate(rules) if rule.effect == "deny")
        self._matching: dict[str, frozenset[str]] = {}
        self._by_action: dict[str, tuple[int, ...]] = {}
        self._tables: dict[str, Table] = {}

    def subjects(self) -> set[str]:
        return set(self._subjects)

    def matching_patterns(self, action: str) -> frozenset[str]:
        """Every action pattern in the policy that matches ``action``."""
        key = action.lower()
        found = self._matching.get(key)
        if found is None:
            found = frozenset(p for p in self._by_pattern if self._actions.match(p, key))
            if len(self._matching) < ACTION_CACHE_LIMIT:
                # Assigning one key is atomic under the GIL; a racing thread at worst
                # computes the same frozenset again.
                self._matching[key] = found
        return found

    def table(self, action: str) -> Table:
        """Subject -> (its deny lines, its allow lines), each in file order, whose action pattern matches
        ``action``.

        Built on an action's first question from the lines of its matching patterns (~2 ms at 10,000
        lines) and kept: a decision then looks up each principal once instead of intersecting each
        principal's patterns with the matching ones (profiled: a fifth of a decision at 10,000 lines).
        """
        key = action.lower()
        table = self._tables.get(key)
        if table is None:
            subjects, denies = self._subjects, self._denies
            merged: dict[str, tuple[list[int], list[int]]] = {}
            for pattern in self.matching_patterns(key):
                for number in self._by_pattern[pattern]:
                    merged.setdefault(subjects[number], ([], []))[number not in denies].append(number)
            table = {subject: (tuple(sorted(deny)), tuple(sorted(allow))) for subject, (deny, allow) in merged.items()}
            if len(self._tables) < TABLE_CACHE_LIMIT:
                self._tables[key] = table  # one key, atomic under the GIL (as _matching)
        return table

    def split_candidates(self, principals: Iterable[str], action: str) -> tuple[list[int], list[int]]:
        """The deny lines and the allow lines of ``principals`` whose action matches, each in file order."""
        table = self.table(action)
        denies: list[int] = []
        allows: list[int] = []
        for principal in principals:
            lines = table.get(principal)
            if lines is not None:
                denies.extend(lines[0])
                allows.extend(lines[1])
        denies.sort()
        allows.sort()
        return denies, allows

    def every_line(self, action: str, resource: str) -> list[int]:
        """Indices, in file order, of every line (whoever its subject) matching ``action`` and ``resource``."""
        key = action.lower()
        lines = self._by_action.get(key)
        if lines is None:
            lines = tuple(sorted(n for pattern in self.matching_patterns(key) for n in self._by_pattern[pattern]))
            if len(self._by_action) < ACTION_CACHE_LIMIT:
                self._by_action[key] = lines  # one key, atomic under the GIL (as _matching)
        matchers = self.resource_matchers
        return [n for n in lines if matchers[n](resource)]

    def candidates(self, principals: Iterable[str], action: str,
                   resource: str | None = None) -> list[int]:
        """Indices, in file order, of the lines of ``principals`` whose action matches.

        With ``resource``, only lines whose resource pattern matches it too.
        """
        denies, allows = self.split_candidates(principals, action)
        found = sorted(denies + allows)
        if resource is not None:
            matchers = self.resource_matchers
            found = [n for n in found if matchers[n](resource)]
        return found
