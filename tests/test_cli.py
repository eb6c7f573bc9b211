"""The command line: demo data, validation exit codes for scheduled runs."""

from __future__ import annotations

import hashlib

from typer.testing import CliRunner

from medrisk.cli import app

runner = CliRunner()


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_demo_data_is_byte_for_byte_reproducible(tmp_path):
    for name in ("a", "b"):
        res = runner.invoke(app, ["demo-data", "--invoices", "800", "--seed", "5",
                                  "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    res = runner.invoke(app, ["demo-data", "--invoices", "800", "--seed", "6",
                              "--out", str(tmp_path / "c")])
    assert _digest(tmp_path / "c") != _digest(tmp_path / "a")


def test_validate_exits_0_on_clean_data_and_prints_the_report(tmp_path):
    runner.invoke(app, ["demo-data", "--invoices", "800", "--seed", "1", "--out", str(tmp_path)])
    res = runner.invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "invoices" in res.output and "all rows accepted" in res.output
    assert "fingerprint:" in res.output


def test_validate_exits_1_when_rows_are_quarantined(tmp_path):
    (tmp_path / "customers.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    (tmp_path / "payments.csv").write_text("payment_id,customer_id,payment_date,amount\n",
                                           encoding="utf-8")
    (tmp_path / "invoices.csv").write_text(
        "invoice_id,customer_id,invoice_date,due_date,amount\n"
        "I1,C1,2025-01-01,2025-02-01,100\nI2,C1,2025-01-01,2025-02-01,-5\n", encoding="utf-8")
    res = runner.invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 1
    assert "1 row(s) quarantined" in res.output
    assert (tmp_path / "quarantine" / "invoices.quarantine.csv").exists()


def test_validate_exits_2_with_a_clear_message_on_a_missing_source(tmp_path):
    res = runner.invoke(app, ["validate", str(tmp_path / "nowhere")])
    assert res.exit_code == 2
    assert "does not exist" in res.output and "demo-data" in res.output


def test_demo_data_loads_with_nothing_quarantined_and_reconciles(tmp_path):
    import numpy as np

    from medrisk.data import load_ledger

    runner.invoke(app, ["demo-data", "--invoices", "3000", "--seed", "2", "--out", str(tmp_path)])
    ledger = load_ledger(tmp_path)
    assert ledger.load_report.quarantined == 0
    inv = ledger.invoices.set_index("invoice_id")["amount"]
    paid = ledger.allocations.groupby("invoice_id")["amount"].sum().reindex(inv.index, fill_value=0)
    adj = ledger.adjustments.groupby("invoice_id")["amount"].sum().reindex(inv.index, fill_value=0)
    open_amount = inv - paid - adj
    assert (open_amount >= 0).all()
    # The ledger's money is whole fen: invoices = allocations + adjustments + open, exactly.
    assert int(inv.sum()) == int(paid.sum()) + int(adj.sum()) + int(open_amount.sum())
    assert np.issubdtype(inv.dtype, np.integer)
