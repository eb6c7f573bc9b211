"""The shared kernel: the few helpers every area needs, defined once.

Day arithmetic (dates as int64 days since 1970-01-01, with :data:`NEVER` for
"no such day yet"), position lookups between id columns, the check of a
closed-set option, the Spring Festival calendar, the package version, and the
one exact money formatter that every report, message and export uses.

Money is integer fen everywhere in medrisk. :func:`yuan` and :func:`wan` turn it
into text for people, rounding half away from zero exactly (250 fen is ¥3,
-250 fen is -¥3), as Chinese finance practice (四舍五入) and the audit expect;
:func:`yuan_array` is the same rule over a whole column.

Examples
--------
>>> yuan(250)
'¥3'
>>> yuan(123456789, decimals=2)
'¥1,234,567.89'
>>> wan(1_234_500_000)
'1,234.5万'
>>> day_of("2025-12-31")
20453
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from medrisk.exceptions import ParamsError

__all__ = [
    "NEVER",
    "VERSION",
    "SPRING_FESTIVAL",
    "days",
    "day_of",
    "to_ts",
    "positions",
    "check_choice",
    "as_list",
    "round_fen",
    "yuan",
    "wan",
    "yuan_array",
    "spreadsheet_safe",
]

try:
    VERSION: str = version("medrisk")
except PackageNotFoundError:  # running from a source tree without installation
    VERSION = "0+unknown"

#: "No such day yet": a day number later than any date (2**40 days from 1970).
NEVER = np.int64(2**40)

#: Lunar New Year's day (春节), 2000-2040: sales and payments pause around it.
SPRING_FESTIVAL: tuple[str, ...] = (
    "2000-02-05", "2001-01-24", "2002-02-12", "2003-02-01", "2004-01-22", "2005-02-09",
    "2006-01-29", "2007-02-18", "2008-02-07", "2009-01-26", "2010-02-14", "2011-02-03",
    "2012-01-23", "2013-02-10", "2014-01-31", "2015-02-19", "2016-02-08", "2017-01-28",
    "2018-02-16", "2019-02-05", "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22",
    "2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13",
    "2030-02-03", "2031-01-23", "2032-02-11", "2033-01-31", "2034-02-19", "2035-02-08",
    "2036-01-28", "2037-02-15", "2038-02-04", "2039-01-24", "2040-02-12",
)  # fmt: skip


# --------------------------------------------------------------------------- days
def days(values) -> np.ndarray:
    """Calendar days since 1970-01-01 as int64; a missing date becomes :data:`NEVER`.

    Examples
    --------
    >>> days(pd.Series(pd.to_datetime(["1970-01-02", None]))).tolist()
    [1, 1099511627776]
    """
    arr = np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]")
    out = arr.astype(np.int64)
    out[np.isnat(arr)] = NEVER
    return out


def day_of(as_of, name: str = "as_of") -> int:
    """Return the day number of one date; a :class:`ParamsError` names ``name`` and the value.

    Examples
    --------
    >>> day_of("1970-01-11")
    10
    >>> day_of("someday")
    Traceback (most recent call last):
    ...
    medrisk.exceptions.ParamsError: as_of must be a date such as '2025-12-31'; got 'someday'.
    """
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError) as exc:
        raise ParamsError(f"{name} must be a date such as '2025-12-31'; got {as_of!r}.") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ParamsError(f"{name} must be a date such as '2025-12-31'; got {as_of!r}.")
    return int(np.datetime64(ts.normalize().date(), "D").astype(np.int64))


def to_ts(day_numbers: np.ndarray) -> np.ndarray:
    """Day numbers back to ``datetime64[ns]``."""
    return np.asarray(day_numbers, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


# --------------------------------------------------------------------------- lookups
def positions(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position of each value in ``keys``, -1 when absent: one hash pass over both.

    When a key occurs twice the first occurrence wins.

    Examples
    --------
    >>> positions(pd.Series(["b", "z", "a"]), pd.Series(["a", "b"])).tolist()
    [1, -1, 0]
    """
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    both = pd.concat([pd.Series(keys.array), pd.Series(values.array)], ignore_index=True)
    codes, _ = pd.factorize(both)
    head, tail = codes[: len(keys)], codes[len(keys) :].astype(np.int64)
    if not np.array_equal(head, np.arange(len(keys))):  # duplicated or missing keys
        first = np.full(int(codes.max()) + 1, -1, np.int64)
        rows = np.flatnonzero(head >= 0)[::-1]  # the first row of a key wins
        first[head[rows]] = rows
        return np.where(tail >= 0, first[np.maximum(tail, 0)], -1)
    return np.where(tail < len(keys), tail, -1)


def check_choice(name: str, value, allowed: Sequence[str]) -> str:
    """Return ``value`` when it is one of ``allowed``; else a :class:`ParamsError` listing them.

    Examples
    --------
    >>> check_choice("basis", "due_date", ("due_date", "invoice_date"))
    'due_date'
    """
    if value not in allowed:
        raise ParamsError(
            f"{name}={value!r} is not supported. Possible values are: {list(allowed)}."
        )
    return value


def as_list(by) -> list[str]:
    """``None`` -> ``[]``, one column name -> ``[name]``, a list of names -> that list."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    if isinstance(by, Iterable):
        return list(by)
    raise ParamsError(f"by must be None, a column name or a list of them; got {by!r}.")


# --------------------------------------------------------------------------- money
def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and not np.isfinite(x))


def round_fen(fen, decimals: int = 0, unit: int = 100) -> Decimal:
    """``fen / unit`` rounded half away from zero to ``decimals`` places, exactly.

    ``fen`` may be an int, a float (a forecast) or a Decimal; floats are taken
    at their shortest decimal repr, so 12.345 rounds as written.

    Examples
    --------
    >>> round_fen(250), round_fen(-250), round_fen(249)
    (Decimal('3'), Decimal('-3'), Decimal('2'))
    >>> round_fen(12.5, decimals=2)
    Decimal('0.13')
    """
    try:
        exact = isinstance(fen, int | np.integer)
        value = Decimal(int(fen)) if exact else Decimal(repr(float(fen)))
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise ParamsError(f"money must be a number of fen; got {fen!r}.") from exc
    return (value / unit).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def yuan(fen, decimals: int = 0, symbol: bool = True) -> str:
    """``¥1,234,567`` from fen, rounded half away from zero; ``—`` when missing.

    Examples
    --------
    >>> yuan(250), yuan(-250), yuan(150, decimals=2), yuan(None)
    ('¥3', '-¥3', '¥1.50', '—')
    >>> yuan(99_950, symbol=False)
    '1,000'
    """
    if _missing(fen):
        return "—"
    value = round_fen(fen, decimals)
    sign = "-" if value < 0 else ""
    return f"{sign}{'¥' if symbol else ''}{abs(value):,.{decimals}f}"


def wan(fen, decimals: int = 1) -> str:
    """``123.4万`` from fen (1万 = 10,000 元), rounded half away from zero; ``—`` when missing.

    Examples
    --------
    >>> wan(1_050_000), wan(1_150_000), wan(-1_250_000)
    ('1.1万', '1.2万', '-1.3万')
    """
    if _missing(fen):
        return "—"
    value = round_fen(fen, decimals, unit=1_000_000)
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value):,.{decimals}f}万"


def yuan_array(fen, decimals: int = 0, symbol: bool = True) -> pa.Array:
    """:func:`yuan` over a whole integer-fen column, as an Arrow string array (vectorised).

    Examples
    --------
    >>> yuan_array([250, -250, 123_456_789, 0]).to_pylist()
    ['¥3', '-¥3', '¥1,234,568', '¥0']
    >>> yuan_array([150, -5], decimals=2).to_pylist()
    ['¥1.50', '-¥0.05']
    """
    fen = np.asarray(fen, dtype=np.int64)
    step = 10 ** (2 - decimals)
    units = (np.abs(fen) + step // 2) // step  # whole units of 10**-decimals 元, half away
    whole, frac = units // 10**decimals, units % 10**decimals

    def text(v: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(v), pa.string())

    divs = [10**15, 10**12, 10**9, 10**6, 10**3, 1]  # thousands groups; int64 covers < 10**17
    groups = [text(whole // d if i == 0 else whole // d % 1000) for i, d in enumerate(divs)]
    out, tail = groups[-1], pc.utf8_lpad(groups[-1], width=3, padding="0")
    for i in range(len(divs) - 2, -1, -1):  # six groups, not rows
        out = pc.if_else(pa.array(whole >= divs[i]), pc.binary_join_element_wise(
            groups[i], ",", tail, ""), out)
        tail = pc.binary_join_element_wise(pc.utf8_lpad(groups[i], width=3, padding="0"), ",",
                                           tail, "")
    if decimals:
        out = pc.binary_join_element_wise(
            out, ".", pc.utf8_lpad(text(frac), width=decimals, padding="0"), "")
    prefix = pc.if_else(pa.array((fen < 0) & (units > 0)), "-¥" if symbol else "-",
                        "¥" if symbol else "")
    return pc.binary_join_element_wise(prefix, out, "")


# --------------------------------------------------------------------------- exports
#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text cell that could run as a formula written as text.

    A text cell that starts with ``= + - @``, a tab or a carriage return gets a
    leading ``'`` (OWASP's rule against CSV and formula injection), so Excel
    and WPS show ``=1+1`` instead of computing it. A carriage return inside a
    cell becomes a line feed, which the CSV writer quotes (a bare CR would end
    the row for a reader, and start a new one with what follows). Numbers,
    numbers written as text (``-250``) and dates are left as they are;
    medrisk's loader drops the ``'`` again when it reads such a file back.

    Examples
    --------
    >>> f = pd.DataFrame({"name": ["=1+1", "上海医院", "-a", "-250"], "amount": [-1.5, 2, 3, 4]})
    >>> spreadsheet_safe(f).to_dict("list")
    {'name': ["'=1+1", '上海医院', "'-a", '-250'], 'amount': [-1.5, 2.0, 3.0, 4.0]}
    """
    out = frame.copy(deep=False)
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        text = pd.Series(s, dtype="str")  # one vectorised pass; missing cells stay missing
        # a lone CR is no line end to the CSV writer, so the cell is not quoted, but a reader
        # starts a new row there (whose first cell could be a formula): make it a quoted LF
        cr = text.str.contains("\r", regex=False).fillna(False).to_numpy(dtype=bool)
        if cr.any():
            text = text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n",
                                                                         regex=False)
        starts = text.str.match(r"[=+\-@\t\n]").fillna(False).to_numpy(dtype=bool)
        # a number written as text ("-250") is no formula: only text that is not a number
        risky = starts & pd.to_numeric(text.where(starts), errors="coerce").isna().to_numpy()
        if risky.any() or cr.any():
            out[col] = s.astype(object).where(~(risky | cr), text.where(~risky, "'" + text))
    return out
