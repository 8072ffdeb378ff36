"""CloneDBInstance's further options (seeds/CloneDBInstance.ja.txt): ``AutoPay``,
``DeletionProtection``, a partial clone (``RestoreTable`` + ``TableMeta``),
``ZoneIdSlave2``, ``BackupType`` and ``DedicatedHostGroupId``.

Their fields and rules live here so :mod:`bot.operations.clone` stays readable;
the clone module places the fields on its form and calls :func:`check_options`
and :func:`check_against_backup`. Rules, from the seed page:

- ``AutoPay`` (boolean, default true) only takes effect with ``PayType=Prepaid``.
  The bot makes it an explicit choice there (required), so nobody is charged by
  default; with any other billing it has no effect and is not sent. An order left
  unpaid may have no instance yet: the clone's progress reads ``AwaitingPayment``
  (:meth:`Clone.probe <bot.operations.clone.Clone.probe>`) until it is paid or the job times out.
- ``DeletionProtection`` (boolean, default false): a ticked box sends ``true``.
- ``RestoreTable=1`` clones only some databases or tables and then needs
  ``TableMeta`` (same format and entry as RestoreDdrTable's,
  :mod:`bot.operations.table_meta`); a table list without the box, or the box
  together with ``DbNames``, is refused as ambiguous. Like every clone it needs a
  backup set or a point in time (checked in clone.py).
- ``ZoneIdSlave2`` (the logger node's zone) goes with ``ZoneIdSlave1``; the page
  asks for two vSwitches with a secondary zone and says nothing of a third, so
  the vSwitch rule is unchanged. Which editions take a logger zone is left to
  the API (``ZoneId.NotMatchWithCategory``).
- ``BackupType``: ``FullBackup`` or ``IncrementalBackup``; with a backup set it
  must be that set's type.
- ``DedicatedHostGroupId``: a ``dhg-`` ID; whether it exists is RDS's answer
  (``HostInfo.NotFound``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import _, tr
from bot.operations import table_meta
from bot.operations.base import FieldError, FieldKind, FieldSpec
from bot.operations.rules import ZONE_ID, Checker
from bot.rds.directory import BackupInfo

AUTO_PAY = (("true", _("Yes: pay the order now")), ("false", _("No: I pay the order in the console")))
DELETION_PROTECTION = (("true", _("Protect the new instance from being released")),)
RESTORE_TABLE = (("1", _("Clone only the databases and tables listed below")),)
BACKUP_TYPES = (("FullBackup", _("Full backup")), ("IncrementalBackup", _("Incremental backup")))
HOST_GROUP_ID = re.compile(r"^dhg-[a-z0-9]{4,64}$")

AUTO_PAY_FIELD = FieldSpec("AutoPay", _("Pay automatically"), FieldKind.SELECT, options=AUTO_PAY,
                           hint=_("Prepaid only, and required then: pay the order at once, or pay it "
                                  "yourself in the console."))
ZONE_SLAVE2_FIELD = FieldSpec("ZoneIdSlave2", _("Logger zone"), section="optional", placeholder="cn-hangzhou-j",
                              hint=_("The logger node's zone; only with a secondary zone. Not every edition has one."))
HOST_GROUP_FIELD = FieldSpec("DedicatedHostGroupId", _("Dedicated host group"), section="optional",
                             placeholder="dhg-...", hint=_("Place the clone in this dedicated host group."))
DELETION_PROTECTION_FIELD = FieldSpec("DeletionProtection", _("Deletion protection"), FieldKind.CHECKBOX,
                                      options=DELETION_PROTECTION, section="optional",
                                      hint=_("Default: off."))
PARTIAL_FIELDS = (
    FieldSpec("BackupType", _("Backup type"), FieldKind.SELECT, options=BACKUP_TYPES, section="optional",
              hint=_("With a backup set: that set's type.")),
    FieldSpec("RestoreTable", _("Partial clone"), FieldKind.CHECKBOX, options=RESTORE_TABLE, section="optional",
              hint=_("Then list the databases and tables below; leave 'Databases to clone' empty.")),
    *table_meta.fields(section="optional",
                       hint=_("For a partial clone, one per line: db, db -> new_db, or db.table -> new_table.")),
)


def bad_zone(example: str) -> FieldError:
    return FieldError.of("bad_zone", "A zone looks like {example}.", example=example)


@dataclass
class Options:
    """What the further options add: their API parameters (given ones only) and the parsed TableMeta."""

    params: dict[str, Any] = field(default_factory=dict)
    meta: list[dict[str, Any]] | None = None


def check_options(c: Checker, *, pay_type: str | None, db_names_given: bool) -> Options:
    """Check the further options on the form; errors go to ``c`` under each field."""
    auto_pay = c.choice("AutoPay", [v for v, _label in AUTO_PAY], what=_("Pay automatically"))
    if pay_type == "Prepaid" and auto_pay is None and c.ok("AutoPay"):
        c.fail("AutoPay", "prepaid_needs_auto_pay",
               "Choose whether the subscription order is paid at once or in the console.")
    deletion = c.choice("DeletionProtection", [v for v, _label in DELETION_PROTECTION], what=_("Deletion protection"))
    logger_zone = c.text("ZoneIdSlave2", max_len=64, pattern=ZONE_ID, message=bad_zone("cn-hangzhou-j"),
                         what=_("The logger zone"))
    if c.raw("ZoneIdSlave2") is not None and c.raw("ZoneIdSlave1") is None:
        c.fail("ZoneIdSlave2", "logger_zone_needs_secondary", "A logger zone goes with a secondary zone; give that too.")
    backup_type = c.choice("BackupType", [v for v, _label in BACKUP_TYPES], what=_("The backup type"))
    host_group = c.text("DedicatedHostGroupId", max_len=68, pattern=HOST_GROUP_ID, what=_("The dedicated host group"),
                        message=FieldError.of("bad_host_group", "A dedicated host group ID looks like dhg-7a9b2c3d."))
    restore_table = c.choice("RestoreTable", [v for v, _label in RESTORE_TABLE], what=_("Partial clone"))
    meta = None
    if restore_table != "1":
        if table_meta.given(c):
            table_meta.read(c, missing=None)  # what is wrong with the list is said on it, too
            if c.ok("RestoreTable"):
                c.fail("RestoreTable", "table_list_needs_partial",
                       "Tick this to clone only the databases and tables listed below.")
    else:
        meta = table_meta.read(c, missing=FieldError.of("partial_needs_tables",
                                                        "A partial clone needs the databases and tables to clone."))
        if db_names_given:
            c.fail("DbNames", "partial_and_db_names",
                   "A partial clone takes its databases from the list below; leave this empty.")
    params = {
        "AutoPay": auto_pay if pay_type == "Prepaid" else None,  # no effect with other billing (seed)
        "DeletionProtection": deletion,
        "ZoneIdSlave2": logger_zone,
        "BackupType": backup_type,
        "DedicatedHostGroupId": host_group,
        "RestoreTable": restore_table,
        "TableMeta": table_meta.dumps(meta) if meta else None,
    }
    return Options({k: v for k, v in params.items() if v is not None}, meta)


def check_against_backup(c: Checker, backup: BackupInfo, *, db_names: list[str] | None,
                         meta: list[dict[str, Any]] | None, meta_field: str, backup_type: str | None) -> None:
    """What the chosen backup set must hold: the databases named, and the backup type asked for."""
    for name, wanted in (("DbNames", db_names or []), (meta_field, [db["name"] for db in meta or []])):
        missing = [n for n in wanted if backup.databases and n not in backup.databases]
        if missing:
            c.fail(name, "not_in_backup", "Not in backup set {backup}: {names}.", backup=backup.id,
                   names=", ".join(missing[:5]))
    if backup_type and backup.type and backup_type != backup.type:
        labels = dict(BACKUP_TYPES)
        c.fail("BackupType", "backup_type_mismatch", "Backup set {backup} is of type {actual}, not {wanted}.",
               backup=backup.id, actual=tr(labels.get(backup.type, backup.type)),
               wanted=tr(labels.get(backup_type, backup_type)))
