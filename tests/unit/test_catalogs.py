"""The ja and zh_CN catalogues are complete, current, well-formed, follow their glossaries, and leave no
English sentence in what people read: field errors, RDS errors, denies, notices and modals.

"No English sentence left" (:func:`english_left`): once the values filled in,
``{placeholders}``, backtick code spans, URLs, Slack markup (``<@U…>``,
``<!date…>``, ``<#C…>``), ``:emoji:`` and identifiers (API and parameter names,
IDs: anything with a digit, ``.``, ``:``, ``_``, ``/``, ``-`` or an inner capital,
and all-capital words) are taken out, three or more English words in a row are
a failure.

Extraction and each catalogue's check run once per session (bot.i18n_catalog).
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot import operations
from bot.i18n import _, use_locale
from bot.i18n_catalog import TRANSLATED, Problem, extracted, placeholders, problems, source_files
from bot.policy import Decision
from bot.policy.conditions import Condition
from bot.policy.rules import Rule
from bot.rds.errors import CATALOGUE, ErrorKind, RdsError
from bot.slack import messages, modals, notice_views
from bot.slack.notice_views import Facts
from bot.timeutil import utcnow
from bot.workflow import notices as n
from bot.workflow.routing import Approvers
from bot.workflow.states import LABELS, State
from tests.unit.test_notices import _request

LOCALES = pytest.mark.parametrize("locale", TRANSLATED)

# ----------------------------------------------------------------- the detector
_REMOVED = [re.compile(p) for p in (
    r"`[^`]*`",  # code spans
    r"https?://\S+",  # URLs
    r"<[^<>\s][^<>]*>|&lt;.*?&gt;",  # Slack markup: <@U…>, <!date^…|…>, <#C…>, <url|text>
    r":[a-z0-9_+-]+:",  # emoji
    r"\{[^{}]*\}",  # placeholders left as they are
)]
_WORD = re.compile(r"[A-Za-z][a-z]*(?:'[a-z]+)?")
_PUNCTUATION = "\"'()[]{}*_~,.;:!?…—–·•→«»“”‘’"
PROPER = {"Alibaba", "Cloud", "ApsaraDB", "Slack", "Server"}  # names written the same in every language
# Names the Japanese and Chinese seed pages themselves keep in English (the glossaries' notes say so).
KEPT = ("High Availability Edition", "High-availability Edition", "Basic Edition", "Cluster Edition",
        "Finance Edition")


def english_left(text: str, values: tuple[str, ...] = ()) -> str | None:
    """The first run of three or more English words in ``text``, None when there is none."""
    for value in sorted((v for v in (*values, *KEPT) if v), key=len, reverse=True):
        text = text.replace(value, " | ")
    for pattern in _REMOVED:
        text = pattern.sub(" | ", text)
    run: list[str] = []
    for token in text.split():
        word = token.strip(_PUNCTUATION)
        english = bool(_WORD.fullmatch(word)) and word not in PROPER
        if english:
            run.append(word)
            if len(run) >= 3:
                return " ".join(run)
        else:
            run = []
        if english and token[-1:] in ".;:!?":
            run = []  # a sentence ends: "RDS." then "Done" are not one phrase
    return None


def test_the_detector_finds_english_and_only_english() -> None:
    assert english_left("インスタンス rm-bp1 is not running now") == "is not running"
    assert english_left("`/rds clone [instance-id]` でインスタンスを複製します <@U0ALICE> :lock:") is None
    assert english_left("{instance} は DBInstanceId の値 rds:CloneDBInstance (Postpaid) です") is None
    assert english_left("备份集 the backup set 不存在", values=("the backup set",)) is None
    assert english_left("Alibaba Cloud ApsaraDB Slack のボット") is None


def _failures(rendered: Iterator[tuple[str, str, tuple[str, ...]]]) -> list[str]:
    found = []
    for what, text, values in rendered:
        left = english_left(text, values)
        if left is not None:
            found.append(f"{what}: {left!r} in {text[:160]!r}")
    return found


def _assert_none(found: list[str], what: str) -> None:
    assert not found, f"{len(found)} {what} still read in English:\n" + "\n".join(found[:80])


# ------------------------------------------------------------ catalogue checks
@functools.cache
def _problems(locale: str) -> tuple[Problem, ...]:
    return tuple(problems(locale))


def _kinds(locale: str, *kinds: str) -> list[str]:
    return [str(p) for p in _problems(locale) if p.kind in kinds]


def test_extraction_finds_the_message_ids() -> None:
    ids = {m.id for m in extracted() if m.id}
    assert len(ids) > 600
    assert "Clone an RDS instance" in ids  # an operation title (_ at import)
    assert "A backup set ID is a number." in ids  # a Checker.fail / FieldError.of template
    assert "That zone is not valid." in ids  # an RDS error Entry
    assert not any("sandbox" in str(p) for p in source_files())


@LOCALES
def test_every_message_has_a_reviewed_translation(locale: str) -> None:
    found = _kinds(locale, "missing", "fuzzy")
    assert not found, f"{len(found)} untranslated or fuzzy:\n" + "\n".join(found[:80])


@LOCALES
def test_no_entry_is_stale(locale: str) -> None:
    found = _kinds(locale, "stale")
    assert not found, "no longer in the source (run `python -m bot.i18n_catalog update`):\n" + "\n".join(found)


@LOCALES
def test_translations_keep_the_placeholders(locale: str) -> None:
    found = _kinds(locale, "placeholders")
    assert not found, "\n".join(found)


@LOCALES
def test_translations_follow_the_glossary(locale: str) -> None:
    found = _kinds(locale, "glossary")
    assert not found, f"{len(found)} do not write a glossary term its way:\n" + "\n".join(found[:80])


# ------------------------------------------------------------------- rendering
TEMPLATE_AT = {"fail": 2, "of": 1, "TableMetaError": 1}


@functools.cache
def field_error_templates() -> tuple[str, ...]:
    """Every Checker.fail / FieldError.of template in the source."""
    found: set[str] = set()
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            at = TEMPLATE_AT.get(name)
            if at is not None and len(node.args) > at and isinstance(node.args[at], ast.Constant):
                found.add(str(node.args[at].value))
    return tuple(sorted(found))


def test_field_error_templates_are_found() -> None:
    assert len(field_error_templates()) > 100


@LOCALES
def test_field_errors_read_in_the_language(locale: str) -> None:
    def rendered() -> Iterator[tuple[str, str, tuple[str, ...]]]:
        with use_locale(locale):
            for template in field_error_templates():
                yield "field error", _(template, **{name: "" for name in placeholders(template)}), ()

    _assert_none(_failures(rendered()), "field errors")


@LOCALES
def test_rds_errors_read_in_the_language(locale: str) -> None:
    def rendered() -> Iterator[tuple[str, str, tuple[str, ...]]]:
        with use_locale(locale):
            for code in CATALOGUE:
                yield code, RdsError(code, "").plain(), ()
            for kind in ErrorKind:
                yield kind.value, RdsError("Unlisted.Code", "", kind=kind).plain(), ()

    _assert_none(_failures(rendered()), "RDS errors")


RULE = Rule(path="policies/policy.csv", line=7, text="p, role:dba, rds:*, acs:rds:*:*:dbinstance/*, allow",
            subject="role:dba", action="rds:*", resource="acs:rds:*:*:dbinstance/*", effect="allow")
DENY = RULE.model_copy(update={"text": "p, role:intern, rds:*, *, deny", "effect": "deny", "subject": "role:intern"})
TAGGED = RULE.model_copy(update={"conditions": (Condition(key="env", op="!=", value="prod"),)})


def decisions() -> list[Decision]:
    """One decision of each kind the policy explains."""
    base: dict[str, Any] = {"subject": "U0DAVE", "action": "rds:CloneDBInstance", "tags": {"env": "prod"},
                            "resource": "acs:rds:cn-hangzhou:*:dbinstance/rm-bp1prod", "policy_version": "ab12cd"}
    return [
        Decision(allowed=False, rule=None, **base),
        Decision(allowed=False, rule=None, needs_tags=TAGGED, **{**base, "tags": None}),
        Decision(allowed=False, rule=DENY, via="role:intern", path=("U0DAVE", "role:intern"), **base),
        Decision(allowed=False, rule=DENY, tags_assumed=True, **{**base, "tags": None}),
        Decision(allowed=False, rule=DENY, via="*", **base),
        Decision(allowed=False, rule=None, unknown_groups=("S0DBA",), **base),
        Decision(allowed=True, rule=RULE, via="role:dba", path=("U0BOB", "role:dba"), **{**base, "subject": "U0BOB"}),
    ]


@LOCALES
def test_denies_read_in_the_language(locale: str) -> None:
    op = operations.require("clone")

    def rendered() -> Iterator[tuple[str, str, tuple[str, ...]]]:
        with use_locale(locale):
            for decision in decisions():
                yield "explanation", decision.explain(), ()
                yield "deny", messages.denied(op, decision, "clone-20261207-0badc0de"), ()
                yield "deny", messages.denied(op, decision), ()

    _assert_none(_failures(rendered()), "deny explanations")


def _notice_samples() -> Iterator[tuple[n.Notice, State]]:
    """Each notice kind, in each state it is sent in, with its fields filled in."""
    until = (utcnow() + timedelta(hours=2)).isoformat()
    yield n.Anchor(), State.PENDING_APPROVAL
    for state in (State.APPROVED, State.REJECTED, State.HELD, State.SUCCEEDED, State.CANCELLED):
        yield n.AnchorUpdate(), state
    yield n.Opened(), State.RUNNING
    yield n.Started(), State.RUNNING
    yield n.ProgressReply(status="Creating", percent=None), State.RUNNING
    yield n.ProgressEdit(status="Uploading", percent=40), State.RUNNING
    yield n.Retrying(code="Throttling.User", plain="", attempt=1, safe=True, error_kind="throttled"), State.SUBMITTED
    yield n.Retrying(code="SocketTimeout", attempt=2, safe=False, error_kind="timeout"), State.SUBMITTED
    yield n.Held(window="year-end", until=until), State.HELD
    yield n.ReviewOverdue(channel="C0APPROVALS"), State.SUCCEEDED
    for state in (State.SUCCEEDED, State.FAILED, State.DENIED):
        yield n.Final(), state
    for state in (State.REJECTED, State.EXPIRED, State.CANCELLED, State.SUCCEEDED, State.FAILED, State.DENIED):
        yield n.DirectMessage(to="U0ALICE"), state
    yield n.ApproverDM(to="U0BOB"), State.PENDING_APPROVAL
    for last in ({"none": True}, {"age_s": 90000, "id": "3101", "method": "Physical"},
                 {"error": "E", "code": "Throttling.User", "message": "", "kind": "throttled"}):
        yield n.ReminderPost(channel="C0OPS", reminder_id="rem-1", instance="rm-bp1prod",
                             schedule="0 9 * * * (Asia/Shanghai)", last_backup=last), State.SUCCEEDED
    yield n.AuditSealPost(channel="C0SEAL", ok=True, count=12, anchor="12:ab12", previous="11:aa"), State.SUCCEEDED
    yield n.AuditSealPost(channel="C0SEAL", ok=False, bad_seq=7, reason="hash"), State.SUCCEEDED


def test_every_notice_kind_is_sampled() -> None:
    assert {type(notice) for notice, _state in _notice_samples()} == set(n.KINDS.values())


def _texts(value: Any) -> Iterator[str]:
    """Every text a person reads in a message or a view (placeholders are samples to type, not read)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            elif key not in {"placeholder", "value", "action_id", "block_id", "callback_id", "private_metadata"}:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


@LOCALES
def test_notices_read_in_the_language(locale: str) -> None:
    op = operations.require("clone")
    values = ("INC-4211", "E-42", "Creating", "Uploading", "year-end")

    def rendered() -> Iterator[tuple[str, str, tuple[str, ...]]]:
        with use_locale(locale):
            for notice, state in _notice_samples():
                request = _request(state, reason="INC-4211", error_message="E-42", error_code="InternalError",
                                   expires_at=utcnow() + timedelta(hours=1), break_glass=state is State.SUCCEEDED)
                facts = Facts(request=request, op=op, approvers=["U0BOB"], retry_in_s=60,
                              rejection=("U0BOB", "INC-4211") if state is State.REJECTED else None,
                              eligible=Approvers(people=("U0BOB", "U0CAROL"), pool="role:dba"))
                message = notice_views.render(notice, facts)
                for text in (message.text, *_texts(message.blocks)):
                    yield f"{notice.kind}/{state.value}", text, values

    _assert_none(_failures(rendered()), "notices")


@LOCALES
def test_modals_help_and_states_read_in_the_language(locale: str) -> None:
    def rendered() -> Iterator[tuple[str, str, tuple[str, ...]]]:
        with use_locale(locale):
            for name, form in operations.FORMS.items():
                for text in _texts(modals.operation_modal(form, break_glass=True)):
                    yield f"modal {name}", text, ()
            yield "help", messages.help_text(), ()
            for state in State:
                yield f"state {state.value}", LABELS[state], ()

    _assert_none(_failures(rendered()), "modal texts")
