"""Report language: Chinese and English labels, money and date formats.

Every text a report shows goes through :func:`t`, so a report in either language
is the same code with ``language="zh"`` or ``language="en"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from medrisk.exceptions import ParamsError

__all__ = ["LANGUAGES", "t", "has_label", "check_language", "pct", "date_text", "label_frame"]

LANGUAGES = ("zh", "en")

_LABELS: dict[str, tuple[str, str]] = {
    # report titles
    "title.00-management-summary": ("管理层摘要", "Management summary"),
    "title.10-receivables": ("应收账款与账龄", "Receivables and aging"),
    "title.20-credit-risk": ("信用风险", "Credit risk"),
    "title.30-collections": ("催收工作", "Collections"),
    "title.40-sales-plan": ("销售计划", "Sales plan"),
    "title.50-cash-forecast": ("回款预测", "Cash-in forecast"),
    "title.60-batch-expiry": ("批次效期", "Batch expiry"),
    "title.index": ("报告目录", "Report index"),
    # frame
    "as_of": ("截至日期", "As of"),
    "scope": ("范围", "Scope"),
    "scope.all": ("全公司", "Whole company"),
    "data": ("数据", "Data"),
    "generated": ("生成时间", "Generated"),
    "summary": ("摘要", "Summary"),
    "unit.yuan": ("金额单位：元", "Amounts in 元 (CNY)"),
    "unit.wan": ("金额单位：万元", "Amounts in 万元 (10,000 CNY)"),
    "change_since": ("较上期", "vs previous period"),
    "failed": ("失败", "failed"),
    "ok": ("完成", "done"),
    "report": ("报告", "Report"),
    "status": ("状态", "Status"),
    "seconds": ("耗时(秒)", "Seconds"),
    "headline": ("关键指标", "Headline figures"),
    "warnings": ("预警", "Warnings"),
    "no_warnings": ("无预警", "No warnings"),
    # receivables
    "open_ar": ("应收余额", "Open receivables"),
    "overdue_ar": ("逾期金额", "Overdue amount"),
    "overdue_rate": ("逾期率", "Overdue rate"),
    "dso": ("应收账款周转天数(DSO)", "DSO (days)"),
    "dso_countback": ("DSO(倒推法)", "DSO, countback (days)"),
    "best_dso": ("最佳DSO", "Best possible DSO"),
    "add": ("平均逾期天数(ADD)", "Average days delinquent"),
    "cei": ("回款效率指数(CEI)", "Collection effectiveness (CEI)"),
    "collection_rate": ("回款率", "Collection rate"),
    "on_time_rate": ("按时回款率", "On-time payment rate"),
    "bad_debt_rate": ("坏账率", "Bad-debt rate"),
    "ar_turnover": ("应收周转率", "AR turnover"),
    "sales": ("销售额", "Sales"),
    "collected": ("回款额", "Cash collected"),
    "aging": ("账龄分析", "Aging"),
    "aging.by": ("账龄分布：按{dim}", "Aging by {dim}"),
    "aging.trend": ("账龄结构月度变化", "Aging mix, month by month"),
    "kpi.trend": ("关键回款指标趋势", "Collection KPIs, month by month"),
    "top_overdue": ("逾期金额最多的客户", "Customers with the most overdue money"),
    "long_delinquent": ("长期拖欠客户(逾期超过{days}天)",
                        "Long-term delinquents (over {days} days past due)"),
    "status_mix": ("应收状态", "Receivable status"),
    "customer": ("客户", "Customer"),
    "customer_id": ("客户编码", "Customer id"),
    "amount": ("金额", "Amount"),
    "share": ("占比", "Share"),
    "month": ("月份", "Month"),
    "days_past_due": ("逾期天数", "Days past due"),
    "max_days_past_due": ("最长逾期天数", "Most days past due"),
    "open_invoices": ("未结发票数", "Open invoices"),
    "total": ("合计", "Total"),
    "dimension": ("维度", "Dimension"),
    # credit
    "model_quality": ("模型质量（按一年前已知信息训练，评估其后开出的发票）",
                      "Model quality (trained on what was known a year ago, "
                      "scored on invoices issued since)"),
    "risk_tiers": ("风险等级与高风险客户", "Risk tiers and flagged customers"),
    "credit_breaches": ("信用额度占用", "Credit-limit use"),
    "policy_replay": ("信用政策回放（过去12个月）", "Credit policy replay (past 12 months)"),
    "drift": ("特征漂移（PSI：<0.1 稳定，0.1-0.25 关注，>0.25 需重训）",
              "Drift (PSI: <0.1 stable, 0.1-0.25 watch, >0.25 retrain)"),
    "roc_auc": ("ROC AUC", "ROC AUC"), "pr_auc": ("PR AUC", "PR AUC"), "brier": ("Brier", "Brier"),
    "ks": ("KS", "KS"), "ece": ("校准误差ECE", "ECE"),
    "probability": ("逾期概率", "Probability late"), "exposure": ("敞口", "Exposure"),
    "reasons": ("主要原因", "Main reasons"), "credit_limit": ("信用额度", "Credit limit"),
    "utilisation": ("占用率", "Utilisation"), "item": ("项目", "Item"), "value": ("数值", "Value"),
    "feature": ("特征", "Feature"), "psi": ("PSI", "PSI"), "band": ("判断", "Band"),
    # orders and channels
    "title.15-orders-channels": ("订单与渠道", "Orders and channels"),
    "orders.funnel": ("订单到回款", "Order to cash"),
    "orders.stuck": ("滞留订单（超过阈值天数）", "Orders stuck longer than their threshold"),
    "orders.book": ("在手订单（已审批或已发货未开票）",
                    "Open order book (approved, or shipped not invoiced)"),
    "channels": ("渠道表现", "Channel performance"),
    "price": ("价格与折扣合规", "Price and discount compliance"),
    "recall": ("批次召回：涉及客户与应收", "Batch recall: customers and receivables at risk"),
    "orders": ("订单数", "Orders"), "order_id": ("订单号", "Order"), "stage": ("阶段", "Stage"),
    "days_in_stage": ("停留天数", "Days in stage"), "order_value": ("订单金额", "Order value"),
    "step": ("环节", "Step"), "p50": ("中位天数", "Median days"),
    "p90": ("90分位天数", "90th percentile days"), "growth": ("同比增长", "Growth"),
    "coverage": ("客户覆盖率", "Coverage"), "avg_discount": ("平均折扣", "Average discount"),
    "revenue_at_stake": ("涉及金额", "Revenue at stake"), "quantity": ("数量", "Quantity"),
    "open_amount": ("未结应收", "Open receivables"),
    # collections
    "worklists": ("今日催收清单（按优先级）", "Today's call lists, by priority"),
    "dunning": ("到期催收动作", "Dunning actions due"),
    "disputes": ("争议队列", "Dispute queue"),
    "pay": ("销售人员回款指标与挂钩薪酬", "Salesperson collection KPIs and linked pay"),
    "collector": ("催收人", "Collector"), "score": ("优先级分", "Score"), "why": ("原因", "Why"),
    "recipient": ("对象", "To"), "message": ("内容", "Message"),
    "salesperson": ("销售人员", "Salesperson"),
    "pay_amount": ("挂钩薪酬", "Pay"), "overdue_customers": ("逾期客户数", "Overdue customers"),
    # cash
    "cash.weekly": ("未来13周预计回款", "Expected receipts, next 13 weeks"),
    "cash.monthly": ("未来12个月预计回款", "Expected receipts, next 12 months"),
    "cash.backtest": ("回测：13周预测与朴素基准（近8周平均）",
                      "Back-test: 13-week forecast vs naive (last 8 weeks' average)"),
    "coverage_80": ("80%区间覆盖率", "80% interval coverage"),
    "coverage_95": ("95%区间覆盖率", "95% interval coverage"),
    # batches
    "expiry.near": ("近效期批次（常温）", "Near-expiry batches (room temperature)"),
    "expiry.cold": ("近效期批次（冷链）", "Near-expiry batches (cold chain)"),
    "expiry.warehouse": ("各仓库库存与预计过期", "Stock and expected expiry by warehouse"),
    "expiry.blocked": ("冻结批次（待检/不合格，不参与分配）",
                       "Blocked batches (quarantined or rejected, never allocated)"),
    "expiry.fefo": ("在手订单先到期先出分配", "FEFO allocation of open orders"),
    "batch_id": ("批号", "Batch"), "sku": ("物料", "SKU"), "warehouse": ("仓库", "Warehouse"),
    "expiry_date": ("有效期至", "Expires"), "days_to_expiry": ("剩余天数", "Days left"),
    "stock_on_hand": ("库存数量", "On hand"), "expected_unsold": ("预计未售", "Expected unsold"),
    "expected_unsold_value": ("预计过期金额", "Value expected to expire"),
    "state": ("状态", "State"), "stock_value": ("库存金额", "Stock value"),
    "batches": ("批次数", "Batches"), "qc_status": ("质检状态", "QC status"),
    # planning
    "quotas": ("{year}年销售指标分解（增长 {growth}）", "Quotas for {year} (growth {growth})"),
    "quota": ("年度指标", "Annual quota"),
    "model": ("模型", "Model"),
    "wape": ("WAPE", "WAPE"),
    "mase": ("MASE", "MASE"),
    "dim.category": ("产品类别", "category"),
    # dimensions
    "dim.region": ("大区", "region"),
    "dim.province": ("省份", "province"),
    "dim.channel": ("渠道", "channel"),
    "dim.customer_type": ("客户类型", "customer type"),
    "dim.team": ("销售团队", "team"),
    "dim.salesperson_id": ("销售人员", "salesperson"),
    "dim.product_line": ("产品线", "product line"),
    "dim.customer_id": ("客户", "customer"),
    # codes
    "customer_type.tertiary_hospital": ("三级医院", "Tertiary hospital"),
    "customer_type.secondary_hospital": ("二级医院", "Secondary hospital"),
    "customer_type.clinic": ("诊所", "Clinic"),
    "customer_type.pharmacy": ("药店", "Pharmacy"),
    "customer_type.distributor": ("经销商", "Distributor"),
    "customer_type.agent": ("代理商", "Agent"),
    "customer_type.other": ("其他", "Other"),
    "channel.direct": ("直销", "Direct"),
    "channel.distributor": ("经销", "Distributor"),
    "channel.agent": ("代理", "Agent"),
    "channel.ecommerce": ("电商", "E-commerce"),
    "status.open_not_due": ("未到期", "Not yet due"),
    "status.overdue": ("已逾期", "Overdue"),
    "status.paid": ("已结清", "Paid"),
    "status.written_off": ("已核销坏账", "Written off"),
    "status.credit_balance": ("贷方余额", "Credit balance"),
    "bucket.not_due": ("未到期", "Not due"),
    # models and levels in the back-test tables (present.table kind "label:model" / "label:level")
    "model.gbm": ("梯度提升模型", "Gradient boosting"),
    "model.scorecard": ("评分卡", "Scorecard"),
    "model.baseline": ("基准：客户历史逾期率", "Baseline: own past late rate"),
    "model.AutoETS": ("指数平滑(ETS)", "Exponential smoothing (ETS)"),
    "model.SeasonalNaive": ("季节性朴素(去年同月)", "Seasonal naive (same month last year)"),
    "model.Naive": ("朴素(上月值)", "Naive (last month)"),
    "model.HistoricAverage": ("历史均值", "Historic average"),
    "model.cash_in_forecast": ("回款预测", "Cash-in forecast"),
    "model.naive": ("朴素(近8周均值)", "Naive (last 8 weeks' average)"),
    "level.series": ("各明细序列", "Each series"),
    "level.total": ("合计", "Total"),
    # headline figures of the reports (the run index shows them)
    "over_180": ("逾期超180天", "Over 180 days past due"),
    "long_delinquents": ("长期拖欠客户", "Long-term delinquent customers"),
    "high_risk_customers": ("高风险客户数", "High-risk customers"),
    "high_risk_exposure": ("高风险敞口", "High-risk exposure"),
    "high_risk_exposure_prev": ("上月末高风险敞口", "High-risk exposure, last month end"),
    "credit_limit_breaches": ("超信用额度客户", "Customers over credit limit"),
    "cheapest_threshold": ("成本最低的标记阈值", "Cheapest flag threshold"),
    "roc_auc_baseline": ("ROC AUC(基准)", "ROC AUC (baseline)"),
    "attainment_ytd": ("累计计划达成率", "Plan attainment YTD"),
    "actual_ytd": ("累计实际销售", "Actual sales YTD"),
    "plan_ytd": ("累计计划销售", "Planned sales YTD"),
    "forecast_next_3m": ("未来3个月预测销售", "Forecast sales, next 3 months"),
    "forecast_next_12m": ("未来12个月预测销售", "Forecast sales, next 12 months"),
    "plan_alerts": ("计划预警", "Plan alerts"),
    "wape_seasonal_naive": ("WAPE(季节性朴素)", "WAPE (seasonal naive)"),
    "cash_in_13w": ("未来13周预计回款", "Expected receipts, 13 weeks"),
    "cash_in_12m": ("未来12个月预计回款", "Expected receipts, 12 months"),
    "cash_in_3m": ("未来3个月预计回款", "Expected receipts, next 3 months"),
    "calls": ("今日待呼叫客户", "Customers to call today"),
    "calls_overdue_amount": ("待呼叫客户逾期金额", "Overdue amount of customers to call"),
    "dunning_actions": ("到期催收动作", "Dunning actions due"),
    "pay_total": ("回款挂钩薪酬合计", "Collection-linked pay, total"),
    "order_book": ("在手订单", "Open order book"),
    "stuck_orders": ("滞留订单", "Stuck orders"),
    "lines_out_of_band": ("价格越界订单行", "Order lines outside the price band"),
    "blocked_batches": ("冻结批次", "Blocked batches"),
    "expired_batches": ("已过期批次", "Expired batches"),
    "near_expiry_batches": ("近效期批次", "Near-expiry batches"),
    "units_short": ("缺货数量", "Units short"),
    # codes shown in report tables, in the reader's language
    "invoice": ("发票", "Invoice"),
    "stage.pre_due_reminder": ("到期前提醒", "Reminder before due"),
    "stage.overdue_call": ("逾期电话催收", "Overdue call"),
    "stage.supervisor_escalation": ("升级至销售主管", "Escalation to supervisor"),
    "stage.finance_letter": ("财务催款函", "Finance letter"),
    "stage.legal_review": ("法务审查", "Legal review"),
    "recipient.customer_contact": ("客户联系人", "Customer contact"),
    "recipient.salesperson": ("销售人员", "Salesperson"),
    "recipient.supervisor": ("销售主管", "Sales supervisor"),
    "recipient.finance": ("财务", "Finance"),
    "recipient.legal": ("法务", "Legal"),
    "order_stage.entered": ("已录入", "Entered"),
    "order_stage.approved": ("已审核", "Approved"),
    "order_stage.shipped": ("已发货", "Shipped"),
    "order_stage.invoiced": ("已开票", "Invoiced"),
    "order_stage.partly_paid": ("部分回款", "Partly paid"),
    "order_stage.paid": ("已回款", "Paid"),
    "order_stage.cancelled": ("已取消", "Cancelled"),
    "step.days_order_to_ship": ("下单到发货（天）", "Order to shipment (days)"),
    "step.days_ship_to_invoice": ("发货到开票（天）", "Shipment to invoice (days)"),
    "step.days_invoice_to_cash": ("开票到回款（天）", "Invoice to cash (days)"),
    "step.days_order_to_cash": ("下单到回款（天）", "Order to cash (days)"),
    "qc.released": ("合格放行", "Released"),
    "qc.quarantined": ("待检", "Quarantined (awaiting QC)"),
    "qc.rejected": ("不合格", "Rejected"),
    "expiry_state.blocked": ("冻结（待检/不合格）", "Blocked (QC hold or rejected)"),
    "expiry_state.expired": ("已过期", "Expired"),
    "expiry_state.near_expiry": ("近效期", "Near expiry"),
    "expiry_state.ok": ("正常", "Normal"),
    "band.stable": ("稳定", "Stable"),
    "band.watch": ("需关注", "Watch"),
    "band.retrain": ("变化大，建议重训", "Shifted: retrain"),
    "feature.score": ("模型评分", "Model score"),
    "feature.log_amount": ("发票金额", "Invoice amount"),
    "feature.amount_vs_usual": ("金额与平时之比", "Amount against usual"),
    "feature.terms_days": ("账期", "Payment terms"),
    "feature.invoice_month": ("开票月份", "Invoice month"),
    "feature.due_festival_offset": ("到期日距春节", "Due date from Spring Festival"),
    "feature.product_line": ("产品线", "Product line"),
    "feature.customer_type": ("客户类型", "Customer type"),
    "feature.region": ("大区", "Region"),
    "feature.channel": ("渠道", "Channel"),
    "feature.relationship_days": ("合作时长", "Years as customer"),
    "feature.log_credit_limit": ("信用额度", "Credit limit"),
    "feature.log_sales_365d": ("近一年采购额", "Purchases, last year"),
    "feature.invoices_to_date": ("累计发票数", "Invoices to date"),
    "feature.hist_known": ("已知结果的发票数", "Invoices with a known outcome"),
    "feature.hist_late_share": ("历史逾期比例", "Past late share"),
    "feature.hist_recent_known": ("近期已知结果的发票数", "Recent invoices with an outcome"),
    "feature.hist_recent_late": ("近期逾期发票数", "Recent late invoices"),
    "feature.hist_late_trend": ("逾期比例变化", "Change in late share"),
    "feature.hist_settled": ("已结清发票数", "Invoices settled"),
    "feature.hist_mean_delay": ("平均付款时间（相对到期日）", "Mean payment day against due"),
    "feature.hist_mean_days_late": ("平均逾期天数", "Mean days late"),
    "feature.hist_worst_days_late": ("最长逾期天数", "Most days late"),
    "feature.hist_recent_delay": ("近期付款时间（相对到期日）", "Recent payment day against due"),
    "feature.hist_delay_trend": ("付款时间变化", "Change in payment day"),
    "feature.hist_written_off": ("坏账核销发票数", "Invoices written off"),
    "feature.disputes": ("争议次数", "Disputes"),
    "feature.promises_made": ("付款承诺次数", "Promises to pay"),
    "feature.promises_broken": ("未兑现承诺次数", "Broken promises"),
    "feature.dunning_90d": ("近90天催收次数", "Collection actions, 90 days"),
    "feature.log_open_amount": ("未结应收", "Open receivables"),
    "feature.log_overdue_amount": ("逾期金额", "Overdue amount"),
    "feature.overdue_share": ("逾期占比", "Overdue share"),
    "feature.late_open_share": ("严重逾期占比", "Share far past due"),
    "feature.overdue_invoices": ("逾期发票数", "Overdue invoices"),
    "feature.max_days_past_due": ("最长逾期天数（未结）", "Most days past due (open)"),
    "feature.utilisation": ("额度占用率", "Credit-limit use"),
    "feature.utilisation_after": ("开票后额度占用率", "Credit-limit use after the invoice"),
    "feature.log_unapplied_cash": ("未核销预收款", "Unapplied cash"),
    "feature.sp_log_open_amount": ("所属销售的未结应收", "Salesperson's open book"),
    "feature.sp_overdue_share": ("所属销售的逾期占比", "Salesperson's overdue share"),
    "feature.sp_late_share": ("所属销售客户的逾期率", "Salesperson's customers' late rate"),
    # data coverage and sections left out
    "data_ends": ("注意：数据截至 {date}，比报告日 {as_of} 早一个多月；之后的开票和回款不在其中。",
                  "Note: the data ends {date}, more than a month before the report date {as_of}; "
                  "invoices and payments after it are not included."),
    "skipped": ("未显示的部分", "Not shown"),
    "unassigned": ("未指定", "unassigned"),
    "aging.company": ("全公司账龄分布", "Aging of the whole company"),
    "plan_attainment": ("计划达成", "Plan attainment"),
    "high_risk": ("高风险敞口", "High-risk exposure"),
}


def check_language(language: str) -> str:
    """Return ``language`` if supported, else raise a ParamsError naming the choices."""
    if language not in LANGUAGES:
        raise ParamsError(f"language={language!r} is not supported; "
                          "possible values are 'zh' and 'en'.")
    return language


def t(key: str, language: str = "zh", **fields) -> str:
    """Return the label ``key`` in ``language``, with ``{fields}`` filled in.

    Unknown keys fall back to bucket labels (``"1-30"`` → ``"1-30天"``) and then
    to the key itself, so a missing label shows up in review rather than failing.
    """
    check_language(language)
    pair = _LABELS.get(key)
    if pair is None:
        if key.startswith("bucket."):
            code = key[len("bucket."):]
            if code.startswith("over_"):
                days = code[len("over_"):]
                return f"{days}天以上" if language == "zh" else f"over {days} days"
            return f"{code}天" if language == "zh" else f"{code} days"
        return key.split(".", 1)[-1]
    text = pair[0] if language == "zh" else pair[1]
    return text.format(**fields) if fields else text


def has_label(key: str) -> bool:
    """Return True when ``key`` has its own zh/en label (not the fallback to the key)."""
    return key in _LABELS


def label_codes(values, kind: str, language: str) -> list[str]:
    """Translate codes such as customer types (``kind="customer_type"``)."""
    return [t(f"{kind}.{v}", language) if f"{kind}.{v}" in _LABELS else str(v) for v in values]


def pct(x, decimals: int = 1) -> str:
    """``12.3%`` from a fraction; ``—`` for a missing value."""
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    return f"{100 * float(x):.{decimals}f}%"


def date_text(d, language: str = "zh") -> str:
    """``2025年10月31日`` or ``31 Oct 2025``."""
    ts = pd.Timestamp(d)
    return f"{ts.year}年{ts.month}月{ts.day}日" if language == "zh" else ts.strftime("%d %b %Y")


def label_frame(frame: pd.DataFrame, language: str, prefix: str = "") -> pd.DataFrame:
    """Rename columns that have labels (``prefix + column``) into ``language``."""
    return frame.rename(columns={c: t(prefix + c, language) for c in frame.columns
                                 if (prefix + c) in _LABELS})
