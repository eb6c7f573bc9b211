"""The one call that opens a report: load and scope the data, set up the page, start recording."""

from __future__ import annotations

from dataclasses import dataclass

from medrisk.data import Ledger, check_as_of, default_as_of, load_scoped, scope_label
from medrisk.i18n import check_language
from medrisk.kernel import day_of
from medrisk.reports._present import Recorder, header, note, setup, summary
from medrisk.reports._sections import (
    DIMENSION_NEEDS,
    SECTION_NEEDS,
    Section,
    Skip,
    attempt,
    dimensions_text,
    skip_text,
    unmet,
)

__all__ = ["ReportContext", "start"]


@dataclass(frozen=True)
class ReportContext:
    """What every report notebook starts from.

    Attributes
    ----------
    report : str
        Notebook name, e.g. ``"10-receivables"``.
    ledger : Ledger
        The data source, loaded, validated and restricted to the scope.
    scope : str
        The scope in words, in the report's language (``"大区: 华东"``).
    record : Recorder
        Records headline figures for the run index; already holds the data
        fingerprint, source, as-of date and scope.
    language : str
        ``"zh"`` or ``"en"``.
    as_of : str
        The valuation date, YYYY-MM-DD (from the data when the notebook was given none).
    data_ends : str or None
        Where the data ends, when that is more than a month before ``as_of``
        (every page then says so); None otherwise.
    """

    report: str
    ledger: Ledger
    scope: str
    record: Recorder
    language: str = "zh"
    as_of: str = ""
    data_ends: str | None = None

    def header(self) -> None:
        """Show the report's title, as-of date, scope and unit, and a warning for stale data."""
        header(self.report, self.as_of, self.language, scope=self.scope, data_ends=self.data_ends)

    def summary(self, brief) -> None:
        """Record a brief's figures and show its cards and sentences, then what it left out."""
        self.record.brief(brief)
        summary(brief.points, brief.cards)
        for skip in brief.skipped:
            note(skip_text(skip, self.language), skipped=True)

    def section(self, key: str, heading: bool = True, **fields) -> Section:
        """Return the section ``key``: ``with ctx.section("aging"): ...`` (see :class:`Section`)."""
        return Section(self, key, heading=heading, **fields)

    def dimensions(self, candidates) -> list[str]:
        """Return the grouping columns the ledger has values for; note and record the others.

        Parameters
        ----------
        candidates : list of str
            Columns of :func:`medrisk.receivables.dimensions`, e.g. ``["region", "team"]``.

        Returns
        -------
        list of str
            Those whose source (see :data:`~medrisk.reports.DIMENSION_NEEDS`) holds values.
        """
        usable, skips = [], []
        for dim in candidates:
            need = DIMENSION_NEEDS.get(dim)
            if need is None or need.met(self.ledger):
                usable.append(dim)
                continue
            skips.append(Skip(f"dim.{dim}", (need,)))
            self.record.skipped(skips[-1])
        if skips:
            note(dimensions_text(skips, self.language), skipped=True)
        return usable

    def attempt(self, key: str, fn, *args, **kwargs):
        """Return ``fn(*args, **kwargs)``, or None when it lacks a table or enough history.

        The reason is recorded, so that section ``key`` shows it in place of its
        content (see :func:`medrisk.reports.attempt`).
        """
        skips: list = []
        out = attempt(skips, key, fn, *args, **kwargs)
        for skip in skips:
            self.record.skipped(skip)
        return out

    def has(self, key: str) -> bool:
        """Return True when the ledger has what section ``key`` of this report needs."""
        return not unmet(self.ledger, SECTION_NEEDS.get(self.report, {}).get(key, ()))


def start(report: str, *, data: str, as_of: str, language: str = "zh", mapping: str = "",
          region: str = "", team: str = "", salesperson_id: str = "",
          figures_file: str = "") -> ReportContext:
    """Open a report: check the parameters, set up the page, load the scoped ledger, record it.

    This is the setup every notebook shares, as one call: the parameters come
    straight from the notebook's parameters cell.

    Parameters
    ----------
    report : str
        Notebook name, for the recorded figures.
    data : str
        Folder, workbook or database URL (see :func:`medrisk.load_ledger`).
    as_of : str
        Valuation date, YYYY-MM-DD; ``""`` for the last month end the data covers
        (see :func:`medrisk.data.default_as_of`).
    language : {"zh", "en"}, default="zh"
    mapping : str, default=""
        Mapping file; ``""`` for the built-in names.
    region, team, salesperson_id : str, default=""
        Scope filters (see :func:`medrisk.data.scope`); ``""`` does not filter.
    figures_file : str, default=""
        Where ``medrisk run`` wants the headline figures; ``""`` records nothing.

    Returns
    -------
    ReportContext

    Raises
    ------
    ParamsError
        When ``as_of`` is not a date or is before the first invoice, ``language``
        is not supported or a scope filter names a value that does not occur.
    """
    check_language(language)
    if as_of:
        day_of(as_of)
    setup()
    ledger = load_scoped(data, mapping, region=region, team=team, salesperson_id=salesperson_id)
    as_of = str(as_of)[:10] if as_of else default_as_of(ledger)
    data_ends = check_as_of(ledger, as_of)
    scope = scope_label(language, region=region, team=team, salesperson_id=salesperson_id)
    record = Recorder(figures_file, report)
    record.ledger(ledger, as_of=as_of, scope=scope, data_ends=data_ends)
    return ReportContext(report, ledger, scope, record, language, as_of, data_ends)
