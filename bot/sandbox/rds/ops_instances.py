"""Read-only instance operations: DescribeDBInstances, DescribeDBInstanceAttribute,
DescribeDatabases and DescribeDBInstanceTDE.

An unknown instance gives ``InvalidDBInstanceId.NotFound`` (HTTP 400) on the
per-instance Describe calls, as the real service answers DescribeDBInstanceAttribute
(the seed pages list that code with 400); DescribeDBInstances simply lists nothing.
DescribeDBInstances' ``DBInstanceId`` takes up to 30 IDs, comma-separated (more:
``InvalidParameter``), which is how the bot reads many instances' statuses at once.
"""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.rds.errors import DESCRIBE_NOT_FOUND, ApiError, invalid
from bot.sandbox.rds.model import SQLSERVER, Instance
from bot.sandbox.rds.params import Params, page, page_number, page_size
from bot.sandbox.rds.state import State
from bot.sandbox.rds.views import database_view, instance_attribute, instance_summary, read_only_map

# DescribeDBInstances takes up to this many instance IDs, comma-separated, in DBInstanceId.
MAX_IDS = 30
# DescribeDBInstances filters compared for equality: parameter -> Instance attribute.
_EXACT_FILTERS = {
    "Engine": "engine",
    "EngineVersion": "engine_version",
    "DBInstanceStatus": "status",
    "DBInstanceType": "instance_type",
    "DBInstanceClass": "db_class",
    "Category": "category",
    "ZoneId": "zone",
    "VpcId": "vpc_id",
    "VSwitchId": "vswitch_id",
    "InstanceNetworkType": "network_type",
    "PayType": "pay_type",
}


def requested_tags(params: Params) -> dict[str, str]:
    """Tags asked for, from ``Tags`` (JSON map, the SDK's form) and ``Tag.N.Key/Value``."""
    tags: dict[str, str] = {}
    raw = params.get("Tags")
    if raw is not None:
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise invalid("Tags") from None
        if not isinstance(parsed, dict):
            raise invalid("Tags")
        tags.update({str(k): str(v) for k, v in parsed.items()})
    for entry in params.indexed("Tag"):
        if "Key" in entry:
            tags[entry["Key"]] = entry.get("Value", "")
    return tags


def _matches(instance: Instance, params: Params, ids: set[str], tags: dict[str, str]) -> bool:
    if ids and instance.id not in ids:
        return False
    for name, attribute in _EXACT_FILTERS.items():
        wanted = params.get(name)
        if wanted is not None and getattr(instance, attribute) != wanted:
            return False
    search = params.get("SearchKey")
    if search and search not in instance.id and search not in instance.description:
        return False
    # The SDK documents "an instance that matches any of the specified tags is returned".
    return not tags or any(instance.tags.get(key) == value for key, value in tags.items())


def describe_db_instances(state: State, params: Params) -> dict[str, Any]:
    region = params.require("RegionId")
    ids = set(params.csv("DBInstanceId"))
    if len(ids) > MAX_IDS:
        raise invalid("DBInstanceId")
    tags = requested_tags(params)
    # Asked by ID (the bot's status batches): only those, not the whole estate.
    candidates = [state.instances[i] for i in ids if i in state.instances] if ids else state.instances.values()
    found = [i for i in candidates if i.region == region and state.visible(i) and _matches(i, params, ids, tags)]
    found.sort(key=lambda i: i.created_at, reverse=True)
    body: dict[str, Any] = {"TotalRecordCount": len(found)}
    max_results = params.integer("MaxResults")
    if max_results is not None:
        # Token paging: NextToken is the offset of the next entry, opaque to callers.
        if not 1 <= max_results <= 100:
            raise invalid("MaxResults")
        offset = params.integer("NextToken", 0)
        chosen = found[offset : offset + max_results]
        if offset + max_results < len(found):
            body["NextToken"] = str(offset + max_results)
    else:
        size = page_size(params, range(1, 101), 30)
        number = page_number(params)
        chosen = page(found, number, size)
        body["PageNumber"] = number
    body["PageRecordCount"] = len(chosen)
    children = read_only_map(state)
    body["Items"] = {"DBInstance": [instance_summary(state, i, children) for i in chosen]}
    return body


def describe_db_instance_attribute(state: State, params: Params) -> dict[str, Any]:
    instance = state.find_instance(params.require("DBInstanceId"), DESCRIBE_NOT_FOUND)
    return {"Items": {"DBInstanceAttribute": [instance_attribute(state, instance)]}}


def describe_databases(state: State, params: Params) -> dict[str, Any]:
    instance = state.find_instance(params.require("DBInstanceId"), DESCRIBE_NOT_FOUND)
    names = set(params.csv("DBName"))
    status = params.choice("DBStatus", ("Creating", "Running", "Deleting"))
    found = [
        db
        for db in state.databases_of(instance.id)
        if (not names or db.name in names) and (status is None or db.status == status)
    ]
    views = [database_view(db, instance) for db in found]
    if params.get("PageSize") is not None or params.get("PageNumber") is not None:
        # Paged only on request: each entry then repeats the page fields, as the model has them.
        size = page_size(params, (30, 50, 100), 30)
        number = page_number(params)
        views = page(views, number, size)
        for view in views:
            view.update({"PageNumber": number, "PageSize": size, "TotalCount": len(found)})
    return {"Databases": {"Database": views}}


def describe_db_instance_tde(state: State, params: Params) -> dict[str, Any]:
    instance = state.find_instance(params.require("DBInstanceId"), DESCRIBE_NOT_FOUND)
    databases = state.databases_of(instance.id)
    enabled = any(db.tde for db in databases)
    per_db = [
        {"DBName": db.name, "TDEStatus": "Enabled" if db.tde else "Disabled"}
        for db in databases
        if instance.engine == SQLSERVER  # only SQL Server reports TDE per database
    ]
    return {
        "TDEStatus": "Enabled" if enabled else "Disabled",
        "TDEMode": "ServiceKey" if enabled else "",
        "EncryptionKey": "",
        "Databases": {"Database": per_db},
    }


def _tag_rows(state: State, region: str, ids: set[str], tags: dict[str, str]) -> list[tuple[Instance, str, str]]:
    rows = []
    for instance in state.instances.values():
        if instance.region != region or not state.visible(instance) or (ids and instance.id not in ids):
            continue
        for key, value in sorted(instance.tags.items()):
            if not tags or tags.get(key) == value:
                rows.append((instance, key, value))
    return rows


def describe_tags(state: State, params: Params) -> dict[str, Any]:
    region = params.require("RegionId")
    ids = set(params.csv("DBInstanceId"))
    grouped: dict[tuple[str, str], list[str]] = {}
    for instance, key, value in _tag_rows(state, region, ids, requested_tags(params)):
        grouped.setdefault((key, value), []).append(instance.id)
    infos = [
        {"TagKey": key, "TagValue": value, "DBInstanceIds": {"DBInstanceIds": owners}}
        for (key, value), owners in sorted(grouped.items())
    ]
    return {"Items": {"TagInfos": infos}}


def list_tag_resources(state: State, params: Params) -> dict[str, Any]:
    region = params.require("RegionId")
    if params.require("ResourceType").upper() != "INSTANCE":
        raise ApiError(
            "InvalidParameter.ResourceType", status=400, message="The specified parameter 'ResourceType' is not valid."
        )
    ids = {entry for key, entry in params.raw.items() if key.startswith("ResourceId.")}
    tags = requested_tags(params)
    if not ids and not tags:
        raise ApiError("MissingParameter", "ResourceId.N or Tag.N")
    rows = _tag_rows(state, region, ids, tags)
    return {
        "NextToken": "",
        "TagResources": {
            "TagResource": [
                {"ResourceId": i.id, "ResourceType": "ALIYUN::RDS::INSTANCE", "TagKey": k, "TagValue": v}
                for i, k, v in rows
            ]
        },
    }


OPERATIONS = {
    "DescribeDBInstances": describe_db_instances,
    "DescribeDBInstanceAttribute": describe_db_instance_attribute,
    "DescribeDatabases": describe_databases,
    "DescribeDBInstanceTDE": describe_db_instance_tde,
    "DescribeTags": describe_tags,
    "ListTagResources": list_tag_resources,
}
