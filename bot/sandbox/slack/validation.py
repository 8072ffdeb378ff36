"""Slack's documented Block Kit limits, checked the way the Web API checks them.

Real Slack refuses a message with ``invalid_blocks`` and a view with
``invalid_arguments`` when a limit is broken; catching that here keeps a bot
that passes its offline tests from failing on its first real workspace. Only
documented, stable limits are checked: a false refusal would be worse than a
missed one.
"""

from __future__ import annotations

from typing import Any

from . import block_kit
from .errors import SlackError

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_PRIVATE_METADATA = 3_000
MAX_ID = 255

# (json pointer suffix, limit) per text object; Slack counts characters.
_SECTION_TEXT = 3_000
_HEADER_TEXT = 150
_BUTTON_TEXT = 75
_BUTTON_VALUE = 2_000
_OPTION_TEXT = 75
_OPTION_VALUE = 150
_MAX_OPTIONS = 100
_INPUT_LABEL = 2_000
_VIEW_TITLE = 24
_ACTIONS_ELEMENTS = 25
# Where a block keeps its interactive element(s), for json pointers in messages.
_ELEMENT_FIELD = {"input": "element", "section": "accessory", "actions": "elements"}


class _Problems:
    """Collects ``[ERROR] ... [json-pointer:...]`` lines, Slack's own format."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, pointer: str, message: str) -> None:
        self.lines.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def text(
        self, pointer: str, obj: Any, limit: int, *, required: bool = True, plain_only: bool = False
    ) -> None:
        if obj is None:
            if required:
                self.add(pointer, "missing required field: text")
            return
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            self.add(pointer, "must be a text object")
            return
        if obj.get("type") not in ({"plain_text"} if plain_only else {"plain_text", "mrkdwn"}):
            self.add(
                f"{pointer}/type", "must be plain_text" if plain_only else "must be plain_text or mrkdwn"
            )
        if not obj["text"]:
            self.add(f"{pointer}/text", "must be more than 0 characters")
        elif len(obj["text"]) > limit:
            self.add(f"{pointer}/text", f"must be less than {limit + 1} characters")

    def length(self, pointer: str, value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(pointer, f"must be less than {limit + 1} characters")


def _check_element(p: _Problems, pointer: str, element: dict[str, Any]) -> None:
    p.length(f"{pointer}/action_id", element.get("action_id"), MAX_ID)
    kind = element.get("type")
    if kind == "button":
        p.text(f"{pointer}/text", element.get("text"), _BUTTON_TEXT, plain_only=True)
        p.length(f"{pointer}/value", element.get("value"), _BUTTON_VALUE)
    options = element.get("options")
    if options is not None:
        if len(options) > _MAX_OPTIONS:
            p.add(f"{pointer}/options", f"must provide no more than {_MAX_OPTIONS} items")
        for i, option in enumerate(block_kit.all_options(element)):
            p.text(f"{pointer}/options/{i}/text", option.get("text"), _OPTION_TEXT)
            p.length(f"{pointer}/options/{i}/value", option.get("value"), _OPTION_VALUE)


def _check_blocks(p: _Problems, base: str, blocks: Any, limit: int) -> None:
    if not isinstance(blocks, list):
        p.add(base, "must be an array")
        return
    if len(blocks) > limit:
        p.add(base, f"must provide no more than {limit} items")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        pointer = f"{base}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            p.add(pointer, "must be a block object with a type")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            p.length(f"{pointer}/block_id", block_id, MAX_ID)
            if block_id in seen:
                p.add(f"{pointer}/block_id", f"duplicate block_id {block_id!r}")
            seen.add(block_id)
        kind = block["type"]
        if kind == "section" and "text" in block:
            p.text(f"{pointer}/text", block.get("text"), _SECTION_TEXT)
        elif kind == "section" and not block.get("fields"):
            p.add(pointer, "a section needs text or fields")
        elif kind == "header":
            p.text(f"{pointer}/text", block.get("text"), _HEADER_TEXT, plain_only=True)
        elif kind == "input":
            p.text(f"{pointer}/label", block.get("label"), _INPUT_LABEL, plain_only=True)
            if not isinstance(block.get("element"), dict):
                p.add(f"{pointer}/element", "missing required field: element")
        elif kind == "actions" and len(block.get("elements", [])) > _ACTIONS_ELEMENTS:
            p.add(f"{pointer}/elements", f"must provide no more than {_ACTIONS_ELEMENTS} items")
        for j, element in enumerate(block_kit.elements_of(block)):
            _check_element(
                p,
                f"{pointer}/{_ELEMENT_FIELD.get(kind, 'elements')}" + (f"/{j}" if kind == "actions" else ""),
                element,
            )


def check_message(text: Any, blocks: Any, attachments: Any) -> None:
    """Raise ``SlackError`` the way ``chat.postMessage`` / ``chat.update`` refuse a message."""
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    if blocks is None:
        return
    p = _Problems()
    _check_blocks(p, "/blocks", blocks, MAX_MESSAGE_BLOCKS)
    if p.lines:
        raise SlackError("invalid_blocks", *p.lines)


def check_view(view: Any) -> None:
    """Raise ``SlackError('invalid_arguments')`` the way ``views.*`` refuse a view."""
    p = _Problems()
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", "[ERROR] missing required field: view [json-pointer:/view]")
    kind = view.get("type")
    if kind not in ("modal", "home"):
        p.add("/view/type", "must be one of modal, home")
    blocks = view.get("blocks")
    _check_blocks(p, "/view/blocks", blocks, MAX_VIEW_BLOCKS)
    if kind == "modal":
        p.text("/view/title", view.get("title"), _VIEW_TITLE, plain_only=True)
        p.text("/view/submit", view.get("submit"), _VIEW_TITLE, required=False, plain_only=True)
        p.text("/view/close", view.get("close"), _VIEW_TITLE, required=False, plain_only=True)
        if isinstance(blocks, list) and block_kit.input_blocks(blocks) and view.get("submit") is None:
            p.add("/view/submit", "must be provided when the view has input blocks")
    p.length("/view/callback_id", view.get("callback_id"), MAX_ID)
    p.length("/view/external_id", view.get("external_id"), MAX_ID)
    p.length("/view/private_metadata", view.get("private_metadata"), MAX_PRIVATE_METADATA)
    if p.lines:
        raise SlackError("invalid_arguments", *p.lines)
