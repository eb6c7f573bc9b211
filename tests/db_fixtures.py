"""Database fixtures shared by the database tests: the demo company as files, and in each database.

A pytest plugin that tests/conftest.py loads (``pytest_plugins``), so the
session-scoped databases (and the throwaway PostgreSQL server of
tests/pg_server.py) are made once for all the database tests.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import tiny_tables
from pg_server import PostgresServer, PostgresUnavailable

from medrisk.data import load_ledger, write_tables
from medrisk.data.db import write_tables_to_db
from medrisk.data.demo import make_demo

N_INVOICES = 3_000
SEED = 7
END = "2026-10-31"


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


class Backend:
    """Makes fresh databases of one kind."""

    def __init__(self, kind: str, folder: Path, server: PostgresServer | None):
        self.kind = kind
        self.folder = folder
        self.server = server

    def new_db(self, name: str) -> str:
        if self.kind == "sqlite":
            path = self.folder / f"{name}.db"
            path.unlink(missing_ok=True)
            return f"sqlite:///{path}"
        engine = sa.create_engine(self.server.url(database="postgres"),
                                  isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.server.url(database=name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory) -> Backend:
    server = request.getfixturevalue("pg_server") if request.param == "postgresql" else None
    return Backend(request.param, tmp_path_factory.mktemp(f"db-{request.param}"), server)


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory):
    """The demo company written as Parquet files, and loaded back from them."""
    folder = tmp_path_factory.mktemp("demo-files")
    company = make_demo(N_INVOICES, seed=SEED, end=END)
    write_tables(company.ledger.tables, folder, "parquet")
    return folder, company.ledger, load_ledger(folder, quarantine_dir=folder / "q")


@pytest.fixture(scope="session")
def demo_db(backend, demo_files) -> str:
    """URL of a database holding the demo company (written once per backend)."""
    url = backend.new_db("demo")
    written = write_tables_to_db(demo_files[1], url)
    assert "invoices" in written and len(written) == 13
    return url


@pytest.fixture(scope="session")
def tiny_db(backend) -> str:
    """URL of a database holding the tiny company of conftest, one amount of 1.2 万亿元."""
    tables = tiny_tables()
    tables["invoices"].loc[0, "amount"] = 1_234_567_890_123_45  # and 45 fen
    url = backend.new_db("tiny")
    write_tables_to_db(tables, url)
    return url


def same_tables(a, b):
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)
