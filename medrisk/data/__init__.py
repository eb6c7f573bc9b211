"""medrisk.data: the canonical tables and how they get in.

Canonical schemas, the Ledger, loading files and databases, validation and quarantine, cell and
date parsing, the header vocabulary, scoping and the demo company.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.data import db, demo
from medrisk.data._cells import (
    NULL_WORDS,
    Parsed,
    normalize_text,
    parse_str,
)
from medrisk.data._coverage import (
    MONTH_END_SLACK_DAYS,
    STALE_AFTER_DAYS,
    Coverage,
    check_as_of,
    coverage,
    default_as_of,
)
from medrisk.data._dates import (
    parse_dates,
    parse_months,
)
from medrisk.data._files import (
    RawTable,
    read_mapping,
    write_tables,
)
from medrisk.data._ledger import (
    Ledger,
    empty_table,
    validate_raw,
)
from medrisk.data._load import (
    KEEP_LOADED,
    load_ledger,
    load_scoped,
    scope_label,
)
from medrisk.data._loadreport import (
    LoadReport,
    TableReport,
)
from medrisk.data._parsing import (
    PARSERS,
    column_kind,
    normalize_enum,
    parse_bool,
    parse_column,
    parse_int,
    parse_money,
    parse_rate,
)
from medrisk.data._schemas import (
    DATE_COLUMNS,
    MONEY_COLUMNS,
    RELATIONS,
    REQUIRED_TABLES,
    SCHEMAS,
    TABLE_ORDER,
    Adjustment,
    Allocation,
    Batch,
    CollectionAction,
    Customer,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Product,
    Relation,
    Salesperson,
    Shipment,
    Target,
    required_columns,
)
from medrisk.data._scope import (
    restrict,
    scope,
)
from medrisk.data._validation import (
    Failures,
    validate_frames,
)
from medrisk.data._vocabulary import (
    COLUMN_ALIASES,
    ENUM_LABELS,
    TABLE_ALIASES,
    match_columns,
    match_table,
    normalize_header,
)

__all__ = [
    "Coverage",
    "coverage",
    "default_as_of",
    "check_as_of",
    "STALE_AFTER_DAYS",
    "MONTH_END_SLACK_DAYS",
    "db",
    "demo",
    "Parsed",
    "NULL_WORDS",
    "normalize_text",
    "parse_str",
    "parse_dates",
    "parse_months",
    "read_mapping",
    "write_tables",
    "RawTable",
    "Ledger",
    "empty_table",
    "validate_raw",
    "load_ledger",
    "scope_label",
    "load_scoped",
    "KEEP_LOADED",
    "TableReport",
    "LoadReport",
    "parse_money",
    "parse_int",
    "parse_rate",
    "parse_bool",
    "normalize_enum",
    "column_kind",
    "PARSERS",
    "parse_column",
    "Customer",
    "Invoice",
    "Payment",
    "Allocation",
    "Adjustment",
    "Salesperson",
    "Product",
    "Batch",
    "Order",
    "OrderLine",
    "Shipment",
    "CollectionAction",
    "Target",
    "SCHEMAS",
    "TABLE_ORDER",
    "REQUIRED_TABLES",
    "MONEY_COLUMNS",
    "DATE_COLUMNS",
    "required_columns",
    "Relation",
    "RELATIONS",
    "restrict",
    "scope",
    "validate_frames",
    "Failures",
    "ENUM_LABELS",
    "normalize_header",
    "COLUMN_ALIASES",
    "TABLE_ALIASES",
    "match_columns",
    "match_table",
]
