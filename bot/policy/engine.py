"""``PolicyEngine``: one immutable, loaded policy that answers questions from many threads.

Loading parses and validates everything (PolicyError with file and line),
refuses role graphs casbin would silently cut short, checks the casbin model
against the contract on known cases, and builds the candidate index. Deciding
gathers the lines of the subject's principals for the action (``index.py``) and
finds the line casbin's deny-override effect would name: the first deny that
applies, else the last allow. With the shipped matcher that line is the answer
(the property tests hold it to plain casbin over every line and to a reference
reader of the contract); with another matcher in model.conf, casbin's matcher
judges it and, if it refuses, decides over every candidate (``casbin_model.py``).
An engine is never changed after construction, bar caches of what it computed
from itself: a new policy is a new engine (``store.py``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .actions import check_action
from .arn import check_resource
from .casbin_model import CasbinCore, load_model
from .conditions import CompiledConditions, conditions_text, parse_conditions
from .decision import Decision
from .errors import PolicyError
from .index import CandidateIndex
from .matching import PatternCache
from .parsing import cached_subject_problem, load_policy
from .roles import RoleGraph
from .rules import ANYONE, GROUP_PREFIX, ROLE_PREFIX, SLACK_USER, Grant, Rule, normalize_group

MODEL_FILE = "model.conf"
POLICY_FILE = "policy.csv"

# A request subject no policy line can name (it holds a space), used to ask
# "would a stranger be allowed?" for subjects_allowed.
_STRANGER = "<anyone else>"


def compute_version(model_text: str, policy_text: str) -> str:
    """Short sha256 of model.conf and policy.csv: ``sha256(model + NUL + policy)[:12]``."""
    digest = hashlib.sha256(model_text.encode() + b"\0" + policy_text.encode())
    return digest.hexdigest()[:12]


def read_text(path: Path) -> str:
    """Read a policy file as UTF-8, as a PolicyError when that fails."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read: {exc}", path=str(path)) from exc


# The same people, actions and groups are checked on every decision: ~3 µs of a ~30 µs decision each time
# (measured). Pure functions of their text; a malformed input raises, and raising is not cached.
_check_action = functools.lru_cache(maxsize=1024)(check_action)
_group_id = functools.lru_cache(maxsize=4096)(normalize_group)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: loading allocates ~100,000 objects that live as long as the
    engine, and the collector walked the whole heap again and again over them, finding nothing (measured:
    40 % of loading 10,000 lines, more in a long-running bot's bigger heap)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class PolicyEngine:
    """A loaded policy. Thread-safe: nothing in it changes after construction."""

    def __init__(self, model_text: str, policy_text: str, *, source: str = POLICY_FILE,
                 model_source: str = MODEL_FILE) -> None:
        self.model_text = model_text
        self.policy_text = policy_text
        self.source = source
        self.model_source = model_source
        self.version = compute_version(model_text, policy_text)
        with collector_paused():
            model = load_model(model_text, model_source)
            parsed = load_policy(policy_text, source)
            self.rules: tuple[Rule, ...] = tuple(parsed.rules)
            self.grants: tuple[Grant, ...] = tuple(parsed.grants)
            self.graph = RoleGraph(self.grants, source)
            self._named = frozenset({rule.subject for rule in self.rules} | self.graph.members)
            self._usergroup_ids: frozenset[str] | None = None
            self._user_ids: frozenset[str] | None = None

            self._actions = PatternCache((rule.action for rule in self.rules), fold_case=True)
            self._arns = PatternCache(rule.resource for rule in self.rules)
            self._conditions: dict[str, CompiledConditions] = {}
            rows = []
            line_conditions: list[CompiledConditions | None] = []
            for number, rule in enumerate(self.rules):
                cond = conditions_text(rule.conditions)
                if cond not in self._conditions:
                    self._conditions[cond] = CompiledConditions(rule.conditions)
                rows.append([rule.subject, rule.action, rule.resource, rule.effect, cond,
                             str(number)])
                line_conditions.append(self._conditions[cond] if cond else None)
            self._rows = rows
            self._line_conditions = line_conditions
            self._index = CandidateIndex(self.rules, self._actions, self._arns)
            links = [(grant.member, grant.role) for grant in self.graph.grants]
            self._core = CasbinCore(model, rows, links, {
                "actionMatch": self._action_match,
                "arnMatch": self._arn_match,
                "conditionMatch": self._condition_match,
            }, source=model_source)

    # -- construction -------------------------------------------------------
    @classmethod
    def from_dir(cls, path: Path) -> PolicyEngine:
        """Load ``path/model.conf`` and ``path/policy.csv``."""
        path = Path(path)
        model_path, policy_path = path / MODEL_FILE, path / POLICY_FILE
        return cls(read_text(model_path), read_text(policy_path), source=str(policy_path),
                   model_source=str(model_path))

    @classmethod
    def from_text(cls, model_text: str, policy_text: str, *,
                  source: str = POLICY_FILE) -> PolicyEngine:
        """Load from strings; ``source`` is the name explanations and errors cite."""
        return cls(model_text, policy_text, source=source)

    # -- casbin's custom functions (read-only, compiled at load) --------------
    def _action_match(self, request_action: str, pattern: str) -> bool:
        return self._actions.match(pattern, request_action)

    def _arn_match(self, resource: str, pattern: str) -> bool:
        return self._arns.match(pattern, resource)

    def _condition_match(self, tags: Mapping[str, str] | None, cond: str, effect: str) -> bool:
        compiled = self._conditions.get(cond)
        if compiled is None:  # only model probes send lines the policy does not hold
            compiled = CompiledConditions(parse_conditions(cond) if cond else ())
        return compiled.apply(effect, tags)

    # -- deciding -------------------------------------------------------------
    def decide(self, subject: str, action: str, resource: str, *,
               tags: Mapping[str, str] | None = None, groups: Sequence[str] = (),
               unknown_groups: Sequence[str] = ()) -> Decision:
        """May ``subject`` (in Slack user ``groups``) do ``action`` on ``resource``?

        ``tags`` are the instance's tags, or ``None`` when they are unknown: then
        tag-conditioned denies apply and tag-conditioned allows do not.
        ``unknown_groups`` are user groups whose membership could not be read: the
        same rule, failing closed — their denies apply, their allows do not.
        Raises ValueError for a malformed request (a programming error).
        """
        problem = cached_subject_problem(subject, allow_anyone=False)
        if problem is not None:
            raise ValueError(problem)
        _check_action(action)
        check_resource(resource)
        group_ids = tuple(sorted({_group_id(group) for group in groups}))
        known_tags = None if tags is None else {str(k): str(v) for k, v in tags.items()}
        decision = self._decide(subject, action, resource, known_tags, group_ids)
        if not unknown_groups:
            return decision
        unknown = tuple(sorted({_group_id(g) for g in unknown_groups} - set(group_ids)))
        if not unknown:
            return decision
        assumed = self._decide(subject, action, resource, known_tags, tuple(sorted({*group_ids, *unknown})))
        if not assumed.allowed and assumed.rule is not None:
            decision = assumed  # a deny that may apply to them applies
        return decision.model_copy(update={"unknown_groups": unknown})

    def _decide(self, subject: str, action: str, resource: str,
                tags: dict[str, str] | None, groups: tuple[str, ...]) -> Decision:
        principals = self.principals(subject, groups)
        denies, allows = self._index.split_candidates(principals, action)
        rule: Rule | None = None
        allowed = False
        deciding = self._deciding_line(denies, allows, resource, tags)
        if deciding is not None and self._core.contract_matcher:
            # The shipped matcher is the contract the index applies (the property tests hold decide,
            # plain casbin over every line and a reference reader to the same answers): casbin's
            # re-check of the line could only agree, and it was 40 % of a decision (profiled).
            rule = self.rules[deciding]
            allowed = rule.effect == "allow"
        elif deciding is not None:
            # Another matcher in model.conf: casbin judges the line the index says decides and,
            # when it refuses it (a matcher stricter than the contract), decides over every
            # candidate, as without the index. No line at all is the contract's default deny
            # (casbin's empty-policy branch would evaluate the matcher against blank fields).
            request = (subject, action, resource, groups, tags)
            allowed, row = self._core.evaluate([self._rows[deciding]], request)
            if not row:
                allowed, row = self._core.evaluate(
                    [self._rows[n] for n in self._index.candidates(principals, action, resource)], request)
            if row:
                rule = self.rules[int(row[-1])]
            elif allowed:
                raise RuntimeError("casbin allowed without naming a rule")
        via, path = self._via(subject, groups, rule) if rule is not None else (None, ())
        needs_tags = None
        if rule is None and tags is None:
            matches = self._index.resource_matchers
            needs_tags = next((self.rules[n] for n in allows if self.rules[n].conditions and matches[n](resource)),
                              None)
        return Decision(
            allowed=allowed, subject=subject, action=action, resource=resource, tags=tags,
            policy_version=self.version, rule=rule, via=via, path=path, groups=groups,
            tags_assumed=bool(rule is not None and not allowed and rule.conditions
                              and tags is None),
            needs_tags=needs_tags,
        )

    def _deciding_line(self, denies: Sequence[int], allows: Sequence[int], resource: str,
                       tags: dict[str, str] | None) -> int | None:
        """The line casbin's deny-override effect names over the lines that apply: the first deny, else the
        last allow (casbin stops at a deny and otherwise reports the last match); None when none applies.

        Denies are tried first and allows from the end, each stopping at the first that applies, so most
        decisions test a few of their candidates' resources and conditions, not all (profiled: evaluating
        every candidate in casbin was two thirds of a decision at 10,000 lines).
        """
        matches, conditions = self._index.resource_matchers, self._line_conditions
        for number in denies:
            if matches[number](resource) and (
                    conditions[number] is None or conditions[number].apply("deny", tags)):  # type: ignore[union-attr]
                return number
        for number in reversed(allows):
            if matches[number](resource) and (
                    conditions[number] is None or conditions[number].apply("allow", tags)):  # type: ignore[union-attr]
                return number
        return None

    def _via(self, subject: str, groups: Sequence[str], rule: Rule) -> tuple[str | None,
                                                                            tuple[str, ...]]:
        if rule.subject == subject:
            return None, ()
        if rule.subject == ANYONE:
            return ANYONE, (subject, ANYONE)
        path = self.graph.path((subject, *groups), rule.subject)
        if path and path[0] != subject:
            path = (subject, *path)  # reached through a user group
        return rule.subject, path

    def enforce_all(self, subject: str, action: str, resource: str, *,
                    tags: Mapping[str, str] | None = None, groups: Sequence[str] = ()) -> bool:
        """Plain casbin ``enforce`` over every line, no index (benchmarks and cross-checks).

        Not for concurrent use: it runs on the shared base enforcer.
        """
        group_ids = tuple(sorted({normalize_group(group) for group in groups}))
        request: tuple[Any, ...] = (subject, action, resource, group_ids,
                                    None if tags is None else dict(tags))
        return self._core.enforce_all(request)[0]

    # -- questions about the policy ---------------------------------------------
    def principals(self, subject: str, groups: Sequence[str] = ()) -> set[str]:
        """Every subject whose lines apply: the subject, its roles, groups, their roles, ``*``."""
        found = {subject, ANYONE, *self.graph.roles_of(subject)}
        for group in groups:
            found.add(group)
            found |= self.graph.roles_of(group)
        return found

    def candidate_rules(self, subject: str, action: str, groups: Sequence[str] = ()) -> list[Rule]:
        """The lines casbin would be handed for this subject and action (for explanations)."""
        group_ids = tuple(sorted({normalize_group(group) for group in groups}))
        numbers = self._index.candidates(self.principals(subject, group_ids), action)
        return [self.rules[number] for number in numbers]

    def roles_of(self, subject: str, groups: Sequence[str] = ()) -> list[str]:
        """Every role ``subject`` holds, directly, through roles or through ``groups``."""
        group_ids = [normalize_group(group) for group in groups]
        return sorted(p for p in self.principals(subject, group_ids)
                      if p.startswith(ROLE_PREFIX) and p != subject)

    def members_of(self, role: str) -> list[str]:
        """Users and user groups holding ``role``, directly or through other roles."""
        return sorted(m for m in self.graph.members_of(role) if not m.startswith(ROLE_PREFIX))

    def referenced_usergroups(self) -> set[str]:
        """Bare Slack user group IDs (``S0DBA``) the policy names: resolve these per user."""
        # Asked before every decision a person's request needs: scanning every name each time cost more
        # than the decision at 10,000 lines. Computed once (a racing thread computes the same set).
        if self._usergroup_ids is None:
            self._usergroup_ids = frozenset(name[len(GROUP_PREFIX):] for name in self._named
                                            if name.startswith(GROUP_PREFIX))
        return set(self._usergroup_ids)

    def named_users(self) -> set[str]:
        """Slack user IDs the policy names, as subjects or role members."""
        if self._user_ids is None:  # once, as referenced_usergroups
            self._user_ids = frozenset(name for name in self._named if SLACK_USER.fullmatch(name))
        return set(self._user_ids)

    def subjects_allowed(self, action: str, resource: str, *,
                         tags: Mapping[str, str] | None = None) -> list[str]:
        """User IDs and ``usergroup:`` IDs the policy names that would be allowed.

        A user group counts when the group itself is allowed (a member may still
        be refused by a deny of their own: check the person again when they act).
        The list starts with ``*`` when someone the policy never names would be
        allowed, i.e. the action is open to anyone.
        """
        check_action(action)
        check_resource(resource)
        known_tags = None if tags is None else dict(tags)
        named = {rule.subject for rule in self.rules} | self.graph.members
        concrete = sorted(n for n in named if n != ANYONE and not n.startswith(ROLE_PREFIX))
        allowed = [n for n in concrete
                   if self._decide(n, action, resource, known_tags, ()).allowed]
        if self._decide(_STRANGER, action, resource, known_tags, ()).allowed:
            allowed.insert(0, ANYONE)
        return allowed

    def allowed_rules(self, action: str, resource: str, *, tags: Mapping[str, str] | None = None,
                      people: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None) -> dict[str, Rule]:
        """Everyone allowed ``action`` on ``resource``, each with the first rule that allows them.

        ``people`` maps a subject to (its user groups, groups whose membership is unknown),
        decided as :meth:`decide` would; None: every user and user group the policy names,
        as themselves, and ``*`` when someone it never names would be allowed. Built for
        thousands of people: the lines the index picks for the action and resource are
        matched against the tags once (the same compiled conditions casbin calls), then
        each person gets the model's effect over their principals' lines — any deny wins,
        else any allow — without a casbin call each (tests compare it with :meth:`decide`).
        """
        check_action(action)
        check_resource(resource)
        known_tags = None if tags is None else {str(k): str(v) for k, v in tags.items()}
        if people is None:
            people = {n: ((), ()) for n in [*sorted(self._named), _STRANGER]
                      if n != ANYONE and not n.startswith(ROLE_PREFIX)}
        first: dict[str, list[int | None]] = {}  # subject -> [first deny, first allow] that apply here
        for number in self._index.every_line(action, resource):
            rule, cond = self.rules[number], self._rows[number][4]
            if cond and not self._condition_match(known_tags, cond, rule.effect):
                continue
            slot = first.setdefault(rule.subject, [None, None])
            index = 0 if rule.effect == "deny" else 1
            if slot[index] is None:
                slot[index] = number
        if not first:
            return {}
        applies = {subject: (deny, allow) for subject, (deny, allow) in first.items()}
        relevant = frozenset(applies)
        names: dict[str, str] = {}
        memo: dict[str, tuple[str, ...]] = {}

        def lines_of(node: str) -> tuple[str, ...]:  # the node and its roles that have a line here
            hit = memo.get(node)
            if hit is None:
                hit = memo[node] = tuple(self.graph.roles_of(node) & relevant) + ((node,) if node in relevant else ())
            return hit

        def scan(nodes: Iterable[str]) -> tuple[bool, int | None]:
            """(a deny applies, the first allowing line) over the nodes' lines and their roles'."""
            allow: int | None = None
            for node in nodes:
                for name in lines_of(node):
                    deny, line = applies[name]
                    if deny is not None:
                        return True, None
                    if line is not None and (allow is None or line < allow):
                        allow = line
            return False, allow

        def group_ids(groups: Sequence[str]) -> list[str]:
            return [names.get(g) or names.setdefault(g, normalize_group(g)) for g in groups]

        found: dict[str, Rule] = {}
        for subject, (groups, unknown) in people.items():
            denied, allow = scan((subject, ANYONE, *group_ids(groups)))
            if denied or allow is None:
                continue
            if unknown and scan(group_ids(unknown))[0]:
                continue  # membership Slack cannot confirm: its denies apply (as in decide)
            found[ANYONE if subject == _STRANGER else subject] = self.rules[allow]
        return found
