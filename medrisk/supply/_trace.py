"""Batch traceability (批次追溯) and recalls (召回).

From a batch to every shipment, order, customer and invoice it reached, with
the money still open with those customers; from a customer to every batch it
received; and a recall report for a list of batches.

Point in time: as of ``as_of`` only shipments dated on or before it count,
only invoices issued on or before it, and open amounts are those of the
receivables engine (:mod:`medrisk.receivables`) on that day.

Links: a shipment names its order (``shipments.order_id``), the order its
customer (``orders.customer_id``), and invoices name their order
(``invoices.order_id``). When an order has several invoices, a shipment row
shows the first (by invoice date) and ``order_invoices`` counts them; the
order's open amount covers them all.

Speed: the first call on a ledger builds an index (shipments sorted by batch
and by customer, invoices sorted by customer and by order) and caches it with
the receivables cache (:func:`medrisk.receivables.clear_cache` forgets it).
Every later lookup touches only the rows of the batches and customers asked
for, so a recall on a million-invoice ledger takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.receivables import event_book

__all__ = [
    "prepare_trace",
    "trace_batches",
    "customer_batches",
    "recall_report",
    "RecallReport",
    "SHIPMENT_COLUMNS",
    "RECALL_CUSTOMER_COLUMNS",
    "RECALL_BATCH_COLUMNS",
]

# fmt: off
SHIPMENT_COLUMNS = [
    "batch_id", "sku", "expiry_date", "qc_status", "shipment_id", "ship_date", "quantity",
    "order_id", "customer_id", "customer_name", "invoice_id", "order_invoices",
    "order_open_amount", "customer_open_amount",
]
RECALL_CUSTOMER_COLUMNS = [
    "customer_id", "name", "customer_type", "region", "province", "salesperson_id",
    "batches", "skus", "shipments", "quantity", "first_ship_date", "last_ship_date",
    "open_amount", "overdue_amount", "open_on_recalled_orders",
]
RECALL_BATCH_COLUMNS = [
    "batch_id", "sku", "production_date", "expiry_date", "qc_status", "batch_quantity",
    "shipped_quantity", "unshipped_quantity", "customers", "shipments",
]
# fmt: on


@dataclass(frozen=True, eq=False)
class _Trace:
    batch_ids: pd.Index  # every batch id known (batches table, then ids only in shipments)
    n_batch_table: int  # batch codes below this are rows of the batches table
    cust_ids: pd.Index
    sh_batch: np.ndarray  # per shipment: batch code
    sh_cust: np.ndarray  # per shipment: customer position (-1 unknown)
    sh_order: np.ndarray  # per shipment: order position (-1 unknown)
    sh_day: np.ndarray
    sh_qty: np.ndarray
    by_batch: np.ndarray  # shipment rows sorted by (batch, day)
    batch_start: np.ndarray  # rows of batch b: by_batch[batch_start[b]:batch_start[b + 1]]
    by_cust: np.ndarray  # shipment rows sorted by (customer, day)
    cust_start: np.ndarray
    inv_by_cust: np.ndarray  # invoice rows sorted by customer
    inv_cust_start: np.ndarray
    inv_by_order: np.ndarray  # invoice rows sorted by (order, invoice day)
    inv_order_start: np.ndarray
    inv_order: np.ndarray  # per invoice: order position (-1 unknown)


def _sorted_index(codes: np.ndarray, n: int, *minor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by ``codes`` (then ``minor``), and where each code's run starts."""
    order = np.lexsort((*minor[::-1], codes)) if minor else np.argsort(codes, kind="stable")
    start = np.searchsorted(codes[order], np.arange(n + 1), side="left")
    return order, start


def prepare_trace(ledger: Ledger) -> Ledger:
    """Build the traceability index of ``ledger`` now (it is also built on first use).

    Parameters
    ----------
    ledger : Ledger
        Needs ``shipments`` and ``orders``.

    Returns
    -------
    Ledger
        The same ledger.
    """
    _trace(ledger)
    return ledger


def _trace(ledger: Ledger) -> _Trace:
    return ledger.derive(_build_trace)


def _build_trace(ledger: Ledger) -> _Trace:
    sh = ledger.require(
        "shipments",
        "batch traceability",
        ["shipment_id", "order_id", "ship_date", "batch_id", "quantity"],
    )
    orders = ledger.require("orders", "batch traceability", ["order_id", "customer_id"])
    cust = ledger.customers
    table_ids = ledger.batches["batch_id"] if ledger.has("batches") else pd.Series([], dtype=str)
    extra = pd.Index(sh["batch_id"].unique()).difference(pd.Index(table_ids))
    batch_ids = pd.Index(
        np.concatenate([table_ids.to_numpy(dtype=object), extra.to_numpy(dtype=object)])
    )
    sh_batch = batch_ids.get_indexer(sh["batch_id"])
    sh_order = kernel.positions(sh["order_id"], orders["order_id"])
    ord_cust = kernel.positions(orders["customer_id"], cust["customer_id"])
    sh_cust = (
        np.where(sh_order >= 0, ord_cust[np.maximum(sh_order, 0)], -1)
        if len(ord_cust)
        else sh_order
    )
    sh_day = kernel.days(sh["ship_date"])
    n_b, n_c = len(batch_ids), len(cust)
    by_batch, batch_start = _sorted_index(sh_batch, n_b, sh_day)
    by_cust, cust_start = _sorted_index(np.where(sh_cust >= 0, sh_cust, n_c), n_c + 1, sh_day)

    book = event_book(ledger)
    inv = ledger.invoices
    inv_cust, inv_cust_start = _sorted_index(
        np.where(book.cust_pos >= 0, book.cust_pos, n_c), n_c + 1
    )
    inv_order = (
        kernel.positions(inv["order_id"], orders["order_id"])
        if "order_id" in inv
        else np.full(book.n, -1)
    )
    n_o = len(orders)
    inv_ord, inv_ord_start = _sorted_index(
        np.where(inv_order >= 0, inv_order, n_o), n_o + 1, book.inv_day
    )
    t = _Trace(
        batch_ids,
        len(table_ids),
        pd.Index(cust["customer_id"]),
        sh_batch,
        sh_cust,
        sh_order,
        sh_day,
        sh["quantity"].to_numpy(dtype=np.int64),
        by_batch,
        batch_start,
        by_cust,
        cust_start,
        inv_cust,
        inv_cust_start,
        inv_ord,
        inv_ord_start,
        inv_order,
    )
    return t


def _ids(values, name: str) -> list[str]:
    if isinstance(values, str):
        return [values]
    if isinstance(values, Iterable):
        out = [str(v) for v in values]
        if out:
            return out
    raise ParamsError(f"{name} must be an id or a non-empty list of ids; got {values!r}.")


def _codes(index: pd.Index, ids: list[str], name: str, table: str) -> np.ndarray:
    codes = index.get_indexer(pd.Index(ids))
    if (codes < 0).any():
        bad = [i for i, c in zip(ids, codes, strict=True) if c < 0]
        raise ParamsError(
            f"{name} {bad[:10]} not found in {table}; check the ids (got {len(bad)} unknown)."
        )
    return np.unique(codes)


def _runs(order: np.ndarray, start: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Rows of ``order`` for every code in ``codes`` (concatenated runs)."""
    lo, hi = start[codes], start[codes + 1]
    lens = hi - lo
    if lens.sum() == 0:
        return np.zeros(0, np.int64)
    offs = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
    return order[offs]


def _open(ledger: Ledger, rows: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Open and overdue amount of invoice ``rows`` as of ``day`` (0 when issued later)."""
    book = event_book(ledger)
    live = book.inv_day[rows] <= day
    open_amt = book.amount[rows] - book.reduced(rows, book.query(rows, day))
    open_amt = np.where(live, open_amt, 0)
    return open_amt, np.where(book.due_day[rows] < day, open_amt, 0)


def _customer_open(
    ledger: Ledger, t: _Trace, cpos: np.ndarray, day: int
) -> tuple[np.ndarray, np.ndarray]:
    """Open and overdue receivables per customer position in ``cpos`` (sorted, unique)."""
    rows = np.sort(_runs(t.inv_by_cust, t.inv_cust_start, cpos))  # sorted lookups are faster
    open_amt, overdue = _open(ledger, rows, day)
    slot = np.searchsorted(cpos, event_book(ledger).cust_pos[rows])
    n = len(cpos)
    return (
        np.bincount(slot, open_amt, n).astype(np.int64),
        np.bincount(slot, overdue, n).astype(np.int64),
    )


def _order_open(
    ledger: Ledger, t: _Trace, opos: np.ndarray, day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per order in ``opos``: open amount, first invoice row by ``day`` (-1), invoice count."""
    uniq, inv_back = np.unique(opos[opos >= 0], return_inverse=True)
    rows = _runs(t.inv_by_order, t.inv_order_start, uniq)
    book = event_book(ledger)
    rows = rows[book.inv_day[rows] <= day]
    slot = np.searchsorted(uniq, t.inv_order[rows])
    open_amt, _ = _open(ledger, rows, day)
    n = len(uniq)
    total = np.bincount(slot, open_amt, n).astype(np.int64)
    count = np.bincount(slot, minlength=n).astype(np.int64)
    # slots ascend and, within an order, rows ascend by invoice day: the first row is the first
    head = np.searchsorted(slot, np.arange(n), side="left")
    at = rows[np.minimum(head, len(rows) - 1)] if len(rows) else np.full(n, -1, np.int64)
    first = np.where(count > 0, at, -1)
    out_open, out_first, out_count = (
        np.zeros(len(opos), np.int64),
        np.full(len(opos), -1),
        np.zeros(len(opos), np.int64),
    )
    ok = opos >= 0
    out_open[ok], out_first[ok], out_count[ok] = total[inv_back], first[inv_back], count[inv_back]
    return out_open, out_first, out_count


def _pick(values: pd.Series, pos: np.ndarray) -> np.ndarray:
    """``values`` at positions ``pos`` (None where -1), touching only those rows."""
    pos = np.asarray(pos, dtype=np.int64)
    if len(values) == 0:
        return np.full(len(pos), None, object)
    out = values.take(np.maximum(pos, 0)).to_numpy(dtype=object, na_value=None)
    out[pos < 0] = None
    return out


def _shipment_frame(ledger: Ledger, t: _Trace, rows: np.ndarray, day: int) -> pd.DataFrame:
    sh, orders, cust = ledger.shipments, ledger.orders, ledger.customers
    b = t.sh_batch[rows]
    in_table = b < t.n_batch_table
    batches = ledger.batches if ledger.has("batches") else None

    def batch_col(col, empty):
        if batches is None:
            return pd.Series(empty, index=range(len(rows)))
        vals = batches[col].take(np.where(in_table, b, 0)).reset_index(drop=True)
        return vals.where(pd.Series(in_table), empty)

    opos, cpos = t.sh_order[rows], t.sh_cust[rows]
    o_open, o_first, o_count = _order_open(ledger, t, opos, day)
    ucust, back = np.unique(cpos, return_inverse=True)
    valid = ucust >= 0
    c_open = np.zeros(len(ucust), np.int64)
    c_open[valid], _ = _customer_open(ledger, t, ucust[valid], day)
    take = lambda frame, col, pos: _pick(frame[col], pos)  # noqa: E731
    out = pd.DataFrame(
        {
            "batch_id": t.batch_ids.to_numpy(dtype=object)[b],
            "sku": _pick(sh["sku"], rows),
            "expiry_date": batch_col("expiry_date", pd.NaT),
            "qc_status": batch_col("qc_status", None),
            "shipment_id": _pick(sh["shipment_id"], rows),
            "ship_date": kernel.to_ts(t.sh_day[rows]),
            "quantity": t.sh_qty[rows],
            "order_id": take(orders, "order_id", opos),
            "customer_id": take(cust, "customer_id", cpos),
            "customer_name": take(cust, "name", cpos),
            "invoice_id": _pick(ledger.invoices["invoice_id"], o_first),
            "order_invoices": o_count,
            "order_open_amount": o_open,
            "customer_open_amount": c_open[back],
        }
    )
    return out[SHIPMENT_COLUMNS]


def trace_batches(ledger: Ledger, batch_ids, as_of) -> pd.DataFrame:
    """Every shipment of the given batches up to ``as_of``, with order, customer and invoice.

    Parameters
    ----------
    ledger : Ledger
        Needs ``shipments`` and ``orders``; uses ``batches`` when present.
    batch_ids : str or list of str
        Batch numbers (批号).
    as_of : date-like
        Only shipments dated on or before it; open amounts as of it.

    Returns
    -------
    DataFrame
        One row per shipment, columns :data:`SHIPMENT_COLUMNS`, by batch then
        ship date: the batch's sku, expiry_date and qc_status; the shipment;
        the order and customer; invoice_id (first invoice of the order issued
        by ``as_of``, None when not invoiced), order_invoices (their count),
        order_open_amount (open on those invoices) and customer_open_amount
        (all open receivables of the customer), in fen.

    Raises
    ------
    ParamsError
        When a batch id is in neither the batches nor the shipments table.
    MissingTableError
        When the ledger has no ``shipments`` or ``orders``.
    """
    day = kernel.day_of(as_of)
    t = _trace(ledger)
    codes = _codes(t.batch_ids, _ids(batch_ids, "batch_ids"), "batch_ids", "batches or shipments")
    rows = _runs(t.by_batch, t.batch_start, codes)
    rows = rows[t.sh_day[rows] <= day]
    return _shipment_frame(ledger, t, rows, day)


def customer_batches(ledger: Ledger, customer_ids, as_of) -> pd.DataFrame:
    """Every batch the given customers received up to ``as_of``, shipment by shipment.

    Parameters
    ----------
    ledger : Ledger
    customer_ids : str or list of str
    as_of : date-like

    Returns
    -------
    DataFrame
        Columns :data:`SHIPMENT_COLUMNS`, by customer then ship date.

    Raises
    ------
    ParamsError
        When a customer id is not in the customers table.
    """
    day = kernel.day_of(as_of)
    t = _trace(ledger)
    codes = _codes(t.cust_ids, _ids(customer_ids, "customer_ids"), "customer_ids", "customers")
    rows = _runs(t.by_cust, t.cust_start, codes)
    rows = rows[t.sh_day[rows] <= day]
    return _shipment_frame(ledger, t, rows, day)


@dataclass
class RecallReport:
    """A recall report (召回报告) for a list of batches.

    Attributes
    ----------
    as_of : Timestamp
        The day the report describes.
    customers : DataFrame
        Customers to contact, columns :data:`RECALL_CUSTOMER_COLUMNS`, most
        units first: how many of the recalled batches, SKUs, shipments and
        units each received, when, and its open receivables at risk
        (``open_amount`` all open invoices, ``overdue_amount`` past due,
        ``open_on_recalled_orders`` open on the invoices of the orders that
        carried the batches), in fen.
    shipments : DataFrame
        Every shipment of the batches (see :func:`trace_batches`).
    batches : DataFrame
        Per batch, columns :data:`RECALL_BATCH_COLUMNS`: made, shipped by
        ``as_of`` and still unshipped (in the warehouse), customers reached.
    """

    as_of: pd.Timestamp
    customers: pd.DataFrame
    shipments: pd.DataFrame
    batches: pd.DataFrame

    @property
    def open_at_risk(self) -> int:
        """Open receivables (fen) of every customer to contact."""
        return int(self.customers["open_amount"].sum())


def recall_report(ledger: Ledger, batch_ids, as_of) -> RecallReport:
    """Report customers to contact, quantities and receivables at risk for a batch recall.

    Parameters
    ----------
    ledger : Ledger
    batch_ids : str or list of str
        The batches recalled.
    as_of : date-like

    Returns
    -------
    RecallReport

    Raises
    ------
    ParamsError
        When a batch id is in neither the batches nor the shipments table.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.supply import recall_report
    >>> r = recall_report(make_ledger(2_000, seed=1), ["B000123", "B000124"], "2026-10-31")
    >>> r.batches[["batch_id", "sku", "customers", "shipments"]]
      batch_id      sku  customers  shipments
    0  B000123  SKU0019          5          6
    1  B000124  SKU0036          6          8
    >>> r.customers[["customer_id", "quantity", "open_amount"]].head(3)
      customer_id  quantity  open_amount
    0     C000029       966    604508490
    1     C000012       370    220682070
    2     C000023       168    778788551
    """
    ts = pd.Timestamp(kernel.to_ts([kernel.day_of(as_of)])[0])
    day = kernel.day_of(as_of)
    t = _trace(ledger)
    codes = _codes(t.batch_ids, _ids(batch_ids, "batch_ids"), "batch_ids", "batches or shipments")
    ship = trace_batches(ledger, t.batch_ids.to_numpy(dtype=object)[codes].tolist(), as_of)

    g = ship.groupby("customer_id", sort=True, dropna=False)
    per = pd.DataFrame(
        {
            "batches": g["batch_id"].nunique(),
            "skus": g["sku"].nunique(),
            "shipments": g.size(),
            "quantity": g["quantity"].sum(),
            "first_ship_date": g["ship_date"].min(),
            "last_ship_date": g["ship_date"].max(),
        }
    )
    orders_once = ship.drop_duplicates("order_id")
    per["open_on_recalled_orders"] = orders_once.groupby("customer_id", dropna=False)[
        "order_open_amount"
    ].sum()
    cpos = np.unique(t.cust_ids.get_indexer(per.index.dropna()))
    cpos = cpos[cpos >= 0]
    open_amt, overdue = _customer_open(ledger, t, cpos, day)
    cust = ledger.customers.iloc[cpos]
    info = pd.DataFrame(
        {
            "customer_id": cust["customer_id"].to_numpy(dtype=object),
            **{
                c: cust[c].to_numpy(dtype=object) if c in cust else None
                for c in ("name", "customer_type", "region", "province", "salesperson_id")
            },
            "open_amount": open_amt,
            "overdue_amount": overdue,
        }
    )
    customers = info.merge(per.reset_index(), on="customer_id", how="right")
    for c in ("open_amount", "overdue_amount", "open_on_recalled_orders"):
        customers[c] = customers[c].fillna(0).astype(np.int64)
    customers = (
        customers[RECALL_CUSTOMER_COLUMNS]
        .sort_values(["quantity", "customer_id"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )

    # per batch
    ids = t.batch_ids.to_numpy(dtype=object)[codes]
    gb = ship.groupby("batch_id")
    shipped = gb["quantity"].sum().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    n_cust = gb["customer_id"].nunique().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    n_ship = gb.size().reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    in_table = codes < t.n_batch_table
    if ledger.has("batches"):
        bt = ledger.batches.iloc[np.where(in_table, codes, 0)].reset_index(drop=True)
        mask = pd.Series(in_table)
        meta = {
            c: bt[c].where(mask) for c in ("sku", "production_date", "expiry_date", "qc_status")
        }
        made = np.where(in_table, bt["quantity"].to_numpy(dtype=np.int64), 0)
    else:
        meta = {
            c: pd.Series([None] * len(codes))
            for c in ("sku", "production_date", "expiry_date", "qc_status")
        }
        made = np.zeros(len(codes), np.int64)
    batches = pd.DataFrame(
        {
            "batch_id": ids,
            **meta,
            "batch_quantity": made,
            "shipped_quantity": shipped,
            "unshipped_quantity": made - shipped,
            "customers": n_cust,
            "shipments": n_ship,
        }
    )[RECALL_BATCH_COLUMNS]
    return RecallReport(ts, customers, ship, batches)
