"""Cash-in forecast (回款预测): when the open receivables and the expected sales turn into cash.

The forecast has two parts, both as known on ``as_of`` (nothing dated later is read):

1. **Open invoices.** Each open invoice pays its open amount at a delay
   ``d = payment day - due day`` drawn from a *payment-timing distribution*
   learned from history, conditioned on the invoice still being open at its
   current age ``a = as_of - due day`` (only delays ``d > a`` are possible), or
   it never pays (:mod:`medrisk.cash`).
2. **Sales not yet invoiced.** A monthly sales forecast (by default
   :func:`medrisk.planning.forecast_sales` when that module exists) is spread
   over the days of each month, and each day's new invoices are turned into
   cash with the segment's payment-timing distribution from the invoice date
   (mixed over the payment terms the segment had in the last year).

The payment-timing distribution, and how receipts are booked (weekends,
payment runs), are learned by :func:`medrisk.cash.fit_payment_timing`
(see :mod:`medrisk.cash`).

Intervals
---------
Monte Carlo with a fixed ``seed``. In each draw every customer's ``theta``
is drawn from its gamma posterior, all are multiplied by a common
log-normal shock (``timing_shock``) and the open invoices' cash is
simulated as described in :mod:`medrisk.cash`
(``interval_method``: ``"exact"`` per invoice, ``"fast"`` per period).
The sales part adds the sales forecast's own uncertainty (its 95% band as a
normal, one shared z per draw). The point forecast is the exact
expectation; the interval is the simulated spread around it.

Periods (``horizon``): ``"13W"`` (13 weeks), ``"12M"`` (12 calendar
months) and more; see :func:`medrisk.cash.cash_periods`.

Money: amounts are read in integer fen; forecasts are expectations and are
returned in 元 (float), like :func:`medrisk.planning.forecast_sales`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from medrisk.cash._outlook import (
    _TAIL_MARGIN,
    _open_expected,
    _open_invoices,
    _open_simulate,
    _open_simulate_clt,
    _period_days,
)
from medrisk.cash._timing import (
    PaymentTiming,
    _check_float,
    _check_int,
    _month_of,
    _weekend_move,
    fit_payment_timing,
)
from medrisk.config import FEN_PER_YUAN
from medrisk.data import Ledger
from medrisk.exceptions import InsufficientDataError, ParamsError
from medrisk.kernel import day_of, to_ts
from medrisk.planning import forecast_sales
from medrisk.receivables import event_book

__all__ = [
    "CashBacktest",
    "cash_in_forecast",
    "recent_sales_forecast",
    "backtest_cash_in",
    "COMPONENTS",
    "INTERVAL_METHODS",
    "EXACT_CELLS",
]

#: Ways to simulate the intervals (see :func:`cash_in_forecast`).
INTERVAL_METHODS = ("auto", "exact", "fast")
#: ``interval_method="auto"`` simulates exactly up to this many open invoices x draws.
EXACT_CELLS = 20_000_000
#: Components of the cash-in forecast, in the order they are reported.
COMPONENTS = ("open_invoices", "new_sales", "total")
_LEVELS = (80, 95)
_Z = {80: 1.2815515655446004, 95: 1.959963984540054}


# --------------------------------------------------------------------------- new sales
def recent_sales_forecast(ledger: Ledger, as_of, h: int = 12, rel_sd: float = 0.15) -> pd.DataFrame:
    """Forecast monthly sales simply; the fallback when :mod:`medrisk.planning` is absent.

    Seasonal naive with growth: each month's invoiced amount one year earlier
    times the growth of the last 365 days over the 365 before (clipped to
    0.7-1.5). Without two years of history, the last 365 (or fewer) days'
    daily rate times the days of the month, with a log-linear trend fitted to
    its 30-day blocks (at least six; at most +-5% per 30 days). The band is a
    normal with relative standard deviation ``rel_sd``. Only invoices issued
    on or before ``as_of`` are read.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    h : int, default=12
        Months, starting with the month of the day after ``as_of``.
    rel_sd : float, default=0.15
        Relative standard deviation of a month's sales.

    Returns
    -------
    DataFrame
        In the form of :func:`medrisk.planning.forecast_sales`: ``unique_id``
        ("total"), ``ds`` (month start), ``model`` ("SeasonalNaiveGrowth"),
        ``mean``, ``lo-80``, ``hi-80``, ``lo-95``, ``hi-95`` in 元.
    """
    day = day_of(as_of)
    h = _check_int("h", h, 1, 120)
    rel_sd = _check_float("rel_sd", rel_sd, 0.0, 5.0)
    book = event_book(ledger)
    issued = book.inv_day <= day
    inv_day, amt = book.inv_day[issued], book.amount[issued].astype(np.float64)
    first = int(inv_day.min()) if len(inv_day) else day
    m0 = np.datetime64(int(day + 1), "D").astype("datetime64[M]")
    months = m0 + np.arange(h + 1)
    bounds = months.astype("datetime64[D]").astype(np.int64)
    ly_lo, ly_hi = bounds[:-1] - 0, bounds[1:]
    ly_months = months - 12
    ly_bounds = ly_months.astype("datetime64[D]").astype(np.int64)
    cum_day = np.sort(inv_day)
    cum_amt = np.concatenate([[0.0], np.cumsum(amt[np.argsort(inv_day, kind="stable")])])

    def total(a, b):  # invoiced in [a, b)
        return (cum_amt[np.searchsorted(cum_day, b, "left")]
                - cum_amt[np.searchsorted(cum_day, a, "left")])

    span = day - first + 1
    last_year = total(day - 364, day + 1)
    prev_year = total(day - 729, day - 364)
    window = min(span, 365)
    rate = total(day - window + 1, day + 1) / max(window, 1)
    days_in = (ly_hi - ly_lo).astype(np.float64)
    # trend: log-linear fit to the daily rate of the 30-day blocks of the window
    n_blk = window // 30
    slope = 0.0
    if n_blk >= 6:
        ends_b = day + 1 - 30 * np.arange(n_blk)[::-1]
        y = np.log(np.maximum(total(ends_b - 30, ends_b), 1.0))
        t = np.arange(n_blk, dtype=np.float64)
        slope = float(np.clip(np.polyfit(t, y, 1)[0], -0.05, 0.05))  # per 30 days
    mid = (ly_lo + ly_hi) / 2.0 - (day + 1 - window / 2.0)  # days from the window's centre
    mean = rate * days_in * np.exp(slope * mid / 30.0)
    if span >= 730 and prev_year > 0:
        growth = float(np.clip(last_year / prev_year, 0.7, 1.5))
        ly_total = total(ly_bounds[:-1], ly_bounds[1:])
        ly_days = (ly_bounds[1:] - ly_bounds[:-1]).astype(np.float64)
        ok = ly_bounds[:-1] >= first
        mean = np.where(ok, ly_total * growth * days_in / ly_days, mean)
    mean = mean / FEN_PER_YUAN
    sd = rel_sd * mean
    return pd.DataFrame({
        "unique_id": "total",
        "ds": months[:-1].astype("datetime64[D]").astype("datetime64[ns]"),
        "model": "SeasonalNaiveGrowth",
        "mean": mean,
        "lo-80": np.maximum(mean - _Z[80] * sd, 0.0),
        "hi-80": mean + _Z[80] * sd,
        "lo-95": np.maximum(mean - _Z[95] * sd, 0.0),
        "hi-95": mean + _Z[95] * sd,
    })


def _resolve_sales(ledger: Ledger, as_of, day: int, sales_forecast, n_months: int,
                   sales_model: str | None):
    """Return the sales forecast frame to use and where it came from."""
    if isinstance(sales_forecast, pd.DataFrame):
        return sales_forecast, "given"
    if sales_forecast is None:
        return forecast_sales(ledger, as_of, h=n_months), "medrisk.planning.forecast_sales"
    if isinstance(sales_forecast, str) and sales_forecast == "recent":
        return recent_sales_forecast(ledger, as_of, h=n_months), "recent_sales_forecast"
    if isinstance(sales_forecast, str) and sales_forecast == "none":
        return None, "none"
    raise ParamsError(
        "sales_forecast must be None (medrisk.planning.forecast_sales), 'recent', "
        f"'none' or a forecast DataFrame; got {sales_forecast!r}."
    )


def _daily_sales(frame: pd.DataFrame | None, day: int, n_days: int, sales_model: str | None,
                 already: float = 0.0):
    """Daily sales rate and its standard deviation (fen) for days day+1 .. day+n_days.

    A month's forecast is for the whole month: when ``day`` is not a month end,
    ``already`` (fen invoiced in that month up to ``day``) is taken off its
    first month and the rest spread over the days left.
    """
    if frame is None:
        return np.zeros(n_days), np.zeros(n_days), None
    need = {"ds", "mean"}
    if not need <= set(frame.columns):
        raise ParamsError(
            f"sales_forecast lacks column(s) {sorted(need - set(frame.columns))}; it needs ds "
            "(month start) and mean (元), as medrisk.planning.forecast_sales returns; got columns "
            f"{list(frame.columns)}."
        )
    if len(frame) == 0:
        return np.zeros(n_days), np.zeros(n_days), None
    f = frame
    if "model" in f.columns:
        models = list(pd.unique(f["model"]))
        chosen = sales_model if sales_model is not None else models[0]
        if chosen not in models:
            raise ParamsError(f"sales_model={sales_model!r} is not in the forecast; possible "
                              f"values are: {models}.")
        f = f[f["model"] == chosen]
    else:
        chosen = None
    if "unique_id" in f.columns and (f["unique_id"] == "total").any():
        f = f[f["unique_id"] == "total"]
    ds = pd.to_datetime(f["ds"]).to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    mean = pd.to_numeric(f["mean"], errors="coerce").to_numpy(dtype=np.float64)
    if "lo-95" in f.columns and "hi-95" in f.columns:
        sd = (f["hi-95"].to_numpy(dtype=np.float64) - f["lo-95"].to_numpy(dtype=np.float64)) / (
            2 * _Z[95])
    elif "lo-80" in f.columns and "hi-80" in f.columns:
        sd = (f["hi-80"].to_numpy(dtype=np.float64) - f["lo-80"].to_numpy(dtype=np.float64)) / (
            2 * _Z[80])
    else:
        sd = np.zeros(len(f))
    m_codes = ds.astype(np.int64)
    uniq, inv = np.unique(m_codes, return_inverse=True)
    mean_m = np.bincount(inv.ravel(), np.nan_to_num(mean), len(uniq))
    var_m = np.bincount(inv.ravel(), np.nan_to_num(sd) ** 2, len(uniq))  # several series: sum
    days = day + 1 + np.arange(n_days)
    d_month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    k = np.clip(np.searchsorted(uniq, d_month), 0, len(uniq) - 1)
    # days of months the forecast lacks take the nearest forecast month's daily rate
    month_days = (
        (uniq + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        - uniq.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    )
    near = k
    rate = mean_m[near] / month_days[near] * FEN_PER_YUAN
    sd_d = np.sqrt(var_m[near]) / month_days[near] * FEN_PER_YUAN
    part = (d_month == _month_of(np.array([day]))[0]) & (uniq[near] == d_month)
    if part.any():  # the month of as_of: what is left of its forecast after what is invoiced
        left = max(mean_m[near[part][0]] * FEN_PER_YUAN - already, 0.0)
        rate[part] = left / part.sum()
    return np.maximum(rate, 0.0), np.maximum(sd_d, 0.0), chosen


def _new_sales_kernel(timing: PaymentTiming, n_days: int, extra_days: int) -> np.ndarray:
    """Share of a new invoice's amount paid in cash ``k`` days after its invoice date."""
    mix = timing.terms_mix
    if len(mix) == 0:
        return np.zeros(n_days)
    seg = mix["segment_code"].to_numpy(dtype=np.int64)
    segs = np.unique(seg)
    surv, cif, _ = timing.curves(segs, np.zeros(len(segs)), extra_days)
    r = np.searchsorted(segs, seg)
    t = mix["terms_days"].to_numpy(dtype=np.int64)
    ages = np.arange(n_days)
    c_now = timing.column(-t[:, None] + ages[None, :], extra_days)
    c_prev = timing.column(-t[:, None] + ages[None, :] - 1, extra_days)
    c_entry = timing.column(-t - 1, extra_days)
    pdf = (cif[r[:, None], c_now] - cif[r[:, None], c_prev]) / np.maximum(surv[r, c_entry],
                                                                         1e-300)[:, None]
    return mix["share"].to_numpy() @ pdf


# --------------------------------------------------------------------------- the forecast
def cash_in_forecast(
    ledger: Ledger,
    as_of,
    horizon: str = "13W",
    sales_forecast: pd.DataFrame | str | None = None,
    p_late: pd.DataFrame | pd.Series | None = None,
    segment: str | list[str] | None = "customer_type",
    n_draws: int = 400,
    seed: int = 0,
    timing_shock: float = 0.1,
    p_late_weight: float = 0.3,
    sales_model: str | None = None,
    timing: PaymentTiming | None = None,
    interval_method: str = "auto",
    **fit_kw,
) -> pd.DataFrame:
    """Forecast cash receipts (回款预测) per week or month after ``as_of``, with intervals.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Forecast date (end of day). Only invoices issued, and allocations and
        adjustments dated, on or before it are read.
    horizon : str, default="13W"
        ``"13W"`` (13 weeks of 7 days from the day after ``as_of``),
        ``"12M"`` (12 calendar months) or any ``"<n>W"``, ``"<n>M"``,
        ``"<n>D"``; see :func:`~medrisk.cash.cash_periods`.
    sales_forecast : DataFrame or {"recent", "none"} or None, default=None
        Monthly sales not yet invoiced, in the form of
        :func:`medrisk.planning.forecast_sales` (``ds``, ``mean`` and
        optionally ``model``, ``unique_id``, ``lo-95``/``hi-95`` in 元; the
        ``"total"`` series when there are several, else their sum). None calls
        ``medrisk.planning.forecast_sales(ledger, as_of, h=...)`` when that
        module exists, else :func:`recent_sales_forecast`. ``"none"`` leaves
        new sales out. A month's ``mean`` is for the whole month: when
        ``as_of`` is not a month end, what was invoiced in that month up to
        ``as_of`` is taken off it. Months the frame lacks take the nearest
        month's daily rate.
    p_late : DataFrame or Series, default=None
        Optional ``invoice_id``, ``p_late`` (probability of not being paid
        within 30 days of due, or never), or a Series of it indexed by
        invoice_id such as ``medrisk.credit.CreditModel.predict_proba``;
        sharpens the timing of invoices not yet 30 days past due.
    segment : str or list of str or None, default="customer_type"
        Segments of the timing model (see :func:`~medrisk.cash.fit_payment_timing`).
    n_draws : int, default=400
        Monte Carlo draws for the intervals.
    seed : int, default=0
        Random seed: the same inputs and seed give the same intervals.
    timing_shock : float, default=0.1
        Standard deviation of the common log-frailty shock per draw (how much
        the whole book can pay faster or slower than usual).
    p_late_weight : float, default=0.3
        Weight of the ``p_late``-implied frailty, 0 to 1.
    sales_model : str, default=None
        Which ``model`` of a multi-model sales forecast to use (default: the
        first one).
    timing : PaymentTiming, default=None
        A model already fitted on ``as_of`` (for speed); fitted when None.
    interval_method : {"auto", "exact", "fast"}, default="auto"
        ``"exact"`` simulates every open invoice in every draw (the skew of a
        few large invoices is kept); ``"fast"`` simulates the shared factors
        (customer frailties, the common shock) and draws each period's cash
        from a normal with the exact conditional mean and variance given them
        (cost independent of invoices x draws). ``"auto"``: exact up to
        :data:`EXACT_CELLS` open invoices x draws, else fast.
    **fit_kw
        Passed to :func:`~medrisk.cash.fit_payment_timing` (``lookback_days``,
        ``max_delay_days``, ``segment_prior``, ``customer_prior``,
        ``weekend``).

    Returns
    -------
    DataFrame
        One row per period and component (``open_invoices``, ``new_sales``,
        ``total``): ``period``, ``period_start``, ``period_end``,
        ``component``, ``mean``, ``lo-80``, ``hi-80``, ``lo-95``, ``hi-95``
        in 元. ``attrs`` hold ``as_of``, ``horizon``, ``unit`` ("yuan"),
        ``sales_source`` and ``sales_model``, ``open_amount`` (元),
        ``expected_never`` (元 of the open amount expected never to be paid),
        ``n_draws``, ``seed`` and ``interval_method`` (the one used).

    Raises
    ------
    ParamsError
        For a bad argument, naming it and what is allowed.

    Examples
    --------
    >>> from medrisk.cash import cash_in_forecast
    >>> from medrisk.data.demo import make_ledger
    >>> ledger = make_ledger(2_000, seed=1)
    >>> fc = cash_in_forecast(ledger, "2026-06-30", "13W", sales_forecast="recent")
    >>> fc.shape, fc["component"].unique().tolist(), fc.attrs["unit"]
    ((39, 9), ['open_invoices', 'new_sales', 'total'], 'yuan')
    >>> total = fc[fc["component"] == "total"].set_index("period_start")
    >>> total[["mean", "lo-80", "hi-80"]].head(3).round(-3)
                       mean      lo-80      hi-80
    period_start
    2026-07-01    1493000.0   604000.0  2419000.0
    2026-07-08    3273000.0  2031000.0  4518000.0
    2026-07-15    2010000.0  1124000.0  2884000.0
    """
    day = day_of(as_of)
    starts, ends = _period_days(day, horizon)
    n_draws = _check_int("n_draws", n_draws, 20, 100_000)
    seed = _check_int("seed", seed, 0)
    timing_shock = _check_float("timing_shock", timing_shock, 0.0, 3.0)
    p_late_weight = _check_float("p_late_weight", p_late_weight, 0.0, 1.0)
    if timing is None:
        timing = fit_payment_timing(ledger, as_of, segment=segment, **fit_kw)
    elif timing.as_of != pd.Timestamp(to_ts([day])[0]):
        raise ParamsError(f"timing was fitted on {timing.as_of.date()}, not on as_of={as_of!r}; "
                          "fit it on the forecast date or pass timing=None.")
    n_days = int(ends[-1] - day)
    extra = n_days + _TAIL_MARGIN
    op = _open_invoices(ledger, day, timing, p_late, p_late_weight, extra)
    mean_open, _, p_never = _open_expected(op, timing, starts, ends, extra)
    if interval_method not in INTERVAL_METHODS:
        raise ParamsError(f"interval_method={interval_method!r} is not supported. Possible "
                          f"values are: {list(INTERVAL_METHODS)}.")
    method = interval_method
    if method == "auto":
        method = "exact" if len(op.rows) * n_draws <= EXACT_CELLS else "fast"
    rng = np.random.default_rng(seed)
    simulate = _open_simulate if method == "exact" else _open_simulate_clt
    sim_open = simulate(op, timing, starts, ends, extra, n_draws, timing_shock, rng)

    n_months = len(np.unique(np.arange(day + 1, ends[-1] + 1).astype("datetime64[D]")
                             .astype("datetime64[M]")))
    frame, source = _resolve_sales(ledger, as_of, day, sales_forecast, n_months, sales_model)
    book = event_book(ledger)
    month_first = int(_month_of(np.array([day])).astype("datetime64[M]").astype("datetime64[D]")
                      .astype(np.int64)[0])
    in_month = (book.inv_day >= month_first) & (book.inv_day <= day)
    already = float(book.amount[in_month].sum())
    rate, sd_d, model = _daily_sales(frame, day, n_days, sales_model, already)
    new_kernel = _new_sales_kernel(timing, n_days, extra)
    cash_new = np.convolve(rate, new_kernel)[:n_days]
    cash_sd = np.convolve(sd_d, new_kernel)[:n_days]
    booked = _weekend_move(day + 1 + np.arange(n_days), timing.params.get("weekend", "none"))
    booked = np.clip(booked, day + 1, ends[-1] + 1)
    per_of_day = np.searchsorted(starts, booked, side="right") - 1
    inside = booked <= ends[-1]
    per_of_day, cash_new, cash_sd = per_of_day[inside], cash_new[inside], cash_sd[inside]
    mean_new = np.bincount(per_of_day, cash_new, len(starts))
    sd_new = np.bincount(per_of_day, cash_sd, len(starts))
    z = rng.standard_normal(n_draws)
    sim_new = mean_new[None, :] + z[:, None] * sd_new[None, :]

    out = []
    for comp, mean, sim in (
        ("open_invoices", mean_open, sim_open),
        ("new_sales", mean_new, sim_new),
        ("total", mean_open + mean_new, sim_open + sim_new),
    ):
        centre = sim.mean(axis=0)
        row = {"component": comp, "mean": mean}
        for lev in _LEVELS:
            a = (100 - lev) / 2
            lo_q, hi_q = np.percentile(sim, [a, 100 - a], axis=0)
            row[f"lo-{lev}"] = np.maximum(mean + lo_q - centre, 0.0)
            row[f"hi-{lev}"] = np.maximum(mean + hi_q - centre, mean)
        for lev in _LEVELS:
            row[f"lo-{lev}"] = np.minimum(row[f"lo-{lev}"], mean)
        out.append(pd.DataFrame({
            "period": np.arange(1, len(starts) + 1),
            "period_start": to_ts(starts),
            "period_end": to_ts(ends),
            **{k: (v / FEN_PER_YUAN if isinstance(v, np.ndarray) else v) for k, v in row.items()},
        }))
    result = pd.concat(out, ignore_index=True)
    result = result[["period", "period_start", "period_end", "component", "mean",
                     "lo-80", "hi-80", "lo-95", "hi-95"]]
    result["component"] = pd.Categorical(result["component"], categories=list(COMPONENTS))
    result.attrs.update(
        as_of=pd.Timestamp(to_ts([day])[0]),
        horizon=str(horizon),
        unit="yuan",
        sales_source=source,
        sales_model=model,
        open_amount=float(op.amount.sum()) / FEN_PER_YUAN,
        expected_never=float(op.amount @ p_never) / FEN_PER_YUAN,
        n_draws=n_draws,
        seed=seed,
        interval_method=method,
    )
    return result


# --------------------------------------------------------------------------- back-test
@dataclass
class CashBacktest:
    """Result of :func:`backtest_cash_in`.

    Attributes
    ----------
    detail : DataFrame
        One row per (as_of, period): ``as_of``, ``period``, ``period_start``,
        ``period_end``, ``actual`` (receipts, 元), ``forecast`` (mean),
        ``naive``, ``lo-80``, ``hi-80``, ``lo-95``, ``hi-95``.
    summary : DataFrame
        One row per method (``cash_in_forecast``, ``naive``): ``wape``,
        ``mae`` (元), ``bias`` (元, forecast - actual), ``n`` (periods), and for
        the forecast ``coverage_80``, ``coverage_95`` (share of actuals inside
        the bands).
    """

    detail: pd.DataFrame
    summary: pd.DataFrame

    @property
    def beats_naive(self) -> bool:
        """Whether the forecast's WAPE is below the naive baseline's."""
        s = self.summary.set_index("method")
        return bool(s.loc["cash_in_forecast", "wape"] < s.loc["naive", "wape"])


def _receipts(ledger: Ledger, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    pay_day = ledger.payments["payment_date"].to_numpy(dtype="datetime64[ns]").astype(
        "datetime64[D]").astype(np.int64)
    amt = ledger.payments["amount"].to_numpy(dtype=np.float64)
    order = np.argsort(pay_day, kind="stable")
    pay_day, cum = pay_day[order], np.concatenate([[0.0], np.cumsum(amt[order])])
    return (cum[np.searchsorted(pay_day, ends, "right")]
            - cum[np.searchsorted(pay_day, starts, "left")])


def backtest_cash_in(
    ledger: Ledger,
    as_of_dates,
    horizon: str = "13W",
    naive_weeks: int = 8,
    **forecast_kw,
) -> CashBacktest:
    """Back-test :func:`cash_in_forecast` on past dates against a naive run-rate baseline.

    For each ``as_of`` the forecast is made from the ledger as known that day
    and compared with the receipts (``payments.amount`` by ``payment_date``)
    of each period. The naive baseline repeats the average daily receipts of
    the last ``naive_weeks`` weeks before ``as_of`` times each period's days
    (the average weekly receipts for a week).

    Parameters
    ----------
    ledger : Ledger
    as_of_dates : iterable of date-like
        Forecast dates; each needs its whole horizon inside the ledger's data.
    horizon : str, default="13W"
        As for :func:`cash_in_forecast`.
    naive_weeks : int, default=8
        Weeks of recent receipts the baseline averages.
    **forecast_kw
        Passed to :func:`cash_in_forecast` (e.g. ``sales_forecast``,
        ``segment``, ``n_draws``).

    Returns
    -------
    CashBacktest
        ``detail`` per (as_of, period) and ``summary`` with WAPE
        (sum |forecast - actual| / sum actual), MAE and bias per method.

    Raises
    ------
    ParamsError
        When a horizon reaches past the last payment date of the ledger, or
        no dates are given.
    """
    naive_weeks = _check_int("naive_weeks", naive_weeks, 1, 520)
    dates = [day_of(d, "as_of_dates") for d in as_of_dates]
    if not dates:
        raise ParamsError("as_of_dates is empty; give at least one past date.")
    sales_fc = forecast_kw.pop("sales_forecast", None)
    if isinstance(sales_fc, pd.DataFrame):
        raise ParamsError("backtest_cash_in makes its own sales forecast per as_of; pass "
                          "sales_forecast=None, 'recent' or 'none', not a frame.")
    last = int(day_of(ledger.payments["payment_date"].max()))
    rows = []
    sources = set()
    for d in dates:
        starts, ends = _period_days(d, horizon)
        if ends[-1] > last:
            day, stop, paid = (to_ts([x])[0].astype("datetime64[D]") for x in (d, ends[-1], last))
            raise InsufficientDataError(
                f"as_of {day} with horizon {horizon!r} runs to {stop}, after the last payment "
                f"date {paid}; use an earlier date.",
                f"回测日 {day} 的 {horizon} 预测期到 {stop}，晚于最后一笔回款日 {paid}；"
                "数据不够新，无法回测。",
            )
        ts = pd.Timestamp(to_ts([d])[0])
        fc = cash_in_forecast(ledger, ts, horizon, sales_forecast=sales_fc, **forecast_kw)
        sources.add(fc.attrs["sales_source"])
        tot = fc[fc["component"] == "total"].reset_index(drop=True)
        actual = _receipts(ledger, starts, ends) / FEN_PER_YUAN
        recent = _receipts(ledger, np.array([d - 7 * naive_weeks + 1]), np.array([d]))[0]
        naive = recent / (7 * naive_weeks) * (ends - starts + 1) / FEN_PER_YUAN
        rows.append(pd.DataFrame({
            "as_of": ts,
            "period": tot["period"],
            "period_start": tot["period_start"],
            "period_end": tot["period_end"],
            "actual": actual,
            "forecast": tot["mean"],
            "naive": naive,
            **{c: tot[c] for c in ("lo-80", "hi-80", "lo-95", "hi-95")},
        }))
    detail = pd.concat(rows, ignore_index=True)
    a = detail["actual"].to_numpy()
    summ = []
    for method, col in (("cash_in_forecast", "forecast"), ("naive", "naive")):
        err = detail[col].to_numpy() - a
        rec = {
            "method": method,
            "wape": float(np.abs(err).sum() / max(a.sum(), 1e-9)),
            "mae": float(np.abs(err).mean()),
            "bias": float(err.mean()),
            "n": len(a),
        }
        if col == "forecast":
            for lev in _LEVELS:
                lo_b, hi_b = detail[f"lo-{lev}"].to_numpy(), detail[f"hi-{lev}"].to_numpy()
                inside = (a >= lo_b) & (a <= hi_b)
                rec[f"coverage_{lev}"] = float(inside.mean())
        summ.append(rec)
    summary = pd.DataFrame(summ)
    summary.attrs.update(horizon=str(horizon), sales_source=sorted(sources),
                         naive_weeks=naive_weeks)
    return CashBacktest(detail=detail, summary=summary)
