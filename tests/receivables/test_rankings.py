"""Rankings and the customer 360 view, on the example company of test_kpis (see its docstring)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_kpis import example_ledger

from medrisk import receivables as R
from medrisk import receivables as Rk

D = pd.Timestamp


@pytest.fixture
def example():
    return example_ledger()


# -- customer 360 -------------------------------------------------------------------
def test_overpayment_leaves_unapplied_cash_visible_in_customer_360(example):
    # P6 pays 200,000 for I5 (open 145,000): 55,000 stays unapplied with customer A.
    view = Rk.customer_360(example, "2025-04-30").set_index("customer_id")
    assert view.loc["A", "unapplied_cash"] == 55_000 and view.loc["B", "unapplied_cash"] == 0
    # As of 03-31 the receipt of 04-05 was not known.
    before = Rk.customer_360(example, "2025-03-31").set_index("customer_id")
    assert before.loc["A", "unapplied_cash"] == 0


def test_customer_360_uses_only_what_was_known(example):
    v = Rk.customer_360(example, "2025-03-31").set_index("customer_id")
    a, b = v.loc["A"], v.loc["B"]
    # A settled I1 29 days late and I2 on time;
    # B settled I4 on time and I0 by write-off 273 days late (2024-07-01 to 2025-03-31).
    assert (a["settled_invoices"], a["on_time_invoices"], a["worst_days_late"]) == (2, 1, 29)
    assert a["avg_days_late"] == pytest.approx(14.5) and a["on_time_share"] == pytest.approx(0.5)
    assert (b["settled_invoices"], b["on_time_invoices"], b["worst_days_late"]) == (2, 1, 273)
    # open and overdue; utilisation = open / credit limit
    assert (a["open_amount"], a["overdue_amount"], a["utilisation"], a["over_limit"]) == (
        145_000,
        0,
        0.725,
        False,
    )
    assert (b["open_amount"], b["overdue_amount"], b["utilisation"], b["over_limit"]) == (
        200_000,
        200_000,
        2.0,
        True,
    )
    assert b["max_days_past_due"] == 11
    # last payment known on 03-31 (P6 of 04-05 is not)
    assert (a["last_payment_date"], a["last_payment_amount"]) == (D("2025-03-16"), 180_000)
    assert (b["last_payment_date"], b["last_payment_amount"]) == (D("2025-03-28"), 100_000)
    # promises: A's kept (paid 03-10, promised 03-08 + 3 days' grace); B: one kept, one not yet due
    assert (a["promises_kept"], a["promises_broken"], a["promises_pending"]) == (1, 0, 0)
    assert (b["promises_kept"], b["promises_broken"], b["promises_pending"]) == (1, 0, 1)
    assert a["overdue_history"] and b["overdue_history"]
    later = Rk.customer_360(example, "2025-04-30").set_index("customer_id")
    assert (later.loc["B", "promises_kept"], later.loc["B", "promises_broken"]) == (1, 1)
    assert later.loc["A", "last_payment_date"] == D("2025-04-05")
    strict = Rk.customer_360(example, "2025-03-31", promise_grace_days=0).set_index("customer_id")
    assert (strict.loc["A", "promises_kept"], strict.loc["A", "promises_broken"]) == (0, 1)


# -- rankings ---------------------------------------------------------------------------
def test_rankings(example):
    top = Rk.top_overdue_customers(example, "2025-03-31", n=10)
    assert top["customer_id"].tolist() == ["B"] and top["overdue_amount"].tolist() == [200_000]
    assert Rk.long_term_delinquents(example, "2025-03-31", min_days=10)["customer_id"].tolist() == [
        "B"
    ]
    assert Rk.long_term_delinquents(example, "2025-03-31", min_days=30).empty
    # weighted days late: B (0 x 50,000 + 273 x 80,000) / 130,000 = 168;
    # A (29 x 100,000 + 0 x 200,000) / 300,000 = 9.67
    slow = Rk.slowest_payers(example, "2025-03-31", min_invoices=1)
    assert slow["customer_id"].tolist() == ["B", "A"]
    assert slow["weighted_days_late"].tolist() == pytest.approx([168.0, 29 / 3])
    # invoices without a salesperson take the customer's:
    # S1 = A 240,000 / 410,000 = 0.585, S2 = B 150,000 / 430,000 = 0.349
    sp = Rk.salesperson_collection_ranking(example, "2025-03-01", "2025-03-31")
    assert sp["salesperson_id"].tolist() == ["S1", "S2"] and sp["rank"].tolist() == [1, 2]
    assert sp["collection_rate"].tolist() == pytest.approx([240_000 / 410_000, 150_000 / 430_000])
    assert sp["name"].tolist() == ["王伟", "李娜"]


def test_top_overdue_customers_on_demo(demo_ledger):
    top = Rk.top_overdue_customers(demo_ledger, "2026-10-31", n=10)
    assert len(top) == 10 and top["overdue_amount"].is_monotonic_decreasing
    items = R.open_items(demo_ledger, "2026-10-31")
    over = (
        items[items["status"] == "overdue"].groupby("customer_id")["open_amount"].sum().nlargest(10)
    )
    assert top["overdue_amount"].tolist() == over.tolist()


@pytest.fixture(scope="module")
def demo_ledger():
    from medrisk.data import demo
    return demo.make_ledger(n_invoices=20_000, seed=1)
