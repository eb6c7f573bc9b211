"""Reading company data into a validated :class:`~medrisk.data.Ledger`, and writing tables out.

Sources are a folder of CSV / Excel / Parquet files named after the canonical
tables (``invoices.csv``, ``客户.xlsx`` ...), or one Excel workbook with one
sheet per table. A mapping file (``params/mapping*.yaml``) can name the file,
sheet and header of each table when the export does not follow the names::

    tables:
      invoices:
        file: 应收明细.xlsx
        sheet: Sheet1
        columns: {发票号码: invoice_id, 客户编码: customer_id, 币别: null}
        date_format: "%d-%b-%y"        # or dayfirst: true; per column: date_formats

A table entry without ``file`` takes the file (or sheet) named after the table,
as without a mapping, and applies the rest of the entry to it. A header mapped to
null is ignored. ``date_format`` / ``dayfirst`` / ``date_formats`` say how the
table's date columns are written (see :func:`read_mapping`).

Every cell is read as it is and parsed by :mod:`medrisk.data`; every row is
checked by :mod:`medrisk.data`. Rows that fail go to a quarantine file
with the reason; ``rows read = accepted + quarantined`` for every table.
"""

from __future__ import annotations

import io as _io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from ruamel.yaml import YAML

from medrisk.data._dates import date_format_problem
from medrisk.data._ledger import Ledger, validate_raw
from medrisk.data._parsing import column_kind
from medrisk.data._schemas import (
    DATE_COLUMNS,
    MONEY_COLUMNS,
    SCHEMAS,
    TABLE_ORDER,
    required_columns,
)
from medrisk.data._vocabulary import TABLE_ALIASES, match_columns, normalize_header
from medrisk.exceptions import ParamsError, SourceError
from medrisk.kernel import spreadsheet_safe

__all__ = ["read_mapping", "write_tables", "RawTable"]

TABLE_FILE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
#: How many leading rows are searched for the header row.
HEADER_SEARCH_ROWS = 15


class RawTable:
    """A table as read from its source, before parsing.

    Attributes
    ----------
    table : str
        Canonical table name.
    frame : DataFrame
        The cells as read (strings for CSV; Excel and Parquet keep their types),
        with the source's own headers.
    file : str
        Source file path.
    sheet : str or None
        Sheet name for Excel sources.
    rows : ndarray of int
        For each row of ``frame``, its row number as a spreadsheet or text
        editor shows it (the header is row 1 when it is the first line).
    columns : dict of str to str or None
        Source header -> canonical column, from a mapping file (may be empty);
        None ignores that header.
    prepared : set of str
        Source headers whose values are already canonical (e.g. Parquet
        decimals turned into exact fen); the parser leaves them alone.
    date_formats : dict of str to dict
        How the mapping file says the date columns are written (may be empty):
        canonical date column -> ``{"date_format": str or None, "dayfirst": bool}``,
        passed to :func:`~medrisk.data.parse_column` for that column.
    """

    def __init__(self, table, frame, file, sheet=None, rows=None, columns=None, prepared=None,
                 date_formats=None):
        self.table = table
        self.frame = frame
        self.file = file
        self.sheet = sheet
        self.rows = np.arange(2, len(frame) + 2) if rows is None else np.asarray(rows)
        self.columns = dict(columns or {})
        self.prepared = set(prepared or ())
        self.date_formats: dict[str, dict[str, Any]] = dict(date_formats or {})

    @property
    def label(self) -> str:
        """``file`` or ``file [sheet]`` for messages."""
        return f"{self.file} [{self.sheet}]" if self.sheet else str(self.file)


# ---------------------------------------------------------------------------
# Mapping files
# ---------------------------------------------------------------------------
_MAPPING_TABLE_KEYS = {"file", "sheet", "columns", "header_row", "query", "table",
                       "date_format", "dayfirst", "date_formats"}
_DATE_KEYS = ("date_format", "dayfirst", "date_formats")


def _date_columns(table: str) -> list[str]:
    """List the columns of ``table`` that hold calendar dates (not months)."""
    return [c for c in DATE_COLUMNS.get(table, ()) if column_kind(table, c) == "date"]


def _check_date_keys(where: str, table: str, entry: dict[str, Any]) -> None:
    """Check ``date_format``, ``dayfirst`` and ``date_formats`` of one table entry."""
    given = [k for k in _DATE_KEYS if k in entry]
    if not given:
        return
    if "query" in entry or ("table" in entry and "file" not in entry):
        raise ParamsError(
            f"{where}: tables.{table}.{given[0]} is read for files only; a database entry "
            f"(query or table) gives typed dates: convert text dates in the query instead.")
    dates = _date_columns(table)
    if not dates:
        raise ParamsError(f"{where}: tables.{table}.{given[0]} has nothing to read: table "
                          f"{table} has no date columns.")
    if "date_format" in entry:
        problem = date_format_problem(entry["date_format"])
        if problem:
            raise ParamsError(f"{where}: tables.{table}.date_format {problem}.")
    if "dayfirst" in entry and not isinstance(entry["dayfirst"], bool):
        raise ParamsError(f"{where}: tables.{table}.dayfirst must be true or false (true reads "
                          f"26/04/2011 as 26 April); got {_kind(entry['dayfirst'])}.")
    if entry.get("dayfirst") and "date_format" in entry:
        raise ParamsError(
            f"{where}: tables.{table} has both date_format {entry['date_format']!r} and "
            "dayfirst: true; give one (a format already says where the day is).")
    per_column = entry.get("date_formats")
    if per_column is None:
        if "date_formats" in entry:
            entry["date_formats"] = {}
        return
    if not isinstance(per_column, Mapping):
        raise ParamsError(f"{where}: tables.{table}.date_formats must be a mapping of date "
                          f"column to its format ({{{dates[0]}: '%d-%b-%y'}}); "
                          f"got {_kind(per_column)}.")
    for col, fmt in per_column.items():
        if col not in dates:
            raise ParamsError(
                f"{where}: tables.{table}.date_formats names {col!r}, which is not a date "
                f"column of {table}; its date columns are {dates}.")
        problem = date_format_problem(fmt)
        if problem:
            raise ParamsError(f"{where}: tables.{table}.date_formats.{col} {problem}.")
    entry["date_formats"] = {str(k): str(v) for k, v in per_column.items()}


def _declared_dates(table: str, entry: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Map each date column to how it is written, from a checked mapping entry."""
    per_column = entry.get("date_formats") or {}
    default = entry.get("date_format")
    dayfirst = bool(entry.get("dayfirst", False))
    out = {}
    for col in _date_columns(table):
        fmt = per_column.get(col, default)
        if fmt is not None or dayfirst:
            out[col] = {"date_format": fmt, "dayfirst": dayfirst and fmt is None}
    return out


def read_mapping(mapping: str | os.PathLike | Mapping | None) -> dict[str, dict[str, Any]]:
    """Read and check a mapping (a YAML file path or an equivalent dict).

    Parameters
    ----------
    mapping : str, path, dict or None
        ``{"tables": {table: {"file": ..., "sheet": ..., "columns": {...}}}}``.

    Returns
    -------
    dict
        Table name -> its mapping entry (empty when ``mapping`` is None).

    Raises
    ------
    ParamsError
        For an unknown table or key, naming the file and the key.

    Notes
    -----
    Besides ``file``, ``sheet``, ``header_row`` and ``columns`` (a header mapped to
    null is ignored), a file's entry may say how its date columns are written:
    ``date_format`` (a strptime format for every date column of the table, e.g.
    ``"%d-%b-%y"`` for 26-Apr-11), ``dayfirst: true`` (26/04/2011 is 26 April), and
    ``date_formats`` (date column -> format, winning over ``date_format``). A cell
    not written that way is quarantined with the format in the reason.
    """
    if mapping is None:
        return {}
    where = "mapping"
    if not isinstance(mapping, Mapping):
        path = Path(mapping)
        where = str(path)
        if not path.exists():
            raise SourceError(f"Mapping file {path} does not exist.")
        try:
            mapping = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
        except Exception as exc:  # ruamel raises many error types
            raise ParamsError(f"{path}: not valid YAML ({exc}).") from exc
    unknown_top = set(mapping) - {"tables", "database"}
    if unknown_top:
        raise ParamsError(
            f"{where}: unknown key(s) {sorted(unknown_top)}; allowed top-level keys are "
            "'tables' and 'database'."
        )
    tables = mapping.get("tables") or {}
    if not isinstance(tables, Mapping):
        raise ParamsError(f"{where}: 'tables' must be a mapping of table name to its entry "
                          f"(tables: {{customers: {{file: 客户.xlsx}}}}); got {_kind(tables)}.")
    out: dict[str, dict[str, Any]] = {}
    for table, entry in tables.items():
        if table not in SCHEMAS:
            raise ParamsError(
                f"{where}: tables.{table} is not a canonical table; "
                f"possible tables are {list(TABLE_ORDER)}."
            )
        if entry is not None and not isinstance(entry, Mapping):
            raise ParamsError(f"{where}: tables.{table} must be a mapping with keys among "
                              f"{sorted(_MAPPING_TABLE_KEYS)} (e.g. {{file: {entry!r}}}); "
                              f"got {_kind(entry)}.")
        entry = dict(entry or {})
        bad = set(entry) - _MAPPING_TABLE_KEYS
        if bad:
            raise ParamsError(
                f"{where}: tables.{table} has unknown key(s) {sorted(bad)}; "
                f"allowed keys are {sorted(_MAPPING_TABLE_KEYS)}."
            )
        for key in ("file", "sheet", "query", "table"):
            if key in entry and not isinstance(entry[key], str | int) or isinstance(
                    entry.get(key), bool):
                raise ParamsError(f"{where}: tables.{table}.{key} must be text; "
                                  f"got {_kind(entry[key])}.")
        if "header_row" in entry:
            row = entry["header_row"]
            if isinstance(row, bool) or not isinstance(row, int) or row < 1:
                raise ParamsError(
                    f"{where}: tables.{table}.header_row must be a whole number of 1 or more "
                    f"(the sheet's row that holds the headers, 1 = the first); got {row!r}.")
        cols = entry.get("columns") or {}
        if not isinstance(cols, Mapping):
            raise ParamsError(f"{where}: tables.{table}.columns must be a mapping of the file's "
                              f"header to a canonical column ({{客户编码: customer_id}}); "
                              f"got {_kind(cols)}.")
        allowed = set(SCHEMAS[table].to_schema().columns)
        wrong = {src: dst for src, dst in cols.items() if dst is not None and dst not in allowed}
        if wrong:
            src, dst = next(iter(wrong.items()))
            raise ParamsError(
                f"{where}: tables.{table}.columns maps {src!r} to {dst!r}, which is not a "
                f"column of {table}; possible columns are {sorted(allowed)}."
            )
        seen: dict[str, str] = {}
        for src, dst in cols.items():
            if dst is None:
                continue  # null: ignore that header
            if dst in seen:
                raise ParamsError(
                    f"{where}: tables.{table}.columns maps both {seen[dst]!r} and {src!r} to "
                    f"{dst!r}; a canonical column takes one header: keep one.")
            seen[dst] = src
        entry["columns"] = {str(k): None if v is None else str(v) for k, v in cols.items()}
        _check_date_keys(where, table, entry)
        out[table] = entry
    return out


def _kind(value) -> str:
    """Describe a value for a message: ``list ['customers']``."""
    return f"{type(value).__name__} {value!r}"[:120]


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------
def _decode_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError(
        f"{path}: cannot be read as UTF-8 or GB18030 text. Save it from Excel as "
        "'CSV UTF-8' or as an .xlsx workbook."
    )


def _read_csv_cells(path: Path) -> pd.DataFrame:
    text = _decode_text(path)
    try:
        return pd.read_csv(
            _io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            sep=None if path.suffix.lower() == ".txt" else ",",
            engine="python" if path.suffix.lower() == ".txt" else "c",
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, ValueError) as exc:
        raise SourceError(f"{path}: not a readable CSV file ({exc}).") from exc


def _read_excel_sheets(path: Path, sheet: str | None = None) -> dict[str, pd.DataFrame]:
    engine = "calamine"
    try:
        return pd.read_excel(
            path, sheet_name=sheet if sheet is not None else None, header=None, dtype=object,
            engine=engine,
        ) if sheet is None else {sheet: pd.read_excel(
            path, sheet_name=sheet, header=None, dtype=object, engine=engine
        )}
    except ValueError as exc:
        if sheet is not None and "not found" in str(exc).lower() or "worksheet" in str(exc).lower():
            names = list(pd.ExcelFile(path, engine=engine).sheet_names)
            raise SourceError(f"{path}: has no sheet {sheet!r}; its sheets are {names}.") from exc
        raise SourceError(f"{path}: not a readable Excel workbook ({exc}).") from exc
    except Exception as exc:  # calamine raises its own error types on corrupt files
        raise SourceError(f"{path}: not a readable Excel workbook ({exc}).") from exc


def _decimal_to_fen(arr: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Exact integer fen from an Arrow decimal column (raises if it has sub-fen digits)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.cast(arr, pa.decimal128(38, 2))  # ArrowInvalid when data would be lost
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64).reshape(-1, 2)[: len(arr)]
    low, high = words[:, 0], words[:, 1]
    if np.any(high != (low >> 63)):
        raise OverflowError("amount too large for 64-bit fen")
    values = pd.array(low.copy(), dtype="Int64")
    if arr.null_count:
        values[np.asarray(arr.is_null())] = pd.NA
    return pd.Series(values)


def _read_parquet(path: Path, table: str) -> tuple[pd.DataFrame, set[str]]:
    try:
        tbl = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ...
        raise SourceError(f"{path}: not a readable Parquet file ({exc}).") from exc
    money = set(MONEY_COLUMNS.get(table, ()))
    prepared: set[str] = set()
    cols = {}
    for name, col in zip(tbl.column_names, tbl.columns, strict=True):
        if name in money and pa.types.is_decimal(col.type):
            try:
                cols[name] = _decimal_to_fen(col)
                prepared.add(name)
                continue
            except (pa.ArrowInvalid, OverflowError):
                pass  # fall through: the parser reports the bad cells
        if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
            cols[name] = pd.Series(col.to_pandas(date_as_object=False)).astype("datetime64[ns]")
        elif pa.types.is_dictionary(col.type):
            cols[name] = pd.Series(col.cast(col.type.value_type).to_pandas())
        else:
            cols[name] = pd.Series(col.to_pandas())
    return pd.DataFrame(cols), prepared


def _find_header(cells: pd.DataFrame, table: str, user_columns: dict[str, str],
                 header_row: int | None) -> int:
    """Index (0-based) of the header row: the first row naming a required column."""
    if header_row is not None:
        return int(header_row) - 1
    needed = set(required_columns(table))
    best, best_hits = 0, -1
    for i in range(min(HEADER_SEARCH_ROWS, len(cells))):
        headers = [str(v) for v in cells.iloc[i].tolist() if pd.notna(v) and str(v).strip()]
        hits = set(match_columns(table, headers, user_columns).values())
        score = len(hits & needed) * 10 + len(hits)
        if needed <= hits:
            return i
        if score > best_hits:
            best, best_hits = i, score
    return best


def _split_header(cells: pd.DataFrame, table: str, entry: dict[str, Any],
                  where: str = "") -> tuple[pd.DataFrame, np.ndarray]:
    if cells.empty:
        return pd.DataFrame(), np.array([], dtype=np.int64)
    row = entry.get("header_row")
    if row is not None and row > len(cells):
        raise ParamsError(f"{where}: header_row {row} is beyond the last row ({len(cells)}) of "
                          f"the {table} table; give the row that holds the headers.")
    h = _find_header(cells, table, entry.get("columns", {}), row)
    header = [
        str(v).strip() if pd.notna(v) and str(v).strip() else f"_unnamed_{j}"
        for j, v in enumerate(cells.iloc[h].tolist())
    ]
    body = cells.iloc[h + 1:].copy()
    body.columns = header
    rows = np.arange(h + 2, h + 2 + len(body))
    # A blank line is not a row: drop it (row numbers of the others stay right).
    filled = body.notna() & (body.astype(str).apply(lambda c: c.str.strip()) != "")
    keep = filled.any(axis=1).to_numpy()
    return body.loc[keep].reset_index(drop=True), rows[keep]


def _identify_table(name: str) -> str | None:
    key = normalize_header(name)
    if key in SCHEMAS:
        return key
    return TABLE_ALIASES.get(key)


def _discover(source: Path, entries: dict[str, dict[str, Any]]) -> tuple[list[RawTable], list[str]]:
    """Read every table of a folder or workbook source."""
    raws: list[RawTable] = []
    ignored: list[str] = []
    mapped_files: set[str] = set()

    def base_dir() -> Path:
        return source if source.is_dir() else source.parent

    # 1. Tables named in the mapping file.
    for table, entry in entries.items():
        if "query" in entry or ("table" in entry and "file" not in entry):
            continue  # database entries: read by medrisk.data.db
        file = entry.get("file")
        if not file and source.is_dir():
            continue  # found by its name below, and read with this entry
        path = (base_dir() / file) if file else source
        if file:
            mapped_files.add(str(Path(file)))
        if not path.exists():
            raise SourceError(f"Mapping for '{table}' names {path}, which does not exist.")
        raws.extend(_read_file(path, table, entry, sheet=entry.get("sheet")))

    # 2. Everything else by name.
    if source.is_dir():
        for path in sorted(source.iterdir()):
            if path.is_dir() or path.name.startswith((".", "~$")):
                continue
            if path.name in mapped_files:
                continue
            if path.suffix.lower() not in TABLE_FILE_SUFFIXES:
                ignored.append(path.name)
                continue
            table = _identify_table(path.stem)
            if table is None:
                if path.suffix.lower() in EXCEL_SUFFIXES:
                    found = _read_workbook(path, entries, ignored)
                    if found:
                        raws.extend(found)
                        continue
                ignored.append(path.name)
                continue
            entry = entries.get(table)
            if entry is not None and entry.get("file"):
                continue  # the mapping said where this table is
            entry = entry or {}
            raws.extend(_read_file(path, table, entry, sheet=entry.get("sheet")))
    elif source.suffix.lower() in EXCEL_SUFFIXES and not entries:
        raws.extend(_read_workbook(source, entries, ignored))
    elif source.suffix.lower() in EXCEL_SUFFIXES:
        raws.extend(r for r in _read_workbook(source, entries, ignored) if r.table not in entries)
    else:
        table = _identify_table(source.stem)
        if table is None:
            raise SourceError(
                f"{source}: a single file must be an Excel workbook with one sheet per table, "
                f"or be named after a table ({', '.join(TABLE_ORDER)})."
            )
        raws.extend(_read_file(source, table, entries.get(table, {}), sheet=None))
    return raws, ignored


def _read_workbook(path: Path, entries: dict[str, dict[str, Any]],
                   ignored: list[str]) -> list[RawTable]:
    out = []
    for sheet_name, cells in _read_excel_sheets(path).items():
        table = _identify_table(str(sheet_name))
        if table is None:
            ignored.append(f"{path.name} [{sheet_name}]")
            continue
        entry = entries.get(table)
        if entry is not None and entry.get("file"):
            continue  # the mapping said where this table is
        entry = entry or {}
        frame, rows = _split_header(cells, table, entry, f"{path} (sheet {sheet_name})")
        out.append(_raw(table, frame, path, str(sheet_name), rows, entry))
    return out


def _raw(table: str, frame: pd.DataFrame, path: Path, sheet: str | None, rows,
         entry: dict[str, Any], prepared: set[str] | None = None) -> RawTable:
    """Build a RawTable with the entry's columns and declared date formats."""
    return RawTable(table, frame, str(path), sheet, rows, entry.get("columns", {}), prepared,
                    _declared_dates(table, entry))


def _read_file(path: Path, table: str, entry: dict[str, Any], sheet: str | None) -> list[RawTable]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame, prepared = _read_parquet(path, table)
        return [_raw(table, frame, path, None, None, entry, prepared)]
    if suffix in EXCEL_SUFFIXES:
        sheets = _read_excel_sheets(path, sheet)
        if sheet is None:
            # A table file with several sheets: the sheet named after the table, else the first.
            named = [s for s in sheets if _identify_table(str(s)) == table]
            sheet = named[0] if named else next(iter(sheets))
        frame, rows = _split_header(sheets[sheet], table, entry, f"{path} (sheet {sheet})")
        return [_raw(table, frame, path, str(sheet), rows, entry)]
    if suffix in (".csv", ".txt"):
        frame, rows = _split_header(_read_csv_cells(path), table, entry, str(path))
        return [_raw(table, frame, path, None, rows, entry)]
    raise SourceError(
        f"{path}: unsupported file type {suffix!r}; use .csv, .xlsx or .parquet."
    )


# ---------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------
def read_ledger_files(
    source: str | os.PathLike,
    mapping: str | os.PathLike | Mapping | None = None,
    *,
    strict: bool = False,
    quarantine_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> Ledger:
    """Read and validate a folder of table files or a workbook (see :func:`medrisk.load_ledger`)."""
    path = Path(source)
    if not path.exists():
        raise SourceError(
            f"Data source {path} does not exist. Give a folder of table files or an Excel "
            "workbook; `medrisk demo-data --out DIR` makes a demo company to try."
        )
    entries = read_mapping(mapping)
    raws, ignored = _discover(path, entries)
    if quarantine_dir is None:
        quarantine_dir = (path if path.is_dir() else path.parent) / "quarantine"
    return validate_raw(raws, strict=strict, quarantine_dir=Path(quarantine_dir),
                        ignored=ignored, source=str(path), progress=progress)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def _fen_to_text(fen: pd.Series) -> pd.Series:
    """'1234.56' style yuan text from integer fen, exactly; NA becomes empty text."""
    mask = fen.isna().to_numpy()
    v = fen.fillna(0).to_numpy(dtype=np.int64)
    a = pd.Series(np.abs(v), index=fen.index)
    text = (a // 100).astype(str) + "." + (a % 100).astype(str).str.zfill(2)
    text = text.where(v >= 0, "-" + text)
    return text.where(~mask, "")


def _fen_to_decimal_array(fen: pd.Series) -> pa.Array:
    mask = fen.isna().to_numpy()
    v = fen.fillna(0).to_numpy(dtype=np.int64)
    words = np.empty((len(v), 2), dtype=np.int64)
    words[:, 0] = v
    words[:, 1] = v >> 63
    validity = pa.array(~mask).buffers()[1] if mask.any() else None
    return pa.Array.from_buffers(
        pa.decimal128(18, 2), len(v), [validity, pa.py_buffer(words.tobytes())],
        null_count=int(mask.sum()),
    )


def write_tables(
    tables: Mapping[str, pd.DataFrame] | Ledger,
    out_dir: str | os.PathLike,
    fmt: str = "parquet",
) -> list[Path]:
    """Write canonical tables as source files that :func:`load_ledger` reads back.

    Money goes out in 元 with two decimals (Parquet: ``decimal128(18, 2)``;
    CSV and Excel: text such as ``1234.56``), dates as calendar dates.

    Parameters
    ----------
    tables : dict of str to DataFrame, or Ledger
        Canonical tables (money in integer fen).
    out_dir : str or path
        Folder to write into (created if missing).
    fmt : {"parquet", "csv", "xlsx"}, default="parquet"
        File format, one file per table named after it.

    Returns
    -------
    list of Path
        The files written.
    """
    if fmt not in ("parquet", "csv", "xlsx"):
        raise ValueError(f"fmt={fmt!r} is not supported; "
                         "possible values are 'parquet', 'csv', 'xlsx'.")
    if isinstance(tables, Ledger):
        tables = tables.tables
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TABLE_ORDER:
        df = tables.get(name)
        if df is None:
            continue
        money = MONEY_COLUMNS.get(name, ())
        dates = DATE_COLUMNS.get(name, ())
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            arrays, names = [], []
            for col in df.columns:
                s = df[col]
                if col in money:
                    arrays.append(_fen_to_decimal_array(s))
                elif col in dates:
                    arrays.append(pa.array(s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"),
                                           mask=s.isna().to_numpy(), type=pa.date32()))
                else:
                    arrays.append(pa.Array.from_pandas(s))
                names.append(col)
            pq.write_table(pa.Table.from_arrays(arrays, names=names), path)
        else:
            frame = df.copy()
            for col in (c for c in money if c in frame.columns):
                frame[col] = _fen_to_text(frame[col])
            for col in (c for c in dates if c in frame.columns):
                frame[col] = frame[col].dt.strftime("%Y-%m-%d").fillna("")
            frame = spreadsheet_safe(frame)  # people open these too; load_ledger undoes it
            if fmt == "csv":
                frame.to_csv(path, index=False, encoding="utf-8")
            else:
                frame.to_excel(path, index=False, sheet_name=name, engine="openpyxl")
        written.append(path)
    return written
