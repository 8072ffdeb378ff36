"""bot.slack.forms: read view.state.values for every element shape Slack sends, never raise."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.forms import MAX_VALUE, form_values, selected


def view_of(**blocks: dict[str, Any]) -> dict[str, Any]:
    """A submitted view whose block ``name`` holds one action (the element's state)."""
    return {"type": "modal", "state": {"values": {name: {f"{name}_action": action}
                                                  for name, action in blocks.items()}}}


def option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


@pytest.mark.parametrize(("action", "expected"), [
    ({"type": "plain_text_input", "value": "rm-bp1mysqldev00002"}, "rm-bp1mysqldev00002"),
    ({"type": "plain_text_input", "value": None}, None),
    ({"type": "plain_text_input", "value": ""}, ""),
    ({"type": "plain_text_input", "value": "line 1\nline 2"}, "line 1\nline 2"),
    ({"type": "static_select", "selected_option": option("Prepaid", "Subscription (Prepaid)")}, "Prepaid"),
    ({"type": "static_select", "selected_option": None}, None),
    ({"type": "external_select", "selected_option": option("321000006", "Backup of yesterday")}, "321000006"),
    ({"type": "external_select", "selected_option": None}, None),
    ({"type": "radio_buttons", "selected_option": option("Year")}, "Year"),
    ({"type": "multi_static_select", "selected_options": [option("db1"), option("db2")]}, ["db1", "db2"]),
    ({"type": "multi_static_select", "selected_options": []}, []),
    ({"type": "multi_external_select", "selected_options": [option("payments")]}, ["payments"]),
    ({"type": "checkboxes", "selected_options": [option("confirm")]}, ["confirm"]),
    ({"type": "checkboxes", "selected_options": []}, []),
    ({"type": "number_input", "is_decimal_allowed": False, "value": "150"}, "150"),
    ({"type": "number_input", "is_decimal_allowed": False, "value": None}, None),
    ({"type": "datepicker", "selected_date": "2026-11-28"}, "2026-11-28"),
    ({"type": "datepicker", "selected_date": None}, None),
    ({"type": "timepicker", "selected_time": "16:00"}, "16:00"),
    ({"type": "datetimepicker", "selected_date_time": 1764345600}, "1764345600"),
    ({"type": "datetimepicker", "selected_date_time": None}, None),
    ({"type": "users_select", "selected_user": "U0ALICE"}, "U0ALICE"),
    ({"type": "users_select", "selected_user": None}, None),
    ({"type": "multi_users_select", "selected_users": ["U0ALICE", "U0BOB"]}, ["U0ALICE", "U0BOB"]),
    ({"type": "conversations_select", "selected_conversation": "C0OPS"}, "C0OPS"),
    ({"type": "channels_select", "selected_channel": "C0OPS"}, "C0OPS"),
    ({"type": "multi_channels_select", "selected_channels": ["C1", "C2"]}, ["C1", "C2"]),
    ({"type": "multi_conversations_select", "selected_conversations": ["C1"]}, ["C1"]),
])
def test_every_element_shape(action: dict[str, Any], expected: object) -> None:
    assert form_values(view_of(Field=action)) == {"Field": expected}


def test_many_blocks_at_once_keyed_by_block_id() -> None:
    view = view_of(
        DBInstanceId={"type": "external_select", "selected_option": option("rm-bp1mysqldev00002")},
        PayType={"type": "static_select", "selected_option": option("Postpaid")},
        DbNames={"type": "multi_external_select", "selected_options": [option("a"), option("b")]},
        UsedTime={"type": "number_input", "value": "3"},
        RestoreTime={"type": "datetimepicker", "selected_date_time": 1764345600},
        reason={"type": "plain_text_input", "value": "why"},
    )
    assert form_values(view) == {
        "DBInstanceId": "rm-bp1mysqldev00002", "PayType": "Postpaid", "DbNames": ["a", "b"],
        "UsedTime": "3", "RestoreTime": "1764345600", "reason": "why",
    }


def test_first_action_of_a_block_counts() -> None:
    view = {"state": {"values": {"b": {"first": {"value": "one"}, "second": {"value": "two"}}}}}
    assert form_values(view) == {"b": "one"}


def test_multi_select_drops_junk_options() -> None:
    action = {"selected_options": [option("a"), "junk", None, {"text": "no value"}, {"value": None}, option("b")]}
    assert form_values(view_of(b=action)) == {"b": ["a", "b"]}


def test_long_values_are_cut() -> None:
    values = form_values(view_of(big={"type": "plain_text_input", "value": "x" * 100_000},
                                 many={"selected_options": [option("y" * 50_000)]}))
    assert values["big"] == "x" * MAX_VALUE
    assert values["many"] == ["y" * MAX_VALUE]


def test_long_block_ids_are_cut() -> None:
    values = form_values({"state": {"values": {"B" * 10_000: {"a": {"value": "v"}}}}})
    assert list(values) == ["B" * 255]


@pytest.mark.parametrize("view", [
    None,
    {},
    {"state": None},
    {"state": {}},
    {"state": {"values": None}},
    {"state": {"values": []}},
    {"state": {"values": "junk"}},
    {"state": {"values": {"b": "not a dict"}}},
    {"state": {"values": {"b": {}}}},
    {"state": {"values": {"b": None}}},
])
def test_junk_views_give_no_values(view: Any) -> None:
    assert form_values(view) == {}


@pytest.mark.parametrize("action", [
    "a string",
    None,
    42,
    ["list"],
    {"type": "mystery_element"},
    {"selected_option": "not a dict"},
    {"selected_option": ["x"]},
    {"selected_option": {"text": "no value"}},
])
def test_junk_actions_give_none(action: Any) -> None:
    assert form_values({"state": {"values": {"b": {"a": action}}}}) == {"b": None}


def test_odd_scalar_types_become_text() -> None:
    values = form_values(view_of(n={"value": 5}, f={"selected_option": {"value": 1.5}}, t={"value": True}))
    assert values == {"n": "5", "f": "1.5", "t": "True"}


@pytest.mark.parametrize("view", [{"state": "junk"}, {"state": ["x"]}, ["not", "a", "view"], "junk"])
def test_non_dict_view_or_state_never_raises(view: Any) -> None:
    assert form_values(view) == {}


@pytest.mark.parametrize("action", [{"selected_options": 5}, {"selected_users": 5}, {"selected_channels": 1.5}])
def test_non_list_multi_values_never_raise(action: dict[str, Any]) -> None:
    assert form_values({"state": {"values": {"b": {"a": action}}}}) in ({"b": None}, {"b": []})


def test_selected_gives_one_value() -> None:
    view = view_of(single={"selected_option": option("x")}, multi={"selected_options": [option("p"), option("q")]},
                   empty={"selected_options": []})
    assert selected(view, "single") == "x"
    assert selected(view, "multi") == "p"
    assert selected(view, "empty") is None
    assert selected(view, "missing") is None


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
_KEYS = st.sampled_from(["value", "selected_option", "selected_options", "selected_date", "selected_date_time",
                         "selected_user", "selected_users", "type", "x"])


@settings(max_examples=200, deadline=None, database=None)
@given(values=st.dictionaries(st.text(max_size=10),
                              st.dictionaries(st.text(max_size=5),
                                              st.dictionaries(_KEYS, _JSON | st.lists(st.dictionaries(
                                                  st.sampled_from(["value", "text"]), _JSON), max_size=3),
                                                  max_size=3),
                                              max_size=2),
                              max_size=4))
def test_well_formed_views_with_any_element_content_never_raise(values: dict[str, Any]) -> None:
    """Any JSON in an element whose multi-value keys hold lists: a dict of str/list/None, no exception."""
    for actions in values.values():
        for action in actions.values():
            for key in ("selected_options", "selected_users"):
                if key in action and not isinstance(action[key], list):
                    action[key] = [action[key]]
    result = form_values({"state": {"values": values}})
    assert set(result) <= {k[:255] for k in values}
    for value in result.values():
        assert value is None or isinstance(value, str) or (isinstance(value, list)
                                                           and all(isinstance(v, str) for v in value))
