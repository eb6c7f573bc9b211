"""Benchmark: demo generation, writing, and ``load_ledger`` at several sizes.

Run: ``.venv/bin/python benchmarks/bench_load.py --sizes 100000 1000000 [--format parquet csv]``

Prints one row per size and format: seconds to generate the demo company,
to write its files, to load and validate them, the rows read, and the peak
memory of the process so far.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time

from medrisk.data import load_ledger, write_tables
from medrisk.data.demo import make_demo


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--format", nargs="+", default=["parquet"], choices=["parquet", "csv"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"{'invoices':>10} {'format':>8} {'generate s':>11} {'write s':>8} {'load s':>8} "
          f"{'rows read':>11} {'quarantined':>11} {'peak GiB':>9}")
    for n in args.sizes:
        t0 = time.perf_counter()
        demo = make_demo(n_invoices=n, seed=args.seed)
        gen = time.perf_counter() - t0
        for fmt in args.format:
            folder = tempfile.mkdtemp(prefix="medrisk-bench-")
            try:
                t0 = time.perf_counter()
                write_tables(demo.ledger, folder, fmt=fmt)
                wr = time.perf_counter() - t0
                t0 = time.perf_counter()
                ledger = load_ledger(folder)
                ld = time.perf_counter() - t0
                rows = sum(t.rows_read for t in ledger.load_report.tables.values())
                print(f"{n:>10,} {fmt:>8} {gen:>11.2f} {wr:>8.2f} {ld:>8.2f} {rows:>11,} "
                      f"{ledger.load_report.quarantined:>11,} {peak_gib():>9.2f}", flush=True)
                del ledger
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        del demo


if __name__ == "__main__":
    main()
