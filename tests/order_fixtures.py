"""Hand-built order tables shared by the order, channel and traceability tests."""

from __future__ import annotations

import pandas as pd
from conftest import D, tiny_tables


def order_tables() -> dict[str, pd.DataFrame]:
    """The tiny company plus orders O3-O6 (cancelled, approved, entered, shipped not invoiced).

    O1: ordered 01-02, shipped and invoiced (I1) 01-05, 60,000 of 120,000 paid 08-01.
    O2: ordered 02-01, shipped and invoiced (I2) 02-03, 900 paid + 100 discount on 04-10.
    O6: ordered 03-20 by C3, shipped 03-25 from B2, never invoiced.
    The last event of the ledger is 2025-08-01, so the status column is known from then.
    """
    t = tiny_tables()
    t["orders"] = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
            "customer_id": ["C1", "C2", "C1", "C2", "C3", "C3"],
            "order_date": [
                D("2025-01-02"),
                D("2025-02-01"),
                D("2025-03-01"),
                D("2025-03-10"),
                D("2025-03-20"),
                D("2025-03-20"),
            ],
            "salesperson_id": ["S1", "S2", "S1", "S2", "S2", "S2"],
            "channel": ["direct", "direct", "direct", "direct", "distributor", "distributor"],
            "status": ["invoiced", "closed", "cancelled", "approved", "entered", "shipped"],
        }
    )
    t["order_lines"] = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5", "O6", "O6"],
            "line_no": [1, 1, 1, 1, 1, 1, 2],
            "sku": ["K1", "K2", "K1", "K2", "K2", "K2", "K1"],
            "quantity": [1, 400, 1, 1000, 10, 100, 1],
            "unit_price": [120_000_00, 2_50, 120_000_00, 2_50, 2_50, 2_50, 120_000_00],
            "discount_rate": [0.0, 0.0, 0.05, 0.10, 0.0, 0.20, 0.25],
        }
    )
    t["shipments"] = pd.DataFrame(
        {
            "shipment_id": ["SH1", "SH2", "SH3", "SH4"],
            "order_id": ["O1", "O2", "O6", "O6"],
            "ship_date": [D("2025-01-05"), D("2025-02-03"), D("2025-03-25"), D("2025-03-27")],
            "sku": ["K1", "K2", "K2", "K1"],
            "batch_id": ["B1", "B2", "B2", "B1"],
            "quantity": [1, 400, 100, 1],
        }
    )
    return t
