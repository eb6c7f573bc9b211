"""The threshold tuner: driven without a browser."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from medrisk.config import PARAMS_DIR
from medrisk.credit import load_thresholds
from medrisk.exceptions import ParamsError
from medrisk.reports import threshold_tuner


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:03d}" for i in range(n)],
            "probability": rng.random(n),
            "exposure": rng.integers(1, 10**8, n),
            "expected_sales": rng.integers(1, 10**7, n),
            "bad": rng.integers(0, 2, n),
        }
    )


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "risk-thresholds.yaml"
    shutil.copy(PARAMS_DIR / "risk-thresholds.yaml", p)
    return p


def test_sliders_update_the_figures(scores, path):
    t = threshold_tuner(scores, path)
    assert t.sliders["high"].value == 0.5
    p = scores["probability"]
    assert t.figures["customers_flagged"] == (p >= 0.5).sum()
    t.sliders["high"].value = 0.62
    assert t.figures["customers_flagged"] == (p >= 0.62).sum()
    assert t.figures["exposure_flagged"] == pytest.approx(
        scores.loc[p >= 0.62, "exposure"].sum() / 100
    )
    html = t.summary.value
    assert f"<b class='customers_flagged'>{(p >= 0.62).sum()}</b>" in html
    assert f"{t.figures['expected_cost']:,.0f}" in html
    # the cost slider changes the expected cost
    before = t.figures["expected_cost"]
    t.sliders["lgd"].value = 0.9
    assert t.figures["expected_cost"] > before
    t.sliders["flag_tier"].value = "very_high"
    assert t.figures["threshold"] == 0.7
    assert t.figure is not None and len(t.figure.data) == 3
    assert len(t.plot.outputs) == 1


def test_actual_confusion_matrix(scores, path):
    t = threshold_tuner(scores, path, label_col="bad")
    flag = scores["probability"] >= 0.5
    bad = scores["bad"] == 1
    assert t.figures["tp"] == (flag & bad).sum() and t.figures["fn"] == (~flag & bad).sum()
    assert f"<td class='tp'>{(flag & bad).sum()}</td>" in t.summary.value


def test_save_writes_the_yaml(scores, path):
    t = threshold_tuner(scores, path)
    t.sliders["medium"].value = 0.25
    t.sliders["high"].value = 0.45
    t.sliders["margin_rate"].value = 0.2
    t.save_button.click()
    th = load_thresholds(path)
    assert th.bounds() == (0.25, 0.45, 0.7) and th.margin_rate == 0.2
    assert "Saved" in t.status.value
    assert "# prepayment or a guarantee" in path.read_text(encoding="utf-8")


def test_invalid_values_disable_save(scores, path):
    t = threshold_tuner(scores, path)
    t.sliders["medium"].value = 0.8  # above high
    assert t.save_button.disabled and "medium" in t.status.value
    t.sliders["medium"].value = 0.2
    assert not t.save_button.disabled


def test_bad_frame(path):
    with pytest.raises(ParamsError, match=r"lacks column\(s\) \['exposure'"):
        threshold_tuner(pd.DataFrame({"probability": [0.1], "expected_sales": [1]}), path)


def test_growth_slider_resplits_quotas_to_the_cent():
    from medrisk import planning as Q
    from medrisk.data.demo import make_ledger
    from medrisk.reports import growth_slider

    ledger = make_ledger(n_invoices=2_000, seed=4)
    basis = Q.quota_basis(ledger, "2026-10-31", 2027, by=("region",))
    box = growth_slider(basis, "region", "en", growth=0.10)
    slider, table = box.children
    before = table.value
    slider.value = 0.25
    assert table.value != before
    expected = int(Q.quota_summary(Q.growth_scenario(basis, 0.25), "region")["annual"].sum())
    assert f"Total: {expected / 100:,.2f}" in table.value


def test_worklist_filter_narrows_to_a_region():
    from medrisk.data.demo import make_ledger
    from medrisk.dunning import build_worklists
    from medrisk.reports._widgets import worklist_filter

    ledger = make_ledger(n_invoices=2_000, seed=4)
    calls = build_worklists(ledger, "2026-10-31").calls
    box = worklist_filter(calls, ledger.customers, "en")
    region, collector, table = box.children
    everyone = table.value
    region.value = region.options[1]
    assert table.value != everyone
    n_region = (calls.merge(ledger.customers[["customer_id", "region"]])["region"]
                .eq(region.value).sum())
    assert f"<p>{n_region} / {len(calls)}</p>" in table.value
