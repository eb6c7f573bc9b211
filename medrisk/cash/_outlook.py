"""Payment outlook of the open invoices: when each invoice open on ``as_of`` turns into cash.

Each open invoice pays its open amount at a delay ``d = payment day - due
day`` drawn from the payment-timing distribution of
:func:`medrisk.cash.fit_payment_timing`, conditioned on the invoice
still being open at its current age ``a = as_of - due day`` (only delays
``d > a`` are possible), or it never pays. :func:`payment_outlook` gives
each open invoice's probabilities; the cash-in forecast of
:mod:`medrisk.cash` sums the expected cash of the open invoices per
period (its ``open_invoices`` component) and simulates it for its intervals
with the functions here.

An optional per-invoice ``p_late`` (probability of not being paid within 30
days of due, e.g. from :mod:`medrisk.credit`) sharpens the frailty of
invoices that are not yet 30 days past due: the ``theta`` that makes the model
give that invoice, seen from its invoice date, the same probability of no
cash by day 30 is blended (on the log scale, weight ``p_late_weight``) with
its customer's ``theta``.

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

Periods
-------
:func:`cash_periods` splits the horizon after ``as_of``:
``"13W"``: 13 periods of 7 days starting the day after ``as_of``.
``"12M"``: 12 calendar months starting with the month of the day after
``as_of`` (the first one partial when ``as_of`` is not a month end). Any
``"<n>W"``, ``"<n>M"`` or ``"<n>D"`` (n days of 1 day each) works.

Money: amounts are read in integer fen; expected amounts are returned in
元 (float).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.cash._timing import PaymentTiming, fit_payment_timing
from medrisk.config import FEN_PER_YUAN
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.receivables import event_book

__all__ = [
    "cash_periods",
    "payment_outlook",
]

_LOG_THETA = np.round(np.arange(-3.0, 3.0 + 1e-9, 0.05), 10)  # frailty grid (~5% steps)
_LATE_DAYS = 30  # p_late: not paid within 30 days of due (DOMAIN.md, medrisk.data.demo)
_TAIL_MARGIN = 100  # columns kept after the horizon (payment runs, weekends, the tail)


# --------------------------------------------------------------------------- arguments
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
    starts, ends = _period_days(kernel.day_of(as_of), horizon)
    return pd.DataFrame({
        "period": np.arange(1, len(starts) + 1),
        "period_start": kernel.to_ts(starts),
        "period_end": kernel.to_ts(ends),
        "days": ends - starts + 1,
    })


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
    book = event_book(ledger)
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

    ids = ledger.invoices["invoice_id"].take(rows).reset_index(drop=True)
    pos = kernel.positions(ids, p_late["invoice_id"].reset_index(drop=True))
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
    book = event_book(ledger)
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


# --------------------------------------------------------------------------- payment outlook
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
        As for :func:`medrisk.cash.cash_in_forecast`.
    p_late, segment, p_late_weight, timing, **fit_kw
        As for :func:`medrisk.cash.cash_in_forecast`.

    Returns
    -------
    DataFrame
        One row per invoice open on ``as_of``: ``invoice_id``,
        ``customer_id``, ``open_amount`` (int64 fen), ``days_past_due``,
        ``theta`` (the frailty used: above 1 pays faster than its segment),
        ``p_paid_in_horizon``, ``p_never`` and ``expected_in_horizon``
        (元), plus the segment columns.
    """
    day = kernel.day_of(as_of)
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
    out.attrs.update(as_of=pd.Timestamp(kernel.to_ts([day])[0]), horizon=str(horizon))
    return out
