"""Quotas: exact splits, phasing, growth scenarios, attainment and plan alerts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk.config import PARAMS_DIR
from medrisk.demo import make_ledger
from medrisk.exceptions import MissingTableError, ParamsError
from medrisk.ledger import Ledger
from medrisk.quotas import (
    ALERT_KEYS,
    QuotaBasis,
    attainment,
    attainment_alerts,
    build_quotas,
    growth_scenario,
    history_alerts,
    largest_remainder,
    load_alert_thresholds,
    plan_alerts,
    quota_basis,
    split_target,
)
from medrisk.sales import monthly_sales
from medrisk.schemas import Target

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


# --------------------------------------------------------------------------- attainment
def _plan_ledger(with_targets: bool = True) -> Ledger:
    D = pd.Timestamp
    regions = ["华东", "华南", "华北", "西南"]
    customers = pd.DataFrame({
        "customer_id": [f"C{i}" for i in range(4)], "name": regions, "customer_type": "clinic",
        "region": regions, "province": None, "channel": "direct",
        "salesperson_id": [f"S{i}" for i in range(4)], "credit_limit": 1_000_000,
        "payment_terms_days": 30, "opened_date": D("2020-01-01"),
    })
    salespeople = pd.DataFrame({"salesperson_id": [f"S{i}" for i in range(4)], "name": None,
                                "team": None, "region": regions, "manager_id": None})
    # (customer, date, fen): Jan and Feb complete on 2026-03-15, March partial
    sales = [
        (0, "2026-01-10", 60_00), (0, "2026-01-20", 25_00), (0, "2026-02-10", 85_00),
        (1, "2026-01-10", 85_00), (1, "2026-02-10", 84_99),
        (2, "2026-01-10", 130_00), (2, "2026-02-10", 70_00),
        (3, "2026-01-10", 200_00), (3, "2026-02-10", 69_99),
        (0, "2026-03-10", 500_00), (0, "2026-03-20", 999_00),
    ]
    invoices = pd.DataFrame({
        "invoice_id": [f"I{i}" for i in range(len(sales))],
        "customer_id": [f"C{c}" for c, _, _ in sales],
        "invoice_date": [D(d) for _, d, _ in sales],
        "due_date": [D(d) + pd.Timedelta(days=30) for _, d, _ in sales],
        "amount": [a for _, _, a in sales], "order_id": None, "salesperson_id": None,
        "product_line": "consumable", "currency": "CNY",
    })
    payments = pd.DataFrame({"payment_id": ["P1"], "customer_id": ["C0"],
                             "payment_date": [D("2026-02-09")], "amount": [60_00],
                             "method": None, "reference": ["I0"]})
    tables = {"customers": customers, "salespeople": salespeople, "invoices": invoices,
              "payments": payments}
    if with_targets:
        tables["targets"] = pd.DataFrame({
            "period": [D(m) for _ in regions for m in ("2026-01-01", "2026-02-01", "2026-03-01")],
            "target_amount": 100_00, "region": [r for r in regions for _ in range(3)],
            "channel": None, "salesperson_id": None, "product_line": None,
        })
    return Ledger.from_frames(**tables)


def test_attainment_arithmetic_by_hand():
    led = _plan_ledger()
    att = attainment(led, "2026-03-15")
    assert list(att.columns) == ["region", "period", "plan", "actual", "attainment", "plan_ytd",
                                 "actual_ytd", "attainment_ytd", "source"]
    assert att["period"].max() == pd.Timestamp("2026-02-01")  # March is not complete
    r = att.set_index(["region", "period"])
    feb, jan = pd.Timestamp("2026-02-01"), pd.Timestamp("2026-01-01")
    assert r.loc[("华东", jan), "actual"] == 85_00
    assert r.loc[("华东", feb), ["plan", "actual", "plan_ytd", "actual_ytd"]].tolist() == [
        100_00, 85_00, 200_00, 170_00]
    assert r.loc[("华东", feb), "attainment_ytd"] == 0.85
    assert r.loc[("华南", feb), "attainment_ytd"] == 169_99 / 200_00
    assert r.loc[("华北", feb), "attainment"] == 0.70
    assert r.loc[("西南", feb), "attainment"] == 69_99 / 100_00
    assert (att["source"] == "targets").all()
    # a day earlier February is not complete either
    assert attainment(led, "2026-02-27")["period"].max() == jan


def test_attainment_uses_quotas_without_targets_and_sums_to_by():
    led = _plan_ledger(with_targets=False)
    with pytest.raises(ParamsError, match="no targets table"):
        attainment(led, "2026-03-15")
    with pytest.raises(MissingTableError, match="targets"):
        attainment(led, "2026-03-15", source="targets")
    quotas = pd.DataFrame({
        "period": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-02-01"]),
        "target_amount": [50_00, 50_00, 100_00], "region": ["华东", "华东", "华东"],
        "channel": None, "salesperson_id": ["S0", "S9", "S0"], "product_line": None,
    })
    by_sp = attainment(led, "2026-03-15", quotas=quotas)
    assert by_sp.attrs["by"] == ("region", "salesperson_id")
    assert by_sp.set_index(["salesperson_id", "period"]).loc[
        ("S9", pd.Timestamp("2026-01-01")), "actual"] == 0
    by_region = attainment(led, "2026-03-15", quotas=quotas, by="region")
    assert by_region["plan"].tolist() == [100_00, 100_00]
    assert by_region["actual"].tolist() == [85_00, 85_00]
    assert (by_region["source"] == "quotas").all()


# --------------------------------------------------------------------------- alerts
def test_thresholds_file():
    th = load_alert_thresholds()
    assert set(th) == set(ALERT_KEYS)
    assert th == load_alert_thresholds(PARAMS_DIR / "plan-alerts.yaml")
    assert th["attainment_ytd_min"] == 0.85 and th["history_sd_below"] == 2.0


def test_thresholds_are_checked(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("attainment_ytd_min: 0.85\nsales_drop: 0.2\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"unknown key\(s\) \['sales_drop'\]"):
        load_alert_thresholds(bad)
    bad.write_text("attainment_ytd_min: high\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="attainment_ytd_min must be a non-negative number"):
        load_alert_thresholds(bad)


def test_attainment_alerts_fire_strictly_below_the_thresholds():
    led = _plan_ledger()
    th = {"attainment_ytd_min": 0.85, "attainment_month_min": 0.70, "history_sd_below": None}
    alerts = plan_alerts(led, "2026-03-15", thresholds=th)
    got = sorted(zip(alerts["scope_id"], alerts["rule"], strict=True))
    # 华东 YTD exactly 0.85 and 华北 month exactly 0.70: no alert
    assert got == [("华南", "attainment_ytd_min"), ("西南", "attainment_month_min")]
    row = alerts[alerts["scope_id"] == "华南"].iloc[0]
    assert row["value"] == 169_99 / 200_00 and row["threshold"] == 0.85
    assert row["period"] == pd.Timestamp("2026-02-01") and row["scope"] == "region"
    assert "84.99" not in row["message_en"] and "85.0%" in row["message_en"]
    assert "华南" in row["message_zh"] and "达成率" in row["message_zh"]
    off = attainment_alerts(attainment(led, "2026-03-15"), {"attainment_ytd_min": None})
    assert off.empty
    # with the history check on, two or one months of history do not break anything
    assert set(plan_alerts(led, "2026-03-15")["rule"]) >= {"attainment_ytd_min"}
    assert set(plan_alerts(led, "2026-02-27")["rule"]) <= {"attainment_month_min"}


def test_history_alerts_at_the_boundary():
    expect = pd.DataFrame({
        "region": ["华东", "华南", "华北", "西南"],
        "period": pd.Timestamp("2026-10-01"),
        "actual": [80.0, 79.99, 100.0, 0.0], "expected": [100.0] * 4, "sd": [10.0, 10.0, 10.0, 0.0],
    })
    expect["z"] = (expect["actual"] - expect["expected"]) / expect["sd"].replace(0, np.nan)
    expect.attrs["by"] = ("region",)
    alerts = history_alerts(expect, {"history_sd_below": 2.0})
    assert alerts["scope_id"].tolist() == ["华南"]  # z = -2.001; 华东 is exactly -2
    assert alerts["threshold"].iloc[0] == -2.0
    assert alerts["metric"].iloc[0] == "sales_z"
    assert "standard deviations below" in alerts["message_en"].iloc[0]
    assert "个标准差" in alerts["message_zh"].iloc[0]
    assert history_alerts(expect, {"history_sd_below": None}).empty


def test_plan_alerts_on_the_demo(ledger):
    alerts = plan_alerts(ledger, AS_OF)
    assert list(alerts.columns) == ["as_of", "period", "rule", "scope", "scope_id", "metric",
                                    "value", "threshold", "message_en", "message_zh"]
    assert set(alerts["rule"]) <= set(ALERT_KEYS)
    assert (alerts["period"] == pd.Timestamp("2026-10-01")).all()
    assert alerts["message_en"].str.len().gt(0).all() and alerts["message_zh"].str.len().gt(0).all()
