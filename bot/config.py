"""The one typed settings object, read from the environment (DESIGN.md's contract).

Secrets are ``SecretStr`` so that a ``repr`` of the settings, a log line or a
traceback never shows them; code that needs the value asks for it explicitly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.i18n import SETTING_VALUES

SLACK_API_URL = "https://slack.com/api/"
#: An Alibaba Cloud region ID: cn-hangzhou, ap-southeast-1, cn-shanghai-finance-1.
REGION_ID = re.compile(r"[a-z]{2}(-[a-z0-9]+){1,4}")


class Settings(BaseSettings):
    """Everything the bot reads from the environment, with the contract's defaults."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET"
    )
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")

    host: str = Field(default="127.0.0.1", validation_alias="RDSBOT_HOST")
    port: int = Field(default=3000, ge=0, le=65535, validation_alias="RDSBOT_PORT")
    slack_api_url: str = Field(default=SLACK_API_URL, validation_alias="RDSBOT_SLACK_API_URL")
    approval_channel: str | None = Field(default=None, validation_alias="RDSBOT_APPROVAL_CHANNEL")

    access_key_id: SecretStr | None = Field(
        default=None, validation_alias="ALIBABA_CLOUD_ACCESS_KEY_ID"
    )
    access_key_secret: SecretStr | None = Field(
        default=None, validation_alias="ALIBABA_CLOUD_ACCESS_KEY_SECRET"
    )
    region_id: str = Field(default="cn-hangzhou", validation_alias="RDSBOT_REGION_ID")
    account_id: str = Field(default="*", validation_alias="RDSBOT_ACCOUNT_ID")
    # The regions the pickers search (comma list); unset: RDSBOT_REGION_ID alone. Read through ``regions``.
    regions_text: str | None = Field(default=None, validation_alias="RDSBOT_REGIONS")
    rds_endpoint: str | None = Field(default=None, validation_alias="RDSBOT_RDS_ENDPOINT")
    rds_protocol: str = Field(default="https", validation_alias="RDSBOT_RDS_PROTOCOL")
    rds_timeout_s: float = Field(default=10.0, gt=0, validation_alias="RDSBOT_RDS_TIMEOUT_S")
    rds_max_attempts: int = Field(default=4, ge=1, le=10, validation_alias="RDSBOT_RDS_MAX_ATTEMPTS")
    # When set, each request's mutating RDS call uses STS credentials for this role (AssumeRole at
    # the STS endpoint), its session named after the requester and the request, its policy the request's.
    ram_role_arn: str | None = Field(default=None, validation_alias="RDSBOT_RAM_ROLE_ARN")
    sts_endpoint: str | None = Field(default=None, validation_alias="RDSBOT_STS_ENDPOINT")
    sts_protocol: str = Field(default="https", validation_alias="RDSBOT_STS_PROTOCOL")

    database_url: str = Field(default="sqlite:///rdsbot.db", validation_alias="RDSBOT_DATABASE_URL")
    policy_dir: Path = Field(default=Path("policies"), validation_alias="RDSBOT_POLICY_DIR")
    poll_interval_s: float = Field(default=30.0, gt=0, validation_alias="RDSBOT_POLL_INTERVAL_S")
    approval_ttl_s: float = Field(default=86400.0, gt=0, validation_alias="RDSBOT_APPROVAL_TTL_S")
    breakglass_review_s: float = Field(default=86400.0, gt=0, validation_alias="RDSBOT_BREAKGLASS_REVIEW_S")
    # "dm": each person who may approve a request also gets a DM with its buttons; unset: the card only.
    notify_approvers: Literal["dm"] | None = Field(default=None, validation_alias="RDSBOT_NOTIFY_APPROVERS")
    # Where the audit trail's anchor is posted (and a broken chain announced); unset = never.
    audit_seal_channel: str | None = Field(default=None, validation_alias="RDSBOT_AUDIT_SEAL_CHANNEL")
    audit_seal_every_s: float = Field(default=86400.0, ge=1, validation_alias="RDSBOT_AUDIT_SEAL_EVERY_S")
    # A job whose status never reaches an end state is failed after this long, so
    # an unknown or stuck status can never keep a request "running" for ever.
    job_timeout_s: float = Field(default=6 * 3600.0, gt=0, validation_alias="RDSBOT_JOB_TIMEOUT_S")
    # After a crash mid-call, how long a request may sit in "submitted" before recovery
    # asks RDS again (default: long enough for every retry of the original call).
    resubmit_after_s: float | None = Field(default=None, gt=0, validation_alias="RDSBOT_RESUBMIT_AFTER_S")
    # How long a Slack message may stay claimed by a sender before another takes over.
    outbox_lease_s: float = Field(default=60.0, gt=0, validation_alias="RDSBOT_OUTBOX_LEASE_S")
    # Test hook only: the process kills itself (SIGKILL) at this named point, so crash
    # recovery can be tested deterministically. Never set it in production.
    crash_at: str | None = Field(default=None, validation_alias="RDSBOT_TEST_CRASH_AT")
    # Per-person limits, counted in the database so every replica shares them (0 = no limit).
    limit_submissions_per_hour: int = Field(default=30, ge=0, validation_alias="RDSBOT_LIMIT_SUBMISSIONS_PER_HOUR")
    limit_lookups_per_minute: int = Field(default=120, ge=0, validation_alias="RDSBOT_LIMIT_LOOKUPS_PER_MINUTE")
    limit_reminders_per_day: int = Field(default=20, ge=0, validation_alias="RDSBOT_LIMIT_REMINDERS_PER_DAY")
    # /metrics on its own address (keep it off the port Slack reaches); unset = beside /slack/events.
    metrics_host: str | None = Field(default=None, validation_alias="RDSBOT_METRICS_HOST")
    metrics_port: int | None = Field(default=None, ge=0, le=65535, validation_alias="RDSBOT_METRICS_PORT")
    # How long a Slack user group's membership may be trusted before it is read again.
    usergroup_ttl_s: float = Field(default=300.0, gt=0, validation_alias="RDSBOT_USERGROUP_TTL_S")
    # Languages (`en`, `ja`, `zh-CN`): for a person whose Slack locale is unknown or unsupported,
    # and for what everyone in a channel reads (approval cards, their threads, reminders).
    default_locale: str = Field(default="en", validation_alias="RDSBOT_DEFAULT_LOCALE")
    channel_locale: str = Field(default="en", validation_alias="RDSBOT_CHANNEL_LOCALE")
    log_level: str = Field(default="INFO", validation_alias="RDSBOT_LOG_LEVEL")
    log_format: str = Field(default="json", validation_alias="RDSBOT_LOG_FORMAT")

    @field_validator("notify_approvers", mode="before")
    @classmethod
    def _notify(cls, value: object) -> object:
        return (value.strip().lower() or None) if isinstance(value, str) else value

    @field_validator("default_locale", "channel_locale", mode="before")
    @classmethod
    def _locale(cls, value: object) -> object:
        """Kept as the catalogue's name (``zh_CN``); the variables take ``en``, ``ja`` or ``zh-CN``."""
        text = value.strip() if isinstance(value, str) else value
        if text in ("", None):
            return "en"
        if text not in SETTING_VALUES:
            raise ValueError("RDSBOT_DEFAULT_LOCALE and RDSBOT_CHANNEL_LOCALE must be en, ja or zh-CN")
        return SETTING_VALUES[str(text)]

    @field_validator("regions_text")
    @classmethod
    def _regions(cls, value: str | None) -> str | None:
        names = [part.strip() for part in (value or "").split(",") if part.strip()]
        bad = [name for name in names if not REGION_ID.fullmatch(name)]
        if bad:
            raise ValueError(f"RDSBOT_REGIONS: {', '.join(bad)} is not a region ID (like cn-hangzhou, ap-southeast-1)")
        return ",".join(dict.fromkeys(names)) or None

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions the pickers search, in the order given (default: RDSBOT_REGION_ID alone)."""
        return tuple(self.regions_text.split(",")) if self.regions_text else (self.region_id,)

    @field_validator("rds_protocol", "sts_protocol")
    @classmethod
    def _protocol(cls, value: str) -> str:
        value = value.lower()
        if value not in {"http", "https"}:
            raise ValueError("RDSBOT_RDS_PROTOCOL and RDSBOT_STS_PROTOCOL must be http or https")
        return value

    @field_validator("ram_role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        value = (value or "").strip() or None
        if value is not None and not re.fullmatch(r"acs:ram::\d+:role/[A-Za-z0-9.@_-]+", value):
            raise ValueError("RDSBOT_RAM_ROLE_ARN must look like acs:ram::<account id>:role/<role name>")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("rds_endpoint", "sts_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value and "://" in value:
            raise ValueError("RDSBOT_RDS_ENDPOINT and RDSBOT_STS_ENDPOINT are host:port without a scheme")
        return value or None

    def missing_for_serve(self) -> list[str]:
        """Names of required variables that are unset, for a clear start-up error."""
        missing = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if self.slack_signing_secret is None and not self.socket_mode:
            missing.append("SLACK_SIGNING_SECRET")
        if not self.approval_channel:
            missing.append("RDSBOT_APPROVAL_CHANNEL")
        return missing

    @property
    def socket_mode(self) -> bool:
        """Socket Mode (an app-level token): Slack never calls us, so nothing is served for it."""
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())

    def secret_values(self) -> list[str]:
        """Every configured secret, so loggers and error renderers can redact them."""
        secrets = []
        for value in (
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.access_key_id,
            self.access_key_secret,
        ):
            if value is not None and value.get_secret_value():
                secrets.append(value.get_secret_value())
        return secrets


def load_settings(**overrides: object) -> Settings:
    """Read the environment; keyword overrides win (used by the sandbox and tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]

