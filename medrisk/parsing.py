"""Turn messy exported cells into canonical values, one whole column at a time.

Exports from Chinese ERPs (Kingdee, Yonyou, SAP) and from Excel arrive with
full-width digits, ``¥1,234.56``, ``2025年3月5日``, Excel serial numbers, ``(12.30)``
for negatives and a dozen spellings of "empty". :mod:`medrisk.io` reads every cell
as it is and calls one parser per canonical column; each parser returns a
:class:`Parsed`: the canonical values, which cells were filled but unreadable, and
a phrase saying what was expected.

Every parser is vectorised. Strings are handled with pyarrow compute kernels
(RE2 regular expressions, casts); numbers and dates with numpy. Python-level work
is limited to the cells that are neither text nor a typed column: the mixed
cells an Excel sheet gives (numbers, ``datetime`` objects, ``Decimal``).

Rules shared by all parsers:

* Empty cells (``None``, ``NaN``, ``''``, whitespace, and the null words of
  :data:`NULL_WORDS` such as ``'nan'``, ``'N/A'``, ``'-'``, ``'无'``) give NA and
  are **not** bad. (:func:`parse_bool` reads ``'无'`` as False.)
* Text is NFKC-normalised first, so full-width ``１２３``, ``，``, ``．``, ``％``,
  ``（）`` and the ideographic space read like their ASCII forms.
* The input index is kept; ``bad`` is a boolean numpy array in row order.
* Money never goes through float when it arrives as text: integer and fraction
  digits are split with a regular expression and combined as integers (fen).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import numbers
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from medrisk.schemas import MONEY_COLUMNS, Target
from medrisk.vocabulary import (  # noqa: F401  (re-exported: the loader's vocabulary)
    _INVISIBLE,
    COLUMN_ALIASES,
    ENUM_LABELS,
    TABLE_ALIASES,
    _allowed_values,
    _enum_expected,
    _enum_key,
    _enum_map,
    _schema,
    _schema_column,
    match_columns,
    match_table,
    normalize_header,
)

__all__ = [
    "Parsed",
    "NULL_WORDS",
    "normalize_text",
    "parse_dates",
    "parse_months",
    "parse_money",
    "parse_int",
    "parse_rate",
    "parse_bool",
    "parse_str",
    "normalize_enum",
    "ENUM_LABELS",
    "normalize_header",
    "COLUMN_ALIASES",
    "TABLE_ALIASES",
    "match_columns",
    "match_table",
    "column_kind",
    "PARSERS",
    "parse_column",
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

EXPECTED_DATE = (
    "a date such as 2025-03-05, 2025/3/5, 2025.3.5, 2025年3月5日, 20250305 or an Excel "
    "date (year first: day-first or month-first dates such as 05/03/2025 are not read, "
    "as they are ambiguous)"
)
EXPECTED_MONTH = (
    "a month such as 2025-03, 2025/3, 2025年3月 or 202503, or a date such as 2025-03-01 "
    "(year first: 03/2025 is not read)"
)
EXPECTED_MONEY = (
    "an amount in 元 with at most two decimals, such as 1234.56, 1,234.56, ¥1,234.56, "
    "RMB 1,234.56, 1234.56元 or (12.30) for a negative amount (amounts in 万元 are not "
    "read: convert them to 元)"
)
EXPECTED_INT = "a whole number such as 30, 1,200 or 30天"
EXPECTED_RATE = (
    "a rate such as 0.05, 5% or a discount such as 95折 or 9.5折 (both mean 0.05 off)"
)
EXPECTED_BOOL = "yes or no: true/false, yes/no, y/n, 1/0, 是/否, 有/无 or √/×"
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
    """NFKC (non-ASCII cells only), trim, unwrap ``="..."``, null words to null."""
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
# Numbers: one regular expression splits sign, integer digits and fraction digits
# --------------------------------------------------------------------------------------


def _number_pattern(prefix: str = "", suffix: str = "") -> str:
    pre = rf"(?P<pre>[-+(]?\s*(?:{prefix})?\s*[-+]?)" if prefix else r"(?P<pre>[-+(]?\s*[-+]?)"
    suf = rf"(?P<suf>{suffix})?" if suffix else r"(?P<suf>)"
    return (
        rf"^{pre}\s*(?P<int>\d{{1,3}}(?:,\d{{3}})+|\d*)(?:\.(?P<frac>\d*))?"
        rf"\s*{suf}\s*(?P<post>-?\s*\)?)$"
    )


_MONEY_PATTERN = _number_pattern(
    prefix=r"¥|[Rr][Mm][Bb]|[Cc][Nn][Yy]|人民币", suffix=r"元|[Rr][Mm][Bb]|[Cc][Nn][Yy]"
)
_INT_PATTERN = _number_pattern(suffix="天")
_RATE_PATTERN = _number_pattern(suffix="%|折")


class _Number(NamedTuple):
    ok: np.ndarray  # the cell is a well-formed number
    neg: np.ndarray
    int_text: pa.Array  # integer digits, no separators ('' when absent)
    int_len: np.ndarray  # significant integer digits
    frac: pa.Array  # fraction digits ('' when absent)
    frac_len: np.ndarray
    suffix: pa.Array


def _np(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return a.to_numpy(zero_copy_only=False)


def _split_number(t: pa.Array, pattern: str) -> _Number:
    st = pc.extract_regex(t, pattern)
    matched = _np(pc.fill_null(st.is_valid(), False))
    pre, post = st.field("pre"), st.field("post")
    int_text = pc.replace_substring(pc.fill_null(st.field("int"), ""), ",", "")
    frac = pc.fill_null(st.field("frac"), "")
    suffix = pc.fill_null(st.field("suf"), "")
    frac_len = _np(pc.binary_length(frac))
    int_len = _np(pc.binary_length(pc.utf8_ltrim(int_text, characters="0")))
    has_digits = (_np(pc.binary_length(int_text)) + frac_len) > 0
    lp = _np(pc.fill_null(pc.starts_with(pre, "("), False))
    rp = _np(pc.fill_null(pc.ends_with(post, ")"), False))
    n_signs = _np(pc.fill_null(pc.count_substring_regex(pre, "[-+]"), 0)) + _np(
        pc.fill_null(pc.count_substring(post, "-"), 0)
    )
    ok = matched & has_digits & (lp == rp) & (n_signs + lp <= 1)
    neg = (
        lp
        | _np(pc.fill_null(pc.match_substring(pre, "-"), False))
        | _np(pc.fill_null(pc.match_substring(post, "-"), False))
    )
    return _Number(ok, neg & ok, int_text, int_len, frac, frac_len, suffix)


def _digits(a: pa.Array) -> np.ndarray:
    """Digit strings to int64 ('' gives 0).

    Only the last 18 digits are read, so that no cast overflows; callers mark
    longer numbers bad.
    """
    a = pc.utf8_slice_codeunits(a, -18)
    a = pc.if_else(pc.equal(pc.binary_length(a), 0), pa.scalar("0", _LSTR), a)
    return _np(pc.cast(a, pa.int64()))


# --------------------------------------------------------------------------------------
# Money (integer fen)
# --------------------------------------------------------------------------------------

MAX_FEN = 9 * 10**15  # values beyond ±9e15 fen (9e13 元) are refused
_MAX_YUAN_DIGITS = 14
_CLEAN_MONEY = r"^-?\d{1,14}(?:\.\d{1,2})?$"


def _money_from_str(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = _clean(arr)
    na = _null_mask(t)
    # fast path: plain numbers with at most two decimals (most database exports)
    if pc.all(pc.match_substring_regex(t, _CLEAN_MONEY)).as_py() is not False:
        dec = pc.cast(t, pa.decimal128(18, 2))
        fen = pc.cast(pc.multiply(dec, pa.scalar(decimal.Decimal(100), pa.decimal128(3, 0))),
                      pa.int64())
        vals = _np(pc.fill_null(fen, 0))
        bad = ~na & (np.abs(vals) > MAX_FEN)
        return vals, na, bad
    num = _split_number(t, _MONEY_PATTERN)
    frac_ok = (num.frac_len <= 2) | _np(
        pc.fill_null(pc.match_substring_regex(num.frac, r"^\d\d0+$"), False)
    )
    ok = num.ok & frac_ok & (num.int_len <= _MAX_YUAN_DIGITS)
    yuan = _digits(num.int_text)
    cents_text = pc.utf8_rpad(pc.utf8_slice_codeunits(num.frac, 0, 2), 2, "0")
    cents = _digits(cents_text)
    fen = yuan * 100 + cents
    fen = np.where(num.neg, -fen, fen)
    ok &= np.abs(fen) <= MAX_FEN
    bad = ~na & ~ok
    return np.where(ok, fen, 0), na, bad


def _money_from_num(data: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    vals, na = data
    if vals.dtype.kind in "iu":
        ok = np.abs(vals) <= MAX_FEN // 100
        fen = np.where(ok, vals, 0) * 100
        return fen, na, ~na & ~ok
    with np.errstate(invalid="ignore", over="ignore"):
        y = vals * 100.0
        r = np.rint(y)
        tol = np.maximum(1e-6, 8 * np.spacing(np.abs(y)))
        ok = np.isfinite(y) & (np.abs(y - r) <= tol) & (np.abs(r) <= MAX_FEN)
    fen = np.where(ok, r, 0).astype(np.int64)
    return fen, na, ~na & ~ok


def parse_money(s: pd.Series) -> Parsed:
    """Parse money in 元 into exact integer fen (分; 1 元 = 100 fen).

    Text is split into integer and fraction digits and combined as integers, so
    ``'12345678901.23'`` gives exactly ``1234567890123``. Accepted text:
    ``'1234.5'``, ``'1,234.56'``, ``'¥1,234.56'``, ``'￥1,234.56'``, ``'RMB 1,234.56'``,
    ``'CNY1234'``, ``'1234.56元'``, ``'１，２３４．５６'``, ``'-12.30'``, ``'+12'``,
    ``'(12.30)'`` (accounting negative) and ``'12.30-'`` (SAP negative). Extra
    decimals are accepted only when they are zeros (``'12.3400'``).

    Bad: more than two decimals (``'12.345'``), ``'1.2.3'``, ``'12,34'`` (thousands
    groups must have three digits), ``'1e5'``, amounts in 万 (ambiguous scale), other
    currencies, and anything beyond ±9e15 fen.

    Numbers: integers are 元; floats are rounded to fen but marked bad when they
    carry more than two decimals beyond float noise (``12.345``). ``Decimal``
    objects and pyarrow decimals are read exactly.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.

    Returns
    -------
    Parsed
        ``values`` of dtype ``Int64`` in fen. Negative amounts keep their sign (the
        schema decides whether they are allowed).

    Examples
    --------
    >>> import pandas as pd
    >>> parse_money(pd.Series(["¥1,234.56", "(12.30)", "12.345", ""])).values.tolist()
    [123456, -1230, <NA>, <NA>]
    """
    s = _check_series(s, "parse_money")
    vals, na, bad = _run(s, {_STR: _money_from_str, _NUM: _money_from_num}, np.int64)
    out = pd.arrays.IntegerArray(vals.astype(np.int64), na | bad)
    return Parsed(pd.Series(out, index=s.index), bad, EXPECTED_MONEY)


# --------------------------------------------------------------------------------------
# Integers
# --------------------------------------------------------------------------------------


def _int_from_str(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = _clean(arr)
    na = _null_mask(t)
    num = _split_number(t, _INT_PATTERN)
    frac_zero = _np(pc.fill_null(pc.match_substring_regex(num.frac, r"^0*$"), False))
    ok = num.ok & frac_zero & (num.int_len <= 18)
    v = _digits(num.int_text)
    v = np.where(num.neg, -v, v)
    return np.where(ok, v, 0), na, ~na & ~ok


def _int_from_num(data: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    vals, na = data
    if vals.dtype.kind in "iu":
        return vals.astype(np.int64), na, np.zeros(len(vals), dtype=bool)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(vals) & (vals == np.floor(vals)) & (np.abs(vals) <= 2.0**53)
    return np.where(ok, vals, 0).astype(np.int64), na, ~na & ~ok


def parse_int(s: pd.Series) -> Parsed:
    """Parse whole numbers (days, quantities, line numbers).

    Accepts integers, integral floats (``3.0``), and text such as ``'30'``,
    ``'1,200'``, ``'３０'``, ``'3.00'`` and ``'30天'``. ``'3.5'`` and ``3.5`` are bad.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.

    Returns
    -------
    Parsed
        ``values`` of dtype ``Int64``.
    """
    s = _check_series(s, "parse_int")
    vals, na, bad = _run(s, {_STR: _int_from_str, _NUM: _int_from_num}, np.int64)
    out = pd.arrays.IntegerArray(vals.astype(np.int64), na | bad)
    return Parsed(pd.Series(out, index=s.index), bad, EXPECTED_INT)


# --------------------------------------------------------------------------------------
# Rates
# --------------------------------------------------------------------------------------


def _rate_from_str(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = _clean(arr)
    na = _null_mask(t)
    num = _split_number(t, _RATE_PATTERN)
    ok = num.ok & (num.int_len + num.frac_len <= 15)
    all_digits = pc.binary_join_element_wise(num.int_text, num.frac, pa.scalar("", _LSTR))
    mantissa = _digits(all_digits)
    places = num.frac_len.astype(np.int64)
    suffix = _np(num.suffix).astype(object)
    pct = suffix == "%"
    zhe = suffix == "折"
    # 折: '9折' / '9.5折' pay that many tenths; two-digit '95折' pays 95 hundredths.
    # The discount rate is the fraction taken off: 1 - paid, computed exactly.
    tenths = zhe & (mantissa > 0) & (mantissa <= 10 * 10**places)
    hundredths = zhe & ~tenths & (places == 0) & (mantissa > 10) & (mantissa < 100)
    ok &= ~zhe | tenths | hundredths
    ok &= ~(zhe & num.neg)
    scale = places + np.where(pct, 2, 0) + np.where(tenths, 1, 0) + np.where(hundredths, 2, 0)
    with np.errstate(over="ignore"):
        denom = np.power(10.0, scale)
    numer = np.where(zhe, denom - mantissa, mantissa).astype(np.float64)
    rate = numer / denom
    rate = np.where(num.neg, -rate, rate)
    return np.where(ok, rate, np.nan), na, ~na & ~ok


def _rate_from_num(data: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    vals, na = data
    vals = vals.astype(np.float64)
    ok = np.isfinite(vals) | na
    return np.where(ok, vals, np.nan), na, ~ok


def parse_rate(s: pd.Series) -> Parsed:
    """Parse rates and discounts into a fraction (float).

    Accepts ``0.05``, ``'0.05'``, ``'5%'``, ``'5 %'``, ``'５％'``, and the Chinese
    discount convention: ``'95折'`` or ``'9.5折'`` means the customer pays 95%, so
    the **discount rate** (the fraction taken off, as ``order_lines.discount_rate``
    holds it) is ``1 - 0.95 = 0.05``; ``'8折'`` gives 0.2. A plain number is taken as
    it is (``'5'`` gives 5.0, which the schema rejects as a discount rate): medrisk
    does not guess whether it meant 5%.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.

    Returns
    -------
    Parsed
        ``values`` of dtype ``float64`` (NaN where empty or bad).
    """
    s = _check_series(s, "parse_rate")
    vals, na, bad = _run(s, {_STR: _rate_from_str, _NUM: _rate_from_num}, np.float64)
    vals = np.where(na | bad, np.nan, vals)
    return Parsed(pd.Series(vals, index=s.index, dtype=np.float64), bad, EXPECTED_RATE)


# --------------------------------------------------------------------------------------
# Booleans
# --------------------------------------------------------------------------------------

_TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0", "是", "有", "√", "✓", "✔", "冷链",
               "on", "对")
_FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0", "否", "无", "×", "✗", "✘", "非冷链",
                "常温", "off", "不是")
_TRUE = pa.array(_TRUE_WORDS, type=_LSTR)
_FALSE = pa.array(_FALSE_WORDS, type=_LSTR)


def _bool_from_str(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = pc.utf8_lower(_clean(arr, _NULLS_KEEP_WU))
    na = _null_mask(t)
    yes = _np(pc.fill_null(pc.is_in(t, value_set=_TRUE), False))
    no = _np(pc.fill_null(pc.is_in(t, value_set=_FALSE), False))
    return yes, na, ~na & ~yes & ~no


def _bool_from_num(data: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    vals, na = data
    ok = (vals == 0) | (vals == 1)
    return vals == 1, na, ~na & ~ok


def _bool_from_bool(data: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    vals, na = data
    return vals, na, np.zeros(len(vals), dtype=bool)


def parse_bool(s: pd.Series) -> Parsed:
    """Parse yes/no flags (``cold_chain``).

    True: true, yes, y, 1, 是, 有, √, 冷链. False: false, no, n, 0, 否, 无, ×, 非冷链, 常温.
    Case does not matter. Here ``'无'`` means False, not empty. Python booleans and
    the numbers 0 and 1 are read too.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.

    Returns
    -------
    Parsed
        ``values`` of dtype ``boolean``.
    """
    s = _check_series(s, "parse_bool")
    vals, na, bad = _run(
        s, {_STR: _bool_from_str, _NUM: _bool_from_num, _BOOL: _bool_from_bool}, bool
    )
    out = pd.arrays.BooleanArray(vals.astype(bool), na | bad)
    return Parsed(pd.Series(out, index=s.index), bad, EXPECTED_BOOL)


# --------------------------------------------------------------------------------------
# Dates (held as int64 days since 1970-01-01 until the end)
# --------------------------------------------------------------------------------------

_MIN_DAY = int(np.datetime64("1900-01-01", "D").astype(np.int64))
_MAX_DAY = int(np.datetime64("2199-12-31", "D").astype(np.int64))
_EXCEL_EPOCH = int(np.datetime64("1899-12-30", "D").astype(np.int64))
#: Excel serial numbers read as dates: 10000 (1927-05-18) to 73050 (2099-12-31).
#: Smaller numbers (a year such as 2025, a count) are not taken for dates.
EXCEL_SERIAL_RANGE = (10_000, 73_050)
_DAY_NS = 86_400 * 10**9
_NAT_DAY = -(1 << 62)

_TIME = (  # an optional time of day, checked for shape and then dropped
    r"(?:(?:\s+|T)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?"
    r"\s*(?:Z|[+-]\d\d:?\d\d)?)?"
)
_DATE_ALTS = (
    rf"(?P<y>\d{{4}})\s*(?P<a>[-/.年])\s*(?P<m>\d{{1,2}})\s*(?P<b>[-/.月])\s*(?P<d>\d{{1,2}})"
    rf"\s*日?{_TIME}",
    r"(?P<y8>\d{4})(?P<m8>\d\d)(?P<d8>\d\d)",
)
_SERIAL_ALT = r"(?P<ser>\d{1,5})(?:\.\d+)?"
_MONTH_ALTS = (
    r"(?P<ym>\d{4})\s*(?P<c>[-/.年])\s*(?P<mm>\d{1,2})\s*月?",
    r"(?P<y6>\d{4})(?P<m6>\d\d)",
)
# RE2 prefers the first alternative that matches: months ('2025.03') before serials.
_DATE_PATTERN = "^(?:" + "|".join((*_DATE_ALTS, _SERIAL_ALT)) + ")$"
_DATE_MONTH_PATTERN = "^(?:" + "|".join((*_DATE_ALTS, *_MONTH_ALTS, _SERIAL_ALT)) + ")$"
_SEPARATOR_PAIRS = pa.array(["--", "//", "..", "年月"], type=_LSTR)


def _ymd_to_days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar parts to days since 1970; ``ok`` False for impossible dates."""
    ok = (y >= 1900) & (y <= 2199) & (m >= 1) & (m <= 12) & (d >= 1)
    months = np.where(ok, (y - 1970) * 12 + (m - 1), 0)
    start = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    nxt = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    ok &= d <= nxt - start
    return np.where(ok, start + d - 1, 0), ok


def _days_in_range(days: np.ndarray) -> np.ndarray:
    return (days >= _MIN_DAY) & (days <= _MAX_DAY)


def _iso_cast(t: pa.Array) -> pa.Array | None:
    """Timestamps if every cell is ISO 8601 text, else None (tried on a sample first)."""
    try:
        pc.cast(t.slice(0, 1000), pa.timestamp("s"))
        return pc.cast(t, pa.timestamp("s"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _dates_from_str(arr: pa.Array, months: bool = False) -> tuple[np.ndarray, ...]:
    t = _clean(arr)
    na = _null_mask(t)
    ts = _iso_cast(t)
    if ts is not None:  # fast path: ISO 8601 text (YYYY-MM-DD, optionally with a time)
        secs = _np(pc.fill_null(pc.cast(ts, pa.int64()), 0))
        days = np.floor_divide(secs, 86_400)
        ok = _days_in_range(days)
        return np.where(ok, days, 0), na, ~na & ~ok
    st = pc.extract_regex(t, _DATE_MONTH_PATTERN if months else _DATE_PATTERN)
    matched = _np(pc.fill_null(st.is_valid(), False))

    def field(name: str) -> pa.Array:
        return pc.fill_null(st.field(name), "")

    def nonempty(a: pa.Array) -> np.ndarray:
        return matched & (_np(pc.binary_length(a)) > 0)

    y1, y8, ser = field("y"), field("y8"), field("ser")
    sep = pc.binary_join_element_wise(field("a"), field("b"), pa.scalar("", _LSTR))
    sep_ok = _np(pc.fill_null(pc.is_in(sep, value_set=_SEPARATOR_PAIRS), False))
    is1, is8, is_ser = nonempty(y1), nonempty(y8), nonempty(ser)
    y = np.where(is1, _digits(y1), _digits(y8))
    m = np.where(is1, _digits(field("m")), _digits(field("m8")))
    d = np.where(is1, _digits(field("d")), _digits(field("d8")))
    days, ok = _ymd_to_days(y, m, d)
    ok &= (is1 & sep_ok) | is8
    serial = _digits(ser)
    ser_ok = is_ser & (serial >= EXCEL_SERIAL_RANGE[0]) & (serial <= EXCEL_SERIAL_RANGE[1])
    days = np.where(ser_ok, _EXCEL_EPOCH + serial, days)
    ok |= ser_ok
    if months:
        ym, y6 = field("ym"), field("y6")
        is_m, is6 = nonempty(ym), nonempty(y6)
        my = np.where(is_m, _digits(ym), _digits(y6))
        mm = np.where(is_m, _digits(field("mm")), _digits(field("m6")))
        mdays, mok = _ymd_to_days(my, mm, np.ones_like(my))
        sep_m = _np(pc.fill_null(pc.match_substring_regex(field("c"), r"^[-/.]$"), False))
        sep_m |= _np(pc.fill_null(pc.equal(field("c"), "年"), False))
        mok &= (is_m & sep_m) | is6
        days = np.where(mok, mdays, days)
        ok |= mok
    return np.where(ok, days, 0), na, ~na & ~ok


def _dates_from_num(data: tuple[np.ndarray, np.ndarray], months: bool = False):
    vals, na = data
    f = vals.astype(np.float64)
    with np.errstate(invalid="ignore"):
        integral = np.isfinite(f) & (f == np.floor(f))
        is8 = integral & (f >= 19000101) & (f <= 21991231)
        iv = np.where(is8, f, 0).astype(np.int64)
        days, ok = _ymd_to_days(iv // 10000, iv // 100 % 100, iv % 100)
        ok &= is8
        ser = np.isfinite(f) & (f >= EXCEL_SERIAL_RANGE[0]) & (f < EXCEL_SERIAL_RANGE[1] + 1)
        serial = np.where(ser, np.floor(f), 0).astype(np.int64)
        days = np.where(ser, _EXCEL_EPOCH + serial, days)
        ok |= ser
        if months:
            is6 = integral & (f >= 190001) & (f <= 219912)
            iv6 = np.where(is6, f, 0).astype(np.int64)
            mdays, mok = _ymd_to_days(iv6 // 100, iv6 % 100, np.ones_like(iv6))
            mok &= is6
            days = np.where(mok, mdays, days)
            ok |= mok
    return np.where(ok, days, 0), na, ~na & ~ok


def _one_datetime_day(x: Any) -> int | None:
    """Days since 1970 of one datetime-like (-1 << 62 for NaT), None if unreadable."""
    try:
        ts = pd.Timestamp(x)
        if ts is pd.NaT:
            return _NAT_DAY
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        return int(np.datetime64(ts.date(), "D").astype(np.int64))
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return None


def _dates_from_datetimes(s: pd.Series) -> tuple[np.ndarray, ...]:
    """Datetime columns or datetime/date objects to days (wall-clock date)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        v = s.to_numpy()
        na = np.isnat(v)
        days = v.astype("datetime64[D]").astype(np.int64)
    else:
        try:
            conv = pd.to_datetime(s, errors="raise")
            if getattr(conv.dtype, "tz", None) is not None:
                conv = conv.dt.tz_localize(None)
            v = conv.to_numpy()
            na = np.isnat(v)
            days = v.astype("datetime64[D]").astype(np.int64)
        except (ValueError, TypeError, OverflowError):  # mixed time zones, out of range
            got = [_one_datetime_day(x) for x in s.to_numpy(dtype=object)]
            days = np.array([g if g is not None else _MAX_DAY + 1 for g in got], dtype=np.int64)
            na = days == _NAT_DAY
    ok = _days_in_range(days) | na
    return np.where(ok & ~na, days, 0), na, ~ok


def _days_to_series(days: np.ndarray, missing: np.ndarray, index: pd.Index) -> pd.Series:
    ns = (days.astype(np.int64) * _DAY_NS).view("datetime64[ns]")
    ns = np.where(missing, np.datetime64("NaT", "ns"), ns)
    return pd.Series(ns, index=index, dtype="datetime64[ns]")


def parse_dates(s: pd.Series) -> Parsed:
    """Parse calendar dates (no time of day).

    Accepts datetime64 columns (time zones dropped, wall-clock date kept),
    ``datetime``/``date``/``Timestamp`` objects as Excel readers give them, and text
    ``'2025-03-05'``, ``'2025-3-5'``, ``'2025/3/5'``, ``'2025.3.5'``, ``'2025年3月5日'``,
    ``'20250305'``, ``'2025-03-05 00:00:00'``, ``'2025-03-05T10:20:00'`` and full-width
    ``'２０２５年３月５日'``. Eight-digit numbers (int or text) are ``yyyymmdd``; other
    numbers between 10000 and 73050 are Excel serial dates (epoch 1899-12-30, so
    45721 is 2025-03-05; a fraction, the time of day, is dropped).

    Bad: impossible dates (``'2025-02-30'``, month 13), garbage, dates outside
    1900-01-01..2199-12-31 (ERP placeholders such as ``0001-01-01`` or ``9999-12-31``)
    and day-first or month-first dates (``'05/03/2025'``): Chinese exports are year
    first and ``05/03`` is ambiguous, so medrisk does not guess.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.

    Returns
    -------
    Parsed
        ``values`` of dtype ``datetime64[ns]``, normalised to midnight.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_dates(pd.Series(["2025年3月5日", 45721, "05/03/2025"])).values.tolist()
    [Timestamp('2025-03-05 00:00:00'), Timestamp('2025-03-05 00:00:00'), NaT]
    """
    s = _check_series(s, "parse_dates")
    days, na, bad = _run(
        s,
        {_STR: _dates_from_str, _NUM: _dates_from_num, _DT: _dates_from_datetimes},
        np.int64,
    )
    return Parsed(_days_to_series(days, na | bad, s.index), bad, EXPECTED_DATE)


def parse_months(s: pd.Series) -> Parsed:
    """Parse months (``targets.period``) as well as dates.

    Everything :func:`parse_dates` reads, plus months: ``'2025-03'``, ``'2025/3'``,
    ``'2025年3月'``, ``'202503'`` and the number ``202503``, each read as the month's
    first day. A full date is kept as it is (the schema checks that it is the
    first of a month), not moved to the month start.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.

    Returns
    -------
    Parsed
        ``values`` of dtype ``datetime64[ns]``.
    """
    s = _check_series(s, "parse_months")
    days, na, bad = _run(
        s,
        {
            _STR: lambda a: _dates_from_str(a, months=True),
            _NUM: lambda d: _dates_from_num(d, months=True),
            _DT: _dates_from_datetimes,
        },
        np.int64,
    )
    return Parsed(_days_to_series(days, na | bad, s.index), bad, EXPECTED_MONTH)


# --------------------------------------------------------------------------------------
# Enumerations
# --------------------------------------------------------------------------------------


def normalize_enum(s: pd.Series, table: str, column: str) -> Parsed:
    """Map labels of a closed vocabulary to medrisk's codes.

    ``'三级医院'`` becomes ``'tertiary_hospital'``, ``'直销'`` ``'direct'``, ``'合格'``
    ``'released'`` (see :data:`ENUM_LABELS`); codes pass in any case. Unknown
    labels are kept as they are (tidied by :func:`normalize_text`) and are not bad
    here: the schema's ``isin`` rule rejects them and the loader reports them.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.
    table : str
        Canonical table name, e.g. ``"customers"``.
    column : str
        Canonical column with an ``isin`` rule, e.g. ``"customer_type"``.

    Returns
    -------
    Parsed
        ``values`` of dtype ``str``; ``bad`` all False.

    Raises
    ------
    SchemaError
        If the table or column is unknown, or the column has no closed vocabulary.
    """
    s = _check_series(s, "normalize_enum")
    mapping = _enum_map(table, column)
    text = normalize_text(s)
    codes, uniques = pd.factorize(text)
    mapped = np.array([mapping.get(_enum_key(u), u) for u in uniques], dtype=object)
    out = np.full(len(text), None, dtype=object)
    has = codes >= 0
    out[has] = mapped[codes[has]]
    return Parsed(
        pd.Series(pd.array(out, dtype="str"), index=s.index),
        np.zeros(len(s), dtype=bool),
        _enum_expected(table, column),
    )


# --------------------------------------------------------------------------------------
# Which parser for which canonical column
# --------------------------------------------------------------------------------------


@cache
def column_kind(table: str, column: str) -> str:
    """Kind of a canonical column, derived from its pandera schema.

    Parameters
    ----------
    table : str
        Canonical table name.
    column : str
        Canonical column name.

    Returns
    -------
    str
        One of ``'money'`` (listed in ``medrisk.schemas.MONEY_COLUMNS``), ``'date'``,
        ``'month'`` (``targets.period``), ``'int'``, ``'float'``, ``'bool'``,
        ``'enum'`` (a string column with an ``isin`` rule) and ``'str'``.

    Raises
    ------
    SchemaError
        If the table or column is unknown.
    """
    col = _schema_column(table, column)
    if column in MONEY_COLUMNS.get(table, ()):
        return "money"
    dtype = str(col.dtype).lower()
    if "datetime" in dtype:
        return "month" if (table, column) == ("targets", Target.period) else "date"
    if "str" in dtype:
        return "enum" if any(check.name == "isin" for check in col.checks) else "str"
    if "bool" in dtype:
        return "bool"
    if "int" in dtype:
        return "int"
    if "float" in dtype:
        return "float"
    return "str"


#: Parser for each column kind ('enum' needs the column: use :func:`parse_column`).
PARSERS: dict[str, Callable[[pd.Series], Parsed]] = {
    "money": parse_money,
    "date": parse_dates,
    "month": parse_months,
    "int": parse_int,
    "float": parse_rate,
    "bool": parse_bool,
    "str": parse_str,
}


def parse_column(table: str, column: str, s: pd.Series) -> Parsed:
    """Parse a source column as the canonical column ``table.column``.

    Parameters
    ----------
    table : str
        Canonical table name.
    column : str
        Canonical column name.
    s : pandas.Series
        Cells as read.

    Returns
    -------
    Parsed
        As the parser of :func:`column_kind` gives it.

    Raises
    ------
    SchemaError
        If the table or column is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_column("invoices", "amount", pd.Series(["¥1,234.50"])).values.tolist()
    [123450]
    """
    kind = column_kind(table, column)
    if kind == "enum":
        return normalize_enum(s, table, column)
    return PARSERS[kind](s)
