"""Everything the credit-risk report shows, computed in one call.

:func:`credit_report` back-tests the models on what was known a year ago, fits
the chosen model on everything known at ``as_of``, scores the customers, puts
them in risk tiers by the thresholds file, explains the flagged ones, lists
credit-limit breaches, replays the credit policy over the past year, and
measures drift. The notebook only shows the result.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from medrisk import credit as C
from medrisk import credit as Fe
from medrisk import credit as L
from medrisk import credit as M
from medrisk import credit as T
from medrisk.data import Ledger
from medrisk.i18n import check_language, pct, t
from medrisk.kernel import wan
from medrisk.reports._briefs import Brief
from medrisk.reports._sections import Need, Skip, attempt, unmet

__all__ = ["CreditReport", "credit_report", "model_version", "what_if_table"]


@dataclass
class CreditReport:
    """What :func:`credit_report` computed (see there).

    ``backtest`` is None when the history before the back-test cutoff is too
    short; ``breaches`` without credit limits and ``what_if`` without orders
    are None too. ``brief.skipped`` says which and why.
    """

    backtest: C.BacktestResult | None
    model: C.CreditModel
    scores: pd.DataFrame
    thresholds: T.RiskThresholds
    tiers: pd.DataFrame
    flagged: pd.DataFrame
    reasons: pd.DataFrame
    breaches: pd.DataFrame | None
    what_if: dict[str, Any] | None
    drift: pd.DataFrame
    costs: pd.DataFrame
    card: dict[str, Any]
    version: str
    brief: Brief


def model_version(card: dict[str, Any]) -> str:
    """Return a short, stable id of a fitted model: kind, training end and a hash of its card."""
    stable = {k: v for k, v in card.items() if k not in ("versions", "notes")}
    digest = hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode()).hexdigest()
    end = str(card.get("training", {}).get("as_of", ""))[:10]
    return f"{card.get('model', 'model')}-{end}-{digest[:10]}"


def credit_report(ledger: Ledger, as_of, *, model: str = "gbm", thresholds_file: str | None = None,
                  backtest_months: int = 12, top_n: int = 20, language: str = "zh") -> CreditReport:
    """Compute the credit-risk report as of a date.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    model : {"gbm", "scorecard"}, default="gbm"
    thresholds_file : str, default=None
        ``params/risk-thresholds.yaml`` when None.
    backtest_months : int, default=12
        The back-test trains on what was known this many months before ``as_of``.
    top_n : int, default=20
        Flagged customers listed with reasons.
    language : {"zh", "en"}, default="zh"

    Returns
    -------
    CreditReport
    """
    check_language(language)
    as_of = pd.Timestamp(as_of).normalize()
    th = T.load_thresholds(thresholds_file or None)
    cutoff = (as_of - pd.DateOffset(months=backtest_months)).normalize()
    skips: list[Skip] = []
    bt = attempt(skips, "model_quality", C.backtest, ledger, cutoff=cutoff,
                 late_after_days=th.late_after_days, evaluate_as_of=as_of)
    fitted = C.CreditModel(model=model, late_after_days=th.late_after_days).fit(ledger, as_of)
    scores = fitted.score_customers(ledger, as_of, lgd=th.lgd)
    scores = scores.assign(tier=T.assign_tiers(scores["probability"], th))
    tiers = T.tier_summary(scores, th)
    costs = T.threshold_table(scores, lgd=th.lgd, margin_rate=th.margin_rate,
                              goodwill_yuan=th.goodwill_yuan)
    flagged = (scores[scores["tier"].isin(th.flag_tiers) & (scores["exposure"] > 0)]
               .sort_values("exposure_at_risk", ascending=False).head(top_n))
    why = T.reasons(fitted, scores.set_index("customer_id"), n=3,
                    customer_ids=flagged["customer_id"].tolist())
    joined = (why.groupby("customer_id", sort=False)[f"reason_{language}"]
              .agg("；".join if language == "zh" else "; ".join))
    flagged = flagged.assign(reasons=flagged["customer_id"].map(joined).fillna(""))
    breaches = summary = None
    limits = Need("customers", ("credit_limit",))
    if limits.met(ledger):
        exposure = L.exposure(ledger, as_of)
        policy = L.load_policy()
        limit = (policy.block_utilisation_above if policy.block_utilisation_above is not None
                 else 1.0)
        breaches = (exposure[(exposure["credit_limit"] > 0) & (exposure["utilisation"] > limit)]
                    .sort_values("exposure", ascending=False))
    else:
        skips.append(Skip("credit_breaches", (limits,)))
    replay = unmet(ledger, (limits, Need("orders"), Need("order_lines")))
    if replay:
        skips.append(Skip("policy_replay", replay))
    else:
        start = (as_of - pd.DateOffset(months=12)).normalize() + pd.Timedelta(days=1)
        summary, _ = L.what_if(ledger, start, as_of)
    X = Fe.invoice_features(ledger, late_after_days=th.late_after_days)
    inv_dates = ledger.invoices.set_index("invoice_id")["invoice_date"].reindex(X.index)
    train_rows = (inv_dates <= cutoff).to_numpy()
    recent_rows = (inv_dates > as_of - pd.Timedelta(days=91)).to_numpy()
    drift = (M.drift_report(X[train_rows], X[recent_rows])
             if train_rows.any() and recent_rows.any() else pd.DataFrame())
    card = M.model_card(fitted, ledger, metrics=None if bt is None else bt.metrics)
    version = model_version(card)
    brief = _brief(bt, tiers, flagged, breaches, scores, costs, language)
    brief.points.extend(_dropped_text(fitted.dropped_features_, language))
    brief.skipped = skips
    return CreditReport(bt, fitted, scores, th, tiers, flagged, why, breaches, summary, drift,
                        costs, card, version, brief)


def _brief(bt, tiers: pd.DataFrame, flagged: pd.DataFrame, breaches: pd.DataFrame | None,
           scores: pd.DataFrame, costs: pd.DataFrame, language: str) -> Brief:
    high = tiers.loc[[t for t in tiers.index if t in ("high", "very_high")]]
    high_exposure = int(round(float(high["exposure"].sum()) * 100)) if "exposure" in high else 0
    high_customers = int(high["customers"].sum())
    total_exposure = int(scores["exposure"].sum())
    zh = language == "zh"
    b = Brief()
    b.figures = {
        "high_risk_customers": (high_customers, "count"),
        "high_risk_exposure": (high_exposure, "fen"),
        "cheapest_threshold": (float(T.best_threshold(costs)["threshold"]), "ratio"),
    }
    b.cards = [
        {"label": "高风险客户" if zh else "High-risk customers", "value": f"{high_customers:,}"},
        {"label": "高风险敞口" if zh else "High-risk exposure", "value": wan(high_exposure),
         "delta": ((f"占应收 {pct(high_exposure / total_exposure)}" if zh else
                    f"{pct(high_exposure / total_exposure)} of receivables")
                   if total_exposure else "")},
    ]
    share = ((f"（占应收 {pct(high_exposure / total_exposure)}）" if zh else
              f" ({pct(high_exposure / total_exposure)} of receivables)") if total_exposure
             else "")
    b.points = [
        f"高风险及极高风险客户 {high_customers} 家，敞口 {wan(high_exposure)} 元{share}。"
        if zh else
        f"{high_customers} customers are high or very high risk, "
        f"with {wan(high_exposure)} 元 of exposure{share}."
    ]
    if bt is not None:
        m = bt.metrics
        best = m.drop(index="baseline", errors="ignore")["roc_auc"].idxmax()
        auc, auc_base = float(m.loc[best, "roc_auc"]), float(m.loc["baseline", "roc_auc"])
        ece = float(m.loc[best, "ece"])
        b.figures.update({"roc_auc": (auc, "ratio"), "roc_auc_baseline": (auc_base, "ratio"),
                          "ece": (ece, "ratio")})
        b.cards.append({"label": "模型AUC(回测)" if zh else "Model AUC (back-test)",
                        "value": f"{auc:.3f}",
                        "delta": ("基准 " if zh else "baseline ") + f"{auc_base:.3f}"})
        than = ("高于" if auc > auc_base else "不高于") if zh else (
            "against" if auc > auc_base else "no better than")
        b.points.append(
            f"模型({t('model.' + best, language)})回测AUC {auc:.3f}，"
            f"{than}仅用客户历史逾期率的基准 "
            f"{auc_base:.3f}；校准误差(ECE) {ece:.3f}。" if zh else
            f"The model ({t('model.' + best, language)}) back-tests at AUC {auc:.3f}, {than} "
            f"{auc_base:.3f} for the customers' own past late rate; calibration error (ECE) "
            f"{ece:.3f}.")
    if breaches is not None:
        b.figures["credit_limit_breaches"] = (len(breaches), "count")
        b.cards.append({"label": "超信用额度客户" if zh else "Over the credit rule",
                        "value": f"{len(breaches)}"})
        b.points.append(
            f"{len(breaches)} 家客户的占用超过信用政策上限，新订单将被拦截或需预付款。" if zh else
            f"{len(breaches)} customers are above the credit policy's utilisation limit: "
            "new orders would be blocked or need prepayment.")
    return b


def _dropped_text(dropped: dict[str, str], language: str) -> list[str]:
    """One sentence on the features the model could not use, or none when it used them all."""
    empty = [f for f, why in dropped.items() if why == "no values"]
    if not empty:
        return []
    if language == "zh":
        return [f"数据中有 {len(empty)} 项特征没有取值（如信用额度、开户日期、销售人员、"
                "客户类型），模型未使用它们；补充这些数据可提高准确度"
                "（明细见模型卡 dropped_features）。"]
    names = ", ".join(t(f"feature.{f}", "en").lower() for f in empty[:6])
    names += ", ..." if len(empty) > 6 else ""
    return [f"{len(empty)} features have no values in the data and are left out of the model "
            f"({names}); providing them (credit limits, opening dates, salespeople, customer "
            "types) would help. The model card lists them under dropped_features."]


def what_if_table(summary: dict[str, Any], language: str = "zh") -> pd.DataFrame:
    """Return the policy replay's summary as rows of (item, value text) for a report table."""
    words = {
        "orders": ("回放订单数", "Orders replayed"),
        "orders_blocked": ("将被拦截", "Would be blocked"),
        "orders_prepayment": ("需预付款", "Would need prepayment"),
        "revenue_total": ("订单金额", "Order value"),
        "revenue_blocked": ("被拦截金额", "Value blocked"),
        "losses_total": ("实际坏账", "Actual write-offs"),
        "losses_avoided": ("可避免坏账", "Write-offs avoided"),
    }
    rows = []
    for key, (zh, en) in words.items():
        if key in summary:
            v = summary[key]
            text = wan(v) if key.startswith(("revenue", "losses")) else f"{int(v):,}"
            rows.append({"item": zh if language == "zh" else en, "value": text})
    return pd.DataFrame(rows, columns=["item", "value"])
