"""Credit-risk classifiers: will an invoice be paid late, or never.

Two scikit-learn classifiers take a feature matrix (:mod:`medrisk.credit`):

* :class:`BoostedRiskClassifier`: histogram gradient boosting;
* :class:`ScorecardClassifier`: an interpretable scorecard, quantile bins ->
  weight of evidence (WOE) -> logistic regression -> points.

Both calibrate their probabilities on a *time-ordered holdout*: the rows are
taken to be in time order (oldest first), the model is fitted on the first
``1 - calibration_fraction`` of them and an isotonic (or sigmoid) map is
fitted on the scores of the most recent ``calibration_fraction``; with
``refit=True`` the model is then refitted on every row and keeps that map.

:class:`medrisk.credit.CreditModel` fits either one on a
:class:`~medrisk.data.Ledger`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_scalar, validate_data
from threadpoolctl import threadpool_limits

from medrisk import kernel

__all__ = [
    "BoostedRiskClassifier",
    "ScorecardClassifier",
    "CALIBRATIONS",
]

CALIBRATIONS = ("isotonic", "sigmoid", "none")
_EPS = 1e-6


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


class _CalibratedRiskClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit/predict logic: validation, time-ordered calibration, binary classes."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        return tags

    def _categorical_mask(self, n_features: int) -> np.ndarray:
        mask = np.zeros(n_features, bool)
        cats = self.categorical_features
        if cats is None:
            return mask
        names = list(getattr(self, "feature_names_in_", []))
        for c in cats:
            if isinstance(c, str):
                if c not in names:
                    raise ValueError(
                        f"categorical_features names {c!r}, which is not a feature; "
                        f"features are {names}."
                    )
                mask[names.index(c)] = True
            elif isinstance(c, (int, np.integer)) and 0 <= c < n_features:
                mask[int(c)] = True
            else:
                raise ValueError(
                    f"categorical_features entry {c!r} is not a feature name or an "
                    f"index in [0, {n_features})."
                )
        return mask

    def fit(self, X, y):
        """Fit the model and its calibration map.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, rows in time order (oldest first); NaN allowed.
        y : array-like of shape (n_samples,)
            Binary target; the larger class label is the "bad" outcome.

        Returns
        -------
        self
        """
        kernel.check_choice("calibration", self.calibration, CALIBRATIONS)
        check_scalar(
            self.calibration_fraction,
            "calibration_fraction",
            (int, float),
            min_val=0.0,
            max_val=0.9,
        )
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(
                f"Only binary classification is supported by {type(self).__name__}; "
                f"y has {len(self.classes_)} class(es): {list(self.classes_)[:5]}. "
                "It needs exactly 2 (good and bad)."
            )
        yb = (y == self.classes_[1]).astype(np.int64)
        self._cat_mask = self._categorical_mask(X.shape[1])
        n = len(yb)
        n_hold = int(round(self.calibration_fraction * n))
        head, tail = yb[: n - n_hold], yb[n - n_hold :]
        can = (
            self.calibration != "none"
            and n_hold >= 10
            and np.ptp(head) > 0
            and np.ptp(tail) > 0
            and n - n_hold >= 10
        )
        if can:
            self._fit_base(X[: n - n_hold], head)
            raw = self._raw(X[n - n_hold :])
            if self.calibration == "isotonic":
                cal = IsotonicRegression(y_min=_EPS, y_max=1 - _EPS, out_of_bounds="clip")
                cal.fit(raw, tail)
            else:
                cal = LogisticRegression(C=1e6).fit(raw[:, None], tail)
            self.calibrator_ = cal
            if self.refit:
                self._fit_base(X, yb)
        else:
            self.calibrator_ = None
            self._fit_base(X, yb)
        self.n_calibration_ = n_hold if can else 0
        return self

    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64)

    def decision_function(self, X):
        """Calibrated log-odds of the bad class (positive: predicted bad).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        p = self.predict_proba(X)[:, 1]
        return np.log(p) - np.log1p(-p)

    def predict_proba(self, X):
        """Calibrated probabilities of each class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Columns in the order of ``classes_``; the second is the bad class.
        """
        raw = self._raw(self._validated(X))
        cal = self.calibrator_
        if cal is None:
            p = _sigmoid(raw)
        elif isinstance(cal, IsotonicRegression):
            p = cal.predict(raw)
        else:
            p = cal.predict_proba(raw[:, None])[:, 1]
        p = np.clip(p, _EPS, 1 - _EPS)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """Class with the larger calibrated probability (the good one on a tie).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        bad = self.decision_function(X) > 0
        return self.classes_[bad.astype(int)]


class BoostedRiskClassifier(_CalibratedRiskClassifier):
    """Gradient-boosted trees (HistGradientBoostingClassifier) with calibrated probabilities.

    Parameters
    ----------
    learning_rate : float, default=0.1
    max_iter : int, default=100
        Boosting rounds.
    max_leaf_nodes : int, default=15
    min_samples_leaf : int, default=40
    l2_regularization : float, default=1.0
    categorical_features : list of int or str, default=None
        Columns holding category codes (non-negative integers, NaN for missing).
    calibration : {"sigmoid", "isotonic", "none"}, default="sigmoid"
        Map from scores to probabilities, fitted on the time-ordered holdout
        (sigmoid: Platt scaling of the log-odds, steadier than isotonic on a
        few thousand rows).
    calibration_fraction : float, default=0.2
        Share of the most recent rows held out to fit the calibration map.
    refit : bool, default=True
        Refit the trees on every row after calibrating.
    random_state : int, default=None
    n_threads : int, default=1
        OpenMP threads for fitting and scoring the trees. One by default: two
        processes that each spread their trees over both cores of a 2-core
        machine were measured to take 40 times longer (118 s instead of 3 s
        per fit on the demo) as their threads wait on each other, while one
        thread costs about 20% when a process runs alone.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    model_ : HistGradientBoostingClassifier
    calibrator_ : IsotonicRegression, LogisticRegression or None
        None when there was no holdout with both classes.
    n_calibration_ : int
        Rows used to fit the calibration map.
    n_iter_ : int
        Boosting rounds of the final model.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Present when ``X`` had column names.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3)); y = (X[:, 0] + rng.normal(size=500) > 1).astype(int)
    >>> BoostedRiskClassifier(max_iter=50).fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    # model files name the class by its public path, which internal moves do not change
    __module__ = "medrisk.credit"

    def __init__(
        self,
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=None,
        calibration="sigmoid",
        calibration_fraction=0.2,
        refit=True,
        random_state=None,
        n_threads=1,
    ):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.categorical_features = categorical_features
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.refit = refit
        self.random_state = random_state
        self.n_threads = n_threads

    def _threads(self):
        # model files saved before n_threads existed load without it
        return threadpool_limits(limits=getattr(self, "n_threads", 1), user_api="openmp")

    def _fit_base(self, X, y):
        check_scalar(self.n_threads, "n_threads", int, min_val=1)
        cats = self._cat_mask if self._cat_mask.any() else None
        self.model_ = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            categorical_features=cats,
            early_stopping=False,
            random_state=self.random_state,
        )
        with self._threads():
            self.model_.fit(X, y)
        self.n_iter_ = self.model_.n_iter_

    def _raw(self, X):
        with self._threads():
            return np.asarray(self.model_.decision_function(X), dtype=np.float64).ravel()


class ScorecardClassifier(_CalibratedRiskClassifier):
    """A points scorecard: quantile bins, weight of evidence, logistic regression.

    Each numeric feature is cut at its quantiles into at most ``max_bins``
    bins (missing values get a bin of their own); each categorical feature has
    one bin per category holding at least ``min_bin_fraction`` of the rows
    (the rest share an "other" bin). A bin's weight of evidence is
    ``ln(bad share / good share)`` (positive: riskier than average). A
    logistic regression on the WOE values gives the log-odds; points follow
    the ``pdo_odds`` scaling: ``score = base_score - pdo / ln 2 x (log-odds -
    ln(1 / base_odds))``, so a higher score is safer and ``pdo`` points double
    the good:bad odds.

    Parameters
    ----------
    max_bins : int, default=10
    min_bin_fraction : float, default=0.02
    categorical_features : list of int or str, default=None
        Columns holding category codes.
    C : float, default=1.0
        Inverse L2 strength of the logistic regression.
    pdo : float, default=20.0
        Points to double the odds.
    base_score : float, default=600.0
        Score at good:bad odds of ``base_odds``.
    base_odds : float, default=50.0
    calibration : {"sigmoid", "isotonic", "none"}, default="sigmoid"
    calibration_fraction : float, default=0.2
    refit : bool, default=True

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    bins_ : list of dict
        Per feature: ``kind`` ("numeric" or "categorical"), ``edges`` or
        ``categories``; the last bin is "missing".
    woe_ : list of ndarray
        WOE of each bin, per feature.
    counts_ : list of ndarray of shape (n_bins, 2)
        Good and bad training rows per bin.
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    calibrator_ : IsotonicRegression, LogisticRegression or None
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 3)); y = (X[:, 0] + rng.normal(size=500) > 1).astype(int)
    >>> card = ScorecardClassifier().fit(X, y)
    >>> card.score_points(X[:2]).shape
    (2,)
    """

    # model files name the class by its public path, which internal moves do not change
    __module__ = "medrisk.credit"

    def __init__(
        self,
        max_bins=10,
        min_bin_fraction=0.02,
        categorical_features=None,
        C=1.0,
        pdo=20.0,
        base_score=600.0,
        base_odds=50.0,
        calibration="sigmoid",
        calibration_fraction=0.2,
        refit=True,
    ):
        self.max_bins = max_bins
        self.min_bin_fraction = min_bin_fraction
        self.categorical_features = categorical_features
        self.C = C
        self.pdo = pdo
        self.base_score = base_score
        self.base_odds = base_odds
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.refit = refit

    def _fit_base(self, X, y):
        check_scalar(self.max_bins, "max_bins", (int, np.integer), min_val=2)
        check_scalar(
            self.min_bin_fraction, "min_bin_fraction", (int, float), min_val=0.0, max_val=0.5
        )
        n_bad, n_good = y.sum(), len(y) - y.sum()
        self.bins_, self.woe_, self.counts_ = [], [], []
        for j in range(X.shape[1]):
            x = X[:, j]
            finite = x[~np.isnan(x)]
            if self._cat_mask[j]:
                vals, cnt = np.unique(finite, return_counts=True)
                spec = {
                    "kind": "categorical",
                    "categories": vals[cnt >= self.min_bin_fraction * len(x)].tolist(),
                }
            else:
                qs = (
                    np.quantile(finite, np.linspace(0, 1, self.max_bins + 1)[1:-1])
                    if len(finite)
                    else np.zeros(0)
                )
                spec = {"kind": "numeric", "edges": np.unique(qs).tolist()}
            b = self._bin(spec, x)
            nb = self._n_bins(spec)
            bad = np.bincount(b, weights=y, minlength=nb)
            tot = np.bincount(b, minlength=nb).astype(float)
            woe = np.log((bad + 0.5) / (n_bad + 0.5)) - np.log((tot - bad + 0.5) / (n_good + 0.5))
            woe[tot == 0] = 0.0
            self.bins_.append(spec)
            self.woe_.append(woe)
            self.counts_.append(np.column_stack([tot - bad, bad]).astype(np.int64))
        lr = LogisticRegression(C=self.C, max_iter=1000).fit(self._woe(X), y)
        self.coef_ = lr.coef_.ravel().copy()
        self.intercept_ = float(lr.intercept_[0])

    @staticmethod
    def _n_bins(spec) -> int:
        return (
            (len(spec["edges"]) + 2) if spec["kind"] == "numeric" else len(spec["categories"]) + 2
        )

    @staticmethod
    def _bin(spec, x) -> np.ndarray:
        miss = np.isnan(x)
        if spec["kind"] == "numeric":
            edges = np.asarray(spec["edges"], float)
            b = np.searchsorted(edges, np.where(miss, 0, x), side="right")
            return np.where(miss, len(edges) + 1, b)
        cats = np.asarray(spec["categories"], float)
        pos = np.searchsorted(cats, np.where(miss, 0, x))
        hit = (
            (pos < len(cats)) & (cats[np.minimum(pos, max(len(cats) - 1, 0))] == x)
            if len(cats)
            else np.zeros(len(x), bool)
        )
        return np.where(miss, len(cats) + 1, np.where(hit, pos, len(cats)))

    def _woe(self, X) -> np.ndarray:
        return np.column_stack(
            [self.woe_[j][self._bin(spec, X[:, j])] for j, spec in enumerate(self.bins_)]
        )

    def _raw(self, X):
        return self._woe(X) @ self.coef_ + self.intercept_

    def contributions(self, X) -> np.ndarray:
        """Log-odds each feature adds to a row's risk (``coef x WOE``; positive: riskier).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        return self._woe(self._validated(X)) * self.coef_

    def _factor(self) -> float:
        return float(self.pdo) / np.log(2.0)

    def score_points(self, X) -> np.ndarray:
        """Scorecard points of each row (higher is safer).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        logit = self._raw(self._validated(X))
        return self.base_score - self._factor() * (logit - np.log(1.0 / self.base_odds))

    def points_table(self, feature_names=None) -> pd.DataFrame:
        """Every bin of every feature with its counts, bad rate, WOE and points.

        Parameters
        ----------
        feature_names : list of str, default=None
            Names for the features (default ``feature_names_in_`` or ``x0, x1, ...``).

        Returns
        -------
        DataFrame
            feature, bin (label), good, bad, bad_rate, woe, points (the
            feature's share of the score: ``-pdo / ln 2 x coef x woe``), and
            ``base_points`` in ``attrs`` (the score of a row with every WOE 0).
        """
        check_is_fitted(self)
        names = (
            feature_names
            if feature_names is not None
            else list(
                getattr(self, "feature_names_in_", [f"x{j}" for j in range(self.n_features_in_)])
            )
        )
        rows = []
        for j, spec in enumerate(self.bins_):
            if spec["kind"] == "numeric":
                e = spec["edges"]
                lab = [f"< {e[0]:g}" if e else "all"] + [
                    f"[{a:g}, {b:g})" for a, b in zip(e[:-1], e[1:], strict=True)
                ]
                lab += [f">= {e[-1]:g}"] if e else []
            else:
                lab = [f"= {c:g}" for c in spec["categories"]] + ["other"]
            lab.append("missing")
            for b, label in enumerate(lab):
                good, bad = self.counts_[j][b]
                rows.append(
                    (
                        names[j],
                        label,
                        good,
                        bad,
                        bad / max(good + bad, 1),
                        self.woe_[j][b],
                        -self._factor() * self.coef_[j] * self.woe_[j][b],
                    )
                )
        out = pd.DataFrame(
            rows, columns=["feature", "bin", "good", "bad", "bad_rate", "woe", "points"]
        )
        out.attrs["base_points"] = float(
            self.base_score - self._factor() * (self.intercept_ - np.log(1.0 / self.base_odds))
        )
        return out
