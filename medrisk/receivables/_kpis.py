"""Collection KPIs for a period, for the company or per group, and their trend.

Definitions (a period is ``[start, end]``, both days included, ``days`` long;
AR is the open amount of :mod:`medrisk.receivables`, point in time):

* ``opening_ar``: AR as of the day before ``start``; ``closing_ar``: AR as of
  ``end``, split into ``closing_current_ar`` (not yet due) and
  ``closing_overdue_ar``.
* ``sales``: credit sales, the amounts of invoices dated in the period (gross,
  before credit notes and discounts, which are reported apart).
* ``collected`` (本期回款): cash applied to invoices in the period, dated by the
  payment date (a prepayment applied to a later invoice counts on the invoice
  date). Credit notes, discounts and write-offs are never cash. Unapplied cash
  (预收款) is not collection until applied. So, exactly, to the fen::

      closing_ar = opening_ar + sales - collected - credit_notes - discounts - write_offs

* ``dso`` (standard) = closing_ar / sales x days.
* ``dso_countback``: walk back month by month from ``end`` (windows
  ``(end+1) - k months``), consuming each month's sales until the closing AR is
  used up; full months count their days, the last one its fraction.
* ``best_possible_dso`` = closing_current_ar / sales x days;
  ``average_days_delinquent`` = dso - best_possible_dso.
* ``cei`` = (opening_ar + sales - closing_ar) / (opening_ar + sales - closing_current_ar).
* ``ar_turnover`` = sales / ((opening_ar + closing_ar) / 2), for the period (not annualised).
* ``collection_rate`` (回款率) = 本期回款 / (期初应收 + 本期销售)
  = collected / (opening_ar + sales),
  the usual definition in Chinese finance departments: the share of what could
  have been collected in the period that was collected in cash.
* ``overdue_rate`` (逾期率) = closing_overdue_ar / closing_ar.
* ``bad_debt_rate`` (坏账率) = write_offs / sales; ``bad_debt_rate_ar`` = write_offs /
  (opening_ar + sales), on the same base as the collection rate.
* Settled invoices are those whose open amount reached zero in the period.
  ``on_time_count`` / ``on_time_amount``: those that reached zero on or before
  their due date with no write-off; ``on_time_rate_count`` and
  ``on_time_rate_amount`` divide them by ``settled_count`` / ``settled_amount``
  (invoice amounts).
* ``avg_days_to_pay``: invoice-amount-weighted mean of days from invoice date to
  settlement, over invoices settled in the period without a write-off;
  ``avg_days_late`` the same for ``max(0, settlement - due date)``.

Money is int64 fen; rates and days are floats (NaN when the denominator is 0).
Rankings and the customer 360 view are in :mod:`medrisk.receivables`; warnings in
:mod:`medrisk.receivables`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.receivables._engine import _aging_core, event_book, group_codes

__all__ = [
    "kpis",
    "kpi_trend",
    "KPI_COLUMNS",
]

# fmt: off
KPI_COLUMNS = [
    "period_start", "period_end", "days",
    "opening_ar", "sales", "collected", "credit_notes", "discounts", "write_offs",
    "closing_ar", "closing_current_ar", "closing_overdue_ar",
    "dso", "dso_countback", "best_possible_dso", "average_days_delinquent", "cei",
    "ar_turnover", "collection_rate", "overdue_rate", "bad_debt_rate", "bad_debt_rate_ar",
    "settled_count", "on_time_count", "on_time_rate_count",
    "settled_amount", "on_time_amount", "on_time_rate_amount",
    "avg_days_to_pay", "avg_days_late",
]
# fmt: on


def _ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


def _shift_months(days: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Day ``days`` moved back ``k`` months (day of month clipped to the month's length)."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    dom = (d - month.astype("datetime64[D]")).astype(np.int64)
    target = month - np.asarray(k, dtype=np.int64)
    first = target.astype("datetime64[D]").astype(np.int64)
    length = (target + 1).astype("datetime64[D]").astype(np.int64) - first
    return (first + np.minimum(dom, length - 1)).astype(np.int64)


def _per_period(
    days: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Period index of each day, and whether it falls in a period at all."""
    p = np.searchsorted(ends, days, side="left")
    pc = np.minimum(p, len(ends) - 1)
    return pc, (p < len(ends)) & (days >= starts[pc])


def _in_periods(days, codes, starts, ends, n_groups) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose day falls in a period, and their flat ``period * n_groups + group`` cell."""
    p, ok = _per_period(days, starts, ends)
    rows = np.flatnonzero(ok)
    return rows, p[rows] * n_groups + codes[rows]


def _sum_at(cells: np.ndarray, values, shape, kinds: int = 1) -> np.ndarray:
    """Exact sums of ``values`` per cell (integer values stay integers)."""
    values = np.asarray(values)
    out = np.zeros(shape[0] * shape[1] * kinds, dtype=values.dtype)
    np.add.at(out, cells, values)
    return out.reshape(*shape, kinds) if kinds > 1 else out.reshape(shape)


def _sales_index(ledger: Ledger, by) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Invoices sorted by (group, day) with running sales: for countback DSO."""
    return ledger.derive(_build_sales_index, tuple(kernel.as_list(by)))


def _build_sales_index(ledger: Ledger, by: tuple[str, ...]):
    book = event_book(ledger)
    codes, keys = group_codes(ledger, list(by))
    n_groups = 1 if keys is None else len(keys)
    lo, hi = (int(book.inv_day.min()), int(book.inv_day.max())) if book.n else (0, 0)
    base, span = lo - 1, hi - lo + 3
    skey = codes * span + (book.inv_day - base)
    order = np.argsort(skey, kind="stable")
    cs = np.zeros(book.n + 1, np.int64)
    np.cumsum(book.amount[order], out=cs[1:])
    skey = skey[order]
    gstart = np.searchsorted(skey, np.arange(n_groups, dtype=np.int64) * span, side="left")
    return skey, cs, gstart, base, span


def _countback(
    ledger: Ledger, by, n_groups: int, ends: np.ndarray, closing: np.ndarray
) -> np.ndarray:
    """Countback DSO per (period, group); see the module docstring."""
    book = event_book(ledger)
    skey, cs, gstart, base, span = _sales_index(ledger, by)
    first = int(book.inv_day.min()) if book.n else int(ends.min())
    out = np.zeros(closing.shape, float)
    n_months = int(np.ceil((ends.max(initial=first) - first + 1) / 28)) + 2
    ks = np.arange(n_months + 1)
    bounds = np.stack([_shift_months(np.full(len(ks), e + 1), ks) for e in ends])  # (P, K+1)
    uniq, where = np.unique(bounds, return_inverse=True)
    where = where.reshape(bounds.shape)
    days_k = (bounds[:, :-1] - bounds[:, 1:]).astype(float)  # window k = [b_k, b_{k-1})
    days_before = np.concatenate([np.zeros((len(ends), 1)), np.cumsum(days_k, axis=1)], axis=1)
    step = max(1, 20_000_000 // len(uniq))  # bound the (dates x groups) work arrays
    for g0 in range(0, n_groups, step):
        g = np.arange(g0, min(g0 + step, n_groups), dtype=np.int64)
        q = g[None, :] * span + np.clip(uniq[:, None] - base, 0, span - 1)
        before = cs[np.searchsorted(skey, q, side="left")] - cs[gstart[g]][None, :]
        cols = np.arange(len(g))
        for p in range(len(ends)):  # vectorised over months and groups
            cum_before = before[where[p]]  # (K+1, G), sales before each boundary
            sales_k = cum_before[:-1] - cum_before[1:]
            cum = np.cumsum(sales_k, axis=0)
            ar = closing[p, g]
            k = np.argmax(cum >= ar[None, :], axis=0)
            prev = np.where(k > 0, cum[np.maximum(k - 1, 0), cols], 0)
            frac = _ratio(ar - prev, sales_k[k, cols]) * days_k[p, k]
            out[p, g] = np.where(ar > 0, days_before[p, k] + np.nan_to_num(frac), 0.0)
    return out


def _kpi_core(ledger: Ledger, starts: np.ndarray, ends: np.ndarray, by) -> pd.DataFrame:
    book = event_book(ledger)
    codes, keys = group_codes(ledger, by)
    n_groups = 1 if keys is None else len(keys)
    shape = (len(ends), n_groups)

    snap = np.unique(np.concatenate([starts - 1, ends]))
    amounts, _, rows = _aging_core(book, snap, codes, n_groups, np.array([0]), "due_date")
    ar = np.zeros((len(snap) * n_groups, 2), np.int64)
    ar[rows] = amounts
    ar = ar.reshape(len(snap), n_groups, 2)
    opening = ar[np.searchsorted(snap, starts - 1)].sum(axis=-1)
    close = ar[np.searchsorted(snap, ends)]
    current, overdue = close[..., 0], close[..., 1]
    closing = current + overdue

    rows, cells = _in_periods(book.inv_day, codes, starts, ends, n_groups)
    sales = _sum_at(cells, book.amount[rows], shape)
    rows, cells = _in_periods(book.ev_day, codes[book.ev_inv], starts, ends, n_groups)
    amounts = book.cum[rows + 1] - book.cum[rows]
    flows = _sum_at(cells * 4 + book.ev_kind[rows], amounts, shape, kinds=4)
    collected, credit_notes, discounts, write_offs = (flows[..., k] for k in range(4))

    rows, cells = _in_periods(book.closed_day, codes, starts, ends, n_groups)
    amount = book.amount[rows]
    paid = book.closed_wo[rows] == 0
    on_time = paid & (book.closed_day[rows] <= book.due_day[rows])
    settled_count = _sum_at(cells, np.ones(len(rows), np.int64), shape)
    on_time_count = _sum_at(cells[on_time], np.ones(int(on_time.sum()), np.int64), shape)
    settled_amount = _sum_at(cells, amount, shape)
    on_time_amount = _sum_at(cells[on_time], amount[on_time], shape)
    w = amount[paid].astype(float)
    paid_amount = _sum_at(cells[paid], w, shape)
    to_pay = (book.closed_day[rows] - book.inv_day[rows])[paid] * w
    late = np.maximum(book.closed_day[rows] - book.due_day[rows], 0)[paid] * w
    avg_to_pay = _ratio(_sum_at(cells[paid], to_pay, shape), paid_amount)
    avg_late = _ratio(_sum_at(cells[paid], late, shape), paid_amount)

    days = (ends - starts + 1).astype(float)[:, None]
    dso = _ratio(closing, sales) * days
    bpd = _ratio(current, sales) * days
    base = opening + sales
    # fmt: off
    data = {
        "period_start": np.repeat(kernel.to_ts(starts), n_groups),
        "period_end": np.repeat(kernel.to_ts(ends), n_groups),
        "days": np.repeat(ends - starts + 1, n_groups),
        "opening_ar": opening, "sales": sales, "collected": collected, "credit_notes": credit_notes,
        "discounts": discounts, "write_offs": write_offs, "closing_ar": closing,
        "closing_current_ar": current, "closing_overdue_ar": overdue,
        "dso": dso, "dso_countback": _countback(ledger, by, n_groups, ends, closing),
        "best_possible_dso": bpd, "average_days_delinquent": dso - bpd,
        "cei": _ratio(base - closing, base - current),
        "ar_turnover": _ratio(sales, (opening + closing) / 2),
        "collection_rate": _ratio(collected, base), "overdue_rate": _ratio(overdue, closing),
        "bad_debt_rate": _ratio(write_offs, sales), "bad_debt_rate_ar": _ratio(write_offs, base),
        "settled_count": settled_count, "on_time_count": on_time_count,
        "on_time_rate_count": _ratio(on_time_count, settled_count),
        "settled_amount": settled_amount, "on_time_amount": on_time_amount,
        "on_time_rate_amount": _ratio(on_time_amount, settled_amount),
        "avg_days_to_pay": avg_to_pay, "avg_days_late": avg_late,
    }
    # fmt: on
    frame = pd.DataFrame({k: np.asarray(v).reshape(-1) for k, v in data.items()})
    if keys is None:
        return frame.set_index("period_end", drop=False).rename_axis("period")
    moved = collected + credit_notes + discounts + write_offs
    active = ((opening != 0) | (sales != 0) | (closing != 0) | (settled_count != 0) | (moved != 0))
    active = active.reshape(-1)
    g = np.tile(np.arange(n_groups), len(ends))[active]
    frame = frame[active].reset_index(drop=True)
    index = [frame["period_end"]] + [
        pd.Series(keys[c].to_numpy(dtype=object)[g], name=c) for c in keys
    ]
    frame.index = pd.MultiIndex.from_arrays(index, names=["period", *keys.columns])
    return frame


def _period(start, end) -> tuple[int, int]:
    s, e = kernel.day_of(start, "start"), kernel.day_of(end, "end")
    if e < s:
        raise ParamsError(f"end must be on or after start; got start={start!r}, end={end!r}.")
    return s, e


def kpis(ledger: Ledger, start, end, by: str | list[str] | None = None) -> pd.DataFrame:
    """Every collection KPI for one period, for the company or per group.

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
        First and last day of the period (both included).
    by : str or list of str, default=None
        Group by these columns (see :func:`medrisk.receivables.dimensions`).

    Returns
    -------
    DataFrame
        Columns :data:`KPI_COLUMNS` (definitions in the module docstring).
        One row (indexed by the period end) when ``by`` is None, else one row
        per group with any AR, sales or settlement, indexed by the ``by``
        columns.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.receivables import kpis
    >>> ledger = make_ledger(2_000, seed=1)
    >>> kpis(ledger, "2025-01-01", "2025-12-31")[["dso", "cei"]].round(2)
                   dso   cei
    period
    2025-12-31  166.45  0.93
    >>> groups = kpis(ledger, "2025-01-01", "2025-12-31", by=["region", "channel"])
    >>> groups.shape
    (19, 30)
    >>> groups[["dso", "cei"]].round(2).head(3)
                           dso   cei
    region channel
    东北     direct       192.70  0.71
           distributor   81.29  1.00
           ecommerce     62.77  1.00
    """
    s, e = _period(start, end)
    frame = _kpi_core(ledger, np.array([s]), np.array([e]), by)
    return frame.droplevel("period") if kernel.as_list(by) else frame


def kpi_trend(
    ledger: Ledger, start, end, freq: str = "ME", by: str | list[str] | None = None
) -> pd.DataFrame:
    """KPIs for each period between ``start`` and ``end`` (monthly by default).

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
        The first period starts on ``start``; the last ends on ``end``.
    freq : str, default="ME"
        Pandas frequency of the period ends: ``"ME"`` months, ``"QE"``
        quarters, ``"YE"`` years, ``"W-SUN"`` weeks.
    by : str or list of str, default=None
        Group by these columns.

    Returns
    -------
    DataFrame
        Columns :data:`KPI_COLUMNS`, indexed by ``period`` (the period end),
        then the ``by`` columns.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.receivables import kpi_trend
    >>> ledger = make_ledger(2_000, seed=1)
    >>> kpi_trend(ledger, "2024-01-01", "2026-10-31")["dso"].round(1).tail(3)
    period
    2026-08-31    173.8
    2026-09-30     97.7
    2026-10-31    172.8
    Name: dso, dtype: float64

    Quarters, the last one cut at ``end``:

    >>> kpi_trend(ledger, "2026-01-01", "2026-10-31", freq="QE")[["dso", "cei"]].round(2)
                   dso   cei
    period
    2026-03-31  145.50  0.75
    2026-06-30  138.88  0.80
    2026-09-30  135.97  0.70
    2026-10-31  172.81  0.44
    >>> by_team = kpi_trend(ledger, "2026-01-01", "2026-10-31", freq="QE", by="team")
    >>> by_team.index.names, len(by_team)
    (FrozenList(['period', 'team']), 28)
    """
    s, e = _period(start, end)
    try:
        marks = pd.date_range(kernel.to_ts([s])[0], kernel.to_ts([e])[0], freq=freq)
    except ValueError as exc:
        raise ParamsError(f"freq={freq!r} is not a pandas frequency such as 'ME' or 'QE'.") from exc
    ends = np.unique(np.append(marks.to_numpy().astype("datetime64[D]").astype(np.int64), e))
    starts = np.concatenate([[s], ends[:-1] + 1])
    return _kpi_core(ledger, starts, ends, by)
