"""The policy layer: RAM-style access rules decided by casbin.

``PolicyEngine`` loads ``model.conf`` + ``policy.csv`` and answers
``decide(subject, action, resource, tags=..., groups=...)`` with a
``Decision`` that names the rule and policy version. ``PolicyStore`` holds the
current engine and hot-reloads it.

Must never import: ``bot.workflow``, ``bot.slack``, ``bot.rds``, Bolt or the cloud SDK.
"""

from .actions import KNOWN_ACTIONS
from .arn import instance_arn
from .casbin_model import DEFAULT_MODEL_TEXT
from .conditions import Condition
from .decision import Decision
from .engine import PolicyEngine, compute_version
from .errors import PolicyError
from .explain import Trace, trace
from .lint import Finding, lint_dir, lint_text
from .rules import Grant, Rule
from .store import PolicyStore, ReloadEvent
from .tools import ram_policy

__all__ = [
    "DEFAULT_MODEL_TEXT",
    "KNOWN_ACTIONS",
    "Condition",
    "Decision",
    "Finding",
    "Grant",
    "PolicyEngine",
    "PolicyError",
    "PolicyStore",
    "ReloadEvent",
    "Rule",
    "Trace",
    "compute_version",
    "instance_arn",
    "lint_dir",
    "lint_text",
    "ram_policy",
    "trace",
]
