"""Mutations of real Slack payloads: drop keys, wrong types, hostile strings, tampered pointers.

A mutation is plain data (so hypothesis can shrink and print it): a kind, a
selector that picks a path of the payload (modulo the number of paths), and a
junk value. ``apply`` returns a mutated deep copy. Junk strings may hold the
tokens ``@OWN_RID`` / ``@OTHER_RID`` / ``@REMINDER``, replaced when the payload
is sent by real IDs of the running stack.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

HOSTILE = [
    "", " ", "\t\n", "<!channel>", "<!here|here>", "<!everyone>", "<@U0BOB>", "<#C0APPROVALS>",
    "<http://evil.example|https://console.aliyun.com>", "<https://evil.example>", "&lt;!channel&gt;",
    "\x00", "\x07bell", "\u202eevil\u202c", "\u2066rtl\u2069", "\ufeffbom", "\ud7ff\ue000", "💥🔥", "漢字データベース",
    "' OR 1=1 --", "'; DROP TABLE request; --", "\" OR \"\"=\"", "1; SELECT * FROM audit_event", "%s%s%n%x",
    "${jndi:ldap://x/a}", "{{7*7}}", "../../../etc/passwd", "null", "None", "true", "[]", "{}", "{\"a\":", "[1,",
    "NaN", "-1", "0", "1e309", "99999999999999999999999999", "clone-20260101-deadbeef", "backup-20991231-ffffffff",
    "CLONE-20260101-DEADBEEF", "clone-20260101-deadbeef ", "rm-bp1mysqlprod0001", "rm-bp1mysqldev00002",
    "C0PRIVATE", "D0BOB", "C0APPROVALS", "G0GROUP", "rds_clone", "rds_unknown", "rds_", "rds_reject ",
    "approve ", "APPROVE", "page_next", "restore_from_backup", "backup_now", "view_submission",
    "rm-bp1mysqlprod0001|2026-01-01T00:00:00Z|2026-01-08T00:00:00Z||30|1",
    "rm-bp1mysqlprod0001|2026-01-01T00:00:00Z|2026-01-08T00:00:00Z||30|\u00b2",
    "@OWN_RID", "@OTHER_RID", "@REMINDER", "@OWN_RID\n", " @OWN_RID", "@OWN_RID@OTHER_RID",
]
# Stand-ins for Slack user IDs. Real users and policy subjects (U0BOB, role:dba, usergroup:...) are left
# out on purpose: the generic properties must hold for *any* of these; real users are fuzzed where the
# oracle knows what each of them may do (test_approval_clicks.py).
JUNK_USERS = ["", "U0MALLORY", "U0ALICE2", "W0STRANGER", "u0bob", "U0BOB\u200b", "<@U0BOB>", "B0RDSBOT",
              "U" + "9" * 40, "U0", "\x00", "U0BOB'--"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), st.sampled_from(HOSTILE),
)
huge_strings = st.tuples(st.sampled_from(["A", "<!channel>", "é", "' OR 1=1 -- ", "@OWN_RID"]),
                         st.integers(1_000, 12_000)).map(lambda t: (t[0] * (t[1] // len(t[0]) + 1))[: t[1]])
junk = st.one_of(
    scalars, scalars, huge_strings,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.sampled_from(["id", "value", "type", "text", "name", "x"]), scalars, max_size=3),
)

KINDS = ["drop", "replace", "add_key", "type", "callback_id", "action_id", "value", "private_metadata", "user",
         "channel", "state_value", "view_id", "text"]

metadata_junk = st.one_of(
    junk,
    st.sampled_from(["not json", "[1,2]", "\"str\"", "null", "{\"channel\": \"C0PRIVATE\"}",
                     "{\"request_id\": \"@OTHER_RID\"}", "{\"request_id\": \"@OWN_RID\"}",
                     "{\"request_id\": [\"@OWN_RID\"]}", "{\"request_id\": {\"$ne\": null}}",
                     "{\"channel\": \"D0BOB\", \"instance\": \"rm-bp1mysqlprod0001\"}",
                     "{\"channel\": 5, \"instance\": [\"rm-bp1mysqldev00002\"]}", "{" * 3000]),
)

mutation = st.one_of(
    st.tuples(st.sampled_from(["drop", "replace", "add_key"]), st.integers(0, 10_000), junk),
    st.tuples(st.just("type"), st.just(0), st.one_of(junk, st.sampled_from(
        ["block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut", "message_action",
         "interactive_message", "dialog_submission", "event_callback", "url_verification", "app_rate_limited"]))),
    st.tuples(st.just("callback_id"), st.just(0), st.one_of(junk, st.sampled_from(
        ["rds_", "rds_clone_", "RDS_CLONE", "rds_unknown", "rds_reject2", "rds_notice", "rds_backups\n"]))),
    st.tuples(st.just("action_id"), st.just(0), st.one_of(junk, st.sampled_from(
        ["approve2", "Approve", "", "DBInstanceId", "BackupId", "TableMeta", "unknown_action"]))),
    st.tuples(st.just("value"), st.just(0), junk),
    st.tuples(st.just("private_metadata"), st.just(0), metadata_junk),
    st.tuples(st.just("user"), st.just(0), st.one_of(st.sampled_from(JUNK_USERS), junk)),
    st.tuples(st.just("channel"), st.just(0), junk),
    st.tuples(st.just("state_value"), st.integers(0, 100), junk),
    st.tuples(st.just("view_id"), st.just(0), junk),
    st.tuples(st.just("text"), st.just(0), st.one_of(junk, st.tuples(
        st.sampled_from(["clone", "copy", "restore", "backup", "backups", "status", "remind", "help", "CLONE", ""]),
        st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20)), max_size=4),
    ).map(lambda t: " ".join([t[0], *t[1]])))),
)
mutations = st.lists(mutation, min_size=1, max_size=4)


def paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``obj`` (dict keys and list indices), depth first."""
    out: list[tuple[Any, ...]] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.append(prefix + (key,))
            out.extend(paths(value, prefix + (key,)))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            out.append(prefix + (index,))
            out.extend(paths(value, prefix + (index,)))
    return out


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        obj = obj[step]
    return obj


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    parent = _get(obj, path[:-1])
    parent[path[-1]] = value


def _drop(obj: Any, path: tuple[Any, ...]) -> None:
    parent = _get(obj, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
    elif isinstance(parent, list) and path[-1] < len(parent):
        parent.pop(path[-1])


def _set_if(obj: Any, path: tuple[Any, ...], value: Any, *, create: bool = False) -> None:
    try:
        parent = _get(obj, path[:-1])
    except (KeyError, IndexError, TypeError):
        return
    if isinstance(parent, dict) and (create or path[-1] in parent):
        parent[path[-1]] = value
    elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
        parent[path[-1]] = value


def apply(payload: Any, muts: list[tuple[str, int, Any]]) -> Any:
    """A mutated deep copy of ``payload``."""
    out = copy.deepcopy(payload)
    for kind, selector, value in muts:
        value = copy.deepcopy(value)
        if kind in {"drop", "replace", "add_key"}:
            every = paths(out)
            if kind == "add_key":
                dicts = [()] + [p for p in every if isinstance(_get(out, p), dict)]
                target = _get(out, dicts[selector % len(dicts)])
                target[f"junk_{selector % 7}"] = value
            elif every:
                path = every[selector % len(every)]
                if kind == "drop":
                    _drop(out, path)
                else:
                    _set(out, path, value)
        elif kind == "type":
            _set_if(out, ("type",), value, create=True)
        elif kind == "callback_id":
            _set_if(out, ("view", "callback_id"), value)
        elif kind == "action_id":
            _set_if(out, ("actions", 0, "action_id"), value)
            _set_if(out, ("action_id",), value)
        elif kind == "value":
            _set_if(out, ("actions", 0, "value"), value)
            _set_if(out, ("value",), value)
        elif kind == "private_metadata":
            _set_if(out, ("view", "private_metadata"), value)
        elif kind == "user":
            _set_if(out, ("user", "id"), value)
            _set_if(out, ("user_id",), value)
        elif kind == "channel":
            _set_if(out, ("channel", "id"), value)
            _set_if(out, ("channel_id",), value)
            _set_if(out, ("container", "channel_id"), value)
        elif kind == "state_value":
            try:
                blocks = out["view"]["state"]["values"]
            except (KeyError, TypeError):
                continue
            if not isinstance(blocks, dict) or not blocks:
                continue
            block_id = sorted(blocks, key=str)[selector % len(blocks)]
            actions = blocks[block_id]
            if isinstance(actions, dict) and actions:
                action = next(iter(actions.values()))
                if isinstance(action, dict):
                    for key in ("value", "selected_option", "selected_options", "selected_date_time"):
                        if key in action:
                            action[key] = value
                            break
                    else:
                        action["value"] = value
        elif kind == "view_id":
            _set_if(out, ("view", "id"), value)
        elif kind == "text":
            _set_if(out, ("text",), value)
            _set_if(out, ("event", "text"), value)
    return out


def substitute(value: Any, tokens: dict[str, str]) -> Any:
    """Replace the ``@TOKEN`` stand-ins by the stack's real IDs, everywhere in ``value``."""
    if isinstance(value, str):
        for token, real in tokens.items():
            value = value.replace(token, real)
        return value
    if isinstance(value, list):
        return [substitute(v, tokens) for v in value]
    if isinstance(value, dict):
        return {substitute(k, tokens) if isinstance(k, str) else k: substitute(v, tokens) for k, v in value.items()}
    return value


def as_form_fields(fields: dict[str, Any]) -> dict[str, str]:
    """Slash-command fields after mutation: form fields are strings (None drops the field)."""
    out = {}
    for key, value in fields.items():
        if value is None:
            continue
        out[str(key)] = value if isinstance(value, str) else json.dumps(value, allow_nan=True)
    return out
