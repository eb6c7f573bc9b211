"""Sales quotas (销售指标分解), plan attainment (达成率) and plan alerts.

Quotas
------
An annual target for a plan year is split over units (a hierarchy of
``region``, ``channel``, ``salesperson_id`` and ``product_line``, in the
order given) and then over the 12 months:

1. :func:`quota_basis` computes what each unit is expected to sell in each
   month of the plan year: the sales forecast of
   :func:`medrisk.sales.forecast_sales` made on ``as_of``
   (``basis="forecast"``), or the same calendar month of the last 12 complete
   months (``basis="history"``). It also records the sales of the year
   before the plan year (actual, plus the forecast for its months not yet
   complete), the base for a growth rate.
2. :func:`split_target` allocates the annual target (integer fen) top-down:
   to the units of the first level in proportion to their expected sales,
   then each unit's quota to its children, and so on; then each unit's
   annual quota to the months in proportion to a seasonal profile
   (``phasing``: the company total's expected monthly sales by default, the
   unit's own, or flat). Every split uses **largest-remainder rounding** in
   integer fen (:func:`largest_remainder`): the parts add up to the whole
   exactly, so months add up to each unit's annual quota, children to their
   parent and the units to the target, to the fen. Ties in the remainders
   go to the earlier unit (units are sorted by label).
3. :func:`growth_scenario` recomputes the quotas for a growth rate over the
   base year (target = base x (1 + growth), rounded to the fen) without
   refitting the forecast, for the notebook's slider.

The quotas come back in the shape of the ``targets`` table
(:class:`medrisk.schemas.Target`): ``period``, ``target_amount`` (fen) and
the unit columns, so they can serve as a plan.

Attainment and alerts
---------------------
:func:`attainment` compares invoiced sales (by invoice month, as of ``as_of``,
the unit taken as in :func:`medrisk.sales.monthly_sales`: ``region`` and
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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from medrisk.config import FEN_PER_YUAN, PARAMS_DIR
from medrisk.exceptions import MissingTableError, ParamsError, SchemaError, SourceError
from medrisk.forecast import AutoETS, Forecaster, _month_codes, _month_starts, _ym
from medrisk.ledger import Ledger
from medrisk.receivables import _day_of
from medrisk.sales import (
    MISSING_LABEL,
    TOTAL_ID,
    _last_complete_month,
    _sales_by_month,
    forecast_sales,
    monthly_sales,
)
from medrisk.schemas import Target

__all__ = [
    "QUOTA_DIMENSIONS",
    "PHASINGS",
    "BASES",
    "ALERT_KEYS",
    "QuotaBasis",
    "largest_remainder",
    "quota_basis",
    "split_target",
    "build_quotas",
    "growth_scenario",
    "attainment",
    "load_alert_thresholds",
    "attainment_alerts",
    "history_alerts",
    "seasonal_expectation",
    "plan_alerts",
]

#: Unit columns a quota can be split by: the unit columns of the targets table.
QUOTA_DIMENSIONS = ("region", "channel", "salesperson_id", "product_line")
PHASINGS = ("total", "unit", "flat")
BASES = ("forecast", "history")
SOURCES = ("auto", "targets", "quotas")
#: Keys of ``params/plan-alerts.yaml``.
ALERT_KEYS = ("attainment_ytd_min", "attainment_month_min", "history_sd_below")
DEFAULT_ALERTS_FILE = PARAMS_DIR / "plan-alerts.yaml"
_ALERT_COLUMNS = ["as_of", "period", "rule", "scope", "scope_id", "metric", "value", "threshold",
                  "message_en", "message_zh"]
_Z95 = 1.959963984540054


# --------------------------------------------------------------------------- arithmetic
def largest_remainder(total: int, weights) -> np.ndarray:
    """Split ``total`` (integer fen) in proportion to ``weights``; the parts add up exactly.

    Each part is the floor of its exact share; the fen left over go one each
    to the parts with the largest remainders (ties: the earlier part).
    All-zero weights split evenly.

    Parameters
    ----------
    total : int
        Amount in fen, at least 0.
    weights : array-like of float
        Non-negative, finite.

    Returns
    -------
    ndarray of int64
        Parts, ``parts.sum() == total``.

    Raises
    ------
    ParamsError
        For a negative or non-integer total or bad weights.

    Examples
    --------
    >>> largest_remainder(1, [1, 1, 1]).tolist()
    [1, 0, 0]
    >>> largest_remainder(100, [1, 1, 1]).tolist()
    [34, 33, 33]
    """
    if isinstance(total, bool) or not isinstance(total, Integral) or total < 0:
        raise ParamsError(f"total must be a non-negative integer amount in fen; got {total!r}.")
    w = np.asarray(weights, dtype=np.float64).ravel()
    if len(w) == 0:
        raise ParamsError("weights must hold at least one value; got none.")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise ParamsError(f"weights must be finite and non-negative; got {w.tolist()[:10]}.")
    if w.max() <= 0:
        w = np.ones_like(w)
    iw = [int(x) for x in np.round(w / w.max() * 1e15)]  # exact integer arithmetic below
    denom = sum(iw)
    total = int(total)
    floors = [total * x // denom for x in iw]
    rema = [total * x % denom for x in iw]
    left = total - sum(floors)
    order = sorted(range(len(iw)), key=lambda i: (-rema[i], i))
    for i in order[:left]:
        floors[i] += 1
    return np.asarray(floors, dtype=np.int64)


# --------------------------------------------------------------------------- basis
@dataclass(frozen=True)
class QuotaBasis:
    """What each unit is expected to sell in the plan year, and the base for growth.

    Attributes
    ----------
    year : int
        Plan year.
    by : tuple of str
        Unit hierarchy, e.g. ``("region", "salesperson_id")``.
    as_of : Timestamp
        Date the basis was computed on.
    basis : str
        ``"forecast"`` or ``"history"``.
    expected : DataFrame
        ``by`` columns, ``period`` (month start) and ``expected`` (元, float):
        expected sales of each unit in each month of the plan year.
    base_sales : int or None
        Sales of the year before the plan year in fen (actual for complete
        months, forecast for the rest); None when history does not cover it.
    base_forecast_months : int
        Months of the base year that are forecast rather than actual.
    """

    year: int
    by: tuple[str, ...]
    as_of: pd.Timestamp
    basis: str
    expected: pd.DataFrame
    base_sales: int | None
    base_forecast_months: int


def _check_by(by) -> tuple[str, ...]:
    names = (by,) if isinstance(by, str) else tuple(by) if by is not None else ()
    bad = [b for b in names if b not in QUOTA_DIMENSIONS]
    if not names or bad or len(set(names)) != len(names):
        raise ParamsError(f"by={by!r} is not a valid quota hierarchy; use one or more distinct "
                          f"names from {list(QUOTA_DIMENSIONS)}, "
                          "e.g. ('region', 'salesperson_id').")
    return names


def _check_choice(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ParamsError(f"{name}={value!r} is not supported. "
                          f"Possible values are: {list(allowed)}.")
    return value


def _check_year(year) -> int:
    if isinstance(year, bool) or not isinstance(year, Integral) or not 2000 <= year <= 2100:
        raise ParamsError(f"year must be a calendar year such as 2027; got {year!r}.")
    return int(year)


def quota_basis(ledger: Ledger, as_of, year: int, by=("region",),
                basis: str = "forecast") -> QuotaBasis:
    """Compute expected sales per unit and month of the plan year, and the base-year sales.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Date the plan is made on; the plan year must start after the last
        complete month (``as_of`` in the year before, or earlier).
    year : int
        Plan year.
    by : str or sequence of str, default=("region",)
        Unit hierarchy from :data:`QUOTA_DIMENSIONS`, top level first.
    basis : {"forecast", "history"}, default="forecast"
        Expected sales from the sales forecast, or from the same months of the
        last 12 complete months.

    Returns
    -------
    QuotaBasis

    Raises
    ------
    ParamsError
        For bad arguments, or a plan year that has started.
    """
    by = _check_by(by)
    year = _check_year(year)
    _check_choice("basis", basis, BASES)
    day = _day_of(as_of)
    last = _last_complete_month(day)
    first_plan = (year - 1970) * 12
    if last >= first_plan:
        raise ParamsError(
            f"The plan year {year} has started by as_of={as_of!s} (last complete month "
            f"{_ym(last)}); quotas are planned before the year: pass an "
            f"as_of before {year}-01-31 or a later year."
        )
    h = first_plan + 11 - last
    if h > 36:
        raise ParamsError(f"year={year} is {h} months after the last complete month; quotas "
                          "are planned at most 36 months ahead.")
    total_hist = monthly_sales(ledger, as_of)
    plan_months = first_plan + np.arange(12)
    if basis == "forecast":
        fc = forecast_sales(ledger, as_of, by=list(by), h=h, level=None)
        fm = _month_codes(fc["ds"])
        groups = fc[(fc["unique_id"] != TOTAL_ID) & np.isin(fm, plan_months)]
        expected = groups[list(by)].assign(period=groups["ds"].to_numpy(),
                                           expected=groups["mean"].to_numpy(float))
        total_fc = fc[fc["unique_id"] == TOTAL_ID]
        base_fc = total_fc[np.isin(_month_codes(total_fc["ds"]), first_plan - 12 + np.arange(12))]
        base_extra = int(round(float(base_fc["mean"].sum()) * FEN_PER_YUAN))
        n_fc = len(base_fc)
    else:
        hist = monthly_sales(ledger, as_of, list(by))
        recent = hist[_month_codes(hist["ds"]) > last - 12]
        months = first_plan + _month_codes(recent["ds"]) % 12  # same calendar month
        expected = recent[list(by)].assign(period=_month_starts(months),
                                           expected=recent["y"].to_numpy(float))
        n_fc = max(0, first_plan - 1 - last)
        base_extra = 0 if n_fc == 0 else None  # no forecast for the base year's open months
    tm = _month_codes(total_hist["ds"])
    base_months = first_plan - 12 + np.arange(12)
    actual = int(total_hist.loc[np.isin(tm, base_months), "amount"].sum())
    covered = tm.min() <= base_months[0]
    base = actual + base_extra if (covered and base_extra is not None) else None
    expected = (expected.groupby(list(by) + ["period"], sort=True, dropna=False)["expected"].sum()
                .reset_index())
    expected["expected"] = np.maximum(expected["expected"].to_numpy(float), 0.0)
    return QuotaBasis(year=year, by=by, as_of=pd.Timestamp(np.int64(day).astype("datetime64[D]")),
                      basis=basis, expected=expected, base_sales=base,
                      base_forecast_months=int(n_fc))


# --------------------------------------------------------------------------- splitting
def _as_target(units: pd.DataFrame, by: tuple[str, ...], periods: np.ndarray,
               amounts: np.ndarray) -> pd.DataFrame:
    n = len(periods)
    frame = pd.DataFrame({"period": np.asarray(periods, dtype="datetime64[ns]"),
                          "target_amount": np.asarray(amounts, dtype=np.int64)})
    for col in QUOTA_DIMENSIONS:
        if col in by:
            vals = units[col].to_numpy(dtype=object)
            frame[col] = [None if v == MISSING_LABEL else v for v in vals]
        else:
            frame[col] = [None] * n
    return Target.validate(frame)


def split_target(basis: QuotaBasis, annual_target: int, phasing: str = "total") -> pd.DataFrame:
    """Split an annual target over the units and months of ``basis``, exactly to the fen.

    Parameters
    ----------
    basis : QuotaBasis
        From :func:`quota_basis`.
    annual_target : int
        Annual target in fen.
    phasing : {"total", "unit", "flat"}, default="total"
        Monthly profile: the company total's expected sales, the unit's own
        (the total's when the unit expects nothing), or equal months.

    Returns
    -------
    DataFrame
        The ``targets`` table shape (:class:`medrisk.schemas.Target`):
        ``period``, ``target_amount`` (fen, int64), ``region``, ``channel``,
        ``salesperson_id``, ``product_line`` (None where not a unit column);
        12 rows per unit, sorted by unit then period.

    Raises
    ------
    ParamsError
        For a bad target or phasing.
    """
    _check_basis(basis)
    if (isinstance(annual_target, bool) or not isinstance(annual_target, Integral)
            or annual_target < 0):
        raise ParamsError(f"annual_target must be a non-negative integer amount in fen; "
                          f"got {annual_target!r}.")
    _check_choice("phasing", phasing, PHASINGS)
    by = list(basis.by)
    exp = basis.expected
    plan_months = (basis.year - 1970) * 12 + np.arange(12)
    units = exp.groupby(by, sort=True, dropna=False)["expected"].sum().reset_index()
    if len(units) == 0:
        raise ParamsError("The basis has no units: no sales history for the hierarchy "
                          f"{tuple(by)}.")
    grid = units[by].loc[np.repeat(np.arange(len(units)), 12)].reset_index(drop=True)
    grid["m"] = np.tile(plan_months, len(units))
    exp_m = exp.assign(m=_month_codes(exp["period"]))
    grid = grid.merge(exp_m[by + ["m", "expected"]], on=by + ["m"], how="left")
    monthly = grid["expected"].fillna(0.0).to_numpy(float).reshape(len(units), 12)

    # top-down over the hierarchy: each parent's quota to its children
    weights = monthly.sum(axis=1)
    parent = {(): int(annual_target)}
    for k in range(1, len(by) + 1):
        keys = [tuple(r) for r in units[by[:k]].itertuples(index=False, name=None)]
        level: dict[tuple, float] = {}
        for key, w in zip(keys, weights, strict=True):
            level[key] = level.get(key, 0.0) + w
        children: dict[tuple, list[tuple]] = {}
        for key in level:  # keys are in sorted unit order
            children.setdefault(key[:-1], []).append(key)
        nxt = {}
        for pkey, kids in children.items():
            parts = largest_remainder(parent[pkey], [level[c] for c in kids])
            nxt.update(zip(kids, (int(p) for p in parts), strict=True))
        parent = nxt
    quota = np.array([parent[tuple(r)] for r in units[by].itertuples(index=False, name=None)],
                     dtype=np.int64)

    total_profile = monthly.sum(axis=0)
    amounts = np.zeros((len(units), 12), dtype=np.int64)
    for i in range(len(units)):
        if phasing == "flat":
            profile = np.ones(12)
        elif phasing == "unit" and monthly[i].sum() > 0:
            profile = monthly[i]
        else:
            profile = total_profile
        amounts[i] = largest_remainder(int(quota[i]), profile)
    out = _as_target(grid[by], basis.by, _month_starts(grid["m"]), amounts.ravel())
    out.attrs.update(year=basis.year, by=basis.by, annual_target=int(annual_target),
                     phasing=phasing, basis=basis.basis, as_of=basis.as_of, unit="fen")
    return out


def _check_basis(basis) -> QuotaBasis:
    if not isinstance(basis, QuotaBasis):
        raise ParamsError(f"basis must be a QuotaBasis from quota_basis(); "
                          f"got {type(basis).__name__}.")
    return basis


def _check_growth(growth) -> float:
    if isinstance(growth, bool) or not isinstance(growth, Real) or not -1 < growth <= 10:
        raise ParamsError(f"growth must be a rate above -1 and at most 10 (0.15 for +15%); "
                          f"got {growth!r}.")
    return float(growth)


def growth_scenario(basis: QuotaBasis, growth: float, phasing: str = "total") -> pd.DataFrame:
    """Quotas for a target of the base-year sales times ``1 + growth``.

    Quick (no refit): call :func:`quota_basis` once, then this for each growth.

    Parameters
    ----------
    basis : QuotaBasis
        From :func:`quota_basis`.
    growth : float
        Growth over the base year, e.g. 0.15 for +15%.
    phasing : {"total", "unit", "flat"}, default="total"

    Returns
    -------
    DataFrame
        As :func:`split_target`; ``attrs["annual_target"]`` holds the target.

    Raises
    ------
    ParamsError
        For a bad growth, or when the base year is not covered by the history.
    """
    _check_basis(basis)
    g = _check_growth(growth)
    if basis.base_sales is None:
        raise ParamsError(
            f"The sales of {basis.year - 1}, the base for growth, are not known: the history "
            "does not cover that whole year (or, with basis='history', some of its months are "
            "still to come). Pass annual_target instead, or use basis='forecast'."
        )
    target = int(round(basis.base_sales * (1.0 + g)))
    out = split_target(basis, target, phasing)
    out.attrs.update(growth=g, base_sales=basis.base_sales)
    return out


def build_quotas(ledger: Ledger, as_of, year: int, annual_target: int | None = None,
                 growth: float | None = None, by=("region",), basis: str = "forecast",
                 phasing: str = "total") -> pd.DataFrame:
    """Split an annual target into monthly quotas per unit (:func:`quota_basis` + split).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Planning date (before the plan year starts).
    year : int
        Plan year.
    annual_target : int, default=None
        Target in fen. Give this or ``growth``.
    growth : float, default=None
        Target = base-year sales x (1 + growth).
    by : str or sequence of str, default=("region",)
        Unit hierarchy from :data:`QUOTA_DIMENSIONS`, top level first.
    basis : {"forecast", "history"}, default="forecast"
        Source of the shares and the seasonal profile.
    phasing : {"total", "unit", "flat"}, default="total"
        Monthly profile.

    Returns
    -------
    DataFrame
        As :func:`split_target`.

    Raises
    ------
    ParamsError
        When neither or both of ``annual_target`` and ``growth`` are given, or
        for bad arguments.

    Examples
    --------
    >>> from medrisk.demo import make_ledger
    >>> q = build_quotas(make_ledger(5_000), "2026-10-31", 2027, growth=0.15)  # doctest: +SKIP
    """
    if (annual_target is None) == (growth is None):
        raise ParamsError("Give exactly one of annual_target (fen) and growth (e.g. 0.15); "
                          f"got annual_target={annual_target!r}, growth={growth!r}.")
    b = quota_basis(ledger, as_of, year, by=by, basis=basis)
    if growth is not None:
        return growth_scenario(b, growth, phasing)
    return split_target(b, annual_target, phasing)


# --------------------------------------------------------------------------- attainment
def _plan_frame(ledger: Ledger, quotas, source: str) -> tuple[pd.DataFrame, str]:
    _check_choice("source", source, SOURCES)
    targets = ledger.table("targets")
    if source in ("auto", "targets") and targets is not None and len(targets):
        return targets, "targets"
    if source == "targets":
        raise MissingTableError("targets", "plan attainment (source='targets')",
                                ["period", "target_amount", "region"])
    if quotas is None:
        raise ParamsError("The ledger has no targets table; pass quotas=build_quotas(...) "
                          "(or a frame shaped like the targets table).")
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
        A plan in the ``targets`` shape (e.g. :func:`build_quotas`), used when
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
    day = _day_of(as_of)
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
    from ruamel.yaml import YAML

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


def _yuan(fen) -> str:
    fen = int(round(float(fen)))
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


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
            plan, act = _yuan(r[plan_col]), _yuan(r[act_col])
            if metric == "attainment_ytd":
                en = (f"{who}: year-to-date attainment {v:.1%} to {en_m} is below {lim:.1%} "
                      f"(sales {act} of plan {plan} CNY).")
                zh = (f"{who}：截至{zh_m}年累计达成率 {v:.1%}，低于 {lim:.1%}"
                      f"（实际 {act} 元，计划 {plan} 元）。")
            else:
                en = (f"{who}: attainment in {en_m} {v:.1%} is below {lim:.1%} "
                      f"(sales {act} of plan {plan} CNY).")
                zh = (f"{who}：{zh_m}达成率 {v:.1%}，低于 {lim:.1%}"
                      f"（实际 {act} 元，计划 {plan} 元）。")
            out.append((att.attrs.get("as_of"), when, rule, scope, who, metric, float(v),
                        float(lim), en, zh))
    return pd.DataFrame(out, columns=_ALERT_COLUMNS)


def seasonal_expectation(ledger: Ledger, as_of, by=("region",)) -> pd.DataFrame:
    """Each unit's sales in the latest complete month against its own seasonal expectation.

    The expectation is the one-month-ahead :class:`~medrisk.forecast.AutoETS`
    forecast (trend, seasonality, Spring Festival calendar) from the months
    before; its standard deviation is read from the 95% interval.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    by : str or sequence of str, default=("region",)
        Unit columns (any ``by`` of :func:`medrisk.sales.monthly_sales`).

    Returns
    -------
    DataFrame
        ``by`` columns, ``period``, ``actual`` and ``expected`` (元),
        ``sd`` (元), ``z`` = (actual - expected) / sd, ``model``.
    """
    names = [by] if isinstance(by, str) else list(by)
    day = _day_of(as_of)
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
            act, exp_ = _yuan(r["actual"] * FEN_PER_YUAN), _yuan(r["expected"] * FEN_PER_YUAN)
            en = (f"{who}: sales in {en_m} of {act} CNY are {-z:.1f} standard deviations below "
                  f"the seasonal expectation of {exp_} CNY (limit {lim:g}).")
            zh = (f"{who}：{zh_m}销售额 {act} 元，低于季节性预期 {exp_} 元 {-z:.1f} 个标准差"
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


def quota_summary(quotas: pd.DataFrame, by: str) -> pd.DataFrame:
    """Annual quota per unit and its share of the total (from monthly quota rows).

    Parameters
    ----------
    quotas : DataFrame
        Monthly quotas in the shape of the targets table (``target_amount`` in fen).
    by : str
        The unit column, e.g. ``"region"``.

    Returns
    -------
    DataFrame
        ``by``, ``annual`` (fen, exact sums of the months), ``share``; largest first.
    """
    if by not in quotas.columns:
        raise ParamsError(f"by={by!r} is not a column of the quotas; possible values are "
                          f"{[c for c in quotas.columns if c not in ('period', 'target_amount')]}.")
    annual = quotas.groupby(by, sort=False)["target_amount"].sum().astype("int64")
    total = int(annual.sum())
    out = annual.rename("annual").reset_index()
    out["share"] = out["annual"] / total if total else np.nan
    return out.sort_values("annual", ascending=False, ignore_index=True)
