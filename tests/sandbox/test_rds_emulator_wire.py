"""The RDS emulator on the wire: signatures, error bodies, faults, journal, CLI."""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.params import format_time
from bot.sandbox.rds.signature import SignedRequest, canonical_request, sign, string_to_sign

REPO = Path(__file__).resolve().parents[2]
# The same pair conftest's emulators accept (kept literal: conftest is not importable).
RDS_ACCESS_KEY_ID = "LTAI5tEmulatorTestKey"
RDS_ACCESS_KEY_SECRET = "emulator-test-secret-not-real"
HANGZHOU = "cn-hangzhou"


def describe(sdk: Any, client: Any) -> Any:
    return client.describe_dbinstances(sdk.models.DescribeDBInstancesRequest(region_id=HANGZHOU))


def test_signed_call_succeeds_and_parses(rds_sdk: Any, rds: Any) -> None:
    body = describe(rds_sdk, rds).body
    assert body.total_record_count == 14
    assert body.items.dbinstance[0].dbinstance_status
    assert len(body.request_id) == 36


def test_wrong_secret_is_signature_mismatch(rds_sdk: Any, rds_emu: RdsEmulator) -> None:
    client = rds_sdk.client(rds_emu.endpoint, secret="not-the-secret")
    error = rds_sdk.error(describe, rds_sdk, client)
    assert (error.code, error.status_code) == ("SignatureDoesNotMatch", 400)
    assert "not-the-secret" not in str(error.data) and RDS_ACCESS_KEY_SECRET not in str(error.data)


def test_unknown_access_key_is_404(rds_sdk: Any, rds_emu: RdsEmulator) -> None:
    client = rds_sdk.client(rds_emu.endpoint, key="LTAI5tSomeoneElse")
    error = rds_sdk.error(describe, rds_sdk, client)
    assert (error.code, error.status_code) == ("InvalidAccessKeyId.NotFound", 404)


def test_error_body_has_the_service_fields(rds_sdk: Any, rds: Any) -> None:
    request = rds_sdk.models.DescribeDBInstanceAttributeRequest(dbinstance_id="rm-bp1doesnotexist00")
    error = rds_sdk.error(rds.describe_dbinstance_attribute, request)
    assert {"RequestId", "HostId", "Code", "Message", "Recommend"} <= set(error.data)
    assert error.data["Code"] == "InvalidDBInstanceId.NotFound"


def test_replayed_nonce_is_refused(rds_sdk: Any, rds_emu: RdsEmulator) -> None:
    from alibabacloud_tea_openapi.utils_models import GlobalParameters

    fixed = GlobalParameters(headers={"x-acs-signature-nonce": "nonce-used-twice-in-this-test"})
    client = rds_sdk.client(rds_emu.endpoint, global_parameters=fixed)
    describe(rds_sdk, client)
    error = rds_sdk.error(describe, rds_sdk, client)
    assert (error.code, error.status_code) == ("SignatureNonceUsed", 400)


def test_stale_timestamp_is_refused(rds_sdk: Any, rds_emu: RdsEmulator) -> None:
    from alibabacloud_tea_openapi.utils_models import GlobalParameters

    stale = format_time(datetime.now(UTC) - timedelta(minutes=16))
    client = rds_sdk.client(rds_emu.endpoint, global_parameters=GlobalParameters(headers={"x-acs-date": stale}))
    error = rds_sdk.error(describe, rds_sdk, client)
    assert error.code == "InvalidTimeStamp.Expired"


def _signed_request(
    endpoint: str, method: str, query: dict[str, str], body: bytes, *, hash_of: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    """Sign by hand (to send what the SDK never would) and return (status, JSON body)."""
    import json

    headers = {
        "host": endpoint,
        "x-acs-action": "DescribeDBInstances",
        "x-acs-version": "2014-08-15",
        "x-acs-date": format_time(datetime.now(UTC)),
        "x-acs-signature-nonce": os.urandom(8).hex(),
        "x-acs-content-sha256": hashlib.sha256(body if hash_of is None else hash_of).hexdigest(),
    }
    if body:
        headers["content-type"] = "application/x-www-form-urlencoded"
    names = sorted(headers)
    canonical = canonical_request(
        SignedRequest(method, "/", query, headers, body), names, headers["x-acs-content-sha256"]
    )
    signature = sign(RDS_ACCESS_KEY_SECRET, string_to_sign(canonical))
    headers["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={RDS_ACCESS_KEY_ID},SignedHeaders={';'.join(names)},Signature={signature}"
    )
    host, port = endpoint.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    path = "/?" + "&".join(f"{k}={quote(v, safe='~')}" for k, v in query.items())
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_get_request_is_accepted(rds_emu: RdsEmulator) -> None:
    status, body = _signed_request(rds_emu.endpoint, "GET", {"RegionId": HANGZHOU, "PageSize": "2"}, b"")
    assert status == 200 and body["PageRecordCount"] == 2


def test_form_encoded_body_is_accepted(rds_emu: RdsEmulator) -> None:
    form = urlencode({"RegionId": HANGZHOU, "Engine": "MariaDB"}).encode()
    status, body = _signed_request(rds_emu.endpoint, "POST", {}, form)
    assert status == 200 and [i["Engine"] for i in body["Items"]["DBInstance"]] == ["MariaDB"]


def test_body_hash_mismatch_is_signature_mismatch(rds_emu: RdsEmulator) -> None:
    form = urlencode({"RegionId": HANGZHOU}).encode()
    status, body = _signed_request(rds_emu.endpoint, "POST", {}, form, hash_of=b"something else")
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_unknown_action(rds_sdk: Any, rds: Any) -> None:
    error = rds_sdk.error(rds_sdk.raw, rds, "DescribeEverything", {"RegionId": HANGZHOU})
    assert (error.code, error.status_code) == ("InvalidAction.NotFound", 404)


def test_missing_required_parameter(rds_sdk: Any, rds: Any) -> None:
    error = rds_sdk.error(rds.describe_dbinstances, rds_sdk.models.DescribeDBInstancesRequest())
    assert (error.code, error.status_code) == ("MissingParameter", 400)
    assert "RegionId" in error.data["Message"]


def test_throttling_with_retry_after_raises_throttling_exception(rds_sdk: Any, rds_emu: RdsEmulator, rds: Any) -> None:
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    rds_emu.inject(action="DescribeDBInstances", code="Throttling.User", times=2, retry_after_ms=200)
    for _ in range(2):
        error = rds_sdk.error(describe, rds_sdk, rds)
        assert isinstance(error, ThrottlingException)
        assert (error.code, error.status_code, error.retry_after) == ("Throttling.User", 400, 200)
    assert describe(rds_sdk, rds).body.total_record_count == 14  # both uses consumed


def test_faults_are_consumed_in_order_and_per_action(rds_sdk: Any, rds_emu: RdsEmulator, rds: Any) -> None:
    from alibabacloud_tea_openapi.exceptions import ServerException

    rds_emu.inject(action="DescribeBackups", code="Throttling.User")
    rds_emu.inject(code="ServiceUnavailable")
    first = rds_sdk.error(describe, rds_sdk, rds)  # skips the DescribeBackups fault
    assert isinstance(first, ServerException) and (first.code, first.status_code) == ("ServiceUnavailable", 503)
    backups = rds_sdk.models.DescribeBackupsRequest(dbinstance_id="rm-bp1mysqlprod0001")
    second = rds_sdk.error(rds.describe_backups, backups)
    assert second.code == "Throttling.User"
    assert rds.describe_backups(backups).body.items.backup


def test_delay_times_the_client_out_but_the_call_still_ran(rds_sdk: Any, rds_emu: RdsEmulator) -> None:
    rds_emu.inject(action="DescribeDBInstances", delay_s=0.6)
    client = rds_sdk.client(rds_emu.endpoint, read_timeout=300)
    before = len(rds_emu.calls_for("DescribeDBInstances"))
    from darabonba.exceptions import UnretryableException

    with pytest.raises(UnretryableException) as info:
        describe(rds_sdk, client)
    assert "timed out" in str(info.value)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and len(rds_emu.calls_for("DescribeDBInstances")) == before:
        time.sleep(0.05)
    assert rds_emu.calls_for("DescribeDBInstances")[-1].status == 200


def test_journal_records_action_params_status_and_code(rds_sdk: Any, rds_fresh: RdsEmulator) -> None:
    client = rds_sdk.client(rds_fresh.endpoint)
    describe(rds_sdk, client)
    rds_sdk.error(describe, rds_sdk, rds_sdk.client(rds_fresh.endpoint, secret="wrong"))
    first, second = rds_fresh.calls
    assert (first.action, first.status, first.code, first.params["RegionId"]) == (
        "DescribeDBInstances",
        200,
        None,
        HANGZHOU,
    )
    assert (second.status, second.code) == (400, "SignatureDoesNotMatch")
    assert rds_fresh.calls_for("DescribeDBInstances") == [first, second]


def test_package_imports_without_the_sdk() -> None:
    sdk = "('alibabacloud_rds20140815', 'alibabacloud_tea_openapi', 'Tea', 'darabonba')"
    code = f"import sys, bot.sandbox.rds.__main__; print(any(m.split('.')[0] in {sdk} for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_command_line_serves_until_sigterm(rds_sdk: Any) -> None:
    env = {**os.environ, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": RDS_ACCESS_KEY_SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.sandbox.rds", "--port", "0", "--access-key-id", RDS_ACCESS_KEY_ID],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip()
        assert endpoint.startswith("127.0.0.1:")
        assert describe(rds_sdk, rds_sdk.client(endpoint)).body.total_record_count == 14
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0


def test_async_client_path(rds_sdk: Any, rds: Any) -> None:
    import asyncio

    request = rds_sdk.models.DescribeDBInstancesRequest(region_id=HANGZHOU, page_size=3)
    body = asyncio.run(rds.describe_dbinstances_async(request)).body
    assert (body.total_record_count, body.page_record_count) == (14, 3)


def test_wrong_api_version(rds_sdk: Any, rds: Any) -> None:
    params = rds_sdk.Params(
        action="DescribeDBInstances",
        version="2020-01-01",
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = rds_sdk.OpenApiRequest(query={"RegionId": HANGZHOU})
    error = rds_sdk.error(rds.call_api, params, request, rds_sdk.RuntimeOptions())
    assert (error.code, error.status_code) == ("InvalidVersion", 400)


def test_throttling_without_retry_after_is_a_client_exception(rds_sdk: Any, rds_emu: RdsEmulator, rds: Any) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

    rds_emu.inject(action="DescribeDBInstances", code="Throttling.User")
    error = rds_sdk.error(describe, rds_sdk, rds)
    assert isinstance(error, ClientException) and not isinstance(error, ThrottlingException)


def test_default_seed_ids_and_roles() -> None:
    import re

    from bot.sandbox.rds import INSTANCE_ROLES, default_seed

    seed = default_seed()
    ids = [i.id for i in seed.instances]
    assert set(ids) == set(INSTANCE_ROLES) and len(ids) == len(set(ids)) == 16
    assert all(re.fullmatch(r"rm-(bp1|uf6)[a-z0-9]{13}", i) for i in ids)
    assert {b.status for b in seed.backups} == {"Success", "Failed"}
    assert {c.status for c in seed.cross_region_backups} == {0, 1}
    assert any(db.tde for db in seed.databases)
