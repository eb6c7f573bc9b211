"""Dates and months as exports write them, Excel serial numbers included.

:func:`parse_dates` reads year-first text (``2025-03-05``, ``2025/3/5``,
``2025.3.5``, ``2025年3月5日``, ``20250305``, with or without a time of day),
datetime columns and objects, and Excel serial numbers (epoch 1899-12-30, within
:data:`EXCEL_SERIAL_RANGE`); :func:`parse_months` reads months (``2025-03``,
``2025年3月``, ``202503``) as well. Day-first and month-first dates are not read:
they are ambiguous, unless the caller says how its dates are written: ``dayfirst=True``
reads ``26/04/2011`` as well, and ``date_format="%d-%b-%y"`` reads text in exactly
that strptime form and nothing else (a mapping file declares these per table or
column). Values are held as int64 days since 1970-01-01 until the end, and only days
in 1900-01-01..2199-12-31 are accepted. Cells are split and tidied by
:mod:`medrisk.data`; :func:`medrisk.data.parse_column` uses these parsers for
date and month columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from medrisk.data._cells import (
    _DT,
    _LSTR,
    _NUM,
    _STR,
    Parsed,
    _check_series,
    _clean,
    _digits,
    _np,
    _null_mask,
    _run,
)

__all__ = [
    "parse_dates",
    "parse_months",
    "date_format_problem",
]

EXPECTED_DATE = (
    "a date such as 2025-03-05, 2025/3/5, 2025.3.5, 2025年3月5日, 20250305 or an Excel "
    "date (year first: day-first or month-first dates such as 05/03/2025 are not read, "
    "as they are ambiguous)"
)
EXPECTED_MONTH = (
    "a month such as 2025-03, 2025/3, 2025年3月 or 202503, or a date such as 2025-03-01 "
    "(year first: 03/2025 is not read)"
)
EXPECTED_DATE_DAYFIRST = (
    "a date such as 26/04/2011, 26-4-2011 or 26.04.2011 (day first, as declared), or "
    "year first such as 2011-04-26, 2011年4月26日, 20110426, or an Excel date"
)
#: The day the examples of a declared format show (``26-Apr-11`` for ``%d-%b-%y``).
_EXAMPLE_DAY = pd.Timestamp(2011, 4, 26)

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
_DAYFIRST_ALT = (
    rf"(?P<dd>\d{{1,2}})\s*(?P<e>[-/.])\s*(?P<dm>\d{{1,2}})\s*(?P<f>[-/.])\s*(?P<dy>\d{{4}})"
    rf"{_TIME}"
)
_SERIAL_ALT = r"(?P<ser>\d{1,5})(?:\.\d+)?"
_MONTH_ALTS = (
    r"(?P<ym>\d{4})\s*(?P<c>[-/.年])\s*(?P<mm>\d{1,2})\s*月?",
    r"(?P<y6>\d{4})(?P<m6>\d\d)",
)
# RE2 prefers the first alternative that matches: months ('2025.03') before serials.
_DATE_PATTERN = "^(?:" + "|".join((*_DATE_ALTS, _SERIAL_ALT)) + ")$"
_DATE_MONTH_PATTERN = "^(?:" + "|".join((*_DATE_ALTS, *_MONTH_ALTS, _SERIAL_ALT)) + ")$"
_DATE_DAYFIRST_PATTERN = "^(?:" + "|".join((*_DATE_ALTS, _DAYFIRST_ALT, _SERIAL_ALT)) + ")$"
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


def _dates_from_str(arr: pa.Array, months: bool = False,
                    dayfirst: bool = False) -> tuple[np.ndarray, ...]:
    t = _clean(arr)
    na = _null_mask(t)
    ts = _iso_cast(t)
    if ts is not None:  # fast path: ISO 8601 text (YYYY-MM-DD, optionally with a time)
        secs = _np(pc.fill_null(pc.cast(ts, pa.int64()), 0))
        days = np.floor_divide(secs, 86_400)
        ok = _days_in_range(days)
        return np.where(ok, days, 0), na, ~na & ~ok
    pattern = _DATE_MONTH_PATTERN if months else _DATE_PATTERN
    st = pc.extract_regex(t, _DATE_DAYFIRST_PATTERN if dayfirst else pattern)
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
    if dayfirst:  # 26/04/2011: day, month, four-digit year, one separator twice
        dy = field("dy")
        sep_d = pc.binary_join_element_wise(field("e"), field("f"), pa.scalar("", _LSTR))
        sep_d_ok = _np(pc.fill_null(pc.is_in(sep_d, value_set=_SEPARATOR_PAIRS), False))
        ddays, dok = _ymd_to_days(_digits(dy), _digits(field("dm")), _digits(field("dd")))
        dok &= nonempty(dy) & sep_d_ok
        days = np.where(dok, ddays, days)
        ok |= dok
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


def date_format_problem(date_format: Any) -> str | None:
    """Say what is wrong with a declared strptime date format, or None when it is usable.

    A usable format is text that writes and reads back a whole calendar date
    (day, month and year), with no time zone: ``'%d-%b-%y'``, ``'%d/%m/%Y'``,
    ``'%Y%m%d'``; ``'%d-%m'`` (no year) or ``'%Y-%m-%d %z'`` are not.

    Parameters
    ----------
    date_format : object
        The format as declared.

    Returns
    -------
    str or None
        The problem in words (for an error message naming where it was declared).

    Examples
    --------
    >>> date_format_problem("%d-%b-%y") is None
    True
    >>> print(date_format_problem("%d-%m"))  # doctest: +NORMALIZE_WHITESPACE
    '%d-%m' does not write a whole date (day, month and year): 26 April 2011 reads
    back as 1900-04-26
    """
    if not isinstance(date_format, str) or not date_format.strip():
        return (f"must be a strptime format such as '%d-%b-%y' (for 26-Apr-11); "
                f"got {type(date_format).__name__} {date_format!r}")
    if "%z" in date_format or "%Z" in date_format:
        return f"{date_format!r} has a time zone (%z, %Z); dates are read as calendar dates"
    try:
        text = _EXAMPLE_DAY.strftime(date_format)
        back = pd.to_datetime(pd.Series([text]), format=date_format).iloc[0]
    except (ValueError, TypeError) as exc:
        return f"{date_format!r} is not a strptime format ({exc})"
    if back.normalize() != _EXAMPLE_DAY:
        return (f"{date_format!r} does not write a whole date (day, month and year): "
                f"26 April 2011 reads back as {back:%Y-%m-%d}")
    return None


def _format_expected(date_format: str) -> str:
    example = _EXAMPLE_DAY.strftime(date_format)
    return (f"a date in the declared format {date_format!r}, such as {example!r} "
            "(or an Excel date cell)")


def _dates_from_format(arr: pa.Array, date_format: str) -> tuple[np.ndarray, ...]:
    """Text in exactly one strptime format to days (one vectorised ``to_datetime``)."""
    t = _clean(arr)
    na = _null_mask(t)
    text = pd.Series(t.to_numpy(zero_copy_only=False), dtype=object)
    v = pd.to_datetime(text, format=date_format, errors="coerce").to_numpy()
    nat = np.isnat(v)
    days = np.where(nat, 0, v.astype("datetime64[D]").astype(np.int64))
    ok = ~nat & _days_in_range(days)
    return np.where(ok, days, 0), na, ~na & ~ok


def parse_dates(s: pd.Series, date_format: str | None = None, dayfirst: bool = False) -> Parsed:
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
    first and ``05/03`` is ambiguous, so medrisk does not guess. Say how the dates
    are written to read them: ``dayfirst=True`` reads ``'26/04/2011'``,
    ``'26-4-2011'`` and ``'26.04.2011'`` (four-digit year) besides the forms above;
    ``date_format`` reads text in that one strptime form only (``'%d-%b-%y'`` for
    ``'26-Apr-11'``, ``'%d/%m/%Y'`` for ``'26/04/2011'``), so that a cell written
    otherwise is bad, with the format in the reason. ``%y`` reads 00-68 as 2000-2068
    and 69-99 as 1969-1999; ``%b`` month names are English (Jan, apr, APR). Date cells
    and numbers are read as above either way.

    Parameters
    ----------
    s : pandas.Series
        Cells as read.
    date_format : str, default=None
        The strptime format the text cells are written in.
    dayfirst : bool, default=False
        Read day-first text such as ``'26/04/2011'`` as well. Not with ``date_format``
        (a format already says where the day is).

    Returns
    -------
    Parsed
        ``values`` of dtype ``datetime64[ns]``, normalised to midnight.

    Raises
    ------
    ValueError
        When ``date_format`` does not write a whole date, or comes with ``dayfirst``.

    Examples
    --------
    >>> import pandas as pd
    >>> parse_dates(pd.Series(["2025年3月5日", 45721, "05/03/2025"])).values.tolist()
    [Timestamp('2025-03-05 00:00:00'), Timestamp('2025-03-05 00:00:00'), NaT]
    >>> r = parse_dates(pd.Series(["26-Apr-11", "2011-04-26"]), date_format="%d-%b-%y")
    >>> r.values.tolist(), r.bad.tolist()
    ([Timestamp('2011-04-26 00:00:00'), NaT], [False, True])
    """
    s = _check_series(s, "parse_dates")
    if date_format is not None:
        problem = date_format_problem(date_format)
        if problem:
            raise ValueError(f"date_format {problem}.")
        if dayfirst:
            raise ValueError(f"Give date_format={date_format!r} or dayfirst=True, not both: "
                             "a format already says where the day is.")
    if not isinstance(dayfirst, bool | np.bool_):
        raise ValueError(f"dayfirst must be True or False; got {dayfirst!r}.")
    if date_format is not None:
        text_handler = lambda a: _dates_from_format(a, date_format)  # noqa: E731
        expected = _format_expected(date_format)
    elif dayfirst:
        text_handler = lambda a: _dates_from_str(a, dayfirst=True)  # noqa: E731
        expected = EXPECTED_DATE_DAYFIRST
    else:
        text_handler, expected = _dates_from_str, EXPECTED_DATE
    days, na, bad = _run(
        s,
        {_STR: text_handler, _NUM: _dates_from_num, _DT: _dates_from_datetimes},
        np.int64,
    )
    return Parsed(_days_to_series(days, na | bad, s.index), bad, expected)


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

