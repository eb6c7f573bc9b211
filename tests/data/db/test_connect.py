"""Connecting to a database: mapping-file settings, URLs, and passwords kept out of messages.

The PostgreSQL test starts a throwaway server (tests/pg_server.py, through the
fixtures of tests/db_fixtures.py).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import tiny_tables
from pg_server import PASSWORD

from medrisk.data import load_ledger
from medrisk.data.db import database_settings, load_ledger_from_db, write_tables_to_db
from medrisk.exceptions import ParamsError, SourceError


def test_example_mapping_file_is_valid():
    from medrisk.config import PARAMS_DIR
    from medrisk.data import read_mapping

    path = PARAMS_DIR / "mapping-db-example.yaml"
    settings = database_settings(path)
    assert settings.password_env == "MEDRISK_DB_PASSWORD" and settings.schema == "ar"
    assert settings.since == pd.Timestamp("2023-11-01") and settings.chunk_rows == 200_000
    assert set(read_mapping(path)) == {"invoices", "customers", "payments", "allocations"}


# ---------------------------------------------------------------------------
# Credentials
# ---------------------------------------------------------------------------
def test_password_in_a_mapping_file_is_refused(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("database:\n  url: postgresql+psycopg://medrisk:hunter2@db.example.com/erp\n",
                    encoding="utf-8")
    with pytest.raises(ParamsError, match="contains a password.*password_env") as info:
        load_ledger_from_db(None, path)
    assert "hunter2" not in str(info.value)
    assert "medrisk:***@db.example.com" in str(info.value)


def test_passwords_never_appear_in_error_messages(pg_server, demo_files, monkeypatch, tmp_path):
    secret = "Sup3r-s3cret/pw"
    closed = pg_server.url(user="medrisk_pw").replace(str(pg_server.port), "1")
    # a wrong port, the password inside the URL
    from urllib.parse import quote_plus

    with pytest.raises(SourceError, match="Cannot connect to") as info:
        load_ledger(closed.replace("medrisk_pw@", f"medrisk_pw:{quote_plus(secret)}@"))
    assert secret not in str(info.value) and quote_plus(secret) not in str(info.value)
    assert "medrisk_pw:***@" in str(info.value)
    # the right server, a wrong password from the environment
    monkeypatch.setenv("MEDRISK_DB_PASSWORD", secret)
    mapping = {"database": {"url": pg_server.url(user="medrisk_pw"),
                            "password_env": "MEDRISK_DB_PASSWORD"}}
    with pytest.raises(SourceError, match="password authentication failed") as info:
        load_ledger_from_db(None, mapping)
    assert secret not in str(info.value)
    # the password variable not set
    monkeypatch.delenv("MEDRISK_DB_PASSWORD")
    with pytest.raises(ParamsError, match="no environment variable MEDRISK_DB_PASSWORD is set"):
        load_ledger_from_db(None, mapping)
    # the right password from the environment: write and read back
    monkeypatch.setenv("MEDRISK_DB_PASSWORD", PASSWORD)
    url = pg_server.url(user="medrisk_pw", database="postgres")
    write_tables_to_db(tiny_tables(), url, schema="pwtest", password_env="MEDRISK_DB_PASSWORD")
    mapping = {"database": {"url": url, "password_env": "MEDRISK_DB_PASSWORD",
                            "schema": "pwtest"}}
    ledger = load_ledger_from_db(None, mapping)
    assert len(ledger.invoices) == 3
    assert PASSWORD not in ledger.source and PASSWORD not in json.dumps(ledger.origin)
    assert PASSWORD not in " ".join(ledger.load_report.tables["invoices"].sources)
    # a query error on that connection does not show the password either
    mapping["tables"] = {"payments": {"query": "SELECT * FROM nothing_here"}}
    with pytest.raises(SourceError) as info:
        load_ledger_from_db(None, mapping)
    assert PASSWORD not in str(info.value) and "medrisk_pw:***@" in str(info.value)


def test_unreadable_url_is_not_echoed():
    with pytest.raises(SourceError, match="could not be read") as info:
        load_ledger("postgresql+psycopg://medrisk:pw@host:notaport/db")
    assert ":pw@" not in str(info.value)
