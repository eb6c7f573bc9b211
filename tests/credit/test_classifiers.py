"""Credit-risk classifiers: scikit-learn conformance, errors, the scorecard's points."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from medrisk.credit import BoostedRiskClassifier, ScorecardClassifier
from medrisk.exceptions import ParamsError


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # the test machine is shared: OpenMP threads fighting for 2 cores are slower than one
    with threadpool_limits(1):
        yield


@parametrize_with_checks(
    [
        BoostedRiskClassifier(max_iter=10),
        ScorecardClassifier(),
        BoostedRiskClassifier(max_iter=10, calibration="isotonic"),
        ScorecardClassifier(calibration="none", max_bins=4),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_errors_name_the_value():
    with pytest.raises(ValueError, match=r"Only binary classification is supported"):
        ScorecardClassifier().fit(np.zeros((30, 2)), np.arange(30) % 3)
    with pytest.raises(ParamsError, match=r"calibration='platt' is not supported"):
        ScorecardClassifier(calibration="platt").fit(np.zeros((30, 2)), np.arange(30) % 2)


def test_scorecard_points_table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2_000, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=2_000) > 0.8).astype(int)
    card = ScorecardClassifier(calibration="none").fit(X, y)
    table = card.points_table(["risky", "noise"])
    risky = table[table["feature"] == "risky"]
    # higher x0 is riskier: fewer points (lower score is riskier)
    assert risky["points"].iloc[0] > risky["points"].iloc[-2]
    pts = card.score_points(X)
    assert np.corrcoef(pts, X[:, 0])[0, 1] < -0.8


def test_trees_use_one_openmp_thread_unless_asked(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    seen = []
    clf = BoostedRiskClassifier(max_iter=5)
    real = HistGradientBoostingClassifier.fit

    def spy(self, *args):
        from threadpoolctl import threadpool_info

        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp")
        return real(self, *args)

    monkeypatch.setattr(HistGradientBoostingClassifier, "fit", spy)
    clf.fit(X, y)
    assert seen and set(seen) == {1}, seen
    with pytest.raises(ValueError, match="n_threads == 0, must be >= 1"):
        BoostedRiskClassifier(n_threads=0).fit(X, y)
