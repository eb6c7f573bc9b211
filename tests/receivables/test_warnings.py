"""Warnings, on the example company of test_kpis (see its docstring)."""

from __future__ import annotations

import pytest
from test_kpis import example_ledger

from medrisk import receivables as A
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


# -- the thresholds file ----------------------------------------------------------------
def write_thresholds(tmp_path, text):
    p = tmp_path / "warnings.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_params_file_holds_the_default_thresholds():
    assert A.DEFAULT_WARNINGS_PATH.name == "warnings.yaml"
    assert A.DEFAULT_WARNINGS_PATH.parent.name == "params"
    th = A.load_warning_thresholds()
    assert th == {
        "overdue_rate_max": 0.3,
        "dso_increase_days_max": 10.0,
        "bad_debt_rate_max": 0.02,
        "over_credit_limit": True,  # the receivables report's value
        "utilisation_max": None,  # the reports never checked it; the credit report lists >80%
        "customer_overdue_rate_max": None,
        "long_overdue_days": None,
    }
    assert th == A.DEFAULT_THRESHOLDS  # one set of values, in the file and in the package
    assert list(th) == list(A.DEFAULT_THRESHOLDS)
    assert A.load_warning_thresholds(str(A.DEFAULT_WARNINGS_PATH)) == th
    assert A.load_warning_thresholds("") == th  # a blank parameter means the default file


def test_thresholds_file_types_and_keys_left_out(tmp_path, example):
    p = write_thresholds(tmp_path, "# only two checks\noverdue_rate_max: 1\n"
                                   "long_overdue_days: 10\nover_credit_limit: false\n")
    th = A.load_warning_thresholds(p)
    assert th == {**dict.fromkeys(A.DEFAULT_THRESHOLDS), "overdue_rate_max": 1.0,
                  "long_overdue_days": 10, "over_credit_limit": False}
    assert type(th["overdue_rate_max"]) is float and type(th["long_overdue_days"]) is int
    # what the loader returns is what warnings() takes
    w = A.warnings(example, "2025-03-31", th)
    assert set(w["rule"]) == {"long_overdue_days"}
    assert A.load_warning_thresholds(write_thresholds(tmp_path, "# nothing\n")) == dict.fromkeys(
        A.DEFAULT_THRESHOLDS
    )


@pytest.mark.parametrize(
    "text,pattern",
    [
        ("overdue_rate_max: 0.3\noverdue_rate: 0.2\n",
         r"warnings.yaml: unknown key 'overdue_rate' \(value 0.2\)\. Did you mean "
         r"'overdue_rate_max'\? Allowed keys are \['overdue_rate_max', "),
        ("over_credit_limit: yes\n",  # YAML 1.2: `yes` is a string
         r"warnings.yaml: over_credit_limit must be true or false, or null to switch the check "
         r"off; got 'yes' \(str\)"),
        ("overdue_rate_max: 30%\n", r"overdue_rate_max must be a share from 0 to 1 .*got '30%'"),
        ("bad_debt_rate_max: 2\n", r"bad_debt_rate_max must be a share from 0 to 1.*got 2 \(int\)"),
        ("utilisation_max: true\n", r"utilisation_max must be a number of at least 0.*got True"),
        ("dso_increase_days_max: .nan\n", r"dso_increase_days_max must be a number of days.*nan"),
        ("long_overdue_days: 90.5\n",
         r"long_overdue_days must be a whole number of days of at least 0.*got 90.5 \(float\)"),
        ("customer_overdue_rate_max: -0.1\n", r"customer_overdue_rate_max must be a share.*-0.1"),
        ("- overdue_rate_max: 0.3\n", r"warnings.yaml: expected a mapping of threshold names"),
        ("overdue_rate_max: [0.3\n", r"warnings.yaml: not valid YAML"),
    ],
)
def test_thresholds_file_mistakes_name_the_file_key_and_value(tmp_path, text, pattern):
    with pytest.raises(ParamsError, match=pattern):
        A.load_warning_thresholds(write_thresholds(tmp_path, text))


def test_missing_thresholds_file(tmp_path):
    with pytest.raises(ParamsError, match=r"nowhere.yaml does not exist; the thresholds of the "
                                          r"reports are in .*params/warnings.yaml"):
        A.load_warning_thresholds(tmp_path / "nowhere.yaml")
