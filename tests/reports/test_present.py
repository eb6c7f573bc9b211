"""Tests of medrisk.reports: the HTML pieces reports are made of, and the figures they record."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from medrisk.reports import _present as present


@pytest.fixture
def shown(monkeypatch):
    """Capture the HTML the report would display."""
    out: list[str] = []
    monkeypatch.setattr(present, "_display_html", out.append)
    return out


COLUMNS = {"customer": ("customer", "text"), "open": ("open_amount", "money"),
           "share": ("overdue_rate", "pct"), "n": ("invoices", "int")}


def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"customer": [f"医院<{i}>" for i in range(n)],
                         "open": np.arange(n, dtype=np.int64) * 123_456 + 5,
                         "share": np.linspace(0, 1, n), "n": np.arange(n) * 1000})


def test_table_formats_money_in_yuan_shares_and_counts(shown):
    present.table(frame(3), COLUMNS, "zh")
    html = shown[0]
    assert "<td class='num'>1,234.61</td>" in html  # 123,461 fen = 1,234.61 元
    assert "<td class='num'>50.0%</td>" in html and "<td class='num'>2,000</td>" in html
    assert "医院&lt;1&gt;" in html, "text is escaped"
    assert "<th>未结应收</th>" in html
    assert "共" not in html, "no truncation note for a short table"


def test_long_tables_say_how_many_rows_they_leave_out(shown):
    present.table(frame(60), COLUMNS, "en", max_rows=10)
    html = shown[0]
    assert html.count("<tr>") == 11  # the header and ten rows
    assert "First 10 of 60 rows." in html
    present.table(frame(60), COLUMNS, "zh")
    assert shown[1].count("<tr>") == 26 and "显示前 25 行，共 60 行。" in shown[1]


def test_empty_tables_and_missing_values_are_shown_as_such(shown):
    present.table(frame(0), COLUMNS, "zh")
    present.table(frame(0), COLUMNS, "en")
    assert "（无）" in shown[0] and "(none)" in shown[1]
    f = frame(1).astype({"share": float})
    f.loc[0, "share"] = np.nan
    present.table(f, COLUMNS, "en")
    assert "<td class='num'>—</td>" in shown[2]


def test_recorder_writes_figures_with_both_labels(tmp_path):
    path = tmp_path / "_figures" / "r.json"
    rec = present.Recorder(str(path), "10-receivables")
    assert rec("open_ar", np.int64(123), unit="fen") == 123
    rec.context(model_version="m1")
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["report"] == "10-receivables" and saved["meta"] == {"model_version": "m1"}
    assert saved["figures"]["open_ar"] == {"value": 123, "label_zh": "应收余额",
                                           "label_en": "Open receivables", "unit": "fen"}
    present.Recorder("", "x")("open_ar", 1)  # no path: records nothing, raises nothing


def test_codes_are_shown_by_their_label_in_each_language(shown):
    f = pd.DataFrame({"model": ["gbm", "AutoETS", "mystery"], "level": ["total", "series", "x"]})
    cols = {"model": ("model", "label:model"), "level": ("dimension", "label:level")}
    present.table(f, cols, "zh")
    present.table(f, cols, "en")
    assert "<td class=''>梯度提升模型</td>" in shown[0] and "<td class=''>合计</td>" in shown[0]
    assert "<td class=''>Exponential smoothing (ETS)</td>" in shown[1]
    assert "<td class=''>Each series</td>" in shown[1]
    assert "<td class=''>mystery</td>" in shown[1], "an unknown code shows as it is"


def test_amounts_in_yuan_and_in_fen_show_the_same_text(shown):
    # collection_pay gives sales in 元: shown as fen they were 100 times too small
    f = pd.DataFrame({"fen": [304_763_981, 250], "yuan": [3_047_639.81, 2.5]})
    present.table(f, {"fen": ("open_amount", "money"), "yuan": ("open_amount", "yuan")}, "en")
    html = shown[0]
    assert html.count("<td class='num'>3,047,639.81</td>") == 2
    assert html.count("<td class='num'>2.50</td>") == 2
