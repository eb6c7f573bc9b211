"""Monthly sales from the ledger: the series, their forecast (销售预测) and back-test.

Built on the generic layer of :mod:`medrisk.planning` (:class:`~medrisk.planning.Forecaster`
and :class:`~medrisk.planning.AutoETS`; the models, the calendar and the
intervals are described there).

Sales
-----
:func:`monthly_sales` sums **invoice amounts by invoice month** (only invoices
issued on or before ``as_of``) for any grouping. The month of ``as_of`` is
kept only when ``as_of`` is its last day; a partial month is **dropped**, not
scaled (scaling a part month by its days would miss the quarter-end push of
its last days). Forecasts therefore start with the month after the last
complete month, which is the month of the day after ``as_of``. A group's
series starts with its first month with sales (groups that start late are
not padded with zeros before that) and runs to the last complete month, with
zeros for months without sales.

Groupings (``by``): any invoice column (``salesperson_id``, ``product_line``,
``customer_id``...), customer column (``region``, ``province``, ``channel``,
``customer_type``...), salesperson column (``team``; write
``"salespeople.region"`` for the salesperson's region) and ``category``.
``category`` is the product category of what was sold: when the ledger has
``order_lines`` and ``products``, each invoice's amount is split over the
categories of its order's lines in proportion to their net line amounts
(quantity x unit price x (1 - discount), largest-remainder rounding so the
parts add up to the invoice to the fen); invoices without order lines fall
back to their ``product_line`` when it names a category. Without those tables
``category`` is the invoice's ``product_line``.

Forecast
--------
:func:`forecast_sales` fits :class:`~medrisk.planning.AutoETS` to each
series of :func:`monthly_sales`, and records the model that served each one
in its ``model`` column. It clips means and bounds at zero: sales are not
negative.

Hierarchy
---------
:func:`forecast_sales` reconciles **bottom-up**: the total's mean is the sum
of the group means, month by month, exactly (the groups partition the
invoices, so they also add up to the total's history). A sum of interval
bounds is not an interval of the sum, so the total's intervals come from a
model fitted directly to the total series, shifted to centre on the
bottom-up mean (its widths kept).

Back-test
---------
:func:`backtest_sales` runs
:meth:`~medrisk.planning.Forecaster.cross_validation` on :func:`monthly_sales`
and scores each model with :func:`~medrisk.planning.forecast_metrics` (WAPE,
MASE and the ratio of each WAPE to the seasonal-naive WAPE); with ``by``, the
total level scores the bottom-up sums.

Money: sales are invoice amounts in 元 as floats here. Forecasts are
estimates, not ledger figures; :func:`monthly_sales` also returns the exact
``amount`` in fen.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from medrisk.config import FEN_PER_YUAN, PRODUCT_CATEGORIES
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.kernel import day_of, positions
from medrisk.planning._forecaster import (
    AutoETS,
    Forecaster,
    HistoricAverage,
    Naive,
    SeasonalNaive,
    _check_h,
    _check_levels,
    _level_name,
    _month_codes,
    _month_starts,
    forecast_metrics,
)

__all__ = [
    "monthly_sales",
    "forecast_sales",
    "backtest_sales",
    "sales_dimensions",
    "TOTAL_ID",
    "MISSING_LABEL",
]

#: ``unique_id`` of the company total in :func:`forecast_sales` and :func:`monthly_sales`.
TOTAL_ID = "total"
#: Label of a group whose dimension value is missing.
MISSING_LABEL = "(none)"


# --------------------------------------------------------------------------- sales from the ledger
def sales_dimensions(ledger: Ledger) -> list[str]:
    """Names that ``by=`` accepts in :func:`monthly_sales` and :func:`forecast_sales`.

    Parameters
    ----------
    ledger : Ledger

    Returns
    -------
    list of str
        Invoice, customer and salesperson columns (unqualified when
        unambiguous), and ``category``.
    """
    names: list[str] = []
    for table in ("invoices", "customers", "salespeople"):
        frame = ledger.table(table)
        for col in [] if frame is None else frame.columns:
            if col not in names:
                names.append(col)
    return names + (["category"] if "category" not in names else [])


def _by_names(by) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if isinstance(by, Iterable):
        names = list(by)
        if all(isinstance(b, str) for b in names) and len(set(names)) == len(names):
            return names
    raise ParamsError(f"by must be None, a column name or a list of distinct names; got {by!r}.")


def _resolve(ledger: Ledger, name: str) -> tuple[str, str]:
    """(table, column) that ``name`` reads."""
    if "." in name:
        table, col = name.split(".", 1)
        frame = ledger.table(table) if table in ("invoices", "customers", "salespeople") else None
        if frame is not None and col in frame.columns:
            return table, col
    else:
        if name == "category":
            return "category", "category"
        for table in ("invoices", "customers", "salespeople"):
            frame = ledger.table(table)
            if frame is not None and name in frame.columns:
                return table, name
        if name in ("team", "manager_id"):
            ledger.require("salespeople", f"by={name!r}", ["salesperson_id", name])
    raise ParamsError(f"by={name!r} is not a column of invoices, customers or salespeople. "
                      f"Possible values are: {sales_dimensions(ledger)} (or 'table.column').")


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (missing: the last code) and the labels (missing: MISSING_LABEL)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = np.asarray(uniques, dtype=object)
    codes = np.where(codes < 0, len(labels), codes).astype(np.int64)
    return codes, np.append(labels, MISSING_LABEL).astype(object)


def _lookup(codes: np.ndarray, labels: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Codes of the rows at ``pos`` (-1: not found, missing)."""
    missing = len(labels) - 1
    if len(codes) == 0:
        return np.full(len(pos), missing, np.int64)
    return np.where(pos >= 0, codes[np.maximum(pos, 0)], missing)


def _category_codes(values: pd.Series) -> np.ndarray:
    """Position in PRODUCT_CATEGORIES, len(PRODUCT_CATEGORIES) when missing or another value."""
    known = pd.Series(np.arange(len(PRODUCT_CATEGORIES)), index=list(PRODUCT_CATEGORIES))
    out = pd.Series(values.array).map(known).to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(out), len(PRODUCT_CATEGORIES), out).astype(np.int64)


def _category_split(ledger: Ledger, inv: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """(invoice position, category code, fen) of each invoice part; see the module docstring."""
    n = len(inv)
    amount = inv["amount"].to_numpy(dtype=np.int64)
    fallback = _category_codes(inv["product_line"])
    lines, products = ledger.table("order_lines"), ledger.table("products")
    if lines is None or products is None or n == 0 or inv["order_id"].isna().all():
        return np.arange(n), fallback, amount
    n_cat = len(PRODUCT_CATEGORIES) + 1
    line_cat = _lookup(_category_codes(products["category"]), np.zeros(n_cat), positions(
        lines["sku"].reset_index(drop=True), products["sku"].reset_index(drop=True)))
    disc = lines["discount_rate"].astype("float64").fillna(0.0).to_numpy()
    net = lines["quantity"].to_numpy(np.float64) * lines["unit_price"].to_numpy(np.float64) * (
        1.0 - disc)
    both = pd.concat([pd.Series(inv["order_id"].array), pd.Series(lines["order_id"].array)],
                     ignore_index=True)
    oc, _ = pd.factorize(both, use_na_sentinel=True)
    inv_oc, line_oc = oc[:n].astype(np.int64), oc[n:].astype(np.int64)
    ok = (line_oc >= 0) & (net > 0)
    key, where = np.unique(line_oc[ok] * n_cat + line_cat[ok], return_inverse=True)
    w = np.bincount(where.ravel(), net[ok], len(key))
    k_order, k_cat = key // n_cat, key % n_cat  # sorted by order, then category
    lo = np.searchsorted(k_order, inv_oc, side="left")
    count = np.where(inv_oc >= 0, np.searchsorted(k_order, inv_oc, side="right") - lo, 0)
    has = count > 0
    p = np.repeat(np.arange(n)[has], count[has])
    first = np.repeat(lo[has], count[has])
    idx = first + np.arange(len(p)) - np.repeat(np.cumsum(count[has]) - count[has], count[has])
    cw = np.r_[0.0, np.cumsum(w)]
    total_w = (cw[lo + count] - cw[lo])[p]
    exact = amount[p] * (w[idx] / total_w)
    base = np.floor(exact).astype(np.int64)
    frac = exact - base
    short = amount[has] - np.add.reduceat(base, np.r_[0, np.cumsum(count[has])[:-1]]) if len(
        p) else np.zeros(0, np.int64)
    short = np.repeat(short, count[has])
    # largest remainder per invoice: rank its parts by fraction (ties: category order); a
    # negative shortfall (float rounding) takes a fen from the smallest fractions
    order = np.lexsort((k_cat[idx], -frac, p))
    size = np.repeat(count[has], count[has])
    rank = np.empty(len(p), np.int64)
    rank[order] = np.arange(len(p)) - np.repeat(np.cumsum(count[has]) - count[has], count[has])
    base = base + (rank < short) - (rank >= size + short)
    rest = np.flatnonzero(~has)
    return (np.r_[p, rest], np.r_[k_cat[idx], fallback[rest]].astype(np.int64),
            np.r_[base, amount[rest]].astype(np.int64))


def _last_complete_month(day: int) -> int:
    """Month code of the last month that is complete on day ``day``."""
    d = np.int64(day).astype("datetime64[D]")
    nxt = (d + 1).astype("datetime64[M]").astype(np.int64)
    return int(nxt) - 1


def _sales_by_month(ledger: Ledger, day: int, names: list[str]) -> pd.DataFrame:
    """Invoiced fen per group label(s) and month code (``m``), cells with invoices only."""
    inv = ledger.invoices
    inv = inv[(inv["invoice_date"] <= pd.Timestamp(np.int64(day).astype("datetime64[D]")))
              .to_numpy()].reset_index(drop=True)
    resolved = [_resolve(ledger, n) for n in names]
    if any(t == "category" for t, _ in resolved):
        pos, cat, amount = _category_split(ledger, inv)
    else:
        pos, cat, amount = np.arange(len(inv)), None, inv["amount"].to_numpy(dtype=np.int64)
    m = _month_codes(inv["invoice_date"].to_numpy())[pos]
    customers = ledger.customers
    cust_pos = positions(inv["customer_id"].reset_index(drop=True),
                          customers["customer_id"].reset_index(drop=True))
    sp_cache: dict[str, np.ndarray] = {}

    def salesperson() -> tuple[np.ndarray, np.ndarray]:
        if "codes" not in sp_cache:  # the invoice's salesperson, else the customer's
            own = inv["salesperson_id"].reset_index(drop=True)
            if own.isna().any():
                cust_sp = customers["salesperson_id"].reset_index(drop=True)
                via = pd.Series(cust_sp.array.take(np.maximum(cust_pos, 0)) if len(cust_sp)
                                else pd.array([None] * len(own), dtype=own.dtype))
                via[cust_pos < 0] = None
                own = own.where(own.notna(), via)
            sp_cache["codes"], sp_cache["labels"] = _codes(own)
            sp_cache["values"] = own
        return sp_cache["codes"], sp_cache["labels"]

    parts = []
    for table, col in resolved:
        if table == "category":
            codes, labels = cat, np.array(list(PRODUCT_CATEGORIES) + [MISSING_LABEL], object)
        elif table == "invoices" and col == "salesperson_id":
            codes, labels = salesperson()
            codes = codes[pos]
        elif table == "invoices":
            codes, labels = _codes(inv[col].reset_index(drop=True))
            codes = codes[pos]
        elif table == "customers":
            c, labels = _codes(customers[col].reset_index(drop=True))
            codes = _lookup(c, labels, cust_pos)[pos]
        else:
            salesperson()
            sps = ledger.salespeople
            c, labels = _codes(sps[col].reset_index(drop=True))
            sp_pos = positions(sp_cache["values"], sps["salesperson_id"].reset_index(drop=True))
            codes = _lookup(c, labels, sp_pos)[pos]
        parts.append((codes, labels))
    group = np.zeros(len(pos), np.int64)
    for codes, labels in parts:  # compact after each column: no int64 overflow
        group = np.unique(group * len(labels) + codes, return_inverse=True)[1].ravel()
    m0 = int(m.min()) if len(m) else 0
    span = int(m.max()) - m0 + 1 if len(m) else 1
    sums = pd.Series(amount).groupby(group * span + (m - m0)).sum()
    key = sums.index.to_numpy()
    g, first = np.unique(group, return_index=True)
    cell_group = np.searchsorted(g, key // span)
    out = pd.DataFrame({"m": key % span + m0, "amount": sums.to_numpy(dtype=np.int64)})
    for name, (codes, labels) in zip(names, parts, strict=True):
        out[name] = labels[codes[first]][cell_group]
    return out[names + ["m", "amount"]]


def monthly_sales(ledger: Ledger, as_of, by=None) -> pd.DataFrame:
    """Invoiced sales per month and group, in the long format of :class:`Forecaster`.

    Only invoices issued on or before ``as_of`` count, by invoice month. The
    month of ``as_of`` is kept only when ``as_of`` is its last day (a partial
    month is dropped). Each group's series runs from its first month with
    sales to the last complete month, with 0 for months without sales.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Valuation date.
    by : str or list of str, default=None
        Grouping (see :func:`sales_dimensions`); None gives one series, ``"total"``.

    Returns
    -------
    DataFrame
        ``unique_id`` (the group labels joined by "/"), ``ds`` (month start),
        ``y`` (元, float), ``amount`` (fen, int64, exact) and the ``by`` columns.

    Raises
    ------
    ParamsError
        For a bad ``as_of`` or ``by``, or when no complete month has sales.
    """
    day = day_of(as_of)
    names = _by_names(by)
    sums = _sales_by_month(ledger, day, names)
    last = _last_complete_month(day)
    sums = sums[sums["m"] <= last]
    if len(sums) == 0:
        raise ParamsError(f"No invoices in a complete month on or before as_of={as_of!s}; "
                          "sales need at least one complete month.")
    keys = names or ["_all"]
    if not names:
        sums = sums.assign(_all=TOTAL_ID)
    sums = sums[sums["amount"] != 0]
    if len(sums) == 0:
        raise ParamsError(f"Invoices on or before as_of={as_of!s} sum to zero in every month.")
    first = sums.groupby(keys, sort=True)["m"].min().reset_index(name="first")
    n = (last - first["first"].to_numpy() + 1).astype(np.int64)
    grid = first.loc[np.repeat(np.arange(len(first)), n), keys].reset_index(drop=True)
    grid["m"] = np.repeat(first["first"].to_numpy(), n) + (
        np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    full = grid.merge(sums, on=keys + ["m"], how="left")
    amount = full["amount"].fillna(0).to_numpy(dtype=np.int64)
    uid = full[keys[0]].astype(str)
    for k in keys[1:]:
        uid = uid + "/" + full[k].astype(str)
    out = pd.DataFrame({"unique_id": uid.to_numpy(dtype=object), "ds": _month_starts(full["m"]),
                        "y": amount / FEN_PER_YUAN, "amount": amount})
    for k in names:
        out[k] = full[k].to_numpy(dtype=object)
    out = out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    out.attrs.update(as_of=pd.Timestamp(np.int64(day).astype("datetime64[D]")),
                     last_complete_month=pd.Timestamp(_month_starts([last])[0]), by=names,
                     unit="yuan")
    return out


def _interval_cols(levels: list[float]) -> list[str]:
    lo = [f"lo-{_level_name(lv)}" for lv in sorted(levels, reverse=True)]
    hi = [f"hi-{_level_name(lv)}" for lv in levels]
    return lo + hi


def _tidy(pred: pd.DataFrame, alias: str, levels: list[float]) -> pd.DataFrame:
    out = pd.DataFrame({"unique_id": pred["unique_id"], "ds": pred["ds"],
                        "mean": pred[alias].to_numpy(float)})
    for c in _interval_cols(levels):
        out[c] = pred[f"{alias}-{c}"].to_numpy(float)
    return out


def _total_of(hist: pd.DataFrame) -> pd.DataFrame:
    """Sum a grouped :func:`monthly_sales` frame to the total series (groups partition sales)."""
    amount = hist.groupby("ds", sort=True)["amount"].sum()
    out = pd.DataFrame({"unique_id": TOTAL_ID, "ds": amount.index.to_numpy(),
                        "y": amount.to_numpy() / FEN_PER_YUAN,
                        "amount": amount.to_numpy(dtype=np.int64)})
    out.attrs.update(hist.attrs, by=[])
    return out


def forecast_sales(ledger: Ledger, as_of, by=None, h: int = 12, level=(80, 95)) -> pd.DataFrame:
    """Monthly sales forecast per group and for the total, with intervals.

    Fits :class:`~medrisk.planning.AutoETS` to :func:`monthly_sales` (``as_of``, ``by``): see
    the module docstring of :mod:`medrisk.planning` for the models and the calendar, and
    this module's for the partial month. The forecast starts with the month after the
    last complete month (the month of the day after ``as_of``; when ``as_of`` is not a
    month end that month's forecast is for the whole month, including what is already
    invoiced). Means and bounds are clipped at zero.

    Hierarchy: bottom-up. The ``"total"`` rows' ``mean`` is the sum of the
    group means, month by month; their intervals come from a model fitted to
    the total series, centred on that mean.

    Money is in 元 as float: forecasts are estimates, not ledger figures.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Valuation date: nothing issued later is read.
    by : str or list of str, default=None
        Grouping; None forecasts the total only.
    h : int, default=12
        Months ahead.
    level : sequence of float, default=(80, 95)
        Interval coverages in percent.

    Returns
    -------
    DataFrame
        ``unique_id``, ``ds`` (month start), ``model`` (the model that served
        the series, e.g. ``"ETS(A,Ad,A)+cal"``; ``"bottom_up(<model of the
        total>)"`` on total rows), ``mean``, ``lo-80``, ``hi-80``, ``lo-95``,
        ``hi-95`` (per ``level``) and the ``by`` columns (missing on total rows).
        Groups first, then the total rows.

    Raises
    ------
    ParamsError
        For bad arguments or no sales history.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.planning import forecast_sales
    >>> fc = forecast_sales(make_ledger(2_000, seed=1), "2026-10-31", by="region", h=3)
    >>> fc.columns.tolist()
    ['unique_id', 'ds', 'model', 'mean', 'lo-95', 'lo-80', 'hi-80', 'hi-95', 'region']
    >>> fc["unique_id"].unique().tolist()
    ['东北', '华东', '华中', '华北', '华南', '西北', '西南', 'total']
    >>> fc[fc["unique_id"] == "total"][["ds", "model"]]
               ds                       model
    21 2026-11-01  bottom_up(ETS(A,Ad,A)+cal)
    22 2026-12-01  bottom_up(ETS(A,Ad,A)+cal)
    23 2027-01-01  bottom_up(ETS(A,Ad,A)+cal)
    """
    h = _check_h(h)
    levels = _check_levels(level)
    names = _by_names(by)
    model = AutoETS()
    hist = monthly_sales(ledger, as_of, names)
    total_hist = hist if not names else _total_of(hist)
    tot_fc = Forecaster([model]).fit(total_hist)
    total = _tidy(tot_fc.predict(h, levels), model.alias, levels)
    total_name = tot_fc.models_used_["model"].iloc[0]
    bound_cols = _interval_cols(levels)
    if not names:
        total["model"] = total_name
        out = total
    else:
        fc = Forecaster([model]).fit(hist)
        groups = _tidy(fc.predict(h, levels), model.alias, levels)
        used = fc.models_used_.set_index("unique_id")["model"]
        groups["model"] = groups["unique_id"].map(used).to_numpy(dtype=object)
        for c in ["mean"] + bound_cols:
            groups[c] = np.maximum(groups[c].to_numpy(), 0.0)
        labels = hist.drop_duplicates("unique_id").set_index("unique_id")[names]
        for k in names:
            groups[k] = groups["unique_id"].map(labels[k]).to_numpy(dtype=object)
        bu = groups.groupby("ds", sort=True)["mean"].sum()
        shift = bu.reindex(total["ds"]).to_numpy() - total["mean"].to_numpy()
        total["mean"] = bu.reindex(total["ds"]).to_numpy()
        for c in bound_cols:
            total[c] = total[c].to_numpy() + shift
        total["model"] = f"bottom_up({total_name})"
        for k in names:
            total[k] = None
        out = pd.concat([groups, total], ignore_index=True)
    for c in ["mean"] + bound_cols:
        out[c] = np.maximum(out[c].to_numpy(dtype=float), 0.0)
    out = out[["unique_id", "ds", "model", "mean"] + bound_cols + names].reset_index(drop=True)
    out.attrs.update(as_of=total_hist.attrs["as_of"],
                     last_complete_month=total_hist.attrs["last_complete_month"],
                     by=names, reconciliation="bottom_up", unit="yuan")
    return out


# --------------------------------------------------------------------------- back-test
def backtest_sales(ledger: Ledger, as_of, by=None, h: int = 3, n_windows: int = 6,
                   step_size: int = 1) -> pd.DataFrame:
    """Rolling-origin back-test of the sales forecast against simple baselines.

    Runs :meth:`~medrisk.planning.Forecaster.cross_validation` with
    :class:`~medrisk.planning.AutoETS`, :class:`~medrisk.planning.SeasonalNaive`,
    :class:`~medrisk.planning.Naive` and :class:`~medrisk.planning.HistoricAverage` on
    :func:`monthly_sales` (``as_of``, ``by``), and scores them with
    :func:`~medrisk.planning.forecast_metrics`. With ``by``, the ``"total"`` level scores the
    bottom-up sums of each model's group forecasts against the total sales.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    by : str or list of str, default=None
    h : int, default=3
        Months ahead.
    n_windows : int, default=6
        Rolling origins.
    step_size : int, default=1
        Months between origins.

    Returns
    -------
    DataFrame
        ``level`` ("series" or "total"), ``model``, ``wape``, ``mase``,
        ``wape_ratio`` (WAPE / seasonal-naive WAPE at the same level),
        ``n_series``, ``n_windows``, ``n_points``, ``h``.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.planning import backtest_sales
    >>> bt = backtest_sales(make_ledger(5_000, seed=1), "2026-10-31", by="region")
    >>> bt.set_index(["level", "model"])["wape_ratio"].round(2)
    level   model
    series  AutoETS            0.93
            SeasonalNaive      1.00
            Naive              1.16
            HistoricAverage    0.98
    total   AutoETS            0.72
            SeasonalNaive      1.00
            Naive              0.94
            HistoricAverage    1.21
    Name: wape_ratio, dtype: float64
    """
    names = _by_names(by)
    hist = monthly_sales(ledger, as_of, names)
    models = [AutoETS(), SeasonalNaive(), Naive(), HistoricAverage()]
    aliases = [m.alias for m in models]
    cv = Forecaster(models).cross_validation(hist, h=h, n_windows=n_windows, step_size=step_size)
    out = forecast_metrics(cv, hist, aliases).assign(level="series")
    if names:
        # bottom-up: a group with no history at a cutoff forecasts nothing for it
        tot_cv = cv.groupby(["ds", "cutoff"], sort=True)[aliases].sum().reset_index()
        tot_hist = _total_of(hist)
        tot_cv["y"] = tot_cv["ds"].map(tot_hist.set_index("ds")["y"]).to_numpy(float)
        tot_cv.insert(0, "unique_id", TOTAL_ID)
        out = pd.concat([out, forecast_metrics(tot_cv, tot_hist, aliases).assign(level="total")],
                        ignore_index=True)
    out["h"] = h
    cols = ["level", "model", "wape", "mase", "wape_ratio", "n_series", "n_windows", "n_points",
            "h"]
    return out[cols]
