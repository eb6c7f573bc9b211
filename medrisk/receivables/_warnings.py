"""Warnings for the reports: each breached threshold, in English and Chinese.

:func:`warnings` checks company figures (overdue rate, rise of the DSO, bad-debt
rate, as :func:`medrisk.receivables.kpis` defines them) and customer figures of
:func:`medrisk.receivables.customer_360` (over the credit limit, credit utilisation,
overdue share, money long past due) against :data:`DEFAULT_THRESHOLDS` or the
caller's thresholds. The reports read their thresholds from one file,
``params/warnings.yaml`` (:data:`DEFAULT_WARNINGS_PATH`), with
:func:`load_warning_thresholds`; :data:`DEFAULT_THRESHOLDS` holds the same values.
(The module is not named ``warnings``, which would shadow the standard library's.)
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from medrisk import kernel
from medrisk.config import PARAMS_DIR
from medrisk.data import Ledger
from medrisk.exceptions import ParamsError
from medrisk.kernel import yuan
from medrisk.receivables._engine import _aging_core, event_book
from medrisk.receivables._kpis import _ratio, _shift_months
from medrisk.receivables._rankings import customer_360

__all__ = [
    "warnings",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_WARNINGS_PATH",
    "load_warning_thresholds",
]

# fmt: off
_WARNING_COLUMNS = ["as_of", "rule", "scope", "scope_id", "metric", "value", "threshold",
                    "message_en", "message_zh"]
# fmt: on

#: Thresholds of :func:`warnings`; a key set to None (or left out) is not checked.
#: The same values as ``params/warnings.yaml`` (a test checks that they agree).
DEFAULT_THRESHOLDS: dict[str, object] = {
    "overdue_rate_max": 0.3,
    "dso_increase_days_max": 10,
    "bad_debt_rate_max": 0.02,
    "over_credit_limit": True,
    "utilisation_max": None,
    "customer_overdue_rate_max": None,
    "long_overdue_days": None,
}
#: The warning thresholds file of the reports (``params/warnings.yaml``).
DEFAULT_WARNINGS_PATH = PARAMS_DIR / "warnings.yaml"


def _number(v: object) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)


def _share(v: object) -> bool:
    return _number(v) and 0 <= v <= 1


#: What each threshold accepts besides null: (description for messages, check).
_ALLOWED: dict[str, tuple[str, Callable[[object], bool]]] = {
    "overdue_rate_max": ("a share from 0 to 1 (0.3 = 30%)", _share),
    "dso_increase_days_max": ("a number of days", _number),
    "bad_debt_rate_max": ("a share from 0 to 1 (0.02 = 2%)", _share),
    "over_credit_limit": ("true or false", lambda v: isinstance(v, bool)),
    "utilisation_max": ("a number of at least 0 (0.8 = 80% of the credit limit)",
                        lambda v: _number(v) and v >= 0),
    "customer_overdue_rate_max": ("a share from 0 to 1 (0.5 = 50%)", _share),
    "long_overdue_days": ("a whole number of days of at least 0",
                          lambda v: isinstance(v, Integral) and not isinstance(v, bool) and v >= 0),
}


def load_warning_thresholds(path: str | Path | None = None) -> dict[str, object]:
    """Read the receivables warning thresholds from a YAML file and check them.

    Parameters
    ----------
    path : str or Path, default=None
        The thresholds file; None (or blank) reads :data:`DEFAULT_WARNINGS_PATH`
        (``params/warnings.yaml``).

    Returns
    -------
    dict
        Every key of :data:`DEFAULT_THRESHOLDS`, in that order, for
        :func:`warnings`: floats for the limits, an int for
        ``long_overdue_days``, a bool for ``over_credit_limit``; None for a key
        that is null or left out (not checked).

    Raises
    ------
    ParamsError
        When the file does not exist or is not valid YAML, for an unknown key,
        or for a value of the wrong type or out of range; the message names the
        file, the key, the value and what is allowed.

    Examples
    --------
    >>> th = load_warning_thresholds()
    >>> th["overdue_rate_max"], th["over_credit_limit"], th["long_overdue_days"]
    (0.3, True, None)
    """
    p = Path(path or DEFAULT_WARNINGS_PATH)
    if not p.is_file():
        raise ParamsError(f"Warning thresholds file {p} does not exist; the thresholds of the "
                          f"reports are in {DEFAULT_WARNINGS_PATH}.")
    try:
        data = YAML(typ="safe").load(p.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise ParamsError(f"{p}: not valid YAML ({exc}).") from exc
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ParamsError(f"{p}: expected a mapping of threshold names to values "
                          f"(e.g. 'overdue_rate_max: 0.3'); got {data!r}.")
    for key, value in data.items():
        if key not in DEFAULT_THRESHOLDS:
            close = difflib.get_close_matches(str(key), list(DEFAULT_THRESHOLDS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ParamsError(f"{p}: unknown key {key!r} (value {value!r}).{hint} "
                              f"Allowed keys are {list(DEFAULT_THRESHOLDS)}.")
    out: dict[str, object] = {}
    for key in DEFAULT_THRESHOLDS:
        value = data.get(key)
        if value is None:
            out[key] = None
            continue
        allowed, ok = _ALLOWED[key]
        if not ok(value):
            raise ParamsError(f"{p}: {key} must be {allowed}, or null to switch the check off; "
                              f"got {value!r} ({type(value).__name__}).")
        out[key] = (value if isinstance(value, bool)
                    else int(value) if key == "long_overdue_days" else float(value))
    return out


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _customer_message(rule: str, who: str, r, lim: float) -> tuple[str, str]:
    if rule == "over_credit_limit":
        amt, cap = yuan(r.open_amount, 2, symbol=False), yuan(r.credit_limit, 2, symbol=False)
        return (f"{who}: open {amt} CNY exceeds the credit limit of {cap} CNY.",
                f"{who}：未结应收 {amt} 元，超过信用额度 {cap} 元。")
    if rule == "utilisation_max":
        use, cap = _pct(r.utilisation), _pct(lim)
        return (f"{who}: uses {use} of its credit limit (limit {cap}); hold new orders.",
                f"{who}：信用额度占用率 {use}，超过 {cap}，应暂停新订单。")
    if rule == "customer_overdue_rate_max":
        rate, amt, cap = _pct(r.overdue_rate), yuan(r.overdue_amount, 2, symbol=False), _pct(lim)
        return (f"{who}: {rate} of open AR is overdue ({amt} CNY; limit {cap}).",
                f"{who}：逾期占比 {rate}（逾期 {amt} 元，上限 {cap}）。")
    days = r.max_days_past_due
    return (f"{who}: has money {days} days past due (limit {lim:g} days).",
            f"{who}：最长逾期 {days} 天（上限 {lim:g} 天）。")


def warnings(ledger: Ledger, as_of, thresholds: Mapping[str, object] | None = None, *,
             dso_window_months: int = 3, bad_debt_window_months: int = 12) -> pd.DataFrame:
    """Warnings for the reports: each breached threshold, in English and Chinese.

    Parameters
    ----------
    ledger : Ledger
    as_of : date-like
    thresholds : dict, default=None
        Keys of :data:`DEFAULT_THRESHOLDS` (None uses it), e.g. from
        :func:`load_warning_thresholds`; a key left out or set to None/False is
        not checked:

        * ``overdue_rate_max``: company overdue AR / AR as of ``as_of``;
        * ``dso_increase_days_max``: rise of the standard DSO over the
          ``dso_window_months`` ending ``as_of`` against the same window ending
          one month earlier;
        * ``bad_debt_rate_max``: write-offs / sales over the
          ``bad_debt_window_months`` ending ``as_of``;
        * ``over_credit_limit``: customers whose open amount exceeds their credit limit;
        * ``utilisation_max``: customers using more than this share of their
          limit (and not already over it);
        * ``customer_overdue_rate_max``: customers whose overdue share of open
          AR is above this;
        * ``long_overdue_days``: customers with money at least this many days past due.
    dso_window_months, bad_debt_window_months : int, default=3, 12

    Returns
    -------
    DataFrame
        as_of, rule, scope ("company" or "customer"), scope_id, metric, value,
        threshold, message_en, message_zh. Empty when nothing is breached.

    Raises
    ------
    ParamsError
        For an unknown threshold key.
    """
    th = dict(DEFAULT_THRESHOLDS if thresholds is None else thresholds)
    unknown = set(th) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ParamsError(f"Unknown threshold(s) {sorted(unknown)}. "
                          f"Possible keys are: {list(DEFAULT_THRESHOLDS)}.")
    day = kernel.day_of(as_of)
    ts = kernel.to_ts([day])[0]
    out: list[tuple] = []

    def on(key):
        return th.get(key) is not None and th.get(key) is not False

    def window(months: int, end: int = day) -> dict:  # company figures, as in kpis(), cheaply
        book = event_book(ledger)
        start = int(_shift_months(np.array([end + 1]), np.array([int(months)]))[0])
        amounts, _, rows = _aging_core(book, np.array([end]), None, 1, np.array([0]), "due_date")
        current, overdue = (int(a) for a in amounts[0]) if len(rows) else (0, 0)
        sales = int(book.amount[(book.inv_day >= start) & (book.inv_day <= end)].sum())
        wo = (book.ev_kind == 3) & (book.ev_day >= start) & (book.ev_day <= end)
        wo = int(np.diff(book.cum)[wo].sum())
        return {"closing_ar": current + overdue, "closing_overdue_ar": overdue, "write_offs": wo,
                "overdue_rate": float(_ratio(overdue, current + overdue)),
                "dso": float(_ratio(current + overdue, sales)) * (end - start + 1),
                "bad_debt_rate": float(_ratio(wo, sales))}

    if on("overdue_rate_max"):
        k, lim = window(1), float(th["overdue_rate_max"])
        rate = k["overdue_rate"]
        od, ar = (yuan(k["closing_overdue_ar"], 2, symbol=False),
                  yuan(k["closing_ar"], 2, symbol=False))
        if rate > lim:
            out.append(("overdue_rate_max", "company", "company", "overdue_rate", rate, lim,
                        f"Overdue rate {_pct(rate)} is above the limit of {_pct(lim)} "
                        f"(overdue {od} of {ar} CNY).",
                        f"逾期率 {_pct(rate)} 超过上限 {_pct(lim)}"
                        f"（逾期 {od} 元，应收合计 {ar} 元）。"))
    if on("dso_increase_days_max"):
        lim = float(th["dso_increase_days_max"])
        end_prev = int(_shift_months(np.array([day + 1]), np.array([1]))[0]) - 1
        now = window(dso_window_months)["dso"]
        rise = now - window(dso_window_months, end_prev)["dso"]
        if rise > lim:
            out.append(("dso_increase_days_max", "company", "company", "dso_increase_days",
                        rise, lim,
                        f"DSO rose by {rise:.1f} days to {now:.1f} days (limit {lim:g} days).",
                        f"应收账款周转天数上升 {rise:.1f} 天，达到 {now:.1f} 天"
                        f"（上限 {lim:g} 天）。"))
    if on("bad_debt_rate_max"):
        n, lim = bad_debt_window_months, float(th["bad_debt_rate_max"])
        k = window(n)
        if k["bad_debt_rate"] > lim:
            rate, wo = k["bad_debt_rate"], yuan(k["write_offs"], 2, symbol=False)
            out.append(("bad_debt_rate_max", "company", "company", "bad_debt_rate", rate, lim,
                        f"Bad-debt rate {_pct(rate)} over {n} months is above {_pct(lim)} "
                        f"(write-offs {wo} CNY).",
                        f"近{n}个月坏账率 {_pct(rate)} 超过上限 {_pct(lim)}（核销坏账 {wo} 元）。"))
    rules = ("over_credit_limit", "utilisation_max", "customer_overdue_rate_max",
             "long_overdue_days")
    if any(on(key) for key in rules):
        view = customer_360(ledger, as_of)
        view["overdue_rate"] = _ratio(view["overdue_amount"], view["open_amount"])
        who = view["customer_id"].astype(str) + " " + view["name"].fillna("").astype(str)
        for key in filter(on, rules):
            lim = 1.0 if key == "over_credit_limit" else float(th[key])
            metric, rows = {
                "over_credit_limit": ("utilisation", view["over_limit"]),
                "utilisation_max": ("utilisation", (view["utilisation"] > lim)
                                    & ~(view["over_limit"] & on("over_credit_limit"))),
                "customer_overdue_rate_max": ("overdue_rate", view["overdue_rate"] > lim),
                "long_overdue_days": ("max_days_past_due", (view["max_days_past_due"] >= lim)
                                      & (view["overdue_amount"] > 0)),
            }[key]
            hits = view[rows].assign(who=who[rows])
            for r in hits.sort_values(metric, ascending=False, kind="stable").itertuples():
                en, zh = _customer_message(key, r.who, r, lim)  # one message per warning
                value = float(getattr(r, metric))
                out.append((key, "customer", r.customer_id, metric, value, lim, en, zh))
    frame = pd.DataFrame(out, columns=_WARNING_COLUMNS[1:])
    frame.insert(0, "as_of", ts)
    return frame.astype({"value": float, "threshold": float})
