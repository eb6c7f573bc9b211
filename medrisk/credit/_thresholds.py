"""Risk tiers, threshold tuning and the reasons behind a customer's score.

Tiers come from probability thresholds in ``params/risk-thresholds.yaml``
(lower bounds of ``medium``, ``high`` and ``very_high``; ``low`` is below
``medium``). The tuning helpers price a threshold: customers at or above it
are *flagged*; a bad customer left unflagged costs its exposure x ``lgd``;
a good customer flagged costs ``margin_rate`` x its expected sales plus
``goodwill_yuan``. With an outcome column (e.g. from a back-test) the counts
are actual; without one they are expected counts from the probabilities, so a
missed customer costs its expected loss (exposure x probability x lgd).

The score metrics (ROC AUC, PR AUC, Brier, log loss, KS, expected calibration
error, lift by decile) used by :func:`medrisk.credit.backtest` live here too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from medrisk.config import PARAMS_DIR
from medrisk.credit._features import FEATURE_DESCRIPTIONS, FEATURES
from medrisk.exceptions import ParamsError
from medrisk.i18n import has_label, t
from medrisk.kernel import yuan

__all__ = [
    "TIERS",
    "TIER_LABELS_ZH",
    "RiskThresholds",
    "DEFAULT_THRESHOLDS_PATH",
    "load_thresholds",
    "save_thresholds",
    "assign_tiers",
    "tier_summary",
    "flag_summary",
    "threshold_table",
    "best_threshold",
    "reasons",
    "classification_metrics",
    "expected_calibration_error",
    "ks_statistic",
    "lift_table",
]

TIERS = ("low", "medium", "high", "very_high")
TIER_LABELS_ZH = {"low": "低风险", "medium": "中风险", "high": "高风险", "very_high": "极高风险"}
DEFAULT_THRESHOLDS_PATH = PARAMS_DIR / "risk-thresholds.yaml"


@dataclass
class RiskThresholds:
    """Tier bounds and costs (see ``params/risk-thresholds.yaml``).

    Parameters
    ----------
    medium, high, very_high : float
        Lower probability bound of each tier; ``0 < medium < high < very_high < 1``.
    flag_tier : {"medium", "high", "very_high"}, default="high"
        Customers in this tier or above are flagged.
    late_after_days : int, default=30
    lgd : float, default=0.45
        Share of a bad customer's exposure that is lost.
    margin_rate : float, default=0.3
        Margin lost on the expected sales of a wrongly flagged good customer.
    goodwill_yuan : float, default=2000
        Goodwill lost per wrongly flagged good customer, in 元.
    """

    medium: float = 0.3
    high: float = 0.5
    very_high: float = 0.7
    flag_tier: str = "high"
    late_after_days: int = 30
    lgd: float = 0.45
    margin_rate: float = 0.3
    goodwill_yuan: float = 2000.0

    def validate(self) -> RiskThresholds:
        """Check the bounds and costs; return self.

        Raises
        ------
        ParamsError
            Naming the value and what is allowed.
        """
        b = (self.medium, self.high, self.very_high)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in b) or not (
            0 < b[0] < b[1] < b[2] < 1
        ):
            raise ParamsError(
                f"Tier bounds must satisfy 0 < medium < high < very_high < 1; got "
                f"medium={b[0]!r}, high={b[1]!r}, very_high={b[2]!r}."
            )
        if self.flag_tier not in TIERS[1:]:
            raise ParamsError(
                f"flag_tier={self.flag_tier!r} is not supported. Possible values "
                f"are: {list(TIERS[1:])}."
            )
        for name, lo, hi in (("lgd", 0, 1), ("margin_rate", 0, 1), ("goodwill_yuan", 0, math.inf)):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ParamsError(f"{name} must be a number in [{lo}, {hi}]; got {v!r}.")
        return self

    @property
    def flag_threshold(self) -> float:
        """Probability at or above which a customer is flagged."""
        return float(getattr(self, self.flag_tier))

    @property
    def flag_tiers(self) -> tuple[str, ...]:
        """The tiers that are flagged: ``flag_tier`` and those above it."""
        return TIERS[TIERS.index(self.flag_tier):]

    def bounds(self) -> tuple[float, float, float]:
        """Return the three tier bounds."""
        return (float(self.medium), float(self.high), float(self.very_high))


def _yaml():
    y = YAML()  # round-trip: keeps comments, order and layout
    y.preserve_quotes = True
    return y


def load_thresholds(path: str | Path | None = None) -> RiskThresholds:
    """Read tier bounds and costs from a YAML file.

    Parameters
    ----------
    path : str or Path, default=None
        Default :data:`DEFAULT_THRESHOLDS_PATH`.

    Returns
    -------
    RiskThresholds

    Raises
    ------
    ParamsError
        When the file is missing, has unknown keys or bad values.
    """
    path = Path(path or DEFAULT_THRESHOLDS_PATH)
    if not path.exists():
        raise ParamsError(f"Risk thresholds file {path} does not exist.")
    doc = _yaml().load(path.read_text(encoding="utf-8")) or {}
    allowed = {"late_after_days", "tiers", "flag_tier", "costs"}
    unknown = set(doc) - allowed
    if unknown:
        raise ParamsError(
            f"{path}: unknown key(s) {sorted(unknown)}; allowed are {sorted(allowed)}."
        )
    tiers, costs = dict(doc.get("tiers") or {}), dict(doc.get("costs") or {})
    bad = (set(tiers) - set(TIERS[1:])) | (set(costs) - {"lgd", "margin_rate", "goodwill_yuan"})
    if bad:
        raise ParamsError(
            f"{path}: unknown tier or cost key(s) {sorted(bad)}; tiers are "
            f"{list(TIERS[1:])}, costs are ['lgd', 'margin_rate', 'goodwill_yuan']."
        )
    th = RiskThresholds(
        **{k: float(v) for k, v in tiers.items()}, **{k: float(v) for k, v in costs.items()}
    )
    th.flag_tier = str(doc.get("flag_tier", th.flag_tier))
    th.late_after_days = int(doc.get("late_after_days", th.late_after_days))
    return th.validate()


def save_thresholds(path: str | Path, thresholds: RiskThresholds | None = None, **values) -> Path:
    """Write tier bounds (and costs) back to the YAML file, keeping its comments.

    Parameters
    ----------
    path : str or Path
        An existing thresholds file (its comments and layout are kept), or a
        new one.
    thresholds : RiskThresholds, default=None
        Values to write; default: the file's current values.
    **values
        Fields of :class:`RiskThresholds` to change, e.g. ``high=0.55``.

    Returns
    -------
    Path

    Raises
    ------
    ParamsError
        For an unknown field or values that break the tier rules.
    """
    path = Path(path)
    current = thresholds or (load_thresholds(path) if path.exists() else RiskThresholds())
    fields = asdict(current)
    unknown = set(values) - set(fields)
    if unknown:
        raise ParamsError(
            f"Unknown threshold field(s) {sorted(unknown)}; possible fields are {sorted(fields)}."
        )
    fields.update(values)
    th = RiskThresholds(**fields).validate()
    y = _yaml()
    doc = y.load(path.read_text(encoding="utf-8")) if path.exists() else None
    if doc is None:
        doc = CommentedMap()
    doc["late_after_days"] = int(th.late_after_days)
    doc.setdefault("tiers", {})
    for k in TIERS[1:]:
        doc["tiers"][k] = round(float(getattr(th, k)), 4)
    doc["flag_tier"] = th.flag_tier
    doc.setdefault("costs", {})
    for k in ("lgd", "margin_rate", "goodwill_yuan"):
        v = round(float(getattr(th, k)), 4)
        doc["costs"][k] = int(v) if k == "goodwill_yuan" and v.is_integer() else v
    with path.open("w", encoding="utf-8") as fh:
        y.dump(doc, fh)
    return path


def assign_tiers(probability, thresholds: RiskThresholds) -> pd.Categorical:
    """Risk tier of each probability.

    Parameters
    ----------
    probability : array-like of float
    thresholds : RiskThresholds

    Returns
    -------
    Categorical
        Ordered categories :data:`TIERS`.
    """
    thresholds.validate()
    p = np.asarray(probability, float)
    codes = np.searchsorted(np.asarray(thresholds.bounds()), p, side="right")
    codes = np.where(np.isnan(p), -1, codes)
    return pd.Categorical.from_codes(codes, categories=list(TIERS), ordered=True)


def _columns(scores: pd.DataFrame, prob_col, exposure_col, sales_col, label_col):
    need = [prob_col, exposure_col, sales_col] + ([label_col] if label_col else [])
    missing = [c for c in need if c not in scores.columns]
    if missing:
        raise ParamsError(f"scores lacks column(s) {missing}; it has {list(scores.columns)}.")
    p = scores[prob_col].to_numpy(float)
    exp = scores[exposure_col].to_numpy(float) / 100  # fen -> 元
    sales = scores[sales_col].to_numpy(float) / 100
    bad = scores[label_col].to_numpy(float) if label_col else p
    return p, np.nan_to_num(exp), np.nan_to_num(sales), bad


def threshold_table(
    scores: pd.DataFrame,
    grid=None,
    *,
    lgd: float = 0.45,
    margin_rate: float = 0.3,
    goodwill_yuan: float = 2000.0,
    label_col: str | None = None,
    prob_col: str = "probability",
    exposure_col: str = "exposure",
    sales_col: str = "expected_sales",
) -> pd.DataFrame:
    """Confusion matrix, customers and exposure flagged, and expected cost per threshold.

    Parameters
    ----------
    scores : DataFrame
        One row per customer (e.g. :meth:`medrisk.credit.CreditModel.score_customers`):
        probability, exposure and expected_sales (fen), optionally an outcome.
    grid : array-like of float, default=None
        Thresholds to try (default 0.01, 0.02, ..., 0.99).
    lgd, margin_rate, goodwill_yuan : float
        Costs (see the module docstring).
    label_col : str, default=None
        Column with the actual outcome (1 bad); None uses expected counts.
    prob_col, exposure_col, sales_col : str

    Returns
    -------
    DataFrame
        threshold, tp, fp, fn, tn (customers; floats when expected),
        customers_flagged, exposure_flagged (元), cost_missed (元),
        cost_false_flags (元), expected_cost (元), precision, recall.
    """
    p, exp, sales, bad = _columns(scores, prob_col, exposure_col, sales_col, label_col)
    grid = np.round(np.arange(1, 100) / 100, 2) if grid is None else np.asarray(grid, float)
    flag = p[None, :] >= grid[:, None]
    good = 1 - bad
    fp_cost = margin_rate * sales + goodwill_yuan
    tp, fp = (flag * bad).sum(1), (flag * good).sum(1)
    fn, tn = (~flag * bad).sum(1), (~flag * good).sum(1)
    missed = (~flag * bad * exp * lgd).sum(1)
    false = (flag * good * fp_cost).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
    return pd.DataFrame(
        {
            "threshold": grid,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "customers_flagged": flag.sum(1),
            "exposure_flagged": (flag * exp).sum(1),
            "cost_missed": missed,
            "cost_false_flags": false,
            "expected_cost": missed + false,
            "precision": precision,
            "recall": recall,
        }
    )


def best_threshold(table: pd.DataFrame) -> pd.Series:
    """Pick the row of :func:`threshold_table` with the lowest expected cost.

    On ties the lowest threshold wins.
    """
    if table.empty:
        raise ParamsError("threshold table is empty; give a non-empty grid.")
    return table.loc[table["expected_cost"].idxmin()]


def flag_summary(
    scores: pd.DataFrame,
    thresholds: RiskThresholds,
    *,
    label_col: str | None = None,
    prob_col: str = "probability",
    exposure_col: str = "exposure",
    sales_col: str = "expected_sales",
) -> dict:
    """Compute the figures of one threshold setting (those the tuner widget shows).

    Parameters
    ----------
    scores : DataFrame
    thresholds : RiskThresholds
        Bounds, flag tier and costs.
    label_col, prob_col, exposure_col, sales_col : str

    Returns
    -------
    dict
        threshold, tp, fp, fn, tn, customers_flagged, exposure_flagged,
        cost_missed, cost_false_flags, expected_cost (money in 元), and
        ``tiers``: :func:`tier_summary`.
    """
    thresholds.validate()
    row = (
        threshold_table(
            scores,
            [thresholds.flag_threshold],
            lgd=thresholds.lgd,
            margin_rate=thresholds.margin_rate,
            goodwill_yuan=thresholds.goodwill_yuan,
            label_col=label_col,
            prob_col=prob_col,
            exposure_col=exposure_col,
            sales_col=sales_col,
        )
        .iloc[0]
        .to_dict()
    )
    row["tiers"] = tier_summary(scores, thresholds, prob_col=prob_col, exposure_col=exposure_col)
    return row


def tier_summary(
    scores: pd.DataFrame,
    thresholds: RiskThresholds,
    *,
    prob_col: str = "probability",
    exposure_col: str = "exposure",
) -> pd.DataFrame:
    """Count customers, exposure and exposure at risk per tier.

    Returns
    -------
    DataFrame
        Indexed by tier: tier_zh, customers, exposure (元), exposure_at_risk
        (元: exposure x probability x lgd), mean_probability.
    """
    tier = assign_tiers(scores[prob_col], thresholds)
    exp = scores[exposure_col].to_numpy(float) / 100
    p = scores[prob_col].to_numpy(float)
    frame = pd.DataFrame({"tier": tier, "exposure": exp, "ear": exp * p * thresholds.lgd, "p": p})
    g = frame.groupby("tier", observed=False)
    out = pd.DataFrame(
        {
            "tier_zh": [TIER_LABELS_ZH[t] for t in TIERS],
            "customers": g.size().to_numpy(),
            "exposure": g["exposure"].sum().to_numpy(),
            "exposure_at_risk": g["ear"].sum().to_numpy(),
            "mean_probability": g["p"].mean().to_numpy(),
        },
        index=pd.Index(TIERS, name="tier"),
    )
    return out


# --------------------------------------------------------------------------- score metrics
def ks_statistic(y, p) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the bad and good score CDFs."""
    y, p = np.asarray(y), np.asarray(p, float)
    order = np.argsort(-p, kind="stable")
    y = y[order]
    n_bad, n_good = y.sum(), len(y) - y.sum()
    if n_bad == 0 or n_good == 0:
        return float("nan")
    ps = p[order]
    last = np.r_[ps[1:] != ps[:-1], True]  # evaluate only between distinct scores
    tpr = np.cumsum(y)[last] / n_bad
    fpr = np.cumsum(1 - y)[last] / n_good
    return float(np.max(np.abs(tpr - fpr)))


def expected_calibration_error(y, p, n_bins: int = 10, strategy: str = "uniform") -> float:
    """Compute the expected calibration error: mean |observed - predicted| over bins.

    Parameters
    ----------
    y : array-like of {0, 1}
    p : array-like of float
    n_bins : int, default=10
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width bins on [0, 1], or bins with equal numbers of rows.

    Returns
    -------
    float
        ``sum_b n_b / n x |mean(y)_b - mean(p)_b|``.
    """
    if strategy not in ("uniform", "quantile"):
        raise ParamsError(
            f"strategy={strategy!r} is not supported. Possible values are: ['uniform', 'quantile']."
        )
    y, p = np.asarray(y, float), np.asarray(p, float)
    if strategy == "uniform":
        b = np.minimum((p * n_bins).astype(int), n_bins - 1)
    else:
        b = np.minimum(
            np.argsort(np.argsort(p, kind="stable")) * n_bins // max(len(p), 1), n_bins - 1
        )
    cnt = np.bincount(b, minlength=n_bins)
    gap = np.abs(np.bincount(b, y, n_bins) - np.bincount(b, p, n_bins))
    return float(gap.sum() / max(cnt.sum(), 1))


def classification_metrics(y, p, n_bins: int = 10) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier score, log loss, KS and expected calibration error.

    Parameters
    ----------
    y : array-like of {0, 1}
    p : array-like of float
        Predicted probability of 1.
    n_bins : int, default=10
        Bins of the expected calibration error.

    Returns
    -------
    dict
        n, bad_rate, mean_probability, roc_auc, pr_auc, brier, log_loss, ks,
        ece (equal-width bins), ece_quantile (equal-count bins).
    """
    y, p = np.asarray(y, int), np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    both = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "bad_rate": float(y.mean()) if len(y) else float("nan"),
        "mean_probability": float(p.mean()) if len(p) else float("nan"),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])) if len(y) else float("nan"),
        "ks": ks_statistic(y, p),
        "ece": expected_calibration_error(y, p, n_bins, "uniform"),
        "ece_quantile": expected_calibration_error(y, p, n_bins, "quantile"),
    }


def lift_table(y, p, n_groups: int = 10) -> pd.DataFrame:
    """Lift by score decile, riskiest first.

    Parameters
    ----------
    y : array-like of {0, 1}
    p : array-like of float
    n_groups : int, default=10

    Returns
    -------
    DataFrame
        decile (1 = highest probabilities), n, bad, bad_rate,
        mean_probability, lift (bad rate / overall bad rate), cum_capture
        (share of all bads in this and riskier deciles).
    """
    y, p = np.asarray(y, float), np.asarray(p, float)
    rank = np.argsort(np.argsort(-p, kind="stable"), kind="stable")
    g = np.minimum(rank * n_groups // max(len(p), 1), n_groups - 1)
    n = np.bincount(g, minlength=n_groups)
    bad = np.bincount(g, y, n_groups)
    rate = np.divide(bad, n, out=np.full(n_groups, np.nan), where=n > 0)
    overall = y.mean() if len(y) else np.nan
    return pd.DataFrame(
        {
            "decile": np.arange(1, n_groups + 1),
            "n": n,
            "bad": bad.astype(int),
            "bad_rate": rate,
            "mean_probability": np.divide(
                np.bincount(g, p, n_groups), n, out=np.full(n_groups, np.nan), where=n > 0
            ),
            "lift": rate / overall if overall else np.nan,
            "cum_capture": np.cumsum(bad) / max(bad.sum(), 1),
        }
    )


# --------------------------------------------------------------------------- reasons
_TYPE_ZH = {
    "tertiary_hospital": "三级医院",
    "secondary_hospital": "二级医院",
    "clinic": "诊所",
    "pharmacy": "药店",
    "distributor": "经销商",
    "agent": "代理商",
    "other": "其他",
}
_CHANNEL_ZH = {"direct": "直销", "distributor": "经销", "agent": "代理", "ecommerce": "电商"}


def _yuan(log1p_yuan: float) -> str:
    return yuan(np.expm1(log1p_yuan) * 100, symbol=False)


def _reason(feature: str, row: pd.Series, L: int) -> tuple[str, str]:
    """Plain-words (en, zh) reason for one feature of one customer."""
    v = row.get(feature)
    if feature in ("customer_type", "region", "channel", "product_line"):
        s = "unknown" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
        zh = _TYPE_ZH.get(s, _CHANNEL_ZH.get(s, s)) if feature != "region" else s
        names = {
            "customer_type": ("customer type", "客户类型"),
            "region": ("region", "所在区域"),
            "channel": ("sales channel", "销售渠道"),
            "product_line": ("product line", "产品线"),
        }[feature]
        key = f"{feature}.{s}"
        en = t(key, "en") if has_label(key) else s.replace("_", " ")
        return f"{names[0]}: {en}", f"{names[1]}：{zh}"
    if v is None or (isinstance(v, float) and np.isnan(v)):
        if feature.startswith("hist_"):
            return "no payment history yet", "尚无付款记录"
        return f"{FEATURE_DESCRIPTIONS[feature]}: unknown", f"{t('feature.' + feature, 'zh')}：未知"
    v = float(v)
    n = float(row.get("hist_recent_known", 0) or 0)
    templates = {
        "hist_recent_late": lambda: (
            f"{v:.0f} of last {n:.0f} invoices paid more than {L} days late",
            f"近{n:.0f}张发票中有{v:.0f}张逾期超过{L}天",
        ),
        "hist_late_share": lambda: (
            f"{v:.0%} of past invoices paid more than {L} days late",
            f"历史发票中{v:.0%}逾期超过{L}天",
        ),
        "hist_mean_days_late": lambda: (f"pays on average {v:.0f} days late", f"平均逾期{v:.0f}天"),
        "hist_mean_delay": lambda: (
            f"pays on average {abs(v):.0f} days {'after' if v >= 0 else 'before'} the due date",
            f"平均在到期{'后' if v >= 0 else '前'}{abs(v):.0f}天付款",
        ),
        "hist_worst_days_late": lambda: (
            f"has paid as much as {v:.0f} days late",
            f"最长逾期{v:.0f}天后才付款",
        ),
        "hist_recent_delay": lambda: (
            f"recent invoices paid {abs(v):.0f} days {'after' if v >= 0 else 'before'} due "
            "on average",
            f"近期发票平均到期{'后' if v >= 0 else '前'}{abs(v):.0f}天付款",
        ),
        "hist_delay_trend": lambda: (
            f"paying {abs(v):.0f} days {'slower' if v > 0 else 'faster'} lately",
            f"近期付款比以往{'慢' if v > 0 else '快'}{abs(v):.0f}天",
        ),
        "hist_late_trend": lambda: (
            f"late share of recent invoices {'up' if v > 0 else 'down'} "
            f"{abs(v):.0%} on its history",
            f"近期逾期比例较历史{'上升' if v > 0 else '下降'}{abs(v):.0%}",
        ),
        "hist_known": lambda: (
            f"only {v:.0f} invoices of payment history",
            f"仅有{v:.0f}张发票的付款记录",
        ),
        "hist_settled": lambda: (f"{v:.0f} invoices settled so far", f"已结清{v:.0f}张发票"),
        "hist_written_off": lambda: (
            f"{v:.0f} invoices written off as bad debt",
            f"{v:.0f}张发票已作坏账核销",
        ),
        "disputes": lambda: (f"{v:.0f} disputes in collection calls", f"催收中发生{v:.0f}次争议"),
        "promises_broken": lambda: (f"{v:.0f} broken promises to pay", f"{v:.0f}次未兑现付款承诺"),
        "promises_made": lambda: (f"{v:.0f} promises to pay needed", f"共作出{v:.0f}次付款承诺"),
        "dunning_90d": lambda: (
            f"{v:.0f} collection actions in the last 90 days",
            f"近90天被催收{v:.0f}次",
        ),
        "log_overdue_amount": lambda: (f"{_yuan(v)} CNY overdue now", f"当前逾期{_yuan(v)}元"),
        "log_open_amount": lambda: (f"{_yuan(v)} CNY open receivables", f"未结应收{_yuan(v)}元"),
        "overdue_share": lambda: (
            f"{v:.0%} of open receivables overdue",
            f"未结应收中{v:.0%}已逾期",
        ),
        "late_open_share": lambda: (
            f"{v:.0%} of open receivables more than {L} days past due",
            f"未结应收中{v:.0%}逾期超过{L}天",
        ),
        "overdue_invoices": lambda: (f"{v:.0f} invoices past due now", f"当前{v:.0f}张发票逾期"),
        "max_days_past_due": lambda: (
            f"oldest open invoice {v:.0f} days past due",
            f"最早一张未付发票已逾期{v:.0f}天",
        ),
        "utilisation": lambda: (f"uses {v:.0%} of its credit limit", f"信用额度占用率{v:.0%}"),
        "utilisation_after": lambda: (
            f"would use {v:.0%} of its credit limit with the new invoice",
            f"加上新发票后额度占用率{v:.0%}",
        ),
        "log_unapplied_cash": lambda: (
            f"{_yuan(v)} CNY received but not applied",
            f"预收款{_yuan(v)}元未核销",
        ),
        "relationship_days": lambda: (
            f"customer for {v / 365.25:.1f} years",
            f"合作{v / 365.25:.1f}年",
        ),
        "log_sales_365d": lambda: (
            f"bought {_yuan(v)} CNY in the last year",
            f"近一年采购{_yuan(v)}元",
        ),
        "invoices_to_date": lambda: (f"{v:.0f} invoices so far", f"累计{v:.0f}张发票"),
        "log_credit_limit": lambda: (f"credit limit {_yuan(v)} CNY", f"信用额度{_yuan(v)}元"),
        "amount_vs_usual": lambda: (
            f"invoice {np.exp(v):.1f} times its usual amount",
            f"发票金额为平时的{np.exp(v):.1f}倍",
        ),
        "log_amount": lambda: (f"invoice of {yuan(np.exp(v) * 100, symbol=False)} CNY",
                                     f"发票金额{yuan(np.exp(v) * 100, symbol=False)}元"),
        "terms_days": lambda: (f"payment terms of {v:.0f} days", f"账期{v:.0f}天"),
        "invoice_month": lambda: (f"invoiced in month {v:.0f}", f"{v:.0f}月开票"),
        "due_festival_offset": lambda: (
            f"due {abs(v):.0f} days {'after' if v >= 0 else 'before'} the Spring Festival",
            f"到期日在春节{'后' if v >= 0 else '前'}{abs(v):.0f}天",
        ),
        "sp_log_open_amount": lambda: (
            f"salesperson's book holds {_yuan(v)} CNY open",
            f"所属销售未结应收{_yuan(v)}元",
        ),
        "sp_overdue_share": lambda: (
            f"{v:.0%} of the salesperson's book overdue",
            f"所属销售的应收中{v:.0%}已逾期",
        ),
        "sp_late_share": lambda: (
            f"the salesperson's customers paid late {v:.0%} of the time",
            f"所属销售的客户逾期率{v:.0%}",
        ),
    }
    if feature in templates:
        return templates[feature]()
    return f"{FEATURE_DESCRIPTIONS[feature]}: {v:g}", f"{feature}：{v:g}"


def reasons(model, features: pd.DataFrame, n: int = 4, customer_ids=None) -> pd.DataFrame:
    """List the factors that push each customer's score up most, in English and Chinese.

    For a :class:`~medrisk.credit.ScorecardClassifier` a factor's weight is
    its points (``coef x WOE`` in log-odds); for the boosted model it is the
    change in log-odds when the feature is replaced by its training median
    (the most frequent category for categorical features). Only factors that
    raise the risk are listed.

    Parameters
    ----------
    model : CreditModel
        A fitted :class:`medrisk.credit.CreditModel`.
    features : DataFrame
        Feature rows indexed by customer (or invoice) id, e.g. from
        :func:`medrisk.credit.customer_features` or the columns of
        :meth:`~medrisk.credit.CreditModel.score_customers` (with
        ``customer_id``).
    n : int, default=4
        Factors per customer.
    customer_ids : list of str, default=None
        Only these rows (e.g. the flagged customers).

    Returns
    -------
    DataFrame
        customer_id, rank, feature, contribution (log-odds), reason_en, reason_zh.
    """
    if "customer_id" in features.columns:
        features = features.set_index("customer_id")
    if customer_ids is not None:
        features = features.loc[list(customer_ids)]
    if len(features) == 0:
        return pd.DataFrame(
            columns=["customer_id", "rank", "feature", "contribution", "reason_en", "reason_zh"]
        )
    contrib = model.contributions(features[list(FEATURES)])
    L = int(model.late_after_days)
    rows = []
    for i, (cid, row) in enumerate(features.iterrows()):
        c = contrib[i]
        order = [j for j in np.argsort(-c, kind="stable") if c[j] > 1e-9][:n]
        for rank, j in enumerate(order, 1):
            en, zh = _reason(FEATURES[j], row, L)
            rows.append((cid, rank, FEATURES[j], float(c[j]), en, zh))
    return pd.DataFrame(
        rows, columns=["customer_id", "rank", "feature", "contribution", "reason_en", "reason_zh"]
    )
