"""The receivables engine: open items, aging and aging series, as known on any date.

Everything here is point in time. A figure "as of D" counts only invoices
issued on or before D, and only allocations (dated by their payment's
``payment_date``) and adjustments dated on or before D. A reduction that is
dated before its invoice (an advance receipt, 预收款, applied to a later invoice)
takes effect on the invoice date: before that the invoice does not exist.

How it works: for each ledger the invoices and their reductions (allocations
and adjustments) are turned once into an *event table*, sorted by
``(invoice, effective day)``, with running sums per kind. The open amount of
invoice ``i`` as of day ``D`` is then ``amount[i] - (cum[j] - cum[start[i]])``
where ``j`` is found by one ``searchsorted`` on the sorted keys. For a series
of dates, each invoice is paired only with the dates on which it is open
(from its issue day up to the day it was settled), so the work grows with the
open (invoice x date) pairs, not with invoices x dates. All money is integer
fen and every total is an ``int64`` sum: buckets add up to the open total to
the cent.

The event table (:class:`EventBook`) and the group codes are built once per
ledger with :meth:`medrisk.Ledger.derive`: a ledger never changes, so what is
derived from it never goes stale, and a new ledger starts afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.config import DEFAULT_AGING_EDGES
from medrisk.data import SCHEMAS, Ledger
from medrisk.exceptions import ParamsError
from medrisk.kernel import NEVER, as_list, check_choice, day_of, positions, to_ts
from medrisk.receivables._cashapp import apply_cash

__all__ = [
    "allocations_of",
    "cash_application_of",
    "event_book",
    "EventBook",
    "group_codes",
    "invoice_salesperson",
    "prepare",
    "open_items",
    "aging",
    "aging_series",
    "aging_buckets",
    "dimensions",
    "AGING_BASES",
    "VALUES",
    "STATUSES",
    "STATUS_LABELS_ZH",
    "DEFAULT_INVOICE_AGE_EDGES",
]

AGING_BASES = ("due_date", "invoice_date")
VALUES = ("amount", "share", "count")
#: Invoice states, in the order reports show them.
STATUSES = ("open_not_due", "overdue", "paid", "written_off", "credit_balance")
STATUS_LABELS_ZH = {
    "open_not_due": "未到期",
    "overdue": "逾期",
    "paid": "已结清",
    "written_off": "已核销坏账",
    "credit_balance": "贷方余额",
}
#: Default buckets for ``basis="invoice_date"`` (days since invoice): 0-30 ... over 365.
DEFAULT_INVOICE_AGE_EDGES = (30, 60, 90, 180, 365)

#: Reduction kinds, as codes in the event table.
_KINDS = ("payment", "credit_note", "discount", "write_off")
_DENSE_CELLS = 30_000_000  # above this, aggregate sparsely

def _check_ledger(ledger) -> Ledger:
    if not isinstance(ledger, Ledger):
        raise ParamsError(f"ledger must be a medrisk.Ledger; got {type(ledger).__name__}.")
    return ledger


# --------------------------------------------------------------------------- cash application
def cash_application_of(ledger: Ledger):
    """Return the :class:`medrisk.receivables.CashApplication` of ``ledger``, computed once.

    Parameters
    ----------
    ledger : Ledger

    Returns
    -------
    CashApplication
        With ``allocations`` (payment_id, invoice_id, amount, payment_date,
        customer_id, rule, effective_date) and ``unapplied``.
    """
    return _check_ledger(ledger).derive(_apply_cash)


def _apply_cash(ledger: Ledger):
    return apply_cash(ledger)  # looked up at call time, so a test can count the calls


def allocations_of(ledger: Ledger) -> pd.DataFrame:
    """Which payment paid which invoice, explicit and derived (cached per ledger).

    Wraps :func:`medrisk.receivables.apply_cash`: explicit allocations as given,
    the rest allocated point in time (a payment to invoices issued by its date;
    the cash it leaves to the customer's next invoices, on their issue dates).
    An allocation takes effect on its ``effective_date``, the later of its
    ``payment_date`` and its invoice's date.

    Parameters
    ----------
    ledger : Ledger

    Returns
    -------
    DataFrame
        Columns payment_id, invoice_id, amount (int64 fen), payment_date,
        customer_id, rule, effective_date.
    """
    return cash_application_of(ledger).allocations


def prepare(ledger: Ledger) -> Ledger:
    """Apply cash and build the event table of ``ledger`` now, so later queries are fast.

    Everything is also built on first use; call this once after loading when
    the first report must be quick. Returns ``ledger``.
    """
    event_book(ledger)
    return ledger


# --------------------------------------------------------------------------- helpers
# --------------------------------------------------------------------------- the event table
@dataclass(frozen=True, eq=False)
class EventBook:
    """Invoices and their reductions as sorted integer arrays: the engine every area queries.

    Built once per ledger by :func:`event_book` (see the module docstring for
    how). Days are int64 day numbers (:mod:`medrisk.kernel`), money int64 fen;
    invoice ``i`` is row ``i`` of ``ledger.invoices``.
    """

    n: int
    inv_day: np.ndarray  # int64 days
    due_day: np.ndarray
    amount: np.ndarray  # int64 fen
    cust_pos: np.ndarray  # position in customers, -1 when unknown
    base: int  # event days are stored as day - base, in [1, span - 2]
    span: int
    ev_inv: np.ndarray  # sorted by (invoice, effective day)
    ev_day: np.ndarray  # effective day: max(event date, invoice date)
    ev_raw_day: np.ndarray  # the event's own date (payment or adjustment date)
    ev_key: np.ndarray  # ev_inv * span + (ev_day - base), ascending
    ev_kind: np.ndarray  # int8 code into _KINDS
    cum: np.ndarray  # running total of reductions, with a leading 0
    cum_kind: np.ndarray  # (4, m + 1) running totals per kind
    start: np.ndarray  # events of invoice i are start[i]:start[i + 1]
    last_pay: np.ndarray  # running max of payment event keys (-1 when none)
    closed_day: np.ndarray  # first day the open amount reached <= 0 (NEVER if not)
    closed_wo: np.ndarray  # write-off amount on the invoice when it closed
    active_until: np.ndarray  # open on days < active_until (NEVER if over-reduced)

    def query(self, inv: np.ndarray, day: np.ndarray | int) -> np.ndarray:
        """Index into ``cum`` after the last event of ``inv`` on or before ``day``."""
        rel = np.clip(np.asarray(day, dtype=np.int64) - self.base, 0, self.span - 1)
        return np.searchsorted(self.ev_key, inv * self.span + rel, side="right")

    def reduced(self, inv: np.ndarray, idx: np.ndarray, kind: int | None = None) -> np.ndarray:
        """Reductions of ``inv`` up to event index ``idx`` (all kinds, or one)."""
        cum = self.cum if kind is None else self.cum_kind[kind]
        return cum[idx] - cum[self.start[inv]]


def event_book(ledger: Ledger) -> EventBook:
    """Return the :class:`EventBook` of ``ledger``: cash applied and events sorted, built once."""
    return _check_ledger(ledger).derive(_build_book)


def _build_book(ledger: Ledger) -> EventBook:
    inv = ledger.invoices
    n = len(inv)
    inv_ids = inv["invoice_id"]
    inv_day = kernel.days(inv["invoice_date"])
    due_day = kernel.days(inv["due_date"])
    amount = inv["amount"].to_numpy(dtype=np.int64)
    customers = ledger.customers
    cust_pos = positions(inv["customer_id"], customers["customer_id"])

    alloc = allocations_of(ledger)
    adj = ledger.table("adjustments", empty_if_missing=True)
    kind_code = {k: i for i, k in enumerate(_KINDS)}
    ev_inv = positions(
        pd.concat(
            [pd.Series(alloc["invoice_id"].array), pd.Series(adj["invoice_id"].array)],
            ignore_index=True,
        ),
        inv_ids,
    )
    ev_day = np.concatenate(
        [kernel.days(alloc["payment_date"]), kernel.days(adj["adjustment_date"])]
    )
    ev_amt = np.concatenate(
        [alloc["amount"].to_numpy(dtype=np.int64), adj["amount"].to_numpy(dtype=np.int64)]
    )
    adj_kind = adj["kind"].map(kind_code).to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(adj_kind).any():
        bad = sorted(set(adj["kind"][np.isnan(adj_kind)].astype(str)))
        raise ParamsError(
            f"adjustments.kind {bad} not understood; possible kinds are {list(_KINDS[1:])}."
        )
    ev_kind = np.concatenate([np.zeros(len(alloc), np.int8), adj_kind.astype(np.int8)])
    keep = (ev_inv >= 0) & (ev_day != NEVER)  # reductions of unknown invoices change nothing
    ev_inv, ev_day, ev_amt, ev_kind = ev_inv[keep], ev_day[keep], ev_amt[keep], ev_kind[keep]
    ev_raw_day, ev_day = ev_day, np.maximum(ev_day, inv_day[ev_inv])

    all_days = np.concatenate([inv_day, ev_day])
    lo, hi = (int(all_days.min()), int(all_days.max())) if len(all_days) else (0, 0)
    base, span = lo - 1, hi - lo + 3
    key = ev_inv * span + (ev_day - base)
    order = np.argsort(key, kind="stable")
    ev_inv, ev_day, ev_raw_day, ev_amt, ev_kind, key = (
        a[order] for a in (ev_inv, ev_day, ev_raw_day, ev_amt, ev_kind, key)
    )

    m = len(key)
    cum = np.zeros(m + 1, np.int64)
    np.cumsum(ev_amt, out=cum[1:])
    cum_kind = np.zeros((len(_KINDS), m + 1), np.int64)
    for k in range(len(_KINDS)):
        np.cumsum(np.where(ev_kind == k, ev_amt, 0), out=cum_kind[k, 1:])
    start = np.searchsorted(key, np.arange(n + 1, dtype=np.int64) * span, side="left")
    last_pay = np.maximum.accumulate(np.where(ev_kind == 0, key, -1)) if m else key

    # the day each invoice closed: first event at which reductions reach its amount
    within = cum[1:] - cum[start[ev_inv]]
    hit = np.flatnonzero(within >= amount[ev_inv])
    first = hit[np.r_[True, ev_inv[hit][1:] != ev_inv[hit][:-1]]] if len(hit) else hit
    closed_day = np.full(n, NEVER, np.int64)
    closed_day[ev_inv[first]] = ev_day[first]
    closed_wo = np.zeros(n, np.int64)
    closed_wo[ev_inv[first]] = cum_kind[3, first + 1] - cum_kind[3, start[ev_inv[first]]]
    total = cum[start[1:]] - cum[start[:-1]]
    active_until = np.where(total > amount, NEVER, closed_day)  # over-reduced: keep every day
    return EventBook(
        n,
        inv_day,
        due_day,
        amount,
        cust_pos,
        base,
        span,
        ev_inv,
        ev_day,
        ev_raw_day,
        key,
        ev_kind,
        cum,
        cum_kind,
        start,
        last_pay,
        closed_day,
        closed_wo,
        active_until,
    )


# --------------------------------------------------------------------------- dimensions
def dimensions(ledger: Ledger) -> dict[str, str]:
    """Columns that ``by=`` accepts, with the table each is read from.

    Invoice columns come first; then customer columns (joined by
    ``customer_id``); then salesperson columns (joined by the invoice's
    ``salesperson_id``, or the customer's when the invoice names none). Write
    ``"table.column"`` to pick a column that several tables share, e.g.
    ``"salespeople.region"`` (the default ``region`` is the customer's).

    Parameters
    ----------
    ledger : Ledger

    Returns
    -------
    dict of str to str
        Column name (unqualified when unambiguous) to table name.
    """
    out: dict[str, str] = {}
    for table in ("invoices", "customers", "salespeople"):
        frame = ledger.table(table)
        for col in [] if frame is None else frame.columns:
            out.setdefault(col, table)
            out[f"{table}.{col}"] = table
    return out


def invoice_salesperson(ledger: Ledger) -> pd.Series:
    """Return the salesperson of each invoice: its own ``salesperson_id``, else its customer's.

    One value per row of ``ledger.invoices`` (index 0..n-1), missing when neither names one.
    """
    return _check_ledger(ledger).derive(_build_invoice_salesperson)


def _build_invoice_salesperson(ledger: Ledger) -> pd.Series:
    book = event_book(ledger)
    inv, cust = ledger.invoices, ledger.customers
    none = pd.Series(None, index=range(book.n), dtype="str")
    own = inv["salesperson_id"].reset_index(drop=True) if "salesperson_id" in inv else none
    cust_sp = cust.get("salesperson_id", pd.Series(None, index=cust.index, dtype="str"))
    cust_sp = cust_sp.to_numpy(dtype=object, na_value=None)
    via = (
        np.where(book.cust_pos >= 0, cust_sp[np.maximum(book.cust_pos, 0)], None)
        if len(cust_sp)
        else np.full(book.n, None, object)
    )
    return own.where(own.notna(), pd.Series(via, dtype=own.dtype))


def _factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    if (codes < 0).any():  # missing values form the last group
        codes[codes < 0] = len(uniques)
        uniques = pd.Index(list(uniques) + [None], dtype=object)
    return codes, pd.Index(uniques)


def _dimension(ledger: Ledger, book: EventBook, name: str) -> tuple[np.ndarray, pd.Index]:
    dims = dimensions(ledger)
    if isinstance(name, str) and name not in dims and not ledger.has("salespeople"):
        if name.split(".")[-1] in SCHEMAS["salespeople"].to_schema().columns:
            ledger.require("salespeople", f"by={name!r}", ["salesperson_id", name.split(".")[-1]])
    if not isinstance(name, str) or name not in dims:
        raise ParamsError(
            f"by={name!r} is not a column of invoices, customers or salespeople. "
            f"Possible values are: {sorted(k for k in dims if '.' not in k)} "
            "(or 'table.column')."
        )
    table = dims[name]
    col = name.split(".", 1)[1] if "." in name else name
    if table == "invoices":
        values = ledger.invoices[col].reset_index(drop=True)
        if col == "salesperson_id":
            values = invoice_salesperson(ledger)
        return _factorize(values)
    if table == "customers":
        pos = book.cust_pos
    else:
        pos = positions(invoice_salesperson(ledger), ledger.salespeople["salesperson_id"])
    codes, uniques = _factorize(ledger.table(table)[col].reset_index(drop=True))
    missing = len(uniques)
    out = np.where(pos >= 0, codes[np.maximum(pos, 0)] if len(codes) else missing, missing)
    if (out == missing).any():
        uniques = pd.Index(list(uniques) + [None], dtype=object)
    return out.astype(np.int64), uniques


def group_codes(ledger: Ledger, by) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Per-invoice group code (sorted by label) and the labels of each code.

    Parameters
    ----------
    ledger : Ledger
    by : str, list of str or None
        Columns of :func:`dimensions`; ``None`` puts every invoice in group 0.

    Returns
    -------
    codes : ndarray of int64
        One code per row of ``ledger.invoices``.
    keys : DataFrame or None
        Row ``c`` holds the labels of code ``c`` (missing labels last); None without ``by``.
    """
    names = as_list(by)
    if not names:
        return np.zeros(event_book(ledger).n, np.int64), None
    return _check_ledger(ledger).derive(_build_groups, tuple(names))


def _build_groups(ledger: Ledger, names: tuple[str, ...]) -> tuple[np.ndarray, pd.DataFrame]:
    book = event_book(ledger)
    parts = [_dimension(ledger, book, name) for name in names]
    combined = np.zeros(book.n, np.int64)
    for codes, uniques in parts:  # compact after each column: no int64 overflow
        combined = np.unique(combined * (len(uniques) + 1) + codes, return_inverse=True)[1]
        combined = combined.astype(np.int64).ravel()
    first = np.full(int(combined.max(initial=-1)) + 1, book.n, np.int64)
    np.minimum.at(first, combined, np.arange(book.n, dtype=np.int64))
    keys = pd.DataFrame({
        name: np.asarray(uniques.take(codes[first]), dtype=object)
        for name, (codes, uniques) in zip(names, parts, strict=True)
    })
    return combined, keys


# --------------------------------------------------------------------------- buckets
def _edges(buckets, basis: str) -> np.ndarray:
    if buckets is None:
        buckets = DEFAULT_AGING_EDGES if basis == "due_date" else DEFAULT_INVOICE_AGE_EDGES
    try:
        edges = np.asarray([int(b) for b in buckets], dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise ParamsError(
            f"buckets must be a list of whole days such as [0, 30, 60]; got {buckets!r}."
        ) from exc
    if (
        len(edges) == 0
        or np.any(np.diff(edges) <= 0)
        or np.any(edges != np.asarray(buckets, dtype=float))
    ):
        raise ParamsError(
            "buckets must be strictly increasing whole days such as [0, 30, 60, 90]; "
            f"got {list(buckets)!r}."
        )
    return edges


def aging_buckets(buckets: Sequence[int] | None = None, basis: str = "due_date") -> pd.DataFrame:
    """Describe the aging buckets of ``buckets`` edges, with English and Chinese labels.

    Bucket ``i`` holds ages in ``(edges[i-1], edges[i]]`` days; the first holds
    everything up to ``edges[0]`` and the last everything above ``edges[-1]``.
    The age is days past due (``basis="due_date"``) or days since the invoice
    date (``basis="invoice_date"``).

    Parameters
    ----------
    buckets : list of int, default=None
        Upper bounds in days, inclusive. Default ``(0, 30, 60, 90, 180, 365)``
        by due date (not due, 1-30, ..., over 365) and ``(30, 60, 90, 180,
        365)`` by invoice date.
    basis : {"due_date", "invoice_date"}, default="due_date"

    Returns
    -------
    DataFrame
        Columns ``bucket`` (English label), ``bucket_zh``, ``min_days`` and
        ``max_days`` (NaN when unbounded).

    Examples
    --------
    >>> aging_buckets([0, 30, 365, 720])["bucket"].tolist()
    ['not_due', '1-30', '31-365', '366-720', 'over_720']
    """
    check_choice("basis", basis, AGING_BASES)
    edges = _edges(buckets, basis)
    rows = []
    e0 = int(edges[0])
    if basis == "due_date":
        first = ("not_due", "未到期") if e0 == 0 else (f"upto_{e0}", f"{e0}天及以内")
        first_lo = np.nan
    else:
        first = (f"0-{e0}", f"0-{e0}天")
        first_lo = 0
    rows.append((*first, first_lo, e0))
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        rows.append((f"{lo + 1}-{hi}", f"{lo + 1}-{hi}天", lo + 1, hi))
    rows.append((f"over_{edges[-1]}", f"{edges[-1]}天以上", edges[-1] + 1, np.nan))
    return pd.DataFrame(rows, columns=["bucket", "bucket_zh", "min_days", "max_days"])


# --------------------------------------------------------------------------- open items
def open_items(ledger: Ledger, as_of, buckets: Sequence[int] | None = None) -> pd.DataFrame:
    """Every invoice issued on or before ``as_of``, with its state as known that day.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Valuation date. Only invoices issued, and allocations and adjustments
        dated, on or before it count; an invoice paid later is open.
    buckets : list of int, default=None
        Aging edges in days past due (see :func:`aging_buckets`).

    Returns
    -------
    DataFrame
        One row per invoice: invoice_id, customer_id, salesperson_id,
        product_line, invoice_date, due_date, amount, paid (cash applied),
        credit_note, discount, write_off, adjusted (their sum), open_amount
        (``amount - paid - adjusted``), status (one of :data:`STATUSES`:
        ``paid`` and ``written_off`` are closed, ``written_off`` when a
        write-off helped close it; ``credit_balance`` only for data that
        reduce an invoice below zero), partly_paid (some cash applied and
        still open), days_past_due (of the open amount, 0 when not due or
        closed), days_since_invoice, bucket and bucket_zh (aging bucket of the
        open amount; empty when closed), last_payment_date, closed_date. Money
        in int64 fen.
    """
    day = day_of(as_of)
    book = event_book(ledger)
    inv = ledger.invoices
    rows = np.flatnonzero(book.inv_day <= day)
    idx = book.query(rows, day)
    paid, cn, disc, wo = (book.reduced(rows, idx, k) for k in range(4))
    adjusted = cn + disc + wo
    amount = book.amount[rows]
    open_amt = amount - paid - adjusted
    past = day - book.due_day[rows]
    status = np.select(
        [open_amt > 0, (open_amt <= 0) & (wo > 0), open_amt == 0],
        [np.where(past > 0, 1, 0), 3, 2],
        default=4,
    )
    edges = _edges(buckets, "due_date")
    labels = aging_buckets(edges, "due_date")
    bucket = np.where(open_amt > 0, np.searchsorted(edges, past, side="left"), -1)
    lp = book.last_pay[np.maximum(idx - 1, 0)] if len(book.last_pay) else np.full(len(rows), -1)
    own = (idx > book.start[rows]) & (lp >= rows * book.span)
    lp_day = np.where(own, lp - rows * book.span + book.base, 0)
    is_closed = book.closed_day[rows] <= day
    closed = np.where(is_closed, book.closed_day[rows], 0)
    take = lambda col: inv[col].take(rows).reset_index(drop=True)  # noqa: E731
    out = pd.DataFrame(
        {
            "invoice_id": take("invoice_id"),
            "customer_id": take("customer_id"),
            "salesperson_id": invoice_salesperson(ledger).take(rows).reset_index(drop=True),
            "product_line": take("product_line"),
            "invoice_date": take("invoice_date"),
            "due_date": take("due_date"),
            "amount": amount,
            "paid": paid,
            "credit_note": cn,
            "discount": disc,
            "write_off": wo,
            "adjusted": adjusted,
            "open_amount": open_amt,
            "status": pd.Categorical.from_codes(status, categories=list(STATUSES)),
            "partly_paid": (paid > 0) & (open_amt > 0),
            "days_past_due": np.where(open_amt > 0, np.maximum(past, 0), 0),
            "days_since_invoice": day - book.inv_day[rows],
            "bucket": pd.Categorical.from_codes(bucket, categories=labels["bucket"].tolist()),
            "bucket_zh": pd.Categorical.from_codes(bucket, categories=labels["bucket_zh"].tolist()),
            "last_payment_date": pd.Series(to_ts(lp_day)).where(own),
            "closed_date": pd.Series(to_ts(closed)).where(is_closed),
        }
    )
    out.attrs.update(as_of=pd.Timestamp(to_ts([day])[0]), unit="fen")
    return out


# --------------------------------------------------------------------------- aging
def _aging_core(
    book: EventBook, days: np.ndarray, codes: np.ndarray | None, n_groups: int, edges: np.ndarray,
    basis: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open amount and count per (date, group, bucket), and which (date, group) rows exist.

    ``days`` must be sorted and unique; ``codes`` (group of each invoice) is
    not read when ``n_groups`` is 1.

    Returns ``amounts`` and ``counts`` of shape (rows, buckets) and ``rows``,
    the flat ``date_index * n_groups + group`` of each row, ascending.
    """
    k, nb = len(days), len(edges) + 1
    lo = np.searchsorted(days, book.inv_day, side="left")  # first date on or after issue
    hi = np.searchsorted(days, book.active_until, side="left")  # first date it is closed
    cnt = hi - lo
    sel = np.flatnonzero(cnt > 0)
    c = cnt[sel]
    ends = np.cumsum(c)
    total = int(ends[-1]) if len(ends) else 0
    # one pair per (open invoice, date); the keys come out sorted, so the lookups are fast
    pair_t = np.arange(total, dtype=np.int64) + np.repeat(lo[sel] - (ends - c), c)
    rel = np.clip(days - book.base, 0, book.span - 1)
    idx = np.searchsorted(book.ev_key, np.repeat(sel * book.span, c) + rel[pair_t], side="right")
    open_amt = np.repeat(book.amount[sel] + book.cum[book.start[sel]], c) - book.cum[idx]
    ref = book.due_day if basis == "due_date" else book.inv_day
    bucket = np.searchsorted(edges, days[pair_t] - np.repeat(ref[sel], c), side="left")
    row = pair_t if n_groups == 1 else pair_t * n_groups + np.repeat(codes[sel], c)
    live = open_amt != 0
    cell, open_amt = (row * nb + bucket)[live], open_amt[live]
    if k * n_groups * nb <= _DENSE_CELLS:
        amounts = np.zeros(k * n_groups * nb, np.int64)
        np.add.at(amounts, cell, open_amt)
        counts = np.bincount(cell, minlength=k * n_groups * nb).astype(np.int64)
        amounts, counts = amounts.reshape(-1, nb), counts.reshape(-1, nb)
        rows = np.flatnonzero(counts.sum(axis=1) > 0)
        return amounts[rows], counts[rows], rows
    rows, inverse = np.unique(cell // nb, return_inverse=True)
    flat = inverse.ravel() * nb + cell % nb
    amounts = np.zeros(len(rows) * nb, np.int64)
    np.add.at(amounts, flat, open_amt)
    counts = np.bincount(flat, minlength=len(rows) * nb).astype(np.int64)
    return amounts.reshape(-1, nb), counts.reshape(-1, nb), rows


def _aging_frame(ledger: Ledger, dates, by, buckets, basis: str, values: str) -> pd.DataFrame:
    check_choice("basis", basis, AGING_BASES)
    check_choice("values", values, VALUES)
    book = event_book(ledger)
    edges = _edges(buckets, basis)
    labels = aging_buckets(edges, basis)
    days = np.unique(np.asarray([day_of(d, "dates") for d in dates], dtype=np.int64))
    codes, keys = group_codes(ledger, by)
    n_groups = 1 if keys is None else len(keys)
    amounts, counts, rows = _aging_core(book, days, codes, n_groups, edges, basis)
    cols = labels["bucket"].tolist()
    if values == "amount":
        data = (
            np.column_stack([amounts, amounts.sum(axis=1)])
            if len(rows)
            else np.zeros((0, len(cols) + 1), np.int64)
        )
    elif values == "count":
        data = (
            np.column_stack([counts, counts.sum(axis=1)])
            if len(rows)
            else np.zeros((0, len(cols) + 1), np.int64)
        )
    else:
        tot = amounts.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(tot != 0, amounts / np.where(tot != 0, tot, 1), np.nan)
        data = (
            np.column_stack([share, np.where(tot[:, 0] != 0, 1.0, np.nan)])
            if len(rows)
            else np.zeros((0, len(cols) + 1))
        )
    frame = pd.DataFrame(data, columns=pd.Index([*cols, "total"], name="bucket"))
    index = {"as_of": to_ts(days[rows // n_groups])}
    if keys is not None:
        for name in keys.columns:
            index[name] = keys[name].to_numpy(dtype=object)[rows % n_groups]
    frame.index = pd.MultiIndex.from_arrays(list(index.values()), names=list(index))
    if keys is None:  # one row per date, also when nothing is open
        frame.index = frame.index.get_level_values(0)
        frame = frame.reindex(
            pd.DatetimeIndex(to_ts(days), name="as_of"),
            fill_value=np.nan if values == "share" else 0,
        )
    frame.attrs.update(
        basis=basis,
        values=values,
        unit="fen" if values == "amount" else values,
        buckets=[int(e) for e in edges],
        labels_zh=dict(zip(labels["bucket"], labels["bucket_zh"], strict=True)),
    )
    return frame


def aging(
    ledger: Ledger,
    as_of,
    by: str | list[str] | None = None,
    buckets: Sequence[int] | None = None,
    basis: str = "due_date",
    values: str = "amount",
) -> pd.DataFrame:
    """Aging (账龄) of the open receivables as of a date.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Valuation date (point in time: later payments are not known).
    by : str or list of str, default=None
        Group by these columns (see :func:`dimensions`): e.g. ``"customer_id"``,
        ``["region", "channel"]``, ``"team"``, ``"customer_type"``,
        ``"product_line"``. None gives one row for the whole company.
    buckets : list of int, default=None
        Bucket upper bounds in days (see :func:`aging_buckets`), e.g.
        ``[0, 30, 60, 90, 180, 365, 720]``.
    basis : {"due_date", "invoice_date"}, default="due_date"
        Age by days past due, or by days since the invoice date.
    values : {"amount", "share", "count"}, default="amount"
        Open amount in int64 fen, its share of the row's total, or the number
        of open invoices.

    Returns
    -------
    DataFrame
        One row per group with an open invoice (a one-row frame indexed by
        ``as_of`` when ``by`` is None), one column per bucket (English labels;
        ``frame.attrs["labels_zh"]`` maps them to Chinese) and ``total``.
        Amount buckets add up to ``total`` exactly. An invoice credited beyond
        its amount (a credit balance) counts with its negative open amount, so
        that totals reconcile with invoices - allocations - adjustments.

    Raises
    ------
    ParamsError
        For an unknown ``by`` column, ``basis`` or ``values``, or bad buckets.

    Examples
    --------
    Two customers, four invoices and two payments (money in fen; the payments
    carry no allocations, so :func:`~medrisk.receivables.apply_cash` applies them):

    >>> import pandas as pd
    >>> from medrisk import Ledger, aging
    >>> ledger = Ledger.from_frames(
    ...     customers=pd.DataFrame({"customer_id": ["C1", "C2"], "region": ["华东", "华南"]}),
    ...     invoices=pd.DataFrame({
    ...         "invoice_id": ["I1", "I2", "I3", "I4"], "customer_id": ["C1", "C1", "C2", "C2"],
    ...         "invoice_date": pd.to_datetime(["2026-01-10", "2026-04-01", "2026-03-01",
    ...                                         "2026-06-20"]),
    ...         "due_date": pd.to_datetime(["2026-03-11", "2026-05-31", "2026-05-30",
    ...                                     "2026-08-19"]),
    ...         "amount": [100_000_00, 50_000_00, 80_000_00, 20_000_00]}),
    ...     payments=pd.DataFrame({
    ...         "payment_id": ["P1", "P2"], "customer_id": ["C1", "C2"],
    ...         "payment_date": pd.to_datetime(["2026-04-20", "2026-06-15"]),
    ...         "amount": [60_000_00, 30_000_00]}),
    ... )
    >>> company = aging(ledger, "2026-06-30")
    >>> company.columns.tolist()
    ['not_due', '1-30', '31-60', '61-90', '91-180', '181-365', 'over_365', 'total']
    >>> company[["not_due", "1-30", "31-60", "91-180", "total"]]
    bucket      not_due     1-30    31-60   91-180     total
    as_of
    2026-06-30  2000000  5000000  5000000  4000000  16000000
    >>> aging(ledger, "2026-06-30", by="region", values="count")
    bucket  not_due  1-30  31-60  61-90  91-180  181-365  over_365  total
    region
    华东            0     1      0      0       1        0         0      2
    华南            1     0      1      0       0        0         0      2
    >>> aging(ledger, "2026-06-30", by="region", values="share").round(2)
    bucket  not_due  1-30  31-60  61-90  91-180  181-365  over_365  total
    region
    华东         0.00  0.56   0.00    0.0    0.44      0.0       0.0    1.0
    华南         0.29  0.00   0.71    0.0    0.00      0.0       0.0    1.0
    >>> aging(ledger, "2026-06-30", buckets=[0, 30, 90])
    bucket      not_due     1-30    31-90  over_90     total
    as_of
    2026-06-30  2000000  5000000  5000000  4000000  16000000
    """
    frame = _aging_frame(ledger, [as_of], by, buckets, basis, values)
    return frame.droplevel("as_of") if as_list(by) else frame


def aging_series(
    ledger: Ledger,
    dates: Iterable,
    by: str | list[str] | None = None,
    buckets: Sequence[int] | None = None,
    basis: str = "due_date",
    values: str = "amount",
) -> pd.DataFrame:
    """Aging as of each of ``dates`` in one pass (e.g. every month end of three years).

    Equal to calling :func:`aging` for each date, but each invoice is paired
    only with the dates on which it was open, and all pairs are valued by one
    vectorised lookup in the event table.

    Parameters
    ----------
    ledger : Ledger
    dates : iterable of date-like
        Valuation dates, e.g. ``pd.date_range("2024-01-31", "2026-10-31", freq="ME")``.
    by, buckets, basis, values
        As for :func:`aging`.

    Returns
    -------
    DataFrame
        Indexed by ``as_of`` (and the ``by`` columns), columns as in
        :func:`aging`. Without ``by`` every date has a row; with ``by``, a group
        with no open invoice on a date has no row for that date.

    Examples
    --------
    >>> import pandas as pd
    >>> from medrisk import aging, aging_series
    >>> from medrisk.data.demo import make_ledger
    >>> ledger = make_ledger(2_000, seed=1)
    >>> month_ends = pd.date_range("2023-11-30", "2026-10-31", freq="ME")
    >>> aging_series(ledger, month_ends)["total"].tail(3)
    as_of
    2026-08-31    4504318961
    2026-09-30    5156424585
    2026-10-31    5258072148
    Name: total, dtype: int64
    >>> by_region = aging_series(ledger, month_ends, by="region")
    >>> by_region.index.names
    FrozenList(['as_of', 'region'])
    >>> by_region.loc["2026-06-30"].equals(aging(ledger, "2026-06-30", by="region"))
    True
    """
    return _aging_frame(ledger, list(dates), by, buckets, basis, values)
