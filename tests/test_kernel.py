"""The shared kernel: day arithmetic, position lookups, choices and the one money formatter."""

from __future__ import annotations

import pandas as pd
import pytest

from medrisk import kernel
from medrisk.exceptions import ParamsError


def test_positions_first_key_wins_and_missing_is_minus_one():
    keys = pd.Series(["a", None, "b", "a", "c"], dtype="str")
    values = pd.Series(["c", "a", None, "b", "z"], dtype="str")
    assert kernel.positions(values, keys).tolist() == [4, 0, -1, 2, -1]
    assert kernel.positions(pd.Series([], dtype="str"), keys).tolist() == []


def test_days_round_trip_and_missing_dates_are_never():
    s = pd.Series(pd.to_datetime(["2025-12-31", None, "1970-01-01"]))
    d = kernel.days(s)
    assert d.tolist() == [kernel.day_of("2025-12-31"), int(kernel.NEVER), 0]
    assert kernel.NEVER > kernel.day_of("2262-04-11")  # later than any pandas date
    back = kernel.to_ts(d[[0, 2]])
    assert pd.DatetimeIndex(back).equals(pd.DatetimeIndex(s[[0, 2]]))


@pytest.mark.parametrize("bad", ["2025-13-01", "", None, "next week"])
def test_day_of_names_the_parameter_and_the_value(bad):
    with pytest.raises(ParamsError, match=r"cutoff must be a date such as '2025-12-31'; got"):
        kernel.day_of(bad, "cutoff")


def test_check_choice_and_as_list():
    assert kernel.check_choice("basis", "due_date", ("due_date",)) == "due_date"
    with pytest.raises(ParamsError, match=r"basis='x' is not supported. Possible values are: "
                                          r"\['due_date'\]"):
        kernel.check_choice("basis", "x", ("due_date",))
    assert kernel.as_list(None) == [] and kernel.as_list("region") == ["region"]
    assert kernel.as_list(("a", "b")) == ["a", "b"]
    with pytest.raises(ParamsError, match="by must be None"):
        kernel.as_list(3)


# -- money: one formatter, half away from zero, exact ------------------------------------
@pytest.mark.parametrize("fen, whole, cents", [
    (250, "¥3", "¥2.50"),            # half a yuan rounds away from zero (i18n printed ¥2)
    (249, "¥2", "¥2.49"),
    (-250, "-¥3", "-¥2.50"),
    (350, "¥4", "¥3.50"),            # not to even: ¥4, not ¥4 by luck of banker's rounding
    (450, "¥5", "¥4.50"),            # banker's rounding would give ¥4
    (-49, "¥0", "-¥0.49"),           # no "-¥0"
    (0, "¥0", "¥0.00"),
    (123_456_789, "¥1,234,568", "¥1,234,567.89"),
    (10**16 + 50, "¥100,000,000,000,001", "¥100,000,000,000,000.50"),  # beyond float's 2**53
])
def test_yuan_rounds_half_away_from_zero_exactly(fen, whole, cents):
    assert kernel.yuan(fen) == whole
    assert kernel.yuan(fen, decimals=2) == cents
    assert kernel.yuan_array([fen]).to_pylist() == [whole]
    assert kernel.yuan_array([fen], decimals=2).to_pylist() == [cents]


@pytest.mark.parametrize("fen, text", [
    (12.5, "¥0.13"), (-12.5, "-¥0.13"), (12.4999, "¥0.12"),  # half a fen (a forecast in fen)
    (1234.5, "¥12.35"), (0.5, "¥0.01"),
])
def test_half_a_fen_rounds_away_from_zero(fen, text):
    assert kernel.yuan(fen, decimals=2) == text


@pytest.mark.parametrize("fen, text", [
    (1_050_000, "1.1万"), (1_150_000, "1.2万"), (1_250_000, "1.3万"),  # 0.05万 boundaries
    (-1_250_000, "-1.3万"), (1_249_999, "1.2万"), (12_345_678_900, "12,345.7万"),
    (40_000, "0.0万"), (-40_000, "0.0万"),
])
def test_wan_rounds_half_away_from_zero(fen, text):
    assert kernel.wan(fen) == text


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA])
def test_missing_money_is_a_dash(missing):
    assert kernel.yuan(missing) == "—" and kernel.wan(missing) == "—"


def test_money_without_symbol_and_bad_input():
    assert kernel.yuan(99_950, symbol=False) == "1,000"
    assert kernel.yuan_array([-150, 150], decimals=2, symbol=False).to_pylist() == ["-1.50",
                                                                                   "1.50"]
    with pytest.raises(ParamsError, match="money must be a number of fen; got 'x'"):
        kernel.yuan("x")


def test_yuan_array_agrees_with_yuan_on_many_values():
    rng = pd.Series(range(-20_000, 20_000, 7)).to_numpy() * 13
    for decimals in (0, 1, 2):
        got = kernel.yuan_array(rng, decimals=decimals).to_pylist()
        assert got == [kernel.yuan(int(v), decimals=decimals) for v in rng]
