"""A complete, consistent demo medical-device company, with the truth behind its payments.

:func:`make_demo` builds every canonical table of DOMAIN.md (customers,
salespeople, products, batches, orders, order_lines, shipments, invoices,
payments, allocations, adjustments, collection_actions, targets) for a company
selling equipment, consumables, reagents and wear parts to hospitals, clinics,
pharmacies, distributors and agents across China. It is vectorised (numpy and
pyarrow, no loop over rows): a million invoices take seconds.

The same ``seed`` gives the same tables, byte for byte. ``end`` is the extract
date: no event (order, shipment, invoice, payment, adjustment, action, batch
production) is dated after it; payments that would come later do not exist
yet, so those invoices are open. Due dates, expiry dates, promised payment
dates and targets for the coming 12 months are naturally later.

How lateness and default are drawn (the truth a credit model tries to find)
---------------------------------------------------------------------------
Each customer has two hidden logits:

* ``late_logit`` = type base (tertiary hospital -0.1, secondary -0.45, clinic
  -0.6, pharmacy -1.4, distributor -1.0, agent -0.4, other -0.8) + region
  (华东 -0.25, 华南 -0.15, 华北 0, 华中 +0.1, 西南 +0.2, 西北 +0.35, 东北 +0.4)
  - 0.4 x size (a N(0, 1) draw: bigger customers buy more often, in larger
  quantities, and have larger credit limits) - 0.06 x (tenure years at the
  start of the span, 0-10, - 4) - 0.3 if e-commerce + 0.75 x h, with
  h ~ N(0, 1) the customer's hidden payment habit;
* ``default_logit`` = type base (tertiary -6.0, secondary -5.0, clinic -3.4,
  pharmacy -4.5, distributor -4.6, agent -3.3, other -4.2) + half the region
  effect - 0.3 x size - 0.05 x (tenure - 4) + 0.675 x h + N(0, 0.35): defaults
  concentrate in the customers that also pay late.

Observable traces of the hidden habit: the customer's own payment history,
and the credit limit (set at about a year's purchases x terms / 365 x
U(2.0, 3.0) x exp(-0.25 x (late_logit - type base))).

Per invoice, with ``rel`` = log(amount) - the customer's mean log amount
(clipped to +-2.5), ``dec`` = issued in December (year-end push stock),
``festival`` = due from 20 days before to 10 days after the Spring Festival
and e ~ N(0, 0.15) invoice-level noise:

* p_default = sigmoid(default_logit + 0.25 rel + 0.5 e)
* p_late_if_paid = sigmoid(late_logit + 0.3 rel + 0.4 dec + 0.35 festival + e)
* p_late = p_default + (1 - p_default) x p_late_if_paid

The outcome is drawn exactly from these: default ~ Bernoulli(p_default); if
not, paid more than 30 days after due ~ Bernoulli(p_late_if_paid), with the
days late then 31 + Gamma (mean 30-85 extra days by type, longer for worse
habits), else uniform-ish between 20 days early and 30 days late. Payment-run
dates (batch payers pay several invoices on a fixed day of the month) and
weekend moves never carry a payment across the 30-day line. So ``p_late`` in
``truth_invoices`` is the best possible predictor of "not paid in full within
30 days of due (or never)". Defaulted invoices get a write-off of the open
amount 240-600 days after due (sometimes after a part payment); paid invoices
are settled in full, some in 2-3 parts, some with an early-payment discount,
some after a credit note. Tertiary hospitals are slow (high p_late) but rarely
default; clinics and agents default most.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from medrisk.config import (
    ACTION_CHANNELS,
    ACTION_OUTCOMES,
    ADJUSTMENT_KINDS,
    CHANNELS,
    CUSTOMER_TYPES,
    ORDER_STATUSES,
    PRODUCT_CATEGORIES,
    QC_STATUSES,
)
from medrisk.data._files import write_tables
from medrisk.data._ledger import Ledger
from medrisk.data.demo import _base as base
from medrisk.data.demo._cash import (
    LATE_AFTER_DAYS,
    STAGES,
    collection_actions,
    late_probabilities,
    receipts,
    settlement,
)
from medrisk.data.demo._sales import (
    LATE_BASE,
    customers,
    order_lines,
    orders,
    products,
    salespeople,
)
from medrisk.data.demo._supply import batches_and_shipments
from medrisk.exceptions import ParamsError

__all__ = ["DemoCompany", "make_demo", "make_ledger", "write_demo", "LATE_AFTER_DAYS"]

_L = base.make_labels
_D = base.make_dates


def _nullable_int(values: np.ndarray, keep: np.ndarray) -> pd.arrays.IntegerArray:
    """Make an ``Int64`` array of ``values``, missing where ``keep`` is False."""
    return pd.arrays.IntegerArray(np.where(keep, values, 0).astype(np.int64), ~np.asarray(keep))


@dataclass
class DemoCompany:
    """A demo company: its ledger and the hidden truth that generated it.

    Attributes
    ----------
    ledger : Ledger
        Every canonical table, in canonical dtypes (money in integer fen).
    truth_customers : DataFrame
        Per customer: hidden ``late_logit`` and ``default_logit``, the
        probabilities for an invoice of usual size (``p_late_typical``,
        ``p_default_typical``), ``expected_days_late`` of a paid invoice,
        ``mean_days_late_observed`` over invoices paid in full by the extract
        date, and the ``batch_payer`` and ``discount_taker`` habits.
    truth_invoices : DataFrame
        Per invoice: ``p_late`` (true probability of not being paid in full
        within 30 days of due, or never), ``p_default``, ``p_late_if_paid``, the
        drawn outcome (``defaulted``, ``late``, ``settle_date`` and
        ``days_late_planned``, possibly after the extract date) and what the
        extract shows (``settled_by_end``, ``days_late_actual``).
    """

    ledger: Ledger
    truth_customers: pd.DataFrame
    truth_invoices: pd.DataFrame


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_args(n_invoices, seed, end, months) -> int:
    if not _is_int(n_invoices) or n_invoices < 100:
        raise ParamsError(f"n_invoices must be an integer of at least 100; got {n_invoices!r}.")
    if not _is_int(seed) or seed < 0:
        raise ParamsError(f"seed must be a non-negative integer; got {seed!r}.")
    if not _is_int(months) or not 1 <= months <= 120:
        raise ParamsError(f"months must be an integer from 1 to 120; got {months!r}.")
    try:
        day = base.day_number(end)
    except (ValueError, TypeError) as exc:
        raise ParamsError(f"end must be a date such as '2026-10-31'; got {end!r}.") from exc
    if not base.day_number("2010-01-01") <= day <= base.day_number("2039-06-30"):
        # the Spring Festival calendar covers 2000-2040, spans reach back 10 years
        raise ParamsError(f"end must lie between 2010-01-01 and 2039-06-30; got {end!r}.")
    return day


def make_demo(n_invoices: int = 20_000, seed: int = 0, end: str = "2026-10-31",
              months: int = 36) -> DemoCompany:
    """Generate a demo medical-device company with every canonical table.

    Parameters
    ----------
    n_invoices : int, default=20_000
        Number of invoices (at least 100). Customers (about one per 40
        invoices), salespeople, products and batches scale with it.
    seed : int, default=0
        Random seed: the same seed (and other arguments) gives identical tables.
    end : str, default="2026-10-31"
        Extract date (2010-01-01 to 2039-06-30): nothing in any table happens
        after it.
    months : int, default=36
        Months of invoices (1 to 120), ending with the month of ``end``.

    Returns
    -------
    DemoCompany
        The ledger and the ground truth (see :class:`DemoCompany` and the
        module docstring for how payments were drawn).

    Raises
    ------
    ParamsError
        When an argument is out of range, naming it and what is allowed.

    Examples
    --------
    >>> from medrisk.data.demo import make_demo
    >>> company = make_demo(n_invoices=2_000, seed=1)
    >>> len(company.ledger.invoices)
    2000
    """
    end_day = _check_args(n_invoices, seed, end, months)
    rng = np.random.default_rng(seed).spawn(9)
    cal = base.Calendar.build(end_day, months)
    n_cust = max(50, int(round(n_invoices / 40)))
    sp = salespeople(rng[0], max(8, int(round(n_cust / 25))))
    cust = customers(rng[1], n_cust, sp, cal)
    prod = products(rng[2], int(np.clip(n_invoices // 500, 40, 1000)), cal)
    ords = orders(rng[3], cust, cal, n_invoices)
    lines = order_lines(rng[3], ords, cust, prod)
    ids = {
        "sp": base.IdCodec.for_count("SP", sp["n"], 3),
        "cust": base.IdCodec.for_count("C", n_cust, 6),
        "sku": base.IdCodec.for_count("SKU", prod["n"], 4),
        "order": base.IdCodec.for_count("O", ords["n"], 8),
        "inv": base.IdCodec.for_count("INV", n_invoices, 8),
    }
    inv_orders = np.flatnonzero(ords["kind"] == 0)
    inv_orders = inv_orders[base.sort_order(ords["invoice_day"][inv_orders])]
    c = ords["cust"][inv_orders]
    inv = {"order": inv_orders, "cust": c, "invoice_day": ords["invoice_day"][inv_orders],
           "due_day": ords["invoice_day"][inv_orders] + cust["terms"][c],
           "amount": lines["order_amount"][inv_orders],
           "category": lines["order_category"][inv_orders]}
    # build the big tables stage by stage, so that each stage's scratch arrays are freed
    tables = {"salespeople": _salespeople_table(sp, ids), "products": _products_table(prod, ids)}
    tables.update(_stock_tables(rng[7], lines, ords, prod, cal, ids))
    tables["order_lines"] = pd.DataFrame({
        "order_id": ids["order"](lines["order"]), "line_no": lines["line_no"].astype(np.int64),
        "sku": ids["sku"](lines["sku"]), "quantity": lines["qty"].astype(np.int64),
        "unit_price": lines["price"].astype(np.int64), "discount_rate": lines["pct"] / 100.0,
    })
    del lines
    probs = late_probabilities(rng[4], inv, cust)
    fate = settlement(rng[4], inv, cust, probs, cal)
    money = receipts(rng[5], inv, cust, fate, cal)
    tables.update(_cash_tables(money, collection_actions(rng[6], inv, fate, money, cal), inv, cust,
                               sp, ids))
    settled = (money["paid"] + money["adjusted"]) == inv["amount"]
    del money
    status = np.where(ords["kind"] == 1, 5, np.where(ords["kind"] == 2, ords["status"], 3))
    status[inv_orders[settled]] = 4
    tables["orders"] = pd.DataFrame({
        "order_id": ids["order"](np.arange(ords["n"])), "customer_id": ids["cust"](ords["cust"]),
        "order_date": _D(ords["order_day"]), "salesperson_id": ids["sp"](cust["sp"][ords["cust"]]),
        "channel": _L(cust["channel"][ords["cust"]], CHANNELS),
        "status": _L(status, ORDER_STATUSES),
    })
    del ords, status
    tables["invoices"] = pd.DataFrame({
        "invoice_id": ids["inv"](np.arange(n_invoices)), "customer_id": ids["cust"](c),
        "invoice_date": _D(inv["invoice_day"]), "due_date": _D(inv["due_day"]),
        "amount": inv["amount"].astype(np.int64), "order_id": ids["order"](inv_orders),
        "salesperson_id": ids["sp"](cust["sp"][c]),
        "product_line": _L(inv["category"], PRODUCT_CATEGORIES),
        "currency": _L(np.zeros(n_invoices, dtype=np.int64), ["CNY"]),
    })
    tables["customers"] = _customers_table(cust, inv, ids, cal)
    tables["targets"] = _targets_table(rng[8], inv, cust, cal)
    return DemoCompany(
        ledger=Ledger(tables, source=f"medrisk.data.demo(n_invoices={n_invoices}, seed={seed}, "
                                     f"end={end}, months={months})"),
        truth_customers=_truth_customers(cust, inv, fate, ids, cal),
        truth_invoices=_truth_invoices(inv, probs, fate, settled, ids),
    )


def make_ledger(n_invoices: int = 20_000, seed: int = 0, **kw) -> Ledger:
    """Return the ledger of :func:`make_demo` (same arguments), without the ground truth.

    Parameters
    ----------
    n_invoices : int, default=20_000
        Number of invoices.
    seed : int, default=0
        Random seed.
    **kw
        ``end`` and ``months``, as for :func:`make_demo`.

    Returns
    -------
    Ledger
    """
    return make_demo(n_invoices=n_invoices, seed=seed, **kw).ledger


def write_demo(out_dir: str | os.PathLike, n_invoices: int = 20_000, seed: int = 0,
               fmt: str = "parquet", **kw) -> Path:
    """Write a demo company as table files that :func:`medrisk.load_ledger` reads.

    One file per table (money in 元, see :func:`medrisk.data.write_tables`), and
    the ground truth in ``ground_truth/customers.parquet`` and
    ``ground_truth/invoices.parquet`` (a subfolder, so the loader ignores it).

    Parameters
    ----------
    out_dir : str or path
        Folder to write into (created if missing).
    n_invoices : int, default=20_000
        Number of invoices.
    seed : int, default=0
        Random seed.
    fmt : {"parquet", "csv", "xlsx"}, default="parquet"
        Format of the table files.
    **kw
        ``end`` and ``months``, as for :func:`make_demo`.

    Returns
    -------
    Path
        ``out_dir``.
    """
    if fmt not in ("parquet", "csv", "xlsx"):
        raise ParamsError(
            f"fmt={fmt!r} is not supported; possible values are 'parquet', 'csv', 'xlsx'.")
    company = make_demo(n_invoices=n_invoices, seed=seed, **kw)
    out = Path(out_dir)
    write_tables(company.ledger.tables, out, fmt)
    truth = out / "ground_truth"
    truth.mkdir(parents=True, exist_ok=True)
    company.truth_customers.to_parquet(truth / "customers.parquet", index=False)
    company.truth_invoices.to_parquet(truth / "invoices.parquet", index=False)
    return out


# ---------------------------------------------------------------------------
# Table builders
# ---------------------------------------------------------------------------
def _salespeople_table(sp: dict, ids: dict) -> pd.DataFrame:
    teams = [f"{k + 1}组" for k in range(int(sp["team_no"].max()) + 1)]
    return pd.DataFrame({
        "salesperson_id": ids["sp"](np.arange(sp["n"])),
        "name": base.concat_text(_L(sp["surname"], base.SURNAMES),
                                 _L(sp["given"], base.GIVEN_NAMES)),
        "team": base.concat_text(_L(sp["region"], base.REGIONS), _L(sp["team_no"], teams)),
        "region": _L(sp["region"], base.REGIONS),
        "manager_id": ids["sp"](sp["lead"], null=sp["is_lead"]),
    })


def _customers_table(cust: dict, inv: dict, ids: dict, cal: base.Calendar) -> pd.DataFrame:
    n, ctype = cust["n"], cust["ctype"]
    endings = [e for es in base.CUSTOMER_NAME_ENDINGS for e in es]
    sizes = np.array([len(es) for es in base.CUSTOMER_NAME_ENDINGS])
    ending = (np.cumsum(sizes) - sizes)[ctype] + np.floor(cust["ending"] * sizes[ctype]).astype(int)
    brand = np.where(base.NAME_HAS_BRAND[ctype], cust["brand"], len(base.BRANDS))
    name = base.concat_text(_L(cust["city"], base.CITIES), _L(brand, base.BRANDS + ("",)),
                            _L(ending, endings))
    # credit limit: terms' worth of a year's purchases x2.0-3.0 (customers pay weeks past their
    # terms, so a limit of one terms' worth would stop most orders), less for worse habits; the
    # default rule then stops about a fifth of orders (creditlimits.what_if on the demo)
    active_years = np.maximum(cal.end - np.maximum(cust["opened"], cal.start), 90) / 365.25
    annual = np.bincount(inv["cust"], inv["amount"].astype(np.float64), minlength=n) / active_years
    habit = cust["late_logit"] - LATE_BASE[ctype]
    limit = annual * cust["terms"] / 365 * (2.0 + cust["limit_noise"]) * np.exp(-0.25 * habit)
    # whole 10,000 元, at least 50,000 元
    limit = np.maximum(np.ceil(limit / 1_000_000), 5) * 1_000_000
    return pd.DataFrame({
        "customer_id": ids["cust"](np.arange(n)), "name": name,
        "customer_type": _L(ctype, CUSTOMER_TYPES), "region": _L(cust["region"], base.REGIONS),
        "province": _L(base.CITY_PROVINCE[cust["city"]], base.PROVINCES),
        "channel": _L(cust["channel"], CHANNELS), "salesperson_id": ids["sp"](cust["sp"]),
        "credit_limit": pd.array(limit.astype(np.int64), dtype="Int64"),
        "payment_terms_days": pd.array(cust["terms"].astype(np.int64), dtype="Int64"),
        "opened_date": _D(cust["opened"]),
    })


def _products_table(prod: dict, ids: dict) -> pd.DataFrame:
    cat = prod["category"]
    stems = [s for ss in base.PRODUCT_STEMS for s in ss]
    sizes = np.array([len(ss) for ss in base.PRODUCT_STEMS])
    stem = (np.cumsum(sizes) - sizes)[cat] + prod["stem"] % sizes[cat]
    model = _L(prod["model_letters"], [f" {m}-" for m in base.MODEL_LETTERS])
    name = base.concat_text(_L(stem, stems), model, base.make_ids("", prod["model_no"], 3))
    codes = [c for cs in base.REG_CODES for c in cs]
    n_codes = np.array([len(cs) for cs in base.REG_CODES])
    code = np.array(codes)[(np.cumsum(n_codes) - n_codes)[cat] + prod["reg_code"] % n_codes[cat]]
    cls3 = prod["reg_class3"]
    digits = (prod["reg_year"] * 10_000_000 + np.where(cls3, 3, 2) * 1_000_000 + code * 10_000
              + prod["reg_serial"])
    prefix = _L(np.where(cls3, 0, 1 + prod["reg_abbr"]),
                ("国械注准",) + tuple(a + "械注准" for a in base.PROVINCE_ABBR))
    return pd.DataFrame({
        "sku": ids["sku"](np.arange(prod["n"])), "name": name,
        "category": _L(cat, PRODUCT_CATEGORIES),
        "list_price": pd.array(prod["list_price"].astype(np.int64), dtype="Int64"),
        "shelf_life_days": pd.array(prod["shelf_life"].astype(np.int64), dtype="Int64"),
        "cold_chain": pd.array(prod["cold_chain"].astype(bool), dtype="boolean"),
        "registration_no": base.concat_text(prefix, base.make_ids("", digits, 11)),
    })


def _stock_tables(rng, lines, ords, prod, cal, ids) -> dict:
    b, ships = batches_and_shipments(rng, lines, ords, prod, cal)
    n, n_ship = len(b["sku"]), len(ships["order"])
    batch_id = base.IdCodec.for_count("B", n, 6)
    return {
        "batches": pd.DataFrame({
            "batch_id": batch_id(np.arange(n)), "sku": ids["sku"](b["sku"]),
            "production_date": _D(b["production"]), "expiry_date": _D(b["expiry"]),
            "quantity": b["quantity"].astype(np.int64),
            "warehouse": _L(b["warehouse"], base.WAREHOUSES), "qc_status": _L(b["qc"], QC_STATUSES),
        }),
        "shipments": pd.DataFrame({
            "shipment_id": base.IdCodec.for_count("SH", n_ship, 7)(np.arange(n_ship)),
            "order_id": ids["order"](ships["order"]), "ship_date": _D(ships["ship_day"]),
            "sku": ids["sku"](ships["sku"]), "batch_id": batch_id(ships["batch"]),
            "quantity": ships["quantity"].astype(np.int64),
        }),
    }


def _cash_tables(money: dict, acts: dict, inv: dict, cust: dict, sp: dict, ids: dict) -> dict:
    pay, alloc, adj = money["payments"], money["allocations"], money["adjustments"]
    n_pay, n_adj, n_act = len(pay["cust"]), len(adj["invoice"]), len(acts["invoice"])
    pay_id = base.IdCodec.for_count("P", n_pay, 6)
    inv_sp = cust["sp"][inv["cust"]][acts["invoice"]]
    actor = np.select([acts["actor_kind"] == 0, acts["actor_kind"] == 1, acts["actor_kind"] == 2],
                      [inv_sp, sp["lead"][inv_sp], sp["n"]], sp["n"] + 1)
    departments = pd.Series(["财务部", "法务部"], dtype="str")  # finance, legal
    actors = pd.concat([ids["sp"](np.arange(sp["n"])), departments], ignore_index=True)
    no_promise = acts["promise_day"] < 0
    return {
        "payments": pd.DataFrame({
            "payment_id": pay_id(np.arange(n_pay)), "customer_id": ids["cust"](pay["cust"]),
            "payment_date": _D(pay["day"]), "amount": pay["amount"].astype(np.int64),
            "method": _L(pay["method"], base.PAYMENT_METHODS),
            "reference": ids["inv"](pay["reference"]),
        }),
        "allocations": pd.DataFrame({
            "payment_id": pay_id(alloc["payment"]), "invoice_id": ids["inv"](alloc["invoice"]),
            "amount": alloc["amount"].astype(np.int64),
        }),
        "adjustments": pd.DataFrame({
            "adjustment_id": base.IdCodec.for_count("ADJ", n_adj, 6)(np.arange(n_adj)),
            "invoice_id": ids["inv"](adj["invoice"]), "adjustment_date": _D(adj["day"]),
            "amount": adj["amount"].astype(np.int64), "kind": _L(adj["kind"], ADJUSTMENT_KINDS),
        }),
        "collection_actions": pd.DataFrame({
            "action_id": base.IdCodec.for_count("ACT", n_act, 7)(np.arange(n_act)),
            "customer_id": ids["cust"](inv["cust"][acts["invoice"]]),
            "invoice_id": ids["inv"](acts["invoice"]), "action_date": _D(acts["day"]),
            "stage": _L(acts["stage"], [s[0] for s in STAGES]),
            "channel": _L(acts["channel"], ACTION_CHANNELS), "actor": _L(actor, actors),
            "outcome": _L(acts["outcome"], ACTION_OUTCOMES),
            "promise_date": _D(np.maximum(acts["promise_day"], 0), null=no_promise),
            "promise_amount": _nullable_int(acts["promise_amount"],
                                            ~no_promise & (acts["promise_amount"] > 0)),
        }),
    }


def _month_number(days) -> np.ndarray:
    """Months since 1970-01 of day numbers."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _targets_table(rng: np.random.Generator, inv: dict, cust: dict,
                   cal: base.Calendar) -> pd.DataFrame:
    """Monthly targets by region: the trend of actual sales x seasonality x a plan uplift."""
    first_month = base.month_start(np.array([cal.start]))[0]
    days = np.arange(cal.start, cal.horizon + 1)
    month_idx = _month_number(days) - _month_number(first_month)
    n_months = int(month_idx.max()) + 1
    seen = days <= cal.end
    weight = np.bincount(month_idx, cal.weight, minlength=n_months)
    weight_seen = np.bincount(month_idx[seen], cal.weight[seen], minlength=n_months)
    inv_month = month_idx[inv["invoice_day"] - cal.start]
    sales = np.bincount(inv_month, inv["amount"].astype(np.float64), minlength=n_months)
    fit = weight_seen > 0.5 * weight
    t = np.arange(n_months)
    slope, level = np.polyfit(t[fit], np.log(np.maximum(sales[fit], 1) / weight_seen[fit]), 1) \
        if fit.sum() >= 2 else (0.0, np.log(max(sales.sum(), 1) / weight_seen.sum()))
    expected = weight * np.exp(level + slope * t)
    region = cust["region"][inv["cust"]]
    share = np.bincount(region, inv["amount"].astype(np.float64), minlength=len(base.REGIONS))
    share = share / share.sum()
    n_r = len(base.REGIONS)
    year = (t + int(_month_number(first_month))) // 12
    year = year - year.min()
    uplift = 1.02 + 0.10 * rng.random((n_r, year.max() + 1))
    amount = share[:, None] * expected[None, :] * uplift[:, year] * np.exp(
        0.04 * rng.standard_normal((n_r, n_months)))
    amount = np.maximum(np.round(amount / 1_000_000), 1).astype(np.int64) * 1_000_000
    period = base.month_start(
        cal.start + np.flatnonzero(np.r_[True, month_idx[1:] != month_idx[:-1]]))
    n = n_r * n_months
    none = np.full(n, -1)
    return pd.DataFrame({
        "period": _D(np.tile(period, n_r)), "target_amount": amount.reshape(-1),
        "region": _L(np.repeat(np.arange(n_r), n_months), base.REGIONS),
        "channel": _L(none, CHANNELS), "salesperson_id": _L(none, ["-"]),
        "product_line": _L(none, ["-"]),
    })


def _truth_customers(cust, inv, fate, ids, cal) -> pd.DataFrame:
    n = cust["n"]
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    q0, d0 = sig(cust["late_logit"]), sig(cust["default_logit"])
    early = np.minimum(20, cust["terms"] - 10)
    alpha = 0.6 + 1.4 * q0
    on_time = -early + (LATE_AFTER_DAYS + 1 + early) * alpha / (alpha + 1.6) - 0.5
    expected = q0 * (LATE_AFTER_DAYS + 0.5 + cust["excess_days"]) + (1 - q0) * on_time
    paid = ~fate["defaulted"] & (fate["settle_day"] <= cal.end)
    cnt = np.bincount(inv["cust"][paid], minlength=n)
    total = np.bincount(inv["cust"][paid], fate["days_late"][paid].astype(np.float64), minlength=n)
    return pd.DataFrame({
        "customer_id": ids["cust"](np.arange(n)),
        "customer_type": _L(cust["ctype"], CUSTOMER_TYPES),
        "late_logit": cust["late_logit"], "default_logit": cust["default_logit"],
        "p_late_typical": d0 + (1 - d0) * q0, "p_default_typical": d0,
        "expected_days_late": expected,
        "mean_days_late_observed": np.where(cnt > 0, total / np.maximum(cnt, 1), np.nan),
        "n_invoices": np.bincount(inv["cust"], minlength=n).astype(np.int64),
        "batch_payer": cust["batch_payer"], "discount_taker": cust["discount_taker"],
    })


def _truth_invoices(inv, probs, fate, settled, ids) -> pd.DataFrame:
    settled = settled & ~fate["defaulted"]
    dl = fate["days_late"]
    return pd.DataFrame({
        "invoice_id": ids["inv"](np.arange(len(inv["cust"]))),
        "customer_id": ids["cust"](inv["cust"]),
        "p_late": probs["p_late"], "p_default": probs["p_default"],
        "p_late_if_paid": probs["p_late_if_paid"],
        "defaulted": fate["defaulted"], "late": fate["late_outcome"],
        "settle_date": _D(fate["settle_day"]),
        "days_late_planned": _nullable_int(dl, ~fate["defaulted"]),
        "settled_by_end": settled,
        "days_late_actual": _nullable_int(dl, settled),
    })
