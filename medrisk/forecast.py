"""Monthly sales forecasts (销售预测) with intervals, hierarchy and back-tests.

The API follows statsforecast: data in long format (``unique_id``, ``ds``,
``y``), ``Forecaster(models=[...], freq="MS")``, ``.fit(df)``,
``.predict(h, level=(80, 95))`` returning one column per model ``alias`` with
``alias-lo-80`` ... ``alias-hi-95``, and ``.cross_validation(df, h, n_windows,
step_size)``. The models come from statsmodels (``ETSModel``); nothing here
re-implements exponential smoothing.

Sales
-----
:func:`monthly_sales` sums **invoice amounts by invoice month** (only invoices
issued on or before ``as_of``) for any grouping. The month of ``as_of`` is
kept only when ``as_of`` is its last day; a partial month is **dropped**, not
scaled (scaling a part month by its days would miss the quarter-end push of
its last days). Forecasts therefore start with the month after the last
complete month, which is the month of the day after ``as_of``. A group's
series starts with its first month with sales (groups that start late are
not padded with zeros before that) and runs to the last complete month, with
zeros for months without sales.

Groupings (``by``): any invoice column (``salesperson_id``, ``product_line``,
``customer_id``...), customer column (``region``, ``province``, ``channel``,
``customer_type``...), salesperson column (``team``; write
``"salespeople.region"`` for the salesperson's region) and ``category``.
``category`` is the product category of what was sold: when the ledger has
``order_lines`` and ``products``, each invoice's amount is split over the
categories of its order's lines in proportion to their net line amounts
(quantity x unit price x (1 - discount), largest-remainder rounding so the
parts add up to the invoice to the fen); invoices without order lines fall
back to their ``product_line`` when it names a category. Without those tables
``category`` is the invoice's ``product_line``.

Model (:class:`AutoETS`)
------------------------
Per series, a fallback chain, and the name of the model that served each
series is recorded (``Forecaster.models_used_``, the ``model`` column of
:func:`forecast_sales`):

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
cannot show any spread). :func:`forecast_sales` clips means and bounds at
zero: sales are not negative.

Hierarchy
---------
:func:`forecast_sales` reconciles **bottom-up**: the total's mean is the sum
of the group means, month by month, exactly (the groups partition the
invoices, so they also add up to the total's history). A sum of interval
bounds is not an interval of the sum, so the total's intervals come from a
model fitted directly to the total series, shifted to centre on the
bottom-up mean (its widths kept).

Back-test
---------
:meth:`Forecaster.cross_validation` refits every model at each of
``n_windows`` rolling origins (cutoffs ``step_size`` months apart, the last
one ``h`` months before the end). :func:`backtest_sales` reports per model
WAPE = sum |y - yhat| / sum |y| over all series, windows and horizons, and
MASE = the mean over (series, window) of MAE / the in-sample MAE of the
12-month seasonal naive forecast on that window's training data (lag 1 when
the training data is shorter than 13 months), plus the ratio of each WAPE to
the seasonal-naive WAPE.

Money: sales are invoice amounts in 元 as floats here. Forecasts are
estimates, not ledger figures; :func:`monthly_sales` also returns the exact
``amount`` in fen.
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

from medrisk.config import FEN_PER_YUAN, PRODUCT_CATEGORIES
from medrisk.exceptions import ParamsError, SchemaError
from medrisk.ledger import Ledger
from medrisk.receivables import _day_of, _positions

__all__ = [
    "AutoETS",
    "SeasonalNaive",
    "Naive",
    "HistoricAverage",
    "Forecaster",
    "business_days",
    "monthly_sales",
    "forecast_sales",
    "backtest_sales",
    "forecast_metrics",
    "sales_dimensions",
    "SPRING_FESTIVAL",
    "FESTIVAL_WEIGHTS",
    "TOTAL_ID",
    "MISSING_LABEL",
]

#: ``unique_id`` of the company total in :func:`forecast_sales` and :func:`monthly_sales`.
TOTAL_ID = "total"
#: Label of a group whose dimension value is missing.
MISSING_LABEL = "(none)"
#: Spring Festival (春节, first day of the lunar year), 2000-2040.
SPRING_FESTIVAL: tuple[str, ...] = (
    "2000-02-05", "2001-01-24", "2002-02-12", "2003-02-01", "2004-01-22", "2005-02-09",
    "2006-01-29", "2007-02-18", "2008-02-07", "2009-01-26", "2010-02-14", "2011-02-03",
    "2012-01-23", "2013-02-10", "2014-01-31", "2015-02-19", "2016-02-08", "2017-01-28",
    "2018-02-16", "2019-02-05", "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22",
    "2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13",
    "2030-02-03", "2031-01-23", "2032-02-11", "2033-01-31", "2034-02-19", "2035-02-08",
    "2036-01-28", "2037-02-15", "2038-02-04", "2039-01-24", "2040-02-12",
)  # fmt: skip
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
    >>> fc = Forecaster(models=[AutoETS(), SeasonalNaive()], freq="MS")  # doctest: +SKIP
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
                raise ParamsError(f"{m!r} is not a medrisk.forecast model; possible models are "
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


# --------------------------------------------------------------------------- sales from the ledger
def sales_dimensions(ledger: Ledger) -> list[str]:
    """Names that ``by=`` accepts in :func:`monthly_sales` and :func:`forecast_sales`.

    Parameters
    ----------
    ledger : Ledger

    Returns
    -------
    list of str
        Invoice, customer and salesperson columns (unqualified when
        unambiguous), and ``category``.
    """
    names: list[str] = []
    for table in ("invoices", "customers", "salespeople"):
        frame = ledger.table(table)
        for col in [] if frame is None else frame.columns:
            if col not in names:
                names.append(col)
    return names + (["category"] if "category" not in names else [])


def _by_names(by) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if isinstance(by, Iterable):
        names = list(by)
        if all(isinstance(b, str) for b in names) and len(set(names)) == len(names):
            return names
    raise ParamsError(f"by must be None, a column name or a list of distinct names; got {by!r}.")


def _resolve(ledger: Ledger, name: str) -> tuple[str, str]:
    """(table, column) that ``name`` reads."""
    if "." in name:
        table, col = name.split(".", 1)
        frame = ledger.table(table) if table in ("invoices", "customers", "salespeople") else None
        if frame is not None and col in frame.columns:
            return table, col
    else:
        if name == "category":
            return "category", "category"
        for table in ("invoices", "customers", "salespeople"):
            frame = ledger.table(table)
            if frame is not None and name in frame.columns:
                return table, name
        if name in ("team", "manager_id"):
            ledger.require("salespeople", f"by={name!r}", ["salesperson_id", name])
    raise ParamsError(f"by={name!r} is not a column of invoices, customers or salespeople. "
                      f"Possible values are: {sales_dimensions(ledger)} (or 'table.column').")


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (missing: the last code) and the labels (missing: MISSING_LABEL)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = np.asarray(uniques, dtype=object)
    codes = np.where(codes < 0, len(labels), codes).astype(np.int64)
    return codes, np.append(labels, MISSING_LABEL).astype(object)


def _lookup(codes: np.ndarray, labels: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Codes of the rows at ``pos`` (-1: not found, missing)."""
    missing = len(labels) - 1
    if len(codes) == 0:
        return np.full(len(pos), missing, np.int64)
    return np.where(pos >= 0, codes[np.maximum(pos, 0)], missing)


def _category_codes(values: pd.Series) -> np.ndarray:
    """Position in PRODUCT_CATEGORIES, len(PRODUCT_CATEGORIES) when missing or another value."""
    known = pd.Series(np.arange(len(PRODUCT_CATEGORIES)), index=list(PRODUCT_CATEGORIES))
    out = pd.Series(values.array).map(known).to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(out), len(PRODUCT_CATEGORIES), out).astype(np.int64)


def _category_split(ledger: Ledger, inv: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """(invoice position, category code, fen) of each invoice part; see the module docstring."""
    n = len(inv)
    amount = inv["amount"].to_numpy(dtype=np.int64)
    fallback = _category_codes(inv["product_line"])
    lines, products = ledger.table("order_lines"), ledger.table("products")
    if lines is None or products is None or n == 0 or inv["order_id"].isna().all():
        return np.arange(n), fallback, amount
    n_cat = len(PRODUCT_CATEGORIES) + 1
    line_cat = _lookup(_category_codes(products["category"]), np.zeros(n_cat), _positions(
        lines["sku"].reset_index(drop=True), products["sku"].reset_index(drop=True)))
    disc = lines["discount_rate"].astype("float64").fillna(0.0).to_numpy()
    net = lines["quantity"].to_numpy(np.float64) * lines["unit_price"].to_numpy(np.float64) * (
        1.0 - disc)
    both = pd.concat([pd.Series(inv["order_id"].array), pd.Series(lines["order_id"].array)],
                     ignore_index=True)
    oc, _ = pd.factorize(both, use_na_sentinel=True)
    inv_oc, line_oc = oc[:n].astype(np.int64), oc[n:].astype(np.int64)
    ok = (line_oc >= 0) & (net > 0)
    key, where = np.unique(line_oc[ok] * n_cat + line_cat[ok], return_inverse=True)
    w = np.bincount(where.ravel(), net[ok], len(key))
    k_order, k_cat = key // n_cat, key % n_cat  # sorted by order, then category
    lo = np.searchsorted(k_order, inv_oc, side="left")
    count = np.where(inv_oc >= 0, np.searchsorted(k_order, inv_oc, side="right") - lo, 0)
    has = count > 0
    p = np.repeat(np.arange(n)[has], count[has])
    first = np.repeat(lo[has], count[has])
    idx = first + np.arange(len(p)) - np.repeat(np.cumsum(count[has]) - count[has], count[has])
    cw = np.r_[0.0, np.cumsum(w)]
    total_w = (cw[lo + count] - cw[lo])[p]
    exact = amount[p] * (w[idx] / total_w)
    base = np.floor(exact).astype(np.int64)
    frac = exact - base
    short = amount[has] - np.add.reduceat(base, np.r_[0, np.cumsum(count[has])[:-1]]) if len(
        p) else np.zeros(0, np.int64)
    short = np.repeat(short, count[has])
    # largest remainder per invoice: rank its parts by fraction (ties: category order); a
    # negative shortfall (float rounding) takes a fen from the smallest fractions
    order = np.lexsort((k_cat[idx], -frac, p))
    size = np.repeat(count[has], count[has])
    rank = np.empty(len(p), np.int64)
    rank[order] = np.arange(len(p)) - np.repeat(np.cumsum(count[has]) - count[has], count[has])
    base = base + (rank < short) - (rank >= size + short)
    rest = np.flatnonzero(~has)
    return (np.r_[p, rest], np.r_[k_cat[idx], fallback[rest]].astype(np.int64),
            np.r_[base, amount[rest]].astype(np.int64))


def _last_complete_month(day: int) -> int:
    """Month code of the last month that is complete on day ``day``."""
    d = np.int64(day).astype("datetime64[D]")
    nxt = (d + 1).astype("datetime64[M]").astype(np.int64)
    return int(nxt) - 1


def _sales_by_month(ledger: Ledger, day: int, names: list[str]) -> pd.DataFrame:
    """Invoiced fen per group label(s) and month code (``m``), cells with invoices only."""
    inv = ledger.invoices
    inv = inv[(inv["invoice_date"] <= pd.Timestamp(np.int64(day).astype("datetime64[D]")))
              .to_numpy()].reset_index(drop=True)
    resolved = [_resolve(ledger, n) for n in names]
    if any(t == "category" for t, _ in resolved):
        pos, cat, amount = _category_split(ledger, inv)
    else:
        pos, cat, amount = np.arange(len(inv)), None, inv["amount"].to_numpy(dtype=np.int64)
    m = _month_codes(inv["invoice_date"].to_numpy())[pos]
    customers = ledger.customers
    cust_pos = _positions(inv["customer_id"].reset_index(drop=True),
                          customers["customer_id"].reset_index(drop=True))
    sp_cache: dict[str, np.ndarray] = {}

    def salesperson() -> tuple[np.ndarray, np.ndarray]:
        if "codes" not in sp_cache:  # the invoice's salesperson, else the customer's
            own = inv["salesperson_id"].reset_index(drop=True)
            if own.isna().any():
                cust_sp = customers["salesperson_id"].reset_index(drop=True)
                via = pd.Series(cust_sp.array.take(np.maximum(cust_pos, 0)) if len(cust_sp)
                                else pd.array([None] * len(own), dtype=own.dtype))
                via[cust_pos < 0] = None
                own = own.where(own.notna(), via)
            sp_cache["codes"], sp_cache["labels"] = _codes(own)
            sp_cache["values"] = own
        return sp_cache["codes"], sp_cache["labels"]

    parts = []
    for table, col in resolved:
        if table == "category":
            codes, labels = cat, np.array(list(PRODUCT_CATEGORIES) + [MISSING_LABEL], object)
        elif table == "invoices" and col == "salesperson_id":
            codes, labels = salesperson()
            codes = codes[pos]
        elif table == "invoices":
            codes, labels = _codes(inv[col].reset_index(drop=True))
            codes = codes[pos]
        elif table == "customers":
            c, labels = _codes(customers[col].reset_index(drop=True))
            codes = _lookup(c, labels, cust_pos)[pos]
        else:
            salesperson()
            sps = ledger.salespeople
            c, labels = _codes(sps[col].reset_index(drop=True))
            sp_pos = _positions(sp_cache["values"], sps["salesperson_id"].reset_index(drop=True))
            codes = _lookup(c, labels, sp_pos)[pos]
        parts.append((codes, labels))
    group = np.zeros(len(pos), np.int64)
    for codes, labels in parts:  # compact after each column: no int64 overflow
        group = np.unique(group * len(labels) + codes, return_inverse=True)[1].ravel()
    m0 = int(m.min()) if len(m) else 0
    span = int(m.max()) - m0 + 1 if len(m) else 1
    sums = pd.Series(amount).groupby(group * span + (m - m0)).sum()
    key = sums.index.to_numpy()
    g, first = np.unique(group, return_index=True)
    cell_group = np.searchsorted(g, key // span)
    out = pd.DataFrame({"m": key % span + m0, "amount": sums.to_numpy(dtype=np.int64)})
    for name, (codes, labels) in zip(names, parts, strict=True):
        out[name] = labels[codes[first]][cell_group]
    return out[names + ["m", "amount"]]


def monthly_sales(ledger: Ledger, as_of, by=None) -> pd.DataFrame:
    """Invoiced sales per month and group, in the long format of :class:`Forecaster`.

    Only invoices issued on or before ``as_of`` count, by invoice month. The
    month of ``as_of`` is kept only when ``as_of`` is its last day (a partial
    month is dropped). Each group's series runs from its first month with
    sales to the last complete month, with 0 for months without sales.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Valuation date.
    by : str or list of str, default=None
        Grouping (see :func:`sales_dimensions`); None gives one series, ``"total"``.

    Returns
    -------
    DataFrame
        ``unique_id`` (the group labels joined by "/"), ``ds`` (month start),
        ``y`` (元, float), ``amount`` (fen, int64, exact) and the ``by`` columns.

    Raises
    ------
    ParamsError
        For a bad ``as_of`` or ``by``, or when no complete month has sales.
    """
    day = _day_of(as_of)
    names = _by_names(by)
    sums = _sales_by_month(ledger, day, names)
    last = _last_complete_month(day)
    sums = sums[sums["m"] <= last]
    if len(sums) == 0:
        raise ParamsError(f"No invoices in a complete month on or before as_of={as_of!s}; "
                          "sales need at least one complete month.")
    keys = names or ["_all"]
    if not names:
        sums = sums.assign(_all=TOTAL_ID)
    sums = sums[sums["amount"] != 0]
    if len(sums) == 0:
        raise ParamsError(f"Invoices on or before as_of={as_of!s} sum to zero in every month.")
    first = sums.groupby(keys, sort=True)["m"].min().reset_index(name="first")
    n = (last - first["first"].to_numpy() + 1).astype(np.int64)
    grid = first.loc[np.repeat(np.arange(len(first)), n), keys].reset_index(drop=True)
    grid["m"] = np.repeat(first["first"].to_numpy(), n) + (
        np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    full = grid.merge(sums, on=keys + ["m"], how="left")
    amount = full["amount"].fillna(0).to_numpy(dtype=np.int64)
    uid = full[keys[0]].astype(str)
    for k in keys[1:]:
        uid = uid + "/" + full[k].astype(str)
    out = pd.DataFrame({"unique_id": uid.to_numpy(dtype=object), "ds": _month_starts(full["m"]),
                        "y": amount / FEN_PER_YUAN, "amount": amount})
    for k in names:
        out[k] = full[k].to_numpy(dtype=object)
    out = out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    out.attrs.update(as_of=pd.Timestamp(np.int64(day).astype("datetime64[D]")),
                     last_complete_month=pd.Timestamp(_month_starts([last])[0]), by=names,
                     unit="yuan")
    return out


def _interval_cols(levels: list[float]) -> list[str]:
    lo = [f"lo-{_level_name(lv)}" for lv in sorted(levels, reverse=True)]
    hi = [f"hi-{_level_name(lv)}" for lv in levels]
    return lo + hi


def _tidy(pred: pd.DataFrame, alias: str, levels: list[float]) -> pd.DataFrame:
    out = pd.DataFrame({"unique_id": pred["unique_id"], "ds": pred["ds"],
                        "mean": pred[alias].to_numpy(float)})
    for c in _interval_cols(levels):
        out[c] = pred[f"{alias}-{c}"].to_numpy(float)
    return out


def _total_of(hist: pd.DataFrame) -> pd.DataFrame:
    """Sum a grouped :func:`monthly_sales` frame to the total series (groups partition sales)."""
    amount = hist.groupby("ds", sort=True)["amount"].sum()
    out = pd.DataFrame({"unique_id": TOTAL_ID, "ds": amount.index.to_numpy(),
                        "y": amount.to_numpy() / FEN_PER_YUAN,
                        "amount": amount.to_numpy(dtype=np.int64)})
    out.attrs.update(hist.attrs, by=[])
    return out


def forecast_sales(ledger: Ledger, as_of, by=None, h: int = 12, level=(80, 95)) -> pd.DataFrame:
    """Monthly sales forecast per group and for the total, with intervals.

    Fits :class:`AutoETS` to :func:`monthly_sales` (``as_of``, ``by``): see
    the module docstring for the models, the calendar and the partial month.
    The forecast starts with the month after the last complete month (the
    month of the day after ``as_of``; when ``as_of`` is not a month end that
    month's forecast is for the whole month, including what is already
    invoiced). Means and bounds are clipped at zero.

    Hierarchy: bottom-up. The ``"total"`` rows' ``mean`` is the sum of the
    group means, month by month; their intervals come from a model fitted to
    the total series, centred on that mean.

    Money is in 元 as float: forecasts are estimates, not ledger figures.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Valuation date: nothing issued later is read.
    by : str or list of str, default=None
        Grouping; None forecasts the total only.
    h : int, default=12
        Months ahead.
    level : sequence of float, default=(80, 95)
        Interval coverages in percent.

    Returns
    -------
    DataFrame
        ``unique_id``, ``ds`` (month start), ``model`` (the model that served
        the series, e.g. ``"ETS(A,Ad,A)+cal"``; ``"bottom_up(<model of the
        total>)"`` on total rows), ``mean``, ``lo-80``, ``hi-80``, ``lo-95``,
        ``hi-95`` (per ``level``) and the ``by`` columns (missing on total rows).
        Groups first, then the total rows.

    Raises
    ------
    ParamsError
        For bad arguments or no sales history.

    Examples
    --------
    >>> from medrisk.demo import make_ledger
    >>> fc = forecast_sales(make_ledger(5_000), "2026-10-31", by="region", h=3)  # doctest: +SKIP
    """
    h = _check_h(h)
    levels = _check_levels(level)
    names = _by_names(by)
    model = AutoETS()
    hist = monthly_sales(ledger, as_of, names)
    total_hist = hist if not names else _total_of(hist)
    tot_fc = Forecaster([model]).fit(total_hist)
    total = _tidy(tot_fc.predict(h, levels), model.alias, levels)
    total_name = tot_fc.models_used_["model"].iloc[0]
    bound_cols = _interval_cols(levels)
    if not names:
        total["model"] = total_name
        out = total
    else:
        fc = Forecaster([model]).fit(hist)
        groups = _tidy(fc.predict(h, levels), model.alias, levels)
        used = fc.models_used_.set_index("unique_id")["model"]
        groups["model"] = groups["unique_id"].map(used).to_numpy(dtype=object)
        for c in ["mean"] + bound_cols:
            groups[c] = np.maximum(groups[c].to_numpy(), 0.0)
        labels = hist.drop_duplicates("unique_id").set_index("unique_id")[names]
        for k in names:
            groups[k] = groups["unique_id"].map(labels[k]).to_numpy(dtype=object)
        bu = groups.groupby("ds", sort=True)["mean"].sum()
        shift = bu.reindex(total["ds"]).to_numpy() - total["mean"].to_numpy()
        total["mean"] = bu.reindex(total["ds"]).to_numpy()
        for c in bound_cols:
            total[c] = total[c].to_numpy() + shift
        total["model"] = f"bottom_up({total_name})"
        for k in names:
            total[k] = None
        out = pd.concat([groups, total], ignore_index=True)
    for c in ["mean"] + bound_cols:
        out[c] = np.maximum(out[c].to_numpy(dtype=float), 0.0)
    out = out[["unique_id", "ds", "model", "mean"] + bound_cols + names].reset_index(drop=True)
    out.attrs.update(as_of=total_hist.attrs["as_of"],
                     last_complete_month=total_hist.attrs["last_complete_month"],
                     by=names, reconciliation="bottom_up", unit="yuan")
    return out


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


def backtest_sales(ledger: Ledger, as_of, by=None, h: int = 3, n_windows: int = 6,
                   step_size: int = 1) -> pd.DataFrame:
    """Rolling-origin back-test of the sales forecast against simple baselines.

    Runs :meth:`Forecaster.cross_validation` with :class:`AutoETS`,
    :class:`SeasonalNaive`, :class:`Naive` and :class:`HistoricAverage` on
    :func:`monthly_sales` (``as_of``, ``by``), and scores them with
    :func:`forecast_metrics`. With ``by``, the ``"total"`` level scores the
    bottom-up sums of each model's group forecasts against the total sales.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    by : str or list of str, default=None
    h : int, default=3
        Months ahead.
    n_windows : int, default=6
        Rolling origins.
    step_size : int, default=1
        Months between origins.

    Returns
    -------
    DataFrame
        ``level`` ("series" or "total"), ``model``, ``wape``, ``mase``,
        ``wape_ratio`` (WAPE / seasonal-naive WAPE at the same level),
        ``n_series``, ``n_windows``, ``n_points``, ``h``.

    Examples
    --------
    >>> from medrisk.demo import make_ledger
    >>> backtest_sales(make_ledger(20_000), "2026-10-31", by="region")  # doctest: +SKIP
    """
    names = _by_names(by)
    hist = monthly_sales(ledger, as_of, names)
    models = [AutoETS(), SeasonalNaive(), Naive(), HistoricAverage()]
    aliases = [m.alias for m in models]
    cv = Forecaster(models).cross_validation(hist, h=h, n_windows=n_windows, step_size=step_size)
    out = forecast_metrics(cv, hist, aliases).assign(level="series")
    if names:
        # bottom-up: a group with no history at a cutoff forecasts nothing for it
        tot_cv = cv.groupby(["ds", "cutoff"], sort=True)[aliases].sum().reset_index()
        tot_hist = _total_of(hist)
        tot_cv["y"] = tot_cv["ds"].map(tot_hist.set_index("ds")["y"]).to_numpy(float)
        tot_cv.insert(0, "unique_id", TOTAL_ID)
        out = pd.concat([out, forecast_metrics(tot_cv, tot_hist, aliases).assign(level="total")],
                        ignore_index=True)
    out["h"] = h
    cols = ["level", "model", "wape", "mase", "wape_ratio", "n_series", "n_windows", "n_points",
            "h"]
    return out[cols]

