"""Tests of medrisk.cash: the receipt calendar and the learned payment timing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk.cash import fit_payment_timing
from medrisk.cash._timing import _run_cut, _run_snap, _weekend_cut, _weekend_move

AS_OF = pd.Timestamp("2026-04-30")


@pytest.fixture(scope="module")
def company(demo20k):
    return demo20k


@pytest.fixture(scope="module")
def ledger(company):
    return company.ledger


# --------------------------------------------------------------------------- receipt calendar
def test_weekend_rules_agree_with_cut():
    raw = np.arange(20_000, 20_400)
    for rule in ("friday", "monday", "none"):
        booked = _weekend_move(raw, rule)
        assert not np.isin((booked + 3) % 7, [5, 6]).any() or rule == "none"
        for b in raw[::7][:30]:
            cut = _weekend_cut(np.array([b]), rule)[0]
            assert np.array_equal(booked <= b, raw <= cut), (rule, b)


def test_payment_runs_agree_with_cut():
    raw = np.arange(20_000, 20_300)
    for dom in (1, 10, 25, 31):
        for rule in ("friday", "none"):
            booked = _run_snap(raw, np.full(len(raw), dom), rule)
            assert len(np.unique(booked)) <= 12  # one booked day per month
            for b in raw[::5]:
                cut = _run_cut(np.array([b]), np.array([dom]), rule)[0]
                assert np.array_equal(booked <= b, raw <= cut), (dom, rule, b)


def test_payment_runs_and_weekends_are_learned(company, ledger):
    timing = fit_payment_timing(ledger, AS_OF)
    assert timing.params["weekend"] == "friday"  # the demo books weekend receipts on Fridays
    cust = company.truth_customers.merge(timing.customers, on="customer_id")
    assert cust.loc[cust["batch_payer"], "p_run"].mean() > 0.8
    assert cust.loc[~cust["batch_payer"], "p_run"].mean() < 0.1
    assert set(timing.run_doms[0, 2:]) == {10, 15, 20, 25}  # the demo's common run days
    np.testing.assert_allclose(timing.run_weights.sum(axis=1), 1.0)
    none = fit_payment_timing(ledger, AS_OF, weekend="none")
    assert none.params["weekend"] == "none"
