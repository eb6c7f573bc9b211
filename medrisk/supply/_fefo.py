"""FEFO allocation (先到期先出分配): open orders to batches, first expiry first out.

Open orders (status ``entered`` or ``approved``, ordered on or before
``as_of``) have open quantity per line = line quantity minus what was
shipped on that order and SKU up to ``as_of`` (taken from the lines of that
SKU in line order). Lines are served first come first served (order date,
order id, line); batches earliest expiry first (then production date, batch
id), released, with at least ``min_days_left`` days to expiry and stock on
hand. Both are laid end to end per SKU on one cumulative axis and cut at
every line and batch boundary: each piece is one (line, batch) allocation, so
a line splits across batches and the allocations of a SKU add up to
``min(open quantity, stock)``.

Stock on hand, batch states and the conventions (``as_of`` is the end of a
day; only ``qc_status == "released"`` batches are sellable) are those of
:mod:`medrisk.supply`; ``min_days_left`` is read from ``params/expiry.yaml``
(:func:`medrisk.supply.load_expiry_params`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.data import Ledger
from medrisk.supply._expiry import (
    _SELLABLE,
    ExpiryParams,
    _shipped_by,
    _stock,
    _whole,
    load_expiry_params,
)

__all__ = [
    "FefoAllocation",
    "fefo_allocate",
]

_OPEN_ORDER_STATUSES = ("entered", "approved")

# --------------------------------------------------------------------------- FEFO
@dataclass
class FefoAllocation:
    """Result of :func:`fefo_allocate`.

    Attributes
    ----------
    allocations : DataFrame
        One row per (order line, batch): order_id, line_no, customer_id,
        order_date, sku, batch_id, warehouse, expiry_date, days_to_expiry,
        cold_chain, quantity.
    lines : DataFrame
        One row per open order line: order_id, line_no, customer_id,
        order_date, status, sku, quantity (ordered), shipped, open_quantity,
        allocated, short (open quantity no batch could serve).
    """

    allocations: pd.DataFrame
    lines: pd.DataFrame


def _open_lines(ledger: Ledger, day: int) -> pd.DataFrame:
    orders = ledger.require("orders", "FEFO allocation", ["order_id", "customer_id", "order_date",
                                                          "status"])
    lines = ledger.require("order_lines", "FEFO allocation", ["order_id", "line_no", "sku",
                                                              "quantity"])
    o = orders[orders["status"].isin(_OPEN_ORDER_STATUSES).to_numpy()
               & (kernel.days(orders["order_date"]) <= day)]
    ln = lines[lines["order_id"].isin(o["order_id"]).to_numpy()]
    ln = ln.merge(o[["order_id", "customer_id", "order_date", "status"]], on="order_id",
                  how="inner")
    shipped = _shipped_by(ledger, day, ["order_id", "sku"], orders=o["order_id"])
    ln = ln.merge(shipped, left_on=["order_id", "sku"], right_index=True, how="left")
    ln["shipped"] = ln["shipped"].fillna(0).astype(np.int64)
    ln = ln.sort_values(["order_date", "order_id", "line_no"], kind="stable").reset_index(drop=True)
    # shipped units of an (order, sku) fill its lines in line order
    before = ln.groupby(["order_id", "sku"], sort=False)["quantity"].cumsum() - ln["quantity"]
    ln["open_quantity"] = np.clip(ln["quantity"] - np.maximum(ln["shipped"] - before, 0), 0,
                                  ln["quantity"]).astype(np.int64)
    ln["shipped"] = (ln["quantity"] - ln["open_quantity"]).astype(np.int64)
    return ln


def fefo_allocate(
    ledger: Ledger,
    as_of,
    params: str | Path | dict | ExpiryParams | None = None,
    min_days_left: int | None = None,
) -> FefoAllocation:
    """Allocate open orders to batches, first expiry first out (see the module docstring).

    Parameters
    ----------
    ledger : Ledger
        Needs ``orders``, ``order_lines``, ``batches`` and ``products``.
    as_of : date-like
        End of the allocation day: batches need stock on it and at least
        ``min_days_left`` days to expiry; orders dated after it are ignored.
    params : path, dict or ExpiryParams, default=None
        See :func:`medrisk.supply.load_expiry_params`.
    min_days_left : int, default=None
        Overrides ``params.min_days_left`` (at least 1: an expired batch, or one
        expiring on ``as_of``, is never allocated).

    Returns
    -------
    FefoAllocation

    Raises
    ------
    MissingTableError
        When a needed table is absent.
    ParamsError
        For a bad parameter.
    """
    day = kernel.day_of(as_of)
    p = load_expiry_params(params)
    if min_days_left is not None:
        p.min_days_left = _whole("min_days_left", min_days_left, 1)
    ln = _open_lines(ledger, day)
    st = _stock(ledger, day, p)
    ok = ((st["qc_status"].astype(object) == _SELLABLE).to_numpy()
          & (st["days_to_expiry"].to_numpy() >= p.min_days_left)
          & (st["stock_on_hand"].to_numpy() > 0))
    b = st[ok].copy()
    b = b.iloc[np.lexsort((b["batch_id"].to_numpy(dtype=object).astype(str),
                           kernel.days(b["production_date"]), kernel.days(b["expiry_date"]),
                           b["sku"].to_numpy(dtype=object).astype(str)))].reset_index(drop=True)
    d = ln[ln["open_quantity"] > 0]
    d = d.iloc[np.argsort(d["sku"].to_numpy(dtype=object).astype(str), kind="stable")]
    # one axis: SKU k occupies [off_k, off_k + max(demand_k, supply_k))
    skus = pd.Index(np.unique(np.concatenate([d["sku"].to_numpy(dtype=object).astype(str),
                                              b["sku"].to_numpy(dtype=object).astype(str)])))
    # codes follow the sorted SKUs, as do the rows of d and b: every end array is ascending
    dk = skus.get_indexer(d["sku"].to_numpy(dtype=object).astype(str))
    bk = skus.get_indexer(b["sku"].to_numpy(dtype=object).astype(str))
    dq, bq = d["open_quantity"].to_numpy(np.int64), b["stock_on_hand"].to_numpy(np.int64)
    d_tot = np.bincount(dk, dq, len(skus)).astype(np.int64)
    b_tot = np.bincount(bk, bq, len(skus)).astype(np.int64)
    off = np.concatenate([[0], np.cumsum(np.maximum(d_tot, b_tot))[:-1]]).astype(np.int64)
    d_end = off[dk] + pd.Series(dq).groupby(dk).cumsum().to_numpy(np.int64)
    b_end = off[bk] + pd.Series(bq).groupby(bk).cumsum().to_numpy(np.int64)
    cuts = np.unique(np.concatenate([d_end - dq, d_end, b_end - bq, b_end]))
    x, size = cuts[:-1], np.diff(cuts)
    li = np.searchsorted(d_end, x, side="right")
    bi = np.searchsorted(b_end, x, side="right")
    li_c, bi_c = np.minimum(li, len(d_end) - 1), np.minimum(bi, len(b_end) - 1)
    both = ((li < len(d_end)) & (bi < len(b_end)) & (size > 0))
    if len(d_end) and len(b_end):
        both &= (d_end[li_c] - dq[li_c] <= x) & (b_end[bi_c] - bq[bi_c] <= x)
    else:
        both &= False
    li, bi, qty = li[both], bi[both], size[both]
    dd, bb = d.reset_index(drop=True), b
    alloc = pd.DataFrame({
        "order_id": dd["order_id"].to_numpy(dtype=object)[li],
        "line_no": dd["line_no"].to_numpy()[li],
        "customer_id": dd["customer_id"].to_numpy(dtype=object)[li],
        "order_date": dd["order_date"].to_numpy()[li],
        "sku": dd["sku"].to_numpy(dtype=object)[li],
        "batch_id": bb["batch_id"].to_numpy(dtype=object)[bi],
        "warehouse": bb["warehouse"].to_numpy(dtype=object)[bi],
        "expiry_date": bb["expiry_date"].to_numpy()[bi],
        "days_to_expiry": bb["days_to_expiry"].to_numpy()[bi],
        "cold_chain": bb["cold_chain"].to_numpy(dtype=bool)[bi],
        "quantity": qty.astype(np.int64),
    })
    got = alloc.groupby(["order_id", "line_no"], sort=False)["quantity"].sum().rename("allocated")
    lines = ln.merge(got, left_on=["order_id", "line_no"], right_index=True, how="left")
    lines["allocated"] = lines["allocated"].fillna(0).astype(np.int64)
    lines["short"] = (lines["open_quantity"] - lines["allocated"]).astype(np.int64)
    lines = lines[["order_id", "line_no", "customer_id", "order_date", "status", "sku", "quantity",
                   "shipped", "open_quantity", "allocated", "short"]]
    alloc = alloc.sort_values(["order_date", "order_id", "line_no", "expiry_date", "batch_id"],
                              kind="stable").reset_index(drop=True)
    alloc.attrs.update(as_of=pd.Timestamp(kernel.to_ts([day])[0]), min_days_left=p.min_days_left)
    return FefoAllocation(allocations=alloc, lines=lines)
