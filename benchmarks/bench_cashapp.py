"""Time :func:`medrisk.receivables.apply_cash` on synthetic ledgers without allocations.

Usage::

    .venv/bin/python benchmarks/bench_cashapp.py              # 100k and 1M invoices
    .venv/bin/python benchmarks/bench_cashapp.py 10000 200000 # other sizes
    .venv/bin/python benchmarks/bench_cashapp.py --demo       # also the demo company
    .venv/bin/python benchmarks/bench_cashapp.py --big 0.05   # also: one customer, 5% of 1M

The synthetic company: about one customer per 200 invoices, customer sizes
log-normal (the largest has a few percent of all invoices), payment terms 0-365
days per customer, three years of invoices. Per invoice: 70% paid in one
payment, 15% in two parts, 15% never paid; payments arrive around the due date
(some early, most late); 3% pay 10% too much; 40% of payments name their
invoice, 1% name a wrong one; 2% of invoices get a discount. About one payment
per invoice.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from medrisk.data import Ledger
from medrisk.receivables import _cashapp as cashapp
from medrisk.receivables import apply_cash

_ROUNDS = [0]
_maintain = cashapp._Engine.maintain


def _counting_maintain(self):  # the engine calls maintain() once per round
    _ROUNDS[0] += 1
    _maintain(self)


cashapp._Engine.maintain = _counting_maintain

START = np.datetime64("2022-01-01", "D")


def synthetic_tables(
    n_invoices: int, seed: int = 0, big_share: float = 0.0, ref_share: float = 0.4
) -> dict[str, pd.DataFrame]:
    """Customers, invoices, payments and adjustments with the canonical dtypes.

    ``big_share`` gives one customer (a national distributor) that share of
    all invoices, for the longest chain of payments; ``ref_share`` is the share
    of payments that name their invoice.
    """
    rng = np.random.default_rng(seed)
    n_cust = max(n_invoices // 200, 10)
    weight = rng.lognormal(0.0, 1.0, n_cust)
    if big_share:
        weight[0] = big_share / (1 - big_share) * weight[1:].sum()
    cust = rng.choice(n_cust, n_invoices, p=weight / weight.sum())
    terms = rng.choice([0, 30, 60, 90, 180, 365], n_cust)[cust]
    inv_day = rng.integers(0, 3 * 365, n_invoices)
    due_day = inv_day + terms
    amount = np.maximum(np.round(rng.lognormal(np.log(5_000), 1.2, n_invoices) * 100), 1)
    amount = amount.astype(np.int64)
    cust_ids = np.char.add("C", np.arange(n_cust).astype(str))
    inv_ids = np.char.add("INV", np.char.zfill(rng.permutation(n_invoices).astype(str), 8))

    # payments: 0, 1 or 2 per invoice
    parts = rng.choice([0, 1, 2], n_invoices, p=[0.15, 0.70, 0.15])
    src = np.repeat(np.arange(n_invoices), parts)
    first = np.r_[True, src[1:] != src[:-1]]
    share = np.where(parts[src] == 1, 1.0, np.where(first, rng.uniform(0.2, 0.8, len(src)), 0))
    pay_amt = np.round(amount[src] * share).astype(np.int64)
    two = parts[src] == 2
    second = two & ~first
    pay_amt[second] = amount[src[second]] - pay_amt[np.flatnonzero(second) - 1]
    delay = np.round(rng.normal(20, 45, len(src))).astype(np.int64) + np.where(first, 0, 30)
    pay_day = np.maximum(due_day[src] + delay, inv_day[src])
    over = rng.random(len(src)) < 0.03  # 3% pay 10% too much
    pay_amt[over] += pay_amt[over] // 10
    keep = (pay_amt > 0) & (pay_day < 3 * 365 + 200)
    src, pay_amt, pay_day = src[keep], pay_amt[keep], pay_day[keep]
    n_pay = len(src)
    ref = np.where(rng.random(n_pay) < ref_share, inv_ids[src], None).astype(object)
    wrong = rng.random(n_pay) < 0.01
    ref[wrong] = inv_ids[rng.integers(0, n_invoices, wrong.sum())]

    adj_inv = rng.choice(n_invoices, n_invoices // 50, replace=False)
    tables = {
        "customers": pd.DataFrame({"customer_id": pd.array(cust_ids, dtype="str")}),
        "invoices": pd.DataFrame({
            "invoice_id": pd.array(inv_ids, dtype="str"),
            "customer_id": pd.array(cust_ids[cust], dtype="str"),
            "invoice_date": (START + inv_day).astype("datetime64[ns]"),
            "due_date": (START + due_day).astype("datetime64[ns]"),
            "amount": amount,
        }),
        "payments": pd.DataFrame({
            "payment_id": pd.array(np.char.add("PAY", np.arange(n_pay).astype(str)), dtype="str"),
            "customer_id": pd.array(cust_ids[cust[src]], dtype="str"),
            "payment_date": (START + pay_day).astype("datetime64[ns]"),
            "amount": pay_amt,
            "reference": pd.array(ref, dtype="str"),
        }),
        "adjustments": pd.DataFrame({
            "adjustment_id": pd.array(np.char.add("ADJ", np.arange(len(adj_inv)).astype(str)),
                                      dtype="str"),
            "invoice_id": pd.array(inv_ids[adj_inv], dtype="str"),
            "adjustment_date": (START + inv_day[adj_inv] + 10).astype("datetime64[ns]"),
            "amount": np.maximum(amount[adj_inv] // 20, 1),
            "kind": pd.array(["discount"] * len(adj_inv), dtype="str"),
        }),
    }
    return tables


def time_it(ledger: Ledger, repeat: int = 1) -> tuple[tuple[float, float], object]:
    """Best wall-clock and CPU seconds of ``repeat`` runs (CPU time: steadier on a busy machine)."""
    best, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        _ROUNDS[0] = 0
        t0, c0 = time.perf_counter(), time.process_time()
        result = apply_cash(ledger)
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return (best, cpu), result


def describe(name: str, ledger: Ledger, seconds: float, result) -> dict:
    pay = ledger.payments
    per_cust = pay["customer_id"].value_counts()
    s = result.summary()
    return {
        "ledger": name,
        "invoices": len(ledger.invoices),
        "payments": len(pay),
        "customers": ledger.invoices["customer_id"].nunique(),
        "longest_chain": int(per_cust.max()) if len(per_cust) else 0,
        "rounds": _ROUNDS[0],
        "allocations": len(result.allocations),
        "unapplied_pct": round(100 * s.loc["unapplied", "amount"] / s.loc["total", "amount"], 2),
        "seconds": round(seconds[0], 2),
        "cpu_seconds": round(seconds[1], 2),
    }


def main(argv: list[str]) -> None:
    big = float(argv[argv.index("--big") + 1]) if "--big" in argv else 0.0
    sizes = [int(a) for a in argv if a.isdigit()] or [100_000, 1_000_000]
    runs = [(n, 0.0) for n in sizes] + ([(max(sizes), big)] if big else [])
    rows = []
    for n, share in runs:
        t0 = time.perf_counter()
        ledger = Ledger(synthetic_tables(n, big_share=share))
        built = time.perf_counter() - t0
        seconds, result = time_it(ledger, repeat=2 if n <= 200_000 else 1)
        name = f"synthetic {n:,}" + (f", one customer {share:.0%}" if share else "")
        rows.append(describe(name, ledger, seconds, result))
        print(f"built {name} in {built:.1f}s; apply_cash {seconds[0]:.2f}s", flush=True)
    if "--demo" in argv:
        try:
            from medrisk.data.demo import make_ledger
        except ImportError as exc:
            print(f"medrisk.data.demo not available: {exc}")
        else:
            for n in sizes:
                demo = make_ledger(n_invoices=n)
                ledger = Ledger({k: v for k, v in demo.tables.items() if k != "allocations"})
                seconds, result = time_it(ledger)
                rows.append(describe(f"demo {n:,} (allocations dropped)", ledger, seconds, result))
                print(f"demo {n:,}: apply_cash {seconds[0]:.2f}s", flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
