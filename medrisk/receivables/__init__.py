"""medrisk.receivables: what is owed, how late, and what was collected.

Cash application (核销), the open-items and aging engine, KPIs, rankings and the customer 360, and
receivables warnings.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.receivables._cashapp import (
    RULES,
    CashApplication,
    apply_cash,
)
from medrisk.receivables._engine import (
    AGING_BASES,
    DEFAULT_INVOICE_AGE_EDGES,
    STATUS_LABELS_ZH,
    STATUSES,
    VALUES,
    EventBook,
    aging,
    aging_buckets,
    aging_series,
    allocations_of,
    cash_application_of,
    dimensions,
    event_book,
    group_codes,
    invoice_salesperson,
    open_items,
    prepare,
)
from medrisk.receivables._kpis import (
    KPI_COLUMNS,
    kpi_trend,
    kpis,
)
from medrisk.receivables._rankings import (
    LOWER_IS_BETTER,
    customer_360,
    long_term_delinquents,
    rank_by,
    salesperson_collection_ranking,
    slowest_payers,
    top_overdue_customers,
)
from medrisk.receivables._warnings import (
    DEFAULT_THRESHOLDS,
    DEFAULT_WARNINGS_PATH,
    load_warning_thresholds,
    warnings,
)

__all__ = [
    "CashApplication",
    "apply_cash",
    "RULES",
    "allocations_of",
    "cash_application_of",
    "event_book",
    "EventBook",
    "group_codes",
    "invoice_salesperson",
    "prepare",
    "open_items",
    "aging",
    "aging_series",
    "aging_buckets",
    "dimensions",
    "AGING_BASES",
    "VALUES",
    "STATUSES",
    "STATUS_LABELS_ZH",
    "DEFAULT_INVOICE_AGE_EDGES",
    "kpis",
    "kpi_trend",
    "KPI_COLUMNS",
    "top_overdue_customers",
    "long_term_delinquents",
    "slowest_payers",
    "salesperson_collection_ranking",
    "rank_by",
    "LOWER_IS_BETTER",
    "customer_360",
    "warnings",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_WARNINGS_PATH",
    "load_warning_thresholds",
]
