"""Event streams: point-in-time running sums per group, answered by binary search.

A stream holds events ``(group, day, values)`` (a customer's invoices,
payments, actions ...) sorted once by ``(group, day)`` with running sums of
integer values; the sum of a group's events on or before any day is then one
``np.searchsorted`` for any number of queries. The features of
:mod:`medrisk.credit` and the exposure of :mod:`medrisk.credit` are
built from them: a figure as of a day never sees an event dated after it.
"""

from __future__ import annotations

import numpy as np

from medrisk import kernel

__all__ = ["Stream", "Streams", "group_sort", "running_max_before"]


def group_sort(group: np.ndarray, key: np.ndarray, n_groups: int) -> np.ndarray:
    """Stable argsort of ``key`` (= group x span + day) in two passes.

    First by group alone (a radix sort when the groups fit in 16 bits), then by
    the whole key: the second sort meets runs already in group order (and
    mostly in day order, as ledgers come), which timsort merges several times
    faster than one sort of the raw keys. Both passes are stable, so events of
    the same day keep their input order (the "last five" features rely on it).
    """
    narrow = np.uint16 if n_groups <= np.iinfo(np.uint16).max else np.int64
    by_group = np.argsort(group.astype(narrow, copy=False), kind="stable")
    return by_group[np.argsort(key[by_group], kind="stable")]


class Stream:
    """Running sums of integer values over events sorted by ``(group, day)``.

    ``at(group, day)`` sums the values of the group's events dated on or
    before ``day``: one ``searchsorted`` for any number of queries. Values are
    int64 (fen, counts, days, or fixed-point logs, see :data:`_FIXED`), so the
    sums are exact and a group's figures never depend on other groups' events.
    """

    def __init__(
        self,
        group: np.ndarray,
        day: np.ndarray,
        values: np.ndarray,
        n_groups: int,
        base: int,
        span: int,
    ):
        values = np.asarray(values)
        if values.dtype.kind == "f":
            values = np.rint(values)
        values = values.astype(np.int64, copy=False)
        if values.ndim == 1:
            values = values[:, None]
        keep = (group >= 0) & (day < kernel.NEVER)
        if not keep.all():
            group, day, values = group[keep], day[keep], values[keep]
        key = group.astype(np.int64) * span + np.clip(day - base, 0, span - 1)
        order = group_sort(group, key, n_groups)
        self.key = key[order]
        self.values = values[order]
        self.cum = np.zeros((len(key) + 1, values.shape[1]), np.int64)
        np.cumsum(self.values, axis=0, out=self.cum[1:])
        self.gstart = np.searchsorted(self.key, np.arange(n_groups + 1, dtype=np.int64) * span)
        self.base, self.span = base, span

    def index(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Position after the group's last event on or before ``day``."""
        rel = np.clip(np.asarray(day, dtype=np.int64) - self.base, -1, self.span - 1)
        idx = np.searchsorted(self.key, group * self.span + rel, side="right")
        return np.maximum(idx, self.gstart[group])

    def at(self, group: np.ndarray, day: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Sum every value column as of ``day`` (float, shape ``(len(group), k)``).

        ``idx``, if given, is ``index(group, day)`` already computed.
        """
        idx = self.index(group, day) if idx is None else idx
        return (self.cum[idx] - self.cum[self.gstart[group]]).astype(np.float64)


class Streams:
    """Several narrow streams summed into the columns of one answer.

    Each part is ``(stream, dest)``: column ``j`` of the part's values adds to
    output column ``dest[j]``. Narrow parts move far less memory than one wide
    stream padded with zeros.
    """

    def __init__(self, k: int, parts: list[tuple[Stream, list[int]]]):
        self.k = k
        self.parts = parts

    def at(self, group: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Sum every output column as of ``day``."""
        out = np.zeros((len(group), self.k))
        for stream, dest in self.parts:
            vals = stream.at(group, day)
            for j, d in enumerate(dest):
                out[:, d] += vals[:, j]
        return out


def running_max_before(
    stream: Stream, group: np.ndarray, day: np.ndarray, col: int = 0,
    idx: np.ndarray | None = None,
) -> np.ndarray:
    """Take the maximum of column ``col`` over the events on or before ``day`` (NaN if none).

    ``idx``, if given, is ``stream.index(group, day)`` already computed.
    """
    vals = stream.values[:, col]
    lo = float(vals.min(initial=0.0))
    width = float(vals.max(initial=0.0)) - lo + 1.0
    grp = np.searchsorted(stream.gstart, np.arange(len(stream.key)), side="right") - 1
    pm = np.maximum.accumulate(grp * width + (vals - lo)) if len(vals) else vals
    idx = (stream.index(group, day) if idx is None else idx) - 1
    has = idx >= stream.gstart[group]
    out = np.full(len(group), np.nan)
    out[has] = pm[idx[has]] - group[has] * width + lo
    return out
