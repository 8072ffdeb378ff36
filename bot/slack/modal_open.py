"""Opening an operation's modal, and the source panel under its instance picker.

The modal opens without waiting on RDS (the slash command's three seconds);
the facts about the chosen instance arrive later through ``views.update``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import operations
from bot.i18n import _
from bot.operations.base import FormSpec, Operation
from bot.operations.rules import INSTANCE_ID
from bot.rds.errors import RdsError
from bot.slack import messages, modals
from bot.slack.forms import selected
from bot.slack.replies import acting_user
from bot.slack.text import escape
from bot.timeutil import human_time, utcnow
from bot.workflow import break_glass, reads
from bot.workflow.access import decide, resource_of
from bot.workflow.deps import Deps

log = logging.getLogger(__name__)


class ModalOpener:
    """Opens operation modals and fills in the facts about the instance picked in them."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def open(self, spec: FormSpec, *, body: dict[str, Any], client: WebClient, respond: Respond,
             initial: dict[str, str | None] | None = None, notes: list[str] | None = None) -> None:
        channel = str(body.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        initial = dict(initial or {})
        instance = initial.get("DBInstanceId")
        glass = isinstance(spec, Operation) and may_break_glass(self.deps, acting_user(body) or "", instance)
        view = modals.operation_modal(spec, initial=initial, metadata={"channel": channel, "instance": instance},
                                      notes=notes or [], break_glass=glass)
        try:
            opened = client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as error:
            code = error.response.get("error")
            if code in {"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"}:
                respond(text=":hourglass: " + _("Slack's window for opening the form passed before I could open it. "
                                                "Please run `/rds {operation}` again.", operation=spec.name),
                        response_type="ephemeral")
            else:
                respond(text=":warning: " + _("I could not open the form ({error}).", error=escape(str(code))),
                        response_type="ephemeral")
            return
        if instance:
            self.show_source(client, opened["view"], instance, acting_user(body) or "", spec)

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
        directory = self.deps.directory
        try:
            info = reads.instance_facts(self.deps, user, instance_id)
        except reads.ReadRefused as refused:
            lines = [":lock: " + _("You may not see this instance's details.") + " "
                     + messages.decision_text(refused.decision)]
        except RdsError as error:
            lines = [f":warning: {escape(error.plain())}"]
        else:
            lines = [_("*{instance}* · {engine} {version} · {category} · {instance_class} · {storage_gb} GB "
                       "{storage_type} · {zone} · {status}", instance=escape(info.id), engine=escape(info.engine),
                       version=escape(info.engine_version), category=escape(info.category),
                       instance_class=escape(info.instance_class), storage_gb=info.storage_gb or '?',
                       storage_type=escape(info.storage_type), zone=escape(info.zone_id), status=escape(info.status))]
            if info.tags:
                tags = escape(", ".join(f"{k}={v}" for k, v in sorted(info.tags.items())))
                lines.append(_("tags: {tags}", tags=tags))
            retention = directory.retention_days(instance_id)
            if retention:
                lines.append(_("backups kept {days} days · earliest point ≈ {earliest}", days=retention,
                               earliest=human_time(utcnow() - timedelta(days=retention))))
            decision = decide(self.deps, user, spec.ram_action, resource_of(self.deps, info), info.tags)
            if not decision.allowed:
                lines.append(f":lock: {messages.decision_text(decision)}")
        try:
            client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=modals.with_source_info(view, lines))
        except SlackApiError as error:
            # hash_conflict: the user changed the form meanwhile; their view wins.
            log.info("source info not shown", extra={"error": error.response.get("error")})


def may_break_glass(deps: Deps, user: str, instance: str | None) -> bool:
    """Whether to show the break_glass box: the user holds rdsbot:BreakGlass on the instance (any, when none is
    named yet). Only a hint: the submission is decided again on every instance it touches."""
    if instance and INSTANCE_ID.fullmatch(instance):
        resource = resource_of(deps, instance)
    else:
        resource = f"acs:rds:{deps.settings.region_id}:{deps.settings.account_id}:dbinstance/*"
    return decide(deps, user, break_glass.ACTION, resource, None).allowed


def spec_of_view(view: dict[str, Any]) -> FormSpec | None:
    callback = str(view.get("callback_id") or "")
    return operations.form(callback.removeprefix("rds_")) if callback.startswith("rds_") else None
