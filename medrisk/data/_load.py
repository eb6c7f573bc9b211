"""Loading a ledger from any source: a folder of files, a workbook or a database URL."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping

from medrisk.config import resolve_path
from medrisk.data._files import read_ledger_files
from medrisk.data._ledger import Ledger
from medrisk.data._ledgercache import ledger_cache_key, read_cached_ledger, write_cached_ledger
from medrisk.data.db import load_ledger_from_db
from medrisk.i18n import t

__all__ = ["load_ledger", "scope_label", "load_scoped", "KEEP_LOADED"]

#: Scoped ledgers kept in memory by :func:`load_scoped`, most recent last.
KEEP_LOADED = 2
_LOADED: OrderedDict[tuple, Ledger] = OrderedDict()


def load_ledger(
    source: str | os.PathLike,
    mapping: str | os.PathLike | Mapping | None = None,
    *,
    strict: bool = False,
    quarantine_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> Ledger:
    """Read a company's data into a validated Ledger.

    Parameters
    ----------
    source : str or path
        A folder of table files (CSV, Excel, Parquet; named after the tables in
        English or Chinese), or one Excel workbook with one sheet per table.
        A database URL (``postgresql://...``, ``sqlite:///...``) is read through
        :mod:`medrisk.data.db` when that module is available.
    mapping : str, path or dict, default=None
        A mapping file (``params/mapping*.yaml``) naming the file, sheet and
        header -> column mapping per table.
    strict : bool, default=False
        Raise :class:`~medrisk.exceptions.ValidationError` at the first bad
        row, naming file, row, column, value and what was expected, instead of
        quarantining.
    quarantine_dir : str or path, default=None
        Where ``<table>.quarantine.csv`` files go; by default a ``quarantine``
        folder next to the source. Stale quarantine files of clean tables are
        removed.
    progress : bool, default=False
        Show a progress bar per table.

    Returns
    -------
    Ledger
        With ``ledger.load_report``: rows read, accepted and quarantined per
        table, and the top reasons.

    Raises
    ------
    SourceError
        When the source or a file cannot be found or read.
    MissingColumnsError
        When a table lacks a required column.
    MissingTableError
        When customers, invoices or payments are absent.

    Examples
    --------
    ``load_ledger("data/demo")`` reads the demo that ``make demo`` writes; here
    a smaller one, written to a scratch folder as CSV:

    >>> import tempfile
    >>> from medrisk import load_ledger, write_tables
    >>> from medrisk.data.demo import make_ledger
    >>> folder = tempfile.TemporaryDirectory()
    >>> files = write_tables(make_ledger(2_000, seed=1), folder.name, fmt="csv")
    >>> ledger = load_ledger(folder.name)
    >>> print(ledger.load_report)
    table                     read    accepted  quarantined
    salespeople                  8           8            0
    customers                   50          50            0
    products                    40          40            0
    batches                    489         489            0
    orders                   2,082       2,082            0
    order_lines              5,329       5,329            0
    shipments                5,321       5,321            0
    invoices                 2,000       2,000            0
    payments                 1,719       1,719            0
    allocations              1,974       1,974            0
    adjustments                127         127            0
    collection_actions       2,611       2,611            0
    targets                    336         336            0
    >>> folder.cleanup()
    """
    if "://" in str(source):
        return load_ledger_from_db(str(source), mapping, strict=strict,
                                   quarantine_dir=quarantine_dir, progress=progress)
    return read_ledger_files(source, mapping, strict=strict, quarantine_dir=quarantine_dir,
                             progress=progress)


def scope_label(language: str = "zh", **filters: str) -> str:
    """Words for a scope, e.g. ``"大区: 华东"`` or ``"Whole company"``."""
    parts = [f"{t('dim.' + k, language)}: {v}" for k, v in filters.items() if v]
    return "; ".join(parts) if parts else t("scope.all", language)


def load_scoped(data: str, mapping: str = "", region: str = "", team: str = "",
                salesperson_id: str = "", channel: str = "", customer_type: str = "",
                reuse: bool = True) -> Ledger:
    """Load a data source (see :func:`medrisk.load_ledger`) and restrict it to a scope.

    The notebooks of a run share one kernel: the second notebook on the same
    files gets the ledger the first one loaded, with everything derived from
    it (cash application, features ...), instead of reading and validating
    again. Another process (the next run) reads the validated copy that the
    first load kept as Parquet (see :mod:`medrisk.data._ledgercache`) instead
    of validating again. Files count as the same while every file's name,
    size and change time are; a database is read again each time.

    Parameters
    ----------
    data : str
        Folder, workbook or database URL.
    mapping : str, default=""
        Mapping file; ``""`` for the built-in names.
    region, team, salesperson_id, channel, customer_type : str, default=""
        Scope filters (see :func:`scope`).
    reuse : bool, default=True
        Give back a ledger loaded before from the same unchanged files (the
        last :data:`KEEP_LOADED` in memory, the last few on disk); False
        always reads and validates again.

    Returns
    -------
    Ledger
        ``.fingerprint()`` of the scoped ledger identifies the data a report used.
    """
    source, mapping_path = resolve_path(data), resolve_path(mapping) or None
    filters = dict(region=region, team=team, salesperson_id=salesperson_id, channel=channel,
                   customer_type=customer_type)
    stored = ledger_cache_key(source, mapping_path) if reuse else None
    key = None if stored is None else (stored, tuple(sorted(filters.items())))
    if key is not None and key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    ledger = read_cached_ledger(stored)  # validated before, by this process or another
    if ledger is None:
        ledger = load_ledger(source, mapping_path)
        write_cached_ledger(stored, ledger)
    ledger = ledger.scope(**filters)
    if key is not None:
        _LOADED[key] = ledger
        while len(_LOADED) > KEEP_LOADED:
            _LOADED.popitem(last=False)
    return ledger
