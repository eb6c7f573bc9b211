"""Benchmark of order-to-cash stages and batch recalls on the demo company.

Run: ``.venv/bin/python benchmarks/bench_orders.py [--invoices 1000000] [--recalls 20]``

Builds ``medrisk.data.demo.make_ledger(n_invoices)``, then times:

* the receivables event table (cash application), built once per ledger;
* ``orders.order_stages`` cold (first call: per-order preparation) and warm,
  at the extract date and at a date a year earlier; ``order_funnel`` by channel;
* ``trace.prepare_trace`` (the per-ledger index, once);
* ``trace.recall_report`` for ``--recalls`` random lists of 1-10 batches
  (median and max; the target is under one second each).

It checks that every unit shipped from the recalled batches is traced to a customer.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from medrisk import orders as O
from medrisk import receivables as R
from medrisk import supply as T
from medrisk.data.demo import make_ledger


def _timed(label: str, fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    dt = time.perf_counter() - t0
    print(f"{label:<48} {dt:8.3f} s")
    return out, dt


def main() -> None:
    """Run the benchmark and print the timings."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--recalls", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    led, _ = _timed(f"make_ledger({args.invoices:,})", make_ledger, args.invoices, args.seed)
    print(led)
    end = led.shipments["ship_date"].max()
    earlier = end - pd.DateOffset(years=1)
    _timed("receivables.prepare (cash application, events)", R.prepare, led)
    st, _ = _timed("order_stages cold (as of extract date)", O.order_stages, led, end)
    _timed("order_stages warm (as of extract date)", O.order_stages, led, end)
    _timed("order_stages warm (a year earlier)", O.order_stages, led, earlier)
    _timed("order_funnel by channel", O.order_funnel, led, end, by="channel")
    _timed("cycle_times by channel", O.cycle_times, led, end, by="channel")
    print(st["stage"].value_counts().to_string())

    _timed("trace.prepare_trace (index, once per ledger)", T.prepare_trace, led)
    rng = np.random.default_rng(args.seed)
    ids = led.batches["batch_id"].to_numpy(dtype=object)
    times = []
    for _ in range(args.recalls):
        pick = rng.choice(ids, size=int(rng.integers(1, 11)), replace=False).tolist()
        t0 = time.perf_counter()
        r = T.recall_report(led, pick, end)
        times.append(time.perf_counter() - t0)
        want = led.shipments.loc[led.shipments["batch_id"].isin(pick), "quantity"].sum()
        assert r.customers["quantity"].sum() == want, "recall lost units"
    times = np.asarray(times)
    print(
        f"{'recall_report (1-10 batches) median / max':<48} "
        f"{np.median(times):8.3f} / {times.max():.3f} s"
    )
    print(
        f"last recall: {len(r.customers)} customers, {r.customers['quantity'].sum():,} units, "
        f"open at risk {r.open_at_risk / 100:,.2f} 元"
    )


if __name__ == "__main__":
    main()
