"""Reading a ledger from a database (issue 8): SQLite and a real PostgreSQL server, no mocks.

The PostgreSQL tests start a throwaway server themselves (tests/pg_server.py,
through the fixtures of tests/db_fixtures.py); when the server binaries are
missing they fail with a message naming the Debian package to install.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import tiny_tables
from db_fixtures import END, N_INVOICES, same_tables

from medrisk.data import DATE_COLUMNS, MONEY_COLUMNS, load_ledger, write_tables
from medrisk.data.db import mask_url, write_tables_to_db
from medrisk.exceptions import (
    MissingColumnsError,
    ParamsError,
    SchemaError,
    SourceError,
    ValidationError,
)
from medrisk.receivables import aging

SINCE = "2025-11-01"


# ---------------------------------------------------------------------------
# The same company from files and from each database
# ---------------------------------------------------------------------------
def test_demo_from_database_equals_files(demo_db, demo_files, tmp_path):
    files = demo_files[2]
    ledger = load_ledger(demo_db, quarantine_dir=tmp_path / "q")
    same_tables(ledger, files)
    assert ledger.fingerprint() == files.fingerprint()
    pd.testing.assert_frame_equal(aging(ledger, END, by="region"), aging(files, END, by="region"))
    assert ledger.load_report.quarantined == 0
    report = ledger.load_report.tables["invoices"]
    assert report.rows_read == report.accepted == N_INVOICES
    assert report.sources == [f"{mask_url(demo_db)}#invoices"]
    assert ledger.source == mask_url(demo_db)
    assert ledger.origin["kind"] == "database"
    assert ledger.origin["tables"]["invoices"] == "table invoices"
    assert ledger.origin["fingerprint"] == files.fingerprint()
    assert ledger.origin["rows"]["invoices"] == N_INVOICES


def test_chunked_reading_gives_the_same_ledger(demo_db, demo_files):
    tiny = load_ledger(demo_db, {"database": {"chunk_rows": 997}})
    assert tiny.fingerprint() == demo_files[2].fingerprint()



def test_money_stays_exact_in_the_database(tiny_db):
    ledger = load_ledger(tiny_db)
    assert ledger.invoices["amount"].tolist() == [1_234_567_890_123_45, 1_000_00, 50_000_00]
    assert ledger.load_report.quarantined == 0
    assert len(ledger.tables) == 13


# ---------------------------------------------------------------------------
# Mapping files: queries, renamed tables and columns, errors
# ---------------------------------------------------------------------------
def test_query_mapping_with_join_and_where(demo_db, demo_files):
    files = demo_files[2]
    mapping = {"tables": {
        "invoices": {
            "query": (
                'SELECT i.invoice_id AS "发票号码", i.customer_id AS cust_code, i.invoice_date, '
                "i.due_date, i.amount AS inv_amount, i.order_id, i.salesperson_id, "
                "i.product_line, i.currency, c.region AS customer_region "
                "FROM invoices i JOIN customers c ON c.customer_id = i.customer_id "
                "WHERE i.amount > 0 ORDER BY i.invoice_id;"
            ),
            "columns": {"cust_code": "customer_id", "inv_amount": "amount"},
        },
        "targets": {"query": "SELECT * FROM targets WHERE region = '华东'"},
    }}
    ledger = load_ledger(demo_db, mapping)
    expected = files.invoices.sort_values("invoice_id", kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(ledger.invoices, expected)
    targets = files.targets[files.targets["region"] == "华东"].reset_index(drop=True)
    assert len(targets) > 0
    pd.testing.assert_frame_equal(ledger.targets, targets)
    assert ledger.origin["tables"]["invoices"] == "query"
    assert ledger.load_report.tables["invoices"].sources == [
        f"{mask_url(demo_db)}#query:invoices"]


def test_table_mapping_with_renamed_table_and_columns(backend, demo_db, demo_files):
    engine = sa.create_engine(demo_db)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "CREATE TABLE ar_invoice AS SELECT row_no AS seq, invoice_id AS inv_no, "
            "customer_id AS cust_code, invoice_date, due_date, amount, order_id, "
            "salesperson_id, product_line, currency, 'x' AS remark FROM invoices ORDER BY row_no"))
        if backend.kind == "postgresql":
            conn.execute(sa.text("ALTER TABLE ar_invoice ADD PRIMARY KEY (seq)"))
    try:
        mapping = {"tables": {"invoices": {"table": "ar_invoice",
                                           "columns": {"inv_no": "invoice_id",
                                                       "cust_code": "customer_id"}}}}
        ledger = load_ledger(demo_db, mapping)
        assert ledger.fingerprint() == demo_files[2].fingerprint()
        assert ledger.origin["tables"]["invoices"] == "table ar_invoice"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE ar_invoice"))
        engine.dispose()


def test_bad_mapping_names_the_table_and_column(demo_db):
    missing_column = {"tables": {"invoices": {"table": "invoices",
                                              "columns": {"inv_nr": "invoice_id"}}}}
    with pytest.raises(SchemaError, match=r"tables\.invoices\.columns.*'inv_nr'.*"
                                          r"database table 'invoices'.*has no column 'inv_nr'"):
        load_ledger(demo_db, missing_column)
    wrong_table = {"tables": {"payments": {"table": "ar_receipts"}}}
    with pytest.raises(SourceError, match=r"tables\.payments\.table is 'ar_receipts'.*no table "
                                          r"or view named 'ar_receipts'.*Tables there: .*invoices"):
        load_ledger(demo_db, wrong_table)
    short_query = {"tables": {"invoices": {
        "query": "SELECT invoice_id, customer_id FROM invoices"}}}
    with pytest.raises(MissingColumnsError, match=r"#query:invoices: table 'invoices' lacks "
                                                  r"required column\(s\) invoice_date, due_date"):
        load_ledger(demo_db, short_query)
    bad_sql = {"tables": {"payments": {"query": "SELECT * FROM no_such_table"}}}
    with pytest.raises(SourceError, match=r"tables\.payments\.query fails on .*no_such_table"):
        load_ledger(demo_db, bad_sql)
    with pytest.raises(ParamsError, match=r"tables\.invoices names a file"):
        load_ledger(demo_db, {"tables": {"invoices": {"file": "invoices.csv"}}})
    with pytest.raises(ParamsError, match=r"database has unknown key\(s\) \['chunk_size'\]"):
        load_ledger(demo_db, {"database": {"chunk_size": 10}})



def test_missing_required_table_is_named(backend):
    url = backend.new_db("empty")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (customer_id TEXT)"))
    engine.dispose()
    with pytest.raises(SourceError, match=r"no table or view named 'invoices'.*Tables there: "
                                          r"customers"):
        load_ledger(url)


# ---------------------------------------------------------------------------
# Bad rows: quarantined exactly as from files
# ---------------------------------------------------------------------------
_BAD_TABLES = ("customers", "invoices", "payments", "allocations")


def _cells_with_bad_rows(folder: Path) -> dict[str, pd.DataFrame]:
    """Tiny tables as CSV cells (text), with bad rows appended."""
    write_tables({t: tiny_tables()[t] for t in _BAD_TABLES}, folder, "csv")
    cells = {t: pd.read_csv(folder / f"{t}.csv", dtype=str, keep_default_na=False)
             for t in _BAD_TABLES}
    bad = {
        "invoices": [
            # an unknown customer
            {"invoice_id": "I9", "customer_id": "C404", "invoice_date": "2025-03-02",
             "due_date": "2025-06-30", "amount": "800.00"},
            # a date that is not a date, in a text column
            {"invoice_id": "I8", "customer_id": "C1", "invoice_date": "2025-13-45",
             "due_date": "2025-06-30", "amount": "900.50"},
            # a duplicate id
            {"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2025-03-02",
             "due_date": "2025-06-30", "amount": "1.00"},
        ],
        "payments": [
            # a negative amount
            {"payment_id": "P9", "customer_id": "C1", "payment_date": "2025-08-02",
             "amount": "-5.00"},
        ],
        "allocations": [
            # the quarantined payment
            {"payment_id": "P9", "invoice_id": "I1", "amount": "5.00"},
        ],
    }
    for table, rows in bad.items():
        extra = pd.DataFrame(rows).reindex(columns=cells[table].columns).astype(object)
        extra = extra.where(extra.notna(), "")
        cells[table] = pd.concat([cells[table], extra], ignore_index=True)
    for table, frame in cells.items():
        frame.to_csv(folder / f"{table}.csv", index=False)
    return cells


def _write_cells(url: str, cells: dict[str, pd.DataFrame], text_columns: set[str]) -> None:
    """The same cells into database tables with real types (except ``text_columns``)."""
    meta = sa.MetaData()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table, frame in cells.items():
            cols, rows = [], {c: [] for c in frame.columns}
            for col in frame.columns:
                values = frame[col].tolist()
                if f"{table}.{col}" in text_columns:
                    typ, conv = sa.Text(), str
                elif col in MONEY_COLUMNS.get(table, ()):
                    typ, conv = sa.Numeric(18, 2), decimal.Decimal
                elif col in DATE_COLUMNS.get(table, ()):
                    typ, conv = sa.Date(), dt.date.fromisoformat
                elif col == "payment_terms_days":
                    typ, conv = sa.BigInteger(), int
                else:
                    typ, conv = sa.Text(), str
                cols.append(sa.Column(col, typ))
                rows[col] = [None if v == "" else conv(v) for v in values]
            t = sa.Table(table, meta, *cols)
            t.create(conn)
            conn.execute(t.insert(), [dict(zip(rows, r, strict=True))
                                      for r in zip(*rows.values(), strict=True)])
    engine.dispose()


def _as_in_csv(reason: str) -> str:
    """A database quarantine reason with the row numbers it quotes as a CSV would count them."""
    return re.sub(r"at row (\d+)", lambda m: f"at row {int(m.group(1)) + 1}", reason)


def _without_values(reason: str) -> str:
    """A quarantine reason without the cell values it quotes (``col = 'x': rule``)."""
    return re.sub(r" = (?:'[^']*'|[^:;]*)(?=: )", "", reason)


def test_bad_rows_are_quarantined_as_from_files(backend, tmp_path):
    cells = _cells_with_bad_rows(tmp_path / "files")
    url = backend.new_db("badrows")
    _write_cells(url, cells, {"invoices.invoice_date"})
    from_files = load_ledger(tmp_path / "files", quarantine_dir=tmp_path / "qf")
    from_db = load_ledger(url, {"database": {"quarantine": str(tmp_path / "qd")}})
    same_tables(from_db, from_files)
    for table in _BAD_TABLES:
        f, d = from_files.load_report.tables[table], from_db.load_report.tables[table]
        assert (d.rows_read, d.accepted, d.quarantined, d.top_reasons) == (
            f.rows_read, f.accepted, f.quarantined, f.top_reasons), table
    assert from_db.load_report.quarantined == from_files.load_report.quarantined == 5
    for table in ("invoices", "payments", "allocations"):
        qf = pd.read_csv(tmp_path / "qf" / f"{table}.quarantine.csv", dtype=str,
                         keep_default_na=False)
        qd = pd.read_csv(tmp_path / "qd" / f"{table}.quarantine.csv", dtype=str,
                         keep_default_na=False)
        assert qd["_file"].unique().tolist() == [f"{mask_url(url)}#{table}"]
        # rows: the record number in the result (a CSV's header is its row 1)
        assert (qd["_row"].astype(int) + 1).tolist() == qf["_row"].astype(int).tolist()
        if backend.kind == "postgresql":  # NUMERIC arrives as exact text: identical words
            assert [_as_in_csv(r) for r in qd["_reason"]] == qf["_reason"].tolist()
        else:  # SQLite keeps NUMERIC as REAL: -5.0, where the CSV says '-5.00'
            assert [_without_values(_as_in_csv(r)) for r in qd["_reason"]] == [
                _without_values(r) for r in qf["_reason"]]
    reasons = " | ".join(pd.read_csv(tmp_path / "qd" / "invoices.quarantine.csv")["_reason"])
    assert "invoice_date = '2025-13-45': expected a date" in reasons
    assert "customer_id = 'C404': not found in customers.customer_id" in reasons
    with pytest.raises(ValidationError, match=r"#invoices, row 4, column 'customer_id'"):
        load_ledger(url, strict=True)


# ---------------------------------------------------------------------------
# The since limit
# ---------------------------------------------------------------------------
def _expected_since(full, since: str) -> dict[str, pd.DataFrame]:
    s = pd.Timestamp(since)
    inv, pay = full.invoices, full.payments
    alloc, adj, acts = full.allocations, full.adjustments, full.collection_actions
    pay_date = alloc["payment_id"].map(pay.set_index("payment_id")["payment_date"])
    paid = alloc[pay_date < s].groupby("invoice_id")["amount"].sum()
    adjusted = adj[adj["adjustment_date"] < s].groupby("invoice_id")["amount"].sum()
    left = (inv["amount"] - inv["invoice_id"].map(paid).fillna(0)
            - inv["invoice_id"].map(adjusted).fillna(0))
    keep = (inv["invoice_date"] >= s) | (left > 0)
    kept = set(inv.loc[keep, "invoice_id"])
    alloc_kept = alloc[alloc["invoice_id"].isin(kept)]
    total = pay["payment_id"].map(alloc.groupby("payment_id")["amount"].sum()).fillna(0)
    to_kept = pay["payment_id"].map(alloc_kept.groupby("payment_id")["amount"].sum()).fillna(0)
    pay_keep = ((pay["payment_date"] >= s) | pay["payment_id"].isin(alloc_kept["payment_id"])
                | (pay["amount"] > total))
    pay_amount = pay["amount"].where(pay["payment_date"] >= s,
                                     pay["amount"] - (total - to_kept)).astype(np.int64)
    payments = pay.assign(amount=pay_amount)[pay_keep]
    acts_keep = acts["invoice_id"].isin(kept) | (acts["invoice_id"].isna()
                                                 & (acts["action_date"] >= s))
    out = {
        "invoices": inv[keep],
        "payments": payments,
        "allocations": alloc_kept,
        "adjustments": adj[adj["invoice_id"].isin(kept)],
        "collection_actions": acts[acts_keep],
    }
    return {k: v.reset_index(drop=True) for k, v in out.items()}


def test_since_reads_what_it_says(demo_db, demo_files):
    full = demo_files[2]
    ledger = load_ledger(demo_db, {"database": {"since": SINCE}})
    expected = _expected_since(full, SINCE)
    assert 0 < len(expected["invoices"]) < 0.7 * len(full.invoices)
    assert (expected["invoices"]["invoice_date"] < pd.Timestamp(SINCE)).any()  # still-open old ones
    for name, frame in ledger.tables.items():
        want = expected.get(name, full.tables[name])
        pd.testing.assert_frame_equal(frame, want, obj=name)
    assert ledger.load_report.quarantined == 0
    assert ledger.origin["since"] == SINCE
    # open items and aging as of any date on or after `since` are those of the full read
    for as_of in (SINCE, "2026-03-31", END):
        pd.testing.assert_frame_equal(aging(ledger, as_of, by="region"),
                                      aging(full, as_of, by="region"), obj=as_of)


def test_since_needs_allocations(backend, demo_files):
    url = backend.new_db("noalloc")
    tables = {k: v for k, v in demo_files[1].tables.items() if k != "allocations"}
    write_tables_to_db(tables, url)
    with pytest.raises(ParamsError, match="since needs an 'allocations' table"):
        load_ledger(url, {"database": {"since": SINCE}})
