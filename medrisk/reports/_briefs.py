"""Written summaries for the reports: the numbers, their change, and sentences in zh or en.

Each ``*_brief`` function computes what a report's opening says, so that the
notebook only shows it and the tests can check it against the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from medrisk import cash as CF
from medrisk import credit as C
from medrisk import credit as T
from medrisk import planning as At
from medrisk import planning as Sa
from medrisk import receivables as A
from medrisk import receivables as K
from medrisk import receivables as R
from medrisk.data import Ledger
from medrisk.i18n import check_language, pct, t
from medrisk.kernel import wan
from medrisk.reports._sections import Need, Skip, attempt

__all__ = [
    "Brief",
    "period_bounds",
    "month_ends",
    "receivables_brief",
    "plan_brief",
    "management_brief",
    "window",
    "orders_brief",
    "collections_brief",
    "cash_brief",
    "expiry_brief",
]


@dataclass
class Brief:
    """What a report opens with.

    Attributes
    ----------
    cards : list of dict
        Headline cards: label, value, delta (texts).
    points : list of str
        Summary sentences.
    figures : dict
        key -> (value, unit) for the recorder; units "fen", "share", "days", "count".
    warnings : DataFrame or None
        The metric warnings the summary counts (:func:`medrisk.receivables.warnings`),
        for the report to list without computing them again; None when none
        were asked for.
    skipped : list of Skip
        Figures left out for want of data (each says what it needs).
    """

    cards: list[dict[str, str]] = field(default_factory=list)
    points: list[str] = field(default_factory=list)
    figures: dict[str, tuple[Any, str]] = field(default_factory=dict)
    warnings: pd.DataFrame | None = None
    skipped: list = field(default_factory=list)


def period_bounds(as_of) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]:
    """(start of the month of ``as_of``, ``as_of``, previous month end): the report period.

    The period is the month to date; the comparison point is the end of the
    month before.
    """
    end = pd.Timestamp(as_of).normalize()
    start = end.replace(day=1)
    prev_end = start - pd.Timedelta(days=1)
    return start, end, prev_end


def month_ends(as_of, months: int) -> pd.DatetimeIndex:
    """Return the last ``months`` month ends up to ``as_of``; ``as_of`` itself ends the list."""
    end = pd.Timestamp(as_of).normalize()
    ends = pd.date_range(end=end, periods=months, freq="ME")
    if ends[-1] != end:
        ends = ends[1:].append(pd.DatetimeIndex([end]))
    return ends


def _days(x) -> str:
    """``217`` days, or ``—`` when the figure cannot be computed (no sales in the period)."""
    return f"{float(x):.0f}" if x is not None and np.isfinite(float(x)) else "—"


def _delta(now: float, before: float, kind: str, language: str) -> str:
    if before is None or not np.isfinite(before) or not np.isfinite(now):
        return ""
    d = now - before
    arrow = "▲" if d > 0 else ("▼" if d < 0 else "＝")
    if kind == "fen":
        text = wan(abs(d))
    elif kind == "share":
        text = f"{abs(d) * 100:.1f}{'个百分点' if language == 'zh' else ' pts'}"
    else:
        text = f"{abs(d):.1f}{'天' if language == 'zh' else ' days'}"
    return f"{t('change_since', language)} {arrow} {text}"


def receivables_brief(ledger: Ledger, as_of, language: str = "zh",
                      thresholds: Mapping[str, Any] | None = None) -> Brief:
    """Headline receivables figures as of a date, with the change since last month end.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    language : {"zh", "en"}, default="zh"
    thresholds : dict, default=None
        Warning thresholds (see :func:`medrisk.receivables.warnings`).

    Returns
    -------
    Brief
    """
    check_language(language)
    start, end, prev_end = period_bounds(as_of)
    now = K.kpis(ledger, start, end).iloc[0]
    prev = K.kpis(ledger, prev_end.replace(day=1), prev_end).iloc[0]
    aging = R.aging(ledger, end)
    over_180 = (int(aging.filter(items=["181-365", "over_365"]).sum(axis=1).iloc[0])
                if len(aging) else 0)
    open_ar = int(now["closing_ar"])
    overdue = int(now["closing_overdue_ar"])
    warn = A.warnings(ledger, end, dict(thresholds)) if thresholds else None
    n_warn = 0 if warn is None else len(warn)
    b = Brief(warnings=warn)
    b.figures = {
        "open_ar": (open_ar, "fen"),
        "overdue_ar": (overdue, "fen"),
        "overdue_rate": (float(now["overdue_rate"]), "share"),
        "dso": (float(now["dso"]), "days"),
        "collection_rate": (float(now["collection_rate"]), "share"),
        "collected": (int(now["collected"]), "fen"),
        "sales": (int(now["sales"]), "fen"),
        "over_180": (over_180, "fen"),
        "warnings": (n_warn, "count"),
    }
    b.cards = [
        {"label": t("open_ar", language), "value": wan(open_ar),
         "delta": _delta(open_ar, int(prev["closing_ar"]), "fen", language)},
        {"label": t("overdue_ar", language), "value": wan(overdue),
         "delta": _delta(overdue, int(prev["closing_overdue_ar"]), "fen", language)},
        {"label": t("overdue_rate", language), "value": pct(now["overdue_rate"]),
         "delta": _delta(float(now["overdue_rate"]), float(prev["overdue_rate"]), "share",
                         language)},
        {"label": t("dso", language), "value": _days(now["dso"]),
         "delta": _delta(float(now["dso"]), float(prev["dso"]), "days", language)},
        {"label": t("collection_rate", language), "value": pct(now["collection_rate"]),
         "delta": _delta(float(now["collection_rate"]), float(prev["collection_rate"]), "share",
                         language)},
    ]
    days = int(now["days"])
    if language == "zh":
        b.points = [
            f"截至{end:%Y年%m月%d日}，应收余额 {wan(open_ar)} 元，其中逾期 {wan(overdue)} 元"
            f"（逾期率 {pct(now['overdue_rate'])}），逾期超过180天 {wan(over_180)} 元。",
            f"本期（{start:%m月%d日}至{end:%m月%d日}，{days}天）开票 {wan(now['sales'])} 元，"
            f"回款 {wan(now['collected'])} 元，回款率 {pct(now['collection_rate'])}；"
            + (f"DSO {_days(now['dso'])} 天（上月 {_days(prev['dso'])} 天）。"
             if np.isfinite(now["dso"]) else "本期没有开票，DSO 无法计算。"),
        ]
        if thresholds is not None:
            b.points.append(f"触发预警 {n_warn} 条，详见下文。" if n_warn else "本期无指标预警。")
    else:
        b.points = [
            f"As of {end:%d %b %Y}, open receivables are {wan(open_ar)} 元, of which "
            f"{wan(overdue)} 元 overdue (overdue rate {pct(now['overdue_rate'])}); "
            f"{wan(over_180)} 元 is more than 180 days past due.",
            f"In the period ({start:%d %b} to {end:%d %b}, {days} days) we invoiced "
            f"{wan(now['sales'])} 元 and collected {wan(now['collected'])} 元, "
            f"a collection rate of {pct(now['collection_rate'])}; "
            + (f"DSO is {_days(now['dso'])} days (last month {_days(prev['dso'])})."
               if np.isfinite(now["dso"]) else "DSO cannot be computed: nothing was invoiced."),
        ]
        if thresholds is not None:
            b.points.append(f"{n_warn} {'warning' if n_warn == 1 else 'warnings'} raised; "
                            "see below." if n_warn
                            else "No metric warnings this period.")
    return b


def plan_brief(attainment: pd.DataFrame, forecast: pd.DataFrame, backtest: pd.DataFrame,
               alerts: pd.DataFrame, language: str = "zh") -> Brief:
    """Headline planning figures from the planning engine's outputs.

    Parameters
    ----------
    attainment : DataFrame or None
        :func:`medrisk.planning.attainment` by a unit column; None without
        targets (the brief then says what attainment needs).
    forecast : DataFrame
        :func:`medrisk.planning.forecast_sales` (with its ``total`` rows).
    backtest : DataFrame
        :func:`medrisk.planning.backtest_sales`.
    alerts : DataFrame or None
        :func:`medrisk.planning.plan_alerts`.
    language : {"zh", "en"}, default="zh"

    Returns
    -------
    Brief
    """
    check_language(language)
    zh = language == "zh"
    total = forecast[forecast["unique_id"] == "total"].sort_values("ds")
    next3 = float(total["mean"].head(3).sum())
    next12 = float(total["mean"].sum())
    series = backtest[backtest["level"] == "series"].set_index("model")
    wape = float(series.loc["AutoETS", "wape"]) if "AutoETS" in series.index else float("nan")
    wape_sn = (float(series.loc["SeasonalNaive", "wape"]) if "SeasonalNaive" in series.index
               else float("nan"))
    b = Brief()
    b.figures = {
        "forecast_next_3m": (round(next3 * 100), "fen"),
        "forecast_next_12m": (round(next12 * 100), "fen"),
        "wape": (wape, "share"),
        "wape_seasonal_naive": (wape_sn, "share"),
    }
    b.cards = [
        {"label": "未来3个月预测销售" if zh else "Forecast, next 3 months",
         "value": wan(round(next3 * 100))},
        {"label": "未来12个月预测销售" if zh else "Forecast, next 12 months",
         "value": wan(round(next12 * 100))},
        {"label": "预测误差WAPE" if zh else "Forecast error (WAPE)", "value": pct(wape),
         "delta": ("季节朴素法 " if zh else "seasonal naive ") + pct(wape_sn)},
    ]
    wape_text = (f"回测误差(WAPE) {pct(wape)}，季节朴素法为 {pct(wape_sn)}" if np.isfinite(wape)
                 else "历史太短，无法回测误差" if zh else "")
    if not zh:
        wape_text = (f"back-tested error (WAPE) {pct(wape)} against {pct(wape_sn)} for seasonal "
                     "naive" if np.isfinite(wape) else "too little history to back-test the error")
    b.points = [
        f"预测未来3个月销售 {wan(round(next3 * 100))} 元，"
        f"未来12个月 {wan(round(next12 * 100))} 元；{wape_text}。" if zh else
        f"Forecast sales: {wan(round(next3 * 100))} 元 over the next 3 months, "
        f"{wan(round(next12 * 100))} 元 over 12; {wape_text}."
    ]
    if attainment is None or attainment.empty:
        b.skipped.append(Skip("plan_attainment", (Need("targets"),)))
        return b
    last = attainment[attainment["period"] == attainment["period"].max()]
    plan_ytd, actual_ytd = int(last["plan_ytd"].sum()), int(last["actual_ytd"].sum())
    ytd = actual_ytd / plan_ytd if plan_ytd else float("nan")
    period = pd.Timestamp(last["period"].max())
    n_alerts = 0 if alerts is None else len(alerts)
    b.figures.update({"attainment_ytd": (ytd, "share"), "actual_ytd": (actual_ytd, "fen"),
                      "plan_ytd": (plan_ytd, "fen"), "plan_alerts": (n_alerts, "count")})
    b.cards.insert(0, {"label": "累计达成率" if zh else "Attainment, year to date",
                       "value": pct(ytd), "delta": f"{wan(actual_ytd)} / {wan(plan_ytd)}"})
    if zh:
        b.points.insert(0, f"{period.year}年1-{period.month}月累计销售 {wan(actual_ytd)} 元，"
                           f"计划 {wan(plan_ytd)} 元，累计达成率 {pct(ytd)}。")
        b.points.append(f"计划预警 {n_alerts} 条。" if n_alerts else "本期无计划预警。")
    else:
        b.points.insert(0, f"Sales January to {period:%B %Y} are {wan(actual_ytd)} 元 against a "
                           f"plan of {wan(plan_ytd)} 元: {pct(ytd)} attainment.")
        b.points.append(f"{n_alerts} plan {'alert' if n_alerts == 1 else 'alerts'}."
                        if n_alerts else "No plan alerts this period.")
    return b


def _high_risk(ledger: Ledger, as_of, th) -> tuple[int, int]:
    """Exposure (fen) and number of customers at or above the flag tier.

    The tiers come from a credit model fitted on ``as_of``.
    """
    model = C.CreditModel(model="gbm", late_after_days=th.late_after_days).fit(ledger, as_of)
    scores = model.score_customers(ledger, as_of, lgd=th.lgd)
    tiers = T.assign_tiers(scores["probability"], th)
    flagged = np.asarray(pd.Series(tiers).isin(th.flag_tiers))
    exposure = scores["exposure"].to_numpy()
    return int(exposure[flagged].sum()), int((flagged & (exposure > 0)).sum())


def _versus(label_zh: str, label_en: str, value: int, language: str) -> str:
    return f"{label_zh} {wan(value)}" if language == "zh" else f"{label_en} {wan(value)}"


def management_brief(ledger: Ledger, as_of, language: str = "zh",
                     thresholds: Mapping[str, Any] | None = None,
                     risk_thresholds_file: str | None = None) -> tuple[Brief, pd.DataFrame]:
    """Compute the one-page executive summary, each figure with its change.

    Cash tied up (open receivables), overdue amount and share, DSO (each
    against the previous month end); high-risk exposure (against the
    exposure flagged at the previous month end by a model fitted then, so the
    earlier figure only uses what was known then); plan attainment year to date
    (against the month before); forecast sales and forecast cash-in for the
    next three months (against the actual sales and cash of the last three
    months); and the warnings.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    language : {"zh", "en"}, default="zh"
    thresholds : dict, default=None
        Receivables warning thresholds (see :func:`medrisk.receivables.warnings`).
    risk_thresholds_file : str, default=None
        Risk-tier thresholds (``params/risk-thresholds.yaml`` when None).

    Returns
    -------
    brief : Brief
    warnings : DataFrame
        Receivables warnings and plan alerts together, with message_zh / message_en.
    """
    check_language(language)
    zh = language == "zh"
    rec = receivables_brief(ledger, as_of, language, thresholds)
    _, end, prev_end = period_bounds(as_of)
    th = T.load_thresholds(risk_thresholds_file or None)
    skips: list[Skip] = []
    risk = attempt(skips, "high_risk", _high_risk, ledger, end, th)
    prev_risk = attempt([], "high_risk", _high_risk, ledger, prev_end, th) if risk else None
    open_ar = rec.figures["open_ar"][0]
    fc = Sa.forecast_sales(ledger, end, by=None, h=3)
    total = fc[fc["unique_id"] == Sa.TOTAL_ID]
    next3 = int(round(float(total["mean"].sum()) * 100))
    cash = CF.cash_in_forecast(ledger, end, horizon="3M", sales_forecast=fc)
    cash3 = int(round(float(cash.loc[cash["component"] == "total", "mean"].sum()) * 100))
    last3 = K.kpis(ledger, *window(end, 3)).iloc[0]
    att = attempt(skips, "plan_attainment", At.attainment, ledger, end, by="region")
    alerts = None if att is None else At.plan_alerts(ledger, end, by="region")
    plan = _plan_ytd(att)
    # company-level warnings and plan alerts first: the list is cut, and one line per
    # customer over its limit would push them out of sight
    rw = rec.warnings
    company = None if rw is None else rw[rw["scope"] == "company"]
    customers = None if rw is None else rw[rw["scope"] != "company"]
    warn = pd.concat([company, alerts, customers], ignore_index=True)
    b = Brief(skipped=skips)
    b.figures = dict(rec.figures)
    b.figures.update({"forecast_next_3m": (next3, "fen"), "cash_in_3m": (cash3, "fen"),
                      "warnings": (len(warn), "count")})
    points = []
    cards = list(rec.cards[:4])
    if risk is not None:
        (high_exposure, high_n), (prev_exposure, _) = risk, prev_risk or (None, None)
        b.figures.update({"high_risk_exposure": (high_exposure, "fen"),
                          "high_risk_exposure_prev": (prev_exposure, "fen"),
                          "high_risk_customers": (high_n, "count")})
        share = f"{'占应收' if zh else 'of AR'} {pct(high_exposure / open_ar)}" if open_ar else ""
        delta = _delta(high_exposure, prev_exposure, "fen", language) if prev_risk else ""
        cards.append({"label": t("high_risk", language), "value": wan(high_exposure),
                      "delta": ("；" if zh else "; ").join(x for x in (delta, share) if x)})
        before = (f"（上月末 {wan(prev_exposure)} 元）" if zh else
                  f" (last month end {wan(prev_exposure)} 元)") if prev_risk else ""
        points.append(f"高风险客户 {high_n} 家，敞口 {wan(high_exposure)} 元{before}。" if zh else
                      f"{high_n} high-risk customers with {wan(high_exposure)} 元 of "
                      f"exposure{before}.")
    if plan is not None:
        ytd, ytd_before, actual_ytd, plan_ytd = plan
        b.figures.update({"actual_ytd": (actual_ytd, "fen"), "plan_ytd": (plan_ytd, "fen"),
                          "attainment_ytd": (ytd, "share")})
        cards.append({"label": "累计计划达成率" if zh else "Plan attainment YTD", "value": pct(ytd),
                      "delta": _delta(ytd, ytd_before, "share", language)})
        points.append(f"累计计划达成率 {pct(ytd)}。" if zh else
                      f"Plan attainment year to date {pct(ytd)}.")
    cards += [
        {"label": "未来3个月预测销售" if zh else "Forecast sales, 3 months", "value": wan(next3),
         "delta": _versus("过去3个月实际", "last 3 months actual", int(last3["sales"]), language)},
        {"label": "未来3个月预计回款" if zh else "Forecast cash-in, 3 months", "value": wan(cash3),
         "delta": _versus("过去3个月回款", "last 3 months", int(last3["collected"]), language)},
    ]
    points.append(f"预计未来3个月销售 {wan(next3)} 元、回款 {wan(cash3)} 元"
                  f"（过去3个月销售 {wan(last3['sales'])} 元、回款 {wan(last3['collected'])} 元）；"
                  f"预警 {len(warn)} 条。" if zh else
                  f"The next 3 months should bring {wan(next3)} 元 of sales "
                  f"and {wan(cash3)} 元 of cash "
                  f"(last 3 months: {wan(last3['sales'])} 元 and {wan(last3['collected'])} 元); "
                  f"{len(warn)} {'warning' if len(warn) == 1 else 'warnings'}.")
    b.cards = cards
    b.points = rec.points[:2] + points
    return b, warn


def _plan_ytd(att: pd.DataFrame | None) -> tuple[float, float, int, int] | None:
    """(attainment YTD, the month before's, actual YTD, plan YTD) from an attainment table."""
    if att is None or att.empty:
        return None
    periods = sorted(att["period"].unique())

    def ytd_at(period) -> float:
        rows = att[att["period"] == period]
        plan = int(rows["plan_ytd"].sum())
        return int(rows["actual_ytd"].sum()) / plan if plan else float("nan")

    last = att[att["period"] == periods[-1]]
    before = ytd_at(periods[-2]) if len(periods) > 1 else float("nan")
    return (ytd_at(periods[-1]), before, int(last["actual_ytd"].sum()),
            int(last["plan_ytd"].sum()))


def window(as_of, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the ``months`` whole months ending at ``as_of``: (first day, ``as_of``)."""
    end = pd.Timestamp(as_of).normalize()
    start = (end + pd.Timedelta(days=1) - pd.DateOffset(months=months)).normalize()
    return start, end


def orders_brief(book: pd.DataFrame, stuck: pd.DataFrame, perf: pd.DataFrame,
                 outside: pd.DataFrame, language: str = "zh") -> Brief:
    """Summary of the orders and channels report from its parts.

    Parameters
    ----------
    book : DataFrame
        :func:`medrisk.orders.open_order_book`.
    stuck : DataFrame
        :func:`medrisk.orders.stuck_orders`.
    perf : DataFrame
        :func:`medrisk.orders.channel_performance` (channel as a column).
    outside : DataFrame
        :func:`medrisk.orders.out_of_band`.
    language : {"zh", "en"}, default="zh"
    """
    check_language(language)
    value = int(book["order_value"].sum())
    top = perf.sort_values("sales", ascending=False).iloc[0] if len(perf) else None
    stake = int(outside["revenue_at_stake"].sum()) if len(outside) else 0
    b = Brief()
    b.figures = {"order_book": (value, "fen"), "stuck_orders": (len(stuck), "count"),
                 "lines_out_of_band": (len(outside), "count"), "revenue_at_stake": (stake, "fen")}
    zh = language == "zh"
    b.cards = [
        {"label": "在手订单" if zh else "Open order book", "value": wan(value),
         "delta": f"{len(book)}"},
        {"label": "滞留订单" if zh else "Stuck orders", "value": f"{len(stuck):,}"},
        {"label": "折扣超标订单行" if zh else "Lines outside the discount band",
         "value": f"{len(outside):,}"},
    ]
    lead = ""
    if top is not None:
        name = t(f"channel.{top['channel']}", language)
        lead = (f"销售最多的渠道为{name}（{wan(top['sales'])} 元，同比 {pct(top['growth'])}）。"
                if zh else
                f"The largest channel is {name} ({wan(top['sales'])} 元, "
                f"{pct(top['growth'])} on last year).")
    b.points = [
        (f"在手订单 {len(book)} 张，金额 {wan(value)} 元（未开票敞口）；"
         f"{len(stuck)} 张订单滞留超过阈值。" if zh else
         f"{len(book)} open orders worth {wan(value)} 元 (unbilled exposure); "
         f"{len(stuck)} orders stuck beyond their threshold."),
        lead,
        (f"{len(outside)} 个订单行折扣超出渠道允许范围，涉及金额 {wan(stake)} 元。" if zh else
         f"{len(outside)} order lines are outside their channel's discount band, "
         f"{wan(stake)} 元 at stake."),
    ]
    return b


def collections_brief(calls: pd.DataFrame, tasks: pd.DataFrame, disputes: pd.DataFrame,
                      pay: pd.DataFrame, language: str = "zh") -> Brief:
    """Summary of the collections report: calls due today, dunning actions, disputes, pay.

    Parameters
    ----------
    calls : DataFrame
        ``Worklist.calls``.
    tasks : DataFrame
        ``DunningRun.tasks``.
    disputes : DataFrame
        ``DunningRun.disputes``.
    pay : DataFrame or None
        :func:`medrisk.dunning.collection_pay`; None without salespeople.
    language : {"zh", "en"}, default="zh"
    """
    check_language(language)
    overdue = int(calls["overdue_amount"].sum()) if len(calls) else 0
    collectors = calls["collector_id"].nunique() if len(calls) else 0
    total_pay = int(pay["pay"].sum()) if pay is not None and len(pay) else 0
    b = Brief()
    b.figures = {"calls": (len(calls), "count"), "calls_overdue_amount": (overdue, "fen"),
                 "dunning_actions": (len(tasks), "count"), "disputes": (len(disputes), "count")}
    if pay is not None:
        b.figures["pay_total"] = (total_pay, "fen")
    zh = language == "zh"
    b.cards = [
        {"label": "今日待联系客户" if zh else "Calls due today", "value": f"{len(calls):,}",
         "delta": (f"{collectors} 名催收人" if zh else f"{collectors} collectors")},
        {"label": "涉及逾期金额" if zh else "Overdue behind the calls", "value": wan(overdue)},
        {"label": "到期催收动作" if zh else "Dunning actions due", "value": f"{len(tasks):,}"},
        {"label": "争议发票" if zh else "Disputed invoices", "value": f"{len(disputes):,}"},
    ]
    b.points = [
        (f"今日 {collectors} 名催收人共需联系 {len(calls):,} 家客户，"
         f"涉及逾期 {wan(overdue)} 元，按优先级排序。" if zh else
         f"{collectors} collectors have {len(calls):,} customer calls today, "
         f"covering {wan(overdue)} 元 overdue, in priority order."),
        (f"按催收阶段今日应执行 {len(tasks):,} 项动作；"
         f"{len(disputes):,} 张争议发票转争议处理队列。" if zh else
         f"The dunning schedule has {len(tasks):,} actions due today; "
         f"{len(disputes):,} disputed invoices go to the dispute queue."),
    ]
    if pay is not None:
        b.points.append(f"本期回款挂钩薪酬合计 {wan(total_pay)} 元。" if zh else
                        f"Collection-linked pay for the period totals {wan(total_pay)} 元.")
    return b


def cash_brief(weekly: pd.DataFrame, monthly: pd.DataFrame,
               backtest_summary: pd.DataFrame | None, language: str = "zh") -> Brief:
    """Summary of the cash-in forecast: next 13 weeks and 12 months, with the 80% range.

    Parameters
    ----------
    weekly, monthly : DataFrame
        :func:`medrisk.cash.cash_in_forecast` with horizons "13W" and "12M" (元).
    backtest_summary : DataFrame or None
        ``CashBacktest.summary`` (method, wape ...), when a back-test was run.
    language : {"zh", "en"}, default="zh"
    """
    check_language(language)
    w = weekly[weekly["component"] == "total"]
    m = monthly[monthly["component"] == "total"]
    w13 = round(float(w["mean"].sum()) * 100)
    m12 = round(float(m["mean"].sum()) * 100)
    first = w.iloc[0] if len(w) else None
    b = Brief()
    b.figures = {"cash_in_13w": (w13, "fen"), "cash_in_12m": (m12, "fen")}
    zh = language == "zh"
    b.cards = [
        {"label": "未来13周预计回款" if zh else "Expected receipts, 13 weeks", "value": wan(w13)},
        {"label": "未来12个月预计回款" if zh else "Expected receipts, 12 months",
         "value": wan(m12)},
    ]
    if first is not None:
        b.cards.append({"label": "下周预计回款" if zh else "Next week",
                        "value": wan(round(first["mean"] * 100)),
                        "delta": (f"80%: {wan(round(first['lo-80'] * 100))} – "
                                  f"{wan(round(first['hi-80'] * 100))}")})
    b.points = [
        (f"预计未来13周回款 {wan(w13)} 元，未来12个月 {wan(m12)} 元（含现有应收与新增销售）。"
         if zh else
         f"Expected receipts: {wan(w13)} 元 over the next 13 weeks and {wan(m12)} 元 "
         "over 12 months (open invoices and new sales)."),
    ]
    if backtest_summary is not None and len(backtest_summary):
        s = backtest_summary
        b.points.append(("回测：" if zh else "Back-test: ") + "; ".join(
            f"{t('model.' + r.method, language)} WAPE {pct(r.wape)}" for r in s.itertuples()))
    return b


def expiry_brief(report, allocation, language: str = "zh") -> Brief:
    """Summary of the batch-expiry report.

    Parameters
    ----------
    report : ExpiryReport
        :func:`medrisk.supply.expiry_report`.
    allocation : FefoAllocation
        :func:`medrisk.supply.fefo_allocate`.
    language : {"zh", "en"}, default="zh"
    """
    check_language(language)
    b_ = report.batches
    stock = int(b_["stock_value"].sum())
    unsold = int(b_["expected_unsold_value"].sum())
    near = len(report.near_expiry) + len(report.near_expiry_cold_chain)
    short = int(allocation.lines["short"].sum()) if len(allocation.lines) else 0
    b = Brief()
    b.figures = {"stock_value": (stock, "fen"), "expected_unsold_value": (unsold, "fen"),
                 "near_expiry_batches": (near, "count"),
                 "expired_batches": (len(report.expired), "count"),
                 "blocked_batches": (len(report.blocked), "count"), "units_short": (short, "count")}
    zh = language == "zh"
    b.cards = [
        {"label": "库存金额(标价)" if zh else "Stock at list price", "value": wan(stock)},
        {"label": "预计过期未售" if zh else "Expected to expire unsold", "value": wan(unsold)},
        {"label": "近效期批次" if zh else "Near-expiry batches", "value": f"{near:,}"},
        {"label": "冻结批次(待检/不合格)" if zh else "Blocked batches",
         "value": f"{len(report.blocked):,}"},
    ]
    b.points = [
        (f"库存按标价计 {wan(stock)} 元，按预计需求先到期先出，"
         f"预计有 {wan(unsold)} 元将过期未售。" if zh else
         f"Stock is worth {wan(stock)} 元 at list price; consumed first expiry first out "
         f"against expected demand, {wan(unsold)} 元 is expected to expire unsold."),
        (f"近效期批次 {near} 个，已过期 {len(report.expired)} 个，"
         f"待检或不合格冻结 {len(report.blocked)} 个；"
         f"在手订单按先到期先出分配后仍缺 {short:,} 件。" if zh else
         f"{near} batches are near expiry, {len(report.expired)} expired "
         f"and {len(report.blocked)} blocked (quarantined or rejected); "
         f"after FEFO allocation of open orders {short:,} units are short."),
    ]
    return b
