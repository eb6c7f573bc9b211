"""medrisk.planning: sales forecasts, quotas and plan attainment.

The forecasting layer, monthly sales series, quotas and plan attainment.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.planning._attainment import (
    ALERT_KEYS,
    attainment,
    attainment_alerts,
    history_alerts,
    load_alert_thresholds,
    plan_alerts,
    seasonal_expectation,
)
from medrisk.planning._forecaster import (
    FESTIVAL_WEIGHTS,
    SPRING_FESTIVAL,
    AutoETS,
    Forecaster,
    HistoricAverage,
    Naive,
    SeasonalNaive,
    business_days,
    forecast_metrics,
)
from medrisk.planning._quotas import (
    PHASINGS,
    QUOTA_BASES,
    QUOTA_DIMENSIONS,
    QuotaBasis,
    build_quotas,
    growth_scenario,
    largest_remainder,
    plan_year,
    quota_basis,
    quota_summary,
    split_target,
)
from medrisk.planning._sales import (
    MISSING_LABEL,
    TOTAL_ID,
    backtest_sales,
    forecast_sales,
    monthly_sales,
    sales_dimensions,
)

__all__ = [
    "ALERT_KEYS",
    "attainment",
    "load_alert_thresholds",
    "attainment_alerts",
    "history_alerts",
    "seasonal_expectation",
    "plan_alerts",
    "AutoETS",
    "SeasonalNaive",
    "Naive",
    "HistoricAverage",
    "Forecaster",
    "business_days",
    "forecast_metrics",
    "FESTIVAL_WEIGHTS",
    "SPRING_FESTIVAL",
    "QUOTA_DIMENSIONS",
    "PHASINGS",
    "QUOTA_BASES",
    "QuotaBasis",
    "largest_remainder",
    "quota_basis",
    "split_target",
    "build_quotas",
    "growth_scenario",
    "quota_summary",
    "plan_year",
    "monthly_sales",
    "forecast_sales",
    "backtest_sales",
    "sales_dimensions",
    "TOTAL_ID",
    "MISSING_LABEL",
]
