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


def test_the_next_process_reads_the_validated_copy_exactly(tmp_path, monkeypatch):
    import pandas as pd

    from medrisk.data import _load
    from medrisk.data._ledgercache import ledger_cache_key, read_cached_ledger

    monkeypatch.setenv("MEDRISK_LEDGER_CACHE", str(tmp_path / "cache"))
    write_tables(make_ledger(400, seed=5), tmp_path / "data", "csv")
    first = load_scoped(str(tmp_path / "data"))
    monkeypatch.setattr(_load, "_LOADED", type(_load._LOADED)())  # as a new process would start
    calls = []
    monkeypatch.setattr(_load, "load_ledger", lambda *a, **k: calls.append(a))
    again = load_scoped(str(tmp_path / "data"))
    assert calls == [] and again is not first  # read back, not validated again
    assert again.fingerprint() == first.fingerprint()
    for name, frame in first.tables.items():
        pd.testing.assert_frame_equal(again.tables[name].reset_index(drop=True),
                                      frame.reset_index(drop=True), check_exact=True)
    assert str(again.load_report) == str(first.load_report)
    assert read_cached_ledger(ledger_cache_key(tmp_path / "nowhere")) is None


def test_the_copy_can_be_switched_off_and_a_damaged_copy_is_read_again(tmp_path, monkeypatch):
    from medrisk.data import _load
    from medrisk.data._ledgercache import ledger_cache_key

    cache = tmp_path / "cache"
    monkeypatch.setenv("MEDRISK_LEDGER_CACHE", "off")
    write_tables(make_ledger(300, seed=6), tmp_path / "data", "csv")
    load_scoped(str(tmp_path / "data"))
    assert not cache.exists()
    monkeypatch.setenv("MEDRISK_LEDGER_CACHE", str(cache))
    monkeypatch.setattr(_load, "_LOADED", type(_load._LOADED)())
    first = load_scoped(str(tmp_path / "data"))
    key = ledger_cache_key(tmp_path / "data")
    (cache / key / "invoices.parquet").write_bytes(b"not parquet")
    monkeypatch.setattr(_load, "_LOADED", type(_load._LOADED)())
    assert load_scoped(str(tmp_path / "data")).fingerprint() == first.fingerprint()
