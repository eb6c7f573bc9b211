"""The data contract: one pandera model per canonical table, plus the rules across tables.

Every source (CSV, Excel, Parquet, SQL, the demo generator) is mapped onto these
tables. Inside medrisk:

* money columns hold **integer fen** (``int64``; 1 元 = 100 分), so totals are exact;
* dates are ``datetime64[ns]`` calendar dates (no time of day);
* ids and labels are strings.

Refer to columns through the models (``Invoice.amount``), not string literals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from medrisk.config import (
    ACTION_CHANNELS,
    ADJUSTMENT_KINDS,
    CHANNELS,
    CUSTOMER_TYPES,
    ORDER_STATUSES,
    PRODUCT_CATEGORIES,
    QC_STATUSES,
)

__all__ = [
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
]

Date = "datetime64[ns]"


class _Base(pa.DataFrameModel):
    class Config:
        strict = True
        coerce = True


class Customer(_Base):
    """客户 customers: who buys, on what terms."""

    customer_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    name: Series[str] = pa.Field(nullable=True)
    customer_type: Series[str] = pa.Field(isin=CUSTOMER_TYPES, nullable=True)
    region: Series[str] = pa.Field(nullable=True)
    province: Series[str] = pa.Field(nullable=True)
    channel: Series[str] = pa.Field(isin=CHANNELS, nullable=True)
    salesperson_id: Series[str] = pa.Field(nullable=True)
    credit_limit: Series[pd.Int64Dtype] = pa.Field(ge=0, nullable=True)
    payment_terms_days: Series[pd.Int64Dtype] = pa.Field(ge=0, le=3650, nullable=True)
    opened_date: Series[Date] = pa.Field(nullable=True)


class Invoice(_Base):
    """应收账款 invoices: what each customer was billed, and when it falls due."""

    invoice_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    invoice_date: Series[Date]
    due_date: Series[Date]
    amount: Series[np.int64] = pa.Field(gt=0)
    order_id: Series[str] = pa.Field(nullable=True)
    salesperson_id: Series[str] = pa.Field(nullable=True)
    product_line: Series[str] = pa.Field(nullable=True)
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$", nullable=True)

    @pa.dataframe_check(error="due_date must be on or after invoice_date")
    def due_on_or_after_invoice(cls, df: pd.DataFrame) -> Series[bool]:
        """Check that a due date never precedes the invoice date."""
        return df["due_date"] >= df["invoice_date"]


class Payment(_Base):
    """回款 payments: money received from a customer."""

    payment_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    payment_date: Series[Date]
    amount: Series[np.int64] = pa.Field(gt=0)
    method: Series[str] = pa.Field(nullable=True)
    reference: Series[str] = pa.Field(nullable=True)


class Allocation(_Base):
    """核销 allocations: which receipt paid which invoice, and how much."""

    payment_id: Series[str] = pa.Field(str_length={"min_value": 1})
    invoice_id: Series[str] = pa.Field(str_length={"min_value": 1})
    amount: Series[np.int64] = pa.Field(gt=0)

    class Config:
        """Pandera options: each (payment_id, invoice_id) pair occurs once."""

        unique = ["payment_id", "invoice_id"]


class Adjustment(_Base):
    """Credit notes, write-offs (坏账核销) and discounts; each lowers an invoice's open amount."""

    adjustment_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    invoice_id: Series[str] = pa.Field(str_length={"min_value": 1})
    adjustment_date: Series[Date]
    amount: Series[np.int64] = pa.Field(gt=0)
    kind: Series[str] = pa.Field(isin=ADJUSTMENT_KINDS)


class Salesperson(_Base):
    """销售人员 salespeople, their team and manager."""

    salesperson_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    name: Series[str] = pa.Field(nullable=True)
    team: Series[str] = pa.Field(nullable=True)
    region: Series[str] = pa.Field(nullable=True)
    manager_id: Series[str] = pa.Field(nullable=True)


class Product(_Base):
    """产品 products (SKUs)."""

    sku: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    name: Series[str] = pa.Field(nullable=True)
    category: Series[str] = pa.Field(isin=PRODUCT_CATEGORIES, nullable=True)
    list_price: Series[pd.Int64Dtype] = pa.Field(ge=0, nullable=True)
    shelf_life_days: Series[pd.Int64Dtype] = pa.Field(gt=0, nullable=True)
    cold_chain: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    registration_no: Series[str] = pa.Field(nullable=True)


class Batch(_Base):
    """批次 batches: production lots with expiry and quality status."""

    batch_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    sku: Series[str] = pa.Field(str_length={"min_value": 1})
    production_date: Series[Date]
    expiry_date: Series[Date]
    quantity: Series[np.int64] = pa.Field(gt=0)
    warehouse: Series[str] = pa.Field(nullable=True)
    qc_status: Series[str] = pa.Field(isin=QC_STATUSES, nullable=True)

    @pa.dataframe_check(error="expiry_date must be after production_date")
    def expiry_after_production(cls, df: pd.DataFrame) -> Series[bool]:
        """Check that a batch expires after it is made."""
        return df["expiry_date"] > df["production_date"]


class Order(_Base):
    """销售订单 sales orders."""

    order_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    order_date: Series[Date]
    salesperson_id: Series[str] = pa.Field(nullable=True)
    channel: Series[str] = pa.Field(isin=CHANNELS, nullable=True)
    status: Series[str] = pa.Field(isin=ORDER_STATUSES, nullable=True)


class OrderLine(_Base):
    """Order lines: what was ordered, at which price and discount."""

    order_id: Series[str] = pa.Field(str_length={"min_value": 1})
    line_no: Series[np.int64] = pa.Field(ge=1)
    sku: Series[str] = pa.Field(str_length={"min_value": 1})
    quantity: Series[np.int64] = pa.Field(gt=0)
    unit_price: Series[np.int64] = pa.Field(ge=0)
    discount_rate: Series[float] = pa.Field(ge=0, lt=1, nullable=True)

    class Config:
        """Pandera options: each (order_id, line_no) pair occurs once."""

        unique = ["order_id", "line_no"]


class Shipment(_Base):
    """Shipments: which batch left for which order, and how much."""

    shipment_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    order_id: Series[str] = pa.Field(str_length={"min_value": 1})
    ship_date: Series[Date]
    sku: Series[str] = pa.Field(str_length={"min_value": 1})
    batch_id: Series[str] = pa.Field(str_length={"min_value": 1})
    quantity: Series[np.int64] = pa.Field(gt=0)


class CollectionAction(_Base):
    """催收 collection actions: every reminder, call, letter and promise to pay."""

    action_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    customer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    invoice_id: Series[str] = pa.Field(nullable=True)
    action_date: Series[Date]
    stage: Series[str] = pa.Field(str_length={"min_value": 1})
    channel: Series[str] = pa.Field(isin=ACTION_CHANNELS, nullable=True)
    actor: Series[str] = pa.Field(nullable=True)
    outcome: Series[str] = pa.Field(nullable=True)
    promise_date: Series[Date] = pa.Field(nullable=True)
    promise_amount: Series[pd.Int64Dtype] = pa.Field(gt=0, nullable=True)


class Target(_Base):
    """销售指标 monthly targets, by any of region, channel, salesperson and product line."""

    period: Series[Date]
    target_amount: Series[np.int64] = pa.Field(ge=0)
    region: Series[str] = pa.Field(nullable=True)
    channel: Series[str] = pa.Field(isin=CHANNELS, nullable=True)
    salesperson_id: Series[str] = pa.Field(nullable=True)
    product_line: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check(error="period must be the first day of a month")
    def period_is_month_start(cls, df: pd.DataFrame) -> Series[bool]:
        """Targets are monthly: the period is stored as the month's first day."""
        return df["period"].dt.day == 1


SCHEMAS: dict[str, type[_Base]] = {
    "salespeople": Salesperson,
    "customers": Customer,
    "products": Product,
    "batches": Batch,
    "orders": Order,
    "order_lines": OrderLine,
    "shipments": Shipment,
    "invoices": Invoice,
    "payments": Payment,
    "allocations": Allocation,
    "adjustments": Adjustment,
    "collection_actions": CollectionAction,
    "targets": Target,
}

#: Tables are validated in this order, parents before children, so that a
#: quarantined parent row makes its children fail the foreign-id rule too.
TABLE_ORDER: tuple[str, ...] = tuple(SCHEMAS)

REQUIRED_TABLES = ("customers", "invoices", "payments")

#: Columns holding money (integer fen inside medrisk).
MONEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("credit_limit",),
    "invoices": ("amount",),
    "payments": ("amount",),
    "allocations": ("amount",),
    "adjustments": ("amount",),
    "products": ("list_price",),
    "order_lines": ("unit_price",),
    "collection_actions": ("promise_amount",),
    "targets": ("target_amount",),
}


def _columns_of_kind(kind: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for table, model in SCHEMAS.items():
        cols = tuple(
            name
            for name, col in model.to_schema().columns.items()
            if kind in str(col.dtype).lower()
        )
        if cols:
            out[table] = cols
    return out


#: Columns holding calendar dates.
DATE_COLUMNS: dict[str, tuple[str, ...]] = _columns_of_kind("datetime")


def required_columns(table: str) -> list[str]:
    """Columns a table cannot do without (the ``*`` columns of DOMAIN.md).

    Parameters
    ----------
    table : str
        Canonical table name.

    Returns
    -------
    list of str
        Non-nullable columns of the table's schema.
    """
    schema = SCHEMAS[table].to_schema()
    return [name for name, col in schema.columns.items() if not col.nullable]


@dataclass(frozen=True)
class Relation:
    """A foreign-id rule: ``child.column`` must name an existing ``parent.key``."""

    child: str
    column: str
    parent: str
    key: str


RELATIONS: tuple[Relation, ...] = (
    Relation("salespeople", "manager_id", "salespeople", "salesperson_id"),
    Relation("customers", "salesperson_id", "salespeople", "salesperson_id"),
    Relation("batches", "sku", "products", "sku"),
    Relation("orders", "customer_id", "customers", "customer_id"),
    Relation("orders", "salesperson_id", "salespeople", "salesperson_id"),
    Relation("order_lines", "order_id", "orders", "order_id"),
    Relation("order_lines", "sku", "products", "sku"),
    Relation("shipments", "order_id", "orders", "order_id"),
    Relation("shipments", "sku", "products", "sku"),
    Relation("shipments", "batch_id", "batches", "batch_id"),
    Relation("invoices", "customer_id", "customers", "customer_id"),
    Relation("invoices", "salesperson_id", "salespeople", "salesperson_id"),
    Relation("invoices", "order_id", "orders", "order_id"),
    Relation("payments", "customer_id", "customers", "customer_id"),
    Relation("allocations", "payment_id", "payments", "payment_id"),
    Relation("allocations", "invoice_id", "invoices", "invoice_id"),
    Relation("adjustments", "invoice_id", "invoices", "invoice_id"),
    Relation("collection_actions", "customer_id", "customers", "customer_id"),
    Relation("collection_actions", "invoice_id", "invoices", "invoice_id"),
    Relation("targets", "salesperson_id", "salespeople", "salesperson_id"),
)
