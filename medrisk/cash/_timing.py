"""Payment timing: when invoices are paid, learned from the history known on ``as_of``.

:func:`fit_payment_timing` learns a *payment-timing distribution*: the delay
``d = payment day - due day`` at which an invoice is paid, or that it never
pays, per segment and customer, and how the receipts are booked (the
receipt calendar). :class:`PaymentTiming` holds the fit. The outlook of the
open invoices (:mod:`medrisk.cash`) and the cash-in forecast
(:mod:`medrisk.cash`) are built on it.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.receivables import event_book, group_codes

__all__ = [
    "PaymentTiming",
    "fit_payment_timing",
]

_MAX_EXIT = 0.999  # a day's total exit probability is capped below 1
_RUN_MIN, _RUN_SHARE = 4, 0.4  # a clear payment-run customer: 4+ receipts and 40% on one day


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

    n_c = len(cust_ids)
    none = (weekend, np.zeros((n_c, 1), np.int64), np.ones((n_c, 1)))
    cust = kernel.positions(pay["customer_id"][keep].reset_index(drop=True), pd.Series(cust_ids))
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
    day = kernel.day_of(as_of)
    if lookback_days is not None:
        lookback_days = _check_int("lookback_days", lookback_days, 30)
    max_delay_days = _check_int("max_delay_days", max_delay_days, 30, 3650)
    segment_prior = _check_float("segment_prior", segment_prior, 0.0)
    customer_prior = _check_float("customer_prior", customer_prior, 1e-6)
    if weekend not in WEEKEND_RULES:
        raise ParamsError(f"weekend={weekend!r} is not supported. Possible values are: "
                          f"{list(WEEKEND_RULES)}.")
    names = _segment_list(segment)
    book = event_book(ledger)
    if names:
        seg_codes, seg_keys = group_codes(ledger, names)
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

        pos = kernel.positions(pd.Series(np.asarray(cust_ids, dtype=object)),
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
        as_of=pd.Timestamp(kernel.to_ts([day])[0]),
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
