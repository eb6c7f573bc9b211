r"""Reading the canonical tables from a SQL database.

:func:`medrisk.load_ledger` hands a source that contains ``://`` (a SQLAlchemy
URL such as ``postgresql+psycopg://medrisk@db.example.com:5432/erp`` or
``sqlite:///data/erp.db``) to :func:`load_ledger_from_db`. Rows read from the
database go through exactly the same parsing, validation, quarantine and load
report as rows read from files (:func:`medrisk.data.validate_raw`).

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
:data:`medrisk.data.TABLE_ALIASES` knows, such as ``应收账款``), and columns
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
With ``cache: DIR``, every successful read also writes the accepted tables to
``DIR`` as Parquet with ``fingerprint.json``; ``offline: true`` (or
``offline=True``) reads that copy instead of the database
(:mod:`medrisk.data.db`). Either way ``ledger.origin`` says what was read (see
:func:`load_ledger_from_db`).

Passwords never go in a file: a password inside ``database.url`` is refused;
name an environment variable in ``password_env``. Every message shows the URL
with the password masked (:mod:`medrisk.data.db`). Writing tables into a
database is :func:`medrisk.data.db.write_tables_to_db`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from medrisk.data._files import RawTable, _identify_table, read_mapping
from medrisk.data._ledger import Ledger, validate_raw
from medrisk.data._parsing import match_columns, normalize_header
from medrisk.data._schemas import REQUIRED_TABLES, TABLE_ORDER, required_columns
from medrisk.data.db._cache import _write_cache, read_cache
from medrisk.data.db._connect import (
    DatabaseSettings,
    _connect_url,
    _driver_message,
    _engine,
    database_settings,
    mask_url,
)
from medrisk.exceptions import MissingColumnsError, ParamsError, SchemaError, SourceError

__all__ = [
    "load_ledger_from_db",
]

#: Tables the ``since`` limit applies to; every other table is read in full.
SINCE_TABLES = ("invoices", "allocations", "adjustments", "payments", "collection_actions")
#: Money differences smaller than this (元) count as zero when SQL compares sums (SQLite floats).
_HALF_FEN = "0.005"


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
    return _identify_table(name)


def _strip_query(query: str) -> str:
    return query.strip().rstrip(";").strip()


#: Words that change a database (or a session); a mapping query may hold none of them.
_WRITE_WORDS = frozenset("""insert update delete merge upsert replace create drop alter truncate
    grant revoke copy call do execute exec vacuum analyze commit rollback begin savepoint release
    set reset lock refresh cluster reindex comment import load attach detach pragma""".split())
_QUERY_TOKEN = re.compile(r"""
    (?P<single>'(?:[^']|'')*')            # 'text', '' inside
  | (?P<double>"(?:[^"]|"")*")            # "identifier"
  | (?P<line>--[^\n]*)                    # -- comment
  | (?P<block>/\*.*?\*/)                   # /* comment */
  | (?P<dollar>\$(?P<tag>[A-Za-z_]*)\$.*?\$(?P=tag)\$)   # $$ text $$ (PostgreSQL)
  | (?P<open>\()|(?P<close>\))|(?P<semi>;)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<unclosed>['"]|/\*|\$[A-Za-z_]*\$)
""", re.VERBOSE | re.DOTALL)


def _check_query(query: str, where: str) -> str:
    """Return ``query`` when it is one read-only SELECT (or WITH ... SELECT); else refuse it.

    The query is read as SQL tokens (strings, quoted names and comments skipped): it
    must start with SELECT or WITH, keep its parentheses balanced (a ``)`` that closes
    more than it opened would escape the sub-query medrisk wraps it in), hold no ``;``
    and none of the words that write (:data:`_WRITE_WORDS`). The session that runs it is
    read-only as well (see :func:`medrisk.data.db._connect._engine`).
    """
    text = _strip_query(query)
    depth, words = 0, []
    for m in _QUERY_TOKEN.finditer(text):
        kind = m.lastgroup if m.lastgroup != "tag" else "dollar"
        if kind == "unclosed":
            raise ParamsError(f"{where}: the query has an unclosed quote or comment at "
                              f"{m.start()}: {text[m.start():m.start() + 30]!r}.")
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth < 0:
                raise ParamsError(f"{where}: the query closes a parenthesis it never opened "
                                  f"(at {m.start()}); write one SELECT statement.")
        elif kind == "semi":
            raise ParamsError(f"{where}: the query holds more than one statement (';' at "
                              f"{m.start()}); write one SELECT statement.")
        elif kind == "word":
            words.append(m.group("word").lower())
    if depth:
        raise ParamsError(f"{where}: the query leaves {depth} parenthesis open.")
    if not words or words[0] not in ("select", "with"):
        raise ParamsError(f"{where}: the query must be one SELECT (or WITH ... SELECT) "
                          f"statement; it starts with {(words or [''])[0].upper()!r}.")
    bad = sorted(set(words) & _WRITE_WORDS)
    if bad:
        raise ParamsError(f"{where}: the query may only read; it holds {bad[0].upper()!r}. "
                          "medrisk reads a database, it never changes one.")
    return text


def _plan(conn, url_text: str, settings: DatabaseSettings, entries: dict[str, dict],
          secrets: list[str]) -> dict[str, _Source]:
    """Find every canonical table in the database and the columns to read."""
    import sqlalchemy as sa

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
            query = _check_query(entry["query"], f"{where}: tables.{table}.query")
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

    parts: list[pd.DataFrame] = []
    bar = None
    if progress:
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
    :func:`medrisk.load_ledger` reads a URL with this function. A demo written
    to a scratch SQLite file reads back to the same tables:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from medrisk import load_ledger
    >>> from medrisk.data.db import write_tables_to_db
    >>> from medrisk.data.demo import make_ledger
    >>> folder = tempfile.TemporaryDirectory()
    >>> url = f"sqlite:///{Path(folder.name) / 'erp.db'}"
    >>> demo = make_ledger(2_000, seed=1)
    >>> tables = write_tables_to_db(demo, url)
    >>> ledger = load_ledger(url)
    >>> origin = ledger.origin
    >>> origin["kind"], origin["tables"]["invoices"], origin["rows"]["invoices"]
    ('database', 'table invoices', 2000)
    >>> ledger.origin["fingerprint"] == demo.fingerprint()
    True
    >>> folder.cleanup()

    An ERP's own tables are read through a mapping file, e.g.
    ``load_ledger("postgresql+psycopg://medrisk@db:5432/erp", "params/mapping-db-example.yaml")``.
    """
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
    engine = _engine(sa_url, read_only=True)
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
    origin = {
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
    ledger = ledger.replace(origin=origin)
    if settings.cache is not None:
        try:
            _write_cache(ledger, settings.cache)
            ledger = ledger.replace(origin={**origin, "cache": str(settings.cache)})
        except OSError as exc:
            warnings.warn(f"The read succeeded but the cache {settings.cache} could not be "
                          f"written: {exc}", stacklevel=2)
    return ledger
