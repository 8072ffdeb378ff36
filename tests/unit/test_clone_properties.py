"""Property: whatever text lands in the clone form, validation answers with a Plan or
FieldErrors keyed by the form's own fields, never with another exception.

The directory is real (SDK -> RdsEmulator); forms mix random text with plausible
values so that some examples get past the local checks and reach the source checks.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.operations.base import Context, FieldErrors, Plan
from bot.operations.clone import CATEGORIES, NETWORK_TYPES, PAY_TYPES, PERIODS, STORAGE_TYPES, Clone
from bot.rds.directory import RdsDirectory
from bot.sandbox.rds.seed import MARIADB_WEB, MSSQL_PROD, MYSQL_CLASSIC, MYSQL_DEV, MYSQL_PROD, PG_STAGING
from bot.timeutil import utcnow

from .conftest import REGION

FIELD_NAMES = [spec.name for spec in Clone.fields]
_NOW = utcnow()

PLAUSIBLE: dict[str, list[str]] = {
    "DBInstanceId": [MYSQL_DEV, MYSQL_PROD, PG_STAGING, MSSQL_PROD, MARIADB_WEB, MYSQL_CLASSIC, "rm-bp1nothere00001"],
    "BackupId": ["321000001", "321000006", "321000004", "321000014", "999"],
    "RestoreTime": [
        (_NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        (_NOW - timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
        str(int((_NOW - timedelta(hours=1)).timestamp())),
        (_NOW - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "0000000000",
        "99999999999",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ],
    "PayType": [v for v, _ in PAY_TYPES],
    "Period": [v for v, _ in PERIODS],
    "UsedTime": ["0", "1", "3", "9", "10", "-1", "999999999"],
    "reason": ["because"],
    "DBInstanceClass": ["mysql.n2.medium.2c", "pg.x4.large.2c"],
    "DBInstanceStorage": ["5", "100", "500", "505", "64000", "64005"],
    "DBInstanceStorageType": [v for v, _ in STORAGE_TYPES],
    "Category": [v for v, _ in CATEGORIES],
    "ZoneId": ["cn-hangzhou-h", "cn-hangzhou-j"],
    "ZoneIdSlave1": ["cn-hangzhou-i"],
    "InstanceNetworkType": [v for v, _ in NETWORK_TYPES],
    "VPCId": ["vpc-bp1prod000000001"],
    "VSwitchId": ["vsw-bp1prodh0000001", "vsw-bp1prodh0000001,vsw-bp1prodi0000001"],
    "PrivateIpAddress": ["172.16.0.99", "8.8.8.8", "::1"],
    "DBInstanceDescription": ["clone-1", "测试", "http://x"],
    "DbNames": ["payments,ledger", "a,a"],
    # The further options (issue 14): booleans as the API spells them, a partial clone's lists.
    "AutoPay": ["true", "false", "True"],
    "DeletionProtection": ["true", "false"],
    "ZoneIdSlave2": ["cn-hangzhou-j", "cn-hangzhou-i"],
    "BackupType": ["FullBackup", "IncrementalBackup", "Auto"],
    "DedicatedHostGroupId": ["dhg-bp1payments0001", "dhg-7a9****"],
    "RestoreTable": ["1", "0"],
    "TableMetaLines": ["payments -> p2", "payments_dev.t -> t2\nscratch", "a -> "],
    "TableMeta": ['[{"type":"db","name":"scratch","newname":"s2"}]', "[", "[]"],
}


def _value(name: str) -> st.SearchStrategy[object]:
    return st.one_of(
        st.none(),
        st.text(max_size=300),
        st.sampled_from(PLAUSIBLE.get(name, [""])),
        st.lists(st.one_of(st.text(max_size=30), st.sampled_from(PLAUSIBLE.get(name, [""]))), max_size=3),
    )


# Anything in any field.
RANDOM_FORMS = st.fixed_dictionaries({}, optional={name: _value(name) for name in FIELD_NAMES})
# Plausible required fields and up to two other fields with anything in them: these
# get past the local checks often enough to exercise the source checks and the plan.
_OTHERS = [n for n in FIELD_NAMES if n not in {"DBInstanceId", "PayType", "reason"}]
NEAR_VALID_FORMS = st.builds(
    lambda base, point, extra: {**base, **point, **extra},
    st.fixed_dictionaries({
        "DBInstanceId": st.sampled_from(PLAUSIBLE["DBInstanceId"]),
        "PayType": st.sampled_from(PLAUSIBLE["PayType"]),
        "reason": st.just("because"),
    }),
    st.one_of(
        st.fixed_dictionaries({"BackupId": st.sampled_from(PLAUSIBLE["BackupId"])}),
        st.fixed_dictionaries({"RestoreTime": st.sampled_from(PLAUSIBLE["RestoreTime"][:3])}),
        st.fixed_dictionaries({"RestoreTime": st.sampled_from(PLAUSIBLE["RestoreTime"][:3])}),
    ),
    st.dictionaries(
        st.sampled_from(_OTHERS),
        st.one_of(st.sampled_from([""]), st.text(max_size=40), st.sampled_from(sum(PLAUSIBLE.values(), []))),
        max_size=2,
    ),
)
FORMS = st.one_of(RANDOM_FORMS, NEAR_VALID_FORMS)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(form=FORMS)
def test_clone_validation_answers_with_a_plan_or_field_errors(directory: RdsDirectory, form: dict) -> None:
    ctx = Context(directory=directory, now=utcnow(), region_id=REGION, user="U0ALICE")
    try:
        plan = Clone().validate(form, ctx)
    except FieldErrors as error:
        event("field errors")
        assert error.errors, "FieldErrors without any error"
        assert set(error.errors) <= set(FIELD_NAMES), error.errors
        assert all(isinstance(m, str) and m.strip() for m in error.errors.values())
        return
    event("plan")
    assert isinstance(plan, Plan)
    # Besides the form's fields, the source's tags: the clone is born with them (issue 13).
    assert set(plan.params) <= (set(FIELD_NAMES) - {"reason", "TableMetaLines"}) | {"Tag"}
    assert ("RestoreTable" in plan.params) == ("TableMeta" in plan.params)
    assert all(set(tag) == {"Key", "Value"} for tag in plan.params["Tag"])
    assert {"DBInstanceId", "PayType"} <= set(plan.params)
    assert ("BackupId" in plan.params) != ("RestoreTime" in plan.params)
    assert all(v not in (None, "") for v in plan.params.values())
