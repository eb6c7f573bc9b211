"""Batch traceability both ways and recall reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import D
from order_fixtures import order_tables

from medrisk import supply as T
from medrisk.data import Ledger
from medrisk.data.demo import make_ledger
from medrisk.exceptions import MissingTableError, ParamsError


@pytest.fixture(scope="module")
def led() -> Ledger:
    # B1 -> SH1 (O1, C1, I1) and SH4 (O6, C3, no invoice); B2 -> SH2 (O2, C2, I2) and SH3 (O6, C3)
    return Ledger.from_frames(**order_tables())


def test_batch_to_customers(led):
    f = T.trace_batches(led, "B2", "2025-08-01")
    assert list(f.columns) == T.SHIPMENT_COLUMNS
    assert list(f["shipment_id"]) == ["SH2", "SH3"]
    assert list(f["customer_id"]) == ["C2", "C3"] and list(f["order_id"]) == ["O2", "O6"]
    assert list(f["quantity"]) == [400, 100]
    assert f.loc[0, "invoice_id"] == "I2" and pd.isna(f.loc[1, "invoice_id"])
    assert list(f["order_invoices"]) == [1, 0]
    assert list(f["order_open_amount"]) == [0, 0]
    assert list(f["customer_open_amount"]) == [0, 50_000_00]  # C3's I3 is unpaid
    assert f.loc[0, "expiry_date"] == D("2026-06-01") and f.loc[0, "qc_status"] == "released"
    # point in time: SH3 (03-25) not yet shipped on 03-24; I3 not issued before 03-01
    early = T.trace_batches(led, ["B2"], "2025-03-24")
    assert list(early["shipment_id"]) == ["SH2"]
    assert T.trace_batches(led, "B1", "2025-01-05").loc[0, "order_open_amount"] == 120_000_00


def test_customer_to_batches(led):
    f = T.customer_batches(led, "C3", "2025-08-01")
    assert list(f["batch_id"]) == ["B2", "B1"] and list(f["ship_date"]) == [
        D("2025-03-25"),
        D("2025-03-27"),
    ]
    assert T.customer_batches(led, "C3", "2025-03-26")["batch_id"].tolist() == ["B2"]
    c1 = T.customer_batches(led, ["C1"], "2025-08-01")
    assert c1["batch_id"].tolist() == ["B1"] and c1.loc[0, "order_open_amount"] == 60_000_00
    # both ways agree: every (batch, shipment) reached from batches is reached from customers
    fwd = T.trace_batches(led, ["B1", "B2"], "2025-08-01")
    back = T.customer_batches(led, ["C1", "C2", "C3"], "2025-08-01")
    assert set(fwd["shipment_id"]) == set(back["shipment_id"])


def test_recall_report(led):
    r = T.recall_report(led, ["B2"], "2025-08-01")
    c = r.customers
    assert list(c.columns) == T.RECALL_CUSTOMER_COLUMNS
    assert list(c["customer_id"]) == ["C2", "C3"] and list(c["quantity"]) == [400, 100]
    assert list(c["open_amount"]) == [0, 50_000_00] and list(c["overdue_amount"]) == [0, 50_000_00]
    assert r.open_at_risk == 50_000_00
    b = r.batches.iloc[0]
    assert (b["batch_quantity"], b["shipped_quantity"], b["unshipped_quantity"]) == (
        10_000,
        500,
        9_500,
    )
    assert b["customers"] == 2
    r1 = T.recall_report(led, ["B1"], "2025-02-01")  # O1 open in full, not yet due
    assert r1.customers.loc[0, "open_on_recalled_orders"] == 120_000_00
    assert r1.customers.loc[0, "overdue_amount"] == 0


def test_errors(led):
    with pytest.raises(ParamsError, match=r"batch_ids \['NOPE'\] not found"):
        T.trace_batches(led, ["B1", "NOPE"], "2025-08-01")
    with pytest.raises(ParamsError, match="customer_ids must be an id or a non-empty list"):
        T.customer_batches(led, [], "2025-08-01")
    t = order_tables()
    t.pop("shipments")
    with pytest.raises(MissingTableError, match="'shipments' table.*batch traceability"):
        T.trace_batches(Ledger.from_frames(**t), "B1", "2025-08-01")


@pytest.fixture(scope="module")
def demo():
    return make_ledger(6_000, seed=5)


def test_demo_every_unit_traced(demo):
    as_of = demo.shipments["ship_date"].max()
    ids = demo.batches["batch_id"].tolist()
    r = T.recall_report(demo, ids, as_of)
    shipped = demo.shipments.groupby("batch_id")["quantity"].sum()
    per_batch = r.batches.set_index("batch_id")["shipped_quantity"]
    assert (per_batch.reindex(shipped.index) == shipped).all()
    assert (r.batches["unshipped_quantity"] >= 0).all()  # never more leaves a batch than was made
    # every shipped unit reaches a known customer, and customers add up to the batches
    assert r.shipments["customer_id"].notna().all()
    assert r.customers["quantity"].sum() == demo.shipments["quantity"].sum()
    by_pair = r.shipments.groupby(["batch_id", "customer_id"])["quantity"].sum()
    assert by_pair.groupby("batch_id").sum().reindex(shipped.index).eq(shipped).all()
    # customer view agrees with the batch view
    some = r.customers["customer_id"].head(5).tolist()
    back = T.customer_batches(demo, some, as_of)
    fwd = r.shipments[r.shipments["customer_id"].isin(some)]
    assert back["quantity"].sum() == fwd["quantity"].sum()
    assert np.array_equal(
        np.sort(back["shipment_id"].to_numpy()), np.sort(fwd["shipment_id"].to_numpy())
    )


def test_demo_open_matches_open_items(demo):
    from medrisk.receivables import open_items

    as_of = "2025-06-30"
    b = (
        demo.shipments.loc[demo.shipments["ship_date"] <= as_of, "batch_id"]
        .iloc[:40]
        .unique()
        .tolist()
    )
    r = T.recall_report(demo, b, as_of)
    oi = open_items(demo, as_of)
    want = oi.groupby("customer_id")["open_amount"].sum()
    got = r.customers.set_index("customer_id")["open_amount"]
    assert (got == want.reindex(got.index, fill_value=0)).all()
    assert pd.api.types.is_integer_dtype(got)
