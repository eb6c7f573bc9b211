"""Tests of medrisk.cash: the periods and the outlook of the open invoices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk.cash import cash_in_forecast, cash_periods, payment_outlook
from medrisk.exceptions import ParamsError

AS_OF = pd.Timestamp("2026-04-30")
D = pd.Timestamp
DRAWS = 60


@pytest.fixture(scope="module")
def company(demo20k):
    return demo20k


@pytest.fixture(scope="module")
def ledger(company):
    return company.ledger


# --------------------------------------------------------------------------- periods
def test_periods_weeks_and_months():
    w = cash_periods("2026-10-31", "13W")
    assert len(w) == 13
    assert w["period_start"].iloc[0] == pd.Timestamp("2026-11-01")
    assert (w["days"] == 7).all()
    assert w["period_end"].iloc[-1] == pd.Timestamp("2027-01-30")
    m = cash_periods("2026-10-31", "12M")
    assert m["period_start"].tolist()[:2] == [D("2026-11-01"), D("2026-12-01")]
    assert m["period_end"].iloc[-1] == pd.Timestamp("2027-10-31")
    part = cash_periods("2026-10-15", "12M")  # first month partial
    assert part["period_start"].iloc[0] == pd.Timestamp("2026-10-16")
    assert part["days"].iloc[0] == 16


@pytest.mark.parametrize("bad", ["13", "0W", "W13", "13Y", "200W", None])
def test_bad_horizon(bad):
    with pytest.raises(ParamsError, match="horizon"):
        cash_periods("2026-10-31", bad)


# --------------------------------------------------------------------------- payment outlook
def test_p_late_changes_not_yet_late_invoices_only(company, ledger):
    p_late = company.truth_invoices[["invoice_id", "p_late"]]
    base = payment_outlook(ledger, AS_OF)
    sharp = payment_outlook(ledger, AS_OF, p_late=p_late, p_late_weight=1.0)
    late = base["days_past_due"] > 30
    np.testing.assert_allclose(base.loc[late, "theta"], sharp.loc[late, "theta"])
    assert not np.allclose(base.loc[~late, "theta"], sharp.loc[~late, "theta"])
    # invoices more likely to be late get a lower frailty (slower payment)
    merged = sharp[~late].merge(p_late, on="invoice_id")
    assert np.corrcoef(np.log(merged["theta"]), merged["p_late"])[0, 1] < -0.3
    with pytest.raises(ParamsError, match="p_late must be a DataFrame"):
        cash_in_forecast(ledger, AS_OF, p_late=pd.DataFrame({"id": [1]}), n_draws=DRAWS)


def test_payment_outlook(ledger):
    out = payment_outlook(ledger, AS_OF, "13W")
    assert out["p_paid_in_horizon"].between(0, 1).all() and out["p_never"].between(0, 1).all()
    assert (out["p_paid_in_horizon"] + out["p_never"] <= 1 + 1e-9).all()
    assert set(out["customer_type"].dropna()) <= {
        "tertiary_hospital", "secondary_hospital", "clinic", "pharmacy", "distributor", "agent",
        "other"}
    # long-overdue invoices are less likely to be paid soon than ones just due
    fresh = out.loc[out["days_past_due"].between(1, 30), "p_paid_in_horizon"].mean()
    old = out.loc[out["days_past_due"] > 365, "p_paid_in_horizon"].mean()
    assert old < fresh
