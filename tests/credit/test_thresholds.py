"""Risk tiers, threshold tuning, YAML round trip, reasons and score metrics."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from medrisk.config import PARAMS_DIR
from medrisk.credit import (
    RiskThresholds,
    assign_tiers,
    best_threshold,
    classification_metrics,
    expected_calibration_error,
    flag_summary,
    ks_statistic,
    lift_table,
    load_thresholds,
    reasons,
    save_thresholds,
    threshold_table,
    tier_summary,
)
from medrisk.exceptions import ParamsError


@pytest.fixture
def scores():
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "probability": [0.1, 0.35, 0.55, 0.8],
            "exposure": [100_000_00, 200_000_00, 300_000_00, 400_000_00],  # fen
            "expected_sales": [50_000_00, 50_000_00, 50_000_00, 50_000_00],
            "bad": [0, 0, 1, 1],
        }
    )


def test_default_file_loads():
    th = load_thresholds()
    assert th.bounds() == (0.3, 0.5, 0.7) and th.flag_tier == "high"
    assert th.late_after_days == 30 and th.lgd == 0.45


def test_tiers_use_lower_bounds():
    th = RiskThresholds(0.3, 0.5, 0.7)
    t = assign_tiers([0.0, 0.29, 0.3, 0.5, 0.69, 0.7, 1.0, np.nan], th)
    assert list(t.astype(object)) == [
        "low",
        "low",
        "medium",
        "high",
        "high",
        "very_high",
        "very_high",
        np.nan,
    ]


@pytest.mark.parametrize(
    "bad",
    [
        dict(medium=0.5, high=0.4),
        dict(very_high=1.0),
        dict(medium=0.0),
        dict(flag_tier="low"),
        dict(lgd=1.5),
    ],
)
def test_invalid_thresholds_raise(bad):
    with pytest.raises(ParamsError, match=r"got|is not supported"):
        RiskThresholds(**{**dict(medium=0.3, high=0.5, very_high=0.7), **bad}).validate()


def test_threshold_table_actual_counts(scores):
    t = threshold_table(
        scores, [0.3, 0.5, 0.9], lgd=0.5, margin_rate=0.2, goodwill_yuan=1000, label_col="bad"
    )
    r = t.set_index("threshold")
    # at 0.5: C and D flagged (both bad); A, B unflagged (both good)
    assert (r.loc[0.5, ["tp", "fp", "fn", "tn"]] == [2, 0, 0, 2]).all()
    assert r.loc[0.5, "expected_cost"] == 0
    # at 0.3: B wrongly flagged: 0.2 x 50,000 + 1,000
    assert r.loc[0.3, "cost_false_flags"] == pytest.approx(11_000)
    # at 0.9: C and D missed: 0.5 x (300,000 + 400,000)
    assert r.loc[0.9, "cost_missed"] == pytest.approx(350_000)
    assert r.loc[0.9, "customers_flagged"] == 0 and r.loc[0.3, "exposure_flagged"] == 900_000
    assert best_threshold(t)["threshold"] == 0.5
    assert (t["tp"] + t["fn"] == 2).all()


def test_threshold_table_expected_counts(scores):
    t = threshold_table(scores, [0.5], lgd=0.45, margin_rate=0.3, goodwill_yuan=0).iloc[0]
    assert t["tp"] == pytest.approx(0.55 + 0.8) and t["fp"] == pytest.approx(0.45 + 0.2)
    # a missed customer costs its expected loss: exposure x probability x lgd
    assert t["cost_missed"] == pytest.approx(0.45 * (0.1 * 100_000 + 0.35 * 200_000))


def test_flag_summary_and_tiers(scores):
    th = RiskThresholds(0.3, 0.5, 0.7, flag_tier="very_high")
    f = flag_summary(scores, th, label_col="bad")
    assert f["threshold"] == 0.7 and f["customers_flagged"] == 1 and f["fn"] == 1
    ts = tier_summary(scores, th)
    assert ts["customers"].tolist() == [1, 1, 1, 1]
    assert ts.loc["very_high", "exposure"] == 400_000
    assert ts.loc["high", "exposure_at_risk"] == pytest.approx(300_000 * 0.55 * 0.45)


def test_save_keeps_comments(tmp_path):
    path = tmp_path / "risk-thresholds.yaml"
    shutil.copy(PARAMS_DIR / "risk-thresholds.yaml", path)
    before = path.read_text(encoding="utf-8")
    save_thresholds(path, high=0.55, very_high=0.75, goodwill_yuan=3000)
    after = path.read_text(encoding="utf-8")
    th = load_thresholds(path)
    assert th.bounds() == (0.3, 0.55, 0.75) and th.goodwill_yuan == 3000
    comments = [ln for ln in before.splitlines() if ln.lstrip().startswith("#")]
    assert comments and all(c in after for c in comments)
    assert "# coin flip or worse" in after and "high: 0.55" in after
    assert len(after.splitlines()) == len(before.splitlines())
    with pytest.raises(ParamsError, match=r"Unknown threshold field\(s\) \['extreme'\]"):
        save_thresholds(path, extreme=0.9)
    with pytest.raises(ParamsError, match=r"0 < medium < high < very_high < 1"):
        save_thresholds(path, medium=0.6)
    assert load_thresholds(path).medium == 0.3  # a refused save leaves the file alone


def test_load_refuses_unknown_keys(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("tiers: {medium: 0.2, high: 0.4, very_high: 0.6, extreme: 0.9}\n")
    with pytest.raises(ParamsError, match=r"unknown tier or cost key\(s\) \['extreme'\]"):
        load_thresholds(p)


# --------------------------------------------------------------------------- reasons
class _FakeModel:
    late_after_days = 30

    def contributions(self, X):
        from medrisk.credit import FEATURES

        c = np.zeros((len(X), len(FEATURES)))
        c[:, FEATURES.index("hist_recent_late")] = 0.9
        c[:, FEATURES.index("utilisation")] = 0.5
        c[:, FEATURES.index("customer_type")] = 0.2
        c[:, FEATURES.index("max_days_past_due")] = 0.1
        c[:, FEATURES.index("log_amount")] = -0.4  # lowers risk: never a reason
        return c


def test_reasons_in_plain_words():
    from medrisk.credit import FEATURES

    row = {f: 0.0 for f in FEATURES}
    row.update(
        hist_recent_late=3.0,
        hist_recent_known=5.0,
        utilisation=0.92,
        customer_type="clinic",
        max_days_past_due=47.0,
        region="华东",
        channel="direct",
        product_line="reagent",
    )
    X = pd.DataFrame([row], index=pd.Index(["C1"], name="customer_id"))
    r = reasons(_FakeModel(), X, n=4)
    assert r["rank"].tolist() == [1, 2, 3, 4]
    assert r["reason_en"].iloc[0] == "3 of last 5 invoices paid more than 30 days late"
    assert r["reason_zh"].iloc[0] == "近5张发票中有3张逾期超过30天"
    assert r["reason_en"].iloc[1] == "uses 92% of its credit limit"
    assert r["reason_zh"].iloc[2] == "客户类型：诊所"
    assert "log_amount" not in set(r["feature"])


# --------------------------------------------------------------------------- metrics
def test_metrics_on_known_cases():
    y = np.array([0, 0, 1, 1])
    assert ks_statistic(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert ks_statistic(y, [0.5, 0.5, 0.5, 0.5]) == 0.0
    rng = np.random.default_rng(0)
    p = rng.random(200_000)
    yy = (rng.random(200_000) < p).astype(int)
    assert expected_calibration_error(yy, p) < 0.01
    assert expected_calibration_error(yy, np.clip(p + 0.1, 0, 1)) > 0.08
    m = classification_metrics(yy, p)
    assert 0.8 < m["roc_auc"] < 0.87 and m["brier"] == pytest.approx(1 / 6, abs=0.01)
    lt = lift_table(yy, p)
    assert lt["n"].sum() == len(p) and lt["bad_rate"].is_monotonic_decreasing
    with pytest.raises(ParamsError, match=r"strategy='median' is not supported"):
        expected_calibration_error(yy, p, strategy="median")


def test_flag_tiers_are_the_flag_tier_and_above():
    assert RiskThresholds(flag_tier="high").flag_tiers == ("high", "very_high")
    assert RiskThresholds(flag_tier="medium").flag_tiers == ("medium", "high", "very_high")
