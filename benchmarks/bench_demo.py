"""Time the demo company generator and its Parquet writer, with peak memory.

Usage::

    python benchmarks/bench_demo.py --sizes 100000 1000000

Each measurement runs in a fresh child process, so the peak resident memory
(``resource.getrusage(...).ru_maxrss``) belongs to that step alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _one(step: str, n: int, seed: int, out: str) -> dict:
    """Run one step in this process and return its figures."""
    from medrisk.data.demo import make_demo, write_demo

    base = _peak_mb()
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    if step == "make_demo":
        company = make_demo(n_invoices=n, seed=seed)
        rows = sum(len(df) for df in company.ledger.tables.values())
    else:
        path = write_demo(Path(out) / f"demo_{n}", n_invoices=n, seed=seed, fmt="parquet")
        rows = sum(1 for _ in path.glob("*.parquet"))
    seconds = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    size = 0.0
    if step == "write_demo":
        size = sum(p.stat().st_size for p in (Path(out) / f"demo_{n}").rglob("*.parquet")) / 2**20
    return {
        "step": step, "n_invoices": n, "seconds": seconds,
        "cpu_seconds": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
        "peak_mb": _peak_mb(), "import_mb": base, "rows_or_files": rows, "output_mb": size,
    }


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every (size, step) in a child process and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", nargs="+", default=["make_demo", "write_demo"],
                    choices=["make_demo", "write_demo"])
    ap.add_argument("--out", default=None,
                    help="Folder for write_demo output (default: a temp dir).")
    ap.add_argument("--one", nargs=2, metavar=("STEP", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]), args.seed, args.out)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        results = []
        for n in args.sizes:
            for step in args.steps:
                proc = subprocess.run(
                    [sys.executable, __file__, "--one", step, str(n), "--seed", str(args.seed),
                     "--out", out], capture_output=True, text=True, check=True)
                results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
                r = results[-1]
                print(f"{r['step']:<10} {r['n_invoices']:>12,} {r['seconds']:>9.1f} "
                      f"{r['cpu_seconds']:>9.1f} {r['peak_mb']:>10,.0f} {r['output_mb']:>10.1f}",
                      file=sys.stderr)
    print(f"\n{'step':<10} {'invoices':>12} {'seconds':>9} {'cpu s':>9} {'peak MB':>10} "
          f"{'out MB':>10}")
    for r in results:
        print(f"{r['step']:<10} {r['n_invoices']:>12,} {r['seconds']:>9.1f} "
              f"{r['cpu_seconds']:>9.1f} {r['peak_mb']:>10,.0f} {r['output_mb']:>10.1f}")
    print("write_demo includes generating the company; peak MB is the child process's maximum RSS.")


if __name__ == "__main__":
    main()
