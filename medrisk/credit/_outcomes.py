"""Outcomes of invoices for credit models: late, default, and when each became known.

Labels
------
An invoice is **late** when it is not settled (open amount brought to zero by
payments, credit notes and discounts) within ``late_after_days`` days of its
due date, or when it is written off. It is a **default** (the severe label)
when it is written off or not settled within ``default_after_days`` (180)
days of due. The outcome of an invoice becomes *known* on the day it settles
on time, or on ``due + late_after_days + 1`` if it is still open then, or on
the day it is written off, whichever comes first. On a training date ``T`` an
invoice whose outcome is not yet known is *censored*: it is left out, never
counted as good. It is *matured* once ``due + late_after_days + 1 <= T``: then
every invoice of its cohort has a known outcome (see :func:`labels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.kernel import NEVER, day_of, to_ts
from medrisk.receivables import event_book

__all__ = ["labels", "TARGETS", "Fates", "fates", "final_outcome", "check_days", "check_target"]

#: Label choices: ``late`` (not settled within ``late_after_days`` of due) or ``default``.
TARGETS = ("late", "default")


def check_days(name: str, value, minimum: int = 0) -> int:
    """Return ``value`` as int if it is a whole number of days >= ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParamsError(f"{name} must be a whole number of days >= {minimum}; got {value!r}.")
    return int(value)


def check_target(target: str) -> str:
    """Return ``target`` if it is one of :data:`TARGETS`, else raise a ParamsError."""
    if target not in TARGETS:
        raise ParamsError(
            f"target={target!r} is not supported. Possible values are: {list(TARGETS)}."
        )
    return target


@dataclass(frozen=True, eq=False)
class Fates:
    """Per invoice: when it closed, was written off, and when its outcome was known."""

    inv_day: np.ndarray
    due_day: np.ndarray
    amount: np.ndarray
    cust: np.ndarray  # customer position (n_customers when unknown)
    closed_day: np.ndarray  # NEVER when open
    wo_day: np.ndarray  # first write-off day, NEVER when none
    written_off: np.ndarray  # written off before (or when) it closed


def fates(ledger: Ledger) -> Fates:
    """Each invoice's closing and write-off days, from the receivables event table (cached)."""
    return ledger.derive(_build_fates)


def _build_fates(ledger: Ledger) -> Fates:
    book = event_book(ledger)
    n_c = len(ledger.customers)
    wo_day = np.full(book.n, NEVER, np.int64)
    wo = np.flatnonzero(book.ev_kind == 3)
    np.minimum.at(wo_day, book.ev_inv[wo], book.ev_day[wo])
    written_off = (wo_day < NEVER) & (wo_day <= book.closed_day)
    cust = np.where(book.cust_pos >= 0, book.cust_pos, n_c)
    return Fates(book.inv_day, book.due_day, book.amount, cust, book.closed_day, wo_day,
                 written_off)


def final_outcome(f: Fates, after_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the final outcome (bad) and the day it became known, for ``after_days``."""
    bad = f.written_off | (f.closed_day - f.due_day > after_days)
    late_known = np.minimum(f.due_day + after_days + 1, np.where(f.written_off, f.wo_day, NEVER))
    known_day = np.where(bad, late_known, f.closed_day)
    return bad, known_day


def labels(
    ledger: Ledger,
    as_of,
    late_after_days: int = 30,
    default_after_days: int = 180,
    target: str = "late",
) -> pd.DataFrame:
    """Outcome of every invoice as known on ``as_of`` (see the module docstring).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Training or evaluation date: only payments and adjustments dated on
        or before it are known.
    late_after_days : int, default=30
        An invoice is late when not settled within this many days of due
        (0, 30, 60, 90 ...).
    default_after_days : int, default=180
        Days past due after which an unsettled invoice is a default.
    target : {"late", "default"}, default="late"
        Which label fills the ``label`` column.

    Returns
    -------
    DataFrame
        One row per invoice issued on or before ``as_of``, in ledger order:
        invoice_id, customer_id, invoice_date, due_date, known (outcome of
        ``target`` known on ``as_of``), matured (``due + days + 1 <= as_of``:
        the whole cohort is known), label (1 bad, 0 good, NaN when not known),
        late and default (final outcomes where known, else NaN), known_date.

    Raises
    ------
    ParamsError
        For a negative number of days or an unknown ``target``.
    """
    late_after_days = check_days("late_after_days", late_after_days)
    default_after_days = check_days("default_after_days", default_after_days)
    check_target(target)
    day = day_of(as_of)
    f = fates(ledger)
    rows = np.flatnonzero(f.inv_day <= day)
    out = {}
    for name, days in (("late", late_after_days), ("default", default_after_days)):
        bad, known_day = final_outcome(f, days)
        known = known_day[rows] <= day
        out[name] = (np.where(known, bad[rows], np.nan), known, known_day[rows], days)
    lab, known, known_day, days = out[target]
    inv = ledger.invoices
    frame = pd.DataFrame(
        {
            "invoice_id": inv["invoice_id"].take(rows).to_numpy(),
            "customer_id": inv["customer_id"].take(rows).to_numpy(),
            "invoice_date": to_ts(f.inv_day[rows]),
            "due_date": to_ts(f.due_day[rows]),
            "known": known,
            "matured": f.due_day[rows] + days + 1 <= day,
            "label": lab,
            "late": out["late"][0],
            "default": out["default"][0],
            "known_date": pd.Series(to_ts(np.where(known, known_day, 0))).where(known).to_numpy(),
        }
    )
    frame.attrs.update(
        as_of=to_ts([day])[0],
        target=target,
        late_after_days=late_after_days,
        default_after_days=default_after_days,
    )
    return frame
