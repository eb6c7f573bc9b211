"""The dunning policy engine (催收阶段): which collection actions are due on a day.

Stages come from ``dunning.stages`` in ``params/collections.yaml``; by default

=======================  ===========  =========  ============  ================
stage                    offset_days  channel    actor         recipient
=======================  ===========  =========  ============  ================
pre_due_reminder         -3           sms        salesperson   customer_contact
overdue_call             1            call       salesperson   customer_contact
supervisor_escalation    15           call       supervisor    supervisor
finance_letter           60           letter     finance       customer_contact
legal_review             90           legal      legal         legal
=======================  ===========  =========  ============  ================

``offset_days`` is days after the due date (negative: before it). On
``as_of`` an invoice *reaches* the last stage whose offset is at most
``as_of - due_date``. :func:`due_actions` issues that stage when all of these
hold:

* the invoice is open on ``as_of`` (dunning stops the day it is paid in full);
* no stage at or after it was already done for the invoice (a stage is never
  repeated and never goes back; a run that missed days issues only the stage
  reached, not the ones skipped);
* no promise to pay is pending (latest ``promise_to_pay`` action, until its
  ``promise_date`` + ``promise_grace_days``); a broken promise resumes dunning;
* the invoice is not in dispute (its latest action with an outcome ended in
  ``dispute``): those go to the dispute queue instead.

Messages come from the jinja2 templates ``dunning_zh.j2`` and
``dunning_en.j2`` (built in, or your own in ``dunning.template_dir``),
rendered in a sandbox. :func:`append_actions` adds issued actions to a
ledger; :func:`write_actions_csv` appends them to a CSV action log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from medrisk.config import ACTION_CHANNELS, resolve_path
from medrisk.data import CollectionAction, Ledger
from medrisk.dunning._priority import (
    _date_text,
    _day,
    _positions_in,
    invoice_contacts,
    load_params,
)
from medrisk.dunning._worklists import _dates
from medrisk.exceptions import ParamsError, SchemaError
from medrisk.kernel import spreadsheet_safe, yuan_array
from medrisk.receivables import allocations_of, open_items

__all__ = [
    "DunningRun",
    "ACTORS",
    "RECIPIENTS",
    "ACTION_COLUMNS",
    "TEMPLATE_FIELDS",
    "dunning_stages",
    "due_actions",
    "render_messages",
    "append_actions",
    "write_actions_csv",
    "backtest_dunning",
]

ACTORS = ("salesperson", "supervisor", "finance", "legal")
RECIPIENTS = ("customer_contact", "salesperson", "supervisor", "finance", "legal")
ACTION_COLUMNS = list(CollectionAction.to_schema().columns)
#: Fields a message template can use.
TEMPLATE_FIELDS = (
    "stage", "customer_id", "customer_name", "invoice_id", "invoice_date", "due_date",
    "amount", "open_amount", "days_past_due", "days_to_due", "salesperson_name", "actor",
    "recipient", "as_of",
)
_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class DunningRun:
    """What the dunning engine found due on one day.

    Attributes
    ----------
    as_of : Timestamp
    actions : DataFrame
        New collection_actions rows in the canonical schema (outcome, promise
        empty until the action is done), ready for :func:`append_actions`.
    tasks : DataFrame
        The same actions with what to do: recipient, recipient_id,
        open_amount (fen), days_past_due, due_date, message_zh, message_en.
    paused : DataFrame
        Invoices with a stage due that wait for a pending promise to pay.
    disputes : DataFrame
        The dispute queue: every open invoice in dispute, with the stage it
        would otherwise have reached (``stage_due``, empty when none).
    """

    as_of: pd.Timestamp
    actions: pd.DataFrame
    tasks: pd.DataFrame
    paused: pd.DataFrame = field(default_factory=pd.DataFrame)
    disputes: pd.DataFrame = field(default_factory=pd.DataFrame)


def dunning_stages(params: Mapping | str | Path | None = None) -> pd.DataFrame:
    """Return the dunning stages of ``params``, checked, in order.

    Parameters
    ----------
    params : dict, path or None, default=None
        Collections parameters (:func:`medrisk.dunning.load_params`).

    Returns
    -------
    DataFrame
        name, offset_days, channel, actor, recipient; one row per stage.

    Raises
    ------
    ParamsError
        When a stage lacks a key, names are repeated, offsets do not
        increase, or a channel, actor or recipient is unknown.
    """
    stages = load_params(params)["dunning"]["stages"]
    if not stages:
        raise ParamsError("dunning.stages must list at least one stage; got none.")
    need = ("name", "offset_days", "channel", "actor", "recipient")
    for st in stages:
        if not isinstance(st, Mapping) or set(need) - set(st):
            raise ParamsError(f"dunning.stages: each stage needs keys {list(need)}; got {st!r}.")
        if not isinstance(st["offset_days"], (int, np.integer)) or isinstance(
                st["offset_days"], bool):
            raise ParamsError(f"dunning.stages {st['name']!r}: offset_days must be a whole "
                              f"number of days; got {st['offset_days']!r}.")
        for key, allowed in (("channel", ACTION_CHANNELS), ("actor", ACTORS),
                             ("recipient", RECIPIENTS)):
            if st[key] not in allowed:
                raise ParamsError(f"dunning.stages {st['name']!r}: {key}={st[key]!r} is not "
                                  f"supported. Possible values are: {list(allowed)}.")
    frame = pd.DataFrame([{k: st[k] for k in need} for st in stages])
    if frame["name"].duplicated().any():
        raise ParamsError(f"dunning.stages: stage names must be unique; got "
                          f"{frame['name'].tolist()}.")
    if np.any(np.diff(frame["offset_days"].to_numpy(np.int64)) <= 0):
        raise ParamsError(f"dunning.stages: offset_days must increase from stage to stage; got "
                          f"{frame['offset_days'].tolist()}.")
    return frame.astype({"offset_days": np.int64})


def _stage_done(ledger: Ledger, day: pd.Timestamp, stages: pd.DataFrame, open_ids: pd.Series,
                extra: pd.DataFrame | None, recorded: bool) -> np.ndarray:
    """Index of the latest configured stage done for each open invoice (-1: none)."""
    done = np.full(len(open_ids), -1, np.int64)
    parts = []
    acts = ledger.table("collection_actions")
    if recorded and acts is not None:
        parts.append(acts)
    if extra is not None and len(extra):
        parts.append(extra)
    for acts in parts:  # the ledger's log and the extra rows
        pos = _positions_in(acts["invoice_id"], open_ids)
        idx = _positions_in(acts["stage"], stages["name"])
        ok = (pos >= 0) & (idx >= 0) & (
            acts["action_date"].to_numpy(dtype="datetime64[ns]") <= day.to_datetime64())
        np.maximum.at(done, pos[ok], idx[ok])
    return done


def _people(ledger: Ledger, sp_ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Supervisor (the manager; the salesperson when none) and name of each salesperson."""
    sp = ledger.table("salespeople")
    if sp is None:
        return sp_ids, sp_ids
    sp = sp.set_index("salesperson_id")
    mgr = sp_ids.map(sp["manager_id"])
    names = sp_ids.map(sp["name"])
    return mgr.where(mgr.notna(), sp_ids), names.where(names.notna(), sp_ids)


def due_actions(
    ledger: Ledger,
    as_of,
    params: Mapping | str | Path | None = None,
    *,
    render: bool = True,
    extra_actions: pd.DataFrame | None = None,
    recorded_stages: bool = True,
) -> DunningRun:
    """List the collection actions due on ``as_of`` (see the module docstring for the rules).

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
        The day of the run; only what was known that day is read.
    params : dict, path or None, default=None
        Collections parameters; section ``dunning``.
    render : bool, default=True
        Render ``message_zh`` / ``message_en`` from the templates (else empty).
    extra_actions : DataFrame, default=None
        collection_actions rows not in the ledger yet (e.g. issued earlier in
        a replay), read as done.
    recorded_stages : bool, default=True
        Whether stages recorded in the ledger count as done. A replay of a
        candidate schedule sets it False so that only its own actions count
        (promises and disputes in the ledger are still read).

    Returns
    -------
    DunningRun

    Raises
    ------
    ParamsError
        For bad stages or a bad ``as_of``.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.dunning import append_actions, due_actions
    >>> ledger = make_ledger(2_000, seed=1)
    >>> run = due_actions(ledger, "2026-06-30")
    >>> run.actions["stage"].value_counts()
    stage
    legal_review             9
    overdue_call             5
    supervisor_escalation    3
    pre_due_reminder         1
    Name: count, dtype: int64
    >>> print(run.tasks["message_en"].iloc[0])
    Legal review: 蚌埠市中医院, invoice INV00000667, ¥172,866 outstanding, 344 days overdue.
    Assess legal action.
    >>> len(ledger.table("collection_actions"))
    2611
    >>> ledger = append_actions(ledger, run.actions)
    >>> len(ledger.table("collection_actions"))
    2629
    """
    prm = load_params(params)
    dp = prm["dunning"]
    stages = dunning_stages(prm)
    day = _day(as_of)
    items = open_items(ledger, day)
    op = items[items["open_amount"] > 0].reset_index(drop=True)
    contacts = invoice_contacts(ledger, day, items, int(dp["promise_grace_days"]), extra_actions)
    signed = (day - op["due_date"]).dt.days.to_numpy(np.int64)
    offsets = stages["offset_days"].to_numpy(np.int64)
    reached = np.searchsorted(offsets, signed, side="right") - 1
    done = _stage_done(ledger, day, stages, op["invoice_id"], extra_actions, recorded_stages)
    due = (reached >= 0) & (reached > done)
    pending = contacts["promise_state"].to_numpy() == "pending"
    disputed = contacts["disputed"].to_numpy(bool)
    stage_name = np.where(reached >= 0, stages["name"].to_numpy(dtype=object)[
        np.maximum(reached, 0)], None)

    names = ledger.customers.set_index("customer_id")["name"] if "name" in ledger.customers \
        else pd.Series(dtype=object)
    base = op[["invoice_id", "customer_id", "salesperson_id", "invoice_date", "due_date",
               "amount", "open_amount", "days_past_due"]].assign(
        customer_name=op["customer_id"].map(names), stage=stage_name,
        days_to_due=-signed, promise_date=contacts["promise_date"].to_numpy())
    paused = base[due & pending & ~disputed][
        ["invoice_id", "customer_id", "stage", "open_amount", "days_past_due", "promise_date"]]
    disputes = base[disputed].rename(columns={"stage": "stage_due"})
    disputes = disputes.assign(stage_due=np.where(due[disputed], disputes["stage_due"], None))[
        ["invoice_id", "customer_id", "customer_name", "salesperson_id", "open_amount",
         "days_past_due", "stage_due"]]
    t = base[due & ~pending & ~disputed].reset_index(drop=True)
    pos = reached[due & ~pending & ~disputed]
    st = {k: stages[k].to_numpy(dtype=object)[pos] for k in ("channel", "actor", "recipient")}
    supervisor, sp_name = _people(ledger, t["salesperson_id"])
    n = len(t)
    who = {"salesperson": t["salesperson_id"].to_numpy(dtype=object),
           "supervisor": supervisor.to_numpy(dtype=object),
           "finance": np.full(n, dp["finance_actor"], dtype=object),
           "legal": np.full(n, dp["legal_actor"], dtype=object),
           "customer_contact": t["customer_id"].to_numpy(dtype=object)}
    actor = np.select([st["actor"] == k for k in who], list(who.values()), None)
    recipient = np.select([st["recipient"] == k for k in who], list(who.values()), None)
    stamp = day.strftime("%Y%m%d")
    actions = pd.DataFrame({
        "action_id": "DUN-" + stamp + "-" + t["invoice_id"].astype(str) + "-" + t["stage"],
        "customer_id": t["customer_id"], "invoice_id": t["invoice_id"],
        "action_date": pd.Series(day, index=t.index, dtype="datetime64[ns]"),
        "stage": t["stage"], "channel": st["channel"], "actor": actor,
        "outcome": pd.Series(None, index=t.index, dtype=object),
        "promise_date": pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns]"),
        "promise_amount": pd.array([pd.NA] * len(t), dtype="Int64"),
    })[ACTION_COLUMNS]
    tasks = actions.assign(
        customer_name=t["customer_name"], recipient=st["recipient"], recipient_id=recipient,
        salesperson_name=sp_name, invoice_date=t["invoice_date"], due_date=t["due_date"],
        amount=t["amount"], open_amount=t["open_amount"], days_past_due=t["days_past_due"],
        days_to_due=t["days_to_due"])
    if render:
        tasks["message_zh"] = render_messages(tasks, "zh", dp["template_dir"], day)
        tasks["message_en"] = render_messages(tasks, "en", dp["template_dir"], day)
    else:
        tasks["message_zh"] = tasks["message_en"] = ""
    return DunningRun(as_of=day, actions=actions, tasks=tasks,
                      paused=paused.reset_index(drop=True),
                      disputes=disputes.reset_index(drop=True))


def _environment(template_dir: str | Path | None):
    dirs = [str(_TEMPLATES)]
    if template_dir:
        own = Path(resolve_path(str(template_dir)))
        if not own.is_dir():
            raise ParamsError(f"dunning.template_dir {str(template_dir)!r} is not a folder "
                              f"(looked in {own}).")
        dirs.insert(0, str(own))
    return SandboxedEnvironment(loader=FileSystemLoader(dirs), undefined=StrictUndefined,
                                autoescape=False, keep_trailing_newline=False)


def render_messages(tasks: pd.DataFrame, language: str = "zh",
                    template_dir: str | Path | None = None, as_of=None) -> pd.Series:
    """Render the message of each task from ``dunning_<language>.j2``.

    Parameters
    ----------
    tasks : DataFrame
        :attr:`DunningRun.tasks` (columns named in :data:`TEMPLATE_FIELDS`).
    language : {"zh", "en"}, default="zh"
    template_dir : str or Path, default=None
        A folder whose ``dunning_zh.j2`` / ``dunning_en.j2`` replace the built-in ones.
    as_of : date-like, default=None
        Date printed in letters (each action's date when None).

    Returns
    -------
    Series of str
        One message per task. Templates run in a jinja2 sandbox; an undefined
        field is an error.

    Raises
    ------
    ParamsError
        For an unknown language, a missing folder, or a template that fails.
    """
    if language not in ("zh", "en"):
        raise ParamsError(f"language={language!r} is not supported. Possible values are: "
                          "['zh', 'en'].")
    env = _environment(template_dir)
    template = env.get_template(f"dunning_{language}.j2")
    n = len(tasks)
    if n == 0:
        return pd.Series([], dtype=object, index=tasks.index)
    when = (pd.Series(_date_text(tasks["action_date"])) if as_of is None
            else pd.Series(_date_text([_day(as_of)] * n)))
    fields = pd.DataFrame({
        "stage": tasks["stage"].to_numpy(), "customer_id": tasks["customer_id"].to_numpy(),
        "customer_name": tasks["customer_name"].fillna(tasks["customer_id"]).to_numpy(),
        "invoice_id": tasks["invoice_id"].to_numpy(),
        "invoice_date": _date_text(tasks["invoice_date"]),
        "due_date": _date_text(tasks["due_date"]),
        "amount": yuan_array(tasks["amount"]).to_numpy(zero_copy_only=False),
        "open_amount": yuan_array(tasks["open_amount"]).to_numpy(zero_copy_only=False),
        "days_past_due": tasks["days_past_due"].to_numpy(np.int64),
        "days_to_due": tasks["days_to_due"].to_numpy(np.int64),
        "salesperson_name": tasks["salesperson_name"].fillna("").to_numpy(),
        "actor": tasks["actor"].fillna("").to_numpy(),
        "recipient": tasks["recipient_id"].fillna("").to_numpy(), "as_of": when.to_numpy(),
    })
    keys = list(fields.columns)
    columns = [fields[k].tolist() for k in keys]
    try:  # text rendering is per message: bounded by the actions of one day
        out = [template.render(dict(zip(keys, row, strict=True)))
               for row in zip(*columns, strict=True)]
    except TemplateError as exc:
        raise ParamsError(f"Template dunning_{language}.j2 failed: {exc}. Fields a template "
                          f"can use: {list(TEMPLATE_FIELDS)}.") from exc
    return pd.Series(out, index=tasks.index, dtype=object)


def _canonical(actions: pd.DataFrame) -> pd.DataFrame:
    missing = set(ACTION_COLUMNS) - set(actions.columns)
    if missing:
        raise SchemaError(f"actions lack column(s) {sorted(missing)}; collection_actions "
                          f"need {ACTION_COLUMNS}.")
    try:
        return CollectionAction.validate(actions[ACTION_COLUMNS].copy())
    except pandera.errors.SchemaError as exc:
        raise SchemaError(f"actions break the collection_actions schema: {exc}") from exc


def append_actions(ledger: Ledger, actions: pd.DataFrame) -> Ledger:
    """Return a new Ledger whose collection_actions hold ``actions`` after the existing ones.

    The given ledger is not changed (its cached receivables stay valid).

    Parameters
    ----------
    ledger : Ledger
    actions : DataFrame
        Canonical collection_actions rows, e.g. :attr:`DunningRun.actions`.

    Returns
    -------
    Ledger

    Raises
    ------
    SchemaError
        When a column is missing, a row breaks the schema, or an action_id is
        already in the ledger.
    """
    new = _canonical(actions)
    old = ledger.table("collection_actions")
    if old is not None:
        clash = new["action_id"][new["action_id"].isin(old["action_id"])]
        if len(clash):
            raise SchemaError(f"action_id(s) {clash.head(5).tolist()} are already in the ledger; "
                              "each action is appended once.")
        new = pd.concat([old, new.astype(old.dtypes.to_dict())], ignore_index=True)
    tables = {**ledger.tables, "collection_actions": new}
    return Ledger(tables, load_report=ledger.load_report, source=ledger.source)


def write_actions_csv(actions: pd.DataFrame, path: str | Path, append: bool = True) -> Path:
    """Write (or append) actions to a collection_actions CSV that :func:`medrisk.load_ledger` reads.

    Dates as ``YYYY-MM-DD``, ``promise_amount`` in 元 with two decimals, UTF-8.

    Parameters
    ----------
    actions : DataFrame
        Canonical collection_actions rows.
    path : str or Path
        The CSV; created with a header when missing.
    append : bool, default=True
        Append to an existing file (its header must be the canonical one);
        False overwrites.

    Returns
    -------
    Path

    Raises
    ------
    SchemaError
        For non-canonical actions, or an existing file with other columns.
    """
    frame = _canonical(actions)
    path = Path(path)
    out = frame.astype(object)
    for col in ("action_date", "promise_date"):
        out[col] = _date_text(frame[col])
    fen = frame["promise_amount"]
    v = fen.fillna(0).to_numpy(np.int64)
    text = (pd.Series(v // 100).astype(str) + "." + pd.Series(v % 100).astype(str).str.zfill(2))
    out["promise_amount"] = np.where(fen.isna().to_numpy(), "", text.to_numpy(dtype=object))
    exists = append and path.exists() and path.stat().st_size > 0
    if exists:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns.tolist()
        if header != ACTION_COLUMNS:
            raise SchemaError(f"{path} has columns {header}; expected the collection_actions "
                              f"columns {ACTION_COLUMNS}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    spreadsheet_safe(out).to_csv(path, mode="a" if exists else "w", header=not exists,
                                 index=False, encoding="utf-8")
    return path


def backtest_dunning(
    ledger: Ledger,
    dates: Iterable,
    params: Mapping | str | Path | None = None,
    *,
    horizon_days: int = 30,
    recorded_stages: bool = False,
) -> pd.DataFrame:
    """Replay a dunning schedule day by day over past data.

    Days run in order; the actions issued on a day count as done on later
    days, so a stage is never issued twice. Each day reads only what was known
    then (payments, adjustments and recorded promises and disputes up to that
    day); outcomes look ``horizon_days`` ahead.

    Parameters
    ----------
    ledger : Ledger
    dates : iterable of date-like
        Usually every day of a period (``pd.date_range(start, end)``).
    params : dict, path or None, default=None
        The schedule to replay (collections parameters).
    horizon_days : int, default=30
    recorded_stages : bool, default=False
        Whether stages recorded in the ledger count as done (True replays the
        schedule on top of what the team actually did).

    Returns
    -------
    DataFrame
        One row per (as_of, stage) with actions: as_of, stage, actions,
        open_amount (fen), paid_within (cash applied to those invoices within
        ``horizon_days``, fen), paid_within_share, paused, disputes.
    """
    if not isinstance(horizon_days, (int, np.integer)) or horizon_days < 1:
        raise ParamsError(f"horizon_days must be a whole number >= 1; got {horizon_days!r}.")
    prm = load_params(params)
    alloc = allocations_of(ledger)[["invoice_id", "payment_date", "amount"]]
    issued: list[pd.DataFrame] = []
    rows = []
    for day in _dates(dates):  # days in order: each day's run is vectorised
        extra = pd.concat(issued, ignore_index=True) if issued else None
        run = due_actions(ledger, day, prm, render=False, extra_actions=extra,
                          recorded_stages=recorded_stages)
        issued.append(run.actions)
        t = run.tasks
        a = alloc[alloc["invoice_id"].isin(t["invoice_id"])]
        a = a[(a["payment_date"] > day)
              & (a["payment_date"] <= day + pd.Timedelta(days=int(horizon_days)))]
        paid = t["invoice_id"].map(a.groupby("invoice_id")["amount"].sum()).fillna(0)
        per = t.assign(paid=paid.to_numpy(np.int64)).groupby("stage", sort=False).agg(
            actions=("action_id", "size"), open_amount=("open_amount", "sum"),
            paid_within=("paid", "sum"))
        for stage, r in per.iterrows():
            rows.append({"as_of": day, "stage": stage, "actions": int(r["actions"]),
                         "open_amount": int(r["open_amount"]),
                         "paid_within": int(r["paid_within"]),
                         "paused": len(run.paused), "disputes": len(run.disputes)})
    out = pd.DataFrame(rows, columns=["as_of", "stage", "actions", "open_amount", "paid_within",
                                      "paused", "disputes"])
    out["paid_within_share"] = out["paid_within"] / out["open_amount"].where(
        out["open_amount"] > 0)
    out.attrs.update(horizon_days=int(horizon_days), unit="fen")
    return out
