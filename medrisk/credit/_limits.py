"""Credit limits: check new orders, recommend limits, replay a rule over past orders.

Exposure of a customer on day ``D`` (as known at the end of ``D``):

* open invoices: the open amount of :mod:`medrisk.receivables` as of ``D``;
* unbilled approved orders: orders dated on or before ``D`` with a status in
  the policy's ``unbilled_statuses`` (approved, shipped) or already invoiced,
  that have no invoice dated on or before ``D``. Order value = sum of lines
  ``quantity x unit_price x (1 - discount_rate)``, rounded to the fen.
  Cancelled and merely entered orders never count. (The ledger keeps only an
  order's current status, so for past days an order that was later
  cancelled is left out: the one place the replay uses later knowledge.)
* the new order.

Rules (``params/credit-policy.yaml``): block when exposure / limit is above
``block_utilisation_above`` (80%) or above the limit itself; a risk tier may
require a review or prepayment (or a guarantee) before the order ships.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from ruamel.yaml import YAML

from medrisk import kernel
from medrisk.config import PARAMS_DIR
from medrisk.credit._streams import Stream
from medrisk.credit._thresholds import TIERS
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.kernel import yuan
from medrisk.orders import unbilled_orders
from medrisk.receivables import event_book

__all__ = [
    "CreditPolicy",
    "DECISIONS",
    "TIER_RULES",
    "DEFAULT_POLICY_PATH",
    "load_policy",
    "exposure",
    "check_orders",
    "check_order",
    "recommend_limits",
    "what_if",
]

DEFAULT_POLICY_PATH = PARAMS_DIR / "credit-policy.yaml"
#: Decisions of a check, mildest first.
DECISIONS = ("approve", "review", "prepayment_or_guarantee", "block")
#: What a tier may require.
TIER_RULES = ("none", "review", "prepayment_or_guarantee", "block")
_DECISION_ZH = {
    "approve": "通过",
    "review": "人工审核",
    "prepayment_or_guarantee": "需预付款或担保",
    "block": "拦截",
}


@dataclass
class CreditPolicy:
    """The rules of ``params/credit-policy.yaml``.

    Parameters
    ----------
    block_utilisation_above : float or None, default=0.8
        Block when exposure / limit would exceed this (None: no such rule).
    block_over_limit : bool, default=True
        Block when exposure would exceed the limit.
    unbilled_statuses : tuple of str, default=("approved", "shipped")
    tier_rules : dict of str to str
        Per risk tier, one of :data:`TIER_RULES`.
    sales_lookback_days : int, default=365
    buffer_months : float, default=1.0
    round_to_yuan : int, default=10000
    tier_multiplier : dict of str to float
        Recommended-limit multiplier per tier.
    """

    block_utilisation_above: float | None = 0.8
    block_over_limit: bool = True
    unbilled_statuses: tuple[str, ...] = ("approved", "shipped")
    tier_rules: dict = field(
        default_factory=lambda: {
            "low": "none",
            "medium": "none",
            "high": "review",
            "very_high": "prepayment_or_guarantee",
        }
    )
    sales_lookback_days: int = 365
    buffer_months: float = 1.0
    round_to_yuan: int = 10_000
    tier_multiplier: dict = field(
        default_factory=lambda: {"low": 1.2, "medium": 1.0, "high": 0.6, "very_high": 0.0}
    )

    def validate(self) -> CreditPolicy:
        """Check every value; return self.

        Raises
        ------
        ParamsError
        """
        u = self.block_utilisation_above
        if u is not None and (not isinstance(u, (int, float)) or u <= 0):
            raise ParamsError(
                f"block_utilisation_above must be a positive number or null; got {u!r}."
            )
        for tier, rule in self.tier_rules.items():
            if tier not in TIERS or rule not in TIER_RULES:
                raise ParamsError(
                    f"tier_rules has {tier!r}: {rule!r}; tiers are {list(TIERS)} and "
                    f"rules are {list(TIER_RULES)}."
                )
        for tier, mult in self.tier_multiplier.items():
            if tier not in TIERS or not isinstance(mult, (int, float)) or mult < 0:
                raise ParamsError(
                    f"tier_multiplier has {tier!r}: {mult!r}; tiers are {list(TIERS)} "
                    "and multipliers non-negative numbers."
                )
        if self.sales_lookback_days < 1 or self.round_to_yuan < 1 or self.buffer_months < 0:
            raise ParamsError(
                "sales_lookback_days and round_to_yuan must be >= 1 and buffer_months "
                f">= 0; got {self.sales_lookback_days!r}, {self.round_to_yuan!r}, "
                f"{self.buffer_months!r}."
            )
        return self


def load_policy(path: str | Path | None = None) -> CreditPolicy:
    """Read a credit policy from YAML (default ``params/credit-policy.yaml``).

    Raises
    ------
    ParamsError
        For a missing file, unknown keys or bad values.
    """
    path = Path(path or DEFAULT_POLICY_PATH)
    if not path.exists():
        raise ParamsError(f"Credit policy file {path} does not exist.")
    doc = dict(YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {})
    rec = dict(doc.pop("recommended_limit", None) or {})
    known = {"block_utilisation_above", "block_over_limit", "unbilled_statuses", "tier_rules"}
    known_rec = {"sales_lookback_days", "buffer_months", "round_to_yuan", "tier_multiplier"}
    bad = sorted(set(doc) - known) + sorted(set(rec) - known_rec)
    if bad:
        raise ParamsError(
            f"{path}: unknown key(s) {bad}; allowed are {sorted(known)} and "
            f"recommended_limit: {sorted(known_rec)}."
        )
    pol = CreditPolicy()
    for k, v in {**doc, **rec}.items():
        setattr(pol, k, tuple(v) if k == "unbilled_statuses" else v)
    return pol.validate()


# --------------------------------------------------------------------------- orders
@dataclass(frozen=True, eq=False)
class _Exposure:
    open_: Stream
    unbilled: Stream
    order_cust: np.ndarray
    order_day: np.ndarray
    order_value: np.ndarray
    order_counts: np.ndarray  # counts as unbilled on its own date
    order_invoice_day: np.ndarray


def _exposure_state(ledger: Ledger, statuses: tuple[str, ...]) -> _Exposure:
    return ledger.derive(_build_exposure_state, tuple(statuses))


def _build_exposure_state(ledger: Ledger, statuses: tuple[str, ...]) -> _Exposure:
    book = event_book(ledger)
    cust = ledger.customers
    n_c = len(cust)
    if ledger.has("orders") and ledger.has("order_lines"):
        u = unbilled_orders(ledger, statuses)
    else:  # no order book: nothing is known to be ordered and not yet billed
        u = pd.DataFrame({"customer_id": pd.Series([], dtype=object),
                          "order_date": pd.Series([], dtype="datetime64[ns]"),
                          "order_value": pd.Series([], dtype=np.int64),
                          "first_invoice_date": pd.Series([], dtype="datetime64[ns]"),
                          "counts": pd.Series([], dtype=bool)})
    o_c = kernel.positions(u["customer_id"], cust["customer_id"].reset_index(drop=True))
    o_c = np.where(o_c >= 0, o_c, n_c)
    o_day = kernel.days(u["order_date"])
    value = u["order_value"].to_numpy(np.float64)
    inv_day = kernel.days(u["first_invoice_date"])
    counts = u["counts"].to_numpy(dtype=bool)
    lo = int(min(o_day.min(initial=0), book.inv_day.min(initial=0))) - 1
    hi = (
        int(
            max(
                o_day.max(initial=0),
                book.ev_day[book.ev_day < kernel.NEVER].max(initial=0),
                book.inv_day.max(initial=0),
            )
        )
        + 2
    )
    span = hi - lo + 1
    ccust = np.where(book.cust_pos >= 0, book.cust_pos, n_c)
    ev_amt = np.diff(book.cum).astype(np.float64)
    open_ = Stream(
        np.concatenate([ccust, ccust[book.ev_inv]]),
        np.concatenate([book.inv_day, book.ev_day]),
        np.concatenate([book.amount.astype(np.float64), -ev_amt]),
        n_c + 1,
        lo,
        span,
    )
    billed = counts & (inv_day < kernel.NEVER)
    unbilled = Stream(
        np.concatenate([o_c[counts], o_c[billed]]),
        np.concatenate([o_day[counts], np.maximum(inv_day[billed], o_day[billed])]),
        np.concatenate([value[counts], -value[billed]]),
        n_c + 1,
        lo,
        span,
    )
    return _Exposure(open_, unbilled, o_c, o_day, value, counts, inv_day)


def _limits(ledger: Ledger, c: np.ndarray) -> np.ndarray:
    cust = ledger.customers
    lim = (
        cust["credit_limit"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        if "credit_limit" in cust.columns
        else np.full(len(cust), np.nan)
    )
    return np.append(lim, np.nan)[c]


def exposure(ledger: Ledger, as_of, policy: CreditPolicy | None = None) -> pd.DataFrame:
    """Each customer's exposure and utilisation as known at the end of ``as_of``.

    Parameters
    ----------
    ledger : Ledger
        Unbilled orders come from ``orders`` and ``order_lines``; without them
        exposure is the open receivable alone (``attrs["unbilled_known"]`` is False).
    as_of : date-like
    policy : CreditPolicy, default=None
        For ``unbilled_statuses`` (default :func:`load_policy`).

    Returns
    -------
    DataFrame
        customer_id, open_amount, unbilled_orders, exposure (int64 fen),
        credit_limit (fen, NaN when none), utilisation (exposure / limit).
    """
    pol = (policy or load_policy()).validate()
    st = _exposure_state(ledger, pol.unbilled_statuses)
    day = kernel.day_of(as_of)
    n_c = len(ledger.customers)
    c = np.arange(n_c, dtype=np.int64)
    d = np.full(n_c, day, np.int64)
    open_amt = np.round(st.open_.at(c, d)[:, 0]).astype(np.int64)
    unb = np.round(st.unbilled.at(c, d)[:, 0]).astype(np.int64)
    lim = _limits(ledger, c)
    exp = open_amt + unb
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(lim > 0, exp / lim, np.where(exp > 0, np.inf, 0.0))
    out = pd.DataFrame(
        {
            "customer_id": ledger.customers["customer_id"].to_numpy(),
            "open_amount": open_amt,
            "unbilled_orders": unb,
            "exposure": exp,
            "credit_limit": lim,
            "utilisation": np.where(np.isnan(lim), np.nan, util),
        }
    )
    out.attrs.update(as_of=kernel.to_ts([day])[0], unit="fen",
                     unbilled_known=ledger.has("orders") and ledger.has("order_lines"))
    return out


def _decide(exp_after, limit, tier, pol: CreditPolicy):
    """Decision code (index into DECISIONS) and the rule that set it, per row."""
    n = len(exp_after)
    code = np.zeros(n, np.int64)
    rule = np.full(n, "", object)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(limit > 0, exp_after / limit, np.where(exp_after > 0, np.inf, 0.0))
    has = ~np.isnan(limit)
    if tier is not None:
        tier = np.asarray(tier, dtype=object)
        for t, r in pol.tier_rules.items():
            if r == "none":
                continue
            hit = (tier == t) & (DECISIONS.index(r if r != "none" else "approve") > code)
            code[hit] = DECISIONS.index(r)
            rule[hit] = f"tier_{t}"
    if pol.block_utilisation_above is not None:
        hit = has & (util > pol.block_utilisation_above)
        code[hit] = 3
        rule[hit] = "utilisation"
    if pol.block_over_limit:
        hit = has & (exp_after > limit)
        code[hit] = 3
        rule[hit] = "over_limit"
    return code, rule, util


def check_orders(
    ledger: Ledger, orders: pd.DataFrame, as_of, *, tiers=None, policy: CreditPolicy | None = None
) -> pd.DataFrame:
    """Check proposed orders against the credit policy, as of ``as_of``.

    Parameters
    ----------
    ledger : Ledger
    orders : DataFrame
        customer_id and amount (int64 fen) of each proposed order.
    as_of : date-like
        The exposure is the one known at the end of this day.
    tiers : array-like of str or Series, default=None
        Risk tier of each order's customer (a Series indexed by customer_id
        is looked up); None skips the tier rules.
    policy : CreditPolicy, default=None

    Returns
    -------
    DataFrame
        The orders with open_amount, unbilled_orders, exposure_after (fen),
        credit_limit, utilisation_after, decision (one of :data:`DECISIONS`),
        decision_zh, rule, and reason_en / reason_zh.
    """
    pol = (policy or load_policy()).validate()
    missing = [c for c in ("customer_id", "amount") if c not in orders.columns]
    if missing:
        raise ParamsError(
            f"orders lacks column(s) {missing}; it needs customer_id and amount (fen)."
        )
    st = _exposure_state(ledger, pol.unbilled_statuses)
    n_c = len(ledger.customers)
    c = kernel.positions(
        orders["customer_id"].reset_index(drop=True),
        ledger.customers["customer_id"].reset_index(drop=True),
    )
    if (c < 0).any():
        bad = orders["customer_id"].to_numpy()[c < 0][:5].tolist()
        raise ParamsError(
            f"Unknown customer_id(s) {bad}; orders must name customers of the ledger."
        )
    c = np.where(c >= 0, c, n_c)
    d = np.full(len(c), kernel.day_of(as_of), np.int64)
    amount = orders["amount"].to_numpy(np.float64)
    if isinstance(tiers, pd.Series):
        tiers = tiers.reindex(orders["customer_id"].to_numpy()).to_numpy(dtype=object)
    return _checked(ledger, orders, st, c, d, amount, 0.0, 0.0, tiers, pol)


def _checked(ledger, orders, st, c, d, amount, own_unbilled, own_open, tiers, pol) -> pd.DataFrame:
    open_amt = st.open_.at(c, d)[:, 0] - own_open
    unb = st.unbilled.at(c, d)[:, 0] - own_unbilled
    lim = _limits(ledger, c)
    exp_after = open_amt + unb + amount
    code, rule, util = _decide(exp_after, lim, tiers, pol)
    out = orders.reset_index(drop=True).copy()
    out["open_amount"] = np.round(open_amt).astype(np.int64)
    out["unbilled_orders"] = np.round(unb).astype(np.int64)
    out["exposure_after"] = np.round(exp_after).astype(np.int64)
    out["credit_limit"] = lim
    out["utilisation_after"] = np.where(np.isnan(lim), np.nan, util)
    out["decision"] = np.asarray(DECISIONS, dtype=object)[code]
    out["decision_zh"] = [_DECISION_ZH[x] for x in out["decision"]]
    out["rule"] = rule
    en, zh = [], []
    cap = pol.block_utilisation_above
    for r, u, e, lm in zip(rule, out["utilisation_after"], exp_after, lim, strict=True):
        if r == "over_limit":
            en.append(
                f"exposure {yuan(e, 2, symbol=False)} CNY would exceed the credit limit "
                f"{yuan(lm, 2, symbol=False)} CNY"
            )
            zh.append(f"敞口{yuan(e, 2, symbol=False)}元将超过"
                      f"信用额度{yuan(lm, 2, symbol=False)}元")
        elif r == "utilisation":
            en.append(f"credit limit {u:.0%} used, above the {cap:.0%} allowed")
            zh.append(f"额度占用率{u:.0%}，超过{cap:.0%}上限")
        elif r.startswith("tier_"):
            t = r[5:]
            en.append(f"risk tier {t}: {pol.tier_rules[t].replace('_', ' ')} required")
            zh.append(f"风险等级{t}：需{_DECISION_ZH[pol.tier_rules[t]]}")
        else:
            en.append("within limit")
            zh.append("额度内")
    out["reason_en"], out["reason_zh"] = en, zh
    return out


def check_order(
    ledger: Ledger,
    customer_id: str,
    amount: int,
    as_of,
    *,
    tier: str | None = None,
    policy: CreditPolicy | None = None,
) -> dict:
    """Check one proposed order; see :func:`check_orders`.

    Returns
    -------
    dict
        The row of :func:`check_orders` for this order.

    Examples
    --------
    On 2026-10-31 customer C000001 of this demo owes 9,146.89 元; its limit is 50,000 元:

    >>> from medrisk.credit import check_order
    >>> from medrisk.data.demo import make_ledger
    >>> ledger = make_ledger(2_000, seed=1)
    >>> check_order(ledger, "C000001", 3_000_000, "2026-10-31")["decision"]
    'approve'
    >>> r = check_order(ledger, "C000001", 5_000_000, "2026-10-31")
    >>> r["decision"], r["rule"]
    ('block', 'over_limit')
    >>> r["reason_en"]
    'exposure 59,146.89 CNY would exceed the credit limit 50,000.00 CNY'
    """
    frame = pd.DataFrame({"customer_id": [customer_id], "amount": [int(amount)]})
    return (
        check_orders(ledger, frame, as_of, tiers=None if tier is None else [tier], policy=policy)
        .iloc[0]
        .to_dict()
    )


# --------------------------------------------------------------------------- limits
def recommend_limits(
    ledger: Ledger, as_of, scores: pd.DataFrame | None = None, *, policy: CreditPolicy | None = None
) -> pd.DataFrame:
    """Recommended credit limits from expected sales, payment terms and risk.

    ``limit = monthly sales x (terms / 30 + buffer_months) x tier multiplier``,
    rounded up to ``round_to_yuan``, where monthly sales are the invoices of
    the ``sales_lookback_days`` to ``as_of`` divided by the months in the
    window (or by the months since the customer's first invoice, if later).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    scores : DataFrame, default=None
        customer_id and ``tier`` (e.g. from :func:`medrisk.credit.assign_tiers`);
        customers without a tier use the ``medium`` multiplier.
    policy : CreditPolicy, default=None

    Returns
    -------
    DataFrame
        customer_id, monthly_sales, terms_days, tier, multiplier,
        recommended_limit, current_limit (int64 fen, current NaN when none), change.
    """
    pol = (policy or load_policy()).validate()
    day = kernel.day_of(as_of)
    book = event_book(ledger)
    cust = ledger.customers
    n_c = len(cust)
    slot = np.where(book.cust_pos >= 0, book.cust_pos, n_c)
    win = (book.inv_day <= day) & (book.inv_day > day - pol.sales_lookback_days)
    sales = np.bincount(slot[win], book.amount[win].astype(float), minlength=n_c + 1)[:n_c]
    first = np.full(n_c + 1, kernel.NEVER, np.int64)
    seen = book.inv_day <= day
    np.minimum.at(first, slot[seen], book.inv_day[seen])
    days = np.clip(day - first[:n_c] + 1, 30, pol.sales_lookback_days)
    monthly = sales / (days / 30.4375)
    terms = (
        cust["payment_terms_days"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        if "payment_terms_days" in cust.columns
        else np.full(n_c, np.nan)
    )
    med = np.nanmedian(terms) if np.isfinite(terms).any() else 60.0
    terms = np.where(np.isnan(terms), med, terms)
    tier = np.full(n_c, "medium", dtype=object)
    if scores is not None:
        t = scores.set_index("customer_id")["tier"].astype(object)
        got = t.reindex(cust["customer_id"].to_numpy()).to_numpy(dtype=object)
        tier = np.where(pd.isna(got), "medium", got)
    mult = np.array([float(pol.tier_multiplier.get(t, 1.0)) for t in tier])
    step = pol.round_to_yuan * 100
    rec = np.ceil(monthly * (terms / 30 + pol.buffer_months) * mult / step) * step
    current = _limits(ledger, np.arange(n_c))
    out = pd.DataFrame(
        {
            "customer_id": cust["customer_id"].to_numpy(),
            "monthly_sales": np.round(monthly).astype(np.int64),
            "terms_days": terms,
            "tier": tier,
            "multiplier": mult,
            "recommended_limit": rec.astype(np.int64),
            "current_limit": current,
            "change": rec - current,
        }
    )
    out.attrs.update(as_of=kernel.to_ts([day])[0], unit="fen")
    return out


# --------------------------------------------------------------------------- what-if
def what_if(
    ledger: Ledger,
    start,
    end,
    *,
    policy: CreditPolicy | None = None,
    order_tiers: pd.Series | None = None,
) -> tuple[dict, pd.DataFrame]:
    """Replay a rule over the orders placed in ``[start, end]``, point in time.

    Each order is checked against the exposure known at the end of its own
    order date, leaving the order itself out (other orders and invoices of
    that day count) and adding its value as the new order. Blocked orders'
    revenue is set against the write-offs on their invoices (the losses the
    rule would have avoided).

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
    policy : CreditPolicy, default=None
        The rule to replay (default :func:`load_policy`).
    order_tiers : Series, default=None
        Risk tier of each order (indexed by order_id) as scored on its date,
        e.g. from the invoice model; None skips the tier rules.

    Returns
    -------
    summary : dict
        orders, orders_stopped, revenue_blocked (fen, orders blocked),
        revenue_prepayment (fen, orders needing prepayment or a guarantee),
        losses_avoided (write-offs on the stopped orders' invoices, fen),
        losses_total (write-offs on all replayed orders), net (losses avoided
        - revenue blocked).
    detail : DataFrame
        One row per replayed order with its check and write_off (fen).
    """
    pol = (policy or load_policy()).validate()
    s, e = kernel.day_of(start, "start"), kernel.day_of(end, "end")
    if e < s:
        raise ParamsError(f"end must be on or after start; got start={start!r}, end={end!r}.")
    st = _exposure_state(ledger, pol.unbilled_statuses)
    orders = ledger.orders
    sel = np.flatnonzero((st.order_day >= s) & (st.order_day <= e) & st.order_counts)
    frame = pd.DataFrame(
        {
            "order_id": orders["order_id"].to_numpy()[sel],
            "customer_id": orders["customer_id"].to_numpy()[sel],
            "order_date": kernel.to_ts(st.order_day[sel]),
            "amount": np.round(st.order_value[sel]).astype(np.int64),
        }
    )
    tiers = None
    if order_tiers is not None:
        tiers = order_tiers.reindex(frame["order_id"].to_numpy()).to_numpy(dtype=object)
    # the order itself: unbilled on its date, or already invoiced that day (then in open items)
    billed = st.order_invoice_day[sel] <= st.order_day[sel]
    own_unb = np.where(billed, 0.0, st.order_value[sel])
    book = event_book(ledger)
    inv_order = kernel.positions(
        ledger.invoices["order_id"].reset_index(drop=True),
        orders["order_id"].reset_index(drop=True),
    )
    same_day = (inv_order >= 0) & (book.inv_day == st.order_day[np.maximum(inv_order, 0)])
    own_inv = np.bincount(
        inv_order[same_day], book.amount[same_day].astype(float), minlength=len(orders)
    )
    detail = _checked(
        ledger,
        frame,
        st,
        st.order_cust[sel],
        st.order_day[sel],
        st.order_value[sel],
        own_unb,
        own_inv[sel],
        tiers,
        pol,
    )
    # write-offs on each order's invoices
    wo_inv = np.bincount(
        book.ev_inv[book.ev_kind == 3], np.diff(book.cum)[book.ev_kind == 3], minlength=book.n
    )
    ok = inv_order >= 0
    wo_order = np.bincount(inv_order[ok], wo_inv[ok], minlength=len(orders))
    detail["write_off"] = np.round(wo_order[sel]).astype(np.int64)
    stopped = detail["decision"].isin(["block", "prepayment_or_guarantee"]).to_numpy()
    blocked = (detail["decision"] == "block").to_numpy()
    pre = (detail["decision"] == "prepayment_or_guarantee").to_numpy()
    summary = {
        "orders": int(len(detail)),
        "orders_stopped": int(stopped.sum()),
        "orders_blocked": int(blocked.sum()),
        "orders_prepayment": int(pre.sum()),
        "revenue_total": int(detail["amount"].sum()),
        "revenue_blocked": int(detail["amount"][blocked].sum()),
        "revenue_prepayment": int(detail["amount"][pre].sum()),
        "losses_total": int(detail["write_off"].sum()),
        "losses_avoided": int(detail["write_off"][stopped].sum()),
    }
    summary["net"] = summary["losses_avoided"] - summary["revenue_blocked"]
    return summary, detail
