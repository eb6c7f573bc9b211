"""Warnings, on the example company of test_kpis (see its docstring)."""

from __future__ import annotations

import pytest
from test_kpis import example_ledger

from medrisk import alerts as A
from medrisk.exceptions import ParamsError


@pytest.fixture
def example():
    return example_ledger()


# -- warnings ---------------------------------------------------------------------------
def test_warnings_report_each_breach_in_english_and_chinese(example):
    th = {
        "overdue_rate_max": 0.5,
        "bad_debt_rate_max": 0.02,
        "over_credit_limit": True,
        "utilisation_max": 0.7,
        "long_overdue_days": 10,
    }
    w = A.warnings(example, "2025-03-31", th)
    assert list(w.columns) == [
        "as_of",
        "rule",
        "scope",
        "scope_id",
        "metric",
        "value",
        "threshold",
        "message_en",
        "message_zh",
    ]
    got = {(r.rule, r.scope_id) for r in w.itertuples()}
    assert got == {
        ("overdue_rate_max", "company"),
        ("bad_debt_rate_max", "company"),
        ("over_credit_limit", "B"),
        ("utilisation_max", "A"),
        ("long_overdue_days", "B"),
    }
    rate = w.set_index("rule").loc["overdue_rate_max"]
    assert rate["value"] == pytest.approx(200_000 / 345_000) and rate["threshold"] == 0.5
    assert "58.0%" in rate["message_en"] and "逾期率" in rate["message_zh"]
    # 12 months to 03-31: write-offs 80,000 / sales 880,000 (I0 of June 2024 included)
    bad = w.set_index("rule").loc["bad_debt_rate_max"]
    assert bad["value"] == pytest.approx(80_000 / 880_000)
    over = w.set_index("rule").loc["over_credit_limit"]
    assert "2,000.00" in over["message_en"] and "信用额度" in over["message_zh"]
    assert A.warnings(example, "2025-03-31", {"overdue_rate_max": 0.9}).empty


def test_warning_on_dso_increase(example):
    # one-month windows: March DSO 345,000 / 500,000 x 31 = 21.39;
    # February 340,000 / 200,000 x 28 = 47.6
    # change = 21.39 - 47.6 = -26.21 days: no warning at a limit of 0, a warning at a limit of -30
    assert A.warnings(
        example, "2025-03-31", {"dso_increase_days_max": 0}, dso_window_months=1
    ).empty
    w = A.warnings(example, "2025-03-31", {"dso_increase_days_max": -30}, dso_window_months=1)
    assert w["rule"].tolist() == ["dso_increase_days_max"]
    assert w["value"].iloc[0] == pytest.approx(21.39 - 47.6)
    assert "DSO" in w["message_en"].iloc[0] and "周转天数" in w["message_zh"].iloc[0]


def test_unknown_threshold_is_refused(example):
    with pytest.raises(
        ParamsError, match=r"Unknown threshold\(s\) \['overdue_max'\]. Possible keys are"
    ):
        A.warnings(example, "2025-03-31", {"overdue_max": 0.3})
