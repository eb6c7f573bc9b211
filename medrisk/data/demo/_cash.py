"""Payment behaviour of the demo company: lateness, defaults, receipts, adjustments, dunning.

Private to :mod:`medrisk.data.demo`; the design is described in that module's docstring.
Day numbers are days since 1970-01-01, money is integer fen.
"""

from __future__ import annotations

import numpy as np

from medrisk.data.demo._base import Calendar, lny_offset, month_of, month_start, sort_order, weekday
from medrisk.data.demo._sales import METHOD_PROBS, choose

#: The outcome whose true probability is stored: not paid in full within this many days of due.
LATE_AFTER_DAYS = 30
#: Stages of the dunning process: (name, days after due, probability an action is recorded).
STAGES = (
    ("pre_due_reminder", -3, 0.80),
    ("overdue_call", 1, 0.90),
    ("supervisor_escalation", 15, 0.85),
    ("finance_letter", 45, 0.80),
    ("legal_review", 120, 0.50),
)
#: Outcome probabilities per stage, over config.ACTION_OUTCOMES
#: (no_answer, contacted, promise_to_pay, dispute, refused, paid) plus "none" last.
OUTCOME_PROBS = np.array([
    [0.00, 0.60, 0.00, 0.00, 0.00, 0.00, 0.40],
    [0.20, 0.25, 0.45, 0.10, 0.00, 0.00, 0.00],
    [0.10, 0.30, 0.35, 0.10, 0.15, 0.00, 0.00],
    [0.00, 0.20, 0.20, 0.00, 0.00, 0.00, 0.60],
    [0.00, 0.00, 0.20, 0.00, 0.30, 0.00, 0.50],
])
#: Action channel codes (config.ACTION_CHANNELS: email, sms, call, visit, letter, legal) per stage.
STAGE_CHANNELS = ((0, 1), (2,), (2, 3), (4,), (5,))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def late_probabilities(rng: np.random.Generator, inv: dict, cust: dict) -> dict:
    """Compute the true probabilities of default and of paying more than 30 days late.

    Returns
    -------
    dict
        ``p_default``, ``p_late_if_paid`` and ``p_late`` = p_default + (1 - p_default)
        x p_late_if_paid, per invoice.
    """
    c = inv["cust"]
    log_amount = np.log(inv["amount"].astype(np.float64))
    usual = np.bincount(c, log_amount, minlength=cust["n"]) / np.maximum(
        np.bincount(c, minlength=cust["n"]), 1)
    rel = np.clip(log_amount - usual[c], -2.5, 2.5)
    issued_dec = month_of(inv["invoice_day"]) == 12
    off = lny_offset(inv["due_day"])
    due_festival = (off >= -20) & (off <= 10)
    noise = 0.15 * rng.standard_normal(len(c))
    late_logit = (cust["late_logit"][c] + 0.30 * rel + 0.40 * issued_dec + 0.35 * due_festival
                  + noise)
    default_logit = cust["default_logit"][c] + 0.25 * rel + 0.5 * noise
    p_default = _sigmoid(default_logit)
    q = _sigmoid(late_logit)
    return {"p_default": p_default, "p_late_if_paid": q, "p_late": p_default + (1 - p_default) * q}


def _keep_side(candidate, fallback, due, invoice_day):
    """Move a payment date only when it stays on the same side of the late line."""
    ok = (((candidate - due) > LATE_AFTER_DAYS) == ((fallback - due) > LATE_AFTER_DAYS)) & (
        candidate > invoice_day)
    return np.where(ok, candidate, fallback), ok


def settlement(rng: np.random.Generator, inv: dict, cust: dict, probs: dict, cal: Calendar) -> dict:
    """Draw each invoice's fate: paid (when, in how many parts) or defaulted and written off.

    Returns
    -------
    dict
        Per invoice: ``defaulted``, ``settle_day`` (final payment or write-off day,
        may lie after the extract date), ``days_late`` (final payment - due; 0 for
        defaults), ``cn_amount``/``cn_day``, ``disc_amount``, ``parts``,
        ``payable``, ``partial_amount``/``partial_day`` (defaults), ``wo_amount``
        (write-off amount) and ``late_outcome`` (the drawn outcome).
    """
    n = len(inv["cust"])
    c = inv["cust"]
    due, day0, amount = inv["due_day"], inv["invoice_day"], inv["amount"]
    defaulted = rng.random(n) < probs["p_default"]
    late = rng.random(n) < probs["p_late_if_paid"]
    early = np.minimum(20, (due - day0) - 10)
    alpha = 0.6 + 1.4 * _sigmoid(cust["late_logit"][c])
    spread = rng.beta(alpha, 1.6)
    on_time = np.floor(-early + (LATE_AFTER_DAYS + 1 + early) * spread).astype(np.int64)
    excess = cust["excess_days"][c]
    late_days = LATE_AFTER_DAYS + 1 + np.minimum(np.floor(rng.gamma(1.3, excess / 1.3)), 900)
    raw = due + np.where(late, late_days, on_time).astype(np.int64)
    # batch payers pay on their monthly payment-run day; weekends move to the Friday before
    run = month_start(raw) + cust["run_day"][c] - 1
    run = np.where(run < raw, month_start(month_start(raw) + 31) + cust["run_day"][c] - 1, run)
    batch = cust["batch_payer"][c]
    settle, _ = _keep_side(np.where(batch, run, raw), raw, due, day0)
    wd = weekday(settle)
    settle, _ = _keep_side(settle - np.select([wd == 5, wd == 6], [1, 2], 0), settle, due, day0)
    # defaults: written off 8-20 months after due, sometimes after a part payment
    wo_after = rng.integers(240, 601, n)
    wo_day = due + wo_after
    settle = np.where(defaulted, wo_day, settle)
    # credit notes (returns), before the invoice settles
    supply = inv["category"] != 0
    cn_rate = np.where(defaulted, 0.10, np.where(supply, 0.03, 0.015))
    has_cn = (rng.random(n) < cn_rate) & (amount >= 2)
    cn_amount = np.where(has_cn, np.clip(np.round(amount * (0.03 + 0.27 * rng.random(n))), 1,
                                         amount - 1), 0).astype(np.int64)
    cn_day = day0 + np.maximum(1, np.minimum(rng.integers(3, 46, n), settle - day0 - 1))
    payable = amount - cn_amount
    # parts and early-payment discounts for paid invoices
    days_late = np.where(defaulted, 0, settle - due)
    u = rng.random(n)
    parts = np.where((u < 0.04) & (payable >= 10_000) & (settle - day0 >= 10), 3,
                     np.where((u < 0.12) & (payable >= 10_000) & (settle - day0 >= 10), 2, 1))
    parts = np.where(defaulted, 0, parts)
    disc = (~defaulted & (parts == 1) & (days_late <= -10) & cust["discount_taker"][c]
            & (payable >= 10_000))
    disc_amount = np.where(disc, payable * (1 + (rng.random(n) < 0.5)) // 100, 0)
    partial = defaulted & (rng.random(n) < 0.35) & (payable >= 1_000)
    partial_amount = np.where(partial, np.floor(payable * (0.1 + 0.5 * rng.random(n))), 0).astype(
        np.int64)
    partial_amount = np.where(partial, np.maximum(partial_amount, 1), 0)
    partial_day = due + 10 + np.floor(rng.random(n) * (wo_after - 40)).astype(np.int64)
    return {
        "defaulted": defaulted, "settle_day": settle, "days_late": days_late,
        "cn_amount": cn_amount, "cn_day": cn_day, "disc_amount": disc_amount, "parts": parts,
        "payable": payable, "partial_amount": partial_amount, "partial_day": partial_day,
        "wo_amount": np.where(defaulted, payable - partial_amount, 0), "late_outcome":
        defaulted | (days_late > LATE_AFTER_DAYS),
    }


def receipts(rng: np.random.Generator, inv: dict, cust: dict, fate: dict, cal: Calendar) -> dict:
    """Payments, allocations and adjustments up to the extract date.

    Returns
    -------
    dict
        ``payments`` (``cust``, ``day``, ``amount``, ``method``, ``reference`` invoice
        position or -1), ``allocations`` (``payment``, ``invoice``, ``amount``),
        ``adjustments`` (``invoice``, ``day``, ``amount``, ``kind`` code), and per
        invoice ``paid`` and ``adjusted`` totals and ``final_amount`` (last receipt).
    """
    n = len(inv["cust"])
    c, day0 = inv["cust"], inv["invoice_day"]
    settle, parts = fate["settle_day"], fate["parts"]
    to_pay = fate["payable"] - fate["disc_amount"]
    # instalments: parts-1 early pieces of 10-50% before the final one
    n_early = np.maximum(parts - 1, 0)
    k = np.repeat(np.arange(n), n_early)
    j = np.arange(len(k)) - np.repeat(np.cumsum(n_early) - n_early, n_early)
    share = np.where(parts[k] == 3, 0.1 + 0.2 * rng.random(len(k)), 0.2 + 0.3 * rng.random(len(k)))
    early_amount = np.maximum(1, np.floor(to_pay[k] * share)).astype(np.int64)
    frac = 0.25 + 0.65 * (j + rng.random(len(k))) / (parts[k] - 1)
    early_day = day0[k] + np.floor(frac * (settle[k] - day0[k])).astype(np.int64)
    paid_early = np.bincount(k, early_amount, minlength=n).astype(np.int64)
    paid_inv = np.flatnonzero(parts > 0)
    final_amount = np.where(fate["defaulted"], fate["wo_amount"], to_pay - paid_early)
    pd_inv = np.flatnonzero(fate["partial_amount"] > 0)
    piece_inv = np.concatenate([k, paid_inv, pd_inv])
    piece_day = np.concatenate([early_day, settle[paid_inv], fate["partial_day"][pd_inv]])
    piece_amount = np.concatenate([early_amount, final_amount[paid_inv],
                                   fate["partial_amount"][pd_inv]])
    piece_batch = np.concatenate([np.zeros(len(k), bool), cust["batch_payer"][c[paid_inv]],
                                  np.zeros(len(pd_inv), bool)])
    keep = piece_day <= cal.end
    piece_inv, piece_day = piece_inv[keep], piece_day[keep]
    piece_amount, piece_batch = piece_amount[keep], piece_batch[keep]

    # one payment per piece, except a batch payer's run pays all its invoices due that day
    pc = c[piece_inv]
    key = np.where(piece_batch, pc.astype(np.int64) * (1 << 21) + piece_day,
                   -1 - np.arange(len(piece_inv), dtype=np.int64))
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    order = sort_order(piece_day[first], pc[first], first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    pay_of_piece = rank[group]
    alloc_order = sort_order(pay_of_piece, piece_inv)
    a_pay, a_inv = pay_of_piece[alloc_order], piece_inv[alloc_order]
    a_amt = piece_amount[alloc_order]
    starts = np.flatnonzero(np.r_[len(a_pay) > 0, a_pay[1:] != a_pay[:-1]])
    pay_amount = np.add.reduceat(a_amt, starts) if len(starts) else np.zeros(0, np.int64)
    pay_count = np.diff(np.r_[starts, len(a_pay)])
    p_cust = pc[first][order]
    n_pay = len(order)
    reference = np.where((pay_count == 1) & (rng.random(n_pay) < 0.8), a_inv[starts], -1)
    method = choose(rng, METHOD_PROBS, cust["ctype"][p_cust])

    # adjustments: credit notes, early-payment discounts, write-offs (kinds 0, 2, 1)
    cn = np.flatnonzero((fate["cn_amount"] > 0) & (fate["cn_day"] <= cal.end))
    dc = np.flatnonzero((fate["disc_amount"] > 0) & (settle <= cal.end))
    wo = np.flatnonzero(fate["defaulted"] & (settle <= cal.end) & (fate["wo_amount"] > 0))
    adj_inv = np.concatenate([cn, dc, wo])
    adj_day = np.concatenate([fate["cn_day"][cn], settle[dc], settle[wo]])
    adj_amount = np.concatenate([fate["cn_amount"][cn], fate["disc_amount"][dc],
                                 fate["wo_amount"][wo]])
    adj_kind = np.repeat(np.array([0, 2, 1]), [len(cn), len(dc), len(wo)])
    adj_order = sort_order(adj_day, adj_inv, adj_kind)
    return {
        "payments": {"cust": p_cust, "day": piece_day[first][order], "amount": pay_amount,
                     "method": method, "reference": reference},
        "allocations": {"payment": a_pay, "invoice": a_inv, "amount": a_amt},
        "adjustments": {"invoice": adj_inv[adj_order], "day": adj_day[adj_order],
                        "amount": adj_amount[adj_order], "kind": adj_kind[adj_order]},
        "paid": np.bincount(piece_inv, piece_amount, minlength=n).astype(np.int64),
        "adjusted": np.bincount(adj_inv, adj_amount, minlength=n).astype(np.int64),
        "final_amount": final_amount,
    }


def collection_actions(rng: np.random.Generator, inv: dict, fate: dict, money: dict,
                       cal: Calendar) -> dict:
    """Dunning history: one action per stage an invoice reached unpaid, up to the extract date.

    Returns
    -------
    dict
        In action-id order: ``invoice``, ``day``, ``stage``, ``channel``, ``actor_kind``
        (0 salesperson, 1 team lead, 2 finance, 3 legal), ``outcome`` (code into
        config.ACTION_OUTCOMES, -1 none), ``promise_day`` (-1 none), ``promise_amount``.
    """
    n = len(inv["cust"])
    unpaid_until = np.where(fate["defaulted"], np.iinfo(np.int64).max, fate["settle_day"])
    parts = []
    for s, (_, after, prob) in enumerate(STAGES):  # five stages
        jitter = 0 if after < 0 else rng.integers(0, 1 + after // 10 + 2, n)
        day = inv["due_day"] + after + jitter
        p = np.full(n, prob) if s < 4 else np.where(fate["defaulted"], 0.9, prob)
        hit = np.flatnonzero((unpaid_until > day) & (day <= cal.end) & (rng.random(n) < p))
        parts.append((np.full(len(hit), s), hit, day[hit]))
    stage = np.concatenate([p[0] for p in parts])
    invoice = np.concatenate([p[1] for p in parts])
    day = np.concatenate([p[2] for p in parts])
    order = sort_order(day, invoice, stage)
    stage, invoice, day = stage[order], invoice[order], day[order]
    m = len(stage)
    outcome = choose(rng, OUTCOME_PROBS, stage)
    disputed = ((fate["cn_amount"][invoice] > 0) & (stage >= 1) & (stage <= 2)
                & (rng.random(m) < 0.3))
    outcome = np.where(disputed, 3, outcome)
    outcome = np.where(outcome == OUTCOME_PROBS.shape[1] - 1, -1, outcome)
    n_ch = np.array([len(ch) for ch in STAGE_CHANNELS])
    ch_table = np.array([ch + (ch[0],) * (2 - len(ch)) for ch in STAGE_CHANNELS])
    channel = ch_table[stage, np.floor(rng.random(m) * n_ch[stage]).astype(np.int64)]
    settle = fate["settle_day"][invoice]
    kept = ~fate["defaulted"][invoice] & (settle - day <= 45)
    promise_day = np.where(kept, settle + rng.integers(0, 6, m), day + rng.integers(7, 31, m))
    promise = outcome == 2
    remaining = money["final_amount"][invoice]
    return {
        "invoice": invoice, "day": day, "stage": stage, "channel": channel,
        "actor_kind": np.array([0, 0, 1, 2, 3])[stage], "outcome": outcome,
        "promise_day": np.where(promise, promise_day, -1),
        "promise_amount": np.where(promise & (remaining > 0), remaining, 0),
    }
