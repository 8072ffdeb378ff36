"""``accounts.toml``: the accounts one bot works in, each by an alias, and how to reach it.

Optional, beside ``policy.csv``, and reloaded when it changes like the approval
rules (:class:`bot.workflow.reloading.FileStore`); a broken edit is refused and
the last good file stays in force. Without it the bot has one account
(``RDSBOT_ACCOUNT_ID``, its own credentials). With it, it replaces
``RDSBOT_ACCOUNT_ID``: every ARN carries the ID of the account its instance was
found in, and the pickers show the alias. The format (``policies/accounts.toml.example``)::

    [[account]]
    alias = "prod"                 # shown in the pickers; letters, digits, - and _
    id = "1234567890123456"        # the account ID its ARNs carry
    env = "PROD"                   # PROD_ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET; or
    # profile = "prod"             # a profile of the Alibaba Cloud credentials file; or neither:
    # role_arn = "acs:ram::1234567890123456:role/rdsbot"   # the role to assume (see bot.rds.places.Account)
    regions = ["cn-hangzhou"]      # optional: where its instances are searched (default RDSBOT_REGIONS)

No secret is ever written here: keys come from the environment or the credentials file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.config import REGION_ID, Settings
from bot.rds.places import ROLE_ARN, Account, Accounts
from bot.workflow.reloading import FileStore, text_version, toml_tables

FILE = "accounts.toml"
_KEYS = {"alias", "id", "env", "profile", "role_arn", "regions"}
_SECRET_KEYS = {"access_key_id", "access_key_secret", "secret", "security_token", "password"}
ALIAS = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_ENV_PREFIX = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_PROFILE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ACCOUNT_ID = re.compile(r"\d{1,32}")
_HEADER = re.compile(r"^\s*\[\[\s*account\s*\]\]")


class AccountsError(ValueError):
    """The accounts file is malformed; the message names the line and the alias."""


def parse(text: str, *, source: str = FILE) -> Accounts:
    """The accounts a file describes (raises AccountsError naming where)."""
    tables = toml_tables(text, source=source, key="account", allowed={"account"}, error=AccountsError)
    if not tables:
        raise AccountsError(f"{source}: no [[account]] tables; delete the file to use RDSBOT_ACCOUNT_ID instead")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if _HEADER.match(line)]
    entries = [_account(raw, f"{source}:{lines[i] if i < len(lines) else '?'}") for i, raw in enumerate(tables)]
    for what, key in (("alias", lambda a: a.alias), ("id", lambda a: a.account_id)):
        values = [key(a) for a in entries]
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise AccountsError(f"{source}: {what} used by two accounts: {', '.join(twice)}")
    return Accounts(tuple(entries), version=text_version(text), named=True, source=source)


def load(path: Path, settings: Settings) -> Accounts:
    """``path/accounts.toml``, or the deployment's one account when there is none."""
    file = Path(path) / FILE
    if not file.exists():
        return Accounts.single(settings)
    return parse(file.read_text(encoding="utf-8"), source=str(file))


class AccountsStore(FileStore[Accounts]):
    """Holds the current accounts and swaps in new ones when ``accounts.toml`` changes."""

    def __init__(self, path: Path, settings: Settings) -> None:
        super().__init__(path, file=FILE, load=lambda p: load(p, settings), errors=(AccountsError,))


def _account(raw: Any, where: str) -> Account:
    if not isinstance(raw, dict):
        raise AccountsError(f"{where}: an [[account]] must be a table")
    alias = raw.get("alias")
    if not isinstance(alias, str) or not ALIAS.fullmatch(alias):
        raise AccountsError(f"{where}: give the account an 'alias' of lower-case letters, digits, - and _ "
                            "(up to 32), shown in the pickers")
    where = f"{where}: account {alias!r}"
    secrets = sorted(set(raw) & _SECRET_KEYS)
    if secrets:
        raise AccountsError(f"{where}: {', '.join(secrets)} must not be written here; put the pair in "
                            "<env>_ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET and set env = \"<env>\"")
    unknown = set(raw) - _KEYS
    if unknown:
        raise AccountsError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                            f"(allowed: {', '.join(sorted(_KEYS))})")
    account_id = raw.get("id")
    account_id = str(account_id) if isinstance(account_id, int) and not isinstance(account_id, bool) else account_id
    if not isinstance(account_id, str) or not _ACCOUNT_ID.fullmatch(account_id):
        raise AccountsError(f"{where}: 'id' must be the account ID, digits only, like \"1234567890123456\"")
    env = _optional(raw, "env", _ENV_PREFIX, where, "an environment prefix like \"PROD\" (upper case)")
    profile = _optional(raw, "profile", _PROFILE, where, "a credentials-file profile name like \"prod\"")
    role_arn = _optional(raw, "role_arn", ROLE_ARN, where, "acs:ram::<account id>:role/<role name>")
    if env and profile:
        raise AccountsError(f"{where}: give 'env' or 'profile', not both")
    role = ROLE_ARN.fullmatch(role_arn) if role_arn else None
    if role is not None and role.group(1) != account_id:
        raise AccountsError(f"{where}: 'role_arn' is a role of account {role.group(1)}, not of {account_id}; "
                            "the role to act in an account lives in that account")
    regions = raw.get("regions", [])
    if not isinstance(regions, list) or not all(isinstance(r, str) and REGION_ID.fullmatch(r) for r in regions):
        raise AccountsError(f"{where}: 'regions' must list region IDs, like [\"cn-hangzhou\", \"cn-shanghai\"]")
    return Account(alias, account_id, env=env, profile=profile, role_arn=role_arn,
                   regions=tuple(dict.fromkeys(regions)))


def _optional(raw: dict[str, Any], key: str, shape: re.Pattern[str], where: str, like: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not shape.fullmatch(value):
        raise AccountsError(f"{where}: '{key}' must be {like}")
    return value
