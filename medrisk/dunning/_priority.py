"""Collection priority (催收优先级): which open invoice to chase first, and why.

Every invoice open as of ``as_of`` gets a score::

    expected_loss = open_amount x p_default x lgd                      (元)
    urgency       = (1 + w_dpd x min(days_past_due, cap) / 30
                       + w_due_soon x [due within due_soon_days]
                       + w_broken x [promise to pay broken]
                       + w_dispute x [open dispute]
                       + w_exposure x log10(1 + customer open / exposure_ref))
                    x (promise_pending_factor if a promise is pending)
    score         = expected_loss x urgency

The score is in 元 of expected loss weighted by urgency, so scores compare
across customers and runs. Each part is a column of the result, with a one
line reason in Chinese and English.

``p_default`` comes from ``pd_frame`` (e.g. a :mod:`medrisk.credit` model)
when given; otherwise from a transparent, point-in-time history estimate
(:func:`history_pd`): the company's loss table, i.e. the share of invoices
still unpaid at the start of the invoice's days-past-due band that were
never paid within ``presumed_loss_days`` (Kaplan-Meier, so invoices still
open count as far as they got), times the customer's relative risk (its
losses among its own invoices that got as late, over what the table
expects). Only invoices, payments, adjustments and collection actions dated
on or before ``as_of`` are read.

Parameters live in ``params/collections.yaml`` (see :func:`load_params`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ruamel.yaml import YAML

from medrisk.config import PARAMS_DIR
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.kernel import yuan_array
from medrisk.receivables import allocations_of, open_items

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_PARAMS_PATH",
    "load_params",
    "invoice_contacts",
    "history_pd",
    "score_invoices",
    "SCORE_COLUMNS",
]

DEFAULT_PARAMS_PATH = PARAMS_DIR / "collections.yaml"

#: Defaults of ``params/collections.yaml``; a file only needs the keys it changes.
DEFAULT_PARAMS: dict = {
    "priority": {
        "lgd": 0.45,
        "weights": {"days_past_due": 1.0, "due_soon": 0.2, "broken_promise": 1.0,
                    "dispute": 0.5, "exposure": 0.1},
        "days_past_due_cap": 180,
        "due_soon_days": 7,
        "exposure_ref_yuan": 100_000,
        "promise_pending_factor": 0.5,
        "promise_grace_days": 3,
        "late_after_days": 30,
        "pd_dpd_edges": [0, 30, 60, 90, 120, 180, 270, 365],
        "prior_invoices": 10,
        "relative_risk_cap": 5.0,
        "presumed_loss_days": 365,
        "pd_floor": 0.001,
        "pd_cap": 0.95,
        "history_invoices": 5,
    },
    "worklists": {
        "collector": "salesperson",
        "finance_team": ["财务部-催收1", "财务部-催收2"],
        "capacity": {"default": 20, "overrides": {}},
        "min_score": 0.0,
    },
    "dunning": {
        "promise_grace_days": 3,
        "finance_actor": "财务部",
        "legal_actor": "法务部",
        "template_dir": None,
        "stages": [
            {"name": "pre_due_reminder", "offset_days": -3, "channel": "sms",
             "actor": "salesperson", "recipient": "customer_contact"},
            {"name": "overdue_call", "offset_days": 1, "channel": "call",
             "actor": "salesperson", "recipient": "customer_contact"},
            {"name": "supervisor_escalation", "offset_days": 15, "channel": "call",
             "actor": "supervisor", "recipient": "supervisor"},
            {"name": "finance_letter", "offset_days": 60, "channel": "letter",
             "actor": "finance", "recipient": "customer_contact"},
            {"name": "legal_review", "offset_days": 90, "channel": "legal",
             "actor": "legal", "recipient": "legal"},
        ],
    },
    "pay": {
        "formula": "base + sales * commission_rate * (collection_rate * weight)",
        "inputs": {"base": 5000, "commission_rate": 0.02, "weight": 1.0},
        "overrides": {},
    },
}

_FILE_CACHE: dict[tuple[str, int], object] = {}

#: Sections whose keys are free (ids, input names): not checked against the defaults.
_FREE = {("worklists", "capacity", "overrides"), ("pay", "inputs"), ("pay", "overrides")}

SCORE_COLUMNS = [
    "rank", "invoice_id", "customer_id", "customer_name", "salesperson_id", "invoice_date",
    "due_date", "amount", "open_amount", "days_past_due", "days_to_due", "p_default",
    "pd_source", "lgd", "expected_loss", "urgency_days_past_due", "urgency_due_soon",
    "urgency_broken_promise", "urgency_dispute", "urgency_exposure", "promise_factor",
    "urgency", "score", "customer_open_amount", "customer_open_invoices", "promise_state",
    "promise_date", "disputed", "last_contact_date", "last_contact_stage", "last_outcome",
    "history_bad", "history_n", "reason_en", "reason_zh",
]


# --------------------------------------------------------------------------- params
def _merge(base: dict, over: Mapping, where: tuple[str, ...], source: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in (over or {}).items():
        path = (*where, str(key))
        if where in _FREE:
            out[key] = value
            continue
        if key not in base:
            raise ParamsError(
                f"{source}: unknown key {'.'.join(path)!r}; allowed keys there are "
                f"{sorted(base)}."
            )
        if isinstance(base[key], dict) and value is not None:
            if not isinstance(value, Mapping):
                raise ParamsError(f"{source}: {'.'.join(path)} must be a mapping; got {value!r}.")
            out[key] = _merge(base[key], value, path, source)
        else:
            out[key] = value
    return out


def load_params(params: str | Path | Mapping | None = None) -> dict:
    """Read the collections parameters, filling every missing key with its default.

    Parameters
    ----------
    params : str, Path, dict or None, default=None
        A YAML file, a dict of the same shape, or None for
        ``params/collections.yaml`` (its defaults, :data:`DEFAULT_PARAMS`, if
        the file does not exist).

    Returns
    -------
    dict
        Sections ``priority``, ``worklists``, ``dunning`` and ``pay``.

    Raises
    ------
    ParamsError
        For a missing file, an unknown key, a section that is not a mapping, or a
        value of the wrong type or out of its range (the message names both).

    Examples
    --------
    >>> load_params({"priority": {"lgd": 0.6}})["priority"]["lgd"]
    0.6
    """
    source = "params"
    if params is None:
        if not DEFAULT_PARAMS_PATH.exists():
            return copy.deepcopy(DEFAULT_PARAMS)
        params = DEFAULT_PARAMS_PATH
    if isinstance(params, (str, Path)):
        path = Path(params)
        if not path.exists():
            raise ParamsError(f"Collections parameter file {path} does not exist.")
        source = str(path)
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        if key not in _FILE_CACHE:  # parsed once per file version: replays call this often
            _FILE_CACHE[key] = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        params = copy.deepcopy(_FILE_CACHE[key])
    if not isinstance(params, Mapping):
        raise ParamsError(f"params must be a YAML path or a dict; got {type(params).__name__}.")
    out = _merge(DEFAULT_PARAMS, params, (), source)
    p = out["priority"]
    for key in ("lgd", "promise_pending_factor", "pd_floor", "pd_cap"):
        v = p[key]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 1:
            raise ParamsError(f"{source}: priority.{key} must be a number in [0, 1]; got {v!r}.")
    v = p["presumed_loss_days"]
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
        raise ParamsError(f"{source}: priority.presumed_loss_days must be a whole number of "
                          f"days, at least 1; got {v!r}.")
    v = p["prior_invoices"]
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
        raise ParamsError(f"{source}: priority.prior_invoices must be a number above 0; "
                          f"got {v!r}.")
    v = p["relative_risk_cap"]
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not v >= 1:
        raise ParamsError(f"{source}: priority.relative_risk_cap must be a number of at "
                          f"least 1; got {v!r}.")
    for key, v in p["weights"].items():
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise ParamsError(f"{source}: priority.weights.{key} must be a number; got {v!r}.")
    return out


# --------------------------------------------------------------------------- helpers
def _day(as_of) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise ParamsError(f"as_of must be a date such as '2025-12-31'; got {as_of!r}.") from exc
    if pd.isna(ts):
        raise ParamsError(f"as_of must be a date such as '2025-12-31'; got {as_of!r}.")
    return ts.normalize()


def _cat(*parts) -> pa.Array:
    """Concatenate string arrays and literals elementwise (null when any part is null)."""
    return pc.binary_join_element_wise(*parts, "")


def _str(values) -> pa.Array:
    """Whole numbers (or strings) as an Arrow string array."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return pc.cast(pa.array(arr.astype(np.int64)), pa.string())
    return pa.array(pd.Series(arr, dtype=object), type=pa.string(), from_pandas=True)


def _int_text(values) -> np.ndarray:
    """Whole numbers as text (vectorised)."""
    return _str(values).to_numpy(zero_copy_only=False)


def _date_pa(values) -> pa.Array:
    d = np.asarray(pd.to_datetime(pd.Series(np.asarray(values))), dtype="datetime64[ns]")
    return pc.fill_null(pc.strftime(pa.array(d), format="%Y-%m-%d"), "")


def _date_text(values) -> np.ndarray:
    """ISO dates as text, empty when missing (vectorised)."""
    return _date_pa(values).to_numpy(zero_copy_only=False)


def _isin(values: pd.Series, pool) -> np.ndarray:
    """``values.isin(pool)`` through Arrow (an order of magnitude faster on strings)."""
    v = pa.array(pd.Series(values).array, from_pandas=True)
    pool = pa.array(pd.Series(pool).array, from_pandas=True)
    if len(v) == 0:
        return np.zeros(0, bool)
    if v.type != pool.type:
        v, pool = pc.cast(v, pa.string()), pc.cast(pool, pa.string())
    return pc.fill_null(pc.is_in(v, value_set=pool), False).to_numpy(zero_copy_only=False)


def _positions_in(values, keys) -> np.ndarray:
    """Position of each value in ``keys`` (first occurrence), -1 when absent (Arrow hash join)."""
    v = pa.array(pd.Series(values).array, from_pandas=True)
    k = pa.array(pd.Series(keys).array, from_pandas=True)
    if len(v) == 0:
        return np.zeros(0, np.int64)
    if v.type != k.type:
        v, k = pc.cast(v, pa.string()), pc.cast(k, pa.string())
    return pc.fill_null(pc.index_in(v, value_set=k), -1).to_numpy(zero_copy_only=False) \
        .astype(np.int64)


def _last_of_group(codes: np.ndarray) -> np.ndarray:
    """Mask of the last row of each run of equal ``codes`` (rows sorted by code)."""
    return np.r_[codes[1:] != codes[:-1], True] if len(codes) else np.zeros(0, bool)


def _sorted_by_key_and_date(frame: pd.DataFrame, key: str, date: str) -> tuple[pd.DataFrame,
                                                                                  np.ndarray]:
    """``frame`` sorted by (key, date, row order), with the integer code of each key."""
    codes = pd.factorize(frame[key])[0]
    days = frame[date].to_numpy(dtype="datetime64[ns]").view(np.int64)
    order = np.lexsort((np.arange(len(frame)), days, codes))
    return frame.iloc[order], codes[order]


def invoice_contacts(
    ledger: Ledger,
    as_of,
    items: pd.DataFrame | None = None,
    promise_grace_days: int = 3,
    extra_actions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Last contact, promise to pay and dispute state of each invoice as known on ``as_of``.

    An action without an ``invoice_id`` counts for every invoice of its customer
    open on ``as_of``. A promise (latest action with outcome ``promise_to_pay``)
    is *pending* until ``promise_date + promise_grace_days``; after that it is
    *kept* when the invoice received at least ``promise_amount`` (any cash when
    empty) from the action date to that day, else *broken*. An invoice is
    *disputed* when its latest action with an outcome ended in ``dispute``.
    "Latest" is by action_date; actions of the same day count in table order
    (the later row is the later action).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    items : DataFrame, default=None
        ``open_items(ledger, as_of)`` if already computed.
    promise_grace_days : int, default=3
    extra_actions : DataFrame, default=None
        Further collection_actions rows (e.g. issued in a replay), read as if
        they were in the ledger.

    Returns
    -------
    DataFrame
        One row per invoice open on ``as_of``: invoice_id, last_contact_date,
        last_contact_stage, last_outcome, promise_date, promise_amount,
        promise_state (none, pending, kept, broken) and disputed.
    """
    day = _day(as_of)
    if items is None:
        items = open_items(ledger, day)
    op = items.loc[items["open_amount"] > 0, ["invoice_id", "customer_id"]]
    out = pd.DataFrame({"invoice_id": op["invoice_id"].to_numpy()})
    empty = {
        "last_contact_date": pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]"),
        "last_contact_stage": pd.Series(None, index=out.index, dtype=object),
        "last_outcome": pd.Series(None, index=out.index, dtype=object),
        "promise_date": pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]"),
        "promise_amount": pd.Series(pd.NA, index=out.index, dtype="Int64"),
        "promise_state": pd.Series("none", index=out.index, dtype=object),
        "disputed": pd.Series(False, index=out.index),
    }
    acts = ledger.table("collection_actions")  # filtered by date below, without a copy
    if extra_actions is not None and len(extra_actions):
        acts = extra_actions if acts is None else pd.concat([acts, extra_actions],
                                                            ignore_index=True)
    if acts is None or acts.empty or op.empty:
        return out.assign(**empty)
    # position of each action's invoice among the open invoices (-1: not open / no invoice)
    a_day = acts["action_date"].to_numpy(dtype="datetime64[ns]")
    known = a_day <= day.to_datetime64()
    pos = np.where(known, _positions_in(acts["invoice_id"], op["invoice_id"]), -1)
    rows = np.flatnonzero(pos >= 0)
    general = np.flatnonzero(acts["invoice_id"].isna().to_numpy() & known)
    if len(general):  # an action without an invoice counts for each open invoice of its customer
        g = pd.DataFrame({"row": general, "customer_id": acts["customer_id"].to_numpy()[general]})
        g = g.merge(pd.DataFrame({"customer_id": op["customer_id"].to_numpy(),
                                  "pos": np.arange(len(op))}), on="customer_id")
        rows = np.concatenate([rows, g["row"].to_numpy()])
        pos = np.concatenate([pos[pos >= 0], g["pos"].to_numpy()])
    else:
        pos = pos[rows]
    order = np.lexsort((rows, a_day[rows].view(np.int64), pos))  # ties: row order
    rows, pos = rows[order], pos[order]
    n = len(op)

    def column(name: str) -> np.ndarray:
        return acts[name].to_numpy()[rows]

    def last_of(mask: np.ndarray, values: np.ndarray, fill, dtype=object) -> np.ndarray:
        keep = np.flatnonzero(mask)[_last_of_group(pos[mask])]
        out = np.full(n, fill, dtype=dtype)
        out[pos[keep]] = values[keep]
        return out

    everything = np.ones(len(rows), bool)
    day_ns = a_day[rows]
    stage, outcome = column("stage"), column("outcome")
    has_outcome = pd.notna(outcome)
    is_prom = has_outcome & (outcome == "promise_to_pay")
    disputed = last_of(has_outcome, outcome, None) == "dispute"
    p_raw = acts["promise_date"].to_numpy(dtype="datetime64[ns]")[rows]
    p_raw = np.where(np.isnat(p_raw), day_ns, p_raw)
    p_date = last_of(is_prom, p_raw, np.datetime64("NaT", "ns"), "datetime64[ns]")
    p_made = last_of(is_prom, day_ns, np.datetime64("NaT", "ns"), "datetime64[ns]")
    amt = acts["promise_amount"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)[rows]
    p_amount = last_of(is_prom, amt, np.nan, float)
    has_prom = ~np.isnat(p_made)
    deadline = p_date + np.timedelta64(int(promise_grace_days), "D")
    alloc = allocations_of(ledger)
    a_pos = _positions_in(alloc["invoice_id"], op["invoice_id"])
    ok = a_pos >= 0
    ok[ok] = has_prom[a_pos[ok]]
    a_pos = a_pos[ok]
    pay_day = alloc["payment_date"].to_numpy(dtype="datetime64[ns]")[ok]
    within = (pay_day >= p_made[a_pos]) & (pay_day <= np.minimum(deadline[a_pos],
                                                                   day.to_datetime64()))
    paid = np.bincount(a_pos[within], alloc["amount"].to_numpy(np.int64)[ok][within],
                       minlength=n)
    kept = has_prom & (paid >= np.where(np.isnan(p_amount), 1, p_amount))
    state = np.where(~has_prom, "none", np.where(
        kept, "kept", np.where(deadline < day.to_datetime64(), "broken", "pending")))
    p_amount_int = pd.array(np.where(np.isnan(p_amount), 0, p_amount).astype(np.int64),
                            dtype="Int64")
    p_amount_int[np.isnan(p_amount)] = pd.NA
    return out.assign(
        last_contact_date=last_of(everything, day_ns, np.datetime64("NaT", "ns"),
                                  "datetime64[ns]"),
        last_contact_stage=last_of(everything, stage, None),
        last_outcome=last_of(everything, outcome, None),
        promise_date=np.where(has_prom, p_date, np.datetime64("NaT", "ns")),
        promise_amount=p_amount_int,
        promise_state=state.astype(object),
        disputed=disputed,
    )


def _loss_table(t: np.ndarray, paid: np.ndarray, never: np.ndarray, horizon: int) -> tuple[
        int, np.ndarray]:
    """Kaplan-Meier log-survival ``log S(u)`` of "still unpaid after u days past due".

    ``t`` is the day (relative to due) each invoice was paid (``paid``) or last seen
    open (censored); ``never`` invoices (written off) stay at risk through ``horizon``.
    Each day's risk set holds one more invoice that never pays, so a thin tail can not
    read "everyone pays". Returns ``(lo, log_s)`` with ``log_s[u - lo]`` for
    ``u = lo .. horizon``.
    """
    lo = int(min(t.min(), 0)) if len(t) else 0
    size = horizon - lo + 1
    exit_ = np.where(never, size, np.clip(t, lo, horizon + 1) - lo)  # last day at risk
    leave = np.bincount(exit_, minlength=size + 2)
    at_risk = np.cumsum(leave[::-1])[::-1][:size].astype(np.float64)  # exit day >= u
    pays = np.bincount(exit_[paid & (t <= horizon)], minlength=size)[:size]
    return lo, np.cumsum(np.log1p(-pays / (at_risk + 1.0)))


def history_pd(ledger: Ledger, as_of, items: pd.DataFrame | None = None,
               params: Mapping | str | Path | None = None) -> pd.DataFrame:
    """Transparent, point-in-time probability of default of each open invoice.

    ``p_default = band_rate x relative_risk``, clipped to ``[pd_floor, pd_cap]``,
    with ``L = presumed_loss_days`` and ``c`` the invoice's *condition day*: the
    lower edge of its days-past-due band (``pd_dpd_edges``: an invoice 75 days
    past due is in band (60, 90] and ``c = 60``), or, not yet past due, its own
    day relative to due (``-20``: due in 20 days):

    * ``band_rate = S(L) / S(c)``: the share of invoices still unpaid ``c``
      days past due that are still unpaid ``L`` days past due, i.e. lost.
      ``S(u)``, the share still unpaid ``u`` days past due, is the
      Kaplan-Meier product ``prod over days v <= u of (1 - paid on day v /
      (at risk on day v + 1))`` over every invoice issued by ``as_of``: an
      invoice is at risk until the day it was paid; a written-off one for
      ever; one still open until today (censored: it counts as unpaid as far
      as it got, not as lost nor as paid). The "+ 1" is an invoice that never
      pays, so a few late payers at the far end can not read "everyone pays".
      An invoice open more than ``L`` days past due has ``band_rate = 1``, and
      so has every invoice while no payment has been seen yet (a ledger only
      weeks old): the table can only tell what it has seen paid;
    * ``relative_risk = (lost / band_rate + prior_invoices) / (settled +
      prior_invoices)``, capped at ``relative_risk_cap`` and its inverse:
      among the customer's *other* invoices that were still unpaid ``c`` days
      past due and whose outcome is known (``settled``: paid, written off, or
      open more than ``L`` days past due), ``lost`` are those written off or
      open past ``L``. It is the customer's losses over the ``settled x
      band_rate`` the company table expects, smoothed towards 1 with
      ``prior_invoices`` invoices: a customer that went on to pay many
      invoices as late as this one is less risky than one whose such invoices
      were lost.

    Only invoices issued, and payments and adjustments dated, on or before
    ``as_of`` are read.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    items : DataFrame, default=None
        ``open_items(ledger, as_of)`` if already computed.
    params : dict, path or None, default=None
        Collections parameters (see :func:`load_params`).

    Returns
    -------
    DataFrame
        One row per invoice open on ``as_of``: invoice_id, p_default,
        band_rate, relative_risk, history_bad and history_n (bad ones, written
        off or paid more than ``late_after_days`` late, among the customer's
        last ``history_invoices`` settled invoices; quoted in the reason).

    Raises
    ------
    ParamsError
        When ``pd_dpd_edges`` are not increasing whole days.
    """
    p = load_params(params)["priority"]
    day = _day(as_of)
    if items is None:
        items = open_items(ledger, day)
    edges = np.asarray(p["pd_dpd_edges"], dtype=np.int64)
    if len(edges) == 0 or np.any(np.diff(edges) <= 0):
        raise ParamsError(
            f"priority.pd_dpd_edges must be increasing whole days; got {p['pd_dpd_edges']!r}.")
    horizon = int(p["presumed_loss_days"])
    codes, uniques = pd.factorize(items["customer_id"])
    n_c = len(uniques) + 1
    codes = np.where(codes < 0, n_c - 1, codes)
    status = items["status"].astype(object).to_numpy()
    wo = status == "written_off"
    opened = items["open_amount"].to_numpy() > 0
    closed = items["closed_date"].notna().to_numpy() & ~opened  # paid, written off, credited
    paid = closed & ~wo
    late = ((items["closed_date"] - items["due_date"]).dt.days.to_numpy(dtype=float,
                                                                       na_value=np.nan))
    late = np.nan_to_num(late, nan=0.0).astype(np.int64)
    past = ((day - items["due_date"]).dt.days).to_numpy(np.int64)  # negative: not yet due
    stale = opened & (past > horizon)  # counted as lost

    # loss table: S(L) / S(c), Kaplan-Meier over every invoice issued by as_of
    lo, log_s = _loss_table(np.where(paid, late, past), paid, wo, horizon)
    op_past = past[opened]
    band = np.searchsorted(edges, op_past, side="left")  # op_past in (edges[b-1], edges[b]]
    cond = np.where((op_past > 0) & (band > 0), edges[np.maximum(band - 1, 0)], op_past)
    known = cond < horizon
    band_rate = np.ones(len(op_past))
    band_rate[known] = np.exp(log_s[-1] - log_s[np.maximum(cond[known] - lo, 0)])
    band_rate[op_past > horizon] = 1.0

    # relative risk: the customer's settled invoices that were still unpaid c days past due
    settled = closed | stale
    lost = wo | stale
    big = np.int64(1) << 40
    reach = np.where(lost, big // 2, late)  # days past due at payment; lost: for ever
    shift = min(int(reach[settled].min()) if settled.any() else 0, int(cond.min(initial=0)))
    keys = codes[settled].astype(np.int64) * big + (reach[settled] - shift)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    lost_cum = np.r_[0, np.cumsum(lost[settled][order])]
    op_codes = codes[opened].astype(np.int64)
    from_ = np.searchsorted(keys, op_codes * big + (cond - shift), side="right")  # reach > c
    to = np.searchsorted(keys, (op_codes + 1) * big, side="left")
    self_ = stale[opened]  # an invoice does not vouch for itself
    n_settled = to - from_ - self_
    n_lost = lost_cum[to] - lost_cum[from_] - self_
    k = float(p["prior_invoices"])
    cap = float(p["relative_risk_cap"])
    rel = np.clip((n_lost / band_rate + k) / (n_settled + k), 1 / cap, cap)

    # the customer's last history_invoices settled invoices (ties: later row first)
    hist_closed = (status == "paid") | wo
    bad = wo | (hist_closed & (late > int(p["late_after_days"])))
    c_rows = np.flatnonzero(hist_closed)
    c_day = items["closed_date"].to_numpy(dtype="datetime64[ns]")[c_rows].view(np.int64)
    order = np.lexsort((-c_rows, -c_day, codes[c_rows]))
    c_rows = c_rows[order]
    c_codes = codes[c_rows]
    first = np.r_[True, c_codes[1:] != c_codes[:-1]] if len(c_codes) else np.zeros(0, bool)
    start_idx = np.maximum.accumulate(np.where(first, np.arange(len(c_codes)), 0)) \
        if len(c_codes) else np.zeros(0, np.int64)
    recent = (np.arange(len(c_codes)) - start_idx) < int(p["history_invoices"])
    last_bad = np.bincount(c_codes[recent], bad[c_rows][recent], minlength=n_c)
    last_n = np.bincount(c_codes[recent], minlength=n_c)
    pd_ = np.clip(band_rate * rel, float(p["pd_floor"]), float(p["pd_cap"]))
    return pd.DataFrame({
        "invoice_id": items["invoice_id"].to_numpy()[opened],
        "p_default": pd_,
        "band_rate": band_rate,
        "relative_risk": rel,
        "history_bad": last_bad[op_codes].astype(np.int64),
        "history_n": last_n[op_codes].astype(np.int64),
    })

def _check_pd_frame(pd_frame: pd.DataFrame) -> pd.Series:
    missing = {"invoice_id", "p_default"} - set(pd_frame.columns)
    if missing:
        raise ParamsError(
            f"pd_frame lacks column(s) {sorted(missing)}; it needs invoice_id and p_default; "
            f"got columns {list(pd_frame.columns)}.")
    p = pd.to_numeric(pd_frame["p_default"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        raise ParamsError(
            f"pd_frame.p_default must be probabilities in [0, 1]; got "
            f"{pd_frame['p_default'][bad].head(3).tolist()!r} (for invoice(s) "
            f"{pd_frame['invoice_id'][bad].head(3).tolist()}).")
    if pd_frame["invoice_id"].duplicated().any():
        dup = pd_frame["invoice_id"][pd_frame["invoice_id"].duplicated()].head(3).tolist()
        raise ParamsError(f"pd_frame.invoice_id must be unique; got duplicates {dup}.")
    return pd.Series(p, index=pd_frame["invoice_id"].to_numpy())


# --------------------------------------------------------------------------- scoring
def score_invoices(
    ledger: Ledger,
    as_of,
    params: Mapping | str | Path | None = None,
    pd_frame: pd.DataFrame | None = None,
    *,
    items: pd.DataFrame | None = None,
    extra_actions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score every invoice open on ``as_of`` for collection, with its parts and reason.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        Valuation date: only what was known that day is read.
    params : dict, path or None, default=None
        Collections parameters (see :func:`load_params`); section ``priority``.
    pd_frame : DataFrame, default=None
        Columns invoice_id and p_default (e.g. from a credit model). Invoices
        it does not cover, or all of them when None, get :func:`history_pd`.
    items : DataFrame, default=None
        ``open_items(ledger, as_of)`` if already computed.
    extra_actions : DataFrame, default=None
        Collection actions to read as if in the ledger (used by replays).

    Returns
    -------
    DataFrame
        Columns :data:`SCORE_COLUMNS`, one row per open invoice, sorted by
        score (highest first; ties by invoice_id), ``rank`` from 1. Money
        (amount, open_amount, customer_open_amount) in int64 fen;
        expected_loss and score in 元 (float). ``reason_en`` / ``reason_zh``
        say in one line why the invoice is where it is.

    Raises
    ------
    ParamsError
        For a bad ``as_of``, parameter or ``pd_frame``.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.dunning import score_invoices
    >>> scores = score_invoices(make_ledger(2_000, seed=1), "2026-06-30")
    >>> scores[["rank", "invoice_id", "days_past_due", "open_amount"]].head(3)
       rank   invoice_id  days_past_due  open_amount
    0     1  INV00000720            301     19361210
    1     2  INV00000667            344     17286588
    2     3  INV00000637            426     12490871
    >>> scores["reason_en"].iloc[0].split("; ")
    ['¥193,612 overdue 301 days', 'promised 2025-09-27, not paid',
     '4 of last 5 invoices more than 30 days late or written off',
     'customer owes ¥880,533 on 5 invoices']
    """
    prm = load_params(params)
    p = prm["priority"]
    w = p["weights"]
    day = _day(as_of)
    if items is None:
        items = open_items(ledger, day)
    op = items[items["open_amount"] > 0].reset_index(drop=True)
    hist = history_pd(ledger, day, items, prm)
    contacts = invoice_contacts(ledger, day, items, int(p["promise_grace_days"]), extra_actions)
    p_default = hist["p_default"].to_numpy()
    source = np.full(len(op), "history", dtype=object)
    if pd_frame is not None:
        given = _check_pd_frame(pd_frame)
        mapped = op["invoice_id"].map(given).to_numpy(dtype=float)
        has = ~np.isnan(mapped)
        p_default = np.where(has, mapped, p_default)
        source[has] = "model"

    open_amt = op["open_amount"].to_numpy(np.int64)
    dpd = op["days_past_due"].to_numpy(np.int64)
    to_due = ((op["due_date"] - day).dt.days).to_numpy(np.int64)
    cust = op["customer_id"]
    c_codes = pd.factorize(cust)[0]
    cust_open = pd.Series(open_amt).groupby(c_codes).sum().to_numpy(np.int64)[c_codes] \
        if len(op) else open_amt  # exact int64 sums
    cust_n = np.bincount(c_codes)[c_codes].astype(np.int64) if len(op) else open_amt
    lgd = float(p["lgd"])
    el = open_amt / 100.0 * p_default * lgd

    u_dpd = float(w["days_past_due"]) * np.minimum(dpd, int(p["days_past_due_cap"])) / 30.0
    due_soon = (dpd == 0) & (to_due >= 0) & (to_due <= int(p["due_soon_days"]))
    u_soon = float(w["due_soon"]) * due_soon
    state = contacts["promise_state"].to_numpy()
    u_broken = float(w["broken_promise"]) * (state == "broken")
    disputed = contacts["disputed"].to_numpy(bool)
    u_disp = float(w["dispute"]) * disputed
    u_exp = float(w["exposure"]) * np.log10(
        1.0 + cust_open / (100.0 * float(p["exposure_ref_yuan"])))
    factor = np.where(state == "pending", float(p["promise_pending_factor"]), 1.0)
    urgency = (1.0 + u_dpd + u_soon + u_broken + u_disp + u_exp) * factor
    score = el * urgency

    customers = ledger.customers
    c_pos = _positions_in(cust, customers["customer_id"])
    names = (customers["name"].to_numpy(dtype=object) if "name" in customers
             else np.full(len(customers), None, dtype=object))
    names = np.append(names, None)[np.where(c_pos >= 0, c_pos, len(names))]
    out = pd.DataFrame({
        "invoice_id": op["invoice_id"], "customer_id": cust,
        "customer_name": names,
        "salesperson_id": op["salesperson_id"], "invoice_date": op["invoice_date"],
        "due_date": op["due_date"], "amount": op["amount"], "open_amount": open_amt,
        "days_past_due": dpd, "days_to_due": to_due, "p_default": p_default,
        "pd_source": source, "lgd": lgd, "expected_loss": el,
        "urgency_days_past_due": u_dpd, "urgency_due_soon": u_soon,
        "urgency_broken_promise": u_broken, "urgency_dispute": u_disp,
        "urgency_exposure": u_exp, "promise_factor": factor, "urgency": urgency,
        "score": score, "customer_open_amount": cust_open, "customer_open_invoices": cust_n,
        "promise_state": state, "promise_date": contacts["promise_date"].to_numpy(),
        "disputed": disputed, "last_contact_date": contacts["last_contact_date"].to_numpy(),
        "last_contact_stage": contacts["last_contact_stage"].to_numpy(),
        "last_outcome": contacts["last_outcome"].to_numpy(),
        "history_bad": hist["history_bad"].to_numpy(), "history_n": hist["history_n"].to_numpy(),
    })
    out["reason_en"], out["reason_zh"] = _reasons(out, int(p["late_after_days"]))
    keys = pa.table({"score": out["score"].to_numpy(), "invoice_id": _str(out["invoice_id"])})
    order = pc.sort_indices(keys, sort_keys=[("score", "descending"),
                                             ("invoice_id", "ascending")]).to_numpy()
    out = out.take(order)
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    out = out[SCORE_COLUMNS].reset_index(drop=True)
    out.attrs.update(as_of=day, unit="fen (money), 元 (expected_loss, score)")
    return out


def _reasons(s: pd.DataFrame, late_after_days: int) -> tuple[np.ndarray, np.ndarray]:
    """One-line reasons in English and Chinese, built column-wise (Arrow string kernels)."""

    def mask(values) -> pa.Array:
        return pa.array(np.asarray(values, dtype=bool))

    def pick(cond, yes, no):
        return pc.if_else(mask(cond), yes, no)

    money = yuan_array(s["open_amount"])
    dpd, to_due = _str(s["days_past_due"]), _str(s["days_to_due"])
    over, today = s["days_past_due"].to_numpy() > 0, s["days_to_due"].to_numpy() == 0
    en = [money, pick(over, _cat(" overdue ", dpd, " days"),
                      pick(today, " due today", _cat(" due in ", to_due, " days")))]
    zh = [money, pick(over, _cat(" 逾期", dpd, "天"),
                      pick(today, " 今天到期", _cat(" ", to_due, "天后到期")))]
    pdate = _date_pa(s["promise_date"])
    broken = (s["promise_state"] == "broken").to_numpy()
    pending = (s["promise_state"] == "pending").to_numpy()
    en.append(pick(broken, _cat("; promised ", pdate, ", not paid"),
                   pick(pending, _cat("; promised ", pdate, " (pending)"), "")))
    zh.append(pick(broken, _cat("；承诺", pdate, "付款，未付"),
                   pick(pending, _cat("；承诺", pdate, "付款（未到期）"), "")))
    disputed = s["disputed"].to_numpy(bool)
    en.append(pick(disputed, "; in dispute", ""))
    zh.append(pick(disputed, "；有争议", ""))
    n, bad, lad = _str(s["history_n"]), _str(s["history_bad"]), str(late_after_days)
    has = s["history_n"].to_numpy() > 0
    en.append(pick(has, _cat("; ", bad, " of last ", n, " invoices more than ", lad,
                             " days late or written off"), "; no payment history"))
    zh.append(pick(has, _cat("；近", n, "张发票中", bad, "张逾期超", lad, "天或核销"),
                   "；无付款记录"))
    many = s["customer_open_invoices"].to_numpy() > 1
    cust, cnt = yuan_array(s["customer_open_amount"]), _str(s["customer_open_invoices"])
    en.append(pick(many, _cat("; customer owes ", cust, " on ", cnt, " invoices"), ""))
    zh.append(pick(many, _cat("；客户共欠", cust, "（", cnt, "张发票）"), ""))
    return (_cat(*en).to_numpy(zero_copy_only=False),
            _cat(*zh).to_numpy(zero_copy_only=False))
