"""Labels of credit models: late, default, thresholds and censoring."""

from __future__ import annotations

import numpy as np
import pytest

from medrisk.credit import labels
from medrisk.data.demo import make_demo
from medrisk.exceptions import ParamsError


@pytest.fixture(scope="module")
def company():
    return make_demo(5_000, seed=1)


def test_labels_match_the_generator_truth_on_matured_invoices(company):
    lab = labels(company.ledger, "2026-10-31")
    truth = company.truth_invoices.set_index("invoice_id")
    m = lab[lab["matured"]]
    assert len(m) > 3_000
    assert m["known"].all()
    np.testing.assert_array_equal(
        m["label"].to_numpy(), truth.loc[m["invoice_id"], "late"].to_numpy().astype(float)
    )
    default = m["default"].to_numpy()
    wo = truth.loc[m["invoice_id"], "defaulted"].to_numpy()
    known = ~np.isnan(default)
    assert (default[wo & known] == 1).all()  # every written-off invoice is a default
    assert (wo & known).sum() > 10


@pytest.mark.parametrize("days", [0, 30, 60, 90])
def test_late_after_days_thresholds(company, days):
    lab = labels(company.ledger, "2026-10-31", late_after_days=days)
    m = lab[lab["matured"]]
    assert m["label"].isin([0.0, 1.0]).all()
    assert (lab["matured"] <= lab["known"]).all()
    if days:
        base = labels(company.ledger, "2026-10-31", late_after_days=0)
        both = lab["matured"].to_numpy()
        assert (lab["label"].to_numpy()[both] <= base["label"].to_numpy()[both]).all()


def test_censoring_unknown_outcomes_are_not_good(company):
    ledger = company.ledger
    lab = labels(ledger, "2025-06-30")
    truth = company.truth_invoices.set_index("invoice_id")
    unknown = lab[~lab["known"]]
    assert len(unknown) > 100 and unknown["label"].isna().all()
    # an invoice settled after the date is unknown then, even if it was paid on time
    on_time_later = unknown[~truth.loc[unknown["invoice_id"], "late"].to_numpy()]
    assert len(on_time_later) > 0
    # the outcome known at a date never changes later
    later = labels(ledger, "2026-10-31").set_index("invoice_id")
    k = lab[lab["known"]]
    np.testing.assert_array_equal(k["label"].to_numpy(), later.loc[k["invoice_id"], "label"])


def test_parameters_are_checked(company):
    with pytest.raises(
        ParamsError, match=r"late_after_days must be a whole number of days >= 0; got -1"
    ):
        labels(company.ledger, "2026-01-01", late_after_days=-1)
    with pytest.raises(ParamsError, match=r"target='severe' is not supported"):
        labels(company.ledger, "2026-01-01", target="severe")
