"""Model files, model cards and drift.

A model is saved with skops (``model.skops``, no pickle) and a model card next
to it (``model.card.json``): training window, label definition, features,
metrics, the ledger's fingerprint and the library versions. Loading reads the
card first, checks the versions (a different scikit-learn major.minor is
refused, or only warned about with ``on_version_mismatch="warn"``), then asks
skops which types the file would build and refuses any type that is not on
the explicit allow-list :data:`TRUSTED_TYPES` (never "trust everything").

Drift: the population stability index (PSI) of each feature and of the score
between the training rows and today's, with the usual bands: below 0.1
``stable``, 0.1 to 0.25 ``watch``, above 0.25 ``retrain``.
"""

from __future__ import annotations

import io
import json
import platform
import warnings
import zipfile
from pathlib import Path

import numpy
import numpy as np
import pandas
import pandas as pd
import sklearn

import medrisk
from medrisk.exceptions import ModelFileError, ParamsError

__all__ = [
    "ModelFileError",
    "ModelVersionWarning",
    "TRUSTED_TYPES",
    "PSI_BANDS",
    "save_model",
    "load_model",
    "read_card",
    "model_card",
    "psi",
    "psi_band",
    "drift_report",
]

#: Module paths that older model files name, and where those classes live now. Files of
#: session 2 name ``medrisk.credit.<class>``; the schema is rewritten in memory on
#: load, so no module of that name has to exist.
LEGACY_MODULES: dict[str, str] = {"medrisk.classifiers": "medrisk.credit"}

#: Types a medrisk model file may contain besides those skops trusts by default.
TRUSTED_TYPES: tuple[str, ...] = (
    # medrisk's classes are recorded by their public path (``__module__ = "medrisk.credit"``)
    "medrisk.credit.CreditModel",
    "medrisk.credit.BoostedRiskClassifier",
    "medrisk.credit.ScorecardClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    # HistGradientBoostingClassifier keeps functools.partial(check_array, ...); skops lists
    # the partial and the function it wraps separately, so only this function is allowed.
    "functools.partial",
    "sklearn.utils.validation.check_array",
    "builtins.bool",
    "builtins.float",
    "builtins.int",
    "builtins.str",
    "builtins.tuple",
    "numpy.float64",
    "numpy.int64",
    "numpy.bool_",
    "numpy.bool",
    "numpy.dtype",
    "numpy.ndarray",
)
#: (upper bound, band) pairs of the population stability index.
PSI_BANDS = ((0.1, "stable"), (0.25, "watch"), (float("inf"), "retrain"))




class ModelVersionWarning(UserWarning):
    """A model file was written with other library versions than the ones running."""


def _versions() -> dict[str, str]:
    import skops

    return {
        "medrisk": medrisk.__version__,
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "python": platform.python_version(),
    }


def _card_path(path: Path) -> Path:
    return path.with_suffix(".card.json")


def model_card(
    model, ledger=None, metrics: dict | pd.DataFrame | None = None, notes: str = ""
) -> dict:
    """Describe a fitted :class:`~medrisk.credit.CreditModel` for audit.

    Parameters
    ----------
    model : CreditModel
    ledger : Ledger, default=None
        The ledger it was trained on, for its fingerprint.
    metrics : dict or DataFrame, default=None
        Back-test metrics (e.g. ``backtest(...).metrics``).
    notes : str, default=""

    Returns
    -------
    dict
        model_type, estimator and its parameters, training (window, rows,
        bad rate, label definition, censoring), features, categories,
        metrics, data_fingerprint, versions, notes.
    """
    if not hasattr(model, "estimator_"):
        raise ParamsError("model_card needs a fitted CreditModel; call fit(ledger, as_of) first.")
    if isinstance(metrics, pd.DataFrame):
        metrics = json.loads(metrics.to_json(orient="index", date_format="iso"))
    est = model.estimator_
    params = {
        k: (v if isinstance(v, (int, float, str, bool, type(None), list)) else repr(v))
        for k, v in est.get_params().items()
    }
    return {
        "model_type": type(model).__name__,
        "model": model.model,
        "estimator": type(est).__name__,
        "estimator_params": params,
        "training": dict(model.training_),
        "label_definition": model.label_definition(),
        "features": list(model.feature_names_),
        "dropped_features": dict(getattr(model, "dropped_features_", {})),
        "categories": {k: list(v) for k, v in model.categories_.items()},
        "metrics": metrics or {},
        "data_fingerprint": ledger.fingerprint() if ledger is not None else None,
        "versions": _versions(),
        "notes": notes,
    }


def save_model(model, path, ledger=None, metrics=None, notes: str = "") -> Path:
    """Save a fitted CreditModel with skops and write its model card beside it.

    Parameters
    ----------
    model : CreditModel
    path : str or Path
        File to write, e.g. ``models/late-30.skops``; the card goes to
        ``models/late-30.card.json``.
    ledger, metrics, notes
        As for :func:`model_card`.

    Returns
    -------
    Path
        The model file.
    """
    import skops.io as sio

    path = Path(path)
    card = model_card(model, ledger, metrics, notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path)
    card["file"] = path.name
    _card_path(path).write_text(
        json.dumps(card, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return path


def read_card(path) -> dict:
    """Read the model card of model file ``path``.

    Raises
    ------
    ModelFileError
        When the card is missing or not JSON.
    """
    card_file = _card_path(Path(path))
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(
            f"No model card {card_file} next to {path}; refusing to load a model "
            "whose training data and versions are unknown."
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"Model card {card_file} is not valid JSON: {exc}.") from exc
    if not isinstance(card, dict):
        raise ModelFileError(f"Model card {card_file} must be a JSON object (the card that "
                             f"save_model writes); got a {type(card).__name__}.")
    return card


def _major_minor(v: str) -> tuple[str, ...]:
    return tuple(str(v).split(".")[:2])


def load_model(path, *, on_version_mismatch: str = "error", trusted=None):
    """Load a model saved by :func:`save_model`, safely.

    Parameters
    ----------
    path : str or Path
    on_version_mismatch : {"error", "warn"}, default="error"
        What to do when the file was written with another scikit-learn
        major.minor version (other differences always only warn).
    trusted : list of str, default=None
        Extra type names to allow beyond :data:`TRUSTED_TYPES`.

    Returns
    -------
    CreditModel

    Raises
    ------
    ModelFileError
        When the card is missing, versions do not match, or the file holds a
        type that is not allowed.
    """
    import skops.io as sio

    if on_version_mismatch not in ("error", "warn"):
        raise ParamsError(
            f"on_version_mismatch={on_version_mismatch!r} is not supported. "
            "Possible values are: ['error', 'warn']."
        )
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"Model file {path} does not exist.")
    card = read_card(path)
    saved, now = card.get("versions", {}), _versions()
    if _major_minor(saved.get("scikit-learn", "?")) != _major_minor(now["scikit-learn"]):
        msg = (
            f"{path} was saved with scikit-learn {saved.get('scikit-learn')}; this is "
            f"{now['scikit-learn']}. Retrain the model, or load with "
            "on_version_mismatch='warn' to accept the risk."
        )
        if on_version_mismatch == "error":
            raise ModelFileError(msg)
        warnings.warn(msg, ModelVersionWarning, stacklevel=2)
    others = [k for k in ("medrisk", "numpy", "skops") if saved.get(k) != now[k]]
    if others:
        warnings.warn(
            f"{path} was saved with other versions of {others}: "
            f"{ {k: saved.get(k) for k in others} }; running { ({k: now[k] for k in others}) }.",
            ModelVersionWarning,
            stacklevel=2,
        )
    data = _with_current_modules(path)
    allowed = set(TRUSTED_TYPES) | set(trusted or ())
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:  # JSONDecodeError too
        raise ModelFileError(f"{path} is not a readable medrisk model file (its schema.json "
                             f"does not parse: {exc}). Save models with "
                             "medrisk.credit.save_model.") from exc
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise ModelFileError(
            f"{path} contains type(s) that are not on the allow-list: {refused}. "
            "Only medrisk credit models and the scikit-learn parts they use are "
            "loaded; pass trusted=[...] only for types you have checked."
        )
    try:
        return sio.loads(data, trusted=sorted(set(untrusted)))
    except (ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{path} could not be read as a medrisk model ({type(exc).__name__}: "
                             f"{exc}). Save models with medrisk.credit.save_model.") from exc


def _with_current_modules(path: Path) -> bytes:
    """Return the bytes of a skops file with legacy module paths renamed (see LEGACY_MODULES)."""
    raw = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            schema = z.read("schema.json").decode("utf-8")
            members = {i: z.read(i) for i in z.infolist() if i.filename != "schema.json"}
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            f"{path} is not a medrisk model file (a skops archive with schema.json): {exc}. "
            "Save models with medrisk.credit.save_model."
        ) from exc
    renamed = schema
    for old, new in LEGACY_MODULES.items():
        renamed = renamed.replace(f'"{old}"', f'"{new}"')
    if renamed == schema:
        return raw
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("schema.json", renamed)
        for info, content in members.items():
            z.writestr(info, content)
    return out.getvalue()


# --------------------------------------------------------------------------- drift
def psi_band(value: float) -> str:
    """``stable`` (< 0.1), ``watch`` (0.1-0.25) or ``retrain`` (> 0.25)."""
    if value is None or np.isnan(value):
        return "unknown"
    for hi, band in PSI_BANDS:
        if value < hi or (band == "watch" and value <= hi):
            return band
    return "retrain"


def psi(expected, actual, bins: int = 10, categorical: bool = False) -> float:
    """Compute the population stability index of ``actual`` against ``expected``.

    ``PSI = sum_b (a_b - e_b) x ln(a_b / e_b)`` over bins: deciles of
    ``expected`` for numbers (missing values are a bin of their own), each
    value for categories. Shares are floored at 1e-4.

    Parameters
    ----------
    expected, actual : array-like
    bins : int, default=10
    categorical : bool, default=False

    Returns
    -------
    float
    """
    e = pd.Series(np.asarray(expected, dtype=object if categorical else float))
    a = pd.Series(np.asarray(actual, dtype=object if categorical else float))
    if len(e) == 0 or len(a) == 0:
        return float("nan")
    if categorical:
        keys = pd.Index(pd.unique(pd.concat([e, a]).fillna("<NA>")))
        ce = e.fillna("<NA>").value_counts().reindex(keys, fill_value=0).to_numpy(float)
        ca = a.fillna("<NA>").value_counts().reindex(keys, fill_value=0).to_numpy(float)
    else:
        ev, av = e.to_numpy(float), a.to_numpy(float)
        fin = ev[~np.isnan(ev)]
        edges = np.unique(np.quantile(fin, np.linspace(0, 1, bins + 1)[1:-1])) if len(fin) else []
        nb = len(edges) + 2

        def counts(x):
            b = np.where(np.isnan(x), nb - 1, np.searchsorted(edges, np.nan_to_num(x), "right"))
            return np.bincount(b, minlength=nb).astype(float)

        ce, ca = counts(ev), counts(av)
    pe = np.maximum(ce / ce.sum(), 1e-4)
    pa = np.maximum(ca / ca.sum(), 1e-4)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def drift_report(
    train: pd.DataFrame,
    current: pd.DataFrame,
    *,
    score_train=None,
    score_current=None,
    bins: int = 10,
) -> pd.DataFrame:
    """PSI of every shared column (and of the score) between training and today.

    Parameters
    ----------
    train, current : DataFrame
        Feature rows (e.g. ``CreditModel.training_frame(...)[0]`` and the
        features of today's invoices or customers).
    score_train, score_current : array-like, default=None
        Model probabilities on both, for the score's PSI.
    bins : int, default=10

    Returns
    -------
    DataFrame
        feature, psi, band; the score first (named ``score``), then the
        features by decreasing PSI.
    """
    rows = []
    if score_train is not None and score_current is not None:
        v = psi(score_train, score_current, bins)
        rows.append(("score", v, psi_band(v)))
    feats = []
    for col in [c for c in train.columns if c in current.columns]:
        cat = not pd.api.types.is_numeric_dtype(train[col])
        v = psi(train[col], current[col], bins, categorical=cat)
        feats.append((col, v, psi_band(v)))
    feats.sort(key=lambda r: -np.nan_to_num(r[1], nan=-1))
    return pd.DataFrame(rows + feats, columns=["feature", "psi", "band"])
