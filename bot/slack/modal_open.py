"""Opening an operation's modal, the source panel under its instance picker, and the UTC under a time picker.

The modal opens without waiting on RDS (the slash command's three seconds);
the facts about the chosen instance arrive later through ``views.update``, as
does, once a time is picked, that time in the user's zone and the UTC value RDS
will get.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import operations
from bot.i18n import _
from bot.operations.base import FieldKind, FormSpec, Operation
from bot.operations.rules import INSTANCE_ID
from bot.rds.errors import RdsError
from bot.slack import messages, modals
from bot.slack.forms import selected, value_of
from bot.slack.ids import Block
from bot.slack.people import People
from bot.slack.replies import acting_user
from bot.slack.text import escape
from bot.slack.verdict import Verdict, go_ahead
from bot.timeutil import epoch_of, local_time, slack_date, to_api, utc_offset, utcnow
from bot.workflow import break_glass, reads
from bot.workflow.access import any_instance, decide, resource_of
from bot.workflow.background import Background, Foreground
from bot.workflow.deps import Deps

log = logging.getLogger(__name__)

# Facts waiting for the reads lane beyond this many are not read: with RDS this far behind they would
# arrive long after the person moved on, and each waiting one holds its modal's view in memory.
MAX_WAITING_READS = 64

# The action_ids of every time picker (= their API parameters): picking one shows its UTC value.
TIME_ACTIONS = re.compile("^(" + "|".join(sorted({re.escape(f.name) for form in operations.FORMS.values()
                                                  for f in form.fields if f.kind is FieldKind.TIME})) + ")$")


class ModalOpener:
    """Opens operation modals and fills in the facts about the instance picked in them.

    The facts are read from RDS on ``reads``, a pool of their own: however slow RDS is, the
    threads that open the next person's modal are never all waiting on it. Opening a modal is
    ``foreground`` work, which those reads let pass first (see ``Background.lane``).
    """

    def __init__(self, deps: Deps, people: People, reads: Background | None = None,
                 foreground: Foreground | None = None) -> None:
        self.deps = deps
        self.people = people
        self.reads = reads  # None: read in the calling thread (unit tests)
        self.foreground = foreground or Foreground()

    def open(self, spec: FormSpec, *, body: dict[str, Any], client: WebClient, respond: Respond,
             initial: dict[str, str | None] | None = None, notes: list[str] | None = None,
             verdict: Verdict | None = None) -> None:
        """Open ``spec``'s modal at once. A slash command's copies need no database to keep them from opening
        a second one: Slack takes each trigger_id once (and for 3 seconds), so a copy delivered elsewhere
        fails to open and, its ``verdict`` saying it is a copy, says nothing. Nothing waits on the
        database before the modal opens; the delivery is recorded right after."""
        with self.foreground.busy():
            self._open(spec, body, client, respond, dict(initial or {}), notes or [], verdict)

    def _open(self, spec: FormSpec, body: dict[str, Any], client: WebClient, respond: Respond,
              initial: dict[str, str | None], notes: list[str], verdict: Verdict | None) -> None:
        channel = str(body.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        instance = initial.get("DBInstanceId")
        glass = isinstance(spec, Operation) and may_break_glass(self.deps, acting_user(body) or "", instance)
        view = modals.operation_modal(spec, initial=initial, metadata={"channel": channel, "instance": instance},
                                      notes=notes, break_glass=glass)
        for field in spec.fields:  # a prefilled time says its UTC from the start
            epoch = epoch_of(initial.get(field.name)) if field.kind is FieldKind.TIME else None
            if epoch is not None:
                view = modals.with_info(view, field.name, Block.time_info(field.name),
                                        [self.time_line(epoch, acting_user(body) or "")])
        try:
            opened = client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as error:
            # A copy of a command already acted on (on another replica, before a restart) finds its trigger
            # used: the person has the form from the first delivery and hears nothing from the copy.
            if not go_ahead(verdict, respond):
                return
            code = error.response.get("error")
            if code in {"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"}:
                respond(text=":hourglass: " + _("Slack's window for opening the form passed before I could open it. "
                                                "Please run `/rds {operation}` again.", operation=spec.name),
                        response_type="ephemeral")
            else:
                respond(text=":warning: " + _("I could not open the form ({error}).", error=escape(str(code))),
                        response_type="ephemeral")
            return
        if verdict is not None:
            verdict.settle()  # recorded, so that a later copy of this command stays quiet (above)
        if instance:
            self._show_source_later(client, opened["view"], instance, acting_user(body) or "", spec)

    def source_picked(self, body: dict[str, Any], client: WebClient) -> None:
        """The user chose an instance: show its facts (and any policy refusal) under the picker."""
        view = body.get("view") or {}
        spec = spec_of_view(view)
        instance = selected(view, "DBInstanceId")
        if spec is None or not instance:
            return
        self._show_source_later(client, view, instance, acting_user(body) or "", spec)

    def _show_source_later(self, client: WebClient, view: dict[str, Any], instance_id: str, user: str,
                           spec: FormSpec) -> None:
        if self.reads is None:
            self.show_source(client, view, instance_id, user, spec)
        elif self.reads.busy >= MAX_WAITING_READS:
            log.info("instance facts not read: RDS reads are too far behind", extra={"waiting": self.reads.busy})
        else:
            self.reads.submit(self._show_source_logged, client, view, instance_id, user, spec)

    def _show_source_logged(self, client: WebClient, view: dict[str, Any], instance_id: str, user: str,
                            spec: FormSpec) -> None:
        try:
            self.show_source(client, view, instance_id, user, spec)
        except Exception:  # noqa: BLE001 - nobody waits on this future: say what broke here
            log.exception("instance facts not shown", extra={"instance": instance_id})

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
                               earliest=slack_date(utcnow() - timedelta(days=retention))))
            decision = decide(self.deps, user, spec.ram_action, resource_of(self.deps, info), info.tags)
            if not decision.allowed:
                lines.append(f":lock: {messages.decision_text(decision)}")
        self._update(client, view, modals.with_source_info(view, lines))

    def time_picked(self, body: dict[str, Any], client: WebClient) -> None:
        """The user picked a time: show it in their zone and as the UTC value RDS will get, under the picker."""
        view = body.get("view") or {}
        action = next(iter(body.get("actions") or []), {})
        name = str(action.get("action_id") or "") if isinstance(action, dict) else ""
        spec = spec_of_view(view)
        if spec is None or not any(f.name == name and f.kind is FieldKind.TIME for f in spec.fields):
            return
        picked = value_of(action)
        epoch = epoch_of(picked if isinstance(picked, str) else selected(view, name))
        lines = [self.time_line(epoch, acting_user(body) or "")] if epoch is not None else []
        self._update(client, view, modals.with_info(view, name, Block.time_info(name), lines))

    def time_line(self, epoch: int, user: str) -> str:
        """'2026-12-06 10:00 (Asia/Shanghai, UTC+8) → RDS receives 2026-12-06T02:00:00Z'."""
        try:
            moment = datetime.fromtimestamp(epoch, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return ":warning: " + _("That is not a time RDS can take.")
        zone = self.people.person(user).tz if user else None
        try:
            local = (local_time(moment, zone), utc_offset(moment, zone)) if zone else None
        except (ZoneInfoNotFoundError, ValueError):  # a zone name this Python does not know
            local = None
        if zone is None or local is None:
            return ":earth_asia: " + _("RDS receives {utc} (Slack did not tell me your time zone, so I cannot show "
                                       "it in yours).", utc=to_api(moment))
        return ":earth_asia: " + _("{local} ({zone}, {offset}) → RDS receives {utc}", local=local[0],
                                   zone=escape(zone), offset=local[1], utc=to_api(moment))

    def _update(self, client: WebClient, view: dict[str, Any], new: dict[str, Any]) -> None:
        try:
            client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new)
        except SlackApiError as error:
            # hash_conflict: the user changed the form meanwhile; their view wins.
            log.info("modal info not shown", extra={"error": error.response.get("error")})


def may_break_glass(deps: Deps, user: str, instance: str | None) -> bool:
    """Whether to show the break_glass box: the user holds rdsbot:BreakGlass on the instance (any, when none is
    named yet). Only a hint: the submission is decided again on every instance it touches."""
    if instance and INSTANCE_ID.fullmatch(instance):
        resource = resource_of(deps, instance)
    else:
        resource = any_instance(deps)
    return decide(deps, user, break_glass.ACTION, resource, None).allowed


def spec_of_view(view: dict[str, Any]) -> FormSpec | None:
    callback = str(view.get("callback_id") or "")
    return operations.form(callback.removeprefix("rds_")) if callback.startswith("rds_") else None
