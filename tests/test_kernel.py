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
