"""medrisk: receivables risk and sales planning for medical-device companies.

The canonical tables live in a :class:`Ledger`; :func:`load_ledger` reads and
validates a company's files into one.
"""

from importlib.metadata import PackageNotFoundError, version

from medrisk.exceptions import MedriskError
from medrisk.io import load_ledger, write_tables
from medrisk.ledger import Ledger

try:
    __version__ = version("medrisk")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["Ledger", "load_ledger", "write_tables", "MedriskError", "__version__"]
