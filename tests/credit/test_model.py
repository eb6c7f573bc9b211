"""Credit models: the back-test quality bar, the Ledger wrapper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from medrisk.credit import (
    FEATURES,
    CreditModel,
    backtest,
    expected_calibration_error,
    rolling_backtest,
)
from medrisk.data import Ledger
from medrisk.data.demo import make_demo
from medrisk.exceptions import ParamsError


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # the test machine is shared: OpenMP threads fighting for 2 cores are slower than one
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def small():
    return make_demo(5_000, seed=2)


@pytest.fixture(scope="module")
def big():
    return make_demo(40_000, seed=0)


@pytest.fixture(scope="module")
def result(big):
    return backtest(big.ledger, "2025-10-31", late_after_days=30)


# --------------------------------------------------------------------------- the quality bar
@pytest.mark.slow  # trains both models on a 40,000-invoice book
def test_backtest_reaches_the_truth(big, result):
    """Best model AUC >= 95% of the true probabilities' AUC; ECE < 0.02; both beat the baseline."""
    s = result.scores.merge(big.truth_invoices[["invoice_id", "p_late"]], on="invoice_id")
    true_auc = roc_auc_score(s["label"], s["p_late"])
    m = result.metrics
    best = m.loc[["gbm", "scorecard"], "roc_auc"].idxmax()
    assert m.loc[best, "roc_auc"] >= 0.95 * true_auc, (m.loc[best, "roc_auc"], true_auc)
    assert m.loc[best, "ece"] < 0.02
    for model in ("gbm", "scorecard"):
        assert m.loc[model, "roc_auc"] > m.loc["baseline", "roc_auc"] + 0.01
        assert m.loc[model, "brier"] < m.loc["baseline", "brier"]
        assert m.loc[model, "log_loss"] < m.loc["baseline", "log_loss"]
    assert result.info["scored"] > 8_000
    # the test invoices are all issued after the cutoff and matured
    assert (result.scores["invoice_date"] > "2025-10-31").all()
    assert expected_calibration_error(s["label"], s["p_late"]) < 0.02


@pytest.mark.slow
def test_backtest_tables(result):
    m = result.metrics
    assert list(m.index) == ["gbm", "scorecard", "baseline"]
    for col in ("roc_auc", "pr_auc", "brier", "log_loss", "ks", "ece", "train_rows"):
        assert col in m.columns
    lift = result.lift
    assert set(lift["model"]) == {"gbm", "scorecard", "baseline"}
    g = lift[lift["model"] == "gbm"]
    assert len(g) == 10 and g["n"].sum() == result.info["scored"]
    assert g["lift"].iloc[0] > 1.5 > g["lift"].iloc[-1]
    assert g["cum_capture"].iloc[-1] == pytest.approx(1.0)


def test_training_uses_only_outcomes_known_at_the_cutoff(small):
    ledger = small.ledger
    X, y = CreditModel("scorecard").training_frame(ledger, "2025-12-31")
    inv = ledger.invoices.set_index("invoice_id").loc[X.index]
    # matured: due + 30 days + 1 on or before the cutoff
    assert (inv["due_date"] + pd.Timedelta(days=31) <= "2025-12-31").all()
    assert inv["invoice_date"].is_monotonic_increasing
    X2, _ = CreditModel("scorecard", censoring="known").training_frame(ledger, "2025-12-31")
    assert len(X2) > len(X)
    truth = small.truth_invoices.set_index("invoice_id").loc[X.index, "late"].to_numpy()
    np.testing.assert_array_equal(y, truth.astype(int))


@pytest.mark.parametrize("days", [0, 60, 90])
def test_other_late_thresholds_and_the_default_target(small, days):
    m = CreditModel("scorecard", late_after_days=days).fit(small.ledger, "2026-03-31")
    assert m.training_["late_after_days"] == days
    p = m.predict_proba(small.ledger)
    assert p.between(0, 1).all() and len(p) == len(small.ledger.invoices)
    d = CreditModel("scorecard", target="default").fit(small.ledger, "2026-03-31")
    assert d.base_rate_ < m.base_rate_ or days >= 90


def test_customer_scores(small):
    m = CreditModel("gbm", estimator_params={"max_iter": 30}).fit(small.ledger, "2026-06-30")
    sc = m.score_customers(small.ledger, "2026-06-30", lgd=0.5)
    assert {"customer_id", "probability", "exposure", "expected_sales", "exposure_at_risk"} <= set(
        sc.columns
    )
    assert set(FEATURES) <= set(sc.columns)
    np.testing.assert_allclose(sc["exposure_at_risk"], sc["exposure"] * sc["probability"] * 0.5)
    assert sc["probability"].between(0, 1).all()
    c = m.contributions(sc[list(FEATURES)].head(5))
    assert c.shape == (5, len(FEATURES))


def test_rolling_backtest(small):
    out = rolling_backtest(
        small.ledger, ["2025-06-30", "2025-09-30"], horizon_days=91, models=("scorecard",)
    )
    assert out.index.names == ["cutoff", "model"]
    assert len(out) == 4 and out["roc_auc"].notna().all()


def test_errors_name_the_value(small):
    with pytest.raises(ParamsError, match=r"model='forest' is not supported. Possible values"):
        CreditModel("forest").fit(small.ledger, "2026-01-31")
    with pytest.raises(ParamsError, match=r"censoring='all' is not supported"):
        CreditModel(censoring="all").fit(small.ledger, "2026-01-31")
    with pytest.raises(ParamsError, match=r"Only \d+ invoices with a known outcome"):
        CreditModel("scorecard").fit(small.ledger, "2023-12-31")
    with pytest.raises(ParamsError, match=r"not fitted yet"):
        CreditModel().predict_proba(small.ledger)


def test_a_book_without_limits_dates_or_salespeople_fits_and_says_what_it_dropped():
    """Three tables, required columns only: the all-empty features are dropped, not binned."""
    from medrisk.credit import model_card, usable_features
    from medrisk.data.demo import make_shape

    tables, as_of = make_shape("three_tables", n_invoices=1_500, seed=2)
    ledger = Ledger.from_frames(**tables)
    for kind in ("gbm", "scorecard"):
        model = CreditModel(kind).fit(ledger, as_of)
        dropped = model.dropped_features_
        for name in ("log_credit_limit", "utilisation", "relationship_days", "sp_late_share",
                     "customer_type"):
            assert dropped[name] == "no values", (kind, name)
        assert set(model.feature_names_) | set(dropped) == set(FEATURES)
        assert model_card(model, ledger)["dropped_features"] == dropped
        X = model.training_frame(ledger, as_of)[0].head(50)
        contrib = model.contributions(X)
        assert contrib.shape == (50, len(FEATURES))
        gone = [FEATURES.index(n) for n in dropped]
        assert (contrib[:, gone] == 0).all()  # a dropped feature never becomes a reason
        p = model.predict_frame(X)
        assert ((p > 0) & (p < 1)).all()
    train = CreditModel("gbm").training_frame(ledger, as_of)[0]
    assert usable_features(train)[0] == model.feature_names_


def test_without_salespeople_no_feature_describes_a_salesperson_book():
    from medrisk.credit import invoice_features
    from medrisk.data.demo import make_shape

    tables, _ = make_shape("three_tables", n_invoices=600, seed=1)
    X = invoice_features(Ledger.from_frames(**tables))
    sp = [c for c in X.columns if c.startswith("sp_")]
    assert sp and X[sp].isna().all().all()
