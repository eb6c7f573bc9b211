"""Collection KPIs per salesperson, team and region, rankings, and collection-linked pay.

:func:`collection_kpis` takes its figures from :func:`medrisk.receivables.kpis`
(sales, cash collected, collection rate, on-time rate, overdue AR, DSO,
average days to collect) and :func:`medrisk.receivables.customer_360` (broken
promises), and adds the number of overdue customers; nothing they give is
recomputed. :func:`medrisk.receivables.rank_by` ranks any of its columns.

:func:`collection_pay` applies the pay formula of ``params/collections.yaml``
(default ``base + sales * commission_rate * (collection_rate * weight)``) per
salesperson and shows every input next to the result. The formula is a *safe
expression*: it is parsed with :mod:`ast` and may only use numbers, the
names of its inputs, ``+ - * /``, unary minus and ``min(...)`` / ``max(...)``;
nothing is ever passed to ``eval``. Money inputs are in 元 and the result is
rounded half away from zero to the fen.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.data import Ledger
from medrisk.dunning._priority import load_params
from medrisk.exceptions import ParamsError
from medrisk.receivables import customer_360, dimensions, kpis, open_items

__all__ = [
    "COLLECTION_KPI_COLUMNS",
    "KPI_INPUTS",
    "parse_formula",
    "evaluate_formula",
    "collection_kpis",
    "collection_pay",
]

COLLECTION_KPI_COLUMNS = [
    "sales", "collected", "collection_rate", "on_time_rate", "on_time_rate_count",
    "closing_ar", "overdue_amount", "overdue_customers", "dso", "avg_days_to_collect",
    "avg_days_late", "promises_broken", "write_offs",
]
#: Inputs the pay formula can read from the KPIs (money in 元).
KPI_INPUTS = ("sales", "collected", "collection_rate", "on_time_rate", "overdue_amount",
              "dso", "avg_days_to_collect", "promises_broken", "overdue_customers")
_MONEY_INPUTS = ("sales", "collected", "overdue_amount")

_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}
_UNARY = {ast.UAdd: np.positive, ast.USub: np.negative}
_CALLS = {"min": np.minimum, "max": np.maximum}


# --------------------------------------------------------------------------- the formula
def parse_formula(formula: str, names: list[str] | tuple[str, ...] | None = None) -> ast.Expression:
    """Parse a pay formula and check that it is a safe arithmetic expression.

    Parameters
    ----------
    formula : str
        E.g. ``"base + sales * commission_rate * (collection_rate * weight)"``.
    names : list of str, default=None
        The names the formula may use; None allows any name.

    Returns
    -------
    ast.Expression

    Raises
    ------
    ParamsError
        For a syntax error, or anything but numbers, allowed names,
        ``+ - * /``, unary ``+``/``-`` and ``min``/``max`` calls, naming the
        offending piece and what is allowed.

    Examples
    --------
    >>> _ = parse_formula("base + max(0, sales - 1000) * 0.01", ["base", "sales"])
    """
    if not isinstance(formula, str) or not formula.strip():
        raise ParamsError(f"pay.formula must be a non-empty expression; got {formula!r}.")
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as exc:
        raise ParamsError(f"pay.formula {formula!r} is not a valid expression: {exc.msg}.") \
            from exc
    allowed = "numbers, input names, + - * /, unary minus, min(...) and max(...)"
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load)) or type(node) in _BINOPS \
                or type(node) in _UNARY:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            continue
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            continue
        if isinstance(node, ast.Name):
            if node.id in _CALLS:
                continue  # checked as the function of a call
            if names is not None and node.id not in names:
                raise ParamsError(f"pay.formula uses unknown name {node.id!r}; possible names "
                                  f"are: {sorted(names)}.")
            continue
        if isinstance(node, ast.Call):
            if (isinstance(node.func, ast.Name) and node.func.id in _CALLS and not node.keywords
                    and len(node.args) >= 2
                    and not any(isinstance(a, ast.Starred) for a in node.args)):
                continue
            raise ParamsError(f"pay.formula {formula!r}: call {ast.unparse(node)!r} is not "
                              "allowed; only min(a, b, ...) and max(a, b, ...) with two or "
                              "more arguments are.")
        what = ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__
        raise ParamsError(f"pay.formula {formula!r}: {what!r} ({type(node).__name__}) is not "
                          f"allowed; a formula may use {allowed}.")
    for node in ast.walk(tree):  # min/max only as called functions
        if isinstance(node, ast.Name) and node.id in _CALLS:
            parents = [p for p in ast.walk(tree) if isinstance(p, ast.Call) and p.func is node]
            if not parents:
                raise ParamsError(f"pay.formula {formula!r}: {node.id!r} can only be called, "
                                  f"as {node.id}(a, b).")
    return tree


def evaluate_formula(formula: str, inputs: Mapping[str, object]) -> np.ndarray:
    """Evaluate a safe formula elementwise over named inputs (numbers or arrays).

    Parameters
    ----------
    formula : str
    inputs : dict of str to number or array
        Values of the names; arrays are evaluated elementwise (numpy).

    Returns
    -------
    ndarray of float

    Raises
    ------
    ParamsError
        When the formula is not safe (see :func:`parse_formula`) or uses a
        name without a value.

    Examples
    --------
    >>> evaluate_formula("base + sales * rate", {"base": 100, "sales": [1000, 2000], "rate": 0.1})
    array([200., 300.])
    """
    tree = parse_formula(formula, list(inputs))
    values = {k: np.asarray(v, dtype=float) for k, v in inputs.items()}

    def run(node):
        if isinstance(node, ast.Expression):
            return run(node.body)
        if isinstance(node, ast.Constant):
            return np.asarray(float(node.value))
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](run(node.operand))
        if isinstance(node, ast.BinOp):
            with np.errstate(divide="ignore", invalid="ignore"):
                return _BINOPS[type(node.op)](run(node.left), run(node.right))
        args = [run(a) for a in node.args]  # a checked min/max call
        out = args[0]
        for a in args[1:]:
            out = _CALLS[node.func.id](out, a)
        return out

    return np.asarray(run(tree), dtype=float)


def _to_fen(yuan: np.ndarray) -> np.ndarray:
    """元 to integer fen, rounded half away from zero (NaN stays a missing value)."""
    cents = np.asarray(yuan, dtype=float) * 100.0
    cents = np.round(cents, 6)  # 0.1 + 0.2 style noise must not flip a half
    return np.sign(cents) * np.floor(np.abs(cents) + 0.5)


# --------------------------------------------------------------------------- KPIs
def _labels(ledger: Ledger, frame: pd.DataFrame, by: list[str], via_customer: bool) -> pd.DataFrame:
    """Label each row of ``frame`` with its ``by`` groups, as ``dimensions`` resolves them.

    Rows are read through their customer_id (and, unless ``via_customer``, their
    salesperson_id and invoice columns).
    """
    dims = dimensions(ledger)
    out = pd.DataFrame(index=frame.index)
    cust = ledger.customers.set_index("customer_id")
    sp_id = frame["customer_id"].map(cust["salesperson_id"]) if via_customer \
        else frame["salesperson_id"]
    sp = ledger.table("salespeople")
    for name in by:
        if name not in dims:
            raise ParamsError(f"by={name!r} is not a column of invoices, customers or "
                              f"salespeople. Possible values are: "
                              f"{sorted(k for k in dims if '.' not in k)}.")
        table, col = dims[name], name.split(".")[-1]
        if col == "salesperson_id":
            out[name] = sp_id.to_numpy()
        elif table == "customers":
            out[name] = frame["customer_id"].map(cust[col]).to_numpy()
        elif table == "salespeople":
            out[name] = sp_id.map(sp.set_index("salesperson_id")[col]).to_numpy()
        elif col in frame:
            out[name] = frame[col].to_numpy()
        else:
            out[name] = None  # an invoice column: not defined for a customer
    return out


def collection_kpis(ledger: Ledger, start, end, by: str | list[str] = "salesperson_id",
                    promise_grace_days: int = 3) -> pd.DataFrame:
    """Compute the collection KPIs of ``[start, end]`` per salesperson, team, region ...

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
        First and last day of the period.
    by : str or list of str, default="salesperson_id"
        Any column :func:`medrisk.receivables.dimensions` knows, e.g. ``"team"``,
        ``"region"`` (the customer's), ``"salespeople.region"``.
    promise_grace_days : int, default=3
        As for :func:`medrisk.receivables.customer_360`.

    Returns
    -------
    DataFrame
        One row per group, the ``by`` columns then :data:`COLLECTION_KPI_COLUMNS`:
        sales, collected, closing_ar, overdue_amount (closing overdue AR),
        write_offs (fen); collection_rate, on_time_rate (by amount),
        on_time_rate_count, dso, avg_days_to_collect (``avg_days_to_pay``),
        avg_days_late from :func:`~medrisk.receivables.kpis`; overdue_customers
        (customers with money overdue on ``end``); promises_broken (promises
        whose deadline fell in the period unkept: customer_360 at ``end`` minus
        at the day before ``start``, attributed through the customer; missing
        for invoice-only columns such as product_line).
    """
    names = kernel.as_list(by)
    k = kpis(ledger, start, end, by=names).reset_index()
    k = k.rename(columns={"on_time_rate_amount": "on_time_rate",
                          "avg_days_to_pay": "avg_days_to_collect",
                          "closing_overdue_ar": "overdue_amount"})
    k = k[[*names, *[c for c in COLLECTION_KPI_COLUMNS if c in k.columns]]]

    items = open_items(ledger, end)
    od = items[(items["open_amount"] > 0) & (items["days_past_due"] > 0)]
    od = pd.concat([od[["customer_id"]], _labels(ledger, od, names, False)], axis=1)
    n_od = od.drop_duplicates().groupby(names, dropna=False).size().rename("overdue_customers")

    before = pd.Timestamp(start) - pd.Timedelta(days=1)
    now = customer_360(ledger, end, promise_grace_days)[["customer_id", "promises_broken"]]
    was = customer_360(ledger, before, promise_grace_days)[["customer_id", "promises_broken"]]
    now = now.merge(was, on="customer_id", how="left", suffixes=("", "_before"))
    now["promises_broken"] -= now["promises_broken_before"].fillna(0).astype(np.int64)
    now = pd.concat([now[["promises_broken"]], _labels(ledger, now, names, True)], axis=1)
    broken = now.groupby(names, dropna=False)["promises_broken"].sum()

    out = k.join(n_od, on=names).join(broken, on=names)
    out["overdue_customers"] = out["overdue_customers"].fillna(0).astype(np.int64)
    out["promises_broken"] = out["promises_broken"].astype("Int64")
    if any(dimensions(ledger)[n] == "invoices" and n.split(".")[-1] != "salesperson_id"
           for n in names):
        out["promises_broken"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out = out[[*names, *COLLECTION_KPI_COLUMNS]]
    out.attrs.update(period_start=pd.Timestamp(start), period_end=pd.Timestamp(end), unit="fen")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- pay
def collection_pay(
    ledger: Ledger,
    start,
    end,
    params: Mapping | str | Path | None = None,
    inputs: pd.DataFrame | None = None,
    *,
    formula: str | None = None,
) -> pd.DataFrame:
    """Collection-linked pay per salesperson for the period, with its inputs.

    Parameters
    ----------
    ledger : Ledger
    start, end : date-like
        The pay period.
    params : dict, path or None, default=None
        Collections parameters; section ``pay`` (formula, inputs, overrides).
    inputs : DataFrame, default=None
        Per-salesperson inputs (a ``salesperson_id`` column and input columns,
        e.g. base, commission_rate, weight); they win over ``pay.overrides``,
        which win over ``pay.inputs``.
    formula : str, default=None
        Overrides ``pay.formula``.

    Returns
    -------
    DataFrame
        One row per salesperson with activity in the period: salesperson_id,
        name, team, region, every formula input (money in 元; rates with no
        base are 0), ``pay`` (int64 fen) and ``pay_yuan``.
        ``frame.attrs["formula"]`` holds the formula.

    Raises
    ------
    ParamsError
        For an unsafe formula, a name without a value, or a non-numeric input.

    Examples
    --------
    >>> from medrisk.data.demo import make_ledger
    >>> from medrisk.dunning import collection_pay
    >>> ledger = make_ledger(2_000, seed=1)
    >>> pay = collection_pay(ledger, "2025-01-01", "2025-03-31")
    >>> pay.attrs["formula"]
    'base + sales * commission_rate * (collection_rate * weight)'
    >>> pay[["salesperson_id", "sales", "collected", "collection_rate", "pay_yuan"]].head(3)
      salesperson_id       sales    collected  collection_rate  pay_yuan
    0          SP001  4846846.89   5564250.44         0.389706  42776.86
    1          SP002  6326292.05  14816701.99         0.647825  86966.64
    2          SP003  2225198.01    880720.36         0.274014  17194.71

    Commission on the cash collected instead:

    >>> on_cash = collection_pay(ledger, "2025-01-01", "2025-03-31",
    ...                          formula="base + collected * commission_rate")
    >>> on_cash[["salesperson_id", "pay_yuan"]].head(3)
      salesperson_id   pay_yuan
    0          SP001  116285.01
    1          SP002  301334.04
    2          SP003   22614.41
    """
    pp = load_params(params)["pay"]
    expr = pp["formula"] if formula is None else formula
    k = collection_kpis(ledger, start, end, by="salesperson_id")
    out = k[["salesperson_id"]].copy()
    sp = ledger.table("salespeople")
    if sp is not None:
        out = out.merge(sp[["salesperson_id", "name", "team", "region"]], on="salesperson_id",
                        how="left")
    for col in KPI_INPUTS:
        v = k[col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        v = np.nan_to_num(v, nan=0.0)
        out[col] = v / 100.0 if col in _MONEY_INPUTS else v
    given = dict(pp["inputs"] or {})
    for name, value in given.items():
        out[name] = value
    for sp_id, over in (pp["overrides"] or {}).items():
        if not isinstance(over, Mapping):
            raise ParamsError(f"pay.overrides.{sp_id} must map input names to numbers; "
                              f"got {over!r}.")
        for name, value in over.items():
            if name not in out:
                out[name] = np.nan
            out.loc[out["salesperson_id"] == sp_id, name] = value
    if inputs is not None:
        if "salesperson_id" not in inputs:
            raise ParamsError(f"inputs must have a salesperson_id column; got columns "
                              f"{list(inputs.columns)}.")
        extra = inputs.set_index("salesperson_id")
        for name in extra.columns:
            mapped = out["salesperson_id"].map(extra[name])
            out[name] = mapped.where(mapped.notna(), out[name]) if name in out else mapped
    tree = parse_formula(expr, [c for c in out.columns if c not in ("salesperson_id", "name",
                                                                     "team", "region")])
    used = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(_CALLS))
    values = {}
    for name in used:
        col = pd.to_numeric(out[name], errors="coerce")
        if col.isna().any():
            who = out.loc[col.isna(), "salesperson_id"].head(3).tolist()
            raise ParamsError(f"pay input {name!r} must be a number for every salesperson; "
                              f"missing or not numeric for {who}.")
        values[name] = col.to_numpy(dtype=float)
    value = evaluate_formula(expr, values) if len(out) else np.zeros(0)
    value = np.broadcast_to(value, (len(out),))
    if not np.all(np.isfinite(value)):
        bad = out.loc[~np.isfinite(value), "salesperson_id"].head(3).tolist()
        raise ParamsError(f"pay.formula {expr!r} gives no finite value for {bad} "
                          "(a division by zero?).")
    out["pay"] = _to_fen(value).astype(np.int64)
    out["pay_yuan"] = out["pay"] / 100.0
    out.attrs.update(formula=expr, period_start=pd.Timestamp(start),
                     period_end=pd.Timestamp(end), unit="pay in fen; inputs in 元")
    return out
