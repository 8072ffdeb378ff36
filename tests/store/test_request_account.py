"""Revision 0009: ``requests.account``, the account a request's instance lives in, on both databases.

A row an older release wrote (no account) comes out of the upgrade in the deployment's one
account (``""``); a row naming an account keeps it; a downgrade gives an older release its
table back without the column.
"""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.store import migrate
from bot.store.db import Database
from bot.store.models import Request
from bot.timeutil import utcnow
from tests.store.test_migrations import _downgrade

_COLUMNS = ("id, operation, state, requester, resource, params, tags, reason, approvals_needed, approver_pool, "
            "policy_version, decision, resources, form, checked, result, progress, attempts, created_at, updated_at, "
            "version, own_thread, break_glass, channel_id, region_id, instance_id")


def _columns(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in inspect(conn).get_columns("requests")}


def test_an_older_row_gets_the_one_account_and_a_new_row_keeps_its_own(database_url: str) -> None:
    db = Database(database_url)
    try:
        migrate.upgrade(db, "0008")
        assert "account" not in _columns(db)
        empty = "'{}'" if db.is_sqlite else "CAST('{}' AS json)"
        empty_list = "'[]'" if db.is_sqlite else "CAST('[]' AS json)"
        with db.engine.begin() as conn:
            conn.execute(text(
                f"INSERT INTO requests ({_COLUMNS}) VALUES ('backup-old', 'backup', 'succeeded', 'U0ERIN', 'arn', "
                f"{empty}, {empty}, '', 0, '', '', {empty}, {empty_list}, {empty}, {empty}, {empty}, {empty}, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, true, false, 'C1', 'cn-hangzhou', 'rm-1')"))
        migrate.upgrade(db)
        now = utcnow()
        with db.session() as session:
            session.add(Request(id="backup-new", operation="backup", state="approved", requester="U0ERIN",
                                resource="arn", channel_id="C1", region_id="cn-shanghai", instance_id="rm-2",
                                account="other", created_at=now, updated_at=now))
        with db.reader() as session:
            old, new = session.get(Request, "backup-old"), session.get(Request, "backup-new")
        assert old is not None and old.account == "" and old.region_id == "cn-hangzhou"
        assert new is not None and (new.account, new.region_id) == ("other", "cn-shanghai")
        _downgrade(db, "0008")
        assert "account" not in _columns(db)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM requests")).scalar() == 2
    finally:
        db.dispose()
