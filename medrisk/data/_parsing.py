"""Turn messy exported cells into canonical values, one whole column at a time.

Exports from Chinese ERPs (Kingdee, Yonyou, SAP) and from Excel arrive with
full-width digits, ``¥1,234.56``, ``2025年3月5日``, Excel serial numbers, ``(12.30)``
for negatives and a dozen spellings of "empty". :mod:`medrisk.data` reads every cell
as it is and calls one parser per canonical column; each parser returns a
:class:`~medrisk.data.Parsed`: the canonical values, which cells were filled but
unreadable, and a phrase saying what was expected.

This module holds the parsers of numbers (money in fen, whole numbers, rates),
yes/no flags and coded values, and :func:`parse_column`, which picks the parser
of each canonical column. Cells are split by kind and their text tidied in
:mod:`medrisk.data` (with :func:`~medrisk.data.normalize_text` and
:func:`~medrisk.data.parse_str`); dates and months are read by
:mod:`medrisk.data`.

Every parser is vectorised. Strings are handled with pyarrow compute kernels
(RE2 regular expressions, casts); numbers and dates with numpy. Python-level work
is limited to the cells that are neither text nor a typed column: the mixed
cells an Excel sheet gives (numbers, ``datetime`` objects, ``Decimal``).

Rules shared by all parsers:

* Empty cells (``None``, ``NaN``, ``''``, whitespace, and the null words of
  :data:`~medrisk.data.NULL_WORDS` such as ``'nan'``, ``'N/A'``, ``'-'``, ``'无'``)
  give NA and are **not** bad. (:func:`parse_bool` reads ``'无'`` as False.)
* Text is NFKC-normalised first, so full-width ``１２３``, ``，``, ``．``, ``％``,
  ``（）`` and the ideographic space read like their ASCII forms.
* The input index is kept; ``bad`` is a boolean numpy array in row order.
* Money never goes through float when it arrives as text: integer and fraction
  digits are split with a regular expression and combined as integers (fen).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from medrisk.data._cells import (
    _BOOL,
    _LSTR,
    _NULLS_KEEP_WU,
    _NUM,
    _STR,
    Parsed,
    _check_series,
    _clean,
    _digits,
    _np,
    _null_mask,
    _run,
    normalize_text,
    parse_str,
)
from medrisk.data._dates import parse_dates, parse_months
from medrisk.data._schemas import MONEY_COLUMNS, Target
from medrisk.data._vocabulary import (
    COLUMN_ALIASES,
    ENUM_LABELS,
    TABLE_ALIASES,
    _enum_expected,
    _enum_key,
    _enum_map,
    _schema_column,
    match_columns,
    match_table,
    normalize_header,
)

__all__ = [
    "parse_money",
    "parse_int",
    "parse_rate",
    "parse_bool",
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
# Enumerations
# --------------------------------------------------------------------------------------


def normalize_enum(s: pd.Series, table: str, column: str) -> Parsed:
    """Map labels of a closed vocabulary to medrisk's codes.

    ``'三级医院'`` becomes ``'tertiary_hospital'``, ``'直销'`` ``'direct'``, ``'合格'``
    ``'released'`` (see :data:`ENUM_LABELS`); codes pass in any case. Unknown
    labels are kept as they are (tidied by :func:`~medrisk.data.normalize_text`) and
    are not bad here: the schema's ``isin`` rule rejects them and the loader reports them.

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
        One of ``'money'`` (listed in ``medrisk.data.MONEY_COLUMNS``), ``'date'``,
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


def parse_column(table: str, column: str, s: pd.Series, date_format: str | None = None,
                 dayfirst: bool = False) -> Parsed:
    """Parse a source column as the canonical column ``table.column``.

    Parameters
    ----------
    table : str
        Canonical table name.
    column : str
        Canonical column name.
    s : pandas.Series
        Cells as read.
    date_format : str, default=None
        For a date column: the strptime format its text is written in (see
        :func:`~medrisk.data.parse_dates`); the loader passes what a mapping file
        declares for the column.
    dayfirst : bool, default=False
        For a date column: read day-first text such as ``26/04/2011`` too.

    Returns
    -------
    Parsed
        As the parser of :func:`column_kind` gives it.

    Raises
    ------
    SchemaError
        If the table or column is unknown.
    ValueError
        If ``date_format`` or ``dayfirst`` is given for a column that is not a date.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_column("invoices", "amount", pd.Series(["¥1,234.50"])).values.tolist()
    [123450]
    >>> parse_column("invoices", "invoice_date", pd.Series(["26-Apr-11"]),
    ...              date_format="%d-%b-%y").values.tolist()
    [Timestamp('2011-04-26 00:00:00')]
    """
    kind = column_kind(table, column)
    if kind == "date":
        return parse_dates(s, date_format=date_format, dayfirst=dayfirst)
    if date_format is not None or dayfirst:
        raise ValueError(f"date_format and dayfirst apply to date columns; {table}.{column} "
                         f"is a {kind} column.")
    if kind == "enum":
        return normalize_enum(s, table, column)
    return PARSERS[kind](s)
