"""Advance receipts (预收款): cash received before the invoice it pays (issue #14, item 5).

Such cash is the customer's credit (unapplied, 未核销) until the invoice is issued, then is
applied to it with effect from the issue date, so the invoice never ages. Hand-built cases are
named for the mistake they catch; the property tests shift random ledgers so that most
payments come before the invoices they pay, and compare with the slow reference of
test_cashapp.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_cashapp import (
    FAST,
    _date,
    assert_matches_slow,
    by_payment,
    check_invariants,
    engine_at_extremes,
    make_ledger,
    make_tables,
    random_tables,
    rule_rows,
    slow_apply_cash,
)

from medrisk.data import Ledger
from medrisk.receivables import (
    aging,
    aging_series,
    apply_cash,
    cash_application_of,
    customer_360,
    kpis,
    open_items,
    top_overdue_customers,
)


# -- helpers ------------------------------------------------------------------------
def items(ledger: Ledger, day) -> pd.DataFrame:
    return open_items(ledger, _date(day)).set_index("invoice_id")


def credit(ledger: Ledger, day) -> dict[str, int]:
    """Unapplied cash per payment as of ``day``, from the cash application."""
    u = cash_application_of(ledger).unapplied_as_of(_date(day))
    return dict(zip(u["payment_id"], u["amount"].astype(int), strict=True))


def credit_360(ledger: Ledger, day, customer: str = "C1") -> int:
    """Unapplied cash of a customer as of ``day``, as the customer 360 view reports it."""
    return int(customer_360(ledger, _date(day)).set_index("customer_id").loc[customer,
                                                                            "unapplied_cash"])


def aging_total(ledger: Ledger, day) -> int:
    frame = aging(ledger, _date(day))
    buckets = frame.drop(columns="total").sum(axis=1)
    assert (buckets == frame["total"]).all()  # buckets add up to the total, to the fen
    return int(frame["total"].iloc[0])


# -- (1) a referenced payment 30 days before its invoice --------------------------------
def test_referenced_advance_is_credit_until_the_invoice_then_pays_it_from_its_issue_date():
    # the old rules left P1 unapplied forever and I1 aged into legal dunning
    led = make_ledger([("I1", "C1", 30, 90, 100_000_00)], [("P1", "C1", 0, 100_000_00, "I1")])
    result = cash_application_of(led)
    assert rule_rows(result) == [("P1", "I1", 100_000_00, "reference")]
    row = result.allocations.iloc[0]
    assert (row["payment_date"], row["effective_date"]) == (_date(0), _date(30))
    assert result.unapplied.empty

    # in between: the cash is the customer's credit and the invoice does not exist yet
    assert "I1" not in items(led, 15).index
    assert credit(led, 15) == {"P1": 100_000_00} and credit_360(led, 15) == 100_000_00
    assert aging_total(led, 15) == 0

    # from the invoice date on: settled since its issue date, never open, never aged
    on_issue = items(led, 30).loc["I1"]
    assert on_issue["status"] == "paid" and on_issue["open_amount"] == 0
    assert on_issue["closed_date"] == _date(30) and on_issue["paid"] == 100_000_00
    late = items(led, 230).loc["I1"]
    assert late["status"] == "paid" and late["open_amount"] == 0
    assert late["days_past_due"] == 0 and pd.isna(late["bucket"])
    assert aging_total(led, 230) == 0 and credit(led, 230) == {} and credit_360(led, 230) == 0
    assert int(top_overdue_customers(led, _date(230))["overdue_amount"].sum()) == 0
    series = aging_series(led, [_date(d) for d in (15, 30, 60, 120, 230)])
    assert (series.to_numpy() == 0).all()


def test_advance_counts_as_collected_in_the_period_of_the_invoice_date():
    led = make_ledger([("I1", "C1", 30, 90, 100_000_00)], [("P1", "C1", 0, 100_000_00, "I1")])
    jan = kpis(led, "2025-01-01", "2025-01-31").iloc[0]  # day 30 is 2025-01-31
    assert (jan["sales"], jan["collected"], jan["closing_ar"]) == (100_000_00, 100_000_00, 0)


# -- (2) a partial advance --------------------------------------------------------------
def test_partial_advance_leaves_the_rest_to_age_from_the_due_date():
    led = make_ledger(
        [("I1", "C1", 30, 60, 100_000_00)],
        [("P1", "C1", 0, 40_000_00, "I1"), ("P2", "C1", 120, 60_000_00)],
    )
    assert rule_rows(cash_application_of(led)) == [
        ("P1", "I1", 40_000_00, "reference"), ("P2", "I1", 60_000_00, "exact_amount")]
    assert "I1" not in items(led, 15).index and credit(led, 15) == {"P1": 40_000_00}
    not_due = items(led, 45).loc["I1"]
    assert (not_due["open_amount"], not_due["status"], not_due["bucket"]) == (
        60_000_00, "open_not_due", "not_due")
    assert not_due["partly_paid"] and credit_360(led, 45) == 0
    overdue = items(led, 100).loc["I1"]  # due on day 60: 40 days past due
    assert (overdue["open_amount"], overdue["days_past_due"], overdue["bucket"]) == (
        60_000_00, 40, "31-60")
    frame = aging(led, _date(100))
    assert frame["31-60"].iloc[0] == frame["total"].iloc[0] == 60_000_00
    assert items(led, 120).loc["I1", "status"] == "paid"


# -- (3) unreferenced credit, first in first out ------------------------------------------
def test_unreferenced_credit_pays_the_next_invoices_in_issue_order_oldest_cash_first():
    # I2 falls due before I1 but is issued after it: issue order, not due order, decides;
    # I3 and I4 are issued the same day, and there I4 (due first) goes first
    led = make_ledger(
        [("I1", "C1", 10, 100, 100_00), ("I2", "C1", 20, 25, 100_00),
         ("I3", "C1", 30, 60, 100_00), ("I4", "C1", 30, 45, 100_00),
         ("J1", "C2", 12, 40, 100_00)],
        [("P1", "C1", 0, 150_00), ("P2", "C1", 5, 100_00), ("Q1", "C2", 0, 30_00)],
    )
    result = cash_application_of(led)
    assert by_payment(rule_rows(result)) == {
        "P1": [("P1", "I1", 100_00, "advance"), ("P1", "I2", 50_00, "advance")],
        "P2": [("P2", "I2", 50_00, "advance"), ("P2", "I4", 50_00, "advance")],
        "Q1": [("Q1", "J1", 30_00, "advance")],  # another customer's credit stays its own
    }
    assert credit(led, 5) == {"P1": 150_00, "P2": 100_00, "Q1": 30_00}
    assert credit(led, 10) == {"P1": 50_00, "P2": 100_00, "Q1": 30_00}
    assert credit(led, 20) == {"P2": 50_00}  # Q1 paid J1 on day 12
    assert credit(led, 30) == {}
    for day, expected in [(5, 250_00), (10, 150_00), (20, 50_00), (30, 0)]:
        assert credit_360(led, day) == expected, day
    assert list(items(led, 5).index) == []
    assert items(led, 10).loc["I1", "status"] == "paid"
    at20 = items(led, 20)
    assert at20.loc["I2", "status"] == "paid" and at20.loc["J1", "open_amount"] == 70_00
    at70 = items(led, 70)
    assert at70.loc[["I3", "I4"], "open_amount"].tolist() == [100_00, 50_00]
    assert at70.loc[["I3", "I4"], "days_past_due"].tolist() == [10, 25]
    assert aging_total(led, 70) == 100_00 + 50_00 + 70_00


def test_credit_is_applied_before_the_payments_of_the_invoice_date():
    # P1's credit is older than P2, received on I2's issue day: it goes first
    led = make_ledger(
        [("I1", "C1", 0, 30, 100_00), ("I2", "C1", 20, 50, 100_00)],
        [("P1", "C1", 10, 130_00), ("P2", "C1", 20, 100_00)],
    )
    assert rule_rows(cash_application_of(led)) == [
        ("P1", "I1", 100_00, "oldest_due"), ("P1", "I2", 30_00, "advance"),
        ("P2", "I2", 70_00, "oldest_due")]
    assert credit(led, 20) == {"P2": 30_00}


def test_named_invoice_gets_its_payment_first_even_when_other_credit_is_older():
    # P1 (no name) is older credit than P2, which names I2; on I2's issue day P2 pays it,
    # and P1 is left for I3; on I1's day (before) the oldest credit, P1, pays I1
    led = make_ledger(
        [("I1", "C1", 10, 40, 50_00), ("I2", "C1", 20, 50, 100_00),
         ("I3", "C1", 30, 60, 100_00)],
        [("P1", "C1", 0, 100_00), ("P2", "C1", 1, 100_00, "I2")],
    )
    assert by_payment(rule_rows(cash_application_of(led))) == {
        "P1": [("P1", "I1", 50_00, "advance"), ("P1", "I3", 50_00, "advance")],
        "P2": [("P2", "I2", 100_00, "reference")],
    }


def test_reference_to_a_later_invoice_does_not_hold_cash_back_from_what_is_open():
    # point in time: on day 5 nobody knows I2 will exist, so P1 pays the open I1 first
    led = make_ledger(
        [("I1", "C1", 0, 30, 70_00), ("I2", "C1", 20, 50, 100_00)],
        [("P1", "C1", 5, 100_00, "I2")],
    )
    assert rule_rows(cash_application_of(led)) == [
        ("P1", "I1", 70_00, "oldest_due"), ("P1", "I2", 30_00, "reference")]
    assert credit(led, 10) == {"P1": 30_00}
    assert items(led, 20).loc["I2", "open_amount"] == 70_00


# -- (4) recorded allocations with the payment before the invoice -----------------------
def test_recorded_allocation_before_its_invoice_takes_effect_on_the_invoice_date():
    led = make_ledger(
        [("I1", "C1", 30, 60, 100_00), ("I2", "C1", 40, 70, 100_00)],
        [("P1", "C1", 0, 150_00)],
        allocations=[("P1", "I1", 100_00)],
    )
    alloc = cash_application_of(led).allocations
    assert alloc[["invoice_id", "amount", "rule"]].values.tolist() == [
        ["I1", 100_00, "explicit"], ["I2", 50_00, "advance"]]
    assert alloc["effective_date"].tolist() == [_date(30), _date(40)]
    assert "I1" not in items(led, 15).index
    assert credit(led, 15) == {"P1": 150_00} and credit_360(led, 15) == 150_00
    at30 = items(led, 30).loc["I1"]
    assert at30["status"] == "paid" and at30["closed_date"] == _date(30)
    assert credit(led, 30) == {"P1": 50_00} and credit_360(led, 30) == 50_00
    assert items(led, 40).loc["I2", "open_amount"] == 50_00 and credit(led, 40) == {}
    later = items(led, 200)  # I2 due on day 70: 130 days past due
    assert pd.isna(later.loc["I1", "bucket"]) and later.loc["I2", "bucket"] == "91-180"
    assert aging_total(led, 200) == 50_00


# -- (5) a payment after its invoice: exactly as before ---------------------------------
def test_payment_after_its_invoice_is_applied_and_dated_as_before():
    led = make_ledger(
        [("I1", "C1", 0, 30, 100_00)],
        [("P1", "C1", 40, 60_00, "I1"), ("P2", "C1", 50, 40_00)],
    )
    alloc = cash_application_of(led).allocations
    assert rule_rows(cash_application_of(led)) == [
        ("P1", "I1", 60_00, "reference"), ("P2", "I1", 40_00, "exact_amount")]
    assert (alloc["effective_date"] == alloc["payment_date"]).all()
    at45 = items(led, 45).loc["I1"]
    assert (at45["open_amount"], at45["days_past_due"], at45["bucket"]) == (40_00, 15, "1-30")
    assert credit(led, 45) == {}
    at50 = items(led, 50).loc["I1"]
    assert at50["status"] == "paid" and at50["closed_date"] == _date(50)


def shifted(tables: dict[str, pd.DataFrame], days: int) -> dict[str, pd.DataFrame]:
    """The tables with every payment moved by ``days``."""
    out = dict(tables)
    pay = tables["payments"].copy()
    pay["payment_date"] = pay["payment_date"] + pd.Timedelta(days=days)
    out["payments"] = pay
    return out


@pytest.mark.slow
@FAST
@given(random_tables())
def test_property_payments_after_every_invoice_give_the_old_result(tables):
    # invoices are issued on days 0-20: moved 21 days later, no payment precedes an invoice,
    # so credit never meets an invoice and the rules before advance receipts apply unchanged
    tables = shifted(tables, 21)
    result = apply_cash(Ledger(tables))
    rows, unapplied = slow_apply_cash(tables, advance=False)
    assert by_payment(rule_rows(result)) == by_payment(rows)
    u = result.unapplied
    assert dict(zip(u["payment_id"], u["amount"].astype(int), strict=True)) == unapplied
    assert (result.allocations["effective_date"] == result.allocations["payment_date"]).all()


# -- (6) a mixed book reconciles to the fen at every date --------------------------------
def mixed_book(seed: int = 3) -> dict[str, pd.DataFrame]:
    """Four customers: payments after their invoices, advances naming their invoice, lumps of
    unreferenced credit, recorded allocations of early receipts, credit notes and write-offs."""
    rng = np.random.default_rng(seed)
    invoices, payments, allocations, adjustments = [], [], [], []
    for c in range(4):
        for k in range(15):
            day = int(rng.integers(0, 200))
            iid = f"I{c}-{k:02d}"
            amount = int(rng.choice([100_00, 250_00, 1_000_00, 3_333_33]))
            invoices.append((iid, f"C{c}", day, day + int(rng.choice([0, 30, 90])), amount))
            kind = rng.choice(["after", "advance", "advance_partial", "none", "recorded"])
            pid = f"P{c}-{k:02d}"
            if kind == "after":
                payments.append((pid, f"C{c}", day + int(rng.integers(0, 120)), amount, iid))
            elif kind == "advance":
                payments.append((pid, f"C{c}", day - int(rng.integers(1, 60)), amount, iid))
            elif kind == "advance_partial":
                payments.append((pid, f"C{c}", day - int(rng.integers(1, 60)), amount // 3, iid))
            elif kind == "recorded":
                payments.append((pid, f"C{c}", day - int(rng.integers(0, 40)), amount + 77_77))
                allocations.append((pid, iid, amount // 2))
            if rng.random() < 0.2:
                adjustments.append((iid, day + int(rng.integers(-5, 90)), amount // 10,
                                    str(rng.choice(["credit_note", "discount", "write_off"]))))
        for k in range(3):  # unreferenced lumps, some before any invoice
            payments.append((f"L{c}-{k}", f"C{c}", int(rng.integers(-30, 250)),
                             int(rng.integers(1, 2_000_00))))
    return make_tables(invoices, payments, allocations=allocations, adjustments=adjustments)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_mixed_book_reconciles_to_the_fen_at_every_date(seed):
    tables = mixed_book(seed)
    led = Ledger(tables)
    result = assert_matches_slow(tables)
    check_invariants(tables, result)
    with engine_at_extremes(ranked=True):
        assert by_payment(rule_rows(apply_cash(Ledger(tables)))) == by_payment(
            rule_rows(result))
    assert (result.allocations["effective_date"] > result.allocations["payment_date"]).any()
    inv, pay, adj = tables["invoices"], tables["payments"], tables["adjustments"]
    alloc = result.allocations
    for day in (-31, 0, 15, 45, 90, 150, 199, 260, 400):
        d = _date(day)
        issued = inv["invoice_date"] <= d
        known = adj["invoice_id"].isin(inv.loc[issued, "invoice_id"]) & (adj["adjustment_date"]
                                                                          <= d)
        in_effect = alloc[alloc["effective_date"] <= d]
        oi = open_items(led, d)
        # what is open plus what was applied is what was invoiced less the adjustments
        assert int(oi["open_amount"].sum()) + int(in_effect["amount"].sum()) == (
            int(inv.loc[issued, "amount"].sum()) - int(adj.loc[known, "amount"].sum())), day
        assert aging_total(led, day) == int(oi["open_amount"].sum())
        # every fen received by then is applied by then or unapplied that day
        unapplied = result.unapplied_as_of(d)
        received = pay[pay["payment_date"] <= d]
        assert int(received["amount"].sum()) == int(in_effect["amount"].sum()) + int(
            unapplied["amount"].sum()), day
        # and the customer 360 view reports the same unapplied cash per customer
        view = customer_360(led, d).set_index("customer_id")["unapplied_cash"]
        per_customer = unapplied.groupby("customer_id")["amount"].sum()
        assert view.to_dict() == {c: int(per_customer.get(c, 0)) for c in view.index}, day
    series = aging_series(led, [_date(d) for d in (15, 90, 199, 400)])
    for day in (15, 90, 199, 400):
        assert int(series.loc[_date(day), "total"]) == aging_total(led, day)


# -- properties: most payments before their invoices -------------------------------------
@pytest.mark.slow
@FAST
@given(st.one_of(random_tables(), random_tables(dense=True)), st.integers(8, 20),
       st.booleans())
def test_property_advances_match_the_slow_reference(tables, early, extremes):
    tables = shifted(tables, -early)
    if extremes:
        with engine_at_extremes():
            result = assert_matches_slow(tables)
    else:
        result = assert_matches_slow(tables)
    check_invariants(tables, result)


@pytest.mark.slow
@FAST
@given(random_tables(explicit=False), st.integers(8, 20), st.integers(-21, 31))
def test_property_advances_as_of_a_date_ignore_everything_later(tables, early, cut):
    """Leakage: with only what was known on a date, the same cash is applied by then."""
    tables = shifted(tables, -early)
    as_of = _date(cut)
    full = apply_cash(Ledger(tables))
    past = dict(tables)
    past["invoices"] = tables["invoices"][tables["invoices"]["invoice_date"] <= as_of]
    past["payments"] = tables["payments"][tables["payments"]["payment_date"] <= as_of]
    if "adjustments" in tables:
        adj = tables["adjustments"]
        past["adjustments"] = adj[adj["adjustment_date"] <= as_of]
    truncated = apply_cash(Ledger(past))
    a = full.allocations
    pd.testing.assert_frame_equal(a[a["effective_date"] <= as_of].reset_index(drop=True),
                                  truncated.allocations)
    pd.testing.assert_frame_equal(full.unapplied_as_of(as_of), truncated.unapplied_as_of(as_of))
