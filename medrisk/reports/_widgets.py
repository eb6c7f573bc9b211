"""Interactive widgets for JupyterLab (ipywidgets).

:func:`threshold_tuner` sets the risk-tier thresholds and costs with sliders,
shows what they mean (confusion matrix, customers and exposure flagged,
expected cost, a cost curve), and saves the chosen thresholds to the YAML
file. All the arithmetic is in :mod:`medrisk.credit`; the widget only
wires it, so it can be driven without a browser (set ``.value`` on a slider,
call ``save_button.click()``). In static HTML reports widgets do not run;
use plotly figures there.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from medrisk import planning as Q
from medrisk.credit import (
    TIER_LABELS_ZH,
    TIERS,
    RiskThresholds,
    flag_summary,
    load_thresholds,
    save_thresholds,
    threshold_table,
)
from medrisk.exceptions import ParamsError
from medrisk.kernel import yuan

__all__ = [
    "ThresholdTuner", "threshold_tuner", "cost_curve_figure", "worklist_filter", "growth_slider",
]


def cost_curve_figure(table: pd.DataFrame, threshold: float) -> go.Figure:
    """Plot the expected cost (and its two parts) against the flag threshold.

    Parameters
    ----------
    table : DataFrame
        :func:`medrisk.credit.threshold_table`.
    threshold : float
        The current flag threshold (a vertical line).

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure()
    for col, name in (
        ("expected_cost", "expected cost 预期成本"),
        ("cost_missed", "missed bad customers 漏判损失"),
        ("cost_false_flags", "wrongly flagged 误判成本"),
    ):
        fig.add_trace(go.Scatter(x=table["threshold"], y=table[col], mode="lines", name=name))
    fig.add_vline(x=threshold, line_dash="dash", line_color="grey")
    fig.update_layout(
        xaxis_title="flag threshold (probability)",
        yaxis_title="CNY 元",
        height=320,
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
        legend={"orientation": "h", "y": -0.3},
    )
    return fig


def _money(x: float) -> str:
    return yuan(x * 100, symbol=False)


def _count(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


class ThresholdTuner(widgets.VBox):
    """The threshold tuner; build it with :func:`threshold_tuner`.

    Attributes
    ----------
    sliders : dict of str to ipywidgets widget
        ``medium``, ``high``, ``very_high`` (tier bounds), ``lgd``,
        ``margin_rate``, ``goodwill_yuan`` (costs) and ``flag_tier`` (dropdown).
    summary : ipywidgets.HTML
        Confusion matrix, customers and exposure flagged, expected cost, tiers.
    plot : ipywidgets.Output
        The cost curve (a plotly figure).
    save_button : ipywidgets.Button
        Writes the thresholds and costs to ``path``.
    status : ipywidgets.HTML
        The last message (saved, or why the values are invalid).
    figures : dict
        The numbers on display (:func:`medrisk.credit.flag_summary`).
    figure : plotly.graph_objects.Figure
        The cost curve on display.
    """

    def __init__(
        self,
        scores: pd.DataFrame,
        path: Path,
        initial: RiskThresholds,
        *,
        label_col: str | None,
        prob_col: str,
        exposure_col: str,
        sales_col: str,
    ):
        self.scores = scores
        self.path = Path(path)
        self._cols = {
            "label_col": label_col,
            "prob_col": prob_col,
            "exposure_col": exposure_col,
            "sales_col": sales_col,
        }
        style = {"description_width": "150px"}
        layout = widgets.Layout(width="460px")

        def fslider(value, desc, lo=0.0, hi=1.0, step=0.01):
            return widgets.FloatSlider(
                value=value,
                min=lo,
                max=hi,
                step=step,
                description=desc,
                continuous_update=False,
                readout_format=".2f",
                style=style,
                layout=layout,
            )

        self.sliders = {
            "medium": fslider(initial.medium, "medium 中风险 ≥"),
            "high": fslider(initial.high, "high 高风险 ≥"),
            "very_high": fslider(initial.very_high, "very high 极高风险 ≥"),
            "flag_tier": widgets.Dropdown(
                options=list(TIERS[1:]),
                value=initial.flag_tier,
                description="flag from tier 标记",
                style=style,
                layout=layout,
            ),
            "lgd": fslider(initial.lgd, "LGD 违约损失率"),
            "margin_rate": fslider(initial.margin_rate, "margin 毛利率"),
            "goodwill_yuan": widgets.FloatText(
                value=initial.goodwill_yuan,
                description="goodwill 商誉 (元)",
                style=style,
                layout=layout,
            ),
        }
        self._late_after_days = initial.late_after_days
        self.summary = widgets.HTML()
        self.status = widgets.HTML()
        self.plot = widgets.Output()
        self.save_button = widgets.Button(
            description="Save 保存", button_style="primary", icon="save"
        )
        self.figures: dict = {}
        self.figure: go.Figure | None = None
        for w in self.sliders.values():
            w.observe(self._on_change, names="value")
        self.save_button.on_click(self._on_save)
        controls = widgets.VBox(list(self.sliders.values()) + [self.save_button, self.status])
        super().__init__([widgets.HBox([controls, self.summary]), self.plot])
        self.update()

    # -- state --------------------------------------------------------------
    def thresholds(self) -> RiskThresholds:
        """Return the thresholds and costs set on the widgets (not validated)."""
        s = self.sliders
        return RiskThresholds(
            medium=float(s["medium"].value),
            high=float(s["high"].value),
            very_high=float(s["very_high"].value),
            flag_tier=str(s["flag_tier"].value),
            late_after_days=self._late_after_days,
            lgd=float(s["lgd"].value),
            margin_rate=float(s["margin_rate"].value),
            goodwill_yuan=float(s["goodwill_yuan"].value),
        )

    def _on_change(self, change=None) -> None:
        self.update()

    def update(self) -> bool:
        """Recompute and redraw from the widget values; False when they are invalid."""
        th = self.thresholds()
        try:
            th.validate()
        except ParamsError as exc:
            self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            self.save_button.disabled = True
            return False
        self.save_button.disabled = False
        self.status.value = ""
        self.figures = flag_summary(self.scores, th, **self._cols)
        self.summary.value = self._render(self.figures, th)
        table = threshold_table(
            self.scores,
            lgd=th.lgd,
            margin_rate=th.margin_rate,
            goodwill_yuan=th.goodwill_yuan,
            **self._cols,
        )
        self.figure = cost_curve_figure(table, th.flag_threshold)
        self.plot.outputs = ()
        try:
            self.plot.append_display_data(self.figure)
        except Exception:  # noqa: BLE001 - no IPython display machinery (plain Python)
            pass
        return True

    def _render(self, f: dict, th: RiskThresholds) -> str:
        expected = self._cols["label_col"] is None
        kind = "expected 期望值" if expected else "actual 实际"
        cm = (
            "<table style='border-collapse:collapse'>"
            "<tr><th></th><th>flagged 标记</th><th>not flagged 未标记</th></tr>"
            f"<tr><th>bad 坏客户</th><td class='tp'>{_count(f['tp'])}</td>"
            f"<td class='fn'>{_count(f['fn'])}</td></tr>"
            f"<tr><th>good 好客户</th><td class='fp'>{_count(f['fp'])}</td>"
            f"<td class='tn'>{_count(f['tn'])}</td></tr></table>"
        )
        tiers = f["tiers"]
        rows = "".join(
            f"<tr><td>{t} {TIER_LABELS_ZH[t]}</td><td>{int(r.customers)}</td>"
            f"<td>{_money(r.exposure)}</td><td>{_money(r.exposure_at_risk)}</td></tr>"
            for t, r in tiers.iterrows()
        )
        return (
            f"<div style='padding-left:16px'><b>Flag threshold 标记阈值: "
            f"{th.flag_threshold:.2f}</b> ({kind})<br>{cm}<br>"
            f"Customers flagged 标记客户: <b class='customers_flagged'>"
            f"{int(f['customers_flagged'])}</b><br>"
            f"Exposure flagged 标记敞口: <b class='exposure_flagged'>"
            f"{_money(f['exposure_flagged'])}</b> 元<br>"
            f"Expected cost 预期成本: <b class='expected_cost'>{_money(f['expected_cost'])}</b> 元 "
            f"(missed 漏判 {_money(f['cost_missed'])} + wrongly flagged 误判 "
            f"{_money(f['cost_false_flags'])})<br><br>"
            "<table><tr><th>tier 等级</th><th>customers 客户</th><th>exposure 敞口 (元)</th>"
            f"<th>exposure at risk 风险敞口 (元)</th></tr>{rows}</table></div>"
        )

    def _on_save(self, button=None) -> None:
        th = self.thresholds()
        try:
            save_thresholds(self.path, th)
        except (ParamsError, OSError) as exc:
            self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"
            return
        self.status.value = (
            f"Saved 已保存: medium {th.medium:.2f}, high {th.high:.2f}, "
            f"very_high {th.very_high:.2f} → {html.escape(str(self.path))}"
        )


def threshold_tuner(
    scores_frame: pd.DataFrame,
    thresholds_path,
    *,
    label_col: str | None = None,
    prob_col: str = "probability",
    exposure_col: str = "exposure",
    sales_col: str = "expected_sales",
) -> ThresholdTuner:
    """Build the threshold tuner for a frame of customer scores.

    Parameters
    ----------
    scores_frame : DataFrame
        One row per customer with ``probability``, ``exposure`` and
        ``expected_sales`` (fen), e.g.
        :meth:`medrisk.credit.CreditModel.score_customers`; optionally an
        outcome column for actual (not expected) counts.
    thresholds_path : str or Path
        The YAML file to start from and to save to (``params/risk-thresholds.yaml``).
    label_col : str, default=None
        Column with the actual outcome (1 bad).
    prob_col, exposure_col, sales_col : str

    Returns
    -------
    ThresholdTuner
        An ``ipywidgets.VBox``; display it in a notebook.

    Examples
    --------
    In a notebook the file is ``params/risk-thresholds.yaml``; here a scratch copy:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from medrisk.credit import CreditModel
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.reports import threshold_tuner
    >>> ledger = make_ledger(2_000, seed=1)
    >>> model = CreditModel("scorecard").fit(ledger, as_of="2026-03-31")
    >>> scores = model.score_customers(ledger, "2026-10-31")
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "risk-thresholds.yaml"
    >>> tuner = threshold_tuner(scores, path)
    >>> list(tuner.sliders)
    ['medium', 'high', 'very_high', 'flag_tier', 'lgd', 'margin_rate', 'goodwill_yuan']
    >>> tuner.sliders["high"].value
    0.5
    >>> tuner.sliders["high"].value = 0.55
    >>> tuner.save_button.click()
    >>> print(path.read_text(), end="")
    late_after_days: 30
    tiers:
      medium: 0.3
      high: 0.55
      very_high: 0.7
    flag_tier: high
    costs:
      lgd: 0.45
      margin_rate: 0.3
      goodwill_yuan: 2000
    >>> folder.cleanup()
    """
    path = Path(thresholds_path)
    initial = load_thresholds(path) if path.exists() else RiskThresholds()
    needed = [prob_col, exposure_col, sales_col] + ([label_col] if label_col else [])
    missing = [c for c in needed if c not in scores_frame.columns]
    if missing:
        raise ParamsError(
            f"scores_frame lacks column(s) {missing}; it has {list(scores_frame.columns)[:12]}."
        )
    if not np.isfinite(scores_frame[prob_col].to_numpy(float)).all():
        raise ParamsError(f"scores_frame[{prob_col!r}] has missing or infinite probabilities.")
    return ThresholdTuner(
        scores_frame,
        path,
        initial,
        label_col=label_col,
        prob_col=prob_col,
        exposure_col=exposure_col,
        sales_col=sales_col,
    )


def worklist_filter(calls: pd.DataFrame, customers: pd.DataFrame, language: str = "zh",
                    max_rows: int = 30) -> widgets.VBox:
    """Filter the day's calls by region and collector in JupyterLab.

    Parameters
    ----------
    calls : DataFrame
        ``Worklist.calls`` (collector_id, customer_id, score, open_amount ...).
    customers : DataFrame
        The customers table (for the region of each call).
    language : {"zh", "en"}, default="zh"
    max_rows : int, default=30

    Returns
    -------
    ipywidgets.VBox
        ``.children[0]`` region dropdown, ``[1]`` collector dropdown, ``[2]`` HTML table.
    """
    data = calls.merge(customers[["customer_id", "region"]], on="customer_id", how="left")
    every = "全部" if language == "zh" else "All"
    region = widgets.Dropdown(options=[every] + sorted(data["region"].dropna().unique().tolist()),
                              description="大区" if language == "zh" else "Region")
    collector = widgets.Dropdown(options=[every]
                                 + sorted(data["collector_id"].dropna().unique().tolist()),
                                 description="催收人" if language == "zh" else "Collector")
    table = widgets.HTML()
    reason = f"reason_{language}"

    def refresh(*_):
        view = data
        if region.value != every:
            view = view[view["region"] == region.value]
        if collector.value != every:
            view = view[view["collector_id"] == collector.value]
        view = view.sort_values("score", ascending=False).head(max_rows)
        shown = view[["collector_id", "customer_id", "customer_name", "open_amount", reason]].copy()
        shown["open_amount"] = shown["open_amount"].map(lambda v: yuan(v, 2, symbol=False))
        table.value = f"<p>{len(view)} / {len(data)}</p>" + shown.to_html(index=False, escape=True)

    region.observe(refresh, names="value")
    collector.observe(refresh, names="value")
    refresh()
    return widgets.VBox([region, collector, table])


def growth_slider(basis, by: str, language: str = "zh", growth: float = 0.15) -> widgets.VBox:
    """Build a growth slider that re-splits next year's quotas.

    Each move of the slider re-runs :func:`medrisk.planning.growth_scenario`.

    Parameters
    ----------
    basis : QuotaBasis
        From :func:`medrisk.planning.quota_basis`.
    by : str
        The unit column, e.g. ``"region"``.
    language : {"zh", "en"}, default="zh"
    growth : float, default=0.15
        Starting growth.

    Returns
    -------
    ipywidgets.VBox
        ``.children[0]`` the slider, ``[1]`` an HTML table of annual quotas and shares.
    """
    slider = widgets.FloatSlider(value=growth, min=-0.3, max=0.6, step=0.01, readout_format=".0%",
                                 description="增长" if language == "zh" else "Growth")
    table = widgets.HTML()

    def refresh(*_):
        summary = Q.quota_summary(Q.growth_scenario(basis, slider.value), by)
        total = int(summary["annual"].sum())
        shown = summary.assign(annual=summary["annual"].map(lambda v: yuan(v, 2, symbol=False)),
                               share=summary["share"].map("{:.1%}".format))
        total_label = "合计" if language == "zh" else "Total"
        table.value = f"<p>{total_label}: {yuan(total, 2, symbol=False)}</p>" + \
            shown.to_html(index=False, escape=True)

    slider.observe(refresh, names="value")
    refresh()
    return widgets.VBox([slider, table])
