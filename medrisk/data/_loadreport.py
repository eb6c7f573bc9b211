"""How a ledger was loaded: rows read, accepted and quarantined per table."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["TableReport", "LoadReport"]


@dataclass
class TableReport:
    """How one table was loaded.

    Attributes
    ----------
    table : str
        Canonical table name.
    sources : list of str
        Files (and sheets) the rows came from.
    rows_read : int
        Data rows found in the sources.
    accepted : int
        Rows that passed every rule and are in the ledger.
    quarantined : int
        Rows that broke a rule; ``rows_read == accepted + quarantined``.
    top_reasons : list of tuple of (str, int)
        The most frequent reasons rows were quarantined, with their counts.
    quarantine_file : str or None
        Where the quarantined rows were written, if any.
    """

    table: str
    sources: list[str] = field(default_factory=list)
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    quarantine_file: str | None = None


@dataclass
class LoadReport:
    """Per-table load figures of a Ledger, with the files that were ignored."""

    tables: dict[str, TableReport] = field(default_factory=dict)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        """Total quarantined rows over all tables."""
        return sum(t.quarantined for t in self.tables.values())

    def to_frame(self) -> pd.DataFrame:
        """One row per table: rows read, accepted, quarantined and the top reason."""
        rows = [
            {
                "table": t.table,
                "rows_read": t.rows_read,
                "accepted": t.accepted,
                "quarantined": t.quarantined,
                "top_reason": t.top_reasons[0][0] if t.top_reasons else "",
                "quarantine_file": t.quarantine_file or "",
            }
            for t in self.tables.values()
        ]
        return pd.DataFrame(
            rows,
            columns=["table", "rows_read", "accepted", "quarantined", "top_reason",
                     "quarantine_file"],
        )

    def __str__(self) -> str:
        lines = []
        width = max((len(t) for t in self.tables), default=5)
        lines.append(f"{'table':<{width}}  {'read':>10}  {'accepted':>10}  {'quarantined':>11}")
        for t in self.tables.values():
            lines.append(
                f"{t.table:<{width}}  {t.rows_read:>10,}  {t.accepted:>10,}  {t.quarantined:>11,}"
            )
            for reason, n in t.top_reasons[:5]:
                lines.append(f"{'':<{width}}    {n:>8,} x {reason}")
            if t.quarantine_file:
                lines.append(f"{'':<{width}}    quarantined rows: {t.quarantine_file}")
        if self.ignored_files:
            lines.append("ignored files (not a table name): " + ", ".join(self.ignored_files))
        return "\n".join(lines)
