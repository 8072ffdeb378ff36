"""Which policy lines could possibly match a request: the speed-up in front of casbin.

Plain ``enforce`` evaluates the matcher on every line (about 4 µs a line). Lines
are indexed by subject, then by action pattern; a request gathers the lines of
its principals (the user, their roles, their groups and the groups' roles, and
``*``) whose action pattern matches, then keeps those whose resource pattern
matches (the same compiled matcher casbin's ``arnMatch`` calls), and casbin
evaluates only those: subject, action, resource and conditions again, then the
deny-override effect. The index is a pure pre-filter: it never drops a line
casbin would match (the property tests compare it with plain ``enforce`` over
every line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .matching import PatternCache
from .rules import Rule

#: Distinct request actions whose matching patterns are remembered; requests only
#: name a dozen actions, the bound keeps garbage input from growing the cache.
ACTION_CACHE_LIMIT = 1024


class CandidateIndex:
    """Rule indices by subject and action pattern; read-only after construction."""

    def __init__(self, rules: Sequence[Rule], actions: PatternCache,
                 resources: PatternCache) -> None:
        self._actions = actions
        # One compiled matcher per line, shared with casbin's arnMatch through the cache.
        self._resource_match = [resources.get(rule.resource) for rule in rules]
        by_subject: dict[str, dict[str, list[int]]] = {}
        for index, rule in enumerate(rules):
            patterns = by_subject.setdefault(rule.subject, {})
            patterns.setdefault(rule.action.lower(), []).append(index)
        self._by_subject = {
            subject: {pattern: tuple(ids) for pattern, ids in patterns.items()}
            for subject, patterns in by_subject.items()
        }
        self._patterns = frozenset(p for patterns in by_subject.values() for p in patterns)
        self._matching: dict[str, frozenset[str]] = {}
        self._by_action: dict[str, tuple[int, ...]] = {}

    def subjects(self) -> set[str]:
        return set(self._by_subject)

    def matching_patterns(self, action: str) -> frozenset[str]:
        """Every action pattern in the policy that matches ``action``."""
        key = action.lower()
        found = self._matching.get(key)
        if found is None:
            found = frozenset(p for p in self._patterns if self._actions.match(p, key))
            if len(self._matching) < ACTION_CACHE_LIMIT:
                # Assigning one key is atomic under the GIL; a racing thread at worst
                # computes the same frozenset again.
                self._matching[key] = found
        return found

    def every_line(self, action: str, resource: str) -> list[int]:
        """Indices, in file order, of every line (whoever its subject) matching ``action`` and ``resource``."""
        key = action.lower()
        lines = self._by_action.get(key)
        if lines is None:
            lines = tuple(self.candidates(self._by_subject, action))
            if len(self._by_action) < ACTION_CACHE_LIMIT:
                self._by_action[key] = lines  # one key, atomic under the GIL (as _matching)
        matchers = self._resource_match
        return [n for n in lines if matchers[n](resource)]

    def candidates(self, principals: Iterable[str], action: str,
                   resource: str | None = None) -> list[int]:
        """Indices, in file order, of the lines of ``principals`` whose action matches.

        With ``resource``, only lines whose resource pattern matches it too.
        """
        matching = self.matching_patterns(action)
        found: list[int] = []
        for principal in principals:
            patterns = self._by_subject.get(principal)
            if not patterns:
                continue
            if len(patterns) <= len(matching):
                for pattern, ids in patterns.items():
                    if pattern in matching:
                        found.extend(ids)
            else:
                for pattern in matching:
                    ids = patterns.get(pattern)
                    if ids:
                        found.extend(ids)
        if resource is not None:
            matchers = self._resource_match
            found = [n for n in found if matchers[n](resource)]
        found.sort()
        return found
