"""Collection KPIs, rankings, the customer 360 credit view and warnings.

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
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from medrisk.exceptions import ParamsError
from medrisk.ledger import Ledger
from medrisk.receivables import (
    _NEVER,
    _aging_core,
    _book,
    _by_list,
    _cache,
    _day_of,
    _groups,
    _positions,
    _to_ts,
    cash_application_of,
)

__all__ = [
    "kpis",
    "kpi_trend",
    "top_overdue_customers",
    "long_term_delinquents",
    "slowest_payers",
    "salesperson_collection_ranking",
    "customer_360",
    "warnings",
    "KPI_COLUMNS",
    "DEFAULT_THRESHOLDS",
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
_CUSTOMER_COLUMNS = ["customer_id", "name", "customer_type", "region", "province", "channel",
                     "salesperson_id", "credit_limit"]
_WARNING_COLUMNS = ["as_of", "rule", "scope", "scope_id", "metric", "value", "threshold",
                    "message_en", "message_zh"]
# fmt: on

#: Thresholds of :func:`warnings`; a key set to None (or left out) is not checked.
DEFAULT_THRESHOLDS: dict[str, object] = {
    "overdue_rate_max": 0.3,
    "dso_increase_days_max": 10,
    "bad_debt_rate_max": 0.02,
    "over_credit_limit": True,
    "utilisation_max": 0.8,
    "customer_overdue_rate_max": None,
    "long_overdue_days": None,
}


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
    cache = _cache(ledger)
    key = ("sales_index", tuple(_by_list(by)))
    if key not in cache:
        book = _book(ledger)
        codes, keys = _groups(ledger, by)
        n_groups = 1 if keys is None else len(keys)
        lo, hi = (int(book.inv_day.min()), int(book.inv_day.max())) if book.n else (0, 0)
        base, span = lo - 1, hi - lo + 3
        skey = codes * span + (book.inv_day - base)
        order = np.argsort(skey, kind="stable")
        cs = np.zeros(book.n + 1, np.int64)
        np.cumsum(book.amount[order], out=cs[1:])
        skey = skey[order]
        gstart = np.searchsorted(skey, np.arange(n_groups, dtype=np.int64) * span, side="left")
        cache[key] = (skey, cs, gstart, base, span)
    return cache[key]


def _countback(
    ledger: Ledger, by, n_groups: int, ends: np.ndarray, closing: np.ndarray
) -> np.ndarray:
    """Countback DSO per (period, group); see the module docstring."""
    book = _book(ledger)
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
    book = _book(ledger)
    codes, keys = _groups(ledger, by)
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
        "period_start": np.repeat(_to_ts(starts), n_groups),
        "period_end": np.repeat(_to_ts(ends), n_groups),
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
    s, e = _day_of(start, "start"), _day_of(end, "end")
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
    >>> kpis(ledger, "2025-01-01", "2025-12-31")[["dso", "cei"]]  # doctest: +SKIP
    >>> kpis(ledger, "2025-01-01", "2025-12-31", by=["region", "channel"])  # doctest: +SKIP
    """
    s, e = _period(start, end)
    frame = _kpi_core(ledger, np.array([s]), np.array([e]), by)
    return frame.droplevel("period") if _by_list(by) else frame


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
    >>> kpi_trend(ledger, "2024-01-01", "2026-10-31")["dso"].plot()  # doctest: +SKIP
    >>> kpi_trend(ledger, "2026-01-01", "2026-10-31", freq="QE", by="team")  # doctest: +SKIP
    """
    s, e = _period(start, end)
    try:
        marks = pd.date_range(_to_ts([s])[0], _to_ts([e])[0], freq=freq)
    except ValueError as exc:
        raise ParamsError(f"freq={freq!r} is not a pandas frequency such as 'ME' or 'QE'.") from exc
    ends = np.unique(np.append(marks.to_numpy().astype("datetime64[D]").astype(np.int64), e))
    starts = np.concatenate([[s], ends[:-1] + 1])
    return _kpi_core(ledger, starts, ends, by)


# --------------------------------------------------------------------------- per-customer views
def _customers(ledger: Ledger) -> pd.DataFrame:
    cust = ledger.customers.reset_index(drop=True)
    out = cust[[c for c in _CUSTOMER_COLUMNS if c in cust.columns]]
    return out if "credit_limit" in out else out.assign(credit_limit=pd.NA).astype(
        {"credit_limit": "Int64"})


def _slots(ledger: Ledger, name: str, ids: pd.Series) -> np.ndarray:
    """Find each id's customer position (``len(customers)`` when unknown), cached by ``name``."""
    cache = _cache(ledger)
    if name not in cache:
        n_c = len(ledger.customers)
        pos = _positions(
            ids.reset_index(drop=True), ledger.customers["customer_id"].reset_index(drop=True)
        )
        cache[name] = np.where(pos >= 0, pos, n_c)
    return cache[name]


def _bins(slot: np.ndarray, values, n: int, how=np.add, fill=0) -> np.ndarray:
    out = np.full(n + 1, fill, dtype=np.asarray(values).dtype)
    how.at(out, slot, values)
    return out[:n]


def _open_by_customer(
    ledger: Ledger, day: int, min_days: int | None = None
) -> dict[str, np.ndarray]:
    """Open and overdue money per customer as of ``day``; credit balances apart."""
    book = _book(ledger)
    n_c = len(ledger.customers)
    slot = np.where(book.cust_pos >= 0, book.cust_pos, n_c)
    rows = np.flatnonzero((book.inv_day <= day) & (book.active_until > day))
    open_amt = book.amount[rows] - book.reduced(rows, book.query(rows, day))
    dpd = day - book.due_day[rows]
    pos = open_amt > 0
    od = pos & (dpd > 0)
    s = slot[rows]
    one = np.ones(len(rows), np.int64)
    out = {
        "open_amount": _bins(s[pos], open_amt[pos], n_c),
        "overdue_amount": _bins(s[od], open_amt[od], n_c),
        "open_invoices": _bins(s[pos], one[pos], n_c),
        "overdue_invoices": _bins(s[od], one[od], n_c),
        "max_days_past_due": _bins(s[od], dpd[od], n_c, np.maximum),
        "credit_balance": _bins(s[~pos], -open_amt[~pos], n_c),
    }
    if min_days is not None:
        lt = od & (dpd >= int(min_days))
        out["long_overdue_amount"] = _bins(s[lt], open_amt[lt], n_c)
        out["long_overdue_invoices"] = _bins(s[lt], one[lt], n_c)
    return out


def _ranked(
    frame: pd.DataFrame, keep, sort: list[str], ascending: list[bool], n: int | None
) -> pd.DataFrame:
    frame = frame[np.asarray(keep)].sort_values(sort, ascending=ascending, kind="stable")
    frame = frame if n is None else frame.head(int(n))
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def top_overdue_customers(ledger: Ledger, as_of, n: int = 10) -> pd.DataFrame:
    """Rank the ``n`` customers with the most overdue money as of ``as_of``.

    Returns
    -------
    DataFrame
        rank, customer attributes, overdue_amount, open_amount, overdue_share,
        overdue_invoices and max_days_past_due; largest overdue amount first.
    """
    stats = _open_by_customer(ledger, _day_of(as_of))
    out = _customers(ledger).assign(**stats)
    out["overdue_share"] = _ratio(out["overdue_amount"], out["open_amount"])
    return _ranked(
        out, out["overdue_amount"] > 0, ["overdue_amount", "customer_id"], [False, True], n
    )


def long_term_delinquents(ledger: Ledger, as_of, min_days: int = 180) -> pd.DataFrame:
    """List customers with money at least ``min_days`` days past due as of ``as_of``.

    Returns
    -------
    DataFrame
        rank, customer attributes, long_overdue_amount and
        long_overdue_invoices (open invoices at least ``min_days`` past due),
        max_days_past_due (the oldest), open_amount and overdue_amount;
        largest long-overdue amount first.
    """
    stats = _open_by_customer(ledger, _day_of(as_of), min_days=min_days)
    out = _customers(ledger).assign(**stats)
    return _ranked(
        out,
        out["long_overdue_amount"] > 0,
        ["long_overdue_amount", "customer_id"],
        [False, True],
        None,
    )


def _history(ledger: Ledger, day: int, since: int | None = None) -> dict[str, np.ndarray]:
    """Payment history per customer of invoices settled on or before ``day`` (after ``since``)."""
    book = _book(ledger)
    n_c = len(ledger.customers)
    keep = book.closed_day <= day
    if since is not None:
        keep &= book.closed_day > since
    rows = np.flatnonzero(keep)
    s = np.where(book.cust_pos[rows] >= 0, book.cust_pos[rows], n_c)
    late = np.maximum(book.closed_day[rows] - book.due_day[rows], 0)
    amt = book.amount[rows]
    settled = _bins(s, np.ones(len(rows), np.int64), n_c)
    amount = _bins(s, amt, n_c)
    return {
        "settled_invoices": settled,
        "on_time_invoices": _bins(
            s, ((late == 0) & (book.closed_wo[rows] == 0)).astype(np.int64), n_c
        ),
        "settled_amount": amount,
        "avg_days_late": _ratio(_bins(s, late, n_c), settled),
        "weighted_days_late": _ratio(_bins(s, late * amt.astype(float), n_c), amount),
        "worst_days_late": _bins(s, late, n_c, np.maximum),
        "avg_days_to_pay": _ratio(
            _bins(s, (book.closed_day[rows] - book.inv_day[rows]) * amt.astype(float), n_c), amount
        ),
    }


def slowest_payers(
    ledger: Ledger, as_of, n: int = 10, lookback_days: int = 365, min_invoices: int = 3
) -> pd.DataFrame:
    """Rank customers by lateness of invoices settled in the ``lookback_days`` to ``as_of``.

    Ranked by amount-weighted days late (settlement date minus due date, 0
    when on time), largest first; customers with fewer than ``min_invoices``
    settled invoices in the window are left out.

    Returns
    -------
    DataFrame
        rank, customer attributes, settled_invoices, on_time_invoices,
        on_time_share, settled_amount, avg_days_late (per invoice),
        weighted_days_late, worst_days_late, avg_days_to_pay (weighted).
    """
    day = _day_of(as_of)
    out = _customers(ledger).assign(**_history(ledger, day, day - int(lookback_days)))
    out["on_time_share"] = _ratio(out["on_time_invoices"], out["settled_invoices"])
    keep = (out["settled_invoices"] >= max(int(min_invoices), 1)).to_numpy()
    return _ranked(out, keep, ["weighted_days_late", "customer_id"], [False, True], n)


def salesperson_collection_ranking(ledger: Ledger, start, end) -> pd.DataFrame:
    """Salespeople ranked by collection rate (回款率) over ``[start, end]``.

    The salesperson of an invoice is its own ``salesperson_id``, or the
    customer's when the invoice names none.

    Returns
    -------
    DataFrame
        rank, salesperson_id, name, team, sales, collected, collection_rate,
        opening_ar, closing_ar, overdue_rate, dso, on_time_rate_amount; highest
        collection rate first (ties: more collected first).
    """
    cols = ["salesperson_id", "sales", "collected", "collection_rate", "opening_ar",
            "closing_ar", "overdue_rate", "dso", "on_time_rate_amount"]
    k = kpis(ledger, start, end, by="salesperson_id").reset_index()[cols]
    sp = ledger.table("salespeople")
    if sp is not None:
        k = k.merge(sp[["salesperson_id", "name", "team"]], on="salesperson_id", how="left")
    k = k.sort_values(["collection_rate", "collected"], ascending=False, na_position="last")
    k.insert(0, "rank", np.arange(1, len(k) + 1))
    return k.reset_index(drop=True)


def _unapplied(ledger: Ledger, day: int) -> np.ndarray:
    """Cash received by ``day`` and not applied to an invoice existing on ``day``, per customer.

    The cash application's unapplied cash of payments dated on or before
    ``day``, plus payments dated on or before ``day`` that were applied to an
    invoice issued after ``day`` (a prepayment, still unapplied that day).
    """
    n_c = len(ledger.customers)
    un = cash_application_of(ledger).unapplied
    slot = _slots(ledger, "unapplied_slot", un["customer_id"])
    known = np.asarray(un["payment_date"], "datetime64[D]").astype(np.int64) <= day
    out = _bins(slot[known], un["amount"].to_numpy(np.int64)[known], n_c)
    book = _book(ledger)
    early = np.flatnonzero((book.ev_kind == 0) & (book.ev_raw_day <= day) & (book.ev_day > day))
    amt = book.cum[early + 1] - book.cum[early]
    cust = book.cust_pos[book.ev_inv[early]]
    return out + _bins(np.where(cust >= 0, cust, n_c), amt, n_c)


def _last_payments(ledger: Ledger, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Day (``-_NEVER`` if none) and total amount of each customer's last payment day."""
    n_c = len(ledger.customers)
    pay = ledger.payments
    slot = _slots(ledger, "payment_slot", pay["customer_id"])
    pday = np.asarray(pay["payment_date"], "datetime64[D]").astype(np.int64)
    known = pday <= day
    last = _bins(slot[known], pday[known], n_c, np.maximum, fill=-_NEVER)
    on_last = known & (pday == np.append(last, -_NEVER)[slot])
    return last, _bins(slot[on_last], pay["amount"].to_numpy(np.int64)[on_last], n_c)


def _promises(ledger: Ledger, day: int, grace_days: int) -> dict[str, np.ndarray]:
    """Promises to pay made by ``day``, per customer: kept, broken, or still pending."""
    n_c = len(ledger.customers)
    names = ("promises_kept", "promises_broken", "promises_pending")
    acts = ledger.table("collection_actions")
    if acts is None or acts.empty:
        return {k: np.zeros(n_c, np.int64) for k in names}
    a_day = np.asarray(acts["action_date"], "datetime64[D]").astype(np.int64)
    sel = np.flatnonzero(
        (acts["outcome"] == "promise_to_pay").to_numpy(dtype=bool, na_value=False) & (a_day <= day)
    )
    a_slot = _slots(ledger, "action_slot", acts["customer_id"])[sel]
    a_day = a_day[sel]
    p_day = np.asarray(acts["promise_date"], "datetime64[D]")[sel]
    due = np.where(np.isnat(p_day), a_day, p_day.astype(np.int64)) + int(grace_days)
    # payments of the customer in [action day, min(due, day)], from running sums per customer
    pay = ledger.payments
    p_slot = _slots(ledger, "payment_slot", pay["customer_id"])
    pday = np.asarray(pay["payment_date"], "datetime64[D]").astype(np.int64)
    base = int(min(pday.min(initial=day), a_day.min(initial=day))) - 1
    span = int(max(pday.max(initial=day), day)) + 2 - base
    key = p_slot * span + (pday - base)
    order = np.argsort(key, kind="stable")
    key = key[order]
    cs = np.concatenate([[0], np.cumsum(pay["amount"].to_numpy(np.int64)[order])])
    by_key = np.argsort(a_slot * span + (a_day - base), kind="stable")  # sorted lookups are faster
    lo, hi = np.empty(len(sel), np.int64), np.empty(len(sel), np.int64)
    lo[by_key] = np.searchsorted(key, (a_slot * span + (a_day - base))[by_key], side="left")
    hi[by_key] = np.searchsorted(key, (a_slot * span + (np.minimum(due, day) - base))[by_key],
                                 side="right")
    need = acts["promise_amount"].to_numpy(dtype=float, na_value=np.nan)[sel]
    kept = (cs[hi] - cs[lo]) >= np.where(np.isnan(need), 1, need)
    broken = ~kept & (due <= day)
    flags = (kept, broken, ~kept & ~broken)
    return {k: _bins(a_slot, f.astype(np.int64), n_c) for k, f in zip(names, flags, strict=True)}


def customer_360(ledger: Ledger, as_of, promise_grace_days: int = 3) -> pd.DataFrame:
    """Build the credit view of every customer as of ``as_of``, from what was known that day.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    promise_grace_days : int, default=3
        A promise to pay (collection action dated by ``as_of`` with outcome
        ``promise_to_pay``) is kept when the customer paid at least
        ``promise_amount`` (any amount when empty) between the action date and
        ``promise_date + promise_grace_days``; broken when that day has passed
        by ``as_of`` without it; pending otherwise.

    Returns
    -------
    DataFrame
        One row per customer opened by ``as_of`` (or with an invoice by then):
        customer attributes; payment history of invoices settled by ``as_of``
        (settled_invoices, on_time_invoices, on_time_share, avg_days_late per
        invoice, weighted_days_late by amount, worst_days_late,
        avg_days_to_pay); open_amount, overdue_amount, open_invoices,
        overdue_invoices, max_days_past_due, credit_balance (invoices credited
        beyond their amount, as a positive sum); credit_limit, utilisation (open /
        limit; inf for a zero limit with money open), over_limit;
        unapplied_cash (received and not applied to an invoice existing that
        day); last_payment_date and last_payment_amount (all payments of that
        day); promises_kept, promises_broken, promises_pending;
        overdue_history (ever settled late, or overdue now). Money in int64 fen.
    """
    day = _day_of(as_of)
    out = _customers(ledger)
    out = out.assign(**_history(ledger, day))
    out["on_time_share"] = _ratio(out["on_time_invoices"], out["settled_invoices"])
    out = out.assign(**_open_by_customer(ledger, day))
    limit = out["credit_limit"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    util = _ratio(out["open_amount"], limit)
    util[(limit == 0) & (out["open_amount"].to_numpy() > 0)] = np.inf
    out["utilisation"] = util
    out["over_limit"] = out["open_amount"].to_numpy() > np.nan_to_num(limit, nan=np.inf)
    out["unapplied_cash"] = _unapplied(ledger, day)
    last, last_amt = _last_payments(ledger, day)
    has = last != -_NEVER
    out["last_payment_date"] = pd.Series(_to_ts(np.where(has, last, 0))).where(has)
    out["last_payment_amount"] = pd.array(np.where(has, last_amt, 0), dtype="Int64")
    out.loc[~has, "last_payment_amount"] = pd.NA
    out = out.assign(**_promises(ledger, day, promise_grace_days))
    out["overdue_history"] = (out["on_time_invoices"] < out["settled_invoices"]) | (
        out["overdue_amount"] > 0
    )
    known = np.ones(len(out), bool)
    if "opened_date" in ledger.customers.columns:
        opened = np.asarray(ledger.customers["opened_date"], "datetime64[D]")
        known = np.isnat(opened) | (opened.astype(np.int64) <= day)
    issued = _bins(
        np.where(_book(ledger).cust_pos >= 0, _book(ledger).cust_pos, len(out)),
        (_book(ledger).inv_day <= day).astype(np.int64),
        len(out),
    )
    out = out[known | (issued > 0)].reset_index(drop=True)
    out.attrs.update(as_of=_to_ts([day])[0], unit="fen")
    return out


# --------------------------------------------------------------------------- warnings
def _yuan(fen) -> str:
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _customer_message(rule: str, who: str, r, lim: float) -> tuple[str, str]:
    if rule == "over_credit_limit":
        amt, cap = _yuan(r.open_amount), _yuan(r.credit_limit)
        return (f"{who}: open {amt} CNY exceeds the credit limit of {cap} CNY.",
                f"{who}：未结应收 {amt} 元，超过信用额度 {cap} 元。")
    if rule == "utilisation_max":
        use, cap = _pct(r.utilisation), _pct(lim)
        return (f"{who}: uses {use} of its credit limit (limit {cap}); hold new orders.",
                f"{who}：信用额度占用率 {use}，超过 {cap}，应暂停新订单。")
    if rule == "customer_overdue_rate_max":
        rate, amt, cap = _pct(r.overdue_rate), _yuan(r.overdue_amount), _pct(lim)
        return (f"{who}: {rate} of open AR is overdue ({amt} CNY; limit {cap}).",
                f"{who}：逾期占比 {rate}（逾期 {amt} 元，上限 {cap}）。")
    days = r.max_days_past_due
    return (f"{who}: has money {days} days past due (limit {lim:g} days).",
            f"{who}：最长逾期 {days} 天（上限 {lim:g} 天）。")


def warnings(ledger: Ledger, as_of, thresholds: Mapping[str, object] | None = None, *,
             dso_window_months: int = 3, bad_debt_window_months: int = 12) -> pd.DataFrame:
    """Warnings for the reports: each breached threshold, in English and Chinese.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    thresholds : dict, default=None
        Keys of :data:`DEFAULT_THRESHOLDS` (None uses it); a key left out or
        set to None/False is not checked:

        * ``overdue_rate_max``: company overdue AR / AR as of ``as_of``;
        * ``dso_increase_days_max``: rise of the standard DSO over the
          ``dso_window_months`` ending ``as_of`` against the same window ending
          one month earlier;
        * ``bad_debt_rate_max``: write-offs / sales over the
          ``bad_debt_window_months`` ending ``as_of``;
        * ``over_credit_limit``: customers whose open amount exceeds their credit limit;
        * ``utilisation_max``: customers using more than this share of their
          limit (and not already over it);
        * ``customer_overdue_rate_max``: customers whose overdue share of open
          AR is above this;
        * ``long_overdue_days``: customers with money at least this many days past due.
    dso_window_months, bad_debt_window_months : int, default=3, 12

    Returns
    -------
    DataFrame
        as_of, rule, scope ("company" or "customer"), scope_id, metric, value,
        threshold, message_en, message_zh. Empty when nothing is breached.

    Raises
    ------
    ParamsError
        For an unknown threshold key.
    """
    th = dict(DEFAULT_THRESHOLDS if thresholds is None else thresholds)
    unknown = set(th) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ParamsError(f"Unknown threshold(s) {sorted(unknown)}. "
                          f"Possible keys are: {list(DEFAULT_THRESHOLDS)}.")
    day = _day_of(as_of)
    ts = _to_ts([day])[0]
    out: list[tuple] = []

    def on(key):
        return th.get(key) is not None and th.get(key) is not False

    def window(months: int, end: int = day) -> dict:  # company figures, as in kpis(), cheaply
        book = _book(ledger)
        start = int(_shift_months(np.array([end + 1]), np.array([int(months)]))[0])
        amounts, _, rows = _aging_core(book, np.array([end]), None, 1, np.array([0]), "due_date")
        current, overdue = (int(a) for a in amounts[0]) if len(rows) else (0, 0)
        sales = int(book.amount[(book.inv_day >= start) & (book.inv_day <= end)].sum())
        wo = (book.ev_kind == 3) & (book.ev_day >= start) & (book.ev_day <= end)
        wo = int(np.diff(book.cum)[wo].sum())
        return {"closing_ar": current + overdue, "closing_overdue_ar": overdue, "write_offs": wo,
                "overdue_rate": float(_ratio(overdue, current + overdue)),
                "dso": float(_ratio(current + overdue, sales)) * (end - start + 1),
                "bad_debt_rate": float(_ratio(wo, sales))}

    if on("overdue_rate_max"):
        k, lim = window(1), float(th["overdue_rate_max"])
        rate, od, ar = k["overdue_rate"], _yuan(k["closing_overdue_ar"]), _yuan(k["closing_ar"])
        if rate > lim:
            out.append(("overdue_rate_max", "company", "company", "overdue_rate", rate, lim,
                        f"Overdue rate {_pct(rate)} is above the limit of {_pct(lim)} "
                        f"(overdue {od} of {ar} CNY).",
                        f"逾期率 {_pct(rate)} 超过上限 {_pct(lim)}"
                        f"（逾期 {od} 元，应收合计 {ar} 元）。"))
    if on("dso_increase_days_max"):
        lim = float(th["dso_increase_days_max"])
        end_prev = int(_shift_months(np.array([day + 1]), np.array([1]))[0]) - 1
        now = window(dso_window_months)["dso"]
        rise = now - window(dso_window_months, end_prev)["dso"]
        if rise > lim:
            out.append(("dso_increase_days_max", "company", "company", "dso_increase_days",
                        rise, lim,
                        f"DSO rose by {rise:.1f} days to {now:.1f} days (limit {lim:g} days).",
                        f"应收账款周转天数上升 {rise:.1f} 天，达到 {now:.1f} 天"
                        f"（上限 {lim:g} 天）。"))
    if on("bad_debt_rate_max"):
        n, lim = bad_debt_window_months, float(th["bad_debt_rate_max"])
        k = window(n)
        if k["bad_debt_rate"] > lim:
            rate, wo = k["bad_debt_rate"], _yuan(k["write_offs"])
            out.append(("bad_debt_rate_max", "company", "company", "bad_debt_rate", rate, lim,
                        f"Bad-debt rate {_pct(rate)} over {n} months is above {_pct(lim)} "
                        f"(write-offs {wo} CNY).",
                        f"近{n}个月坏账率 {_pct(rate)} 超过上限 {_pct(lim)}（核销坏账 {wo} 元）。"))
    rules = ("over_credit_limit", "utilisation_max", "customer_overdue_rate_max",
             "long_overdue_days")
    if any(on(key) for key in rules):
        view = customer_360(ledger, as_of)
        view["overdue_rate"] = _ratio(view["overdue_amount"], view["open_amount"])
        who = view["customer_id"].astype(str) + " " + view["name"].fillna("").astype(str)
        for key in filter(on, rules):
            lim = 1.0 if key == "over_credit_limit" else float(th[key])
            metric, rows = {
                "over_credit_limit": ("utilisation", view["over_limit"]),
                "utilisation_max": ("utilisation", (view["utilisation"] > lim)
                                    & ~(view["over_limit"] & on("over_credit_limit"))),
                "customer_overdue_rate_max": ("overdue_rate", view["overdue_rate"] > lim),
                "long_overdue_days": ("max_days_past_due", (view["max_days_past_due"] >= lim)
                                      & (view["overdue_amount"] > 0)),
            }[key]
            hits = view[rows].assign(who=who[rows])
            for r in hits.sort_values(metric, ascending=False, kind="stable").itertuples():
                en, zh = _customer_message(key, r.who, r, lim)  # one message per warning
                value = float(getattr(r, metric))
                out.append((key, "customer", r.customer_id, metric, value, lim, en, zh))
    frame = pd.DataFrame(out, columns=_WARNING_COLUMNS[1:])
    frame.insert(0, "as_of", ts)
    return frame.astype({"value": float, "threshold": float})
