"""Point-in-time features: definitions, brute-force checks and leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk.credit import (
    CATEGORICAL_FEATURES,
    FEATURES,
    customer_features,
    invoice_features,
    labels,
)
from medrisk.data import Ledger
from medrisk.data.demo import make_demo
from medrisk.receivables import open_items


@pytest.fixture(scope="module")
def company():
    return make_demo(5_000, seed=1)


@pytest.fixture(scope="module")
def feats(company):
    return invoice_features(company.ledger)


def _copy(ledger: Ledger, **changes) -> Ledger:
    tables = {k: v.copy() for k, v in ledger.tables.items()}
    tables.update(changes)
    return Ledger(tables, source="test copy")


# --------------------------------------------------------------------------- features
def test_feature_frame_shape_and_types(company, feats):
    assert list(feats.columns) == list(FEATURES)
    assert feats.index.name == "invoice_id" and len(feats) == len(company.ledger.invoices)
    for c in FEATURES:
        if c not in CATEGORICAL_FEATURES:
            assert feats[c].dtype == np.float64, c
    assert feats["hist_known"].min() == 0


def test_exposure_features_equal_open_items_without_the_invoice(company, feats):
    ledger = company.ledger
    inv = ledger.invoices
    rng = np.random.default_rng(0)
    for i in rng.choice(np.flatnonzero(inv["invoice_date"] > "2025-01-01"), 12, replace=False):
        x = inv.iloc[i]
        oi = open_items(ledger, x["invoice_date"])
        mine = oi[(oi["customer_id"] == x["customer_id"]) & (oi["invoice_id"] != x["invoice_id"])]
        open_amt = mine["open_amount"].clip(lower=0).sum()
        overdue = mine.loc[mine["status"] == "overdue", "open_amount"].sum()
        row = feats.loc[x["invoice_id"]]
        assert row["log_open_amount"] == pytest.approx(np.log1p(open_amt / 100))
        assert row["log_overdue_amount"] == pytest.approx(np.log1p(overdue / 100))
        assert row["max_days_past_due"] == mine.loc[mine["open_amount"] > 0, "days_past_due"].max()
        assert row["overdue_invoices"] == (mine["status"] == "overdue").sum()


def test_history_counts_only_outcomes_known_on_the_invoice_date(company, feats):
    """Brute force: hist_known / hist_late_share from labels as of the invoice date."""
    ledger = company.ledger
    inv = ledger.invoices
    rng = np.random.default_rng(1)
    for i in rng.choice(np.flatnonzero(inv["invoice_date"] > "2025-03-01"), 10, replace=False):
        x = inv.iloc[i]
        lab = labels(ledger, x["invoice_date"])
        # an outcome enters history no earlier than the day after its invoice date
        prior = lab[
            (lab["customer_id"] == x["customer_id"])
            & lab["known"]
            & (lab["invoice_date"] < x["invoice_date"])
        ]
        row = feats.loc[x["invoice_id"]]
        assert row["hist_known"] == len(prior)
        if len(prior):
            assert row["hist_late_share"] == pytest.approx(prior["label"].mean())
            recent = prior.sort_values("known_date", kind="stable").tail(5)
            assert row["hist_recent_known"] == len(recent)


def test_invoices_settled_later_are_not_known_as_on_time(company, feats):
    """The share paid late must not count invoices settled after the date as good."""
    ledger = company.ledger
    truth = company.truth_invoices.set_index("invoice_id")
    inv = ledger.invoices.set_index("invoice_id")
    cid = inv["customer_id"].value_counts().index[0]
    mine = inv[inv["customer_id"] == cid].sort_values("invoice_date")
    x = mine.index[len(mine) // 2]
    d = mine.loc[x, "invoice_date"]
    settled_by_d = (truth.loc[mine.index, "settle_date"] <= d) & (mine["invoice_date"] < d)
    assert feats.loc[x, "hist_known"] < (mine["invoice_date"] < d).sum()
    assert feats.loc[x, "hist_known"] >= settled_by_d[~truth.loc[mine.index, "late"]].sum()


# --------------------------------------------------------------------------- leakage
def _leak_case(company):
    """A busy customer's invoice X, its date D, and a ledger changed only after D."""
    ledger = company.ledger
    inv = ledger.invoices
    cid = inv["customer_id"].value_counts().index[0]
    mine = inv[inv["customer_id"] == cid].sort_values("invoice_date")
    x = mine.iloc[len(mine) // 2]
    D = x["invoice_date"]
    after = pd.Timedelta(days=1)
    pay, alloc = ledger.payments, ledger.allocations
    # drop every payment (and its allocations) dated after D, and every adjustment after D
    late_pay = pay["payment_date"] > D
    pay2 = pay[~late_pay]
    alloc2 = alloc[alloc["payment_id"].isin(pay2["payment_id"])]
    # ... then add new ones: a big payment the day after, a write-off, later invoices, actions
    older_open = open_items(ledger, D)
    older_open = older_open[
        (older_open["customer_id"] == cid)
        & (older_open["open_amount"] > 0)
        & (older_open["invoice_id"] != x["invoice_id"])
    ]
    y = older_open.iloc[0]
    pay2 = pd.concat(
        [
            pay2,
            pd.DataFrame(
                {
                    "payment_id": ["PX1"],
                    "customer_id": [cid],
                    "payment_date": [D + after],
                    "amount": [int(y["open_amount"])],
                    "method": ["银行转账"],
                    "reference": [y["invoice_id"]],
                }
            ),
        ],
        ignore_index=True,
    )
    adj = ledger.adjustments
    adj2 = pd.concat(
        [
            adj[adj["adjustment_date"] <= D],
            pd.DataFrame(
                {
                    "adjustment_id": ["AX1"],
                    "invoice_id": [x["invoice_id"]],
                    "adjustment_date": [D + 3 * after],
                    "amount": [int(x["amount"]) // 2],
                    "kind": ["write_off"],
                }
            ),
        ],
        ignore_index=True,
    )
    new_inv = pd.DataFrame(
        {
            "invoice_id": ["IX1", "IX2"],
            "customer_id": [cid, cid],
            "invoice_date": [D + after] * 2,
            "due_date": [D + after] * 2,
            "amount": [10**9, 10**9],
            "order_id": [None, None],
            "salesperson_id": [x["salesperson_id"]] * 2,
            "product_line": ["equipment"] * 2,
            "currency": ["CNY"] * 2,
        }
    )
    inv2 = pd.concat([inv, new_inv], ignore_index=True)
    inv2.loc[(inv2["invoice_date"] > D) & (inv2["customer_id"] == cid), "amount"] *= 3
    acts = ledger.collection_actions
    acts2 = pd.concat(
        [
            acts[acts["action_date"] <= D],
            pd.DataFrame(
                {
                    "action_id": ["AC1", "AC2"],
                    "customer_id": [cid, cid],
                    "invoice_id": [y["invoice_id"]] * 2,
                    "action_date": [D + after, D + 2 * after],
                    "stage": ["overdue_call"] * 2,
                    "channel": ["call"] * 2,
                    "actor": ["x"] * 2,
                    "outcome": ["dispute", "promise_to_pay"],
                    "promise_date": [pd.NaT, D + 5 * after],
                    "promise_amount": pd.array([None, 10**8], dtype="Int64"),
                }
            ),
        ],
        ignore_index=True,
    )
    changed = _copy(
        ledger,
        payments=pay2,
        allocations=alloc2,
        adjustments=adj2,
        invoices=inv2,
        collection_actions=acts2,
    )
    return x, D, changed


def test_nothing_dated_after_the_invoice_date_changes_its_features(company, feats):
    x, D, changed = _leak_case(company)
    other = invoice_features(changed)
    before = company.ledger.invoices.loc[company.ledger.invoices["invoice_date"] <= D, "invoice_id"]
    assert len(before) > 1_000
    pd.testing.assert_frame_equal(other.loc[before], feats.loc[before])
    # and the change is visible to invoices issued after D (the test can catch a leak)
    after = company.ledger.invoices.loc[company.ledger.invoices["invoice_date"] > D, "invoice_id"]
    assert not other.loc[after].equals(feats.loc[after])


def test_same_day_payment_counts_next_day_does_not(company, feats):
    """Events dated on the invoice date are known that day; the next day they are not."""
    ledger = company.ledger
    x, D, _ = _leak_case(company)
    cid = x["customer_id"]
    oi = open_items(ledger, D)
    y = oi[(oi["customer_id"] == cid) & (oi["open_amount"] > 0) & (oi["invoice_date"] < D)].iloc[0]

    def with_payment(day):
        pay = pd.concat(
            [
                ledger.payments,
                pd.DataFrame(
                    {
                        "payment_id": ["PX9"],
                        "customer_id": [cid],
                        "payment_date": [day],
                        "amount": [int(y["open_amount"])],
                        "method": ["银行转账"],
                        "reference": [y["invoice_id"]],
                    }
                ),
            ],
            ignore_index=True,
        )
        return invoice_features(_copy(ledger, payments=pay)).loc[x["invoice_id"]]

    same_day = with_payment(D)
    next_day = with_payment(D + pd.Timedelta(days=1))
    base = feats.loc[x["invoice_id"]]
    pd.testing.assert_series_equal(next_day, base)
    assert same_day["log_open_amount"] < base["log_open_amount"]


def test_own_same_day_payment_stays_out_of_own_features(company, feats):
    ledger = company.ledger
    x, D, _ = _leak_case(company)
    pay = pd.concat(
        [
            ledger.payments,
            pd.DataFrame(
                {
                    "payment_id": ["PX8"],
                    "customer_id": [x["customer_id"]],
                    "payment_date": [D],
                    "amount": [int(x["amount"])],
                    "method": ["银行转账"],
                    "reference": [x["invoice_id"]],
                }
            ),
        ],
        ignore_index=True,
    )
    alloc = pd.concat(
        [
            ledger.allocations,
            pd.DataFrame(
                {
                    "payment_id": ["PX8"],
                    "invoice_id": [x["invoice_id"]],
                    "amount": [int(x["amount"])],
                }
            ),
        ],
        ignore_index=True,
    )
    got = invoice_features(_copy(ledger, payments=pay, allocations=alloc)).loc[x["invoice_id"]]
    pd.testing.assert_series_equal(got, feats.loc[x["invoice_id"]])


# --------------------------------------------------------------------------- customers
def test_customer_features_describe_a_next_invoice(company):
    ledger = company.ledger
    cf = customer_features(ledger, "2026-06-30")
    assert set(FEATURES) <= set(cf.columns)
    assert {"open_amount", "sales_90d"} <= set(cf.columns)
    oi = open_items(ledger, "2026-06-30")
    open_by = oi.groupby("customer_id")["open_amount"].sum().clip(lower=0)
    np.testing.assert_array_equal(
        cf["open_amount"].to_numpy(),
        open_by.reindex(cf.index).fillna(0).astype(np.int64).to_numpy(),
    )
    assert (cf["terms_days"] > 0).all()
