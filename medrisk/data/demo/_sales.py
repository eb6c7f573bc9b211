"""The demo company's people, customers, products and orders (private to :mod:`medrisk.data.demo`).

Every function is vectorised over rows and returns plain numpy arrays in a
dict; :mod:`medrisk.data.demo` turns them into canonical tables. Day numbers are
days since 1970-01-01, money is integer fen.
"""

from __future__ import annotations

import numpy as np

from medrisk.data.demo._base import (
    BRANDS,
    CITY_REGION,
    GIVEN_NAMES,
    MODEL_LETTERS,
    REGION_SHARE,
    REGIONS,
    SURNAMES,
    Calendar,
    sort_order,
)

# ---------------------------------------------------------------------------
# Customer-type parameters, rows in config.CUSTOMER_TYPES order:
# tertiary_hospital, secondary_hospital, clinic, pharmacy, distributor, agent, other
# ---------------------------------------------------------------------------
TYPE_SHARE = np.array([0.10, 0.18, 0.26, 0.15, 0.12, 0.12, 0.07])
TERM_OPTIONS = np.array([30, 60, 90, 120, 180, 270])
TERM_PROBS = np.array([
    [0.00, 0.00, 0.00, 0.15, 0.70, 0.15],
    [0.00, 0.00, 0.20, 0.70, 0.10, 0.00],
    [0.20, 0.80, 0.00, 0.00, 0.00, 0.00],
    [0.20, 0.70, 0.10, 0.00, 0.00, 0.00],
    [0.00, 0.20, 0.70, 0.10, 0.00, 0.00],
    [0.00, 0.80, 0.20, 0.00, 0.00, 0.00],
    [0.50, 0.50, 0.00, 0.00, 0.00, 0.00],
])
#: Channel probabilities (direct, distributor, agent, ecommerce) per type.
CHANNEL_PROBS = np.array([
    [1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.8, 0.0, 0.0, 0.2], [0.65, 0.0, 0.0, 0.35],
    [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.7, 0.0, 0.0, 0.3],
])
#: Relative number of invoices and order size per type.
ACTIVITY = np.array([4.0, 1.8, 0.45, 0.9, 2.6, 1.0, 0.5])
QTY_SCALE = np.array([3.0, 1.5, 0.3, 0.8, 5.0, 1.5, 0.6])
EQUIPMENT_ORDER_P = np.array([0.07, 0.06, 0.02, 0.005, 0.06, 0.08, 0.03])
EXTRA_LINE_P = np.array([0.5, 0.4, 0.2, 0.3, 0.45, 0.3, 0.25])
#: Category probabilities of supply lines (consumable, reagent, wear_part) per type.
SUPPLY_MIX = np.array([
    [0.45, 0.40, 0.15], [0.50, 0.35, 0.15], [0.70, 0.18, 0.12], [0.85, 0.12, 0.03],
    [0.45, 0.40, 0.15], [0.45, 0.35, 0.20], [0.45, 0.45, 0.10],
])
#: Whole-percent discount range (low, high) per channel (direct, distributor, agent, ecommerce).
DISCOUNT_PCT = np.array([[0, 8], [15, 30], [10, 25], [3, 12]])

# Payment behaviour per type (see medrisk.data.demo module docstring for the design).
LATE_BASE = np.array([-0.10, -0.45, -0.60, -1.40, -1.00, -0.40, -0.80])
DEFAULT_BASE = np.array([-6.0, -5.0, -3.4, -4.5, -4.6, -3.3, -4.2])
LATE_EXCESS_DAYS = np.array([85.0, 60.0, 45.0, 30.0, 40.0, 55.0, 40.0])
REGION_RISK = np.array([-0.25, -0.15, 0.0, 0.10, 0.20, 0.35, 0.40])
BATCH_PAYER_P = np.array([0.45, 0.40, 0.05, 0.15, 0.35, 0.10, 0.10])
DISCOUNT_TAKER_P = np.array([0.05, 0.10, 0.20, 0.45, 0.40, 0.20, 0.20])
#: Payment method probabilities (银行转账, 承兑汇票, 支票) per type.
METHOD_PROBS = np.array([
    [0.75, 0.10, 0.15], [0.75, 0.10, 0.15], [0.90, 0.00, 0.10], [0.90, 0.02, 0.08],
    [0.55, 0.40, 0.05], [0.80, 0.15, 0.05], [0.90, 0.00, 0.10],
])

#: Product category parameters (equipment, consumable, reagent, wear_part).
CATEGORY_SHARE = np.array([0.15, 0.40, 0.30, 0.15])
PRICE_MEDIAN_YUAN = np.array([150_000.0, 40.0, 600.0, 1_500.0])
PRICE_SIGMA = np.array([0.9, 0.9, 0.7, 0.9])
PRICE_BOUNDS_YUAN = np.array([[20_000, 3_000_000], [2, 2_000], [50, 10_000], [100, 50_000]])
PRICE_STEP_YUAN = np.array([100, 1, 1, 10])
QTY_MEDIAN = np.array([1.0, 120.0, 20.0, 3.0])


def choose(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray | int) -> np.ndarray:
    """One categorical draw per element of ``rows``, with probabilities ``table[rows]``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random stream.
    table : ndarray of shape (m, k)
        Probabilities, one row per group (rows sum to 1).
    rows : ndarray of int or int
        Group of each draw; an int ``n`` means ``n`` draws from ``table[0]``.

    Returns
    -------
    ndarray of int8
        Category codes in ``0 .. k - 1``.
    """
    table = np.atleast_2d(np.asarray(table, dtype=np.float64))
    cum = np.cumsum(table, axis=1)
    n = rows if isinstance(rows, (int, np.integer)) else len(rows)
    u = rng.random(n)
    code = np.zeros(n, dtype=np.int8)
    for j in range(table.shape[1] - 1):  # one pass per category, not per row
        code += u >= (cum[0, j] if isinstance(rows, (int, np.integer)) else cum[rows, j])
    return code


def choose_from(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws of indices with probability proportional to ``weights``."""
    cum = np.cumsum(weights, dtype=np.float64)
    return np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1)


def salespeople(rng: np.random.Generator, n: int, team_size: int = 8) -> dict:
    """Salespeople by region in teams; the first of each team leads it.

    Returns
    -------
    dict
        ``region`` (code), ``team`` (code within region), ``team_no``, ``lead``
        (index of the team lead, itself for leads), ``is_lead``,
        ``surname`` / ``given`` (name part codes), ``offset`` / ``count`` per region.
    """
    n_regions = len(REGIONS)
    n = max(n, n_regions)
    extra = (n - n_regions) * REGION_SHARE
    count = 1 + np.floor(extra).astype(np.int64)
    short = n - count.sum()
    count[np.argsort(-(extra - np.floor(extra)), kind="stable")[:short]] += 1
    offset = np.concatenate([[0], np.cumsum(count)[:-1]])
    region = np.repeat(np.arange(n_regions), count)
    pos = np.arange(n) - offset[region]
    team_no = pos // team_size
    lead = offset[region] + team_no * team_size
    return {
        "n": n, "region": region, "team_no": team_no, "lead": lead, "is_lead": lead == np.arange(n),
        "offset": offset, "count": count,
        "surname": rng.integers(0, len(SURNAMES), n), "given": rng.integers(0, len(GIVEN_NAMES), n),
    }


def customers(rng: np.random.Generator, n: int, sp: dict, cal: Calendar) -> dict:
    """Draw customers: terms, geography, channel, salesperson and hidden payment traits.

    Returns
    -------
    dict
        Observable: ``ctype``, ``city``, ``region``, ``channel``, ``terms``, ``sp``,
        ``opened``, ``size_z``. Hidden: ``late_logit``, ``default_logit``,
        ``excess_days``, ``batch_payer``, ``run_day``, ``discount_taker``, ``activity``,
        ``qty_scale``.
    """
    ctype = choose_from(rng, TYPE_SHARE, n)
    city_w = REGION_SHARE[CITY_REGION] / np.bincount(CITY_REGION)[CITY_REGION]
    city = choose_from(rng, city_w, n)
    region = CITY_REGION[city].astype(np.int64)
    terms = TERM_OPTIONS[choose(rng, TERM_PROBS, ctype)]
    channel = choose(rng, CHANNEL_PROBS, ctype)
    sp_idx = sp["offset"][region] + np.floor(rng.random(n) * sp["count"][region]).astype(np.int64)
    # opened: most before the span, some during it (new accounts drive part of the growth)
    span = cal.end - 60 - cal.start
    new = (rng.random(n) < 0.15) & (span > 120)
    opened = np.where(new, cal.start + np.floor(rng.random(n) * 0.8 * max(span, 1)),
                      cal.start - rng.integers(30, 3650, n)).astype(np.int64)
    size_z = rng.standard_normal(n)
    activity = ACTIVITY[ctype] * np.exp(0.8 * size_z)
    qty_scale = QTY_SCALE[ctype] * np.exp(0.4 * size_z)
    tenure = np.clip((cal.start - opened) / 365.25, 0, 10)
    hidden = rng.standard_normal(n)
    late_logit = (LATE_BASE[ctype] + REGION_RISK[region] - 0.40 * size_z - 0.06 * (tenure - 4)
                  - 0.30 * (channel == 3) + 0.75 * hidden)
    default_logit = (DEFAULT_BASE[ctype] + 0.5 * REGION_RISK[region] - 0.30 * size_z
                     - 0.05 * (tenure - 4) + 0.9 * 0.75 * hidden + 0.35 * rng.standard_normal(n))
    excess_days = LATE_EXCESS_DAYS[ctype] * np.exp(0.3 * hidden)
    return {
        "n": n, "ctype": ctype, "city": city, "region": region, "channel": channel,
        "terms": terms, "sp": sp_idx, "opened": opened, "size_z": size_z,
        "activity": activity, "qty_scale": qty_scale, "late_logit": late_logit,
        "default_logit": default_logit, "excess_days": excess_days,
        "batch_payer": rng.random(n) < BATCH_PAYER_P[ctype],
        "run_day": np.array([10, 15, 20, 25])[rng.integers(0, 4, n)],
        "discount_taker": rng.random(n) < DISCOUNT_TAKER_P[ctype],
        "brand": rng.integers(0, len(BRANDS), n), "ending": rng.random(n),
        "limit_noise": rng.random(n),
    }


def products(rng: np.random.Generator, n: int, cal: Calendar) -> dict:
    """Draw SKUs of every category with list prices (fen), shelf life and cold chain.

    About 12% of supply SKUs are discontinued: orders after ``stop_day`` get
    their ``successor`` instead, so their last batch is left over, close to
    (or past) expiry at the extract date.

    Returns
    -------
    dict
        ``category``, ``list_price`` (fen), ``shelf_life``, ``cold_chain``, ``stem``,
        ``model`` (code numbers), ``reg_*`` parts, ``popularity``, ``stop_day``,
        ``successor``.
    """
    counts = np.maximum(1, np.round(CATEGORY_SHARE * n).astype(np.int64))
    category = np.repeat(np.arange(4), counts)
    n = len(category)
    z = rng.standard_normal(n)
    yuan = np.clip(PRICE_MEDIAN_YUAN[category] * np.exp(PRICE_SIGMA[category] * z),
                   PRICE_BOUNDS_YUAN[category, 0], PRICE_BOUNDS_YUAN[category, 1])
    step = PRICE_STEP_YUAN[category]
    list_price = (np.maximum(np.round(yuan / step), 1) * step * 100).astype(np.int64)
    shelf = np.select(
        [category == 0, category == 1, category == 2],
        [np.array([1825, 2920, 3650])[rng.integers(0, 3, n)],
         np.array([730, 1095])[rng.integers(0, 2, n)],
         np.array([180, 270, 365, 450, 540])[rng.integers(0, 5, n)]],
        np.array([730, 1095, 1825])[rng.integers(0, 3, n)],
    )
    cold = np.select([category == 2, category == 1], [rng.random(n) < 0.85, rng.random(n) < 0.03],
                     False)
    # popularity within category: Zipf-like, in random order
    rank = np.empty(n, dtype=np.float64)
    for k in range(4):  # four categories
        members = np.flatnonzero(category == k)
        rank[members] = rng.permutation(len(members)) + 1
    cls3 = rng.random(n) < np.array([0.6, 0.4, 0.5, 0.3])[category]
    gone = (category > 0) & (rng.random(n) < 0.12)
    stop_day = np.where(gone, cal.end - shelf + rng.integers(60, 151, n), cal.horizon + 1)
    successor = np.arange(n)
    for k in range(4):  # four categories
        members = np.flatnonzero(category == k)
        active = members[~gone[members]]
        if len(active):
            successor[members] = active[rng.integers(0, len(active), len(members))]
        else:
            stop_day[members] = cal.horizon + 1
    return {
        "n": n, "category": category, "list_price": list_price, "shelf_life": shelf,
        "cold_chain": cold, "popularity": rank ** -0.9,
        "stem": rng.integers(0, 1000, n), "model_letters": rng.integers(0, len(MODEL_LETTERS), n),
        "model_no": rng.integers(100, 1000, n),
        "reg_class3": cls3, "reg_year": rng.integers(2014, 2025, n),
        "reg_code": rng.integers(0, 1000, n), "reg_serial": rng.integers(1, 10000, n),
        "reg_abbr": rng.integers(0, 8, n), "stop_day": stop_day, "successor": successor,
    }


def orders(rng: np.random.Generator, cust: dict, cal: Calendar, n_invoices: int) -> dict:
    """Orders in final id order: invoiced ones, cancelled ones and ones not yet invoiced.

    Returns
    -------
    dict
        Per order: ``cust``, ``kind`` (0 invoiced, 1 cancelled, 2 pending),
        ``order_day``, ``ship_day`` (-1 when not shipped), ``invoice_day`` (-1 when
        not invoiced), ``equipment`` (an equipment order), ``status`` code for
        pending orders (0 entered, 1 approved, 2 shipped).
    """
    span_days = cal.end - cal.start + 1
    n_cancel = int(round(0.03 * n_invoices))
    n_pending = max(3, int(round(n_invoices / span_days * 12)))
    kind = np.repeat(np.array([0, 1, 2], dtype=np.int8), [n_invoices, n_cancel, n_pending])
    n = len(kind)
    earliest = cust["opened"] + 50  # the longest order-to-invoice lag is 43 days
    weight = cust["activity"] * cal.mass_after(earliest)
    c = choose_from(rng, weight, n)
    ctype = cust["ctype"][c]
    equipment = rng.random(n) < EQUIPMENT_ORDER_P[ctype]
    anchor = cal.sample(rng.random(n), earliest[c])
    lag_invoice = choose(rng, [0.5, 0.25, 0.15, 0.1], n)
    lag_order = np.where(equipment, rng.integers(5, 41, n), rng.integers(0, 8, n))
    age = rng.integers(0, 21, n)
    pending_day = cal.end - age
    ship = np.where(kind == 0, anchor - lag_invoice, -1)
    order_day = np.select([kind == 0, kind == 1], [ship - lag_order, anchor - lag_order],
                          pending_day)
    # pending orders: entered when recent, approved, or shipped but not yet invoiced
    status = np.select([age <= 2, age <= 6], [0, rng.integers(0, 2, n)], rng.integers(1, 3, n))
    pending_ship = order_day + np.minimum(1 + rng.integers(0, 5, n), np.maximum(age, 0))
    ship = np.where((kind == 2) & (status == 2), np.minimum(pending_ship, cal.end), ship)
    invoice = np.where(kind == 0, anchor, -1)
    # final order: by order date, ties in the (random) draw order
    perm = sort_order(order_day)
    out = {"cust": c, "kind": kind, "order_day": order_day, "ship_day": ship,
           "invoice_day": invoice, "equipment": equipment, "status": status}
    return {k: v[perm] for k, v in out.items()} | {"n": n}


def order_lines(rng: np.random.Generator, ords: dict, cust: dict, prod: dict) -> dict:
    """1-5 lines per order with SKU, quantity, list price and whole-percent discount.

    Returns
    -------
    dict
        Per line: ``order`` (order position), ``line_no``, ``sku``, ``qty``,
        ``price`` (fen), ``pct`` (discount in percent), ``amount`` (exact fen).
        Per order: ``order_amount`` and ``order_category`` (category of the largest line).
    """
    c = ords["cust"]
    ctype = cust["ctype"][c]
    equipment = ords["equipment"]
    n_lines = np.where(equipment, 1 + (rng.random(len(c)) < 0.4),
                       1 + rng.binomial(4, EXTRA_LINE_P[ctype]))
    order = np.repeat(np.arange(len(c)), n_lines)
    starts = np.concatenate([[0], np.cumsum(n_lines)[:-1]])
    line_no = np.arange(len(order)) - starts[order] + 1
    n = len(order)
    lt = ctype[order]
    supply_cat = 1 + choose(rng, SUPPLY_MIX, lt)
    category = np.where(equipment[order], np.where(line_no == 1, 0, 3), supply_cat)
    sku = np.empty(n, dtype=np.int64)
    for k in range(4):  # four categories
        rows = np.flatnonzero(category == k)
        members = np.flatnonzero(prod["category"] == k)
        sku[rows] = members[choose_from(rng, prod["popularity"][members], len(rows))]
    replaced = ords["order_day"][order] > prod["stop_day"][sku]
    sku = np.where(replaced, prod["successor"][sku], sku)
    scale = cust["qty_scale"][c][order]
    bulk = QTY_MEDIAN[category] * scale * np.exp(0.6 * rng.standard_normal(n))
    eq_qty = 1 + np.where(np.isin(lt, (4, 5)), rng.geometric(0.7, n) - 1, rng.random(n) < 0.1)
    qty = np.where(category == 0, eq_qty, np.maximum(1, np.round(bulk))).astype(np.int64)
    channel = cust["channel"][c][order]
    lo, hi = DISCOUNT_PCT[channel, 0], DISCOUNT_PCT[channel, 1]
    pct = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64) + 3 * (category == 0)
    price = prod["list_price"][sku]
    amount = qty * (price // 100) * (100 - pct)  # = round(q * price * (1 - pct/100)), exactly
    order_amount = np.add.reduceat(amount, starts)
    # category of the largest line: last line after sorting by (order, amount)
    by_amount = sort_order(order, amount)
    last = np.cumsum(n_lines) - 1
    order_category = category[by_amount[last]]
    return {"order": order, "line_no": line_no, "sku": sku, "qty": qty, "price": price,
            "pct": pct, "amount": amount, "order_amount": order_amount,
            "order_category": order_category, "n": n}
