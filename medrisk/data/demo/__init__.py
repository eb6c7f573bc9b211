"""medrisk.data.demo: the demo company.

A generated medical-device distributor with known ground truth.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.data.demo._company import (
    LATE_AFTER_DAYS,
    DemoCompany,
    make_demo,
    make_ledger,
    write_demo,
)
from medrisk.data.demo._shapes import SHAPES, make_shape, write_shape

__all__ = [
    "DemoCompany",
    "make_demo",
    "make_ledger",
    "write_demo",
    "LATE_AFTER_DAYS",
    "SHAPES",
    "make_shape",
    "write_shape",
]
