"""Writing the canonical tables into a database, directly and from the command line."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import tiny_tables

from medrisk.data import load_ledger
from medrisk.data.db import write_tables_to_db


def test_tables_get_canonical_types_and_a_row_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    tables = tiny_tables()
    written = write_tables_to_db(tables, url)
    assert set(written) == set(tables)
    engine = sa.create_engine(url)
    insp = sa.inspect(engine)
    assert insp.get_pk_constraint("invoices")["constrained_columns"] == ["row_no"]
    cols = {c["name"]: c["type"] for c in insp.get_columns("invoices")}
    engine.dispose()
    assert isinstance(cols["amount"], sa.Numeric) and isinstance(cols["due_date"], sa.Date)
    with pytest.raises(ValueError, match=r"Unknown table\(s\) \['ar_invoice'\]"):
        write_tables_to_db({"ar_invoice": tables["invoices"]}, url)


def test_demo_data_to_db_command(tmp_path):
    from typer.testing import CliRunner

    from medrisk.cli import app

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(app, ["demo-data", "--to-db", url, "--invoices", "300",
                                      "--seed", "3", "--out", str(tmp_path / "files"),
                                      "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "13 tables" in result.output
    from_db, from_files = load_ledger(url), load_ledger(tmp_path / "files")
    assert from_db.fingerprint() == from_files.fingerprint()
    assert len(from_db.invoices) == 300
    result = CliRunner().invoke(app, ["demo-data", "--to-db", "nonsense://x:pw@h/db",
                                      "--invoices", "100"])
    assert result.exit_code == 2 and ":pw@" not in result.output
