"""Plan attainment and plan alerts: arithmetic by hand, thresholds, the demo company."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk.config import PARAMS_DIR
from medrisk.data import Ledger
from medrisk.data.demo import make_ledger
from medrisk.exceptions import MissingTableError, ParamsError
from medrisk.planning import (
    ALERT_KEYS,
    attainment,
    attainment_alerts,
    history_alerts,
    load_alert_thresholds,
    plan_alerts,
)

AS_OF = "2026-10-31"


@pytest.fixture(scope="module")
def ledger():
    return make_ledger(n_invoices=20_000, seed=0)


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
    with pytest.raises(MissingTableError, match="no 'targets' table"):
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
