"""What each report section needs from the ledger, and what a report shows when it is missing.

A company's first export is often three tables (customers, invoices,
payments). Every report still runs on it: each section declares the tables
and columns it reads (:data:`SECTION_NEEDS`); a section whose needs are not
met is replaced by a short note, in the report's language, saying what is
missing and how to provide it, and the run index lists it. Library functions
raise :class:`~medrisk.exceptions.MissingTableError` as before; the report
catches it per section (:class:`Section`), never failing the whole notebook.
"""

from __future__ import annotations

from dataclasses import dataclass

from medrisk.data import Ledger
from medrisk.exceptions import InsufficientDataError, MissingTableError
from medrisk.i18n import t
from medrisk.reports._present import note, section

__all__ = ["Need", "Skip", "SECTION_NEEDS", "DIMENSION_NEEDS", "unmet", "skip_text",
           "dimensions_text", "Section", "attempt"]


@dataclass(frozen=True)
class Need:
    """A table a section reads, and the columns of it that must hold values.

    Attributes
    ----------
    table : str
        Canonical table name.
    columns : tuple of str
        Columns that must exist with at least one value (the table's required
        columns need not be listed: a table that loaded has them).
    """

    table: str
    columns: tuple[str, ...] = ()

    def met(self, ledger: Ledger) -> bool:
        """Return True when the ledger has the table, with rows, and a value in each column."""
        frame = ledger.table(self.table)
        if frame is None or len(frame) == 0:
            return False
        return all(c in frame.columns and frame[c].notna().any() for c in self.columns)

    def text(self) -> str:
        """``"customers.credit_limit"`` or ``"targets"``."""
        cols = ", ".join(self.columns)
        return f"{self.table} ({cols})" if cols else self.table


@dataclass(frozen=True)
class Skip:
    """A section (or a figure of a summary) left out, and what it needs.

    Attributes
    ----------
    key : str
        Label key of the section or figure, e.g. ``"credit_breaches"``.
    needs : tuple of Need
        What is missing (empty when the reason is too little history).
    reason_en, reason_zh : str
        Why, when it is not a missing table or column.
    """

    key: str
    needs: tuple[Need, ...] = ()
    reason_en: str = ""
    reason_zh: str = ""

    def as_dict(self) -> dict:
        """JSON form, for the recorded figures and the run index."""
        return {"key": self.key, "label_zh": t(self.key, "zh"), "label_en": t(self.key, "en"),
                "needs": [n.text() for n in self.needs],
                "reason_en": self.reason_en, "reason_zh": self.reason_zh}

    @classmethod
    def from_error(cls, key: str, exc: Exception) -> Skip:
        """Return the skip a library's MissingTableError (or InsufficientDataError) describes."""
        if isinstance(exc, MissingTableError):
            return cls(key, (Need(exc.table, tuple(exc.columns)),))
        return cls(key, (), str(exc), getattr(exc, "message_zh", str(exc)))


_ALL_ORDERS = (Need("orders"), Need("order_lines"))
_STOCK = (Need("products"), Need("batches"))

#: Report -> section key -> what the section needs (beyond customers, invoices, payments).
#: Sections not listed need only the three required tables.
SECTION_NEEDS: dict[str, dict[str, tuple[Need, ...]]] = {
    "00-management-summary": {"plan_attainment": (Need("targets"),)},
    "10-receivables": {},
    "15-orders-channels": {
        "summary": _ALL_ORDERS,
        "orders.funnel": _ALL_ORDERS,
        "orders.stuck": _ALL_ORDERS,
        "channels": _ALL_ORDERS,
        "price": _ALL_ORDERS,
        "recall": (Need("shipments"), Need("batches")),
    },
    "20-credit-risk": {
        "credit_breaches": (Need("customers", ("credit_limit",)),),
        "policy_replay": (Need("customers", ("credit_limit",)), Need("orders"),
                          Need("order_lines")),
    },
    "30-collections": {
        "disputes": (Need("collection_actions"),),
        "pay": (Need("salespeople"),),
    },
    "40-sales-plan": {"plan_attainment": (Need("targets"),)},
    "50-cash-forecast": {},
    "60-batch-expiry": {
        "summary": _STOCK,
        "expiry.near": _STOCK,
        "expiry.cold": _STOCK,
        "expiry.warehouse": _STOCK,
        "expiry.blocked": _STOCK,
        "expiry.fefo": _STOCK + _ALL_ORDERS,
    },
}

#: Grouping column -> where its values come from (for aging and attainment by dimension).
DIMENSION_NEEDS: dict[str, Need] = {
    "region": Need("customers", ("region",)),
    "province": Need("customers", ("province",)),
    "channel": Need("customers", ("channel",)),
    "customer_type": Need("customers", ("customer_type",)),
    "team": Need("salespeople", ("team",)),
    "salesperson_id": Need("salespeople"),
    "product_line": Need("invoices", ("product_line",)),
}


def unmet(ledger: Ledger, needs) -> tuple[Need, ...]:
    """Return the needs the ledger does not meet.

    Parameters
    ----------
    ledger : Ledger
    needs : iterable of Need

    Returns
    -------
    tuple of Need
    """
    return tuple(n for n in needs if not n.met(ledger))


_TABLE_ZH = {
    "customers": "客户", "invoices": "应收账款", "payments": "回款", "allocations": "核销",
    "adjustments": "调整", "salespeople": "销售人员", "products": "产品", "batches": "批次",
    "orders": "销售订单", "order_lines": "订单明细", "shipments": "发货",
    "collection_actions": "催收记录", "targets": "销售指标",
}


def skip_text(skip: Skip, language: str) -> str:
    """Say, in the report's language, what a left-out section needs and how to provide it.

    Parameters
    ----------
    skip : Skip
    language : {"zh", "en"}

    Returns
    -------
    str

    Examples
    --------
    >>> print(skip_text(Skip("credit_breaches", (Need("customers", ("credit_limit",)),)), "en"))
    Not shown: Credit-limit use needs customers.credit_limit. Add the column to \
customers.csv (or .xlsx/.parquet), or map it under tables: customers: columns: in the mapping file.
    """
    what = t(skip.key, language)
    if not skip.needs:
        return (f"未显示：{what}。{skip.reason_zh}" if language == "zh"
                else f"Not shown: {what}. {skip.reason_en}")
    parts = []
    for need in skip.needs:
        zh_table = _TABLE_ZH.get(need.table, need.table)
        if need.columns:
            cols = ", ".join(need.columns)
            parts.append(
                f"{zh_table}表（{need.table}）的 {cols} 列" if language == "zh"
                else ", ".join(f"{need.table}.{c}" for c in need.columns))
        else:
            parts.append(f"{zh_table}表（{need.table}）" if language == "zh" else
                         f"the {need.table} table")
    first = skip.needs[0]
    if language == "zh":
        how = (f"请在 {first.table}.csv（或 .xlsx/.parquet）中加入该列，或在映射文件的 "
               f"tables: {first.table}: columns: 下指定。" if first.columns else
               f"请在数据文件夹中加入 {first.table}.csv（或 .xlsx/.parquet），"
               f"或在映射文件的 tables: {first.table}: 下指定来源。")
        return f"未显示：{what}需要{'、'.join(parts)}。{how}"
    how = (f"Add the column to {first.table}.csv (or .xlsx/.parquet), or map it under "
           f"tables: {first.table}: columns: in the mapping file." if first.columns else
           f"Add {first.table}.csv (or .xlsx/.parquet) to the data folder, or map it under "
           f"tables: {first.table}: in the mapping file.")
    return f"Not shown: {what} needs {' and '.join(parts)}. {how}"


def dimensions_text(skips, language: str) -> str:
    """Say in one sentence which groupings are not shown and which columns would give them.

    Parameters
    ----------
    skips : sequence of Skip
        One per grouping (keys ``dim.<column>``).
    language : {"zh", "en"}

    Returns
    -------
    str

    Examples
    --------
    >>> text = dimensions_text([Skip("dim.region", (DIMENSION_NEEDS["region"],)),
    ...                         Skip("dim.team", (DIMENSION_NEEDS["team"],))], "en")
    >>> text.split(":")[0], "customers.region, salespeople.team" in text
    ('Not shown by region, team', True)
    """
    zh = language == "zh"
    names = ("、" if zh else ", ").join(t(s.key, language) for s in skips)
    cols = ("、" if zh else ", ").join(
        f"{n.table}.{c}" if n.columns else n.table for s in skips for n in s.needs
        for c in (n.columns or ("",)))
    cols = cols.replace(".,", ",").rstrip(".")
    if zh:
        return (f"未显示按{names}的分析：需要 {cols}。请在对应文件中加入这些列，"
                "或在映射文件的 tables: <表>: columns: 下指定。")
    return (f"Not shown by {names}: they need {cols}. Add the columns to those files, "
            "or map them under tables: <table>: columns: in the mapping file.")


def attempt(skips: list, key: str, fn, *args, **kwargs):
    """Call ``fn``; on a missing table or too little history, record a :class:`Skip`, return None.

    For the parts of a summary: a figure that cannot be computed is left out
    with its reason, the other figures are still shown.

    Parameters
    ----------
    skips : list
        Where the skip goes.
    key : str
        Label key of the figure.
    fn : callable
    *args, **kwargs
        Passed to ``fn``.

    Returns
    -------
    object or None
        What ``fn`` returned.
    """
    try:
        return fn(*args, **kwargs)
    except (MissingTableError, InsufficientDataError) as exc:
        skip = Skip.from_error(key, exc)
        if skip not in skips:
            skips.append(skip)
        return None


class Section:
    """A report section: its heading, then its body, or a note when its needs are not met.

    Use it as ``with ctx.section("credit_breaches"):`` around the section's
    code. When the ledger lacks what :data:`SECTION_NEEDS` lists for the
    section, or the report's summary already recorded the section as left out
    (a model that had too little history), the note replaces it: the body
    still runs, but what it shows is discarded and what it raises is ignored
    (it cannot run without its data). When the body raises
    :class:`~medrisk.exceptions.MissingTableError` for a need the registry does
    not list, or :class:`~medrisk.exceptions.InsufficientDataError` (too little
    history for a model), the same note replaces what follows. Either way the
    skip is recorded for the run index.

    Parameters
    ----------
    ctx : ReportContext
    key : str
        Section label key (also the key of :data:`SECTION_NEEDS`).
    heading : bool, default=True
        Show the section heading (False for the summary at the top).
    **fields
        Values for the heading's placeholders.
    """

    def __init__(self, ctx, key: str, heading: bool = True, **fields):
        self.ctx, self.key, self.heading, self.fields = ctx, key, heading, fields
        self.skip: Skip | None = None
        self._capture = None

    @property
    def ok(self) -> bool:
        """True when the section's declared needs are met."""
        return self.skip is None

    def _note(self, skip: Skip) -> None:
        self.skip = skip
        self.ctx.record.skipped(skip)
        note(skip_text(skip, self.ctx.language), skipped=True)

    def __enter__(self) -> Section:
        if self.heading:
            section(self.key, self.ctx.language, **self.fields)
        missing = unmet(self.ctx.ledger, SECTION_NEEDS.get(self.ctx.report, {}).get(self.key, ()))
        known = self.ctx.record.skip_for(self.key)  # e.g. the summary found too little history
        if missing or known:
            self._note(known or Skip(self.key, missing))
            from IPython.utils.capture import capture_output

            self._capture = capture_output()
            self._capture.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._capture is not None:
            self._capture.__exit__(None, None, None)
            return exc_type is None or issubclass(exc_type, Exception)
        if exc_type is not None and issubclass(exc_type, (MissingTableError,
                                                          InsufficientDataError)):
            self._note(Skip.from_error(self.key, exc))
            return True
        return False
