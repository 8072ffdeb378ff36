"""DescribePrice: what a new instance would cost, in the API's documented shape.

Parameters (RDS API reference, DescribePrice): ``Engine``, ``EngineVersion``,
``DBInstanceClass``, ``DBInstanceStorage`` and ``Quantity`` are required
(``MissingParameter``); ``PayType`` is Prepaid or Postpaid (default Postpaid),
``TimeType`` Year or Month and ``UsedTime`` 1..100 for a subscription;
``DBInstanceStorageType``, ``ZoneId``, ``CommodityCode``, ``OrderType``,
``InstanceUsedType`` are accepted. An unknown class is
``InvalidDBInstanceClass.NotFound``. The answer is ``PriceInfo`` (``Currency``,
``OriginalPrice``, ``DiscountPrice``, ``TradePrice``, ``Coupons``, ``RuleIds``,
``ActivityInfo``), ``Rules`` and ``ShowDiscount``.

The price is small and deterministic: per hour, 0.10 a vCPU, 0.02 a GiB of
memory and 0.0005 a GB of storage (0.0008 on local SSD), times ``Quantity``;
a subscription costs 730 hours a month, with 15 % off for whole years.
"""

from __future__ import annotations

from typing import Any

from bot.sandbox.rds.errors import ApiError, invalid
from bot.sandbox.rds.params import Params
from bot.sandbox.rds.state import State

ACTION = "DescribePrice"
CURRENCY = "CNY"
HOURS_A_MONTH = 730
YEARLY_DISCOUNT = 0.15


def describe_price(state: State, params: Params) -> dict[str, Any]:
    for name in ("Engine", "EngineVersion", "DBInstanceClass", "DBInstanceStorage", "Quantity"):
        params.require(name)
    storage = params.integer("DBInstanceStorage", 0)
    quantity = params.integer("Quantity", 0)
    if storage <= 0 or storage % 5:
        raise invalid("DBInstanceStorage")
    if not 0 <= quantity <= 30:
        raise invalid("Quantity")
    cls = state.classes.get(str(params.get("DBInstanceClass")))
    if cls is None:
        raise ApiError("InvalidDBInstanceClass.NotFound")
    pay_type = params.choice("PayType", ("Prepaid", "Postpaid"), "Postpaid")
    disk_rate = 0.0008 if params.get("DBInstanceStorageType") == "local_ssd" else 0.0005
    hourly = (cls.cpu * 0.10 + cls.memory_mb / 1024 * 0.02 + storage * disk_rate) * quantity
    discount = 0.0
    if pay_type == "Prepaid":
        unit = params.choice("TimeType", ("Year", "Month"), "Month")
        used = params.integer("UsedTime", 1)
        if not 1 <= used <= 100:
            raise invalid("UsedTime")
        months = used * 12 if unit == "Year" else used
        original = hourly * HOURS_A_MONTH * months
        discount = original * YEARLY_DISCOUNT if unit == "Year" else 0.0
    else:
        original = hourly
    original, discount = round(original, 2), round(discount, 2)
    return {
        "PriceInfo": {
            "Currency": CURRENCY,
            "OriginalPrice": original,
            "DiscountPrice": discount,
            "TradePrice": round(original - discount, 2),
            "Coupons": {"Coupon": []},
            "RuleIds": {"RuleId": []},
            "ActivityInfo": {"CheckErrMsg": "", "ErrorCode": "", "Success": "true"},
        },
        "Rules": {"Rule": []},
        "ShowDiscount": discount > 0,
    }


OPERATIONS = {ACTION: describe_price}
