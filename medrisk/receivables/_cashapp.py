"""Cash application (核销): match each receipt to the invoices it pays.

A ledger may come with an ``allocations`` table (the finance team's own 核销
records), with one that covers only some receipts, or with none at all. This
module keeps every recorded allocation as it is and applies the rest of each
receipt by fixed rules, so that balances can be computed for any date.

The rules
---------
Payments are applied one after another in order of ``payment_date`` then
``payment_id``. For each payment received on date ``D`` by customer ``c``:

``explicit``
    Rows of the ledger's ``allocations`` table, kept unchanged. Only the part
    of the payment they do not cover (``amount - explicit``) is applied below.
``reference``
    If the payment's ``reference`` names an invoice of customer ``c``, issued on
    or before ``D``, with an open amount, that invoice gets
    ``min(remaining payment, open amount)``.
``exact_amount``
    Else, if an invoice of ``c`` issued on or before ``D`` has an open amount
    exactly equal to what remains of the payment, it gets all of it (the
    oldest due one when several match).
``oldest_due``
    What still remains pays the open invoices of ``c`` issued on or before
    ``D``, oldest due date first (ties: ``invoice_date``, then ``invoice_id``).

What is left after that is *unapplied cash* (预收款), a credit of the
payment's customer, never spread to another customer. It is applied as ERPs
apply an advance receipt, when the customer's next invoices are issued:

``reference`` (again) and ``advance``
    On the day an invoice of ``c`` is issued, before that day's payments, the
    credit of ``c`` pays it: first the credit of payments whose ``reference``
    names it (oldest payment first), then all of ``c``'s credit, oldest payment
    first, to the invoices issued that day in due-date order (ties:
    ``invoice_id``). Such an allocation takes effect on the invoice date.

While a customer has credit, every invoice issued to it so far is settled
(the oldest-due rule leaves cash only once nothing is open), so credit only
ever meets later invoices, each on its issue day, oldest first. A reference
to an invoice not issued yet does not hold the cash back: on the payment date
that invoice is unknown, so the payment pays what is open then, like a
payment naming no invoice, and only what is left waits for the named invoice.
What no invoice of the ledger takes stays in :attr:`CashApplication.unapplied`.

Open amount
-----------
An invoice's open amount when a payment dated ``D`` is applied is::

    amount - every explicit allocation to it - adjustments dated <= D
           - rule allocations of earlier payments

floored at zero. Explicit allocations count whatever their payment's date:
they record a decision finance has made, so the rules never hand the same
invoice's money to a second receipt. (Consequence: a recorded allocation of a
*later* receipt can steer an earlier receipt's rule allocation elsewhere. This
is the only way later data reaches an earlier allocation; without explicit
allocations each allocation depends only on what was known on its date.)
A credit note dated after a rule allocation can still leave the invoice with
more credit than its amount; that is a true over-payment and is left visible.

Point in time
-------------
Every allocation has an ``effective_date``: the later of its payment date and
its invoice's date (also for explicit rows). A rule allocation uses only
invoices, payments and adjustments dated on or before its effective date, and
the rules run in date order. So the allocations as of a date are the rows
with ``effective_date <= as_of``: no later invoice, payment or adjustment
changes them (the one exception being explicit allocations, above). Cash
received by then and not in those rows is unapplied on that day
(:meth:`CashApplication.unapplied_as_of`).

Algorithm
---------
Each customer's payments form a chain that must be applied in order; the
chains of different customers are independent. The work goes in *rounds*:
round ``k`` applies the ``k``-th payment of every customer at once, all of it
vectorised with numpy (see :class:`_Engine`). Within a round, a payment reads
only a short window of its customer's invoices: the oldest-due rule reads
open invoices in due order until its cash is used up, and the exact-amount
rule looks its amount up in two indexes (untouched and partly paid invoices),
checking one by one only invoices with adjustments still to come. The number
of rounds is the largest number of payments of one customer, so one customer
with tens of thousands of payments sets the running time (roughly 0.1-0.2 ms
per round; see ``benchmarks/bench_cashapp.py``). Before its payment of a
round, each customer's credit is applied to the invoices issued since its
previous payment, all customers at once (see :class:`_Credit`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from medrisk import kernel
from medrisk.data import Ledger
from medrisk.exceptions import SchemaError

__all__ = ["CashApplication", "apply_cash", "RULES"]

#: Rules in the order they are tried; the ``rule`` column uses these labels.
RULES: tuple[str, ...] = ("explicit", "reference", "exact_amount", "oldest_due", "advance")
_EXPLICIT, _REFERENCE, _EXACT, _OLDEST, _ADVANCE = range(5)

# Tuning of the engine (tests set them to extremes to exercise every path):
_FIRST_CHUNK = 8  # invoices read per payment before reading more (x4 each time)
_COMPACT_MIN = 1024  # settled positions tolerated in `live` beyond a quarter of it
_DIRTY_MIN = 4096  # slack before `pending` and `partial` are cleaned of stale entries
_LONG_GROUP = 32  # exact-amount groups longer than this are cut at the window end
_KEY_LIMIT = 2**62  # customer x amount keys at or above this use ranked amounts

_EMPTY = np.zeros(0, dtype=np.int64)
_ALLOCATION_COLUMNS = [
    "payment_id", "invoice_id", "amount", "payment_date", "customer_id", "rule", "effective_date",
]
_UNAPPLIED_COLUMNS = ["payment_id", "customer_id", "payment_date", "amount"]


@dataclass
class CashApplication:
    """Result of :func:`apply_cash`: every allocation, and the cash left unapplied.

    Attributes
    ----------
    allocations : DataFrame
        One row per (payment, invoice, rule): ``payment_id``, ``invoice_id``,
        ``amount`` (int64 fen, > 0), ``payment_date``, ``customer_id`` (of the
        payment), ``rule`` (categorical, one of :data:`RULES`) and
        ``effective_date`` (the later of the payment and invoice dates: cash
        received before its invoice is applied on the invoice date). Ordered by
        payment date, then by the payments' order in the ledger, then in the
        order the money was applied (explicit rows first).
        A payment can appear twice for one invoice, once ``explicit`` and once
        by a rule.
    unapplied : DataFrame
        One row per payment with cash that no invoice of the ledger takes
        (预收款 still open after the last invoice): ``payment_id``,
        ``customer_id``, ``payment_date`` and ``amount`` (int64 fen, > 0), in
        the same order. For the cash unapplied on a given day, see
        :meth:`unapplied_as_of`.
    """

    allocations: pd.DataFrame
    unapplied: pd.DataFrame

    def unapplied_as_of(self, as_of) -> pd.DataFrame:
        """Return the cash received by ``as_of`` and not applied to an invoice by then.

        That is the cash in :attr:`unapplied` plus the allocations that take
        effect after ``as_of`` (cash received before the invoice it pays).

        Parameters
        ----------
        as_of : date-like
            Valuation date.

        Returns
        -------
        DataFrame
            As :attr:`unapplied`: one row per payment dated on or before
            ``as_of`` with cash unapplied that day, ordered by payment date,
            then payment_id.
        """
        day = np.datetime64(kernel.day_of(as_of), "D")
        a, u = self.allocations, self.unapplied
        paid = np.asarray(a["payment_date"], "datetime64[D]") <= day
        later = a[paid & (np.asarray(a["effective_date"], "datetime64[D]") > day)]
        u = u[np.asarray(u["payment_date"], "datetime64[D]") <= day]
        both = pd.concat([u, later[_UNAPPLIED_COLUMNS]], ignore_index=True)
        out = both.groupby(["payment_date", "payment_id", "customer_id"], sort=True,
                           as_index=False, observed=True, dropna=False)["amount"].sum()
        return out[_UNAPPLIED_COLUMNS].astype({"amount": np.int64}).reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Count and amount per rule, then the unapplied cash and the total.

        Returns
        -------
        DataFrame
            Indexed by ``rule``: the five :data:`RULES` (``count`` of
            allocation rows, ``amount`` in int64 fen), ``"unapplied"`` (payments
            with cash left, and that cash) and ``"total"`` (payments, and all
            the amounts above: the cash received, when no payment's explicit
            allocations exceed it).
        """
        codes = self.allocations["rule"].cat.codes.to_numpy()
        amounts = self.allocations["amount"].to_numpy(dtype=np.int64)
        count = np.bincount(codes, minlength=len(RULES)).astype(np.int64)
        amount = np.zeros(len(RULES), dtype=np.int64)
        np.add.at(amount, codes, amounts)
        unapplied = self.unapplied["amount"].to_numpy(dtype=np.int64)
        payments = pd.concat([self.allocations["payment_id"], self.unapplied["payment_id"]])
        return pd.DataFrame(
            {
                "count": [*count, len(unapplied), payments.nunique()],
                "amount": [*amount, unapplied.sum(), amount.sum() + unapplied.sum()],
            },
            index=pd.Index([*RULES, "unapplied", "total"], name="rule"),
            dtype=np.int64,
        )


def apply_cash(ledger: Ledger) -> CashApplication:
    """Apply every payment of a ledger to invoices (核销), keeping recorded allocations.

    The rules, the open amount of an invoice and the point-in-time guarantee are
    described in :mod:`medrisk.receivables`.

    Parameters
    ----------
    ledger : Ledger
        Needs ``invoices`` and ``payments``; uses ``allocations`` and
        ``adjustments`` when present, and ``payments.reference`` when that
        column exists. Money in int64 fen, dates ``datetime64``.

    Returns
    -------
    CashApplication
        ``allocations`` (explicit rows and rule allocations, each labelled with
        its rule) and ``unapplied`` cash per payment. For each payment,
        allocations plus unapplied cash equal its amount whenever its explicit
        allocations do not exceed it.

    Raises
    ------
    SchemaError
        When invoice ids or payment ids are not unique.

    Examples
    --------
    One customer, four invoices and four receipts (money in fen): P1 is
    allocated by finance, P3 names its invoice, P2 matches an invoice's amount
    and P4 pays the oldest due first; its 300 元 left over wait as the
    customer's credit (预收款) until I4 is issued on 08-01:

    >>> import pandas as pd
    >>> from medrisk import Ledger
    >>> from medrisk.receivables import apply_cash
    >>> ledger = Ledger.from_frames(
    ...     customers=pd.DataFrame({"customer_id": ["C1"]}),
    ...     invoices=pd.DataFrame({
    ...         "invoice_id": ["I1", "I2", "I3", "I4"], "customer_id": ["C1"] * 4,
    ...         "invoice_date": pd.to_datetime(["2025-01-10", "2025-02-10", "2025-03-10",
    ...                                         "2025-08-01"]),
    ...         "due_date": pd.to_datetime(["2025-04-10", "2025-05-10", "2025-06-10",
    ...                                     "2025-11-01"]),
    ...         "amount": [1_000_00, 2_000_00, 3_000_00, 500_00]}),
    ...     payments=pd.DataFrame({
    ...         "payment_id": ["P1", "P2", "P3", "P4"], "customer_id": ["C1"] * 4,
    ...         "payment_date": pd.to_datetime(["2025-04-01", "2025-05-01", "2025-06-01",
    ...                                         "2025-07-01"]),
    ...         "amount": [500_00, 3_000_00, 1_800_00, 1_000_00],
    ...         "reference": [None, None, "I2", None]}),
    ...     allocations=pd.DataFrame({"payment_id": ["P1"], "invoice_id": ["I1"],
    ...                               "amount": [500_00]}),
    ... )
    >>> result = apply_cash(ledger)
    >>> result.allocations[["payment_id", "invoice_id", "amount", "rule", "effective_date"]]
      payment_id invoice_id  amount          rule effective_date
    0         P1         I1   50000      explicit     2025-04-01
    1         P2         I3  300000  exact_amount     2025-05-01
    2         P3         I2  180000     reference     2025-06-01
    3         P4         I1   50000    oldest_due     2025-07-01
    4         P4         I2   20000    oldest_due     2025-07-01
    5         P4         I4   30000       advance     2025-08-01
    >>> result.summary()
                  count  amount
    rule
    explicit          1   50000
    reference         1  180000
    exact_amount      1  300000
    oldest_due        2   70000
    advance           1   30000
    unapplied         0       0
    total             4  630000

    The allocations as of a date are the rows in effect by then; the rest of
    the cash received by then is unapplied that day:

    >>> int(result.allocations.query("effective_date <= '2025-07-31'")["amount"].sum())
    600000
    >>> result.unapplied_as_of("2025-07-31")
      payment_id customer_id payment_date  amount
    0         P4          C1   2025-07-01   30000
    >>> result.unapplied_as_of("2025-08-01").empty
    True
    """
    inv, pay = ledger.invoices, ledger.payments
    explicit = _non_empty(ledger.table("allocations"))
    adjustments = _non_empty(ledger.table("adjustments"))
    references = pay["reference"] if "reference" in pay.columns else None
    n_inv, n_pay = len(inv), len(pay)

    # -- ids to row numbers (-1: unknown or missing) ---------------------------
    inv_rows = _row_numbers(
        inv["invoice_id"],
        {
            "reference": references,
            "explicit": None if explicit is None else explicit["invoice_id"],
            "adjustment": None if adjustments is None else adjustments["invoice_id"],
        },
        table="invoices",
        column="invoice_id",
    )
    pay_rows = _row_numbers(
        pay["payment_id"],
        {"explicit": None if explicit is None else explicit["payment_id"]},
        table="payments",
        column="payment_id",
    )
    cust, _ = pd.factorize(pd.concat([inv["customer_id"], pay["customer_id"]], ignore_index=True))
    cust = cust.astype(np.int64)
    n_cust = int(cust.max()) + 1 if len(cust) else 0
    inv_cust, pay_cust = cust[:n_inv], cust[n_inv:]
    inv_day, pay_day = kernel.days(inv["invoice_date"]), kernel.days(pay["payment_date"])
    inv_amt = inv["amount"].to_numpy(dtype=np.int64)
    pay_amt = pay["amount"].to_numpy(dtype=np.int64)

    # -- explicit allocations hold their amounts on payment and invoice --------
    explicit_by_inv = np.zeros(n_inv, dtype=np.int64)
    explicit_by_pay = np.zeros(n_pay, dtype=np.int64)
    if explicit is not None:
        e_amt = explicit["amount"].to_numpy(dtype=np.int64)
        for rows, total in (
            (inv_rows["explicit"], explicit_by_inv),
            (pay_rows["explicit"], explicit_by_pay),
        ):
            known = rows >= 0
            np.add.at(total, rows[known], e_amt[known])

    # -- invoices by position: customer, due date, invoice date, id ------------
    order = _sort_rows([inv_cust, kernel.days(inv["due_date"]), inv_day], inv["invoice_id"])
    pos_of_row = np.empty(n_inv, dtype=np.int64)
    pos_of_row[order] = np.arange(n_inv)
    k_cust, k_day = inv_cust[order], inv_day[order]
    cap = (inv_amt - explicit_by_inv)[order]  # open amount before adjustments and rules
    cust_start = np.searchsorted(k_cust, np.arange(n_cust), side="left")

    days = [inv_day, pay_day]
    adj_pos = adj_day = adj_amt = None
    if adjustments is not None:
        known = inv_rows["adjustment"] >= 0
        adj_pos = pos_of_row[inv_rows["adjustment"][known]]
        adj_day = kernel.days(adjustments["adjustment_date"])[known]
        adj_amt = adjustments["amount"].to_numpy(dtype=np.int64)[known]
        days.append(adj_day)
    days = [d for d in days if len(d)]
    day0 = min((int(d.min()) for d in days), default=0)
    span = max((int(d.max()) for d in days), default=0) - day0 + 2
    adjusted = _AdjustmentsToDate(adj_pos, adj_day, adj_amt, n_inv, day0, span)

    # -- payments: by (customer, date, id) to apply, by (date, row) to report --
    chain = _sort_rows([pay_cust, pay_day], pay["payment_id"])
    by_date = np.argsort(pay_day, kind="stable")
    c_chain = pay_cust[chain]
    hi = _window_end(k_cust, k_day, cust_start, c_chain, pay_day[chain], day0, span)
    ref_pos = np.full(n_pay, -1, dtype=np.int64)
    later_ref = np.full(n_pay, -1, dtype=np.int64)  # named invoice issued after the payment
    if references is not None:
        named = np.flatnonzero(inv_rows["reference"] >= 0)
        rp = pos_of_row[inv_rows["reference"][named]]
        mine = k_cust[rp] == pay_cust[named]
        ok = mine & (k_day[rp] <= pay_day[named])
        ref_pos[named[ok]] = rp[ok]
        later_ref[named[mine & ~ok]] = rp[mine & ~ok]

    # -- the rules, round by round ---------------------------------------------
    # round k holds the k-th payment of every customer (customers in order)
    rank = np.arange(n_pay) - np.searchsorted(c_chain, c_chain, side="left")
    in_rounds = np.argsort(rank, kind="stable")  # indices into the chain
    bounds = np.concatenate([[0], np.cumsum(np.bincount(rank))]).astype(np.int64)
    rows = chain[in_rounds]
    remaining = np.maximum(pay_amt - explicit_by_pay, 0)[rows]
    r_cust, r_day, r_ref = pay_cust[rows], pay_day[rows], ref_pos[rows]
    r_hi = hi[in_rounds]
    has_ref = np.logical_or.reduceat(r_ref >= 0, bounds[:-1]) if n_pay else []
    engine = _Engine(cap, k_cust, k_day, cust_start, adjusted, n_cust)
    credit = _Credit(engine, chain, c_chain, later_ref[chain], day0, span)
    for k, (b0, b1) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        c, idx = r_cust[b0:b1], in_rounds[b0:b1]
        credit.apply(c, r_day[b0:b1] - day0, idx)  # to invoices issued since c's last payment
        engine.apply_round(
            rows[b0:b1], c, r_day[b0:b1], remaining[b0:b1],
            r_ref[b0:b1] if has_ref[k] else None, r_hi[b0:b1],
        )
        credit.add(idx, c, remaining[b0:b1])
    credit.apply_to_the_end()
    unapplied_amt = np.zeros(n_pay, dtype=np.int64)
    unapplied_amt[chain] = credit.left

    # -- results, by payment date then ledger row, explicit rows first --------
    pay_rank = np.empty(n_pay, dtype=np.int64)
    pay_rank[by_date] = np.arange(n_pay)
    out_pay, rec_pos, out_amt, out_rule = engine.records()
    out_inv = order[rec_pos]
    key = pay_rank[out_pay]
    n_expl = 0
    if explicit is not None:
        n_expl = len(explicit)
        e_pay, e_inv = pay_rows["explicit"], inv_rows["explicit"]
        out_pay, out_inv = np.concatenate([e_pay, out_pay]), np.concatenate([e_inv, out_inv])
        out_amt = np.concatenate([explicit["amount"].to_numpy(dtype=np.int64), out_amt])
        out_rule = np.concatenate([np.full(n_expl, _EXPLICIT, dtype=np.int8), out_rule])
        # rows naming an unknown payment go last
        key = np.concatenate([np.where(e_pay >= 0, pay_rank[np.maximum(e_pay, 0)], n_pay), key])
    seq = np.argsort(key, kind="stable")
    out_pay, out_inv = out_pay[seq], out_inv[seq]
    payment_id = _take(pay["payment_id"], out_pay)
    invoice_id = _take(inv["invoice_id"], out_inv)
    if n_expl and ((e_pay < 0).any() or (e_inv < 0).any()):
        # explicit rows keep ids the ledger does not know, as they are
        fix = np.flatnonzero((seq < n_expl) & ((out_pay < 0) | (out_inv < 0)))
        payment_id[fix] = explicit["payment_id"].to_numpy()[seq[fix]]
        invoice_id[fix] = explicit["invoice_id"].to_numpy()[seq[fix]]
    payment_date = pd.Series(_take(pay["payment_date"], out_pay))
    issued = pd.Series(_take(inv["invoice_date"], out_inv)).astype(payment_date.dtype)
    allocations = pd.DataFrame(
        {
            "payment_id": payment_id,
            "invoice_id": invoice_id,
            "amount": out_amt[seq],
            "payment_date": payment_date,
            "customer_id": _take(pay["customer_id"], out_pay),
            "rule": pd.Categorical.from_codes(out_rule[seq], categories=list(RULES)),
            # a payment before its invoice takes effect on the invoice date
            "effective_date": payment_date.where(~(issued > payment_date), issued),
        },
        columns=_ALLOCATION_COLUMNS,
    )

    left = by_date[unapplied_amt[by_date] > 0]
    unapplied = pd.DataFrame(
        {
            "payment_id": _take(pay["payment_id"], left),
            "customer_id": _take(pay["customer_id"], left),
            "payment_date": _take(pay["payment_date"], left),
            "amount": unapplied_amt[left],
        },
        columns=_UNAPPLIED_COLUMNS,
    )
    return CashApplication(allocations=allocations, unapplied=unapplied)


class _Engine:
    """Apply payments round by round, each round vectorised over its payments.

    Invoices are addressed by *position*: their place in rule order (customer,
    due date, invoice date, id), so each customer's invoices are one block.
    Within a round every customer appears at most once, so the positions
    touched by different payments of a round never coincide and plain
    fancy-index updates are safe.

    Four structures keep the work per payment near the number of invoices it
    pays, rather than the number its customer has open:

    * ``live``: positions not yet settled (compacted now and then), and
      ``lo[customer]``, the first position that may still be open. The
      oldest-due rule reads a payment's window of ``live`` chunk by chunk and
      stops when the cash is used up.
    * the exact-amount index: positions grouped by (customer, amount net of
      explicit allocations and of all adjustments), in position order within
      a group. An entry is right for an invoice no rule has touched once its
      last adjustment is dated on or before the payment; ``ptr`` skips the
      entries of a group that can never match again.
    * the partial index: invoices partly paid by a rule, sorted by (customer,
      amount left net of all adjustments), added when paid; an entry is stale
      once its invoice is paid again, and stale entries are dropped now and then.
    * ``pending``: sorted positions of invoices whose adjustments are not all
      dated by their customer's latest payment; the exact-amount rule checks
      those in the payment's window one by one.

    A position is *settled* once its open amount at its customer's latest
    payment date is zero or less; open amounts never grow, so it stays so.
    """

    def __init__(self, cap, k_cust, k_day, cust_start, adjusted, n_cust):
        n = len(cap)
        self.n = n
        self.cap, self.k_cust, self.k_day, self.adjusted = cap, k_cust, k_day, adjusted
        self.ruled = np.zeros(n, dtype=np.int64)  # rule allocations so far
        self.settled = np.zeros(n, dtype=bool)
        self.lo = cust_start.copy()
        self.live = np.arange(n)
        self.newly_settled = 0
        self.cust_day = np.full(n_cust, np.iinfo(np.int64).min)
        self.pending = np.flatnonzero(adjusted.has)
        self.in_pending = adjusted.has.copy()
        self.pending_base = len(self.pending)
        self.pending_scanned = 0
        self.part_key = np.zeros(0, dtype=np.int64)
        self.part_pos = np.zeros(0, dtype=np.int64)
        self.part_base = 0
        self.out: list[tuple] = []

        value = cap - adjusted.total
        cand = np.flatnonzero(value > 0)
        value = value[cand]
        self.vspan = int(value.max()) + 1 if len(cand) else 1
        self.values = None  # amounts are ranked only when customer x amount could overflow
        if n_cust * self.vspan >= _KEY_LIMIT:
            self.values = _sorted_unique(value)
            self.vspan = len(self.values)
            value = np.searchsorted(self.values, value)
        comb = self.key_of(k_cust[cand], value)
        o = np.argsort(comb, kind="stable")  # positions stay ascending within a group
        self.ex_pos, comb = cand[o], comb[o]
        first = np.ones(len(comb), dtype=bool)
        first[1:] = comb[1:] != comb[:-1]
        start = np.flatnonzero(first)
        self.group_key = comb[start]
        self.group_end = np.append(start[1:], len(comb))
        self.ex_key = (np.cumsum(first) - 1) * (n + 1) + self.ex_pos  # (group, position)
        self.ptr = start

    def key_of(self, cust, amount):
        return cust * self.vspan + amount

    def record(self, rows, pos, amt, rule) -> None:
        self.out.append((rows, pos, amt, np.full(len(rows), rule, dtype=np.int8)))

    def records(self):
        """Concatenated (payment row, invoice position, amount, rule code)."""
        if not self.out:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, np.zeros(0, dtype=np.int8)
        return tuple(np.concatenate(part) for part in zip(*self.out, strict=True))

    def open_raw(self, pos, day):
        """Open amount at ``day``, ignoring the issue date; may be negative."""
        return self.cap[pos] - self.ruled[pos] - self.adjusted(pos, day)

    def apply_round(self, rows, c, d, rem, ref, h) -> None:
        """Apply one payment per customer by all the rules; ``rem`` is updated in place.

        ``ref`` is None when no payment of the round names an invoice.
        """
        touched: list[tuple[np.ndarray, np.ndarray]] = []  # positions paid, open after
        if ref is not None:
            k = ((ref >= 0) & (rem > 0)).nonzero()[0]
            ip = ref[k]
            raw = self.open_raw(ip, d[k])
            amt = np.minimum(rem[k], raw)
            ok = amt > 0
            k, ip, amt = k[ok], ip[ok], amt[ok]
            if len(k):
                self.ruled[ip] += amt
                rem[k] -= amt
                self.record(rows[k], ip, amt, _REFERENCE)
                touched.append((ip, raw[ok] - amt))
        e = (rem > 0).nonzero()[0]
        if len(e):
            best = self.find_exact(c[e], d[e], rem[e], h[e])
            m = (best < self.n).nonzero()[0]
            if len(m):
                k, ip = e[m], best[m]
                amt = rem[k]
                self.ruled[ip] += amt
                rem[k] = 0
                self.record(rows[k], ip, amt, _EXACT)
                touched.append((ip, np.zeros(len(ip), dtype=np.int64)))
            f = (rem > 0).nonzero()[0]
            if len(f):
                self.oldest_due(rows, c, d, rem, h, f, touched)
        if touched:
            self.book(np.concatenate([t[0] for t in touched]),
                      np.concatenate([t[1] for t in touched]))
        self.cust_day[c] = d
        self.maintain()

    def book(self, pos, after) -> None:
        """Note positions given money: settled when nothing is left open, else partial."""
        done = after <= 0
        self.settled[pos[done]] = True
        self.newly_settled += int(done.sum())
        part = pos[~done]
        if not len(part):
            return
        if self.values is not None:  # amounts ranked: partial invoices are checked one by one
            new = part[~self.in_pending[part]]
            if len(new):
                new.sort()
                self.pending = np.insert(self.pending, np.searchsorted(self.pending, new), new)
                self.in_pending[new] = True
            return
        value = self.cap[part] - self.ruled[part] - self.adjusted.total[part]
        part = part[value > 0]
        key = self.key_of(self.k_cust[part], value[value > 0])
        o = np.argsort(key, kind="stable")
        at = np.searchsorted(self.part_key, key[o])
        self.part_key = np.insert(self.part_key, at, key[o])
        self.part_pos = np.insert(self.part_pos, at, part[o])

    def find_exact(self, ce, de, re_, he) -> np.ndarray:
        """Per payment, the oldest-due invoice whose open amount equals its cash (n if none).

        Changes nothing but the group pointers, each of which only moves past
        entries that can never match again.
        """
        n = self.n
        best = np.full(len(ce), n, dtype=np.int64)
        if len(self.group_key):
            if self.values is None:
                amount = np.minimum(re_, self.vspan - 1)
                known = amount == re_
            else:
                amount = np.minimum(np.searchsorted(self.values, re_), self.vspan - 1)
                known = self.values[amount] == re_
            comb = self.key_of(ce, amount)
            g = np.minimum(np.searchsorted(self.group_key, comb), len(self.group_key) - 1)
            q = (known & (self.group_key[g] == comb)).nonzero()[0]
            if len(q):
                g, dq, hq = g[q], de[q], he[q]
                s, t = self.ptr[g], self.group_end[g]
                big = (t - s > _LONG_GROUP).nonzero()[0]  # long groups: stop at the window end
                if len(big):
                    cut = np.searchsorted(self.ex_key, g[big] * (n + 1) + hq[big])
                    t[big] = np.maximum(cut, s[big])
                ent, seg, _ = _ranges(s, t)
                pos = self.ex_pos[ent]
                dseg = dq[seg]
                gone = (self.ruled[pos] > 0) | self.settled[pos]
                valid = (
                    ~gone
                    & (pos < hq[seg])
                    & (self.k_day[pos] <= dseg)
                    & (self.adjusted.last[pos] <= dseg)
                )
                hit, hs = _first_per_segment(valid.nonzero()[0], seg)
                best[q[hs]] = pos[hit]
                keep, ks = _first_per_segment((~gone).nonzero()[0], seg)
                ptr = t.copy()
                ptr[ks] = ent[keep]
                self.ptr[g] = ptr
        if len(self.part_key) and self.values is None:
            q = (re_ < self.vspan).nonzero()[0]
            key = self.key_of(ce[q], re_[q])
            s = np.searchsorted(self.part_key, key, side="left")
            t = np.searchsorted(self.part_key, key, side="right")
            ent, seg, _ = _ranges(s, t)
            if len(ent):
                pos = self.part_pos[ent]
                dseg = de[q][seg]
                valid = (
                    ~self.settled[pos]
                    & (self.cap[pos] - self.ruled[pos] - self.adjusted.total[pos] == re_[q][seg])
                    & (pos < he[q][seg])
                    & (self.k_day[pos] <= dseg)
                    & (self.adjusted.last[pos] <= dseg)
                )
                np.minimum.at(best, q[seg[valid]], pos[valid])
        if len(self.pending):
            s = np.searchsorted(self.pending, self.lo[ce])
            t = np.maximum(np.searchsorted(self.pending, he), s)
            ent, seg, _ = _ranges(s, t)
            if len(ent):
                self.pending_scanned += len(ent)
                pos = self.pending[ent]
                dseg = de[seg]
                match = (self.open_raw(pos, dseg) == re_[seg]) & (self.k_day[pos] <= dseg)
                hit, hs = _first_per_segment(match.nonzero()[0], seg)
                best[hs] = np.minimum(best[hs], pos[hit])
        return best

    def oldest_due(self, rows, c, d, rem, h, f, touched) -> None:
        """Spread the remaining cash over open invoices, oldest due first, chunk by chunk."""
        live = self.live
        cf, df_, hf = c[f], d[f], h[f]
        a = np.searchsorted(live, self.lo[cf])
        b = np.searchsorted(live, hf)
        new_lo = hf.copy()  # nothing live before the window end: all of it is settled
        found = np.zeros(len(f), dtype=bool)
        act = (b > a).nonzero()[0]
        start = a
        chunk = _FIRST_CHUNK
        while len(act):
            s = start[act]
            t = np.minimum(s + chunk, b[act])
            ent, seg, offs = _ranges(s, t)
            pos = live[ent]
            dseg = df_[act][seg]
            raw = self.open_raw(pos, dseg)
            open_ = np.where(self.k_day[pos] <= dseg, np.maximum(raw, 0), 0)
            cash = rem[f[act]]
            csum = np.cumsum(open_)
            before = csum - open_
            base = before[offs]
            alloc = np.minimum(np.maximum(cash[seg] - (before - base[seg]), 0), open_)
            g = alloc.nonzero()[0]
            if len(g):
                amt = alloc[g]
                self.ruled[pos[g]] += amt
                raw[g] -= amt
                self.record(rows[f[act[seg[g]]]], pos[g], amt, _OLDEST)
                touched.append((pos[g], raw[g]))
                cash = cash - np.minimum(cash, csum[offs + (t - s) - 1] - base)
                rem[f[act]] = cash
            dead = raw <= 0
            self.settled[pos[dead]] = True
            self.newly_settled += int(dead.sum())
            # the first position still open becomes the customer's new lo
            fa, fs = _first_per_segment((~dead).nonzero()[0], seg)
            fresh = ~found[act[fs]]
            new_lo[act[fs[fresh]]] = pos[fa[fresh]]
            found[act[fs]] = True
            more = (cash > 0) & (t < b[act])
            stop = ~more & ~found[act]
            ts = t[stop]
            new_lo[act[stop]] = np.where(
                ts < b[act][stop], live[np.minimum(ts, len(live) - 1)], hf[act][stop]
            )
            start[act] = t
            act = act[more]
            chunk *= 4
        self.lo[cf] = np.maximum(self.lo[cf], new_lo)

    def maintain(self) -> None:
        """Drop settled and stale entries from ``live``, ``pending`` and the partial index.

        Each cleaning costs a pass over the structure, so it is done only once
        the structure has doubled, or (``pending``) once the exact-amount rule
        has read as many entries as it holds.
        """
        if self.newly_settled > len(self.live) // 4 + _COMPACT_MIN:
            self.live = self.live[~self.settled[self.live]]
            self.newly_settled = 0
        if len(self.pending) and (
            len(self.pending) > 2 * self.pending_base + _DIRTY_MIN
            or self.pending_scanned > len(self.pending) + _DIRTY_MIN
        ):
            pos = self.pending
            keep = ~self.settled[pos] & (
                self.adjusted.last[pos] > self.cust_day[self.k_cust[pos]]
            )
            if self.values is not None:  # partial invoices are kept here too
                keep |= ~self.settled[pos] & (self.ruled[pos] > 0)
            self.in_pending[pos[~keep]] = False
            self.pending = pos[keep]
            self.pending_base = len(self.pending)
            self.pending_scanned = 0
        if len(self.part_key) > 2 * self.part_base + _DIRTY_MIN:
            pos = self.part_pos
            value = self.cap[pos] - self.ruled[pos] - self.adjusted.total[pos]
            keep = ~self.settled[pos] & (self.key_of(self.k_cust[pos], value) == self.part_key)
            self.part_key, self.part_pos = self.part_key[keep], pos[keep]
            self.part_base = len(self.part_key)


class _Credit:
    """Unapplied cash (预收款) of each customer, applied to its invoices as they are issued.

    Payments are addressed by their index in the chain (customer, date, id).
    A customer's credit is ``left`` of its chain entries ``head[c]`` up to its
    payment being applied, ``total[c]`` in all. While a customer has credit,
    every invoice issued to it by its last payment date is settled (the
    oldest-due rule only leaves cash once nothing is open), so credit only
    meets invoices issued after that date. Before each payment, and once after
    the last one, :meth:`apply` gives the credit to the invoices issued since,
    day by day: on an invoice's issue day, first the credit of payments naming
    it (``reference``), then all the credit, oldest payment first, to that
    day's invoices in rule order (``advance``). Without names in the way, all
    the days are done at once by merging cumulative sums of cash and of open
    amounts; each issue day of a named invoice cuts that merge in two.
    """

    def __init__(self, engine, chain, c_chain, later_ref, day0, span):
        n_cust = len(engine.cust_day)
        self.e, self.chain, self.day0, self.span = engine, chain, day0, span
        self.left = np.zeros(len(chain), dtype=np.int64)
        self.total = np.zeros(n_cust, dtype=np.int64)
        self.head = np.searchsorted(c_chain, np.arange(n_cust), side="left")
        self.end = np.searchsorted(c_chain, np.arange(n_cust), side="right")
        # invoice positions in issue order (customer, invoice date, then rule order)
        self.iss = np.lexsort((engine.k_day, engine.k_cust))
        self.iss_key = engine.k_cust[self.iss] * span + (engine.k_day[self.iss] - day0)
        # chain entries naming an invoice issued after them, by (customer, issue day, entry)
        named = np.flatnonzero(later_ref >= 0)
        key = c_chain[named] * span + (engine.k_day[later_ref[named]] - day0)
        o = np.argsort(key, kind="stable")
        self.ref_at, self.ref_key, self.ref_pos = named[o], key[o], later_ref[named[o]]

    def add(self, idx, c, rem) -> None:
        """Keep what the payments at chain entries ``idx`` (customers ``c``) leave unapplied."""
        self.left[idx] = rem
        empty = self.total[c] == 0
        self.head[c[empty]] = idx[empty]
        self.total[c] += rem

    def apply_to_the_end(self) -> None:
        """Apply the credit left after every customer's last payment to later invoices."""
        c = np.flatnonzero(self.total > 0)
        self.apply(c, np.full(len(c), self.span - 1, dtype=np.int64), self.end[c])

    def apply(self, c, upto, cur) -> None:
        """Apply credit of customers ``c`` (ascending) to invoices issued since their last payment.

        Invoices issued by day ``day0 + upto`` are reached; ``cur`` is the
        chain entry of the payment about to be applied (the end of the credit).
        """
        keep = self.total[c] > 0
        if not keep.any():
            return
        c, upto, cur = c[keep], upto[keep], cur[keep]
        base = c * self.span
        last = np.maximum(self.e.cust_day[c], self.day0 - 1) - self.day0
        a = np.searchsorted(self.iss_key, base + last, side="right")
        b = np.searchsorted(self.iss_key, base + upto, side="right")
        r0 = np.searchsorted(self.ref_key, base + last, side="right")
        r1 = np.searchsorted(self.ref_key, base + upto, side="right")
        act = np.flatnonzero(b > a)
        while len(act):
            named = r0[act] < r1[act]
            stop = b[act]
            day_key = self.ref_key[r0[act][named]]
            stop[named] = np.searchsorted(self.iss_key, day_key, side="left")
            self.oldest_first(c[act], a[act], stop, cur[act])
            a[act] = stop
            act = act[named]
            if len(act):  # the credit of payments naming an invoice of that day
                r_end = np.searchsorted(self.ref_key, day_key, side="right")
                self.named(r0[act], r_end)
                r0[act] = r_end
                act = act[self.total[c[act]] > 0]

    def open_at_issue(self, pos):
        """Open amount of invoice positions on their issue day (at least 0)."""
        e = self.e
        return np.maximum(e.cap[pos] - e.ruled[pos] - e.adjusted(pos, e.k_day[pos]), 0)

    def named(self, s, t) -> None:
        """Apply the credit of chain entries ``ref_at[s:t]`` to the invoices they name."""
        ent, _, _ = _ranges(s, t)
        j, pos = self.ref_at[ent], self.ref_pos[ent]
        live = self.left[j] > 0
        j, pos = j[live], pos[live]
        if not len(j):
            return
        o = np.lexsort((j, pos))  # by invoice, then oldest payment first
        j, pos = j[o], pos[o]
        cash = self.left[j]
        csum = np.cumsum(cash)
        first = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
        before = csum - cash - np.repeat(csum[first] - cash[first], np.diff(np.r_[first, len(j)]))
        amt = np.minimum(cash, np.maximum(self.open_at_issue(pos) - before, 0))
        g = amt > 0
        self.give(j[g], pos[g], amt[g], _REFERENCE)

    def oldest_first(self, c, a, b, cur) -> None:
        """Apply credit, oldest payment first, to invoices ``iss[a:b]`` of customers ``c``."""
        keep = (b > a) & (self.total[c] > 0)
        c, a, b, cur = c[keep], a[keep], b[keep], cur[keep]
        if not len(c):
            return
        ent, seg, offs = _ranges(a, b)
        pos = self.iss[ent]
        open_ = self.open_at_issue(pos)
        o_sum = np.cumsum(open_)
        o_base = o_sum[offs] - open_[offs]
        need = o_sum[offs + (b - a) - 1] - o_base
        # read credit entries from the head, chunk by chunk, until they cover the need
        start, got, chunk = self.head[c].copy(), np.zeros(len(c), dtype=np.int64), _FIRST_CHUNK
        parts, act = [], np.flatnonzero(need > 0)
        while len(act):
            t = np.minimum(start[act] + chunk, cur[act])
            je, js, j_offs = _ranges(start[act], t)
            if len(je):
                parts.append((je, act[js]))
                read = t > start[act]
                got[act[read]] += np.add.reduceat(self.left[je], j_offs[read])
            start[act] = t
            act = act[(got[act] < need[act]) & (t < cur[act])]
            chunk *= 4
        if not parts:
            return
        j = np.concatenate([p[0] for p in parts])
        o = np.argsort(j, kind="stable")
        j, jseg = j[o], np.concatenate([p[1] for p in parts])[o]
        # one axis for all customers: customer k moves x[k] from off[k] on
        x = np.minimum(got, need)
        off = np.cumsum(x) - x
        cash = self.left[j]
        c_sum = np.cumsum(cash)
        j_first = np.flatnonzero(np.r_[True, jseg[1:] != jseg[:-1]])
        c_base = np.repeat(c_sum[j_first] - cash[j_first], np.diff(np.r_[j_first, len(j)]))
        cash_end = off[jseg] + np.minimum(c_sum - c_base, x[jseg])
        open_end = off[seg] + np.minimum(o_sum - o_base[seg], x[seg])
        cuts = _sorted_unique(np.concatenate([cash_end, open_end, off]))
        at = cuts[:-1]
        self.give(
            j[np.searchsorted(cash_end, at, side="right")],
            pos[np.searchsorted(open_end, at, side="right")],
            np.diff(cuts),
            _ADVANCE,
        )
        # the new head: the first entry read with cash left, else the first not read
        fa, fs = _first_per_segment(np.flatnonzero(self.left[j] > 0), jseg)
        head = start.copy()
        head[fs] = j[fa]
        self.head[c] = head

    def give(self, j, pos, amt, rule) -> None:
        """Apply ``amt`` of chain entries ``j`` to invoice positions ``pos``, and record it."""
        if not len(j):
            return
        e = self.e
        np.add.at(e.ruled, pos, amt)
        np.subtract.at(self.left, j, amt)
        np.subtract.at(self.total, e.k_cust[pos], amt)
        e.record(self.chain[j], pos, amt, rule)
        paid = _sorted_unique(pos)
        e.book(paid, e.cap[paid] - e.ruled[paid] - e.adjusted(paid, e.k_day[paid]))


def _sort_rows(keys: list[np.ndarray], ids: pd.Series) -> np.ndarray:
    """Row order by integer ``keys`` (first key major), ties broken by id.

    Only rows tied on every key have their (string) ids compared.
    """
    n = len(ids)
    combined, size = np.zeros(n, dtype=np.int64), 1
    for key in keys:
        low = int(key.min()) if n else 0
        width = (int(key.max()) - low + 1) if n else 1
        size *= width
        if size >= 2**62:  # does not fit one int64: sort on the keys as they are
            combined = None
            break
        combined = combined * width + (key - low)
    if combined is None:
        order = np.lexsort(keys[::-1])
        same = np.ones(max(n - 1, 0), dtype=bool)
        for key in keys:
            k = key[order]
            same &= k[1:] == k[:-1]
    else:
        order = np.argsort(combined, kind="stable")
        k = combined[order]
        same = k[1:] == k[:-1]
    if not same.any():
        return order
    tied = np.zeros(n, dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    at = np.flatnonzero(tied)
    run = np.cumsum(np.concatenate([[True], ~same]))[at]
    sub = order[at]
    id_rank = np.empty(len(sub), dtype=np.int64)
    id_rank[ids.take(sub).argsort(kind="stable").to_numpy()] = np.arange(len(sub))
    order[at] = sub[np.lexsort((id_rank, run))]
    return order


def _ranges(start: np.ndarray, stop: np.ndarray):
    """Concatenate ``arange(start[k], stop[k])`` over k (stop >= start).

    Returns the elements, the segment k of each, and where each segment begins.
    """
    length = stop - start
    csum = np.cumsum(length)
    offs = csum - length
    total = int(csum[-1]) if len(csum) else 0
    if not total:
        return _EMPTY, _EMPTY, offs
    seg = np.repeat(np.arange(len(start)), length)
    return np.arange(total) + np.repeat(start - offs, length), seg, offs


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, without its slow hash path on numpy 2.4)."""
    x = np.sort(x)
    keep = np.ones(len(x), dtype=bool)
    keep[1:] = x[1:] != x[:-1]
    return x[keep]


def _first_per_segment(hits: np.ndarray, seg: np.ndarray):
    """Of element indices ``hits`` (ascending), those first in their segment, and the segments."""
    g = seg[hits]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return hits[first], g[first]


class _AdjustmentsToDate:
    """Sum of the adjustments of invoice positions dated on or before given days.

    Also per position: ``has`` (any adjustment), ``total`` (all of them) and
    ``last`` (day of the last one; the smallest int64 when none).
    """

    def __init__(self, pos, day, amount, n_inv, day0, span):
        self.day0, self.span = day0, span
        self.has = np.zeros(n_inv, dtype=bool)
        self.total = np.zeros(n_inv, dtype=np.int64)
        self.last = np.full(n_inv, np.iinfo(np.int64).min)
        self.any = pos is not None and len(pos) > 0
        if not self.any:
            return
        o = np.lexsort((day, pos))
        pos, day, amount = pos[o], day[o], amount[o]
        self.pos = pos
        self.key = pos * span + (day - day0)
        csum = np.cumsum(amount)
        start = np.searchsorted(pos, pos, side="left")
        self.cum = csum - (csum[start] - amount[start])  # running total within each invoice
        end = np.flatnonzero(np.append(pos[1:] != pos[:-1], True))  # last row per position
        self.has[pos] = True
        self.total[pos[end]] = self.cum[end]
        self.last[pos[end]] = day[end]

    def __call__(self, pos: np.ndarray, day: np.ndarray) -> np.ndarray:
        out = np.zeros(len(pos), dtype=np.int64)
        if not self.any:
            return out
        m = np.flatnonzero(self.has[pos])
        if len(m):
            p = pos[m]
            j = np.searchsorted(self.key, p * self.span + (day[m] - self.day0), side="right") - 1
            jc = np.maximum(j, 0)
            out[m] = np.where((j >= 0) & (self.pos[jc] == p), self.cum[jc], 0)
        return out


def _window_end(k_cust, k_day, cust_start, pay_cust, pay_day, day0, span) -> np.ndarray:
    """Per payment, 1 + the last position (in rule order) of an invoice issued by its date.

    Every invoice a payment may be applied to lies before this position; when
    the customer has no invoice issued yet, the window is empty.
    """
    hi = cust_start[pay_cust].copy() if len(cust_start) else np.zeros(len(pay_cust), np.int64)
    if not len(k_cust) or not len(pay_cust):
        return hi
    by_issue = np.lexsort((k_day, k_cust))
    key = k_cust[by_issue] * span + (k_day[by_issue] - day0)
    # customers' positions are increasing blocks, so a global running max is a
    # running max within each customer
    last = np.maximum.accumulate(by_issue)
    j = np.searchsorted(key, pay_cust * span + (pay_day - day0), side="right") - 1
    jc = np.maximum(j, 0)
    ok = (j >= 0) & (k_cust[by_issue[jc]] == pay_cust)
    hi[ok] = last[jc[ok]] + 1
    return hi


def _row_numbers(
    ids: pd.Series, lookups: dict[str, pd.Series | None], table: str, column: str
) -> dict[str, np.ndarray]:
    """Row number in ``ids`` of each value of each lookup column (-1: not found or missing)."""
    parts = [s for s in lookups.values() if s is not None]
    codes, _ = pd.factorize(pd.concat([ids, *parts], ignore_index=True) if parts else ids)
    n = len(ids)
    # factorize numbers values by first appearance: unique ids get codes 0..n-1
    if not np.array_equal(codes[:n], np.arange(n)):
        bad = ids[ids.duplicated()]
        raise SchemaError(
            f"{table}.{column} must be unique for cash application; got duplicates such as "
            f"{bad.iloc[:3].tolist() if len(bad) else 'a missing id'}."
        )
    out, at = {}, n
    for name, s in lookups.items():
        if s is None:
            continue
        c = codes[at : at + len(s)].astype(np.int64)
        c[c >= n] = -1
        out[name] = c
        at += len(s)
    return out


def _take(s: pd.Series, rows: np.ndarray):
    """Values of ``s`` at row numbers ``rows``; -1 gives a missing value."""
    return s.array.take(np.asarray(rows, dtype=np.int64), allow_fill=True)


def _non_empty(df: pd.DataFrame | None) -> pd.DataFrame | None:
    return df if df is not None and len(df) else None
