"""Which dates a ledger covers: the default as-of date and the checks on a chosen one.

A report as of 2026-10-31 on a ledger that ends in 2014 would show zeros with
no warning. The as-of date therefore comes from the data when a run does not
give one, an as-of far past the data's end is flagged on every page, and an
as-of before the first invoice is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from medrisk.data._ledger import Ledger
from medrisk.exceptions import ParamsError
from medrisk.kernel import check_choice, day_of

__all__ = ["Coverage", "coverage", "default_as_of", "check_as_of", "STALE_AFTER_DAYS",
           "MONTH_END_SLACK_DAYS"]

#: An as-of date this many days past the last invoice or payment gets a warning.
STALE_AFTER_DAYS = 31
#: A month counts as covered when the data reaches within this many days of its end
#: (books often close on the last working day, before a month-end weekend).
MONTH_END_SLACK_DAYS = 3


@dataclass(frozen=True)
class Coverage:
    """First and last dates of a ledger's activity.

    Attributes
    ----------
    first_invoice : Timestamp
        Earliest invoice date.
    last_invoice : Timestamp
    last_payment : Timestamp or NaT
        NaT when there are no payments.
    ends : Timestamp
        The later of the last invoice and the last payment: where the data ends.
    """

    first_invoice: pd.Timestamp
    last_invoice: pd.Timestamp
    last_payment: pd.Timestamp
    ends: pd.Timestamp


def coverage(ledger: Ledger) -> Coverage:
    """Return the dates a ledger's invoices and payments cover.

    Parameters
    ----------
    ledger : Ledger

    Returns
    -------
    Coverage

    Raises
    ------
    ParamsError
        When the ledger has no invoices.
    """
    inv = ledger.invoices["invoice_date"]
    if len(inv) == 0 or inv.isna().all():
        raise ParamsError(f"The ledger from {ledger.source or 'its source'} has no invoices; "
                          "a report needs at least one.")
    pay = ledger.payments["payment_date"] if len(ledger.payments) else pd.Series([], "M8[ns]")
    last_pay = pay.max() if len(pay) else pd.NaT
    ends = max(inv.max(), last_pay) if pd.notna(last_pay) else inv.max()
    return Coverage(pd.Timestamp(inv.min()), pd.Timestamp(inv.max()),
                    pd.Timestamp(last_pay) if pd.notna(last_pay) else pd.NaT, pd.Timestamp(ends))


def default_as_of(ledger: Ledger, basis: str = "month_end") -> str:
    """Return the as-of date a report takes from the data: by default the last month end covered.

    A month end counts as covered when the last invoice or payment is no more
    than :data:`MONTH_END_SLACK_DAYS` days before it.

    Parameters
    ----------
    ledger : Ledger
    basis : {"month_end", "last_day"}, default="month_end"
        The last month end covered (monthly packs), or the day of the last
        invoice or payment (weekly work lists).

    Returns
    -------
    str
        YYYY-MM-DD.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> default_as_of(make_ledger(300, end="2026-10-29"))
    '2026-10-31'
    >>> default_as_of(make_ledger(300, end="2026-10-20"))
    '2026-09-30'
    >>> default_as_of(make_ledger(300, end="2026-10-20"), "last_day")
    '2026-10-20'
    """
    check_choice("basis", basis, ("month_end", "last_day"))
    cov = coverage(ledger)
    ends = cov.ends
    if basis == "last_day":
        return ends.strftime("%Y-%m-%d")
    month_end = ends + pd.offsets.MonthEnd(0)
    if (month_end - ends).days > MONTH_END_SLACK_DAYS:
        month_end = ends - pd.offsets.MonthEnd(1)
    if month_end < cov.first_invoice:  # less than a month of data
        month_end = ends
    return month_end.strftime("%Y-%m-%d")


def check_as_of(ledger: Ledger, as_of, stale_after_days: int = STALE_AFTER_DAYS) -> str | None:
    """Check an as-of date against the data; return the data's end when it is far behind.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    stale_after_days : int, default=STALE_AFTER_DAYS
        Days past the last invoice or payment after which the data counts as stale.

    Returns
    -------
    str or None
        The date the data ends (YYYY-MM-DD) when ``as_of`` is more than
        ``stale_after_days`` after it, else None.

    Raises
    ------
    ParamsError
        When ``as_of`` is before the first invoice: there is nothing to report.
    """
    cov = coverage(ledger)
    day = pd.Timestamp(day_of(as_of), unit="D")
    if day < cov.first_invoice:
        raise ParamsError(
            f"as_of={str(as_of)[:10]!r} is before the first invoice "
            f"({cov.first_invoice:%Y-%m-%d}) of {ledger.source or 'the data'}; "
            f"choose a date from {cov.first_invoice:%Y-%m-%d} to {cov.ends:%Y-%m-%d}, "
            "or leave as_of out to use the last month end the data covers.")
    if (day - cov.ends).days > stale_after_days:
        return cov.ends.strftime("%Y-%m-%d")
    return None
