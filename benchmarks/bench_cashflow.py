"""Benchmark of the cash-in forecast and batch expiry on the demo company.

Run: ``.venv/bin/python benchmarks/bench_cashflow.py [--invoices 1000000] [--draws 400]
[--as-of 2026-10-31]``

Builds ``medrisk.data.demo.make_ledger(n_invoices)`` (seed 0), prepares the event
table once (cash application, timed on its own), then times:

* ``fit_payment_timing`` (the survival model);
* ``cash_in_forecast`` 13 weeks and 12 months, with the sales forecast given
  (so the timing is the cash model's, not the sales model's), and once with
  the default sales forecast (``medrisk.planning`` when available);
* ``batch_expiry`` (shipment-history demand), ``sku_demand`` from the sales
  forecast, ``expiry_report`` and ``fefo_allocate``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from medrisk import cash as C
from medrisk import cash as PT
from medrisk import receivables as R
from medrisk import supply as B
from medrisk import supply as F
from medrisk.data.demo import make_ledger


def timed(label: str, fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    print(f"{label:<52} {time.perf_counter() - t0:8.2f} s", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--draws", type=int, default=400)
    ap.add_argument("--as-of", default="2026-10-31")
    args = ap.parse_args()
    as_of = pd.Timestamp(args.as_of)

    ledger = timed(f"make_ledger({args.invoices:,})", make_ledger, n_invoices=args.invoices)
    print(repr(ledger))
    timed("prepare (cash application + event table)", R.prepare, ledger)
    open_n = int((R.open_items(ledger, as_of)["open_amount"] > 0).sum())
    print(f"open invoices on {as_of.date()}: {open_n:,}")

    timing = timed("fit_payment_timing", PT.fit_payment_timing, ledger, as_of)
    sales = C.recent_sales_forecast(ledger, as_of, h=13)
    fc13 = timed(f"cash_in_forecast 13W ({args.draws} draws, timing refit)",
                 C.cash_in_forecast, ledger, as_of, "13W", sales_forecast=sales,
                 n_draws=args.draws)
    timed(f"cash_in_forecast 13W ({args.draws} draws, timing given)",
          C.cash_in_forecast, ledger, as_of, "13W", sales_forecast=sales, n_draws=args.draws,
          timing=timing)
    timed(f"cash_in_forecast 12M ({args.draws} draws, timing given)",
          C.cash_in_forecast, ledger, as_of, "12M", sales_forecast=sales, n_draws=args.draws,
          timing=timing)
    timed("cash_in_forecast 13W (default sales forecast)", C.cash_in_forecast, ledger, as_of,
          "13W", n_draws=args.draws, timing=timing)
    tot = fc13[fc13["component"] == "total"]
    print(f"13W total: mean {tot['mean'].sum() / 1e8:,.2f} 亿元; week 1 80% band "
          f"{tot['lo-80'].iloc[0] / 1e4:,.0f}-{tot['hi-80'].iloc[0] / 1e4:,.0f} 万元")

    hist = timed("sku_demand (shipment history)", B.sku_demand, ledger, as_of,
                 sales_forecast="history")
    timed("sku_demand (sales forecast by category)", B.sku_demand, ledger, as_of)
    exp = timed("batch_expiry (demand given)", B.batch_expiry, ledger, as_of, demand=hist)
    rep = timed("expiry_report (demand given)", B.expiry_report, ledger, as_of, demand=hist)
    fefo = timed("fefo_allocate", F.fefo_allocate, ledger, as_of)
    takers = timed("near_expiry_takers", B.near_expiry_takers, ledger, as_of,
                   near=pd.concat([rep.near_expiry, rep.near_expiry_cold_chain]))
    unsold = exp["expected_unsold_value"].to_numpy(dtype=float, na_value=np.nan)
    sellable = exp["state"].isin(["near_expiry", "ok"]).to_numpy()
    print(f"batches {len(exp):,}; near expiry {len(rep.near_expiry):,} + cold chain "
          f"{len(rep.near_expiry_cold_chain):,}; blocked {len(rep.blocked):,}; expected to expire "
          f"unsold (sellable stock) {np.nansum(unsold[sellable]) / 1e6:,.2f} 万元; blocked stock "
          f"{np.nansum(unsold[exp['state'].to_numpy() == 'blocked']) / 1e6:,.2f} 万元; "
          f"{len(takers):,} taker candidates")
    print(f"FEFO: {len(fefo.lines):,} open lines, {len(fefo.allocations):,} allocations, "
          f"{int(fefo.lines['short'].sum()):,} units short")


if __name__ == "__main__":
    main()
