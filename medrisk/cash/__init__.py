"""medrisk.cash: when receivables turn into cash.

Customers' payment timing, the payment outlook of open invoices and the cash-in forecast.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.cash._forecast import (
    COMPONENTS,
    EXACT_CELLS,
    INTERVAL_METHODS,
    CashBacktest,
    backtest_cash_in,
    cash_in_forecast,
    recent_sales_forecast,
)
from medrisk.cash._outlook import (
    cash_periods,
    payment_outlook,
)
from medrisk.cash._timing import (
    PaymentTiming,
    fit_payment_timing,
)

__all__ = [
    "CashBacktest",
    "cash_in_forecast",
    "recent_sales_forecast",
    "backtest_cash_in",
    "COMPONENTS",
    "INTERVAL_METHODS",
    "EXACT_CELLS",
    "cash_periods",
    "payment_outlook",
    "PaymentTiming",
    "fit_payment_timing",
]
