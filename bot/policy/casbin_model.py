"""casbin's part: the model, the custom functions, and thread-safe evaluation.

One base ``casbin.Enforcer`` holds the model, the role links and every policy
line. The model is checked against the contract on known cases at load
(``_probe``); with the shipped matcher the engine's index gives casbin's answer
without asking it (``engine.py``), and ``enforce_all`` is plain casbin over
every line, which the tests and benchmarks compare it with. With any other
matcher, a decision hands casbin the candidate lines on a
*per-thread view*: a shallow copy of the base enforcer (``_ViewEnforcer``) whose
model shares the request, matcher, effect and role sections but owns its policy
list, and whose function map is its own dict (``enforce_ex`` writes ``g`` into
it and simpleeval adds ``list``/``dict``/...). Nothing shared is written during
a decision, so any number of threads decide at once without a lock. Each thread
keeps its view, and the view its matcher evaluator, for the engine's life:
building them on every call was a third of casbin's time per decision
(profiled: ~15 µs of ~30). There, casbin's matcher and its deny-override effect
decide.

One more thing makes stock casbin unsafe across threads here: ``enforce_ex``
re-parses the matcher with ``ast.parse`` on every call, and CPython 3.11.7
(this venv) fails concurrent ``ast.parse`` calls with "SystemError: AST
constructor recursion depth mismatch" (measured: 8 threads, within seconds).
Views therefore evaluate a matcher parsed once, at load, by casbin's own
``_get_expression``; that also saves ~40 µs a decision.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import casbin
from casbin.constant.constants import ALLOW_AND_DENY_EFFECT
from casbin.model import FunctionMap, Model
from casbin.rbac.default_role_manager import RoleManager
from casbin.util import SimpleEval

from .errors import PolicyError
from .roles import MAX_HOPS

#: The model the bot ships (policies/model.conf). ``p.rule`` is filled by the
#: loader with the rule's index, so casbin's answer names the exact line.
DEFAULT_MODEL_TEXT = """\
# rdsbot's casbin model: RAM-style wildcards, deny-override, nested roles.
# policy.csv lines carry sub, act, obj, eft and optional tag conditions (cond);
# the loader fills `rule` with the line's index so casbin's answer names it.
# r.grp: the requester's Slack user groups; r.tags: the instance's tags, or
# None when unknown. actionMatch, arnMatch, groupMatch and conditionMatch are
# registered by bot/policy (RAM wildcards: '*' matches any run of characters).
# The engine refuses a model whose sections differ from these shapes.

[request_definition]
r = sub, act, obj, grp, tags

[policy_definition]
p = sub, act, obj, eft, cond, rule

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = (p.sub == "*" || g(r.sub, p.sub) || groupMatch(r.grp, p.sub)) && actionMatch(r.act, p.act) && arnMatch(r.obj, p.obj) && (p.cond == "" || conditionMatch(r.tags, p.cond, p.eft))
"""

REQUEST_TOKENS = ["r_sub", "r_act", "r_obj", "r_grp", "r_tags"]
POLICY_TOKENS = ["p_sub", "p_act", "p_obj", "p_eft", "p_cond", "p_rule"]

Row = list[str]

# Every ast.parse of ours goes through this lock (see the module docstring).
_PARSE_LOCK = threading.Lock()


def _normalized(matcher: str) -> str:
    return " ".join(matcher.split())


@functools.cache
def _contract_matcher() -> str:
    """The shipped model's matcher as casbin holds it (once per process)."""
    model = Model()
    model.load_model_from_text(DEFAULT_MODEL_TEXT)
    return _normalized(model["m"]["m"].value)


class LookupOnlyRoleManager(RoleManager):
    """casbin's default role manager whose ``has_link`` never writes.

    The stock ``has_link`` creates a role object for every name it has not seen
    (each new user ID, at every decision): a write to a dict shared by all
    threads and a slow leak. Links are only added at load, before any decision.
    The level-limited walk itself is casbin's.
    """

    def has_link(self, name1: str, name2: str, *domain: str) -> bool:
        if name1 == name2:
            return True
        user = self.all_roles.get(name1)
        if user is None or name2 not in self.all_roles:
            return False
        return self._has_link(name2, [user], self.max_hierarchy_level)

    def print_roles(self) -> None:
        """casbin logs every role at INFO after building the links: only build that text when it is logged
        (it was a tenth of loading 10,000 lines, profiled)."""
        if self.logger.isEnabledFor(logging.INFO):
            super().print_roles()


def _line_of(text: str, pattern: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(pattern, line.strip()):
            return number
    return None


def load_model(text: str, source: str = "model.conf") -> Model:
    """Parse ``model.conf`` and check it has the shape the engine feeds it."""
    model = Model()
    try:
        model.load_model_from_text(text)
    except Exception as exc:  # casbin's config parser raises bare Exceptions
        raise PolicyError(f"cannot parse model: {exc}", path=source) from exc
    for section, key, name in (("r", "r", "request_definition"), ("p", "p", "policy_definition"),
                               ("g", "g", "role_definition"), ("e", "e", "policy_effect"),
                               ("m", "m", "matchers")):
        if model[section] is None or key not in model[section]:
            raise PolicyError(f"missing [{name}] {key} = ...", path=source)
    checks = (
        ("r", REQUEST_TOKENS, "r = sub, act, obj, grp, tags"),
        ("p", POLICY_TOKENS, "p = sub, act, obj, eft, cond, rule"),
    )
    for section, expected, shape in checks:
        if model[section][section].tokens != expected:
            raise PolicyError(f"{section} must be exactly '{shape}'", path=source,
                              line=_line_of(text, rf"{section}\s*="))
    if model["g"]["g"].value.replace(" ", "") != "_,_":
        raise PolicyError("g must be exactly 'g = _, _'", path=source,
                          line=_line_of(text, r"g\s*="))
    if " ".join(model["e"]["e"].value.split()) != ALLOW_AND_DENY_EFFECT:
        raise PolicyError(
            "policy_effect must be deny-override: "
            "e = some(where (p.eft == allow)) && !some(where (p.eft == deny))",
            path=source, line=_line_of(text, r"e\s*="))
    with _PARSE_LOCK:
        try:
            casbin.Enforcer._get_expression(model["m"]["m"].value, {})
        except SyntaxError as exc:
            raise PolicyError(f"the matcher is not a valid expression: {exc.msg}",
                              path=source, line=_line_of(text, r"m\s*=")) from exc
    return model


Functions = Mapping[str, Callable[..., bool]]


class _ViewEnforcer(casbin.Enforcer):
    """A per-call view: casbin's enforcer, minus the per-call ``ast.parse`` of the matcher."""

    parsed_matchers: Mapping[str, Any] = {}
    evaluators: dict[str, SimpleEval]

    def _get_expression(  # type: ignore[override]
        self, expr: str, functions: Any = None
    ) -> SimpleEval:
        evaluator = self.evaluators.get(expr)
        if evaluator is not None:
            # The view's function dict is the one it was built on: enforce_ex only re-sets g in it.
            return evaluator
        parsed = self.parsed_matchers.get(expr)
        if parsed is None:
            # Only a matcher that was not seen at load (none exist): parse it, serialised.
            with _PARSE_LOCK:
                return casbin.Enforcer._get_expression(expr, functions)
        evaluator = SimpleEval("", functions)  # "" skips simpleeval's own parse
        evaluator.expr = expr
        evaluator.ast_parsed_value = parsed
        self.evaluators[expr] = evaluator
        return evaluator


class CasbinCore:
    """A base enforcer with every line, and evaluation of candidate subsets on per-call views."""

    def __init__(self, model: Model, rows: Sequence[Row], links: Sequence[tuple[str, str]],
                 functions: Functions, *, source: str = "model.conf") -> None:
        self._source = source
        enforcer = casbin.Enforcer(model)
        # casbin counts the member as level 1, so RoleManager(10) follows MAX_HOPS links.
        self.role_manager = LookupOnlyRoleManager(MAX_HOPS + 1)
        enforcer.set_role_manager(self.role_manager)
        model["g"]["g"].policy = [list(link) for link in links]
        enforcer.build_role_links()
        # Assigned, not add_policy'd: add_policy checks for duplicates by a list scan (O(n^2)).
        model["p"]["p"].policy = list(rows)
        for name, function in {**functions, "groupMatch": self._group_match}.items():
            enforcer.add_function(name, function)
        self.enforcer = enforcer
        self._base_functions = dict(enforcer.fm.get_functions())
        matcher = model["m"]["m"].value
        with _PARSE_LOCK:
            parsed = casbin.Enforcer._get_expression(matcher, dict(self._base_functions))
        # Read-only from here on: simpleeval walks the tree without changing it.
        self._parsed_matchers = {matcher: parsed.ast_parsed_value}
        self._local = threading.local()
        self._probe()
        #: The matcher is the shipped one (whitespace aside), which the engine's index applies exactly.
        self.contract_matcher = _normalized(matcher) == _contract_matcher()

    def _group_match(self, groups: Sequence[str], subject: str) -> bool:
        """``groupMatch(r.grp, p.sub)``: a Slack group of the requester is or holds ``subject``.

        Group membership comes with each request (Slack resolves it); what a
        group holds comes from ``g`` lines, through casbin's role manager.
        """
        return any(self.role_manager.has_link(group, subject) for group in groups)

    def _view(self) -> _ViewEnforcer:
        """This thread's view (a thread evaluates one request at a time: nothing calls back into casbin)."""
        view: _ViewEnforcer | None = getattr(self._local, "view", None)
        if view is not None:
            return view
        view = _ViewEnforcer.__new__(_ViewEnforcer)
        view.__dict__.update(self.enforcer.__dict__)
        view.parsed_matchers = self._parsed_matchers
        view.evaluators = {}
        view_model = Model()
        base = self.enforcer.model
        for section in ("r", "e", "m", "g"):
            view_model[section] = base[section]
        view_model["p"] = {"p": copy.copy(base["p"]["p"])}
        view.model = view_model
        functions = FunctionMap()
        functions.fm = dict(self._base_functions)
        view.fm = functions
        self._local.view = view
        return view

    def evaluate(self, rows: Sequence[Row], request: Sequence[Any]) -> tuple[bool, Row]:
        """casbin's decision over ``rows`` only: ``(allowed, the row that decided or [])``."""
        view = self._view()
        policy = view.model["p"]["p"]
        policy.policy = list(rows)
        try:
            allowed, row = view.enforce_ex(*request)
        finally:
            policy.policy = []  # the view outlives the call: hold no rows
        return bool(allowed), list(row)

    def enforce_all(self, request: Sequence[Any]) -> tuple[bool, Row]:
        """Stock casbin over every line (benchmarks and cross-checks).

        Not for threads: it writes the shared function map and re-parses the matcher.
        """
        allowed, row = self.enforcer.enforce_ex(*request)
        return bool(allowed), list(row)

    def _probe(self) -> None:
        """Refuse a model whose matcher or effect breaks the contract on small known cases."""
        arn = "acs:rds:cn-hangzhou:1:dbinstance/probe"
        backup = "rds:CreateBackup"

        def row(sub: str = "*", act: str = backup, obj: str = arn, eft: str = "allow",
                cond: str = "") -> Row:
            return [sub, act, obj, eft, cond, "-1"]

        cases: list[tuple[list[Row], str, Any, bool]] = [
            ([row()], backup, None, True),
            ([row(), row(eft="deny")], backup, None, False),
            ([row(sub="U0PROBE-OTHER")], backup, None, False),
            ([row(obj="acs:rds:*")], backup, None, True),
            ([row(obj="acs:rds:*:1:dbinstance/other")], backup, None, False),
            ([row(act="rds:Create*")], backup, None, True),
            ([row(act="rds:*")], "rdsbot:Approve", None, False),
            ([row(cond="rds:ResourceTag/env=dev")], backup, None, False),
            ([row(cond="rds:ResourceTag/env=dev")], backup, {"env": "dev"}, True),
            ([row(), row(eft="deny", cond="rds:ResourceTag/env=dev")], backup, None, False),
            # The engine asks casbin only about a line whose conditions hold: the matcher must agree.
            ([row(), row(eft="deny", cond="rds:ResourceTag/env=dev")], backup, {"env": "prod"}, True),
            ([row(cond="rds:ResourceTag/env=dev")], backup, {"env": "prod"}, False),
        ]
        for rows, action, tags, expected in cases:
            try:
                allowed, _ = self.evaluate(rows, ("U0PROBE", action, arn, (), tags))
            except Exception as exc:  # a broken matcher fails inside casbin's evaluator
                raise PolicyError(f"the matcher cannot be evaluated: {exc!r}",
                                  path=self._source) from exc
            if allowed is not expected:
                raise PolicyError(
                    "the matcher does not implement the policy contract: lines "
                    f"{[r[:5] for r in rows]} for {action} with tags {tags} gave "
                    f"{'allow' if allowed else 'deny'}", path=self._source)
