"""Rankings of customers and salespeople, and the customer 360 credit view.

Per-customer figures as of one day, from what was known that day: open and overdue
money, the payment history of settled invoices, unapplied cash, the last payment and
promises to pay. :func:`top_overdue_customers`, :func:`long_term_delinquents` and
:func:`slowest_payers` rank customers on them; :func:`salesperson_collection_ranking`
ranks salespeople by the collection rate of :func:`medrisk.receivables.kpis`;
:func:`customer_360` gives all of them, one row per customer.

Money is int64 fen; rates and days are floats (NaN when the denominator is 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.receivables._engine import cash_application_of, event_book
from medrisk.receivables._kpis import _ratio, kpis

__all__ = [
    "top_overdue_customers",
    "long_term_delinquents",
    "slowest_payers",
    "salesperson_collection_ranking",
    "rank_by",
    "LOWER_IS_BETTER",
    "customer_360",
]

# fmt: off
_CUSTOMER_COLUMNS = ["customer_id", "name", "customer_type", "region", "province", "channel",
                     "salesperson_id", "credit_limit"]
# fmt: on


def _customers(ledger: Ledger) -> pd.DataFrame:
    cust = ledger.customers.reset_index(drop=True)
    out = cust[[c for c in _CUSTOMER_COLUMNS if c in cust.columns]]
    return out if "credit_limit" in out else out.assign(credit_limit=pd.NA).astype(
        {"credit_limit": "Int64"})


def _slots(ledger: Ledger, rows: str) -> np.ndarray:
    """Return the customer position of each row of ``rows`` (``len(customers)`` if unknown).

    ``rows`` is ``"payments"``, ``"collection_actions"`` or ``"unapplied"`` (the cash
    application's unapplied cash).
    """
    return ledger.derive(_build_slots, rows)


def _build_slots(ledger: Ledger, rows: str) -> np.ndarray:
    ids = (cash_application_of(ledger).unapplied if rows == "unapplied"
           else ledger.require(rows))["customer_id"]
    n_c = len(ledger.customers)
    pos = kernel.positions(
        ids.reset_index(drop=True), ledger.customers["customer_id"].reset_index(drop=True)
    )
    return np.where(pos >= 0, pos, n_c)


def _bins(slot: np.ndarray, values, n: int, how=np.add, fill=0) -> np.ndarray:
    out = np.full(n + 1, fill, dtype=np.asarray(values).dtype)
    how.at(out, slot, values)
    return out[:n]


def _open_by_customer(
    ledger: Ledger, day: int, min_days: int | None = None
) -> dict[str, np.ndarray]:
    """Open and overdue money per customer as of ``day``; credit balances apart."""
    book = event_book(ledger)
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
    stats = _open_by_customer(ledger, kernel.day_of(as_of))
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
    stats = _open_by_customer(ledger, kernel.day_of(as_of), min_days=min_days)
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
    book = event_book(ledger)
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
    day = kernel.day_of(as_of)
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
    return rank_by(k, "collection_rate", then="collected")


#: Metrics where a smaller value ranks better (the rest: larger is better).
LOWER_IS_BETTER = ("dso", "avg_days_to_collect", "avg_days_late", "overdue_amount",
                   "overdue_rate", "overdue_customers", "promises_broken", "write_offs",
                   "weighted_days_late", "closing_ar")


def rank_by(frame: pd.DataFrame, metric: str = "collection_rate", ascending: bool | None = None,
            then: str | None = None) -> pd.DataFrame:
    """Rank the rows of a KPI table by one metric (1 = best): the one ranking rule of medrisk.

    Rows are sorted best first, missing values last; ``then`` breaks ties (larger
    first). Rows that tie on the metric and on ``then`` share the best rank
    (1, 2, 2, 4).

    Parameters
    ----------
    frame : DataFrame
    metric : str
        A column of ``frame``.
    ascending : bool, default=None
        Smaller is better; by default True for the metrics of
        :data:`LOWER_IS_BETTER`, False otherwise.
    then : str, default=None
        A column that breaks ties on ``metric`` (larger first), e.g. ``"collected"``.

    Returns
    -------
    DataFrame
        ``frame`` sorted best first, with a ``rank`` column (Int64) in front.

    Examples
    --------
    >>> k = pd.DataFrame({"sp": ["a", "b", "c", "d"], "collection_rate": [0.5, 0.9, 0.5, None]})
    >>> rank_by(k, "collection_rate")[["rank", "sp"]].to_numpy().tolist()
    [[1, 'b'], [2, 'a'], [2, 'c'], [<NA>, 'd']]
    """
    for col in (metric, then):
        if col is not None and col not in frame.columns:
            raise ParamsError(f"metric={col!r} is not a column; possible values are: "
                              f"{[c for c in frame.columns if c != 'rank']}.")
    if ascending is None:
        ascending = metric in LOWER_IS_BETTER
    keys = [metric] + ([then] if then else [])
    values = frame[keys].astype("Float64")
    sorted_ = values.sort_values(keys, ascending=[ascending] + [False] * (len(keys) - 1),
                                 na_position="last", kind="stable")
    out = frame.loc[sorted_.index].reset_index(drop=True)
    v = sorted_.reset_index(drop=True)
    same = v.eq(v.shift()).fillna(False).all(axis=1).to_numpy(dtype=bool)  # ties the row above
    position = np.arange(1, len(v) + 1)
    rank = pd.Series(np.maximum.accumulate(np.where(same, 0, position)), dtype="Int64")
    out.insert(0, "rank", rank.where(v[metric].notna().to_numpy()))
    return out


def _unapplied(ledger: Ledger, day: int) -> np.ndarray:
    """Cash received by ``day`` and not applied to an invoice existing on ``day``, per customer.

    The cash application's unapplied cash of payments dated on or before
    ``day``, plus payments dated on or before ``day`` that were applied to an
    invoice issued after ``day`` (a prepayment, still unapplied that day).
    """
    n_c = len(ledger.customers)
    un = cash_application_of(ledger).unapplied
    slot = _slots(ledger, "unapplied")
    known = np.asarray(un["payment_date"], "datetime64[D]").astype(np.int64) <= day
    out = _bins(slot[known], un["amount"].to_numpy(np.int64)[known], n_c)
    book = event_book(ledger)
    early = np.flatnonzero((book.ev_kind == 0) & (book.ev_raw_day <= day) & (book.ev_day > day))
    amt = book.cum[early + 1] - book.cum[early]
    cust = book.cust_pos[book.ev_inv[early]]
    return out + _bins(np.where(cust >= 0, cust, n_c), amt, n_c)


def _last_payments(ledger: Ledger, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Day (``-kernel.NEVER`` if none) and total amount of each customer's last payment day."""
    n_c = len(ledger.customers)
    pay = ledger.payments
    slot = _slots(ledger, "payments")
    pday = np.asarray(pay["payment_date"], "datetime64[D]").astype(np.int64)
    known = pday <= day
    last = _bins(slot[known], pday[known], n_c, np.maximum, fill=-kernel.NEVER)
    on_last = known & (pday == np.append(last, -kernel.NEVER)[slot])
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
    a_slot = _slots(ledger, "collection_actions")[sel]
    a_day = a_day[sel]
    p_day = np.asarray(acts["promise_date"], "datetime64[D]")[sel]
    due = np.where(np.isnat(p_day), a_day, p_day.astype(np.int64)) + int(grace_days)
    # payments of the customer in [action day, min(due, day)], from running sums per customer
    pay = ledger.payments
    p_slot = _slots(ledger, "payments")
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
    day = kernel.day_of(as_of)
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
    has = last != -kernel.NEVER
    out["last_payment_date"] = pd.Series(kernel.to_ts(np.where(has, last, 0))).where(has)
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
        np.where(event_book(ledger).cust_pos >= 0, event_book(ledger).cust_pos, len(out)),
        (event_book(ledger).inv_day <= day).astype(np.int64),
        len(out),
    )
    out = out[known | (issued > 0)].reset_index(drop=True)
    out.attrs.update(as_of=kernel.to_ts([day])[0], unit="fen")
    return out
