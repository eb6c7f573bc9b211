"""Charts for the reports: functions that take data and return a plotly Figure.

They never show or save. Money is drawn in 万元 (10,000 CNY), the unit Chinese
management reads; hover texts give exact 元. Interactivity a reader of a static
HTML page needs (switching the dimension or the metric, moving a threshold) is
built into the figure with plotly dropdowns and sliders, because a static page
has no kernel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from medrisk.i18n import t

__all__ = [
    "FONT",
    "base_layout",
    "aging_by_dimension",
    "aging_trend",
    "kpi_trend_chart",
    "top_customers",
    "threshold_chart",
    "forecast_chart",
    "attainment_chart",
    "roc_chart",
    "calibration_chart",
    "lift_chart",
    "tier_chart",
    "funnel_chart",
    "channel_chart",
    "cash_in_chart",
    "expiry_chart",
    "collector_chart",
]

FONT = ("Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, Helvetica, Arial, "
        "sans-serif")
#: Bucket colours from "not due" (calm) to "very late" (alarm).
BUCKET_COLOURS = ["#4c9a6a", "#a5c96a", "#f2d45c", "#f4a259",
                  "#e76f51", "#c0392b", "#7b1e1e", "#4a0d0d"]
LINE_COLOURS = ["#1f5f8b", "#e76f51", "#4c9a6a", "#8e6bb8", "#f2a541", "#5b6770"]


def _wan(fen) -> np.ndarray:
    return np.asarray(fen, dtype=float) / 1_000_000


def base_layout(fig: go.Figure, title: str, *, y_title: str = "", x_title: str = "",
                height: int = 420) -> go.Figure:
    """Apply the common look: white template, CJK-capable font, title, legend on top."""
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 18}},
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 70, "r": 30, "t": 90, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "title": None},
        hoverlabel={"font": {"family": FONT}},
    )
    # 12,000 rather than 12k: on a 万元 axis "k" would read as thousands of 万
    fig.update_xaxes(exponentformat="none", separatethousands=True)
    fig.update_yaxes(exponentformat="none", separatethousands=True)
    if y_title:
        fig.update_yaxes(title_text=y_title)
    if x_title:
        fig.update_xaxes(title_text=x_title)
    return fig


def _bucket_names(frame: pd.DataFrame, language: str) -> list[tuple[str, str]]:
    labels_zh = frame.attrs.get("labels_zh", {})
    cols = [c for c in frame.columns if c != "total"]
    return [(c, labels_zh.get(c, c) if language == "zh" else t(f"bucket.{c}", "en")) for c in cols]


def _group_labels(values, language: str = "zh") -> list[str]:
    """Return the labels of group values for a chart: a missing value is 未指定 / unassigned.

    Examples
    --------
    >>> _group_labels(["华东", None, float("nan"), ("华东", None)], "en")
    ['华东', 'unassigned', 'unassigned', '华东 / unassigned']
    """
    def one(v) -> str:
        if isinstance(v, tuple):
            return " / ".join(one(x) for x in v)
        return t("unassigned", language) if v is None or (isinstance(v, float) and v != v) \
            else str(v)
    return [one(v) for v in values]


def aging_by_dimension(agings: Mapping[str, pd.DataFrame], language: str = "zh",
                       title: str | None = None,
                       company: pd.DataFrame | None = None) -> go.Figure:
    """Stacked bars of open amounts by aging bucket, one bar per group.

    A dropdown switches between dimensions (region, channel, customer type ...).

    Parameters
    ----------
    agings : dict of str to DataFrame
        Dimension name -> output of :func:`medrisk.receivables.aging` with
        ``by=`` that dimension and ``values="amount"`` (fen).
    language : {"zh", "en"}, default="zh"
    title : str, default=None
    company : DataFrame, default=None
        :func:`medrisk.receivables.aging` without ``by``: shown as one bar for
        the whole company when ``agings`` is empty (a ledger with no
        dimension to group by).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if not agings and company is not None:
        whole = company.set_axis(pd.Index([t("scope.all", language)], name="company"))
        return aging_by_dimension({"company": whole}, language,
                                  title or t("aging.company", language))
    fig = go.Figure()
    dims = list(agings)
    n_traces = []
    for d_i, dim in enumerate(dims):
        frame = agings[dim].sort_values("total")
        groups = _group_labels(frame.index, language)
        if dim in ("customer_type", "channel"):
            groups = [t(f"{dim}.{g}", language) if g is not None else label
                      for g, label in zip(frame.index, groups, strict=True)]
        buckets = _bucket_names(frame, language)
        for b_i, (col, label) in enumerate(buckets):
            values = frame[col].to_numpy()
            fig.add_trace(go.Bar(
                y=groups, x=_wan(values), name=label, orientation="h",
                marker_color=BUCKET_COLOURS[b_i % len(BUCKET_COLOURS)],
                visible=d_i == 0, legendgroup=col, showlegend=True,
                customdata=np.stack([values / 100], axis=-1),
                hovertemplate="%{y}<br>" + label + ": ¥%{customdata[0]:,.2f}<extra></extra>",
            ))
        n_traces.append(len(buckets))
    dim_label = {d: t(f"dim.{d}", language) for d in dims}
    buttons = []
    start = 0
    total = sum(n_traces)
    for dim, n in zip(dims, n_traces, strict=True):
        visible = [False] * total
        visible[start:start + n] = [True] * n
        start += n
        buttons.append({"label": dim_label[dim], "method": "update",
                        "args": [{"visible": visible},
                                 {"title.text": title
                                  or t("aging.by", language, dim=dim_label[dim])}]})
    fig.update_layout(barmode="stack")
    if len(dims) > 1:
        fig.update_layout(updatemenus=[{"buttons": buttons, "direction": "down", "x": 1.0,
                                        "xanchor": "right", "y": 1.22, "yanchor": "top",
                                        "showactive": True}])
    first = dims[0] if dims else ""
    height = max(380, 28 * max((len(a) for a in agings.values()), default=5) + 160)
    return base_layout(fig, title or t("aging.by", language, dim=dim_label.get(first, "")),
                       x_title=t("unit.wan", language), height=height)


def aging_trend(series: pd.DataFrame, language: str = "zh", title: str | None = None) -> go.Figure:
    """Stacked monthly bars of the open amount by bucket (output of ``aging_series``)."""
    fig = go.Figure()
    x = pd.to_datetime(series.index)
    for b_i, (col, label) in enumerate(_bucket_names(series, language)):
        values = series[col].to_numpy()
        fig.add_trace(go.Bar(
            x=x, y=_wan(values), name=label, marker_color=BUCKET_COLOURS[b_i % len(BUCKET_COLOURS)],
            customdata=np.stack([values / 100], axis=-1),
            hovertemplate="%{x|%Y-%m-%d}<br>" + label + ": ¥%{customdata[0]:,.2f}<extra></extra>",
        ))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickformat="%Y-%m")
    return base_layout(fig, title or t("aging.trend", language), y_title=t("unit.wan", language))


_DAY_METRICS = ("dso", "dso_countback", "best_possible_dso", "average_days_delinquent")
_RATE_METRICS = ("collection_rate", "overdue_rate", "cei", "on_time_rate_amount")
_METRIC_KEYS = {"average_days_delinquent": "add", "best_possible_dso": "best_dso",
                "on_time_rate_amount": "on_time_rate"}


def kpi_trend_chart(trend: pd.DataFrame, language: str = "zh",
                    title: str | None = None) -> go.Figure:
    """Monthly collection KPIs: a dropdown switches between days (DSO family) and rates.

    Parameters
    ----------
    trend : DataFrame
        Output of :func:`medrisk.receivables.kpi_trend` (one row per period).
    language : {"zh", "en"}, default="zh"
    title : str, default=None
    """
    fig = go.Figure()
    x = pd.to_datetime(trend.index)
    groups = [(_DAY_METRICS, "days"), (_RATE_METRICS, "rates")]
    counts = []
    for g_i, (metrics, kind) in enumerate(groups):
        present = [m for m in metrics if m in trend.columns]
        for m_i, m in enumerate(present):
            y = trend[m].to_numpy(dtype=float)
            name = t(_METRIC_KEYS.get(m, m), language)
            fmt = "%{y:.1f}" if kind == "days" else "%{y:.1%}"
            fig.add_trace(go.Scatter(
                x=x, y=y, name=name, mode="lines+markers", visible=g_i == 0,
                line={"color": LINE_COLOURS[m_i % len(LINE_COLOURS)], "width": 2},
                hovertemplate="%{x|%Y-%m}<br>" + name + ": " + fmt + "<extra></extra>",
            ))
        counts.append(len(present))
    total = sum(counts)
    labels = {"days": ("天数指标", "Days"), "rates": ("比率指标", "Rates")}
    buttons, start = [], 0
    for (_metrics, kind), n in zip(groups, counts, strict=True):
        visible = [False] * total
        visible[start:start + n] = [True] * n
        start += n
        zh, en = labels[kind]
        buttons.append({"label": zh if language == "zh" else en, "method": "update",
                        "args": [{"visible": visible},
                                 {"yaxis.tickformat": ".0%" if kind == "rates" else ",.0f",
                                  "yaxis.title.text": ("天" if language == "zh" else "days")
                                  if kind == "days" else ""}]})
    fig.update_layout(updatemenus=[{"buttons": buttons, "direction": "right", "type": "buttons",
                                    "x": 1.0, "xanchor": "right", "y": 1.22, "yanchor": "top"}])
    fig.update_xaxes(tickformat="%Y-%m")
    return base_layout(fig, title or t("kpi.trend", language),
                       y_title="天" if language == "zh" else "days")


def top_customers(frame: pd.DataFrame, language: str = "zh", value: str = "overdue_amount",
                  title: str | None = None, label_columns: Sequence[str] = ("name", "customer_id")
                  ) -> go.Figure:
    """Horizontal bars of the customers with the largest ``value`` (fen)."""
    frame = frame.sort_values(value)
    names = frame[list(label_columns)[0]].fillna(frame["customer_id"]).astype(str)
    values = frame[value].to_numpy()
    fig = go.Figure(go.Bar(
        y=names, x=_wan(values), orientation="h", marker_color="#c0392b",
        customdata=np.stack([values / 100, frame["customer_id"].astype(str).to_numpy()], axis=-1),
        hovertemplate="%{y} (%{customdata[1]})<br>¥%{customdata[0]:,.2f}<extra></extra>",
        text=[f"{v:,.1f}" for v in _wan(values)], textposition="outside",
    ))
    return base_layout(fig, title or t("top_overdue", language), x_title=t("unit.wan", language),
                       height=max(360, 32 * len(frame) + 140))


def forecast_chart(history: pd.DataFrame, forecast: pd.DataFrame, language: str = "zh",
                   title: str | None = None) -> go.Figure:
    """Actual monthly sales and the forecast with 80% and 95% bands, one series at a time.

    A dropdown switches between the series (``total`` first, then the groups).

    Parameters
    ----------
    history : DataFrame
        :func:`medrisk.planning.monthly_sales` output (unique_id, ds, y in 元).
    forecast : DataFrame
        :func:`medrisk.planning.forecast_sales` output (unique_id, ds, mean, lo-/hi-80/95 in 元).
    language : {"zh", "en"}, default="zh"
    title : str, default=None
    """
    if "total" not in set(history["unique_id"]):
        total = history.groupby("ds", as_index=False)["y"].sum().assign(unique_id="total")
        history = pd.concat([history, total], ignore_index=True)
    ids = ["total"] + sorted(u for u in forecast["unique_id"].unique() if u != "total")
    names = {"actual": ("实际", "Actual"), "mean": ("预测", "Forecast"),
             "b95": ("95%区间", "95% interval"), "b80": ("80%区间", "80% interval")}

    def n(key):
        return names[key][0] if language == "zh" else names[key][1]

    fig = go.Figure()
    per = 4
    for s_i, uid in enumerate(ids):
        h = history[history["unique_id"] == uid].sort_values("ds")
        f = forecast[forecast["unique_id"] == uid].sort_values("ds")
        vis = s_i == 0
        x_band = list(f["ds"]) + list(f["ds"][::-1])
        for lo, hi, key, colour in (("lo-95", "hi-95", "b95", "rgba(31,95,139,0.12)"),
                                    ("lo-80", "hi-80", "b80", "rgba(31,95,139,0.25)")):
            fig.add_trace(go.Scatter(
                x=x_band, y=list(f[hi] / 10_000) + list(f[lo][::-1] / 10_000), fill="toself",
                fillcolor=colour, line={"width": 0}, name=n(key), visible=vis, hoverinfo="skip",
                showlegend=True))
        fig.add_trace(go.Scatter(x=h["ds"], y=h["y"] / 10_000, name=n("actual"),
                                 mode="lines+markers",
                                 line={"color": "#333", "width": 2}, visible=vis,
                                 hovertemplate="%{x|%Y-%m}: %{y:,.1f}万<extra></extra>"))
        model = f["model"].iloc[0] if len(f) else ""
        fig.add_trace(go.Scatter(x=f["ds"], y=f["mean"] / 10_000, name=f"{n('mean')} ({model})",
                                 mode="lines+markers",
                                 line={"color": "#1f5f8b", "width": 2, "dash": "dot"},
                                 visible=vis,
                                 hovertemplate="%{x|%Y-%m}: %{y:,.1f}万<extra></extra>"))
    total_label = "全公司" if language == "zh" else "Whole company"
    buttons = []
    for s_i, uid in enumerate(ids):
        visible = [False] * (per * len(ids))
        visible[s_i * per:(s_i + 1) * per] = [True] * per
        buttons.append({"label": total_label if uid == "total" else str(uid), "method": "update",
                        "args": [{"visible": visible}]})
    fig.update_layout(updatemenus=[{"buttons": buttons, "direction": "down", "x": 1.0,
                                    "xanchor": "right", "y": 1.22, "yanchor": "top"}])
    fig.update_xaxes(tickformat="%Y-%m")
    default = "月度销售额与预测" if language == "zh" else "Monthly sales and forecast"
    return base_layout(fig, title or default, y_title=t("unit.wan", language))


def attainment_chart(att: pd.DataFrame, by: str, language: str = "zh",
                     title: str | None = None) -> go.Figure:
    """Year-to-date plan attainment per unit at the latest month, against 100%.

    Parameters
    ----------
    att : DataFrame
        :func:`medrisk.planning.attainment` output (``by``, period, plan_ytd,
        actual_ytd, attainment_ytd).
    by : str
        The unit column, e.g. ``"region"``.
    """
    last = att[att["period"] == att["period"].max()].sort_values("attainment_ytd")
    colours = ["#c0392b" if a < 0.85 else ("#f2a541" if a < 1 else "#4c9a6a")
               for a in last["attainment_ytd"]]
    fig = go.Figure(go.Bar(
        y=_group_labels(last[by], language), x=last["attainment_ytd"], orientation="h",
        marker_color=colours,
        customdata=np.stack([last["actual_ytd"] / 100, last["plan_ytd"] / 100], axis=-1),
        text=[f"{a:.0%}" for a in last["attainment_ytd"]], textposition="outside",
        hovertemplate=("%{y}: %{x:.1%}<br>¥%{customdata[0]:,.0f} / ¥%{customdata[1]:,.0f}"
                       "<extra></extra>"),
    ))
    fig.add_vline(x=1.0, line_dash="dash", line_color="#555")
    fig.update_xaxes(tickformat=".0%")
    period = pd.Timestamp(att["period"].max())
    default = (f"{period.year}年1-{period.month}月累计计划达成率" if language == "zh"
               else f"Plan attainment, year to date (Jan–{period:%b %Y})")
    return base_layout(fig, title or default, height=max(340, 34 * len(last) + 140))


def _model_name(m: str, language: str) -> str:
    return t(f"model.{m}", language)


def roc_chart(scores: pd.DataFrame, models: Sequence[str], language: str = "zh",
              label_col: str = "label") -> go.Figure:
    """ROC curves of several models on the same back-test invoices."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = go.Figure()
    y = scores[label_col].to_numpy()
    for i, m in enumerate(models):
        fpr, tpr, _ = roc_curve(y, scores[m].to_numpy())
        auc = roc_auc_score(y, scores[m].to_numpy())
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines",
                                 name=f"{_model_name(m, language)} (AUC {auc:.3f})",
                                 line={"color": LINE_COLOURS[i % len(LINE_COLOURS)], "width": 2}))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines",
                             line={"dash": "dash", "color": "#999"},
                             showlegend=False, hoverinfo="skip"))
    zh = language == "zh"
    return base_layout(fig, "ROC曲线（回测）" if zh else "ROC curve (back-test)",
                       x_title="误报率" if zh else "False positive rate",
                       y_title="命中率" if zh else "True positive rate", height=440)


def calibration_chart(scores: pd.DataFrame, models: Sequence[str], language: str = "zh",
                      label_col: str = "label", bins: int = 10) -> go.Figure:
    """Predicted against observed late rate by probability decile (a reliability diagram)."""
    fig = go.Figure()
    y = scores[label_col].to_numpy(dtype=float)
    for i, m in enumerate(models):
        p = scores[m].to_numpy(dtype=float)
        q = pd.qcut(p, bins, labels=False, duplicates="drop")
        g = pd.DataFrame({"p": p, "y": y, "q": q}).groupby("q").mean()
        fig.add_trace(go.Scatter(x=g["p"], y=g["y"], mode="lines+markers",
                                 name=_model_name(m, language),
                                 line={"color": LINE_COLOURS[i % len(LINE_COLOURS)]}))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines",
                             line={"dash": "dash", "color": "#999"},
                             showlegend=False, hoverinfo="skip"))
    zh = language == "zh"
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(tickformat=".0%")
    return base_layout(fig, "校准：预测与实际逾期率" if zh
                       else "Calibration: predicted vs actual late rate",
                       x_title="预测概率" if zh else "Predicted probability",
                       y_title="实际逾期率" if zh else "Observed late rate", height=440)


def lift_chart(lift: pd.DataFrame, language: str = "zh") -> go.Figure:
    """Late rate by score decile (1 = riskiest) for each model."""
    fig = go.Figure()
    for i, (m, part) in enumerate(lift.groupby("model", sort=False)):
        fig.add_trace(go.Bar(x=part["decile"], y=part["bad_rate"], name=_model_name(m, language),
                             marker_color=LINE_COLOURS[i % len(LINE_COLOURS)]))
    zh = language == "zh"
    fig.update_yaxes(tickformat=".0%")
    return base_layout(fig, "按评分十分位的逾期率" if zh else "Late rate by score decile",
                       x_title="十分位（1=风险最高）" if zh else "Decile (1 = riskiest)",
                       y_title="逾期率" if zh else "Late rate", height=400)


def tier_chart(tiers: pd.DataFrame, language: str = "zh") -> go.Figure:
    """Plot customers and exposure (万元) per risk tier."""
    colours = {"low": "#4c9a6a", "medium": "#f2d45c", "high": "#e76f51", "very_high": "#7b1e1e"}
    labels = tiers["tier_zh"] if language == "zh" else [t.replace("_", " ") for t in tiers.index]
    fig = go.Figure(go.Bar(
        x=list(labels), y=tiers["exposure"].to_numpy(dtype=float) / 10_000,
        marker_color=[colours.get(t, "#888") for t in tiers.index],
        text=[f"{n}{'家' if language == 'zh' else ' customers'}" for n in tiers["customers"]],
        textposition="outside", hovertemplate="%{x}: %{y:,.1f}万<extra></extra>"))
    zh = language == "zh"
    return base_layout(fig, "各风险等级的客户与敞口" if zh
                       else "Customers and exposure by risk tier",
                       y_title=t("unit.wan", language), height=400)


def funnel_chart(funnel: pd.DataFrame, by: str, language: str = "zh") -> go.Figure:
    """Share of orders that reached each order-to-cash stage, per group.

    ``funnel`` is the output of ``order_funnel``.
    """
    fig = go.Figure()
    stages = [s for s in funnel["stage"].drop_duplicates() if s != "cancelled"]
    for i, (g, part) in enumerate(funnel[funnel["stage"].isin(stages)].groupby(by, sort=False)):
        name = t(f"{by}.{g}", language) if by in ("channel", "customer_type") else str(g)
        labels = part["stage_zh"] if language == "zh" else part["stage"].str.replace("_", " ")
        fig.add_trace(go.Bar(x=list(labels), y=part["reached_share"], name=name,
                             marker_color=LINE_COLOURS[i % len(LINE_COLOURS)],
                             hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>"))
    fig.update_yaxes(tickformat=".0%")
    zh = language == "zh"
    return base_layout(fig, "订单到回款漏斗（到达各阶段的订单占比）" if zh
                       else "Order to cash: share of orders that reached each stage", height=400)


def channel_chart(perf: pd.DataFrame, language: str = "zh") -> go.Figure:
    """Sales by channel (万元) with growth against the same period last year."""
    names = [t(f"channel.{c}", language) for c in perf["channel"]]
    fig = go.Figure(go.Bar(
        x=names, y=perf["sales"].to_numpy(dtype=float) / 1_000_000, marker_color="#1f5f8b",
        text=[f"{g:+.0%}" if pd.notna(g) else "" for g in perf["growth"]], textposition="outside",
        hovertemplate="%{x}: %{y:,.1f}万<extra></extra>"))
    zh = language == "zh"
    return base_layout(fig, "各渠道销售额与同比增长" if zh
                       else "Sales by channel, with growth on last year",
                       y_title=t("unit.wan", language), height=400)


def cash_in_chart(forecast: pd.DataFrame, language: str = "zh",
                  title: str | None = None) -> go.Figure:
    """Plot expected receipts per period with the total's 80%/95% bands.

    Receipts from open invoices and from new sales are stacked.

    Parameters
    ----------
    forecast : DataFrame
        :func:`medrisk.cash.cash_in_forecast` output (long format, 元).
    """
    zh = language == "zh"
    names = {"open_invoices": ("现有应收回款", "From open invoices"),
             "new_sales": ("新增销售回款", "From new sales")}
    fig = go.Figure()
    for i, (comp, (nzh, nen)) in enumerate(names.items()):
        part = forecast[forecast["component"] == comp]
        fig.add_trace(go.Bar(x=part["period_start"], y=part["mean"] / 10_000,
                             name=nzh if zh else nen,
                             marker_color=["#1f5f8b", "#8fb8d8"][i],
                             hovertemplate="%{x|%Y-%m-%d}: %{y:,.1f}万<extra></extra>"))
    total = forecast[forecast["component"] == "total"]
    for lo, hi, dash, label in (("lo-95", "hi-95", "dot", ("95%区间", "95% interval")),
                                ("lo-80", "hi-80", "dash", ("80%区间", "80% interval"))):
        fig.add_trace(go.Scatter(x=total["period_start"], y=total[hi] / 10_000, mode="lines",
                                 line={"dash": dash, "color": "#c0392b"},
                                 name=label[0] if zh else label[1]))
        fig.add_trace(go.Scatter(x=total["period_start"], y=total[lo] / 10_000, mode="lines",
                                 line={"dash": dash, "color": "#c0392b"}, showlegend=False))
    fig.update_layout(barmode="stack")
    return base_layout(fig,
                       title or ("预计回款及区间" if zh else "Expected receipts with intervals"),
                       y_title=t("unit.wan", language))


def expiry_chart(by_warehouse: pd.DataFrame, language: str = "zh") -> go.Figure:
    """Stock value and value expected to expire unsold per warehouse (万元).

    Sellable and blocked stock are shown apart.
    """
    zh = language == "zh"
    g = by_warehouse.groupby("warehouse", sort=True)[["stock_value", "expected_unsold_value"]].sum()
    fig = go.Figure()
    fig.add_trace(go.Bar(x=g.index.astype(str), y=g["stock_value"] / 1_000_000,
                         name="库存金额" if zh else "Stock value",
                         marker_color="#1f5f8b", hovertemplate="%{x}: %{y:,.1f}万<extra></extra>"))
    fig.add_trace(go.Bar(x=g.index.astype(str), y=g["expected_unsold_value"] / 1_000_000,
                         name="预计过期（含冻结）" if zh else "Expected to expire (incl. blocked)",
                         marker_color="#c0392b", hovertemplate="%{x}: %{y:,.1f}万<extra></extra>"))
    fig.update_layout(barmode="group")
    return base_layout(fig, "各仓库库存与预计过期金额（按标价）" if zh
                       else "Stock and value expected to expire, by warehouse",
                       y_title=t("unit.wan", language), height=380)


def collector_chart(calls: pd.DataFrame, language: str = "zh", top: int = 25) -> go.Figure:
    """Plot calls due and the overdue money behind them, per collector (万元).

    The ``top`` collectors by overdue money get a bar each; the title says
    what the others hold together, so a team of a hundred stays readable.
    """
    zh = language == "zh"
    g = (calls.assign(collector_name=_group_labels(calls["collector_name"], language))
         .groupby("collector_name", sort=False)
         .agg(calls=("customer_id", "size"), overdue=("overdue_amount", "sum"))
         .sort_values("overdue", ascending=False))
    title = ("各催收人今日待联系客户的逾期金额" if zh
             else "Overdue money behind today's calls, per collector")
    if len(g) > top:
        rest = g.iloc[top:]
        money = f"{rest['overdue'].sum() / 1_000_000:,.1f}万"
        n_calls = int(rest["calls"].sum())
        title += (f"（前{top}名；其余 {len(rest)} 名共 {n_calls:,} 家、{money}）" if zh
                  else f" (top {top}; the other {len(rest)}: {n_calls:,} calls, {money})")
        g = g.iloc[:top]
    g = g.iloc[::-1]  # the largest at the top of the chart
    fig = go.Figure(go.Bar(
        y=g.index.astype(str), x=g["overdue"].to_numpy(dtype=float) / 1_000_000, orientation="h",
        marker_color="#e76f51", text=[f"{n}家" if zh else f"{n} call{'' if n == 1 else 's'}"
                                     for n in g["calls"]],
        textposition="outside", hovertemplate="%{y}: %{x:,.1f}万<extra></extra>"))
    return base_layout(fig, title, x_title=t("unit.wan", language),
                       height=max(340, 26 * len(g) + 140))


def _threshold_text(row: pd.Series, language: str) -> str:
    if language == "zh":
        return (f"阈值 {row['threshold']:.2f}：标记 {int(row['customers_flagged']):,} 家客户，"
                f"敞口 {row['exposure_flagged'] / 10_000:,.1f}万；漏判坏客户 {row['fn']:,.1f} 家，"
                f"误判好客户 {row['fp']:,.1f} 家；预期成本 {row['expected_cost'] / 10_000:,.1f}万")
    return (f"Threshold {row['threshold']:.2f}: "
            f"{int(row['customers_flagged']):,} customers flagged, "
            f"exposure {row['exposure_flagged'] / 10_000:,.1f}万; "
            f"bad ones missed {row['fn']:,.1f}, "
            f"good ones flagged {row['fp']:,.1f}; "
            f"expected cost {row['expected_cost'] / 10_000:,.1f}万")


def threshold_chart(table: pd.DataFrame, current: float | None = None,
                    language: str = "zh") -> go.Figure:
    """Plot expected cost and exposure flagged by probability threshold, with a slider.

    The slider works in the static HTML: moving it moves a marker along the
    threshold axis and writes, for that threshold, the customers and exposure
    flagged, the bad customers missed, the good ones wrongly flagged and the
    expected cost. It starts at ``current`` (the flag threshold in use); the
    cheapest threshold is marked with a dashed line.

    Parameters
    ----------
    table : DataFrame
        :func:`medrisk.credit.threshold_table` (money in 元).
    current : float, default=None
        The threshold in use (default: the cheapest one).
    language : {"zh", "en"}, default="zh"
    """
    zh = language == "zh"
    table = table.reset_index(drop=True)
    x = table["threshold"].to_numpy(dtype=float)
    fig = go.Figure()
    lines = [("expected_cost", "预期总成本", "Expected cost", "solid"),
             ("cost_missed", "漏判坏客户的损失", "Loss on bad customers missed", "solid"),
             ("cost_false_flags", "误判好客户的代价", "Cost of flagging good customers", "solid"),
             ("exposure_flagged", "被标记的敞口", "Exposure flagged", "dot")]
    for i, (col, name_zh, name_en, dash) in enumerate(lines):
        fig.add_trace(go.Scatter(  # exposure flagged on the right axis: it dwarfs the costs
            x=x, y=table[col].to_numpy(dtype=float) / 10_000, name=name_zh if zh else name_en,
            mode="lines",
            line={"color": LINE_COLOURS[i], "dash": dash, "width": 2.5 if i == 0 else 2},
            yaxis="y2" if col == "exposure_flagged" else "y",
            hovertemplate=("%{x:.2f}: %{y:,.1f}万<extra>" + (name_zh if zh else name_en)
                           + "</extra>")))
    best = int(table["expected_cost"].to_numpy().argmin())
    start = best if current is None else int(np.abs(x - float(current)).argmin())
    marker = {"type": "line", "xref": "x", "yref": "paper", "y0": 0, "y1": 1,
              "line": {"color": "#333", "width": 2}}
    cheapest = {"type": "line", "xref": "x", "yref": "paper", "y0": 0, "y1": 1, "x0": x[best],
                "x1": x[best], "line": {"color": LINE_COLOURS[0], "width": 1.5, "dash": "dash"}}
    note = {"xref": "paper", "yref": "paper", "x": 0.0, "y": -0.22, "xanchor": "left",
            "yanchor": "top", "showarrow": False, "align": "left", "font": {"size": 13},
            "text": _threshold_text(table.iloc[start], language)}
    steps = [{"method": "relayout", "label": f"{th:.1f}" if round(th * 100) % 10 == 0 else "",
              "args": [{"shapes[0].x0": th, "shapes[0].x1": th,
                        "annotations[0].text": _threshold_text(table.iloc[i], language)}]}
             for i, th in enumerate(x)]
    fig.update_layout(
        shapes=[{**marker, "x0": x[start], "x1": x[start]}, cheapest],
        annotations=[note],
        sliders=[{"active": start, "steps": steps, "pad": {"t": 95}, "len": 1.0, "x": 0,
                  "currentvalue": {"prefix": "阈值 " if zh else "Threshold ", "visible": False},
                  "ticklen": 0, "minorticklen": 0}],
    )
    base_layout(fig, "风险阈值：标记多少客户，代价多少（拖动滑块）" if zh
                else "Risk threshold: who is flagged, at what cost (drag the slider)",
                x_title=("违约概率阈值（≥ 即标记）" if zh
                         else "Probability threshold (flag at or above)"),
                y_title=t("unit.wan", language), height=560)
    fig.update_layout(
        margin={"l": 70, "r": 70, "t": 90, "b": 170},
        yaxis2={"overlaying": "y", "side": "right", "showgrid": False, "rangemode": "tozero",
                "tickformat": ",.0f",
                "title": {"text": ("被标记敞口（万元）" if zh else "Exposure flagged (万元)")}})
    return fig
