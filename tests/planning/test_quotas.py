"""Quotas: exact splits, phasing and growth scenarios."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from medrisk.data import Target
from medrisk.data.demo import make_ledger
from medrisk.exceptions import ParamsError
from medrisk.planning import (
    QuotaBasis,
    build_quotas,
    growth_scenario,
    largest_remainder,
    monthly_sales,
    plan_year,
    quota_basis,
    split_target,
)

AS_OF = "2026-10-31"
MONTHS = pd.date_range("2027-01-01", periods=12, freq="MS")
SEASON = np.array([1.0, 0.5, 1.1, 1.0, 1.0, 1.2, 1.0, 1.0, 1.2, 0.9, 1.05, 1.6])


@pytest.fixture(scope="module")
def ledger():
    return make_ledger(n_invoices=20_000, seed=0)


@pytest.fixture(scope="module")
def region_basis(ledger):
    return quota_basis(ledger, AS_OF, 2027, by="region")


def _basis(units: dict[tuple, float], by: tuple[str, ...], season=SEASON) -> QuotaBasis:
    rows = []
    for key, size in units.items():
        for m, s in zip(MONTHS, season, strict=True):
            rows.append({**dict(zip(by, key, strict=True)), "period": m, "expected": size * s})
    return QuotaBasis(year=2027, by=by, as_of=pd.Timestamp("2026-10-31"), basis="forecast",
                      expected=pd.DataFrame(rows), base_sales=1_000_000_00, base_forecast_months=2)


# --------------------------------------------------------------------------- arithmetic
@pytest.mark.parametrize(("total", "weights", "expected"), [
    (1, [1, 1, 1], [1, 0, 0]),
    (2, [1, 1, 1], [1, 1, 0]),
    (100, [1, 1, 1], [34, 33, 33]),
    (10, [0, 0, 0], [4, 3, 3]),
    (0, [5, 1], [0, 0]),
    (7, [0.1, 0.2, 0.7], [1, 1, 5]),
    (5, [1, 0, 1], [3, 0, 2]),
])
def test_largest_remainder(total, weights, expected):
    got = largest_remainder(total, weights)
    assert got.dtype == np.int64
    assert got.tolist() == expected


def test_largest_remainder_is_exact_for_large_awkward_amounts():
    rng = np.random.default_rng(3)
    for total in (10**13 + 7, 99_999_999_999, 3):
        w = rng.random(37) ** 3
        parts = largest_remainder(total, w)
        assert parts.sum() == total
        exact = total * w / w.sum()
        assert np.all(np.abs(parts - exact) < 1.0 + 1e-6)


@pytest.mark.parametrize(("total", "weights", "match"), [
    (-1, [1], "non-negative integer"),
    (1.5, [1], "non-negative integer"),
    (10, [1, np.nan], "finite and non-negative"),
    (10, [1, -2], "finite and non-negative"),
    (10, [], "at least one"),
])
def test_largest_remainder_rejects_bad_input(total, weights, match):
    with pytest.raises(ParamsError, match=match):
        largest_remainder(total, weights)


# --------------------------------------------------------------------------- splitting
def test_one_fen_across_three_regions():
    basis = _basis({("华东",): 1.0, ("华南",): 1.0, ("华北",): 1.0}, ("region",))
    q = split_target(basis, 1)
    assert q["target_amount"].sum() == 1
    hit = q[q["target_amount"] > 0]
    assert len(hit) == 1
    assert hit["region"].iloc[0] == "华东"  # tie: the first unit in label order
    assert hit["period"].iloc[0] == pd.Timestamp("2027-12-01")  # the heaviest month


def test_quotas_add_up_at_every_level():
    rng = np.random.default_rng(7)
    units = {}
    for r in ("华东", "华南", "西北"):
        for c in ("direct", "distributor"):
            for s in range(rng.integers(1, 4)):
                units[(r, c, f"S{r}{c}{s}")] = float(rng.gamma(2.0, 1.0))
    by = ("region", "channel", "salesperson_id")
    target = 1_000_000_01  # 1,000,000.01 元
    q = split_target(_basis(units, by), target, phasing="unit")
    Target.validate(q)
    assert q["target_amount"].sum() == target
    assert (q.groupby(list(by)).size() == 12).all()
    # each level is the largest-remainder split of its parent's quota
    w = pd.Series(units)
    w.index.names = list(by)
    regions = w.groupby(level=0).sum()
    exp_r = dict(zip(regions.index, largest_remainder(target, regions.to_numpy()), strict=True))
    got_r = q.groupby("region")["target_amount"].sum().to_dict()
    assert got_r == exp_r
    for r, rq in exp_r.items():
        ch = w.loc[r].groupby(level=0).sum()
        exp_c = dict(zip(ch.index, largest_remainder(rq, ch.to_numpy()), strict=True))
        got_c = q[q["region"] == r].groupby("channel")["target_amount"].sum().to_dict()
        assert got_c == exp_c
    # months of each salesperson add up to the salesperson's annual quota (phased by SEASON)
    annual = q.groupby("salesperson_id")["target_amount"].sum()
    for sp, amount in annual.items():
        months = q.loc[q["salesperson_id"] == sp, "target_amount"].to_numpy()
        assert months.tolist() == largest_remainder(int(amount), SEASON).tolist()


def test_split_target_rejects_bad_arguments():
    basis = _basis({("华东",): 1.0}, ("region",))
    with pytest.raises(ParamsError, match="annual_target must be a non-negative integer"):
        split_target(basis, 10.5)
    with pytest.raises(ParamsError, match="phasing='weekly' is not supported"):
        split_target(basis, 10, phasing="weekly")
    with pytest.raises(ParamsError, match="not a valid quota hierarchy"):
        build_quotas(None, AS_OF, 2027, growth=0.1, by="customer_type")
    with pytest.raises(ParamsError, match="exactly one of annual_target"):
        build_quotas(None, AS_OF, 2027)


def test_phasing_follows_the_seasonality(region_basis):
    q = split_target(region_basis, 800_000_000_00)
    months = q.groupby("period")["target_amount"].sum()
    assert months.idxmax() == pd.Timestamp("2027-12-01")  # year-end push
    assert months.idxmin() == pd.Timestamp("2027-02-01")  # 春节 2027-02-06
    assert months[pd.Timestamp("2027-03-01")] > months[pd.Timestamp("2027-04-01")]  # quarter end
    # the monthly profile is the (bottom-up) forecast of the regions' total
    profile = region_basis.expected.groupby("period")["expected"].sum()
    np.testing.assert_allclose(months / months.sum(), profile / profile.sum(), atol=1e-9)
    flat = split_target(region_basis, 800_000_000_00, phasing="flat")
    spread = flat.groupby("region")["target_amount"].agg(lambda s: s.max() - s.min())
    assert (spread <= 1).all()
    own = split_target(region_basis, 800_000_000_00, phasing="unit")
    for r, g in own.groupby("region"):
        exp = region_basis.expected[region_basis.expected["region"] == r]
        assert g.set_index("period")["target_amount"].idxmax() == exp.set_index("period")[
            "expected"].idxmax()


def test_growth_scenario(ledger, region_basis):
    ms = monthly_sales(ledger, AS_OF)
    actual = ms.loc[ms["ds"].dt.year == 2026, "amount"].sum()  # January to October 2026
    assert region_basis.base_forecast_months == 2
    assert region_basis.base_sales > actual
    q0 = growth_scenario(region_basis, 0.0)
    q15 = growth_scenario(region_basis, 0.15)
    assert q0["target_amount"].sum() == region_basis.base_sales
    assert q15["target_amount"].sum() == round(region_basis.base_sales * 1.15)
    assert q15.attrs["growth"] == 0.15
    shares0 = q0.groupby("region")["target_amount"].sum() / q0["target_amount"].sum()
    shares15 = q15.groupby("region")["target_amount"].sum() / q15["target_amount"].sum()
    np.testing.assert_allclose(shares0, shares15, atol=1e-9)
    with pytest.raises(ParamsError, match="growth must be a rate"):
        growth_scenario(region_basis, -1.5)


def test_quota_basis_history_and_errors(ledger):
    with pytest.raises(ParamsError, match="has started"):
        quota_basis(ledger, AS_OF, 2026)
    hist = quota_basis(ledger, "2025-12-31", 2026, by="region", basis="history")
    ms = monthly_sales(ledger, "2025-12-31", by="region")
    last12 = ms[ms["ds"].dt.year == 2025].groupby("region")["y"].sum()
    np.testing.assert_allclose(hist.expected.groupby("region")["expected"].sum(), last12)
    assert hist.base_sales == ms.loc[ms["ds"].dt.year == 2025, "amount"].sum()
    q = growth_scenario(hist, 0.1)
    assert q["target_amount"].sum() == round(hist.base_sales * 1.1)
    open_year = quota_basis(ledger, AS_OF, 2027, by="region", basis="history")
    assert open_year.base_sales is None
    with pytest.raises(ParamsError, match="not known"):
        growth_scenario(open_year, 0.1)


def test_salesperson_quotas_on_the_demo(ledger):
    q = build_quotas(ledger, AS_OF, 2027, annual_target=900_000_000_01,
                     by=("region", "salesperson_id"))
    Target.validate(q)
    assert q["target_amount"].sum() == 900_000_000_01
    sp_region = ledger.salespeople.set_index("salesperson_id")["region"]
    assert (q["salesperson_id"].map(sp_region) == q["region"]).all()
    assert q["channel"].isna().all() and q["product_line"].isna().all()


# -- the plan year ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "as_of,expected",
    [
        ("2026-10-31", 2027),
        ("2026-12-31", 2027),  # the last day of a year still plans the next one
        ("2027-01-01", 2028),  # from the first day of a year, the year after it
        (pd.Timestamp("2026-12-31 23:59"), 2027),
        (np.datetime64("2027-01-01"), 2028),
        (dt.date(2024, 2, 29), 2025),
    ],
)
def test_plan_year_is_the_year_after_as_of(as_of, expected):
    assert plan_year(as_of) == expected
    assert type(plan_year(as_of)) is int


def test_plan_year_is_what_quota_basis_accepts(region_basis):
    assert region_basis.year == plan_year(AS_OF)


@pytest.mark.parametrize("as_of", ["2026-13-01", "next year", None])
def test_plan_year_rejects_a_bad_date(as_of):
    with pytest.raises(ParamsError, match=r"as_of must be a date such as '2025-12-31'"):
        plan_year(as_of)


def test_a_unit_without_a_value_keeps_its_row_and_the_shares_add_to_one():
    """Customers with no region: their quota is not dropped from the summary."""
    from medrisk.planning import quota_summary

    quotas = pd.DataFrame({"period": pd.to_datetime(["2027-01-01"] * 3),
                           "region": ["华东", None, "华南"],
                           "target_amount": [300_00, 100_00, 600_00]})
    out = quota_summary(quotas, "region")
    assert len(out) == 3 and int(out["annual"].sum()) == 1_000_00
    assert out["share"].sum() == pytest.approx(1.0)
    assert out["region"].isna().sum() == 1
