"""Backup reminders: create, list, delete, fire, and "Back up now".

Creating or deleting a reminder is the policy action ``rdsbot:Remind`` on the
instance. Firing claims the due time with a conditional update, so a reminder
fires once per due time however many replicas tick and whatever restarts
happen. "Back up now" is an ordinary backup request for whoever clicks, checked
as ``rds:CreateBackup``, with its progress threaded under the reminder.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from bot import operations
from bot.i18n import _
from bot.rds.errors import RdsError
from bot.store.models import Reminder
from bot.timeutil import iso, utcnow, zoned_time
from bot.workflow import notices as n
from bot.workflow import schedules
from bot.workflow import transitions as tx
from bot.workflow.access import decide, decision_record, resource_of
from bot.workflow.deps import Deps
from bot.workflow.intake import context, open_request
from bot.workflow.limits import Limit
from bot.workflow.outcomes import Denied, ReminderResult, Submitted
from bot.workflow.schedules import ScheduleError

log = logging.getLogger(__name__)

REMIND_ACTION = "rdsbot:Remind"
MAX_PER_CHANNEL = 50


def new_reminder_id() -> str:
    return f"rem-{secrets.token_hex(4)}"


class Reminders:
    """Reminder commands and the firing tick, over the workflow's dependencies."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.db = deps.db

    # ------------------------------------------------------------- commands
    def create(self, *, user: str, channel: str, instance_id: str, words: list[str], default_tz: str = "UTC") -> ReminderResult:
        now = utcnow()
        limited = self.deps.limits.check(Limit.REMINDERS, user) if self.deps.limits is not None else None
        if limited is not None:
            return ReminderResult(False, limited)
        try:
            schedule = schedules.parse(words, now=now, default_tz=default_tz)
        except ScheduleError as error:
            return ReminderResult(False, str(error))
        try:
            info = self.deps.directory.instance(instance_id)
        except RdsError as error:
            return ReminderResult(False, _("I could not find {instance}: {error}", instance=instance_id, error=error.plain()))
        decision = decide(self.deps, user, REMIND_ACTION, resource_of(self.deps, info), info.tags)
        audit_detail = {"instance": info.id, "schedule": schedule.spec, "timezone": schedule.timezone,
                        "channel": channel, "decision": decision_record(decision)}
        if not decision.allowed:
            with self.db.session() as session:
                tx.note(session, None, "reminder_denied", actor=user, detail=audit_detail)
            return ReminderResult(False, _("You may not set backup reminders for this instance."), decision=decision)
        first = schedule.next_after(now)
        if first is None:
            return ReminderResult(False, _("That schedule never fires."))
        reminder = Reminder(id=new_reminder_id(), channel_id=channel, instance_id=info.id,
                            region_id=info.region_id or self.deps.settings.region_id, schedule=schedule.spec,
                            timezone=schedule.timezone, created_by=user, created_at=now, next_run_at=first)
        with self.db.session() as session:
            count = len(session.exec(select(Reminder.id).where(Reminder.channel_id == channel, Reminder.active)).all())
            if count >= MAX_PER_CHANNEL:
                return ReminderResult(False, _("This channel already has {count} reminders; delete some first.",
                                               count=count))
            session.add(reminder)
            tx.note(session, reminder.id, "reminder_created", actor=user, detail={**audit_detail, "first": iso(first)})
        # The next run in the schedule's own zone: a reader's zone would misstate a schedule set in another.
        return ReminderResult(True, _("Reminder {reminder_id} for {instance}: {schedule}; next: {when}.",
                                      reminder_id=reminder.id, instance=info.id, schedule=schedule.describe(),
                                      when=zoned_time(first, schedule.timezone)),
                              reminder=reminder, decision=decision)

    def list(self, *, channel: str) -> list[Reminder]:
        with self.db.session() as session:
            return list(session.exec(
                select(Reminder).where(Reminder.channel_id == channel, Reminder.active).order_by(Reminder.created_at)  # type: ignore[arg-type]
            ))

    def delete(self, *, user: str, reminder_id: str) -> ReminderResult:
        with self.db.session() as session:
            reminder = session.get(Reminder, reminder_id[:32])
        if reminder is None or not reminder.active:
            return ReminderResult(False, _("There is no active reminder {reminder_id}.", reminder_id=reminder_id[:32]))
        tags = self._tags(reminder.instance_id)
        resource = resource_of(self.deps, reminder.instance_id, reminder.region_id)
        decision = decide(self.deps, user, REMIND_ACTION, resource, tags)
        with self.db.session() as session:
            if not decision.allowed:
                tx.note(session, reminder.id, "reminder_delete_denied", actor=user, detail={"decision": decision_record(decision)})
                return ReminderResult(False, _("You may not delete backup reminders for this instance."), decision=decision)
            done = session.execute(
                update(Reminder).where(Reminder.id == reminder.id, Reminder.active)  # type: ignore[arg-type]
                .values(active=False, next_run_at=None).execution_options(synchronize_session=False)
            ).rowcount
            if done:
                tx.note(session, reminder.id, "reminder_deleted", actor=user, detail={"instance": reminder.instance_id})
        return ReminderResult(bool(done), _("Reminder {reminder_id} deleted.", reminder_id=reminder.id) if done
                              else _("It was already deleted."))

    def _tags(self, instance_id: str) -> dict[str, str] | None:
        try:
            return self.deps.directory.instance(instance_id).tags
        except RdsError:
            return None

    # ----------------------------------------------------------------- tick
    def fire_due(self) -> int:
        """Post every reminder whose time has come (called every second by the leader)."""
        now = utcnow()
        with self.db.reader() as session:
            due = list(session.exec(
                select(Reminder).where(Reminder.active, Reminder.next_run_at <= now)  # type: ignore[arg-type,operator]
            ))
        fired = 0
        for reminder in due:
            if self._fire(reminder, now):
                fired += 1
        if fired:
            self.deps.kick()
        return fired

    def _fire(self, reminder: Reminder, now: datetime) -> bool:
        schedule = schedules.load(reminder.schedule, reminder.timezone)
        due_at = reminder.next_run_at
        assert due_at is not None
        # Missed times (the bot was down) collapse into this one firing.
        following = schedule.next_after(max(now, due_at))
        last_backup = self._last_backup(reminder.instance_id, now)
        with self.db.session() as session:
            claimed = session.execute(
                update(Reminder)
                .where(Reminder.id == reminder.id, Reminder.active, Reminder.next_run_at == due_at)  # type: ignore[arg-type]
                .values(next_run_at=following, last_run_at=now, fired=Reminder.fired + 1, active=following is not None)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                return False
            notice = n.ReminderPost(channel=reminder.channel_id, reminder_id=reminder.id,
                                    instance=reminder.instance_id, due=iso(due_at), schedule=schedule.describe(),
                                    last_backup=last_backup)
            n.post(session, notice, request_id=None, key=f"reminder:{reminder.id}:{iso(due_at)}")
            tx.note(session, reminder.id, "reminder_fired", actor="rdsbot", detail=notice.data())
        return True

    def _last_backup(self, instance_id: str, now: datetime) -> dict[str, Any]:
        try:
            backups = [b for b in self.deps.directory.backups(instance_id, fresh=True) if b.ok]
        except RdsError as error:
            # The words in English (older readers) and what renders them in the reader's language.
            return {"error": error.plain(), "code": error.code, "message": error.message, "kind": error.kind.value}
        if not backups:
            return {"none": True}
        newest = max(backups, key=lambda b: b.end or b.start or now)
        finished = newest.end or newest.start or now
        return {"id": newest.id, "finished": iso(finished), "age_s": int((now - finished).total_seconds()),
                "method": newest.method, "size": newest.size}

    # ---------------------------------------------------------- back up now
    def backup_now(self, *, reminder_id: str, user: str, message_ts: str | None) -> Submitted | Denied | ReminderResult:
        """The reminder's button: a backup request for the clicker (raises FieldErrors)."""
        with self.db.session() as session:
            reminder = session.get(Reminder, reminder_id[:32])
        if reminder is None:
            return ReminderResult(False, _("That reminder no longer exists."))
        op = operations.require("backup")
        form = {"DBInstanceId": reminder.instance_id}
        plan = op.validate(form, context(self.deps, user))
        thread = (reminder.channel_id, message_ts) if message_ts else None
        return open_request(self.deps, op, plan, user=user, channel=reminder.channel_id, form=form,
                            reason=_("Back up now, from reminder {reminder_id}", reminder_id=reminder.id), thread=thread)

