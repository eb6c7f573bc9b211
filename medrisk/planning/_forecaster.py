"""Monthly forecasting models with intervals and rolling-origin back-tests.

The API follows statsforecast: data in long format (``unique_id``, ``ds``,
``y``), ``Forecaster(models=[...], freq="MS")``, ``.fit(df)``,
``.predict(h, level=(80, 95))`` returning one column per model ``alias`` with
``alias-lo-80`` ... ``alias-hi-95``, and ``.cross_validation(df, h, n_windows,
step_size)``. The models come from statsmodels (``ETSModel``); nothing here
re-implements exponential smoothing.

This module is the generic layer: it knows series, not the ledger. Monthly
sales from the ledger, their forecast (销售预测) with the bottom-up hierarchy
and their back-test are in :mod:`medrisk.planning`.

Model (:class:`AutoETS`)
------------------------
Per series, a fallback chain, and the name of the model that served each
series is recorded (``Forecaster.models_used_``, the ``model`` column of
:func:`medrisk.planning.forecast_sales`):

1. ``ETS(A,Ad,A)``: additive errors, damped additive trend and additive
   12-month seasonality (statsmodels ``ETSModel``, heuristic initial states,
   which keeps the parameters few on 24-36 months of data), when the series
   has at least ``min_seasonal_obs`` (24) months and at most
   ``max_zero_share`` of its last 24 months are zero;
2. ``ETS(A,Ad,N)`` (damped trend, no seasonality) from 12 months, or when
   the series is too intermittent for a seasonal model;
3. ``ETS(A,N,N)`` (simple exponential smoothing) from 4 months, and for
   series with more than half their months at zero;
4. ``SeasonalNaive`` (12 months or more) or ``HistoricAverage`` when the
   series is shorter or a fit fails.

Calendar (``+cal``): the Spring Festival (春节) moves between late January and
mid February, so a fixed seasonal index per calendar month cannot follow it.
Each month gets a *business-day weight* (:func:`business_days`): weekdays
count 1, weekends 0, the festival holiday (eve to day 6) 0, the slow weeks
around it (days -10 to -2 and 7 to 15) 0.6, and National Day week (1-7
October) 0. The model is fitted on sales per business day (sales divided by
the month's weight relative to the mean weight of the training months) and
its forecasts and intervals are multiplied back by the future months'
weights. The calendar is a known regressor with a fixed elasticity of 1.

Intervals are the model's own (analytic for the additive ETS models; normal
with the residual spread for the naive baselines; NaN when a single month
cannot show any spread).

Back-test
---------
:meth:`Forecaster.cross_validation` refits every model at each of
``n_windows`` rolling origins (cutoffs ``step_size`` months apart, the last
one ``h`` months before the end). :func:`forecast_metrics` reports per model
WAPE = sum |y - yhat| / sum |y| over all series, windows and horizons, and
MASE = the mean over (series, window) of MAE / the in-sample MAE of the
12-month seasonal naive forecast on that window's training data (lag 1 when
the training data is shorter than 13 months), plus the ratio of each WAPE to
the seasonal-naive WAPE.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, check_scalar
from threadpoolctl import threadpool_limits

from medrisk.exceptions import ParamsError, SchemaError
from medrisk.kernel import SPRING_FESTIVAL

__all__ = [
    "AutoETS",
    "SeasonalNaive",
    "Naive",
    "HistoricAverage",
    "Forecaster",
    "business_days",
    "forecast_metrics",
    "SPRING_FESTIVAL",
    "FESTIVAL_WEIGHTS",
]

#: Spring Festival (春节, first day of the lunar year), 2000-2040.
_FESTIVAL_DAYS = np.array(SPRING_FESTIVAL, dtype="datetime64[D]").astype(np.int64)
#: Business-day weights of :func:`business_days`: (first, last day from the festival, weight).
FESTIVAL_WEIGHTS: tuple[tuple[int, int, float], ...] = ((-10, -2, 0.6), (-1, 6, 0.0), (7, 15, 0.6))
NATIONAL_DAY_WEIGHT = 0.0
_SEASON = 12


# --------------------------------------------------------------------------- calendar
def _month_codes(ds) -> np.ndarray:
    """Months since 1970-01 as int64."""
    return np.asarray(ds, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)


def _month_starts(codes: np.ndarray) -> np.ndarray:
    return np.asarray(codes, dtype=np.int64).astype("datetime64[M]").astype("datetime64[ns]")


def _ym(code) -> str:
    """``"YYYY-MM"`` of a month code, for messages."""
    return str(np.int64(code).astype("datetime64[M]"))


def _business_days_codes(codes: np.ndarray) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.int64)
    if len(codes) == 0:
        return np.zeros(0)
    lo, hi = int(codes.min()), int(codes.max())
    edges = np.arange(lo, hi + 2).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    days = np.arange(edges[0], edges[-1])
    weight = (((days + 3) % 7) < 5).astype(np.float64)  # Monday..Friday
    pos = np.clip(np.searchsorted(_FESTIVAL_DAYS, days), 1, len(_FESTIVAL_DAYS) - 1)
    before, after = days - _FESTIVAL_DAYS[pos - 1], days - _FESTIVAL_DAYS[pos]
    off = np.where(np.abs(after) < np.abs(before), after, before)
    for first, last, w in FESTIVAL_WEIGHTS:
        weight[(off >= first) & (off <= last)] *= w
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    dom = days - month.astype("datetime64[D]").astype(np.int64) + 1
    weight[(month.astype(np.int64) % 12 == 9) & (dom <= 7)] *= NATIONAL_DAY_WEIGHT
    idx = np.searchsorted(edges, days, side="right") - 1
    per_month = np.bincount(idx, weight, minlength=hi - lo + 1)
    return per_month[codes - lo]


def business_days(months) -> np.ndarray:
    """Business-day weight of each month: the calendar regressor of :class:`AutoETS`.

    Weekdays count 1 and weekends 0; around the Spring Festival (春节) days -10
    to -2 count 0.6, the holiday (eve to day 6) 0 and days 7 to 15 0.6; National
    Day week (1-7 October) counts 0 (see :data:`FESTIVAL_WEIGHTS`).

    Parameters
    ----------
    months : array-like of datetime
        Any day of each month (month starts in practice).

    Returns
    -------
    ndarray of float
        The weight of each month (about 16-23).

    Examples
    --------
    >>> import pandas as pd
    >>> business_days(pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"])).round(1)
    array([22. , 10.4, 20.8])
    """
    return _business_days_codes(_month_codes(months))


# --------------------------------------------------------------------------- models
def _z(level: float) -> float:
    return float(norm.ppf(0.5 + level / 200.0))


@dataclass
class _Fitted:
    """One model fitted to one series: knows how to forecast ``h`` months."""

    name: str
    kind: str  # "ets", "snaive", "naive", "mean"
    n: int
    payload: object = None
    last: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sigma: float = np.nan
    factor_out: object = None  # callable(future month codes) -> multiplier

    def predict(self, h: int, future: np.ndarray, levels: Sequence[float]):
        mult = np.ones(h) if self.factor_out is None else self.factor_out(future)
        k = np.arange(1, h + 1)
        bounds: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        if self.kind == "ets":
            pred = self.payload.get_prediction(start=self.n, end=self.n + h - 1)
            mean = np.asarray(pred.predicted_mean, dtype=float)
            for lv in levels:
                pi = np.asarray(pred.pred_int(alpha=1 - lv / 100.0), dtype=float)
                bounds[lv] = (pi[:, 0], pi[:, 1])
        else:
            if self.kind == "snaive":
                mean = self.last[(k - 1) % _SEASON]
                steps = np.sqrt((k - 1) // _SEASON + 1.0)
            elif self.kind == "naive":
                mean = np.full(h, float(self.last[-1]))
                steps = np.sqrt(k)
            else:
                mean = np.full(h, float(self.last[0]))
                steps = np.full(h, np.sqrt(1.0 + 1.0 / max(self.n, 1)))
            for lv in levels:
                half = _z(lv) * self.sigma * steps
                bounds[lv] = (mean - half, mean + half)
        mean = mean * mult
        bounds = {lv: (lo * mult, hi * mult) for lv, (lo, hi) in bounds.items()}
        return mean, bounds


def _rms(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.sqrt(np.mean(x**2))) if len(x) else np.nan


def _fit_mean(y: np.ndarray) -> _Fitted:
    n = len(y)
    m = float(np.mean(y)) if n else 0.0
    sigma = float(np.std(y, ddof=1)) if n > 1 else np.nan
    return _Fitted("HistoricAverage", "mean", n, last=np.array([m]), sigma=sigma)


def _fit_naive(y: np.ndarray) -> _Fitted:
    if len(y) == 0:
        return _fit_mean(y)
    return _Fitted("Naive", "naive", len(y), last=np.asarray(y[-1:], float), sigma=_rms(np.diff(y)))


def _fit_snaive(y: np.ndarray) -> _Fitted:
    if len(y) < _SEASON:
        return _fit_naive(y)
    resid = y[_SEASON:] - y[:-_SEASON]
    sigma = _rms(resid) if len(resid) else _rms(np.diff(y))  # one year only: month-to-month
    return _Fitted("SeasonalNaive", "snaive", len(y), last=np.asarray(y[-_SEASON:], float),
                   sigma=sigma)


def _scalar(value, name: str, kind, lo, hi) -> None:
    """``sklearn.utils.check_scalar``, raising a ParamsError (a ValueError) with its message."""
    try:
        check_scalar(value, name, kind, min_val=lo, max_val=hi)
    except (TypeError, ValueError) as exc:
        raise ParamsError(f"{exc} Got {value!r}.") from exc


def _check_alias(alias) -> None:
    if not isinstance(alias, str) or not alias or "-" in alias:
        raise ParamsError(f"alias must be a non-empty string without '-'; got {alias!r}.")


class _BaseModel(BaseEstimator):
    """Shared plumbing: ``alias``, parameter checks, ``get_params`` and ``repr``."""

    def _validate(self) -> None:
        _check_alias(self.alias)


class SeasonalNaive(_BaseModel):
    """The value of the same month a year earlier (Naive when under 12 months).

    Intervals: normal, with the spread of the in-sample seasonal differences,
    widening with each further year of horizon.

    Parameters
    ----------
    alias : str, default="SeasonalNaive"
        Column name of this model's forecasts.
    """

    def __init__(self, alias: str = "SeasonalNaive"):
        self.alias = alias

    def _fit_series(self, y: np.ndarray, months: np.ndarray) -> _Fitted:
        return _fit_snaive(y)


class Naive(_BaseModel):
    """The last month's value.

    Parameters
    ----------
    alias : str, default="Naive"
        Column name of this model's forecasts.
    """

    def __init__(self, alias: str = "Naive"):
        self.alias = alias

    def _fit_series(self, y: np.ndarray, months: np.ndarray) -> _Fitted:
        return _fit_naive(y)


class HistoricAverage(_BaseModel):
    """The mean of all months.

    Parameters
    ----------
    alias : str, default="HistoricAverage"
        Column name of this model's forecasts.
    """

    def __init__(self, alias: str = "HistoricAverage"):
        self.alias = alias

    def _fit_series(self, y: np.ndarray, months: np.ndarray) -> _Fitted:
        return _fit_mean(y)


class AutoETS(_BaseModel):
    """Exponential smoothing (statsmodels ``ETSModel``) with a fallback chain and a calendar.

    See the module docstring for the chain: ``ETS(A,Ad,A)`` with 12-month
    seasonality from ``min_seasonal_obs`` months, else ``ETS(A,Ad,N)`` (damped
    trend), else ``ETS(A,N,N)`` (simple), else ``SeasonalNaive`` or
    ``HistoricAverage``; ``+cal`` marks fits on business-day-adjusted sales
    (:func:`business_days`).

    Parameters
    ----------
    calendar : bool, default=True
        Fit on sales per business day (Spring Festival, weekends, National Day).
    min_seasonal_obs : int, default=24
        Months needed for the seasonal model (at least 24: two full years).
    max_zero_share : float, default=0.25
        Largest share of zero months (in the last 24) for the seasonal model;
        above 0.5 the simple model serves.
    alias : str, default="AutoETS"
        Column name of this model's forecasts.

    Examples
    --------
    Three years of history get the seasonal model, one year the damped trend:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from medrisk.planning import AutoETS, Forecaster, SeasonalNaive
    >>> months = pd.date_range("2023-01-01", periods=36, freq="MS")
    >>> df = pd.concat([
    ...     pd.DataFrame({"unique_id": "three_years", "ds": months,
    ...                   "y": 100 + 10 * np.sin(np.arange(36) * np.pi / 6) + np.arange(36)}),
    ...     pd.DataFrame({"unique_id": "one_year", "ds": months[-12:], "y": 50.0 + np.arange(12)}),
    ... ])
    >>> fc = Forecaster(models=[AutoETS(), SeasonalNaive()], freq="MS").fit(df)
    >>> fc.models_used_
         unique_id          alias            model  n_obs
    0     one_year        AutoETS  ETS(A,Ad,N)+cal     12
    1     one_year  SeasonalNaive    SeasonalNaive     12
    2  three_years        AutoETS  ETS(A,Ad,A)+cal     36
    3  three_years  SeasonalNaive    SeasonalNaive     36
    >>> fc.predict(3).columns.tolist()
    ['unique_id', 'ds', 'AutoETS', 'SeasonalNaive']
    """

    def __init__(self, calendar: bool = True, min_seasonal_obs: int = 24,
                 max_zero_share: float = 0.25, alias: str = "AutoETS"):
        self.calendar = calendar
        self.min_seasonal_obs = min_seasonal_obs
        self.max_zero_share = max_zero_share
        self.alias = alias

    def _validate(self) -> None:
        super()._validate()
        if not isinstance(self.calendar, (bool, np.bool_)):
            raise ParamsError(f"calendar must be True or False; got {self.calendar!r}.")
        _scalar(self.min_seasonal_obs, "min_seasonal_obs", Integral, 2 * _SEASON, None)
        _scalar(self.max_zero_share, "max_zero_share", Real, 0.0, 1.0)

    def _chain(self, y: np.ndarray) -> list[tuple[str, str | None, bool, str | None, str]]:
        n = len(y)
        zeros = float(np.mean(y[-2 * _SEASON:] == 0)) if n else 1.0
        chain = []
        if n >= self.min_seasonal_obs and zeros <= self.max_zero_share:
            chain.append(("ETS(A,Ad,A)", "add", True, "add", "heuristic"))
        if n >= _SEASON and zeros <= 0.5:
            chain.append(("ETS(A,Ad,N)", "add", True, None, "estimated"))
        if n >= 4:
            chain.append(("ETS(A,N,N)", None, False, None, "estimated"))
        return chain

    def _fit_series(self, y: np.ndarray, months: np.ndarray) -> _Fitted:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        y = np.asarray(y, dtype=float)
        n = len(y)
        factor_out, suffix, adj = None, "", y
        if self.calendar and n:
            bd = _business_days_codes(months)
            scale = float(bd.mean())
            if scale > 0 and np.all(bd > 0):
                adj = y / (bd / scale)
                suffix = "+cal"

                def factor_out(future, scale=scale):
                    return _business_days_codes(future) / scale

        if n and np.ptp(adj) > 0:
            index = pd.DatetimeIndex(_month_starts(months), freq="MS")
            series = pd.Series(adj, index=index)
            for name, trend, damped, seasonal, init in self._chain(adj):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        res = ETSModel(series, error="add", trend=trend, damped_trend=damped,
                                       seasonal=seasonal, seasonal_periods=_SEASON,
                                       initialization_method=init).fit(disp=False)
                    ok = bool(np.isfinite(res.llf) and np.all(np.isfinite(res.params)))
                except (ValueError, np.linalg.LinAlgError, FloatingPointError, ZeroDivisionError):
                    continue
                if ok:
                    return _Fitted(name + suffix, "ets", n, payload=res, factor_out=factor_out)
        return _fit_snaive(y) if n >= _SEASON else _fit_mean(y)


# --------------------------------------------------------------------------- the Forecaster
def _check_levels(level) -> list[float]:
    if level is None:
        return []
    if isinstance(level, Real):
        level = [level]
    try:
        levels = [float(lv) for lv in level]
    except (TypeError, ValueError) as exc:
        raise ParamsError(f"level must be numbers between 0 and 100 such as (80, 95); "
                          f"got {level!r}.") from exc
    bad = [lv for lv in levels if not 0 < lv < 100]
    if bad:
        raise ParamsError(f"level must lie strictly between 0 and 100; got {bad}.")
    return sorted(set(levels))


def _level_name(lv: float) -> str:
    return str(int(lv)) if float(lv).is_integer() else str(lv)


def _check_h(h, name: str = "h") -> int:
    if isinstance(h, bool) or not isinstance(h, Integral) or h < 1:
        raise ParamsError(f"{name} must be a positive integer (months); got {h!r}.")
    return int(h)


@dataclass
class _Series:
    uid: str
    start: int  # month code of the first value
    y: np.ndarray


class Forecaster(BaseEstimator):
    """Fit several forecasting models to many monthly series (statsforecast-style).

    Parameters
    ----------
    models : list of model objects
        E.g. ``[AutoETS(), SeasonalNaive()]``; each needs a unique ``alias``.
    freq : {"MS"}, default="MS"
        Month starts: the only frequency the calendar and the seasonal models know.
    id_col, time_col, target_col : str, default="unique_id", "ds", "y"
        Column names in the frames given to :meth:`fit` and :meth:`cross_validation`.

    Attributes
    ----------
    series_ : list
        The fitted series (id, first month, values).
    fitted_ : dict
        ``(unique_id, alias)`` -> the fitted model of that series.
    models_used_ : DataFrame
        ``unique_id``, ``alias``, ``model`` (the model that served, e.g.
        ``"ETS(A,Ad,A)+cal"``) and ``n_obs``.

    Examples
    --------
    >>> import pandas as pd, numpy as np
    >>> df = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2023-01-01", periods=30,
    ...                    freq="MS"), "y": np.arange(30.0) + 10})
    >>> fc = Forecaster(models=[SeasonalNaive()], freq="MS").fit(df)
    >>> fc.predict(2, level=[80]).columns.tolist()
    ['unique_id', 'ds', 'SeasonalNaive', 'SeasonalNaive-lo-80', 'SeasonalNaive-hi-80']
    """

    def __init__(self, models, freq: str = "MS", id_col: str = "unique_id",
                 time_col: str = "ds", target_col: str = "y"):
        self.models = models
        self.freq = freq
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    # -- checks -------------------------------------------------------------
    def _check_params(self) -> None:
        if self.freq != "MS":
            raise ParamsError(f"freq={self.freq!r} is not supported. Possible values are: ['MS'].")
        if isinstance(self.models, (str, bytes)) or not isinstance(self.models, Iterable):
            raise ParamsError(f"models must be a list of model objects; got {self.models!r}.")
        models = list(self.models)
        if not models:
            raise ParamsError("models must name at least one model, e.g. [AutoETS()].")
        for m in models:
            if not hasattr(m, "_fit_series") or not hasattr(m, "alias"):
                raise ParamsError(f"{m!r} is not a medrisk.planning model; possible models are "
                                  "AutoETS, SeasonalNaive, Naive, HistoricAverage.")
            m._validate()
        aliases = [m.alias for m in models]
        dup = sorted({a for a in aliases if aliases.count(a) > 1})
        if dup:
            raise ParamsError(f"Model aliases must be unique; {dup} is used more than once. "
                              "Give each model its own alias=...")

    def _series(self, df: pd.DataFrame) -> list[_Series]:
        if not isinstance(df, pd.DataFrame):
            raise SchemaError(f"df must be a DataFrame; got {type(df).__name__}.")
        cols = [self.id_col, self.time_col, self.target_col]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise SchemaError(f"df lacks column(s) {missing}; it needs {cols} (long format); "
                              f"got {list(df.columns)}.")
        if len(df) == 0:
            raise SchemaError("df has no rows.")
        try:
            ds = pd.to_datetime(df[self.time_col])
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"Column {self.time_col!r} must hold dates.") from exc
        if ds.isna().any():
            raise SchemaError(f"Column {self.time_col!r} has missing dates.")
        if not (ds.dt.day == 1).all() or not (ds == ds.dt.normalize()).all():
            bad = ds[ds.dt.day != 1].iloc[0] if (ds.dt.day != 1).any() else ds.iloc[0]
            raise SchemaError(f"Column {self.time_col!r} must hold month starts (freq='MS'); "
                              f"got {bad}.")
        y = pd.to_numeric(df[self.target_col], errors="coerce").to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(y)):
            raise SchemaError(f"Column {self.target_col!r} must hold finite numbers; "
                              f"{int((~np.isfinite(y)).sum())} value(s) are missing or not finite.")
        frame = pd.DataFrame({"uid": df[self.id_col].astype(str).to_numpy(),
                              "m": _month_codes(ds), "y": y})
        frame = frame.sort_values(["uid", "m"], kind="stable")
        dup = frame.duplicated(["uid", "m"])
        if dup.any():
            r = frame[dup].iloc[0]
            raise SchemaError(f"Series {r['uid']!r} has more than one row for "
                              f"{_ym(r['m'])}: one row per (unique_id, ds).")
        out = []
        for uid, g in frame.groupby("uid", sort=True):
            m = g["m"].to_numpy()
            if len(m) > 1 and np.any(np.diff(m) != 1):
                gap = int(m[np.flatnonzero(np.diff(m) != 1)[0]] + 1)
                raise SchemaError(f"Series {uid!r} skips {_ym(gap)}; "
                                  "every month from its first to its last needs a row "
                                  "(fill months without sales with 0).")
            out.append(_Series(str(uid), int(m[0]), g["y"].to_numpy()))
        return out

    # -- API ----------------------------------------------------------------
    def fit(self, df: pd.DataFrame) -> Forecaster:
        """Fit every model to every series of ``df``.

        Parameters
        ----------
        df : DataFrame
            Long format: ``unique_id``, ``ds`` (month starts, no gaps within a
            series) and ``y``. Other columns are ignored.

        Returns
        -------
        Forecaster
            ``self``.

        Raises
        ------
        ParamsError
            For bad models, aliases or frequency.
        SchemaError
            For missing columns, duplicate or missing months, non-finite values.
        """
        self._check_params()
        series = self._series(df)
        fitted, used = {}, []
        with threadpool_limits(limits=1, user_api="blas"):  # tiny problems: threads only cost
            for s in series:
                months = s.start + np.arange(len(s.y))
                for m in self.models:
                    f = m._fit_series(s.y, months)
                    fitted[(s.uid, m.alias)] = f
                    used.append((s.uid, m.alias, f.name, len(s.y)))
        self.series_ = series
        self.fitted_ = fitted
        self.models_used_ = pd.DataFrame(used, columns=["unique_id", "alias", "model", "n_obs"])
        return self

    def predict(self, h: int, level=None) -> pd.DataFrame:
        """Forecast ``h`` months after each series' last month.

        Parameters
        ----------
        h : int
            Horizon in months.
        level : sequence of float, default=None
            Interval coverages in percent, e.g. ``(80, 95)``.

        Returns
        -------
        DataFrame
            ``unique_id``, ``ds`` and per model ``alias`` plus
            ``alias-lo-<level>`` / ``alias-hi-<level>`` columns.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        """
        check_is_fitted(self, "fitted_")
        h = _check_h(h)
        levels = _check_levels(level)
        frames = []
        with threadpool_limits(limits=1, user_api="blas"):
            for s in self.series_:
                future = s.start + len(s.y) + np.arange(h)
                cols: dict[str, object] = {self.id_col: s.uid,
                                           self.time_col: _month_starts(future)}
                for m in self.models:
                    mean, bounds = self.fitted_[(s.uid, m.alias)].predict(h, future, levels)
                    cols[m.alias] = mean
                    for lv in sorted(levels, reverse=True):
                        cols[f"{m.alias}-lo-{_level_name(lv)}"] = bounds[lv][0]
                    for lv in levels:
                        cols[f"{m.alias}-hi-{_level_name(lv)}"] = bounds[lv][1]
                frames.append(pd.DataFrame(cols))
        return pd.concat(frames, ignore_index=True)

    def cross_validation(self, df: pd.DataFrame, h: int, n_windows: int = 1, step_size: int = 1,
                         level=None) -> pd.DataFrame:
        """Rolling-origin back-test: refit at each cutoff and forecast ``h`` months.

        The last cutoff is ``h`` months before the last month of ``df``; the
        others are ``step_size`` months apart before it. A series takes part in
        a window when it has at least one month up to the cutoff.

        Parameters
        ----------
        df : DataFrame
            Long format, as for :meth:`fit`.
        h : int
            Horizon in months.
        n_windows : int, default=1
            Number of cutoffs.
        step_size : int, default=1
            Months between cutoffs.
        level : sequence of float, default=None
            Interval coverages in percent.

        Returns
        -------
        DataFrame
            ``unique_id``, ``ds``, ``cutoff``, ``y`` and the forecast columns
            of :meth:`predict`, for the months with an actual value.

        Raises
        ------
        ParamsError
            When the data is too short for the windows asked for.
        """
        self._check_params()
        h = _check_h(h)
        n_windows = _check_h(n_windows, "n_windows")
        step_size = _check_h(step_size, "step_size")
        series = self._series(df)
        last = max(s.start + len(s.y) - 1 for s in series)
        first = min(s.start for s in series)
        cutoffs = last - h - step_size * np.arange(n_windows - 1, -1, -1)
        if cutoffs[0] < first:
            raise ParamsError(
                f"The data ({_ym(first)} to {_ym(last)})"
                f" is too short for n_windows={n_windows}, step_size={step_size} and h={h}: "
                f"the first cutoff would be {_ym(cutoffs[0])}."
            )
        frames = []
        for cut in cutoffs:
            rows = []
            for s in series:
                n_train = int(cut - s.start + 1)
                if n_train < 1:
                    continue
                actual = s.y[n_train:n_train + h]
                if len(actual) == 0:
                    continue
                m = s.start + np.arange(n_train)
                rows.append(pd.DataFrame({self.id_col: s.uid, self.time_col: _month_starts(m),
                                          self.target_col: s.y[:n_train]}))
            if not rows:
                continue
            train = pd.concat(rows, ignore_index=True)
            fc = Forecaster(self.models, self.freq, self.id_col, self.time_col,
                            self.target_col).fit(train).predict(h, level)
            fc["cutoff"] = pd.Timestamp(_month_starts([cut])[0])
            frames.append(fc)
        out = pd.concat(frames, ignore_index=True)
        actual = pd.DataFrame({self.id_col: [s.uid for s in series for _ in s.y],
                               self.time_col: np.concatenate(
                                   [_month_starts(s.start + np.arange(len(s.y))) for s in series]),
                               self.target_col: np.concatenate([s.y for s in series])})
        out = out.merge(actual, on=[self.id_col, self.time_col], how="inner")
        first_cols = [self.id_col, self.time_col, "cutoff", self.target_col]
        return out[first_cols + [c for c in out.columns if c not in first_cols]]


# --------------------------------------------------------------------------- back-test
def _scale(y: np.ndarray) -> float:
    lag = _SEASON if len(y) > _SEASON else 1
    if len(y) <= lag:
        return np.nan
    s = float(np.mean(np.abs(y[lag:] - y[:-lag])))
    return s if s > 0 else np.nan


def forecast_metrics(cv: pd.DataFrame, history: pd.DataFrame, aliases: Sequence[str],
                     baseline: str | None = "SeasonalNaive") -> pd.DataFrame:
    """WAPE and MASE per model from a :meth:`Forecaster.cross_validation` frame.

    Parameters
    ----------
    cv : DataFrame
        ``unique_id``, ``ds``, ``cutoff``, ``y`` and one column per alias.
    history : DataFrame
        The long frame the back-test ran on (``unique_id``, ``ds``, ``y``), for
        the MASE scale of each window's training data.
    aliases : sequence of str
        Model columns to score.
    baseline : str or None, default="SeasonalNaive"
        Alias whose WAPE the others are compared with (``wape_ratio``).

    Returns
    -------
    DataFrame
        ``model``, ``wape``, ``mase``, ``wape_ratio`` (WAPE / baseline WAPE),
        ``n_series``, ``n_windows``, ``n_points``.
    """
    hist = history.sort_values(["unique_id", "ds"])
    by_uid = {u: (g["ds"].to_numpy(), g["y"].to_numpy(float)) for u, g in
              hist.groupby("unique_id", sort=False)}
    scales = {}
    for (uid, cut), _ in cv.groupby(["unique_id", "cutoff"], sort=False):
        ds, y = by_uid[uid]
        scales[(uid, cut)] = _scale(y[ds <= np.datetime64(cut)])
    key = list(zip(cv["unique_id"], cv["cutoff"], strict=True))
    scale = np.array([scales[k] for k in key])
    y = cv["y"].to_numpy(float)
    rows = []
    for a in aliases:
        err = np.abs(y - cv[a].to_numpy(float))
        wape = float(err.sum() / np.abs(y).sum()) if np.abs(y).sum() > 0 else np.nan
        per = pd.DataFrame({"k": pd.Series(key, dtype=object), "e": err, "s": scale})
        mae = per.groupby("k", sort=False).agg(e=("e", "mean"), s=("s", "first"))
        ratio = (mae["e"] / mae["s"]).replace([np.inf, -np.inf], np.nan)
        rows.append({"model": a, "wape": wape, "mase": float(ratio.mean()),
                     "n_series": int(cv["unique_id"].nunique()),
                     "n_windows": int(cv["cutoff"].nunique()), "n_points": int(len(cv))})
    out = pd.DataFrame(rows)
    base = out.loc[out["model"] == baseline, "wape"]
    out.insert(3, "wape_ratio", out["wape"] / float(base.iloc[0]) if len(base) else np.nan)
    return out
