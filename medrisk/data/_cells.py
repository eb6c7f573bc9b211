"""Cells of a raw column: split them by kind, tidy their text, and the parsed result.

Every parser of :mod:`medrisk.data` and :mod:`medrisk.data` starts here. A
column as read holds text, numbers, ``datetime`` objects or ``Decimal`` (an Excel
sheet mixes them in one column); ``_partition`` splits it into parts of one kind,
using the column's dtype when it has one, and ``_run`` applies one handler per kind
and puts the results back in row order. Text cells are tidied the same way for every
parser: NFKC (full-width ``１２３``, ``，``, ``（）`` and the ideographic space read
like ASCII), trimmed, invisible characters removed, Excel's ``="00123"`` unwrapped,
and empty cells and the null words of :data:`NULL_WORDS` turned to NA.
:func:`normalize_text` and :func:`parse_str` are that tidying as parsers. Every
parser returns a :class:`Parsed`.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from medrisk.data._vocabulary import _INVISIBLE

__all__ = [
    "Parsed",
    "NULL_WORDS",
    "normalize_text",
    "parse_str",
]


class Parsed(NamedTuple):
    """A parsed column.

    Attributes
    ----------
    values : pandas.Series
        Canonical values with the input's index; NA where the cell was empty or bad.
    bad : numpy.ndarray of bool
        True where the cell was filled but could not be read.
    expected : str
        What the parser accepts, in words, for error messages
        ("expected a date such as ...").
    """

    values: pd.Series
    bad: np.ndarray
    expected: str


#: Cell texts that mean "empty" (compared after NFKC and trimming; ASCII words
#: also in lower, upper and title case).
NULL_WORDS: tuple[str, ...] = (
    "nan", "NaN", "None", "null", "NULL", "NA", "N/A", "#N/A", "#NA", "<NA>", "NaT",
    "-", "--", "---", "—", "——", "/", "无",
)

EXPECTED_STR = "text"

# --------------------------------------------------------------------------------------
# Cells: split a column by what its cells are (text, numbers, dates, booleans)
# --------------------------------------------------------------------------------------

_NA, _STR, _NUM, _BOOL, _DT, _OTHER = range(6)
_LSTR = pa.large_string()


class _Part(NamedTuple):
    pos: np.ndarray | None  # row positions; None means every row
    kind: int
    data: Any  # _STR: pa.Array; _NUM/_BOOL: (values, na); _DT: pd.Series; _OTHER: ndarray


def _type_kind(tp: type) -> int:
    if issubclass(tp, str):
        return _STR
    if issubclass(tp, (bool, np.bool_)):
        return _BOOL
    if tp is type(None) or tp is type(pd.NA) or tp is type(pd.NaT):
        return _NA
    if issubclass(tp, decimal.Decimal):
        return _STR  # read exactly, through its text
    if issubclass(tp, numbers.Real):
        return _NUM
    if issubclass(tp, (_dt.datetime, _dt.date, np.datetime64)):
        return _DT
    return _OTHER


def _decimal_text(x: Any) -> Any:
    return format(x, "f") if isinstance(x, decimal.Decimal) else x


def _str_payload(obj: np.ndarray) -> pa.Array:
    if any(isinstance(x, decimal.Decimal) for x in obj):
        obj = np.array([_decimal_text(x) for x in obj], dtype=object)
    return pa.array(obj, type=_LSTR, from_pandas=True)


def _num_payload(obj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if pd.api.types.infer_dtype(obj, skipna=False) == "integer":
        try:
            return np.asarray(obj, dtype=np.int64), np.zeros(len(obj), dtype=bool)
        except OverflowError:
            pass
    vals = np.asarray(obj, dtype=np.float64)
    return vals, np.isnan(vals)


def _payload(kind: int, obj: np.ndarray) -> Any:
    if kind == _STR:
        return _str_payload(obj)
    if kind == _NUM:
        return _num_payload(obj)
    if kind == _BOOL:
        return np.asarray(obj, dtype=bool), np.zeros(len(obj), dtype=bool)
    if kind == _DT:
        return pd.Series(obj, dtype=object)
    if kind == _NA:
        return len(obj)
    return obj


def _partition(s: pd.Series) -> list[_Part]:
    """Split a column into parts of one kind, using its dtype when it has one."""
    n = len(s)
    if n == 0:
        return []
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _partition(pd.Series(np.asarray(s, dtype=object)))
    if isinstance(dtype, pd.StringDtype):
        return [_Part(None, _STR, pc.cast(pa.array(s.array), _LSTR))]
    if isinstance(dtype, pd.ArrowDtype):
        t = dtype.pyarrow_dtype
        arr = pa.array(s.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if pa.types.is_decimal(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
            return [_Part(None, _STR, pc.cast(arr, _LSTR))]  # decimals exactly, as text
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            return [_Part(None, _DT, pd.Series(arr.to_pandas(date_as_object=False)))]
    if pd.api.types.is_bool_dtype(dtype):
        na = s.isna().to_numpy()
        return [_Part(None, _BOOL, (s.to_numpy(dtype=bool, na_value=False), na))]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return [_Part(None, _DT, s)]
    if pd.api.types.is_signed_integer_dtype(dtype):
        na = s.isna().to_numpy()
        return [_Part(None, _NUM, (s.to_numpy(dtype=np.int64, na_value=0), na))]
    if pd.api.types.is_unsigned_integer_dtype(dtype):  # may not fit int64: go through float
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return [_Part(None, _NUM, (vals, np.isnan(vals)))]
    if pd.api.types.is_float_dtype(dtype):
        vals = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return [_Part(None, _NUM, (vals, np.isnan(vals)))]
    # object (or anything else): look at the cells
    obj = s.to_numpy(dtype=object)
    inferred = pd.api.types.infer_dtype(obj, skipna=True)
    if inferred == "string":
        return [_Part(None, _STR, pa.array(obj, type=_LSTR, from_pandas=True))]
    if inferred == "empty":
        return [_Part(None, _NA, n)]
    # Mixed cells (an Excel sheet): classify by type. There are few distinct types,
    # so only type() runs per cell. (A float NaN is a number here; the number
    # handlers read it as empty.)
    types = [type(x) for x in obj]
    codes, uniques = pd.factorize(pd.Series(types, dtype=object))
    kinds_of = np.array([_type_kind(t) for t in uniques], dtype=np.int8)
    kinds = kinds_of[codes]
    present = np.unique(kinds)
    if len(present) == 1:
        k = int(present[0])
        return [_Part(None, k, _payload(k, obj))]
    parts = []
    for k in present:
        pos = np.flatnonzero(kinds == k)
        parts.append(_Part(pos, int(k), _payload(int(k), obj[pos])))
    return parts


_Handler = Callable[[Any], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _all_bad(data: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = _part_len(data)
    return np.zeros(m, dtype=np.int64), np.zeros(m, dtype=bool), np.ones(m, dtype=bool)


def _part_len(data: Any) -> int:
    if isinstance(data, tuple):
        return len(data[0])
    if isinstance(data, int):
        return data
    return len(data)


def _run(
    s: pd.Series, handlers: Mapping[int, _Handler], vdtype: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply one handler per kind of cell; return (values, empty, bad) in row order."""
    n = len(s)
    vals = np.zeros(n, dtype=vdtype)
    na = np.ones(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for part in _partition(s):
        if part.kind == _NA:
            continue
        v, a, b = handlers.get(part.kind, _all_bad)(part.data)
        if part.pos is None:
            vals, na, bad = np.asarray(v, dtype=vdtype), a, b
        else:
            vals[part.pos] = v
            na[part.pos] = a
            bad[part.pos] = b
    return vals, na & ~bad, bad


def _check_series(s: Any, name: str) -> pd.Series:
    if isinstance(s, pd.Series):
        return s
    if isinstance(s, (pd.Index, np.ndarray, list, tuple)):
        return pd.Series(s)
    raise TypeError(
        f"{name}() takes a pandas Series (a column of cells); got {type(s).__name__}."
    )


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------


def _word_variants(words: Iterable[str]) -> list[str]:
    out: set[str] = set()
    for w in words:
        out |= {w, w.lower(), w.upper(), w.title()}
    return sorted(out)


_NULLS = pa.array(_word_variants(NULL_WORDS), type=_LSTR)
_NULLS_KEEP_WU = pa.array([w for w in _word_variants(NULL_WORDS) if w != "无"], type=_LSTR)


def _clean(arr: pa.Array, nulls: pa.Array = _NULLS) -> pa.Array:
    """NFKC (non-ASCII cells only), trim, unwrap ``="..."`` and ``'=...``, null words to null."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type != _LSTR:
        arr = pc.cast(arr, _LSTR)
    nonascii = pc.fill_null(pc.invert(pc.string_is_ascii(arr)), False)
    if pc.any(nonascii).as_py():
        sub = pc.utf8_normalize(arr.filter(nonascii), "NFKC")
        sub = pc.replace_substring_regex(sub, _INVISIBLE, "")
        sub = pc.replace_substring(sub, "\u2212", "-")  # minus sign
        arr = pc.replace_with_mask(arr, nonascii, sub)
    arr = pc.utf8_trim_whitespace(arr)
    formula = pc.fill_null(pc.starts_with(arr, '="'), False)
    if pc.any(formula).as_py():  # ="00123": Excel's way of keeping text in a CSV
        sub = pc.replace_substring_regex(arr.filter(formula), r'^="(.*)"$', r"\1")
        arr = pc.utf8_trim_whitespace(pc.replace_with_mask(arr, formula, sub))
    quoted = pc.fill_null(pc.match_substring_regex(arr, r"^'[=+\-@]"), False)
    if pc.any(quoted).as_py():  # '=...: a spreadsheet's text marker (medrisk's exports write it)
        arr = pc.replace_with_mask(arr, quoted, pc.utf8_slice_codeunits(arr.filter(quoted), 1))
    empty = pc.or_(pc.equal(pc.binary_length(arr), 0), pc.is_in(arr, value_set=nulls))
    return pc.if_else(pc.fill_null(empty, True), pa.scalar(None, _LSTR), arr)


def _null_mask(arr: pa.Array) -> np.ndarray:
    return arr.is_null().to_numpy(zero_copy_only=False)


def _str_series(arr: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(arr, dtype="str") if len(arr) else pd.array([], dtype="str"),
                     index=index)


def _text_of_numbers(data: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    vals, na = data
    out = np.empty(len(vals), dtype=object)
    if vals.dtype.kind in "iu":
        out[:] = vals.astype(str)
    else:
        ok = ~na & np.isfinite(vals)
        integral = ok & (vals == np.floor(vals)) & (np.abs(vals) < 2.0**63)
        out[integral] = vals[integral].astype(np.int64).astype(str)
        rest = ok & ~integral
        out[rest] = [repr(float(x)) for x in vals[rest]]
        out[~ok & ~na] = vals[~ok & ~na].astype(str)
    out[na] = None
    return out


def _text_of_datetimes(s: pd.Series) -> np.ndarray:
    out = np.empty(len(s), dtype=object)
    for i, x in enumerate(s.to_numpy(dtype=object)):
        try:
            ts = pd.Timestamp(x)
        except (ValueError, TypeError, OverflowError):
            out[i] = str(x)
            continue
        if ts is pd.NaT:
            out[i] = None
        elif ts == ts.normalize():
            out[i] = ts.strftime("%Y-%m-%d")
        else:
            out[i] = ts.isoformat(sep=" ")
    return out


def normalize_text(s: pd.Series) -> pd.Series:
    """Tidy text cells: NFKC, trimmed, empty cells and null words to NA.

    Full-width letters, digits and punctuation become ASCII (``'ＡＢＣ１２３'`` ->
    ``'ABC123'``), the ideographic space and non-breaking spaces are trimmed,
    invisible characters (zero-width space, BOM) are removed, and Excel's
    ``="00123"`` becomes ``'00123'``. Cells that are not text are written as text:
    integral floats as integers (an id read from Excel as ``12345.0`` becomes
    ``'12345'``), dates as ``YYYY-MM-DD``.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.

    Returns
    -------
    pandas.Series
        dtype ``str``, same index; NA where the cell was empty.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_text(pd.Series(["\u3000ＡＢＣ－１ ", "N/A", 12345.0])).tolist()
    ['ABC-1', nan, '12345']
    """
    s = _check_series(s, "normalize_text")
    parts = _partition(s)
    if len(parts) == 1 and parts[0].pos is None and parts[0].kind == _STR:
        return _str_series(_clean(parts[0].data), s.index)
    out = np.full(len(s), None, dtype=object)
    for part in parts:
        if part.kind == _NA:
            continue
        if part.kind == _STR:
            text = part.data
        else:
            if part.kind == _NUM:
                obj = _text_of_numbers(part.data)
            elif part.kind == _BOOL:
                obj = np.where(part.data[0], "True", "False").astype(object)
                obj[part.data[1]] = None
            elif part.kind == _DT:
                obj = _text_of_datetimes(part.data)
            else:
                obj = np.array([str(x) for x in part.data], dtype=object)
            text = pa.array(obj, type=_LSTR, from_pandas=True)
        cleaned = _clean(text).to_numpy(zero_copy_only=False)
        if part.pos is None:
            out = cleaned
        else:
            out[part.pos] = cleaned
    return pd.Series(pd.array(out, dtype="str"), index=s.index)


def parse_str(s: pd.Series) -> Parsed:
    """Parse a text column (ids, names, free text); never bad.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.

    Returns
    -------
    Parsed
        ``values`` as :func:`normalize_text` gives them, ``bad`` all False.
    """
    s = _check_series(s, "parse_str")
    return Parsed(normalize_text(s), np.zeros(len(s), dtype=bool), EXPECTED_STR)


# --------------------------------------------------------------------------------------
# Digits: shared by the number and date parsers
# --------------------------------------------------------------------------------------


def _np(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return a.to_numpy(zero_copy_only=False)


def _digits(a: pa.Array) -> np.ndarray:
    """Digit strings to int64 ('' gives 0).

    Only the last 18 digits are read, so that no cast overflows; callers mark
    longer numbers bad.
    """
    a = pc.utf8_slice_codeunits(a, -18)
    a = pc.if_else(pc.equal(pc.binary_length(a), 0), pa.scalar("0", _LSTR), a)
    return _np(pc.cast(a, pa.int64()))
