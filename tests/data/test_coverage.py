"""The dates a ledger covers: the as-of date from the data, stale data, an as-of before it all."""

from __future__ import annotations

import pandas as pd
import pytest

from medrisk.data import Ledger, check_as_of, coverage, default_as_of
from medrisk.data.demo import make_ledger
from medrisk.exceptions import ParamsError


def book(invoice_dates, payment_dates):
    n, m = len(invoice_dates), len(payment_dates)
    return Ledger.from_frames(
        customers=pd.DataFrame({"customer_id": ["C1"]}),
        invoices=pd.DataFrame({"invoice_id": [f"I{i}" for i in range(n)], "customer_id": "C1",
                               "invoice_date": pd.to_datetime(invoice_dates),
                               "due_date": pd.to_datetime(invoice_dates) + pd.Timedelta(days=90),
                               "amount": 100_00}),
        payments=pd.DataFrame({"payment_id": [f"P{i}" for i in range(m)], "customer_id": "C1",
                               "payment_date": pd.to_datetime(payment_dates),
                               "amount": 100_00}))


def test_coverage_is_the_first_invoice_and_the_last_invoice_or_payment():
    cov = coverage(book(["2012-03-05", "2013-12-20"], ["2014-01-09"]))
    assert (cov.first_invoice, cov.ends) == (pd.Timestamp("2012-03-05"), pd.Timestamp("2014-01-09"))


@pytest.mark.parametrize("ends,month_end,last_day", [
    ("2026-10-31", "2026-10-31", "2026-10-31"),
    ("2026-10-30", "2026-10-31", "2026-10-30"),  # books closed on the last working day
    ("2026-10-27", "2026-09-30", "2026-10-27"),  # October is not complete
    ("2026-11-01", "2026-10-31", "2026-11-01"),
])
def test_the_default_as_of_is_the_last_month_end_covered(ends, month_end, last_day):
    ledger = book(["2026-01-05"], [ends])
    assert default_as_of(ledger) == month_end
    assert default_as_of(ledger, "last_day") == last_day


def test_a_ledger_of_less_than_a_month_is_reported_at_its_last_day():
    assert default_as_of(book(["2026-10-10"], ["2026-10-20"])) == "2026-10-20"


def test_stale_data_is_flagged_and_an_as_of_before_the_first_invoice_is_refused():
    ledger = book(["2012-03-05"], ["2014-01-09"])
    assert check_as_of(ledger, "2014-02-09") is None  # 31 days: not yet stale
    assert check_as_of(ledger, "2014-02-10") == "2014-01-09"
    assert check_as_of(ledger, "2026-10-31") == "2014-01-09"
    with pytest.raises(ParamsError, match=r"before the first invoice \(2012-03-05\).*2014-01-09"):
        check_as_of(ledger, "2012-03-04")


def test_a_run_before_the_first_invoice_stops_with_exit_2_before_any_notebook(tmp_path):
    from typer.testing import CliRunner

    from medrisk.cli import app
    from medrisk.data import write_tables

    write_tables(make_ledger(300, end="2026-10-31"), tmp_path / "data", "csv")
    res = CliRunner().invoke(app, ["run", "params/monthly-management.yaml", "--data",
                                   str(tmp_path / "data"), "--as-of", "2020-01-31",
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert "before the first invoice" in res.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.html"))
