"""The shape every RDS operation shares, so the workflow and Slack layers never
special-case one: form fields, validation into API parameters, the RAM action
and resource, the API call, and a progress probe.

An operation module declares *what* (fields, rules, which API, how to read
progress); the machinery here and in :mod:`bot.workflow` does the rest.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from bot.rds.directory import InstanceInfo, RdsDirectory
from bot.rds.errors import RdsError
from bot.rds.gateway import RdsGateway

FormValue = str | list[str] | None
Form = Mapping[str, FormValue]


class FieldKind(StrEnum):
    """How a field is entered; the Slack layer picks the element for each kind."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    SELECT = "select"
    INSTANCE = "instance"  # external select fed by DescribeDBInstances
    BACKUP = "backup"  # external select fed by DescribeBackups of the chosen instance
    CROSS_BACKUP = "cross_backup"  # external select fed by DescribeCrossRegionBackups
    DATABASES = "databases"  # external multi-select fed by DescribeDatabases
    TIME = "time"  # a UTC time in the API's format


@dataclass(frozen=True)
class FieldSpec:
    """One input: ``name`` is the API parameter and the modal block_id."""

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (value sent to the API, label)
    hint: str | None = None
    placeholder: str | None = None
    max_length: int | None = None
    section: str = "main"  # "main" or "optional": optional fields follow a divider
    engine: str | None = None  # for INSTANCE pickers: only this engine is offered


class FieldErrors(Exception):
    """Validation failures keyed by field name (= block_id), in plain words."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass
class Plan:
    """A validated request: the API parameters and what it acts on."""

    instance_id: str  # the instance whose ARN is the policy resource
    params: dict[str, Any]
    instance: InstanceInfo | None = None
    summary: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    """One observation of a running job."""

    status: str  # what changed, in the API's words ("Creating", "Uploading 40%")
    done: bool = False
    failed: bool = False
    percent: int | None = None
    result: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    memo: dict[str, Any] = field(default_factory=dict)  # what the next probe needs to remember

    @property
    def key(self) -> str:
        """What counts as a change worth a threaded reply (percent changes do not)."""
        return self.status


@dataclass
class Context:
    """What validation may consult besides the form: the live estate and the clock."""

    directory: RdsDirectory
    now: datetime
    region_id: str
    user: str = ""


class FormSpec(ABC):
    """Anything with a modal: its fields, the RAM action it needs, its validation."""

    name: ClassVar[str]
    title: ClassVar[str]
    ram_action: ClassVar[str]
    fields: ClassVar[tuple[FieldSpec, ...]]
    verb: ClassVar[str] = "run"
    # "always", "default" (approval rules may waive it) or "never" (DESIGN.md's table).
    approval: ClassVar[str] = "never"

    @property
    def needs_approval(self) -> bool:
        """Whether a request may wait for approval (then a reason is required)."""
        return self.approval != "never"

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def has_field(self, name: str) -> bool:
        return any(spec.name == name for spec in self.fields)


class Operation(FormSpec):
    """Base class of the operations that start an RDS job; subclasses fill the class attributes."""

    api_action: ClassVar[str]
    takes_client_token: ClassVar[bool] = False
    # RAM actions the bot's own AccessKey needs besides ram_action (pickers, checks, polling).
    reads: ClassVar[tuple[str, ...]] = ()
    # Progress is one reply edited in place (percentages) instead of a reply per change.
    progress_in_place: ClassVar[bool] = False
    # At most one active request of this operation per instance (e.g. backups).
    exclusive: ClassVar[bool] = False

    @abstractmethod
    def validate(self, form: Form, ctx: Context) -> Plan:
        """Check every rule of the seed page; raise FieldErrors naming each bad field."""

    def api_params(self, request_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The exact parameters sent to the API (ClientToken = request id where taken)."""
        out = {k: v for k, v in params.items() if v not in (None, "")}
        if self.takes_client_token:
            out["ClientToken"] = request_id
        return out

    def start(self, gateway: RdsGateway, request_id: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Call the API; return what to remember about the started job."""
        from bot.rds.retry import CallSafety

        safety = CallSafety.IDEMPOTENT if self.takes_client_token else CallSafety.UNSAFE
        return gateway.call(self.api_action, self.api_params(request_id, params), safety=safety)

    def find_started(
        self, directory: RdsDirectory, request_id: str, params: Mapping[str, Any], since: datetime
    ) -> dict[str, Any] | None:
        """After a crash mid-call, find the job the call may have started.

        Operations with a ClientToken never need this (resending is safe);
        those without one must look, or they could run twice.
        """
        return None

    @abstractmethod
    def probe(
        self, directory: RdsDirectory, params: Mapping[str, Any], result: Mapping[str, Any], memo: Mapping[str, Any]
    ) -> Progress:
        """Look at the job once; ``memo`` is what the previous probe asked to remember."""

    @abstractmethod
    def outcome(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        """The final reply's main sentence: what the job made or changed."""

    def summary(self, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(label, value) rows of every parameter given, in field order."""
        rows = []
        for spec in self.fields:
            value = params.get(spec.name)
            if value in (None, "", []):
                continue
            labels = dict(spec.options)
            shown = labels.get(str(value), str(value)) if spec.options else str(value)
            rows.append((spec.label, shown))
        return rows


def first_error_field(errors: Mapping[str, str], order: Sequence[FieldSpec]) -> str | None:
    names = [s.name for s in order]
    for name in names:
        if name in errors:
            return name
    return next(iter(errors), None)


def lookup_instance(ctx: Context, instance_id: str, field_name: str = "DBInstanceId") -> InstanceInfo:
    """The instance, or a field error that says why it could not be used."""
    try:
        return ctx.directory.instance(instance_id)
    except RdsError as error:
        if error.code.endswith("NotFound"):
            raise FieldErrors({field_name: f"No instance {instance_id} in {ctx.region_id}."}) from None
        raise FieldErrors(
            {field_name: f"Could not check {instance_id} with RDS right now: {error.plain()} Your input is kept; submit again."}
        ) from None
