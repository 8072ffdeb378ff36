"""accounts.toml, RDSBOT_REGIONS, and reaching each account with its own credentials.

Parsing and its errors are plain Python. The rest goes through the real SDK to the
RDS (and STS) emulators: an account named by an environment prefix signs with its
own key and sees only its own instances; an account reached only through a role
reads in a read-only STS session; an account whose keys are missing is reported by
the search and never hides the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.rds.errors import RdsError
from bot.rds.estate import Estate
from bot.rds.places import Account, Accounts, Place
from bot.rds.pool import Gateways
from bot.rds.retry import CallSafety
from bot.sandbox.rds import RdsEmulator
from bot.sandbox.rds.seed import MYSQL_DEV, OTHER_ACCOUNT_MYSQL, default_seed, with_other_account
from bot.sandbox.sts import StsEmulator
from bot.workflow.accounts import AccountsError, AccountsStore, parse

REPO = Path(__file__).resolve().parents[2]
MAIN_ID, OTHER_ID = "1111111111111111", "2222222222222222"
KEY, SECRET = "LTAI5tAccountsMain01", "accounts-main-secret-xyz"
OTHER_KEY, OTHER_SECRET = "LTAI5tAccountsOther1", "accounts-other-secret-abc"
ROLE = f"acs:ram::{MAIN_ID}:role/rdsbot-reader"

TWO = f"""
[[account]]
alias = "main"
id = "{MAIN_ID}"

[[account]]
alias = "other"
id = "{OTHER_ID}"
env = "OTHER"
regions = ["cn-hangzhou"]
"""


def test_the_shipped_example_parses() -> None:
    accounts = parse((REPO / "policies" / "accounts.toml.example").read_text(), source="accounts.toml.example")
    assert [a.alias for a in accounts.entries] == ["prod", "analytics", "sandbox"]
    assert accounts.named and accounts.default.alias == "prod"
    prod, analytics, sandbox = accounts.entries
    assert prod.env == "PROD" and prod.regions == ("cn-hangzhou", "cn-shanghai") and not prod.assumes_role_for_reads
    assert analytics.assumes_role_for_reads and sandbox.profile == "sandbox"
    settings = Settings(RDSBOT_REGIONS="cn-hangzhou,cn-beijing")  # type: ignore[call-arg]
    assert accounts.places(settings.regions) == [
        Place("prod", "cn-hangzhou"), Place("prod", "cn-shanghai"), Place("analytics", "cn-hangzhou"),
        Place("analytics", "cn-beijing"), Place("sandbox", "ap-southeast-1")]
    assert accounts.account_id("analytics") == "2345678901234567"


@pytest.mark.parametrize("text,words", [
    ('[[account]]\nalias = "a"\nid = 12\nenv = "A"\nenv = "B"\n', "accounts.toml: not valid TOML"),
    ('[[account]]\nalias = "Prod!"\nid = "1"\n', "accounts.toml:1: give the account an 'alias'"),
    ('\n\n[[account]]\nalias = "prod"\nid = "12a"\n', "accounts.toml:3: account 'prod': 'id' must be the account ID"),
    ('[[account]]\nalias = "prod"\nid = "1"\naccess_key_secret = "hunter2-not-here"\n',
     "account 'prod': access_key_secret must not be written here"),
    ('[[account]]\nalias = "prod"\nid = "1"\nkey = "x"\n', "account 'prod': unknown key(s) key"),
    ('[[account]]\nalias = "prod"\nid = "1"\nenv = "P"\nprofile = "p"\n', "give 'env' or 'profile', not both"),
    ('[[account]]\nalias = "prod"\nid = "1"\nenv = "lower"\n', "'env' must be an environment prefix"),
    ('[[account]]\nalias = "prod"\nid = "1"\nrole_arn = "acs:ram::2:role/x"\n',
     "'role_arn' is a role of account 2, not of 1"),
    ('[[account]]\nalias = "prod"\nid = "1"\nregions = ["Hangzhou"]\n', "'regions' must list region IDs"),
    ('[[account]]\nalias = "a"\nid = "1"\n[[account]]\nalias = "a"\nid = "2"\n', "alias used by two accounts: a"),
    ('[[account]]\nalias = "a"\nid = "1"\n[[account]]\nalias = "b"\nid = "1"\n', "id used by two accounts: 1"),
    ('# nothing yet\n', "no [[account]] tables"),
    ('[account]\nalias = "a"\n', "write them as [[account]] tables"),
])
def test_a_bad_file_is_refused_naming_the_line_and_the_alias(text: str, words: str) -> None:
    with pytest.raises(AccountsError) as refused:
        parse(text)
    assert words in str(refused.value), str(refused.value)
    assert "hunter2" not in str(refused.value), "a secret written in the file is never echoed"


def test_a_broken_edit_keeps_the_last_good_accounts(tmp_path: Path) -> None:
    settings = Settings()
    store = AccountsStore(tmp_path, settings)
    assert not store.current().named and store.current().account_id(None) == "*"  # no file: RDSBOT_ACCOUNT_ID
    (tmp_path / "accounts.toml").write_text(TWO)
    assert store.reload_if_changed().ok and store.current().account_id("other") == OTHER_ID  # type: ignore[union-attr]
    (tmp_path / "accounts.toml").write_text(TWO.replace('"OTHER"', '"other"'))
    event = store.reload_if_changed()
    assert event is not None and not event.ok and "'env' must be" in (event.error or "")
    assert store.current().account_id("other") == OTHER_ID


def test_policy_lint_checks_accounts_toml(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    for name in ("model.conf", "policy.csv"):
        (tmp_path / name).write_text((REPO / "policies" / name).read_text())
    (tmp_path / "accounts.toml").write_text(TWO)
    good = CliRunner().invoke(app, ["policy", "lint", "--policy-dir", str(tmp_path)])
    assert good.exit_code == 0 and "accounts.toml: 2 account(s) (main, other)" in good.output, good.output
    (tmp_path / "accounts.toml").write_text(TWO + '[[account]]\nalias = "other"\nid = "3"\n')
    bad = CliRunner().invoke(app, ["policy", "lint", "--policy-dir", str(tmp_path)])
    assert bad.exit_code == 1 and "alias used by two accounts: other" in bad.output, bad.output


def test_regions_are_validated_and_default_to_the_region() -> None:
    assert Settings().regions == ("cn-hangzhou",)
    assert Settings(RDSBOT_REGIONS=" cn-shanghai, ap-southeast-1 ,cn-shanghai").regions == (  # type: ignore[call-arg]
        "cn-shanghai", "ap-southeast-1")
    with pytest.raises(ValueError, match="RDSBOT_REGIONS: cn hangzhou is not a region ID"):
        Settings(RDSBOT_REGIONS="cn-hangzhou,cn hangzhou")  # type: ignore[call-arg]


def test_the_session_role_is_the_accounts_own_or_the_global_one_in_its_account() -> None:
    settings = Settings(RDSBOT_RAM_ROLE_ARN=f"acs:ram::{MAIN_ID}:role/requests")  # type: ignore[call-arg]
    main, other = Account("main", MAIN_ID), Account("other", OTHER_ID, env="OTHER")
    named = Accounts((main, other), named=True)
    assert named.session_role(main, settings) == settings.ram_role_arn
    assert named.session_role(other, settings) is None, "another account's role is never assumed for it"
    own = Account("other", OTHER_ID, env="OTHER", role_arn=f"acs:ram::{OTHER_ID}:role/x")
    assert named.session_role(own, settings) == own.role_arn
    assert Accounts.single(settings).session_role(Accounts.single(settings).default, settings) == settings.ram_role_arn


# ------------------------------------------------------------- through the SDK
@pytest.fixture(scope="module")
def emulators() -> Iterator[tuple[RdsEmulator, StsEmulator]]:
    sts = StsEmulator(keys={KEY: SECRET}, roles={ROLE})
    sts.start()
    rds = RdsEmulator(access_key_id=KEY, access_key_secret=SECRET, seed=with_other_account(default_seed(), OTHER_ID),
                      extra_keys={OTHER_KEY: OTHER_SECRET}, accounts={OTHER_KEY: OTHER_ID}, sessions=sts.sessions)
    rds.start()
    yield rds, sts
    rds.stop()
    sts.stop()


def _estate(rds: RdsEmulator, sts: StsEmulator, text: str) -> Estate:
    settings = Settings(access_key_id=KEY, access_key_secret=SECRET, rds_endpoint=rds.endpoint, rds_protocol="http",
                        sts_endpoint=sts.endpoint, sts_protocol="http", rds_max_attempts=1,
                        regions_text="cn-hangzhou,cn-shanghai")
    accounts = parse(text)
    return Estate(Gateways(settings, lambda: accounts), search_ttl_s=0, ttl_s=0)


def test_each_account_signs_with_its_own_key_and_sees_only_its_instances(
        emulators: tuple[RdsEmulator, StsEmulator], monkeypatch: pytest.MonkeyPatch) -> None:
    rds, sts = emulators
    monkeypatch.setenv("OTHER_ALIBABA_CLOUD_ACCESS_KEY_ID", OTHER_KEY)
    monkeypatch.setenv("OTHER_ALIBABA_CLOUD_ACCESS_KEY_SECRET", OTHER_SECRET)
    rds.clear_calls()
    estate = _estate(rds, sts, TWO)
    # Looked up before any search: asked of both accounts at once, found in the one it lives in.
    info = estate.instance(OTHER_ACCOUNT_MYSQL)
    assert (info.account, info.region_id) == ("other", "cn-hangzhou")
    assert estate.instance(MYSQL_DEV).account == "main"
    found = estate.search("dev")
    assert {(i.id, i.account) for i in found.instances} >= {(OTHER_ACCOUNT_MYSQL, "other"), (MYSQL_DEV, "main")}
    assert not found.unreadable
    listing = {(c.params["RegionId"], c.access_key_id) for c in rds.calls_for("DescribeDBInstances")}
    assert listing == {("cn-hangzhou", KEY), ("cn-shanghai", KEY), ("cn-hangzhou", OTHER_KEY)}, \
        "the main account in both regions, the other in its own region only, each with its own key"
    reads = [c for c in rds.calls if c.params.get("DBInstanceId") == OTHER_ACCOUNT_MYSQL and c.status == 200]
    assert reads and {c.access_key_id for c in reads} == {OTHER_KEY}


def test_an_account_without_its_keys_is_reported_and_hides_no_other(
        emulators: tuple[RdsEmulator, StsEmulator], monkeypatch: pytest.MonkeyPatch) -> None:
    rds, sts = emulators
    monkeypatch.delenv("OTHER_ALIBABA_CLOUD_ACCESS_KEY_ID", raising=False)
    found = _estate(rds, sts, TWO).search("dev")
    assert MYSQL_DEV in {i.id for i in found.instances}
    [missing] = found.unreadable
    assert missing.place == Place("other", "cn-hangzhou") and missing.error is not None
    assert missing.error.code == "AccountCredentialsMissing"
    assert "OTHER_ALIBABA_CLOUD_ACCESS_KEY_ID" in str(missing.error)


def test_an_account_reached_through_a_role_reads_in_a_read_only_session(
        emulators: tuple[RdsEmulator, StsEmulator]) -> None:
    rds, sts = emulators
    rds.clear_calls()
    estate = _estate(rds, sts, f'[[account]]\nalias = "main"\nid = "{MAIN_ID}"\nrole_arn = "{ROLE}"\n')
    assert MYSQL_DEV in {i.id for i in estate.search("dev").instances}
    sessions = {c.session_name for c in rds.calls_for("DescribeDBInstances")}
    assert sessions == {"rdsbot@reads"} and all(c.access_key_id != KEY for c in rds.calls_for("DescribeDBInstances"))
    reader = estate.gateway_at(Place("main", "cn-hangzhou"))
    with pytest.raises(RdsError) as refused:
        reader.call("CreateBackup", {"DBInstanceId": MYSQL_DEV}, safety=CallSafety.UNSAFE)
    assert refused.value.code == "Forbidden.RAM", "the read session cannot change anything"
    session = estate.gateways.for_request(Place("main", "cn-hangzhou"), "backup-1", "U0ERIN", "rds:CreateBackup",
                                          [f"acs:rds:cn-hangzhou:{MAIN_ID}:dbinstance/{MYSQL_DEV}"])
    assert session.call("CreateBackup", {"DBInstanceId": MYSQL_DEV, "BackupMethod": "Snapshot"},
                        safety=CallSafety.UNSAFE)["BackupJobId"]
    assert rds.calls_for("CreateBackup")[-1].session_name == "U0ERIN@backup-1"
