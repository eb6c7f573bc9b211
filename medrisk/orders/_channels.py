"""Channel and distributor performance (渠道与经销商绩效) and price compliance (价格合规).

Price and discount compliance
-----------------------------
For each order line the net unit price is ``unit_price x (1 - discount_rate)``
and its discount against the list price is ``1 - net unit price / list_price``
(``products.list_price``). The channel (the order's, else its customer's) has an
allowed band ``[low, high]`` from ``params/channel-policy.yaml``; equipment may
go ``equipment_extra`` deeper. A line is ``over_discount`` when its discount is
above ``high + tolerance``, ``under_discount`` when below ``low - tolerance``,
``in_band`` otherwise (both edges are allowed), ``no_list_price`` when the
product has none. ``revenue_at_stake`` is the money between the line's net
amount and the nearest band edge (for an over-discount, the revenue given away
beyond what the policy allows), in fen. Lines of cancelled orders are left out.

Performance
-----------
Sales, collections, collection rate and DSO come from :func:`medrisk.receivables.kpis`
(invoice based, point in time: see that module for the definitions), so they
reconcile with every other report. Growth compares with the same period a year
earlier. Coverage is active customers (invoiced in the period) over the
customer base (customers of the channel opened on or before the period end).
Average discount is value-weighted over the order lines of orders dated in the
period: ``1 - net value / list value``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from ruamel.yaml import YAML

from medrisk.config import CHANNELS, PARAMS_DIR
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError, SourceError
from medrisk.kernel import day_of, positions, to_ts
from medrisk.orders._o2c import DEFAULT_STUCK_DAYS, _check_stuck
from medrisk.receivables import kpis

__all__ = [
    "DEFAULT_POLICY",
    "LINE_COLUMNS",
    "load_channel_policy",
    "price_compliance",
    "out_of_band",
    "discount_trend",
    "channel_performance",
    "partner_performance",
    "product_mix",
    "drop_alerts",
]

DEFAULT_POLICY: dict = {
    "discount_bands": {
        "direct": (0.0, 0.08),
        "distributor": (0.15, 0.30),
        "agent": (0.10, 0.25),
        "ecommerce": (0.03, 0.12),
    },
    "equipment_extra": 0.03,
    "discount_tolerance": 0.0005,
    "stuck_days": dict(DEFAULT_STUCK_DAYS),
    "drop_alerts": {"history_periods": 4, "drop_share": 0.5, "min_history_yuan": 10_000},
}
DEFAULT_POLICY_FILE = PARAMS_DIR / "channel-policy.yaml"
PARTNER_TYPES = ("distributor", "agent")
# fmt: off
LINE_COLUMNS = [
    "order_id", "line_no", "order_date", "customer_id", "channel", "salesperson_id", "status",
    "sku", "category", "quantity", "list_price", "unit_price", "discount_rate", "net_unit_price",
    "discount", "band_low", "band_high", "compliance", "list_amount", "line_amount",
    "revenue_at_stake",
]
# fmt: on


# --------------------------------------------------------------------------- policy
def _number(value, where: str, lo: float = 0.0, hi: float | None = None) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < lo
        or (hi is not None and value > hi)
    ):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise ParamsError(f"{where} must be a number {bound}; got {value!r}.")
    return float(value)


def _check_policy(policy: Mapping) -> dict:
    unknown = set(policy) - set(DEFAULT_POLICY)
    if unknown:
        raise ParamsError(
            f"channel policy: unknown key(s) {sorted(unknown)}; "
            f"possible keys are {list(DEFAULT_POLICY)}."
        )
    out = {**DEFAULT_POLICY, **policy}
    bands = {}
    for ch, band in dict(out["discount_bands"]).items():
        if ch not in CHANNELS:
            raise ParamsError(
                f"discount_bands has channel {ch!r}; possible channels are {list(CHANNELS)}."
            )
        if not isinstance(band, list | tuple) or len(band) != 2:
            raise ParamsError(f"discount_bands[{ch!r}] must be [low, high]; got {band!r}.")
        lo = _number(band[0], f"discount_bands[{ch!r}] low", 0.0, 1.0)
        hi = _number(band[1], f"discount_bands[{ch!r}] high", 0.0, 1.0)
        if hi < lo:
            raise ParamsError(f"discount_bands[{ch!r}] must have low <= high; got {list(band)!r}.")
        bands[ch] = (lo, hi)
    out["discount_bands"] = bands
    out["equipment_extra"] = _number(out["equipment_extra"], "equipment_extra", 0.0, 1.0)
    out["discount_tolerance"] = _number(out["discount_tolerance"], "discount_tolerance", 0.0, 0.1)
    out["stuck_days"] = _check_stuck({**DEFAULT_STUCK_DAYS, **dict(out["stuck_days"] or {})})
    drop = {**DEFAULT_POLICY["drop_alerts"], **dict(out["drop_alerts"] or {})}
    bad = set(drop) - set(DEFAULT_POLICY["drop_alerts"])
    if bad:
        raise ParamsError(
            f"drop_alerts: unknown key(s) {sorted(bad)}; possible keys are "
            f"{list(DEFAULT_POLICY['drop_alerts'])}."
        )
    hp = drop["history_periods"]
    if isinstance(hp, bool) or not isinstance(hp, int) or not 1 <= hp <= 36:
        raise ParamsError(
            f"drop_alerts.history_periods must be a whole number from 1 to 36; got {hp!r}."
        )
    drop["drop_share"] = _number(drop["drop_share"], "drop_alerts.drop_share", 0.0, 1.0)
    drop["min_history_yuan"] = _number(drop["min_history_yuan"], "drop_alerts.min_history_yuan")
    out["drop_alerts"] = drop
    return out


def load_channel_policy(path: str | Path | Mapping | None = None) -> dict:
    """Read the channel policy (``params/channel-policy.yaml`` by default).

    Parameters
    ----------
    path : str, Path or dict, default=None
        A YAML file, or a dict with the same keys (missing keys take
        :data:`DEFAULT_POLICY`).

    Returns
    -------
    dict
        Keys discount_bands (channel to ``(low, high)``), equipment_extra,
        discount_tolerance, stuck_days, drop_alerts.

    Raises
    ------
    SourceError
        When the file does not exist.
    ParamsError
        For an unknown key, channel or a bad value.
    """
    if isinstance(path, Mapping):
        return _check_policy(path)
    p = Path(DEFAULT_POLICY_FILE if path is None else path)
    if not p.exists():
        raise SourceError(f"Channel policy file {p} does not exist.")
    try:
        doc = YAML(typ="safe").load(p.read_text(encoding="utf-8")) or {}
    except Exception as exc:  # ruamel raises many error types
        raise ParamsError(f"{p}: not valid YAML ({exc}).") from exc
    if not isinstance(doc, Mapping):
        raise ParamsError(f"{p}: expected a mapping of policy keys.")
    return _check_policy(doc)


# --------------------------------------------------------------------------- price compliance
def _bounds(start, end) -> tuple[int | None, int | None]:
    s = None if start is None else day_of(start, "start")
    e = None if end is None else day_of(end, "end")
    if s is not None and e is not None and e < s:
        raise ParamsError(f"end must be on or after start; got start={start!r}, end={end!r}.")
    return s, e


def price_compliance(
    ledger: Ledger, start=None, end=None, policy: Mapping | str | Path | None = None
) -> pd.DataFrame:
    """Every order line's net price against list price and its channel's discount band.

    Parameters
    ----------
    ledger : Ledger
        Needs ``orders``, ``order_lines`` and ``products`` (list_price).
    start, end : date-like, default=None
        Only orders dated in ``[start, end]`` (both included).
    policy : dict, str or Path, default=None
        Channel policy (see :func:`load_channel_policy`).

    Returns
    -------
    DataFrame
        One row per line of a non-cancelled order, columns :data:`LINE_COLUMNS`:
        net_unit_price (fen, float), discount (share of list price), band_low
        and band_high (after the equipment allowance), compliance (``in_band``,
        ``over_discount``, ``under_discount``, ``no_list_price``,
        ``no_band`` when the channel has none), list_amount and line_amount
        (int64 fen), revenue_at_stake (int64 fen, 0 in band).
    """
    pol = load_channel_policy(policy)
    orders = ledger.require(
        "orders", "price compliance", ["order_id", "order_date", "channel", "salesperson_id"]
    )
    lines = ledger.require(
        "order_lines",
        "price compliance",
        ["order_id", "sku", "quantity", "unit_price", "discount_rate"],
    )
    products = ledger.require("products", "price compliance", ["sku", "list_price", "category"])
    opos = positions(lines["order_id"], orders["order_id"])
    keep = opos >= 0
    s, e = _bounds(start, end)
    oday = orders["order_date"].to_numpy(dtype="datetime64[ns]")
    od = np.where(keep, oday[np.maximum(opos, 0)], np.datetime64("NaT"))
    if s is not None:
        keep &= od >= to_ts([s])[0]
    if e is not None:
        keep &= od <= to_ts([e])[0]
    status = orders["status"].to_numpy(dtype=object, na_value=None)
    keep &= np.where(opos >= 0, status[np.maximum(opos, 0)], None) != "cancelled"
    rows = np.flatnonzero(keep)
    lines, opos = lines.iloc[rows].reset_index(drop=True), opos[rows]

    cust = ledger.customers
    cpos = positions(orders["customer_id"], cust["customer_id"])[opos]

    def via(order_col, cust_col):
        own = orders[order_col].to_numpy(dtype=object, na_value=None)[opos]
        alt = cust[cust_col].to_numpy(dtype=object, na_value=None)
        alt = (
            np.where(cpos >= 0, alt[np.maximum(cpos, 0)], None)
            if len(alt)
            else np.full(len(own), None)
        )
        return np.where(pd.isna(own), alt, own)

    channel = via("channel", "channel")
    ppos = positions(lines["sku"], products["sku"])
    lp = products["list_price"].to_numpy(dtype=float, na_value=np.nan)
    list_price = np.where(ppos >= 0, lp[np.maximum(ppos, 0)], np.nan)
    cat = products["category"].to_numpy(dtype=object, na_value=None)
    category = np.where(ppos >= 0, cat[np.maximum(ppos, 0)], None)
    qty = lines["quantity"].to_numpy(dtype=np.int64)
    unit = lines["unit_price"].to_numpy(dtype=np.int64)
    rate = lines["discount_rate"].to_numpy(dtype=float, na_value=0.0)
    net_unit = unit * (1.0 - rate)
    has_list = np.isfinite(list_price) & (list_price > 0)
    discount = np.where(has_list, 1.0 - net_unit / np.where(has_list, list_price, 1.0), np.nan)
    discount = np.round(discount, 9)  # float noise (1 - 0.9 = 0.09999...) must not cross an edge

    bands = pol["discount_bands"]
    lo = pd.Series(channel).map({k: v[0] for k, v in bands.items()}).to_numpy(dtype=float)
    hi = pd.Series(channel).map({k: v[1] for k, v in bands.items()}).to_numpy(dtype=float)
    hi = hi + np.where(category == "equipment", pol["equipment_extra"], 0.0)
    tol = pol["discount_tolerance"]
    over = has_list & (discount > hi + tol)
    under = has_list & (discount < lo - tol)
    compliance = np.select(
        [~has_list, np.isnan(lo), over, under],
        ["no_list_price", "no_band", "over_discount", "under_discount"],
        "in_band",
    )
    line_amount = np.rint(qty * net_unit).astype(np.int64)
    list_amount = np.rint(qty * np.where(has_list, list_price, 0.0)).astype(np.int64)
    edge = np.where(over, hi, np.where(under, lo, np.nan))
    at_edge = qty * np.where(has_list, list_price, 0.0) * (1.0 - edge)
    stake = np.where(over | under, np.abs(np.rint(at_edge) - line_amount), 0)
    out = pd.DataFrame(
        {
            "order_id": lines["order_id"].to_numpy(dtype=object),
            "line_no": lines["line_no"].to_numpy(dtype=np.int64),
            "order_date": orders["order_date"].to_numpy()[opos],
            "customer_id": orders["customer_id"].to_numpy(dtype=object)[opos],
            "channel": channel,
            "salesperson_id": via("salesperson_id", "salesperson_id"),
            "status": status[opos],
            "sku": lines["sku"].to_numpy(dtype=object),
            "category": category,
            "quantity": qty,
            "list_price": pd.array(
                np.where(has_list, list_price, 0).astype(np.int64), dtype="Int64"
            ),
            "unit_price": unit,
            "discount_rate": rate,
            "net_unit_price": net_unit,
            "discount": discount,
            "band_low": lo,
            "band_high": hi,
            "compliance": compliance,
            "list_amount": list_amount,
            "line_amount": line_amount,
            "revenue_at_stake": stake.astype(np.int64),
        }
    )
    out.loc[~has_list, "list_price"] = pd.NA
    return out[LINE_COLUMNS]


def out_of_band(
    ledger: Ledger, start=None, end=None, policy: Mapping | str | Path | None = None
) -> pd.DataFrame:
    """Order lines outside their channel's discount band, most revenue at stake first.

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like, default=None
    policy : dict, str or Path, default=None

    Returns
    -------
    DataFrame
        The :func:`price_compliance` rows with compliance ``over_discount`` or
        ``under_discount``; ``salesperson_id`` says who sold them.
    """
    f = price_compliance(ledger, start, end, policy)
    f = f[f["compliance"].isin(["over_discount", "under_discount"]).to_numpy()]
    return f.sort_values(
        ["revenue_at_stake", "order_id", "line_no"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def discount_trend(
    ledger: Ledger,
    start,
    end,
    by: str | list[str] = "salesperson_id",
    freq: str = "ME",
    policy: Mapping | str | Path | None = None,
) -> pd.DataFrame:
    """Average discount and out-of-band share per period and group.

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
        Orders dated in ``[start, end]``.
    by : str or list of str, default="salesperson_id"
        Any of ``salesperson_id``, ``channel``, ``customer_id``, ``category``, ``sku``.
    freq : str, default="ME"
        Period of the order date: ``"ME"`` months, ``"QE"`` quarters, ``"YE"`` years.
    policy : dict, str or Path, default=None

    Returns
    -------
    DataFrame
        Columns period (period end), the ``by`` columns, lines, list_amount,
        line_amount (fen), avg_discount (``1 - line_amount / list_amount``),
        out_of_band_lines, out_of_band_share, revenue_at_stake (fen).
    """
    allowed = ("salesperson_id", "channel", "customer_id", "category", "sku")
    names = [by] if isinstance(by, str) else list(by)
    bad = [b for b in names if b not in allowed]
    if bad:
        raise ParamsError(f"by={bad[0]!r} is not supported. Possible values are: {list(allowed)}.")
    periods = {"ME": "M", "QE": "Q", "YE": "Y"}
    if freq not in periods:
        raise ParamsError(f"freq={freq!r} is not supported. Possible values are: {list(periods)}.")
    f = price_compliance(ledger, start, end, policy)
    f = f[f["compliance"] != "no_list_price"]
    f = f.assign(
        period=f["order_date"].dt.to_period(periods[freq]).dt.end_time.dt.normalize(),
        out_of_band=f["compliance"].isin(["over_discount", "under_discount"]).astype(np.int64),
    )
    g = f.groupby(["period", *names], dropna=False, sort=True)
    out = g.agg(
        lines=("order_id", "size"),
        list_amount=("list_amount", "sum"),
        line_amount=("line_amount", "sum"),
        out_of_band_lines=("out_of_band", "sum"),
        revenue_at_stake=("revenue_at_stake", "sum"),
    ).reset_index()
    out["avg_discount"] = 1.0 - out["line_amount"] / out["list_amount"].where(
        out["list_amount"] > 0
    )
    out["out_of_band_share"] = out["out_of_band_lines"] / out["lines"]
    cols = [
        "period",
        *names,
        "lines",
        "list_amount",
        "line_amount",
        "avg_discount",
        "out_of_band_lines",
        "out_of_band_share",
        "revenue_at_stake",
    ]
    return out[cols]


# --------------------------------------------------------------------------- performance
def _last_year(start, end) -> tuple[pd.Timestamp, pd.Timestamp]:
    s, e = _bounds(start, end)
    if s is None or e is None:
        raise ParamsError(f"start and end are both needed; got start={start!r}, end={end!r}.")
    s_ts, e_ts = pd.Timestamp(to_ts([s])[0]), pd.Timestamp(to_ts([e])[0])
    return s_ts - pd.DateOffset(years=1), e_ts - pd.DateOffset(years=1)


def _avg_discount(ledger: Ledger, start, end, key: str, policy) -> pd.Series:
    if not (ledger.has("orders") and ledger.has("order_lines") and ledger.has("products")):
        return pd.Series(dtype=float)
    f = price_compliance(ledger, start, end, policy)
    f = f[f["compliance"] != "no_list_price"]
    g = f.groupby(key)[["list_amount", "line_amount"]].sum()
    return 1.0 - g["line_amount"] / g["list_amount"].where(g["list_amount"] > 0)


_PERF = ["sales", "collected", "collection_rate", "dso", "closing_ar", "closing_overdue_ar"]


def _perf(ledger: Ledger, start, end, by: str) -> pd.DataFrame:
    cur = kpis(ledger, start, end, by=by)[_PERF]
    ly_s, ly_e = _last_year(start, end)
    ly = kpis(ledger, ly_s, ly_e, by=by)["sales"].rename("sales_last_year")
    out = cur.join(ly, how="left")
    out["sales_last_year"] = out["sales_last_year"].fillna(0).astype(np.int64)
    out["growth"] = out["sales"] / out["sales_last_year"].where(out["sales_last_year"] > 0) - 1.0
    return out


def channel_performance(
    ledger: Ledger, start, end, policy: Mapping | str | Path | None = None
) -> pd.DataFrame:
    """Sales, growth, coverage, discount, collection rate and DSO per channel, ranked.

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
        The period (both days included).
    policy : dict, str or Path, default=None
        Channel policy, for the discount of the lines.

    Returns
    -------
    DataFrame
        Indexed by channel (the customer's): sales, collected, collection_rate,
        dso, closing_ar, closing_overdue_ar (from :func:`medrisk.receivables.kpis`),
        sales_last_year, growth, active_customers, customer_base, coverage,
        avg_discount (NaN without order lines), sales_share and rank (1 = most sales).
    """
    out = _perf(ledger, start, end, "channel")
    s, e = _bounds(start, end)
    inv = ledger.invoices
    in_period = (inv["invoice_date"] >= to_ts([s])[0]) & (inv["invoice_date"] <= to_ts([e])[0])
    cust = ledger.customers
    ch = cust.set_index("customer_id")["channel"]
    active = inv.loc[in_period, "customer_id"].drop_duplicates().map(ch).value_counts()
    opened = cust["opened_date"].isna() | (cust["opened_date"] <= to_ts([e])[0])
    base = cust.loc[opened.to_numpy(), "channel"].value_counts()
    out["active_customers"] = active.reindex(out.index, fill_value=0).astype(np.int64)
    out["customer_base"] = base.reindex(out.index, fill_value=0).astype(np.int64)
    out["coverage"] = out["active_customers"] / out["customer_base"].where(out["customer_base"] > 0)
    disc = _avg_discount(ledger, start, end, "channel", policy)
    out["avg_discount"] = disc.reindex(out.index).astype(float)
    out["sales_share"] = out["sales"] / max(int(out["sales"].sum()), 1)
    out["rank"] = out["sales"].rank(ascending=False, method="min").astype(np.int64)
    return out.sort_values("rank", kind="stable")


def partner_performance(
    ledger: Ledger,
    start,
    end,
    policy: Mapping | str | Path | None = None,
    customer_types: tuple[str, ...] = PARTNER_TYPES,
) -> pd.DataFrame:
    """Rank each distributor and agent (经销商/代理商) by sales, with its performance.

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
    policy : dict, str or Path, default=None
    customer_types : tuple of str, default=("distributor", "agent")
        Which customer types count as partners.

    Returns
    -------
    DataFrame
        Indexed by customer_id: name, customer_type, region, channel, the
        :func:`channel_performance` money and rate columns (no coverage),
        avg_discount, rank (within all partners) and rank_in_type.
    """
    cust = ledger.customers.set_index("customer_id")
    partners = cust.index[cust["customer_type"].isin(list(customer_types)).to_numpy()]
    out = _perf(ledger, start, end, "customer_id")
    out = out[out.index.isin(partners)]
    info = cust.loc[out.index, ["name", "customer_type", "region", "channel"]]
    out = info.join(out)
    out["avg_discount"] = (
        _avg_discount(ledger, start, end, "customer_id", policy).reindex(out.index).astype(float)
    )
    out["rank"] = out["sales"].rank(ascending=False, method="min").astype(np.int64)
    out["rank_in_type"] = (
        out.groupby("customer_type")["sales"].rank(ascending=False, method="min").astype(np.int64)
    )
    return out.sort_values("rank", kind="stable")


def product_mix(ledger: Ledger, start, end, by: str = "channel") -> pd.DataFrame:
    """Sales per product line within each group, with its share of the group's sales.

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
    by : str, default="channel"
        Any ``by`` of :func:`medrisk.receivables.kpis`, e.g. ``"customer_id"``.

    Returns
    -------
    DataFrame
        Columns ``by``, product_line, sales (fen), share.
    """
    k = kpis(ledger, start, end, by=[by, "product_line"])["sales"].reset_index()
    k = k[k["sales"] > 0]
    k["share"] = k["sales"] / k.groupby(by, dropna=False)["sales"].transform("sum")
    return k.reset_index(drop=True)


def drop_alerts(
    ledger: Ledger,
    start,
    end,
    policy: Mapping | str | Path | None = None,
    customer_types: tuple[str, ...] = PARTNER_TYPES,
) -> pd.DataFrame:
    """Distributors and agents whose sales or collections fell abnormally against their own history.

    The period ``[start, end]`` is compared with the ``history_periods``
    periods of the same length just before it. A partner is flagged on a
    metric (``sales`` or ``collected``) when the period's value is below
    ``drop_share`` x its history average and that average is at least
    ``min_history_yuan`` (both from the policy's ``drop_alerts``). The
    comparison is strict: a value exactly at the threshold is not flagged.

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
    policy : dict, str or Path, default=None
    customer_types : tuple of str, default=("distributor", "agent")

    Returns
    -------
    DataFrame
        One row per flagged partner and metric: customer_id, name,
        customer_type, metric, value, history_mean (fen), ratio
        (value / history_mean), threshold (drop_share), sorted by ratio.
    """
    pol = load_channel_policy(policy)["drop_alerts"]
    s, e = _bounds(start, end)
    if s is None or e is None:
        raise ParamsError(f"start and end are both needed; got start={start!r}, end={end!r}.")
    length = e - s + 1
    cust = ledger.customers.set_index("customer_id")
    partners = cust.index[cust["customer_type"].isin(list(customer_types)).to_numpy()]
    frames = []
    for k in range(pol["history_periods"] + 1):  # one kpis call per period, not per partner
        ps, pe = to_ts([s - k * length])[0], to_ts([e - k * length])[0]
        f = kpis(ledger, ps, pe, by="customer_id")[["sales", "collected"]]
        frames.append(f.reindex(partners, fill_value=0).to_numpy(dtype=float))
    cube = np.stack(frames)  # periods x partners x metrics
    value, hist = cube[0], cube[1:].mean(axis=0)
    floor = pol["min_history_yuan"] * 100
    flag = (hist >= floor) & (value < pol["drop_share"] * hist)
    p, m = np.nonzero(flag)
    metrics = np.array(["sales", "collected"])
    out = pd.DataFrame(
        {
            "customer_id": partners.to_numpy(dtype=object)[p],
            "name": cust["name"].reindex(partners).to_numpy(dtype=object)[p],
            "customer_type": cust["customer_type"].reindex(partners).to_numpy(dtype=object)[p],
            "metric": metrics[m],
            "value": value[p, m].astype(np.int64),
            "history_mean": np.rint(hist[p, m]).astype(np.int64),
            "ratio": value[p, m] / hist[p, m],
            "threshold": pol["drop_share"],
        }
    )
    return out.sort_values(["ratio", "customer_id"], kind="stable").reset_index(drop=True)
