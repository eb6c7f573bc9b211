"""Tests of medrisk.dunning: KPIs reused from receivables, rankings, the safe pay formula."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk.data.demo import make_demo
from medrisk.dunning import (
    COLLECTION_KPI_COLUMNS,
    collection_kpis,
    collection_pay,
    evaluate_formula,
    parse_formula,
)
from medrisk.dunning._pay import _to_fen
from medrisk.exceptions import ParamsError
from medrisk.receivables import customer_360, kpis, rank_by

START, END = "2025-07-01", "2025-09-30"


@pytest.fixture(scope="module")
def demo():
    return make_demo(n_invoices=5_000, seed=4)


@pytest.fixture(scope="module")
def by_sp(demo):
    return collection_kpis(demo.ledger, START, END)


def test_kpis_are_taken_from_medrisk_kpis(demo, by_sp):
    assert list(by_sp.columns) == ["salesperson_id", *COLLECTION_KPI_COLUMNS]
    k = kpis(demo.ledger, START, END, by="salesperson_id").reset_index()
    k = k.set_index("salesperson_id").loc[by_sp["salesperson_id"]]
    for ours, theirs in [("sales", "sales"), ("collected", "collected"),
                         ("collection_rate", "collection_rate"), ("dso", "dso"),
                         ("on_time_rate", "on_time_rate_amount"),
                         ("overdue_amount", "closing_overdue_ar"),
                         ("avg_days_to_collect", "avg_days_to_pay")]:
        np.testing.assert_array_equal(by_sp[ours].to_numpy(), k[theirs].to_numpy())


def test_broken_promises_and_overdue_customers(demo, by_sp):
    now = customer_360(demo.ledger, END)["promises_broken"].sum()
    before = customer_360(demo.ledger, "2025-06-30")["promises_broken"].sum()
    assert by_sp["promises_broken"].sum() == now - before
    view = customer_360(demo.ledger, END)
    assert by_sp["overdue_customers"].sum() >= (view["overdue_amount"] > 0).sum()
    assert (by_sp["overdue_customers"] >= 0).all()


@pytest.mark.parametrize("by", ["team", "region", ["salespeople.region", "channel"]])
def test_kpis_by_team_and_region_add_up(demo, by_sp, by):
    frame = collection_kpis(demo.ledger, START, END, by=by)
    for col in ("sales", "collected", "overdue_amount"):
        assert frame[col].sum() == by_sp[col].sum()
    assert frame["promises_broken"].sum() == by_sp["promises_broken"].sum()


def test_rankings(by_sp):
    r = rank_by(by_sp)
    assert r["rank"].iloc[0] == 1 and r["collection_rate"].is_monotonic_decreasing
    d = rank_by(by_sp, "dso")
    assert d["dso"].is_monotonic_increasing
    with pytest.raises(ParamsError, match="metric='nope' is not a column"):
        rank_by(by_sp, "nope")


def test_default_pay_formula_per_salesperson_with_its_inputs(demo, by_sp):
    pay = collection_pay(demo.ledger, START, END)
    assert pay["salesperson_id"].tolist() == by_sp["salesperson_id"].tolist()
    sales = by_sp["sales"].to_numpy() / 100
    rate = by_sp["collection_rate"].fillna(0).to_numpy()
    expected = np.floor((5000 + sales * 0.02 * (rate * 1.0)) * 100 + 0.5)
    np.testing.assert_array_equal(pay["pay"].to_numpy(), expected.astype(np.int64))
    assert pay["pay"].dtype == np.int64
    for col in ("base", "sales", "commission_rate", "collection_rate", "weight", "name", "team"):
        assert col in pay.columns
    assert pay.attrs["formula"] == "base + sales * commission_rate * (collection_rate * weight)"


def test_pay_overrides_inputs_and_custom_formula(demo):
    one = demo.ledger.salespeople["salesperson_id"].iloc[0]
    prm = {"pay": {"overrides": {one: {"base": 8000}}}}
    pay = collection_pay(demo.ledger, START, END, prm).set_index("salesperson_id")
    assert pay.loc[one, "base"] == 8000 and (pay.drop(index=one)["base"] == 5000).all()
    f = "base + max(0, min(collection_rate, 1) - 0.3) * 10000"
    pay = collection_pay(demo.ledger, START, END, formula=f)
    rate = pay["collection_rate"].clip(upper=1)
    expected = np.floor((5000 + np.maximum(0, rate - 0.3) * 10000) * 100 + 0.5)
    np.testing.assert_array_equal(pay["pay"], expected.astype(np.int64))
    extra = pd.DataFrame({"salesperson_id": pay_ids(demo), "bonus": 100.005})
    pay = collection_pay(demo.ledger, START, END, inputs=extra,
                         formula="base + bonus").set_index("salesperson_id")
    assert (pay["pay"] == 510001).all()  # 5100.005 元 rounds half up to 5100.01
    with pytest.raises(ParamsError, match="unknown name 'bogus'"):
        collection_pay(demo.ledger, START, END, formula="base + bogus")


def pay_ids(demo):
    return collection_kpis(demo.ledger, START, END)["salesperson_id"]


def test_missing_per_salesperson_input_is_an_error(demo):
    one = demo.ledger.salespeople["salesperson_id"].iloc[0]
    extra = pd.DataFrame({"salesperson_id": [one], "bonus": [1.0]})
    with pytest.raises(ParamsError, match="pay input 'bonus' must be a number for every"):
        collection_pay(demo.ledger, START, END, inputs=extra, formula="base + bonus")


@pytest.mark.parametrize("formula, names, value", [
    ("base + sales * commission_rate * (collection_rate * weight)",
     dict(base=5000, sales=100_000, commission_rate=0.02, collection_rate=0.8, weight=1.5), 7400.0),
    ("max(0, sales - 1000) * 0.1 - -1", dict(sales=500), 1.0),
    ("min(a, b, 3) / 2", dict(a=10, b=4), 1.5),
])
def test_formula_evaluates_arithmetic(formula, names, value):
    assert float(evaluate_formula(formula, names)) == pytest.approx(value)


@pytest.mark.parametrize("formula, match", [
    ("__import__('os').system('echo hi')", "is not allowed"),
    ("base ** 1000", "is not allowed"),
    ("base.__class__", "Attribute"),
    ("(lambda: 1)()", "is not allowed"),
    ("base if base else 0", "IfExp"),
    ("open('x')", "only min"),
    ("min(base)", "two or more"),
    ("max", "can only be called"),
    ("[base]", "List"),
    ("base +", "not a valid expression"),
    ("True + base", "is not allowed"),
    ("", "non-empty"),
])
def test_formula_refuses_anything_but_safe_arithmetic(formula, match):
    with pytest.raises(ParamsError, match=match):
        parse_formula(formula, ["base"])


def test_money_rounds_half_away_from_zero_to_the_fen():
    np.testing.assert_array_equal(_to_fen(np.array([0.125, 0.135, -0.125, 1.005, 2.675])),
                                  [13, 14, -13, 101, 268])
