"""The shape every RDS operation shares, so the workflow and Slack layers never
special-case one: form fields, validation into API parameters, the RAM action
and resource, the API call, and a progress probe.

An operation module declares *what* (fields, rules, which API, how to read
progress); the machinery here and in :mod:`bot.workflow` does the rest.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar

from bot.i18n import Translated, _, tr
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
    CHECKBOX = "checkbox"  # one box per option; ticked, its value is what the API gets; unticked, nothing is sent
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


def instance_field(label: str = _("Instance"), hint: str | None = _("Type to search."), *, name: str = "DBInstanceId",
                   engine: str | None = None) -> FieldSpec:
    """The instance picker every operation starts with."""
    return FieldSpec(name, label, FieldKind.INSTANCE, required=True, hint=hint, engine=engine)


def reason_field(*, required: bool, hint: str | None = None) -> FieldSpec:
    """The free-text justification (block_id ``reason``): required where approval may be needed."""
    return FieldSpec("reason", _("Reason"), FieldKind.LONG_TEXT, required=required, max_length=3000,
                     hint=hint or (_("Why this is needed; approvers read this.") if required else _("Optional.")))


PLAIN = "plain"  # the key of an error given only as words


@dataclass(frozen=True)
class FieldError:
    """One field's problem: a stable ``key`` saying what is wrong, its ``params``, and its ``text``.

    The key and parameters are what a translation needs; ``text`` is the
    message rendered through :func:`bot.i18n._` (English today).
    """

    key: str
    params: Mapping[str, object] = field(hash=False)
    text: str

    @classmethod
    def of(cls, key: str, template: str, /, **params: object) -> FieldError:
        """The problem ``key``, worded by ``template`` (one template per key) with ``params`` filled in."""
        return cls(key, MappingProxyType(params), _(template, **params))

    @classmethod
    def plain(cls, text: str) -> FieldError:
        """A problem given only as words (the key is ``"plain"``)."""
        return cls(PLAIN, MappingProxyType({}), text)


class FieldErrors(Exception):
    """Validation failures keyed by field name (= block_id).

    ``errors`` maps each field to its message in plain words (what the Slack
    layer shows); ``details`` to its :class:`FieldError` (key and parameters).
    Built from either: plain strings become ``FieldError.plain``.
    """

    def __init__(self, errors: Mapping[str, str | FieldError]) -> None:
        self.details: dict[str, FieldError] = {
            name: error if isinstance(error, FieldError) else FieldError.plain(error) for name, error in errors.items()
        }
        self.errors: dict[str, str] = {name: error.text for name, error in self.details.items()}
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


# A Touched role as a word, in the reader's language.
ROLE_NAMES = Translated({"source": _("source"), "target": _("target"), "instance": _("instance")})


def role_name(role: str) -> str:
    """``source``/``target``/``instance`` in the reader's language (an unknown role as it is)."""
    return ROLE_NAMES[role] if role in ROLE_NAMES else role


@dataclass(frozen=True)
class Touched:
    """One instance a request acts on, and its role in it: ``source``, ``target`` or ``instance``.

    Every instance a request touches is a policy resource of it: the requester
    needs the operation's action on each, an approver ``rdsbot:Approve`` on each.
    """

    role: str
    instance: InstanceInfo


@dataclass
class Plan:
    """A validated request: the API parameters and what it acts on."""

    instance_id: str  # the main instance: the request's card and thread are about it
    params: dict[str, Any]
    instance: InstanceInfo | None = None
    summary: list[tuple[str, str]] = field(default_factory=list)
    touches: tuple[Touched, ...] = ()  # every instance it acts on; empty: just ``instance``

    @property
    def touched(self) -> tuple[Touched, ...]:
        if self.touches:
            return self.touches
        return (Touched("instance", self.instance),) if self.instance is not None else ()


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
    region_id: str  # the default region (RDSBOT_REGION_ID); an instance's own is on its InstanceInfo
    user: str = ""
    where: str = ""  # where an instance is looked for, as a not-found error says it (default: region_id)


@dataclass(frozen=True)
class Meta:
    """What an operation is, in one statement: names, RAM action, approval, behaviour."""

    name: str
    title: str
    ram_action: str
    api_action: str = ""
    verb: str = ""
    approval: str = "never"  # "always", "default" (approval rules may waive it) or "never"
    client_token: bool = False  # the API takes a ClientToken (resending is safe)
    reads: tuple[str, ...] = ()  # RAM actions the bot's own AccessKey needs besides ram_action
    progress_in_place: bool = False  # one progress reply edited in place (percentages)
    progress_of: str = ""  # what a progress status describes, when not the instance itself ("databases")
    exclusive: bool = False  # at most one active request per instance (backups)
    optional_note: str = ""  # under the modal's "Optional." header: what leaving those fields empty means
    # The instances a request names, as (role, parameter, parameter holding its region or None):
    # each is a policy resource. Validation also returns them (Plan.touches); this is for tools
    # that only have the parameters (`rdsbot policy explain --op`).
    instances: tuple[tuple[str, str, str | None], ...] = (("instance", "DBInstanceId", None),)
    # The instance whose status the probe reads, as (where: "params" or "result", key). Polling reads
    # those statuses for every running job of a place at once (one DescribeDBInstances per 30 IDs).
    watches: tuple[str, str] | None = None

    @classmethod
    def api(cls, name: str, api_action: str, **kwargs: Any) -> Meta:
        """An operation that calls ``api_action``; its RAM action is ``rds:<api_action>``."""
        return cls(name=name, api_action=api_action, ram_action=f"rds:{api_action}", **kwargs)


class FormSpec(ABC):
    """Anything with a modal: its fields, the RAM action it needs, its validation."""

    meta: ClassVar[Meta]
    fields: ClassVar[tuple[FieldSpec, ...]]

    # Wrapped at import, so English ids: read in the reader's language (bot.i18n.tr).
    name = property(lambda self: self.meta.name)
    title = property(lambda self: tr(self.meta.title))
    ram_action = property(lambda self: self.meta.ram_action)
    approval = property(lambda self: self.meta.approval)
    verb = property(lambda self: tr(self.meta.verb or self.meta.name))
    optional_note = property(lambda self: tr(self.meta.optional_note))

    @property
    def needs_approval(self) -> bool:
        """Whether a request may wait for approval (then a reason is required)."""
        return self.meta.approval != "never"

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def has_field(self, name: str) -> bool:
        return any(spec.name == name for spec in self.fields)


class Operation(FormSpec):
    """Base class of the operations that start an RDS job; subclasses set ``meta`` and ``fields``."""

    api_action = property(lambda self: self.meta.api_action)
    takes_client_token = property(lambda self: self.meta.client_token)
    reads = property(lambda self: self.meta.reads)
    progress_in_place = property(lambda self: self.meta.progress_in_place)
    progress_of = property(lambda self: tr(self.meta.progress_of))
    exclusive = property(lambda self: self.meta.exclusive)

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

    def watched(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str | None:
        """The instance whose status :meth:`probe` reads (``meta.watches``), if any."""
        if self.meta.watches is None:
            return None
        where, key = self.meta.watches
        value = (result if where == "result" else params).get(key)
        return str(value) if value else None

    @abstractmethod
    def probe(
        self, directory: RdsDirectory, params: Mapping[str, Any], result: Mapping[str, Any], memo: Mapping[str, Any]
    ) -> Progress:
        """Look at the job once; ``memo`` is what the previous probe asked to remember.

        While polling, ``directory`` is the round's :class:`~bot.rds.snapshot.Snapshot` of the job's
        place: the status of the :meth:`watched` instance comes from one batched read for every job
        there, and any other fresh read is made once per instance in the round."""

    @abstractmethod
    def outcome(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> str:
        """The final reply's main sentence: what the job made or changed."""

    def summary(self, params: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(label, value) rows of every parameter given, in field order, in the reader's language."""
        rows = []
        for spec in self.fields:
            value = params.get(spec.name)
            if value in (None, "", []):
                continue
            labels = dict(spec.options)
            shown = tr(labels[str(value)]) if str(value) in labels else str(value)
            rows.append((tr(spec.label), shown))
        return rows


def instance_unusable(error: RdsError, instance_id: str, region_id: str) -> FieldError:
    """Why an instance could not be looked up: it does not exist, or RDS did not answer."""
    if error.code.endswith("NotFound"):
        return FieldError.of("instance_not_found", "No instance {instance} in {region}.",
                             instance=instance_id, region=region_id)
    return FieldError.of("instance_unchecked",
                         "Could not check {instance} with RDS right now: {error} Your input is kept; submit again.",
                         instance=instance_id, error=error.plain())


def lookup_instance(ctx: Context, instance_id: str, field_name: str = "DBInstanceId") -> InstanceInfo:
    """The instance, or a field error that says why it could not be used."""
    try:
        return ctx.directory.instance(instance_id)
    except RdsError as error:
        raise FieldErrors({field_name: instance_unusable(error, instance_id, ctx.where or ctx.region_id)}) from None
