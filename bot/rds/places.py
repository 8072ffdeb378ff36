"""Where an instance lives (an account and a region), and how the bot reaches each account.

A deployment without ``accounts.toml`` has one account: alias ``""``, ID
``RDSBOT_ACCOUNT_ID``, the bot's own credentials. With the file, each
``[[account]]`` names an alias, the account ID its ARNs carry, and one way to
get its credentials (:class:`Account`); the parsing and reloading live in
:mod:`bot.workflow.accounts`, this module only describes what was read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.config import Settings

#: ``acs:ram::<account id>:role/<name>``; group 1 is the role's account.
ROLE_ARN = re.compile(r"acs:ram::(\d+):role/[A-Za-z0-9.@_-]+")
KEY_ID_SUFFIX = "_ALIBABA_CLOUD_ACCESS_KEY_ID"
SECRET_SUFFIX = "_ALIBABA_CLOUD_ACCESS_KEY_SECRET"


@dataclass(frozen=True)
class Account:
    """One account the bot works in, and how it gets credentials there.

    ``env``: the AccessKey pair is in ``<env>_ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``_SECRET``.
    ``profile``: a profile of the Alibaba Cloud credentials file. With either, ``role_arn``
    is only the role each request's call assumes (issue 9's per-request sessions). With
    neither, the bot's own identity assumes ``role_arn`` for everything in the account
    (a cross-account role): reads in a read-only session, each request in its own.
    No way at all: the bot's own identity. ``regions``: where its instances are
    searched (empty: RDSBOT_REGIONS).
    """

    alias: str
    account_id: str = "*"
    env: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    regions: tuple[str, ...] = ()

    @property
    def own_key(self) -> bool:
        """Whether the account has credentials of its own (not the bot's)."""
        return bool(self.env or self.profile)

    @property
    def assumes_role_for_reads(self) -> bool:
        return bool(self.role_arn) and not self.own_key

    def env_keys(self) -> tuple[str, str] | None:
        """The AccessKey pair from ``<env>_…`` variables; None when either is unset (never logged)."""
        if not self.env:
            return None
        key_id = os.environ.get(self.env + KEY_ID_SUFFIX, "")
        secret = os.environ.get(self.env + SECRET_SUFFIX, "")
        return (key_id, secret) if key_id and secret else None


@dataclass(frozen=True, order=True)
class Place:
    """An account (by alias; ``""`` when there is no accounts.toml) and a region."""

    account: str
    region: str

    def label(self) -> str:
        """How a person is shown it: ``prod · cn-shanghai``, or the region alone."""
        return f"{self.account} · {self.region}" if self.account else self.region


@dataclass(frozen=True)
class Accounts:
    """Every account the bot reaches; the first is the default (instances named without a place)."""

    entries: tuple[Account, ...]
    version: str = "none"
    named: bool = False  # read from accounts.toml (aliases are then shown to people)
    source: str = ""
    _by_alias: dict[str, Account] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.entries:
            raise ValueError("at least one account is needed")
        self._by_alias.update({a.alias: a for a in self.entries})

    @classmethod
    def single(cls, settings: Settings) -> Accounts:
        """The deployment's one account: RDSBOT_ACCOUNT_ID, the bot's own credentials."""
        return cls((Account("", settings.account_id or "*"),))

    @property
    def default(self) -> Account:
        return self.entries[0]

    def get(self, alias: str) -> Account | None:
        return self._by_alias.get(alias)

    def account_id(self, alias: str | None) -> str:
        """The ID an ARN carries for ``alias`` (the default account's for an unknown or empty one)."""
        found = self.get(alias or "") if alias is not None else None
        return (found or self.default).account_id

    def places(self, regions: Sequence[str]) -> list[Place]:
        """Every (account, region) the pickers search: each account's own regions, else ``regions``."""
        return [Place(a.alias, region) for a in self.entries for region in (a.regions or tuple(regions))]

    def session_role(self, account: Account, settings: Settings) -> str | None:
        """The role a request's call in ``account`` assumes: its own ``role_arn``; else RDSBOT_RAM_ROLE_ARN,
        for the one account of a deployment without accounts.toml or the account that role lives in."""
        if account.role_arn:
            return account.role_arn
        role = settings.ram_role_arn
        if role is None:
            return None
        match = ROLE_ARN.fullmatch(role)
        return role if not self.named or (match is not None and match.group(1) == account.account_id) else None
