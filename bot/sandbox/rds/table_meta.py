"""The ``TableMeta`` parameter shared by CloneDBInstance and RestoreDdrTable.

Format (both seed pages)::

    [{"type":"db","name":"src","newname":"dst",
      "tables":[{"type":"table","name":"t1","newname":"t1_new"}]}]

A database entry without ``tables`` restores the whole database. The error codes
are RestoreDdrTable's (its page lists them; CloneDBInstance's page lists none for
TableMeta, and the service shares the parser, so the emulator does too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.sandbox.rds.errors import ApiError


@dataclass(frozen=True)
class TableEntry:
    """One table to restore and its new name."""

    name: str
    newname: str


@dataclass(frozen=True)
class DbEntry:
    """One database to restore, its new name, and (optionally) only some tables."""

    name: str
    newname: str
    tables: tuple[TableEntry, ...] = ()


def _names(item: Any) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise ApiError("InvalidParamTableMeta")
    name, newname = item.get("name"), item.get("newname")
    if not isinstance(name, str) or not isinstance(newname, str) or not name or not newname:
        raise ApiError("InvalidParamTableMeta.Content")
    return name, newname


def _unique(names: list[str]) -> None:
    if len(set(names)) != len(names):
        raise ApiError("InvalidParamTableMeta.Duplicate")


def parse_table_meta(value: str | None) -> list[DbEntry]:
    """Parse and check TableMeta; raise the InvalidParamTableMeta* code that fits."""
    if not value:
        raise ApiError("InvalidParamTableMeta")
    try:
        raw = json.loads(value)
    except ValueError:
        raise ApiError("InvalidParamTableMeta") from None
    if not isinstance(raw, list) or not raw:
        raise ApiError("InvalidParamTableMeta")
    entries = []
    for item in raw:
        name, newname = _names(item)
        tables_raw = item.get("tables") or []
        if not isinstance(tables_raw, list):
            raise ApiError("InvalidParamTableMeta")
        tables = tuple(TableEntry(*_names(table)) for table in tables_raw)
        _unique([table.newname for table in tables])
        entries.append(DbEntry(name, newname, tables))
    _unique([entry.newname for entry in entries])
    _unique([entry.name for entry in entries])
    return entries
