"""The one call that opens a report: load and scope the data, set up the page, start recording."""

from __future__ import annotations

from dataclasses import dataclass

from medrisk.data import Ledger, load_scoped, scope_label
from medrisk.i18n import check_language
from medrisk.kernel import day_of
from medrisk.reports._present import Recorder, setup

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
    """

    report: str
    ledger: Ledger
    scope: str
    record: Recorder


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
        Valuation date, YYYY-MM-DD.
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
        When ``as_of`` is not a date, ``language`` is not supported or a scope
        filter names a value that does not occur.
    """
    check_language(language)
    day_of(as_of)
    setup()
    ledger = load_scoped(data, mapping, region=region, team=team, salesperson_id=salesperson_id)
    scope = scope_label(language, region=region, team=team, salesperson_id=salesperson_id)
    record = Recorder(figures_file, report)
    record.ledger(ledger, as_of=as_of, scope=scope)
    return ReportContext(report, ledger, scope, record)
