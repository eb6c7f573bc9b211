"""load_scoped gives back the ledger it loaded from the same unchanged files, and only then."""

from __future__ import annotations

import os

from medrisk.data import load_scoped, write_tables
from medrisk.data.demo import make_ledger


def test_unchanged_files_give_the_same_ledger_and_a_changed_file_a_new_one(tmp_path):
    write_tables(make_ledger(300, seed=2), tmp_path, "csv")
    first = load_scoped(str(tmp_path))
    assert load_scoped(str(tmp_path)) is first  # the second notebook of a run
    assert load_scoped(str(tmp_path), reuse=False) is not first
    east = load_scoped(str(tmp_path), region="华东")
    assert east is not first and load_scoped(str(tmp_path), region="华东") is east
    payments = tmp_path / "payments.csv"
    text = payments.read_text(encoding="utf-8")
    lines = text.splitlines()
    payments.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one receipt fewer
    st = payments.stat()
    os.utime(payments, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    again = load_scoped(str(tmp_path))
    assert again is not first and len(again.payments) == len(first.payments) - 1


def test_a_new_file_in_the_folder_is_a_new_load(tmp_path):
    tables = make_ledger(300, seed=3).tables
    write_tables({k: tables[k] for k in ("customers", "invoices", "payments")}, tmp_path, "csv")
    three = load_scoped(str(tmp_path))
    assert not three.has("targets")
    write_tables({"targets": tables["targets"]}, tmp_path, "csv")
    assert load_scoped(str(tmp_path)).has("targets")
