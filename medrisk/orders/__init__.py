"""medrisk.orders: order-to-cash and channels.

Order-to-cash stages and cycle times, channel and partner performance, price compliance.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.orders._channels import (
    DEFAULT_POLICY,
    LINE_COLUMNS,
    channel_performance,
    discount_trend,
    drop_alerts,
    load_channel_policy,
    out_of_band,
    partner_performance,
    price_compliance,
    product_mix,
)
from medrisk.orders._o2c import (
    DIMENSIONS,
    ORDER_COLUMNS,
    STAGE_LABELS_ZH,
    STAGES,
    STEPS,
    UNBILLED_STATUSES,
    cycle_times,
    load_stuck_days,
    open_order_book,
    order_funnel,
    order_stages,
    order_values,
    stuck_orders,
    unbilled_exposure,
    unbilled_orders,
)

__all__ = [
    "DEFAULT_POLICY",
    "LINE_COLUMNS",
    "load_channel_policy",
    "price_compliance",
    "out_of_band",
    "discount_trend",
    "channel_performance",
    "partner_performance",
    "product_mix",
    "drop_alerts",
    "STAGES",
    "STAGE_LABELS_ZH",
    "STEPS",
    "ORDER_COLUMNS",
    "DIMENSIONS",
    "order_stages",
    "order_funnel",
    "cycle_times",
    "stuck_orders",
    "open_order_book",
    "unbilled_exposure",
    "unbilled_orders",
    "order_values",
    "UNBILLED_STATUSES",
    "load_stuck_days",
]
