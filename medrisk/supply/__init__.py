"""medrisk.supply: batches, expiry and traceability.

Batches and expiry, first-expiry-first-out allocation, batch traceability.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.supply._expiry import (
    DEFAULT_EXPIRY_PATH,
    STATES,
    ExpiryParams,
    ExpiryReport,
    batch_expiry,
    blocked_stock,
    expiry_report,
    load_expiry_params,
    near_expiry,
    near_expiry_takers,
    sku_demand,
    stock_coverage,
)
from medrisk.supply._fefo import (
    FefoAllocation,
    fefo_allocate,
)
from medrisk.supply._trace import (
    RECALL_BATCH_COLUMNS,
    RECALL_CUSTOMER_COLUMNS,
    SHIPMENT_COLUMNS,
    RecallReport,
    customer_batches,
    prepare_trace,
    recall_report,
    trace_batches,
)

__all__ = [
    "ExpiryParams",
    "ExpiryReport",
    "DEFAULT_EXPIRY_PATH",
    "STATES",
    "load_expiry_params",
    "sku_demand",
    "batch_expiry",
    "stock_coverage",
    "near_expiry",
    "blocked_stock",
    "expiry_report",
    "near_expiry_takers",
    "FefoAllocation",
    "fefo_allocate",
    "prepare_trace",
    "trace_batches",
    "customer_batches",
    "recall_report",
    "RecallReport",
    "SHIPMENT_COLUMNS",
    "RECALL_CUSTOMER_COLUMNS",
    "RECALL_BATCH_COLUMNS",
]
