"""RestoreDdrTable: restore databases/tables from a cross-region backup into an existing instance.

RestoreType 0 restores a cross-region backup set (CrossBackupId from
DescribeCrossRegionBackups); 1 restores a point in time of a source instance in
another region. What to restore is TableMeta, entered as simple lines or raw
JSON (bot/operations/table_meta.py). Rules: seeds/RestoreDdrTable.zh.txt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.operations import table_meta
from bot.operations.base import Context, FieldKind, FieldSpec, Form, Meta, Operation, Plan, Progress, instance_field, reason_field
from bot.operations.checks import require_instance
from bot.operations.rules import Checker, api_time, check_reason
from bot.operations.table_meta import TableMetaError
from bot.rds.directory import InstanceInfo, RdsDirectory
from bot.rds.errors import RdsError

RESTORE_TYPES = (("0", "From a cross-region backup set"), ("1", "To a point in time"))
REGION = re.compile(r"^[a-z]{2,}(-[a-z0-9]+){1,4}$")
CROSS_BACKUP_ID = re.compile(r"^\d{1,18}$")
# Right after the call the instance may still say Running before it says
# Restoring; only after this many polls is "Running" taken as "finished".
SETTLE_POLLS = 3


class Restore(Operation):
    """Cross-region restore into an existing instance (approval by default: it writes data)."""

    meta = Meta.api("restore", "RestoreDdrTable", title="Restore from a cross-region backup", verb="restore into",
                    approval="default", client_token=True, reads=("rds:DescribeCrossRegionBackups", "rds:DescribeDatabases"))
    fields = (
        instance_field("Instance to restore into", "An existing instance; restored items are added under their new names."),
        FieldSpec("RestoreType", "Restore from", FieldKind.SELECT, required=True, options=RESTORE_TYPES),
        FieldSpec("BackupId", "Cross-region backup set", FieldKind.CROSS_BACKUP,
                  hint="For 'From a cross-region backup set'."),
        FieldSpec("RestoreTime", "Point in time (UTC)", FieldKind.TIME, placeholder="2026-11-28T16:00:00Z",
                  hint="For 'To a point in time': yyyy-MM-ddTHH:mm:ssZ, in the past."),
        FieldSpec("SourceRegion", "Source region", placeholder="cn-shanghai", hint="For 'To a point in time'."),
        FieldSpec("SourceDBInstanceName", "Source instance ID", placeholder="rm-uf6...", hint="For 'To a point in time'."),
        FieldSpec("TableMetaLines", "Databases and tables", FieldKind.LONG_TEXT,
                  placeholder="orders -> orders_restored\nerp.invoices -> invoices_old",
                  hint="One per line: db, db -> new_db, or db.table -> new_table."),
        FieldSpec("TableMeta", "Advanced: TableMeta JSON", FieldKind.LONG_TEXT, max_length=3000,
                  placeholder='[{"type":"db","name":"orders","newname":"orders_r","tables":[]}]',
                  hint="Instead of the lines above: the API's raw TableMeta."),
        reason_field(required=True),
    )

    def validate(self, form: Form, ctx: Context) -> Plan:
        c = Checker(form)
        target_id = c.instance_id()
        restore_type = c.choice("RestoreType", [v for v, _ in RESTORE_TYPES], required=True, what="Restore from")
        backup_id = c.text("BackupId", max_len=20, pattern=CROSS_BACKUP_ID,
                           message="A cross-region backup set ID is a number.", what="The backup set")
        restore_time = c.time("RestoreTime", now=ctx.now, what="The point in time")
        region = c.text("SourceRegion", max_len=40, pattern=REGION, message="A region looks like cn-shanghai.",
                        what="The source region")
        source_name = c.instance_id("SourceDBInstanceName", what="The source instance", required=False)
        check_reason(c, required=True)
        if restore_type == "0":
            if backup_id is None and c.ok("BackupId"):
                c.fail("BackupId", "Pick the cross-region backup set to restore.")
            for name, value in (("RestoreTime", restore_time), ("SourceRegion", region),
                                ("SourceDBInstanceName", source_name)):
                if value is not None:
                    c.fail(name, "Only for 'To a point in time'.")
        elif restore_type == "1":
            if backup_id is not None:
                c.fail("BackupId", "Only for 'From a cross-region backup set'.")
            for name, value, what in (("RestoreTime", restore_time, "the point in time"),
                                      ("SourceRegion", region, "the source region"),
                                      ("SourceDBInstanceName", source_name, "the source instance")):
                if value is None and c.ok(name):
                    c.fail(name, f"A point-in-time restore needs {what}.")
        meta = self._table_meta(c)
        target = require_instance(c, ctx, target_id)
        c.done()
        assert target is not None and meta is not None
        if target.read_only_ids:
            c.fail("DBInstanceId", f"{target.id} has read-only instances ({', '.join(target.read_only_ids[:3])}); "
                                   "RDS does not restore databases into it.")
        into_source = source_name == target.id if restore_type == "1" else True
        if restore_type == "0" and backup_id is not None:
            self._check_backup_set(c, ctx, target, int(backup_id))
        if into_source:
            same = table_meta.renamed_in_place(meta)
            if same:
                c.fail(self._meta_field(form), f"Restoring into the source instance needs new names: {', '.join(same[:5])}.")
        self._check_names_free(c, ctx.directory, target, meta, self._meta_field(form))
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
        summary.append(("Restores", table_meta.summary(meta)))
        return Plan(instance_id=target.id, params=params, instance=target, summary=summary)

    @staticmethod
    def _meta_field(form: Form) -> str:
        return "TableMeta" if form.get("TableMeta") else "TableMetaLines"

    @staticmethod
    def _table_meta(c: Checker) -> list[dict[str, Any]] | None:
        lines = c.text("TableMetaLines", max_len=10_000, what="The list")
        raw = c.text("TableMeta", max_len=10_000, what="TableMeta")
        if lines and raw:
            c.fail("TableMeta", "Give the list of databases or the raw TableMeta, not both.")
            return None
        if not lines and not raw:
            if c.ok("TableMetaLines"):
                c.fail("TableMetaLines", "Say which databases (or tables) to restore.")
            return None
        try:
            return table_meta.from_json(raw) if raw else table_meta.from_lines(lines or "")
        except TableMetaError as error:
            c.fail("TableMeta" if raw else "TableMetaLines", str(error))
            return None

    @staticmethod
    def _check_backup_set(c: Checker, ctx: Context, target: InstanceInfo, cross_backup_id: int) -> None:
        try:
            page = ctx.directory.cross_region_backups(target.id, start=ctx.now - timedelta(days=730), end=ctx.now,
                                                      page_size=100)
        except RdsError as error:
            c.fail("BackupId", f"Could not list {target.id}'s cross-region backups: {error.plain()}")
            return
        match = next((b for b in page.items if b.id == cross_backup_id), None)
        if match is None:
            c.fail("BackupId", f"{cross_backup_id} is not a cross-region backup set of {target.id}.")
        elif match.failed:
            c.fail("BackupId", f"Backup set {cross_backup_id} failed; pick another.")
        elif match.method == "L":
            c.fail("BackupId", f"Backup set {cross_backup_id} is a logical backup, which cannot restore databases "
                               "or tables; pick a physical one.")

    @staticmethod
    def _check_names_free(c: Checker, directory: RdsDirectory, target: InstanceInfo, meta: list[dict[str, Any]],
                          field: str) -> None:
        try:
            existing = {d.name.lower() for d in directory.databases(target.id, fresh=True)}
        except RdsError as error:
            c.fail(field, f"Could not list {target.id}'s databases: {error.plain()}")
            return
        clash = [db["newname"] for db in meta if not db["tables"] and db["newname"].lower() in existing]
        if clash:
            c.fail(field, f"{target.id} already has {', '.join(clash[:5])}; restore under new names.")

    def probe(self, directory: RdsDirectory, params: Mapping[str, Any], result: Mapping[str, Any],
              memo: Mapping[str, Any]) -> Progress:
        status = directory.status(str(params["DBInstanceId"]))
        polls = int(memo.get("polls", 0)) + 1
        busy = bool(memo.get("busy")) or status != "Running"
        if status == "Running" and (busy or polls >= SETTLE_POLLS):
            return Progress(status=status, done=True)
        if status in {"Deleting", "Released"}:
            return Progress(status=status, done=True, failed=True, error_code=f"Instance{status}",
                            error_message=f"{params['DBInstanceId']} became {status} during the restore.")
        return Progress(status=status if busy else "Queued", memo={"polls": polls, "busy": busy})

    def outcome(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        meta = table_meta.from_json(str(params.get("TableMeta") or "[]")) if params.get("TableMeta") else []
        source = (f"backup set {params['BackupId']}" if params.get("RestoreType") == "0"
                  else f"{params.get('SourceDBInstanceName')} in {params.get('SourceRegion')} at {params.get('RestoreTime')}")
        return f"*{params.get('DBInstanceId')}* is Running again with {table_meta.summary(meta)} restored from {source}."
