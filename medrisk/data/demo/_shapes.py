"""Ledgers shaped like real companies' first exports, generated from the demo company.

The demo company has every table and every column. A real company's first
export is its AR ledger and its receipts, with few columns, few customers and
gaps. Each shape here starts from :func:`~medrisk.data.demo.make_demo` and
takes away, or distorts, what real books lack, so that every report can be
tried on data unlike the demo:

================== ========================================================================
shape              what it is
================== ========================================================================
full               the demo company, every table
three_tables       customers, invoices and payments, with their required columns only
one_per_payment    three tables; every settled invoice paid by one payment naming it
no_references      every table but allocations; payments name no invoice (FIFO applies)
no_regions         every table, but no customer or salesperson has a region
one_type           every table, all customers of one type (tertiary hospitals)
seven_sparse       seven years of customers, invoices, payments and allocations, with
                   half the months empty
outlier            every table, one invoice 100 times the median amount
stale              every table, the data ends two years before the as-of date
tiny               every table, 200 invoices
one_year           every table, twelve months of history
================== ========================================================================

:data:`SHAPES` lists them; :func:`make_shape` returns the tables and the
as-of date a report run should use; :func:`write_shape` writes them as CSV
(money in 元), as a customer's export would arrive.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from medrisk.data._files import write_tables
from medrisk.data._schemas import REQUIRED_TABLES, required_columns
from medrisk.data.demo._company import make_demo
from medrisk.exceptions import ParamsError

__all__ = ["SHAPES", "make_shape", "write_shape"]

#: Shape name -> one line on what it is.
SHAPES: dict[str, str] = {
    "full": "the demo company, every table",
    "three_tables": "customers, invoices and payments, required columns only",
    "one_per_payment": "three tables; each settled invoice paid by one payment naming it",
    "no_references": "no allocations; payments name no invoice",
    "no_regions": "no customer or salesperson has a region",
    "one_type": "all customers of one type",
    "seven_sparse": "seven years, half the months without invoices",
    "outlier": "one invoice 100 times the median amount",
    "stale": "the data ends two years before the as-of date",
    "tiny": "200 invoices",
    "one_year": "twelve months of history",
}

_AS_OF = "2026-10-31"


def _three_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {name: tables[name][required_columns(name)] for name in REQUIRED_TABLES}


def _one_per_payment(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    alloc = tables["allocations"].merge(
        tables["payments"][["payment_id", "payment_date"]], on="payment_id")
    paid = alloc.groupby("invoice_id", sort=True).agg(
        amount=("amount", "sum"), payment_date=("payment_date", "max")).reset_index()
    paid = paid.merge(tables["invoices"][["invoice_id", "customer_id"]], on="invoice_id")
    payments = pd.DataFrame({
        "payment_id": "R" + paid["invoice_id"], "customer_id": paid["customer_id"],
        "payment_date": paid["payment_date"], "amount": paid["amount"].astype(np.int64),
        "reference": paid["invoice_id"],
    })
    customers = tables["customers"][["customer_id", "name", "customer_type"]]
    invoices = tables["invoices"][required_columns("invoices")]
    return {"customers": customers, "invoices": invoices, "payments": payments}


def _sparse_months(tables: dict[str, pd.DataFrame], rng) -> dict[str, pd.DataFrame]:
    inv = tables["invoices"]
    months = inv["invoice_date"].dt.to_period("M")
    distinct = np.sort(months.unique())
    gone = set(rng.choice(distinct, size=len(distinct) // 2, replace=False))
    keep = ~months.isin(gone)
    invoices = inv[keep.to_numpy()]
    alloc = tables["allocations"]
    alloc = alloc[alloc["invoice_id"].isin(invoices["invoice_id"])]
    pay = tables["payments"]
    payments = pay[pay["payment_id"].isin(alloc["payment_id"])]
    # a payment keeps only what it paid on kept invoices
    paid = alloc.groupby("payment_id")["amount"].sum()
    payments = payments.assign(amount=payments["payment_id"].map(paid).astype(np.int64))
    customers = tables["customers"]
    return {"customers": customers, "invoices": invoices, "payments": payments,
            "allocations": alloc}


def make_shape(shape: str, seed: int = 0, n_invoices: int = 2_000
               ) -> tuple[dict[str, pd.DataFrame], str]:
    """Generate the tables of one shape and the as-of date to report them at.

    Parameters
    ----------
    shape : str
        A key of :data:`SHAPES`.
    seed : int, default=0
        Random seed (the same seed gives the same tables).
    n_invoices : int, default=2_000
        Invoices of the underlying demo company (``tiny`` always has 200,
        ``seven_sparse`` keeps about half).

    Returns
    -------
    tables : dict of str to DataFrame
        Canonical tables, money in integer fen.
    as_of : str
        The valuation date the shape is meant to be reported at (YYYY-MM-DD).

    Raises
    ------
    ParamsError
        When ``shape`` is not a known shape.

    Examples
    --------
    >>> tables, as_of = make_shape("three_tables", n_invoices=300)
    >>> sorted(tables), list(tables["customers"].columns), as_of
    (['customers', 'invoices', 'payments'], ['customer_id'], '2026-10-31')
    """
    if shape not in SHAPES:
        raise ParamsError(f"shape={shape!r} is not known; possible values are "
                          f"{', '.join(repr(s) for s in SHAPES)}.")
    rng = np.random.default_rng([seed, list(SHAPES).index(shape)])
    end, months, n = _AS_OF, 36, n_invoices
    if shape == "tiny":
        n = 200
    elif shape == "stale":
        end = "2024-10-31"
    elif shape == "seven_sparse":
        months = 84
    elif shape == "one_year":
        months = 12
    tables = dict(make_demo(n_invoices=n, seed=seed, end=end, months=months).ledger.tables)
    if shape == "three_tables":
        tables = _three_tables(tables)
    elif shape == "one_per_payment":
        tables = _one_per_payment(tables)
    elif shape == "no_references":
        tables.pop("allocations")
        tables["payments"] = tables["payments"].assign(reference=None)
    elif shape == "no_regions":
        for name in ("customers", "salespeople", "targets"):
            tables[name] = tables[name].assign(region=None)
    elif shape == "one_type":
        tables["customers"] = tables["customers"].assign(customer_type="tertiary_hospital")
    elif shape == "seven_sparse":
        tables = _sparse_months(tables, rng)
    elif shape == "outlier":
        inv = tables["invoices"].copy()
        row = int(rng.integers(len(inv) // 2, len(inv)))
        inv.iloc[row, inv.columns.get_loc("amount")] = int(inv["amount"].median()) * 100
        tables["invoices"] = inv
    return tables, _AS_OF


def write_shape(shape: str, out_dir: str | os.PathLike, seed: int = 0,
                n_invoices: int = 2_000, fmt: str = "csv") -> tuple[Path, str]:
    """Write one shape's tables as files :func:`medrisk.load_ledger` reads (money in 元).

    Parameters
    ----------
    shape : str
        A key of :data:`SHAPES`.
    out_dir : str or path
        Folder to write into (created if missing).
    seed : int, default=0
    n_invoices : int, default=2_000
        As for :func:`make_shape`.
    fmt : {"csv", "parquet", "xlsx"}, default="csv"

    Returns
    -------
    folder : Path
        ``out_dir``.
    as_of : str
        The valuation date to report the shape at.
    """
    tables, as_of = make_shape(shape, seed=seed, n_invoices=n_invoices)
    write_tables(tables, out_dir, fmt)
    return Path(out_dir), as_of
