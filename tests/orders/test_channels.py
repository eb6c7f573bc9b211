"""Price and discount compliance (band edges), channel and partner performance, drop alerts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import D
from order_fixtures import order_tables

from medrisk import orders as C
from medrisk.data import Ledger
from medrisk.data.demo import make_ledger
from medrisk.exceptions import ParamsError
from medrisk.receivables import kpis


@pytest.fixture(scope="module")
def led() -> Ledger:
    t = order_tables()  # lines: see tests/order_fixtures.py; O7 is priced above list
    t["orders"] = pd.concat(
        [
            t["orders"],
            pd.DataFrame(
                {
                    "order_id": ["O7"],
                    "customer_id": ["C1"],
                    "order_date": [D("2025-04-01")],
                    "salesperson_id": ["S1"],
                    "channel": ["direct"],
                    "status": ["entered"],
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
                    "order_id": ["O7"],
                    "line_no": [1],
                    "sku": ["K2"],
                    "quantity": [100],
                    "unit_price": [3_00],
                    "discount_rate": [0.10],
                }
            ),
        ],
        ignore_index=True,
    )
    return Ledger.from_frames(**t)


def lines(frame):
    return frame.set_index(["order_id", "line_no"])


def test_compliance_default_bands(led):
    f = lines(C.price_compliance(led))
    assert list(f.reset_index().columns) == C.LINE_COLUMNS
    assert ("O3", 1) not in f.index  # cancelled
    assert (
        f.loc[("O1", 1), "compliance"] == "in_band" and f.loc[("O2", 1), "compliance"] == "in_band"
    )
    o4 = f.loc[("O4", 1)]  # direct, 10% off: band [0, 8%]
    assert o4["compliance"] == "over_discount" and o4["band_high"] == 0.08
    assert o4["revenue_at_stake"] == 230_000 - 225_000 and o4["line_amount"] == 225_000
    o5 = f.loc[("O5", 1)]  # distributor at list price: band [15%, 30%]
    assert o5["compliance"] == "under_discount" and o5["revenue_at_stake"] == 2_500 - 2_125
    o6 = f.loc[("O6", 2)]  # equipment, 25% off; distributor band 30% + 3% equipment allowance
    assert o6["compliance"] == "in_band" and o6["band_high"] == pytest.approx(0.33)
    o7 = f.loc[("O7", 1)]  # 3.00 x 0.9 = 2.70 against list 2.50: 8% above list
    assert o7["discount"] == pytest.approx(-0.08) and o7["compliance"] == "under_discount"
    assert o7["revenue_at_stake"] == 100 * 270 - 100 * 250


@pytest.mark.parametrize(
    ("band", "tol", "expected"),
    [
        ((0.0, 0.10), 0.0, "in_band"),  # exactly on the high edge is allowed
        ((0.0, 0.0999), 0.0, "over_discount"),
        ((0.0, 0.0999), 0.0005, "in_band"),  # within the tolerance
        ((0.10, 0.20), 0.0, "in_band"),  # exactly on the low edge is allowed
        ((0.1001, 0.20), 0.0, "under_discount"),
    ],
)
def test_band_edges(led, band, tol, expected):
    policy = {"discount_bands": {"direct": band}, "discount_tolerance": tol}
    f = lines(C.price_compliance(led, policy=policy))
    assert f.loc[("O4", 1), "compliance"] == expected
    assert f.loc[("O5", 1), "compliance"] == "no_band"  # distributor has no band in this policy


def test_out_of_band_and_trend(led):
    oob = C.out_of_band(led, "2025-01-01", "2025-12-31")
    assert list(oob["order_id"]) == ["O4", "O7", "O5"]  # by revenue at stake
    assert list(oob["salesperson_id"]) == ["S2", "S1", "S2"]
    assert C.out_of_band(led, "2025-03-15", "2025-03-31")["order_id"].tolist() == ["O5"]
    tr = C.discount_trend(led, "2025-01-01", "2025-12-31", by="salesperson_id", freq="QE")
    q1 = tr.set_index(["period", "salesperson_id"]).loc[(D("2025-03-31"), "S2")]
    assert q1["lines"] == 5 and q1["out_of_band_lines"] == 2  # O2, O4, O5, O6 x2
    with pytest.raises(ParamsError, match="by='team' is not supported"):
        C.discount_trend(led, "2025-01-01", "2025-12-31", by="team")


def test_policy_errors(tmp_path):
    with pytest.raises(ParamsError, match="discount_bands has channel 'retail'"):
        C.load_channel_policy({"discount_bands": {"retail": [0, 0.1]}})
    with pytest.raises(ParamsError, match=r"must have low <= high; got \[0.2, 0.1\]"):
        C.load_channel_policy({"discount_bands": {"direct": [0.2, 0.1]}})
    with pytest.raises(ParamsError, match="unknown key"):
        C.load_channel_policy({"bands": {}})
    pol = C.load_channel_policy()  # the shipped params file
    assert (
        pol["discount_bands"]["distributor"] == (0.15, 0.30) and pol["stuck_days"]["approved"] == 10
    )


# ---------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo():
    return make_ledger(6_000, seed=7)


def test_demo_is_priced_within_policy(demo):
    f = C.price_compliance(demo)
    assert (f["compliance"] == "in_band").all()  # the demo draws discounts inside the bands


def test_channel_performance(demo):
    start, end = "2025-01-01", "2025-06-30"
    p = C.channel_performance(demo, start, end)
    total = kpis(demo, start, end)
    assert (
        p["sales"].sum() == total["sales"].iloc[0]
        and p["collected"].sum() == total["collected"].iloc[0]
    )
    by = kpis(demo, start, end, by="channel")
    assert np.allclose(p["dso"], by.loc[p.index, "dso"])
    ly = kpis(demo, "2024-01-01", "2024-06-30", by="channel")["sales"]
    assert np.allclose(p["growth"], p["sales"] / ly.loc[p.index] - 1)
    assert ((p["coverage"] > 0) & (p["coverage"] <= 1)).all()
    assert list(p["rank"]) == list(range(1, len(p) + 1))
    assert p["avg_discount"].between(0, 0.4).all()
    mix = C.product_mix(demo, start, end)
    assert np.allclose(mix.groupby("channel")["share"].sum(), 1.0)


def test_partner_performance_and_drops(demo):
    p = C.partner_performance(demo, "2025-01-01", "2025-06-30")
    assert set(p["customer_type"]) <= {"distributor", "agent"} and p["rank"].min() == 1
    a = C.drop_alerts(demo, "2025-04-01", "2025-06-30")
    assert (a["value"] < a["threshold"] * a["history_mean"] + 1).all()
    assert (a["history_mean"] >= 10_000_00).all()
    none = C.drop_alerts(
        demo, "2025-04-01", "2025-06-30", policy={"drop_alerts": {"drop_share": 0.0}}
    )
    assert none.empty
