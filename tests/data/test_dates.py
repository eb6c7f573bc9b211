"""Tests for medrisk.data: dates and months, Excel serial numbers included."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cells import EMPTY_CELLS, FULL_WIDTH, assert_shape, one

from medrisk.data import parse_dates, parse_months

D0 = pd.Timestamp("2025-03-05")


class TestParseDates:
    @pytest.mark.parametrize(
        "cell",
        [
            "2025-03-05",
            "2025-3-5",
            "2025/3/5",
            "2025/03/05",
            "2025.3.5",
            "2025年3月5日",
            "2025年03月05日",
            "2025 年 3 月 5 日",
            "20250305",
            "2025-03-05 00:00:00",
            "2025-03-05T10:20:00",
            "2025-03-05 10:20",
            "2025/3/5 9:05:01",
            "2025-03-05T10:20:00+08:00",
            "2025-03-05T10:20:00.123Z",
            "２０２５年３月５日",
            "２０２５－０３－０５",
            " 2025-03-05 ",
            "45721",
            "45721.0",
            "45721.75",
            45721,
            45721.0,
            45721.5,
            20250305,
            20250305.0,
            np.int64(45721),
            dt.date(2025, 3, 5),
            dt.datetime(2025, 3, 5, 17, 45),
            pd.Timestamp("2025-03-05 08:00"),
            np.datetime64("2025-03-05T12:00"),
        ],
    )
    def test_accepted(self, cell):
        value, bad = one(parse_dates, cell)
        assert not bad
        assert value == D0

    @pytest.mark.parametrize(
        "cell",
        [
            "2025-02-30",
            "2025-13-01",
            "2025-00-10",
            "2025-04-31",
            "2023-02-29",
            "abc",
            "05/03/2025",
            "5/3/2025",
            "03/05/2025",
            "2025-3/5",
            "2025-03-05 25:00",
            "2025年13月1日",
            "20251305",
            "2025",
            2025,
            "123",
            5,
            -45721,
            "0000-00-00",
            "0001-01-01",
            "9999-12-31",
            "1899-12-31",
            80000,
            np.inf,
            "2025-03",
            "1e5",
            dt.time(10, 30),
            True,
        ],
    )
    def test_rejected(self, cell):
        value, bad = one(parse_dates, cell)
        assert bad
        assert pd.isna(value)

    def test_leap_day(self):
        assert one(parse_dates, "2024-02-29") == (pd.Timestamp("2024-02-29"), False)

    @pytest.mark.parametrize("cell", EMPTY_CELLS + [pd.NaT, pd.NA])
    def test_empty_is_na_not_bad(self, cell):
        value, bad = one(parse_dates, cell)
        assert pd.isna(value) and not bad

    @pytest.mark.parametrize(
        ("serial", "date"),
        [
            (45721, "2025-03-05"),
            (43831, "2020-01-01"),
            (36526, "2000-01-01"),
            (73050, "2099-12-31"),
            (10000, "1927-05-18"),
        ],
    )
    def test_excel_serials(self, serial, date):
        for cell in (serial, float(serial), str(serial)):
            assert one(parse_dates, cell) == (pd.Timestamp(date), False)

    def test_serial_range(self):
        assert one(parse_dates, 9999)[1]
        assert one(parse_dates, 73051)[1]

    def test_eight_digits_are_yyyymmdd_not_serials(self):
        r = parse_dates(pd.Series([20250305, 19991231, 20250230]))
        assert r.values.iloc[0] == D0
        assert r.values.iloc[1] == pd.Timestamp("1999-12-31")
        assert r.bad.tolist() == [False, False, True]

    @pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
    def test_datetime64_columns_pass_through_normalised(self, unit):
        s = pd.Series(pd.to_datetime(["2025-03-05 13:45", None, "2024-02-29 00:00"]).as_unit(unit))
        r = parse_dates(s)
        assert_shape(r, s, "datetime64[ns]")
        assert r.values.iloc[0] == D0 and pd.isna(r.values.iloc[1])
        assert not r.bad.any()

    def test_timezone_aware_keeps_wall_date(self):
        s = pd.Series(pd.to_datetime(["2025-03-05 23:30"]).tz_localize("Asia/Shanghai"))
        assert parse_dates(s).values.tolist() == [D0]

    def test_out_of_range_datetime64_is_bad(self):
        s = pd.Series(np.array(["1800-01-01", "2025-03-05"], dtype="datetime64[s]"))
        assert parse_dates(s).bad.tolist() == [True, False]

    def test_pyarrow_date_column(self):
        s = pd.Series(pd.array([dt.date(2025, 3, 5), None], dtype=pd.ArrowDtype(pa.date32())))
        r = parse_dates(s)
        assert r.values.iloc[0] == D0 and pd.isna(r.values.iloc[1]) and not r.bad.any()

    def test_mixed_excel_column(self):
        s = pd.Series(
            [
                dt.datetime(2025, 3, 5),
                "2025/3/6",
                45723,
                None,
                "bad",
                20250308,
                "",
                dt.date(2025, 3, 9),
            ],
            index=list("abcdefgh"),
            dtype=object,
        )
        r = parse_dates(s)
        assert_shape(r, s, "datetime64[ns]")
        days = [None if pd.isna(v) else v.day for v in r.values]
        assert days == [5, 6, 7, None, None, 8, None, 9]
        assert r.bad.tolist() == [False, False, False, False, True, False, False, False]

    def test_no_time_of_day(self):
        r = parse_dates(pd.Series(["2025-03-05 23:59:59", "2025-03-05T10:20:00"]))
        assert (r.values == D0).all()

    def test_expected_mentions_formats_and_day_first(self):
        e = parse_dates(pd.Series(["x"])).expected
        for part in ["2025-03-05", "2025/3/5", "2025年3月5日", "20250305", "Excel", "05/03/2025"]:
            assert part in e

    def test_empty_series(self):
        r = parse_dates(pd.Series([], dtype=object))
        assert len(r.values) == 0 and str(r.values.dtype) == "datetime64[ns]"


class TestParseMonths:
    @pytest.mark.parametrize(
        "cell",
        [
            "2025-03",
            "2025/3",
            "2025.03",
            "2025年3月",
            "２０２５年３月",
            "202503",
            202503,
            "2025-03-01",
            dt.date(2025, 3, 1),
            45717,
            "45717",
            "2025.3",
        ],
    )
    def test_accepted(self, cell):
        assert one(parse_months, cell) == (pd.Timestamp("2025-03-01"), False)

    @pytest.mark.parametrize("cell", ["2025-13", "03/2025", "202513", "2025-3/1", "abc"])
    def test_rejected(self, cell):
        assert one(parse_months, cell)[1]

    def test_full_date_is_kept(self):
        # not moved to the month start: the schema reports "not the first of a month"
        assert one(parse_months, "2025-03-15") == (pd.Timestamp("2025-03-15"), False)

    def test_dates_parser_does_not_read_months(self):
        assert one(parse_dates, "2025-03")[1]


def date_styles(d: dt.date) -> list[object]:
    y, m, day = d.year, d.month, d.day
    cells: list[object] = [
        d.isoformat(),
        f"{y}-{m}-{day}",
        f"{y}/{m}/{day}",
        f"{y}/{m:02d}/{day:02d}",
        f"{y}.{m}.{day}",
        f"{y}年{m}月{day}日",
        f"{y}年{m:02d}月{day:02d}日",
        f"{y:04d}{m:02d}{day:02d}",
        int(f"{y:04d}{m:02d}{day:02d}"),
        f"{d.isoformat()} 00:00:00",
        f"{d.isoformat()}T10:20:00",
        f"{y}年{m}月{day}日".translate(FULL_WIDTH),
        d,
        dt.datetime(y, m, day, 13, 5),
        pd.Timestamp(d),
    ]
    serial = (d - dt.date(1899, 12, 30)).days
    if 10_000 <= serial <= 73_050:
        cells += [serial, float(serial), str(serial), serial + 0.25]
    return cells


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31)))
def test_date_round_trip(d):
    cells = date_styles(d)
    for s in (pd.Series(cells, dtype=object), pd.Series([c for c in cells if isinstance(c, str)])):
        r = parse_dates(s)
        assert not r.bad.any(), [c for c, b in zip(s, r.bad, strict=True) if b]
        assert (r.values == pd.Timestamp(d)).all()


def test_dates_with_mixed_time_zones_fall_back_per_cell():
    s = pd.Series(
        [
            pd.Timestamp("2025-03-05 23:00", tz="UTC"),
            dt.datetime(2025, 3, 6),
            np.datetime64("NaT"),
            dt.datetime(2025, 3, 7, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            dt.datetime(9999, 1, 1),
        ],
        dtype=object,
    )
    r = parse_dates(s)
    assert r.values.iloc[[0, 1, 3]].dt.day.tolist() == [5, 6, 7]  # wall-clock dates
    assert pd.isna(r.values.iloc[2]) and pd.isna(r.values.iloc[4])
    assert r.bad.tolist() == [False, False, False, False, True]
