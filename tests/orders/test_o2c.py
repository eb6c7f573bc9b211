"""Order to cash: stages at their boundaries, step times, funnel, stuck orders, order book."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import D, tiny_tables
from order_fixtures import order_tables

from medrisk import orders as O
from medrisk.data import Ledger
from medrisk.data.demo import make_ledger
from medrisk.exceptions import MissingTableError, ParamsError
from medrisk.receivables import open_items


@pytest.fixture(scope="module")
def led() -> Ledger:
    return Ledger.from_frames(**order_tables())


def stage_of(led, as_of, order_id, **kw):
    f = O.order_stages(led, as_of, **kw).set_index("order_id")
    return f.loc[order_id]


# ---------------------------------------------------------------------------- boundaries
@pytest.mark.parametrize(
    ("as_of", "order_id", "stage"),
    [
        ("2025-01-01", "O1", None),  # not yet ordered
        ("2025-01-02", "O1", "entered"),  # ordered; status column not known yet
        ("2025-01-04", "O1", "entered"),
        ("2025-01-05", "O1", "invoiced"),  # shipped and invoiced that day
        ("2025-07-31", "O1", "invoiced"),
        ("2025-08-01", "O1", "partly_paid"),  # half paid that day
        ("2025-02-02", "O2", "entered"),
        ("2025-02-03", "O2", "invoiced"),
        ("2025-04-09", "O2", "invoiced"),
        ("2025-04-10", "O2", "paid"),  # 900 cash + 100 discount close it that day
        ("2025-03-24", "O6", "entered"),
        ("2025-03-25", "O6", "shipped"),  # the day it ships
        ("2025-08-01", "O6", "shipped"),
        ("2025-07-31", "O3", "entered"),  # cancellation undated: unknown before the extract
        ("2025-08-01", "O3", "cancelled"),
        ("2025-07-31", "O4", "entered"),
        ("2025-08-01", "O4", "approved"),
        ("2025-08-01", "O5", "entered"),
    ],
)
def test_stage_at_boundaries(led, as_of, order_id, stage):
    f = O.order_stages(led, as_of).set_index("order_id")
    if stage is None:
        assert order_id not in f.index
    else:
        assert f.loc[order_id, "stage"] == stage


def test_stage_basis_and_status_as_of(led):
    f = O.order_stages(led, "2025-08-01").set_index("order_id")
    assert f.loc["O3", "stage_basis"] == "status" and f.loc["O4", "stage_basis"] == "status"
    assert f.loc["O1", "stage_basis"] == "events" and f.loc["O6", "stage_basis"] == "events"
    # an earlier extract date makes the status usable earlier
    assert stage_of(led, "2025-03-01", "O3", status_as_of="2025-03-01")["stage"] == "cancelled"
    assert stage_of(led, "2025-03-01", "O3", status_as_of="2025-03-02")["stage"] == "entered"
    assert stage_of(led, "2025-03-10", "O4", status_as_of="2025-03-01")["stage"] == "approved"


def test_approval_dates_make_approval_an_event(led):
    appr = pd.Series([D("2025-03-12")], index=["O4"])
    assert stage_of(led, "2025-03-11", "O4", approval_dates=appr)["stage"] == "entered"
    r = stage_of(led, "2025-03-12", "O4", approval_dates=appr)
    assert r["stage"] == "approved" and r["stage_basis"] == "events"
    assert r["days_order_to_approval"] == 2 and r["days_in_stage"] == 0
    with pytest.raises(ParamsError, match="approval_dates must be a pandas Series"):
        O.order_stages(led, "2025-03-12", approval_dates={"O4": "2025-03-12"})


def test_cycle_times_hand_built(led):
    r = stage_of(led, "2025-08-01", "O2")
    assert r["days_order_to_ship"] == 2 and r["days_ship_to_invoice"] == 0
    assert r["days_invoice_to_cash"] == 66 and r["days_order_to_cash"] == 68  # 02-03 -> 04-10
    assert np.isnan(r["days_order_to_approval"]) and np.isnan(r["days_approval_to_ship"])
    assert r["closed_date"] == D("2025-04-10") and r["stage_since"] == D("2025-04-10")
    assert (r["invoiced_amount"], r["paid_amount"], r["open_amount"]) == (1_000_00, 900_00, 0)
    o1 = stage_of(led, "2025-08-01", "O1")
    assert np.isnan(o1["days_invoice_to_cash"]) and o1["open_amount"] == 60_000_00
    o6 = stage_of(led, "2025-08-01", "O6")  # first shipment counts; the second is later
    assert o6["first_ship_date"] == D("2025-03-25") and o6["days_order_to_ship"] == 5
    assert o6["days_in_stage"] == (D("2025-08-01") - D("2025-03-25")).days
    # order value: net of lines, fen: 100 x 2.50 x 0.8 + 120,000 x 0.75
    assert o6["order_value"] == 200_00 + 90_000_00 and o6["category"] == "equipment"
    # shipped after as_of is not shipped: the second shipment does not move the date back
    o6_early = stage_of(led, "2025-03-26", "O6")
    assert o6_early["first_ship_date"] == D("2025-03-25")


def test_cycle_time_summary(led):
    ct = O.cycle_times(led, "2025-08-01", by="channel").set_index(["channel", "step"])
    assert ct.loc[("direct", "days_order_to_ship"), "count"] == 2
    assert ct.loc[("direct", "days_order_to_ship"), "p50"] == 2.5  # 3 and 2 days
    assert ct.loc[("direct", "days_invoice_to_cash"), "max"] == 66
    with pytest.raises(ParamsError, match="by='colour' is not supported"):
        O.cycle_times(led, "2025-08-01", by="colour")


def test_funnel(led):
    f = O.order_funnel(led, "2025-08-01")
    counts = dict(zip(f["stage"].astype(str), f["orders"], strict=True))
    assert counts == {
        "entered": 1,
        "approved": 1,
        "shipped": 1,
        "invoiced": 0,
        "partly_paid": 1,
        "paid": 1,
        "cancelled": 1,
    }
    reached = dict(zip(f["stage"].astype(str), f["reached"], strict=True))
    assert reached["entered"] == 5 and reached["shipped"] == 3 and reached["paid"] == 1
    assert reached["cancelled"] == 1
    by = O.order_funnel(led, "2025-08-01", by="channel")
    assert by["orders"].sum() == 6 and set(by["channel"]) == {"direct", "distributor"}


def test_stuck_orders_threshold_edge(led):
    limits = {"entered": 3, "approved": 10, "shipped": None}
    at_edge = O.stuck_orders(led, "2025-03-23", stuck_days=limits)  # O5, O6 entered 3 days ago
    assert "O5" not in set(at_edge["order_id"])
    past = O.stuck_orders(led, "2025-03-24", stuck_days=limits)
    assert {"O5", "O6"} <= set(past["order_id"]) and (past["threshold_days"] == 3).all()
    late = O.stuck_orders(led, "2025-08-01", stuck_days=limits)
    assert set(late["order_id"]) == {"O4", "O5"}  # O6 shipped: not checked; O3 cancelled
    default = O.stuck_orders(led, "2025-08-01")  # params/channel-policy.yaml
    assert "O6" in set(default["order_id"])
    with pytest.raises(ParamsError, match="stuck_days has stage 'lost'"):
        O.stuck_orders(led, "2025-08-01", stuck_days={"lost": 3})


def test_open_order_book_and_unbilled(led):
    book = O.open_order_book(led, "2025-08-01")
    assert list(book["order_id"]) == ["O4", "O6"]
    exp = O.unbilled_exposure(led, "2025-08-01")
    assert exp.loc["C2", "unbilled"] == 2_250_00 and exp.loc["C3", "shipped_value"] == 90_200_00
    strict = O.unbilled_exposure(led, "2025-08-01", stages=("approved",))
    assert list(strict.index) == ["C2"]
    with pytest.raises(ParamsError, match="stages has 'paid'"):
        O.open_order_book(led, "2025-08-01", stages=("paid",))


def test_missing_orders_table():
    t = tiny_tables()
    for k in ("orders", "order_lines", "shipments"):
        t.pop(k)
    t["invoices"]["order_id"] = None
    led = Ledger.from_frames(**t)
    with pytest.raises(MissingTableError, match="'orders' table.*order-to-cash"):
        O.order_stages(led, "2025-08-01")


# ---------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo():
    return make_ledger(6_000, seed=3)


def test_demo_point_in_time_and_reconciles(demo):
    as_of = "2025-09-30"
    f = O.order_stages(demo, as_of)
    day = pd.Timestamp(as_of)
    assert (f["order_date"] <= day).all()
    shipped = f["stage"].isin(["shipped", "invoiced", "partly_paid", "paid"])
    assert (f.loc[shipped & (f["stage_basis"] == "events"), "first_ship_date"] <= day).all()
    assert f.loc[f["stage"] == "entered", "first_ship_date"].isna().all()
    # the open amount of orders is the open amount of their invoices in open_items
    oi = open_items(demo, as_of)
    assert f["open_amount"].sum() == oi["open_amount"].sum()
    assert f["invoiced_amount"].sum() == oi["amount"].sum()
    paid = f["stage"] == "paid"
    assert (f.loc[paid, "days_invoice_to_cash"] >= 0).all()
    # at the extract date every status is known: pending orders keep their status
    end = O.order_stages(demo, demo.orders["order_date"].max() + pd.Timedelta(days=60))
    assert (end.loc[end["status"] == "cancelled", "stage"] == "cancelled").all()
    assert set(end.loc[end["status"] == "closed", "stage"]) == {"paid"}
