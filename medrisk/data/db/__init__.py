"""medrisk.data.db: database sources.

Connection settings, reading a ledger from SQL, writing tables to a database, and the Parquet
cache of a read.

Everything listed in ``__all__`` is this area's public API; the modules inside are private.
"""

from medrisk.data.db._cache import (
    CACHE_FINGERPRINT_FILE,
    read_cache,
)
from medrisk.data.db._connect import (
    DEFAULT_CHUNK_ROWS,
    DatabaseSettings,
    database_settings,
    mask_url,
)
from medrisk.data.db._read import (
    load_ledger_from_db,
)
from medrisk.data.db._write import (
    write_tables_to_db,
)

__all__ = [
    "read_cache",
    "CACHE_FINGERPRINT_FILE",
    "database_settings",
    "DatabaseSettings",
    "mask_url",
    "DEFAULT_CHUNK_ROWS",
    "load_ledger_from_db",
    "write_tables_to_db",
]
