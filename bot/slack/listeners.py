"""Bolt listeners: parse what Slack sent, call the workflow, render the answer.

Acknowledging is kept apart from working: slash commands and button clicks ack
at once and do their work in lazy listeners; a modal submission, whose field
errors can only travel in the ack, gets a time budget and falls back to a
"checking" view that is updated when the answer is ready.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import operations
from bot.config import Settings
from bot.operations.base import FieldErrors, Operation
from bot.operations.rules import INSTANCE_ID
from bot.rds.directory import RdsDirectory
from bot.rds.errors import RdsError
from bot.slack import messages, modals
from bot.slack.commands import OPERATIONS, REQUEST_ID, parse
from bot.slack.forms import form_values, selected
from bot.slack.ids import Action, Block, Callback, COMMAND
from bot.slack.text import escape
from bot.timeutil import human_time, utcnow
from bot.workflow.service import Denied, Submitted, VoteOutcome, Workflow

log = logging.getLogger(__name__)

SUBMIT_BUDGET_S = 2.2  # what a view_submission may spend before answering "checking..."
CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,20}$")
OP_CALLBACKS = re.compile(r"^rds_(clone|copy|restore|backup|backups)$")


class Listeners:
    """All of the bot's Slack entry points, wired by :meth:`register`."""

    def __init__(self, *, workflow: Workflow, settings: Settings, directory: RdsDirectory, executor: Executor) -> None:
        self.workflow = workflow
        self.settings = settings
        self.directory = directory
        self.executor = executor

    def register(self, app: App) -> None:
        app.command(COMMAND)(ack=self.ack_command, lazy=[self.open_form])
        app.view(OP_CALLBACKS)(self.submit_form)
        app.view(Callback.REJECT)(self.submit_reject)
        app.view_closed(OP_CALLBACKS)(lambda ack: ack())
        app.action(Action.APPROVE)(ack=_just_ack, lazy=[self.approve])
        app.action(Action.REJECT)(ack=_just_ack, lazy=[self.ask_reject_reason])
        app.action(Action.CANCEL)(ack=_just_ack, lazy=[self.cancel])
        app.action("DBInstanceId")(ack=_just_ack, lazy=[self.source_picked])
        app.options(re.compile(r".*"))(self.suggest)

    # ------------------------------------------------------------ /rds ...
    def ack_command(self, ack: Ack, body: dict[str, Any]) -> None:
        """Answer at once: help and status inline, operations open a modal lazily."""
        command = parse(body.get("text"))
        user = str(body.get("user_id") or "")
        if command.name == "help":
            prefix = f"I don't know `{escape(command.unknown)}`.\n" if command.unknown else ""
            ack(text=prefix + messages.HELP)
        elif command.name == "status":
            ack(text=self._status_text(user, command.first))
        elif command.name in OPERATIONS and operations.get(command.name) is None:
            ack(text=f"`/rds {command.name}` is not available yet.\n{messages.HELP}")
        elif command.name in OPERATIONS:
            ack()
        else:
            ack(text=f"`/rds {command.name}` is not available yet.\n{messages.HELP}")

    def open_form(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        command = parse(body.get("text"))
        op = operations.get(command.name)
        if op is None:
            return
        channel = str(body.get("channel_id") or "")
        instance = command.first if command.first and INSTANCE_ID.match(command.first) else None
        notes = []
        if command.first and instance is None:
            notes.append(f":warning: `{escape(command.first[:64])}` is not an instance ID; pick the instance below.")
        view = modals.operation_modal(
            op, initial={"DBInstanceId": instance}, metadata={"channel": channel, "instance": instance}, notes=notes
        )
        try:
            opened = client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as error:
            code = error.response.get("error")
            if code in {"expired_trigger_id", "invalid_trigger_id"}:
                respond(text=":hourglass: Slack's window for opening the form passed before I could open it. "
                             f"Please run `/rds {command.name}` again.", response_type="ephemeral")
            else:
                respond(text=f":warning: I could not open the form ({escape(str(code))}).", response_type="ephemeral")
            return
        if instance:
            self._show_source(client, opened["view"], instance, str(body.get("user_id") or ""), op)

    # -------------------------------------------------------------- modals
    def source_picked(self, body: dict[str, Any], client: WebClient) -> None:
        """The user chose a source instance: show its facts (and any policy refusal) under the picker."""
        view = body.get("view") or {}
        op = _op_of_view(view)
        instance = selected(view, "DBInstanceId")
        if op is None or not instance:
            return
        self._show_source(client, view, instance, str((body.get("user") or {}).get("id") or ""), op)

    def _show_source(self, client: WebClient, view: dict[str, Any], instance_id: str, user: str, op: Operation) -> None:
        try:
            info = self.directory.instance(instance_id)
        except RdsError as error:
            lines = [f":warning: {escape(error.plain())}"]
        else:
            lines = [f"*{escape(info.id)}* · {escape(info.engine)} {escape(info.engine_version)} · "
                     f"{escape(info.instance_class)} · {info.storage_gb or '?'} GB {escape(info.storage_type)} · "
                     f"{escape(info.zone_id)} · {escape(info.status)}"]
            if info.tags:
                lines.append("tags: " + escape(", ".join(f"{k}={v}" for k, v in sorted(info.tags.items()))))
            retention = self.directory.retention_days(instance_id)
            if retention:
                lines.append(f"backups kept {retention} days · earliest point ≈ "
                             f"{human_time(utcnow() - timedelta(days=retention))}")
            decision = self.workflow.decide(user, op.ram_action, self.workflow.resource_of(instance_id), info.tags)
            if not decision.allowed:
                lines.append(f":lock: {messages.decision_text(decision)}")
        updated = modals.with_source_info(view, lines)
        try:
            client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=updated)
        except SlackApiError as error:
            # hash_conflict: the user changed the form meanwhile; their view wins.
            log.info("source info not shown", extra={"error": error.response.get("error")})

    def suggest(self, ack: Ack, body: dict[str, Any]) -> None:
        """External selects: instances (type-ahead) and the chosen instance's backups."""
        action_id = str(body.get("action_id") or "")
        query = str(body.get("value") or "")[:100]
        view = body.get("view") or {}
        op = _op_of_view(view)
        try:
            if action_id in {"DBInstanceId", "TargetDBInstanceId"}:
                engine = op.field(action_id).engine if op is not None else None
                found = self.directory.search_instances(query, engine=engine)
                ack(options=[modals.option(i.id, i.label) for i in found[:100]])
            elif action_id == "BackupId":
                meta = _metadata(view)
                instance = selected(view, "DBInstanceId") or meta.get("instance")
                if not instance:
                    ack(options=[])
                    return
                backups = [b for b in self.directory.backups(str(instance)) if b.ok]
                ack(options=[modals.option(b.id, _backup_label(b)) for b in backups[:100] if query in b.id or not query])
            else:
                ack(options=[])
        except RdsError as error:
            log.warning("options lookup failed", extra={"action_id": action_id, "code": error.code})
            ack(options=[])

    def submit_form(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        op = _op_of_view(view)
        user = str((body.get("user") or {}).get("id") or "")
        if op is None:
            ack(response_action="update", view=modals.message_modal("Not available", "This operation is not available."))
            return
        meta = _metadata(view)
        channel = str(meta.get("channel") or "")
        channel = channel if CHANNEL_ID.match(channel) else ""
        form = form_values(view)
        future = self.executor.submit(self.workflow.submit, op.name, user=user, channel=channel or user, form=form)
        try:
            outcome = future.result(timeout=SUBMIT_BUDGET_S)
        except FieldErrors as errors:
            ack(response_action="errors", errors=_errors_for(view, errors.errors))
            return
        except FutureTimeout:
            ack(response_action="update", view=modals.message_modal(op.title, ":hourglass: Checking with RDS…"))
            future.add_done_callback(lambda f: self._finish_late(client, view, op, user, channel, f))
            return
        except Exception:  # noqa: BLE001 - the user must get an answer whatever broke
            log.exception("submission failed", extra={"operation": op.name, "user": user})
            ack(response_action="update", view=modals.message_modal(op.title, ":warning: Something went wrong on the "
                                                                    "bot's side; nothing was sent to RDS. Try again."))
            return
        ack(response_action="update", view=self._result_view(op, outcome))
        self._after_submit(client, op, user, channel, outcome)

    def _finish_late(self, client: WebClient, view: dict[str, Any], op: Operation, user: str, channel: str, future: Any) -> None:
        try:
            outcome = future.result()
        except FieldErrors as errors:
            values = form_values(view)
            again = modals.operation_modal(op, initial={k: v for k, v in values.items() if isinstance(v, str)},
                                           metadata=_metadata(view), notes=modals.error_notes(errors.errors))
            self._update_view(client, view, again)
            return
        except Exception:  # noqa: BLE001 - the user must get an answer whatever broke
            log.exception("late submission failed", extra={"operation": op.name, "user": user})
            self._update_view(client, view, modals.message_modal(op.title, ":warning: Something went wrong; nothing was sent to RDS."))
            return
        self._update_view(client, view, self._result_view(op, outcome))
        self._after_submit(client, op, user, channel, outcome)

    def _update_view(self, client: WebClient, view: dict[str, Any], new: dict[str, Any]) -> None:
        try:
            client.views_update(view_id=view.get("id"), view=new)
        except SlackApiError as error:
            log.warning("view update failed", extra={"error": error.response.get("error")})

    def _result_view(self, op: Operation, outcome: Submitted | Denied) -> dict[str, Any]:
        if isinstance(outcome, Denied):
            return modals.message_modal("Not allowed", messages.denied(op, outcome.decision, outcome.request.id))
        return modals.message_modal(op.title, messages.submitted(outcome.request, op, self.settings.approval_channel))

    def _after_submit(self, client: WebClient, op: Operation, user: str, channel: str, outcome: Submitted | Denied) -> None:
        if isinstance(outcome, Denied):
            tell(client, channel, user, messages.denied(op, outcome.decision, outcome.request.id))
        elif outcome.request.state == "approved":
            # No approval needed: run it now, after the ack.
            self.executor.submit(self.workflow.execute, outcome.request.id)

    # ------------------------------------------------------------- buttons
    def approve(self, body: dict[str, Any], client: WebClient) -> None:
        request_id, user, channel = _click(body)
        outcome = self.workflow.vote(request_id, user=user, approve=True)
        if outcome.status != "approved":
            tell(client, channel, user, _vote_text(outcome))

    def ask_reject_reason(self, body: dict[str, Any], client: WebClient) -> None:
        request_id, user, channel = _click(body)
        request = self.workflow.get(request_id)
        if request is None:
            tell(client, channel, user, f"There is no request {escape(request_id)}.")
            return
        if request.requester == user:
            tell(client, channel, user, "You cannot reject your own request; use Cancel to withdraw it.")
            return
        if request.state != "pending_approval":
            tell(client, channel, user, f"Request {request.id} is already {request.state.replace('_', ' ')}.")
            return
        if not self.workflow.may_decide(request, user):
            outcome = self.workflow.vote(request_id, user=user, approve=False)  # records the refusal, explains it
            tell(client, channel, user, _vote_text(outcome))
            return
        summary = f"Reject *{request.id}* ({escape(request.operation)} `{escape(request.instance_id)}`) by <@{request.requester}>?"
        try:
            client.views_open(trigger_id=body.get("trigger_id"), view=modals.reject_modal(request.id, summary))
        except SlackApiError as error:
            tell(client, channel, user, f":warning: I could not open the rejection form ({escape(str(error.response.get('error')))}). Click Reject again.")

    def submit_reject(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        user = str((body.get("user") or {}).get("id") or "")
        request_id = str(_metadata(view).get("request_id") or "")
        reason = str(form_values(view).get(Block.REASON) or "").strip()
        if not reason:
            ack(response_action="errors", errors={Block.REASON: "Say why, so the requester can act on it."})
            return
        outcome = self.workflow.vote(request_id, user=user, approve=False, reason=reason[:3000])
        ack(response_action="update", view=modals.message_modal("Reject request", _vote_text(outcome)))

    def cancel(self, body: dict[str, Any], client: WebClient) -> None:
        request_id, user, channel = _click(body)
        outcome = self.workflow.cancel(request_id, user=user)
        tell(client, channel, user, outcome.message)

    # -------------------------------------------------------------- status
    def _status_text(self, user: str, request_id: str | None) -> str:
        if not request_id:
            return messages.status_list(self.workflow.recent(user))
        if not REQUEST_ID.match(request_id):
            return f"`{escape(request_id[:64])}` is not a request ID (like clone-20261129-9f3a1c2b)."
        timeline = self.workflow.timeline(request_id)
        # Unknown and not-yours look the same, so IDs cannot be probed.
        if timeline is None or not self.workflow.may_view(timeline.request, user):
            return f"No request {escape(request_id)} that you can see."
        return messages.timeline(timeline.request, timeline.events)


def _vote_text(outcome: VoteOutcome) -> str:
    """What the clicker is told; a policy refusal names the rule that refused."""
    text = escape(outcome.message)
    if outcome.status == "denied" and outcome.decision is not None:
        text = f":lock: {text}\n{messages.decision_text(outcome.decision)}"
    return text


def _just_ack(ack: Ack) -> None:
    ack()


def _click(body: dict[str, Any]) -> tuple[str, str, str]:
    """(request id, clicker, channel) of a button click; values are pointers only."""
    action = (body.get("actions") or [{}])[0]
    value = str(action.get("value") or "")[:64]
    user = str((body.get("user") or {}).get("id") or "")
    channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")
    return value, user, channel


def tell(client: WebClient, channel: str, user: str, text: str) -> None:
    """An ephemeral message to one user; a DM when the channel will not take it."""
    if channel and CHANNEL_ID.match(channel) and not channel.startswith("D"):
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        except SlackApiError as error:
            log.info("ephemeral failed, sending a DM", extra={"error": error.response.get("error")})
    try:
        opened = client.conversations_open(users=user)
        client.chat_postMessage(channel=opened["channel"]["id"], text=text)
    except SlackApiError as error:
        log.warning("could not reach the user", extra={"user": user, "error": error.response.get("error")})


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """private_metadata as a dict; never trusted for anything but routing hints."""
    raw = view.get("private_metadata") or ""
    try:
        data = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _op_of_view(view: dict[str, Any]) -> Operation | None:
    match = OP_CALLBACKS.match(str(view.get("callback_id") or ""))
    return operations.get(match.group(1)) if match else None


def _errors_for(view: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """Only block_ids the view has may carry errors, or Slack rejects the whole answer."""
    inputs = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    out: dict[str, str] = {}
    for name, message in errors.items():
        target = name if name in inputs else (inputs[0] if inputs else name)
        out[target] = (out[target] + " " + message) if target in out else message
    return {k: v[:2000] for k, v in out.items()}


def _backup_label(backup: Any) -> str:
    when = human_time(backup.end or backup.start) if (backup.end or backup.start) else "?"
    size = f"{backup.size / 1024 ** 3:.1f} GB" if backup.size else ""
    return f"{backup.id} · {when} · {backup.method} {backup.type} {size}".strip()
