"""Field errors carry a message key and its parameters (bot.i18n), read from the source with ``ast``.

A key names one message: everywhere it is used it has the same English
template, and every call fills exactly that template's placeholders, so a
translation can be looked up by key and rendered from the parameters.
"""

from __future__ import annotations

import ast
import string
from collections import defaultdict
from pathlib import Path

from bot.operations.base import PLAIN, FieldError, FieldErrors

OPERATIONS = Path(__file__).resolve().parents[2] / "bot" / "operations"
# Calls that build a field error: (function name, index of the key argument; the template follows it).
BUILDERS = {"fail": 1, "of": 0, "TableMetaError": 0}


def _messages() -> list[tuple[str, str, str, set[str]]]:
    """(where, key, template, parameter names) of every field error built in bot/operations."""
    found = []
    for path in sorted(OPERATIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            at = BUILDERS.get(name)
            if at is None or len(node.args) < at + 2:
                continue
            key, template = node.args[at], node.args[at + 1]
            if isinstance(key, ast.Name) and isinstance(template, ast.Name):
                continue  # a builder passing on its caller's key and template
            assert isinstance(key, ast.Constant) and isinstance(template, ast.Constant | ast.JoinedStr), (
                f"{path.name}:{node.lineno}: the key and template must be literals")
            assert isinstance(template, ast.Constant), f"{path.name}:{node.lineno}: an f-string template"
            params = {kw.arg for kw in node.keywords if kw.arg is not None}
            found.append((f"{path.name}:{node.lineno}", key.value, template.value, params))
    assert len(found) > 50, "the scan found too few field errors"
    return found


def test_each_key_has_one_template() -> None:
    templates = defaultdict(set)
    for _where, key, template, _params in _messages():
        templates[key].add(template)
    assert not {k: t for k, t in templates.items() if len(t) > 1}
    assert PLAIN not in templates


def test_every_template_gets_exactly_its_placeholders() -> None:
    wrong = {}
    for where, key, template, params in _messages():
        wanted = {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template) if field}
        if wanted != params:
            wrong[f"{where} {key}"] = (sorted(wanted), sorted(params))
    assert not wrong, wrong


def test_every_text_through_underscore_gets_exactly_its_placeholders() -> None:
    """``_("...", **params)`` in bot/operations: literal templates, each placeholder filled, nothing extra."""
    wrong, seen = {}, 0
    for path in sorted(OPERATIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
                (template,) = node.args
                if isinstance(template, ast.Name):
                    continue  # FieldError.of rendering its caller's template
                seen += 1
                assert isinstance(template, ast.Constant), f"{path.name}:{node.lineno}: _() of a non-literal"
                params = {kw.arg for kw in node.keywords}
                wanted = {f for _, f, _, _ in string.Formatter().parse(template.value) if f} if params else set()
                if wanted != params:
                    wrong[f"{path.name}:{node.lineno}"] = (sorted(wanted), sorted(params))
    assert seen > 50 and not wrong, wrong


def test_field_errors_keep_the_plain_words_api() -> None:
    errors = FieldErrors({"DBInstanceId": "some text"})
    assert errors.errors == {"DBInstanceId": "some text"}
    assert errors.details["DBInstanceId"] == FieldError(PLAIN, {}, "some text")


def test_field_errors_carry_key_parameters_and_rendered_text() -> None:
    error = FieldError.of("instance_not_found", "No instance {instance} in {region}.", instance="rm-1", region="cn-x")
    errors = FieldErrors({"DBInstanceId": error, "reason": "Say why."})
    assert errors.errors == {"DBInstanceId": "No instance rm-1 in cn-x.", "reason": "Say why."}
    assert errors.details["DBInstanceId"].key == "instance_not_found"
    assert dict(errors.details["DBInstanceId"].params) == {"instance": "rm-1", "region": "cn-x"}
    assert str(errors) == "DBInstanceId: No instance rm-1 in cn-x.; reason: Say why."
