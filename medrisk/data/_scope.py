"""Scope a ledger to part of the company: a region, a team, a salesperson, a channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from medrisk.exceptions import ParamsError

if TYPE_CHECKING:  # the Ledger's own methods call into this module
    from medrisk.data._ledger import Ledger

__all__ = ["restrict", "scope"]


def restrict(ledger: Ledger, customer_ids) -> Ledger:
    """Return the part of ``ledger`` that belongs to the given customers.

    Invoices, payments, orders and collection actions of those customers are
    kept, with the allocations, adjustments, order lines and shipments that
    hang from them. Reference tables (salespeople, products, batches) are kept
    whole; targets are kept as they are (filter them by their own columns).

    Parameters
    ----------
    ledger : Ledger
    customer_ids : array-like of str

    Returns
    -------
    Ledger
        A new ledger; the original is unchanged.
    """
    keep = pd.Index(pd.unique(np.asarray(customer_ids, dtype=object)))
    tables = dict(ledger.tables)

    def by(name: str, column: str, values) -> None:
        if name in tables:
            df = tables[name]
            tables[name] = df[df[column].isin(values)].reset_index(drop=True)

    by("customers", "customer_id", keep)
    by("invoices", "customer_id", keep)
    by("payments", "customer_id", keep)
    by("orders", "customer_id", keep)
    by("collection_actions", "customer_id", keep)
    by("allocations", "payment_id", tables["payments"]["payment_id"])
    by("adjustments", "invoice_id", tables["invoices"]["invoice_id"])
    if "orders" in tables:
        by("order_lines", "order_id", tables["orders"]["order_id"])
        by("shipments", "order_id", tables["orders"]["order_id"])
    return ledger.with_tables(**tables)


def scope(
    ledger: Ledger,
    region: str = "",
    team: str = "",
    salesperson_id: str = "",
    channel: str = "",
    customer_type: str = "",
) -> Ledger:
    """Restrict a ledger to the customers in a scope; empty filters mean "all".

    A customer is in a team's or salesperson's scope when its own
    ``salesperson_id`` is that salesperson or belongs to that team.

    Parameters
    ----------
    ledger : Ledger
    region, team, salesperson_id, channel, customer_type : str, default=""
        Filters; ``""`` does not filter.

    Returns
    -------
    Ledger

    Raises
    ------
    ParamsError
        When a filter names a value that does not occur, listing the values that do.
    """
    if not any((region, team, salesperson_id, channel, customer_type)):
        return ledger
    cust = ledger.customers
    mask = pd.Series(True, index=cust.index)

    def pick(column: str, value: str, values: pd.Series) -> pd.Series:
        known = sorted(values.dropna().astype(str).unique())
        if value not in known:
            raise ParamsError(f"{column}={value!r} does not occur in the data; "
                              f"possible values are {known}.")
        return values == value

    if region:
        mask &= pick("region", region, cust["region"]).to_numpy()
    if channel:
        mask &= pick("channel", channel, cust["channel"]).to_numpy()
    if customer_type:
        mask &= pick("customer_type", customer_type, cust["customer_type"]).to_numpy()
    if salesperson_id:
        mask &= pick("salesperson_id", salesperson_id, cust["salesperson_id"]).to_numpy()
    if team:
        sp = ledger.require("salespeople", "a team scope", ["salesperson_id", "team"])
        pick("team", team, sp["team"])
        members = sp.loc[sp["team"] == team, "salesperson_id"]
        mask &= cust["salesperson_id"].isin(members).to_numpy()
    return restrict(ledger, cust.loc[mask.to_numpy(), "customer_id"])
