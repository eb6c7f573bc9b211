"""Writing the canonical tables into a SQL database, the way an ERP would hold them.

:func:`write_tables_to_db` creates one table per canonical table, with its
canonical name, columns and SQL types and a ``row_no`` primary key, so that
:func:`medrisk.data.db.load_ledger_from_db` reads the same tables back (the same
fingerprint). ``medrisk demo-data --to-db URL`` writes the demo company with
it.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from medrisk.data._ledger import Ledger
from medrisk.data._schemas import DATE_COLUMNS, MONEY_COLUMNS, SCHEMAS, TABLE_ORDER
from medrisk.data.db._connect import (
    DatabaseSettings,
    _connect_url,
    _driver_message,
    _engine,
    mask_url,
)
from medrisk.exceptions import SourceError

__all__ = [
    "write_tables_to_db",
]

#: The surrogate key :func:`write_tables_to_db` adds: the row's number in the frame written.
ROW_COLUMN = "row_no"


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
