"""medrisk.dunning: collections (催收), who to chase first and how.

Collection priority, worklists, dunning stages and messages, and collection-linked pay.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.dunning._actions import (
    ACTION_COLUMNS,
    ACTORS,
    RECIPIENTS,
    TEMPLATE_FIELDS,
    DunningRun,
    append_actions,
    backtest_dunning,
    due_actions,
    dunning_stages,
    render_messages,
    write_actions_csv,
)
from medrisk.dunning._pay import (
    COLLECTION_KPI_COLUMNS,
    KPI_INPUTS,
    collection_kpis,
    collection_pay,
    evaluate_formula,
    parse_formula,
)
from medrisk.dunning._priority import (
    DEFAULT_PARAMS,
    DEFAULT_PARAMS_PATH,
    SCORE_COLUMNS,
    history_pd,
    invoice_contacts,
    load_params,
    score_invoices,
)
from medrisk.dunning._worklists import (
    CALL_COLUMNS,
    COLLECTORS,
    Worklist,
    backtest_worklists,
    build_worklists,
    compare_policies,
)

__all__ = [
    "DunningRun",
    "ACTORS",
    "RECIPIENTS",
    "ACTION_COLUMNS",
    "TEMPLATE_FIELDS",
    "dunning_stages",
    "due_actions",
    "render_messages",
    "append_actions",
    "write_actions_csv",
    "backtest_dunning",
    "COLLECTION_KPI_COLUMNS",
    "KPI_INPUTS",
    "parse_formula",
    "evaluate_formula",
    "collection_kpis",
    "collection_pay",
    "DEFAULT_PARAMS",
    "DEFAULT_PARAMS_PATH",
    "load_params",
    "invoice_contacts",
    "history_pd",
    "score_invoices",
    "SCORE_COLUMNS",
    "Worklist",
    "COLLECTORS",
    "CALL_COLUMNS",
    "build_worklists",
    "backtest_worklists",
    "compare_policies",
]
