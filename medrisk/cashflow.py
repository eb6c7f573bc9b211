"""Cash-in forecast (回款预测): when the open receivables and the expected sales turn into cash.

The forecast has two parts, both as known on ``as_of`` (nothing dated later is read):

1. **Open invoices.** Each open invoice pays its open amount at a delay
   ``d = payment day - due day`` drawn from a *payment-timing distribution*
   learned from history, conditioned on the invoice still being open at its
   current age ``a = as_of - due day`` (only delays ``d > a`` are possible), or
   it never pays.
2. **Sales not yet invoiced.** A monthly sales forecast (by default
   :func:`medrisk.forecast.forecast_sales` when that module exists) is spread
   over the days of each month, and each day's new invoices are turned into
   cash with the segment's payment-timing distribution from the invoice date
   (mixed over the payment terms the segment had in the last year).

How the payment timing is learned (:func:`fit_payment_timing`)
---------------------------------------------------------------
A discrete-time competing-risks survival model on the **delay relative to the
due date**, weighted by money (each fen of an invoice is a unit at risk):

* a fen enters the risk set on its invoice date (delay ``-terms``) or at the
  start of the look-back window, and leaves it on the day it is paid (a
  *cash* event, from the allocations, dated by ``payment_date``), reduced
  without cash (a credit note, discount or write-off: an *other* event), or it
  is still open on ``as_of`` (censored: it survived up to today). Invoices that
  are still open count as survivors, not as never-payers, so recent invoices
  do not bias the curve towards quick payers;
* per segment (default ``customer_type``) and day of delay, the cash hazard
  ``h_cash(d) = cash fen paid at d / fen at risk at d`` and the other hazard
  ``h_other(d)`` are estimated, each shrunk towards the company-wide hazard
  with ``segment_prior`` invoices' worth of pseudo-exposure per day. From the
  last delay with at least 20 mean invoices at risk (at most
  ``max_delay_days``) on, a constant tail hazard fitted to the last 90 seen
  days and beyond is used: a short history is extrapolated, not read as
  "nobody ever pays that late";
* per customer a *frailty* ``theta`` multiplies the segment's cash hazard: a
  gamma-Poisson (empirical Bayes) estimate
  ``theta = (O + m) / (E + m)`` where ``O`` is the cash the customer paid and
  ``E`` the cash the segment's hazard expected over the customer's exposure,
  both in units of the customer's mean invoice, and ``m = customer_prior``
  pseudo-invoices. A customer with little history gets ``theta`` near 1, i.e.
  its segment's distribution; one with a long record gets its own speed;
* the probability of never paying is what the model leaves unpaid: the share
  of the open amount that the *other* hazard (write-offs, credit notes)
  removes first, plus any mass the tail hazard never pays.

An optional per-invoice ``p_late`` (probability of not being paid within 30
days of due, e.g. from :mod:`medrisk.credit`) sharpens the frailty of
invoices that are not yet 30 days past due: the ``theta`` that makes the model
give that invoice, seen from its invoice date, the same probability of no
cash by day 30 is blended (on the log scale, weight ``p_late_weight``) with
its customer's ``theta``.

The receipt calendar
--------------------
The model draws a *raw* payment day; receipts are then *booked* the way the
history shows them:

* **weekends**: when under 5% of the receipts fall on a Saturday or Sunday,
  weekend receipts are booked on the Friday before (or the Monday after, when
  Mondays take more cash than Fridays); see ``weekend`` of
  :func:`fit_payment_timing`;
* **payment runs** (付款日): some customers pay on a fixed day of the month,
  so a raw payment day goes to the nearest run. Which customers, and on
  which day, is a posterior per customer: the clear cases (4+ receipts, 40%
  on one day of the month, or on the Friday before it when it fell on a
  weekend) give the population's statistics: the share of run payers per
  customer type (the prior), the common run days and how often a run payer's
  receipt lands on its day; each customer's receipt days then give the
  likelihood of "runs on day d" against "any day" (binomial). A new customer
  with two receipts on the 25th is already almost surely a 25th payer; one
  without history is a run payer with its type's prior probability, on the
  common days. Monthly payment runs make weekly receipts swing with the
  calendar; booking them is what lets the weekly forecast follow the swing.

Both enter as *cuts*: the last raw day that is booked on or before each
period end, so the expected cash per period stays one difference of the
cumulative incidence per invoice and booking option (mixed with the
customer's posterior weights), and conditioning on "still open on ``as_of``"
means "raw day after the cut of ``as_of``".

Intervals
---------
Monte Carlo with a fixed ``seed``. In each draw every customer's ``theta``
is drawn from its gamma posterior (so the invoices of one customer move
together) and all are multiplied by a common log-normal "collection
climate" shock (``timing_shock``). Then, ``interval_method="exact"``: each
invoice's exit period is drawn by inverse transform from its conditional
distribution (vectorised over invoices x draws), then whether that exit is
cash, each customer's booking option drawn from its posterior; ``"fast"``
(chosen by ``"auto"`` for large books): given the shared draws the invoices
are independent, so each period's cash is a normal with the exact
conditional mean and variance, tabulated per customer over frailty
deviations (the booking option enters mixed, as if drawn per invoice).
The sales part adds the sales forecast's own uncertainty (its 95% band as a
normal, one shared z per draw). The point forecast is the exact
expectation; the interval is the simulated spread around it.

Periods
-------
``"13W"``: 13 periods of 7 days starting the day after ``as_of``.
``"12M"``: 12 calendar months starting with the month of the day after
``as_of`` (the first one partial when ``as_of`` is not a month end). Any
``"<n>W"``, ``"<n>M"`` or ``"<n>D"`` (n days of 1 day each) works.

Money: amounts are read in integer fen; forecasts are expectations and are
returned in 元 (float), like :func:`medrisk.forecast.forecast_sales`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from medrisk.config import FEN_PER_YUAN
from medrisk.exceptions import ParamsError
from medrisk.ledger import Ledger
from medrisk.receivables import _book, _day_of, _groups, _to_ts

__all__ = [
    "PaymentTiming",
    "CashBacktest",
    "fit_payment_timing",
    "cash_periods",
    "cash_in_forecast",
    "payment_outlook",
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
_LOG_THETA = np.round(np.arange(-3.0, 3.0 + 1e-9, 0.05), 10)  # frailty grid (~5% steps)
_MAX_EXIT = 0.999  # a day's total exit probability is capped below 1
_LATE_DAYS = 30  # p_late: not paid within 30 days of due (DOMAIN.md, medrisk.demo)
_RUN_MIN, _RUN_SHARE = 4, 0.4  # a clear payment-run customer: 4+ receipts and 40% on one day
_TAIL_MARGIN = 100  # columns kept after the horizon (payment runs, weekends, the tail)


# --------------------------------------------------------------------------- arguments
def _check_int(name: str, value, low: int, high: int | None = None) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        raise ParamsError(f"{name} must be {allowed}; got {value!r}.")
    return int(value)


def _check_float(name: str, value, low: float, high: float | None = None) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = np.nan
    if isinstance(value, bool) or not np.isfinite(v) or v < low or (high is not None and v > high):
        allowed = f"a number from {low} to {high}" if high is not None else f"a number >= {low}"
        raise ParamsError(f"{name} must be {allowed}; got {value!r}.")
    return v


def _parse_horizon(horizon: str) -> tuple[int, str]:
    m = re.fullmatch(r"\s*(\d+)\s*([WwMmDd])\s*", str(horizon))
    if not m or int(m.group(1)) < 1:
        raise ParamsError(
            f"horizon must look like '13W' (weeks), '12M' (calendar months) or '90D' (days); "
            f"got {horizon!r}."
        )
    n, unit = int(m.group(1)), m.group(2).upper()
    limit = {"W": 104, "M": 24, "D": 731}[unit]
    if n > limit:
        raise ParamsError(f"horizon {horizon!r} is too long; at most {limit}{unit} is supported.")
    return n, unit


def _segment_list(segment) -> list[str]:
    if segment is None:
        return []
    if isinstance(segment, str):
        return [segment]
    try:
        return list(segment)
    except TypeError as exc:
        raise ParamsError(
            f"segment must be None, a column name or a list of them; got {segment!r}."
        ) from exc


# --------------------------------------------------------------------------- receipt calendar
WEEKEND_RULES = ("auto", "friday", "monday", "none")


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 .. Sunday = 6 of int day numbers (1970-01-01 was a Thursday)."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def _weekend_move(days: np.ndarray, rule: str) -> np.ndarray:
    """Return the day a receipt due on ``days`` is booked after the weekend rule."""
    days = np.asarray(days, dtype=np.int64)
    wd = _weekday(days)
    if rule == "friday":
        return days - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))
    if rule == "monday":
        return days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    return days


def _weekend_cut(days: np.ndarray, rule: str) -> np.ndarray:
    """Last raw day whose receipt is booked on or before ``days``."""
    days = np.asarray(days, dtype=np.int64)
    wd = _weekday(days)
    if rule == "friday":
        return days + np.where(wd == 4, 2, np.where(wd == 5, 1, 0))
    if rule == "monday":
        return days - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))
    return days


def _month_of(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(
        np.int64)


def _run_day(month: np.ndarray, dom: np.ndarray) -> np.ndarray:
    """Return the payment-run day ``dom`` of months ``month`` (clipped to the month's last day)."""
    first = np.asarray(month, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]")
    nxt = (np.asarray(month, dtype=np.int64) + 1).astype("datetime64[M]").astype("datetime64[D]")
    length = (nxt - first).astype(np.int64)
    return first.astype(np.int64) + np.minimum(dom, length) - 1


def _run_cut(days: np.ndarray, dom: np.ndarray, rule: str) -> np.ndarray:
    """Last raw day that a payment-run customer pays on a run booked on or before ``days``.

    A raw payment day goes to the nearest run day (ties to the later one), and
    the run is booked after the weekend rule.
    """
    days = np.asarray(days, dtype=np.int64)
    m = _month_of(days)
    best = np.full(days.shape, np.iinfo(np.int64).min // 4)
    best_m = np.zeros(days.shape, np.int64)
    for k in (-1, 0, 1):  # the latest run booked on or before the day is in one of these
        r = _run_day(m + k, dom)
        ok = (_weekend_move(r, rule) <= days) & (r > best)
        best = np.where(ok, r, best)
        best_m = np.where(ok, m + k, best_m)
    nxt = _run_day(best_m + 1, dom)
    return (best + nxt - 1) // 2  # raw x goes to the earlier run when x - best < nxt - x


def _run_snap(days: np.ndarray, dom: np.ndarray, rule: str) -> np.ndarray:
    """Return the booked day of a run payer's receipt whose raw day is ``days``: the nearest run."""
    days = np.asarray(days, dtype=np.int64)
    m = _month_of(days)
    prev, cur, nxt = (_run_day(m + k, dom) for k in (-1, 0, 1))
    lower = np.where(cur <= days, cur, prev)
    upper = np.where(cur <= days, nxt, cur)
    snap = np.where(days - lower < upper - days, lower, upper)
    return _weekend_move(snap, rule)


def _detect_calendar(ledger: Ledger, day: int, w0: int, cust_ids: pd.Index, weekend: str,
                     cust_group: np.ndarray | None = None):
    """Weekend rule and each customer's posterior over payment-run days, from receipts to ``day``.

    Returns the rule, ``doms`` and ``weights`` of shape (customers, options):
    option 0 is "no payment run" (day 0), option 1 the customer's own most
    likely run day outside the common ones, then the common run days.
    """
    pay = ledger.payments
    p_day = pay["payment_date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(
        np.int64)
    keep = (p_day <= day) & (p_day >= w0)
    p_day = p_day[keep]
    amt = pay["amount"].to_numpy(dtype=np.float64)[keep]
    wd = _weekday(p_day)
    if weekend == "auto":
        share = np.bincount(wd, amt, 7) / max(amt.sum(), 1.0)
        if len(p_day) < 50 or share[5] + share[6] >= 0.05:
            weekend = "none"
        else:
            weekend = "friday" if share[4] >= share[0] else "monday"
    from medrisk.receivables import _positions

    n_c = len(cust_ids)
    none = (weekend, np.zeros((n_c, 1), np.int64), np.ones((n_c, 1)))
    cust = _positions(pay["customer_id"][keep].reset_index(drop=True), pd.Series(cust_ids))
    ok = cust >= 0
    cust, p_day, wd = cust[ok], p_day[ok], wd[ok]
    if len(cust) == 0:
        return none
    dom = (p_day.astype("datetime64[D]") - p_day.astype("datetime64[D]").astype("datetime64[M]")
           .astype("datetime64[D]")).astype(np.int64) + 1
    cands = [dom]  # a run that fell on a weekend was booked on the Friday before (Monday after)
    if weekend == "friday":
        cands += [np.where(wd == 4, dom + 1, 0), np.where(wd == 4, dom + 2, 0)]
    elif weekend == "monday":
        cands += [np.where(wd == 0, dom - 1, 0), np.where(wd == 0, dom - 2, 0)]
    c_all = np.concatenate([cust] * len(cands))
    d_all = np.clip(np.concatenate(cands), 0, 31)
    valid = d_all > 0
    m = np.bincount(c_all[valid] * 32 + d_all[valid], minlength=n_c * 32).reshape(-1, 32)[:, 1:]
    n = np.bincount(cust, minlength=n_c).astype(np.float64)
    top, best = m.max(axis=1), m.argmax(axis=1)
    hard = (top >= _RUN_MIN) & (top >= _RUN_SHARE * n)  # clear cases: the population's statistics
    if hard.sum() < 3:
        return none
    q0 = float(m[~hard].sum() / max(n[~hard].sum() * 31, 1.0))  # P(a receipt matches a day | none)
    q0 = float(np.clip(q0, 1e-3, 0.5))
    rho = float(np.clip(top[hard].sum() / n[hard].sum(), q0 + 0.01, 0.99))  # ... | run on that day
    w_hard = np.bincount(best[hard], minlength=31)
    w = (w_hard + 0.5) / (hard.sum() + 15.5)
    rich = n >= 2 * _RUN_MIN
    pi = hard[rich].sum() / rich.sum() if rich.sum() >= 10 else hard.sum() / max((n > 0).sum(), 1)
    pi_c = np.full(n_c, pi)
    if cust_group is not None:  # per customer type, shrunk to the company's share
        g = np.asarray(cust_group, dtype=np.int64)
        det = np.bincount(g[rich], hard[rich].astype(float), g.max() + 1)
        cnt = np.bincount(g[rich], minlength=g.max() + 1)
        pi_c = ((det + 10 * pi) / (cnt + 10))[g]
    pi_c = np.clip(pi_c, 1e-4, 1 - 1e-4)
    llr = m * np.log(rho / q0) + (n[:, None] - m) * np.log((1 - rho) / (1 - q0))
    log_day = np.log(pi_c[:, None] * w[None, :]) + llr
    log_none = np.log(1 - pi_c)
    top_log = np.maximum(log_day.max(axis=1), log_none)
    p_day_ = np.exp(log_day - top_log[:, None])
    p_none = np.exp(log_none - top_log)
    tot = p_day_.sum(axis=1) + p_none
    p_day_, p_none = p_day_ / tot[:, None], p_none / tot
    common = np.flatnonzero(w_hard >= 0.05 * hard.sum())[:8]  # common run days (0-based)
    rest = p_day_.copy()
    rest[:, common] = 0.0
    own = rest.argmax(axis=1)
    doms = np.column_stack([np.zeros(n_c, np.int64), own + 1,
                            np.broadcast_to(common + 1, (n_c, len(common)))])
    weights = np.column_stack([p_none, rest.sum(axis=1), p_day_[:, common]])
    return weekend, doms.astype(np.int64), weights


# --------------------------------------------------------------------------- periods
def _period_days(day: int, horizon: str) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (int days, inclusive) of each period after ``day``."""
    n, unit = _parse_horizon(horizon)
    first = day + 1
    if unit in ("W", "D"):
        step = 7 if unit == "W" else 1
        starts = first + step * np.arange(n, dtype=np.int64)
        return starts, starts + step - 1
    m0 = np.datetime64(int(first), "D").astype("datetime64[M]")
    months = m0 + np.arange(n + 1)
    bounds = months.astype("datetime64[D]").astype(np.int64)
    starts = bounds[:-1].copy()
    starts[0] = first
    return starts, bounds[1:] - 1


def cash_periods(as_of, horizon: str = "13W") -> pd.DataFrame:
    """Return the periods of a cash-in forecast made on ``as_of``.

    Parameters
    ----------
    as_of : date-like
        Forecast date (end of day: its receipts are history).
    horizon : str, default="13W"
        ``"<n>W"`` (weeks of 7 days from the day after ``as_of``), ``"<n>M"``
        (calendar months, the first one partial unless ``as_of`` is a month
        end) or ``"<n>D"`` (single days).

    Returns
    -------
    DataFrame
        Columns ``period`` (1, 2, ...), ``period_start``, ``period_end``
        (inclusive) and ``days``.

    Examples
    --------
    >>> cash_periods("2026-10-31", "12M")["period_start"].iloc[0]
    Timestamp('2026-11-01 00:00:00')
    """
    starts, ends = _period_days(_day_of(as_of), horizon)
    return pd.DataFrame({
        "period": np.arange(1, len(starts) + 1),
        "period_start": _to_ts(starts),
        "period_end": _to_ts(ends),
        "days": ends - starts + 1,
    })


# --------------------------------------------------------------------------- the timing model
@dataclass(eq=False)
class PaymentTiming:
    """A fitted payment-timing model (see the module docstring), as known on ``as_of``.

    Attributes
    ----------
    as_of : Timestamp
        The day it was fitted on; nothing dated later was read.
    segment : list of str
        Columns that define the segments.
    segments : DataFrame
        One row per segment (its ``segment`` columns), in code order.
    lo, hi : int
        First and last delay (days after due) of the daily grid.
    hazard_cash, hazard_other : ndarray of shape (n_segments, hi - lo + 1)
        Daily hazards per segment; after the last delay seen often enough in
        the history they equal the tail hazards.
    tail_cash, tail_other : ndarray of shape (n_segments,)
        Constant daily hazards of the tail (also used after ``hi``).
    customers : DataFrame
        Per customer of the ledger's invoices (sorted by id; one without
        history before ``as_of`` has ``theta`` 1): ``customer_id``,
        ``observed`` (cash paid, in mean invoices), ``expected`` (what the
        segment hazard expected), ``theta`` (posterior mean frailty), the
        gamma posterior ``alpha``, ``beta``, ``run_day`` (the most likely day
        of the month of the customer's payment run, 0 for "pays any day") and
        ``p_run`` (the probability that it pays in monthly runs).
    invoice_segment : ndarray
        Segment code of every ledger invoice (ledger order).
    invoice_customer : ndarray
        Row in ``customers`` of every ledger invoice.
    terms_mix : DataFrame
        Share of the last year's invoiced amount per (segment code, terms days),
        used for sales not yet invoiced.
    run_doms, run_weights : ndarray of shape (n_customers, n_options)
        Each customer's posterior over where its receipts are booked: option 0
        "any day" (day 0), option 1 its own most likely uncommon run day, then
        the common run days (see the module docstring).
    params : dict
        The fitting parameters, and ``weekend``: the weekend rule in use.
    """

    as_of: pd.Timestamp
    segment: list[str]
    segments: pd.DataFrame
    lo: int
    hi: int
    hazard_cash: np.ndarray
    hazard_other: np.ndarray
    tail_cash: np.ndarray
    tail_other: np.ndarray
    customers: pd.DataFrame
    invoice_segment: np.ndarray
    invoice_customer: np.ndarray
    terms_mix: pd.DataFrame
    run_doms: np.ndarray
    run_weights: np.ndarray
    params: dict = field(default_factory=dict)

    def booked_cut(self, days: np.ndarray, cust: np.ndarray) -> np.ndarray:
        """Last raw payment day booked on or before each of ``days``, per booking option.

        Parameters
        ----------
        days : ndarray of int, shape (k,)
            Day numbers (days since 1970-01-01).
        cust : ndarray of int, shape (n,)
            Rows of :attr:`customers`.

        Returns
        -------
        ndarray of int, shape (n, n_options, k)
        """
        rule = self.params.get("weekend", "none")
        days = np.asarray(days, dtype=np.int64)
        table = np.empty((32, len(days)), np.int64)  # row 0: no payment run; row d: run day d
        table[0] = _weekend_cut(days, rule)
        table[1:] = _run_cut(days[None, :], np.arange(1, 32)[:, None], rule)
        return table[self.run_doms[cust]]

    def curves(self, seg: np.ndarray, log_theta: np.ndarray, extra_days: int):
        """Survival and cash incidence on the grid for (segment, frailty) rows.

        Column 0 stands for every delay before ``lo`` (nothing happens there);
        column ``j >= 1`` is delay ``lo + j - 1``; after ``hi`` the tail
        hazards run for ``extra_days`` more columns.

        Parameters
        ----------
        seg : ndarray of int
            Segment code of each row.
        log_theta : ndarray of float
            Log frailty of each row.
        extra_days : int
            Columns after ``hi``.

        Returns
        -------
        surv, cif_cash, cash_share : ndarray of shape (rows, n_columns)
            ``surv[r, j]``: probability of still being open after column j;
            ``cif_cash[r, j]``: probability of having paid cash by column j;
            ``cash_share[r, j]``: probability that an exit on column j is cash.
        """
        theta = np.exp(np.asarray(log_theta, dtype=np.float64))[:, None]
        hp = np.concatenate(
            [self.hazard_cash, np.repeat(self.tail_cash[:, None], extra_days, axis=1)], axis=1
        )[seg]
        ho = np.concatenate(
            [self.hazard_other, np.repeat(self.tail_other[:, None], extra_days, axis=1)], axis=1
        )[seg]
        lam_p = theta * hp
        tot = lam_p + ho
        scale = np.where(tot > _MAX_EXIT, _MAX_EXIT / np.maximum(tot, 1e-300), 1.0)
        lam_p, tot = lam_p * scale, np.minimum(tot, _MAX_EXIT)
        rows = len(seg)
        surv = np.ones((rows, tot.shape[1] + 1))
        np.cumprod(1.0 - tot, axis=1, out=surv[:, 1:])
        cif = np.zeros_like(surv)
        np.cumsum(surv[:, :-1] * lam_p, axis=1, out=cif[:, 1:])
        share = np.zeros_like(surv)
        share[:, 1:] = np.where(tot > 0, lam_p / np.maximum(tot, 1e-300), 0.0)
        return surv, cif, share

    def column(self, delay: np.ndarray, extra_days: int) -> np.ndarray:
        """Grid column of each delay (see :meth:`curves`)."""
        return np.clip(np.asarray(delay, dtype=np.int64) - self.lo + 1, 0,
                       self.hi - self.lo + 1 + extra_days)


def _customer_codes(ledger: Ledger) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(ledger.invoices["customer_id"], sort=True)
    return codes.astype(np.int64), pd.Index(uniques)


def fit_payment_timing(
    ledger: Ledger,
    as_of,
    segment: str | list[str] | None = "customer_type",
    lookback_days: int | None = 730,
    max_delay_days: int = 730,
    segment_prior: float = 50.0,
    customer_prior: float = 5.0,
    weekend: str = "auto",
) -> PaymentTiming:
    """Learn the payment-timing distribution from the history known on ``as_of``.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Fit date: only invoices issued, and allocations and adjustments dated,
        on or before it are read.
    segment : str or list of str or None, default="customer_type"
        Columns (of invoices, customers or salespeople, see
        :func:`medrisk.receivables.dimensions`) that define the segments,
        e.g. ``["customer_type", "product_line"]``. None: one segment.
    lookback_days : int or None, default=730
        Learn from the exposure of the last ``lookback_days`` days only
        (invoices issued earlier but still open then count from the window
        start). None uses all history.
    max_delay_days : int, default=730
        Last day of the daily hazard grid (days after due); later delays share
        one constant tail hazard.
    segment_prior : float, default=50.0
        Shrinkage of each segment's daily hazards towards the company's, in
        mean invoices of pseudo-exposure per day.
    customer_prior : float, default=5.0
        Shrinkage of each customer's frailty towards 1 (its segment), in
        pseudo-invoices.
    weekend : {"auto", "friday", "monday", "none"}, default="auto"
        Where receipts that would fall on a Saturday or Sunday are booked.
        ``"auto"``: when under 5% of the look-back receipts fall on weekends,
        the Friday before if Fridays take more cash than Mondays, else the
        Monday after; otherwise ``"none"``.

    Returns
    -------
    PaymentTiming

    Raises
    ------
    ParamsError
        For a bad argument, naming it and what is allowed.
    """
    day = _day_of(as_of)
    if lookback_days is not None:
        lookback_days = _check_int("lookback_days", lookback_days, 30)
    max_delay_days = _check_int("max_delay_days", max_delay_days, 30, 3650)
    segment_prior = _check_float("segment_prior", segment_prior, 0.0)
    customer_prior = _check_float("customer_prior", customer_prior, 1e-6)
    if weekend not in WEEKEND_RULES:
        raise ParamsError(f"weekend={weekend!r} is not supported. Possible values are: "
                          f"{list(WEEKEND_RULES)}.")
    names = _segment_list(segment)
    book = _book(ledger)
    if names:
        seg_codes, seg_keys = _groups(ledger, names)
    else:
        seg_codes, seg_keys = np.zeros(book.n, np.int64), pd.DataFrame(index=[0])
    n_seg = max(len(seg_keys), 1)
    cust_codes, cust_ids = _customer_codes(ledger)
    w0 = day - lookback_days + 1 if lookback_days is not None else np.iinfo(np.int64).min // 4

    issued = book.inv_day <= day
    ev_amt = np.diff(book.cum)
    ev_ok = (book.ev_raw_day <= day) & issued[book.ev_inv] & (book.ev_day >= w0)
    e_inv, e_day, e_amt = book.ev_inv[ev_ok], book.ev_day[ev_ok], ev_amt[ev_ok].astype(np.float64)
    e_cash = book.ev_kind[ev_ok] == 0
    rows = np.flatnonzero(issued)
    idx = book.query(rows, day)
    open_amt = book.amount[rows] - book.reduced(rows, idx)
    cen = rows[open_amt > 0]
    u_inv = np.concatenate([e_inv, cen])
    u_exit = np.concatenate([e_day, np.full(len(cen), day)]) - book.due_day[u_inv]
    u_amt = np.concatenate([e_amt, open_amt[open_amt > 0].astype(np.float64)])
    u_kind = np.concatenate([np.where(e_cash, 1, 2), np.zeros(len(cen), np.int64)])  # 0 censored
    u_entry = np.maximum(book.inv_day[u_inv], w0) - book.due_day[u_inv]
    u_seg = seg_codes[u_inv]

    hi = max_delay_days
    lo = int(np.clip(u_entry.min(initial=-1), -400, -1))
    g = hi - lo + 1
    ent = np.clip(u_entry, lo, None)
    ex = np.maximum(np.clip(u_exit, lo, None), ent)
    reg = ent <= hi
    flat = (g + 1) * u_seg[reg]
    delta = np.bincount(flat + (ent[reg] - lo), u_amt[reg], n_seg * (g + 1)) - np.bincount(
        flat + (np.minimum(ex[reg], hi) + 1 - lo), u_amt[reg], n_seg * (g + 1)
    )
    at_risk = np.cumsum(delta.reshape(n_seg, g + 1), axis=1)[:, :g]
    on_grid = ex <= hi
    ev_cell = u_seg * g + (np.minimum(ex, hi) - lo)
    cash = np.bincount(ev_cell[on_grid & (u_kind == 1)], u_amt[on_grid & (u_kind == 1)],
                       n_seg * g).reshape(n_seg, g)
    other = np.bincount(ev_cell[on_grid & (u_kind == 2)], u_amt[on_grid & (u_kind == 2)],
                        n_seg * g).reshape(n_seg, g)
    tail_days = np.maximum(ex - np.maximum(ent, hi + 1) + 1, 0).astype(np.float64)
    tail_exp = np.bincount(u_seg, u_amt * tail_days, n_seg)
    tail_cash = np.bincount(u_seg[~on_grid & (u_kind == 1)], u_amt[~on_grid & (u_kind == 1)], n_seg)
    tail_oth = np.bincount(u_seg[~on_grid & (u_kind == 2)], u_amt[~on_grid & (u_kind == 2)], n_seg)

    in_window = issued & (book.inv_day >= min(w0, day))
    mean_inv = float(book.amount[in_window].mean()) if in_window.any() else 1.0
    if not np.isfinite(mean_inv) or mean_inv <= 0:
        mean_inv = float(book.amount[issued].mean()) if issued.any() else 1.0
    k = segment_prior * mean_inv

    def shrink(ev, risk, k_):
        ev, risk = np.asarray(ev, dtype=np.float64), np.asarray(risk, dtype=np.float64)
        tot_r, tot_e = risk.sum(axis=0), ev.sum(axis=0)
        glob = np.divide(tot_e, tot_r, out=np.zeros_like(tot_e), where=tot_r > 0)
        return (ev + k_ * glob) / np.maximum(risk + k_, 1e-300)

    hp = shrink(cash, at_risk, k)
    ho = shrink(other, at_risk, k)
    # the tail: a constant hazard from the last 90 observed days of the grid onwards. Where
    # fewer than 20 mean invoices were ever at risk (delays not yet seen in a short
    # history) it is extrapolated instead of read as "nobody pays"
    seen = np.flatnonzero(at_risk.sum(axis=0) >= 20 * mean_inv)
    j_eff = int(seen[-1]) if len(seen) else g - 1
    win = slice(max(0, j_eff - 89), g)
    tp = shrink((cash[:, win].sum(axis=1) + tail_cash)[:, None],
                (at_risk[:, win].sum(axis=1) + tail_exp)[:, None], k * 30.0)[:, 0]
    to = shrink((other[:, win].sum(axis=1) + tail_oth)[:, None],
                (at_risk[:, win].sum(axis=1) + tail_exp)[:, None], k * 30.0)[:, 0]
    hp[:, j_eff + 1:] = tp[:, None]
    ho[:, j_eff + 1:] = to[:, None]
    over = hp + ho > _MAX_EXIT
    if over.any():
        f = _MAX_EXIT / (hp + ho)[over]
        hp[over] *= f
        ho[over] *= f

    # customer frailty: observed vs expected cash, in the customer's mean invoices
    hcum = np.zeros((n_seg, g + 1))
    np.cumsum(hp, axis=1, out=hcum[:, 1:])
    exp_u = np.where(
        reg,
        hcum[u_seg, np.minimum(ex, hi) + 1 - lo] - hcum[u_seg, np.minimum(ent, hi) - lo],
        0.0,
    ) + tp[u_seg] * tail_days
    n_cust = len(cust_ids)
    u_cust = cust_codes[u_inv]
    observed = np.bincount(u_cust[u_kind == 1], u_amt[u_kind == 1], n_cust)
    expected = np.bincount(u_cust, u_amt * exp_u, n_cust)
    c_issued = cust_codes[issued]
    c_n = np.bincount(c_issued, minlength=n_cust)
    c_sum = np.bincount(c_issued, book.amount[issued].astype(np.float64), n_cust)
    ubar = np.where(c_n > 0, c_sum / np.maximum(c_n, 1), mean_inv)
    alpha = observed / ubar + customer_prior
    beta = expected / ubar + customer_prior
    cust_group = None
    if "customer_type" in ledger.customers.columns:
        from medrisk.receivables import _positions

        pos = _positions(pd.Series(np.asarray(cust_ids, dtype=object)),
                         ledger.customers["customer_id"].reset_index(drop=True))
        types = ledger.customers["customer_type"].to_numpy(dtype=object)
        cust_group = pd.factorize(np.where(pos >= 0, types[np.maximum(pos, 0)], None),
                                  use_na_sentinel=False)[0]
    weekend_rule, run_doms, run_weights = _detect_calendar(ledger, day, w0, cust_ids, weekend,
                                                           cust_group)
    best_opt = run_weights.argmax(axis=1)
    customers = pd.DataFrame({
        "customer_id": np.asarray(cust_ids, dtype=object),
        "observed": observed / ubar,
        "expected": expected / ubar,
        "theta": alpha / beta,
        "alpha": alpha,
        "beta": beta,
        "run_day": run_doms[np.arange(len(run_doms)), best_opt],
        "p_run": 1.0 - run_weights[:, 0],
    })

    # terms mix of the last year's invoices, for sales not yet invoiced
    recent = issued & (book.inv_day > day - 365)
    if not recent.any():
        recent = issued
    terms = np.maximum(book.due_day - book.inv_day, 0)
    key = seg_codes[recent] * 100_000 + np.minimum(terms[recent], 99_999)
    uk, inv_k = np.unique(key, return_inverse=True)
    amt_k = np.bincount(inv_k.ravel(), book.amount[recent].astype(np.float64), len(uk))
    terms_mix = pd.DataFrame({
        "segment_code": uk // 100_000,
        "terms_days": uk % 100_000,
        "share": amt_k / amt_k.sum() if amt_k.sum() > 0 else amt_k,
    })
    return PaymentTiming(
        as_of=pd.Timestamp(_to_ts([day])[0]),
        segment=names,
        segments=seg_keys.reset_index(drop=True),
        lo=lo,
        hi=hi,
        hazard_cash=hp,
        hazard_other=ho,
        tail_cash=tp,
        tail_other=to,
        customers=customers,
        invoice_segment=seg_codes,
        invoice_customer=cust_codes,
        terms_mix=terms_mix,
        run_doms=run_doms,
        run_weights=run_weights,
        params={
            "lookback_days": lookback_days,
            "max_delay_days": max_delay_days,
            "segment_prior": segment_prior,
            "customer_prior": customer_prior,
            "weekend": weekend_rule,
        },
    )


# --------------------------------------------------------------------------- open invoices
@dataclass
class _Open:
    """The open invoices on ``as_of``, with what the timing model needs."""

    rows: np.ndarray  # ledger positions
    amount: np.ndarray  # open amount, fen (float)
    seg: np.ndarray
    cust: np.ndarray
    due: np.ndarray
    shift: np.ndarray  # days very old invoices are moved back by (the tail is memoryless)
    weights: np.ndarray  # (n, options): the customer's booking-option probabilities
    log_theta: np.ndarray  # posterior-mean log frailty (after p_late)


def _open_invoices(ledger: Ledger, day: int, timing: PaymentTiming, p_late, p_late_weight: float,
                   extra_days: int) -> _Open:
    book = _book(ledger)
    rows = np.flatnonzero(book.inv_day <= day)
    idx = book.query(rows, day)
    open_amt = book.amount[rows] - book.reduced(rows, idx)
    rows = rows[open_amt > 0]
    amount = open_amt[open_amt > 0].astype(np.float64)
    due = book.due_day[rows]
    cust = timing.invoice_customer[rows]
    shift = np.maximum(day - due - timing.hi - 60, 0)
    log_theta = np.log(timing.customers["theta"].to_numpy()[cust])
    seg = timing.invoice_segment[rows]
    if p_late is not None and len(rows):
        log_theta = _blend_p_late(ledger, rows, seg, day - due, log_theta, timing, p_late,
                                  p_late_weight,
                                  extra_days)
    return _Open(rows, amount, seg, cust, due, shift, timing.run_weights[cust], log_theta)


def _cut_columns(op: _Open, timing: PaymentTiming, bounds: np.ndarray,
                 extra_days: int) -> np.ndarray:
    """Grid column of the raw cut of each boundary day, per invoice and booking option.

    ``bounds[0]`` is ``as_of``: column ``[:, :, 0]`` is the delay an open
    invoice is known to have survived. Shape (n, options, len(bounds)).
    """
    cuts = timing.booked_cut(bounds, op.cust)
    return timing.column(cuts - (op.due + op.shift)[:, None, None], extra_days)


def _blend_p_late(ledger, rows, seg, age, log_theta, timing, p_late, weight, extra_days):
    """Blend each not-yet-late invoice's frailty with the one its ``p_late`` implies."""
    if isinstance(p_late, pd.Series):  # e.g. CreditModel.predict_proba: indexed by invoice_id
        p_late = pd.DataFrame({"invoice_id": p_late.index.to_numpy(dtype=object),
                               "p_late": p_late.to_numpy(dtype=np.float64)})
    if not isinstance(p_late, pd.DataFrame) or not {"invoice_id", "p_late"} <= set(p_late.columns):
        raise ParamsError(
            "p_late must be a DataFrame with columns invoice_id and p_late; got "
            f"{type(p_late).__name__}"
            + (f" with columns {list(p_late.columns)}" if isinstance(p_late, pd.DataFrame) else "")
            + "."
        )
    from medrisk.receivables import _positions

    ids = ledger.invoices["invoice_id"].take(rows).reset_index(drop=True)
    pos = _positions(ids, p_late["invoice_id"].reset_index(drop=True))
    p = np.full(len(rows), np.nan)
    vals = pd.to_numeric(p_late["p_late"], errors="coerce").to_numpy(dtype=np.float64)
    p[pos >= 0] = vals[pos[pos >= 0]]
    use = np.isfinite(p) & (age <= _LATE_DAYS)
    if not use.any():
        return log_theta
    p = np.clip(p[use], 1e-4, 1 - 1e-4)
    s_use = seg[use]
    segs = np.unique(s_use)
    # P(no cash by day 30), seen from the invoice date as p_late is, for every frailty level
    q = len(_LOG_THETA)
    surv, cif, _ = timing.curves(np.repeat(segs, q), np.tile(_LOG_THETA, len(segs)), extra_days)
    r0 = np.searchsorted(segs, s_use) * q
    book = _book(ledger)
    entry = (book.inv_day - book.due_day)[rows[use]] - 1
    c_a = timing.column(entry, extra_days)
    c_30 = timing.column(np.full(len(s_use), _LATE_DAYS), extra_days)
    r = r0[:, None] + np.arange(q)[None, :]
    late = 1.0 - (cif[r, c_30[:, None]] - cif[r, c_a[:, None]]) / np.maximum(surv[r, c_a[:, None]],
                                                                            1e-300)
    # late decreases with theta: the first level at or below p gives the implied frailty
    implied = _LOG_THETA[np.minimum((late > p[:, None]).sum(axis=1), q - 1)]
    out = log_theta.copy()
    out[use] = (1 - weight) * log_theta[use] + weight * implied
    return out


def _quantize(log_theta: np.ndarray) -> np.ndarray:
    step = _LOG_THETA[1] - _LOG_THETA[0]
    return np.clip(np.rint((log_theta - _LOG_THETA[0]) / step), 0, len(_LOG_THETA) - 1).astype(
        np.int64)


def _open_expected(op: _Open, timing: PaymentTiming, starts, ends, extra_days: int):
    """Exact expected cash per period (fen), P(cash per period) and P(never) per invoice.

    Mixed over the booking options: P(cash in k | open) = sum_o w_o (CIF_o(k)
    - CIF_o(k - 1)) / sum_o w_o S_o(as_of), each option with its own cuts.
    """
    n_p = len(starts)
    if len(op.rows) == 0:
        return np.zeros(n_p), np.zeros((0, n_p)), np.zeros(0)
    key = op.seg * len(_LOG_THETA) + _quantize(op.log_theta)
    uk, row = np.unique(key, return_inverse=True)
    row = row.ravel()
    surv, cif, _ = timing.curves(uk // len(_LOG_THETA), _LOG_THETA[uk % len(_LOG_THETA)],
                                 extra_days)
    bounds = np.concatenate([[starts[0] - 1], ends])
    cols = _cut_columns(op, timing, bounds, extra_days)  # (n, O, n_p + 1)
    r3 = row[:, None, None]
    c = cif[r3, cols]
    w = op.weights
    s_a = np.maximum((w * surv[row[:, None], cols[:, :, 0]]).sum(axis=1), 1e-300)
    prob = np.einsum("no,nop->np", w, np.diff(c, axis=2)) / s_a[:, None]
    prob = np.clip(prob, 0.0, 1.0)
    # never: what neither the grid nor the (geometric) tail ever pays in cash
    last = surv.shape[1] - 1
    theta_row = np.exp(_LOG_THETA[uk % len(_LOG_THETA)])
    tp = theta_row * timing.tail_cash[uk // len(_LOG_THETA)]
    to = timing.tail_other[uk // len(_LOG_THETA)]
    share_tail = np.where(tp + to > 0, tp / np.maximum(tp + to, 1e-300), 0.0)
    cif_inf = cif[:, last] + surv[:, last] * share_tail
    paid_ever = (w * (cif_inf[row][:, None] - c[:, :, 0])).sum(axis=1) / s_a
    mean = prob.T @ op.amount
    return mean, prob, np.clip(1.0 - paid_ever, 0.0, 1.0)


def _open_simulate(op: _Open, timing: PaymentTiming, starts, ends, extra_days: int,
                   n_draws: int, timing_shock: float, rng: np.random.Generator,
                   chunk_cells: int = 2_000_000) -> np.ndarray:
    """Simulate cash per (draw, period), in fen.

    Per draw: each customer's frailty from its gamma posterior times a common
    shock; each invoice's exit period by inverse transform of its conditional
    exit distribution, read at the raw-day cuts of the period ends (which hold
    the receipt calendar: weekends, payment runs); then cash or not with the
    cash share of that period's exits.
    """
    n_p = len(starts)
    out = np.zeros((n_draws, n_p))
    n = len(op.rows)
    if n == 0:
        return out
    q = len(_LOG_THETA)
    segs = np.unique(op.seg)
    surv, cif, _ = timing.curves(np.repeat(segs, q), np.tile(_LOG_THETA, len(segs)), extra_days)
    n_col = surv.shape[1]
    surv_flat = surv.ravel().astype(np.float32)
    cif_flat = cif.ravel().astype(np.float32)
    r0 = (np.searchsorted(segs, op.seg) * q).astype(np.int32)
    bounds = np.concatenate([[starts[0] - 1], ends])
    ccol = _cut_columns(op, timing, bounds, extra_days).astype(np.int32)  # (n, O, n_p + 1)
    n_o = ccol.shape[1]
    ccol_flat = ccol.ravel()
    cust_u, cust_inv = np.unique(op.cust, return_inverse=True)
    cust_inv = cust_inv.ravel()
    cum_w = np.cumsum(timing.run_weights[cust_u], axis=1)  # booking option per customer
    alpha = timing.customers["alpha"].to_numpy()[cust_u]
    log_alpha = np.log(alpha)
    lt0 = ((op.log_theta - _LOG_THETA[0]) / (_LOG_THETA[1] - _LOG_THETA[0])).astype(np.float32)
    inv_step = np.float32(1.0 / (_LOG_THETA[1] - _LOG_THETA[0]))
    amount = op.amount
    step = max(1, chunk_cells // max(n, 1))
    for d0 in range(0, n_draws, step):
        k = min(step, n_draws - d0)
        g = rng.gamma(alpha[None, :], 1.0, size=(k, len(cust_u)))
        dev = (np.log(np.maximum(g, 1e-300)) - log_alpha[None, :]).astype(np.float32)
        dev += (timing_shock * rng.standard_normal((k, 1))).astype(np.float32)
        lvl = np.rint(lt0[None, :] + dev[:, cust_inv] * inv_step)
        np.clip(lvl, 0, q - 1, out=lvl)
        rowc = (r0[None, :] + lvl.astype(np.int32)) * np.int32(n_col)
        if n_o > 1:
            u = rng.random((k, len(cust_u)))
            opt = np.minimum((u[:, :, None] > cum_w[None, :, :]).sum(axis=2), n_o - 1)
            row_base = (np.arange(n)[None, :] * n_o + opt[:, cust_inv]) * (n_p + 1)
        else:
            row_base = np.broadcast_to(np.arange(n)[None, :] * (n_p + 1), (k, n))
        s_prev = surv_flat[rowc + ccol_flat[row_base]]
        target = s_prev * rng.random((k, n), dtype=np.float32)
        per = np.zeros((k, n), np.int32)  # periods whose end the invoice survives
        for j in range(1, n_p + 1):
            per += surv_flat[rowc + ccol_flat[row_base + j]] > target
        exits = per < n_p
        flat = row_base + np.minimum(per, n_p - 1)
        c_lo, c_hi = ccol_flat[flat], ccol_flat[flat + 1]
        d_cash = cif_flat[rowc + c_hi] - cif_flat[rowc + c_lo]
        d_exit = surv_flat[rowc + c_lo] - surv_flat[rowc + c_hi]
        u2 = rng.random((k, n), dtype=np.float32) * d_exit
        hit = exits & (u2 < d_cash)
        cell = (np.arange(k, dtype=np.int64)[:, None] * n_p + per)[hit]
        w = np.broadcast_to(amount[None, :], (k, n))[hit]
        out[d0:d0 + k] = np.bincount(cell, w, k * n_p).reshape(k, n_p)
    return out


_DELTA = np.arange(-2.0, 2.0 + 1e-9, 0.5)  # frailty deviations the fast method tabulates
_POLY_DEGREE = 4


def _open_simulate_clt(op: _Open, timing: PaymentTiming, starts, ends, extra_days: int,
                       n_draws: int, timing_shock: float, rng: np.random.Generator) -> np.ndarray:
    """Simulate cash per (draw, period), in fen, for large books (shared factors only).

    The shared factors are simulated as in :func:`_open_simulate` (customer
    frailties from their posteriors, the common shock); given them, the
    invoices are independent, so each period's cash is drawn from a normal
    with the exact conditional mean and variance. Both are tabulated once per
    customer on a grid of frailty deviations (:data:`_DELTA`, log scale, -2 to
    2) and fitted with a quartic in the deviation, so each draw costs a few
    dense (draws x customers) @ (customers x periods) products: the cost no
    longer grows with invoices x draws.
    """
    n_p = len(starts)
    n = len(op.rows)
    if n == 0:
        return np.zeros((n_draws, n_p))
    cust_u, cust_inv = np.unique(op.cust, return_inverse=True)
    cust_inv = cust_inv.ravel()
    n_c, n_d = len(cust_u), len(_DELTA)
    # P(cash in period k | open now) per invoice, for every tabulated deviation
    q = len(_LOG_THETA)
    segs = np.unique(op.seg)
    surv, cif, _ = timing.curves(np.repeat(segs, q), np.tile(_LOG_THETA, len(segs)), extra_days)
    n_col = surv.shape[1]
    surv_flat, cif_flat = surv.ravel(), cif.ravel()
    r0 = np.searchsorted(segs, op.seg) * q
    bounds = np.concatenate([[starts[0] - 1], ends])
    ccol = _cut_columns(op, timing, bounds, extra_days)  # (n, O, n_p + 1)
    w_opt = op.weights
    key = (cust_inv[:, None] * n_d * n_p + np.arange(n_p)[None, :]).ravel()
    mean_tab = np.zeros(n_c * n_d * n_p)
    var_tab = np.zeros(n_c * n_d * n_p)
    a1, a2 = op.amount[:, None], op.amount[:, None] ** 2
    for j, delta in enumerate(_DELTA):
        rowc = (r0 + _quantize(op.log_theta + delta)) * n_col
        c = cif_flat[rowc[:, None, None] + ccol]
        s_a = np.maximum((w_opt * surv_flat[rowc[:, None] + ccol[:, :, 0]]).sum(axis=1), 1e-300)
        prob = np.einsum("no,nop->np", w_opt, np.diff(c, axis=2)) / s_a[:, None]
        np.clip(prob, 0.0, 1.0, out=prob)
        mean_tab += np.bincount(key + j * n_p, (a1 * prob).ravel(), len(mean_tab))
        var_tab += np.bincount(key + j * n_p, (a2 * prob * (1 - prob)).ravel(), len(var_tab))
    # per customer and period, a quartic in the deviation fitted to the tabulated values:
    # each draw is then a few dense products (draws x customers) @ (customers x periods)
    vander = np.vander(_DELTA, _POLY_DEGREE + 1, increasing=True)
    proj = np.linalg.pinv(vander)  # (degree + 1, n_d)
    coef_mean = np.einsum("md,cdp->mcp", proj, mean_tab.reshape(n_c, n_d, n_p))
    coef_var = np.einsum("md,cdp->mcp", proj, var_tab.reshape(n_c, n_d, n_p))
    alpha = timing.customers["alpha"].to_numpy()[cust_u]
    log_alpha = np.log(alpha)
    out = np.empty((n_draws, n_p))
    step = max(1, 4_000_000 // max(n_c, 1))
    for d0 in range(0, n_draws, step):
        k = min(step, n_draws - d0)
        g = rng.gamma(alpha[None, :], 1.0, size=(k, n_c))
        dev = np.log(np.maximum(g, 1e-300)) - log_alpha[None, :]
        dev += timing_shock * rng.standard_normal((k, 1))
        np.clip(dev, _DELTA[0], _DELTA[-1], out=dev)
        mean = np.zeros((k, n_p))
        var = np.zeros((k, n_p))
        power = np.ones_like(dev)
        for m in range(_POLY_DEGREE + 1):
            mean += power @ coef_mean[m]
            var += power @ coef_var[m]
            power *= dev
        out[d0:d0 + k] = np.maximum(
            mean + np.sqrt(np.maximum(var, 0)) * rng.standard_normal((k, n_p)), 0.0)
    return out


# --------------------------------------------------------------------------- new sales
def recent_sales_forecast(ledger: Ledger, as_of, h: int = 12, rel_sd: float = 0.15) -> pd.DataFrame:
    """Forecast monthly sales simply; the fallback when :mod:`medrisk.forecast` is absent.

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
        In the form of :func:`medrisk.forecast.forecast_sales`: ``unique_id``
        ("total"), ``ds`` (month start), ``model`` ("SeasonalNaiveGrowth"),
        ``mean``, ``lo-80``, ``hi-80``, ``lo-95``, ``hi-95`` in 元.
    """
    day = _day_of(as_of)
    h = _check_int("h", h, 1, 120)
    rel_sd = _check_float("rel_sd", rel_sd, 0.0, 5.0)
    book = _book(ledger)
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
        try:
            from medrisk import forecast as _fc
        except ImportError:
            _fc = None
        fn = getattr(_fc, "forecast_sales", None) if _fc is not None else None
        if fn is not None:
            return fn(ledger, as_of, h=n_months), "medrisk.forecast.forecast_sales"
        return recent_sales_forecast(ledger, as_of, h=n_months), "recent_sales_forecast"
    if isinstance(sales_forecast, str) and sales_forecast == "recent":
        return recent_sales_forecast(ledger, as_of, h=n_months), "recent_sales_forecast"
    if isinstance(sales_forecast, str) and sales_forecast == "none":
        return None, "none"
    raise ParamsError(
        "sales_forecast must be None (medrisk.forecast when available, else 'recent'), 'recent', "
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
            "(month start) and mean (元), as medrisk.forecast.forecast_sales returns; got columns "
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
        ``"<n>D"``; see :func:`cash_periods`.
    sales_forecast : DataFrame or {"recent", "none"} or None, default=None
        Monthly sales not yet invoiced, in the form of
        :func:`medrisk.forecast.forecast_sales` (``ds``, ``mean`` and
        optionally ``model``, ``unique_id``, ``lo-95``/``hi-95`` in 元; the
        ``"total"`` series when there are several, else their sum). None calls
        ``medrisk.forecast.forecast_sales(ledger, as_of, h=...)`` when that
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
        Segments of the timing model (see :func:`fit_payment_timing`).
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
        Passed to :func:`fit_payment_timing` (``lookback_days``,
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
    >>> from medrisk.demo import make_ledger
    >>> ledger = make_ledger(5_000)
    >>> fc = cash_in_forecast(ledger, "2026-06-30", "13W", sales_forecast="recent")
    >>> fc[fc["component"] == "total"][["period_start", "mean", "lo-80", "hi-80"]]  # doctest: +SKIP
    """
    day = _day_of(as_of)
    starts, ends = _period_days(day, horizon)
    n_draws = _check_int("n_draws", n_draws, 20, 100_000)
    seed = _check_int("seed", seed, 0)
    timing_shock = _check_float("timing_shock", timing_shock, 0.0, 3.0)
    p_late_weight = _check_float("p_late_weight", p_late_weight, 0.0, 1.0)
    if timing is None:
        timing = fit_payment_timing(ledger, as_of, segment=segment, **fit_kw)
    elif timing.as_of != pd.Timestamp(_to_ts([day])[0]):
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
    book = _book(ledger)
    month_first = int(_month_of(np.array([day])).astype("datetime64[M]").astype("datetime64[D]")
                      .astype(np.int64)[0])
    in_month = (book.inv_day >= month_first) & (book.inv_day <= day)
    already = float(book.amount[in_month].sum())
    rate, sd_d, model = _daily_sales(frame, day, n_days, sales_model, already)
    kernel = _new_sales_kernel(timing, n_days, extra)
    cash_new = np.convolve(rate, kernel)[:n_days]
    cash_sd = np.convolve(sd_d, kernel)[:n_days]
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
            "period_start": _to_ts(starts),
            "period_end": _to_ts(ends),
            **{k: (v / FEN_PER_YUAN if isinstance(v, np.ndarray) else v) for k, v in row.items()},
        }))
    result = pd.concat(out, ignore_index=True)
    result = result[["period", "period_start", "period_end", "component", "mean",
                     "lo-80", "hi-80", "lo-95", "hi-95"]]
    result["component"] = pd.Categorical(result["component"], categories=list(COMPONENTS))
    result.attrs.update(
        as_of=pd.Timestamp(_to_ts([day])[0]),
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


def payment_outlook(
    ledger: Ledger,
    as_of,
    horizon: str = "13W",
    p_late: pd.DataFrame | pd.Series | None = None,
    segment: str | list[str] | None = "customer_type",
    p_late_weight: float = 0.3,
    timing: PaymentTiming | None = None,
    **fit_kw,
) -> pd.DataFrame:
    """Per open invoice: how likely it is to be paid within the horizon, or never.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    horizon : str, default="13W"
        As for :func:`cash_in_forecast`.
    p_late, segment, p_late_weight, timing, **fit_kw
        As for :func:`cash_in_forecast`.

    Returns
    -------
    DataFrame
        One row per invoice open on ``as_of``: ``invoice_id``,
        ``customer_id``, ``open_amount`` (int64 fen), ``days_past_due``,
        ``theta`` (the frailty used: above 1 pays faster than its segment),
        ``p_paid_in_horizon``, ``p_never`` and ``expected_in_horizon``
        (元), plus the segment columns.
    """
    day = _day_of(as_of)
    starts, ends = _period_days(day, horizon)
    if timing is None:
        timing = fit_payment_timing(ledger, as_of, segment=segment, **fit_kw)
    extra = int(ends[-1] - day) + _TAIL_MARGIN
    op = _open_invoices(ledger, day, timing, p_late, p_late_weight, extra)
    _, prob, p_never = _open_expected(op, timing, starts, ends, extra)
    p_h = prob.sum(axis=1) if len(op.rows) else np.zeros(0)
    inv = ledger.invoices
    out = pd.DataFrame({
        "invoice_id": inv["invoice_id"].take(op.rows).reset_index(drop=True),
        "customer_id": inv["customer_id"].take(op.rows).reset_index(drop=True),
        "open_amount": op.amount.astype(np.int64),
        "days_past_due": np.maximum(day - op.due, 0),
        "theta": np.exp(op.log_theta),
        "p_paid_in_horizon": p_h,
        "p_never": p_never,
        "expected_in_horizon": op.amount * p_h / FEN_PER_YUAN,
    })
    for name in timing.segment:
        out[name] = timing.segments[name].to_numpy(dtype=object)[op.seg]
    out.attrs.update(as_of=pd.Timestamp(_to_ts([day])[0]), horizon=str(horizon))
    return out


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
    dates = [_day_of(d, "as_of_dates") for d in as_of_dates]
    if not dates:
        raise ParamsError("as_of_dates is empty; give at least one past date.")
    sales_fc = forecast_kw.pop("sales_forecast", None)
    if isinstance(sales_fc, pd.DataFrame):
        raise ParamsError("backtest_cash_in makes its own sales forecast per as_of; pass "
                          "sales_forecast=None, 'recent' or 'none', not a frame.")
    last = int(_day_of(ledger.payments["payment_date"].max()))
    rows = []
    sources = set()
    for d in dates:
        starts, ends = _period_days(d, horizon)
        if ends[-1] > last:
            raise ParamsError(
                f"as_of {_to_ts([d])[0].astype('datetime64[D]')} with horizon {horizon!r} runs to "
                f"{_to_ts([ends[-1]])[0].astype('datetime64[D]')}, after the last payment date "
                f"{_to_ts([last])[0].astype('datetime64[D]')}; use an earlier date."
            )
        ts = pd.Timestamp(_to_ts([d])[0])
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
