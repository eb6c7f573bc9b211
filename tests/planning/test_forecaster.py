"""Forecasting models: the calendar, the Forecaster API, fallbacks and cross-validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from medrisk.exceptions import ParamsError, SchemaError
from medrisk.planning import (
    AutoETS,
    Forecaster,
    HistoricAverage,
    Naive,
    SeasonalNaive,
    business_days,
)


def _long(values: dict[str, np.ndarray], start: str = "2024-01-01") -> pd.DataFrame:
    frames = [pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(y), freq="MS"),
                            "y": np.asarray(y, dtype=float)}) for uid, y in values.items()]
    return pd.concat(frames, ignore_index=True)


def _seasonal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 * 1.015**t * (1 + 0.3 * (t % 12 == 11)) + rng.normal(0, 5, n)


# --------------------------------------------------------------------------- calendar
def test_business_days_follow_the_spring_festival():
    jan, feb, mar = business_days(pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"]))
    assert feb < 0.6 * jan  # 春节 2026-02-17: February loses most of its working days
    jan25, feb25 = business_days(pd.to_datetime(["2025-01-01", "2025-02-01"]))
    assert jan25 < jan  # 春节 2025-01-29 falls in January: January is the weak month
    assert feb25 > feb
    oct_, nov = business_days(pd.to_datetime(["2025-10-01", "2025-11-01"]))
    assert oct_ < nov  # National Day week


# --------------------------------------------------------------------------- the Forecaster
def test_predict_has_the_statsforecast_shape():
    df = _long({"a": _seasonal(30), "b": _seasonal(30, 1)})
    fc = Forecaster(models=[AutoETS(), SeasonalNaive()], freq="MS").fit(df)
    out = fc.predict(4, level=[80, 95])
    assert list(out.columns) == [
        "unique_id", "ds",
        "AutoETS", "AutoETS-lo-95", "AutoETS-lo-80", "AutoETS-hi-80", "AutoETS-hi-95",
        "SeasonalNaive", "SeasonalNaive-lo-95", "SeasonalNaive-lo-80", "SeasonalNaive-hi-80",
        "SeasonalNaive-hi-95",
    ]
    assert len(out) == 8
    assert out["ds"].min() == pd.Timestamp("2026-07-01")
    for m in ("AutoETS", "SeasonalNaive"):
        cols = [f"{m}-lo-95", f"{m}-lo-80", m, f"{m}-hi-80", f"{m}-hi-95"]
        assert (np.diff(out[cols].to_numpy(), axis=1) >= 0).all()
    used = fc.models_used_.set_index(["unique_id", "alias"])["model"]
    assert used[("a", "AutoETS")] == "ETS(A,Ad,A)+cal"
    assert used[("a", "SeasonalNaive")] == "SeasonalNaive"


def test_fallback_chain_handles_short_late_and_intermittent_series():
    zeros = np.zeros(30)
    zeros[::3] = 50.0  # two months in three without sales
    df = _long({
        "long": _seasonal(30),
        "year_and_half": _seasonal(18),
        "eight": _seasonal(8),
        "three": _seasonal(3),
        "intermittent": zeros,
        "all_zero": np.zeros(14),
    })
    df.loc[df["unique_id"] == "eight", "ds"] += pd.DateOffset(months=22)  # starts late
    fc = Forecaster(models=[AutoETS(), SeasonalNaive(), Naive(), HistoricAverage()]).fit(df)
    used = fc.models_used_[fc.models_used_["alias"] == "AutoETS"].set_index("unique_id")["model"]
    assert used.to_dict() == {
        "all_zero": "SeasonalNaive",
        "eight": "ETS(A,N,N)+cal",
        "intermittent": "ETS(A,N,N)+cal",
        "long": "ETS(A,Ad,A)+cal",
        "three": "HistoricAverage",
        "year_and_half": "ETS(A,Ad,N)+cal",
    }
    out = fc.predict(12, level=[80, 95])
    assert np.isfinite(out.drop(columns=["unique_id", "ds"]).to_numpy()).all()
    assert (out.loc[out["unique_id"] == "all_zero", "AutoETS"] == 0).all()
    # each series is forecast from its own last month
    firsts = out.groupby("unique_id")["ds"].min()
    assert firsts["eight"] == pd.Timestamp("2026-07-01")
    assert firsts["three"] == pd.Timestamp("2024-04-01")


def test_forecaster_errors_are_clear():
    df = _long({"a": _seasonal(30)})
    with pytest.raises(ParamsError, match="aliases must be unique"):
        Forecaster([AutoETS(), AutoETS()]).fit(df)
    with pytest.raises(ParamsError, match="freq='D' is not supported"):
        Forecaster([Naive()], freq="D").fit(df)
    with pytest.raises(ParamsError, match="min_seasonal_obs"):
        Forecaster([AutoETS(min_seasonal_obs=12)]).fit(df)
    with pytest.raises(NotFittedError):
        Forecaster([Naive()]).predict(3)
    with pytest.raises(SchemaError, match="skips 2024-03"):
        Forecaster([Naive()]).fit(df.drop(index=2))
    with pytest.raises(SchemaError, match="lacks column"):
        Forecaster([Naive()]).fit(df.rename(columns={"y": "sales"}))
    with pytest.raises(SchemaError, match="month starts"):
        Forecaster([Naive()]).fit(df.assign(ds=df["ds"] + pd.Timedelta(days=3)))
    with pytest.raises(ParamsError, match="level must lie strictly between 0 and 100"):
        Forecaster([Naive()]).fit(df).predict(3, level=[80, 120])


def test_cross_validation_windows():
    df = _long({"a": _seasonal(36), "late": _seasonal(10)})
    df.loc[df["unique_id"] == "late", "ds"] += pd.DateOffset(months=26)
    cv = Forecaster([SeasonalNaive(), Naive()]).cross_validation(df, h=3, n_windows=4, step_size=2)
    assert list(cv.columns[:4]) == ["unique_id", "ds", "cutoff", "y"]
    assert cv["cutoff"].nunique() == 4
    assert cv["cutoff"].max() == pd.Timestamp("2026-09-01")  # 3 months before the end
    assert (cv["ds"] > cv["cutoff"]).all()
    assert (cv.groupby(["unique_id", "cutoff"]).size() == 3).all()
    # seasonal naive in a window repeats the month a year before the forecast month
    y = df[df["unique_id"] == "a"].set_index("ds")["y"]
    a = cv[cv["unique_id"] == "a"]
    expected = y.loc[a["ds"] - pd.DateOffset(years=1)].to_numpy()
    np.testing.assert_allclose(a["SeasonalNaive"].to_numpy(), expected)
    with pytest.raises(ParamsError, match="too short"):
        Forecaster([Naive()]).cross_validation(df, h=12, n_windows=30)
