"""Collection KPIs, on a company small enough to do by hand.

The example (money in fen; 100 fen = 1 元), period March 2025 (31 days):

    invoices  I0 B 2024-06-01 due 2024-07-01    80,000   written off 03-31
              I1 A 2025-01-10 due 2025-02-09   100,000   P1 40,000 on 02-20,
                                                         P2 60,000 on 03-10 (29 days late)
              I2 A 2025-02-15 due 2025-03-17   200,000   P3 180,000 + credit note 20,000,
                                                         both 03-16 (on time)
              I3 B 2025-03-05 due 2025-03-20   300,000   P5 100,000 on 03-28; 200,000 still open
              I4 B 2025-03-20 due 2025-03-25    50,000   P4 50,000 on 03-25 (on the due date)
              I5 A 2025-03-25 due 2025-04-24   150,000   discount 5,000 on 03-30; P6 on 04-05
    P6: A pays 200,000 on 2025-04-05 naming I5 (no recorded allocation):
        145,000 to I5, 55,000 unapplied.

The example is shared with test_rankings and test_alerts (``example_ledger``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_engine import build

from medrisk import receivables as K
from medrisk import receivables as R
from medrisk.exceptions import ParamsError

D = pd.Timestamp


def example_ledger():
    """Build the example company of the module docstring."""
    customers = [
        {
            "customer_id": "A",
            "name": "甲医院",
            "customer_type": "tertiary_hospital",
            "region": "华东",
            "salesperson_id": "S1",
            "credit_limit": 200_000,
        },
        {
            "customer_id": "B",
            "name": "乙诊所",
            "customer_type": "clinic",
            "region": "华北",
            "salesperson_id": "S2",
            "credit_limit": 100_000,
        },
    ]
    salespeople = [
        {"salesperson_id": "S1", "name": "王伟", "team": "T1"},
        {"salesperson_id": "S2", "name": "李娜", "team": "T1"},
    ]
    return build(
        invoices=[
            ("I0", "B", "2024-06-01", "2024-07-01", 80_000),
            ("I1", "A", "2025-01-10", "2025-02-09", 100_000),
            ("I2", "A", "2025-02-15", "2025-03-17", 200_000),
            ("I3", "B", "2025-03-05", "2025-03-20", 300_000),
            ("I4", "B", "2025-03-20", "2025-03-25", 50_000),
            ("I5", "A", "2025-03-25", "2025-04-24", 150_000),
        ],
        payments=[
            ("P1", "A", "2025-02-20", 40_000),
            ("P2", "A", "2025-03-10", 60_000),
            ("P3", "A", "2025-03-16", 180_000),
            ("P4", "B", "2025-03-25", 50_000),
            ("P5", "B", "2025-03-28", 100_000),
            ("P6", "A", "2025-04-05", 200_000, "I5"),
        ],
        allocations=[
            ("P1", "I1", 40_000),
            ("P2", "I1", 60_000),
            ("P3", "I2", 180_000),
            ("P4", "I4", 50_000),
            ("P5", "I3", 100_000),
        ],
        adjustments=[
            ("I2", "2025-03-16", 20_000, "credit_note"),
            ("I5", "2025-03-30", 5_000, "discount"),
            ("I0", "2025-03-31", 80_000, "write_off"),
        ],
        actions=[
            (
                "A",
                "2025-03-01",
                "promise_to_pay",
                "2025-03-08",
                60_000,
            ),  # P2 on 03-10: kept with 3 days' grace
            ("A", "2025-03-02", "no_answer", None, None),
            ("B", "2025-03-26", "promise_to_pay", "2025-04-10", 100_000),  # P5 on 03-28: kept
            ("B", "2025-03-29", "promise_to_pay", "2025-04-15", 200_000),
        ],  # nothing paid: broken after 04-18
        customers=customers,
        salespeople=salespeople,
    )


@pytest.fixture
def example():
    return example_ledger()


def test_every_kpi_on_hand_computed_example(example):
    k = K.kpis(example, "2025-03-01", "2025-03-31").iloc[0]
    assert k["days"] == 31
    # opening AR (as of 02-28) = I0 80,000 + I1 (100,000 - 40,000) + I2 200,000 = 340,000
    assert k["opening_ar"] == 340_000
    # credit sales = I3 300,000 + I4 50,000 + I5 150,000 = 500,000
    assert k["sales"] == 500_000
    # cash = P2 60,000 + P3 180,000 + P4 50,000 + P5 100,000 = 390,000
    # (the credit note, discount and write-off are reported apart)
    assert (k["collected"], k["credit_notes"], k["discounts"], k["write_offs"]) == (
        390_000,
        20_000,
        5_000,
        80_000,
    )
    # closing AR = I3 200,000 (due 03-20: overdue) + I5 145,000 (not due) = 345,000
    # = 340,000 + 500,000 - 390,000 - 20,000 - 5,000 - 80,000
    assert (k["closing_ar"], k["closing_current_ar"], k["closing_overdue_ar"]) == (
        345_000,
        145_000,
        200_000,
    )
    # DSO = 345,000 / 500,000 x 31 = 21.39; best possible = 145,000 / 500,000 x 31 = 8.99;
    # ADD = 21.39 - 8.99 = 12.40
    assert k["dso"] == pytest.approx(21.39)
    assert k["best_possible_dso"] == pytest.approx(8.99)
    assert k["average_days_delinquent"] == pytest.approx(12.40)
    # countback: March sales 500,000 cover the 345,000 -> 345,000 / 500,000 x 31 = 21.39
    assert k["dso_countback"] == pytest.approx(21.39)
    # CEI = (340,000 + 500,000 - 345,000) / (340,000 + 500,000 - 145,000) = 495,000 / 695,000
    assert k["cei"] == pytest.approx(495_000 / 695_000)
    # AR turnover = 500,000 / ((340,000 + 345,000) / 2) = 1.4599
    assert k["ar_turnover"] == pytest.approx(500_000 / 342_500)
    # 回款率 = 390,000 / (340,000 + 500,000) = 0.4643
    assert k["collection_rate"] == pytest.approx(390_000 / 840_000)
    # overdue rate = 200,000 / 345,000
    assert k["overdue_rate"] == pytest.approx(200_000 / 345_000)
    # bad-debt rate = 80,000 / 500,000 = 0.16; on the collection base 80,000 / 840,000
    assert k["bad_debt_rate"] == pytest.approx(0.16)
    assert k["bad_debt_rate_ar"] == pytest.approx(80_000 / 840_000)
    # settled in March: I1 (03-10, late), I2 (03-16, due 03-17: on time), I4 (03-25 = due: on time),
    # I0 (written off: settled, not on time) -> 2 of 4; amounts 250,000 of 430,000
    assert (k["settled_count"], k["on_time_count"]) == (4, 2)
    assert k["on_time_rate_count"] == pytest.approx(0.5)
    assert (k["settled_amount"], k["on_time_amount"]) == (430_000, 250_000)
    assert k["on_time_rate_amount"] == pytest.approx(250_000 / 430_000)
    # days to pay, weighted by invoice amount, paid invoices only (not I0):
    # I1 59 days x 100,000 + I2 29 x 200,000 + I4 5 x 50,000 = 11,950,000 / 350,000 = 34.14
    assert k["avg_days_to_pay"] == pytest.approx(11_950_000 / 350_000)
    # days late: I1 29 x 100,000 / 350,000 = 8.29
    assert k["avg_days_late"] == pytest.approx(2_900_000 / 350_000)
    assert k.index.tolist() == K.KPI_COLUMNS


def test_countback_dso_walks_back_whole_months(example):
    # As of 02-28, AR 340,000: Feb sales 200,000 (28 days) -> 140,000 left;
    # Jan 100,000 (31 days) -> 40,000 left; Dec..Jul nothing (31+30+31+30+31+31 = 184 days);
    # June 80,000 (30 days) -> 40,000 / 80,000 x 30 = 15.
    # 28 + 31 + 184 + 15 = 258 days.
    feb = K.kpis(example, "2025-02-01", "2025-02-28").iloc[0]
    assert feb["closing_ar"] == 340_000
    assert feb["dso_countback"] == pytest.approx(258.0)
    # As of 04-30, AR 200,000 (I3): April no sales (30 days),
    # March 500,000 -> 200,000 / 500,000 x 31 = 12.4; 30 + 12.4 = 42.4
    apr = K.kpis(example, "2025-04-01", "2025-04-30").iloc[0]
    assert apr["closing_ar"] == 200_000 and apr["collected"] == 145_000
    assert apr["dso_countback"] == pytest.approx(42.4)
    assert np.isnan(apr["dso"])  # no sales in April: the standard DSO is undefined


def naive_countback(invoices: pd.DataFrame, ar: int, end: pd.Timestamp) -> float:
    """Countback DSO the slow way: one month at a time."""
    days, left, k = 0.0, ar, 1
    while left > 0:
        hi = end + pd.Timedelta(days=1) - pd.DateOffset(months=k - 1)
        lo = end + pd.Timedelta(days=1) - pd.DateOffset(months=k)
        in_window = (invoices["invoice_date"] >= lo) & (invoices["invoice_date"] < hi)
        sales = invoices.loc[in_window, "amount"].sum()
        length = (hi - lo).days
        if sales >= left:
            return days + left / sales * length
        days, left, k = days + length, left - sales, k + 1
    return days


def test_countback_matches_month_by_month_walk_on_demo(demo_ledger):
    end = D("2026-09-15")  # not a month end: windows run 08-16..09-15, 07-16..08-15, ...
    k = K.kpis(demo_ledger, "2026-01-01", end, by="customer_id")
    inv = demo_ledger.invoices
    for cid in k["closing_ar"].nlargest(5).index:
        expected = naive_countback(inv[inv["customer_id"] == cid], k.loc[cid, "closing_ar"], end)
        assert k.loc[cid, "dso_countback"] == pytest.approx(expected)


def test_kpis_by_customer(example):
    k = K.kpis(example, "2025-03-01", "2025-03-31", by="customer_id")
    a, b = k.loc["A"], k.loc["B"]
    # A: 260,000 + 150,000 - 240,000 - 20,000 - 5,000 = 145,000; DSO = 145,000 / 150,000 x 31
    assert (a["opening_ar"], a["sales"], a["collected"], a["closing_ar"]) == (
        260_000,
        150_000,
        240_000,
        145_000,
    )
    assert a["dso"] == pytest.approx(145_000 / 150_000 * 31)
    assert a["collection_rate"] == pytest.approx(240_000 / 410_000)
    # B: 80,000 + 350,000 - 150,000 - 80,000 = 200,000, all overdue
    assert (b["opening_ar"], b["sales"], b["collected"], b["closing_ar"]) == (
        80_000,
        350_000,
        150_000,
        200_000,
    )
    assert b["overdue_rate"] == 1.0 and b["bad_debt_rate"] == pytest.approx(80_000 / 350_000)
    assert (
        k[["opening_ar", "sales", "collected", "closing_ar"]].sum()
        == K.kpis(example, "2025-03-01", "2025-03-31")[
            ["opening_ar", "sales", "collected", "closing_ar"]
        ].iloc[0]
    ).all()


def test_kpi_trend_equals_kpis_per_period(example):
    trend = K.kpi_trend(example, "2025-02-01", "2025-04-30")
    assert trend["period_end"].tolist() == [D("2025-02-28"), D("2025-03-31"), D("2025-04-30")]
    for start, end in (
        ("2025-02-01", "2025-02-28"),
        ("2025-03-01", "2025-03-31"),
        ("2025-04-01", "2025-04-30"),
    ):
        one = K.kpis(example, start, end)
        pd.testing.assert_frame_equal(trend.loc[[D(end)]], one)
    by = K.kpi_trend(example, "2025-02-01", "2025-04-30", by="customer_type")
    assert by.loc[(D("2025-03-31"), "clinic"), "sales"] == 350_000


def test_ar_movement_reconciles_to_the_fen_on_demo(demo_ledger):
    trend = K.kpi_trend(demo_ledger, "2024-11-01", "2026-10-31", by="region")
    moved = (
        trend["opening_ar"]
        + trend["sales"]
        - trend["collected"]
        - trend["credit_notes"]
        - trend["discounts"]
        - trend["write_offs"]
    )
    assert (moved == trend["closing_ar"]).all()
    company = K.kpi_trend(demo_ledger, "2024-11-01", "2026-10-31")
    assert (company["closing_ar"].to_numpy()[:-1] == company["opening_ar"].to_numpy()[1:]).all()
    end = R.aging(demo_ledger, "2026-10-31")
    assert company["closing_ar"].iloc[-1] == end["total"].iloc[0]
    assert company["closing_current_ar"].iloc[-1] == end["not_due"].iloc[0]
    assert (
        trend.groupby(level="period")["sales"].sum().equals(company["sales"].rename_axis("period"))
    )


def test_collection_rate_is_cash_only_on_demo(demo_ledger):
    k = K.kpis(demo_ledger, "2025-11-01", "2026-10-31").iloc[0]
    alloc = R.allocations_of(demo_ledger)
    inv_day = demo_ledger.invoices.set_index("invoice_id")["invoice_date"]
    when = np.maximum(alloc["payment_date"], alloc["invoice_id"].map(inv_day))
    cash = alloc.loc[(when >= D("2025-11-01")) & (when <= D("2026-10-31")), "amount"].sum()
    assert k["collected"] == cash
    assert k["collection_rate"] == pytest.approx(cash / (k["opening_ar"] + k["sales"]))


def test_period_end_before_start_is_refused(example):
    with pytest.raises(ParamsError, match=r"end must be on or after start"):
        K.kpis(example, "2025-03-31", "2025-03-01")


@pytest.fixture(scope="module")
def demo_ledger():
    from medrisk.data import demo
    return demo.make_ledger(n_invoices=20_000, seed=1)
