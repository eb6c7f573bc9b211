"""Dates and months as exports write them, Excel serial numbers included.

:func:`parse_dates` reads year-first text (``2025-03-05``, ``2025/3/5``,
``2025.3.5``, ``2025年3月5日``, ``20250305``, with or without a time of day),
datetime columns and objects, and Excel serial numbers (epoch 1899-12-30, within
:data:`EXCEL_SERIAL_RANGE`); :func:`parse_months` reads months (``2025-03``,
``2025年3月``, ``202503``) as well. Day-first and month-first dates are not read:
they are ambiguous. Values are held as int64 days since 1970-01-01 until the end,
and only days in 1900-01-01..2199-12-31 are accepted. Cells are split and tidied by
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

