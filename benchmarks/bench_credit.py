"""Benchmark of the credit-risk pipeline: features, training and scoring.

Run: ``.venv/bin/python benchmarks/bench_credit.py [--invoices 100000 1000000] [--threads 1]``

For each size it builds the demo company (``medrisk.data.demo.make_demo``, seed 0,
not timed), then times:

* cash application and the receivables event table (``prepare``), once;
* ``invoice_features``: every invoice's point-in-time features (cold cache);
* ``labels`` at the cutoff;
* fitting the boosted model and the scorecard on what was known at the cutoff
  (2025-10-31: two years of history, the matured invoices);
* scoring every invoice (``predict_proba``) and every customer
  (``score_customers``: customer features and the model);

and prints one table with the times and the back-test AUC of each model on
the invoices issued after the cutoff.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from threadpoolctl import threadpool_limits

from medrisk.credit import CreditModel, classification_metrics, invoice_features, labels
from medrisk.data.demo import make_demo
from medrisk.receivables import prepare

CUTOFF = "2025-10-31"


def run(n: int) -> list[dict]:
    t = time.perf_counter()
    company = make_demo(n, seed=0)
    ledger = company.ledger
    rows = [
        {
            "invoices": n,
            "step": "make_demo (not part of the pipeline)",
            "seconds": time.perf_counter() - t,
        }
    ]

    def timed(step, fn):
        t0 = time.perf_counter()
        out = fn()
        rows.append({"invoices": n, "step": step, "seconds": time.perf_counter() - t0})
        return out

    timed("prepare (cash application, event table)", lambda: prepare(ledger))
    X = timed("invoice_features (all invoices)", lambda: invoice_features(ledger))
    lab = timed("labels at cutoff", lambda: labels(ledger, CUTOFF))
    end_lab = labels(ledger, "2026-10-31")
    test = end_lab[(end_lab["invoice_date"] > CUTOFF) & end_lab["matured"]]
    for kind in ("gbm", "scorecard"):
        model = timed(
            f"fit {kind} ({int(lab['matured'].sum()):,} matured rows)",
            lambda kind=kind: CreditModel(kind).fit(ledger, CUTOFF),
        )
        p = timed(
            f"predict_proba {kind} (all {len(X):,} invoices)",
            lambda model=model: model.predict_proba(ledger),
        )
        timed(
            f"score_customers {kind}",
            lambda model=model: model.score_customers(ledger, "2026-10-31"),
        )
        m = classification_metrics(test["label"].to_numpy(), p.loc[test["invoice_id"]].to_numpy())
        truth = company.truth_invoices.set_index("invoice_id").loc[test["invoice_id"], "p_late"]
        t_m = classification_metrics(test["label"].to_numpy(), truth.to_numpy())
        rows[-1]["note"] = (
            f"back-test AUC {m['roc_auc']:.4f} (truth {t_m['roc_auc']:.4f}, "
            f"ratio {m['roc_auc'] / t_m['roc_auc']:.3f}), ECE {m['ece']:.4f}"
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invoices", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument(
        "--threads",
        type=int,
        default=None,
        help="OpenMP/BLAS threads (default: the library default)",
    )
    args = ap.parse_args()
    rows = []
    with threadpool_limits(args.threads):
        for n in args.invoices:
            rows += run(n)
    table = pd.DataFrame(rows).fillna("")
    table["seconds"] = table["seconds"].map(lambda s: f"{s:8.2f}")
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
