"""RDS errors as plain values, and the catalogue that turns API codes into plain words.

Nothing here imports the SDK: the gateway converts SDK exceptions into
:class:`RdsError`, and every other layer (workflow, Slack messages, tests) only
sees these. Each catalogue entry may name the modal field (API parameter name =
block_id) the error belongs to, so an API refusal can land on the right field.
The words are English message ids, read in the reader's language (:mod:`bot.i18n`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.i18n import _, tr
from bot.redact import redact_text


class ErrorKind(StrEnum):
    """How an error came about, which decides whether trying again can help."""

    API = "api"  # the service answered with a refusal: retrying the same call won't help
    THROTTLED = "throttled"  # refused before running: always safe to retry later
    SERVER = "server"  # 5xx: may or may not have run
    TIMEOUT = "timeout"  # no answer in time: may or may not have run
    NETWORK = "network"  # could not connect: did not run
    AUTH = "auth"  # credentials or permissions of the bot itself


@dataclass(frozen=True)
class RdsError(Exception):
    """One failed RDS call, with the API's own code kept for the user to see."""

    code: str
    message: str
    kind: ErrorKind = ErrorKind.API
    status: int | None = None
    request_id: str | None = None
    retry_after_s: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", redact_text(self.message or ""))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def transient(self) -> bool:
        return self.kind in {ErrorKind.THROTTLED, ErrorKind.SERVER, ErrorKind.TIMEOUT, ErrorKind.NETWORK}

    @property
    def certainly_not_run(self) -> bool:
        """True when the service cannot have acted on the call (safe to resend any write)."""
        return self.kind in {ErrorKind.THROTTLED, ErrorKind.NETWORK, ErrorKind.AUTH, ErrorKind.API}

    @property
    def field(self) -> str | None:
        entry = CATALOGUE.get(self.code)
        return entry.field if entry else None

    def plain(self) -> str:
        """What happened, in words a DBA can act on, always ending with the API's code."""
        entry = CATALOGUE.get(self.code)
        if entry is not None:
            words = tr(entry.words)
        elif self.kind is ErrorKind.THROTTLED:
            words = _("RDS is throttling requests from the bot right now.")
        elif self.kind is ErrorKind.TIMEOUT:
            words = _("RDS did not answer in time.")
        elif self.kind is ErrorKind.NETWORK:
            words = _("The bot could not reach the RDS endpoint.")
        elif self.kind is ErrorKind.SERVER:
            words = _("RDS had an internal error.")
        else:
            words = self.message or _("RDS refused the request.")
        detail = f" ({self.message})" if entry is not None and self.message and self.message not in words else ""
        return f"{words}{detail} [{self.code}]"


@dataclass(frozen=True)
class Entry:
    """Plain words for one API error code, and the parameter it is about.

    ``words`` is an English message id (extracted with the ``Entry:1`` keyword),
    shown in the reader's language by :meth:`RdsError.plain`.
    """

    words: str
    field: str | None = None


CATALOGUE: dict[str, Entry] = {
    # Generic
    "MissingParameter": Entry("A required parameter is missing."),
    "InvalidParameter": Entry("A parameter has a value RDS does not accept."),
    "SignatureDoesNotMatch": Entry("The bot's AccessKey secret is wrong (the request signature did not match)."),
    "InvalidAccessKeyId.NotFound": Entry("The bot's AccessKey ID does not exist."),
    "Forbidden.RAM": Entry("The RAM identity of the call (the bot's own, or the request's STS session) is not "
                           "allowed to call this API on this instance; see `rdsbot ram-policy`."),
    "InvalidSecurityToken.Expired": Entry("The request's STS session expired before RDS saw the call."),
    "NoPermission": Entry("The bot may not assume the RAM role in RDSBOT_RAM_ROLE_ARN; see `rdsbot ram-policy`."),
    "EntityNotExist.Role": Entry("The RAM role in RDSBOT_RAM_ROLE_ARN does not exist."),
    "Throttling.User": Entry("RDS is throttling requests from this account."),
    "Throttling.Api": Entry("RDS is throttling this API."),
    "InternalError": Entry("RDS had an internal error."),
    "ServiceUnavailable": Entry("RDS is temporarily unavailable."),
    # Instances
    "InvalidDBInstance.NotFound": Entry("That instance does not exist (or this API does not support it).", "DBInstanceId"),
    "InvalidDBInstanceId.NotFound": Entry("That instance does not exist.", "DBInstanceId"),
    "InvalidDBInstanceName.NotFound": Entry("That instance does not exist.", "DBInstanceId"),
    "IncorrectDBInstanceState": Entry("The instance is not in a state that allows this (it must be Running).", "DBInstanceId"),
    "InvalideStatus.Format": Entry("The instance's status does not allow this operation right now.", "DBInstanceId"),
    "IncorrectDBInstanceType": Entry("This instance type does not support the operation.", "DBInstanceId"),
    "IncorrectDBInstanceLockMode.ValueNotSupported": Entry("The instance is locked.", "DBInstanceId"),
    "IncorrectDBInstanceEngine": Entry("The instance's engine does not support this (or it is locked).", "DBInstanceId"),
    "ReadDBInstanceNotSupport": Entry("Read-only instances do not support this operation.", "DBInstanceId"),
    "ReadOnlyInstanceNotSupport": Entry("Read-only instances do not support this operation.", "DBInstanceId"),
    "StopService.Clone": Entry("Instances on the classic network can no longer be cloned; move the source to a VPC first.", "DBInstanceId"),
    # Clone
    "InvalidRecoveryDbInstance.StorageSize": Entry("The clone's storage cannot be smaller than the source's.", "DBInstanceStorage"),
    "InvalidRecoveryDbInstance.StorageType": Entry("A local-SSD instance cannot be cloned to a cloud disk type.", "DBInstanceStorageType"),
    "InvalidBakset.Invalid": Entry("That backup set cannot be used for this.", "BackupId"),
    "InvalidBackupSet": Entry("A database you named is not in the backup set.", "DbNames"),
    "InvalidDBInstanceClass.Offline": Entry("That instance class is no longer sold; pick another.", "DBInstanceClass"),
    "UnsupportedClassCode": Entry("That instance class is no longer sold; pick another.", "DBInstanceClass"),
    "InvalidInstanceLevel.DiskType": Entry("That instance class does not support the chosen storage type.", "DBInstanceStorageType"),
    "CannotDecreaseEssdPerfLevel": Entry("The ESSD performance level cannot be lower than the source's.", "DBInstanceStorageType"),
    "ZoneId.NotMatchWithCategory": Entry("The zones given do not match the edition (Category).", "ZoneId"),
    "InvalidAvZone.Format": Entry("That zone is not valid.", "ZoneId"),
    "InvalidAvZone.NotSupport": Entry("That zone combination is not supported.", "ZoneId"),
    "InvalidIPAddress.Conflict": Entry("That private IP address is already in use.", "PrivateIpAddress"),
    "AtLeastTwoVSwitchAvailableIp": Entry("The primary vSwitch needs at least two free IP addresses.", "VSwitchId"),
    "AtLeastThreeVSwitchAvailableIp": Entry("The primary vSwitch needs at least three free IP addresses.", "VSwitchId"),
    "InvalidVswitchId": Entry("That vSwitch is not valid for this zone or VPC.", "VSwitchId"),
    "OperationDenied.ZoneResource": Entry("The zone has no stock for this class right now; pick another zone or class.", "ZoneId"),
    "DiskSize.NotEnough": Entry("The disk is too small to restore these tables.", "DBInstanceStorage"),
    "InvalidParam.UsedTime": Entry("The subscription would end later than allowed.", "UsedTime"),
    "Order.PeriodInvalid": Entry("The subscription period is not valid.", "Period"),
    "Pay.InsufficientBalance": Entry("The account's balance is too low to pay for the new instance."),
    # Clone: the further options (seeds/CloneDBInstance.ja.txt) and paying for the order
    "HostInfo.NotFound": Entry("That dedicated host group (or a host in it) was not found.", "DedicatedHostGroupId"),
    "CDDC.AvailableHostsNotEnoughInZone": Entry("The dedicated host group has too few free hosts in the zone.",
                                                "DedicatedHostGroupId"),
    "InvalidMeta.TooLarge": Entry("The list of databases and tables (TableMeta) is too large.", "TableMeta"),
    "UnsupportExtendDisk.NotSupport": Entry("The instance does not support that storage size.", "DBInstanceStorage"),
    "InvalidInstanceLevel.Malformed": Entry("The instance class does not support this operation.", "DBInstanceClass"),
    "IncorrectMinorVersion": Entry("The engine's minor version does not support this operation.", "DBInstanceId"),
    "OrderStatus.UnPaid": Entry("The source instance has an unpaid order; pay it in the console first.", "DBInstanceId"),
    "Order.InstHasUnpaidOrder": Entry("An order for this is still unpaid; pay or cancel it in the console first.",
                                      "PayType"),
    "pay.noCreditCard": Entry("The account has no credit card to pay the order with.", "PayType"),
    "Pay.NoCreditCard": Entry("The account has no credit card to pay the order with.", "PayType"),
    "noAvailablePaymentMethod": Entry("The account has no payment method to pay the order with.", "PayType"),
    "InsufficientAvailableQuota": Entry("The account's quota is used up; recharge it before buying.", "PayType"),
    "ExternalFailure": Entry("An external service RDS depends on failed."),
    "RequestMetaDataFailed": Entry("RDS could not process the request; try again later."),
    "InvokeProxyFailure": Entry("The RDS API service failed."),
    # Copy
    "EngineNotSupported": Entry("The source instance is not SQL Server; only SQL Server supports copying databases.", "DBInstanceId"),
    "TargetInstanceEngineNotSupported": Entry("The target instance is not SQL Server.", "TargetDBInstanceId"),
    "ErrorParametersConflict": Entry("Give a backup set or a point in time, not both.", "BackupId"),
    "InvalidBackupIdOrRestoreTime.NotFound": Entry("No backup matches that backup set or point in time.", "BackupId"),
    "InvalidBackupSetID": Entry("That backup set is not valid.", "BackupId"),
    "InvalidRecoveryDBNames.Format": Entry("The database list is not valid.", "DbNames"),
    "InvalidDBName.Format": Entry("A database name is not valid.", "DbNames"),
    "InvalidCharacter.DbOrAccount": Entry("A database or account name has characters that are not allowed.", "DbNames"),
    "InvalidDBName.NotFound": Entry("A source database does not exist.", "DbNames"),
    "InvalidDBName.Duplicate": Entry("The target already has a database with that name.", "DbNames"),
    "CanNotCopyDBHasTDEEnabled": Entry("A source database has TDE enabled and cannot be copied.", "DbNames"),
    "InvalidInstancesRegion.Malformed": Entry("Source and target must be in the same region.", "TargetDBInstanceId"),
    "InvalidInstanceVersion": Entry("The source's SQL Server version is newer than the target's.", "TargetDBInstanceId"),
    "DBCountLimitExceeded": Entry("The target has reached its database limit.", "TargetDBInstanceId"),
    "StorageLimitExceeded": Entry("The target does not have enough storage.", "TargetDBInstanceId"),
    "NetworkOrSqlTimeoutError": Entry("Creating logins on the target timed out; try again later."),
    # Restore
    "InvalidRestoreType.Format": Entry("The restore type is not valid.", "RestoreType"),
    "RestoreType.NotFound": Entry("The restore type is not valid.", "RestoreType"),
    "InvalidRestoreTime.Format": Entry("The restore time is not valid.", "RestoreTime"),
    "InvalidParamTableMeta": Entry("The database/table list is empty or not JSON.", "TableMeta"),
    "InvalidParamTableMeta.Content": Entry("An entry in the database/table list lacks its old or new name.", "TableMeta"),
    "InvalidParamTableMeta.Duplicate": Entry("A new database or table name is used twice or already exists.", "TableMeta"),
    "InvalidParamTableMetaForRestore.Content": Entry("Restoring into the source instance needs new names.", "TableMeta"),
    "InvalidSourceRestoreDBName.NotFound": Entry("A database to restore is not in the backup set.", "TableMeta"),
    "NoAvailableDisasterRestoreBakset": Entry("No cross-region backup set is available for that time.", "RestoreTime"),
    "InvalidRegion.Format": Entry("The region is not valid.", "SourceRegion"),
    "InvalidBackupSetID.NotFound": Entry("That cross-region backup set does not exist.", "BackupId"),
    "InvalidBackup.NotFound": Entry("No backup covers that restore time.", "RestoreTime"),
    "InvalidBinlog.NotFound": Entry("No log backup covers that restore time.", "RestoreTime"),
    "InvalidBackupLogStatus": Entry("Log backup is not enabled, so point-in-time restore is impossible.", "RestoreTime"),
    "IncorrectBackupSetMethod": Entry("That backup set cannot restore individual databases or tables.", "BackupId"),
    "IncorrectBackupSetState": Entry("That backup set is not in a usable state.", "BackupId"),
    "ChildDBInstanceExists": Entry("The target has read-only instances; this restore is not allowed.", "DBInstanceId"),
    # Backup
    "BackupJobExists": Entry("A backup of this instance is already running; wait for it to finish.", "DBInstanceId"),
    "Exceeded.BackupTimes": Entry("This instance has reached RDS's limit of 20 backups a day (counted per UTC day).", "DBInstanceId"),
    "InvalidBackupMethod.ValueNotSupport": Entry("That backup method is not supported for this instance.", "BackupMethod"),
    "BackupType.NotSupport": Entry("That backup type is not supported here.", "BackupType"),
    "InvalidDB.NotFound": Entry("A database does not exist or cannot be backed up.", "DBName"),
    "OperationDenied.ApiForbidden": Entry("This API is forbidden for the instance."),
    # Listing
    "ParameterAbsence": Entry("A required parameter is missing."),
    "InvalidStartTime.Format": Entry("The start time is not valid.", "StartTime"),
    "InvalidEndTime.Format": Entry("The end time is not valid.", "EndTime"),
    "InvalidTime.Format": Entry("The time range is not valid.", "StartTime"),
    "CrossBackupNotSupport": Entry("This region does not support cross-region backups."),
    "InvalidPage.notFound": Entry("That page does not exist."),
    # Edition pairs, snapshots, cold storage, recovery models (copy and restore)
    "BackupRestoreNotSupported.BasicHA": Entry("RDS cannot copy between a Basic and a High-availability edition.",
                                               "TargetDBInstanceId"),
    "BackupRestoreNotSupported.HADedicatedAlwaysOn": Entry(
        "RDS cannot copy from High-availability to a dedicated cluster or AlwaysOn edition.", "TargetDBInstanceId"),
    "BackupRestoreNotSupported.ShareDedicatedAlwaysOn": Entry(
        "RDS cannot copy from a shared instance to a dedicated, AlwaysOn or High-availability edition.",
        "TargetDBInstanceId"),
    "CurrentRecoveryModelNotSupportThisAction": Entry(
        "A database's recovery model (e.g. SIMPLE) does not allow this; switch it to FULL first.", "DbNames"),
    "Forbidden.SnapshotRecovery": Entry("Snapshot backups cannot restore part of an instance.", "BackupId"),
    "OperationDenied.SnapshotBackupSet": Entry("A snapshot backup set can only go to an instance with snapshot backups.",
                                               "BackupId"),
    "OperationDenied.RestoreTime": Entry("That point in time needs a snapshot-backup target instance.", "RestoreTime"),
    "InvalidParamTableMeta.RestoreTime": Entry("The backup chain does not cover that point in time.", "RestoreTime"),
    "InvalidRestoreTimeSpecified": Entry("A database was in cold storage at that time; pick another point in time.",
                                         "RestoreTime"),
    "InvalidRestoreDB": Entry("A database is in cold storage and cannot be restored now.", "DbNames"),
    # Clone and request shape
    "IncorrectTargetClasscode": Entry("That instance class does not support this operation.", "DBInstanceClass"),
    "InvalidDBInstanceClass.NotFound": Entry("No such instance class.", "DBInstanceClass"),
    "InvalidDBInstanceDescription.Format": Entry("The new instance's name is not valid.", "DBInstanceDescription"),
    "InvalidDBInstanceEngineType.Format": Entry("The instance's engine does not support this operation.", "DBInstanceId"),
    "InvalidTargetDBInstanceName.Format": Entry("The target instance ID is not valid.", "TargetDBInstanceId"),
    "InvalidVpcParameter": Entry("The VPC, vSwitch or IP address is not valid.", "VSwitchId"),
    "RequiredParam.NotFound": Entry("A required parameter is missing (a backup set or a point in time?).", "BackupId"),
    "Parameters.Invalid": Entry("The parameters do not go together (e.g. a backup set and a point in time).", "RestoreTime"),
    "InvalidParameterCombination": Entry("These parameters cannot be given together."),
    "InvalidParameters.Format": Entry("A parameter is not in the expected format."),
    # The bot's own credentials and requests
    "IncompleteSignature": Entry("The bot's request signature was incomplete (a bot or SDK problem)."),
    "InvalidTimeStamp.Expired": Entry("The bot's clock is more than 15 minutes off; RDS refused the request."),
    "InvalidTimeStamp.Format": Entry("The bot sent a malformed timestamp."),
    "SignatureNonceUsed": Entry("RDS saw this request's nonce before (a replayed request)."),
    "InvalidAction.NotFound": Entry("RDS does not know this API action (SDK and bot out of step?)."),
    "InvalidVersion": Entry("RDS does not know this API version."),
    # Several accounts (accounts.toml): the bot's, not RDS's
    "AccountCredentialsMissing": Entry("The bot has no AccessKey for this account: its environment variables "
                                       "are not set."),
    "AccountUnknown": Entry("This account is no longer in accounts.toml."),
    "CredentialsUnavailable": Entry("The bot could not read this account's credentials (its profile)."),
}
