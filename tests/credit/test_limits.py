"""Credit limits: order values, exposure, order checks, recommended limits, what-if."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_tables

from medrisk.credit import (
    CreditPolicy,
    check_order,
    check_orders,
    exposure,
    load_policy,
    recommend_limits,
    what_if,
)
from medrisk.data import Ledger
from medrisk.data.demo import make_demo
from medrisk.exceptions import ParamsError
from medrisk.orders import order_values
from medrisk.receivables import open_items


@pytest.fixture(scope="module")
def company():
    return make_demo(5_000, seed=3)


@pytest.fixture
def tiny():
    t = tiny_tables()
    # an approved order not yet invoiced, with two lines and a discount
    t["orders"] = pd.concat(
        [
            t["orders"],
            pd.DataFrame(
                {
                    "order_id": ["O3", "O4"],
                    "customer_id": ["C2", "C2"],
                    "order_date": [pd.Timestamp("2025-03-10"), pd.Timestamp("2025-03-11")],
                    "salesperson_id": ["S2", "S2"],
                    "channel": ["direct", "direct"],
                    "status": ["approved", "cancelled"],
                }
            ),
        ],
        ignore_index=True,
    )
    t["order_lines"] = pd.concat(
        [
            t["order_lines"],
            pd.DataFrame(
                {
                    "order_id": ["O3", "O3", "O4"],
                    "line_no": [1, 2, 1],
                    "sku": ["K2", "K2", "K2"],
                    "quantity": [100, 10, 5],
                    "unit_price": [2_50, 1_000_00, 1_000_00],
                    "discount_rate": [0.1, 0.0, 0.0],
                }
            ),
        ],
        ignore_index=True,
    )
    return Ledger(t)


def test_policy_file():
    pol = load_policy()
    assert pol.block_utilisation_above == 0.8 and pol.block_over_limit
    assert pol.tier_rules["very_high"] == "prepayment_or_guarantee"
    with pytest.raises(ParamsError, match=r"tier_rules has 'very_high': 'jail'"):
        CreditPolicy(tier_rules={"very_high": "jail"}).validate()


def test_order_values(tiny):
    v = order_values(tiny)
    assert v["O3"] == round(100 * 2_50 * 0.9 + 10 * 1_000_00)
    assert v["O1"] == 120_000_00


def test_exposure_adds_unbilled_approved_orders(tiny):
    ex = exposure(tiny, "2025-03-15").set_index("customer_id")
    oi = open_items(tiny, "2025-03-15").groupby("customer_id")["open_amount"].sum()
    assert ex.loc["C2", "open_amount"] == oi["C2"]
    assert ex.loc["C2", "unbilled_orders"] == order_values(tiny)["O3"]  # cancelled O4 left out
    assert ex.loc["C2", "exposure"] == oi["C2"] + order_values(tiny)["O3"]
    assert ex.loc["C2", "utilisation"] == pytest.approx(ex.loc["C2", "exposure"] / 50_000_00)
    # before the order date it is not exposure yet
    assert exposure(tiny, "2025-03-09").set_index("customer_id").loc["C2", "unbilled_orders"] == 0


def test_check_order_rules(tiny):
    # C2: limit 50,000 元; open 1,000 元 + unbilled 10,225 元 on 2025-03-15
    ok = check_order(tiny, "C2", 20_000_00, "2025-03-15")
    assert ok["decision"] == "approve" and ok["reason_zh"] == "额度内"
    hot = check_order(tiny, "C2", 30_000_00, "2025-03-15")  # 41,225 / 50,000 = 82%
    assert hot["decision"] == "block" and hot["rule"] == "utilisation"
    assert "82%" in hot["reason_en"] and "80%" in hot["reason_zh"]
    over = check_order(tiny, "C2", 45_000_00, "2025-03-15")
    assert over["rule"] == "over_limit" and over["decision_zh"] == "拦截"
    risky = check_order(tiny, "C2", 1_000_00, "2025-03-15", tier="very_high")
    assert risky["decision"] == "prepayment_or_guarantee"
    assert check_order(tiny, "C2", 1_000_00, "2025-03-15", tier="high")["decision"] == "review"
    loose = CreditPolicy(block_utilisation_above=None)
    assert check_order(tiny, "C2", 30_000_00, "2025-03-15", policy=loose)["decision"] == "approve"
    with pytest.raises(ParamsError, match=r"Unknown customer_id\(s\) \['NOPE'\]"):
        check_order(tiny, "NOPE", 1, "2025-03-15")


def test_check_orders_vectorised(company):
    ledger = company.ledger
    cust = ledger.customers["customer_id"].to_numpy()[:20]
    orders = pd.DataFrame({"customer_id": cust, "amount": np.full(20, 1_000_00)})
    tiers = pd.Series(["very_high"] * 20, index=cust)
    out = check_orders(ledger, orders, "2026-06-30", tiers=tiers)
    assert len(out) == 20
    assert set(out["decision"]) <= {"block", "prepayment_or_guarantee"}


def test_recommended_limits(company):
    ledger = company.ledger
    scores = pd.DataFrame({"customer_id": ledger.customers["customer_id"], "tier": "low"})
    low = recommend_limits(ledger, "2026-06-30", scores)
    mid = recommend_limits(ledger, "2026-06-30")
    assert (low["recommended_limit"] >= mid["recommended_limit"]).all()
    assert (low["recommended_limit"] % 1_000_000 == 0).all()
    scores["tier"] = "very_high"
    assert (recommend_limits(ledger, "2026-06-30", scores)["recommended_limit"] == 0).all()


def test_what_if_is_point_in_time(company):
    ledger = company.ledger
    summary, detail = what_if(ledger, "2025-07-01", "2025-12-31")
    assert summary["orders"] == len(detail) > 100
    assert 0 < summary["revenue_blocked"] <= summary["revenue_total"]
    assert 0 <= summary["losses_avoided"] <= summary["losses_total"]
    assert summary["net"] == summary["losses_avoided"] - summary["revenue_blocked"]
    # the decision on each order depends only on what was known on its date:
    # removing everything after 2025-12-31 does not change any decision
    cut = pd.Timestamp("2025-12-31")
    t = {k: v.copy() for k, v in ledger.tables.items()}
    t["invoices"] = t["invoices"][t["invoices"]["invoice_date"] <= cut]
    t["payments"] = t["payments"][t["payments"]["payment_date"] <= cut]
    t["allocations"] = t["allocations"][
        t["allocations"]["payment_id"].isin(t["payments"]["payment_id"])
        & t["allocations"]["invoice_id"].isin(t["invoices"]["invoice_id"])
    ]
    t["adjustments"] = t["adjustments"][t["adjustments"]["adjustment_date"] <= cut]
    _, early = what_if(Ledger(t), "2025-07-01", "2025-12-31")
    pd.testing.assert_series_equal(early["exposure_after"], detail["exposure_after"])
    assert (early["decision"] == detail["decision"]).all()
    stricter = CreditPolicy(block_utilisation_above=0.5)
    s2, _ = what_if(ledger, "2025-07-01", "2025-12-31", policy=stricter)
    assert s2["orders_blocked"] >= summary["orders_blocked"]
