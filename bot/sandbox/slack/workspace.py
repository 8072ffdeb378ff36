"""The seeded Slack workspace: team, users, channels and user groups.

Everything is immutable so one seed can be shared by many emulators; a test that
needs a different world builds one with ``with_user`` / ``with_channel`` /
``with_usergroup`` (add or replace by id) or ``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class User:
    """A Slack user (human or bot) as ``users.info`` describes it."""

    id: str
    name: str
    real_name: str
    title: str = ""
    tz: str = "Asia/Shanghai"
    display_name: str = ""
    email: str | None = None
    is_bot: bool = False
    bot_id: str | None = None
    is_admin: bool = False
    deleted: bool = False
    locale: str = "en-US"  # what users.info says with include_locale (``ja-JP``, ``zh-CN``)

    def tz_offset(self) -> int:
        """Seconds east of UTC right now, as Slack reports it (DST included)."""
        try:
            offset = datetime.now(UTC).astimezone(ZoneInfo(self.tz)).utcoffset()
        except ZoneInfoNotFoundError:
            return 0
        return int(offset.total_seconds()) if offset is not None else 0

    def tz_label(self) -> str:
        """The zone's current abbreviation, standing in for Slack's long label."""
        try:
            return datetime.now(UTC).astimezone(ZoneInfo(self.tz)).tzname() or self.tz
        except ZoneInfoNotFoundError:
            return self.tz

    def to_slack(self, team_id: str, *, include_locale: bool = False) -> dict[str, Any]:
        """The ``user`` object of ``users.info``; ``locale`` only when asked for, as Slack does."""
        profile: dict[str, Any] = {
            "title": self.title,
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": team_id,
        }
        if self.email:
            profile["email"] = self.email
        if self.bot_id:
            profile["bot_id"] = self.bot_id
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz_label(),
            "tz_offset": self.tz_offset(),
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
        }
        if include_locale:
            user["locale"] = self.locale
        return user

    def payload_user(self, team_id: str) -> dict[str, str]:
        """The short ``user`` object inside interaction payloads."""
        return {"id": self.id, "username": self.name, "name": self.name, "team_id": team_id}


@dataclass(frozen=True)
class Channel:
    """A public or private channel. ``bot_is_member=False`` makes posts fail with ``not_in_channel``."""

    id: str
    name: str
    is_private: bool = False
    bot_is_member: bool = True
    members: tuple[str, ...] = ()
    topic: str = ""
    purpose: str = ""

    def to_slack(self, bot_user_id: str) -> dict[str, Any]:
        """The ``channel`` object of ``conversations.info``."""
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.bot_is_member,
            "created": 1700000000,
            "creator": bot_user_id,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
            "num_members": len(self.members) + (1 if self.bot_is_member else 0),
        }


@dataclass(frozen=True)
class UserGroup:
    """A user group (``@dba``) with its members."""

    id: str
    handle: str
    name: str
    users: tuple[str, ...]
    description: str = ""

    def to_slack(self, team_id: str, *, include_users: bool) -> dict[str, Any]:
        """The usergroup object of ``usergroups.list``."""
        group: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_delete": 0,
            "user_count": len(self.users),
        }
        if include_users:
            group["users"] = list(self.users)
        return group


@dataclass(frozen=True)
class Workspace:
    """One Slack team with its app installation (bot user, bot id, app id)."""

    team_id: str = "T0RDSBOT"
    team_name: str = "RDS Bot Sandbox"
    domain: str = "rdsbot-sandbox"
    app_id: str = "A0RDSBOT"
    bot_user_id: str = "U0RDSBOT"
    bot_id: str = "B0RDSBOT"
    bot_name: str = "rdsbot"
    # The legacy verification token Slack still puts in every payload's ``token``
    # field. It is not a credential of the emulator; Bolt ignores it.
    verification_token: str = "sandbox-verification-token"
    users: tuple[User, ...] = ()
    channels: tuple[Channel, ...] = ()
    usergroups: tuple[UserGroup, ...] = ()
    _user_index: dict[str, User] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen, so the index is filled through object.__setattr__ once.
        object.__setattr__(self, "_user_index", {u.id: u for u in self.users})

    # --- lookups -----------------------------------------------------------------
    def user(self, user_id: str) -> User | None:
        """The user with this id, or ``None``."""
        return self._user_index.get(user_id)

    def channel(self, channel_id: str) -> Channel | None:
        """The seeded channel with this id (DMs are not seeded), or ``None``."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def channel_by_name(self, name: str) -> Channel | None:
        """The seeded channel with this name (without ``#``), or ``None``."""
        return next((c for c in self.channels if c.name == name.lstrip("#")), None)

    def usergroup(self, group_id: str) -> UserGroup | None:
        """The user group with this id, or ``None``."""
        return next((g for g in self.usergroups if g.id == group_id), None)

    def dm_channel_id(self, user_id: str) -> str:
        """The id of the bot's DM with a user: ``U0ALICE`` -> ``D0ALICE``."""
        return "D" + user_id[1:]

    def dm_user(self, channel_id: str) -> User | None:
        """The human at the other end of a DM channel id, or ``None``."""
        if not channel_id.startswith("D"):
            return None
        user = self.user("U" + channel_id[1:]) or self.user("W" + channel_id[1:])
        return user if user is not None and not user.is_bot else None

    @property
    def bot_user(self) -> User:
        """The app's bot user."""
        user = self.user(self.bot_user_id)
        if user is None:
            return User(
                id=self.bot_user_id,
                name=self.bot_name,
                real_name=self.bot_name,
                is_bot=True,
                bot_id=self.bot_id,
            )
        return user

    # --- building variants -------------------------------------------------------
    def with_user(self, user: User) -> Workspace:
        """A copy with this user added (or replacing the one with its id)."""
        return dataclasses.replace(self, users=_upsert(self.users, user))

    def with_channel(self, channel: Channel) -> Workspace:
        """A copy with this channel added (or replacing the one with its id)."""
        return dataclasses.replace(self, channels=_upsert(self.channels, channel))

    def with_usergroup(self, group: UserGroup) -> Workspace:
        """A copy with this user group added (or replacing the one with its id)."""
        return dataclasses.replace(self, usergroups=_upsert(self.usergroups, group))


def _upsert(items: tuple[Any, ...], item: Any) -> tuple[Any, ...]:
    kept = tuple(existing for existing in items if existing.id != item.id)
    return (*kept, item)


# Seeded ids, importable so tests do not scatter string literals.
TEAM_ID = "T0RDSBOT"
BOT_USER_ID = "U0RDSBOT"
BOT_ID = "B0RDSBOT"
ALICE, BOB, CAROL, DAVE, ERIN = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"
APPROVALS_CHANNEL, OPS_CHANNEL, PRIVATE_CHANNEL = "C0APPROVALS", "C0OPS", "C0PRIVATE"
DBA_GROUP, ONCALL_GROUP = "S0DBA", "S0ONCALL"


def default_workspace() -> Workspace:
    """The seed every emulator starts with unless told otherwise.

    Alice asks, Bob and Carol (DBAs) approve, Dave (intern) may do nothing, Erin
    is on call. Time zones differ on purpose so reminder and timestamp code
    meets more than one offset.
    """
    humans = (ALICE, BOB, CAROL, DAVE, ERIN)
    return Workspace(
        users=(
            User(
                ALICE,
                "alice",
                "Alice Liu",
                "Software Engineer",
                "Asia/Shanghai",
                "alice",
                "alice@example.com",
            ),
            User(
                BOB,
                "bob",
                "Bob Schmidt",
                "Database Administrator",
                "Europe/Berlin",
                "bob.dba",
                "bob@example.com",
            ),
            User(
                CAROL,
                "carol",
                "Carol Tan",
                "Database Administrator",
                "Asia/Singapore",
                "carol",
                "carol@example.com",
            ),
            User(DAVE, "dave", "Dave Miller", "Intern", "America/Los_Angeles", "dave", "dave@example.com"),
            User(ERIN, "erin", "Erin Wang", "SRE (on call)", "Asia/Shanghai", "erin", "erin@example.com"),
            User(BOT_USER_ID, "rdsbot", "rdsbot", "", "UTC", "rdsbot", is_bot=True, bot_id=BOT_ID),
        ),
        channels=(
            Channel(APPROVALS_CHANNEL, "rds-approvals", members=humans, purpose="RDS approval requests"),
            Channel(OPS_CHANNEL, "ops", members=humans, purpose="Operations"),
            Channel(
                PRIVATE_CHANNEL, "private", is_private=True, bot_is_member=False, members=(ALICE, DAVE, ERIN)
            ),
        ),
        usergroups=(
            UserGroup(DBA_GROUP, "dba", "DBAs", (BOB, CAROL), "Database administrators"),
            UserGroup(ONCALL_GROUP, "oncall", "On call", (ERIN,), "Whoever is on call"),
        ),
    )
