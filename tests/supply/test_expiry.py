"""Tests of medrisk.supply: expiry arithmetic and FEFO consumption."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from batch_fixtures import AS_OF, _canon, _orders, batch_rows, day, demand, make_ledger

from medrisk.data import Ledger
from medrisk.exceptions import MissingTableError, ParamsError
from medrisk.supply import (
    DEFAULT_EXPIRY_PATH,
    ExpiryParams,
    batch_expiry,
    blocked_stock,
    expiry_report,
    load_expiry_params,
    near_expiry,
    near_expiry_takers,
    sku_demand,
    stock_coverage,
)


# --------------------------------------------------------------------------- expiry arithmetic
def test_expiry_boundaries_yesterday_today_tomorrow():
    led = make_ledger(batch_rows([
        ("B_YDAY", "R1", -1, 30, "released"),
        ("B_TODAY", "R1", 0, 30, "released"),
        ("B_TMRW", "R1", 1, 30, "released"),
        ("B_FAR", "R1", 400, 30, "released"),
    ]))
    e = batch_expiry(led, AS_OF, demand=demand(R1=10.0)).set_index("batch_id")
    ids = ["B_YDAY", "B_TODAY", "B_TMRW", "B_FAR"]
    assert e.loc[ids, "days_to_expiry"].tolist() == [-1, 0, 1, 400]
    assert e.loc["B_YDAY", "state"] == "expired"
    assert e.loc["B_TODAY", "state"] == "expired"  # as_of is end of day: no selling day left
    assert e.loc["B_TMRW", "state"] == "near_expiry"  # reagent threshold 90 days
    assert e.loc["B_FAR", "state"] == "ok"
    # expired batches sell nothing; tomorrow's batch gets one day of demand
    assert e.loc["B_YDAY", "expected_unsold"] == 30 and e.loc["B_TODAY", "expected_unsold"] == 30
    assert e.loc["B_TMRW", "expected_sold"] == 10 and e.loc["B_TMRW", "expected_unsold"] == 20
    assert e.loc["B_FAR", "expected_sold"] == 30
    assert e.loc["B_TMRW", "expected_unsold_value"] == 20 * 1_000  # fen at list price
    assert e["expected_unsold_value"].dtype == "Int64"


def test_demand_exactly_equal_to_stock_leaves_nothing():
    led = make_ledger(batch_rows([("B1", "R1", 10, 100, "released")]))
    e = batch_expiry(led, AS_OF, demand=demand(R1=10.0))
    assert e["expected_sold"].iloc[0] == 100 and e["expected_unsold"].iloc[0] == 0
    assert e["expected_unsold_value"].iloc[0] == 0
    e = batch_expiry(led, AS_OF, demand=demand(R1=9.0))
    assert e["expected_unsold"].iloc[0] == pytest.approx(10.0)


def test_fefo_consumption_across_batches():
    led = make_ledger(batch_rows([
        ("B_LATE", "R1", 20, 50, "released"),  # listed first, expires last
        ("B_EARLY", "R1", 10, 50, "released"),
    ]))
    e = batch_expiry(led, AS_OF, demand=demand(R1=5.0)).set_index("batch_id")
    assert e.loc["B_EARLY", "expected_unsold"] == 0 and e.loc["B_LATE", "expected_unsold"] == 0
    e = batch_expiry(led, AS_OF, demand=demand(R1=4.0)).set_index("batch_id")
    # 40 of the early batch by day 10 (10 expire), then 40 more from the late one by day 20
    assert e.loc["B_EARLY", "expected_sold"] == pytest.approx(40)
    assert e.loc["B_LATE", "expected_sold"] == pytest.approx(40)
    assert e.loc["B_LATE", "expected_unsold"] == pytest.approx(10)


def _simulate_fefo(stock, dte, rate):
    """Day-by-day FEFO consumption (the slow, obvious way) for one SKU."""
    left = np.array(stock, dtype=float)
    order = np.argsort(dte, kind="stable")
    for t in range(1, max(dte) + 1):
        need = rate
        for i in order:
            if dte[i] >= t and left[i] > 0 and need > 0:
                take = min(left[i], need)
                left[i] -= take
                need -= take
    return np.array(stock) - left


@pytest.mark.slow
def test_fefo_consumption_matches_day_by_day_simulation():
    rng = np.random.default_rng(7)
    base = make_ledger(batch_rows([("B0", "R1", 1, 1, "released")]))
    for _ in range(25):
        n = int(rng.integers(1, 6))
        dte = rng.integers(1, 40, n).tolist()
        stock = rng.integers(1, 60, n).tolist()
        rate = float(rng.integers(0, 12))
        rows = batch_rows([(f"B{i}", "R1", dte[i], stock[i], "released") for i in range(n)])
        led = Ledger({**base.tables, "batches": _canon("batches", rows)})
        e = batch_expiry(led, AS_OF, demand=demand(R1=rate)).set_index("batch_id")
        want = _simulate_fefo(stock, dte, rate)
        got = e.loc[[f"B{i}" for i in range(n)], "expected_sold"].to_numpy()
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_stock_on_hand_counts_shipments_up_to_as_of_only():
    b = batch_rows([("B1", "R1", 100, 100, "released"), ("B2", "R1", 200, 40, "released")])
    b.loc[b["batch_id"] == "B2", "production_date"] = day(1)  # not made yet
    ship = pd.DataFrame({"shipment_id": ["S1", "S2", "S3"], "order_id": ["O0"] * 3,
                         "ship_date": [day(-5), day(0), day(1)], "sku": ["R1"] * 3,
                         "batch_id": ["B1"] * 3, "quantity": [10, 5, 7]})
    led = make_ledger(b, shipments=ship)
    e = batch_expiry(led, AS_OF, demand=demand(R1=0.0))
    assert e["batch_id"].tolist() == ["B1"]
    assert e["shipped"].iloc[0] == 15 and e["stock_on_hand"].iloc[0] == 85


def test_quarantined_and_rejected_are_blocked():
    led = make_ledger(batch_rows([
        ("B_Q", "R1", 5, 100, "quarantined"),
        ("B_R", "R1", 3, 100, "rejected"),
        ("B_OK", "R1", 200, 100, "released"),
    ]))
    e = batch_expiry(led, AS_OF, demand=demand(R1=10.0)).set_index("batch_id")
    assert (e.loc[["B_Q", "B_R"], "state"] == "blocked").all()
    assert (e.loc[["B_Q", "B_R"], "expected_sold"] == 0).all()
    assert e.loc["B_OK", "expected_sold"] == 100  # all demand went to the released batch
    bl = blocked_stock(led, AS_OF, demand=demand(R1=10.0))
    assert set(bl["batch_id"]) == {"B_Q", "B_R"}
    assert near_expiry(led, AS_OF, demand=demand(R1=10.0)).empty


def test_near_expiry_thresholds_per_category_and_cold_chain_apart():
    led = make_ledger(batch_rows([
        ("R_89", "R1", 89, 10, "released", "北京仓"),
        ("R_91", "R1", 91, 10, "released", "北京仓"),
        ("C_170", "C1", 170, 10, "released", "上海仓"),
        ("C_190", "C1", 190, 10, "released", "上海仓"),
        ("E_300", "E1", 300, 1, "released", "广州仓"),
    ]))
    kw = dict(demand=demand(R1=0.0, C1=0.0, E1=0.0))
    ne = near_expiry(led, AS_OF, **kw)
    assert set(ne["batch_id"]) == {"R_89", "C_170", "E_300"}
    assert ne["warehouse"].tolist() == sorted(ne["warehouse"])  # listed by warehouse
    assert near_expiry(led, AS_OF, cold_chain=True, **kw)["batch_id"].tolist() == ["C_170"]
    assert set(near_expiry(led, AS_OF, cold_chain=False, **kw)["batch_id"]) == {"R_89", "E_300"}
    rep = expiry_report(led, AS_OF, **kw)
    assert rep.near_expiry_cold_chain["batch_id"].tolist() == ["C_170"]
    assert "C_170" not in set(rep.near_expiry["batch_id"])
    # thresholds come from the parameters
    tight = near_expiry(led, AS_OF, params={"near_expiry_days": {"reagent": 95}}, **kw)
    assert {"R_89", "R_91"} <= set(tight["batch_id"])


def test_stock_coverage():
    led = make_ledger(batch_rows([
        ("B1", "R1", 30, 100, "released"), ("B2", "R1", 300, 100, "released"),
        ("B3", "R1", 20, 50, "quarantined"), ("B4", "E1", 900, 2, "released"),
    ]))
    cov = stock_coverage(led, AS_OF, demand=demand(R1=4.0, E1=0.0)).set_index("sku")
    assert cov.loc["R1", "sellable_stock"] == 200 and cov.loc["R1", "blocked_stock"] == 50
    assert cov.loc["R1", "coverage_days"] == pytest.approx(50.0)
    assert cov.loc["R1", "days_to_earliest_expiry"] == 30
    assert cov.loc["R1", "expected_unsold"] == pytest.approx(0.0)  # 120 + 100 by day 300
    assert np.isinf(cov.loc["E1", "coverage_days"])


# --------------------------------------------------------------------------- demand and params
def test_sku_demand_from_history_and_forecast():
    b = batch_rows([("B1", "R1", 100, 1000, "released")])
    ship = pd.DataFrame({"shipment_id": ["S1", "S2", "S3"], "order_id": ["O1"] * 3,
                         "ship_date": [day(-100), day(-30), day(0)], "sku": ["R1"] * 3,
                         "batch_id": ["B1"] * 3, "quantity": [500, 90, 90]})
    o, lines = _orders([("O1", -120, "closed", [("R1", 680)])])
    led = make_ledger(b, shipments=ship, orders=o, lines=lines)
    hist = sku_demand(led, AS_OF, sales_forecast="history").set_index("sku")
    assert hist.loc["R1", "units_per_day"] == pytest.approx(180 / 90)  # last 90 days only
    assert hist.loc["C1", "units_per_day"] == 0
    # a forecast of twice the recent sales value per day doubles the demand
    shipped_fen_per_day = 180 * 1_000 / 90
    months = pd.date_range("2026-07-01", periods=6, freq="MS")
    days_in = months.days_in_month.to_numpy()
    fc = pd.DataFrame({"unique_id": "reagent", "ds": months, "category": "reagent",
                       "mean": 2 * shipped_fen_per_day * days_in / 100})
    dem = sku_demand(led, AS_OF, sales_forecast=fc).set_index("sku")
    assert dem.loc["R1", "growth"] == pytest.approx(2.0)
    assert dem.loc["R1", "units_per_day"] == pytest.approx(4.0)
    assert (dem["source"] == "forecast").all()


def test_expiry_params_file_and_errors(tmp_path):
    p = load_expiry_params()
    assert DEFAULT_EXPIRY_PATH.exists()
    assert p.near_expiry_days == {"reagent": 90, "consumable": 180, "wear_part": 365,
                                  "equipment": 365}
    assert p.min_days_left == 1 and p.history_days == 90
    tight = load_expiry_params({"near_expiry_days": {"reagent": 30}})
    assert tight.near_expiry_days["reagent"] == 30
    with pytest.raises(ParamsError, match="unknown key"):
        load_expiry_params({"near_expiry": {}})
    with pytest.raises(ParamsError, match="unknown category 'reagents'"):
        load_expiry_params({"near_expiry_days": {"reagents": 30}})
    with pytest.raises(ParamsError, match="history_days must be"):
        load_expiry_params({"history_days": 0})
    f = tmp_path / "x.yaml"
    f.write_text("min_days_left: 30\n", encoding="utf-8")
    assert load_expiry_params(f).min_days_left == 30
    with pytest.raises(ParamsError, match="does not exist"):
        load_expiry_params(tmp_path / "missing.yaml")
    assert isinstance(load_expiry_params(ExpiryParams()), ExpiryParams)


def test_errors_name_what_is_missing():
    led = make_ledger(batch_rows([("B1", "R1", 10, 1, "released")]))
    with pytest.raises(ParamsError, match="demand must be a DataFrame with columns sku"):
        batch_expiry(led, AS_OF, demand=pd.DataFrame({"x": [1]}))
    with pytest.raises(ParamsError, match="not negative"):
        batch_expiry(led, AS_OF, demand=demand(R1=-1.0))
    bare = Ledger({k: v for k, v in led.tables.items() if k != "batches"})
    with pytest.raises(MissingTableError, match="batches"):
        batch_expiry(bare, AS_OF, demand=demand(R1=1.0))


def test_near_expiry_takers_prefers_good_payers():
    b = batch_rows([("B1", "R1", 30, 100, "released")])
    o, lines = _orders([("O1", -60, "closed", [("R1", 10)]), ("O2", -50, "closed", [("R1", 40)])])
    o.loc[o["order_id"] == "O2", "customer_id"] = "C_BAD"
    ship = pd.DataFrame({"shipment_id": ["S1", "S2"], "order_id": ["O1", "O2"],
                         "ship_date": [day(-60), day(-50)], "sku": ["R1", "R1"],
                         "batch_id": ["B1", "B1"], "quantity": [10, 40]})
    inv = pd.DataFrame({"invoice_id": ["I1", "I2"], "customer_id": ["C_GOOD", "C_BAD"],
                        "invoice_date": [day(-200), day(-200)], "due_date": [day(-150), day(-150)],
                        "amount": [1_000, 1_000]})
    pay = pd.DataFrame({"payment_id": ["P1"], "customer_id": ["C_GOOD"],
                        "payment_date": [day(-149)], "amount": [1_000]})
    alloc = pd.DataFrame({"payment_id": ["P1"], "invoice_id": ["I1"], "amount": [1_000]})
    led = make_ledger(b, shipments=ship, orders=o, lines=lines, invoices=inv, payments=pay,
                      allocations=alloc)
    t = near_expiry_takers(led, AS_OF, demand=demand(R1=0.0))
    assert t["customer_id"].tolist() == ["C_GOOD"]  # C_BAD bought more but is 150 days overdue
    assert t["units_bought"].tolist() == [10] and t["rank"].tolist() == [1]


# --------------------------------------------------------------------------- the demo company
@pytest.fixture(scope="module")
def demo(demo20k):
    return demo20k.ledger


def test_demo_expiry_report_adds_up(demo):
    rep = expiry_report(demo, "2026-10-31", sales_forecast="history")
    e = rep.batches
    np.testing.assert_allclose(e["expected_sold"] + e["expected_unsold"], e["stock_on_hand"])
    assert (e["expected_sold"] >= -1e-9).all()
    assert (e.loc[e["state"] != "ok", "expected_sold"] <= e.loc[e["state"] != "ok",
                                                                "stock_on_hand"]).all()
    assert (e.loc[e["state"].isin(["blocked", "expired"]), "expected_sold"] == 0).all()
    assert not rep.blocked.empty and (rep.blocked["qc_status"] != "released").all()
    assert (rep.near_expiry_cold_chain["cold_chain"]).all()
    assert not rep.near_expiry["cold_chain"].any()
    assert rep.by_warehouse["stock_on_hand"].sum() == e["stock_on_hand"].sum()


def test_demo_expiry_uses_nothing_after_as_of(demo):
    as_of = pd.Timestamp("2025-12-31")
    t = dict(demo.tables)
    ship = t["shipments"]
    t["shipments"] = ship[ship["ship_date"] <= as_of]
    t["batches"] = t["batches"][t["batches"]["production_date"] <= as_of]
    past = Ledger(t)
    pd.testing.assert_frame_equal(batch_expiry(demo, as_of, sales_forecast="history"),
                                  batch_expiry(past, as_of, sales_forecast="history"))
