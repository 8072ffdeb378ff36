"""CloneDBInstance: restore an instance's backup or a point in time into a NEW instance.

Rules from the seed page (seeds/CloneDBInstance.ja.txt) and RDS_API.md; each is
shown on the modal field it concerns. Defaults are the source's values, so the
optional fields are only sent when the user changed them. The further options
(AutoPay, DeletionProtection, a partial clone, ZoneIdSlave2, BackupType,
DedicatedHostGroupId) are in :mod:`bot.operations.clone_options`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.i18n import _
from bot.operations import table_meta
from bot.operations.base import Context, FieldError, FieldKind, FieldSpec, Form, Meta, Operation, Plan, Progress, Touched, instance_field, lookup_instance, reason_field
from bot.operations.checks import check_backup, check_window
from bot.operations.clone_options import (
    AUTO_PAY_FIELD,
    DELETION_PROTECTION_FIELD,
    HOST_GROUP_FIELD,
    PARTIAL_FIELDS,
    ZONE_SLAVE2_FIELD,
    Options,
    check_against_backup,
    check_options,
)
from bot.operations.clone_options import bad_zone as _bad_zone
from bot.operations.rules import VPC_ID, VSWITCH_ID, ZONE_ID, Checker, api_time, check_description, check_ip, check_names, check_reason, one_of
from bot.rds.directory import InstanceInfo, RdsDirectory
from bot.rds.errors import RdsError
from bot.timeutil import slack_date_of

PAY_TYPES = (("Postpaid", _("Pay-as-you-go (Postpaid)")), ("Prepaid", _("Subscription (Prepaid)")), ("Serverless", _("Serverless")))
PERIODS = (("Month", _("Month")), ("Year", _("Year")))
USED_TIME_RANGE = {"Year": (1, 3), "Month": (1, 9)}
STORAGE_TYPES = (
    ("general_essd", _("General ESSD (recommended)")),
    ("local_ssd", _("Local SSD")),
    ("cloud_ssd", _("Standard SSD")),
    ("cloud_essd", _("ESSD PL1")),
    ("cloud_essd2", _("ESSD PL2")),
    ("cloud_essd3", _("ESSD PL3")),
)
CLOUD_DISKS = {"general_essd", "cloud_ssd", "cloud_essd", "cloud_essd2", "cloud_essd3"}
SERVERLESS_DISKS = {"cloud_essd", "general_essd"}
ESSD_LEVEL = {"cloud_essd": 1, "cloud_essd2": 2, "cloud_essd3": 3}
CATEGORIES = (
    ("Basic", _("Basic")),
    ("HighAvailability", _("High Availability")),
    ("AlwaysOn", _("Cluster (SQL Server, AlwaysOn)")),
    ("cluster", _("Cluster (MySQL)")),
    ("Finance", _("Finance (China site)")),
    ("serverless_basic", _("Serverless Basic (MySQL, PostgreSQL)")),
    ("serverless_standard", _("Serverless HA (MySQL)")),
    ("serverless_ha", _("Serverless HA (SQL Server)")),
)
# Which engines each edition exists for; None = any engine.
CATEGORY_ENGINES: dict[str, set[str] | None] = {
    "Basic": None,
    "HighAvailability": None,
    "Finance": None,
    "AlwaysOn": {"sqlserver"},
    "cluster": {"mysql"},
    "serverless_basic": {"mysql", "postgresql"},
    "serverless_standard": {"mysql"},
    "serverless_ha": {"sqlserver"},
}
NETWORK_TYPES = (("VPC", _("VPC")), ("Classic", _("Classic network")))
REQUEST_TAG = "rdsbot-request"  # on a new instance: the request that made it
MAX_TAGS = 20  # RDS's limit on one instance's tags
_SYSTEM_TAG_PREFIXES = ("aliyun", "acs:")  # tags RDS sets itself; refused as Tag.N.Key


class Clone(Operation):
    """Clone: new instance from a backup set or a point in time (approval always)."""

    meta = Meta.api("clone", "CloneDBInstance", title=_("Clone an RDS instance"), verb=_("clone"), approval="always",
                    client_token=True,
                    reads=("rds:DescribeBackups", "rds:DescribeBackupPolicy", "rds:DescribePrice"),
                    optional_note=_("Leave empty to keep the source's value."),
                    instances=(("source", "DBInstanceId", None),), watches=("result", "DBInstanceId"))
    fields = (
        instance_field(_("Source instance"), _("The instance whose data is cloned. Type to search.")),
        FieldSpec("BackupId", _("Backup set"), FieldKind.BACKUP,
                  hint=_("Restore from this backup set, or leave empty and give a point in time below.")),
        FieldSpec("RestoreTime", _("Point in time"), FieldKind.TIME,
                  hint=_("In your time zone; inside the backup retention window. Not together with a backup set.")),
        FieldSpec("PayType", _("Billing"), FieldKind.SELECT, required=True, options=PAY_TYPES),
        FieldSpec("Period", _("Subscription unit"), FieldKind.SELECT, options=PERIODS, hint=_("Prepaid only.")),
        FieldSpec("UsedTime", _("Subscription length"), FieldKind.NUMBER,
                  hint=_("Prepaid only: 1-3 years or 1-9 months.")),
        AUTO_PAY_FIELD,
        reason_field(required=True),
        FieldSpec("DBInstanceClass", _("Instance class"), section="optional", placeholder=_("e.g. mysql.n2.medium.2c"),
                  hint=_("Default: the source's class.")),
        FieldSpec("DBInstanceStorage", _("Storage (GB)"), FieldKind.NUMBER, section="optional",
                  hint=_("Multiple of 5, not below the source's. Default: the source's.")),
        FieldSpec("DBInstanceStorageType", _("Storage type"), FieldKind.SELECT, options=STORAGE_TYPES, section="optional",
                  hint=_("Default: the source's. A local-SSD source cannot clone to a cloud disk.")),
        FieldSpec("Category", _("Edition"), FieldKind.SELECT, options=CATEGORIES, section="optional",
                  hint=_("Default: the source's.")),
        FieldSpec("ZoneId", _("Zone"), section="optional", placeholder="cn-hangzhou-h", hint=_("Default: the source's.")),
        FieldSpec("ZoneIdSlave1", _("Secondary zone"), section="optional", placeholder="cn-hangzhou-i",
                  hint=_("Different from the zone = multi-zone. Needs two vSwitches.")),
        ZONE_SLAVE2_FIELD,
        FieldSpec("InstanceNetworkType", _("Network type"), FieldKind.SELECT, options=NETWORK_TYPES, section="optional",
                  hint=_("Default: the source's.")),
        FieldSpec("VPCId", _("VPC"), section="optional", placeholder="vpc-...", hint=_("A VPC in the instance's region.")),
        FieldSpec("VSwitchId", _("vSwitch"), section="optional", placeholder="vsw-...",
                  hint=_("In the zone above; required with network type VPC; two, comma-separated, with a secondary zone.")),
        FieldSpec("PrivateIpAddress", _("Private IP"), section="optional", hint=_("Inside the vSwitch's CIDR block.")),
        HOST_GROUP_FIELD,
        FieldSpec("DBInstanceDescription", _("Name of the new instance"), section="optional", max_length=255,
                  hint=_("2-255 characters; starts with a letter; letters, digits, _ and -.")),
        DELETION_PROTECTION_FIELD,
        FieldSpec("DbNames", _("Databases to clone"), section="optional", placeholder="db1,db2",
                  hint=_("Comma-separated. Default: all databases in the backup.")),
        *PARTIAL_FIELDS,
    )

    def validate(self, form: Form, ctx: Context) -> Plan:
        c = Checker(form)
        instance_id = c.instance_id(what=_("The source instance"))
        backup_id = c.text("BackupId", max_len=64, pattern=_BACKUP_ID, message=FieldError.of("bad_backup_id", "A backup set ID is a number."),
                           what=_("The backup set"))
        restore_time = c.time("RestoreTime", now=ctx.now, what=_("The point in time"))
        one_of(c, "BackupId", "RestoreTime", first_value=backup_id, second_value=restore_time,
               what=_("a backup set or a point in time"))
        pay_type = c.choice("PayType", [v for v, _label in PAY_TYPES], required=True, what=_("Billing"))
        period = c.choice("Period", [v for v, _label in PERIODS], what=_("The subscription unit"))
        used_time = c.integer("UsedTime", low=1, high=USED_TIME_RANGE.get(period or "Month", (1, 9))[1],
                              what=_("The subscription length ({unit})", unit=_("years") if period == "Year" else _("months")))
        if pay_type == "Prepaid":
            if period is None and c.ok("Period"):
                c.fail("Period", "prepaid_needs_unit", "Prepaid needs a subscription unit (Year or Month).")
            if used_time is None and c.ok("UsedTime"):
                c.fail("UsedTime", "prepaid_needs_length", "Prepaid needs a subscription length.")
        elif pay_type is not None:
            for name, value in (("Period", period), ("UsedTime", used_time)):
                if value is not None:
                    c.fail(name, "period_without_prepaid", "Only a Prepaid (subscription) clone takes a subscription period.")
        check_reason(c, required=True)
        instance_class = c.text("DBInstanceClass", max_len=64, pattern=_CLASS,
                                message=FieldError.of("bad_class", "An instance class looks like mysql.n2.medium.2c."),
                                what=_("The class"))
        storage = c.integer("DBInstanceStorage", low=5, high=64000, multiple_of=5, what=_("Storage"))
        storage_type = c.choice("DBInstanceStorageType", [v for v, _label in STORAGE_TYPES], what=_("The storage type"))
        category = c.choice("Category", [v for v, _label in CATEGORIES], what=_("The edition"))
        zone = c.text("ZoneId", max_len=64, pattern=ZONE_ID, message=_bad_zone("cn-hangzhou-h"), what=_("The zone"))
        zone2 = c.text("ZoneIdSlave1", max_len=64, pattern=ZONE_ID, message=_bad_zone("cn-hangzhou-i"),
                       what=_("The secondary zone"))
        network = c.choice("InstanceNetworkType", [v for v, _label in NETWORK_TYPES], what=_("The network type"))
        vpc = c.text("VPCId", max_len=80, pattern=VPC_ID, message=FieldError.of("bad_vpc", "A VPC ID looks like vpc-bp1...."),
                     what=_("The VPC"))
        vswitch = self._vswitches(c, c.raw("ZoneIdSlave1") is not None)
        ip = check_ip(c, "PrivateIpAddress")
        description = check_description(c, "DBInstanceDescription")
        db_names = check_names(c, "DbNames")
        further = check_options(c, pay_type=pay_type, db_names_given=c.raw("DbNames") is not None)
        # Cross-field rules look at what was typed, so one malformed field
        # never earns its correct neighbour a second, wrong error.
        given = {name: c.raw(name) is not None for name in ("VPCId", "VSwitchId", "PrivateIpAddress")}
        if network == "VPC" and not given["VSwitchId"]:
            c.fail("VSwitchId", "vpc_needs_vswitch", "A VPC clone needs a vSwitch.")
        if network == "Classic":
            c.fail("InstanceNetworkType", "classic_network", "RDS no longer clones onto the classic network; use VPC.")
        if given["VSwitchId"] and not given["VPCId"]:
            c.fail("VPCId", "vswitch_needs_vpc", "Give the VPC the vSwitch belongs to.")
        if given["PrivateIpAddress"] and not given["VSwitchId"]:
            c.fail("PrivateIpAddress", "ip_needs_vswitch", "A private IP needs the vSwitch it belongs to.")
        serverless = pay_type == "Serverless" or (category or "").startswith("serverless")
        if serverless and storage_type and storage_type not in SERVERLESS_DISKS:
            c.fail("DBInstanceStorageType", "serverless_disk",
                   "Serverless instances only use ESSD PL1 (cloud_essd) or General ESSD.")
        if category and category.startswith("serverless") and pay_type and pay_type != "Serverless":
            c.fail("Category", "serverless_needs_billing", "A serverless edition needs Billing = Serverless.")
        if category == "Finance" and not ctx.region_id.startswith("cn-"):
            c.fail("Category", "finance_outside_china", "The Finance edition exists only on the China site.")
        c.done()

        assert instance_id is not None and pay_type is not None
        source = lookup_instance(ctx, instance_id)
        self._check_source(c, source, ctx, backup_id=backup_id, restore_time=restore_time, pay_type=pay_type,
                           storage=storage, storage_type=storage_type, category=category, db_names=db_names,
                           further=further)
        tags = _source_tags(c, source)
        c.done()

        params: dict[str, Any] = {
            "DBInstanceId": instance_id,
            "BackupId": backup_id,
            "RestoreTime": api_time(restore_time),
            "PayType": pay_type,
            "Period": period,
            "UsedTime": used_time,
            "DBInstanceClass": instance_class,
            "DBInstanceStorage": storage,
            "DBInstanceStorageType": storage_type,
            "Category": category,
            "ZoneId": zone,
            "ZoneIdSlave1": zone2,
            "InstanceNetworkType": network,
            "VPCId": vpc,
            "VSwitchId": vswitch,
            "PrivateIpAddress": ip,
            "DBInstanceDescription": description,
            "DbNames": ",".join(db_names) if db_names else None,
            **further.params,
            "Tag": tags,  # the source's guard goes with its data; api_params adds the request's own tag
        }
        params = {k: v for k, v in params.items() if v is not None}
        summary = self.summary({k: v for k, v in params.items() if k != table_meta.RAW})
        if further.meta:
            summary.append((_("Clones only"), table_meta.summary(further.meta)))
        return Plan(instance_id=instance_id, params=params, instance=source, summary=summary,
                    touches=(Touched("source", source),))

    def api_params(self, request_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """As every operation's, plus ``rdsbot-request=<request id>`` among the new instance's tags
        (``Tag.N.Key``/``Tag.N.Value``: the clone is born tagged, no second call)."""
        out = super().api_params(request_id, params)
        kept = [t for t in out.get("Tag") or [] if t.get("Key") != REQUEST_TAG]
        out["Tag"] = [*kept, {"Key": REQUEST_TAG, "Value": request_id}]
        return out

    @staticmethod
    def _vswitches(c: Checker, zone2: bool) -> str | None:
        value = c.text("VSwitchId", max_len=200, what=_("The vSwitch"))
        if value is None:
            return None
        parts = [p.strip() for p in value.split(",")]
        if any(not VSWITCH_ID.match(p) for p in parts):
            c.fail("VSwitchId", "bad_vswitch", "A vSwitch ID looks like vsw-bp1...; separate two with a comma.")
            return None
        if zone2 and len(parts) != 2:
            c.fail("VSwitchId", "two_vswitches", "With a secondary zone, give two vSwitch IDs separated by a comma.")
            return None
        if not zone2 and len(parts) != 1:
            c.fail("VSwitchId", "one_vswitch", "Give one vSwitch (two only with a secondary zone).")
            return None
        return ",".join(parts)

    @staticmethod
    def _check_source(
        c: Checker,
        source: InstanceInfo,
        ctx: Context,
        *,
        backup_id: str | None,
        restore_time: Any,
        pay_type: str,
        storage: int | None,
        storage_type: str | None,
        category: str | None,
        db_names: list[str] | None,
        further: Options,
    ) -> None:
        engine = source.engine.lower()
        effective_type = storage_type or source.storage_type
        if source.status and source.status != "Running":
            c.fail("DBInstanceId", "source_not_running", "{instance} is {status}; only a Running instance can be cloned.",
                   instance=source.id, status=source.status)
        if source.network_type == "Classic":
            c.fail("DBInstanceId", "source_on_classic", "{instance} is on the classic network; RDS no longer clones those.",
                   instance=source.id)
        if pay_type == "Serverless" and engine == "mariadb":
            c.fail("PayType", "serverless_mariadb", "Serverless is not available for MariaDB.")
        if category:
            engines = CATEGORY_ENGINES.get(category)
            if engines is not None and engine not in engines:
                c.fail("Category", "edition_engine", "That edition is not available for {engine}.", engine=source.engine)
        if storage is not None and source.storage_gb is not None and storage < source.storage_gb:
            c.fail("DBInstanceStorage", "storage_below_source", "At least the source's {size} GB.", size=source.storage_gb)
        if storage_type and source.storage_type == "local_ssd" and storage_type in CLOUD_DISKS:
            c.fail("DBInstanceStorageType", "local_to_cloud_disk",
                   "The source uses local SSD, which cannot be cloned to a cloud disk.")
        if storage_type in ESSD_LEVEL and ESSD_LEVEL.get(source.storage_type, 0) > ESSD_LEVEL[storage_type]:
            c.fail("DBInstanceStorageType", "essd_below_source", "Not below the source's ESSD level ({level}).",
                   level=source.storage_type)
        serverless = pay_type == "Serverless" or (category or "").startswith("serverless")
        if serverless and not storage_type and effective_type not in SERVERLESS_DISKS:
            c.fail("DBInstanceStorageType", "serverless_needs_essd",
                   "The source uses {disk}; a serverless clone needs cloud_essd or general_essd, so pick one.",
                   disk=effective_type)
        if backup_id is not None:
            backup = check_backup(c, ctx.directory, source.id, backup_id)
            if backup is not None:
                check_against_backup(c, backup, db_names=db_names, meta=further.meta,
                                     meta_field=table_meta.field_of(c.form),
                                     backup_type=further.params.get("BackupType"))
        if restore_time is not None:
            check_window(c, ctx, source.id, restore_time)

    def probe(
        self, directory: RdsDirectory, params: Mapping[str, Any], result: Mapping[str, Any], memo: Mapping[str, Any]
    ) -> Progress:
        new_id = str(result.get("DBInstanceId") or "")
        try:
            status = directory.status(new_id)
        except RdsError as error:
            # An order left unpaid (AutoPay=false) may have no instance yet: it waits for the console.
            if params.get("AutoPay") == "false" and error.code.endswith("NotFound"):
                return Progress(status=AWAITING_PAYMENT)
            raise
        if status == "Running":
            return Progress(status=status, done=True, result={"DBInstanceId": new_id})
        if status in _FAILED:
            return Progress(status=status, done=True, failed=True, error_code=f"Instance{status}",
                            error_message=_("The new instance {instance} ended up {status}.", instance=new_id, status=status))
        return Progress(status=status or "Unknown")

    def outcome(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        new_id = result.get("DBInstanceId", "?")
        source = params.get("DBInstanceId", "?")
        point = (_("backup set {backup}", backup=params["BackupId"]) if params.get("BackupId")
                 else slack_date_of(str(params.get("RestoreTime"))) or str(params.get("RestoreTime")))
        return _("New instance *{instance}* is Running: a clone of {source} as of {point}.", instance=new_id,
                 source=source, point=point)


def _source_tags(c: Checker, source: InstanceInfo) -> list[dict[str, str]]:
    """The source's tags as CloneDBInstance's ``Tag`` list, so an ``env=prod`` clone stays under
    ``env=prod`` rules. Unknown tags stop the clone: it would be born outside every tag rule."""
    if source.tags is None:
        c.fail("DBInstanceId", "source_tags_unknown",
               "Could not read the tags of {instance}, which its clone must carry. Submit again.", instance=source.id)
        return []
    kept = [{"Key": key, "Value": value} for key, value in sorted(source.tags.items())
            if key != REQUEST_TAG and not key.startswith(_SYSTEM_TAG_PREFIXES)]
    if len(kept) >= MAX_TAGS:
        c.fail("DBInstanceId", "too_many_tags",
               "{instance} has {count} tags; its clone carries them and {tag}, but RDS allows {limit} per instance.",
               instance=source.id, count=len(kept), tag=REQUEST_TAG, limit=MAX_TAGS)
    return kept


_BACKUP_ID = re.compile(r"^\d{1,20}$")
_CLASS = re.compile(r"^[a-z0-9]+(\.[a-z0-9]+){1,5}$")
_FAILED = {"Deleting", "Released", "CreateFailed", "Failed", "Deleted"}
AWAITING_PAYMENT = "AwaitingPayment"  # a Prepaid clone's order, not paid automatically, waits to be paid
