"""Tests of medrisk.reports: what the static report's readers can switch and move, and the units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk import credit as T
from medrisk import receivables as R
from medrisk.data.demo import make_ledger
from medrisk.reports import _plots as plots


@pytest.fixture(scope="module")
def ledger():
    return make_ledger(2_000, seed=5)


@pytest.fixture(scope="module")
def costs():
    rng = np.random.default_rng(0)
    n = 300
    scores = pd.DataFrame({"probability": rng.beta(2, 5, n),
                           "exposure": rng.integers(0, 5_000_000_00, n),
                           "expected_sales": rng.integers(0, 1_000_000_00, n)})
    return T.threshold_table(scores, lgd=0.45, margin_rate=0.3, goodwill_yuan=2_000)


def test_aging_dropdown_switches_dimension_and_bars_are_in_wan(ledger):
    agings = {d: R.aging(ledger, "2026-10-31", by=d) for d in ("region", "channel")}
    fig = plots.aging_by_dimension(agings, "en")
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["region", "channel"]
    n_region = sum(bool(v) for v in buttons[0].args[0]["visible"])
    assert n_region == len([c for c in agings["region"].columns if c != "total"])
    shown = [tr for tr in fig.data if tr.visible]
    total_wan = sum(float(np.sum(tr.x)) for tr in shown)
    assert total_wan == pytest.approx(agings["region"]["total"].sum() / 1_000_000)


def test_threshold_slider_moves_the_marker_and_states_the_figures(costs):
    fig = plots.threshold_chart(costs, current=0.5, language="zh")
    slider = fig.layout.sliders[0]
    assert len(slider.steps) == len(costs)
    assert costs["threshold"].iloc[slider.active] == pytest.approx(0.5)
    step = slider.steps[29]  # threshold 0.30
    row = costs.iloc[29]
    change = step.args[0]
    assert change["shapes[0].x0"] == change["shapes[0].x1"] == pytest.approx(0.30)
    text = change["annotations[0].text"]
    assert f"标记 {int(row['customers_flagged']):,} 家客户" in text
    assert f"预期成本 {row['expected_cost'] / 10_000:,.1f}万" in text
    # the dashed line marks the cheapest threshold; the curves are in 万元
    assert fig.layout.shapes[1].x0 == pytest.approx(T.best_threshold(costs)["threshold"])
    np.testing.assert_allclose(fig.data[0].y, costs["expected_cost"] / 10_000)
    assert fig.layout.annotations[0].text == plots._threshold_text(costs.iloc[slider.active], "zh")


def test_threshold_chart_in_english_starts_at_the_cheapest_without_a_current(costs):
    fig = plots.threshold_chart(costs, language="en")
    best = int(costs["expected_cost"].to_numpy().argmin())
    assert fig.layout.sliders[0].active == best
    assert fig.layout.annotations[0].text.startswith(
        f"Threshold {costs['threshold'].iloc[best]:.2f}:")
    assert "drag the slider" in fig.layout.title.text


def test_collector_chart_keeps_the_top_collectors_and_sums_the_rest():
    calls = pd.DataFrame({"collector_name": [f"C{i:02d}" for i in range(40) for _ in range(2)],
                          "customer_id": [f"K{i}" for i in range(80)],
                          "overdue_amount": np.repeat(np.arange(40) * 1_000_000, 2)})
    fig = plots.collector_chart(calls, "en", top=10)
    bars = fig.data[0]
    assert len(bars.y) == 10 and bars.y[-1] == "C39" and bars.y[0] == "C30"
    rest = calls["overdue_amount"][calls["collector_name"] < "C30"].sum() / 1_000_000
    assert fig.layout.title.text.endswith(f"(top 10; the other 30: 60 calls, {rest:,.1f}万)")
    assert bars.text[0] == "2 calls"
