"""Order to cash (订单到回款): each order's stage and step times, as known on any date.

Stages, in order: ``entered`` (录入), ``approved`` (已审批), ``shipped`` (已发货),
``invoiced`` (已开票), ``partly_paid`` (部分回款), ``paid`` (已回款), plus
``cancelled`` (已取消). See :data:`STAGES`.

What the data supports, and how each stage is decided as of a day ``D``
------------------------------------------------------------------------
The canonical ``orders`` table has an order date and a ``status`` column, but
no date for approval, cancellation or the status itself. So:

* **Dated events decide first.** An order is ``shipped`` as of D when it has a
  shipment dated on or before D (first ship date from ``shipments``); an order
  shipped after D is not shipped as of D. It is ``invoiced`` when an invoice
  naming it (``invoices.order_id``) is dated on or before D. Payment comes from
  the receivables engine (:mod:`medrisk.receivables`, the same event table as
  :func:`~medrisk.receivables.open_items`): ``paid`` when every invoice of the
  order is closed as of D (paid, or closed by credit notes / write-offs),
  ``partly_paid`` when cash was applied and some amount is still open.
* **Approval has no date.** ``days_order_to_approval`` and
  ``days_approval_to_ship`` are NaN unless you pass ``approval_dates`` (a
  Series of approval dates indexed by order_id, from a source that has them);
  then approval is a dated event like the others.
* **The status column is undated.** It describes the orders as they were on
  the day the data was extracted (``status_as_of``; by default the last event
  date in the ledger: latest order, shipment, invoice or payment date). It is
  used only when ``D >= status_as_of``, and only where the dated events say
  nothing further: an order with no shipment or invoice by D is ``approved``
  when its status is ``approved`` (or ``shipped``, ``invoiced``, ``closed``
  without matching rows), and ``cancelled`` when its status is ``cancelled``.
  As of an earlier day the status is unknown, and an order with no dated event
  is ``entered``: it may in truth have been approved or cancelled then. The
  column ``stage_basis`` says which of ``"events"`` or ``"status"`` set each
  stage. A cancelled order that was already invoiced keeps its invoice stage
  (the invoice, not the status, is what the receivables carry).

Step times are whole days between the dates above; a step not reached as of D
is NaN. ``days_invoice_to_cash`` runs from the first invoice date to the day
the last invoice of the order closed. ``days_in_stage`` counts from the start
of the current stage (order date for ``entered``, and for ``approved`` when
approval is undated; first ship date; first invoice date; closing date).

The order value is the net of its lines: ``round(quantity x unit_price x (1 -
discount_rate))`` summed, in int64 fen (0 when the ledger has no order lines).
An order's ``category`` is the product category of its largest line.

The per-ledger preparation (positions, first dates, values) is cached with the
receivables cache: call :func:`medrisk.receivables.clear_cache` after changing
a ledger in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from ruamel.yaml import YAML

from medrisk import kernel
from medrisk.config import PARAMS_DIR
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError, SourceError
from medrisk.kernel import NEVER, as_list, day_of, to_ts
from medrisk.receivables import event_book

__all__ = [
    "STAGES",
    "STAGE_LABELS_ZH",
    "STEPS",
    "ORDER_COLUMNS",
    "DIMENSIONS",
    "order_stages",
    "order_funnel",
    "cycle_times",
    "stuck_orders",
    "open_order_book",
    "unbilled_exposure",
    "unbilled_orders",
    "order_values",
    "UNBILLED_STATUSES",
    "load_stuck_days",
]

#: Order stages, in the order an order goes through them (``cancelled`` last).
STAGES = ("entered", "approved", "shipped", "invoiced", "partly_paid", "paid", "cancelled")
STAGE_LABELS_ZH = {
    "entered": "已录入",
    "approved": "已审批",
    "shipped": "已发货",
    "invoiced": "已开票",
    "partly_paid": "部分回款",
    "paid": "已回款",
    "cancelled": "已取消",
}
#: Step times reported by :func:`order_stages` and :func:`cycle_times` (days).
STEPS = (
    "days_order_to_approval",
    "days_approval_to_ship",
    "days_order_to_ship",
    "days_ship_to_invoice",
    "days_invoice_to_cash",
    "days_order_to_cash",
)
#: Columns ``by=`` accepts in :func:`order_funnel` and :func:`cycle_times`.
DIMENSIONS = ("channel", "region", "customer_type", "category", "salesperson_id", "customer_id")
# fmt: off
ORDER_COLUMNS = [
    "order_id", "customer_id", "salesperson_id", "channel", "region", "customer_type", "category",
    "order_date", "status", "stage", "stage_zh", "stage_basis", "order_value",
    "approval_date", "first_ship_date", "first_invoice_date", "closed_date",
    "invoiced_amount", "paid_amount", "open_amount", "stage_since", "days_in_stage", *STEPS,
]
# fmt: on
_STATUS_STAGE = {
    "entered": 0,
    "approved": 1,
    "shipped": 2,
    "invoiced": 3,
    "closed": 5,
    "cancelled": 6,
}
DEFAULT_STUCK_DAYS: dict[str, int | None] = {
    "entered": 3,
    "approved": 10,
    "shipped": 7,
    "invoiced": None,
}
DEFAULT_POLICY_FILE = PARAMS_DIR / "channel-policy.yaml"


# --------------------------------------------------------------------------- preparation
def _first_day(pos: np.ndarray, days: np.ndarray, n: int) -> np.ndarray:
    """Earliest day per position (``NEVER`` when none); ``pos`` -1 is ignored."""
    out = np.full(n, NEVER, np.int64)
    keep = pos >= 0
    np.minimum.at(out, pos[keep], days[keep])
    return out


def _line_net(lines: pd.DataFrame) -> np.ndarray:
    """Net amount of each order line in int64 fen."""
    disc = lines["discount_rate"].to_numpy(dtype=float, na_value=0.0)
    gross = lines["quantity"].to_numpy(dtype=np.int64) * lines["unit_price"].to_numpy(
        dtype=np.int64
    )
    return np.rint(gross * (1.0 - disc)).astype(np.int64)


def _cat_at(values: pd.Series, pos: np.ndarray) -> pd.Categorical:
    """``values`` (a small table's column) at ``pos`` as a categorical, missing where -1."""
    cat = pd.Categorical(values.to_numpy(dtype=object, na_value=None))
    codes = np.asarray(cat.codes, dtype=np.int64)
    at = np.where(pos >= 0, codes[np.maximum(pos, 0)], -1) if len(codes) else np.full(len(pos), -1)
    return pd.Categorical.from_codes(at, categories=cat.categories)


def _labels(values: pd.Series, pos: np.ndarray) -> np.ndarray:
    """``values`` taken at ``pos`` as an object array (None where ``pos`` is -1)."""
    arr = values.to_numpy(dtype=object, na_value=None)
    if len(arr) == 0:
        return np.full(len(pos), None, object)
    return np.where(pos >= 0, arr[np.maximum(pos, 0)], None)


def _base(ledger: Ledger) -> dict:
    """Per-order arrays that do not depend on ``as_of`` (built once per ledger)."""
    return ledger.derive(_build_base)


def _build_base(ledger: Ledger) -> dict:
    orders = ledger.require(
        "orders", "order-to-cash tracking", ["order_id", "customer_id", "order_date", "status"]
    )
    n = len(orders)
    ids = orders["order_id"].reset_index(drop=True)
    cust = ledger.customers
    cpos = kernel.positions(orders["customer_id"], cust["customer_id"])
    channel = orders["channel"].to_numpy(dtype=object, na_value=None)
    channel = np.where(pd.isna(channel), _labels(cust["channel"], cpos), channel)

    value = np.zeros(n, np.int64)
    category = np.full(n, None, object)
    lines = ledger.table("order_lines")
    if lines is not None and len(lines):
        lpos = kernel.positions(lines["order_id"], ids)
        net = _line_net(lines)
        ok = lpos >= 0
        value = order_values(ledger).to_numpy(np.int64)  # the one order-value rule
        if ledger.has("products"):
            cat = _labels(
                ledger.products["category"], kernel.positions(lines["sku"], ledger.products["sku"])
            )
            order = np.lexsort((net[ok], lpos[ok]))  # by order, then net amount
            lp = lpos[ok][order]
            last = np.r_[lp[1:] != lp[:-1], True]
            category[lp[last]] = cat[ok][order][last]

    ship_day = np.full(n, NEVER, np.int64)
    if ledger.has("shipments"):
        sh = ledger.shipments
        ship_pos = kernel.positions(sh["order_id"], ids)
        ship_day = _first_day(ship_pos, kernel.days(sh["ship_date"]), n)

    inv = ledger.invoices
    inv_order = (kernel.positions(inv["order_id"], ids) if "order_id" in inv
                 else np.full(len(inv), -1))
    book = event_book(ledger)
    inv_day = _first_day(inv_order, book.inv_day, n)

    status = orders["status"].map(_STATUS_STAGE).to_numpy(dtype=float, na_value=np.nan)
    status = np.where(np.isnan(status), -1, status).astype(np.int64)

    last = [kernel.days(orders["order_date"]).max(initial=0), book.inv_day.max(initial=0)]
    if ledger.has("shipments"):
        last.append(kernel.days(ledger.shipments["ship_date"]).max(initial=0))
    pay = kernel.days(ledger.payments["payment_date"])
    last.append(pay.max(initial=0))
    base = {
        "n": n,
        "order_day": kernel.days(orders["order_date"]),
        "cpos": cpos,
        # labels as categoricals: taking a million of them is cheap, strings are not
        "channel": pd.Categorical(channel),
        "region": _cat_at(cust["region"], cpos),
        "customer_type": _cat_at(cust["customer_type"], cpos),
        "category": pd.Categorical(category),
        "value": value,
        "ship_day": ship_day,
        "inv_order": inv_order,
        "inv_day": inv_day,
        "status": status,
        "last_event_day": int(max(last)),
    }
    return base


def _approval_days(ledger: Ledger, approval_dates) -> np.ndarray:
    n = _base(ledger)["n"]
    if approval_dates is None:
        return np.full(n, NEVER, np.int64)
    if not isinstance(approval_dates, pd.Series):
        raise ParamsError(
            "approval_dates must be a pandas Series of dates indexed by order_id; "
            f"got {type(approval_dates).__name__}."
        )
    try:
        days = kernel.days(pd.to_datetime(approval_dates.to_numpy()))
    except (TypeError, ValueError) as exc:
        raise ParamsError(
            f"approval_dates must hold dates; got {approval_dates.head(3).tolist()!r}."
        ) from exc
    pos = kernel.positions(pd.Series(approval_dates.index.astype(str)), ledger.orders["order_id"])
    return _first_day(pos, days, n)


# --------------------------------------------------------------------------- stages
def order_stages(
    ledger: Ledger, as_of, status_as_of=None, approval_dates: pd.Series | None = None
) -> pd.DataFrame:
    """Every order dated on or before ``as_of``, with its stage and step times that day.

    Parameters
    ----------
    ledger : Ledger
        Needs ``orders``; uses ``order_lines``, ``products``, ``shipments`` when present.
    as_of : date-like
        Valuation date; only events dated on or before it count.
    status_as_of : date-like, default=None
        The day the ``orders.status`` column describes (the extract date).
        The status is used only when ``as_of`` is on or after it. None takes the
        last event date of the ledger (latest order, shipment, invoice or payment).
    approval_dates : Series, default=None
        Approval date per order (indexed by order_id), when a source has them.
        Without it approval is undated and its step times are NaN.

    Returns
    -------
    DataFrame
        One row per order, columns :data:`ORDER_COLUMNS`: the order's ids and
        dimensions (channel: the order's, else its customer's; region and
        customer_type of the customer; category of its largest line), status
        (raw column), stage (one of :data:`STAGES`), stage_zh, stage_basis
        (``"events"`` or ``"status"``), order_value (net of its lines, fen),
        approval_date, first_ship_date, first_invoice_date, closed_date (day its
        last invoice closed; NaT unless paid), invoiced_amount, paid_amount (cash
        applied) and open_amount (fen, as of ``as_of``), stage_since,
        days_in_stage, and the :data:`STEPS` in days (NaN when not reached).

    Raises
    ------
    MissingTableError
        When the ledger has no ``orders`` table.
    ParamsError
        For a date that cannot be read.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.orders import order_stages
    >>> stages = order_stages(make_ledger(2_000, seed=1), "2026-06-30")
    >>> stages["stage"].value_counts()
    stage
    paid           1428
    invoiced        271
    entered          59
    partly_paid      24
    shipped           5
    approved          0
    cancelled         0
    Name: count, dtype: int64
    """
    day = day_of(as_of)
    base = _base(ledger)
    status_day = (
        base["last_event_day"] if status_as_of is None else day_of(status_as_of, "status_as_of")
    )
    appr_all = _approval_days(ledger, approval_dates)
    rows = np.flatnonzero(base["order_day"] <= day)
    n = base["n"]

    # invoices of orders, as of day: amounts, cash applied, open, closing day
    book = event_book(ledger)
    ip = np.flatnonzero((base["inv_order"] >= 0) & (book.inv_day <= day))
    idx = book.query(ip, day)
    o = base["inv_order"][ip]
    amount = book.amount[ip]
    paid = book.reduced(ip, idx, 0)
    open_amt = amount - book.reduced(ip, idx)
    closed = book.closed_day[ip] <= day
    inv_amt = np.bincount(o, weights=amount, minlength=n).astype(np.int64)
    paid_amt = np.bincount(o, weights=paid, minlength=n).astype(np.int64)
    open_o = np.bincount(o, weights=open_amt, minlength=n).astype(np.int64)
    n_open = np.bincount(o, weights=~closed, minlength=n)
    close_day = np.full(n, -1, np.int64)
    np.maximum.at(close_day, o, np.where(closed, book.closed_day[ip], NEVER))

    take = lambda a: a[rows]  # noqa: E731
    inv_amt, paid_amt, open_o, n_open, close_day = map(
        take, (inv_amt, paid_amt, open_o, n_open, close_day)
    )
    order_day, appr, ship, inv1 = (
        take(a) for a in (base["order_day"], appr_all, base["ship_day"], base["inv_day"])
    )
    appr = np.where(appr <= day, appr, NEVER)
    ship = np.where(ship <= day, ship, NEVER)
    inv1 = np.where(inv1 <= day, inv1, NEVER)
    is_inv = inv1 != NEVER
    is_paid = is_inv & (n_open == 0)
    close_day = np.where(is_paid, close_day, NEVER)

    stage = np.select(
        [is_paid, is_inv & (paid_amt > 0), is_inv, ship != NEVER, appr != NEVER],
        [5, 4, 3, 2, 1],
        0,
    )
    status = take(base["status"])
    from_status = (
        (day >= status_day) & (stage < 3) & (status >= 0) & ((status == 6) | (status > stage))
    )
    stage = np.where(from_status, status, stage)

    since = np.select(
        [stage == 0, stage == 1, stage == 2, (stage == 3) | (stage == 4), stage == 5],
        [order_day, np.where(appr != NEVER, appr, order_day), ship, inv1, close_day],
        NEVER,
    )
    since = np.where(from_status & (stage != 1), NEVER, since)  # status-only stages are undated
    since = np.where(from_status & (stage == 1), np.where(appr != NEVER, appr, order_day), since)

    def span(a, b):
        ok = (a != NEVER) & (b != NEVER)
        return np.where(ok, (b - a).astype(float), np.nan)

    def date(a):
        return pd.Series(
            np.where(a == NEVER, np.datetime64("NaT"), to_ts(np.where(a == NEVER, 0, a)))
        )

    orders = ledger.orders
    col = lambda name: orders[name].take(rows).reset_index(drop=True)  # noqa: E731
    out = pd.DataFrame(
        {
            "order_id": col("order_id"),
            "customer_id": col("customer_id"),
            "salesperson_id": col("salesperson_id"),
            "channel": base["channel"].take(rows),
            "region": base["region"].take(rows),
            "customer_type": base["customer_type"].take(rows),
            "category": base["category"].take(rows),
            "order_date": col("order_date"),
            "status": col("status"),
            "stage": pd.Categorical.from_codes(stage, categories=STAGES),
            "stage_zh": pd.Categorical.from_codes(
                stage, categories=[STAGE_LABELS_ZH[s] for s in STAGES]
            ),
            "stage_basis": pd.Categorical.from_codes(
                from_status.astype(np.int8), categories=["events", "status"]
            ),
            "order_value": take(base["value"]),
            "approval_date": date(appr),
            "first_ship_date": date(ship),
            "first_invoice_date": date(inv1),
            "closed_date": date(close_day),
            "invoiced_amount": inv_amt,
            "paid_amount": paid_amt,
            "open_amount": open_o,
            "stage_since": date(since),
            "days_in_stage": span(since, np.full(len(rows), day)),
            "days_order_to_approval": span(order_day, appr),
            "days_approval_to_ship": span(appr, ship),
            "days_order_to_ship": span(order_day, ship),
            "days_ship_to_invoice": span(ship, inv1),
            "days_invoice_to_cash": span(inv1, close_day),
            "days_order_to_cash": span(order_day, close_day),
        }
    )
    return out


# --------------------------------------------------------------------------- summaries
def _check_by(by) -> list[str]:
    names = as_list(by)
    bad = [b for b in names if b not in DIMENSIONS]
    if bad:
        raise ParamsError(
            f"by={bad[0]!r} is not supported. Possible values are: {list(DIMENSIONS)}."
        )
    return names


def _in_period(frame: pd.DataFrame, start, end) -> pd.DataFrame:
    keep = np.ones(len(frame), bool)
    if start is not None:
        keep &= frame["order_date"].to_numpy() >= to_ts([day_of(start, "start")])[0]
    if end is not None:
        keep &= frame["order_date"].to_numpy() <= to_ts([day_of(end, "end")])[0]
    return frame[keep]


def order_funnel(
    ledger: Ledger, as_of, by: str | list[str] | None = None, start=None, end=None, **stage_kw
) -> pd.DataFrame:
    """Count orders and value in, and reaching, each stage as of ``as_of`` (the funnel).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Valuation date.
    by : str or list of str, default=None
        Any of :data:`DIMENSIONS`.
    start, end : date-like, default=None
        Count only orders dated in ``[start, end]`` (default: every order up to ``as_of``).
    **stage_kw
        ``status_as_of`` and ``approval_dates``, passed to :func:`order_stages`.

    Returns
    -------
    DataFrame
        One row per group and stage (every stage of :data:`STAGES`): the ``by``
        columns, stage, stage_zh, orders (count now in the stage), value (their
        order value, fen), reached (orders now at this stage or further along,
        not counting cancelled ones; for ``cancelled`` the cancelled count) and
        reached_share (reached / orders of the group).
    """
    names = _check_by(by)
    frame = _in_period(order_stages(ledger, as_of, **stage_kw), start, end)
    keys = names + ["stage"]
    g = frame.groupby(keys, observed=False, dropna=False)
    out = g.agg(orders=("order_id", "size"), value=("order_value", "sum")).reset_index()
    out = out[out.groupby(names, dropna=False)["orders"].transform("sum") > 0] if names else out
    out["value"] = out["value"].astype(np.int64)
    cnt = out["orders"].to_numpy().reshape(-1, len(STAGES))  # groups x stages, stages in order
    reached = cnt.copy()
    reached[:, :-1] = np.cumsum(cnt[:, -2::-1], axis=1)[:, ::-1]  # at this stage or further
    total = np.repeat(cnt.sum(axis=1), len(STAGES))
    out["reached"] = reached.reshape(-1).astype(np.int64)
    out["reached_share"] = np.where(total > 0, out["reached"] / np.maximum(total, 1), np.nan)
    out.insert(len(names) + 1, "stage_zh", out["stage"].astype(str).map(STAGE_LABELS_ZH))
    return out.reset_index(drop=True)


def cycle_times(
    ledger: Ledger,
    as_of,
    by: str | list[str] | None = None,
    start=None,
    end=None,
    quantiles: Sequence[float] = (0.25, 0.5, 0.75, 0.9),
    **stage_kw,
) -> pd.DataFrame:
    """Distribution of each order-to-cash step time, per group.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    by : str or list of str, default=None
        Any of :data:`DIMENSIONS`.
    start, end : date-like, default=None
        Only orders dated in ``[start, end]``.
    quantiles : sequence of float, default=(0.25, 0.5, 0.75, 0.9)
    **stage_kw
        Passed to :func:`order_stages`.

    Returns
    -------
    DataFrame
        One row per group and step of :data:`STEPS` with a measured time:
        the ``by`` columns, step, count (orders that completed the step as of
        ``as_of``), mean, ``p25``, ``p50``, ... (days), max.
    """
    names = _check_by(by)
    qs = [float(q) for q in quantiles]
    if any(not 0 <= q <= 1 for q in qs):
        raise ParamsError(f"quantiles must lie in [0, 1]; got {list(quantiles)!r}.")
    frame = _in_period(order_stages(ledger, as_of, **stage_kw), start, end)
    long = frame.melt(id_vars=names, value_vars=list(STEPS), var_name="step", value_name="days")
    long = long[long["days"].notna()]
    keys = names + ["step"]
    g = long.groupby(keys, dropna=False, sort=True, observed=True)["days"]
    out = g.agg(["count", "mean", "max"])
    for q in qs:
        out[f"p{round(q * 100):d}"] = g.quantile(q)
    cols = ["count", "mean", *[f"p{round(q * 100):d}" for q in qs], "max"]
    return out[cols].reset_index()


def load_stuck_days(path: str | Path | None = None) -> dict[str, int | None]:
    """Read ``stuck_days`` from the channel policy (``params/channel-policy.yaml``).

    Parameters
    ----------
    path : str or Path, default=None

    Returns
    -------
    dict
        Stage name to the days an order may stay in it (None: never listed).

    Raises
    ------
    SourceError
        When the file does not exist.
    ParamsError
        For an unknown stage or a bad value.
    """
    p = Path(DEFAULT_POLICY_FILE if path is None else path)
    if not p.exists():
        raise SourceError(f"Channel policy file {p} does not exist.")
    doc = YAML(typ="safe").load(p.read_text(encoding="utf-8")) or {}
    return _check_stuck({**DEFAULT_STUCK_DAYS, **(doc.get("stuck_days") or {})})


def _check_stuck(stuck: Mapping) -> dict[str, int | None]:
    out = {}
    for stage, days in stuck.items():
        if stage not in STAGES or stage == "cancelled":
            raise ParamsError(
                f"stuck_days has stage {stage!r}; possible stages are {list(STAGES[:-1])}."
            )
        if days is not None and (
            isinstance(days, bool) or not isinstance(days, int | float) or days < 0
        ):
            raise ParamsError(
                f"stuck_days[{stage!r}] must be a number of days >= 0 or null; got {days!r}."
            )
        out[stage] = days
    return out


def stuck_orders(
    ledger: Ledger,
    as_of,
    stuck_days: Mapping[str, int | None] | str | Path | None = None,
    **stage_kw,
) -> pd.DataFrame:
    """Orders that have stayed in their stage longer than allowed.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    stuck_days : dict or path, default=None
        Stage to allowed days (strictly more is stuck); a YAML file with a
        ``stuck_days`` key; None reads ``params/channel-policy.yaml``.
    **stage_kw
        Passed to :func:`order_stages`.

    Returns
    -------
    DataFrame
        The :func:`order_stages` rows that are stuck, plus ``threshold_days``,
        sorted by days_in_stage, longest first. Orders whose stage comes only
        from the undated status column have no clock, except ``approved``
        (counted from the order date).
    """
    if stuck_days is None or isinstance(stuck_days, str | Path):
        limits = load_stuck_days(stuck_days)
    else:
        limits = _check_stuck(stuck_days)
    frame = order_stages(ledger, as_of, **stage_kw)
    limit = frame["stage"].astype(str).map({k: v for k, v in limits.items() if v is not None})
    limit = limit.astype(float)
    stuck = frame["days_in_stage"] > limit
    out = frame[stuck.to_numpy()].assign(threshold_days=limit[stuck])
    return out.sort_values("days_in_stage", ascending=False, kind="stable").reset_index(drop=True)


def open_order_book(
    ledger: Ledger, as_of, stages: Sequence[str] = ("approved", "shipped"), **stage_kw
) -> pd.DataFrame:
    """List the open order book: orders accepted but not yet invoiced, with their value.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    stages : sequence of str, default=("approved", "shipped")
        Stages that count. The default takes approved orders not yet shipped
        and shipped orders not yet invoiced: both are unbilled exposure (the
        goods are promised or gone, no invoice exists). Pass ``("approved",)``
        for the strict order book, or add ``"entered"``.
    **stage_kw
        Passed to :func:`order_stages`.

    Returns
    -------
    DataFrame
        The :func:`order_stages` rows in ``stages``, by customer then order date.
    """
    bad = [s for s in stages if s not in STAGES[:3]]
    if bad:
        raise ParamsError(f"stages has {bad[0]!r}; possible values are {list(STAGES[:3])}.")
    frame = order_stages(ledger, as_of, **stage_kw)
    out = frame[frame["stage"].isin(list(stages)).to_numpy()]
    return out.sort_values(["customer_id", "order_date"], kind="stable").reset_index(drop=True)


#: Order statuses that count as unbilled exposure (with invoiced and closed orders that are
#: not invoiced yet on the day); credit checks read theirs from ``params/credit-policy.yaml``.
UNBILLED_STATUSES = ("approved", "shipped")


def order_values(ledger: Ledger) -> pd.Series:
    """Value of every order: sum of ``quantity x unit_price x (1 - discount_rate)``, to the fen.

    The exact sum of an order's lines is rounded once (half to even, as numpy
    rounds), so many small lines do not add up rounding errors.

    Returns
    -------
    Series
        int64 fen, indexed by order_id (0 for an order without lines).
    """
    orders = ledger.require("orders", "order values", ["order_id", "customer_id", "order_date"])
    lines = ledger.table("order_lines", empty_if_missing=True)
    disc = lines["discount_rate"].astype("Float64").to_numpy(dtype=float, na_value=0.0)
    val = (
        lines["quantity"].to_numpy(np.float64)
        * lines["unit_price"].to_numpy(np.float64)
        * (1 - disc)
    )
    pos = kernel.positions(
        lines["order_id"].reset_index(drop=True), orders["order_id"].reset_index(drop=True)
    )
    ok = pos >= 0
    total = np.bincount(pos[ok], val[ok], minlength=len(orders))
    return pd.Series(
        np.round(total).astype(np.int64), index=orders["order_id"].to_numpy(), name="order_value"
    )


def unbilled_orders(ledger: Ledger, statuses: Sequence[str] = UNBILLED_STATUSES) -> pd.DataFrame:
    """Return each order's part in unbilled exposure (未开票订单敞口): the one definition.

    An order adds its value to its customer's exposure from its order date
    until the day it is first invoiced, when its status is in ``statuses`` or
    it has been invoiced (status invoiced or closed, or an invoice names it).
    Cancelled and merely entered orders never count. (The ledger keeps only an
    order's current status, so for past days an order that was later
    cancelled is left out.) Credit checks (:func:`medrisk.credit.exposure`)
    and :func:`unbilled_exposure` both read it.

    Parameters
    ----------
    ledger : Ledger
        Needs ``orders``; ``order_lines`` for the values.
    statuses : sequence of str, default=UNBILLED_STATUSES

    Returns
    -------
    DataFrame
        One row per order, in the orders' order: order_id, customer_id,
        order_date, order_value (int64 fen), counts (bool) and
        first_invoice_date (NaT when never invoiced).
    """
    orders = ledger.require("orders", "unbilled exposure", ["order_id", "customer_id",
                                                            "order_date"])
    inv = ledger.invoices
    i_pos = (kernel.positions(inv["order_id"].reset_index(drop=True),
                              orders["order_id"].reset_index(drop=True))
             if "order_id" in inv else np.full(len(inv), -1))
    inv_day = _first_day(i_pos, event_book(ledger).inv_day, len(orders))
    status = (orders["status"].astype(object).to_numpy() if "status" in orders
              else np.full(len(orders), None))
    counts = np.isin(status, list(statuses) + ["invoiced", "closed"]) | (inv_day < NEVER)
    counts &= status != "cancelled"
    return pd.DataFrame({
        "order_id": orders["order_id"].to_numpy(),
        "customer_id": orders["customer_id"].to_numpy(),
        "order_date": orders["order_date"].to_numpy(),
        "order_value": order_values(ledger).to_numpy(),
        "counts": counts,
        "first_invoice_date": pd.Series(to_ts(np.where(inv_day < NEVER, inv_day, 0)))
                              .where(inv_day < NEVER).to_numpy(),
    })


def unbilled_exposure(ledger: Ledger, as_of, stages: Sequence[str] = UNBILLED_STATUSES
                      ) -> pd.DataFrame:
    """Return unbilled exposure per customer at the end of ``as_of`` (see :func:`unbilled_orders`).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    stages : sequence of str, default=UNBILLED_STATUSES
        Order statuses that count (see :func:`unbilled_orders`).

    Returns
    -------
    DataFrame
        Indexed by customer_id (customers with unbilled orders only): orders,
        unbilled (fen), approved_value (not shipped by ``as_of``) and
        shipped_value (shipped by ``as_of``, not yet invoiced).
    """
    day = day_of(as_of)
    u = unbilled_orders(ledger, stages)
    inv_day = kernel.days(u["first_invoice_date"])
    on = u["counts"].to_numpy() & (kernel.days(u["order_date"]) <= day) & (inv_day > day)
    shipped = _base(ledger)["ship_day"] <= day
    u = u.assign(shipped=np.where(shipped, u["order_value"], 0),
                 waiting=np.where(shipped, 0, u["order_value"]))[on]
    g = u.groupby("customer_id", sort=True)
    out = pd.DataFrame({"orders": g.size(), "unbilled": g["order_value"].sum(),
                        "approved_value": g["waiting"].sum(), "shipped_value": g["shipped"].sum()})
    return out.astype(np.int64)
