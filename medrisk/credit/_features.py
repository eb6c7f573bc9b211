"""Point-in-time features for credit models, one row per invoice.

The labels the models learn (late, default, and when each outcome became
known) are in :mod:`medrisk.credit`; the event streams the figures are summed
over are in :mod:`medrisk.credit`.

Features: what was known on the invoice date
--------------------------------------------
The features of invoice ``X`` issued on day ``D`` describe the world at the
end of day ``D``: invoices issued, payments received (allocations dated by
their payment date), adjustments and collection actions dated **on or before**
``D`` count; anything dated after ``D`` never does. Two rules keep the
invoice's own outcome out of its features:

* ``X`` itself is left out of the exposure figures (open amount, utilisation,
  invoice counts); its amount appears only in the invoice columns;
* an invoice's outcome (settled on time, late, written off) enters history
  features from ``max(day it became known, its invoice date + 1)``, so ``X``
  is never part of its own history, and an invoice issued and settled on the
  same day counts from the next day.

So a payment dated ``D`` that settles an older invoice of the customer is in
``X``'s features; a payment dated ``D + 1`` is not.

How it is computed
------------------
Every figure is a sum (or running maximum) over an *event stream* per
customer or salesperson: e.g. the open amount is ``+amount`` on each invoice
date and ``-reduction`` on each payment or adjustment date. Each stream is
sorted once by ``(group, day)`` with running sums; the value as of any day is
one ``np.searchsorted``. The oldest open overdue invoice (for days past due)
is found with a running maximum of closing days. The streams are built, and
queried, on two threads (numpy releases the GIL in sorts, gathers and sums);
the answers do not depend on the threads. A million invoices take 4.8 s on a
2-core machine. The prepared streams are cached per ledger, like
:mod:`medrisk.receivables`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.credit._outcomes import check_days, fates, final_outcome
from medrisk.credit._streams import Stream, Streams, group_sort, running_max_before
from medrisk.data import Ledger
from medrisk.kernel import SPRING_FESTIVAL
from medrisk.receivables import allocations_of, event_book, invoice_salesperson

__all__ = [
    "invoice_features",
    "customer_features",
    "FEATURES",
    "CATEGORICAL_FEATURES",
    "FEATURE_DESCRIPTIONS",
    "SPRING_FESTIVAL",
    "RECENT_INVOICES",
]

#: How many of the most recent known outcomes the "recent" features look at.
RECENT_INVOICES = 5
#: Spring Festival (春节) dates: hospitals pay slowly around it.
_LNY = np.array(SPRING_FESTIVAL, dtype="datetime64[D]").astype(np.int64)

#: Feature columns and their meaning (money in 元, ratios as fractions).
FEATURE_DESCRIPTIONS: dict[str, str] = {
    # the invoice
    "log_amount": "log of the invoice amount (元)",
    "amount_vs_usual": "log amount minus the mean log amount of the customer's earlier invoices",
    "terms_days": "days from invoice date to due date",
    "invoice_month": "calendar month of the invoice date (1-12)",
    "due_festival_offset": "days from the nearest Spring Festival to the due date (signed)",
    "product_line": "product line of the invoice (categorical)",
    # the customer
    "customer_type": "customer type (categorical)",
    "region": "customer region (categorical)",
    "channel": "sales channel (categorical)",
    "relationship_days": "days since the customer account was opened",
    "log_credit_limit": "log of the credit limit (元)",
    "log_sales_365d": "log of the customer's invoiced sales in the 365 days to the invoice date",
    "invoices_to_date": "invoices issued to the customer up to the invoice date",
    # payment history known on the invoice date
    "hist_known": "earlier invoices whose outcome (late or not) was known",
    "hist_late_share": "share of those paid late or written off",
    "hist_recent_known": "known outcomes among the most recent five",
    "hist_recent_late": "late among the most recent five known outcomes",
    "hist_late_trend": "late share of the recent five minus the overall late share",
    "hist_settled": "earlier invoices settled (not written off)",
    "hist_mean_delay": "mean days from due to settlement (negative: early)",
    "hist_mean_days_late": "mean days late of settled invoices (0 when on time)",
    "hist_worst_days_late": "most days late of a settled invoice",
    "hist_recent_delay": "mean days from due to settlement of the most recent five settled",
    "hist_delay_trend": "recent mean delay minus the overall mean delay",
    "hist_written_off": "invoices written off",
    "disputes": "collection actions with a dispute",
    "promises_made": "promises to pay made",
    "promises_broken": "promises to pay broken (nothing paid by the promised date + 3 days)",
    "dunning_90d": "collection actions in the 90 days to the invoice date",
    # exposure on the invoice date (this invoice left out)
    "log_open_amount": "log of the open amount (元)",
    "log_overdue_amount": "log of the overdue amount (元)",
    "overdue_share": "overdue share of the open amount",
    "late_open_share": "share of the open amount more than late_after_days past due",
    "overdue_invoices": "open invoices past due",
    "max_days_past_due": "days past due of the oldest open overdue invoice",
    "utilisation": "open amount / credit limit",
    "utilisation_after": "(open amount + this invoice) / credit limit",
    "log_unapplied_cash": "log of cash received and not applied to an invoice (元)",
    # the salesperson's book
    "sp_log_open_amount": "log of the open amount of the salesperson's book (元)",
    "sp_overdue_share": "overdue share of the salesperson's open book",
    "sp_late_share": "late share of the salesperson's known outcomes",
}
FEATURES: tuple[str, ...] = tuple(FEATURE_DESCRIPTIONS)
CATEGORICAL_FEATURES: tuple[str, ...] = ("product_line", "customer_type", "region", "channel")

_PROMISE_GRACE_DAYS = 3
#: Worker threads that build the event streams (the machine's cores, at most 2 pay off).
_THREADS = 2
#: Fixed-point scale of log amounts in event streams (exact integer sums).
_FIXED = 1e9


# --------------------------------------------------------------------------- prepared streams
@dataclass(frozen=True, eq=False)
class _State:
    n_c: int
    n_sp: int
    base: int
    span: int
    sp_codes: np.ndarray  # per invoice salesperson code (n_sp when unknown)
    sp_index: pd.Index
    cust_open: Streams  # open amount, open count, log-amount sum, issued count, sales
    cust_issued: Streams  # the issued part alone: sales (col 4), issued count (col 3)
    cust_overdue: Streams  # overdue amount, count, amount > L days past due
    cust_known: Stream  # known outcomes, late
    cust_settled: Stream  # settled count, delay sum, days-late sum, days late (for the max)
    cust_wo: Stream
    cust_cash: Stream  # payments - allocations
    cust_actions: Stream  # disputes, promises, broken promises, actions
    sp_open: Stream  # open amount, overdue amount (via two streams), known, late
    sp_overdue: Stream
    sp_known: Stream
    od_start: np.ndarray  # overdue intervals sorted by (customer, start)
    od_key: np.ndarray
    od_pm: np.ndarray
    od_width: int


def _state(ledger: Ledger, late_after_days: int) -> _State:
    return ledger.derive(_build_state, late_after_days)


def _build_state(ledger: Ledger, L: int) -> _State:
    book = event_book(ledger)
    f = fates(ledger)
    n_c = len(ledger.customers)
    cust = f.cust
    sp = invoice_salesperson(ledger)
    sp_codes, sp_index = pd.factorize(sp, use_na_sentinel=True)
    n_sp = len(sp_index)
    sp_codes = np.where(sp_codes >= 0, sp_codes, n_sp).astype(np.int64)

    pays = ledger.payments
    acts = ledger.table("collection_actions", empty_if_missing=True)
    dates = [
        f.inv_day,
        np.asarray(pays["payment_date"], "datetime64[D]").astype(np.int64),
        np.asarray(acts["action_date"], "datetime64[D]").astype(np.int64),
    ]
    lo = min(int(d.min(initial=0)) for d in dates if len(d)) - 400
    hi = max(int(d[d < kernel.NEVER].max(initial=0)) for d in dates if len(d)) + 400
    hi = max(hi, int(f.due_day.max(initial=0)) + 2 * 365 + L)
    base, span = lo, hi - lo + 2

    # the streams are sorted and summed on worker threads (numpy releases the GIL in
    # sorts, gathers and sums) while this thread prepares the next one's inputs
    pool = ThreadPoolExecutor(max_workers=_THREADS)

    def stream(group, day, values, n_groups):
        return pool.submit(Stream, group, day, values, n_groups, base, span)

    n = len(f.inv_day)
    ev_inv, ev_day = book.ev_inv, book.ev_day
    ev_amt = np.diff(book.cum).astype(np.float64)
    amt = f.amount.astype(np.float64)
    log_amt = np.rint(np.log(np.maximum(amt, 1) / 100) * _FIXED)
    ones = np.ones(n)
    closed = f.closed_day < kernel.NEVER
    # open amount and counts: + on the invoice day, - on each reduction / the closing day;
    # columns: open amount, open count, log-amount sum, issued count, sales (fen)
    cust_open = Streams(
        5,
        [
            (stream(cust, f.inv_day, np.column_stack([amt, ones, log_amt]), n_c + 1), [0, 1, 2]),
            (stream(cust[ev_inv], ev_day, -ev_amt, n_c + 1), [0]),
            (stream(cust[closed], f.closed_day[closed], -ones[closed], n_c + 1), [1]),
        ],
    )
    cust_issued = Streams(5, [(cust_open.parts[0][0], [4, 3])])

    # overdue: the open amount at due (and at due + L) enters the day after, later reductions leave
    def past(days):
        start = f.due_day + days + 1
        after = ev_day >= start[ev_inv]
        before = np.bincount(ev_inv[~after], ev_amt[~after], minlength=n)
        return start, amt - before, after

    s1, open1, after1 = past(0)
    s2, open2, after2 = past(L)
    late_close = closed & (f.closed_day >= s1)
    # columns: overdue amount, overdue count, amount more than L days past due
    cust_overdue = Streams(
        3,
        [
            (
                stream(
                    cust, s1, np.column_stack([open1, (f.closed_day >= s1).astype(float)]), n_c + 1
                ),
                [0, 1],
            ),
            (stream(cust[ev_inv[after1]], ev_day[after1], -ev_amt[after1], n_c + 1), [0]),
            (stream(cust[late_close], f.closed_day[late_close], -ones[late_close], n_c + 1), [1]),
            (stream(cust, s2, open2, n_c + 1), [2]),
            (stream(cust[ev_inv[after2]], ev_day[after2], -ev_amt[after2], n_c + 1), [2]),
        ],
    )

    # outcomes known, entering history no earlier than the day after the invoice date
    bad, known_day = final_outcome(f, L)
    enter = np.maximum(known_day, f.inv_day + 1)
    cust_known = stream(cust, enter, np.column_stack([ones, bad.astype(float)]), n_c + 1)
    paid = closed & ~f.written_off
    delay = (f.closed_day - f.due_day).astype(float)
    p_enter = np.maximum(f.closed_day, f.inv_day + 1)
    cust_settled = stream(
        cust[paid],
        p_enter[paid],
        np.column_stack([ones[paid], delay[paid], np.maximum(delay[paid], 0)]),
        n_c + 1,
    )
    wo = f.written_off
    cust_wo = stream(cust[wo], np.maximum(f.wo_day[wo], f.inv_day[wo] + 1), ones[wo], n_c + 1)

    # unapplied cash: payments received minus allocations (dated when they take effect)
    alloc = allocations_of(ledger)
    pay_c = kernel.positions(
        pays["customer_id"].reset_index(drop=True),
        ledger.customers["customer_id"].reset_index(drop=True),
    )
    al_c = kernel.positions(
        alloc["customer_id"].reset_index(drop=True),
        ledger.customers["customer_id"].reset_index(drop=True),
    )
    al_inv = kernel.positions(
        alloc["invoice_id"].reset_index(drop=True),
        ledger.invoices["invoice_id"].reset_index(drop=True),
    )
    al_day = np.asarray(alloc["payment_date"], "datetime64[D]").astype(np.int64)
    al_day = np.where(al_inv >= 0, np.maximum(al_day, f.inv_day[np.maximum(al_inv, 0)]), al_day)
    cust_cash = stream(
        np.concatenate([np.where(pay_c >= 0, pay_c, n_c), np.where(al_c >= 0, al_c, n_c)]),
        np.concatenate([dates[1], al_day]),
        np.concatenate(
            [pays["amount"].to_numpy(np.float64), -alloc["amount"].to_numpy(np.float64)]
        ),
        n_c + 1,
    )

    # collection actions: disputes, promises (broken ones on the promised day + grace)
    a_c = kernel.positions(
        acts["customer_id"].reset_index(drop=True),
        ledger.customers["customer_id"].reset_index(drop=True),
    )
    a_c = np.where(a_c >= 0, a_c, n_c)
    a_day = dates[2]
    outcome = acts["outcome"].astype(object).to_numpy()
    dispute = (outcome == "dispute").astype(float)
    promise = outcome == "promise_to_pay"
    p_date = np.asarray(acts["promise_date"], "datetime64[D]")
    due = np.where(np.isnat(p_date), a_day, p_date.astype(np.int64)) + _PROMISE_GRACE_DAYS
    cash = Stream(
        np.where(pay_c >= 0, pay_c, n_c),
        dates[1],
        pays["amount"].to_numpy(np.float64),
        n_c + 1,
        base,
        span,
    )
    # only promises can be broken; asked in (customer, day) order, the searches walk forward
    pr = np.flatnonzero(promise)
    pr = pr[group_sort(a_c[pr], a_c[pr] * span + np.clip(a_day[pr] - base, 0, span - 1), n_c + 1)]
    pc, pday = a_c[pr], a_day[pr]
    got = cash.at(pc, np.maximum(due[pr], pday))[:, 0] - cash.at(pc, pday - 1)[:, 0]
    need = acts["promise_amount"].to_numpy(dtype=float, na_value=np.nan)[pr]
    broken = np.zeros(len(a_day), bool)
    broken[pr] = got < np.where(np.isnan(need), 1, need)
    na = len(a_day)
    act_grp = np.concatenate([a_c, a_c[broken]])
    act_day = np.concatenate([a_day, due[broken]])
    act_val = np.zeros((len(act_grp), 4))
    act_val[:na, 0] = dispute
    act_val[:na, 1] = promise
    act_val[na:, 2] = 1.0
    act_val[:na, 3] = 1.0
    cust_actions = stream(act_grp, act_day, act_val, n_c + 1)

    # the salesperson's book
    sp_open = stream(
        np.concatenate([sp_codes, sp_codes[ev_inv]]),
        np.concatenate([f.inv_day, ev_day]),
        np.concatenate([amt, -ev_amt]),
        n_sp + 1,
    )
    sp_overdue = stream(
        np.concatenate([sp_codes, sp_codes[ev_inv[after1]]]),
        np.concatenate([s1, ev_day[after1]]),
        np.concatenate([open1, -ev_amt[after1]]),
        n_sp + 1,
    )
    sp_known = stream(sp_codes, enter, np.column_stack([ones, bad.astype(float)]), n_sp + 1)

    # overdue intervals [due + 1, closed) sorted by (customer, start), with a running max of ends
    iv = np.flatnonzero(f.closed_day > s1)
    i_start = np.clip(s1[iv] - base, 0, span - 1)
    i_end = np.clip(np.minimum(f.closed_day[iv], base + span - 1) - base, 0, span - 1)
    od_key = cust[iv].astype(np.int64) * span + i_start
    order = group_sort(cust[iv], od_key, n_c + 1)
    od_key, i_end, i_start = od_key[order], i_end[order], i_start[order]
    od_pm = np.maximum.accumulate(cust[iv][order] * span + i_end) if len(iv) else od_key
    with pool:
        cust_open, cust_issued, cust_overdue = (
            Streams(m.k, [(part.result(), dest) for part, dest in m.parts])
            for m in (cust_open, cust_issued, cust_overdue)
        )
        singles = [s.result() for s in (cust_known, cust_settled, cust_wo, cust_cash,
                                        cust_actions, sp_open, sp_overdue, sp_known)]
    return _State(
        n_c,
        n_sp,
        base,
        span,
        sp_codes,
        pd.Index(sp_index),
        cust_open,
        cust_issued,
        cust_overdue,
        *singles,
        i_start,
        od_key,
        od_pm,
        span,
    )


def _max_days_past_due(st: _State, c: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days past due of the customer's oldest invoice open and overdue at ``day`` (0 if none)."""
    rel = np.clip(day - st.base, 0, st.span - 1)
    g_hi = np.searchsorted(st.od_key, c * st.span + rel, side="right")
    i = np.searchsorted(st.od_pm, c * st.span + rel, side="right")  # first interval open after day
    ok = i < g_hi
    out = np.zeros(len(c))
    out[ok] = rel[ok] - (st.od_start[np.minimum(i, len(st.od_start) - 1)][ok] - 1)
    return out


# --------------------------------------------------------------------------- the feature engine
def _log_yuan(fen: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(fen, 0) / 100)


def _ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _festival_offset(days: np.ndarray) -> np.ndarray:
    pos = np.clip(np.searchsorted(_LNY, days), 1, len(_LNY) - 1)
    before, after = days - _LNY[pos - 1], days - _LNY[pos]
    return np.where(np.abs(after) < np.abs(before), after, before).astype(float)


def _customer_attr(ledger: Ledger, col: str, c: np.ndarray) -> np.ndarray:
    """Look up a customer column (text, None when missing) for positions ``c``."""
    cust = ledger.customers
    n_c = len(cust)
    if col not in cust.columns:
        return np.full(len(c), None, object)
    vals = np.append(cust[col].astype(object).to_numpy(), None)
    vals = np.where(pd.isna(vals), None, vals)
    return vals[np.minimum(c, n_c)]


def _customer_num(ledger: Ledger, col: str, c: np.ndarray) -> np.ndarray:
    """Look up a numeric (or date, as day numbers) customer column, NaN when missing."""
    cust = ledger.customers
    if col not in cust.columns:
        return np.full(len(c), np.nan)
    s = cust[col]
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        d = np.asarray(s, "datetime64[D]")
        vals = np.where(np.isnat(d), np.nan, d.astype(np.int64).astype(float))
    else:
        vals = s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return np.append(vals, np.nan)[np.minimum(c, len(cust))]


def _engine(
    ledger: Ledger,
    L: int,
    c: np.ndarray,
    sp: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray,
    due: np.ndarray,
    product_line: np.ndarray,
    self_inv: np.ndarray,
) -> dict[str, np.ndarray]:
    """Feature columns for queries (customer, salesperson, day, invoice terms).

    ``self_inv`` is the position of the queried invoice (-1 for a hypothetical
    invoice): its own amount and reductions are taken out of the exposure.
    The queries are answered in (customer, day) order, which makes the binary
    searches walk the sorted streams forward (several times faster), and the
    answers are put back in the callers' order.
    """
    st = _state(ledger, L)
    order = group_sort(c, c * st.span + np.clip(day - st.base, 0, st.span - 1), st.n_c + 1)
    if not np.array_equal(order, np.arange(len(order))):
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        cols = _engine(
            ledger,
            L,
            c[order],
            sp[order],
            day[order],
            amount[order],
            due[order],
            None,
            self_inv[order],
        )
        names = [k for k in cols if k not in CATEGORICAL_FEATURES]
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:  # back in the callers' order
            cats = pool.submit(_categoricals, ledger, c, product_line)
            out = dict(zip(names, pool.map(lambda k: np.take(cols[k], back), names), strict=True))
            out.update(cats.result())
        return out
    f = fates(ledger)
    book = event_book(ledger)
    # the lookups are independent binary searches and gathers: answered on worker threads
    pool = ThreadPoolExecutor(max_workers=_THREADS)
    with pool:
        jobs = {
            "open": pool.submit(st.cust_open.at, c, day),
            "issued": pool.submit(st.cust_issued.at, c, day),
            "issued_365": pool.submit(st.cust_issued.at, c, day - 365),
            "overdue": pool.submit(st.cust_overdue.at, c, day),
            "k_hi": pool.submit(st.cust_known.index, c, day),
            "s_hi": pool.submit(st.cust_settled.index, c, day),
            "wo": pool.submit(st.cust_wo.at, c, day),
            "cash": pool.submit(st.cust_cash.at, c, day),
            "actions": pool.submit(st.cust_actions.at, c, day),
            "actions_90": pool.submit(st.cust_actions.at, c, day - 90),
            "sp_open": pool.submit(st.sp_open.at, sp, day),
            "sp_overdue": pool.submit(st.sp_overdue.at, sp, day),
            "sp_known": pool.submit(st.sp_known.at, sp, day),
            "max_dpd": pool.submit(_max_days_past_due, st, c, day),
        }
        own = self_inv >= 0
        si = np.maximum(self_inv, 0)
        # this invoice's own open amount at the end of day (only itself; 0 for a hypothetical one)
        own_open = np.zeros(len(c))
        if own.any():
            idx = book.query(si[own], day[own])
            own_open[own] = book.amount[si[own]] - book.reduced(si[own], idx)
        own_log = np.where(own, np.rint(np.log(np.maximum(f.amount[si], 1) / 100) * _FIXED), 0.0)
        r = {name: job.result() for name, job in jobs.items()}

    o = r["open"]
    o[:, 3:] = r["issued"][:, 3:]
    open_amt = o[:, 0] - own_open
    own_is_open = own & (own_open > 0)
    open_cnt = o[:, 1] - own_is_open
    n_prev = o[:, 3] - own
    log_sum = (o[:, 2] - own_log) / _FIXED
    sales = (o[:, 4] - np.where(own, f.amount[si], 0) - r["issued_365"][:, 4]) / 100
    od = r["overdue"]
    k_hi, s_hi = r["k_hi"], r["s_hi"]
    kn = st.cust_known.at(c, day, k_hi)
    se = st.cust_settled.at(c, day, s_hi)
    wo = r["wo"][:, 0]
    cash = r["cash"][:, 0]
    ac = r["actions"]
    ac90 = ac[:, 3] - r["actions_90"][:, 3]

    # the most recent known outcomes and settlements
    k_lo = np.maximum(k_hi - RECENT_INVOICES, st.cust_known.gstart[c])
    rec = st.cust_known.cum[k_hi] - st.cust_known.cum[k_lo]
    s_lo = np.maximum(s_hi - RECENT_INVOICES, st.cust_settled.gstart[c])
    rec_s = st.cust_settled.cum[s_hi] - st.cust_settled.cum[s_lo]
    worst = running_max_before(st.cust_settled, c, day, col=2, idx=s_hi)

    late_share = _ratio(kn[:, 1], kn[:, 0])
    rec_share = _ratio(rec[:, 1], rec[:, 0])
    mean_delay = _ratio(se[:, 1], se[:, 0])
    rec_delay = _ratio(rec_s[:, 1], rec_s[:, 0])

    limit = _customer_num(ledger, "credit_limit", c)
    rel_days = day - _customer_num(ledger, "opened_date", c)

    no_sp = np.asarray(sp) >= st.n_sp
    spo = r["sp_open"][:, 0] - own_open
    spod = r["sp_overdue"][:, 0]
    spk = r["sp_known"]
    log_amount = np.log(np.maximum(amount, 1) / 100)
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    return {
        "log_amount": log_amount,
        "amount_vs_usual": log_amount - _ratio(log_sum, n_prev),
        "terms_days": (due - day).astype(float),
        "invoice_month": month.astype(float),
        "due_festival_offset": _festival_offset(due),
        **({} if product_line is None else _categoricals(ledger, c, product_line)),
        "relationship_days": rel_days,
        "log_credit_limit": _log_yuan(limit),
        "log_sales_365d": np.log1p(np.maximum(sales, 0)),
        "invoices_to_date": n_prev,
        "hist_known": kn[:, 0],
        "hist_late_share": late_share,
        "hist_recent_known": rec[:, 0],
        "hist_recent_late": rec[:, 1],
        "hist_late_trend": rec_share - late_share,
        "hist_settled": se[:, 0],
        "hist_mean_delay": mean_delay,
        "hist_mean_days_late": _ratio(se[:, 2], se[:, 0]),
        "hist_worst_days_late": worst,
        "hist_recent_delay": rec_delay,
        "hist_delay_trend": rec_delay - mean_delay,
        "hist_written_off": wo,
        "disputes": ac[:, 0],
        "promises_made": ac[:, 1],
        "promises_broken": ac[:, 2],
        "dunning_90d": ac90,
        "log_open_amount": _log_yuan(open_amt),
        "log_overdue_amount": _log_yuan(od[:, 0]),
        "overdue_share": _ratio(np.maximum(od[:, 0], 0), open_amt),
        "late_open_share": _ratio(np.maximum(od[:, 2], 0), open_amt),
        "overdue_invoices": od[:, 1],
        "max_days_past_due": r["max_dpd"],
        "utilisation": _ratio(np.maximum(open_amt, 0), limit),
        "utilisation_after": _ratio(np.maximum(open_amt, 0) + amount, limit),
        "log_unapplied_cash": _log_yuan(cash),
        # no salesperson known: no book to describe (not the book of everyone unassigned)
        "sp_log_open_amount": np.where(no_sp, np.nan, _log_yuan(spo)),
        "sp_overdue_share": np.where(no_sp, np.nan, _ratio(np.maximum(spod, 0), spo)),
        "sp_late_share": np.where(no_sp, np.nan, _ratio(spk[:, 1], spk[:, 0])),
        "_open_count": open_cnt,
    }


def _categoricals(ledger: Ledger, c: np.ndarray, product_line) -> dict[str, np.ndarray]:
    return {
        "product_line": np.asarray(product_line, dtype=object),
        "customer_type": _customer_attr(ledger, "customer_type", c),
        "region": _customer_attr(ledger, "region", c),
        "channel": _customer_attr(ledger, "channel", c),
    }


def _frame(cols: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """Build the feature frame: numeric columns in one float block, categorical as objects."""
    numeric = [n for n in FEATURES if n not in CATEGORICAL_FEATURES]
    block = np.empty((len(index), len(numeric)), order="F")
    for j, name in enumerate(numeric):
        block[:, j] = cols[name]
    frame = pd.DataFrame(block, index=index, columns=numeric, copy=False)
    for name in CATEGORICAL_FEATURES:
        frame[name] = np.asarray(cols[name], dtype=object)
    return frame[list(FEATURES)]


def invoice_features(ledger: Ledger, late_after_days: int = 30) -> pd.DataFrame:
    """Features of every invoice as known at the end of its invoice date.

    Parameters
    ----------
    ledger : Ledger
    late_after_days : int, default=30
        Threshold of the history features (share paid late, late open share).

    Returns
    -------
    DataFrame
        Indexed by ``invoice_id`` in ledger order, columns :data:`FEATURES`
        (described in :data:`FEATURE_DESCRIPTIONS`; categorical columns as
        strings, the rest float, NaN where there is no history). Nothing
        dated after an invoice's date changes its row (module docstring).

    Raises
    ------
    ParamsError
        For a negative ``late_after_days``.

    Examples
    --------
    >>> from medrisk.credit import FEATURES, invoice_features
    >>> from medrisk.data.demo import make_demo
    >>> X = invoice_features(make_demo(2_000, seed=1).ledger)
    >>> X.shape[1] == len(FEATURES)
    True
    """
    L = check_days("late_after_days", late_after_days)
    # copy-on-write: the frame the ledger keeps stays as it is
    return ledger.derive(_build_invoice_features, L).copy(deep=False)


def _build_invoice_features(ledger: Ledger, L: int) -> pd.DataFrame:
    f = fates(ledger)
    st = _state(ledger, L)
    inv = ledger.invoices
    n = len(f.inv_day)
    cols = _engine(
        ledger,
        L,
        f.cust,
        st.sp_codes,
        f.inv_day,
        f.amount.astype(float),
        f.due_day,
        inv["product_line"].astype(object).to_numpy(),
        np.arange(n, dtype=np.int64),
    )
    return _frame(cols, pd.Index(inv["invoice_id"].to_numpy(), name="invoice_id"))


def customer_features(ledger: Ledger, as_of, late_after_days: int = 30) -> pd.DataFrame:
    """Features of a hypothetical next invoice of each customer, issued on ``as_of``.

    The next invoice has the customer's usual terms (its ``payment_terms_days``,
    else the median of its invoices), its usual amount (geometric mean of its
    invoices up to ``as_of``) and its most frequent product line.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    late_after_days : int, default=30

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (customers opened, or invoiced, by
        ``as_of``), columns :data:`FEATURES`, plus ``open_amount`` and
        ``sales_90d`` (int64 fen) for exposure and cost figures.
    """
    L = check_days("late_after_days", late_after_days)
    day = kernel.day_of(as_of)
    f = fates(ledger)
    st = _state(ledger, L)
    cust = ledger.customers
    n_c = len(cust)
    c = np.arange(n_c, dtype=np.int64)
    d = np.full(n_c, day, np.int64)
    issued = f.inv_day <= day
    cnt = np.bincount(f.cust[issued], minlength=n_c + 1)[:n_c]
    logs = np.bincount(f.cust[issued], np.log(np.maximum(f.amount[issued], 1)), minlength=n_c + 1)
    usual = np.exp(_ratio(logs[:n_c], cnt))
    overall = np.exp(np.log(np.maximum(f.amount[issued], 1)).mean()) if issued.any() else 100.0
    amount = np.where(np.isnan(usual), overall, usual)
    terms = (
        cust["payment_terms_days"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        if "payment_terms_days" in cust.columns
        else np.full(n_c, np.nan)
    )
    inv_terms = pd.Series(f.due_day[issued] - f.inv_day[issued]).groupby(f.cust[issued]).median()
    med = np.full(n_c + 1, np.nan)
    med[inv_terms.index.to_numpy()] = inv_terms.to_numpy()
    terms = np.where(np.isnan(terms), med[:n_c], terms)
    terms = np.where(np.isnan(terms), 60, terms).astype(np.int64)
    pl_codes, pl_names = pd.factorize(ledger.invoices["product_line"], use_na_sentinel=True)
    ok = issued & (pl_codes >= 0)
    k = max(len(pl_names), 1)
    counts = np.bincount(f.cust[ok] * k + pl_codes[ok], minlength=(n_c + 1) * k)
    counts = counts.reshape(n_c + 1, k)[:n_c]
    names = np.append(np.asarray(pl_names, dtype=object), None)
    product = np.where(counts.sum(axis=1) > 0, names[counts.argmax(axis=1)], None)
    sp_ids = cust["salesperson_id"] if "salesperson_id" in cust.columns else pd.Series([None] * n_c)
    sp = st.sp_index.get_indexer(pd.Index(sp_ids.astype(object)))
    sp = np.where(sp >= 0, sp, st.n_sp).astype(np.int64)
    cols = _engine(ledger, L, c, sp, d, amount, d + terms, product, np.full(n_c, -1, np.int64))
    out = _frame(cols, pd.Index(cust["customer_id"].to_numpy(), name="customer_id"))
    open_amt = st.cust_open.at(c, d)[:, 0]
    sales_90 = st.cust_issued.at(c, d)[:, 4] - st.cust_issued.at(c, d - 90)[:, 4]
    out["open_amount"] = np.round(np.maximum(open_amt, 0)).astype(np.int64)
    out["sales_90d"] = np.round(sales_90).astype(np.int64)
    known = cnt > 0
    if "opened_date" in cust.columns:
        opened = np.asarray(cust["opened_date"], "datetime64[D]")
        known |= np.isnat(opened) | (opened.astype(np.int64) <= day)
    out = out[known]
    out.attrs.update(as_of=kernel.to_ts([day])[0], late_after_days=L)
    return out
