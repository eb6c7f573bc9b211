"""Benchmark of the receivables engine against plain pandas and DuckDB SQL.

Run: ``.venv/bin/python benchmarks/bench_receivables.py [--invoices 1000000] [--months 36]
[--source demo|synthetic]``

It builds a company (the demo generator, or a plain numpy one in this file;
fixed seed), applies cash once (timed on its own), then times, each as of the
same dates:

* medrisk: ``aging`` one date (company and by customer type), ``aging_series``
  over the month ends, ``kpis`` for one year, ``kpi_trend`` over the month ends,
  ``customer_360``;
* a straightforward pandas implementation (filter, groupby, merge, per date);
* DuckDB SQL (the same aging as a query; the series as one query over a table
  of dates).

Every method's aging must agree to the fen; the script stops if not.
"""

from __future__ import annotations

import argparse
import resource
import time

import duckdb
import numpy as np
import pandas as pd

from medrisk import receivables as A
from medrisk import receivables as K
from medrisk import receivables as Rk
from medrisk.data import Ledger
from medrisk.receivables import _engine as R

EDGES = (0, 30, 60, 90, 180, 365)
LABELS = ["not_due", "1-30", "31-60", "61-90", "91-180", "181-365", "over_365"]


# ------------------------------------------------------------------------------ data
def synthetic_ledger(n_invoices: int = 1_000_000, seed: int = 0, end: str = "2026-10-31") -> Ledger:
    """A company with ``n_invoices`` invoices over four years, built with numpy only."""
    rng = np.random.default_rng(seed)
    end_day = np.datetime64(end, "D").astype(np.int64)
    first_day = end_day - 4 * 365
    n_cust, n_sp = max(n_invoices // 200, 10), max(n_invoices // 5000, 4)
    types = np.array(
        ["tertiary_hospital", "secondary_hospital", "clinic", "pharmacy", "distributor", "agent"]
    )
    terms_by_type = np.array([180, 120, 60, 45, 90, 60])
    regions = np.array(["华东", "华南", "华北", "华中", "西南", "西北", "东北"])
    channels = np.array(["direct", "distributor", "agent", "ecommerce"])
    sp_ids = pd.array([f"S{i:04d}" for i in range(n_sp)], dtype="str")
    salespeople = pd.DataFrame(
        {
            "salesperson_id": sp_ids,
            "name": sp_ids,
            "team": pd.array([f"T{i % 12:02d}" for i in range(n_sp)], dtype="str"),
            "region": regions[np.arange(n_sp) % len(regions)],
            "manager_id": pd.array([None] * n_sp, dtype="str"),
        }
    )
    c_type = rng.integers(0, len(types), n_cust)
    cust_ids = pd.array([f"C{i:06d}" for i in range(n_cust)], dtype="str")
    customers = pd.DataFrame(
        {
            "customer_id": cust_ids,
            "name": cust_ids,
            "customer_type": types[c_type],
            "region": regions[rng.integers(0, len(regions), n_cust)],
            "province": "省",
            "channel": channels[rng.integers(0, len(channels), n_cust)],
            "salesperson_id": sp_ids[rng.integers(0, n_sp, n_cust)],
            "credit_limit": pd.array(rng.integers(1, 200, n_cust) * 100_000_00, dtype="Int64"),
            "payment_terms_days": pd.array(terms_by_type[c_type], dtype="Int64"),
            "opened_date": pd.Timestamp("2018-01-01"),
        }
    )
    inv_cust = np.sort(rng.integers(0, n_cust, n_invoices))
    inv_day = rng.integers(first_day, end_day + 1, n_invoices)
    terms = terms_by_type[c_type[inv_cust]]
    amount = np.maximum((rng.lognormal(10, 1.2, n_invoices) * 100).astype(np.int64), 100)
    inv_ids = pd.array([f"INV{i:08d}" for i in range(n_invoices)], dtype="str")
    invoices = pd.DataFrame(
        {
            "invoice_id": inv_ids,
            "customer_id": cust_ids[inv_cust],
            "invoice_date": (inv_day.astype("datetime64[D]")).astype("datetime64[ns]"),
            "due_date": ((inv_day + terms).astype("datetime64[D]")).astype("datetime64[ns]"),
            "amount": amount,
            "order_id": pd.array([None] * n_invoices, dtype="str"),
            "salesperson_id": sp_ids[rng.integers(0, n_sp, n_invoices)],
            "product_line": np.array(["超声", "耗材", "试剂", "配件"])[
                rng.integers(0, 4, n_invoices)
            ],
            "currency": "CNY",
        }
    )
    # payments: most invoices paid, some in two parts, late by a customer-type-dependent spread
    delay = terms + rng.normal(20, 60, n_invoices).astype(np.int64)
    paid_frac = np.where(rng.random(n_invoices) < 0.9, 1.0, rng.random(n_invoices))
    two = rng.random(n_invoices) < 0.2
    first_amt = np.where(
        two, (amount * paid_frac * 0.5).astype(np.int64), (amount * paid_frac).astype(np.int64)
    )
    second_amt = np.where(two, (amount * paid_frac).astype(np.int64) - first_amt, 0)
    d1 = inv_day + np.maximum(delay - np.where(two, 40, 0), 0)
    d2 = inv_day + np.maximum(delay, 0) + 5
    pays = []
    for amt, d in ((first_amt, d1), (second_amt, d2)):
        keep = (amt > 0) & (d <= end_day)
        pays.append((np.flatnonzero(keep), amt[keep], d[keep]))
    p_inv = np.concatenate([p[0] for p in pays])
    p_amt = np.concatenate([p[1] for p in pays])
    p_day = np.concatenate([p[2] for p in pays])
    n_pay = len(p_inv)
    pay_ids = pd.array([f"P{i:08d}" for i in range(n_pay)], dtype="str")
    payments = pd.DataFrame(
        {
            "payment_id": pay_ids,
            "customer_id": cust_ids[inv_cust[p_inv]],
            "payment_date": p_day.astype("datetime64[D]").astype("datetime64[ns]"),
            "amount": p_amt,
            "method": "银行转账",
            "reference": pd.array(np.asarray(inv_ids)[p_inv], dtype="str"),
        }
    )
    explicit = rng.random(n_pay) < 0.7  # finance recorded 70% of the allocations
    allocations = pd.DataFrame(
        {
            "payment_id": pay_ids[explicit],
            "invoice_id": pd.array(np.asarray(inv_ids)[p_inv[explicit]], dtype="str"),
            "amount": p_amt[explicit],
        }
    )
    # adjustments on invoices not fully paid: credit notes, discounts, write-offs of the rest
    paid_total = first_amt + second_amt
    rest = amount - np.where(d2 <= end_day, paid_total, np.where(d1 <= end_day, first_amt, 0))
    pick = np.flatnonzero((rest > 0) & (rng.random(n_invoices) < 0.3))
    kind = np.array(["credit_note", "discount", "write_off"])[rng.integers(0, 3, len(pick))]
    a_day = np.minimum(inv_day[pick] + rng.integers(10, 500, len(pick)), end_day)
    adjustments = pd.DataFrame(
        {
            "adjustment_id": pd.array([f"A{i:08d}" for i in range(len(pick))], dtype="str"),
            "invoice_id": pd.array(np.asarray(inv_ids)[pick], dtype="str"),
            "adjustment_date": a_day.astype("datetime64[D]").astype("datetime64[ns]"),
            "amount": rest[pick],
            "kind": kind,
        }
    )
    return Ledger(
        {
            "salespeople": salespeople,
            "customers": customers,
            "invoices": invoices,
            "payments": payments,
            "allocations": allocations,
            "adjustments": adjustments,
        }
    )


# ------------------------------------------------------------------------------ baselines
def pandas_aging(ledger: Ledger, alloc: pd.DataFrame, as_of, by: str | None = None) -> pd.DataFrame:
    """The obvious pandas way: filter, groupby-sum, merge, cut, groupby, per date."""
    d = pd.Timestamp(as_of)
    inv = ledger.invoices[ledger.invoices["invoice_date"] <= d]
    if by is not None and by not in inv.columns:
        inv = inv.merge(ledger.customers[["customer_id", by]], on="customer_id", how="left")
    a = alloc[alloc["payment_date"] <= d].groupby("invoice_id")["amount"].sum().rename("paid")
    adj = ledger.adjustments
    j = adj[adj["adjustment_date"] <= d].groupby("invoice_id")["amount"].sum().rename("adj")
    inv = inv.merge(a, left_on="invoice_id", right_index=True, how="left")
    inv = inv.merge(j, left_on="invoice_id", right_index=True, how="left")
    inv["open"] = (
        inv["amount"]
        - inv["paid"].fillna(0).astype(np.int64)
        - inv["adj"].fillna(0).astype(np.int64)
    )
    inv = inv[inv["open"] != 0]
    dpd = (d - inv["due_date"]).dt.days
    inv["bucket"] = pd.cut(dpd, [-np.inf, *EDGES, np.inf], labels=LABELS)
    if by is None:
        out = inv.groupby("bucket", observed=False)["open"].sum().to_frame(d).T.astype(np.int64)
    else:
        out = inv.groupby([by, "bucket"], observed=False)["open"].sum().unstack("bucket")
        out = out.fillna(0).astype(np.int64)
    out["total"] = out.sum(axis=1)
    return out


AGING_SQL = """
WITH red AS (
    SELECT invoice_id, payment_date AS day, amount FROM alloc
    UNION ALL
    SELECT invoice_id, adjustment_date AS day, amount FROM adj
),
open AS (
    SELECT d.as_of, i.invoice_id, i.customer_id, i.due_date,
           i.amount - COALESCE(SUM(r.amount), 0) AS open_amount
    FROM dates d
    JOIN inv i ON i.invoice_date <= d.as_of
    LEFT JOIN red r ON r.invoice_id = i.invoice_id AND r.day <= d.as_of
    GROUP BY d.as_of, i.invoice_id, i.customer_id, i.due_date, i.amount
    HAVING i.amount - COALESCE(SUM(r.amount), 0) <> 0
),
aged AS (
    SELECT as_of, customer_id, open_amount, date_diff('day', due_date, as_of) AS dpd FROM open
)
SELECT as_of, {group}
       SUM(CASE WHEN dpd <= 0 THEN open_amount ELSE 0 END)::BIGINT AS "not_due",
       SUM(CASE WHEN dpd BETWEEN 1 AND 30 THEN open_amount ELSE 0 END)::BIGINT AS "1-30",
       SUM(CASE WHEN dpd BETWEEN 31 AND 60 THEN open_amount ELSE 0 END)::BIGINT AS "31-60",
       SUM(CASE WHEN dpd BETWEEN 61 AND 90 THEN open_amount ELSE 0 END)::BIGINT AS "61-90",
       SUM(CASE WHEN dpd BETWEEN 91 AND 180 THEN open_amount ELSE 0 END)::BIGINT AS "91-180",
       SUM(CASE WHEN dpd BETWEEN 181 AND 365 THEN open_amount ELSE 0 END)::BIGINT AS "181-365",
       SUM(CASE WHEN dpd > 365 THEN open_amount ELSE 0 END)::BIGINT AS "over_365",
       SUM(open_amount)::BIGINT AS total
FROM aged {join}
GROUP BY ALL ORDER BY ALL
"""


def duckdb_connection(ledger: Ledger, alloc: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register(
        "inv_df",
        ledger.invoices[["invoice_id", "customer_id", "invoice_date", "due_date", "amount"]],
    )
    con.register("alloc_df", alloc[["invoice_id", "payment_date", "amount"]])
    con.register("adj_df", ledger.adjustments[["invoice_id", "adjustment_date", "amount"]])
    con.register("cust_df", ledger.customers[["customer_id", "customer_type"]])
    for t in ("inv", "alloc", "adj", "cust"):  # materialise once, as a database would hold them
        con.execute(f"CREATE TABLE {t} AS SELECT * FROM {t}_df")
    return con


def duckdb_aging(con, dates, by_type: bool = False) -> pd.DataFrame:
    con.execute(
        "CREATE OR REPLACE TABLE dates AS SELECT unnest(?::DATE[]) AS as_of",
        [[pd.Timestamp(d).date() for d in dates]],
    )
    sql = AGING_SQL.format(
        group="c.customer_type," if by_type else "",
        join="JOIN cust c USING (customer_id)" if by_type else "",
    )
    return con.execute(sql).df()


# ------------------------------------------------------------------------------ timing
def timed(fn, repeat: int = 3):
    """Best wall time of ``repeat`` runs, the CPU time of that run, and the result."""
    best, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t
        if wall < best:
            best, cpu = wall, time.process_time() - c
    return (best, cpu), out


def peak_gib() -> float:
    """Peak resident memory of this process so far, in GiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(n_invoices: int = 1_000_000, months: int = 36, seed: int = 0,
         source: str = "demo", compare: bool = True) -> pd.DataFrame:
    t = time.perf_counter()
    if source == "demo":
        from medrisk.data.demo import make_ledger

        ledger = make_ledger(n_invoices=n_invoices, seed=seed)
    else:
        ledger = synthetic_ledger(n_invoices, seed)
    print(f"{source} ledger: {ledger!r} built in {time.perf_counter() - t:.1f} s, "
          f"peak {peak_gib():.1f} GiB", flush=True)
    dates = pd.date_range(end="2026-10-31", periods=months, freq="ME")
    as_of = dates[-1]
    rows = []

    def record(task, method, seconds, note=""):
        wall, cpu = seconds if isinstance(seconds, tuple) else (seconds, np.nan)
        rows.append({"task": task, "method": method, "seconds": round(wall, 3),
                     "cpu_seconds": round(cpu, 3), "peak_gib": round(peak_gib(), 1),
                     "note": note})
        print(f"  {task} [{method}]: {wall:.3f} s, peak {peak_gib():.1f} GiB", flush=True)

    s, alloc = timed(lambda: R.allocations_of(ledger), 1)
    record("cash application (apply_cash, cached)", "medrisk", s, f"{len(alloc):,} allocations")
    s, _ = timed(lambda: R.aging(ledger, as_of), 1)
    record("aging, one date, first call (builds the event table)", "medrisk", s,
           "cash application already cached")
    s, _ = timed(lambda: R._groups(ledger, "customer_type"), 1)
    record("group codes customer_type (cached)", "medrisk", s)

    s, ours = timed(lambda: R.aging(ledger, as_of))
    record("aging, one date", "medrisk", s)
    s, ours_t = timed(lambda: R.aging(ledger, as_of, by="customer_type"))
    record("aging by customer_type, one date", "medrisk", s)
    s, ours_s = timed(lambda: R.aging_series(ledger, dates))
    record(f"aging series, {months} month ends", "medrisk", s)
    if compare:  # the same figures by plain pandas and DuckDB SQL; all must agree to the fen
        s, theirs = timed(lambda: pandas_aging(ledger, alloc, as_of), 1)
        record("aging, one date", "pandas", s)
        assert (ours.iloc[0].to_numpy() == theirs.iloc[0].to_numpy()).all(), (ours, theirs)
        con = duckdb_connection(ledger, alloc)
        s, sql = timed(lambda: duckdb_aging(con, [as_of]), 1)
        record("aging, one date", "duckdb", s)
        assert (ours.iloc[0].to_numpy() == sql.iloc[0, 1:].to_numpy()).all(), (ours, sql)
        s, theirs = timed(lambda: pandas_aging(ledger, alloc, as_of, by="customer_type"), 1)
        record("aging by customer_type, one date", "pandas", s)
        assert (ours_t.to_numpy() == theirs.loc[ours_t.index].to_numpy()).all()
        s, sql = timed(lambda: duckdb_aging(con, [as_of], by_type=True), 1)
        record("aging by customer_type, one date", "duckdb", s)
        sql = sql.set_index("customer_type").loc[ours_t.index].iloc[:, 1:]
        assert (ours_t.to_numpy() == sql.to_numpy()).all()
        s, theirs = timed(
            lambda: pd.concat({d: pandas_aging(ledger, alloc, d) for d in dates}), 1
        )
        record(f"aging series, {months} month ends", "pandas", s, "loop over dates")
        assert (ours_s.to_numpy() == theirs.to_numpy()).all()
        s, sql = timed(lambda: duckdb_aging(con, dates), 1)
        record(f"aging series, {months} month ends", "duckdb", s, "one query, dates table")
        assert (ours_s.to_numpy() == sql.iloc[:, 1:].to_numpy()).all()
        con.close()
        del con, theirs, sql
    else:  # without the comparisons, still check that the buckets add up to the open total
        assert int(ours.iloc[0, :-1].sum()) == int(ours["total"].iloc[0])
        assert int(ours_t["total"].sum()) == int(ours["total"].iloc[0])
    s, _ = timed(lambda: R.aging_series(ledger, dates, by="customer_type"))
    record(f"aging series by customer_type, {months} month ends", "medrisk", s)

    year_start = as_of - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    s, _ = timed(lambda: K.kpis(ledger, year_start, as_of))
    record("all KPIs, one year, company", "medrisk", s)
    s, _ = timed(lambda: K.kpis(ledger, year_start, as_of, by="customer_id"), 1)
    record("all KPIs, one year, by customer (first call)", "medrisk", s, "includes group codes")
    s, _ = timed(lambda: K.kpis(ledger, year_start, as_of, by="customer_id"))
    record("all KPIs, one year, by customer", "medrisk", s)
    s, _ = timed(lambda: K.kpi_trend(ledger, dates[0] - pd.offsets.MonthBegin(1), as_of))
    record(f"KPI trend, {months} months, company", "medrisk", s)
    s, _ = timed(
        lambda: K.kpi_trend(ledger, dates[0] - pd.offsets.MonthBegin(1), as_of, by="region"), 1
    )
    record(f"KPI trend, {months} months, by region", "medrisk", s)
    def full_kpi_set():
        K.kpis(ledger, year_start, as_of)
        K.kpi_trend(ledger, dates[0] - pd.offsets.MonthBegin(1), as_of)
        Rk.top_overdue_customers(ledger, as_of)
        Rk.long_term_delinquents(ledger, as_of)
        Rk.slowest_payers(ledger, as_of)
        Rk.salesperson_collection_ranking(ledger, year_start, as_of)
        Rk.customer_360(ledger, as_of)
        A.warnings(ledger, as_of)

    s, _ = timed(full_kpi_set, 1)
    record("full KPI set: kpis + 36-month trend + 4 rankings + customer_360 + warnings",
           "medrisk", s)
    s, _ = timed(lambda: Rk.customer_360(ledger, as_of), 1)
    record("customer_360, one date", "medrisk", s)
    s, _ = timed(lambda: R.open_items(ledger, as_of), 1)
    record("open_items, one date (1 row per invoice)", "medrisk", s)

    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    return table


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=["demo", "synthetic"], default="demo",
                        help="medrisk.data.demo.make_ledger, or the numpy generator of this file")
    parser.add_argument("--no-compare", action="store_true",
                        help="time medrisk alone (no pandas or DuckDB), e.g. at 10M invoices")
    args = parser.parse_args()
    main(args.invoices, args.months, args.seed, args.source, compare=not args.no_compare)
