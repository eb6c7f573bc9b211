"""Exceptions raised by medrisk.

Every error derives from :class:`MedriskError`; domain errors also derive from
the builtin that fits, so ``except ValueError`` keeps working for callers that
do not know medrisk.
"""

from __future__ import annotations

import re

__all__ = [
    "mask_secrets",
    "MedriskError",
    "SourceError",
    "SchemaError",
    "MissingColumnsError",
    "MissingTableError",
    "ValidationError",
    "ParamsError",
    "InsufficientDataError",
    "ModelFileError",
]


#: ``scheme://user:password@`` and ``password=...`` (a libpq DSN, a query string).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@'\"]*:)[^\s@'\"]*(?=@)")
_KEY_PASSWORD = re.compile(
    r"(?P<head>(?:password|passwd|pwd|secret|token)(?!_env)\w*[\"']?\s*[=:]\s*[\"']?)"
    r"(?!\*\*\*)[^\s&;,'\"]+", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """Return ``text`` with every password in a URL or ``password=`` pair replaced by ``***``.

    The one masking function for what medrisk shows or stores: error messages (every
    :class:`MedriskError` passes through it), run manifests and the command line.

    Examples
    --------
    >>> mask_secrets("cannot connect to postgresql+psycopg://ar:S3cret@db:5432/erp")
    'cannot connect to postgresql+psycopg://ar:***@db:5432/erp'
    >>> mask_secrets("host=db password=S3cret dbname=erp")
    'host=db password=*** dbname=erp'
    """
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + "***", str(text))
    return _KEY_PASSWORD.sub(lambda m: m.group("head") + "***", text)


class MedriskError(Exception):
    """Root of every error medrisk raises on purpose; its message never shows a password."""

    def __str__(self) -> str:
        return mask_secrets(super().__str__())


class SourceError(MedriskError, OSError):
    """A data source cannot be found or read (missing file, unreadable format)."""


class SchemaError(MedriskError, ValueError):
    """A table does not have the shape of the data contract."""


class MissingColumnsError(SchemaError, KeyError):
    """Required columns are absent from a source table.

    Parameters
    ----------
    table : str
        Canonical table name, e.g. ``"invoices"``.
    missing : list of str
        Canonical names of the missing columns.
    source : str
        File (and sheet) the table was read from.
    found : list of str
        Headers that were found in the source.
    """

    def __init__(self, table: str, missing: list[str], source: str, found: list[str]):
        self.table = table
        self.missing = list(missing)
        self.source = source
        self.found = list(found)
        super().__init__(str(self))

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return mask_secrets(
            f"{self.source}: table '{self.table}' lacks required column(s) "
            f"{', '.join(self.missing)}. "
            f"Headers found: {', '.join(map(str, self.found)) or '(none)'}. "
            "Rename the headers, or map them in a mapping file "
            "(params/mapping*.yaml: tables: {"
            f"{self.table}: {{columns: {{<your header>: {self.missing[0]}}}}}}})."
        )


class MissingTableError(MedriskError, KeyError):
    """A computation needs a table (and columns) the ledger does not have.

    Parameters
    ----------
    table : str
        Canonical table name.
    needed_for : str
        What the table is needed for.
    columns : list of str
        The columns of that table that the computation reads.
    """

    def __init__(self, table: str, needed_for: str = "", columns: list[str] | None = None):
        self.table = table
        self.needed_for = needed_for
        self.columns = list(columns or [])
        super().__init__(str(self))

    def __str__(self) -> str:
        what = f" for {self.needed_for}" if self.needed_for else ""
        cols = f" with columns {', '.join(self.columns)}" if self.columns else ""
        return (
            f"The ledger has no '{self.table}' table, which is needed{what}. "
            f"Add a file named {self.table}.csv (or .xlsx/.parquet){cols} to the data source."
        )


class ValidationError(MedriskError, ValueError):
    """A row breaks a rule of the data contract (raised in strict mode).

    Parameters
    ----------
    table : str
        Canonical table name.
    file : str
        Source file (and sheet).
    row : int or None
        Row number as a spreadsheet shows it (header is row 1).
    column : str or None
        Canonical column name.
    value : object
        The value as read.
    expected : str
        What the rule expects, in words.
    """

    def __init__(self, table, file, row, column, value, expected):
        self.table = table
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}"
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return mask_secrets(
            f"{where} (table '{self.table}'): got {self.value!r}; expected {self.expected}.")


class ParamsError(MedriskError, ValueError):
    """A parameter file or parameter value is wrong (unknown key, wrong type, bad date)."""


class InsufficientDataError(ParamsError):
    """The ledger holds too little history for a computation (a model, a back-test).

    Parameters
    ----------
    message : str
        What is too little, and what would do (English).
    message_zh : str, default=""
        The same in Chinese, for reports.
    """

    def __init__(self, message: str, message_zh: str = ""):
        self.message_zh = message_zh or message
        super().__init__(message)


class ModelFileError(MedriskError, ValueError):
    """A model file cannot be loaded safely (unknown types, version mismatch, no card)."""
