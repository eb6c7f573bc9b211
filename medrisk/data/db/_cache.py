"""A Parquet cache of the last good database read, read back with its fingerprint checked.

With ``cache: DIR`` in a mapping file's ``database`` section, every successful
read (:func:`medrisk.data.db.load_ledger_from_db`) writes the accepted tables to
``DIR`` as Parquet (:func:`medrisk.data.write_tables`) with ``fingerprint.json``
(the ledger fingerprint, the masked URL, when, rows per table). ``DIR`` is
itself a source for :func:`medrisk.load_ledger`; ``offline: true`` (or
``offline=True``) reads it instead of the database (:func:`read_cache`) and
checks the fingerprint. Either way ``ledger.origin`` says what was read.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from medrisk.data._files import read_ledger_files, write_tables
from medrisk.data._ledger import Ledger
from medrisk.exceptions import SourceError

__all__ = [
    "read_cache",
    "CACHE_FINGERPRINT_FILE",
]

#: The cache's description file.
CACHE_FINGERPRINT_FILE = "fingerprint.json"


def _write_cache(ledger: Ledger, cache: Path) -> None:
    """Replace ``cache`` with the ledger's tables and ``fingerprint.json``, atomically."""
    cache = Path(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(f".{cache.name}.tmp-{os.getpid()}")
    old = cache.with_name(f".{cache.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write_tables(ledger.tables, tmp, "parquet")
        meta = dict(ledger.origin)
        meta["load_report"] = {t: {"rows_read": r.rows_read, "accepted": r.accepted,
                                   "quarantined": r.quarantined}
                               for t, r in ledger.load_report.tables.items()}
        (tmp / CACHE_FINGERPRINT_FILE).write_text(
            json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        if cache.exists():
            cache.rename(old)
        tmp.rename(cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def read_cache(
    cache: str | os.PathLike,
    *,
    quarantine_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> Ledger:
    """Read the Parquet cache of the last good database read, checking its fingerprint.

    Parameters
    ----------
    cache : str or path
        The cache folder (``database.cache``).
    quarantine_dir : str or path, default=None
        Passed to :func:`medrisk.load_ledger` (a cache holds only accepted rows).
    progress : bool, default=False
        Show progress bars.

    Returns
    -------
    Ledger
        ``ledger.origin`` is the origin recorded at the read, with ``kind``
        ``"cache"`` and ``cache`` the folder; ``ledger.source`` is
        ``cache:<folder>``.

    Raises
    ------
    SourceError
        When the folder or its ``fingerprint.json`` is missing, or the tables
        no longer match the recorded fingerprint.
    """
    cache = Path(cache)
    meta_file = cache / CACHE_FINGERPRINT_FILE
    if not meta_file.exists():
        raise SourceError(
            f"No database cache at {cache} (no {CACHE_FINGERPRINT_FILE}). Read the database once "
            "with database.cache set (and offline false) to make one."
        )
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"{meta_file}: not readable ({exc}).") from exc
    ledger = read_ledger_files(cache, quarantine_dir=quarantine_dir or cache / ".quarantine",
                         progress=progress)
    if ledger.load_report is not None:
        ledger.load_report.ignored_files = [f for f in ledger.load_report.ignored_files
                                            if f != CACHE_FINGERPRINT_FILE]
    got = ledger.fingerprint()
    if got != meta.get("fingerprint"):
        raise SourceError(
            f"The cache {cache} does not match its {CACHE_FINGERPRINT_FILE}: fingerprint "
            f"{got[:12]}… instead of {str(meta.get('fingerprint'))[:12]}…. Its files were changed; "
            "read the database again to rebuild it."
        )
    origin = {k: v for k, v in meta.items() if k != "load_report"}
    origin.update(kind="cache", cache=str(cache))
    return ledger.replace(origin=origin, source=f"cache:{cache}")
