"""API errors of the RDS emulator: one exception type and the catalogue of codes.

Every refusal the emulator sends goes through :class:`ApiError`, so the HTTP layer
renders all of them the same way (the real service's
``{"RequestId","HostId","Code","Message","Recommend"}`` body). The HTTP status and
message of a code live in :data:`CATALOGUE`, copied from the seed pages in
``/work/shared/seeds`` and the public error centre, so an operation only names the
code it means. A few codes carry a different status on different pages (for
example ``InvalidDBInstanceName.NotFound`` is 400 on CopyDatabaseBetweenInstances and
404 on CreateBackup); the caller passes ``status=`` in those cases.
"""

from __future__ import annotations

from typing import Any

HOST_ID = "rds.aliyuncs.com"

# Each page names its own not-found code; these two are shared by several operations.
DESCRIBE_NOT_FOUND = "InvalidDBInstanceId.NotFound"  # 400: the per-instance Describe calls
INSTANCE_NOT_FOUND = "InvalidDBInstance.NotFound"  # 404: Clone, Copy, RestoreDdrTable, DescribeCrossRegionBackups

# code -> (HTTP status, message). Messages are the service's own wording.
CATALOGUE: dict[str, tuple[int, str]] = {
    # Gateway and authentication
    "MissingParameter": (
        400,
        'The input parameter "%s" that is mandatory for processing this request is not supplied.',
    ),
    "InvalidParameter": (400, 'The specified parameter "%s" is not valid.'),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureDoesNotMatch": (400, "Specified signature is not matched with our calculation."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "InvalidAction.NotFound": (404, "Specified api is not found, please check your url and method."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "Forbidden.RAM": (
        403,
        "User not authorized to operate on the specified resource, or this API does not support RAM.",
    ),
    "InvalidSecurityToken.Expired": (400, "Specified SecurityToken is expired."),
    "InvalidSecurityToken.MismatchWithAccessKey": (400, "Specified SecurityToken mismatch with the AccessKey."),
    "InternalError": (500, "The request processing has failed due to some unknown error, exception or failure."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    # Shared by several pages
    "RequiredParam.NotFound": (400, "Required input param is not found."),
    "Parameters.Invalid": (400, "Parameter error, please check the parameters."),
    "InvalidDBInstanceId.NotFound": (400, "The DBInstanceId provided does not exist in records."),
    "InvalidDBInstance.NotFound": (404, "The specified instance does not exist or is not supported."),
    "InvalidDBInstanceName.NotFound": (404, "The database instance does not exist."),
    "InvalidDBInstanceDescription.Format": (400, "Specified DB instance description is not valid."),
    "InvalideStatus.Format": (400, "The instance status does not support this operation."),
    "IncorrectDBInstanceState": (403, "Current DB instance state does not support this operation."),
    "IncorrectDBInstanceType": (403, "Current DB instance engine and type does not support operations."),
    "InvalidDBInstanceEngineType.Format": (400, "the DB instance engine type does not support this operation."),
    "ReadDBInstanceNotSupport": (400, "The operation is not permitted due to type of the instance."),
    "ReadOnlyInstanceNotSupport": (400, "Specified ReadOnly Instance not support this operation."),
    "InvalidBackupSet": (400, "The specified database does not exist in the backup set."),
    "InvalidBakset.Invalid": (400, "Specified bakset is not valid."),
    "InvalidDBName.Format": (400, "Specified DB name is not valid."),
    "InvalidDBName.NotFound": (400, "Specified DB name does not exist."),
    "InvalidDBName.Duplicate": (400, "Specified DB name already exists in the This instance."),
    "InvalidDB.NotFound": (404, "Specified db does not exist or DB status does not support this operation."),
    "InvalidRegion.Format": (400, "Specified Region is not valid."),
    "InvalidParameters.Format": (400, "Specified parameters is not valid."),
    "InvalidRestoreTime.Format": (400, "Specified restore time is not valid."),
    "InvalidVswitchId": (403, "Specified conn vswitch id is not valid."),
    "Pay.InsufficientBalance": (400, "Insufficient available balance."),
    "ExternalFailure": (500, "The request processing has failed due to external service failure."),
    "RequestMetaDataFailed": (500, "The service request failed. Please try again later or contact service personnel."),
    "InvokeProxyFailure": (500, "The request processing has failed due to service failure of rds api."),
    # CloneDBInstance
    "InvalidAvZone.Format": (400, "Specified AvZone is not valid."),
    "CannotDecreaseEssdPerfLevel": (400, "cannot decrease cloud essd performance level."),
    "InvalidIPAddress.Conflict": (400, "IP address conflict."),
    "InvalidInstanceLevel.DiskType": (400, "Specified instance level not support request disk type"),
    "HostInfo.NotFound": (404, "The specified host info is not found."),
    "InvalidRecoveryDbInstance.StorageType": (400, "The disk local_ssd can not clone to cloud disk type"),
    "InvalidRecoveryDbInstance.StorageSize": (
        400,
        "The disk space of the new instance cannot be less than that of the current instance",
    ),
    "InvalidDBInstanceClass.Offline": (
        400,
        "The specified instance type is no longer provided. Please specify another instance type.",
    ),
    "InvalidDBInstanceClass.NotFound": (404, "Specified DB instance class is not found."),
    "IncorrectTargetClasscode": (400, "The current instance type does not support this operation."),
    "ZoneId.NotMatchWithCategory": (
        400,
        "The number of available zones does not match the database engine or instance edition. Please reset it.",
    ),
    "Order.PeriodInvalid": (400, "There is a problem with the period you selected, please choose again."),
    "StopService.Clone": (
        400,
        "The service has been discontinued and cloning operations on classic network instances "
        "are no longer permitted.",
    ),
    "InvalidParam.UsedTime": (400, "The clone expiration date cannot exceed %s."),
    "AtLeastThreeVSwitchAvailableIp": (400, "The primary vswitch requires at least three available IP addresses."),
    "AtLeastTwoVSwitchAvailableIp": (400, "The primary vswitch requires at least two available IP addresses."),
    "DiskSize.NotEnough": (400, "The disk size is not enough to restore tables."),
    "OperationDenied.ZoneResource": (403, "There is no available zone for inventory."),
    # CopyDatabaseBetweenInstances
    "InvalidBackupSetID": (400, "Invalid backup set id."),
    "DBCountLimitExceeded": (400, "Db count limit exceeded."),
    "BackupRestoreNotSupported.BasicHA": (
        400,
        "Basic instances cannot be restored to high availability instances, and high availability "
        "instances cannot be restored to basic instances.",
    ),
    "BackupRestoreNotSupported.HADedicatedAlwaysOn": (
        400,
        "High availability instances cannot be restored to dedicated cluster instances or AlwaysOn instances.",
    ),
    "BackupRestoreNotSupported.ShareDedicatedAlwaysOn": (
        400,
        "Shared instances cannot be restored to dedicated cluster instances, AlwaysOn instances, "
        "or high availability instances.",
    ),
    "OperationDenied.RestoreTime": (
        400,
        "The instance with snapshot backup enabled can only be restored to the instance with snapshot backup enabled.",
    ),
    "OperationDenied.SnapshotBackupSet": (
        400,
        "Snapshot backup set can only be restored to the instance with snapshot backup enabled.",
    ),
    "CanNotCopyDBHasTDEEnabled": (
        400,
        "The source database has enabled the TDE feature. You cannot copy it to another instance.",
    ),
    "EngineNotSupported": (400, "The engine does not support the operation."),
    "TargetInstanceEngineNotSupported": (400, "The specified Engine cannot be supported the operation."),
    "InvalidTargetDBInstanceName.Format": (400, "Specified Target DB instance name is not valid."),
    "InvalidInstancesRegion.Malformed": (400, "The instance region is not the same as the target instance region."),
    "ErrorParametersConflict": (400, "Parameter BackupsetID and restoretime can only exist one."),
    "InvalidRecoveryDBNames.Format": (400, "The specified parameter DBNames is not valid."),
    "InvalidBackupIdOrRestoreTime.NotFound": (400, "The specified parameter BackupId or RestoreTime is not valid."),
    "InvalidRestoreTimeSpecified": (
        400,
        "Unable to restore to the specified time, because the database is in cold storage at this time. "
        "Please choose a valid restore point.",
    ),
    "InvalidRestoreDB": (
        400,
        "Unable to restore, because the database is in cold storage now. Please skip this database.",
    ),
    "InvalidCharacter.DbOrAccount": (400, "The database name or account name contains invalid characters."),
    "StorageLimitExceeded": (403, "Exceeding the allowed Storage of DB instance."),
    "Forbidden.SnapshotRecovery": (403, "Snapshot backup does not support partial restore"),
    "InvalidInstanceVersion": (403, "Source instance version is greater than the target instance version."),
    "InvalidParamTableMeta.RestoreTime": (
        403,
        "The specified restore time cannot be covered by the existing backup chain. "
        "Please try specifying a different restore time.",
    ),
    "CurrentRecoveryModelNotSupportThisAction": (403, "Current recovery model not supported this action."),
    "NetworkOrSqlTimeoutError": (
        408,
        "Failed to create login due to potential SQL Server overload or other issues that may cause the "
        "login creation fail. Please retry later.",
    ),
    # RestoreDdrTable
    "InvalidRestoreType.Format": (400, "Specified restore type is not valid."),
    "RestoreType.NotFound": (404, "RestoreType is not found."),
    "InvalidParamTableMeta": (400, "Invalid parameter TableMeta is null or not json format"),
    "InvalidParamTableMeta.Content": (400, "TableMeta missing old dbname or new dbname, please check"),
    "InvalidParamTableMeta.Duplicate": (
        400,
        "TableMeta has duplicate db or table with other newname, commons or system",
    ),
    "InvalidParamTableMetaForRestore.Content": (
        400,
        "new dbname or table in TableMeta cannot be same with old when restore to source instance",
    ),
    "InvalidSourceRestoreDBName.NotFound": (400, "specific source restore dbname is not found in db list"),
    "NoAvailableDisasterRestoreBakset": (400, "No available disaster restore bakset."),
    "InvalidVpcParameter": (400, "Specified VPCId VSwitchId or IPAddress or TunnelId is not valid."),
    "InvalidBackupSetID.NotFound": (404, "Specified backup set ID does not exist."),
    "InvalidBackup.NotFound": (404, "The available backup does not exist in recovery time."),
    "InvalidBinlog.NotFound": (404, "The available binlog does not exist in recovery time."),
    "InvalidBackupLogStatus": (403, "Current backup log enable status does not support this operation."),
    "IncorrectBackupSetMethod": (403, "Current backup set method does not support operations."),
    "IncorrectBackupSetState": (403, "Current backup set state does not support operations."),
    "ChildDBInstanceExists": (403, "Current DB instance had child instance."),
    # CreateBackup
    "BackupType.NotSupport": (400, "the specified backup type not support"),
    "InvalidBackupMethod.ValueNotSupport": (400, 'The specified parameter "BackupMethod" is not valid.'),
    "IncorrectDBInstanceLockMode.ValueNotSupported": (
        400,
        "The Current DB instance lock mode does not support this operation.",
    ),
    "BackupJobExists": (400, "A backup job already exists in the specified DB instance."),
    "Exceeded.BackupTimes": (403, "The backup times exceeds."),
    # DescribeCrossRegionBackups
    "ParameterAbsence": (400, "Necessary param is absence."),
    "InvalidStartTime.Format": (400, "Specified start time is not valid."),
    "InvalidEndTime.Format": (400, "Specified end time is not valid."),
    "InvalidTime.Format": (400, "Specified time is not valid."),
    "InvalidParameterCombination": (400, "The end time must be greater than the start time"),
    "CrossBackupNotSupport": (403, "Specified region not support cross region backup."),
    "InvalidPage.notFound": (404, "Page not found."),
}


class ApiError(Exception):
    """One refusal, rendered by the server as the service's JSON error body.

    ``detail`` fills the ``%s`` of messages that have one (MissingParameter's
    parameter name, InvalidParam.UsedTime's date); a code outside the catalogue
    needs ``status`` and ``message`` (fault injection uses that for any code).
    """

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        *,
        status: int | None = None,
        message: str | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        known_status, template = CATALOGUE.get(code, (400, code))
        if message is None:
            message = template % detail if "%s" in template else template
        self.code = code
        self.status = status if status is not None else known_status
        self.message = message
        self.retry_after_ms = retry_after_ms
        super().__init__(f"{self.status} {code}: {message}")

    def body(self, request_id: str) -> dict[str, Any]:
        """The JSON object the service sends with this error."""
        return {
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": self.code,
            "Message": self.message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={self.code}&product=Rds&requestId={request_id}",
        }


def status_of(code: str) -> int:
    """The HTTP status the catalogue gives ``code`` (400 when it is not catalogued)."""
    return CATALOGUE.get(code, (400, ""))[0]


def missing(name: str) -> ApiError:
    """The gateway's answer when a parameter the API marks required is absent."""
    return ApiError("MissingParameter", name)


def invalid(name: str) -> ApiError:
    """The gateway's answer when a parameter has the wrong type or an unknown value."""
    return ApiError("InvalidParameter", name)
