"""Tests of medrisk.dunning: grouping, capacity cuts, collectors, exports, the back-test."""

from __future__ import annotations

import csv as _csv

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from medrisk.data.demo import make_demo
from medrisk.dunning import (
    CALL_COLUMNS,
    backtest_worklists,
    build_worklists,
    compare_policies,
    score_invoices,
)
from medrisk.exceptions import ParamsError

AS_OF = pd.Timestamp("2025-10-31")


@pytest.fixture(scope="module")
def demo():
    return make_demo(n_invoices=6_000, seed=5)


@pytest.fixture(scope="module")
def scores(demo):
    return score_invoices(demo.ledger, AS_OF)


@pytest.fixture(scope="module")
def wl(demo, scores):
    return build_worklists(demo.ledger, AS_OF, scores=scores, capacity=5)


def test_one_call_per_customer_covering_all_its_open_invoices(wl, scores):
    calls = wl.calls
    assert list(calls.columns) == CALL_COLUMNS
    assert calls["customer_id"].is_unique
    per = scores.groupby("customer_id").agg(n=("invoice_id", "size"), amt=("open_amount", "sum"),
                                            score=("score", "sum"))
    got = calls.set_index("customer_id")
    assert (got["n_invoices"] == per.loc[got.index, "n"]).all()
    assert (got["open_amount"] == per.loc[got.index, "amt"]).all()
    np.testing.assert_allclose(got["score"], per.loc[got.index, "score"])
    inv = wl.invoices
    assert set(inv["customer_id"]) == set(calls["customer_id"])
    assert len(inv) == calls["n_invoices"].sum()
    for row in calls.head(5).itertuples():  # the call names every invoice of the customer
        ids = scores.loc[scores["customer_id"] == row.customer_id, "invoice_id"]
        assert all(i in row.invoices_en and i in row.invoices_zh for i in ids)


def test_collector_is_the_customers_salesperson_and_lists_are_sorted(demo, wl):
    own = demo.ledger.customers.set_index("customer_id")["salesperson_id"]
    assert (wl.calls["collector_id"] == wl.calls["customer_id"].map(own)).all()
    for _, rows in wl.calls.groupby("collector_id"):
        assert rows["call_rank"].tolist() == list(range(1, len(rows) + 1))
        assert rows["score"].is_monotonic_decreasing
    names = demo.ledger.salespeople.set_index("salesperson_id")["name"]
    assert (wl.calls["collector_name"] == wl.calls["collector_id"].map(names)).all()


def test_capacity_cuts_each_list_to_its_top_customers(demo, scores, wl):
    full = build_worklists(demo.ledger, AS_OF, scores=scores, capacity=10_000)
    assert (wl.calls.groupby("collector_id").size() <= 5).all()
    for cid, rows in full.calls.groupby("collector_id"):
        kept = wl.calls.loc[wl.calls["collector_id"] == cid, "customer_id"].tolist()
        assert kept == rows["customer_id"].head(5).tolist()
    cap = wl.capacity.set_index("collector_id")
    assert (cap["calls"] + cap["cut"] == cap["customers_due"]).all()
    assert (cap["calls"] == np.minimum(cap["customers_due"], 5)).all()
    one = full.calls["collector_id"].iloc[0]
    some = build_worklists(demo.ledger, AS_OF, scores=scores,
                           capacity={"default": 2, "overrides": {one: 7}})
    size = some.calls.groupby("collector_id").size()
    assert size[one] == min(7, (full.calls["collector_id"] == one).sum())
    assert (size.drop(index=one) <= 2).all()
    with pytest.raises(ParamsError, match="capacity 'default' must be a whole number"):
        build_worklists(demo.ledger, AS_OF, scores=scores, capacity=-1)


def test_finance_team_collectors_share_customers_round_robin(demo, scores):
    prm = {"worklists": {"finance_team": ["F1", "F2", "F3"]}}
    fin = build_worklists(demo.ledger, AS_OF, prm, scores=scores, collector="finance_team",
                          capacity=4)
    assert fin.calls.groupby("collector_id").size().to_dict() == {"F1": 4, "F2": 4, "F3": 4}
    top = scores.groupby("customer_id")["score"].sum().sort_values(ascending=False)
    assert fin.calls.loc[fin.calls["call_rank"] == 1, "customer_id"].tolist() == \
        top.index[:3].tolist()
    with pytest.raises(ParamsError, match=r"collector='boss' is not supported"):
        build_worklists(demo.ledger, AS_OF, scores=scores, collector="boss")


def test_worklists_are_identical_on_reruns(demo, wl):
    again = build_worklists(demo.ledger, AS_OF, capacity=5)
    pd.testing.assert_frame_equal(wl.calls, again.calls)
    pd.testing.assert_frame_equal(wl.invoices, again.invoices)


def test_last_contact_is_the_customers_latest_action(demo, wl):
    acts = demo.ledger.collection_actions
    acts = acts[acts["action_date"] <= AS_OF].sort_values(["action_date", "action_id"])
    last = acts.groupby("customer_id").last()
    row = wl.calls.dropna(subset=["last_contact_date"]).iloc[0]
    assert row["last_contact_date"] == last.loc[row["customer_id"], "action_date"]
    assert row["last_contact_stage"] == last.loc[row["customer_id"], "stage"]


def test_exports_one_sheet_per_collector_and_csv(wl, tmp_path):
    path = wl.to_excel(tmp_path / "wl.xlsx")
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == sorted(wl.calls["collector_id"].unique()) + ["invoices"]
    first = wl.calls["collector_id"].min()
    sheet = pd.read_excel(path, sheet_name=first, engine="openpyxl")
    assert len(sheet) == (wl.calls["collector_id"] == first).sum()
    assert "open_amount_yuan" in sheet.columns
    back = pd.read_csv(wl.to_csv(tmp_path / "wl.csv"))
    assert len(back) == len(wl.calls)
    np.testing.assert_allclose(back["open_amount_yuan"], wl.calls["open_amount"] / 100)
    assert len(pd.read_csv(wl.to_csv(tmp_path / "inv.csv", detail=True))) == len(wl.invoices)


def test_backtest_replays_past_days_and_compares_policies(demo):
    mondays = pd.date_range("2025-06-02", "2025-06-09", freq="W-MON")
    bt = backtest_worklists(demo.ledger, mondays, capacity=5)
    assert bt["as_of"].tolist() == list(mondays)
    assert (bt["held"] <= bt["open_total"]).all() and (bt["held"] > 0).all()
    assert bt["paid_within_share"].between(0, 1).all()
    # point in time: the first Monday's lists are the lists built that day
    wl = build_worklists(demo.ledger, mondays[0], capacity=5)
    assert bt["held"].iloc[0] == wl.invoices["open_amount"].sum()
    cmp = compare_policies(demo.ledger, mondays[:1], {
        "current": None,
        "overdue_first": {"priority": {"weights": {"days_past_due": 2.0, "exposure": 0.0}}}},
        capacity=5)
    assert cmp["policy"].tolist() == ["current", "overdue_first"]
    assert (cmp["days"] == 1).all()
    assert len(cmp.attrs["daily"]) == 2
    with pytest.raises(ParamsError, match="horizon_days must be a whole number"):
        backtest_worklists(demo.ledger, mondays, horizon_days=0)


PLANTED = ["=1+1", "+SUM(A1:A9)", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"点\")",
           "\t=1", "\r=1"]


def test_exports_write_planted_formulas_as_text(demo, tmp_path):
    # OWASP's CSV-injection rule: a text cell starting with = + - @ tab or CR gets a leading '
    cust = demo.ledger.customers
    open_ids = score_invoices(demo.ledger, AS_OF)["customer_id"].drop_duplicates()
    planted = dict(zip(open_ids[: len(PLANTED)], PLANTED, strict=True))
    ledger = demo.ledger.with_tables(customers=cust.assign(
        name=cust["customer_id"].map(planted).fillna(cust["name"])))
    wl = build_worklists(ledger, AS_OF)
    assert set(PLANTED) <= set(wl.invoices["customer_name"])
    path = wl.to_excel(tmp_path / "wl.xlsx")
    book = load_workbook(path)  # not read-only: data_type tells formulas apart
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    written = {"'" + p.replace("\r", "\n") for p in PLANTED}  # a CR becomes a (quoted) LF
    assert written <= texts
    assert not [t for t in texts if t.startswith(("=", "+", "@")) or t.startswith("-") and
                pd.isna(pd.to_numeric(t, errors="coerce"))]
    for csv in (wl.to_csv(tmp_path / "wl.csv"), wl.to_csv(tmp_path / "inv.csv", detail=True)):
        with open(csv, newline="", encoding="utf-8-sig") as fh:  # csv keeps a quoted CR
            cells = pd.Series([c for row in _csv.reader(fh) for c in row])
        starts = cells.str.match(r"[=+\-@\t\r]").to_numpy()
        numbers = pd.to_numeric(cells, errors="coerce").notna().to_numpy()
        assert not (starts & ~numbers).any(), "a text cell of the CSV could run as a formula"
        assert written <= set(cells)
