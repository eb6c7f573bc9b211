"""Batch expiry (批次效期): stock on hand, expected demand before expiry, expected write-offs.

Conventions
-----------
* ``as_of`` is the **end of a day**: shipments dated on or before it have left
  the stock. ``expiry_date`` is the last day a batch may be used or shipped
  (有效期至). ``days_to_expiry = expiry_date - as_of``; the days a batch can
  still be sold are ``as_of + 1 .. expiry_date``, i.e. ``days_to_expiry`` of
  them. A batch that expires today (``days_to_expiry == 0``) or earlier has
  none left: it counts as **expired** and its stock as expiring unsold.
* Stock on hand of a batch = ``quantity`` - units shipped from it up to
  ``as_of`` (never below 0); batches produced after ``as_of`` do not exist yet.
* Only ``qc_status == "released"`` batches are sellable. Quarantined, rejected
  and batches without a status are **blocked**: reported apart, never given
  demand, never allocated.
* Cold-chain products (``products.cold_chain``) are reported apart (their own
  near-expiry list) and flagged in every table.

Demand (:func:`sku_demand`)
---------------------------
Expected units per day per SKU, nationwide (every warehouse's batches of a
SKU serve one demand):

* **history**: units shipped in the ``history_days`` days up to ``as_of``
  divided by ``history_days``;
* **forecast** (default when :mod:`medrisk.planning` is available, or when a
  forecast frame is passed): the history rate scaled per product category by
  the sales forecast's growth, ``forecast 元 per day over the next
  forecast_months months / shipped 元 per day over the history window``
  (shipped 元 = units x the order line's net price). A frame with a
  ``category`` column scales each category; a frame with only a total series
  scales every SKU alike.

Expected sale before expiry (:func:`batch_expiry`)
--------------------------------------------------
Within each SKU, sellable batches are consumed **first expiry, first out**
at the SKU's constant daily rate ``r``. Batch ``b`` (in expiry order, with
``T_b`` selling days and cumulative stock ``P_b``) has sold, together with
the batches before it, ``C_b = min(C_{b-1} + s_b, r T_b)`` by its expiry,
which unrolls to ``C_b = P_b + min(0, min_{j<=b}(r T_j - P_j))``: one
cumulative sum and one cumulative minimum per SKU, no loop. Batch ``b`` sells
``C_b - C_{b-1}`` and the rest of its stock is expected to expire unsold,
valued at list price (integer fen).

Parameters (near-expiry thresholds per category, ``min_days_left``,
``history_days``, ``forecast_months``) are read from ``params/expiry.yaml``
(:func:`load_expiry_params`). FEFO allocation of open orders to these
batches is in :mod:`medrisk.supply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from ruamel.yaml import YAML

from medrisk import kernel
from medrisk.config import FEN_PER_YUAN, PARAMS_DIR, PRODUCT_CATEGORIES
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.planning import forecast_sales
from medrisk.receivables import open_items

__all__ = [
    "ExpiryParams",
    "ExpiryReport",
    "DEFAULT_EXPIRY_PATH",
    "STATES",
    "load_expiry_params",
    "sku_demand",
    "batch_expiry",
    "stock_coverage",
    "near_expiry",
    "blocked_stock",
    "expiry_report",
    "near_expiry_takers",
]

DEFAULT_EXPIRY_PATH = PARAMS_DIR / "expiry.yaml"
#: Batch states, in report order.
STATES = ("blocked", "expired", "near_expiry", "ok")
STATE_LABELS_ZH = {
    "blocked": "冻结(待检/不合格)", "expired": "已过期", "near_expiry": "近效期", "ok": "正常",
}
_SELLABLE = "released"


# --------------------------------------------------------------------------- parameters
@dataclass
class ExpiryParams:
    """Near-expiry thresholds and demand settings (see ``params/expiry.yaml``).

    Parameters
    ----------
    near_expiry_days : dict of str to int
        Days before expiry at which a batch of a category counts as near expiry.
    default_near_expiry_days : int, default=365
        For categories not listed and products without a category.
    min_days_left : int, default=1
        Days to expiry a batch needs to be allocated to an open order.
    history_days : int, default=90
        Window of shipment history for demand per day.
    forecast_months : int, default=6
        Months of the sales forecast averaged for the demand growth.
    """

    near_expiry_days: dict = field(default_factory=lambda: {
        "reagent": 90, "consumable": 180, "wear_part": 365, "equipment": 365})
    default_near_expiry_days: int = 365
    min_days_left: int = 1
    history_days: int = 90
    forecast_months: int = 6

    def validate(self) -> ExpiryParams:
        """Check every value; return self.

        Raises
        ------
        ParamsError
            Naming the key, the value and what is allowed.
        """
        if not isinstance(self.near_expiry_days, dict):
            raise ParamsError("near_expiry_days must be a mapping of category to days such as "
                              f"{{reagent: 90}}; got {self.near_expiry_days!r}.")
        for cat, days in self.near_expiry_days.items():
            if cat not in PRODUCT_CATEGORIES:
                raise ParamsError(f"near_expiry_days has unknown category {cat!r}; possible "
                                  f"categories are {list(PRODUCT_CATEGORIES)}.")
            _whole("near_expiry_days." + str(cat), days, 0)
        _whole("default_near_expiry_days", self.default_near_expiry_days, 0)
        _whole("min_days_left", self.min_days_left, 1)
        _whole("history_days", self.history_days, 1)
        _whole("forecast_months", self.forecast_months, 1, 24)
        return self

    def threshold(self, category: pd.Series) -> np.ndarray:
        """Near-expiry threshold in days for each category value."""
        mapped = category.map(self.near_expiry_days)
        return mapped.fillna(self.default_near_expiry_days).to_numpy(dtype=np.int64)


def _whole(name: str, value, low: int, high: int | None = None) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        allowed = f"a whole number from {low} to {high}" if high else f"a whole number >= {low}"
        raise ParamsError(f"{name} must be {allowed}; got {value!r}.")
    return int(value)


def load_expiry_params(path: str | Path | dict | ExpiryParams | None = None) -> ExpiryParams:
    """Read near-expiry thresholds and demand settings.

    Parameters
    ----------
    path : str, Path, dict or ExpiryParams, default=None
        A YAML file, or its content as a dict. None reads
        :data:`DEFAULT_EXPIRY_PATH` when it exists, else uses the defaults of
        :class:`ExpiryParams`.

    Returns
    -------
    ExpiryParams

    Raises
    ------
    ParamsError
        When the file is missing or not YAML, or has unknown keys or bad values.
    """
    if isinstance(path, ExpiryParams):
        return path.validate()
    where = "expiry parameters"
    if isinstance(path, dict):
        data = path
    else:
        p = Path(path) if path is not None else DEFAULT_EXPIRY_PATH
        if not p.exists():
            if path is None:
                return ExpiryParams().validate()
            raise ParamsError(f"Expiry parameter file {p} does not exist.")
        try:
            data = YAML(typ="safe").load(p.read_text(encoding="utf-8")) or {}
        except Exception as exc:  # ruamel raises many error types
            raise ParamsError(f"{p}: not valid YAML ({exc}).") from exc
        where = str(p)
    allowed = set(ExpiryParams.__dataclass_fields__)
    unknown = set(data) - allowed
    if unknown:
        raise ParamsError(f"{where}: unknown key(s) {sorted(unknown)}; allowed keys are "
                          f"{sorted(allowed)}.")
    params = ExpiryParams(**{k: data[k] for k in data})
    if isinstance(params.near_expiry_days, dict):
        params.near_expiry_days = {**ExpiryParams().near_expiry_days, **params.near_expiry_days}
    return params.validate()


# --------------------------------------------------------------------------- helpers
def _products(ledger: Ledger) -> pd.DataFrame:
    prod = ledger.require("products", "batch expiry",
                          ["sku", "category", "list_price", "cold_chain"])
    return prod[["sku", "category", "list_price", "cold_chain"]]


def _shipped_by(ledger: Ledger, day: int, key: str | list[str],
                orders: pd.Series | None = None) -> pd.Series:
    """Units shipped on or before ``day`` per ``key`` (of the given orders only, if any)."""
    ship = ledger.table("shipments")
    keys = [key] if isinstance(key, str) else key
    if ship is not None and orders is not None:
        ship = ship[ship["order_id"].isin(orders).to_numpy()]
    if ship is None:
        ship = pd.DataFrame({"ship_date": pd.Series(dtype="datetime64[ns]"),
                             "quantity": pd.Series(dtype=np.int64),
                             **{k: pd.Series(dtype=object) for k in keys}})
    ship = ship[kernel.days(ship["ship_date"]) <= day]
    return ship.groupby(keys, sort=False)["quantity"].sum().rename("shipped")


def _stock(ledger: Ledger, day: int, params: ExpiryParams) -> pd.DataFrame:
    """Every batch produced on or before ``day`` with its stock, dates and state."""
    b = ledger.require("batches", "batch expiry", ["batch_id", "sku", "production_date",
                                                   "expiry_date", "quantity", "qc_status"])
    b = b[kernel.days(b["production_date"]) <= day].reset_index(drop=True)
    shipped = _shipped_by(ledger, day, "batch_id")
    out = b.merge(shipped, left_on="batch_id", right_index=True, how="left")
    out["shipped"] = out["shipped"].fillna(0).astype(np.int64)
    out["stock_on_hand"] = np.maximum(out["quantity"].to_numpy() - out["shipped"].to_numpy(), 0)
    out = out.merge(_products(ledger), on="sku", how="left")
    out["cold_chain"] = out["cold_chain"].fillna(False).astype(bool)
    out["days_to_expiry"] = kernel.days(out["expiry_date"]) - day
    status = out["qc_status"].astype(object)
    blocked = (status != _SELLABLE).to_numpy() | status.isna().to_numpy()
    thr = params.threshold(out["category"])
    dte = out["days_to_expiry"].to_numpy()
    state = np.select([blocked, dte <= 0, dte <= thr], [0, 1, 2], 3)
    out["near_expiry_days"] = thr
    out["state"] = pd.Categorical.from_codes(state, categories=list(STATES))
    return out


# --------------------------------------------------------------------------- demand
def sku_demand(
    ledger: Ledger,
    as_of,
    sales_forecast: pd.DataFrame | str | None = None,
    params: str | Path | dict | ExpiryParams | None = None,
) -> pd.DataFrame:
    """Estimate the expected units per day of each SKU (see the module docstring).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Only shipments (and sales) on or before it are read.
    sales_forecast : DataFrame or {"history"} or None, default=None
        A frame in the form of :func:`medrisk.planning.forecast_sales`
        (``ds``, ``mean`` in 元, and ``category`` for per-category growth, else
        the ``"total"`` series); ``"history"`` for shipment history alone; None
        calls ``forecast_sales(ledger, as_of, by="category")`` when
        :mod:`medrisk.planning` is available, else history alone.
    params : path, dict or ExpiryParams, default=None
        See :func:`load_expiry_params` (``history_days``, ``forecast_months``).

    Returns
    -------
    DataFrame
        One row per product: ``sku``, ``category``, ``history_units_per_day``,
        ``growth`` (forecast over history, 1 without a forecast),
        ``units_per_day`` and ``source`` ("history" or "forecast").
    """
    day = kernel.day_of(as_of)
    p = load_expiry_params(params)
    prod = _products(ledger)
    ship = ledger.table("shipments")
    lo = day - p.history_days + 1
    out = prod[["sku", "category"]].copy()
    if ship is not None and len(ship):
        sd = kernel.days(ship["ship_date"])
        recent = ship[(sd >= lo) & (sd <= day)]
        units = recent.groupby("sku", sort=False)["quantity"].sum()
    else:
        recent, units = None, pd.Series(dtype=np.int64)
    units = out["sku"].map(units).fillna(0).to_numpy(dtype=float)
    out["history_units_per_day"] = units / p.history_days
    frame, source = _demand_forecast(ledger, as_of, sales_forecast, p)
    growth = np.ones(len(out))
    if frame is not None and recent is not None and len(recent):
        growth = _growth(ledger, recent, frame, out, day, p)
        source = "forecast"
    out["growth"] = growth
    out["units_per_day"] = out["history_units_per_day"] * growth
    out["source"] = source
    out.attrs.update(as_of=pd.Timestamp(kernel.to_ts([day])[0]), history_days=p.history_days)
    return out


def _demand_forecast(ledger, as_of, sales_forecast, p: ExpiryParams):
    if isinstance(sales_forecast, pd.DataFrame):
        return sales_forecast, "forecast"
    if isinstance(sales_forecast, str) and sales_forecast == "history":
        return None, "history"
    if sales_forecast is None:
        return forecast_sales(ledger, as_of, by="category", h=p.forecast_months), "forecast"
    raise ParamsError("sales_forecast must be None (medrisk.planning.forecast_sales), 'history' "
                      f"or a forecast DataFrame; got {sales_forecast!r}.")


def _growth(ledger, recent: pd.DataFrame, frame: pd.DataFrame, out: pd.DataFrame, day: int,
            p: ExpiryParams) -> np.ndarray:
    """Forecast 元 per day over shipped 元 per day, per SKU (by its category or overall)."""
    if not {"ds", "mean"} <= set(frame.columns):
        raise ParamsError("sales_forecast needs columns ds and mean (元); got columns "
                          f"{list(frame.columns)}.")
    lines = ledger.table("order_lines")
    if lines is None or len(lines) == 0:
        return np.ones(len(out))
    lines = lines[lines["order_id"].isin(recent["order_id"]).to_numpy()]
    net = (lines["unit_price"] * lines["quantity"] * (1 - lines["discount_rate"].fillna(0.0))
           ).to_numpy(dtype=float)
    price = pd.DataFrame({"order_id": lines["order_id"], "sku": lines["sku"], "net": net,
                          "qty": lines["quantity"]}).groupby(["order_id", "sku"], sort=False).sum()
    unit = (price["net"] / price["qty"]).rename("unit_net")
    val = recent.merge(unit, left_on=["order_id", "sku"], right_index=True, how="left")
    val = val["quantity"].to_numpy(dtype=float) * val["unit_net"].fillna(0).to_numpy()
    cat = recent["sku"].map(out.set_index("sku")["category"])
    hist = pd.Series(val, index=recent.index).groupby(cat.to_numpy()).sum() / p.history_days
    f = frame
    ds = pd.to_datetime(f["ds"]).to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    first = np.datetime64(int(day + 1), "D").astype("datetime64[M]")
    f = f[(ds >= first) & (ds < first + p.forecast_months)]
    ds = pd.to_datetime(f["ds"]).to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    months = np.unique(ds)
    n_days = float(((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]"))
                   .astype(np.int64).sum())
    if n_days <= 0:
        return np.ones(len(out))
    mean_fen = pd.to_numeric(f["mean"], errors="coerce").fillna(0).to_numpy() * FEN_PER_YUAN
    if "category" in f.columns and f["category"].notna().any():
        fc = pd.Series(mean_fen).groupby(f["category"].to_numpy()).sum() / n_days
        rate = out["category"].map(fc)
        base = out["category"].map(hist)
    else:
        tot = f["unique_id"] == "total" if "unique_id" in f.columns else np.ones(len(f), bool)
        rate = pd.Series(mean_fen[np.asarray(tot)].sum() / n_days, index=out.index)
        base = pd.Series(float(hist.sum()), index=out.index)
    g = (rate / base).to_numpy(dtype=float)
    return np.where(np.isfinite(g) & (g >= 0), g, 1.0)


def _demand_rates(ledger: Ledger, as_of, demand, sales_forecast, params) -> pd.Series:
    """Units per day indexed by sku, from a given frame or :func:`sku_demand`."""
    if demand is None:
        demand = sku_demand(ledger, as_of, sales_forecast, params)
    if not isinstance(demand, pd.DataFrame) or not {"sku", "units_per_day"} <= set(demand.columns):
        raise ParamsError("demand must be a DataFrame with columns sku and units_per_day; got "
                          f"{type(demand).__name__}"
                          + (f" with columns {list(demand.columns)}"
                             if isinstance(demand, pd.DataFrame) else "") + ".")
    rate = pd.to_numeric(demand["units_per_day"], errors="coerce").to_numpy(dtype=float)
    if np.any(~np.isfinite(rate)) or np.any(rate < 0):
        raise ParamsError("demand.units_per_day must be finite and not negative; got "
                          f"{demand['units_per_day'][~np.isfinite(rate) | (rate < 0)].iloc[0]!r}.")
    return pd.Series(rate, index=demand["sku"].to_numpy()).groupby(level=0).sum()


# --------------------------------------------------------------------------- expiry
def batch_expiry(
    ledger: Ledger,
    as_of,
    demand: pd.DataFrame | None = None,
    sales_forecast: pd.DataFrame | str | None = None,
    params: str | Path | dict | ExpiryParams | None = None,
) -> pd.DataFrame:
    """Per batch: days to expiry, stock on hand and what is expected to expire unsold.

    Parameters
    ----------
    ledger : Ledger
        Needs ``batches`` and ``products``; ``shipments`` when anything shipped.
    as_of : date-like
        End of the valuation day.
    demand : DataFrame, default=None
        ``sku``, ``units_per_day``; default :func:`sku_demand`.
    sales_forecast : DataFrame or {"history"} or None, default=None
        Passed to :func:`sku_demand` when ``demand`` is None.
    params : path, dict or ExpiryParams, default=None
        See :func:`load_expiry_params`.

    Returns
    -------
    DataFrame
        One row per batch produced on or before ``as_of``, in FEFO order per
        SKU: batch_id, sku, category, cold_chain, warehouse, qc_status,
        production_date, expiry_date, days_to_expiry, state (one of
        :data:`STATES`), near_expiry_days (the category's threshold),
        quantity, shipped, stock_on_hand, units_per_day (of the SKU),
        expected_sold and expected_unsold (units, float; blocked batches sell
        nothing: their stock counts as unsold), list_price and
        expected_unsold_value (int64 fen at list price, missing without a
        price), stock_value (fen).

    Raises
    ------
    MissingTableError
        Without ``batches`` or ``products``.
    ParamsError
        For bad parameters or a bad ``demand`` frame.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.supply import batch_expiry
    >>> e = batch_expiry(make_ledger(2_000, seed=1), "2026-10-31", sales_forecast="history")
    >>> e["state"].value_counts()
    state
    ok             231
    expired        184
    near_expiry     60
    blocked         14
    Name: count, dtype: int64
    >>> near = e[e["state"] == "near_expiry"]
    >>> near[["batch_id", "sku", "days_to_expiry", "stock_on_hand", "expected_unsold"]].head(3)
       batch_id      sku  days_to_expiry  stock_on_hand  expected_unsold
    15  B000038  SKU0016               6           2320           2320.0
    16  B000053  SKU0016              32          10334          10334.0
    25  B000319  SKU0023              40             84             84.0
    >>> int(near["expected_unsold_value"].sum())  # fen
    97406200
    """
    day = kernel.day_of(as_of)
    p = load_expiry_params(params)
    st = _stock(ledger, day, p)
    rate = _demand_rates(ledger, as_of, demand, sales_forecast, p)
    st["units_per_day"] = st["sku"].map(rate).fillna(0.0).to_numpy(dtype=float)
    sellable = (st["state"].isin(["near_expiry", "ok"]) & (st["stock_on_hand"] > 0)).to_numpy()
    order = np.lexsort((st["batch_id"].to_numpy(dtype=object).astype(str),
                        kernel.days(st["production_date"]), kernel.days(st["expiry_date"]),
                        st["sku"].to_numpy(dtype=object).astype(str), ~sellable))
    st = st.take(order).reset_index(drop=True)
    sellable = sellable[order]
    sold = np.zeros(len(st))
    if sellable.any():
        s = st.loc[sellable]
        stock = s["stock_on_hand"].to_numpy(dtype=float)
        horizon = s["units_per_day"].to_numpy() * s["days_to_expiry"].to_numpy(dtype=float)
        sku = s["sku"].to_numpy()
        cum = pd.Series(stock).groupby(sku, sort=False).cumsum().to_numpy()
        slack = pd.Series(horizon - cum).groupby(sku, sort=False).cummin().to_numpy()
        sold_cum = cum + np.minimum(0.0, slack)
        prev = pd.Series(sold_cum).groupby(sku, sort=False).shift(1).fillna(0.0).to_numpy()
        sold[sellable] = np.clip(sold_cum - prev, 0.0, stock)
    st["expected_sold"] = sold
    st["expected_unsold"] = st["stock_on_hand"].to_numpy(dtype=float) - sold
    price = st["list_price"].astype("Float64")
    st["expected_unsold_value"] = (price * st["expected_unsold"]).round().astype("Int64")
    st["stock_value"] = (price * st["stock_on_hand"]).round().astype("Int64")
    cols = ["batch_id", "sku", "category", "cold_chain", "warehouse", "qc_status",
            "production_date", "expiry_date", "days_to_expiry", "state", "near_expiry_days",
            "quantity", "shipped", "stock_on_hand", "units_per_day", "expected_sold",
            "expected_unsold", "list_price", "expected_unsold_value", "stock_value"]
    st = st[cols]
    st.attrs.update(as_of=pd.Timestamp(kernel.to_ts([day])[0]), unit="fen",
                    labels_zh=STATE_LABELS_ZH)
    return st


def stock_coverage(
    ledger: Ledger,
    as_of,
    demand: pd.DataFrame | None = None,
    sales_forecast: pd.DataFrame | str | None = None,
    params: str | Path | dict | ExpiryParams | None = None,
    expiry: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per product: sellable stock, days of demand it covers and what will expire.

    Parameters
    ----------
    ledger, as_of, demand, sales_forecast, params
        As for :func:`batch_expiry`.
    expiry : DataFrame, default=None
        A :func:`batch_expiry` result for the same ``as_of`` (computed when None).

    Returns
    -------
    DataFrame
        One row per product with batches: sku, category, cold_chain,
        sellable_stock (released, not expired), blocked_stock, units_per_day,
        coverage_days (sellable stock / units per day; inf without demand),
        earliest_expiry and days_to_earliest_expiry (of the sellable stock),
        expected_unsold (units) and expected_unsold_value (fen, of sellable
        batches), near_expiry_stock.
    """
    if expiry is None:
        expiry = batch_expiry(ledger, as_of, demand, sales_forecast, params)
    e = expiry
    sell = e["state"].isin(["near_expiry", "ok"]) & (e["stock_on_hand"] > 0)
    blocked = e["state"] == "blocked"
    g = e.assign(
        sellable_stock=np.where(sell, e["stock_on_hand"], 0),
        blocked_stock=np.where(blocked, e["stock_on_hand"], 0),
        near_expiry_stock=np.where(e["state"] == "near_expiry", e["stock_on_hand"], 0),
        unsold=np.where(sell, e["expected_unsold"], 0.0),
        unsold_value=e["expected_unsold_value"].where(sell, 0),
        first_expiry=e["expiry_date"].where(sell),
    ).groupby("sku", sort=True)
    out = pd.DataFrame({
        "category": g["category"].first(),
        "cold_chain": g["cold_chain"].first(),
        "sellable_stock": g["sellable_stock"].sum(),
        "blocked_stock": g["blocked_stock"].sum(),
        "near_expiry_stock": g["near_expiry_stock"].sum(),
        "units_per_day": g["units_per_day"].first(),
        "earliest_expiry": g["first_expiry"].min(),
        "expected_unsold": g["unsold"].sum(),
        "expected_unsold_value": g["unsold_value"].sum().astype("Int64"),
    }).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = out["sellable_stock"].to_numpy(float) / out["units_per_day"].to_numpy(float)
    out["coverage_days"] = np.where(out["sellable_stock"] > 0, cov, 0.0)
    as_of_ts = expiry.attrs.get("as_of", pd.Timestamp(as_of))
    out["days_to_earliest_expiry"] = (out["earliest_expiry"] - as_of_ts).dt.days.astype("Int64")
    cols = ["sku", "category", "cold_chain", "sellable_stock", "near_expiry_stock",
            "blocked_stock", "units_per_day", "coverage_days", "earliest_expiry",
            "days_to_earliest_expiry", "expected_unsold", "expected_unsold_value"]
    return out[cols]


def near_expiry(
    ledger: Ledger,
    as_of,
    cold_chain: bool | None = None,
    expiry: pd.DataFrame | None = None,
    **kw,
) -> pd.DataFrame:
    """Near-expiry (近效期) batches with stock, by warehouse, soonest first.

    A released batch with stock is near expiry when ``1 <= days_to_expiry <=``
    its category's threshold (``params/expiry.yaml``).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    cold_chain : bool, default=None
        True: cold-chain products only; False: the others only; None: both
        (the ``cold_chain`` column tells them apart).
    expiry : DataFrame, default=None
        A :func:`batch_expiry` result for ``as_of`` (computed when None).
    **kw
        Passed to :func:`batch_expiry` (``demand``, ``sales_forecast``, ``params``).

    Returns
    -------
    DataFrame
        The :func:`batch_expiry` rows of near-expiry batches, sorted by
        warehouse, days to expiry and batch.
    """
    e = expiry if expiry is not None else batch_expiry(ledger, as_of, **kw)
    out = e[(e["state"] == "near_expiry") & (e["stock_on_hand"] > 0)]
    if cold_chain is not None:
        out = out[out["cold_chain"] == bool(cold_chain)]
    return out.sort_values(["warehouse", "days_to_expiry", "batch_id"], kind="stable").reset_index(
        drop=True)


def blocked_stock(ledger: Ledger, as_of, expiry: pd.DataFrame | None = None, **kw) -> pd.DataFrame:
    """Quarantined, rejected and unreleased batches with stock: kept apart, never allocated.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    expiry : DataFrame, default=None
        A :func:`batch_expiry` result for ``as_of`` (computed when None).
    **kw
        Passed to :func:`batch_expiry`.

    Returns
    -------
    DataFrame
        The :func:`batch_expiry` rows of blocked batches with stock, by
        warehouse, qc_status and expiry.
    """
    e = expiry if expiry is not None else batch_expiry(ledger, as_of, **kw)
    out = e[(e["state"] == "blocked") & (e["stock_on_hand"] > 0)]
    return out.sort_values(["warehouse", "qc_status", "expiry_date", "batch_id"],
                           kind="stable").reset_index(drop=True)


@dataclass
class ExpiryReport:
    """The batch-expiry views of one day (see :func:`expiry_report`).

    Attributes
    ----------
    batches : DataFrame
        :func:`batch_expiry`.
    coverage : DataFrame
        :func:`stock_coverage`.
    near_expiry : DataFrame
        Near-expiry batches of products stored at room temperature.
    near_expiry_cold_chain : DataFrame
        Near-expiry batches of cold-chain products, apart.
    expired : DataFrame
        Released batches with stock and no selling day left.
    blocked : DataFrame
        :func:`blocked_stock`.
    by_warehouse : DataFrame
        Per warehouse and state: batches, stock units, stock value and
        expected unsold value (fen).
    """

    batches: pd.DataFrame
    coverage: pd.DataFrame
    near_expiry: pd.DataFrame
    near_expiry_cold_chain: pd.DataFrame
    expired: pd.DataFrame
    blocked: pd.DataFrame
    by_warehouse: pd.DataFrame


def expiry_report(ledger: Ledger, as_of, **kw) -> ExpiryReport:
    """All batch-expiry views of ``as_of``, cold chain and blocked stock kept apart.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    **kw
        Passed to :func:`batch_expiry` (``demand``, ``sales_forecast``, ``params``).

    Returns
    -------
    ExpiryReport
    """
    e = batch_expiry(ledger, as_of, **kw)
    with_stock = e[e["stock_on_hand"] > 0]
    by_wh = with_stock.groupby(["warehouse", "state"], observed=True, sort=True).agg(
        batches=("batch_id", "size"),
        stock_on_hand=("stock_on_hand", "sum"),
        stock_value=("stock_value", "sum"),
        expected_unsold_value=("expected_unsold_value", "sum"),
    ).reset_index()
    expired = with_stock[with_stock["state"] == "expired"].sort_values(
        ["warehouse", "expiry_date", "batch_id"], kind="stable").reset_index(drop=True)
    return ExpiryReport(
        batches=e,
        coverage=stock_coverage(ledger, as_of, expiry=e),
        near_expiry=near_expiry(ledger, as_of, cold_chain=False, expiry=e),
        near_expiry_cold_chain=near_expiry(ledger, as_of, cold_chain=True, expiry=e),
        expired=expired,
        blocked=blocked_stock(ledger, as_of, expiry=e),
        by_warehouse=by_wh,
    )


# --------------------------------------------------------------------------- takers
def near_expiry_takers(
    ledger: Ledger,
    as_of,
    near: pd.DataFrame | None = None,
    lookback_days: int = 365,
    late_days: int = 30,
    min_on_time: float = 0.8,
    top: int = 5,
    **kw,
) -> pd.DataFrame:
    """Find customers with good payment records who recently bought a near-expiry SKU.

    A candidate for a batch bought its SKU in the ``lookback_days`` up to
    ``as_of`` (shipments), paid at least ``min_on_time`` of the amount of its
    matured invoices (due ``late_days`` or more days before ``as_of``) within
    ``late_days`` days of due, and has nothing open more than ``late_days``
    days past due on ``as_of``. Candidates are ranked by units of the SKU
    bought in the window.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    near : DataFrame, default=None
        Near-expiry batches (:func:`near_expiry`); computed when None.
    lookback_days : int, default=365
    late_days : int, default=30
    min_on_time : float, default=0.8
    top : int, default=5
        Candidates kept per batch.
    **kw
        Passed to :func:`near_expiry` when ``near`` is None.

    Returns
    -------
    DataFrame
        batch_id, sku, warehouse, days_to_expiry, stock_on_hand, customer_id,
        units_bought, on_time_share, rank.
    """
    day = kernel.day_of(as_of)
    _whole("lookback_days", lookback_days, 1)
    _whole("late_days", late_days, 0)
    _whole("top", top, 1)
    if not (isinstance(min_on_time, (int, float)) and 0 <= min_on_time <= 1):
        raise ParamsError(f"min_on_time must be a number from 0 to 1; got {min_on_time!r}.")
    if near is None:
        near = near_expiry(ledger, as_of, **kw)
    cols = ["batch_id", "sku", "warehouse", "days_to_expiry", "stock_on_hand", "customer_id",
            "units_bought", "on_time_share", "rank"]
    ship = ledger.table("shipments")
    if ship is None or len(near) == 0:
        return pd.DataFrame(columns=cols)
    sd = kernel.days(ship["ship_date"])
    s = ship[(sd <= day) & (sd > day - lookback_days) & ship["sku"].isin(near["sku"]).to_numpy()]
    s = s.merge(ledger.orders[["order_id", "customer_id"]], on="order_id", how="inner")
    bought = s.groupby(["sku", "customer_id"], sort=False)["quantity"].sum().rename(
        "units_bought").reset_index()
    oi = open_items(ledger, as_of)
    due = kernel.days(oi["due_date"])
    closed = kernel.days(oi["closed_date"])
    matured = due <= day - late_days
    amt = oi["amount"].to_numpy(dtype=float)
    on_time = matured & (closed <= due + late_days)
    cust = oi["customer_id"].to_numpy(dtype=object)
    rec = pd.DataFrame({"customer_id": cust, "m": np.where(matured, amt, 0.0),
                        "ok": np.where(on_time, amt, 0.0),
                        "bad": (oi["open_amount"].to_numpy() > 0)
                        & (oi["days_past_due"].to_numpy() > late_days)}).groupby(
        "customer_id", sort=False).agg(m=("m", "sum"), ok=("ok", "sum"), bad=("bad", "any"))
    rec["on_time_share"] = rec["ok"] / rec["m"].where(rec["m"] > 0)
    good = rec[(rec["on_time_share"] >= min_on_time) & ~rec["bad"]]
    cand = bought.merge(good[["on_time_share"]], left_on="customer_id", right_index=True,
                        how="inner")
    out = near[["batch_id", "sku", "warehouse", "days_to_expiry", "stock_on_hand"]].merge(
        cand, on="sku", how="inner")
    out = out.sort_values(["batch_id", "units_bought", "customer_id"],
                          ascending=[True, False, True], kind="stable")
    out["rank"] = out.groupby("batch_id", sort=False).cumcount() + 1
    out = out[out["rank"] <= top].reset_index(drop=True)
    return out[cols]

