"""A Parquet copy of each validated load of files, so unchanged files are not validated again.

Validating a large export is most of the time a load takes (about 18 s of a
1M-invoice book, against about a second to read the same columns). The
accepted rows of a validated load are written once, as Parquet with pandas'
own dtypes, under a key made of every source file's name, size and change
time, the mapping file's content and medrisk's version; the next load of the
same unchanged files (the next notebook of a run, the next run, the run's own
check of the as-of date) reads them back without validating, with the load
report of the first load. A changed, added or removed file, another mapping
or another medrisk version is another key. Databases are never cached here
(their rows change without any file changing; see the ``cache`` of a mapping
file's ``database`` section for an offline copy).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from medrisk.config import PROJ_ROOT
from medrisk.data._ledger import Ledger
from medrisk.data._loadreport import LoadReport, TableReport
from medrisk.kernel import VERSION

__all__ = ["LEDGER_CACHE_DIR", "ledger_cache_key", "read_cached_ledger", "write_cached_ledger"]

#: Where validated loads are kept; ``MEDRISK_LEDGER_CACHE`` overrides it, ``off`` disables it.
LEDGER_CACHE_DIR = PROJ_ROOT / "data" / "cache" / "ledgers"
_KEEP = 4  # loads kept; the oldest go first


def _cache_dir() -> Path | None:
    setting = os.environ.get("MEDRISK_LEDGER_CACHE", "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    return Path(setting) if setting else LEDGER_CACHE_DIR


def _stat(path: Path) -> list:
    st = path.stat()
    return [path.name, st.st_size, st.st_mtime_ns]


def ledger_cache_key(source, mapping=None) -> str | None:
    """Return the key of a load of files, or None when it is not cached (a database, no files).

    Parameters
    ----------
    source : str or path
        Folder of table files or one workbook.
    mapping : str, path or None
        Mapping file (its content is part of the key); a dict mapping is not cached.

    Returns
    -------
    str or None
        Hex digest of every file's name, size and change time, the mapping and
        medrisk's version.
    """
    src = Path(source)
    if "://" in str(source) or not src.exists() or isinstance(mapping, dict):
        return None
    files = sorted(_stat(p) for p in src.iterdir() if p.is_file()) if src.is_dir() else [
        _stat(src)]
    mapped = Path(mapping).read_bytes().hex() if mapping and Path(mapping).is_file() else ""
    text = json.dumps([str(src.resolve()), files, str(mapping or ""), mapped, VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_cached_ledger(key: str | None) -> Ledger | None:
    """Return the ledger kept under ``key``, or None when there is none (or it is unreadable).

    Parameters
    ----------
    key : str or None
        From :func:`ledger_cache_key`.

    Returns
    -------
    Ledger or None
        Tables as validated, the first load's report, source and origin.
    """
    base = _cache_dir()
    if key is None or base is None or not (base / key / "meta.json").is_file():
        return None
    folder = base / key
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in meta["tables"]}
        report = LoadReport(
            tables={t: TableReport(**{**r, "top_reasons": [tuple(x) for x in r["top_reasons"]]})
                    for t, r in meta["load_report"]["tables"].items()},
            ignored_files=list(meta["load_report"]["ignored_files"]))
    except (OSError, ValueError, KeyError, TypeError):  # a damaged copy: load the files again
        return None
    os.utime(folder / "meta.json")  # recently used
    return Ledger(tables, load_report=report, source=meta["source"], origin=meta["origin"])


def write_cached_ledger(key: str | None, ledger: Ledger) -> None:
    """Keep a validated ledger under ``key`` (written whole, then renamed into place).

    Parameters
    ----------
    key : str or None
        From :func:`ledger_cache_key`; None keeps nothing.
    ledger : Ledger
        As :func:`medrisk.load_ledger` returned it.
    """
    base = _cache_dir()
    if key is None or base is None:
        return
    tmp = base / f".{key}.tmp-{os.getpid()}"
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for name, frame in ledger.tables.items():
            frame.reset_index(drop=True).to_parquet(tmp / f"{name}.parquet", index=False)
        report = ledger.load_report or LoadReport()
        meta = {"tables": list(ledger.tables), "source": ledger.source, "origin": ledger.origin,
                "fingerprint": ledger.fingerprint(), "load_report": asdict(report)}
        (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, default=str),
                                       encoding="utf-8")
        target = base / key
        if not target.exists():
            tmp.rename(target)
    except OSError:  # a read-only or full disk: the load itself already succeeded
        pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _forget_oldest(base)


def _forget_oldest(base: Path) -> None:
    kept = sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: (p / "meta.json").stat().st_mtime if (p / "meta.json").exists()
                  else 0)
    for old in kept[:-_KEEP]:
        ours = (len(old.name) == 32 and all(c in "0123456789abcdef" for c in old.name)
                and (old / "meta.json").is_file())
        if old.parent == base and ours:  # only a folder this module made
            shutil.rmtree(old, ignore_errors=True)
