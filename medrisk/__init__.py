"""medrisk: receivables risk and sales planning for medical-device companies.

The canonical tables live in a :class:`Ledger`; :func:`load_ledger` reads and
validates a company's files into one; :func:`open_items`, :func:`aging` and
:func:`aging_series` answer what every customer owes, and how late, as of any
date.
"""

from importlib.metadata import PackageNotFoundError, version

from medrisk.data import Ledger, load_ledger, write_tables
from medrisk.exceptions import MedriskError
from medrisk.receivables import aging, aging_series, open_items

try:
    __version__ = version("medrisk")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = [
    "Ledger",
    "load_ledger",
    "write_tables",
    "open_items",
    "aging",
    "aging_series",
    "MedriskError",
    "__version__",
]
