"""The Parquet cache of a database read: written on each read, read offline, checked."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from db_fixtures import same_tables

from medrisk.data import load_ledger
from medrisk.data.db import load_ledger_from_db, mask_url, read_cache
from medrisk.exceptions import ParamsError, SourceError


def test_cache_round_trips_to_the_same_fingerprint(tiny_db, tmp_path):
    cache = tmp_path / "cache" / "erp"
    mapping = {"database": {"cache": str(cache)}}
    online = load_ledger(tiny_db, mapping)
    assert online.origin["cache"] == str(cache)
    meta = json.loads((cache / "fingerprint.json").read_text(encoding="utf-8"))
    assert meta["fingerprint"] == online.fingerprint()
    assert meta["url"] == mask_url(tiny_db)
    assert meta["rows"]["invoices"] == 3
    offline = load_ledger_from_db(tiny_db, {"database": {"cache": str(cache),
                                                         "offline": True}})
    assert offline.fingerprint() == online.fingerprint()
    same_tables(offline, online)
    assert offline.origin["kind"] == "cache" and offline.origin["read_at"] == meta["read_at"]
    assert offline.source == f"cache:{cache}"
    assert load_ledger(cache).fingerprint() == online.fingerprint()  # a plain source too
    # a second read replaces the cache whole
    load_ledger(tiny_db, mapping)
    assert sorted(p.name for p in cache.parent.iterdir()) == ["erp"]
    # a changed cache is refused
    inv = pd.read_parquet(cache / "invoices.parquet").iloc[:-1]
    inv.to_parquet(cache / "invoices.parquet", index=False)
    with pytest.raises(SourceError, match="does not match its fingerprint.json"):
        read_cache(cache)
    with pytest.raises(SourceError, match="No database cache"):
        read_cache(tmp_path / "nowhere")
    with pytest.raises(ParamsError, match="offline reading needs database.cache"):
        load_ledger_from_db(tiny_db, {"database": {"offline": True}})
