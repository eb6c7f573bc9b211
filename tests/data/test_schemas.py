"""Every rule of every schema, each with a case that breaks it."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import tiny_tables

from medrisk.data import RELATIONS, SCHEMAS, Ledger, required_columns, validate_frames
from medrisk.exceptions import ValidationError


def _breaking_value(check_name: str, stats: dict):
    """A value that breaks a pandera column check."""
    if check_name == "greater_than":
        return stats["min_value"] - 1 if stats["min_value"] != 0 else -1
    if check_name == "greater_than_or_equal_to":
        return stats["min_value"] - 1
    if check_name == "less_than":
        return stats["max_value"] + (0.5 if isinstance(stats["max_value"], float) else 1)
    if check_name == "less_than_or_equal_to":
        return stats["max_value"] + 1
    if check_name == "isin":
        return "no_such_value"
    if check_name == "str_matches":
        return "cny!"
    if check_name == "str_length":
        return ""
    raise AssertionError(f"no breaking value known for check {check_name}: add one")


def column_rules():
    for table, model in SCHEMAS.items():
        for col_name, col in model.to_schema().columns.items():
            for check in col.checks:
                yield pytest.param(table, col_name, check.name,
                                   _breaking_value(check.name, check.statistics),
                                   id=f"{table}.{col_name}.{check.name}")


def _first_row_set(tables, table, column, value):
    df = tables[table].copy()
    df[column] = df[column].astype(object)
    df.loc[0, column] = value
    tables[table] = df
    return tables


def test_tiny_tables_are_valid():
    accepted, report, _ = validate_frames(tiny_tables(), strict=True)
    assert report.quarantined == 0
    assert ({t: len(df) for t, df in accepted.items()}
            == {t: len(df) for t, df in tiny_tables().items()})


@pytest.mark.slow  # one full validation per rule of every table
@pytest.mark.parametrize("table,column,check,value", list(column_rules()))
def test_each_column_rule_quarantines_the_row_that_breaks_it(table, column, check, value):
    tables = _first_row_set(tiny_tables(), table, column, value)
    accepted, report, failures = validate_frames(tables, strict=False)
    tr = report.tables[table]
    assert tr.quarantined >= 1
    assert tr.rows_read == tr.accepted + tr.quarantined
    reasons = failures[table]
    assert 0 in set(reasons["pos"]), reasons
    assert column in reasons.loc[reasons["pos"] == 0, "reason"].iloc[0]


@pytest.mark.slow
@pytest.mark.parametrize("table,column,check,value", list(column_rules()))
def test_each_column_rule_raises_in_strict_mode(table, column, check, value):
    tables = _first_row_set(tiny_tables(), table, column, value)
    with pytest.raises(ValidationError, match=rf"row 2, column '{column}'.*expected"):
        Ledger.from_frames(**tables)


@pytest.mark.slow
@pytest.mark.parametrize(
    "table,column",
    [(t, c) for t in SCHEMAS for c in required_columns(t)],
)
def test_required_column_left_empty_is_quarantined(table, column):
    tables = _first_row_set(tiny_tables(), table, column, None)
    _, report, failures = validate_frames(tables, strict=False)
    assert report.tables[table].quarantined >= 1
    assert "is required but empty" in failures[table].iloc[0]["reason"]


def unique_keys():
    for table, model in SCHEMAS.items():
        schema = model.to_schema()
        for name, col in schema.columns.items():
            if col.unique:
                yield pytest.param(table, [name], id=f"{table}.{name}")
        if schema.unique:
            yield pytest.param(table, list(schema.unique), id=f"{table}.{'+'.join(schema.unique)}")


@pytest.mark.parametrize("table,key", list(unique_keys()))
def test_duplicate_ids_keep_the_first_row_and_quarantine_the_rest(table, key):
    tables = tiny_tables()
    df = tables[table]
    if len(df) < 2:
        df = pd.concat([df, df], ignore_index=True)
    else:
        df = df.copy()
        for k in key:
            df[k] = df[k].astype(object)
            df.loc[1, k] = df.loc[0, k]
    tables[table] = df
    accepted, report, failures = validate_frames(tables, strict=False)
    assert list(failures[table]["pos"]) == [1] or 1 in set(failures[table]["pos"])
    assert "duplicate" in failures[table].set_index("pos").loc[1, "reason"]
    assert "first seen at row 2" in failures[table].set_index("pos").loc[1, "reason"]


def test_due_date_before_invoice_date_is_quarantined():
    t = tiny_tables()
    t["invoices"].loc[0, "due_date"] = pd.Timestamp("2024-12-31")
    with pytest.raises(ValidationError, match="due_date must be on or after invoice_date"):
        Ledger.from_frames(**t)


def test_expiry_not_after_production_is_quarantined():
    t = tiny_tables()
    t["batches"].loc[0, "expiry_date"] = t["batches"].loc[0, "production_date"]
    with pytest.raises(ValidationError, match="expiry_date must be after production_date"):
        Ledger.from_frames(**t)


def test_target_period_must_be_a_month_start():
    t = tiny_tables()
    t["targets"].loc[0, "period"] = pd.Timestamp("2025-01-15")
    with pytest.raises(ValidationError, match="first day of a month"):
        Ledger.from_frames(**t)


def test_every_frame_wide_rule_is_covered_above():
    names = {c.name for m in SCHEMAS.values() for c in m.to_schema().checks}
    assert names == {"due_on_or_after_invoice", "expiry_after_production", "period_is_month_start"}


@pytest.mark.parametrize("rel", RELATIONS, ids=lambda r: f"{r.child}.{r.column}->{r.parent}")
def test_foreign_id_that_does_not_exist_is_quarantined(rel):
    tables = _first_row_set(tiny_tables(), rel.child, rel.column, "NO-SUCH-ID")
    _, report, failures = validate_frames(tables, strict=False)
    reason = failures[rel.child].set_index("pos").loc[0, "reason"]
    assert f"not found in {rel.parent}.{rel.key}" in reason


def test_child_of_a_quarantined_parent_is_quarantined_with_that_reason():
    t = tiny_tables()
    t["customers"].loc[2, "credit_limit"] = -1  # C3 is quarantined ...
    _, report, failures = validate_frames(t, strict=False)
    # ... so its invoice I3 cannot be loaded either, and says why.
    reason = failures["invoices"].set_index("pos").loc[2, "reason"]
    assert re.search(r"customer_id = 'C3'.*quarantined", reason)
    for name, tr in report.tables.items():
        assert tr.rows_read == tr.accepted + tr.quarantined, name


def test_allocations_beyond_the_payment_amount_are_quarantined():
    t = tiny_tables()
    t["allocations"].loc[1, "amount"] = 1_000_01  # P2 paid 1,000.00; allocation asks 1,000.01
    t["adjustments"] = t["adjustments"].iloc[0:0]
    _, _, failures = validate_frames(t, strict=False)
    assert "more than its amount 1,000.00 元" in failures["allocations"].iloc[0]["reason"]


def test_allocations_plus_adjustments_beyond_the_invoice_amount_are_quarantined():
    t = tiny_tables()
    t["adjustments"].loc[0, "amount"] = 100_01  # I2: 900.00 paid + 100.01 discount > 1,000.00
    _, _, failures = validate_frames(t, strict=False)
    assert "of invoice I2 reach 1,000.01 元" in failures["adjustments"].iloc[0]["reason"]


def test_allocation_across_customers_is_quarantined():
    t = tiny_tables()
    t["allocations"].loc[1, "invoice_id"] = "I3"  # P2 is C2's payment, I3 is C3's invoice
    _, _, failures = validate_frames(t, strict=False)
    assert ("of customer C2 to invoice I3 of customer C3"
            in failures["allocations"].iloc[0]["reason"])


def test_missing_optional_table_is_reported_by_name():
    from medrisk.exceptions import MissingTableError

    t = tiny_tables()
    del t["batches"], t["shipments"]
    ledger = Ledger.from_frames(**t)
    assert ledger.batches is None
    with pytest.raises(MissingTableError,
                       match=r"no 'batches' table, which is needed for expiry.*expiry_date"):
        ledger.require("batches", "expiry", ["batch_id", "expiry_date"])
