"""What a report notebook shows: header, summary, sections, tables, charts, recorded figures.

Notebooks call these and nothing else for presentation, so every report looks
the same and stays thin. Figures a run records (for the index page and the
tests) go to the JSON file named by the notebook's ``figures_file`` parameter.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medrisk.i18n import check_language, date_text, t
from medrisk.kernel import yuan

__all__ = ["setup", "header", "summary", "section", "note", "show", "table", "Recorder"]

_CSS = """
<style>
.mr-header{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',Arial,sans-serif;
  border-bottom:3px solid #1f5f8b;padding:4px 0 10px 0;margin-bottom:12px}
.mr-header h1{font-size:26px;margin:0 0 6px 0;color:#1f3b57}
.mr-meta{color:#555;font-size:14px}
.mr-meta span{margin-right:22px}
.mr-summary{background:#f4f8fb;border-left:4px solid #1f5f8b;padding:10px 16px;margin:10px 0 18px 0;
  font-size:15px;line-height:1.7}
.mr-cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 16px 0}
.mr-card{border:1px solid #d6dee6;border-radius:6px;padding:10px 14px;min-width:170px;\
background:#fff}
.mr-card .k{font-size:13px;color:#666}.mr-card .v{font-size:22px;font-weight:600;color:#1f3b57}
.mr-card .d{font-size:12px;color:#888}
.mr-section{font-size:20px;color:#1f3b57;margin:22px 0 6px 0;border-bottom:1px solid #d6dee6}
table.mr-table{border-collapse:collapse;font-size:13px;margin:6px 0 14px 0}
table.mr-table th{background:#1f5f8b;color:#fff;padding:5px 9px;text-align:left !important}
table.mr-table td{border-bottom:1px solid #e3e8ee;padding:4px 9px;text-align:left !important}
table.mr-table td.num{text-align:right !important;font-variant-numeric:tabular-nums}
.mr-warn{color:#a12d1f}
.mr-stale{background:#fdecea;border-left:4px solid #a12d1f;color:#a12d1f;padding:6px 12px;
  margin-top:8px;font-weight:600}
.mr-skip{background:#fff8e1;border-left:4px solid #c98a00;color:#5a4300;padding:6px 12px;
  font-size:14px}
</style>
"""


def _display_html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(text))


def setup() -> None:
    """Set up the report styles and chart rendering.

    Charts render in JupyterLab (plotly mime type) and in static HTML (inline
    plotly.js, once).
    """
    import plotly.io as pio

    pio.renderers.default = "plotly_mimetype+notebook"
    _display_html(_CSS)


def header(report: str, as_of, language: str, scope: str = "", data: str = "",
           data_ends: str | None = None) -> None:
    """Title, valuation date, scope and unit of a report (and a warning when the data is stale)."""
    check_language(language)
    meta = [
        f"<span><b>{t('as_of', language)}</b>: {date_text(as_of, language)}</span>",
        f"<span><b>{t('scope', language)}</b>: "
        f"{html.escape(scope or t('scope.all', language))}</span>",
        f"<span>{t('unit.yuan', language)}</span>",
    ]
    if data:
        meta.append(f"<span><b>{t('data', language)}</b>: {html.escape(data)}</span>")
    stale = ""
    if data_ends:
        text = t("data_ends", language, date=date_text(data_ends, language),
                 as_of=date_text(as_of, language))
        stale = f"<div class='mr-stale'>{html.escape(text)}</div>"
    _display_html(
        f"<div class='mr-header'><h1>{html.escape(t('title.' + report, language))}</h1>"
        f"<div class='mr-meta'>{''.join(meta)}</div>{stale}</div>"
    )


def summary(points: Iterable[str], cards: Sequence[Mapping[str, str]] = ()) -> None:
    """Show the short written summary that opens a report, with optional headline cards.

    Parameters
    ----------
    points : iterable of str
        Sentences, already in the report's language.
    cards : sequence of dict
        Each ``{"label": ..., "value": ..., "delta": ...}``.
    """
    card_html = "".join(
        f"<div class='mr-card'><div class='k'>{html.escape(c['label'])}</div>"
        f"<div class='v'>{html.escape(c['value'])}</div>"
        f"<div class='d'>{html.escape(c.get('delta', ''))}</div></div>"
        for c in cards
    )
    items = "".join(f"<li>{html.escape(p)}</li>" for p in points)
    _display_html(f"<div class='mr-cards'>{card_html}</div>"
                  f"<div class='mr-summary'><ul>{items}</ul></div>")


def section(key: str, language: str, **fields) -> None:
    """Show a section heading from a label key."""
    _display_html(f"<div class='mr-section'>{html.escape(t(key, language, **fields))}</div>")


def note(text: str, warning: bool = False, skipped: bool = False) -> None:
    """Show a line of prose under a chart or table (``skipped``: what a section leaves out)."""
    cls = " class='mr-warn'" if warning else (" class='mr-skip'" if skipped else "")
    _display_html(f"<p{cls}>{html.escape(text)}</p>")


def show(fig) -> None:
    """Show a plotly figure (interactive in JupyterLab and in the HTML report)."""
    fig.show()


_NUMERIC_KINDS = ("money", "yuan", "pct", "int", "float", "float3")


def _cell(value, kind: str, language: str = "zh") -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return html.escape(t("unassigned", language)) if kind == "group" else "—"
    if kind == "money":
        return yuan(value, 2, symbol=False)
    if kind == "yuan":  # an amount already in 元 (a float), shown to the fen
        return yuan(float(value) * 100, 2, symbol=False)
    if kind == "pct":
        return f"{100 * float(value):.1f}%"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "float":
        return f"{float(value):,.1f}"
    if kind == "float3":
        return f"{float(value):,.3f}"
    if kind == "date":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if kind.startswith("label:"):  # a code shown by its label, e.g. label:model -> "model.gbm"
        return html.escape(t(f"{kind[len('label:'):]}.{value}", language))
    return html.escape(str(value))


def table(frame: pd.DataFrame, columns: Mapping[str, tuple[str, str]], language: str,
          max_rows: int = 25) -> None:
    """Show an HTML table with formatted columns.

    Parameters
    ----------
    frame : DataFrame
    columns : dict
        Column -> (label key, kind) with kind one of money (fen shown as 元), yuan (元 shown as 元),
        pct, int, float, float3, date, text, group (a grouping value: missing shows as 未指定 /
        unassigned), or ``label:<prefix>`` (a code shown
        by its zh/en label ``<prefix>.<code>``, e.g. ``label:model`` turns
        ``gbm`` into 梯度提升模型; unknown codes show as they are).
    language : {"zh", "en"}
    max_rows : int, default=25
        Longer frames show their first ``max_rows`` rows, and a line says how
        many there are in all (sort the frame so the first rows matter most).
    """
    if frame.empty:
        _display_html(f"<p class='mr-meta'>{'（无）' if language == 'zh' else '(none)'}</p>")
        return
    head = "".join(f"<th>{html.escape(t(key, language))}</th>" for key, _ in columns.values())
    rows = []
    for rec in frame.head(max_rows).itertuples(index=False):  # presentation of <= max_rows rows
        values = rec._asdict()
        cells = "".join(
            f"<td class='{'num' if kind in _NUMERIC_KINDS else ''}'>"
            f"{_cell(values[col], kind, language)}</td>"
            for col, (_, kind) in columns.items()
        )
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if len(frame) > max_rows:
        more = (f"<p class='mr-meta'>显示前 {max_rows:,} 行，共 {len(frame):,} 行。</p>"
                if language == "zh"
                else f"<p class='mr-meta'>First {max_rows:,} of {len(frame):,} rows.</p>")
    _display_html(f"<table class='mr-table'><tr>{head}</tr>{''.join(rows)}</table>{more}")


class Recorder:
    """Records a report's headline figures to a JSON file (no-op without a path).

    Parameters
    ----------
    path : str
        The notebook's ``figures_file`` parameter; ``""`` records nothing.
    report : str
        Report name, e.g. ``"10-receivables"``.
    """

    def __init__(self, path: str, report: str):
        self.path = path
        self.report = report
        self.figures: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self.skips: list = []  # Skip objects, in the order they happened

    def __call__(self, key: str, value, label_zh: str = "", label_en: str = "",
                 unit: str = "") -> Any:
        """Record ``value`` under ``key`` and return it."""
        if isinstance(value, (np.integer,)):
            value = int(value)
        elif isinstance(value, (np.floating, float)):
            # a figure that cannot be computed (DSO without sales) is recorded as null: "—"
            value = float(value) if np.isfinite(value) else None
        self.figures[key] = {"value": value, "label_zh": label_zh or t(key, "zh"),
                             "label_en": label_en or t(key, "en"), "unit": unit}
        self._write()
        return value

    def brief(self, brief) -> None:
        """Record every figure of a :class:`~medrisk.reports.Brief`, and what it left out."""
        for key, (value, unit) in brief.figures.items():
            self(key, value, unit=unit)
        for skip in getattr(brief, "skipped", ()):
            self.skipped(skip)

    def skipped(self, skip) -> None:
        """Record a section or figure left out for want of data (a :class:`Skip`)."""
        if skip not in self.skips:
            self.skips.append(skip)
            self._write()

    def skip_for(self, key: str):
        """Return the recorded :class:`Skip` of ``key``, or None."""
        return next((s for s in self.skips if s.key == key), None)

    def ledger(self, ledger, **meta) -> None:
        """Record which data a report used: fingerprint, source and (for databases) origin."""
        self.context(data_fingerprint=ledger.fingerprint(), data_source=str(ledger.source or ""),
                     data_origin=getattr(ledger, "origin", None), **meta)

    def context(self, **meta) -> None:
        """Record run context: data fingerprint, model version, scope ..."""
        self.meta.update(meta)
        self._write()

    def _write(self) -> None:
        if not self.path:
            return
        p = Path(self.path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"report": self.report, "meta": self.meta, "figures": self.figures,
                                 "skipped": [s.as_dict() for s in self.skips]},
                                ensure_ascii=False, indent=1, default=str), encoding="utf-8")
