"""Sales quotas (销售指标分解): an annual target split over units and months to the fen.

Quotas
------
An annual target for a plan year is split over units (a hierarchy of
``region``, ``channel``, ``salesperson_id`` and ``product_line``, in the
order given) and then over the 12 months. Quotas made on ``as_of`` are for the
year after ``as_of``'s (:func:`plan_year`).

1. :func:`quota_basis` computes what each unit is expected to sell in each
   month of the plan year: the sales forecast of
   :func:`medrisk.planning.forecast_sales` made on ``as_of``
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
(:class:`medrisk.data.Target`): ``period``, ``target_amount`` (fen) and
the unit columns, so they can serve as a plan. Plan attainment and plan
alerts against such a plan are in :mod:`medrisk.planning`.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.config import FEN_PER_YUAN
from medrisk.data import Ledger, Target
from medrisk.exceptions import ParamsError
from medrisk.planning._forecaster import _month_codes, _month_starts, _ym
from medrisk.planning._sales import (
    MISSING_LABEL,
    TOTAL_ID,
    _last_complete_month,
    forecast_sales,
    monthly_sales,
)

__all__ = [
    "QUOTA_DIMENSIONS",
    "PHASINGS",
    "QUOTA_BASES",
    "QuotaBasis",
    "largest_remainder",
    "quota_basis",
    "split_target",
    "build_quotas",
    "growth_scenario",
    "quota_summary",
    "plan_year",
]

#: Unit columns a quota can be split by: the unit columns of the targets table.
QUOTA_DIMENSIONS = ("region", "channel", "salesperson_id", "product_line")
PHASINGS = ("total", "unit", "flat")
QUOTA_BASES = ("forecast", "history")


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


def _check_year(year) -> int:
    if isinstance(year, bool) or not isinstance(year, Integral) or not 2000 <= year <= 2100:
        raise ParamsError(f"year must be a calendar year such as 2027; got {year!r}.")
    return int(year)


def plan_year(as_of) -> int:
    """Return the year that quotas made on ``as_of`` are for: the year after ``as_of``'s.

    Parameters
    ----------
    as_of : date-like
        Date the plan is made on, e.g. ``"2026-10-31"``.

    Returns
    -------
    int
        ``as_of``'s calendar year plus one, for :func:`quota_basis` and
        :func:`build_quotas`.

    Raises
    ------
    ParamsError
        When ``as_of`` is not a date.

    Examples
    --------
    >>> plan_year("2026-10-31")
    2027
    >>> plan_year("2026-12-31"), plan_year("2027-01-01")
    (2027, 2028)
    """
    return int(pd.Timestamp(np.datetime64(kernel.day_of(as_of), "D")).year) + 1


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
    kernel.check_choice("basis", basis, QUOTA_BASES)
    day = kernel.day_of(as_of)
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
        The ``targets`` table shape (:class:`medrisk.data.Target`):
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
    kernel.check_choice("phasing", phasing, PHASINGS)
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
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.planning import build_quotas, quota_summary
    >>> q = build_quotas(make_ledger(2_000, seed=1), "2026-10-31", 2027, growth=0.15)
    >>> q.columns.tolist()
    ['period', 'target_amount', 'region', 'channel', 'salesperson_id', 'product_line']
    >>> len(q), q["region"].nunique(), q["period"].nunique()
    (84, 7, 12)
    >>> quota_summary(q, "region")[["region", "share"]].round(3)
      region  share
    0     华东  0.652
    1     西南  0.147
    2     华南  0.125
    3     华中  0.035
    4     华北  0.032
    5     东北  0.006
    6     西北  0.003
    """
    if (annual_target is None) == (growth is None):
        raise ParamsError("Give exactly one of annual_target (fen) and growth (e.g. 0.15); "
                          f"got annual_target={annual_target!r}, growth={growth!r}.")
    b = quota_basis(ledger, as_of, year, by=by, basis=basis)
    if growth is not None:
        return growth_scenario(b, growth, phasing)
    return split_target(b, annual_target, phasing)


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
    # a unit with no value (customers without a region) keeps its row: the shares add to 1
    annual = quotas.groupby(by, sort=False, dropna=False)["target_amount"].sum().astype("int64")
    total = int(annual.sum())
    out = annual.rename("annual").reset_index()
    out["share"] = out["annual"] / total if total else np.nan
    return out.sort_values("annual", ascending=False, ignore_index=True)
