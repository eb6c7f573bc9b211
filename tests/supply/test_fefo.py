"""Tests of medrisk.supply: FEFO allocation of open orders to batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from batch_fixtures import AS_OF, _orders, batch_rows, day, demand, make_ledger

from medrisk.exceptions import ParamsError
from medrisk.supply import batch_expiry, fefo_allocate


# --------------------------------------------------------------------------- FEFO allocation
def test_fefo_order_split_and_never_blocked_or_expired():
    b = batch_rows([
        ("B_LATE", "R1", 60, 100, "released"),
        ("B_QUAR", "R1", 2, 500, "quarantined"),  # earliest expiry, but never allocated
        ("B_EXP", "R1", 0, 500, "released"),  # expires today: never allocated
        ("B_EARLY", "R1", 30, 40, "released"),
    ])
    o, lines = _orders([
        ("O2", -1, "approved", [("R1", 50)]),
        ("O1", -3, "entered", [("R1", 30)]),
        ("O3", -2, "invoiced", [("R1", 999)]),  # not open
        ("O4", 2, "entered", [("R1", 999)]),  # after as_of
    ])
    led = make_ledger(b, orders=o, lines=lines)
    res = fefo_allocate(led, AS_OF)
    a = res.allocations
    assert set(a["batch_id"]) <= {"B_EARLY", "B_LATE"}
    # O1 is first (earlier order date) and takes 30 of the early batch; O2 takes the
    # remaining 10 there and 40 from the late batch: a split line
    got = list(zip(a["order_id"], a["batch_id"], a["quantity"], strict=True))
    assert got == [("O1", "B_EARLY", 30), ("O2", "B_EARLY", 10), ("O2", "B_LATE", 40)]
    ln = res.lines.set_index("order_id")
    assert set(ln.index) == {"O1", "O2"}
    assert ln.loc["O2", "allocated"] == 50 and ln.loc["O2", "short"] == 0


def test_allocation_sums_to_demand_or_stock():
    b = batch_rows([("B1", "R1", 60, 30, "released"), ("B2", "R1", 90, 30, "released"),
                    ("B3", "C1", 60, 500, "released")])
    o, lines = _orders([("O1", -3, "approved", [("R1", 50), ("C1", 20)]),
                        ("O2", -2, "approved", [("R1", 50), ("C1", 10)])])
    res = fefo_allocate(make_ledger(b, orders=o, lines=lines), AS_OF)
    per_sku = res.allocations.groupby("sku")["quantity"].sum()
    assert per_sku["R1"] == 60  # stock runs out: all stock
    assert per_sku["C1"] == 30  # stock is enough: all demand
    ln = res.lines.set_index(["order_id", "sku"])
    assert ln.loc[("O1", "R1"), "allocated"] == 50 and ln.loc[("O2", "R1"), "short"] == 40
    assert res.allocations.loc[res.allocations["sku"] == "C1", "cold_chain"].all()


def test_shipped_part_of_a_line_is_not_allocated_again_and_min_days_left():
    b = batch_rows([("B1", "R1", 10, 100, "released"), ("B2", "R1", 200, 100, "released")])
    o, lines = _orders([("O1", -5, "approved", [("R1", 30), ("R1", 20)])])
    ship = pd.DataFrame({"shipment_id": ["S1"], "order_id": ["O1"], "ship_date": [day(-1)],
                         "sku": ["R1"], "batch_id": ["B1"], "quantity": [35]})
    led = make_ledger(b, shipments=ship, orders=o, lines=lines)
    res = fefo_allocate(led, AS_OF)
    ln = res.lines.set_index("line_no")
    assert ln.loc[1, "open_quantity"] == 0 and ln.loc[2, "open_quantity"] == 15
    assert res.allocations["quantity"].sum() == 15
    assert res.allocations["batch_id"].tolist() == ["B1"]
    # a customer who needs 30 days of shelf life gets the later batch
    res = fefo_allocate(led, AS_OF, min_days_left=30)
    assert res.allocations["batch_id"].tolist() == ["B2"]
    with pytest.raises(ParamsError, match="min_days_left must be"):
        fefo_allocate(led, AS_OF, min_days_left=0)

# --------------------------------------------------------------------------- the demo company
@pytest.fixture(scope="module")
def demo(demo20k):
    return demo20k.ledger


def test_demo_fefo_invariants(demo):
    res = fefo_allocate(demo, "2026-10-31")
    a, ln = res.allocations, res.lines
    assert len(a) and (a["quantity"] > 0).all()
    e = batch_expiry(demo, "2026-10-31", demand=demand(SKU0001=0.0)).set_index("batch_id")
    assert (e.loc[a["batch_id"], "qc_status"] == "released").all()
    assert (e.loc[a["batch_id"], "days_to_expiry"] >= 1).all()
    # never more than a batch holds or a line asks for
    used = a.groupby("batch_id")["quantity"].sum()
    assert (used <= e.loc[used.index, "stock_on_hand"]).all()
    assert (ln["allocated"] <= ln["open_quantity"]).all()
    # per SKU: allocated = min(open demand, sellable stock)
    sell = e[(e["qc_status"] == "released") & (e["days_to_expiry"] >= 1)]
    stock = sell.groupby("sku")["stock_on_hand"].sum()
    need = ln.groupby("sku")["open_quantity"].sum()
    got = a.groupby("sku")["quantity"].sum().reindex(need.index, fill_value=0)
    want = np.minimum(need, stock.reindex(need.index, fill_value=0))
    pd.testing.assert_series_equal(got, want, check_names=False, check_dtype=False)
    # FEFO: within a SKU, later lines never get an earlier-expiring batch than earlier lines
    a2 = a.sort_values(["sku", "order_date", "order_id", "line_no", "expiry_date"], kind="stable")
    step = a2.groupby("sku")["expiry_date"].diff().dropna()
    assert (step >= pd.Timedelta(0)).all()
