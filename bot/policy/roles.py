"""The role graph of the ``g`` lines: validation, transitive closure, paths.

casbin's role manager follows at most ``MAX_HOPS`` ``g`` links from a member
(its "10 levels" count the member itself); a deeper role would silently not
apply, so a graph that is deeper, or has a cycle, is refused at load with the
line that breaks it. The closures computed here only pick candidate lines and
word explanations: casbin's ``g`` still decides every match.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from .errors import PolicyError
from .rules import Grant

#: casbin 2.8's RoleManager(10) answers has_link(u, r) only within 9 links (measured).
MAX_HOPS = 9


class RoleGraph:
    """Members -> roles, validated acyclic and at most ``MAX_HOPS`` deep."""

    def __init__(self, grants: Sequence[Grant], source: str = "policy.csv") -> None:
        self._source = source
        self._parents: dict[str, list[str]] = {}
        self._children: dict[str, list[str]] = {}
        self._edge: dict[tuple[str, str], Grant] = {}
        for grant in grants:
            key = (grant.member, grant.role)
            if key in self._edge:
                continue  # a repeated line adds nothing; lint reports it
            self._edge[key] = grant
            self._parents.setdefault(grant.member, []).append(grant.role)
            self._children.setdefault(grant.role, []).append(grant.member)
        self._check_cycles()
        self._closure = self._build_closures()

    # -- validation -------------------------------------------------------
    def _check_cycles(self) -> None:
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        for start in self._parents:
            if state.get(start):
                continue
            stack: list[tuple[str, int]] = [(start, 0)]
            path: list[str] = []
            while stack:
                node, index = stack.pop()
                if index == 0:
                    state[node] = 1
                    path.append(node)
                parents = self._parents.get(node, [])
                if index < len(parents):
                    stack.append((node, index + 1))
                    parent = parents[index]
                    if state.get(parent) == 1:
                        cycle = path[path.index(parent):] + [parent]
                        grant = self._edge[(node, parent)]
                        raise PolicyError(
                            "role cycle: " + " -> ".join(cycle), path=self._source, line=grant.line
                        )
                    if not state.get(parent):
                        stack.append((parent, 0))
                else:
                    state[node] = 2
                    path.pop()

    def _build_closures(self) -> dict[str, frozenset[str]]:
        # Longest chain of links above each node, memoised (the graph is acyclic here).
        height: dict[str, int] = {}
        best: dict[str, str | None] = {}
        order = self._topological_from_top()
        for node in order:
            parents = self._parents.get(node, [])
            height[node] = 0
            best[node] = None
            for parent in parents:
                if height[parent] + 1 > height[node]:
                    height[node] = height[parent] + 1
                    best[node] = parent
        deepest = min(height, key=lambda n: (-height[n], n), default=None)
        if deepest is not None and height[deepest] > MAX_HOPS:
            chain = [deepest]
            while (parent := best[chain[-1]]) is not None:
                chain.append(parent)
            # The first link casbin can no longer follow is the line to fix.
            breaking = self._edge[(chain[MAX_HOPS], chain[MAX_HOPS + 1])]
            raise PolicyError(
                f"role chain too deep ({height[deepest]} links, casbin follows at most "
                f"{MAX_HOPS}): " + " -> ".join(chain),
                path=self._source,
                line=breaking.line,
            )
        closure: dict[str, frozenset[str]] = {}
        for node in order:
            above: set[str] = set()
            for parent in self._parents.get(node, []):
                above.add(parent)
                above |= closure[parent]
            closure[node] = frozenset(above)
        return closure

    def _topological_from_top(self) -> list[str]:
        """Every node, each after all of its parents."""
        nodes = set(self._parents) | set(self._children)
        pending = {node: len(self._parents.get(node, [])) for node in nodes}
        ready = deque(sorted(node for node, count in pending.items() if count == 0))
        order: list[str] = []
        while ready:
            node = ready.popleft()
            order.append(node)
            for child in self._children.get(node, []):
                pending[child] -= 1
                if pending[child] == 0:
                    ready.append(child)
        return order

    # -- queries ------------------------------------------------------------
    @property
    def members(self) -> set[str]:
        """Everything that appears on the left of a ``g`` line."""
        return set(self._parents)

    @property
    def roles(self) -> set[str]:
        """Every role that appears on the right of a ``g`` line."""
        return set(self._children)

    @property
    def grants(self) -> list[Grant]:
        return list(self._edge.values())

    def roles_of(self, member: str) -> frozenset[str]:
        """Every role ``member`` holds, directly or through other roles."""
        return self._closure.get(member, frozenset())

    def members_of(self, role: str) -> set[str]:
        """Every member (users, groups and roles) under ``role``, transitively."""
        found: set[str] = set()
        queue = deque(self._children.get(role, []))
        while queue:
            member = queue.popleft()
            if member in found:
                continue
            found.add(member)
            queue.extend(self._children.get(member, []))
        return found

    def path(self, starts: Iterable[str], target: str) -> tuple[str, ...]:
        """The shortest chain from one of ``starts`` up to ``target`` (empty when none)."""
        closure = self._closure
        queue = deque((start,) for start in starts)
        seen: set[str] = set()
        while queue:
            chain = queue.popleft()
            node = chain[-1]
            if node == target:
                return chain
            if node in seen:
                continue
            seen.add(node)
            for parent in self._parents.get(node, []):
                # Skip roles that do not lead to the target: the same first shortest chain,
                # without walking a deep role tree (it was a twentieth of a decision, profiled).
                if parent == target or target in closure.get(parent, ()):
                    queue.append(chain + (parent,))
        return ()

    def grant_for(self, member: str, role: str) -> Grant | None:
        """The line that links ``member`` directly to ``role``."""
        return self._edge.get((member, role))
