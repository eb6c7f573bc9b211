"""Helpers shared by the batch tests (tests/supply/test_expiry.py, tests/supply/test_fefo.py).

A small valid ledger around given supply tables, batch and order rows given
by days from ``AS_OF``, and a demand frame.
"""

from __future__ import annotations

import pandas as pd

from medrisk.data import SCHEMAS, Ledger

AS_OF = pd.Timestamp("2026-06-30")
D = pd.Timestamp


def day(n: int) -> pd.Timestamp:
    """``as_of`` plus n days."""
    return AS_OF + pd.Timedelta(days=n)


PRODUCTS = pd.DataFrame({
    "sku": ["R1", "C1", "E1"], "name": ["试剂", "冷链耗材", "设备"],
    "category": ["reagent", "consumable", "equipment"],
    "list_price": pd.array([1_000, 250, 10_000_000], dtype="Int64"),
    "shelf_life_days": pd.array([365, 730, 3650], dtype="Int64"),
    "cold_chain": pd.array([False, True, False], dtype="boolean"),
    "registration_no": None,
})


def make_ledger(batches, shipments=None, orders=None, lines=None, invoices=None,
                payments=None, allocations=None) -> Ledger:
    """A small valid ledger around the given supply tables."""
    cust = pd.DataFrame({"customer_id": ["C_GOOD", "C_BAD"],
                         "customer_type": ["tertiary_hospital", "clinic"]})
    if invoices is None:
        invoices = pd.DataFrame({"invoice_id": ["I0"], "customer_id": ["C_GOOD"],
                                 "invoice_date": [D("2025-01-01")], "due_date": [D("2025-03-01")],
                                 "amount": [100]})
    if payments is None:
        payments = pd.DataFrame({"payment_id": ["P0"], "customer_id": ["C_GOOD"],
                                 "payment_date": [D("2025-03-01")], "amount": [100]})
        allocations = pd.DataFrame({"payment_id": ["P0"], "invoice_id": ["I0"], "amount": [100]})
    tables = dict(customers=cust, invoices=invoices, payments=payments, products=PRODUCTS,
                  batches=batches)
    if allocations is not None:
        tables["allocations"] = allocations
    if orders is None:
        orders = pd.DataFrame({"order_id": ["O0"], "customer_id": ["C_GOOD"],
                               "order_date": [D("2025-01-01")], "status": ["closed"]})
        lines = pd.DataFrame({"order_id": ["O0"], "line_no": [1], "sku": ["E1"], "quantity": [1],
                              "unit_price": [10_000_000]})
    tables.update(orders=orders, order_lines=lines)
    if shipments is not None:
        tables["shipments"] = shipments
    return Ledger({name: _canon(name, frame) for name, frame in tables.items()})


_CANON: dict[int, pd.DataFrame] = {}


def _canon(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame in canonical dtypes, checked by its schema (cheaper than Ledger.from_frames)."""
    if frame is PRODUCTS:  # shared by every test: check it once
        if id(frame) not in _CANON:
            _CANON[id(frame)] = _canon(name, frame.copy())
        return _CANON[id(frame)]
    cols = SCHEMAS[name].to_schema().columns
    frame = frame.assign(**{c: None for c in cols if c not in frame.columns})[list(cols)]
    return SCHEMAS[name].validate(frame)


def batch_rows(rows):
    """rows: (batch_id, sku, days to expiry, quantity, qc_status[, warehouse])."""
    names = ["batch_id", "sku", "dte", "quantity", "qc_status", "warehouse"]
    out = pd.DataFrame(rows, columns=names[: len(rows[0])])
    if "warehouse" not in out:
        out["warehouse"] = "上海仓"
    out["expiry_date"] = AS_OF + pd.to_timedelta(out.pop("dte"), unit="D")
    out["production_date"] = D("2025-01-01")
    return out


def demand(**rates):
    return pd.DataFrame({"sku": list(rates), "units_per_day": list(rates.values())})


def _orders(rows):
    """rows: (order_id, order day offset, status, [(sku, qty), ...])."""
    o = pd.DataFrame({"order_id": [r[0] for r in rows], "customer_id": "C_GOOD",
                      "order_date": [day(r[1]) for r in rows], "status": [r[2] for r in rows]})
    lines = pd.DataFrame([(r[0], i + 1, sku, q, 1_000) for r in rows for i, (sku, q) in
                          enumerate(r[3])],
                         columns=["order_id", "line_no", "sku", "quantity", "unit_price"])
    return o, lines
