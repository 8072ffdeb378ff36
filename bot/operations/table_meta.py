"""TableMeta: which databases and tables to restore, and under which new names.

Two ways in: a line per item in the modal's simple field (``db``, ``db -> new``,
``db.table -> new_table``), or the raw JSON the API takes, checked with errors
that say which entry and which key is wrong. Both come out as the API's list
``[{"type": "db", "name", "newname", "tables": [{"type": "table", "name", "newname"}]}]``.
RestoreDdrTable and a partial CloneDBInstance (``RestoreTable=1``) share the two
fields (:func:`fields`) and their reading (:func:`read`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.i18n import _
from bot.operations.base import FieldError, FieldKind, FieldSpec, Form
from bot.operations.rules import Checker, load_json

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_$.-]{0,63}$")
MAX_ITEMS = 500
LINES = "TableMetaLines"  # the simple one-item-a-line field; the raw JSON field is the API's own TableMeta
RAW = "TableMeta"


def fields(*, section: str = "main", hint: str | None = None) -> tuple[FieldSpec, FieldSpec]:
    """The two ways to give TableMeta on a modal: simple lines, or the API's raw JSON."""
    return (
        FieldSpec(LINES, _("Databases and tables"), FieldKind.LONG_TEXT, section=section,
                  placeholder="orders -> orders_restored\nerp.invoices -> invoices_old",
                  hint=hint or _("One per line: db, db -> new_db, or db.table -> new_table.")),
        FieldSpec(RAW, _("Advanced: TableMeta JSON"), FieldKind.LONG_TEXT, max_length=3000, section=section,
                  placeholder='[{"type":"db","name":"orders","newname":"orders_r","tables":[]}]',
                  hint=_("Instead of the lines above: the API's raw TableMeta.")),
    )


def given(c: Checker) -> bool:
    """Whether either TableMeta field holds anything."""
    return c.raw(LINES) is not None or c.raw(RAW) is not None


def field_of(form: Form) -> str:
    """The field the user gave TableMeta in, where errors about its content belong."""
    return RAW if form.get(RAW) else LINES


def read(c: Checker, *, missing: FieldError | None) -> list[dict[str, Any]] | None:
    """TableMeta from whichever field was given, checked; ``missing`` is the error when neither was
    (None: giving nothing is fine)."""
    lines = c.text(LINES, max_len=10_000, what=_("The list"))
    raw = c.text(RAW, max_len=10_000, what=_("TableMeta"))
    if lines and raw:
        c.fail(RAW, "lines_and_json", "Give the list of databases or the raw TableMeta, not both.")
        return None
    if not lines and not raw:
        if missing is not None and c.ok(LINES) and c.ok(RAW):
            c.add(LINES, missing)
        return None
    try:
        return from_json(raw) if raw else from_lines(lines or "")
    except TableMetaError as error:
        c.add(RAW if raw else LINES, error.error)
        return None


class TableMetaError(ValueError):
    """A TableMeta problem, worded for the user (which line or entry, which key); ``error`` has its message key."""

    def __init__(self, key: str, template: str, /, **params: object) -> None:
        self.error = FieldError.of(key, template, **params)
        super().__init__(self.error.text)


def _check_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TableMetaError("empty_name", "{where} must be a non-empty string.", where=where)
    if not NAME.match(value.strip()):
        raise TableMetaError("bad_name", "{where} {value!r} is not a valid name (letters, digits, _ $ . -).",
                             where=where, value=value[:40])
    return value.strip()


def from_lines(text: str) -> list[dict[str, Any]]:
    """``db``, ``db -> new_db``, ``db.table``, ``db.table -> new_table``, one per line (or ';')."""
    dbs: dict[str, dict[str, Any]] = {}
    lines = [line.strip() for line in re.split(r"[\n;]", text) if line.strip()]
    if len(lines) > MAX_ITEMS:
        raise TableMetaError("too_many_lines", "At most {most} lines.", most=MAX_ITEMS)
    for number, line in enumerate(lines, 1):
        source, _arrow, target = (part.strip() for part in line.partition("->"))
        if "->" in line and not target:
            raise TableMetaError("no_new_name", "Line {number}: give the new name after '->'.", number=number)
        db_name, dot, table = source.partition(".")
        db_name = _check_name(db_name, _("Line {number}: the database", number=number))
        entry = dbs.setdefault(db_name, {"type": "db", "name": db_name, "newname": db_name, "tables": []})
        if dot:
            table = _check_name(table, _("Line {number}: the table", number=number))
            newname = _check_name(target, _("Line {number}: the new table name", number=number)) if target else table
            entry["tables"].append({"type": "table", "name": table, "newname": newname})
        elif target:
            entry["newname"] = _check_name(target, _("Line {number}: the new database name", number=number))
    return validate(list(dbs.values()))


def from_json(text: str) -> list[dict[str, Any]]:
    """The API's raw TableMeta JSON, checked entry by entry."""
    try:
        data = load_json(text)
    except ValueError as error:
        raise TableMetaError("bad_json", "Not valid JSON: {error}.", error=error) from None
    return validate(data)


def _item(entry: Any, kind: str, where: str, taken: set[str]) -> tuple[str, str]:
    """(name, newname) of one db or table entry; ``taken`` collects new names to catch duplicates."""
    if not isinstance(entry, dict):
        raise TableMetaError("not_an_object",
                             '{where} must be an object like {{"type": "{kind}", "name": ..., "newname": ...}}.',
                             where=where, kind=kind)
    if entry.get("type", kind) != kind:
        raise TableMetaError("wrong_type", "{where}: 'type' must be \"{kind}\".", where=where, kind=kind)
    name = _check_name(entry.get("name"), _("{where}: 'name'", where=where))
    newname = _check_name(entry.get("newname"), _("{where} ({name}): 'newname'", where=where, name=name))
    if newname.lower() in taken:
        what = _("database") if kind == "db" else _("table")
        raise TableMetaError("new_name_twice", "{where} ({name}): the new {what} name {newname!r} is used twice.",
                             where=where, name=name, what=what, newname=newname)
    taken.add(newname.lower())
    return name, newname


def validate(data: Any) -> list[dict[str, Any]]:
    """Shape, names and duplicate new names; returns a clean copy."""
    if not isinstance(data, list) or not data:
        raise TableMetaError("not_a_list", "TableMeta must be a non-empty JSON list of databases.")
    if len(data) > MAX_ITEMS:
        raise TableMetaError("too_many_databases", "At most {most} databases.", most=MAX_ITEMS)
    clean: list[dict[str, Any]] = []
    new_dbs: set[str] = set()
    for i, entry in enumerate(data, 1):
        name, newname = _item(entry, "db", _("Entry {number}", number=i), new_dbs)
        tables = entry.get("tables", [])
        if not isinstance(tables, list):
            raise TableMetaError("tables_not_a_list", "Entry {number} ({name}): 'tables' must be a list.", number=i,
                                 name=name)
        new_tables: set[str] = set()
        clean_tables = []
        for j, table in enumerate(tables, 1):
            tname, tnew = _item(table, "table", _("Entry {number} ({name}), table {table}", number=i, name=name, table=j),
                                new_tables)
            clean_tables.append({"type": "table", "name": tname, "newname": tnew})
        clean.append({"type": "db", "name": name, "newname": newname, "tables": clean_tables})
    return clean


def dumps(meta: list[dict[str, Any]]) -> str:
    return json.dumps(meta, separators=(",", ":"), ensure_ascii=False)


def renamed_in_place(meta: list[dict[str, Any]]) -> list[str]:
    """Items whose new name equals the old one (not allowed when restoring into the source)."""
    same = []
    for db in meta:
        if not db["tables"] and db["newname"] == db["name"]:
            same.append(db["name"])
        for table in db["tables"]:
            if table["newname"] == table["name"] and db["newname"] == db["name"]:
                same.append(f"{db['name']}.{table['name']}")
    return same


def summary(meta: list[dict[str, Any]]) -> str:
    parts = []
    for db in meta:
        head = db["name"] if db["newname"] == db["name"] else f"{db['name']} → {db['newname']}"
        if db["tables"]:
            tables = ", ".join(t["name"] if t["name"] == t["newname"] else f"{t['name']} → {t['newname']}"
                               for t in db["tables"])
            head += f" ({tables})"
        parts.append(head)
    return "; ".join(parts)
