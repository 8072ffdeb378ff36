"""Operation modals: open them, feed their pickers, take their submissions.

The modal opens without waiting on RDS (the slash command's three seconds);
pickers fill themselves through external selects; a submission gets a time
budget for its checks and otherwise shows "checking" and updates the modal
when the answer is ready.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import operations
from bot.config import Settings
from bot.operations.base import FieldErrors, FieldKind, FormSpec, Operation
from bot.operations.rules import INSTANCE_ID
from bot.rds.directory import BackupInfo, RdsDirectory
from bot.rds.errors import RdsError
from bot.slack import messages, modals
from bot.slack.forms import form_values, selected
from bot.slack.replies import CHANNEL_ID, acting_user, metadata, tell
from bot.slack.text import escape
from bot.timeutil import human_bytes, human_time, utcnow
from bot.workflow.service import Denied, Submitted, Workflow

log = logging.getLogger(__name__)

SUBMIT_BUDGET_S = 2.2  # what a view_submission may spend before answering "checking..."
OPTIONS_BUDGET_S = 2.2  # a block_suggestion must be answered within Slack's 3 s too
PICKER_WINDOW = timedelta(days=30)


class FormFlow:
    """Modals of the operations (and of the listing, which has its own result)."""

    def __init__(self, *, workflow: Workflow, settings: Settings, directory: RdsDirectory, executor: Executor,
                 on_listing: Callable[..., Any]) -> None:
        self.workflow = workflow
        self.settings = settings
        self.directory = directory
        self.executor = executor
        self.on_listing = on_listing

    # ------------------------------------------------------------- opening
    def open(self, spec: FormSpec, *, body: dict[str, Any], client: WebClient, respond: Respond,
             initial: dict[str, str | None] | None = None, notes: list[str] | None = None) -> None:
        channel = str(body.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        initial = dict(initial or {})
        instance = initial.get("DBInstanceId")
        view = modals.operation_modal(spec, initial=initial, metadata={"channel": channel, "instance": instance},
                                      notes=notes or [])
        try:
            opened = client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as error:
            code = error.response.get("error")
            if code in {"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"}:
                respond(text=":hourglass: Slack's window for opening the form passed before I could open it. "
                             f"Please run `/rds {spec.name}` again.", response_type="ephemeral")
            else:
                respond(text=f":warning: I could not open the form ({escape(str(code))}).", response_type="ephemeral")
            return
        if instance:
            user = acting_user(body) or ""
            self.show_source(client, opened["view"], instance, user, spec)

    def source_picked(self, body: dict[str, Any], client: WebClient) -> None:
        """The user chose an instance: show its facts (and any policy refusal) under the picker."""
        view = body.get("view") or {}
        spec = spec_of_view(view)
        instance = selected(view, "DBInstanceId")
        if spec is None or not instance:
            return
        self.show_source(client, view, instance, acting_user(body) or "", spec)

    def show_source(self, client: WebClient, view: dict[str, Any], instance_id: str, user: str, spec: FormSpec) -> None:
        if not INSTANCE_ID.match(instance_id):
            return
        try:
            info = self.directory.instance(instance_id)
        except RdsError as error:
            lines = [f":warning: {escape(error.plain())}"]
        else:
            lines = [f"*{escape(info.id)}* · {escape(info.engine)} {escape(info.engine_version)} · "
                     f"{escape(info.category)} · {escape(info.instance_class)} · {info.storage_gb or '?'} GB "
                     f"{escape(info.storage_type)} · {escape(info.zone_id)} · {escape(info.status)}"]
            if info.tags:
                lines.append("tags: " + escape(", ".join(f"{k}={v}" for k, v in sorted(info.tags.items()))))
            retention = self.directory.retention_days(instance_id)
            if retention:
                lines.append(f"backups kept {retention} days · earliest point ≈ "
                             f"{human_time(utcnow() - timedelta(days=retention))}")
            decision = self.workflow.decide(user, spec.ram_action, self.workflow.resource_of(instance_id), info.tags)
            if not decision.allowed:
                lines.append(f":lock: {messages.decision_text(decision)}")
        try:
            client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=modals.with_source_info(view, lines))
        except SlackApiError as error:
            # hash_conflict: the user changed the form meanwhile; their view wins.
            log.info("source info not shown", extra={"error": error.response.get("error")})

    # ------------------------------------------------------------- pickers
    def suggest(self, ack: Ack, body: dict[str, Any]) -> None:
        """External selects: instances (type-ahead), backups, cross-region sets, databases."""
        action_id = str(body.get("action_id") or "")[:64]
        query = str(body.get("value") or "")[:100].strip().lower()
        view = body.get("view") or {}
        spec = spec_of_view(view)
        if spec is None or not spec.has_field(action_id):
            ack(options=[])
            return
        field = spec.field(action_id)
        instance = selected(view, "DBInstanceId") or metadata(view).get("instance")
        future = self.executor.submit(self._options, field.kind, field.engine, str(instance or ""), query)
        try:
            ack(options=future.result(timeout=OPTIONS_BUDGET_S))
        except FutureTimeout:
            # RDS is slow: answer in time; the lookup finishes and fills the cache for the next keystroke.
            log.info("options lookup over budget", extra={"action_id": action_id})
            ack(options=[])
        except RdsError as error:
            log.warning("options lookup failed", extra={"action_id": action_id, "code": error.code})
            ack(options=[])

    def _options(self, kind: FieldKind, engine: str | None, instance: str, query: str) -> list[dict[str, Any]]:
        if kind is FieldKind.INSTANCE:
            return [modals.option(i.id, i.label) for i in self.directory.search_instances(query, engine=engine)[:100]]
        if not INSTANCE_ID.match(instance):
            return []
        if kind is FieldKind.BACKUP:
            backups = [b for b in self.directory.backups(instance) if b.ok and query in b.id]
            return [modals.option(b.id, backup_label(b)) for b in backups[:100]]
        if kind is FieldKind.CROSS_BACKUP:
            now = utcnow()
            page = self.directory.cross_region_backups(instance, start=now - PICKER_WINDOW, end=now, page_size=100)
            sets = [b for b in page.items if not b.failed and b.method != "L" and query in str(b.id)]
            return [modals.option(str(b.id), messages.cross_backup_label(b)) for b in sets[:100]]
        if kind is FieldKind.DATABASES:
            names = [d.name for d in self.directory.databases(instance) if query in d.name.lower()]
            return [modals.option(n, n) for n in names[:100]]
        return []

    # ---------------------------------------------------------- submission
    def submit(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        spec = spec_of_view(view)
        user = acting_user(body) or ""
        if spec is None:
            ack(response_action="update", view=modals.message_modal("Not available", "This operation is not available."))
            return
        channel = str(metadata(view).get("channel") or "")
        channel = channel if CHANNEL_ID.match(channel) else ""
        form = form_values(view)
        if not isinstance(spec, Operation):
            self.on_listing(ack=ack, client=client, user=user, channel=channel, form=form)
            return
        view_id = str(view.get("id") or "")[:100] or None
        future = self.executor.submit(self.workflow.submit, spec.name, user=user, channel=channel or user, form=form,
                                      submission_key=f"view:{view_id}" if view_id else None)
        try:
            outcome = future.result(timeout=SUBMIT_BUDGET_S)
        except FieldErrors as errors:
            ack(response_action="errors", errors=errors_for(view, errors.errors))
            return
        except FutureTimeout:
            ack(response_action="update", view=modals.message_modal(spec.title, ":hourglass: Checking with RDS…"))
            future.add_done_callback(lambda f: self._finish_late(client, view, spec, user, channel, f))
            return
        except Exception:  # noqa: BLE001 - the user must get an answer whatever broke
            log.exception("submission failed", extra={"operation": spec.name, "user": user})
            ack(response_action="update", view=modals.message_modal(spec.title, ":warning: Something went wrong on "
                                                                    "the bot's side; nothing was sent to RDS. Try again."))
            return
        ack(response_action="update", view=self._result_view(spec, outcome))
        self._after_submit(client, spec, user, channel, outcome)

    def _finish_late(self, client: WebClient, view: dict[str, Any], op: Operation, user: str, channel: str,
                     future: Any) -> None:
        try:
            outcome = future.result()
        except FieldErrors as errors:
            values = form_values(view)
            again = modals.operation_modal(op, initial={k: v for k, v in values.items() if isinstance(v, str)},
                                           metadata=metadata(view), notes=modals.error_notes(errors.errors))
            self._update_view(client, view, again)
            return
        except Exception:  # noqa: BLE001 - the user must get an answer whatever broke
            log.exception("late submission failed", extra={"operation": op.name, "user": user})
            self._update_view(client, view, modals.message_modal(op.title, ":warning: Something went wrong; "
                                                                           "nothing was sent to RDS."))
            return
        self._update_view(client, view, self._result_view(op, outcome))
        self._after_submit(client, op, user, channel, outcome)

    @staticmethod
    def _update_view(client: WebClient, view: dict[str, Any], new: dict[str, Any]) -> None:
        try:
            client.views_update(view_id=view.get("id"), view=new)
        except SlackApiError as error:
            log.warning("view update failed", extra={"error": error.response.get("error")})

    def _result_view(self, op: Operation, outcome: Submitted | Denied) -> dict[str, Any]:
        if isinstance(outcome, Denied):
            rid = outcome.request.id if outcome.request else None
            return modals.message_modal("Not allowed", messages.denied(op, outcome.decision, rid))
        return modals.message_modal(op.title, messages.submitted(outcome.request, op, self.settings.approval_channel))

    def _after_submit(self, client: WebClient, op: Operation, user: str, channel: str, outcome: Submitted | Denied) -> None:
        if isinstance(outcome, Denied):
            rid = outcome.request.id if outcome.request else None
            tell(client, channel, user, messages.denied(op, outcome.decision, rid))
        elif outcome.request.state == "approved":
            # No approval needed: run it now, after the ack.
            self.executor.submit(self.workflow.execute, outcome.request.id)


def spec_of_view(view: dict[str, Any]) -> FormSpec | None:
    callback = str(view.get("callback_id") or "")
    return operations.form(callback.removeprefix("rds_")) if callback.startswith("rds_") else None


def errors_for(view: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """Only block_ids the view has may carry errors, or Slack rejects the whole answer."""
    inputs = [b.get("block_id") for b in view.get("blocks", []) if isinstance(b, dict) and b.get("type") == "input"]
    out: dict[str, str] = {}
    for name, message in errors.items():
        target = name if name in inputs else (inputs[0] if inputs else name)
        out[target] = (out[target] + " " + message) if target in out else message
    return {k: v[:2000] for k, v in out.items()}


def backup_label(backup: BackupInfo) -> str:
    when = human_time(backup.end or backup.start) if (backup.end or backup.start) else "?"
    size = human_bytes(backup.size) if backup.size else ""
    return f"{backup.id} · {when} · {backup.method} {backup.type} {size}".strip()
