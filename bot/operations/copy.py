"""CopyDatabaseBetweenInstances: copy SQL Server databases to another instance.

SQL Server only, on both sides, in one region (seeds/CopyDatabaseBetweenInstances.ja.txt);
everything the page refuses — wrong engine, edition pairs, an older target
version, TDE databases, names the target already has — is refused on the modal,
before any approval is asked. The API takes no ClientToken, so after a crash
the bot looks at the target's databases before calling again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.operations.base import Context, FieldKind, FieldSpec, Form, FormValue, Meta, Operation, Plan, Progress, instance_field, reason_field
from bot.operations.checks import check_backup, check_window, require_instance
from bot.operations.rules import DB_NAME, Checker, api_time, check_reason, load_json, one_of
from bot.rds.directory import InstanceInfo, RdsDirectory
from bot.rds.errors import RdsError

SQL_SERVER = {"sqlserver"}
PRIVILEGES = (("NO", "No"), ("YES", "Yes: copy users and their privileges"))
# (source edition, target edition) pairs the API refuses (RDS_API.md): every
# UnsupportedCopyDb<From>To<To> pair and every BackupRestoreNotSupported.* case.
REFUSED_PAIRS = {
    ("HighAvailability", "Basic"), ("HighAvailability", "Share"), ("AlwaysOn", "Basic"),
    ("AlwaysOn", "HighAvailability"), ("AlwaysOn", "Share"), ("Basic", "Share"), ("Share", "Basic"),
    ("Share", "HighAvailability"), ("Share", "AlwaysOn"), ("Basic", "HighAvailability"),
    ("HighAvailability", "AlwaysOn"),
}
_RENAME = re.compile(r"^\s*([^\s:>-][^:>]*?)\s*(?:->|:|=)\s*(\S+)\s*$")
SYSTEM_DBS = {"master", "model", "msdb", "tempdb", "distribution"}
NOTHING_YET_POLLS = 2  # polls without any target database before the task history is consulted


def version_number(engine_version: str) -> float:
    """'2019_std_ha' -> 2019, '2008r2' -> 2008.5: enough to order SQL Server versions."""
    match = re.match(r"(\d{4})(r2)?", engine_version or "")
    return int(match.group(1)) + (0.5 if match.group(2) else 0.0) if match else 0.0


def parse_db_names(c: Checker, value: FormValue, renames: str | None) -> dict[str, str] | None:
    """DbNames as {source: target}: from a multi-select, a JSON map, or 'a, b -> b2' text."""
    mapping: dict[str, str] = {}
    if isinstance(value, list) and len(value) == 1 and re.search(r"[{,:]|->", value[0]):
        value = value[0]  # typed text (a JSON map or "a, b -> b2") that came through as one item
    if isinstance(value, list):
        mapping = {name: name for name in value}
    elif value:
        text = value.strip()
        if text.startswith("{"):
            try:
                data = load_json(text, max_depth=1)
            except ValueError as error:
                c.fail("DbNames", f"Not a valid JSON map: {error}.")
                return None
            if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
                c.fail("DbNames", 'The JSON must map names to names, like {"erp": "erp_copy"}.')
                return None
            mapping = dict(data)
        else:
            for part in re.split(r"[,\n]", text):
                if not part.strip():
                    continue
                pair = _RENAME.match(part)
                source, target = (pair.group(1), pair.group(2)) if pair else (part.strip(), part.strip())
                mapping[source] = target
    for line in (renames or "").splitlines():
        if not line.strip():
            continue
        pair = _RENAME.match(line)
        if pair is None:
            c.fail("TargetDbNames", f"{line.strip()[:40]!r}: write one 'source -> target' per line.")
            return None
        if pair.group(1) not in mapping:
            c.fail("TargetDbNames", f"{pair.group(1)!r} is not among the databases to copy.")
            return None
        mapping[pair.group(1)] = pair.group(2)
    if not mapping:
        if c.ok("DbNames"):
            c.fail("DbNames", "Pick at least one database to copy.")
        return None
    bad = [n for n in list(mapping) + list(mapping.values()) if not DB_NAME.match(n)]
    if bad:
        c.fail("DbNames", f"Not a valid database name: {', '.join(repr(b[:40]) for b in bad[:3])}.")
        return None
    system = [n for n in mapping if n.lower() in SYSTEM_DBS]
    if system:
        c.fail("DbNames", f"System databases cannot be copied: {', '.join(system)}.")
        return None
    targets = [t.lower() for t in mapping.values()]
    if len(set(targets)) != len(targets):
        c.fail("DbNames", "Two databases would get the same name on the target.")
        return None
    return mapping


class Copy(Operation):
    """Copy databases between two SQL Server instances (approval always)."""

    meta = Meta.api("copy", "CopyDatabaseBetweenInstances", title="Copy SQL Server databases", approval="always",
                    verb="copy databases to", progress_of="databases", reads=("rds:DescribeDatabases", "rds:DescribeDBInstanceTDE",
                                                      "rds:DescribeBackups", "rds:DescribeBackupPolicy",
                                                      "rds:DescribeHistoryTasks"))
    fields = (
        instance_field("Source instance (SQL Server)", engine="SQLServer"),
        instance_field("Target instance (SQL Server)", "Same region. Its databases are never overwritten.",
                       name="TargetDBInstanceId", engine="SQLServer"),
        FieldSpec("DbNames", "Databases to copy", FieldKind.DATABASES, required=True,
                  hint="From the source. They keep their names unless renamed below."),
        FieldSpec("TargetDbNames", "New names on the target", FieldKind.LONG_TEXT,
                  placeholder="erp -> erp_copy", hint="Optional: one 'source -> target' per line."),
        FieldSpec("BackupId", "Backup set of the source", FieldKind.BACKUP,
                  hint="Copy as of this backup set, or leave empty and give a point in time."),
        FieldSpec("RestoreTime", "Point in time (UTC)", FieldKind.TIME, placeholder="2026-11-28T16:00:00Z",
                  hint="yyyy-MM-ddTHH:mm:ssZ, inside the retention window. Not together with a backup set."),
        FieldSpec("SyncUserPrivilege", "Copy users and privileges", FieldKind.SELECT, options=PRIVILEGES,
                  hint="Yes: target users with a source user's name also get its privileges."),
        reason_field(required=True),
    )

    def validate(self, form: Form, ctx: Context) -> Plan:
        c = Checker(form)
        source_id = c.instance_id(what="The source")
        target_id = c.instance_id("TargetDBInstanceId", what="The target")
        if source_id and target_id and source_id == target_id:
            c.fail("TargetDBInstanceId", "Pick a different instance than the source.")
        renames = c.text("TargetDbNames", max_len=5000, what="The new names")
        mapping = parse_db_names(c, form.get("DbNames"), renames)
        backup_id = c.text("BackupId", max_len=64, pattern=re.compile(r"^\d{1,20}$"),
                           message="A backup set ID is a number.", what="The backup set")
        restore_time = c.time("RestoreTime", now=ctx.now, what="The point in time")
        one_of(c, "BackupId", "RestoreTime", first_value=backup_id, second_value=restore_time,
               what="a backup set or a point in time")
        sync = c.choice("SyncUserPrivilege", [v for v, _ in PRIVILEGES], what="Copy users") or "NO"
        check_reason(c, required=True)
        # The engine check runs even when other fields have errors: "only SQL
        # Server" is the first thing a user with a MySQL instance must hear.
        why = "copying databases needs"
        source = require_instance(c, ctx, source_id, engines=SQL_SERVER, why_engine=why)
        target = require_instance(c, ctx, target_id, field="TargetDBInstanceId", engines=SQL_SERVER, why_engine=why)
        c.done()
        assert source is not None and target is not None and mapping is not None
        self._check_pair(c, source, target)
        self._check_databases(c, ctx.directory, source, target, mapping)
        if backup_id is not None:
            check_backup(c, ctx.directory, source.id, backup_id)
        if restore_time is not None:
            check_window(c, ctx, source.id, restore_time)
        c.done()
        params: dict[str, Any] = {
            "DBInstanceId": source.id,
            "TargetDBInstanceId": target.id,
            "DbNames": json.dumps(mapping, separators=(",", ":")),
            "BackupId": backup_id,
            "RestoreTime": api_time(restore_time),
            "SyncUserPrivilege": sync,
        }
        params = {k: v for k, v in params.items() if v is not None}
        # The policy resource of a copy is the target (DESIGN.md).
        return Plan(instance_id=target.id, params=params, instance=target, summary=self.summary(params))

    @staticmethod
    def _check_pair(c: Checker, source: InstanceInfo, target: InstanceInfo) -> None:
        if source.region_id and target.region_id and source.region_id != target.region_id:
            c.fail("TargetDBInstanceId", f"{target.id} is in {target.region_id}, the source in {source.region_id}; "
                                         "copies stay within one region.")
        pair = (source.category, target.category)
        if pair in REFUSED_PAIRS:
            c.fail("TargetDBInstanceId", f"RDS cannot copy from a {source.category} edition to a {target.category} edition.")
        if version_number(source.engine_version) > version_number(target.engine_version) > 0:
            c.fail("TargetDBInstanceId", f"The source runs SQL Server {source.engine_version}, newer than the "
                                         f"target's {target.engine_version}.")

    @staticmethod
    def _check_databases(c: Checker, directory: RdsDirectory, source: InstanceInfo, target: InstanceInfo,
                         mapping: Mapping[str, str]) -> None:
        try:
            on_source = {d.name for d in directory.databases(source.id)}
            on_target = {d.name.lower() for d in directory.databases(target.id, fresh=True)}
            encrypted = directory.tde_databases(source.id)
        except RdsError as error:
            c.fail("DbNames", f"Could not list databases: {error.plain()}")
            return
        missing = [n for n in mapping if n not in on_source]
        taken = [t for t in mapping.values() if t.lower() in on_target]
        tde = [n for n in mapping if n in encrypted]
        if missing:
            c.fail("DbNames", f"Not on {source.id}: {', '.join(missing[:5])}.")
        elif tde:
            c.fail("DbNames", f"TDE is on for {', '.join(tde[:5])}; RDS cannot copy encrypted databases.")
        elif taken:
            field = "TargetDbNames" if any(t != s for s, t in mapping.items()) else "DbNames"
            c.fail(field, f"{target.id} already has {', '.join(taken[:5])}; give new names on the target.")

    def _targets(self, params: Mapping[str, Any]) -> dict[str, str]:
        return dict(json.loads(str(params.get("DbNames") or "{}")))

    def find_started(self, directory: RdsDirectory, request_id: str, params: Mapping[str, Any],
                     since: datetime) -> dict[str, Any] | None:
        wanted = {t.lower() for t in self._targets(params).values()}
        present = {d.name.lower() for d in directory.databases(str(params["TargetDBInstanceId"]), fresh=True)}
        return {"recovered": True} if wanted & present else None

    def probe(self, directory: RdsDirectory, params: Mapping[str, Any], result: Mapping[str, Any],
              memo: Mapping[str, Any]) -> Progress:
        target_id = str(params["TargetDBInstanceId"])
        wanted = list(self._targets(params).values())
        statuses = {d.name.lower(): d.status for d in directory.databases(target_id, fresh=True)}
        seen = set(memo.get("seen", []))
        now_seen = sorted(seen | {w for w in wanted if w.lower() in statuses})
        vanished = [w for w in seen if w.lower() not in statuses]
        if vanished:
            return Progress(status="Failed", done=True, failed=True, error_code="CopyAbandoned",
                            error_message=f"{', '.join(vanished)} disappeared from {target_id}: RDS abandoned the copy.")
        states = [f"{w} {statuses.get(w.lower(), 'Waiting')}" for w in wanted]
        if all(statuses.get(w.lower()) == "Running" for w in wanted):
            return Progress(status=" · ".join(states), done=True, result={"Databases": wanted})
        polls = int(memo.get("polls", 0)) + 1
        if not now_seen and polls >= NOTHING_YET_POLLS and memo.get("submitted_at"):
            # Nothing appeared yet: ask the task history whether RDS gave up on the copy.
            failed = directory.failed_tasks(target_id, since=datetime.fromisoformat(str(memo["submitted_at"])))
            if failed:
                return Progress(status="Failed", done=True, failed=True, error_code="CopyFailed",
                                error_message=f"RDS reports the copy onto {target_id} failed ({failed[0]}).")
        return Progress(status=" · ".join(states), memo={"seen": now_seen, "polls": polls})

    def outcome(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        pairs = ", ".join(s if s == t else f"{s} → {t}" for s, t in self._targets(params).items())
        users = " with users and privileges" if params.get("SyncUserPrivilege") == "YES" else ""
        return (f"Copied {pairs} from {params.get('DBInstanceId')} onto *{params.get('TargetDBInstanceId')}*{users}; "
                "every database is Running.")
