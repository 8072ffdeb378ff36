"""Property 3: every operation's ``validate(form, ctx)`` against a real directory (SDK -> RdsEmulator).

Random forms (the operation's fields plus junk keys; values None, "", random
text, lists, numbers as strings, dates in many formats, JSON fragments, hostile
strings, and plausible values taken from the live estate) either give a Plan
whose params are API parameter names of the operation with sane values, or
raise FieldErrors keyed only by the operation's field names; nothing else.
A plan's params, fed back as a form, validate to the same params.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.operations import LISTING, REGISTRY
from bot.operations.backups import ListingQuery
from bot.operations.base import Context, FieldErrors, FieldKind, FormSpec, Plan
from bot.operations.rules import INSTANCE_ID
from bot.rds.directory import RdsDirectory
from bot.rds.gateway import SdkGateway
from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds import seed as estate
from bot.timeutil import to_api, utcnow
from tests.fuzz import mutate
from tests.fuzz.conftest import KNOWN_BUGS, TALLY

KEY_ID = "LTAI5tFuzzTestKey00001"
SECRET = "fuzz-test-secret-Qz7wXv"
REGION = "cn-hangzhou"
INSTANCES = [estate.MYSQL_PROD, estate.MYSQL_DEV, estate.PG_STAGING, estate.MSSQL_PROD, estate.MSSQL_QA,
             estate.MSSQL_BASIC, estate.MSSQL_ALWAYSON, estate.MSSQL_2016, estate.MARIADB_WEB, estate.MYSQL_READONLY,
             estate.MYSQL_LOCKED, estate.MYSQL_CLASSIC, estate.MYSQL_STOPPED, estate.MYSQL_DR_SHANGHAI,
             estate.MSSQL_SHANGHAI, "rm-bp1nothere00001"]
OPS: dict[str, FormSpec] = {**REGISTRY, "backups": LISTING}


# ------------------------------------------------------------------ fixtures
class Estate:
    """The directory and plausible values read from the live emulator."""

    def __init__(self, directory: RdsDirectory) -> None:
        self.directory = directory
        now = utcnow()
        self.backups: list[str] = []
        self.cross: list[str] = []
        self.cross_of: dict[str, list[str]] = {}
        self.databases: list[str] = []
        self.backups_of: dict[str, list[str]] = {}
        for instance in (estate.MYSQL_PROD, estate.MYSQL_DEV, estate.MSSQL_PROD, estate.PG_STAGING):
            self.backups_of[instance] = [b.id for b in directory.backups(instance) if b.ok]
            self.backups += [b.id for b in directory.backups(instance)[:4]]
            self.databases += [d.name for d in directory.databases(instance)]
        for instance in (estate.MYSQL_PROD, estate.PG_STAGING, estate.MSSQL_PROD):
            page = directory.cross_region_backups(instance, start=now - timedelta(days=30), end=now, page_size=100)
            self.cross_of[instance] = [str(b.id) for b in page.items if not b.failed]
            self.cross += [str(b.id) for b in page.items[:4]]
        self.now = now

    def ctx(self) -> Context:
        return Context(directory=self.directory, now=utcnow(), region_id=REGION, user="U0ALICE")


@pytest.fixture(scope="module")
def live() -> Iterator[Estate]:
    emulator = RdsEmulator(access_key_id=KEY_ID, access_key_secret=SECRET)
    emulator.start()
    try:
        settings_ = Settings(access_key_id=KEY_ID, access_key_secret=SECRET, rds_endpoint=emulator.endpoint,
                             rds_protocol="http", region_id=REGION)
        yield Estate(RdsDirectory(SdkGateway(settings_)))
    finally:
        emulator.stop()


# ---------------------------------------------------------------- strategies
_NOW = datetime.now(UTC)


def _dates() -> list[str]:
    out = []
    for delta in (timedelta(hours=2), timedelta(days=1), timedelta(days=6), timedelta(days=40), timedelta(hours=-2),
                  timedelta(days=900)):
        t = _NOW - delta
        out += [t.strftime("%Y-%m-%dT%H:%M:%SZ"), t.strftime("%Y-%m-%d %H:%M"), t.strftime("%Y-%m-%dT%H:%MZ"),
                t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), str(int(t.timestamp())), t.isoformat(),
                t.strftime("%d/%m/%Y %H:%M"), t.strftime("%Y-%m-%dT%H:%M:%S+08:00")]
    return out + ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
                  "0000000000", "99999999999", "١٧٠٠٠٠٠٠٠٠", "2026-1-1T1:1:1Z", "yesterday", "now"]


DATES = _dates()
NUMBERS = ["0", "1", "-1", "5", "7", "20", "30", "50", "100", "730", "731", "64000", "64005", "+5", "05", "1e3",
           "3.0", "999999999", "9999999999", "٣", "²", " 10 ", "0x10"]
JSON_BITS = ["{", "}", "[]", "{}", "null", "[{}]", "{\"a\": \"b\"}", "{\"hr\": \"hr_copy\"}", "{\"hr\": 1}",
             "[{\"type\":\"db\",\"name\":\"analytics\",\"newname\":\"analytics_r\",\"tables\":[]}]",
             "[{\"name\":\"reporting\",\"newname\":\"reporting_r\","
             "\"tables\":[{\"name\":\"events\",\"newname\":\"ev\"}]}]",
             "[{\"name\":\"a\"}]", "\"str\"", "1", "[" * 50 + "]" * 50]
META_LINES = ["analytics -> analytics_r", "analytics", "reporting.events -> events_old", "a -> b\nc -> d",
              "hr -> hr_r; erp -> erp_r", "x ->", "-> y", "a.b.c -> d", "  analytics  ->  a2  "]
JUNK_KEYS = ["junk", "reason ", "dbinstanceid", "ClientToken", "__proto__", "", "TableMeta\n", "block_id"]


def _plausible(estate_: Estate, spec: Any) -> list[str]:
    kind, name = spec.kind, spec.name
    if spec.options:
        return [v for v, _ in spec.options] + [v.lower() for v, _ in spec.options][:2]
    if kind is FieldKind.INSTANCE or name in {"SourceDBInstanceName"}:
        return INSTANCES
    if kind is FieldKind.BACKUP:
        return estate_.backups or ["1"]
    if kind is FieldKind.CROSS_BACKUP:
        return estate_.cross or ["1"]
    if kind is FieldKind.DATABASES or name in {"DbNames", "DBName"}:
        return estate_.databases + ["hr,erp", "master", "hr\n"]
    if kind is FieldKind.TIME:
        return DATES
    if kind is FieldKind.NUMBER:
        return NUMBERS
    by_name = {
        "reason": ["because", "INC-1 <!channel>", "x" * 3001],
        "TargetDbNames": ["hr -> hr_copy", "hr: hr2", "nope -> x", "hr -> erp"],
        "TableMetaLines": META_LINES, "TableMeta": JSON_BITS,
        "SourceRegion": ["cn-shanghai", "cn-hangzhou", "CN", "cn"], "CrossBackupRegion": ["cn-shanghai", "us"],
        "ZoneId": ["cn-hangzhou-h", "cn-hangzhou-j"], "ZoneIdSlave1": ["cn-hangzhou-i"],
        "VPCId": ["vpc-bp1prod000000001"], "VSwitchId": ["vsw-bp1prodh0000001", "vsw-a,vsw-b"],
        "PrivateIpAddress": ["172.16.0.99", "8.8.8.8", "::1"], "DBInstanceClass": ["mysql.n2.medium.2c"],
        "DBInstanceDescription": ["clone-1", "测试", "http://x", "a"],
    }
    return by_name.get(name, ["x"])


def value_strategy(estate_: Estate, spec: Any) -> st.SearchStrategy[Any]:
    plausible = st.sampled_from(_plausible(estate_, spec))
    text = st.one_of(st.text(max_size=60), st.sampled_from(mutate.HOSTILE), st.sampled_from(NUMBERS),
                     st.sampled_from(DATES), st.sampled_from(JSON_BITS))
    return st.one_of(
        plausible, plausible, plausible,
        st.none(), st.just(""), st.sampled_from([" ", "\n\t", "\u00a0"]), text,
        st.lists(st.one_of(plausible, text), max_size=3),
        plausible.map(lambda v: f"  {v}\n"),
    )


def baseline(estate_: Estate, op: str) -> dict[str, Any]:
    """A form that validates (or very nearly) for ``op``; mutations start from here half the time."""
    two_hours = (_NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "clone": {"DBInstanceId": estate.MYSQL_DEV, "BackupId": estate_.backups_of[estate.MYSQL_DEV][0],
                  "PayType": "Postpaid", "reason": "because"},
        "copy": {"DBInstanceId": estate.MSSQL_PROD, "TargetDBInstanceId": estate.MSSQL_QA, "DbNames": ["hr"],
                 "RestoreTime": two_hours, "reason": "because"},
        "restore": {"DBInstanceId": estate.PG_STAGING, "RestoreType": "0",
                    "BackupId": estate_.cross_of[estate.PG_STAGING][0], "TableMetaLines": "analytics -> analytics_r",
                    "reason": "because"},
        "backup": {"DBInstanceId": estate.MYSQL_DEV},
        "backups": {"DBInstanceId": estate.MYSQL_PROD},
    }[op]


@st.composite
def forms(draw: Any, estate_: Estate, op: str) -> dict[str, Any]:
    spec = OPS[op]
    names = [f.name for f in spec.fields]
    form: dict[str, Any] = dict(baseline(estate_, op)) if draw(st.booleans()) else {}
    for name in draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True)):
        form[name] = draw(value_strategy(estate_, spec.field(name)))
    for name in draw(st.lists(st.sampled_from(list(form) or names), max_size=2, unique=True)):
        if draw(st.integers(0, 3)) == 0:
            form.pop(name, None)
    for key in draw(st.lists(st.sampled_from(JUNK_KEYS), max_size=2)):
        form[key] = draw(st.one_of(st.none(), st.text(max_size=10)))
    return form


# ------------------------------------------------------------------- oracle
def known_bug(error: BaseException, form: dict[str, Any]) -> str | None:
    """Exceptions excused by the property: none (all the reported ones are fixed)."""
    return None


def _sane(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -1 <= value <= 64000
    if isinstance(value, str):
        return 0 < len(value) <= 10_000 and value == value.strip() and "\x00" not in value
    if name == "Tag" and isinstance(value, list):  # a clone carries its source's tags (Tag.N.Key/Value)
        return len(value) <= 20 and all(isinstance(t, dict) and set(t) == {"Key", "Value"} for t in value)
    return False


# API parameters a plan may set that no form field carries: RDS's common request parameters, and the
# source's tags a clone is created with.
API_EXTRAS = {"RegionId", "Tag"}
REGION_ID = re.compile(r"^[a-z]{2,}(-[a-z0-9]+){1,4}$")


def check_plan(op: str, plan: Plan, form: dict[str, Any]) -> None:
    fields = {f.name for f in OPS[op].fields}
    assert isinstance(plan, Plan)
    assert INSTANCE_ID.match(plan.instance_id) and plan.instance_id in INSTANCES, plan.instance_id
    assert set(plan.params) <= (fields - {"reason", "TableMetaLines", "TargetDbNames"}) | API_EXTRAS, plan.params
    assert "RegionId" not in plan.params or REGION_ID.match(str(plan.params["RegionId"])), plan.params
    bad = {k: v for k, v in plan.params.items() if not _sane(k, v)}
    assert not bad, bad
    assert all(isinstance(label, str) and isinstance(value, str) for label, value in plan.summary)


def check_errors(op: str, error: FieldErrors) -> None:
    fields = {f.name for f in OPS[op].fields}
    assert error.errors, "FieldErrors without errors"
    assert set(error.errors) <= fields, (set(error.errors) - fields, error.errors)
    assert all(isinstance(m, str) and m.strip() for m in error.errors.values()), error.errors


def as_form(params: dict[str, Any], reason: Any) -> dict[str, Any]:
    out: dict[str, Any] = {k: str(v) for k, v in params.items()}
    out["reason"] = reason
    return out


def run(live: Estate, op: str, form: dict[str, Any]) -> str:
    spec = OPS[op]
    ctx = live.ctx()
    prop = f"p3_validators_{op}"
    TALLY.case(prop)
    try:
        result = spec.validate(form, ctx)  # type: ignore[attr-defined]
    except FieldErrors as error:
        TALLY.count(prop, "field_errors")
        check_errors(op, error)
        return "errors"
    except Exception as error:  # noqa: BLE001 - the property: nothing but FieldErrors
        known = known_bug(error, form)
        if known is None:
            TALLY.side_effect(prop, f"{type(error).__name__}: {error}")
            raise
        TALLY.note(prop, f"KNOWN BUG hit: {known}")
        return "known"
    TALLY.count(prop, "plans")
    if op == "backups":
        query, info = result
        assert isinstance(query, ListingQuery) and info.id == query.instance_id
        again = {"DBInstanceId": query.instance_id, "StartTime": to_api(query.start), "EndTime": to_api(query.end),
                 "CrossBackupRegion": query.region, "PageSize": str(query.page_size)}
        query2, _ = spec.validate(again, ctx)  # type: ignore[attr-defined]
        trunc = lambda q: (q.instance_id, to_api(q.start), to_api(q.end), q.region, q.page_size)  # noqa: E731
        assert trunc(query2) == trunc(query)
        return "plan"
    check_plan(op, result, form)
    again = spec.validate(as_form(result.params, form.get("reason")), ctx)  # type: ignore[attr-defined]
    assert again.params == result.params, (result.params, again.params)
    assert again.instance_id == result.instance_id
    return "plan"


SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


@pytest.mark.parametrize("op", sorted(OPS))
@SETTINGS
@given(data=st.data())
def test_validate_gives_a_plan_or_field_errors(live: Estate, op: str, data: Any) -> None:
    form = data.draw(forms(live, op), label="form")
    run(live, op, form)


EXAMPLES = [
    ("clone", {"DBInstanceId": estate.MYSQL_DEV, "RestoreTime": "0001-01-01T00:00:00Z", "PayType": "Postpaid",
               "reason": "x"}),
    ("clone", {"DBInstanceId": estate.MYSQL_DEV, "RestoreTime": "99999999999", "PayType": "Prepaid", "Period": "Year",
               "UsedTime": "\u0663", "reason": "x"}),
    ("clone", {"DBInstanceId": [estate.MYSQL_DEV, estate.MYSQL_PROD], "BackupId": ["1", "2"], "PayType": ["Postpaid"],
               "reason": ["a", "b"], "DbNames": ["hr\n", " erp"]}),
    ("copy", {"DBInstanceId": estate.MSSQL_PROD, "TargetDBInstanceId": estate.MSSQL_QA, "DbNames": ["hr\n"],
              "BackupId": "1", "reason": "x"}),
    ("copy", {"DBInstanceId": estate.MSSQL_PROD, "TargetDBInstanceId": estate.MSSQL_QA, "DbNames": "{\"hr\": 1}",
              "reason": "x", "TargetDbNames": "hr -> erp\nnope"}),
    ("restore", {"DBInstanceId": estate.PG_STAGING, "RestoreType": "1", "RestoreTime": "1", "SourceRegion": "cn",
                 "SourceDBInstanceName": estate.PG_STAGING, "TableMeta": "[" * 50 + "]" * 50, "reason": "x"}),
    ("backup", {"DBInstanceId": estate.MSSQL_PROD, "BackupStrategy": "db", "DBName": "hr,hr",
                "BackupRetentionPeriod": "-1"}),
    ("backups", {"DBInstanceId": estate.MYSQL_PROD, "StartTime": "9999-12-31T23:59:59Z", "PageSize": "50"}),
    ("backups", {"DBInstanceId": estate.MYSQL_PROD, "EndTime": "0001-01-01T00:00:00Z"}),  # was an OverflowError; now a field error
]


@pytest.mark.parametrize(("op", "form"), EXAMPLES, ids=[f"{op}-{i}" for i, (op, _) in enumerate(EXAMPLES)])
def test_validate_examples(live: Estate, op: str, form: dict[str, Any]) -> None:
    run(live, op, form)


@pytest.mark.parametrize("op", sorted(OPS))
def test_baselines_validate_and_are_idempotent(live: Estate, op: str) -> None:
    """The strategies' baselines really produce plans (otherwise the property above would be vacuous)."""
    assert run(live, op, baseline(live, op)) == "plan"


# ------------------------------------------------------------- pointers
pointers = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(st.text(max_size=12), st.sampled_from(INSTANCES + DATES + NUMBERS + ["", "cn-shanghai"])),
             min_size=6, max_size=6).map("|".join),
    st.tuples(st.sampled_from(DATES), st.sampled_from(DATES), st.sampled_from(["", "cn-shanghai", "us"]),
              st.sampled_from(["30", "50", "100", "7"]), st.sampled_from(NUMBERS)).map(
        lambda t: "|".join([estate.MYSQL_PROD, *t])),
)


@settings(max_examples=300, deadline=None)
@given(pointer=pointers)
@example(pointer=f"{estate.MYSQL_PROD}|2026-01-01T00:00:00Z|2026-01-08T00:00:00Z||30|1")
@example(pointer="||0001-1-1T0:0:0|||")
def test_listing_pointer_gives_a_query_or_field_errors(pointer: str) -> None:
    prop = "p3_validators_listing_pointer"
    TALLY.case(prop)
    try:
        query = ListingQuery.from_pointer(pointer, utcnow())
    except FieldErrors as error:
        assert set(error.errors) <= {f.name for f in LISTING.fields}, error.errors
        return
    except (ValueError, OverflowError) as error:
        TALLY.side_effect(prop, f"{type(error).__name__}: {error}")
        raise
    assert 1 <= query.page <= 10_000 and INSTANCE_ID.match(query.instance_id)
    assert ListingQuery.from_pointer(query.pointer(), utcnow()).pointer() == query.pointer()


# ------------------------------------------------------ fixed bugs, kept as regression tests
def test_listing_pointer_unicode_digit_page() -> None:
    TALLY.case(KNOWN_BUGS)
    with pytest.raises(FieldErrors):
        ListingQuery.from_pointer(f"{estate.MYSQL_PROD}|2026-01-01T00:00:00Z|2026-01-08T00:00:00Z||30|\u00b2",
                                  utcnow())


@pytest.mark.parametrize("where", ["modal", "pointer"])
def test_listing_end_time_near_year_one(live: Estate, where: str) -> None:
    TALLY.case(KNOWN_BUGS)
    with pytest.raises(FieldErrors):
        if where == "modal":
            LISTING.validate({"DBInstanceId": estate.MYSQL_PROD, "EndTime": "0001-01-01T00:00:00Z"}, live.ctx())
        else:
            ListingQuery.from_pointer(f"{estate.MYSQL_PROD}||0001-01-01T00:00:00Z||30|1", utcnow())


DEEP = "[" * 3000 + "]" * 3000
BIG = "1" * 5000


@pytest.mark.parametrize("raw", [DEEP, f"[{{\"name\": \"a\", \"newname\": {BIG}}}]"], ids=["deep", "bigint"])
def test_restore_table_meta_json_extremes_are_field_errors(live: Estate, raw: str) -> None:
    TALLY.case(KNOWN_BUGS)
    form = {**baseline(live, "restore"), "TableMetaLines": None, "TableMeta": raw}
    with pytest.raises(FieldErrors) as caught:
        REGISTRY["restore"].validate(form, live.ctx())
    assert "TableMeta" in caught.value.errors


@pytest.mark.parametrize("raw", ["{\"hr\": " + DEEP + "}", "{\"hr\": " + BIG + "}"], ids=["deep", "bigint"])
def test_copy_db_names_json_extremes_are_field_errors(live: Estate, raw: str) -> None:
    TALLY.case(KNOWN_BUGS)
    form = {**baseline(live, "copy"), "DbNames": raw}
    with pytest.raises(FieldErrors) as caught:
        REGISTRY["copy"].validate(form, live.ctx())
    assert "DbNames" in caught.value.errors
