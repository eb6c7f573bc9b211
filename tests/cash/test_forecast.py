"""Tests of medrisk.cash: the cash-in forecast, its point-in-time rule and its back-test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk import kernel
from medrisk.cash import (
    COMPONENTS,
    backtest_cash_in,
    cash_in_forecast,
    cash_periods,
    fit_payment_timing,
    recent_sales_forecast,
)
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError

AS_OF = pd.Timestamp("2026-04-30")
DRAWS = 60


@pytest.fixture(scope="module")
def company(demo20k):
    return demo20k


@pytest.fixture(scope="module")
def ledger(company):
    return company.ledger


def _stub_sales(as_of, months=13, yuan=50_000_000.0, model="stub"):
    first = (pd.Timestamp(as_of) + pd.Timedelta(days=1)).to_period("M").to_timestamp()
    ds = pd.date_range(first, periods=months, freq="MS")
    return pd.DataFrame({
        "unique_id": "total", "ds": ds, "model": model, "mean": yuan,
        "lo-80": yuan * 0.8, "hi-80": yuan * 1.2, "lo-95": yuan * 0.7, "hi-95": yuan * 1.3,
    })


def _truncate(ledger: Ledger, as_of) -> Ledger:
    """The ledger as it stood at the end of ``as_of``: nothing dated later."""
    t = dict(ledger.tables)
    inv = t["invoices"][t["invoices"]["invoice_date"] <= as_of]
    pay = t["payments"][t["payments"]["payment_date"] <= as_of]
    alloc = t["allocations"]
    alloc = alloc[alloc["payment_id"].isin(pay["payment_id"]) & alloc["invoice_id"].isin(
        inv["invoice_id"])]
    adj = t["adjustments"]
    adj = adj[(adj["adjustment_date"] <= as_of) & adj["invoice_id"].isin(inv["invoice_id"])]
    t.update(invoices=inv, payments=pay, allocations=alloc, adjustments=adj)
    return Ledger({k: v.reset_index(drop=True) for k, v in t.items()})


# --------------------------------------------------------------------------- the forecast
def test_forecast_frame(ledger):
    fc = cash_in_forecast(ledger, AS_OF, "13W", sales_forecast=_stub_sales(AS_OF), n_draws=DRAWS)
    assert list(fc.columns) == ["period", "period_start", "period_end", "component", "mean",
                                "lo-80", "hi-80", "lo-95", "hi-95"]
    assert len(fc) == 13 * 3
    assert list(fc["component"].cat.categories) == list(COMPONENTS)
    wide = fc.pivot(index="period", columns="component", values="mean")
    np.testing.assert_allclose(wide["total"], wide["open_invoices"] + wide["new_sales"], rtol=1e-12)
    assert (fc["lo-95"] <= fc["lo-80"]).all() and (fc["lo-80"] <= fc["mean"]).all()
    assert (fc["mean"] <= fc["hi-80"]).all() and (fc["hi-80"] <= fc["hi-95"]).all()
    assert (fc["lo-95"] >= 0).all()
    tot = fc[fc["component"] == "total"]
    assert (tot["hi-95"] > tot["lo-95"]).all()  # an interval, not a point
    assert fc.attrs["unit"] == "yuan" and fc.attrs["sales_source"] == "given"
    # receipts of the open invoices cannot exceed what is open
    assert wide["open_invoices"].sum() <= fc.attrs["open_amount"] + 1e-6
    assert 0 < fc.attrs["expected_never"] < fc.attrs["open_amount"]


def test_same_seed_same_forecast_and_draws_match_the_mean(ledger):
    kw = dict(sales_forecast="none", n_draws=200, timing_shock=0.0)
    a = cash_in_forecast(ledger, AS_OF, "13W", seed=3, **kw)
    b = cash_in_forecast(ledger, AS_OF, "13W", seed=3, **kw)
    pd.testing.assert_frame_equal(a, b)
    # the intervals are centred on the exact mean; the simulation itself must agree with it
    from medrisk.cash import _outlook as po

    day = kernel.day_of(AS_OF)
    starts, ends = po._period_days(day, "13W")
    timing = fit_payment_timing(ledger, AS_OF)
    extra = int(ends[-1] - day) + 100
    op = po._open_invoices(ledger, day, timing, None, 0.0, extra)
    mean, _, _ = po._open_expected(op, timing, starts, ends, extra)
    sim = po._open_simulate(op, timing, starts, ends, extra, 400, 0.0, np.random.default_rng(0))
    assert abs(sim.mean(axis=0).sum() / mean.sum() - 1) < 0.03


def test_fast_intervals_agree_with_exact(ledger):
    kw = dict(sales_forecast="none", n_draws=300, seed=2)
    exact = cash_in_forecast(ledger, AS_OF, "13W", interval_method="exact", **kw)
    fast = cash_in_forecast(ledger, AS_OF, "13W", interval_method="fast", **kw)
    auto = cash_in_forecast(ledger, AS_OF, "13W", **kw)
    assert exact.attrs["interval_method"] == "exact" == auto.attrs["interval_method"]
    assert fast.attrs["interval_method"] == "fast"
    pd.testing.assert_series_equal(exact["mean"], fast["mean"])
    for lev in (80, 95):
        w_exact = exact[f"hi-{lev}"] - exact[f"lo-{lev}"]
        w_fast = fast[f"hi-{lev}"] - fast[f"lo-{lev}"]
        ratio = (w_fast / w_exact)[exact["component"] == "open_invoices"]
        assert ratio.between(0.75, 1.3).all(), ratio.describe()
    with pytest.raises(ParamsError, match="interval_method='mc'"):
        cash_in_forecast(ledger, AS_OF, "13W", interval_method="mc", **kw)


def test_new_sales_follow_the_sales_forecast(ledger):
    none = cash_in_forecast(ledger, AS_OF, "12M", sales_forecast="none", n_draws=DRAWS)
    assert (none.loc[none["component"] == "new_sales", "mean"] == 0).all()
    small = cash_in_forecast(ledger, AS_OF, "12M", sales_forecast=_stub_sales(AS_OF, yuan=1e7),
                             n_draws=DRAWS)
    big = cash_in_forecast(ledger, AS_OF, "12M", sales_forecast=_stub_sales(AS_OF, yuan=2e7),
                           n_draws=DRAWS)
    s = small.loc[small["component"] == "new_sales", "mean"].to_numpy()
    g = big.loc[big["component"] == "new_sales", "mean"].to_numpy()
    np.testing.assert_allclose(g, 2 * s, rtol=1e-9)  # linear in the sales forecast
    assert s[0] < s[-1]  # new invoices take time to be paid: cash ramps up
    # the open part does not depend on the sales forecast
    o1 = small.loc[small["component"] == "open_invoices", "mean"].to_numpy()
    o2 = none.loc[none["component"] == "open_invoices", "mean"].to_numpy()
    np.testing.assert_allclose(o1, o2)


def test_multi_model_sales_forecast_picks_a_model(ledger):
    two = pd.concat([_stub_sales(AS_OF, yuan=1e7, model="A"),
                     _stub_sales(AS_OF, yuan=3e7, model="B")])
    a = cash_in_forecast(ledger, AS_OF, "13W", sales_forecast=two, n_draws=DRAWS)
    b = cash_in_forecast(ledger, AS_OF, "13W", sales_forecast=two, sales_model="B", n_draws=DRAWS)
    assert a.attrs["sales_model"] == "A" and b.attrs["sales_model"] == "B"
    na = a.loc[a["component"] == "new_sales", "mean"].sum()
    nb = b.loc[b["component"] == "new_sales", "mean"].sum()
    assert nb == pytest.approx(3 * na)
    with pytest.raises(ParamsError, match="sales_model='C'"):
        cash_in_forecast(ledger, AS_OF, "13W", sales_forecast=two, sales_model="C", n_draws=DRAWS)
    with pytest.raises(ParamsError, match="lacks column"):
        cash_in_forecast(ledger, AS_OF, "13W", sales_forecast=pd.DataFrame({"ds": []}),
                         n_draws=DRAWS)


def test_recent_sales_forecast_reads_only_the_past(ledger):
    f = recent_sales_forecast(ledger, "2025-06-30", h=12)
    assert list(f.columns) == ["unique_id", "ds", "model", "mean", "lo-80", "hi-80", "lo-95",
                               "hi-95"]
    assert f["ds"].iloc[0] == pd.Timestamp("2025-07-01") and len(f) == 12
    assert (f["mean"] > 0).all()
    g = recent_sales_forecast(_truncate(ledger, pd.Timestamp("2025-06-30")), "2025-06-30", h=12)
    pd.testing.assert_frame_equal(f, g)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(n_draws=5), "n_draws must be"),
        (dict(seed=-1), "seed must be"),
        (dict(timing_shock=-0.1), "timing_shock must be"),
        (dict(segment="no_such_column"), "no_such_column"),
        (dict(weekend="sunday"), "weekend='sunday' is not supported"),
        (dict(sales_forecast="ets"), "sales_forecast must be"),
        (dict(lookback_days=3), "lookback_days must be"),
    ],
)
def test_bad_arguments(ledger, kw, match):
    with pytest.raises(ParamsError, match=match):
        cash_in_forecast(ledger, AS_OF, "13W", **kw)


def test_timing_learned_from_a_regular_payer():
    """One customer always pays ten days after due: open invoices are forecast there."""
    days = pd.date_range("2024-01-05", "2025-06-27", freq="7D")
    n = len(days)
    due = days + pd.Timedelta(days=60)
    paid = due + pd.Timedelta(days=10)
    as_of = pd.Timestamp("2025-06-30")
    inv = pd.DataFrame({
        "invoice_id": [f"I{i:03d}" for i in range(n)], "customer_id": "C1", "invoice_date": days,
        "due_date": due, "amount": np.int64(100_000), "order_id": None, "salesperson_id": None,
        "product_line": None, "currency": "CNY",
    })
    done = paid <= as_of
    pay = pd.DataFrame({
        "payment_id": [f"P{i:03d}" for i in np.flatnonzero(done)], "customer_id": "C1",
        "payment_date": paid[done], "amount": np.int64(100_000), "method": None,
        "reference": inv["invoice_id"][done].to_numpy(),
    })
    alloc = pd.DataFrame({"payment_id": pay["payment_id"], "invoice_id": pay["reference"],
                          "amount": np.int64(100_000)})
    cust = pd.DataFrame({"customer_id": ["C1"], "customer_type": ["tertiary_hospital"],
                         "payment_terms_days": [60]})
    led = Ledger.from_frames(customers=cust, invoices=inv, payments=pay, allocations=alloc)
    fc = cash_in_forecast(led, as_of, "13W", sales_forecast="none", n_draws=100)
    got = fc.loc[fc["component"] == "open_invoices", "mean"].to_numpy()
    periods = cash_periods(as_of, "13W")
    open_paid = paid[~done]
    want = np.array([((open_paid >= s) & (open_paid <= e)).sum() * 1000.0
                     for s, e in zip(periods["period_start"], periods["period_end"], strict=True)])
    np.testing.assert_allclose(got, want, rtol=0.01, atol=15.0)


# --------------------------------------------------------------------------- point in time
def test_forecast_uses_nothing_after_as_of(ledger):
    """The ledger as known on as_of, and any change after it, give the same forecast."""
    as_of = pd.Timestamp("2025-12-31")
    kw = dict(horizon="13W", sales_forecast="recent", n_draws=DRAWS, seed=1)
    full = cash_in_forecast(ledger, as_of, **kw)
    past = cash_in_forecast(_truncate(ledger, as_of), as_of, **kw)
    pd.testing.assert_frame_equal(full, past)
    # move, drop and add receipts after as_of: nothing changes
    t = dict(ledger.tables)
    pay, alloc = t["payments"].copy(), t["allocations"]
    later = pay["payment_date"] > as_of
    drop = pay.loc[later, "payment_id"].iloc[::2]
    pay.loc[later, "payment_date"] = pay.loc[later, "payment_date"] + pd.Timedelta(days=17)
    pay = pay[~pay["payment_id"].isin(drop)]
    alloc = alloc[~alloc["payment_id"].isin(drop)]
    open_inv = t["invoices"].loc[t["invoices"]["invoice_date"] <= as_of, "invoice_id"].iloc[-1]
    pay = pd.concat([pay, pd.DataFrame({
        "payment_id": ["PNEW"], "customer_id": [t["invoices"].set_index("invoice_id").loc[
            open_inv, "customer_id"]], "payment_date": [as_of + pd.Timedelta(days=1)],
        "amount": [np.int64(1)], "method": [None], "reference": [open_inv]})], ignore_index=True)
    alloc = pd.concat([alloc, pd.DataFrame({"payment_id": ["PNEW"], "invoice_id": [open_inv],
                                            "amount": [np.int64(1)]})], ignore_index=True)
    t.update(payments=pay, allocations=alloc)
    changed = cash_in_forecast(Ledger(t), as_of, **kw)
    pd.testing.assert_frame_equal(full, changed)
    # ... while a receipt on as_of itself is history and does change it
    t2 = dict(t)
    pay2 = pay.copy()
    pay2.loc[pay2["payment_id"] == "PNEW", "payment_date"] = as_of
    t2["payments"] = pay2
    assert not cash_in_forecast(Ledger(t2), as_of, **kw).equals(full)


def test_backtest_reports_and_refuses_future(ledger):
    with pytest.raises(ParamsError, match="after the last payment date"):
        backtest_cash_in(ledger, ["2026-10-15"], "13W", sales_forecast="none", n_draws=DRAWS)
    with pytest.raises(ParamsError, match="as_of_dates is empty"):
        backtest_cash_in(ledger, [], "13W")
    with pytest.raises(ParamsError, match="makes its own sales forecast"):
        backtest_cash_in(ledger, ["2025-06-30"], "13W", sales_forecast=_stub_sales("2025-06-30"))


# --------------------------------------------------------------------------- back-test figures
def test_backtest_13_weeks_beats_naive(ledger):
    """Weekly receipts, 6 month-end forecast dates: WAPE well below the 8-week run rate's."""
    dates = pd.date_range("2025-09-30", "2026-07-31", freq="2ME")
    bt = backtest_cash_in(ledger, dates, "13W", sales_forecast="recent", n_draws=DRAWS)
    s = bt.summary.set_index("method")
    assert len(bt.detail) == 6 * 13
    assert bt.beats_naive
    # recorded on the demo (20,000 invoices, seed 0): 0.097 vs 0.203
    assert s.loc["cash_in_forecast", "wape"] < 0.70 * s.loc["naive", "wape"]
    assert s.loc["cash_in_forecast", "wape"] < 0.13
    assert s.loc["cash_in_forecast", "coverage_95"] >= 0.80


def test_backtest_12_months_beats_naive(ledger):
    """Monthly receipts over a year, 5 forecast dates (recorded: 0.058 vs 0.082)."""
    dates = pd.date_range("2025-06-30", "2025-10-31", freq="ME")
    bt = backtest_cash_in(ledger, dates, "12M", sales_forecast="recent", n_draws=DRAWS)
    s = bt.summary.set_index("method")
    assert bt.beats_naive
    assert s.loc["cash_in_forecast", "wape"] < 0.9 * s.loc["naive", "wape"]
    assert s.loc["cash_in_forecast", "mae"] < s.loc["naive", "mae"]
