"""Plan attainment (达成率) and plan alerts: invoiced sales against the plan.

:func:`attainment` compares invoiced sales (by invoice month, as of ``as_of``,
the unit taken as in :func:`medrisk.planning.monthly_sales`: ``region`` and
``channel`` of the customer, ``salesperson_id`` and ``product_line`` of the
invoice) with the plan, per unit and month and year to date. Only complete
months are compared (a month is complete when ``as_of`` is on or after its
last day). The plan is the ledger's ``targets`` table when it has one, else
the quotas given (``source``).

:func:`plan_alerts` flags, for the latest complete month, units whose
year-to-date or month attainment is below a threshold, or whose month sales
are more than ``history_sd_below`` standard deviations below their own
seasonal expectation: the one-month-ahead forecast (:class:`AutoETS`, with
seasonality and the Spring Festival calendar) made from the months before,
with the standard deviation read from its 95% interval. Thresholds live in
``params/plan-alerts.yaml``; a comparison is strict, so a value exactly at
the threshold does not alert.

The plan has the shape of the ``targets`` table (:class:`medrisk.data.Target`),
such as the quotas of :func:`medrisk.planning.build_quotas`, split by the unit
columns of :data:`medrisk.planning.QUOTA_DIMENSIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd
from ruamel.yaml import YAML

from medrisk import kernel
from medrisk.config import FEN_PER_YUAN, PARAMS_DIR
from medrisk.data import Ledger
from medrisk.exceptions import MissingTableError, ParamsError, SchemaError, SourceError
from medrisk.kernel import wan
from medrisk.planning._forecaster import AutoETS, Forecaster, _month_codes, _month_starts
from medrisk.planning._quotas import QUOTA_DIMENSIONS, _check_by
from medrisk.planning._sales import (
    MISSING_LABEL,
    _last_complete_month,
    _sales_by_month,
    monthly_sales,
)

__all__ = [
    "ALERT_KEYS",
    "attainment",
    "load_alert_thresholds",
    "attainment_alerts",
    "history_alerts",
    "seasonal_expectation",
    "plan_alerts",
]

SOURCES = ("auto", "targets", "quotas")
#: Keys of ``params/plan-alerts.yaml``.
ALERT_KEYS = ("attainment_ytd_min", "attainment_month_min", "history_sd_below")
DEFAULT_ALERTS_FILE = PARAMS_DIR / "plan-alerts.yaml"
_ALERT_COLUMNS = ["as_of", "period", "rule", "scope", "scope_id", "metric", "value", "threshold",
                  "message_en", "message_zh"]
_Z95 = 1.959963984540054


# --------------------------------------------------------------------------- attainment
def _plan_frame(ledger: Ledger, quotas, source: str) -> tuple[pd.DataFrame, str]:
    kernel.check_choice("source", source, SOURCES)
    targets = ledger.table("targets")
    if source in ("auto", "targets") and targets is not None and len(targets):
        return targets, "targets"
    if source == "targets":
        raise MissingTableError("targets", "plan attainment (source='targets')",
                                ["period", "target_amount", "region"])
    if quotas is None:
        raise MissingTableError("targets", "plan attainment (or pass quotas=build_quotas(...))",
                                ["period", "target_amount"])
    if not isinstance(quotas, pd.DataFrame):
        raise ParamsError(f"quotas must be a DataFrame shaped like the targets table; "
                          f"got {type(quotas).__name__}.")
    return quotas, "quotas"


def _plan_by(plan: pd.DataFrame, by) -> tuple[str, ...]:
    missing = [c for c in ("period", "target_amount") if c not in plan.columns]
    if missing:
        raise SchemaError(f"The plan lacks column(s) {missing}; it needs period, target_amount "
                          f"and unit columns from {list(QUOTA_DIMENSIONS)}.")
    if by is not None:
        names = _check_by(by)
        absent = [b for b in names if b not in plan.columns]
        if absent:
            raise SchemaError(f"The plan has no column(s) {absent} for by={by!r}.")
        return names
    names = tuple(c for c in QUOTA_DIMENSIONS if c in plan.columns and plan[c].notna().any())
    if not names:
        raise SchemaError(f"The plan names no unit: fill one of {list(QUOTA_DIMENSIONS)}.")
    return names


def attainment(ledger: Ledger, as_of, quotas: pd.DataFrame | None = None, by=None,
               source: str = "auto") -> pd.DataFrame:
    """Plan attainment (达成率) per unit, by month and year to date.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Only invoices issued on or before it count; only complete months are compared.
    quotas : DataFrame, default=None
        A plan in the ``targets`` shape (e.g. :func:`medrisk.planning.build_quotas`), used when
        the ledger has no targets table (or with ``source="quotas"``).
    by : str or sequence of str, default=None
        Unit columns; None takes the plan's filled unit columns. Plan rows are
        summed to ``by`` (a salesperson plan gives region attainment with
        ``by="region"``).
    source : {"auto", "targets", "quotas"}, default="auto"
        ``"auto"``: the targets table when present, else ``quotas``.

    Returns
    -------
    DataFrame
        ``by`` columns, ``period``, ``plan`` and ``actual`` (fen), ``attainment``
        (actual / plan; NaN when the plan is 0), ``plan_ytd``, ``actual_ytd``,
        ``attainment_ytd`` (calendar year to date), ``source``.

    Raises
    ------
    ParamsError, SchemaError, MissingTableError
        For bad arguments, a malformed plan or a missing plan.
    """
    day = kernel.day_of(as_of)
    plan, src = _plan_frame(ledger, quotas, source)
    names = list(_plan_by(plan, by))
    last = _last_complete_month(day)
    pm = _month_codes(plan["period"])
    keep = pm <= last
    p = pd.DataFrame({"m": pm[keep],
                      "plan": plan["target_amount"].to_numpy(dtype=np.int64)[keep]})
    for c in names:
        vals = plan[c].to_numpy(dtype=object)[keep]
        p[c] = [MISSING_LABEL if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                for v in vals]
    cols = [
        *names, "period", "plan", "actual", "attainment", "plan_ytd", "actual_ytd",
        "attainment_ytd", "source",
    ]
    if len(p) == 0:
        return pd.DataFrame(columns=cols)
    p = p.groupby(names + ["m"], sort=True)["plan"].sum().reset_index()
    actual = _sales_by_month(ledger, day, names).rename(columns={"amount": "actual"})
    out = p.merge(actual, on=names + ["m"], how="left")
    out["actual"] = out["actual"].fillna(0).to_numpy(dtype=np.int64)
    out = out.sort_values(names + ["m"], kind="stable").reset_index(drop=True)
    year = (out["m"].to_numpy() // 12)
    key = [out[c] for c in names] + [pd.Series(year)]
    out["plan_ytd"] = out.groupby(key, sort=False)["plan"].cumsum().to_numpy(np.int64)
    out["actual_ytd"] = out.groupby(key, sort=False)["actual"].cumsum().to_numpy(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["attainment"] = np.where(out["plan"] > 0, out["actual"] / out["plan"].where(
            out["plan"] > 0, 1), np.nan)
        out["attainment_ytd"] = np.where(out["plan_ytd"] > 0, out["actual_ytd"] / out[
            "plan_ytd"].where(out["plan_ytd"] > 0, 1), np.nan)
    out["period"] = _month_starts(out["m"])
    out["source"] = src
    out = out[cols]
    out.attrs.update(as_of=pd.Timestamp(np.int64(day).astype("datetime64[D]")), by=tuple(names),
                     source=src, unit="fen")
    return out


# --------------------------------------------------------------------------- alerts
def load_alert_thresholds(path: str | Path | None = None) -> dict[str, float | None]:
    """Read the plan-alert thresholds (``params/plan-alerts.yaml`` by default).

    Parameters
    ----------
    path : str or Path, default=None
        YAML file with keys from :data:`ALERT_KEYS`; a key set to null is not checked.

    Returns
    -------
    dict
        Every key of :data:`ALERT_KEYS` (missing keys are None).

    Raises
    ------
    SourceError
        When the file does not exist.
    ParamsError
        For invalid YAML, an unknown key or a bad value.
    """
    p = Path(DEFAULT_ALERTS_FILE if path is None else path)
    if not p.exists():
        raise SourceError(f"Alert thresholds file {p} does not exist.")
    try:
        data = YAML(typ="safe").load(p.read_text(encoding="utf-8")) or {}
    except Exception as exc:  # ruamel raises many error types
        raise ParamsError(f"{p}: not valid YAML ({exc}).") from exc
    if not isinstance(data, Mapping):
        raise ParamsError(f"{p}: expected a mapping of threshold names to numbers.")
    return _check_thresholds(data, str(p))


def _check_thresholds(data: Mapping, where: str = "thresholds") -> dict[str, float | None]:
    unknown = set(data) - set(ALERT_KEYS)
    if unknown:
        raise ParamsError(f"{where}: unknown key(s) {sorted(unknown)}; possible keys are "
                          f"{list(ALERT_KEYS)}.")
    out: dict[str, float | None] = {}
    for key in ALERT_KEYS:
        v = data.get(key)
        if v is None:
            out[key] = None
            continue
        if isinstance(v, bool) or not isinstance(v, Real) or not np.isfinite(v) or v < 0:
            raise ParamsError(f"{where}: {key} must be a non-negative number or null; got {v!r}.")
        out[key] = float(v)
    return out


def _wan_text(fen) -> str:
    """Money for a sentence, in 万元 (``4,439.1万``) as management reads it."""
    return wan(fen)


def _unit_label(row, names) -> str:
    return "/".join(str(row[c]) for c in names)


def _month_text(ts: pd.Timestamp) -> tuple[str, str]:
    return f"{ts:%B %Y}", f"{ts.year}年{ts.month}月"


def attainment_alerts(att: pd.DataFrame, thresholds: Mapping[str, float | None],
                      period=None) -> pd.DataFrame:
    """Alerts for units below their plan in one month (the latest by default).

    Parameters
    ----------
    att : DataFrame
        From :func:`attainment`.
    thresholds : dict
        ``attainment_ytd_min`` and ``attainment_month_min`` (None: not checked).
        An alert fires when the attainment is strictly below the threshold.
    period : date-like, default=None
        Month to check; None takes the latest month of ``att``.

    Returns
    -------
    DataFrame
        ``as_of``, ``period``, ``rule``, ``scope``, ``scope_id``, ``metric``,
        ``value``, ``threshold``, ``message_en``, ``message_zh``.
    """
    th = _check_thresholds(thresholds)
    names = list(att.attrs.get("by") or [c for c in QUOTA_DIMENSIONS if c in att.columns])
    if len(att) == 0:
        return pd.DataFrame(columns=_ALERT_COLUMNS)
    when = pd.Timestamp(period) if period is not None else pd.Timestamp(att["period"].max())
    rows = att[att["period"] == when.to_period("M").to_timestamp()]
    scope = "/".join(names)
    en_m, zh_m = _month_text(when)
    out = []
    checks = [("attainment_ytd_min", "attainment_ytd", "plan_ytd", "actual_ytd"),
              ("attainment_month_min", "attainment", "plan", "actual")]
    for rule, metric, plan_col, act_col in checks:
        lim = th.get(rule)
        if lim is None:
            continue
        for _, r in rows.iterrows():
            v = r[metric]
            if pd.isna(v) or not v < lim:
                continue
            who = _unit_label(r, names)
            plan, act = _wan_text(r[plan_col]), _wan_text(r[act_col])
            if metric == "attainment_ytd":
                en = (f"{who}: year-to-date attainment {v:.1%} to {en_m} is below {lim:.1%} "
                      f"(sales {act} of plan {plan} 元).")
                zh = (f"{who}：截至{zh_m}年累计达成率 {v:.1%}，低于 {lim:.1%}"
                      f"（实际 {act}元，计划 {plan}元）。")
            else:
                en = (f"{who}: attainment in {en_m} {v:.1%} is below {lim:.1%} "
                      f"(sales {act} of plan {plan} 元).")
                zh = (f"{who}：{zh_m}达成率 {v:.1%}，低于 {lim:.1%}"
                      f"（实际 {act}元，计划 {plan}元）。")
            out.append((att.attrs.get("as_of"), when, rule, scope, who, metric, float(v),
                        float(lim), en, zh))
    return pd.DataFrame(out, columns=_ALERT_COLUMNS)


def seasonal_expectation(ledger: Ledger, as_of, by=("region",)) -> pd.DataFrame:
    """Each unit's sales in the latest complete month against its own seasonal expectation.

    The expectation is the one-month-ahead :class:`~medrisk.planning.AutoETS`
    forecast (trend, seasonality, Spring Festival calendar) from the months
    before; its standard deviation is read from the 95% interval.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    by : str or sequence of str, default=("region",)
        Unit columns (any ``by`` of :func:`medrisk.planning.monthly_sales`).

    Returns
    -------
    DataFrame
        ``by`` columns, ``period``, ``actual`` and ``expected`` (元),
        ``sd`` (元), ``z`` = (actual - expected) / sd, ``model``.
    """
    names = [by] if isinstance(by, str) else list(by)
    day = kernel.day_of(as_of)
    last = _last_complete_month(day)
    prev_day = int(np.int64(last).astype("datetime64[M]").astype("datetime64[D]").astype(
        np.int64)) - 1  # the day before the latest complete month
    cols = [*names, "period", "actual", "expected", "sd", "z", "model"]
    try:
        hist = monthly_sales(ledger, pd.Timestamp(np.int64(prev_day).astype("datetime64[D]")),
                             names)
    except ParamsError:  # no complete month before the latest one: nothing to expect
        empty = pd.DataFrame(columns=cols)
        empty.attrs.update(by=tuple(names))
        return empty
    fc = Forecaster([AutoETS()]).fit(hist)
    pred = fc.predict(1, level=[95])
    now = monthly_sales(ledger, as_of, names)
    now = now[_month_codes(now["ds"]) == last].set_index("unique_id")
    labels = hist.drop_duplicates("unique_id").set_index("unique_id")[names]
    out = labels.loc[pred["unique_id"]].reset_index()
    out["period"] = _month_starts(np.full(len(out), last))
    out["actual"] = pred["unique_id"].map(now["y"]).fillna(0.0).to_numpy(float)
    out["expected"] = pred["AutoETS"].to_numpy(float)
    out["sd"] = (pred["AutoETS-hi-95"] - pred["AutoETS-lo-95"]).to_numpy(float) / (2 * _Z95)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["z"] = np.where(out["sd"] > 0, (out["actual"] - out["expected"]) / out["sd"], np.nan)
    out["model"] = pred["unique_id"].map(fc.models_used_.set_index("unique_id")["model"]).values
    out = out.drop(columns="unique_id")
    out.attrs.update(as_of=pd.Timestamp(np.int64(day).astype("datetime64[D]")), by=tuple(names))
    return out


def history_alerts(expect: pd.DataFrame, thresholds: Mapping[str, float | None]) -> pd.DataFrame:
    """Alerts for units whose month sales are far below their own seasonal expectation.

    Parameters
    ----------
    expect : DataFrame
        From :func:`seasonal_expectation` (``period``, ``actual``,
        ``expected``, ``sd``, ``z`` and the unit columns).
    thresholds : dict
        ``history_sd_below`` (None: not checked): alert when
        ``z < -history_sd_below`` (strictly).

    Returns
    -------
    DataFrame
        As :func:`attainment_alerts`; ``value`` is ``z`` and ``threshold`` is
        ``-history_sd_below``.
    """
    th = _check_thresholds(thresholds)
    lim = th.get("history_sd_below")
    names = list(expect.attrs.get("by") or [c for c in expect.columns if c not in (
        "period", "actual", "expected", "sd", "z", "model")])
    out = []
    if lim is not None:
        for _, r in expect.iterrows():
            z = r["z"]
            if pd.isna(z) or not z < -lim:
                continue
            who = _unit_label(r, names)
            en_m, zh_m = _month_text(pd.Timestamp(r["period"]))
            act = _wan_text(r["actual"] * FEN_PER_YUAN)
            exp_ = _wan_text(r["expected"] * FEN_PER_YUAN)
            en = (f"{who}: sales in {en_m} of {act}元 are {-z:.1f} standard deviations below "
                  f"the seasonal expectation of {exp_}元 (limit {lim:g}).")
            zh = (f"{who}：{zh_m}销售额 {act}元，低于季节性预期 {exp_}元 {-z:.1f} 个标准差"
                  f"（阈值 {lim:g}）。")
            out.append((expect.attrs.get("as_of"), pd.Timestamp(r["period"]), "history_sd_below",
                        "/".join(names), who, "sales_z", float(z), -float(lim), en, zh))
    return pd.DataFrame(out, columns=_ALERT_COLUMNS)


def plan_alerts(ledger: Ledger, as_of, quotas: pd.DataFrame | None = None, by=None,
                source: str = "auto",
                thresholds: Mapping[str, float | None] | str | Path | None = None) -> pd.DataFrame:
    """Alerts for the latest complete month: below plan (YTD or month) or below own history.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    quotas : DataFrame, default=None
        Plan used when the ledger has no targets table (see :func:`attainment`).
    by : str or sequence of str, default=None
        Unit columns (None: those of the plan).
    source : {"auto", "targets", "quotas"}, default="auto"
    thresholds : dict, path or None, default=None
        Thresholds, or a YAML file; None reads ``params/plan-alerts.yaml``.

    Returns
    -------
    DataFrame
        As :func:`attainment_alerts`, the attainment alerts first.
    """
    if thresholds is None or isinstance(thresholds, (str, Path)):
        th = load_alert_thresholds(thresholds)
    else:
        th = _check_thresholds(thresholds)
    att = attainment(ledger, as_of, quotas=quotas, by=by, source=source)
    frames = [attainment_alerts(att, th)]
    if th.get("history_sd_below") is not None and len(att):
        frames.append(history_alerts(seasonal_expectation(ledger, as_of, att.attrs["by"]), th))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=_ALERT_COLUMNS)
    return pd.concat(frames, ignore_index=True)
