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

from bot.i18n import _
from bot.operations.base import Context, FieldError, FieldKind, FieldSpec, Form, FormValue, Meta, Operation, Plan, Progress, Touched, instance_field, reason_field
from bot.operations.checks import check_backup, check_window, require_instance
from bot.operations.rules import DB_NAME, Checker, api_time, check_reason, load_json, one_of
from bot.rds.directory import InstanceInfo, RdsDirectory
from bot.rds.errors import RdsError

SQL_SERVER = {"sqlserver"}
PRIVILEGES = (("NO", _("No")), ("YES", _("Yes: copy users and their privileges")))
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
                c.fail("DbNames", "bad_json_map", "Not a valid JSON map: {error}.", error=error)
                return None
            if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
                c.fail("DbNames", "json_not_name_map", "The JSON must map names to names, like {example}.",
                       example='{"erp": "erp_copy"}')
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
            c.fail("TargetDbNames", "bad_rename", "{line!r}: write one 'source -> target' per line.",
                   line=line.strip()[:40])
            return None
        if pair.group(1) not in mapping:
            c.fail("TargetDbNames", "rename_not_copied", "{name!r} is not among the databases to copy.",
                   name=pair.group(1))
            return None
        mapping[pair.group(1)] = pair.group(2)
    if not mapping:
        if c.ok("DbNames"):
            c.fail("DbNames", "no_database", "Pick at least one database to copy.")
        return None
    bad = [n for n in list(mapping) + list(mapping.values()) if not DB_NAME.match(n)]
    if bad:
        c.fail("DbNames", "bad_database_name", "Not a valid database name: {names}.",
               names=", ".join(repr(b[:40]) for b in bad[:3]))
        return None
    system = [n for n in mapping if n.lower() in SYSTEM_DBS]
    if system:
        c.fail("DbNames", "system_database", "System databases cannot be copied: {names}.", names=", ".join(system))
        return None
    targets = [t.lower() for t in mapping.values()]
    if len(set(targets)) != len(targets):
        c.fail("DbNames", "same_target_name", "Two databases would get the same name on the target.")
        return None
    return mapping


class Copy(Operation):
    """Copy databases between two SQL Server instances (approval always)."""

    meta = Meta.api("copy", "CopyDatabaseBetweenInstances", title=_("Copy SQL Server databases"), approval="always",
                    verb=_("copy databases to"), progress_of=_("databases"), reads=("rds:DescribeDatabases", "rds:DescribeDBInstanceTDE",
                                                      "rds:DescribeBackups", "rds:DescribeBackupPolicy",
                                                      "rds:DescribeHistoryTasks"),
                    instances=(("source", "DBInstanceId", None), ("target", "TargetDBInstanceId", None)))
    fields = (
        instance_field(_("Source instance (SQL Server)"), engine="SQLServer"),
        instance_field(_("Target instance (SQL Server)"), _("Same region. Its databases are never overwritten."),
                       name="TargetDBInstanceId", engine="SQLServer"),
        FieldSpec("DbNames", _("Databases to copy"), FieldKind.DATABASES, required=True,
                  hint=_("From the source. They keep their names unless renamed below.")),
        FieldSpec("TargetDbNames", _("New names on the target"), FieldKind.LONG_TEXT,
                  placeholder="erp -> erp_copy", hint=_("Optional: one 'source -> target' per line.")),
        FieldSpec("BackupId", _("Backup set of the source"), FieldKind.BACKUP,
                  hint=_("Copy as of this backup set, or leave empty and give a point in time.")),
        FieldSpec("RestoreTime", _("Point in time"), FieldKind.TIME,
                  hint=_("In your time zone; inside the retention window. Not together with a backup set.")),
        FieldSpec("SyncUserPrivilege", _("Copy users and privileges"), FieldKind.SELECT, options=PRIVILEGES,
                  hint=_("Yes: target users with a source user's name also get its privileges.")),
        reason_field(required=True),
    )

    def validate(self, form: Form, ctx: Context) -> Plan:
        c = Checker(form)
        source_id = c.instance_id(what=_("The source"))
        target_id = c.instance_id("TargetDBInstanceId", what=_("The target"))
        if source_id and target_id and source_id == target_id:
            c.fail("TargetDBInstanceId", "target_is_source", "Pick a different instance than the source.")
        renames = c.text("TargetDbNames", max_len=5000, what=_("The new names"))
        mapping = parse_db_names(c, form.get("DbNames"), renames)
        backup_id = c.text("BackupId", max_len=64, pattern=re.compile(r"^\d{1,20}$"),
                           message=FieldError.of("bad_backup_id", "A backup set ID is a number."), what=_("The backup set"))
        restore_time = c.time("RestoreTime", now=ctx.now, what=_("The point in time"))
        one_of(c, "BackupId", "RestoreTime", first_value=backup_id, second_value=restore_time,
               what=_("a backup set or a point in time"))
        sync = c.choice("SyncUserPrivilege", [v for v, _label in PRIVILEGES], what=_("Copy users")) or "NO"
        check_reason(c, required=True)
        # The engine check runs even when other fields have errors: "only SQL
        # Server" is the first thing a user with a MySQL instance must hear.
        why = _("copying databases needs")
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
        # Both instances are policy resources: data leaves the source and lands on the target.
        return Plan(instance_id=target.id, params=params, instance=target, summary=self.summary(params),
                    touches=(Touched("source", source), Touched("target", target)))

    @staticmethod
    def _check_pair(c: Checker, source: InstanceInfo, target: InstanceInfo) -> None:
        if source.region_id and target.region_id and source.region_id != target.region_id:
            c.fail("TargetDBInstanceId", "other_region",
                   "{target} is in {target_region}, the source in {source_region}; copies stay within one region.",
                   target=target.id, target_region=target.region_id, source_region=source.region_id)
        elif source.account != target.account:
            c.fail("TargetDBInstanceId", "other_account",
                   "{target} is in another account than the source; copies stay within one account.", target=target.id)
        pair = (source.category, target.category)
        if pair in REFUSED_PAIRS:
            c.fail("TargetDBInstanceId", "edition_pair", "RDS cannot copy from a {source} edition to a {target} edition.",
                   source=source.category, target=target.category)
        if version_number(source.engine_version) > version_number(target.engine_version) > 0:
            c.fail("TargetDBInstanceId", "target_older",
                   "The source runs SQL Server {source}, newer than the target's {target}.",
                   source=source.engine_version, target=target.engine_version)

    @staticmethod
    def _check_databases(c: Checker, directory: RdsDirectory, source: InstanceInfo, target: InstanceInfo,
                         mapping: Mapping[str, str]) -> None:
        try:
            on_source = {d.name for d in directory.databases(source.id)}
            on_target = {d.name.lower() for d in directory.databases(target.id, fresh=True)}
            encrypted = directory.tde_databases(source.id)
        except RdsError as error:
            c.fail("DbNames", "databases_unlisted", "Could not list databases: {error}", error=error.plain())
            return
        missing = [n for n in mapping if n not in on_source]
        taken = [t for t in mapping.values() if t.lower() in on_target]
        tde = [n for n in mapping if n in encrypted]
        if missing:
            c.fail("DbNames", "not_on_instance", "Not on {instance}: {names}.", instance=source.id,
                   names=", ".join(missing[:5]))
        elif tde:
            c.fail("DbNames", "tde_database", "TDE is on for {names}; RDS cannot copy encrypted databases.",
                   names=", ".join(tde[:5]))
        elif taken:
            field = "TargetDbNames" if any(t != s for s, t in mapping.items()) else "DbNames"
            c.fail(field, "target_has_names", "{instance} already has {names}; give new names on the target.",
                   instance=target.id, names=", ".join(taken[:5]))

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
                            error_message=_("{names} disappeared from {instance}: RDS abandoned the copy.",
                                            names=", ".join(vanished), instance=target_id))
        states = [f"{w} {statuses.get(w.lower(), 'Waiting')}" for w in wanted]
        if all(statuses.get(w.lower()) == "Running" for w in wanted):
            return Progress(status=" · ".join(states), done=True, result={"Databases": wanted})
        polls = int(memo.get("polls", 0)) + 1
        if not now_seen and polls >= NOTHING_YET_POLLS and memo.get("submitted_at"):
            # Nothing appeared yet: ask the task history whether RDS gave up on the copy.
            failed = directory.failed_tasks(target_id, since=datetime.fromisoformat(str(memo["submitted_at"])))
            if failed:
                return Progress(status="Failed", done=True, failed=True, error_code="CopyFailed",
                                error_message=_("RDS reports the copy onto {instance} failed ({task}).",
                                                instance=target_id, task=failed[0]))
        return Progress(status=" · ".join(states), memo={"seen": now_seen, "polls": polls})

    def outcome(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        pairs = ", ".join(s if s == t else f"{s} → {t}" for s, t in self._targets(params).items())
        users = _(" with users and privileges") if params.get("SyncUserPrivilege") == "YES" else ""
        return _("Copied {pairs} from {source} onto *{target}*{users}; every database is Running.", pairs=pairs,
                 source=params.get("DBInstanceId"), target=params.get("TargetDBInstanceId"), users=users)
