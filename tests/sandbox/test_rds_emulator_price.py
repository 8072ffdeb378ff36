"""DescribePrice through the real SDK: the documented parameters, the answer's shape and types, the errors."""

from __future__ import annotations

from typing import Any

import pytest

BUY = {"RegionId": "cn-hangzhou", "Engine": "MySQL", "EngineVersion": "8.0", "DBInstanceClass": "mysql.n2.medium.2c",
       "DBInstanceStorage": 100, "DBInstanceStorageType": "cloud_essd", "Quantity": 1, "OrderType": "BUY",
       "InstanceUsedType": 0}


def price(rds_sdk: Any, rds: Any, **changes: Any) -> Any:
    request = rds_sdk.models.DescribePriceRequest().from_map({**BUY, **changes})
    return rds.describe_price_with_options(request, rds_sdk.RuntimeOptions()).body


def test_the_answer_has_the_sdk_models_fields_and_types(rds_sdk: Any, rds: Any) -> None:
    body = rds_sdk.raw(rds, "DescribePrice", {**BUY, "PayType": "Postpaid"})
    body.pop("RequestId")
    rds_sdk.check_types(body, rds_sdk.models.DescribePriceResponseBody)
    assert set(body["PriceInfo"]) >= {"Currency", "OriginalPrice", "DiscountPrice", "TradePrice"}


def test_pay_as_you_go_is_hourly_and_a_subscription_is_for_its_term(rds_sdk: Any, rds: Any) -> None:
    hourly = price(rds_sdk, rds, PayType="Postpaid").price_info
    # 2 vCPU x 0.10 + 4 GiB x 0.02 + 100 GB x 0.0005
    assert (hourly.currency, hourly.original_price, hourly.discount_price, hourly.trade_price) == ("CNY", 0.33, 0.0, 0.33)
    month = price(rds_sdk, rds, PayType="Prepaid", TimeType="Month", UsedTime=2).price_info
    assert month.trade_price == round(0.33 * 730 * 2, 2)
    year = price(rds_sdk, rds, PayType="Prepaid", TimeType="Year", UsedTime=1)
    assert year.price_info.discount_price > 0 and year.show_discount is True
    assert year.price_info.trade_price == round(year.price_info.original_price - year.price_info.discount_price, 2)
    assert price(rds_sdk, rds, PayType="Postpaid", Quantity=2).price_info.trade_price == 0.66


@pytest.mark.parametrize(("changes", "code"), [
    ({"Engine": None}, "MissingParameter"),
    ({"Quantity": None}, "MissingParameter"),
    ({"DBInstanceClass": "mysql.no.such.class"}, "InvalidDBInstanceClass.NotFound"),
    ({"DBInstanceStorage": 101}, "InvalidParameter"),
    ({"PayType": "Weekly"}, "InvalidParameter"),
])
def test_refusals(rds_sdk: Any, rds: Any, changes: dict[str, Any], code: str) -> None:
    query = {k: v for k, v in {**BUY, **changes}.items() if v is not None}
    assert rds_sdk.error(rds_sdk.raw, rds, "DescribePrice", query).code == code
