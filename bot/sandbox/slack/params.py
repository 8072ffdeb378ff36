"""Reading a Web API request the way Slack does: form, JSON or query string, token anywhere.

slack_sdk's ``WebClient`` always POSTs; it sends ``chat.postMessage`` and
``views.*`` as JSON (blocks as arrays) and most other methods form-encoded
(booleans as ``"1"``/``"0"``, blocks as JSON strings), with the token in an
``Authorization: Bearer`` header. Other clients put ``token`` in the body or
the query string, so every place is accepted.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from .errors import SlackError

# Arguments that carry JSON when sent form-encoded; parsed for handlers and the journal.
JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "user_auth_blocks")

_TRUE = {"1", "true", "yes", "on"}


def read_body(environ: Mapping[str, Any]) -> bytes:
    """The raw request body (exactly Content-Length bytes)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def read_request(environ: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The request's arguments (token removed) and the token it carried, if any."""
    args: dict[str, Any] = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    body = read_body(environ)
    content_type = str(environ.get("CONTENT_TYPE", "")).lower()
    if body and content_type.startswith("application/json"):
        try:
            parsed = json.loads(body)
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(parsed, dict):
            raise SlackError("invalid_json")
        args.update(parsed)
    elif body and content_type.startswith("multipart/"):
        raise SlackError("invalid_form_data", "[ERROR] the emulator does not accept file uploads")
    elif body:
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    token = args.pop("token", None)
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return args, (str(token) if token else None)


def parsed_for_journal(args: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with the JSON-carrying arguments decoded (left as sent when not valid JSON)."""
    parsed = dict(args)
    for name in JSON_FIELDS:
        value = parsed.get(name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # journaled as sent when it is not JSON
                parsed[name] = json.loads(value)
    return parsed


class Params:
    """Typed access to one request's arguments, raising Slack's errors."""

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.args = dict(args)

    def has(self, name: str) -> bool:
        """True when the argument was sent (even empty)."""
        return name in self.args

    def string(
        self, name: str, *, required: bool = False, missing_error: str = "invalid_arguments"
    ) -> str | None:
        """A string argument; absent or empty is ``None`` unless required."""
        value = self.args.get(name)
        if value is None or value == "":
            if required:
                raise SlackError(missing_error, f"[ERROR] missing required field: {name}")
            return None
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, (dict, list))
            else str(value)
        )

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean sent as JSON ``true`` or form ``"1"``/``"true"``."""
        value = self.args.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in _TRUE

    def integer(self, name: str, default: int) -> int:
        """An integer argument, ``invalid_arguments`` when it is not one."""
        value = self.args.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments", f"[ERROR] {name} must be an integer") from None

    def decoded(self, name: str, *, error: str) -> Any:
        """A JSON argument: already decoded (JSON body) or a JSON string (form); ``error`` when malformed."""
        value = self.args.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise SlackError(error) from None
        return value
