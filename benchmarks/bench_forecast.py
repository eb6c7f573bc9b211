"""Benchmark of the sales forecast on a large demo company.

Run: ``.venv/bin/python benchmarks/bench_forecast.py [--invoices 1000000] [--seed 0]
[--by region,category] [--h 12] [--windows 6]``

Builds the demo company (``medrisk.data.demo.make_ledger``), then times:

* ``monthly_sales`` by the grouping (region x category by default: the invoice
  amounts split over their order lines' product categories);
* ``forecast_sales`` for every group and the bottom-up total, 80% and 95% intervals;
* ``backtest_sales`` (rolling origin, h=3) and prints its WAPE / MASE table;
* ``quota_basis`` + ``growth_scenario`` for the next plan year by region, and
  a second ``growth_scenario`` alone (what the notebook slider costs).

It checks that the group means add up to the total and the quotas to the target.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from medrisk.data.demo import make_ledger
from medrisk.planning import (
    TOTAL_ID,
    backtest_sales,
    forecast_sales,
    growth_scenario,
    monthly_sales,
    quota_basis,
)

AS_OF = "2026-10-31"


def timed(label: str, fn, *args, **kw):
    """Run ``fn``; print wall-clock and CPU seconds (CPU is steadier on a shared machine)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"{label:<56s} {wall:7.2f} s wall {cpu:7.2f} s cpu", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--by", default="region,category")
    ap.add_argument("--h", type=int, default=12)
    ap.add_argument("--windows", type=int, default=6)
    args = ap.parse_args()
    by = args.by.split(",")

    ledger = timed(f"make_ledger({args.invoices:,})", make_ledger, args.invoices, seed=args.seed)
    hist = timed(f"monthly_sales by {by}", monthly_sales, ledger, AS_OF, by)
    n_series = hist["unique_id"].nunique()
    print(f"  {n_series} series, {hist['ds'].nunique()} months, {len(hist):,} rows")
    fc = timed(f"forecast_sales by {by}, h={args.h}", forecast_sales, ledger, AS_OF, by, args.h)
    groups, total = fc[fc["unique_id"] != TOTAL_ID], fc[fc["unique_id"] == TOTAL_ID]
    sums = groups.groupby("ds")["mean"].sum().to_numpy()
    assert np.allclose(sums, total["mean"].to_numpy(), rtol=1e-12), "groups do not add up"
    print("  models that served:", groups.drop_duplicates("unique_id")["model"].value_counts()
          .to_dict())
    bt = timed(f"backtest_sales by {by}, h=3, {args.windows} windows", backtest_sales, ledger,
               AS_OF, by, 3, args.windows)
    with pd.option_context("display.width", 120, "display.precision", 3):
        print(bt.to_string(index=False))
    basis = timed("quota_basis 2027 by region (forecast)", quota_basis, ledger, AS_OF, 2027,
                  "region")
    q = timed("growth_scenario(+15%)", growth_scenario, basis, 0.15)
    assert q["target_amount"].sum() == round(basis.base_sales * 1.15)
    timed("growth_scenario(+20%) (slider step)", growth_scenario, basis, 0.20)


if __name__ == "__main__":
    main()
