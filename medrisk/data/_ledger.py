"""The Ledger: the canonical tables of one company, as one immutable value.

A Ledger never changes after it is built. Its tables are read-only views
(``ledger.invoices`` gives a copy-on-write view: changing it changes nothing in
the ledger), a method returns a new Ledger (:meth:`Ledger.with_tables`,
:meth:`Ledger.replace`, :meth:`Ledger.scope`), and what is derived from it
(cash application, the event book, group codes, features) is computed once by
:meth:`Ledger.derive` and owned by that ledger. There is no cache to clear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import Any, Concatenate, ParamSpec, TypeVar

import pandas as pd

from medrisk.data._loadreport import LoadReport, TableReport
from medrisk.data._schemas import DATE_COLUMNS, MONEY_COLUMNS, REQUIRED_TABLES, SCHEMAS, TABLE_ORDER
from medrisk.data._scope import scope
from medrisk.data._validation import validate_frames, validate_raw_tables
from medrisk.exceptions import MissingTableError
from medrisk.kernel import yuan

__all__ = ["Ledger", "TableReport", "LoadReport", "empty_table", "validate_raw"]

P = ParamSpec("P")
T = TypeVar("T")
_UNSET: Any = object()


class Ledger:
    """The canonical tables of one company.

    ``customers``, ``invoices`` and ``payments`` are required; every other table
    of :data:`medrisk.data.SCHEMAS` is optional and is ``None`` when absent.
    Money columns are integer fen, dates ``datetime64[ns]``.

    The constructor only stores the frames it is given. Use
    :func:`medrisk.load_ledger` to read and validate files, or
    :meth:`Ledger.from_frames` to validate frames built in code. A Ledger is a
    value: attributes cannot be set, tables are handed out as copy-on-write
    views, and every change makes a new Ledger.

    Parameters
    ----------
    tables : dict of str to DataFrame
        Canonical tables by name.
    load_report : LoadReport, default=None
        How the tables were loaded.
    source : str, default=None
        Where the tables came from, for messages and manifests.
    origin : dict, default=None
        Where a database read came from (kind, masked url, tables, cache ...),
        for the run manifest.

    Examples
    --------
    >>> import pandas as pd
    >>> ledger = Ledger.from_frames(
    ...     customers=pd.DataFrame({"customer_id": ["C1"]}),
    ...     invoices=pd.DataFrame({"invoice_id": ["I1"], "customer_id": ["C1"],
    ...                            "invoice_date": [pd.Timestamp("2025-01-31")],
    ...                            "due_date": [pd.Timestamp("2025-04-30")], "amount": [250]}),
    ...     payments=pd.DataFrame({"payment_id": [], "customer_id": [],
    ...                            "payment_date": [], "amount": []}))
    >>> ledger
    Ledger(customers=1, invoices=1, payments=0)
    >>> ledger.source = "elsewhere"
    Traceback (most recent call last):
    ...
    AttributeError: A Ledger cannot be changed: use ledger.replace(source=...) for a new one.
    """

    __slots__ = ("_tables", "_load_report", "_source", "_origin", "_derived", "__weakref__")

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        load_report: LoadReport | None = None,
        source: str | None = None,
        origin: dict | None = None,
    ):
        unknown = set(tables) - set(SCHEMAS)
        if unknown:
            raise ValueError(
                f"Unknown table(s) {sorted(unknown)}; possible tables are {list(TABLE_ORDER)}."
            )
        kept = {name: tables[name] for name in TABLE_ORDER if tables.get(name) is not None}
        object.__setattr__(self, "_tables", kept)
        object.__setattr__(self, "_load_report", load_report)
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_origin", origin)
        object.__setattr__(self, "_derived", {})

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(
            f"A Ledger cannot be changed: use ledger.replace({name}=...) for a new one."
            if name in ("load_report", "source", "origin")
            else f"A Ledger cannot be changed: use ledger.with_tables({name}=...) for a new one."
        )

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
        accepted, report, _ = validate_frames(tables, strict=strict)
        return cls(accepted, load_report=report, source="frames")

    # -- new ledgers from this one -------------------------------------------
    def with_tables(self, **tables: pd.DataFrame | None) -> Ledger:
        """Return a new Ledger with some tables replaced, added or (``None``) removed.

        The frames are taken as they are (validate them with
        :meth:`from_frames` when they come from outside); the load report,
        source and origin are kept, derived state is not.
        """
        merged = {**self._tables, **tables}
        return Ledger({k: v for k, v in merged.items() if v is not None},
                      load_report=self._load_report, source=self._source, origin=self._origin)

    def replace(self, *, load_report: LoadReport | None = _UNSET, source: str | None = _UNSET,
                origin: dict | None = _UNSET) -> Ledger:
        """Return a new Ledger with the same tables and another load report, source or origin."""
        return Ledger(
            self._tables,
            load_report=self._load_report if load_report is _UNSET else load_report,
            source=self._source if source is _UNSET else source,
            origin=self._origin if origin is _UNSET else origin,
        )

    def derive(self, build: Callable[Concatenate[Ledger, P], T], *args: P.args) -> T:
        """Return ``build(self, *args)``, computed once per ledger and kept with it.

        This is where everything derived from a ledger lives (cash application,
        the event book, group codes, credit features): keyed by the function
        that builds it and its (hashable) arguments, owned by this ledger and
        gone with it. A new ledger (``with_tables``, ``scope`` ...) starts empty.
        """
        key: tuple[Callable, tuple[Hashable, ...]] = (build, args)
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = build(self, *args)
            return value

    def scope(self, region: str = "", team: str = "", salesperson_id: str = "",
              channel: str = "", customer_type: str = "") -> Ledger:
        """Return the part of the ledger in a scope (see :func:`medrisk.data.scope`)."""
        return scope(self, region=region, team=team, salesperson_id=salesperson_id,
                     channel=channel, customer_type=customer_type)

    # -- access -------------------------------------------------------------
    @property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The tables by name, read-only, as copy-on-write views."""
        return MappingProxyType({k: v.copy(deep=False) for k, v in self._tables.items()})

    @property
    def load_report(self) -> LoadReport | None:
        """How the tables were loaded (None for a ledger built in code)."""
        return self._load_report

    @property
    def source(self) -> str | None:
        """Where the tables came from, for messages and manifests."""
        return self._source

    @property
    def origin(self) -> dict | None:
        """Where a database read came from (kind, masked url, cache ...), or None."""
        return None if self._origin is None else dict(self._origin)

    def has(self, name: str) -> bool:
        """Whether the ledger holds table ``name``."""
        return name in self._tables

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
        if name not in self._tables:
            raise MissingTableError(name, needed_for, columns)
        return self._tables[name].copy(deep=False)

    def table(self, name: str, empty_if_missing: bool = False) -> pd.DataFrame | None:
        """Return table ``name``; ``None`` (or an empty typed frame) when absent."""
        if name in self._tables:
            return self._tables[name].copy(deep=False)
        if empty_if_missing:
            return empty_table(name)
        return None

    def __getattr__(self, name: str):
        if name in SCHEMAS:
            tables = object.__getattribute__(self, "_tables")
            if name in tables:
                return tables[name].copy(deep=False)
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
        for name, df in self._tables.items():
            h.update(name.encode())
            h.update(",".join(map(str, df.columns)).encode())
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        return h.hexdigest()

    def summary(self) -> pd.DataFrame:
        """Rows, date span and money total per table (money in 元)."""
        rows = []
        for name, df in self._tables.items():
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
                    "total_yuan": None if total is None else yuan(total, 2, symbol=False),
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v):,}" for k, v in self._tables.items())
        return f"Ledger({parts})"


def empty_table(name: str) -> pd.DataFrame:
    """Return an empty frame with the columns and dtypes of canonical table ``name``."""
    schema = SCHEMAS[name].to_schema()
    frame = pd.DataFrame({col: pd.Series(dtype=object) for col in schema.columns})
    return SCHEMAS[name].validate(frame)


def validate_raw(raws, *, strict: bool = False, quarantine_dir=None, ignored=(), source: str = "",
                 progress: bool = False) -> Ledger:
    """Parse and validate tables read from a source into a Ledger (see :func:`medrisk.load_ledger`).

    Parameters
    ----------
    raws : list of RawTable
        Tables as read from files or a database.
    strict : bool, default=False
        Raise at the first bad row instead of quarantining.
    quarantine_dir : Path, default=None
        Folder for ``<table>.quarantine.csv``.
    ignored : list of str
        Files that were not tables, for the report.
    source : str
        The source, for messages.
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    Ledger
    """
    tables, report = validate_raw_tables(raws, strict=strict, quarantine_dir=quarantine_dir,
                                         ignored=ignored, progress=progress)
    return Ledger(tables, load_report=report, source=source)
