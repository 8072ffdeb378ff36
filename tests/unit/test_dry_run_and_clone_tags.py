"""Issue 13: the dry-run checkbox on every operation modal, parameters as sent, and a clone's tags."""

from __future__ import annotations

import pytest

from bot import operations
from bot.operations.base import FieldErrors
from bot.operations.clone import MAX_TAGS, REQUEST_TAG, Clone, _source_tags
from bot.operations.rules import Checker
from bot.rds.directory import InstanceInfo
from bot.slack import modals
from bot.workflow import dry_run


def _source(tags: dict[str, str] | None) -> InstanceInfo:
    return InstanceInfo.model_construct(id="rm-bp1source0000001", tags=tags)


def test_every_operation_modal_has_the_dry_run_checkbox_and_the_listing_has_none() -> None:
    for op in operations.REGISTRY.values():
        [block] = [b for b in modals.operation_modal(op)["blocks"] if b.get("block_id") == "dry_run"]
        assert block["optional"] is True and block["element"]["type"] == "checkboxes"
        assert [o["value"] for o in block["element"]["options"]] == ["yes"]
    listing = modals.operation_modal(operations.LISTING)
    assert not [b for b in listing["blocks"] if b.get("block_id") == "dry_run"]


@pytest.mark.parametrize(("value", "wanted"), [(["yes"], True), ("yes", True), ([], False), (None, False),
                                               (["no"], False), ("", False)])
def test_a_dry_run_is_asked_for_by_the_checked_box_only(value: object, wanted: bool) -> None:
    assert dry_run.wanted({"dry_run": value}) is wanted  # type: ignore[dict-item]
    assert dry_run.wanted({}) is False


def test_parameters_are_shown_as_rds_receives_them() -> None:
    assert dry_run.wire({"A": "x", "UsedTime": 6, "Tag": [{"Key": "env", "Value": "prod"}, {"Key": "k", "Value": ""}],
                         "ResourceId": ["i1", "i2"]}) == {
        "A": "x", "UsedTime": "6", "Tag.1.Key": "env", "Tag.1.Value": "prod", "Tag.2.Key": "k", "Tag.2.Value": "",
        "ResourceId.1": "i1", "ResourceId.2": "i2"}


def test_a_clone_is_sent_with_its_sources_tags_and_the_request_that_made_it() -> None:
    params = {"DBInstanceId": "rm-a", "PayType": "Postpaid", "Tag": [{"Key": "env", "Value": "prod"},
                                                                   {"Key": REQUEST_TAG, "Value": "clone-old"}]}
    sent = Clone().api_params("clone-20261207-0000abcd", params)
    assert sent["ClientToken"] == "clone-20261207-0000abcd"
    assert sent["Tag"] == [{"Key": "env", "Value": "prod"}, {"Key": REQUEST_TAG, "Value": "clone-20261207-0000abcd"}]
    assert params["Tag"][1]["Value"] == "clone-old", "the stored parameters are not changed"
    untagged = Clone().api_params("clone-x", {"DBInstanceId": "rm-a"})
    assert untagged["Tag"] == [{"Key": REQUEST_TAG, "Value": "clone-x"}]


def test_operations_without_tags_or_client_token_send_neither() -> None:
    backup = operations.require("backup")
    sent = backup.api_params("backup-x", {"DBInstanceId": "rm-a"})
    assert "Tag" not in sent and "ClientToken" not in sent and not backup.takes_client_token


def test_the_sources_tags_are_kept_but_system_tags_and_an_inherited_request_tag_are_not() -> None:
    c = Checker({})
    tags = _source_tags(c, _source({"team": "pay", "env": "prod", "acs:rm:rgId": "rg-1", "aliyun-x": "1",
                                    REQUEST_TAG: "clone-older"}))
    c.done()
    assert tags == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "pay"}]


def test_a_source_whose_tags_are_unknown_or_too_many_cannot_be_cloned() -> None:
    c = Checker({})
    _source_tags(c, _source(None))
    with pytest.raises(FieldErrors) as unknown:
        c.done()
    assert "Could not read the tags" in unknown.value.errors["DBInstanceId"]
    c = Checker({})
    _source_tags(c, _source({f"k{i}": "v" for i in range(MAX_TAGS)}))
    with pytest.raises(FieldErrors) as many:
        c.done()
    assert REQUEST_TAG in many.value.errors["DBInstanceId"]


def test_a_form_shown_again_after_errors_keeps_the_dry_run_ticked() -> None:
    clone = operations.require("clone")
    [ticked] = [b for b in modals.operation_modal(clone, initial={"dry_run": "yes"})["blocks"]
                if b.get("block_id") == "dry_run"]
    assert [o["value"] for o in ticked["element"]["initial_options"]] == ["yes"]
    [plain] = [b for b in modals.operation_modal(clone)["blocks"] if b.get("block_id") == "dry_run"]
    assert "initial_options" not in plain["element"]
