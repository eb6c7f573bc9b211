r"""Reading the canonical tables from a SQL database, and writing them into one.

:func:`medrisk.load_ledger` hands a source that contains ``://`` (a SQLAlchemy
URL such as ``postgresql+psycopg://medrisk@db.example.com:5432/erp`` or
``sqlite:///data/erp.db``) to :func:`load_ledger_from_db`. Rows read from the
database go through exactly the same parsing, validation, quarantine and load
report as rows read from files (:func:`medrisk.validation.validate_raw`).

A mapping file says where each canonical table is, as a table (with a column
mapping) or as a SELECT query, and how to connect::

    database:
      url: postgresql+psycopg://medrisk@db.example.com:5432/erp   # no password here
      password_env: MEDRISK_DB_PASSWORD    # environment variable holding the password
      schema: ar                           # optional
      chunk_rows: 200000                   # optional: rows per fetch
      since: "2023-11-01"                  # optional: see below
      cache: data/cache/erp                # optional: Parquet copy of the last good read
      offline: false                       # optional: read the cache, not the database
      quarantine: data/quarantine/erp      # optional: where bad rows go
    tables:
      invoices: {table: ar_invoice, columns: {inv_no: invoice_id, cust_code: customer_id}}
      payments: {query: "SELECT ... FROM ... WHERE ..."}

Without a mapping entry a table is looked up by its canonical name (or a name
:data:`medrisk.parsing.TABLE_ALIASES` knows, such as ``应收账款``), and columns
by their canonical names or the built-in header aliases.

What is read
------------
* Table form: only the columns that map to canonical columns, in primary-key
  order when the table has a primary key, else in storage order (PostgreSQL
  ``ctid``, SQLite ``rowid``); other databases and views in the order the
  database returns. The order decides which row of a duplicated id is kept
  and enters the ledger fingerprint: give tables a primary key (PostgreSQL's
  storage order changes with updates and vacuum) or use a query with
  ``ORDER BY``.
* Query form: the query as written, in the order it returns (add ``ORDER BY``
  for a reproducible fingerprint); result columns that map to nothing are
  dropped. A ``:word`` in the query is a bind parameter for SQLAlchemy: write
  ``\:word`` for a literal colon.
* Rows come in chunks of ``chunk_rows`` (a server-side cursor on PostgreSQL).
  A row's number in messages and quarantine files is its 1-based record number
  within the table's (or query's) result; the "file" is the masked URL with
  ``#schema.table`` or ``#query:<table>`` appended.
* Values arrive as the database driver gives them: ``NUMERIC`` as
  :class:`~decimal.Decimal` (read exactly, through its text), dates as dates,
  text as text; SQLite's ``REAL`` money as floats (more than two decimals is a
  bad cell, as in Excel).

``since`` (table form only; a query writes its own filter)
---------------------------------------------------------
With ``since: S``, medrisk reads

* invoices issued on or after S, and invoices issued before S that were not
  fully settled before S (amount > allocations of payments dated before S +
  adjustments dated before S);
* the allocations and adjustments of those invoices;
* payments dated on or after S; a payment dated before S only when it paid an
  invoice that is read or is not fully allocated, and then with its amount
  lowered by what it paid to invoices that are not read;
* collection actions of the invoices read, and those on or after S that name
  no invoice;
* every other table in full.

So open items, aging and cash application as of any date on or after S are the
same as from a full read (given an allocations table that records the
allocations); figures about periods before S (sales, collections, DSO) are
not. ``since`` needs an ``allocations`` table and real date and numeric
columns for these tables. If the invoices are given as a query, the query is
the filter, and the other tables are limited to what relates to its invoices.

Cache
-----
With ``cache: DIR``, every successful read writes the accepted tables to
``DIR`` as Parquet (:func:`medrisk.io.write_tables`) with ``fingerprint.json``
(the ledger fingerprint, the masked URL, when, rows per table). ``DIR`` is
itself a source for :func:`medrisk.load_ledger`; ``offline: true`` (or
``offline=True``) reads it instead of the database and checks the fingerprint.
Either way ``ledger.origin`` says what was read (see :func:`load_ledger_from_db`).

Passwords never go in a file: a password inside ``database.url`` is refused;
name an environment variable in ``password_env``. Every message shows the URL
with the password masked.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import re
import shutil
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from medrisk.config import resolve_path
from medrisk.exceptions import MissingColumnsError, ParamsError, SchemaError, SourceError
from medrisk.ledger import Ledger
from medrisk.schemas import (
    DATE_COLUMNS,
    MONEY_COLUMNS,
    REQUIRED_TABLES,
    SCHEMAS,
    TABLE_ORDER,
    required_columns,
)

__all__ = [
    "load_ledger_from_db",
    "read_cache",
    "write_tables_to_db",
    "database_settings",
    "DatabaseSettings",
    "mask_url",
    "DEFAULT_CHUNK_ROWS",
    "CACHE_FINGERPRINT_FILE",
]

#: Rows fetched per round trip when the mapping does not say.
DEFAULT_CHUNK_ROWS = 100_000
#: The cache's description file.
CACHE_FINGERPRINT_FILE = "fingerprint.json"
#: Keys allowed in the mapping file's ``database`` section.
DATABASE_KEYS = ("url", "password_env", "schema", "chunk_rows", "since", "cache", "offline",
                 "quarantine")
#: The surrogate key :func:`write_tables_to_db` adds: the row's number in the frame written.
ROW_COLUMN = "row_no"
#: Tables the ``since`` limit applies to; every other table is read in full.
SINCE_TABLES = ("invoices", "allocations", "adjustments", "payments", "collection_actions")
#: Money differences smaller than this (元) count as zero when SQL compares sums (SQLite floats).
_HALF_FEN = "0.005"


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------
@dataclass
class DatabaseSettings:
    """The ``database`` section of a mapping file, checked.

    Attributes
    ----------
    url : str or None
        SQLAlchemy URL without a password.
    password_env : str or None
        Name of the environment variable holding the password.
    schema : str or None
        Database schema of the tables.
    chunk_rows : int
        Rows per fetch.
    since : Timestamp or None
        Read limit (see the module docstring).
    cache : Path or None
        Folder of the Parquet cache.
    offline : bool
        Read the cache instead of the database.
    quarantine : Path or None
        Folder for ``<table>.quarantine.csv``.
    where : str
        The mapping file, for messages.
    """

    url: str | None = None
    password_env: str | None = None
    schema: str | None = None
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    since: pd.Timestamp | None = None
    cache: Path | None = None
    offline: bool = False
    quarantine: Path | None = None
    where: str = "mapping"


def _load_yaml(mapping) -> tuple[dict, str]:
    if mapping is None:
        return {}, "mapping"
    if isinstance(mapping, Mapping):
        return dict(mapping), "mapping"
    path = Path(mapping)
    if not path.exists():
        raise SourceError(f"Mapping file {path} does not exist.")
    from ruamel.yaml import YAML

    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except Exception as exc:  # ruamel raises many error types
        raise ParamsError(f"{path}: not valid YAML ({exc}).") from exc
    if not isinstance(data, Mapping):
        raise ParamsError(f"{path}: expected a mapping with 'database' and 'tables'; "
                          f"got {type(data).__name__}.")
    return dict(data), str(path)


def database_settings(mapping: str | os.PathLike | Mapping | None) -> DatabaseSettings:
    """Read and check the ``database`` section of a mapping file.

    Parameters
    ----------
    mapping : str, path, dict or None
        A mapping file (YAML) or the equivalent dict.

    Returns
    -------
    DatabaseSettings

    Raises
    ------
    ParamsError
        For an unknown key, a value of the wrong kind, or a password written
        into ``database.url``.
    """
    data, where = _load_yaml(mapping)
    section = data.get("database") or {}
    if not isinstance(section, Mapping):
        raise ParamsError(f"{where}: 'database' must be a mapping of {list(DATABASE_KEYS)}; "
                          f"got {type(section).__name__}.")
    unknown = sorted(set(section) - set(DATABASE_KEYS))
    if unknown:
        raise ParamsError(f"{where}: database has unknown key(s) {unknown}; "
                          f"allowed keys are {list(DATABASE_KEYS)}.")
    out = DatabaseSettings(where=where)
    for key in ("url", "password_env", "schema"):
        value = section.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            shown = "a value" if key == "url" else repr(value)
            raise ParamsError(f"{where}: database.{key} must be a non-empty string; got {shown}.")
        setattr(out, key, value.strip() if isinstance(value, str) else None)
    if out.url is not None:
        url = _parse_url(out.url)
        if url.password is not None:
            raise ParamsError(
                f"{where}: database.url ({mask_url(url)}) contains a password. Remove it from "
                "the file and put the password in an environment variable named by "
                "database.password_env (for example password_env: MEDRISK_DB_PASSWORD)."
            )
    env_name = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    if out.password_env is not None and not env_name.fullmatch(out.password_env):
        raise ParamsError(f"{where}: database.password_env must be the name of an environment "
                          f"variable such as MEDRISK_DB_PASSWORD; got {out.password_env!r}.")
    chunk = section.get("chunk_rows", DEFAULT_CHUNK_ROWS)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ParamsError(f"{where}: database.chunk_rows must be a whole number of rows, at "
                          f"least 1; got {chunk!r}.")
    out.chunk_rows = chunk
    since = section.get("since")
    if since is not None:
        try:
            ts = pd.Timestamp(since)
        except (ValueError, TypeError):
            ts = pd.NaT
        if ts is pd.NaT or ts != ts.normalize():
            raise ParamsError(f"{where}: database.since must be a date such as '2023-11-01'; "
                              f"got {since!r}.")
        out.since = ts
    offline = section.get("offline", False)
    if not isinstance(offline, bool):
        raise ParamsError(f"{where}: database.offline must be true or false; got {offline!r}.")
    out.offline = offline
    for key in ("cache", "quarantine"):
        value = section.get(key)
        if value is None:
            continue
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            raise ParamsError(f"{where}: database.{key} must be a folder path; got {value!r}.")
        setattr(out, key, Path(resolve_path(str(value))))
    return out


# ---------------------------------------------------------------------------
# URLs and messages
# ---------------------------------------------------------------------------
def _parse_url(text: str):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError, TypeError):
        scheme = text.split("://", 1)[0] if "://" in text else "?"
        raise SourceError(
            f"A database URL starting {scheme + '://'!r} could not be read. Expected the "
            "SQLAlchemy form dialect+driver://user@host:port/database, for example "
            "postgresql+psycopg://medrisk@db.example.com:5432/erp or sqlite:///data/erp.db."
        ) from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # the driver medrisk installs
    return url


def mask_url(url) -> str:
    """Return the URL as text with its password replaced by ``***``.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL

    Returns
    -------
    str
    """
    if isinstance(url, str):
        url = _parse_url(url)
    return url.render_as_string(hide_password=True)


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _driver_message(exc: BaseException, secrets: list[str]) -> str:
    """Give the database's own words for an error, without boilerplate or secrets."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    text = re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)
    text = " ".join(text.split())
    return _scrub(text, secrets)


# ---------------------------------------------------------------------------
# What to read
# ---------------------------------------------------------------------------
@dataclass
class _Source:
    """One canonical table's place in the database."""

    table: str
    kind: str  # "table" or "query"
    label: str  # masked url#schema.table or masked url#query:<table>
    columns: list[str]  # every column of the table / query result
    matched: dict[str, str]  # database column -> canonical column
    user_columns: dict[str, str]
    name: str | None = None  # table name (table form)
    schema: str | None = None
    query: str | None = None
    order: list[str] = field(default_factory=list)  # key columns to order by
    pseudo: str | None = None  # "ctid" / "rowid" storage order
    from_: Any = None  # SQLAlchemy selectable for filters

    def col(self, canonical: str) -> str | None:
        """Return the database column holding ``canonical`` (None when absent)."""
        for src, dst in self.matched.items():
            if dst == canonical:
                return src
        return None


def _check_entry(table: str, entry: dict, where: str) -> None:
    if "file" in entry or "sheet" in entry or "header_row" in entry:
        raise ParamsError(
            f"{where}: tables.{table} names a file or sheet, but the source is a database; "
            "give the database table (table: <name>) or a query (query: SELECT ...)."
        )
    if "table" in entry and "query" in entry:
        raise ParamsError(f"{where}: tables.{table} gives both 'table' and 'query'; keep one.")
    for key in ("table", "query"):
        if key in entry and not (isinstance(entry[key], str) and entry[key].strip()):
            raise ParamsError(f"{where}: tables.{table}.{key} must be a non-empty string; "
                              f"got {entry[key]!r}.")


def _identify(name: str) -> str | None:
    from medrisk.io import _identify_table

    return _identify_table(name)


def _strip_query(query: str) -> str:
    return query.strip().rstrip(";").strip()


def _plan(conn, url_text: str, settings: DatabaseSettings, entries: dict[str, dict],
          secrets: list[str]) -> dict[str, _Source]:
    """Find every canonical table in the database and the columns to read."""
    import sqlalchemy as sa

    from medrisk.parsing import match_columns, normalize_header

    where = settings.where
    schema = settings.schema
    insp = sa.inspect(conn)
    in_schema = f" (schema {schema})" if schema else ""
    try:
        tables = list(insp.get_table_names(schema=schema))
        views = list(insp.get_view_names(schema=schema))
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(f"{url_text}: cannot list the tables{in_schema}: "
                          f"{_driver_message(exc, secrets)}") from None
    names = tables + views
    if schema and not names and schema not in insp.get_schema_names():
        raise SourceError(f"{where}: database.schema is {schema!r}, but {url_text} has no such "
                          f"schema; its schemas are {sorted(insp.get_schema_names())}.")
    dialect = conn.dialect.name
    shown = ", ".join(sorted(names)[:40]) + (" ..." if len(names) > 40 else "") or "(none)"
    plan: dict[str, _Source] = {}
    for table in TABLE_ORDER:
        entry = dict(entries.get(table) or {})
        _check_entry(table, entry, where)
        user_cols = dict(entry.get("columns") or {})
        if "query" in entry:
            query = _strip_query(entry["query"])
            probe = sa.select(sa.text("*")).select_from(
                sa.text(query).columns().subquery("medrisk_probe")).where(sa.false())
            try:
                columns = list(conn.execute(probe).keys())
            except sa.exc.SQLAlchemyError as exc:
                conn.rollback()
                raise SourceError(f"{where}: tables.{table}.query fails on {url_text}: "
                                  f"{_driver_message(exc, secrets)}") from None
            src = _Source(table, "query", f"{url_text}#query:{table}", columns, {}, user_cols,
                          query=query)
        else:
            if "table" in entry:
                name, tschema = entry["table"].strip(), schema
                if name not in names and "." in name:
                    tschema, name = name.split(".", 1)
                    try:
                        found = name in (insp.get_table_names(schema=tschema)
                                         + insp.get_view_names(schema=tschema))
                    except sa.exc.SQLAlchemyError:
                        conn.rollback()
                        found = False
                else:
                    found = name in names
                if not found:
                    raise SourceError(
                        f"{where}: tables.{table}.table is {entry['table']!r}, but {url_text} has "
                        f"no table or view named {entry['table']!r}{in_schema}. Tables there: "
                        f"{shown}."
                    )
            else:
                tschema = schema
                exact = [n for n in names if n == table]
                aliases = [n for n in names if n != table and _identify(n) == table]
                if exact:
                    name = exact[0]
                elif len(aliases) == 1:
                    name = aliases[0]
                elif len(aliases) > 1:
                    raise SourceError(
                        f"{url_text}: tables {', '.join(map(repr, aliases))} could all be "
                        f"'{table}'. Say which in a mapping file (tables: {{{table}: "
                        f"{{table: {aliases[0]}}}}})."
                    )
                else:
                    if user_cols or table in REQUIRED_TABLES:
                        why = ("which every ledger needs" if table in REQUIRED_TABLES
                               else f"whose columns {where} maps")
                        raise SourceError(
                            f"{url_text}: no table or view named '{table}'{in_schema}, {why}. "
                            f"Tables there: {shown}. Name it in a mapping file "
                            f"(tables: {{{table}: {{table: <its name>}}}}) or give a query."
                        )
                    continue
            info = insp.get_columns(name, schema=tschema)
            columns = [c["name"] for c in info]
            order = []
            try:
                order = list(insp.get_pk_constraint(name, schema=tschema).get(
                    "constrained_columns") or [])
            except (sa.exc.SQLAlchemyError, NotImplementedError):
                conn.rollback()
            pseudo = None
            if not order and name in tables and tschema == schema:
                pseudo = {"postgresql": "ctid", "sqlite": "rowid"}.get(dialect)
            qualified = f"{tschema}.{name}" if tschema else name
            src = _Source(table, "table", f"{url_text}#{qualified}", columns, {}, user_cols,
                          name=name, schema=tschema, order=order, pseudo=pseudo)
        # The mapping's own columns must exist.
        known = {normalize_header(c) for c in src.columns}
        for key in user_cols:
            if key not in src.columns and normalize_header(key) not in known:
                what = (f"database table '{src.name}'" if src.kind == "table"
                        else "the result of its query")
                raise SchemaError(
                    f"{where}: tables.{table}.columns maps column {key!r} to "
                    f"'{user_cols[key]}', but {what} ({src.label}) has no column {key!r}. "
                    f"Its columns are: {', '.join(src.columns)}."
                )
        src.matched = match_columns(table, src.columns, user_cols)
        missing = [c for c in required_columns(table) if c not in src.matched.values()]
        if missing:
            raise MissingColumnsError(table, missing, src.label, src.columns)
        plan[table] = src
    return plan


# ---------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------
def _selectable(src: _Source):
    """Build a FROM clause for ``src`` whose columns carry no type (raw driver values)."""
    import sqlalchemy as sa

    if src.kind == "query":
        return sa.text(src.query).columns(*[sa.column(c) for c in src.columns]).subquery(
            f"q_{src.table}")
    extra = [sa.column(src.pseudo)] if src.pseudo and src.pseudo not in src.columns else []
    return sa.table(src.name, *[sa.column(c) for c in src.columns], *extra, schema=src.schema)


def _since_filters(plan: dict[str, _Source], since: pd.Timestamp, where: str):
    """WHERE clauses (and a payment amount expression) for the ``since`` limit."""
    import sqlalchemy as sa

    if "allocations" not in plan:
        raise ParamsError(
            f"{where}: database.since needs an 'allocations' table, to know which invoices "
            "issued before it were still open; the database has none. Remove since, or give "
            "the invoices as a query with your own filter."
        )
    s = sa.literal(since.date(), sa.Date)
    zero = sa.literal_column("0")
    half = sa.literal_column(_HALF_FEN)
    inv, alloc, pay = plan["invoices"], plan["allocations"], plan["payments"]
    adj = plan.get("adjustments")
    f = {name: _selectable(src) for name, src in plan.items()}
    for name, src in plan.items():
        src.from_ = f[name]

    def c(name: str, canonical: str):
        return f[name].c[plan[name].col(canonical)]

    # Invoices kept: issued on or after since, or not settled before since.
    if inv.kind == "table":
        a, p = f["allocations"].alias("sa"), f["payments"].alias("sp")
        a_inv = a.c[alloc.col("invoice_id")]
        paid = (sa.select(a_inv.label("iid"), sa.func.sum(a.c[alloc.col("amount")]).label("s"))
                .select_from(a.join(p, a.c[alloc.col("payment_id")] == p.c[pay.col("payment_id")]))
                .where(p.c[pay.col("payment_date")] < s).group_by(a_inv).subquery("paid"))
        i = f["invoices"].alias("si")
        i_id = i.c[inv.col("invoice_id")]
        reduced = i.c[inv.col("amount")] - sa.func.coalesce(paid.c.s, zero)
        join = i.outerjoin(paid, paid.c.iid == i_id)
        if adj is not None:
            d = f["adjustments"].alias("sd")
            d_inv = d.c[adj.col("invoice_id")]
            adjusted = (sa.select(d_inv.label("iid"),
                                  sa.func.sum(d.c[adj.col("amount")]).label("s"))
                        .where(d.c[adj.col("adjustment_date")] < s).group_by(d_inv)
                        .subquery("adjusted"))
            join = join.outerjoin(adjusted, adjusted.c.iid == i_id)
            reduced = reduced - sa.func.coalesce(adjusted.c.s, zero)
        kept = (sa.select(i_id).select_from(join)
                .where(sa.or_(i.c[inv.col("invoice_date")] >= s, reduced > half)))
    else:
        kept = sa.select(c("invoices", "invoice_id"))
    wheres: dict[str, Any] = {}
    if inv.kind == "table":
        wheres["invoices"] = c("invoices", "invoice_id").in_(kept)
    if alloc.kind == "table":
        wheres["allocations"] = c("allocations", "invoice_id").in_(kept)
    if adj is not None and adj.kind == "table":
        wheres["adjustments"] = c("adjustments", "invoice_id").in_(kept)
    amount_expr = None
    joins = None
    if pay.kind == "table":
        a = f["allocations"].alias("ta")
        a_pay, a_amt = a.c[alloc.col("payment_id")], a.c[alloc.col("amount")]
        total = (sa.select(a_pay.label("pid"), sa.func.sum(a_amt).label("s"))
                 .group_by(a_pay).subquery("alloc_total"))
        k = f["allocations"].alias("ka")
        k_pay = k.c[alloc.col("payment_id")]
        kept_sum = (sa.select(k_pay.label("pid"),
                              sa.func.sum(k.c[alloc.col("amount")]).label("s"))
                    .where(k.c[alloc.col("invoice_id")].in_(kept)).group_by(k_pay)
                    .subquery("alloc_kept"))
        p_id, p_amt = c("payments", "payment_id"), c("payments", "amount")
        p_date = c("payments", "payment_date")
        t_s, k_s = sa.func.coalesce(total.c.s, zero), sa.func.coalesce(kept_sum.c.s, zero)
        joins = (f["payments"].outerjoin(total, total.c.pid == p_id)
                 .outerjoin(kept_sum, kept_sum.c.pid == p_id))
        wheres["payments"] = sa.or_(p_date >= s, kept_sum.c.pid.is_not(None), p_amt - t_s > half)
        amount_expr = sa.case((p_date < s, p_amt - (t_s - k_s)), else_=p_amt)
    acts = plan.get("collection_actions")
    if acts is not None and acts.kind == "table":
        a_date = c("collection_actions", "action_date")
        if acts.col("invoice_id") is not None:
            a_inv = c("collection_actions", "invoice_id")
            wheres["collection_actions"] = sa.or_(a_inv.in_(kept),
                                                   sa.and_(a_inv.is_(None), a_date >= s))
        else:
            wheres["collection_actions"] = a_date >= s
    return wheres, amount_expr, joins


def _statement(src: _Source, where=None, amount_expr=None, joins=None):
    import sqlalchemy as sa

    if src.kind == "query":
        return sa.text(src.query)
    fc = src.from_ if src.from_ is not None else _selectable(src)
    cols = []
    for name in src.columns:
        if name not in src.matched:
            continue
        if amount_expr is not None and src.matched[name] == "amount":
            cols.append(amount_expr.label(name))
        else:
            cols.append(fc.c[name])
    stmt = sa.select(*cols)
    if joins is not None:
        stmt = stmt.select_from(joins)
    if where is not None:
        stmt = stmt.where(where)
    if src.order:
        stmt = stmt.order_by(*[fc.c[c] for c in src.order])
    elif src.pseudo:
        stmt = stmt.order_by(fc.c[src.pseudo])
    return stmt


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
def _column(values: tuple) -> pd.Series:
    """One column of driver values as a Series the parsers read exactly."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind == "decimal":  # NUMERIC: exact text, as a file would show it
        return pd.Series([None if v is None else format(v, "f") for v in values], dtype=object)
    if kind == "integer":
        if any(v is None for v in values):
            return pd.Series(pd.array(list(values), dtype="Int64"))
        return pd.Series(np.asarray(arr, dtype=np.int64))
    if kind in ("string", "empty", "date", "datetime", "mixed", "boolean"):
        return pd.Series(arr, dtype=object)
    return pd.Series(list(values))


def _frame(rows: list, keys: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({k: pd.Series([], dtype=object) for k in keys})
    cols = list(zip(*rows, strict=True))
    return pd.DataFrame({k: _column(v) for k, v in zip(keys, cols, strict=True)})


def _read_source(conn, src: _Source, stmt, chunk_rows: int, progress: bool,
                 secrets: list[str], where: str):
    import sqlalchemy as sa

    from medrisk.io import RawTable

    parts: list[pd.DataFrame] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"reading {src.table}", unit=" rows", unit_scale=True)
    try:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
        keys = list(result.keys())
        for rows in result.partitions(chunk_rows):
            parts.append(_frame(rows, keys))
            if bar is not None:
                bar.update(len(rows))
        result.close()
    except sa.exc.SQLAlchemyError as exc:
        conn.rollback()
        what = f"tables.{src.table}.query" if src.kind == "query" else f"table {src.label}"
        raise SourceError(f"{where}: reading {what} failed: "
                          f"{_driver_message(exc, secrets)}") from None
    finally:
        if bar is not None:
            bar.close()
    frame = pd.concat(parts, ignore_index=True) if parts else _frame([], keys)
    if src.kind == "query":
        frame = frame[[c for c in frame.columns if c in src.matched]]
    rows = np.arange(1, len(frame) + 1)
    return RawTable(src.table, frame, src.label, None, rows, src.user_columns)


def _connect_url(source: str | None, settings: DatabaseSettings):
    text = source if source else settings.url
    if not text:
        raise ParamsError(
            f"{settings.where}: no database URL. Give it as the source "
            "(load_ledger('postgresql+psycopg://user@host:5432/db', mapping)) or as "
            "database.url in the mapping file."
        )
    url = _parse_url(text)
    if settings.password_env:
        password = os.environ.get(settings.password_env)
        if password is None:
            raise ParamsError(
                f"{settings.where}: database.password_env is {settings.password_env}, but no "
                f"environment variable {settings.password_env} is set. Set it to the password "
                f"of {mask_url(url)} before loading."
            )
        url = url.set(password=password)
    secrets = [url.password] if url.password else []
    if url.password:
        from urllib.parse import quote_plus

        secrets.append(quote_plus(url.password))
    return url, secrets


def _engine(url):
    import sqlalchemy as sa

    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 15, "application_name": "medrisk"}
    try:
        return sa.create_engine(url, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise SourceError(
            f"{mask_url(url)}: SQLAlchemy knows no database kind {url.drivername!r}. Use "
            "postgresql+psycopg://user@host:5432/db or sqlite:///path/file.db (other databases "
            "need their SQLAlchemy dialect and driver installed)."
        ) from None
    except ImportError as exc:
        raise SourceError(
            f"{mask_url(url)}: the database driver for {url.drivername!r} is not installed "
            f"({exc.name or exc}). Install it with pip, or use postgresql+psycopg:// or sqlite:///."
        ) from None


def load_ledger_from_db(
    url: str | None,
    mapping: str | os.PathLike | Mapping | None = None,
    *,
    strict: bool = False,
    quarantine_dir: str | os.PathLike | None = None,
    progress: bool = False,
    offline: bool | None = None,
) -> Ledger:
    """Read the canonical tables from a database into a validated Ledger.

    Parameters
    ----------
    url : str or None
        SQLAlchemy URL (``postgresql+psycopg://user@host:5432/db``,
        ``sqlite:///path/erp.db``). None takes ``database.url`` from the mapping.
        A bare ``postgresql://`` uses the psycopg driver.
    mapping : str, path or dict, default=None
        Mapping file with a ``database`` section and, per table, ``table`` +
        ``columns`` or ``query`` (see the module docstring).
    strict : bool, default=False
        Raise at the first bad row instead of quarantining.
    quarantine_dir : str or path, default=None
        Folder for ``<table>.quarantine.csv``; default ``database.quarantine``,
        else no files are written (the load report still counts the rows and
        gives the reasons).
    progress : bool, default=False
        Show a progress bar per table (rows read) and for validation.
    offline : bool, default=None
        Read the cache folder (``database.cache``) instead of the database;
        None takes ``database.offline`` (default False).

    Returns
    -------
    Ledger
        With ``ledger.source`` the masked URL (or ``cache:<folder>``) and
        ``ledger.origin``, a dict for run manifests: ``kind`` (``"database"``
        or ``"cache"``), ``url`` (masked), ``tables`` (per table
        ``"table <schema.name>"`` or ``"query"``), ``since``, ``read_at``
        (UTC, ISO 8601), ``rows`` (accepted per table), ``fingerprint`` and
        ``cache`` (the folder, or None).

    Raises
    ------
    ParamsError
        For a bad ``database`` section, a password inside a URL in a file, or
        a password variable that is not set.
    SourceError
        When the database cannot be reached or read, or a mapped table does
        not exist (naming it).
    SchemaError
        When the mapping names a column the database table lacks (naming the
        table and column); :class:`~medrisk.exceptions.MissingColumnsError`
        when a required column is absent.

    Examples
    --------
    >>> from medrisk import load_ledger  # doctest: +SKIP
    >>> ledger = load_ledger("sqlite:///data/erp.db")  # doctest: +SKIP
    >>> ledger = load_ledger("postgresql+psycopg://medrisk@db:5432/erp",
    ...                      "params/mapping-db-example.yaml")  # doctest: +SKIP
    >>> ledger.origin["kind"]  # doctest: +SKIP
    'database'
    """
    from medrisk.io import read_mapping
    from medrisk.validation import validate_raw

    settings = database_settings(mapping)
    entries = read_mapping(mapping)
    if quarantine_dir is None:
        quarantine_dir = settings.quarantine
    if offline if offline is not None else settings.offline:
        if settings.cache is None:
            raise ParamsError(f"{settings.where}: offline reading needs database.cache, the "
                              "folder of the last good read; none is set.")
        return read_cache(settings.cache, quarantine_dir=quarantine_dir, progress=progress)
    if url is not None and not isinstance(url, str):
        url = str(url)
    sa_url, secrets = _connect_url(url, settings)
    shown = mask_url(sa_url)
    if (sa_url.get_backend_name() == "sqlite" and sa_url.database
            and sa_url.database != ":memory:" and not sa_url.database.startswith("file:")
            and not Path(sa_url.database).exists()):
        raise SourceError(f"{shown}: the SQLite file {sa_url.database} does not exist.")
    engine = _engine(sa_url)
    read_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    try:
        try:
            conn = engine.connect()
        except Exception as exc:  # DBAPI errors, DNS errors ...
            raise SourceError(
                f"Cannot connect to {shown}: {_driver_message(exc, secrets)}") from None
        with conn:
            plan = _plan(conn, shown, settings, entries, secrets)
            wheres, amount_expr, joins = ({}, None, None)
            if settings.since is not None:
                wheres, amount_expr, joins = _since_filters(plan, settings.since, settings.where)
            raws = []
            for table, src in plan.items():
                stmt = _statement(src, wheres.get(table),
                                  amount_expr if table == "payments" else None,
                                  joins if table == "payments" else None)
                raws.append(_read_source(conn, src, stmt, settings.chunk_rows, progress,
                                         secrets, settings.where))
    finally:
        engine.dispose()
    ledger = validate_raw(raws, strict=strict,
                          quarantine_dir=None if quarantine_dir is None else Path(quarantine_dir),
                          ignored=[], source=shown, progress=progress)
    ledger.origin = {
        "kind": "database",
        "url": shown,
        "tables": {t: (f"table {s.label.rsplit('#', 1)[1]}" if s.kind == "table" else "query")
                   for t, s in plan.items()},
        "since": None if settings.since is None else settings.since.date().isoformat(),
        "read_at": read_at,
        "rows": {t: len(df) for t, df in ledger.tables.items()},
        "fingerprint": ledger.fingerprint(),
        "cache": None,
    }
    if settings.cache is not None:
        try:
            _write_cache(ledger, settings.cache)
            ledger.origin["cache"] = str(settings.cache)
        except OSError as exc:
            warnings.warn(f"The read succeeded but the cache {settings.cache} could not be "
                          f"written: {exc}", stacklevel=2)
    return ledger


# ---------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------
def _write_cache(ledger: Ledger, cache: Path) -> None:
    """Replace ``cache`` with the ledger's tables and ``fingerprint.json``, atomically."""
    from medrisk.io import write_tables

    cache = Path(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.tmp-{os.getpid()}")
    old = cache.with_name(f".{cache.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write_tables(ledger.tables, tmp, "parquet")
        meta = dict(ledger.origin)
        meta["load_report"] = {t: {"rows_read": r.rows_read, "accepted": r.accepted,
                                   "quarantined": r.quarantined}
                               for t, r in ledger.load_report.tables.items()}
        (tmp / CACHE_FINGERPRINT_FILE).write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        if cache.exists():
            cache.rename(old)
        tmp.rename(cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def read_cache(
    cache: str | os.PathLike,
    *,
    quarantine_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> Ledger:
    """Read the Parquet cache of the last good database read, checking its fingerprint.

    Parameters
    ----------
    cache : str or path
        The cache folder (``database.cache``).
    quarantine_dir : str or path, default=None
        Passed to :func:`medrisk.load_ledger` (a cache holds only accepted rows).
    progress : bool, default=False
        Show progress bars.

    Returns
    -------
    Ledger
        ``ledger.origin`` is the origin recorded at the read, with ``kind``
        ``"cache"`` and ``cache`` the folder; ``ledger.source`` is
        ``cache:<folder>``.

    Raises
    ------
    SourceError
        When the folder or its ``fingerprint.json`` is missing, or the tables
        no longer match the recorded fingerprint.
    """
    from medrisk.io import load_ledger

    cache = Path(cache)
    meta_file = cache / CACHE_FINGERPRINT_FILE
    if not meta_file.exists():
        raise SourceError(
            f"No database cache at {cache} (no {CACHE_FINGERPRINT_FILE}). Read the database once "
            "with database.cache set (and offline false) to make one."
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"{meta_file}: not readable ({exc}).") from exc
    ledger = load_ledger(cache, quarantine_dir=quarantine_dir or cache / ".quarantine",
                         progress=progress)
    if ledger.load_report is not None:
        ledger.load_report.ignored_files = [f for f in ledger.load_report.ignored_files
                                            if f != CACHE_FINGERPRINT_FILE]
    got = ledger.fingerprint()
    if got != meta.get("fingerprint"):
        raise SourceError(
            f"The cache {cache} does not match its {CACHE_FINGERPRINT_FILE}: fingerprint "
            f"{got[:12]}… instead of {str(meta.get('fingerprint'))[:12]}…. Its files were changed; "
            "read the database again to rebuild it."
        )
    origin = {k: v for k, v in meta.items() if k != "load_report"}
    origin.update(kind="cache", cache=str(cache))
    ledger.origin = origin
    ledger.source = f"cache:{cache}"
    return ledger


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def _sql_types(table: str) -> dict[str, Any]:
    import sqlalchemy as sa

    money = set(MONEY_COLUMNS.get(table, ()))
    dates = set(DATE_COLUMNS.get(table, ()))
    out = {}
    for name, col in SCHEMAS[table].to_schema().columns.items():
        dtype = str(col.dtype).lower()
        if name in money:
            out[name] = sa.Numeric(18, 2)
        elif name in dates:
            out[name] = sa.Date()
        elif "int" in dtype:
            out[name] = sa.BigInteger()
        elif "float" in dtype:
            out[name] = sa.Float(53)
        elif "bool" in dtype:
            out[name] = sa.Boolean()
        else:
            out[name] = sa.Text()
    return out


def _python_values(s: pd.Series, kind: str) -> list:
    na = s.isna().to_numpy()
    if kind == "money":
        v = s.fillna(0).to_numpy(dtype=np.int64)
        return [None if m else decimal.Decimal(int(x)).scaleb(-2)
                for x, m in zip(v, na, strict=True)]
    if kind == "date":
        days = s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        return [None if m else d for d, m in zip(days.astype(object), na, strict=True)]
    if kind == "int":
        v = s.fillna(0).to_numpy(dtype=np.int64)
        return [None if m else int(x) for x, m in zip(v, na, strict=True)]
    if kind == "float":
        return [None if m else float(x) for x, m in zip(s.to_numpy(dtype=object), na, strict=True)]
    if kind == "bool":
        return [None if m else bool(x) for x, m in zip(s.to_numpy(dtype=object), na, strict=True)]
    return [None if m else str(x) for x, m in zip(s.to_numpy(dtype=object), na, strict=True)]


def _copy_writer(conn, schema: str | None, table: str, names: list[str]):
    """On PostgreSQL (psycopg), a function sending rows with COPY; None elsewhere."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return None
    from psycopg import sql

    target = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(sql.Identifier(n) for n in names))
    cursor = conn.connection.dbapi_connection.cursor()

    def send(rows) -> None:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    return send


def write_tables_to_db(
    tables: Mapping[str, pd.DataFrame] | Ledger,
    url: str,
    *,
    schema: str | None = None,
    password_env: str | None = None,
    chunk_rows: int = 20_000,
    progress: bool = False,
) -> list[str]:
    """Write canonical tables into a database, replacing tables of the same names.

    Each table is created with its canonical name and columns: money as
    ``NUMERIC(18, 2)`` in 元, dates as ``DATE``, counts as ``BIGINT``, rates
    as double precision, flags as ``BOOLEAN``, everything else as ``TEXT``;
    plus a first column ``row_no`` (``BIGINT PRIMARY KEY``, 1, 2, ... in the
    frame's order) so that the rows read back come in the order written, as
    an ERP's surrogate key would give them (PostgreSQL's storage order is not
    the insertion order). :func:`load_ledger_from_db` ignores ``row_no`` and
    reads the tables back to the same tables (the same fingerprint).

    Parameters
    ----------
    tables : dict of str to DataFrame, or Ledger
        Canonical tables (money in integer fen).
    url : str
        SQLAlchemy URL of the database.
    schema : str, default=None
        Schema to write into (created if missing, on databases that have schemas).
    password_env : str, default=None
        Environment variable holding the password, if the URL has none.
    chunk_rows : int, default=20_000
        Rows per insert batch.
    progress : bool, default=False
        Show a progress bar per table.

    Returns
    -------
    list of str
        The tables written.

    Raises
    ------
    SourceError
        When the database cannot be reached or written (the URL masked).
    """
    import sqlalchemy as sa

    if isinstance(tables, Ledger):
        tables = tables.tables
    unknown = set(tables) - set(SCHEMAS)
    if unknown:
        raise ValueError(f"Unknown table(s) {sorted(unknown)}; possible tables are "
                         f"{list(TABLE_ORDER)}.")
    settings = DatabaseSettings(password_env=password_env, where="write_tables_to_db")
    sa_url, secrets = _connect_url(str(url), settings)
    shown = mask_url(sa_url)
    engine = _engine(sa_url)
    written = []
    try:
        with engine.begin() as conn:
            if schema and conn.dialect.name != "sqlite":
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
            meta = sa.MetaData(schema=schema)
            for name in TABLE_ORDER:
                df = tables.get(name)
                if df is None:
                    continue
                types = _sql_types(name)
                cols = [c for c in types if c in df.columns]
                t = sa.Table(name, meta,
                             sa.Column(ROW_COLUMN, sa.BigInteger(), primary_key=True,
                                       autoincrement=False),
                             *[sa.Column(c, types[c]) for c in cols])
                t.drop(conn, checkfirst=True)
                t.create(conn)
                money = set(MONEY_COLUMNS.get(name, ()))
                dates = set(DATE_COLUMNS.get(name, ()))
                kinds = {c: ("money" if c in money else "date" if c in dates
                             else "int" if isinstance(types[c], sa.BigInteger)
                             else "float" if isinstance(types[c], sa.Float)
                             else "bool" if isinstance(types[c], sa.Boolean) else "text")
                         for c in cols}
                bar = None
                if progress:
                    from tqdm.auto import tqdm

                    bar = tqdm(total=len(df), desc=f"writing {name}", unit=" rows",
                               unit_scale=True)
                names = [ROW_COLUMN, *cols]
                copy = _copy_writer(conn, schema, name, names)
                for start in range(0, len(df), chunk_rows):
                    part = df.iloc[start:start + chunk_rows]
                    values = [range(start + 1, start + len(part) + 1),
                              *[_python_values(part[c], kinds[c]) for c in cols]]
                    if copy is not None:
                        copy(zip(*values, strict=True))
                    else:
                        conn.execute(t.insert(), [dict(zip(names, row, strict=True))
                                                  for row in zip(*values, strict=True)])
                    if bar is not None:
                        bar.update(len(part))
                if bar is not None:
                    bar.close()
                written.append(name)
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(f"Writing to {shown} failed: {_driver_message(exc, secrets)}") from None
    finally:
        engine.dispose()
    return written
