"""RestoreDdrTable: restore databases/tables from a cross-region backup into an existing instance.

RestoreType 0 restores a cross-region backup set (CrossBackupId from
DescribeCrossRegionBackups); 1 restores a point in time of a source instance in
another region. What to restore is TableMeta, entered as simple lines or raw
JSON (bot/operations/table_meta.py). Rules: seeds/RestoreDdrTable.zh.txt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.i18n import _
from bot.operations import table_meta
from bot.operations.base import Context, FieldError, FieldKind, FieldSpec, Form, Meta, Operation, Plan, Progress, Touched, instance_field, reason_field
from bot.operations.checks import require_instance
from bot.operations.rules import Checker, api_time, check_reason
from bot.rds.backup_search import cross_region_by_id
from bot.rds.directory import InstanceInfo, RdsDirectory
from bot.rds.errors import RdsError
from bot.timeutil import slack_date_of

RESTORE_TYPES = (("0", _("From a cross-region backup set")), ("1", _("To a point in time")))
_TYPE_NAMES = dict(RESTORE_TYPES)
CROSS_BACKUP_ID = re.compile(r"^\d{1,18}$")
# Right after the call the instance may still say Running before it says
# Restoring; only after this many polls is "Running" taken as "finished".
SETTLE_POLLS = 3


class Restore(Operation):
    """Cross-region restore into an existing instance (approval by default: it writes data)."""

    meta = Meta.api("restore", "RestoreDdrTable", title=_("Restore from a cross-region backup"), verb=_("restore into"),
                    approval="default", client_token=True, reads=("rds:DescribeCrossRegionBackups", "rds:DescribeDatabases"),
                    instances=(("target", "DBInstanceId", None), ("source", "SourceDBInstanceName", "SourceRegion")),
                    watches=("params", "DBInstanceId"))
    fields = (
        instance_field(_("Instance to restore into"), _("An existing instance; restored items are added under their new names.")),
        FieldSpec("RestoreType", _("Restore from"), FieldKind.SELECT, required=True, options=RESTORE_TYPES),
        # Not an API parameter: whose set BackupId is, so the set can be restored into another instance
        # (one in a region the set restores to, in the same account).
        FieldSpec("BackupInstanceId", _("Backup set of"), FieldKind.INSTANCE,
                  hint=_("For 'From a cross-region backup set': the instance the set was taken of. "
                         "Empty: the instance restored into.")),
        FieldSpec("BackupId", _("Cross-region backup set"), FieldKind.CROSS_BACKUP,
                  hint=_("For 'From a cross-region backup set'.")),
        FieldSpec("RestoreTime", _("Point in time"), FieldKind.TIME,
                  hint=_("For 'To a point in time': in your time zone, in the past.")),
        FieldSpec("SourceRegion", _("Source region"), placeholder="cn-shanghai", hint=_("For 'To a point in time'.")),
        FieldSpec("SourceDBInstanceName", _("Source instance ID"), placeholder="rm-uf6...", hint=_("For 'To a point in time'.")),
        *table_meta.fields(),
        reason_field(required=True),
    )

    def validate(self, form: Form, ctx: Context) -> Plan:
        c = Checker(form)
        target_id = c.instance_id()
        restore_type = c.choice("RestoreType", [v for v, _label in RESTORE_TYPES], required=True, what=_("Restore from"))
        backup_id = c.text("BackupId", max_len=20, pattern=CROSS_BACKUP_ID,
                           message=FieldError.of("bad_cross_backup_id", "A cross-region backup set ID is a number."),
                           what=_("The backup set"))
        restore_time = c.time("RestoreTime", now=ctx.now, what=_("The point in time"))
        region = c.region("SourceRegion", what=_("The source region"))
        source_name = c.instance_id("SourceDBInstanceName", what=_("The source instance"), required=False)
        backup_of = c.instance_id("BackupInstanceId", what=_("The instance of the backup set"), required=False)
        check_reason(c, required=True)
        if restore_type == "0":
            if backup_id is None and c.ok("BackupId"):
                c.fail("BackupId", "no_cross_backup", "Pick the cross-region backup set to restore.")
            for name, value in (("RestoreTime", restore_time), ("SourceRegion", region),
                                ("SourceDBInstanceName", source_name)):
                if value is not None:
                    c.fail(name, "only_for_restore_type", "Only for '{restore_type}'.", restore_type=_TYPE_NAMES["1"])
        elif restore_type == "1":
            for name, value in (("BackupId", backup_id), ("BackupInstanceId", backup_of)):
                if value is not None:
                    c.fail(name, "only_for_restore_type", "Only for '{restore_type}'.", restore_type=_TYPE_NAMES["0"])
            for name, value, what in (("RestoreTime", restore_time, _("the point in time")),
                                      ("SourceRegion", region, _("the source region")),
                                      ("SourceDBInstanceName", source_name, _("the source instance"))):
                if value is None and c.ok(name):
                    c.fail(name, "point_in_time_needs", "A point-in-time restore needs {what}.", what=what)
        meta = table_meta.read(c, missing=FieldError.of("nothing_to_restore",
                                                        "Say which databases (or tables) to restore."))
        target = require_instance(c, ctx, target_id)
        # A point-in-time restore reads another instance: it must exist where the user says,
        # and it is a policy resource of the request like the target (a dev target must not
        # pull a production source).
        source = (require_instance(c, ctx, source_name, field="SourceDBInstanceName", region=region, running=False,
                                   primary=False, unlocked=False)
                  if restore_type == "1" and source_name and region else None)
        if source is not None and source.region_id and source.region_id != region:
            c.fail("SourceDBInstanceName", "source_in_other_region", "{instance} is in {actual}, not {region}.",
                   instance=source.id, actual=source.region_id, region=region)
        # A set of another instance: read from it like a source, so also a policy resource of the request.
        owner = (require_instance(c, ctx, backup_of, field="BackupInstanceId", running=False, primary=False,
                                  unlocked=False)
                 if restore_type == "0" and backup_of and backup_of != target_id else None)
        c.done()
        assert target is not None and meta is not None
        if target.read_only_ids:
            c.fail("DBInstanceId", "has_read_only_instances",
                   "{instance} has read-only instances ({read_only}); RDS does not restore databases into it.",
                   instance=target.id, read_only=", ".join(target.read_only_ids[:3]))
        into_source = source_name == target.id if restore_type == "1" else owner is None
        if restore_type == "0" and backup_id is not None:
            self._check_backup_set(c, ctx, owner or target, target, int(backup_id))
        if into_source:
            same = table_meta.renamed_in_place(meta)
            if same:
                c.fail(table_meta.field_of(form), "needs_new_names",
                       "Restoring into the source instance needs new names: {names}.", names=", ".join(same[:5]))
        self._check_names_free(c, ctx.directory, target, meta, table_meta.field_of(form))
        c.done()
        params: dict[str, Any] = {
            "RegionId": target.region_id or None,  # the destination region (a DR instance lives elsewhere)
            "DBInstanceId": target.id,
            "RestoreType": restore_type,
            "BackupId": backup_id,
            "RestoreTime": api_time(restore_time),
            "SourceRegion": region,
            "SourceDBInstanceName": source_name,
            "TableMeta": table_meta.dumps(meta),
        }
        params = {k: v for k, v in params.items() if v is not None}
        summary = self.summary({k: v for k, v in params.items() if k != "TableMeta"})
        summary.append((_("Restores"), table_meta.summary(meta)))
        touches = (Touched("target", target),) + tuple(Touched("source", i) for i in (source, owner) if i is not None)
        return Plan(instance_id=target.id, params=params, instance=target, summary=summary, touches=touches)

    @staticmethod
    def _check_backup_set(c: Checker, ctx: Context, owner: InstanceInfo, target: InstanceInfo,
                          cross_backup_id: int) -> None:
        """The set is ``owner``'s, usable, and restorable into ``target`` (its region, account and engine)."""
        try:
            # By its ID over the 730 days a listing may span: a set of any age there, not only the newest page.
            match = cross_region_by_id(ctx.directory, owner.id, cross_backup_id, now=ctx.now)
        except RdsError as error:
            c.fail("BackupId", "cross_backups_unlisted", "Could not list {instance}'s cross-region backups: {error}",
                   instance=owner.id, error=error.plain())
            return
        if match is None:
            c.fail("BackupId", "cross_backup_not_of_instance", "{backup} is not a cross-region backup set of {instance}.",
                   backup=cross_backup_id, instance=owner.id)
            return
        if owner.account != target.account:
            c.fail("DBInstanceId", "restore_other_account", "{instance} is in another account than backup set "
                   "{backup}; a restore stays in one account.", instance=target.id, backup=cross_backup_id)
        elif match.restore_regions and target.region_id and target.region_id not in match.restore_regions:
            c.fail("DBInstanceId", "restore_region_not_allowed", "Backup set {backup} restores only into "
                   "{regions}; {instance} is in {region}.", backup=cross_backup_id,
                   regions=", ".join(match.restore_regions), instance=target.id, region=target.region_id)
        elif owner.engine.lower() != target.engine.lower():
            c.fail("DBInstanceId", "restore_other_engine", "Backup set {backup} is of a {engine} instance; "
                   "{instance} runs {other}.", backup=cross_backup_id, engine=owner.engine, instance=target.id,
                   other=target.engine)
        if match.failed:
            c.fail("BackupId", "cross_backup_failed", "Backup set {backup} failed; pick another.", backup=cross_backup_id)
        elif match.method == "L":
            c.fail("BackupId", "cross_backup_logical",
                   "Backup set {backup} is a logical backup, which cannot restore databases or tables; "
                   "pick a physical one.", backup=cross_backup_id)

    @staticmethod
    def _check_names_free(c: Checker, directory: RdsDirectory, target: InstanceInfo, meta: list[dict[str, Any]],
                          field: str) -> None:
        try:
            existing = {d.name.lower() for d in directory.databases(target.id, fresh=True)}
        except RdsError as error:
            c.fail(field, "instance_databases_unlisted", "Could not list {instance}'s databases: {error}",
                   instance=target.id, error=error.plain())
            return
        clash = [db["newname"] for db in meta if not db["tables"] and db["newname"].lower() in existing]
        if clash:
            c.fail(field, "restore_names_taken", "{instance} already has {names}; restore under new names.",
                   instance=target.id, names=", ".join(clash[:5]))

    def probe(self, directory: RdsDirectory, params: Mapping[str, Any], result: Mapping[str, Any],
              memo: Mapping[str, Any]) -> Progress:
        status = directory.status(str(params["DBInstanceId"]))
        polls = int(memo.get("polls", 0)) + 1
        busy = bool(memo.get("busy")) or status != "Running"
        if status == "Running" and (busy or polls >= SETTLE_POLLS):
            return Progress(status=status, done=True)
        if status in {"Deleting", "Released"}:
            return Progress(status=status, done=True, failed=True, error_code=f"Instance{status}",
                            error_message=_("{instance} became {status} during the restore.",
                                            instance=params["DBInstanceId"], status=status))
        return Progress(status=status if busy else "Queued", memo={"polls": polls, "busy": busy})

    def outcome(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        meta = table_meta.from_json(str(params.get("TableMeta") or "[]")) if params.get("TableMeta") else []
        source = (_("backup set {backup}", backup=params["BackupId"]) if params.get("RestoreType") == "0"
                  else _("{source} in {region} at {time}", source=params.get("SourceDBInstanceName"),
                         region=params.get("SourceRegion"),
                         time=slack_date_of(str(params.get("RestoreTime"))) or params.get("RestoreTime")))
        return _("*{instance}* is Running again with {items} restored from {source}.",
                 instance=params.get("DBInstanceId"), items=table_meta.summary(meta), source=source)
