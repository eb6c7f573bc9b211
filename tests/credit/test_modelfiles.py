"""Model files (skops + model card), safe loading, and drift (PSI)."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from threadpoolctl import threadpool_limits

from medrisk.credit import (
    CreditModel,
    ModelVersionWarning,
    drift_report,
    load_model,
    psi,
    psi_band,
    read_card,
    save_model,
)
from medrisk.credit._modelfiles import ModelFileError
from medrisk.data.demo import make_demo


class Gadget:  # a type no allow-list knows
    def __init__(self):
        self.x = 1


@pytest.fixture(scope="module")
def fitted():
    company = make_demo(4_000, seed=4)
    with threadpool_limits(1):
        gbm = CreditModel("gbm", estimator_params={"max_iter": 20}).fit(
            company.ledger, "2026-04-30"
        )
        card = CreditModel("scorecard").fit(company.ledger, "2026-04-30")
    return company.ledger, gbm, card


@pytest.mark.parametrize("which", ["gbm", "scorecard"])
def test_round_trip_with_card(tmp_path, fitted, which):
    ledger, gbm, card = fitted
    model = gbm if which == "gbm" else card
    path = save_model(
        model, tmp_path / f"{which}.skops", ledger=ledger, metrics={"roc_auc": 0.75}, notes="test"
    )
    assert path.exists() and (tmp_path / f"{which}.card.json").exists()
    raw = path.read_bytes()
    assert raw[:2] == b"PK"  # a skops zip, not a pickle
    loaded = load_model(path)
    pd.testing.assert_series_equal(loaded.predict_proba(ledger), model.predict_proba(ledger))
    c = read_card(path)
    assert c["data_fingerprint"] == ledger.fingerprint()
    assert c["training"]["as_of"] == "2026-04-30" and c["training"]["rows"] > 100
    assert c["training"]["first_invoice_date"] <= c["training"]["last_invoice_date"]
    assert "30 days of due" in c["label_definition"]
    assert c["features"] == model.feature_names_ and c["metrics"] == {"roc_auc": 0.75}
    assert {"medrisk", "scikit-learn", "skops", "numpy", "pandas", "python"} <= set(c["versions"])


@pytest.mark.parametrize("which", ["gbm", "scorecard"])
@pytest.mark.parametrize("old_module", ["medrisk.credit", "medrisk.classifiers"])
def test_files_naming_the_classifiers_by_old_paths_still_load(tmp_path, fitted, monkeypatch,
                                                              which, old_module):
    # session 1 saved medrisk.credit.<class>, session 2 medrisk.credit.<class>; neither
    # module path need exist as a module for the file to load
    ledger, gbm, card = fitted
    model = gbm if which == "gbm" else card
    cls = type(model.estimator_)
    monkeypatch.setattr(cls, "__module__", old_module)
    path = save_model(model, tmp_path / "old.skops", ledger=ledger)
    monkeypatch.undo()
    assert f"{old_module}.{cls.__name__}" in sio.get_untrusted_types(file=path)
    loaded = load_model(path)
    assert type(loaded.estimator_) is cls
    pd.testing.assert_series_equal(loaded.predict_proba(ledger), model.predict_proba(ledger))


def test_version_mismatch_is_refused_or_warned(tmp_path, fitted):
    ledger, _, card = fitted
    path = save_model(card, tmp_path / "m.skops", ledger=ledger)
    meta = json.loads((tmp_path / "m.card.json").read_text())
    meta["versions"]["scikit-learn"] = "0.24.2"
    (tmp_path / "m.card.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"saved with scikit-learn 0.24.2"):
        load_model(path)
    with pytest.warns(ModelVersionWarning, match=r"scikit-learn 0.24.2"):
        assert load_model(path, on_version_mismatch="warn") is not None
    meta["versions"]["scikit-learn"] = __import__("sklearn").__version__
    meta["versions"]["medrisk"] = "0.0.1"
    (tmp_path / "m.card.json").write_text(json.dumps(meta))
    with pytest.warns(ModelVersionWarning, match=r"medrisk"):
        load_model(path)


def test_unknown_types_are_refused(tmp_path, fitted):
    ledger, _, card = fitted
    card.gadget = Gadget()
    try:
        path = save_model(card, tmp_path / "evil.skops", ledger=ledger)
    finally:
        del card.gadget
    assert any("Gadget" in t for t in sio.get_untrusted_types(file=path))
    with pytest.raises(ModelFileError, match=r"not on the allow-list: \[.*Gadget"):
        load_model(path)


def test_missing_card_is_refused(tmp_path, fitted):
    _, _, card = fitted
    sio.dump(card, tmp_path / "bare.skops")
    with pytest.raises(ModelFileError, match=r"No model card"):
        load_model(tmp_path / "bare.skops")
    with pytest.raises(ModelFileError, match=r"does not exist"):
        load_model(tmp_path / "nope.skops")


def test_psi_bands():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20_000)
    assert psi(a, rng.normal(size=20_000)) < 0.01
    assert 0.1 <= psi(a, rng.normal(0.4, 1, 20_000)) <= 0.25
    assert psi(a, rng.normal(1.5, 1, 20_000)) > 0.25
    assert [psi_band(v) for v in (0.05, 0.1, 0.2, 0.25, 0.3)] == [
        "stable",
        "watch",
        "watch",
        "watch",
        "retrain",
    ]
    cats = np.array(["a", "b"] * 500, dtype=object)
    assert psi(cats, cats, categorical=True) == pytest.approx(0.0)
    assert psi(cats, np.array(["a"] * 900 + ["b"] * 100, dtype=object), categorical=True) > 0.25


def test_drift_report(fitted):
    ledger, gbm, _ = fitted
    X, _ = gbm.training_frame(ledger, "2026-04-30")
    from medrisk.credit import invoice_features

    now = invoice_features(ledger).loc[ledger.invoices["invoice_date"].ge("2026-07-01").to_numpy()]
    rep = drift_report(
        X, now, score_train=gbm.predict_frame(X), score_current=gbm.predict_frame(now)
    )
    assert rep["feature"].iloc[0] == "score"
    assert set(rep["band"]) <= {"stable", "watch", "retrain", "unknown"}
    assert len(rep) == len(X.columns) + 1
    # counts that grow with time drift; the invoice month of a summer window does too
    assert rep.set_index("feature").loc["invoice_month", "band"] == "retrain"


def _with_member(src, dst, name, content: bytes | None):
    """A copy of zip ``src`` at ``dst`` with member ``name`` replaced (or dropped if None)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename != name:
                zout.writestr(info, zin.read(info))
        if content is not None:
            zout.writestr(name, content)


@pytest.mark.parametrize("damage", ["pickle", "truncated", "empty", "bad schema", "no schema",
                                    "card not json", "card a list"])
def test_broken_model_files_give_a_model_file_error_not_a_traceback(tmp_path, fitted, damage):
    ledger, _, card = fitted
    good = save_model(card, tmp_path / "good.skops", ledger=ledger)
    bad = tmp_path / "bad.skops"
    (tmp_path / "bad.card.json").write_text((tmp_path / "good.card.json").read_text())
    if damage == "pickle":
        bad.write_bytes(pickle.dumps({"a": 1}))
    elif damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif damage == "empty":
        bad.write_bytes(b"")
    elif damage == "bad schema":
        _with_member(good, bad, "schema.json", b"{not json")
    elif damage == "no schema":
        _with_member(good, bad, "schema.json", None)
    else:
        bad.write_bytes(good.read_bytes())
        (tmp_path / "bad.card.json").write_text("{oops" if damage == "card not json" else "[1]")
    with pytest.raises(ModelFileError, match=r"bad\.(skops|card\.json)"):
        load_model(bad)
