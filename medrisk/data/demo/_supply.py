"""Batches and shipments of the demo company, first expiry first out.

Private to :mod:`medrisk.data.demo`.

How the stock is made, per SKU, without a loop over rows:

1. The shipped order lines of a SKU are put in shipping order (ship date,
   order, line) and cut into production windows of ``min(90, shelf_life / 3)``
   days. Each window is covered by one batch, made 7-45 days before the
   window's first shipment (production dates are kept non-decreasing, so with
   one shelf life per SKU, earlier made = earlier expiring).
2. A batch holds exactly its window's demand, plus ``delta`` units that the
   first line of the next window takes before switching to the next batch: that
   line ships as two rows from two batches. A batch is never shipped after it
   expires (window plus lead time are at most half the shelf life; a split
   only happens when the next window starts 30+ days before expiry).
3. Consumption in shipping order then takes batches strictly in expiry order,
   and an older batch is empty before a newer one is touched: that is FEFO,
   over the company's whole stock of the SKU (the warehouse is a label).
4. The last batch of each SKU keeps unsold stock (discontinued SKUs, see
   :func:`medrisk.data.demo.products`, leave theirs near or past expiry);
   some SKUs get an extra released batch made late, and a few batches are
   quarantined or rejected and never shipped.
"""

from __future__ import annotations

import numpy as np

from medrisk.data.demo._base import WAREHOUSE_SHARE, Calendar, sort_order
from medrisk.data.demo._sales import choose_from

_BIG = np.int64(1 << 24)  # larger than any day number: keeps SKUs apart in running maxima


def batches_and_shipments(rng: np.random.Generator, lines: dict, ords: dict, prod: dict,
                          cal: Calendar) -> tuple[dict, dict]:
    """Batches that cover every shipment, and the shipment rows that draw on them.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random stream.
    lines : dict
        Order lines from :func:`medrisk.data.demo.order_lines`.
    ords : dict
        Orders from :func:`medrisk.data.demo.orders` (``ship_day`` -1 when not shipped).
    prod : dict
        Products from :func:`medrisk.data.demo.products`.
    cal : Calendar
        The demo calendar.

    Returns
    -------
    batches : dict
        In batch-id order: ``sku``, ``production``, ``expiry``, ``quantity``,
        ``warehouse`` (code), ``qc`` (0 released, 1 quarantined, 2 rejected).
    shipments : dict
        In shipment-id order: ``order``, ``line_no``, ``sku``, ``ship_day``, ``batch``
        (position in the batch table), ``quantity``.
    """
    ship_of_line = ords["ship_day"][lines["order"]]
    idx = np.flatnonzero(ship_of_line >= 0)
    s, t = lines["sku"][idx], ship_of_line[idx].astype(np.int64)
    o, ln, q = lines["order"][idx], lines["line_no"][idx], lines["qty"][idx]
    perm = sort_order(s, t, o, ln)
    s, t, o, ln, q = s[perm], t[perm], o[perm], ln[perm], q[perm]
    n = len(s)
    shelf = prod["shelf_life"]
    window_len = np.minimum(90, shelf // 3)
    phase = np.floor(rng.random(len(shelf)) * window_len).astype(np.int64)
    window = (t - cal.start + phase[s]) // window_len[s]

    # groups = (sku, window) runs in shipping order; one batch per group
    new = np.ones(n, dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (window[1:] != window[:-1])
    first = np.flatnonzero(new)
    g_of_row = np.cumsum(new) - 1
    n_groups = len(first)
    g_sku = s[first]
    lead_max = np.minimum(45, shelf // 6)[g_sku]
    lead = 7 + np.floor(rng.random(n_groups) * (lead_max - 6)).astype(np.int64)
    made = np.maximum.accumulate(t[first] - lead + g_sku * _BIG) - g_sku * _BIG
    expiry = made + shelf[g_sku]
    has_next = np.zeros(n_groups, dtype=bool)
    has_next[:-1] = g_sku[1:] == g_sku[:-1]
    nxt = np.minimum(np.arange(n_groups) + 1, n_groups - 1)
    q_next, t_next = q[first[nxt]], t[first[nxt]]
    split = has_next & (q_next >= 2) & (t_next <= expiry - 30) & (rng.random(n_groups) < 0.5)
    delta = np.where(split, 1 + np.floor(rng.random(n_groups) * (q_next - 1)).astype(np.int64), 0)
    delta_in = np.zeros(n_groups, dtype=np.int64)  # units of group g's first line from batch g-1
    delta_in[1:] = delta[:-1]
    demand = np.add.reduceat(q, first) if n else np.zeros(0, dtype=np.int64)
    size = demand - delta_in + delta
    is_last = ~has_next
    size = size + np.where(is_last, np.ceil(size * (0.1 + 0.7 * rng.random(n_groups))), 0).astype(
        np.int64)

    # shipment rows: each line once, split first lines twice
    split_row = new & (delta_in[g_of_row] > 0)
    reps = 1 + split_row
    row = np.repeat(np.arange(n), reps)
    part = np.arange(len(row)) - np.repeat(np.cumsum(reps) - reps, reps)
    g = g_of_row[row]
    first_part = split_row[row] & (part == 0)
    sh_batch = np.where(first_part, g - 1, g)
    sh_qty = np.where(first_part, delta_in[g],
                      np.where(split_row[row], q[row] - delta_in[g], q[row]))

    # extra batches: unsold late batches, SKUs never sold, quarantined / rejected lots
    n_sku = len(shelf)
    last_made = np.full(n_sku, cal.start - 400, dtype=np.int64)
    last_made[g_sku[is_last]] = made[is_last]
    typical = np.maximum(1, np.round(np.bincount(g_sku, demand, minlength=n_sku)
                                     / np.maximum(np.bincount(g_sku, minlength=n_sku), 1)))
    sold = np.bincount(g_sku, minlength=n_sku) > 0
    late_sku = np.flatnonzero(~sold | ((rng.random(n_sku) < 0.2) & (prod["category"] > 0)))
    near = cal.end - shelf[late_sku] + rng.integers(20, 91, len(late_sku))
    late_made = np.minimum(np.maximum(last_made[late_sku], near), cal.end - 1)
    late_qty = np.maximum(1, np.round(typical[late_sku] * (0.3 + rng.random(len(late_sku)))))
    late_qty = late_qty.astype(np.int64)
    n_bad = max(2, int(round(0.03 * n_groups)))
    bad_sku = choose_from(rng, np.ones(n_sku), n_bad)
    bad_made = rng.integers(cal.start, cal.end, n_bad)
    bad_qty = np.maximum(1, np.round(typical[bad_sku] * (0.5 + rng.random(n_bad)))).astype(np.int64)

    b_sku = np.concatenate([g_sku, late_sku, bad_sku])
    b_made = np.concatenate([made, late_made, bad_made])
    b_qty = np.concatenate([size, late_qty, bad_qty])
    b_qc = np.concatenate([np.zeros(n_groups + len(late_sku), dtype=np.int64),
                           1 + (rng.random(n_bad) < 0.4)])
    seq = np.arange(len(b_sku))  # groups first, in consumption order, then extras
    order = sort_order(b_made, b_sku, seq)
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    batches = {
        "sku": b_sku[order], "production": b_made[order],
        "expiry": b_made[order] + shelf[b_sku[order]], "quantity": b_qty[order],
        "warehouse": choose_from(rng, WAREHOUSE_SHARE, len(order)), "qc": b_qc[order],
    }
    sh_order = sort_order(t[row], o[row], ln[row], part)
    shipments = {
        "order": o[row][sh_order], "line_no": ln[row][sh_order], "sku": s[row][sh_order],
        "ship_day": t[row][sh_order], "batch": position[sh_batch[sh_order]],
        "quantity": sh_qty[sh_order],
    }
    return batches, shipments
