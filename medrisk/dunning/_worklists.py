"""Daily collection worklists (催收工作清单): who calls which customer, about what.

:func:`build_worklists` turns the invoice scores of :mod:`medrisk.dunning`
into one list per collector. A customer is one call that covers all of its
open invoices; calls are sorted by the customer's total score and cut to the
collector's daily capacity (``worklists.capacity`` in
``params/collections.yaml``). Each call says what to talk about: the invoices
with amounts and days, the last contact and its outcome, and the reason of
the most urgent invoice.

:func:`backtest_worklists` replays a priority rule over past days, each with
only what was known that day, and measures what the lists held and how much of
it was paid within ``horizon_days`` anyway; :func:`compare_policies` runs it
for several parameter sets on the same days.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from medrisk.data import Ledger
from medrisk.dunning._priority import (
    _cat,
    _day,
    _isin,
    _last_of_group,
    _str,
    load_params,
    score_invoices,
)
from medrisk.exceptions import ParamsError
from medrisk.kernel import spreadsheet_safe, yuan_array
from medrisk.receivables import allocations_of

__all__ = [
    "Worklist",
    "COLLECTORS",
    "CALL_COLUMNS",
    "build_worklists",
    "backtest_worklists",
    "compare_policies",
]

#: Who collects: the customer's salesperson, or a finance collector team (round robin by score).
COLLECTORS = ("salesperson", "finance_team")

CALL_COLUMNS = [
    "as_of", "collector_id", "collector_name", "call_rank", "customer_id", "customer_name",
    "score", "n_invoices", "open_amount", "overdue_amount", "max_days_past_due",
    "last_contact_date", "last_contact_stage", "last_outcome", "invoices_en", "invoices_zh",
    "reason_en", "reason_zh",
]
_INVOICE_COLUMNS = [
    "collector_id", "call_rank", "customer_id", "customer_name", "rank", "invoice_id",
    "due_date", "open_amount", "days_past_due", "score", "promise_state", "disputed",
    "last_contact_date", "last_outcome", "reason_en", "reason_zh",
]
_MONEY = ("open_amount", "overdue_amount", "amount")


@dataclass
class Worklist:
    """The worklists of one day.

    Attributes
    ----------
    as_of : Timestamp
        The day the lists are for.
    calls : DataFrame
        One row per call kept (collector, customer), columns :data:`CALL_COLUMNS`,
        sorted by collector then ``call_rank``. Money in int64 fen.
    invoices : DataFrame
        The open invoices behind the kept calls, with the call they belong to.
    capacity : DataFrame
        Per collector: capacity, customers_due, calls (kept), cut, score_kept, score_cut.
    """

    as_of: pd.Timestamp
    calls: pd.DataFrame
    invoices: pd.DataFrame
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _export(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for col in _MONEY:
            if col in out:
                out[col] = out[col].to_numpy(np.int64) / 100.0  # 元 for people
        return out.rename(columns={c: f"{c}_yuan" for c in _MONEY if c in out})

    def to_excel(self, path: str | Path) -> Path:
        """Write one sheet per collector (its calls, 元) and an ``invoices`` sheet.

        Parameters
        ----------
        path : str or Path
            ``.xlsx`` file to write (overwritten).

        Returns
        -------
        Path
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        used: set[str] = set()
        with pd.ExcelWriter(path, engine="openpyxl") as xl:
            calls = self._export(self.calls)
            calls["as_of"] = calls["as_of"].dt.date
            calls = spreadsheet_safe(calls)
            for cid, rows in calls.groupby("collector_id", sort=True):
                name = _sheet_name(str(cid), used)
                rows.drop(columns="collector_id").to_excel(xl, sheet_name=name, index=False)
            if calls.empty:
                calls.to_excel(xl, sheet_name="calls", index=False)
            spreadsheet_safe(self._export(self.invoices)).to_excel(
                xl, sheet_name=_sheet_name("invoices", used), index=False)
        return path

    def to_csv(self, path: str | Path, detail: bool = False) -> Path:
        """Write the calls (or, with ``detail=True``, the invoices) to a UTF-8 CSV, money in 元.

        Parameters
        ----------
        path : str or Path
        detail : bool, default=False

        Returns
        -------
        Path
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = spreadsheet_safe(self._export(self.invoices if detail else self.calls))
        frame.to_csv(path, index=False, encoding="utf-8-sig", float_format="%.2f")
        return path


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    out, k = base, 1
    while out in used:
        k += 1
        out = f"{base[:27]}~{k}"
    used.add(out)
    return out


def _capacities(collectors: pd.Series, capacity: Mapping) -> np.ndarray:
    default = capacity.get("default", 20)
    over = dict(capacity.get("overrides") or {})
    for key, v in [("default", default), *over.items()]:
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
            raise ParamsError(
                f"worklists.capacity {key!r} must be a whole number of calls >= 0; got {v!r}.")
    return collectors.map(over).fillna(default).to_numpy(np.int64)


def _last_customer_contact(ledger: Ledger, day: pd.Timestamp) -> pd.DataFrame:
    acts = ledger.table("collection_actions")
    cols = ["last_contact_date", "last_contact_stage", "last_outcome"]
    if acts is None or acts.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="customer_id"))
    a_day = acts["action_date"].to_numpy(dtype="datetime64[ns]")
    rows = np.flatnonzero(a_day <= day.to_datetime64())
    codes = pd.factorize(acts["customer_id"])[0][rows]
    order = np.lexsort((rows, a_day[rows].view(np.int64), codes))  # ties: row order
    rows = rows[order][_last_of_group(codes[order])]
    last = acts.iloc[rows].set_index("customer_id")
    return last[["action_date", "stage", "outcome"]].set_axis(cols, axis=1)


def _join_per_customer(customers: np.ndarray, texts: pa.Array, sep: str) -> pd.Series:
    """Join the texts of consecutive rows of the same customer (rows grouped by customer)."""
    start = np.flatnonzero(np.r_[True, customers[1:] != customers[:-1]]) if len(customers) \
        else np.zeros(0, np.int64)
    offsets = pa.array(np.r_[start, len(customers)].astype(np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, texts), sep)
    return pd.Series(joined.to_numpy(zero_copy_only=False), index=customers[start])


def build_worklists(
    ledger: Ledger,
    as_of,
    params: Mapping | str | Path | None = None,
    pd_frame: pd.DataFrame | None = None,
    *,
    scores: pd.DataFrame | None = None,
    collector: str | None = None,
    capacity: int | Mapping | None = None,
) -> Worklist:
    """Build each collector's call list for ``as_of``, one call per customer.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    params : dict, path or None, default=None
        Collections parameters (:func:`medrisk.dunning.load_params`).
    pd_frame : DataFrame, default=None
        invoice_id, p_default, passed to :func:`medrisk.dunning.score_invoices`.
    scores : DataFrame, default=None
        Output of :func:`~medrisk.dunning.score_invoices` for ``as_of``, if
        already computed.
    collector : {"salesperson", "finance_team"}, default=None
        Overrides ``worklists.collector``. ``salesperson``: the customer's
        salesperson (the invoice's when the customer names none);
        ``finance_team``: ``worklists.finance_team``, customers dealt round
        robin in order of score.
    capacity : int or dict, default=None
        Calls per collector per day; an int for everyone, or
        ``{"default": n, "overrides": {collector_id: n}}``. Overrides
        ``worklists.capacity``.

    Returns
    -------
    Worklist

    Raises
    ------
    ParamsError
        For an unknown collector mode, an empty finance team or a bad capacity.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.dunning import build_worklists
    >>> wl = build_worklists(make_ledger(2_000, seed=1), "2026-06-30", capacity=15)
    >>> wl.capacity[["collector_id", "customers_due", "calls", "capacity"]].head(3)
      collector_id  customers_due  calls  capacity
    0        SP001              9      9        15
    1        SP002              8      8        15
    2        SP003              4      4        15
    >>> with tempfile.TemporaryDirectory() as out:  # e.g. reports/worklists-2026-06-30.xlsx
    ...     path = wl.to_excel(Path(out) / "worklists-2026-06-30.xlsx")
    ...     print(pd.ExcelFile(path, engine="openpyxl").sheet_names)
    ['SP001', 'SP002', 'SP003', 'SP004', 'SP005', 'SP006', 'SP007', 'SP008', 'invoices']
    """
    prm = load_params(params)
    wp = prm["worklists"]
    day = _day(as_of)
    mode = wp["collector"] if collector is None else collector
    if mode not in COLLECTORS:
        raise ParamsError(f"collector={mode!r} is not supported. Possible values are: "
                          f"{list(COLLECTORS)}.")
    cap = wp["capacity"] if capacity is None else capacity
    if not isinstance(cap, Mapping):
        cap = {"default": cap, "overrides": {}}
    if scores is None:
        scores = score_invoices(ledger, day, prm, pd_frame)
    s = scores

    # ---- one row per customer
    overdue = np.where(s["days_past_due"].to_numpy() > 0, s["open_amount"].to_numpy(), 0)
    g = s.assign(overdue_amount=overdue).groupby("customer_id", sort=True)
    cust = pd.DataFrame({
        "score": g["score"].sum(),
        "n_invoices": g["invoice_id"].size().astype(np.int64),
        "open_amount": g["open_amount"].sum().astype(np.int64),
        "overdue_amount": g["overdue_amount"].sum().astype(np.int64),
        "max_days_past_due": g["days_past_due"].max().astype(np.int64),
    })
    top = s.drop_duplicates("customer_id", keep="first").set_index("customer_id")  # s is by score
    cust = cust.join(top[["customer_name", "salesperson_id", "reason_en", "reason_zh"]])
    cust = cust[cust["score"] >= float(wp["min_score"])].reset_index()
    cust = cust.sort_values(["score", "customer_id"], ascending=[False, True], kind="stable")
    if mode == "salesperson":
        own = ledger.customers.set_index("customer_id")["salesperson_id"]
        cid = cust["customer_id"].map(own)
        cust["collector_id"] = cid.where(cid.notna(), cust["salesperson_id"]).fillna("(none)")
    else:
        team = list(wp["finance_team"] or [])
        if not team:
            raise ParamsError("worklists.finance_team must list at least one collector when "
                              "collector='finance_team'; got an empty list.")
        cust["collector_id"] = np.asarray(team, dtype=object)[np.arange(len(cust)) % len(team)]
    cust = cust.sort_values(["collector_id", "score", "customer_id"],
                            ascending=[True, False, True], kind="stable")
    cust["call_rank"] = cust.groupby("collector_id").cumcount().to_numpy(np.int64) + 1
    limit = _capacities(cust["collector_id"], cap)
    keep = cust["call_rank"].to_numpy() <= limit
    cust["kept"] = keep
    summary = cust.groupby("collector_id", sort=True).agg(
        customers_due=("customer_id", "size"), calls=("kept", "sum"))
    summary["capacity"] = _capacities(pd.Series(summary.index, index=summary.index), cap)
    summary["cut"] = summary["customers_due"] - summary["calls"]
    summary["score_kept"] = cust[keep].groupby("collector_id")["score"].sum()
    summary["score_cut"] = cust[~keep].groupby("collector_id")["score"].sum()
    summary = summary.fillna({"score_kept": 0.0, "score_cut": 0.0}).reset_index()
    calls = cust[keep].drop(columns=["kept", "salesperson_id"])

    # ---- what to say: the invoices of the kept calls
    inv = s[_isin(s["customer_id"], calls["customer_id"])].merge(
        calls[["customer_id", "collector_id", "call_rank"]], on="customer_id")
    inv = inv.sort_values(["collector_id", "call_rank", "rank"], kind="stable")
    money = yuan_array(inv["open_amount"])
    dpd, to_due = _str(inv["days_past_due"]), _str(inv["days_to_due"])
    over = pa.array(inv["days_past_due"].to_numpy() > 0)
    ids = _str(inv["invoice_id"])
    en = _cat(ids, " ", money, pc.if_else(over, _cat(" overdue ", dpd, " days"),
                                          _cat(" due in ", to_due, " days")))
    zh = _cat(ids, " ", money, pc.if_else(over, _cat(" 逾期", dpd, "天"),
                                          _cat(" ", to_due, "天后到期")))
    who = inv["customer_id"].to_numpy(dtype=object)
    texts = pd.DataFrame({"invoices_en": _join_per_customer(who, en, "; "),
                          "invoices_zh": _join_per_customer(who, zh, "；")})
    calls = calls.join(texts, on="customer_id").join(
        _last_customer_contact(ledger, day), on="customer_id")
    names = ledger.table("salespeople")
    names = (names.set_index("salesperson_id")["name"] if names is not None
             else pd.Series(dtype=object))
    calls["collector_name"] = calls["collector_id"].map(names).fillna(calls["collector_id"])
    calls["as_of"] = day
    calls = calls[CALL_COLUMNS].reset_index(drop=True)
    return Worklist(as_of=day, calls=calls,
                    invoices=inv[_INVOICE_COLUMNS].reset_index(drop=True), capacity=summary)


# --------------------------------------------------------------------------- back-test
def _dates(dates) -> list[pd.Timestamp]:
    if isinstance(dates, (str, pd.Timestamp)):
        dates = [dates]
    out = sorted({_day(d) for d in dates})
    if not out:
        raise ParamsError("dates must hold at least one date, e.g. "
                          "pd.date_range('2025-01-06', '2025-06-30', freq='W-MON'); got none.")
    return out


def _pd_for(pd_frame: pd.DataFrame | None, day: pd.Timestamp) -> pd.DataFrame | None:
    if pd_frame is None or "as_of" not in pd_frame:
        return pd_frame
    return pd_frame[pd.to_datetime(pd_frame["as_of"]) == day]


def backtest_worklists(
    ledger: Ledger,
    dates: Iterable,
    params: Mapping | str | Path | None = None,
    pd_frame: pd.DataFrame | None = None,
    *,
    horizon_days: int = 30,
    collector: str | None = None,
    capacity: int | Mapping | None = None,
) -> pd.DataFrame:
    """Replay the worklists of each past day and measure what happened to what they held.

    Each day's lists use only what was known that day (point in time: the
    scores read invoices, payments, adjustments and actions dated on or before
    it). The outcome columns then look ahead ``horizon_days``.

    Parameters
    ----------
    ledger : Ledger
    dates : iterable of date-like
        Past days, e.g. ``pd.date_range("2025-01-06", "2025-06-30", freq="W-MON")``.
    params : dict, path or None, default=None
        The priority rule to replay (collections parameters).
    pd_frame : DataFrame, default=None
        invoice_id, p_default and optionally ``as_of``: with an ``as_of``
        column each day uses only the rows of that day, so a model's
        probabilities can be given point in time.
    horizon_days : int, default=30
    collector, capacity
        As for :func:`build_worklists`.

    Returns
    -------
    DataFrame
        One row per day: as_of, calls, invoices, held (open amount on the
        lists, fen), paid_within (cash applied to those invoices within
        ``horizon_days`` after the day, fen), paid_within_share, written_off_later
        (later write-offs of those invoices, fen), lost_share, open_total (all
        open money that day), held_share, score_held.
    """
    if not isinstance(horizon_days, (int, np.integer)) or horizon_days < 1:
        raise ParamsError(f"horizon_days must be a whole number >= 1; got {horizon_days!r}.")
    prm = load_params(params)
    alloc = allocations_of(ledger)[["invoice_id", "payment_date", "amount"]]
    adj = ledger.table("adjustments")
    wo = (adj[adj["kind"] == "write_off"][["invoice_id", "adjustment_date", "amount"]]
          if adj is not None else pd.DataFrame(columns=["invoice_id", "adjustment_date",
                                                        "amount"]))
    rows = []
    for day in _dates(dates):  # one replay per day; each is vectorised
        scores = score_invoices(ledger, day, prm, _pd_for(pd_frame, day))
        wl = build_worklists(ledger, day, prm, scores=scores, collector=collector,
                             capacity=capacity)
        ids = wl.invoices["invoice_id"]
        a = alloc[alloc["invoice_id"].isin(ids)]
        paid = int(a.loc[(a["payment_date"] > day)
                         & (a["payment_date"] <= day + pd.Timedelta(days=int(horizon_days))),
                         "amount"].sum())
        w = wo[wo["invoice_id"].isin(ids)]
        lost = int(w.loc[w["adjustment_date"] > day, "amount"].sum())
        held = int(wl.invoices["open_amount"].sum())
        total = int(scores["open_amount"].sum())
        rows.append({
            "as_of": day, "calls": len(wl.calls), "invoices": len(ids), "held": held,
            "paid_within": paid, "paid_within_share": paid / held if held else np.nan,
            "written_off_later": lost, "lost_share": lost / held if held else np.nan,
            "open_total": total, "held_share": held / total if total else np.nan,
            "score_held": float(wl.calls["score"].sum()),
        })
    out = pd.DataFrame(rows)
    out.attrs.update(horizon_days=int(horizon_days), unit="fen")
    return out


def compare_policies(
    ledger: Ledger,
    dates: Iterable,
    policies: Mapping[str, Mapping | str | Path | None],
    pd_frame: pd.DataFrame | None = None,
    **kwargs,
) -> pd.DataFrame:
    """Back-test several priority rules on the same days and put them side by side.

    Parameters
    ----------
    ledger : Ledger
    dates : iterable of date-like
    policies : dict of str to params
        Name -> collections parameters (dict, YAML path, or None for the defaults),
        e.g. ``{"current": "params/collections.yaml", "candidate": {...}}``.
    pd_frame : DataFrame, default=None
    **kwargs
        ``horizon_days``, ``collector``, ``capacity`` for :func:`backtest_worklists`.

    Returns
    -------
    DataFrame
        One row per policy: days, held, paid_within, paid_within_share,
        written_off_later, lost_share (sums over the days), with the daily rows in
        ``frame.attrs["daily"]``.
    """
    if not policies:
        raise ParamsError("policies must name at least one parameter set; got none.")
    daily = pd.concat(
        [backtest_worklists(ledger, dates, prm, pd_frame, **kwargs).assign(policy=name)
         for name, prm in policies.items()], ignore_index=True)
    g = daily.groupby("policy", sort=False)
    out = g[["held", "paid_within", "written_off_later", "calls"]].sum()
    out.insert(0, "days", g.size())
    out["paid_within_share"] = out["paid_within"] / out["held"].where(out["held"] > 0)
    out["lost_share"] = out["written_off_later"] / out["held"].where(out["held"] > 0)
    out.attrs["daily"] = daily
    return out.reset_index()
