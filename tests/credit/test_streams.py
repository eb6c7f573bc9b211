"""Event streams: running sums per group as of any day, checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from medrisk.credit import Stream, Streams, group_sort, running_max_before
from medrisk.kernel import NEVER as _NEVER


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(4)
    n = 3_000
    group = rng.integers(0, 40, n)
    day = rng.integers(100, 400, n)
    values = np.column_stack([rng.integers(-500, 500, n), rng.integers(0, 3, n)])
    return group, day, values


def brute(group, day, values, g, d):
    rows = [values[(group == gi) & (day <= di)].sum(axis=0) for gi, di in zip(g, d, strict=True)]
    return np.array(rows)


@pytest.mark.parametrize("n_groups", [40, 70_000])  # radix pass (16-bit) and the wide fallback
def test_group_sort_is_a_stable_sort_of_the_key(events, n_groups):
    group, day, _ = events
    key = group * 1_000 + day
    order = group_sort(group, key, n_groups)
    np.testing.assert_array_equal(order, np.argsort(key, kind="stable"))


def test_sums_as_of_any_day_equal_brute_force(events):
    group, day, values = events
    s = Stream(group, day, values, 41, base=0, span=1_000)
    rng = np.random.default_rng(5)
    g, d = rng.integers(0, 41, 500), rng.integers(50, 450, 500)  # group 40 has no events
    np.testing.assert_array_equal(s.at(g, d), brute(group, day, values, g, d))
    np.testing.assert_array_equal(s.at(g, d, s.index(g, d)), s.at(g, d))


def test_events_never_dated_are_left_out(events):
    group, day, values = events
    never = day.copy()
    never[::2] = _NEVER
    s = Stream(group, never, values, 41, base=0, span=1_000)
    g, d = np.arange(40), np.full(40, 10**6)
    np.testing.assert_array_equal(s.at(g, d), brute(group[1::2], day[1::2], values[1::2], g, d))


def test_several_streams_add_into_columns_and_running_max(events):
    group, day, values = events
    a = Stream(group, day, values[:, 0], 41, 0, 1_000)
    b = Stream(group, day + 5, values[:, 1], 41, 0, 1_000)
    both = Streams(3, [(a, [0]), (b, [2])])
    g, d = np.arange(40), np.full(40, 250)
    out = both.at(g, d)
    np.testing.assert_array_equal(out[:, 0], brute(group, day, values[:, :1], g, d)[:, 0])
    np.testing.assert_array_equal(out[:, 1], 0)
    np.testing.assert_array_equal(out[:, 2], brute(group, day + 5, values[:, 1:], g, d)[:, 0])
    worst = running_max_before(a, g, d)
    expect = [values[(group == gi) & (day <= 250), 0].max(initial=-10**9) for gi in g]
    np.testing.assert_array_equal(worst, np.where(np.array(expect) == -10**9, np.nan, expect))
