"""The Ledger: the canonical tables of one company, and the report of how they were loaded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from medrisk.exceptions import MissingTableError
from medrisk.data._schemas import MONEY_COLUMNS, REQUIRED_TABLES, SCHEMAS, TABLE_ORDER

__all__ = ["Ledger", "TableReport", "LoadReport", "empty_table"]


@dataclass
class TableReport:
    """How one table was loaded.

    Attributes
    ----------
    table : str
        Canonical table name.
    sources : list of str
        Files (and sheets) the rows came from.
    rows_read : int
        Data rows found in the sources.
    accepted : int
        Rows that passed every rule and are in the ledger.
    quarantined : int
        Rows that broke a rule; ``rows_read == accepted + quarantined``.
    top_reasons : list of tuple of (str, int)
        The most frequent reasons rows were quarantined, with their counts.
    quarantine_file : str or None
        Where the quarantined rows were written, if any.
    """

    table: str
    sources: list[str] = field(default_factory=list)
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    quarantine_file: str | None = None


@dataclass
class LoadReport:
    """Per-table load figures of a Ledger, with the files that were ignored."""

    tables: dict[str, TableReport] = field(default_factory=dict)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        """Total quarantined rows over all tables."""
        return sum(t.quarantined for t in self.tables.values())

    def to_frame(self) -> pd.DataFrame:
        """One row per table: rows read, accepted, quarantined and the top reason."""
        rows = [
            {
                "table": t.table,
                "rows_read": t.rows_read,
                "accepted": t.accepted,
                "quarantined": t.quarantined,
                "top_reason": t.top_reasons[0][0] if t.top_reasons else "",
                "quarantine_file": t.quarantine_file or "",
            }
            for t in self.tables.values()
        ]
        return pd.DataFrame(
            rows,
            columns=["table", "rows_read", "accepted", "quarantined", "top_reason",
                     "quarantine_file"],
        )

    def __str__(self) -> str:
        lines = []
        width = max((len(t) for t in self.tables), default=5)
        lines.append(f"{'table':<{width}}  {'read':>10}  {'accepted':>10}  {'quarantined':>11}")
        for t in self.tables.values():
            lines.append(
                f"{t.table:<{width}}  {t.rows_read:>10,}  {t.accepted:>10,}  {t.quarantined:>11,}"
            )
            for reason, n in t.top_reasons[:5]:
                lines.append(f"{'':<{width}}    {n:>8,} x {reason}")
            if t.quarantine_file:
                lines.append(f"{'':<{width}}    quarantined rows: {t.quarantine_file}")
        if self.ignored_files:
            lines.append("ignored files (not a table name): " + ", ".join(self.ignored_files))
        return "\n".join(lines)


class Ledger:
    """The canonical tables of one company.

    ``customers``, ``invoices`` and ``payments`` are required; every other table
    of :data:`medrisk.schemas.SCHEMAS` is optional and is ``None`` when absent.
    Money columns are integer fen, dates ``datetime64[ns]``.

    The constructor only stores the frames it is given. Use
    :func:`medrisk.load_ledger` to read and validate files, or
    :meth:`Ledger.from_frames` to validate frames built in code.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Canonical tables by name.
    load_report : LoadReport, default=None
        How the tables were loaded.
    source : str, default=None
        Where the tables came from, for messages and manifests.
    """

    def __init__(
        self,
        tables: dict[str, pd.DataFrame],
        load_report: LoadReport | None = None,
        source: str | None = None,
    ):
        unknown = set(tables) - set(SCHEMAS)
        if unknown:
            raise ValueError(
                f"Unknown table(s) {sorted(unknown)}; possible tables are {list(TABLE_ORDER)}."
            )
        self.tables = {name: tables[name] for name in TABLE_ORDER if tables.get(name) is not None}
        self.load_report = load_report
        self.source = source
        #: Where a database read came from (set by :mod:`medrisk.db`): kind, masked url, cache ...
        self.origin: dict | None = None

    @classmethod
    def from_frames(cls, strict: bool = True, **tables: pd.DataFrame) -> Ledger:
        """Validate canonical frames built in code and return a Ledger.

        Parameters
        ----------
        strict : bool, default=True
            Raise :class:`~medrisk.exceptions.ValidationError` on the first
            broken rule; when False, drop failing rows into the load report's
            counts instead.
        **tables : DataFrame
            Canonical tables by name. Missing optional columns are added empty.

        Returns
        -------
        Ledger
        """
        from medrisk.data._validation import validate_frames

        accepted, report, _ = validate_frames(tables, strict=strict)
        return cls(accepted, load_report=report, source="frames")

    # -- access -------------------------------------------------------------
    def has(self, name: str) -> bool:
        """Whether the ledger holds table ``name``."""
        return name in self.tables

    def require(self, name: str, needed_for: str = "",
                columns: list[str] | None = None) -> pd.DataFrame:
        """Return table ``name`` or raise an error naming it and the columns needed.

        Parameters
        ----------
        name : str
            Canonical table name.
        needed_for : str, default=""
            What the caller needs it for, for the message.
        columns : list of str, default=None
            Columns the caller reads, for the message.

        Returns
        -------
        DataFrame

        Raises
        ------
        MissingTableError
            When the table is absent.
        """
        if name not in SCHEMAS:
            raise ValueError(f"Unknown table {name!r}; possible tables are {list(TABLE_ORDER)}.")
        if name not in self.tables:
            raise MissingTableError(name, needed_for, columns)
        return self.tables[name]

    def table(self, name: str, empty_if_missing: bool = False) -> pd.DataFrame | None:
        """Return table ``name``; ``None`` (or an empty typed frame) when absent."""
        if name in self.tables:
            return self.tables[name]
        if empty_if_missing:
            return empty_table(name)
        return None

    def __getattr__(self, name: str):
        if name in SCHEMAS:
            tables = self.__dict__.get("tables", {})
            if name in tables:
                return tables[name]
            if name in REQUIRED_TABLES:
                raise MissingTableError(name, "every ledger")
            return None
        raise AttributeError(name)

    # -- identity -----------------------------------------------------------
    def fingerprint(self) -> str:
        """Return a SHA-256 of the canonical contents, stable across runs and machines.

        Two ledgers with the same rows in the same order give the same
        fingerprint, whatever files they were read from.
        """
        h = hashlib.sha256()
        for name, df in self.tables.items():
            h.update(name.encode())
            h.update(",".join(map(str, df.columns)).encode())
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        return h.hexdigest()

    def summary(self) -> pd.DataFrame:
        """Rows, date span and money total per table (money in 元)."""
        from medrisk.data._schemas import DATE_COLUMNS

        rows = []
        for name, df in self.tables.items():
            dates = DATE_COLUMNS.get(name, ())
            first = min((df[c].min() for c in dates if df[c].notna().any()), default=pd.NaT)
            last = max((df[c].max() for c in dates if df[c].notna().any()), default=pd.NaT)
            money = MONEY_COLUMNS.get(name, ())
            total = int(df[money[0]].sum()) if money and name != "customers" else None
            rows.append(
                {
                    "table": name,
                    "rows": len(df),
                    "first_date": first,
                    "last_date": last,
                    "total_yuan": None if total is None else f"{total / 100:,.2f}",
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"Ledger({parts})"


def empty_table(name: str) -> pd.DataFrame:
    """Return an empty frame with the columns and dtypes of canonical table ``name``."""
    schema = SCHEMAS[name].to_schema()
    frame = pd.DataFrame({col: pd.Series(dtype=object) for col in schema.columns})
    return SCHEMAS[name].validate(frame)
