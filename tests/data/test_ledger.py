"""The Ledger is a value: it never changes, and it owns what is derived from it."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import tiny_tables

from medrisk import open_items
from medrisk.data import Ledger
from medrisk.receivables import allocations_of, cash_application_of, event_book


@pytest.fixture()
def ledger() -> Ledger:
    return Ledger.from_frames(**tiny_tables())


def test_attributes_cannot_be_set(ledger):
    for name, hint in [("source", "replace"), ("origin", "replace"), ("load_report", "replace"),
                       ("invoices", "with_tables"), ("anything", "with_tables")]:
        with pytest.raises(AttributeError, match=rf"cannot be changed: use ledger\.{hint}"):
            setattr(ledger, name, None)


def test_changing_a_table_handed_out_changes_nothing_in_the_ledger(ledger):
    before = ledger.fingerprint()
    open_before = open_items(ledger, "2025-12-31")["open_amount"].sum()
    inv = ledger.invoices
    inv["amount"] = 1  # copy-on-write: this is the caller's frame now
    inv.loc[0, "customer_id"] = "C9"
    for frame in (ledger.tables["payments"], ledger.table("payments"), ledger.payments):
        frame["amount"] = 0
    cust = ledger.require("customers")
    cust["credit_limit"] = 0
    assert ledger.fingerprint() == before
    assert ledger.invoices["amount"].tolist() == tiny_tables()["invoices"]["amount"].tolist()
    assert open_items(ledger, "2025-12-31")["open_amount"].sum() == open_before
    with pytest.raises(TypeError):
        ledger.tables["invoices"] = inv  # the mapping itself is read-only


def test_derived_state_is_built_once_and_owned_by_its_ledger(ledger):
    calls = []

    def build(led, k):
        calls.append(k)
        return len(led.invoices) * k

    assert ledger.derive(build, 2) == ledger.derive(build, 2)
    assert ledger.derive(build, 3) != ledger.derive(build, 2)
    assert calls == [2, 3]
    assert event_book(ledger) is event_book(ledger)
    assert cash_application_of(ledger) is cash_application_of(ledger)


def test_a_new_ledger_starts_afresh_and_the_old_one_keeps_its_answers(ledger):
    book = event_book(ledger)
    before = open_items(ledger, "2025-12-31")
    inv = ledger.invoices
    doubled = ledger.with_tables(invoices=inv.assign(amount=inv["amount"] * 2))
    assert event_book(doubled) is not book
    assert (open_items(doubled, "2025-12-31")["open_amount"].sum()
            > before["open_amount"].sum())
    pd.testing.assert_frame_equal(open_items(ledger, "2025-12-31"), before)
    assert event_book(ledger) is book
    # a removed optional table is gone from the new ledger only
    fewer = ledger.with_tables(collection_actions=None)
    assert not fewer.has("collection_actions") and ledger.has("collection_actions")


def test_replace_and_scope_keep_what_they_should(ledger):
    origin = {"kind": "database", "url": "sqlite:///x.db"}
    db = ledger.replace(origin=origin, source="sqlite:///x.db")
    assert db.origin == origin and db.source == "sqlite:///x.db"
    assert ledger.origin is None and ledger.source == "frames"
    db.origin["kind"] = "changed"  # a copy: the ledger's origin stays as it was
    assert db.origin["kind"] == "database"
    east = db.scope(salesperson_id="S2")
    assert set(east.customers["customer_id"]) == {"C2", "C3"}
    assert east.origin == origin and east.source == db.source  # scoped runs keep data_origin
    assert set(east.invoices["customer_id"]) <= {"C2", "C3"}
    assert len(allocations_of(east)) <= len(allocations_of(db))
