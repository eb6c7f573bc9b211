"""Tests for medrisk.data: cells split by kind, tidied text, and the Parsed contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from medrisk.data import NULL_WORDS, Parsed, normalize_text, parse_str

FULL_WIDTH = str.maketrans("0123456789,.-%()", "０１２３４５６７８９，．－％（）")
EMPTY_CELLS = [None, np.nan, "", "   ", "\u3000", "\u00a0", *NULL_WORDS]


def one(parser, cell, **kw):
    """Parse a single cell; return (value, bad)."""
    r = parser(pd.Series([cell], dtype=object), **kw)
    return r.values.iloc[0], bool(r.bad[0])


def assert_shape(r: Parsed, s: pd.Series, dtype: str) -> None:
    assert isinstance(r, Parsed)
    assert r.values.index.equals(s.index)
    assert str(r.values.dtype) == dtype
    assert isinstance(r.bad, np.ndarray) and r.bad.dtype == bool and len(r.bad) == len(s)
    assert isinstance(r.expected, str) and r.expected


# ------------------------------------------------------------------------------ text


class TestNormalizeText:
    def test_full_width_and_spaces(self):
        s = pd.Series(["\u3000ＡＢＣ－１２３ ", "\u00a0北京协和医院\u00a0", "ｘ　ｙ", "a\u200bb"])
        assert normalize_text(s).tolist() == ["ABC-123", "北京协和医院", "x y", "ab"]

    def test_returns_str_dtype_and_keeps_index(self):
        s = pd.Series([" a ", None], index=[10, 20])
        out = normalize_text(s)
        assert out.dtype == "str"
        assert list(out.index) == [10, 20]
        assert out.iloc[0] == "a" and pd.isna(out.iloc[1])

    @pytest.mark.parametrize("cell", EMPTY_CELLS)
    def test_null_words_are_na(self, cell):
        assert pd.isna(normalize_text(pd.Series([cell, "x"], dtype=object)).iloc[0])

    @pytest.mark.parametrize("word", ["none", "NONE", "Null", "n/a", "ＮＵＬＬ", "＃Ｎ／Ａ"])
    def test_null_word_variants(self, word):
        assert pd.isna(normalize_text(pd.Series([word])).iloc[0])

    def test_ordinary_text_is_kept(self):
        s = pd.Series(["上海 第一 人民医院", "Nanjing", "无锡医院", "N/A-1"])
        assert normalize_text(s).tolist() == ["上海 第一 人民医院", "Nanjing", "无锡医院", "N/A-1"]

    def test_excel_text_formula(self):
        assert normalize_text(pd.Series(['="00123"'])).tolist() == ["00123"]

    def test_non_text_cells(self):
        s = pd.Series([12345.0, 12, 12.5, dt.date(2025, 3, 5), True, np.nan], dtype=object)
        out = normalize_text(s)
        assert out.iloc[:5].tolist() == ["12345", "12", "12.5", "2025-03-05", "True"]
        assert pd.isna(out.iloc[5])

    def test_rejects_non_series(self):
        with pytest.raises(TypeError, match="takes a pandas Series"):
            normalize_text("abc")


class TestParseStr:
    def test_ids_from_excel_floats(self):
        r = parse_str(pd.Series([12345.0, 7.0, 12.5, None]))
        assert r.values.iloc[:3].tolist() == ["12345", "7", "12.5"]
        assert pd.isna(r.values.iloc[3])

    def test_never_bad(self):
        s = pd.Series(["abc", 1, dt.datetime(2025, 1, 1, 10, 30), object()], dtype=object)
        r = parse_str(s)
        assert_shape(r, s, "str")
        assert not r.bad.any()
        assert r.values.iloc[2] == "2025-01-01 10:30:00"

    def test_numeric_text_is_not_rewritten(self):
        # text is kept as written: '00123' and '12345.0' in a CSV stay as they are
        assert parse_str(pd.Series(["00123", "12345.0"])).values.tolist() == ["00123", "12345.0"]
