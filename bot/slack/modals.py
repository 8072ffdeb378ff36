"""Modal views, built from an operation's field list and its metadata (no per-operation code here).

The first view needs nothing from RDS, so it opens within the slash command's
three seconds; pickers fill themselves through external selects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.i18n import _, tr
from bot.operations.base import FieldKind, FieldSpec, FormSpec, Operation
from bot.slack.ids import Block, Callback
from bot.slack.text import escape, plain
from bot.timeutil import epoch_of
from bot.workflow.dry_run import CHECKED as DRY_RUN_CHECKED

Blocks = list[dict[str, Any]]


def _text(value: str) -> dict[str, Any]:
    # Labels, hints and option names were wrapped at import: English ids, read here in the reader's language.
    return {"type": "plain_text", "text": plain(tr(value), limit=150)}


def option(value: str, label: str) -> dict[str, Any]:
    return {"text": _text(tr(label)[:75]), "value": value[:150]}


def element(spec: FieldSpec, initial: str | list[str] | None = None) -> dict[str, Any]:
    """The input element for one field; action_id = block_id = the API parameter."""
    el: dict[str, Any]
    names = initial if isinstance(initial, list) else []  # databases, when a request is edited and sent again
    initial = initial if isinstance(initial, str) else None
    if spec.kind in {FieldKind.SELECT}:
        el = {"type": "static_select", "options": [option(v, label) for v, label in spec.options]}
        labels = dict(spec.options)
        if initial in labels:
            el["initial_option"] = option(initial, labels[initial])
    elif spec.kind is FieldKind.CHECKBOX:
        el = {"type": "checkboxes", "options": [option(v, label) for v, label in spec.options]}
        ticked = [option(v, label) for v, label in spec.options if v == initial or v in names]
        if ticked:
            el["initial_options"] = ticked
    elif spec.kind in {FieldKind.INSTANCE, FieldKind.BACKUP, FieldKind.CROSS_BACKUP}:
        el = {"type": "external_select", "min_query_length": 0}
        if initial:
            el["initial_option"] = option(initial, initial)
    elif spec.kind is FieldKind.DATABASES:
        el = {"type": "multi_external_select", "min_query_length": 0}
        if names:
            el["initial_options"] = [option(name, name) for name in names[:100]]
    elif spec.kind is FieldKind.NUMBER:
        el = {"type": "number_input", "is_decimal_allowed": False}
        if initial:
            el["initial_value"] = initial
    elif spec.kind is FieldKind.TIME:
        # Picked in the user's own zone; Slack sends epoch seconds, so no zone can be mistaken (DESIGN.md).
        el = {"type": "datetimepicker"}
        epoch = epoch_of(initial)
        if epoch is not None:
            el["initial_date_time"] = epoch
    else:
        el = {"type": "plain_text_input", "multiline": spec.kind is FieldKind.LONG_TEXT}
        if spec.max_length:
            el["max_length"] = spec.max_length
        if initial:
            el["initial_value"] = initial[:3000]
    if spec.placeholder and el["type"] not in {"number_input", "datetimepicker", "checkboxes"}:
        el["placeholder"] = _text(spec.placeholder)
    el["action_id"] = spec.name
    return el


def input_block(spec: FieldSpec, initial: str | list[str] | None = None, *, dispatch: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": spec.name,
        "label": _text(spec.label),
        "element": element(spec, initial),
        "optional": not spec.required,
    }
    if spec.hint:
        block["hint"] = _text(spec.hint)
    if dispatch:
        block["dispatch_action"] = True
    return block


def operation_modal(
    op: FormSpec,
    *,
    initial: Mapping[str, str | list[str] | None] | None = None,
    metadata: Mapping[str, Any] | None = None,
    notes: Sequence[str] = (),
    break_glass: bool = False,
) -> dict[str, Any]:
    """The whole form of one operation: required fields first, optional after a divider; ``break_glass``
    (for those allowed rdsbot:BreakGlass) adds that checkbox."""
    initial = initial or {}
    blocks: Blocks = []
    for note in notes:
        blocks.append({"type": "context", "block_id": f"note_{len(blocks)}", "elements": [{"type": "mrkdwn", "text": note[:2900]}]})
    optional_started = False
    for spec in op.fields:
        if spec.section == "optional" and not optional_started:
            optional_started = True
            blocks.append({"type": "divider"})
            blocks.append({
                "type": "context",
                "block_id": "optional_header",
                "elements": [{"type": "mrkdwn", "text": f"{_('*Optional.*')} {op.optional_note}".strip()}],
            })
        # Choosing the main instance shows its facts under the picker; a time, itself in UTC.
        dispatch = spec.name == "DBInstanceId" or spec.kind is FieldKind.TIME
        blocks.append(input_block(spec, initial.get(spec.name), dispatch=dispatch))
    if isinstance(op, Operation):
        blocks.append(dry_run_block(checked=initial.get(Block.DRY_RUN) == DRY_RUN_CHECKED))
        if break_glass:
            blocks.append(break_glass_block(checked=initial.get(Block.BREAK_GLASS) == DRY_RUN_CHECKED))
    submit = _("Request approval") if op.needs_approval else (_("Run") if isinstance(op, Operation) else _("List"))
    return {
        "type": "modal",
        "callback_id": Callback.for_operation(op.name),
        "title": _text(op.title[:24]),
        "submit": _text(submit),
        "close": _text(_("Cancel")),
        "private_metadata": json.dumps(dict(metadata or {}))[:3000],
        "blocks": blocks,
    }


def dry_run_block(*, checked: bool = False) -> dict[str, Any]:
    """The optional ``dry_run`` checkbox (DESIGN.md): checked, the submission is checked and decided, never sent."""
    return _checkbox(Block.DRY_RUN, _("Dry run"), _("Dry run: check everything, send nothing"),
                     _("Shows what would be sent, who decides and who must approve; no request is made."),
                     checked=checked)


def _checkbox(block_id: str, label: str, box_label: str, hint: str, *, checked: bool) -> dict[str, Any]:
    """An optional one-box checkboxes input (value ``yes``)."""
    box = option(DRY_RUN_CHECKED, box_label)
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "optional": True,
        "element": {"type": "checkboxes", "action_id": block_id, "options": [box]},
        "hint": _text(hint),
    }
    if checked:  # a form shown again after errors keeps the box ticked: fixing a field never changes it
        block["element"]["initial_options"] = [box]
    return block


def break_glass_block(*, checked: bool = False) -> dict[str, Any]:
    """The optional ``break_glass`` checkbox (DESIGN.md), shown only to those allowed rdsbot:BreakGlass."""
    return _checkbox(Block.BREAK_GLASS, _("Break glass"), _("Break glass: run now, without approvals or change freezes"),
                     _("For emergencies: a reason is required, and an approver must review it afterwards."),
                     checked=checked)


def with_source_info(view: dict[str, Any], lines: Sequence[str]) -> dict[str, Any]:
    """A copy of ``view`` with a context block about the chosen instance after its picker."""
    return with_info(view, "DBInstanceId", Block.SOURCE_INFO, lines)


def with_info(view: dict[str, Any], after: str, block_id: str, lines: Sequence[str]) -> dict[str, Any]:
    """A copy of ``view`` whose context block ``block_id`` (replaced if there) follows block ``after``;
    no ``lines``, no block."""
    keep = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    new = {k: view[k] for k in keep if k in view}
    blocks = [b for b in view.get("blocks", []) if b.get("block_id") != block_id]
    if lines:
        info = {"type": "context", "block_id": block_id,
                "elements": [{"type": "mrkdwn", "text": "\n".join(lines)[:2900]}]}
        index = next((i for i, b in enumerate(blocks) if b.get("block_id") == after), -1)
        blocks.insert(index + 1, info)
    new["blocks"] = blocks
    return new


def message_modal(title: str, text: str, *, callback_id: str = "rds_notice") -> dict[str, Any]:
    """A one-message modal (results, refusals) with only a Close button."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _text(title[:24]),
        "close": _text(_("Close")),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in _parts(text)],
    }


def _parts(text: str, size: int = 2900, most: int = 20) -> list[str]:
    """Long text as several sections (Slack's limit is 3,000 characters each), cut at line ends."""
    parts: list[str] = []
    for line in text.split("\n"):
        if parts and len(parts[-1]) + 1 + len(line) <= size:
            parts[-1] += "\n" + line
        else:
            parts.append(line[:size])
    return parts[:most] or [""]


def reject_modal(request_id: str, summary: str, *, from_home: bool = False) -> dict[str, Any]:
    """Asks the approver why they reject; the reason is shown to the requester. ``from_home``: the
    click came from their App Home, which is published again once they have rejected."""
    return {
        "type": "modal",
        "callback_id": Callback.REJECT,
        "title": _text(_("Reject request")),
        "submit": _text(_("Reject")),
        "close": _text(_("Back")),
        "private_metadata": json.dumps({"request_id": request_id, **({"home": True} if from_home else {})}),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": summary[:2900]}},
            {
                "type": "input",
                "block_id": Block.REASON,
                "label": _text(_("Why reject it?")),
                "element": {"type": "plain_text_input", "action_id": Block.REASON, "multiline": True, "max_length": 3000},
                "hint": _text(_("The requester sees this.")),
            },
        ],
    }


def error_notes(errors: Mapping[str, str]) -> list[str]:
    """Field errors as text, for when they can no longer go back as response_action errors."""
    return [f":warning: *{escape(name)}*: {escape(message)}" for name, message in errors.items()]
