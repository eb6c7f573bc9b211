"""Project paths and fixed vocabulary.

Nothing here reads the clock or the environment at import time.
"""

from __future__ import annotations

from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
PARAMS_DIR = PROJ_ROOT / "params"
REPORTS_DIR = PROJ_ROOT / "reports"
DATA_DIR = PROJ_ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"

def resolve_path(value: str) -> str:
    """Return an absolute path for a relative one.

    The path is taken relative to the current folder if it exists there, else
    to the project root (notebooks run from ``notebooks/``). URLs and empty
    strings are returned as they are.
    """
    if not value or "://" in value:
        return value
    p = Path(value).expanduser()
    if p.is_absolute():
        return str(p)
    here = Path.cwd() / p
    return str(here.resolve() if here.exists() else (PROJ_ROOT / p).resolve())


#: Money is held as integer fen (1 元 = 100 分) in every canonical table.
FEN_PER_YUAN = 100

CUSTOMER_TYPES = (
    "tertiary_hospital",
    "secondary_hospital",
    "clinic",
    "pharmacy",
    "distributor",
    "agent",
    "other",
)
CHANNELS = ("direct", "distributor", "agent", "ecommerce")
PRODUCT_CATEGORIES = ("equipment", "consumable", "reagent", "wear_part")
QC_STATUSES = ("released", "quarantined", "rejected")
ORDER_STATUSES = ("entered", "approved", "shipped", "invoiced", "closed", "cancelled")
ADJUSTMENT_KINDS = ("credit_note", "write_off", "discount")
ACTION_CHANNELS = ("email", "sms", "call", "visit", "letter", "legal")
#: Outcomes the demo company records; other outcomes are accepted as free text.
ACTION_OUTCOMES = ("no_answer", "contacted", "promise_to_pay", "dispute", "refused", "paid")

#: Default aging buckets in days past due (DOMAIN.md): upper bounds, inclusive.
DEFAULT_AGING_EDGES = (0, 30, 60, 90, 180, 365)
