"""Sales from the ledger: monthly sales, the forecast's hierarchy and the back-test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_tables

from medrisk.data import Ledger
from medrisk.data.demo import make_ledger
from medrisk.exceptions import ParamsError
from medrisk.planning import MISSING_LABEL, TOTAL_ID, backtest_sales, forecast_sales, monthly_sales

AS_OF = "2026-10-31"  # the demo's extract date, a month end


@pytest.fixture(scope="module")
def ledger():
    return make_ledger(n_invoices=20_000, seed=0)


# --------------------------------------------------------------------------- monthly sales
def test_monthly_sales_total_is_exact_and_point_in_time(ledger):
    ms = monthly_sales(ledger, AS_OF)
    inv = ledger.invoices
    assert set(ms["unique_id"]) == {TOTAL_ID}
    assert ms["amount"].sum() == inv.loc[inv["invoice_date"] <= AS_OF, "amount"].sum()
    assert ms["ds"].max() == pd.Timestamp("2026-10-01")
    np.testing.assert_array_equal(ms["y"].to_numpy(), ms["amount"].to_numpy() / 100)
    # a past as_of reads only what was issued by then, and drops its partial month
    past = monthly_sales(ledger, "2025-06-15")
    assert past["ds"].max() == pd.Timestamp("2025-05-01")
    assert past["amount"].sum() == inv.loc[inv["invoice_date"] < "2025-06-01", "amount"].sum()
    full = ms.set_index("ds")["amount"]
    assert (past.set_index("ds")["amount"] == full.loc[past["ds"]]).all()


def test_monthly_sales_groups_add_up_to_the_total(ledger):
    total = monthly_sales(ledger, AS_OF).set_index("ds")["amount"]
    for by in ["region", ["region", "category"], "channel", "customer_type", "product_line"]:
        ms = monthly_sales(ledger, AS_OF, by=by)
        sums = ms.groupby("ds")["amount"].sum()
        pd.testing.assert_series_equal(sums, total, check_names=False)
        names = [by] if isinstance(by, str) else by
        assert set(names) <= set(ms.columns)
        # every series runs without gaps to the last complete month
        assert (ms.groupby("unique_id")["ds"].max() == pd.Timestamp("2026-10-01")).all()
        assert (ms.groupby("unique_id")["ds"].count() == ms.groupby("unique_id")["ds"].agg(
            lambda s: (s.max().year - s.min().year) * 12 + s.max().month - s.min().month + 1)).all()


def test_category_splits_invoices_over_order_lines(ledger):
    by_cat = monthly_sales(ledger, AS_OF, by="category").groupby("category")["amount"].sum()
    by_line = monthly_sales(ledger, AS_OF, by="product_line")
    by_line = by_line.groupby("product_line")["amount"].sum()
    assert by_cat.sum() == by_line.sum()
    # equipment orders carry wear-part lines: splitting moves money out of equipment
    assert by_cat["equipment"] < by_line["equipment"]


def test_category_split_is_exact_to_the_fen():
    t = tiny_tables()
    t["order_lines"] = pd.DataFrame({
        "order_id": ["O1", "O1", "O2"], "line_no": [1, 2, 1], "sku": ["K1", "K2", "K2"],
        "quantity": [1, 2, 400], "unit_price": [120_000_00, 1, 2_50],
        "discount_rate": [0.0, 0.0, 0.0],
    })  # I1 (120,000.00) is order O1: 120,000.00 of equipment and 0.02 of consumables
    led = Ledger.from_frames(**t)
    ms = monthly_sales(led, "2025-03-31", by="category")
    got = ms.groupby(["category", "ds"])["amount"].sum()
    # shares 12,000,000 x 12,000,000 / 12,000,002 = 11,999,998.0000003 fen and
    # 12,000,000 x 2 / 12,000,002 = 1.9999997 fen: the fen left over goes to the larger
    # remainder (consumable)
    assert got[("equipment", pd.Timestamp("2025-01-01"))] == 11_999_998
    assert got[("consumable", pd.Timestamp("2025-01-01"))] == 2
    assert got[("consumable", pd.Timestamp("2025-02-01"))] == 1_000_00
    # I3 has no order and its product_line (耗材) is not a category
    assert got[(MISSING_LABEL, pd.Timestamp("2025-03-01"))] == 50_000_00
    assert ms["amount"].sum() == led.invoices["amount"].sum()


def test_monthly_sales_rejects_unknown_grouping(ledger):
    with pytest.raises(ParamsError, match="by='colour' is not a column"):
        monthly_sales(ledger, AS_OF, by="colour")
    with pytest.raises(ParamsError, match="as_of must be a date"):
        monthly_sales(ledger, "not a date")


# --------------------------------------------------------------------------- forecast_sales
def test_forecast_sales_is_bottom_up_coherent(ledger):
    fc = forecast_sales(ledger, AS_OF, by="region", h=12, level=(80, 95))
    assert list(fc.columns) == ["unique_id", "ds", "model", "mean", "lo-95", "lo-80", "hi-80",
                                "hi-95", "region"]
    assert fc["ds"].min() == pd.Timestamp("2026-11-01")
    groups, total = fc[fc["unique_id"] != TOTAL_ID], fc[fc["unique_id"] == TOTAL_ID]
    assert len(total) == 12 and groups["region"].nunique() == 7
    assert total["region"].isna().all()
    sums = groups.groupby("ds")["mean"].sum().to_numpy()
    np.testing.assert_allclose(total["mean"].to_numpy(), sums, rtol=1e-12)
    bands = fc[["lo-95", "lo-80", "mean", "hi-80", "hi-95"]].to_numpy()
    assert (bands >= 0).all() and (np.diff(bands, axis=1) >= -1e-6).all()
    assert groups["model"].str.startswith("ETS(").all()
    assert total["model"].str.startswith("bottom_up(").all()
    # December (year-end push) is the peak month, February (春节 2027-02-06) the trough
    t = total.set_index("ds")["mean"]
    assert t.idxmax() == pd.Timestamp("2026-12-01")
    assert t.idxmin() == pd.Timestamp("2027-02-01")


def test_forecast_sales_total_only_for_the_cash_forecast(ledger):
    fc = forecast_sales(ledger, "2026-10-15", h=3)  # partial month: forecast starts with it
    assert list(fc["unique_id"].unique()) == [TOTAL_ID]
    assert list(fc["ds"]) == list(pd.date_range("2026-10-01", periods=3, freq="MS"))
    assert fc["model"].nunique() == 1


def test_short_history_and_late_groups(ledger):
    short = make_ledger(n_invoices=3_000, seed=1, months=14)
    fc = forecast_sales(short, AS_OF, by="region", h=6)
    models = set(fc.loc[fc["unique_id"] != TOTAL_ID, "model"])
    assert models <= {"ETS(A,Ad,N)+cal", "ETS(A,N,N)+cal", "SeasonalNaive", "HistoricAverage"}
    assert np.isfinite(fc[["mean", "lo-95", "hi-95"]].to_numpy()).all()
    # a region that only started selling in 2026 gets a short-history model, not a crash
    inv = ledger.invoices
    late = inv["customer_id"].isin(ledger.customers.loc[ledger.customers["region"] == "西北",
                                                        "customer_id"])
    t = dict(ledger.tables, invoices=inv[~late | (inv["invoice_date"] >= "2026-01-01")])
    fc = forecast_sales(Ledger(t), AS_OF, by="region", h=3)
    nw = fc[fc["region"] == "西北"]
    assert nw["model"].iloc[0] == "ETS(A,N,N)+cal" and len(nw) == 3
    with pytest.raises(ParamsError, match="No invoices in a complete month"):
        forecast_sales(ledger, "2020-01-31")


# --------------------------------------------------------------------------- the back-test
def test_backtest_beats_seasonal_naive_by_ten_percent(ledger):
    """Done criterion of issue 6: WAPE(AutoETS) <= 0.9 x WAPE(seasonal naive), seed 0."""
    bt = backtest_sales(ledger, AS_OF, by="region", h=3, n_windows=6)
    r = bt.set_index(["level", "model"])
    for level in ("series", "total"):
        ets, snaive = r.loc[(level, "AutoETS")], r.loc[(level, "SeasonalNaive")]
        assert ets["wape"] <= 0.9 * snaive["wape"], (level, ets["wape"], snaive["wape"])
        assert ets["mase"] < snaive["mase"]
        assert snaive["wape_ratio"] == 1.0
    assert r.loc[("series", "AutoETS"), "n_series"] == 7
    assert r.loc[("series", "AutoETS"), "n_windows"] == 6
    assert r.loc[("series", "AutoETS"), "n_points"] == 7 * 6 * 3
    # the figures on this seed (reported in the issue): a regression shows here first
    assert r.loc[("series", "AutoETS"), "wape"] == pytest.approx(0.151, abs=0.02)
    assert r.loc[("series", "SeasonalNaive"), "wape"] == pytest.approx(0.224, abs=1e-3)
