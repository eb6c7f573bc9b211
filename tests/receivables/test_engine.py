"""The receivables engine: open items, aging, aging series, point in time.

Each hand-built case is named for the mistake it catches. The property test
checks on random ledgers that the open total as of any date is invoices minus
allocations minus adjustments up to that date; the DuckDB test recomputes the
aging with a plain SQL query (no shared code) on the demo company.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medrisk.data import SCHEMAS, Ledger
from medrisk.exceptions import ParamsError
from medrisk.receivables import _engine as R

D = pd.Timestamp


# -- building ledgers ---------------------------------------------------------
def typed(table: str, rows: list[dict]) -> pd.DataFrame:
    """A frame with every column of canonical table ``table``, validated by its schema."""
    columns = SCHEMAS[table].to_schema().columns
    frame = pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in columns})
    return SCHEMAS[table].validate(frame)


def build(
    invoices,
    payments=(),
    allocations=None,
    adjustments=(),
    customers=None,
    actions=(),
    salespeople=None,
) -> Ledger:
    """A ledger from tuples; money in fen, dates as strings.

    invoices: (invoice_id, customer_id, invoice_date, due_date, amount[, salesperson_id,
              product_line])
    payments: (payment_id, customer_id, payment_date, amount[, reference])
    allocations: (payment_id, invoice_id, amount); None: no allocations table (cash
                 application derives them all)
    adjustments: (invoice_id, adjustment_date, amount, kind)
    customers: dicts of customer columns (default: one bare row per customer id)
    actions: (customer_id, action_date, outcome, promise_date, promise_amount)
    """
    inv_cols = [
        "invoice_id",
        "customer_id",
        "invoice_date",
        "due_date",
        "amount",
        "salesperson_id",
        "product_line",
    ]
    inv = [dict(zip(inv_cols, r, strict=False)) for r in invoices]
    for r in inv:
        r["invoice_date"], r["due_date"] = D(r["invoice_date"]), D(r["due_date"])
    pay_cols = ["payment_id", "customer_id", "payment_date", "amount", "reference"]
    pay = [dict(zip(pay_cols, r, strict=False)) for r in payments]
    for r in pay:
        r["payment_date"] = D(r["payment_date"])
    ids = sorted({r["customer_id"] for r in inv} | {r["customer_id"] for r in pay})
    tables = {
        "customers": typed("customers", customers or [{"customer_id": c} for c in ids]),
        "invoices": typed("invoices", inv),
        "payments": typed("payments", pay),
        "adjustments": typed(
            "adjustments",
            [
                {
                    "adjustment_id": f"A{i}",
                    "invoice_id": r[0],
                    "adjustment_date": D(r[1]),
                    "amount": r[2],
                    "kind": r[3],
                }
                for i, r in enumerate(adjustments)
            ],
        ),
        "collection_actions": typed(
            "collection_actions",
            [
                {
                    "action_id": f"X{i}",
                    "customer_id": r[0],
                    "action_date": D(r[1]),
                    "stage": "call",
                    "outcome": r[2],
                    "promise_date": None if r[3] is None else D(r[3]),
                    "promise_amount": r[4],
                }
                for i, r in enumerate(actions)
            ],
        ),
    }
    if allocations is not None:
        tables["allocations"] = typed(
            "allocations",
            [dict(zip(("payment_id", "invoice_id", "amount"), r, strict=True))
             for r in allocations],
        )
    if salespeople is not None:
        tables["salespeople"] = typed("salespeople", salespeople)
    return Ledger(tables)


def open_of(ledger, as_of, invoice_id, column="open_amount"):
    items = R.open_items(ledger, as_of).set_index("invoice_id")
    return items.loc[invoice_id, column]


# -- the mistakes ----------------------------------------------------------------
def test_aging_as_of_past_date_includes_invoice_paid_later():
    led = build(
        [("I1", "C1", "2025-01-10", "2025-02-09", 100_000)],
        [("P1", "C1", "2025-04-15", 100_000, "I1")],
    )
    # As of 2025-03-31 the payment of 04-15 was not known: all 1,000.00 open, 50 days past due.
    past = R.aging(led, "2025-03-31")
    assert past.loc[D("2025-03-31"), "31-60"] == 100_000
    assert past.loc[D("2025-03-31"), "total"] == 100_000
    assert open_of(led, "2025-03-31", "I1", "status") == "overdue"
    assert pd.isna(open_of(led, "2025-03-31", "I1", "last_payment_date"))
    # As of the payment date it is paid.
    assert R.aging(led, "2025-04-15").loc[D("2025-04-15"), "total"] == 0
    assert open_of(led, "2025-04-15", "I1", "status") == "paid"
    assert open_of(led, "2025-04-15", "I1", "closed_date") == D("2025-04-15")


def test_invoice_issued_after_as_of_is_not_in_the_aging():
    led = build(
        [
            ("I1", "C1", "2025-01-10", "2025-02-09", 100_000),
            ("I2", "C1", "2025-05-01", "2025-06-01", 70_000),
        ]
    )
    assert R.aging(led, "2025-04-30")["total"].iloc[0] == 100_000
    assert list(R.open_items(led, "2025-04-30")["invoice_id"]) == ["I1"]


def test_partial_payment_ages_by_invoice_due_date():
    # Due 01-31, 40% paid 02-20: the 60% left is still aged from 01-31 (59 days on 03-31),
    # not from the payment date (39 days) and not as "current".
    led = build(
        [("I1", "C1", "2025-01-01", "2025-01-31", 100_000)],
        [("P1", "C1", "2025-02-20", 40_000, "I1")],
    )
    row = R.open_items(led, "2025-03-31").iloc[0]
    assert (row["paid"], row["open_amount"], row["days_past_due"]) == (40_000, 60_000, 59)
    assert row["status"] == "overdue" and row["partly_paid"]
    assert row["bucket"] == "31-60" and row["bucket_zh"] == "31-60天"
    aged = R.aging(led, "2025-03-31").iloc[0]
    assert aged["31-60"] == 60_000 and aged["total"] == 60_000


def test_credit_note_not_counted_as_cash():
    from medrisk.receivables import kpis

    # 1,000.00 invoice: 300.00 credit note (goods returned), 700.00 paid.
    led = build(
        [("I1", "C1", "2025-01-01", "2025-01-31", 100_000)],
        [("P1", "C1", "2025-01-20", 70_000, "I1")],
        adjustments=[("I1", "2025-01-15", 30_000, "credit_note")],
    )
    row = R.open_items(led, "2025-01-31").iloc[0]
    assert (row["paid"], row["credit_note"], row["adjusted"], row["open_amount"]) == (
        70_000,
        30_000,
        30_000,
        0,
    )
    assert row["status"] == "paid"
    k = kpis(led, "2025-01-01", "2025-01-31").iloc[0]
    assert k["collected"] == 70_000 and k["credit_notes"] == 30_000
    assert k["collection_rate"] == pytest.approx(0.7)  # 700 / (0 + 1,000), not 1.0


def test_write_off_closes_invoice_as_written_off_not_paid():
    led = build(
        [("I1", "C1", "2024-01-01", "2024-01-31", 100_000)],
        [("P1", "C1", "2024-03-01", 20_000, "I1")],
        adjustments=[("I1", "2025-01-31", 80_000, "write_off")],
    )
    before = R.open_items(led, "2025-01-30").iloc[0]
    assert before["status"] == "overdue" and before["open_amount"] == 80_000
    after = R.open_items(led, "2025-01-31").iloc[0]
    assert (
        after["status"] == "written_off"
        and after["write_off"] == 80_000
        and after["paid"] == 20_000
    )


def test_credit_beyond_the_amount_is_a_credit_balance_that_still_reconciles():
    from medrisk.receivables import customer_360

    # paid in full on 02-01 by the oldest-due rule, then a 200.00 credit note on 02-10
    led = build([("I1", "C1", "2025-01-01", "2025-01-31", 100_000)],
                [("P1", "C1", "2025-02-01", 100_000)],
                adjustments=[("I1", "2025-02-10", 20_000, "credit_note")])
    row = R.open_items(led, "2025-02-28").iloc[0]
    assert (row["open_amount"], row["status"]) == (-20_000, "credit_balance")
    assert row["days_past_due"] == 0
    assert R.aging(led, "2025-02-28")["total"].iloc[0] == -20_000  # = 100,000 - 100,000 - 20,000
    view = customer_360(led, "2025-02-28").iloc[0]
    assert (view["open_amount"], view["credit_balance"]) == (0, 20_000)


def test_buckets_sum_to_open_total(demo_ledger):
    items = R.open_items(demo_ledger, "2026-06-30")
    open_total = int(items["open_amount"].sum())
    for by in (None, "customer_id", ["region", "channel"], "team", "product_line"):
        for buckets in (None, [0, 30, 60, 90, 180, 365, 720], [0, 1, 7, 400]):
            aged = R.aging(demo_ledger, "2026-06-30", by=by, buckets=buckets)
            assert aged.dtypes.map(lambda t: t == np.int64).all()
            buckets_only = aged.drop(columns="total")
            assert (buckets_only.sum(axis=1) == aged["total"]).all()
            assert int(aged["total"].sum()) == open_total
    by_invoice = R.aging(demo_ledger, "2026-06-30", basis="invoice_date")
    assert int(by_invoice["total"].iloc[0]) == open_total
    share = R.aging(demo_ledger, "2026-06-30", by="region", values="share")
    assert np.allclose(share.drop(columns="total").sum(axis=1), 1.0)
    count = R.aging(demo_ledger, "2026-06-30", values="count")
    assert int(count["total"].iloc[0]) == int((items["open_amount"] != 0).sum())


def test_payment_never_applied_to_another_customers_invoice():
    # C1 pays 5,000.00 with no reference and owes only 1,000.00; C2 owes 3,000.00 and paid nothing.
    led = build(
        [
            ("I1", "C1", "2025-01-01", "2025-01-31", 100_000),
            ("I2", "C2", "2025-01-01", "2025-01-15", 300_000),
        ],
        [("P1", "C1", "2025-02-01", 500_000)],
    )
    alloc = R.allocations_of(led)
    assert set(alloc["invoice_id"]) == {"I1"}
    assert open_of(led, "2025-02-28", "I2") == 300_000
    aged = R.aging(led, "2025-02-28", by="customer_id")
    assert aged.loc["C2", "total"] == 300_000 and "C1" not in aged.index


def test_demo_allocations_join_payment_and_invoice_of_same_customer(demo_ledger):
    alloc = R.allocations_of(demo_ledger)
    owner = demo_ledger.invoices.set_index("invoice_id")["customer_id"]
    assert (alloc["invoice_id"].map(owner).to_numpy() == alloc["customer_id"].to_numpy()).all()


def test_aging_series_equals_aging_per_date(demo_ledger):
    dates = pd.date_range("2023-12-31", "2026-10-31", freq="ME")
    for by, basis in (
        (None, "due_date"),
        ("customer_type", "due_date"),
        (["region", "team"], "invoice_date"),
    ):
        series = R.aging_series(demo_ledger, dates, by=by, basis=basis)
        for d in dates[::5].append(dates[-1:]):
            one = R.aging(demo_ledger, d, by=by, basis=basis)
            part = series.loc[[d]] if by is None else series.xs(d, level="as_of")
            pd.testing.assert_frame_equal(part, one, check_names=False)
    assert (
        len(R.aging_series(demo_ledger, ["2019-01-31", "2026-10-31"])) == 2
    )  # a date with nothing open too


def test_last_payment_date_is_not_from_the_future():
    led = build(
        [
            ("I1", "C1", "2025-01-01", "2025-01-31", 100_000),
            ("I2", "C1", "2025-01-05", "2025-02-04", 100_000),
        ],
        [
            ("P1", "C1", "2025-01-20", 30_000, "I1"),
            ("P2", "C1", "2025-03-01", 30_000, "I1"),
            ("P3", "C1", "2025-03-05", 50_000, "I2"),
        ],
    )
    items = R.open_items(led, "2025-02-15").set_index("invoice_id")
    assert items.loc["I1", "last_payment_date"] == D("2025-01-20")
    assert pd.isna(items.loc["I2", "last_payment_date"])


def test_prepayment_applied_to_later_invoice_counts_from_invoice_date():
    # Finance recorded that the 01-10 receipt pays an invoice issued 02-01.
    led = build(
        [("I1", "C1", "2025-02-01", "2025-03-03", 100_000)],
        [("P1", "C1", "2025-01-10", 100_000)],
        allocations=[("P1", "I1", 100_000)],
    )
    assert R.open_items(led, "2025-01-31").empty
    assert open_of(led, "2025-02-01", "I1", "status") == "paid"
    assert R.aging(led, "2025-02-01")["total"].iloc[0] == 0


def test_allocations_are_computed_once_per_ledger(monkeypatch):
    calls = []
    real = R.apply_cash
    monkeypatch.setattr(R, "apply_cash", lambda led: calls.append(1) or real(led))
    led = build(
        [("I1", "C1", "2025-01-01", "2025-01-31", 100_000)], [("P1", "C1", "2025-02-01", 100_000)]
    )
    first = R.allocations_of(led)
    assert R.allocations_of(led) is first
    R.aging(led, "2025-03-31")
    R.aging_series(led, ["2025-01-31", "2025-02-28"])
    R.open_items(led, "2025-02-28")
    assert len(calls) == 1
    again = led.with_tables()  # a new ledger owns its own derived state
    assert again.tables.keys() == led.tables.keys()
    R.allocations_of(again)
    assert len(calls) == 2
    R.allocations_of(led)
    assert len(calls) == 2  # the first ledger kept what it had derived


# -- dimensions, buckets and parameters -------------------------------------------
def test_by_dimensions_join_customers_and_salespeople():
    customers = [
        {
            "customer_id": "C1",
            "customer_type": "tertiary_hospital",
            "region": "华东",
            "salesperson_id": "S1",
        },
        {"customer_id": "C2", "customer_type": "clinic", "region": "华北", "salesperson_id": "S2"},
    ]
    salespeople = [
        {"salesperson_id": "S1", "team": "T1", "region": "华南"},
        {"salesperson_id": "S2", "team": "T2", "region": "华南"},
    ]
    led = build(
        [
            (
                "I1",
                "C1",
                "2025-01-01",
                "2025-01-31",
                100,
                None,
                "超声",
            ),  # no salesperson: customer's S1
            ("I2", "C1", "2025-01-01", "2025-03-31", 200, "S2", "耗材"),
            ("I3", "C2", "2025-01-01", "2025-01-31", 400, None, "耗材"),
        ],
        customers=customers,
        salespeople=salespeople,
    )
    as_of = "2025-02-28"
    assert R.aging(led, as_of, by="customer_type")["total"].to_dict() == {
        "clinic": 400,
        "tertiary_hospital": 300,
    }
    assert R.aging(led, as_of, by="region")["total"].to_dict() == {"华北": 400, "华东": 300}
    assert R.aging(led, as_of, by="salespeople.region")["total"].to_dict() == {"华南": 700}
    assert R.aging(led, as_of, by="salesperson_id")["total"].to_dict() == {"S1": 100, "S2": 600}
    assert R.aging(led, as_of, by="team")["total"].to_dict() == {"T1": 100, "T2": 600}
    two = R.aging(led, as_of, by=["product_line", "customer_type"])
    assert two.loc[("耗材", "tertiary_hospital"), "not_due"] == 200
    assert two.index.names == ["product_line", "customer_type"]
    with pytest.raises(ParamsError, match=r"by='colour' is not a column"):
        R.aging(led, as_of, by="colour")


def test_bucket_labels_are_bilingual():
    default = R.aging_buckets()
    assert default["bucket"].tolist() == [
        "not_due",
        "1-30",
        "31-60",
        "61-90",
        "91-180",
        "181-365",
        "over_365",
    ]
    assert default["bucket_zh"].tolist() == [
        "未到期",
        "1-30天",
        "31-60天",
        "61-90天",
        "91-180天",
        "181-365天",
        "365天以上",
    ]
    long = R.aging_buckets([0, 30, 60, 90, 180, 365, 720])
    assert long["bucket"].tolist()[-2:] == ["366-720", "over_720"]
    assert R.aging_buckets(basis="invoice_date")["bucket"].iloc[0] == "0-30"


def test_bucket_edges_are_inclusive_upper_bounds():
    led = build(
        [
            (
                f"I{d}",
                "C1",
                "2023-01-01",
                (D("2025-06-30") - pd.Timedelta(days=d)).strftime("%Y-%m-%d"),
                1,
            )
            for d in (0, 1, 30, 31, 365, 366, 720, 721)
        ]
    )
    aged = R.aging(led, "2025-06-30", buckets=[0, 30, 60, 90, 180, 365, 720]).iloc[0]
    assert aged[["not_due", "1-30", "31-60", "181-365", "366-720", "over_720"]].tolist() == [
        1,
        2,
        1,
        1,
        2,
        1,
    ]
    assert aged.attrs["labels_zh"]["over_720"] == "720天以上"


def test_basis_invoice_date_ages_by_days_since_invoice():
    led = build([("I1", "C1", "2025-01-01", "2025-12-31", 500)])
    aged = R.aging(led, "2025-03-15", basis="invoice_date").iloc[
        0
    ]  # 73 days since invoice, not yet due
    assert aged["61-90"] == 500
    assert R.aging(led, "2025-03-15").iloc[0]["not_due"] == 500


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"basis": "payment_date"},
            r"basis='payment_date' is not supported. Possible values are: \['due_date'",
        ),
        ({"values": "percent"}, r"values='percent' is not supported"),
        ({"buckets": [30, 0]}, r"buckets must be strictly increasing whole days"),
        ({"buckets": [0, 30.5]}, r"buckets must be strictly increasing whole days"),
    ],
)
def test_bad_parameters_raise_params_error(kwargs, match):
    led = build([("I1", "C1", "2025-01-01", "2025-01-31", 100)])
    with pytest.raises(ParamsError, match=match):
        R.aging(led, "2025-03-31", **kwargs)


def test_bad_as_of_raises_params_error():
    led = build([("I1", "C1", "2025-01-01", "2025-01-31", 100)])
    with pytest.raises(
        ParamsError, match=r"as_of must be a date such as '2025-12-31'; got 'end of March'"
    ):
        R.open_items(led, "end of March")


def test_statuses_and_open_items_columns():
    led = build(
        [
            ("I1", "C1", "2025-01-01", "2025-04-30", 1_000),
            ("I2", "C1", "2025-01-01", "2025-01-31", 1_000),
            ("I3", "C1", "2025-01-01", "2025-01-31", 1_000),
        ],
        [("P1", "C1", "2025-02-10", 1_000, "I3"), ("P2", "C1", "2025-02-11", 400, "I1")],
    )
    items = R.open_items(led, "2025-03-31").set_index("invoice_id")
    assert items["status"].astype(str).to_dict() == {
        "I1": "open_not_due",
        "I2": "overdue",
        "I3": "paid",
    }
    assert items["partly_paid"].to_dict() == {"I1": True, "I2": False, "I3": False}
    assert items.loc["I2", "bucket"] == "31-60" and pd.isna(items.loc["I3", "bucket"])
    assert (items["amount"] == items["paid"] + items["adjusted"] + items["open_amount"]).all()


# -- property: open total = invoices - allocations - adjustments, up to the date ----------
DAY0 = D("2025-01-01")


@st.composite
def random_ledgers(draw):
    n_inv = draw(st.integers(1, 12))
    invoices, adjustments, payments, allocations = [], [], [], []
    for i in range(n_inv):
        cust = f"C{draw(st.integers(0, 2))}"
        day = draw(st.integers(0, 300))
        amount = draw(st.integers(1, 10**7))
        terms = draw(st.integers(0, 120))
        invoices.append(
            (
                f"I{i}",
                cust,
                DAY0 + pd.Timedelta(days=day),
                DAY0 + pd.Timedelta(days=day + terms),
                amount,
            )
        )
        left = amount
        for j in range(
            draw(st.integers(0, 3))
        ):  # explicit payments, some before the invoice (prepaid)
            if left == 0:
                break
            part = draw(st.integers(1, left))
            left -= part
            pid = f"P{i}_{j}"
            payments.append(
                (pid, cust, DAY0 + pd.Timedelta(days=draw(st.integers(day - 20, 400))), part)
            )
            allocations.append((pid, f"I{i}", part))
        if left and draw(st.booleans()):
            part = draw(st.integers(1, left))
            left -= part
            kind = draw(st.sampled_from(["credit_note", "discount", "write_off"]))
            adjustments.append(
                (f"I{i}", DAY0 + pd.Timedelta(days=draw(st.integers(day, 420))), part, kind)
            )
    for j in range(draw(st.integers(0, 3))):  # unallocated receipts: cash application decides
        payments.append(
            (
                f"Q{j}",
                f"C{draw(st.integers(0, 2))}",
                DAY0 + pd.Timedelta(days=draw(st.integers(0, 420))),
                draw(st.integers(1, 10**7)),
            )
        )
    dates = draw(st.lists(st.integers(-10, 440), min_size=1, max_size=5))
    return (
        invoices,
        payments,
        allocations,
        adjustments,
        [DAY0 + pd.Timedelta(days=d) for d in dates],
    )


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_ledgers())
def test_open_total_equals_invoices_minus_allocations_minus_adjustments(case):
    invoices, payments, allocations, adjustments, dates = case
    led = build(invoices, payments, allocations, adjustments)
    alloc = R.allocations_of(led)
    issued = {r[0]: r[2] for r in invoices}
    for as_of in dates:
        # the plain definition, one row at a time
        expected = sum(r[4] for r in invoices if r[2] <= as_of)
        expected -= sum(
            a.amount
            for a in alloc.itertuples()
            if a.payment_date <= as_of and issued[a.invoice_id] <= as_of
        )
        expected -= sum(a[2] for a in adjustments if a[1] <= as_of and issued[a[0]] <= as_of)
        items = R.open_items(led, as_of)
        assert int(items["open_amount"].sum()) == expected
        aged = R.aging(led, as_of)
        assert int(aged["total"].iloc[0]) == expected
        assert int(aged.drop(columns="total").iloc[0].sum()) == expected
    series = R.aging_series(led, dates)
    for as_of in set(dates):
        pd.testing.assert_frame_equal(series.loc[[as_of]], R.aging(led, as_of))


# -- independent cross-check: the same aging in plain SQL -----------------------------
SQL = """
WITH red AS (
    SELECT invoice_id, payment_date AS day, amount FROM alloc
    UNION ALL SELECT invoice_id, adjustment_date, amount FROM adj
), open AS (
    SELECT d.as_of, i.invoice_id, i.customer_id, i.due_date,
           i.amount - COALESCE(SUM(r.amount), 0) AS open_amount
    FROM dates d JOIN inv i ON i.invoice_date <= d.as_of
    LEFT JOIN red r ON r.invoice_id = i.invoice_id AND r.day <= d.as_of
    GROUP BY d.as_of, i.invoice_id, i.customer_id, i.due_date, i.amount
)
SELECT o.as_of, c.customer_type,
       CASE WHEN date_diff('day', o.due_date, o.as_of) <= 0 THEN 'not_due'
            WHEN date_diff('day', o.due_date, o.as_of) <= 30 THEN '1-30'
            WHEN date_diff('day', o.due_date, o.as_of) <= 60 THEN '31-60'
            WHEN date_diff('day', o.due_date, o.as_of) <= 90 THEN '61-90'
            WHEN date_diff('day', o.due_date, o.as_of) <= 180 THEN '91-180'
            WHEN date_diff('day', o.due_date, o.as_of) <= 365 THEN '181-365'
            WHEN date_diff('day', o.due_date, o.as_of) <= 720 THEN '366-720'
            ELSE 'over_720' END AS bucket,
       SUM(o.open_amount)::BIGINT AS amount
FROM open o JOIN cust c USING (customer_id)
WHERE o.open_amount <> 0
GROUP BY ALL
"""


def test_aging_agrees_with_duckdb_sql_on_demo(demo_ledger):
    duckdb = pytest.importorskip("duckdb")
    led = demo_ledger
    dates = [D("2024-12-31"), D("2025-06-30"), D("2026-03-31"), D("2026-10-31")]
    con = duckdb.connect()
    con.register(
        "inv", led.invoices[["invoice_id", "customer_id", "invoice_date", "due_date", "amount"]]
    )
    con.register("alloc", R.allocations_of(led)[["invoice_id", "payment_date", "amount"]])
    con.register("adj", led.adjustments[["invoice_id", "adjustment_date", "amount"]])
    con.register("cust", led.customers[["customer_id", "customer_type"]])
    con.register("dates", pd.DataFrame({"as_of": dates}))
    sql = con.execute(SQL).df()
    sql["as_of"] = pd.to_datetime(sql["as_of"]).astype("datetime64[ns]")
    sql = sql.pivot_table(
        index=["as_of", "customer_type"],
        columns="bucket",
        values="amount",
        aggfunc="sum",
        fill_value=0,
    )
    ours = R.aging_series(led, dates, by="customer_type", buckets=[0, 30, 60, 90, 180, 365, 720])
    expected = sql.reindex(columns=ours.columns.drop("total"), fill_value=0).astype(np.int64)
    expected["total"] = expected.sum(axis=1)
    assert len(ours) == len(expected) > 20
    assert (ours.to_numpy() == expected.loc[ours.index].to_numpy()).all()
    assert int(ours["total"].sum()) > 0
    # and invoice by invoice, as of one date
    per_invoice = con.execute(SQL.split("SELECT o.as_of")[0] + """
        SELECT invoice_id, open_amount::BIGINT AS open_amount FROM open
        WHERE as_of = DATE '2025-06-30' ORDER BY invoice_id""").df()
    items = R.open_items(led, "2025-06-30").sort_values("invoice_id")
    assert per_invoice["invoice_id"].tolist() == items["invoice_id"].tolist()
    assert (per_invoice["open_amount"].to_numpy() == items["open_amount"].to_numpy()).all()


@pytest.fixture(scope="module")
def demo_ledger():
    from medrisk.data import demo
    return demo.make_ledger(n_invoices=20_000, seed=1)


def test_the_package_answers_open_items_and_aging_at_the_top_level():
    import medrisk

    assert medrisk.open_items is R.open_items and medrisk.aging is R.aging
    assert {"open_items", "aging", "aging_series"} <= set(medrisk.__all__)
