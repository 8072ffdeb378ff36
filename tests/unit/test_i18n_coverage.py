"""Every user-visible string in bot/slack goes through ``bot.i18n._`` (issue 11), read from the source with ``ast``.

The rules, for each module of bot/slack (bot/sandbox is not scanned):

1. Sentences. A string literal, or the literal parts of an f-string joined,
   that still has a space and a letter once ``:emoji:`` codes are removed must
   sit inside a ``_()`` call. Not scanned: docstrings, ``raise`` statements
   (exception messages), logging calls (``log.info(...)``), and the modules in
   ``NOT_SLACK_TEXT``, whose strings answer Slack's servers over HTTP and never
   reach a person.
2. Words. A literal with a letter in a place that is always shown (the
   ``"text"`` of a Block Kit object, or an argument of one of ``SINKS``) must
   be inside ``_()`` even when it is a single word ("Approve", "Close").
   In bot/workflow, the same holds for the sentence of an outcome
   (``OUTCOMES``: VoteOutcome, CancelOutcome, ReminderResult, Refuse,
   ScheduleError), the text the Slack layer shows as it is.
3. Templates. ``_()`` takes one positional argument, a plain string literal,
   and no f-string anywhere inside the call: the English template is the
   message id a catalogue looks up, so values are passed as named parameters
   and never formatted into it (nor hidden, pre-formatted, in a parameter).
   ``_n()`` takes two literals and the count; ``Checker.fail``,
   ``FieldError.of`` and an RDS error ``Entry`` a literal in their template's
   place (these are the extraction keywords of :mod:`bot.i18n_catalog`).
   This rule also covers bot/workflow, whose outcome sentences reach Slack.
4. Beyond bot/slack. Rules 1 and 3 also hold in bot/operations (labels,
   hints, field errors, outcomes), the RDS error catalogue and the policy's
   explanations, where a ``fail``/``of``/``Entry`` template counts as wrapped
   and a ``placeholder=``/``example=`` sample is not words.

Limits: this is a heuristic on the source, not on what reaches Slack.
A single word built into a sentence elsewhere ("done", "ok") is only caught
when it lands in a place of rule 2. Text that arrives as a variable (an
operation's title, an outcome's message, an RDS error) is checked where it is
written, when that is bot/slack or bot/workflow's ``_()`` calls, not where it is
shown; other packages' text (bot/rds beyond its errors, bot/store) is not
checked here. A string with a space and a letter that is not text (a regex, a
format) would need ``_()`` or a new exemption; none does today.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
SLACK = BOT / "slack"
# Modules whose strings go to Slack's servers (HTTP statuses, payload refusals), not to a person.
NOT_SLACK_TEXT = {"bolt_app.py", "envelope.py", "server.py"}
# Calls whose arguments are always shown to someone (rule 2): keyword "text" or any positional argument.
SINKS = {"_text", "section", "context", "tell", "message_modal", "ack", "respond", "Message"}
# bot/workflow's outcomes: the position of their sentence for the user (rule 2).
OUTCOMES = {"VoteOutcome": 1, "CancelOutcome": 1, "ReminderResult": 1, "Refuse": 0, "ScheduleError": 0}
EMOJI = re.compile(r":[a-z0-9_+-]+:")


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


# Calls whose string arguments are message ids: ``_`` and ``_n`` (every literal inside), and the
# template of ``Checker.fail`` / ``FieldError.of`` and an RDS error ``Entry`` (the argument at this index).
TRANSLATE = {"_", "_n"}
# Keyword arguments whose literal is a sample of what to type, shown as is in every language.
EXAMPLES = {"placeholder", "example"}
# Names that are the same in every language (bot/operations).
PROPER_NAMES = {"SQL Server"}
TEMPLATE_AT = {"fail": 2, "of": 1, "Entry": 0, "TableMetaError": 1}


def _is_translate(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in TRANSLATE


def _is_template(child: ast.AST, parent: ast.AST) -> bool:
    """Is ``child`` the message-id argument of a ``fail``/``of``/``Entry`` call?"""
    if not isinstance(parent, ast.Call):
        return False
    at = TEMPLATE_AT.get(_call_name(parent))
    return at is not None and len(parent.args) > at and parent.args[at] is child


def _call_name(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _strings(tree: ast.AST, parents: dict[ast.AST, ast.AST]) -> list[tuple[ast.expr, str]]:
    """Each string literal and f-string with its literal text (an f-string's constant parts joined)."""
    found: list[tuple[ast.expr, str]] = []
    for node in ast.walk(tree):
        parent = parents.get(node)
        if isinstance(node, ast.JoinedStr):
            if isinstance(parent, ast.FormattedValue):
                continue  # a format spec ({when:%H:%M})
            found.append((node, "".join(v.value for v in node.values if isinstance(v, ast.Constant))))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and not isinstance(parent, ast.JoinedStr):
            found.append((node, node.value))
    return found


def _context(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[bool, bool]:
    """(inside a ``_()`` call, in a place rule 1 does not scan)."""
    inside = exempt = False
    child, parent = node, parents.get(node)
    while parent is not None:
        if _is_translate(parent) or _is_template(child, parent):
            inside = True
        if isinstance(parent, ast.Raise):
            exempt = True
        if isinstance(parent, ast.Expr) and parent.value is child and isinstance(child, ast.Constant):
            exempt = True  # a docstring (or a bare string statement)
        if (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute)
                and isinstance(parent.func.value, ast.Name) and parent.func.value.id in {"log", "logging"}):
            exempt = True
        if isinstance(parent, ast.keyword) and parent.arg in EXAMPLES:
            exempt = True  # a sample value to type (placeholder="erp -> erp_copy"), not words
        child, parent = parent, parents.get(parent)
    return inside, exempt


def _always_shown(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Is ``node`` (possibly inside a conditional expression) a Block Kit "text" value or a sink's argument?"""
    child, parent = node, parents.get(node)
    while isinstance(parent, ast.IfExp | ast.BoolOp):
        child, parent = parent, parents.get(parent)
    if isinstance(parent, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value == "text" and v is child
                   for k, v in zip(parent.keys, parent.values, strict=True))
    if isinstance(parent, ast.keyword):
        call = parents.get(parent)
        return parent.arg == "text" and isinstance(call, ast.Call) and _call_name(call) in SINKS
    if isinstance(parent, ast.Call):
        return child in parent.args and _call_name(parent) in SINKS
    return False


def untranslated(path: Path) -> list[str]:
    """Rules 1 and 2 for one module: each offending string as ``file:line: text``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = _parents(tree)
    problems = []
    for node, text in _strings(tree, parents):
        words = EMOJI.sub("", text)
        if not re.search(r"[A-Za-z]", words):
            continue
        inside, exempt = _context(node, parents)
        if inside:
            continue
        sentence = " " in words and not exempt
        if sentence or _always_shown(node, parents):
            problems.append(f"{path.name}:{node.lineno}: {text[:70]!r}")
    return problems


def untranslated_outcomes(path: Path) -> list[str]:
    """Rule 2 for bot/workflow: literal text in an outcome's sentence that is not inside ``_()``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = _parents(tree)
    problems = []
    for call in ast.walk(tree):
        at = OUTCOMES.get(_call_name(call)) if isinstance(call, ast.Call) else None
        if at is None:
            continue
        assert isinstance(call, ast.Call)
        sentence = [k.value for k in call.keywords if k.arg == "message"] or call.args[at:at + 1]
        for arg in sentence:
            for node, text in _strings(arg, parents):
                if re.search(r"[A-Za-z]", EMOJI.sub("", text)) and not _context(node, parents)[0]:
                    problems.append(f"{path.name}:{node.lineno}: {text[:70]!r}")
    return problems


def _literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _passes_on(node: ast.Call) -> bool:
    """``_(template, **params)``: FieldError.of handing its (checked) template on."""
    return len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].id == "template"


def bad_templates(path: Path) -> list[str]:
    """Rule 3 for one module: ``_()`` calls whose template is not a lone string literal (``_n``: two, then
    the count; ``fail``/``of``/``Entry``: a literal at the template's place), or that hold an f-string."""
    problems = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if _is_translate(node):
            assert isinstance(node, ast.Call)
            if isinstance(node.func, ast.Name) and node.func.id == "_n":
                ok = len(node.args) == 3 and _literal(node.args[0]) and _literal(node.args[1])
            else:
                ok = len(node.args) == 1 and _literal(node.args[0])
            if not (ok or _passes_on(node)):
                problems.append(f"{path.name}:{node.lineno}: the template must be one string literal")
            if any(isinstance(sub, ast.JoinedStr) for sub in ast.walk(node)):
                problems.append(f"{path.name}:{node.lineno}: an f-string inside _()")
        elif isinstance(node, ast.Call) and _call_name(node) in TEMPLATE_AT:
            at = TEMPLATE_AT[_call_name(node)]
            template = node.args[at] if len(node.args) > at else None
            passed_on = isinstance(template, ast.Name) and template.id == "template"  # fail() -> of() -> _()
            if template is not None and not (_literal(template) or passed_on):
                problems.append(f"{path.name}:{node.lineno}: the template must be one string literal")
            if any(isinstance(sub, ast.JoinedStr) for sub in ast.walk(node)):
                problems.append(f"{path.name}:{node.lineno}: an f-string inside {_call_name(node)}()")
    return problems


def _slack_modules() -> list[Path]:
    return [p for p in sorted(SLACK.glob("*.py")) if p.name not in NOT_SLACK_TEXT]


def test_user_visible_strings_in_bot_slack_go_through_the_translation_function() -> None:
    modules = _slack_modules()
    assert len(modules) > 15, "the scan found too few modules"
    problems = [problem for path in modules for problem in untranslated(path)]
    assert not problems, "wrap these in _() (bot.i18n):\n" + "\n".join(problems)


def test_workflow_outcome_sentences_go_through_the_translation_function() -> None:
    modules = sorted((BOT / "workflow").glob("*.py"))
    problems = [problem for path in modules for problem in untranslated_outcomes(path)]
    assert not problems, "wrap these in _() (bot.i18n):\n" + "\n".join(problems)


def test_user_visible_strings_in_operations_and_rds_errors_are_message_ids() -> None:
    """bot/operations (field labels, hints, field errors, outcomes), the RDS error catalogue and the
    policy's explanations reach people too: their sentences are ``_()``, ``fail``/``of`` or ``Entry`` ids."""
    modules = [*sorted((BOT / "operations").glob("*.py")), BOT / "rds" / "errors.py", BOT / "policy" / "decision.py"]
    problems = [problem for path in modules for problem in untranslated(path)
                if problem.split(": ", 1)[1].strip("'\"") not in PROPER_NAMES]
    assert not problems, "make these message ids (_(), Checker.fail, FieldError.of, Entry):\n" + "\n".join(problems)
    templates = [problem for path in modules for problem in bad_templates(path)]
    assert not templates, "\n".join(templates)


def test_templates_are_literals_with_named_parameters() -> None:
    modules = [*sorted(SLACK.glob("*.py")), *sorted((BOT / "workflow").glob("*.py"))]
    calls = sum(_is_translate(node) for path in modules for node in ast.walk(ast.parse(path.read_text("utf-8"))))
    assert calls > 100, "the scan found too few _() calls"
    problems = [problem for path in modules for problem in bad_templates(path)]
    assert not problems, "\n".join(problems)


def test_the_scan_catches_what_it_should(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('''
"""A docstring is not shown."""
import logging
log = logging.getLogger(__name__)

def f(ack, user, instance):
    log.info("not shown to anyone")
    ack(text=f"Hello {user}, welcome.")                     # 1: a sentence
    ack(text=":wave: " + _("Hello {user}.", user=user))    # fine
    button = {"type": "plain_text", "text": "Approve"}      # 2: one word, always shown
    label = {"type": "plain_text", "text": _("Reject")}     # fine
    _(f"No instance {instance}.")                           # 3: f-string template
    _("No instance {instance}.", instance=f"`{instance}`")  # 3: f-string parameter
    _("a" if user else "b")                                 # 3: not one literal
    raise ValueError("not shown either")

def g(request):
    VoteOutcome("rejected", f"You rejected {request}.")                         # 2: an outcome's sentence
    VoteOutcome("rejected", _("You rejected {request_id}.", request_id=request))  # fine
    ReminderResult(False, "That schedule never fires." if request else _("Gone."))  # 2: one branch bare

def h(c, n):
    c.fail("x", "pick_one", "Pick one of them.")              # fine: a template
    c.fail("x", "pick_one", f"Pick {n} of them.")             # 3: an f-string template
    _n("{n} backup set", "{n} backup sets", n)                # fine
    Entry("That zone is not valid.", "ZoneId")                # fine: an RDS error's words
''', encoding="utf-8")
    def lines(problems: list[str]) -> list[int]:
        return sorted(int(p.split(":")[1]) for p in problems)

    assert lines(untranslated(sample)) == [8, 10, 18, 20]  # as if it were in bot/slack
    assert lines(bad_templates(sample)) == [12, 12, 13, 14, 24, 24]  # 12: not a literal, and an f-string
    assert lines(untranslated_outcomes(sample)) == [18, 20]
