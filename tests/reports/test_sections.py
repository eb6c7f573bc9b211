"""Report sections: what each needs, the note that replaces it, and what the run index records."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import tiny_tables

from medrisk.data import Ledger
from medrisk.data.demo import make_shape
from medrisk.exceptions import InsufficientDataError, MissingTableError
from medrisk.reports import (
    DIMENSION_NEEDS,
    SECTION_NEEDS,
    Need,
    ReportContext,
    Skip,
    attempt,
    skip_text,
)
from medrisk.reports._present import Recorder


@pytest.fixture
def shown(monkeypatch):
    """What the report displays (the HTML text of each display call), outside a kernel."""
    import IPython.display

    out: list[str] = []
    monkeypatch.setattr(IPython.display, "display",
                        lambda *objs, **kw: out.extend(getattr(o, "data", str(o)) for o in objs))
    return out


def three_table_ledger() -> Ledger:
    tables, _ = make_shape("three_tables", n_invoices=300)
    return Ledger.from_frames(**tables)


def context(ledger, report="20-credit-risk", language="en", path=""):
    return ReportContext(report, ledger, "", Recorder(path, report), language, "2026-10-31")


def test_a_need_is_met_only_by_a_table_with_rows_and_a_value_in_each_column():
    full = Ledger(tiny_tables())
    assert Need("targets").met(full) and Need("customers", ("credit_limit",)).met(full)
    three = three_table_ledger()
    assert not Need("targets").met(three)  # no such table
    assert not Need("customers", ("credit_limit",)).met(three)  # no such column
    blank = full.with_tables(customers=full.customers.assign(credit_limit=pd.NA))
    assert not Need("customers", ("credit_limit",)).met(blank)  # the column holds no value
    empty = full.with_tables(targets=full.targets.iloc[:0])
    assert not Need("targets").met(empty)  # no rows


def test_every_declared_need_names_a_table_and_columns_of_the_contract():
    from medrisk.data import SCHEMAS

    needs = [n for sections in SECTION_NEEDS.values() for ns in sections.values() for n in ns]
    needs += list(DIMENSION_NEEDS.values())
    for need in needs:
        columns = SCHEMAS[need.table].to_schema().columns
        assert set(need.columns) <= set(columns), need


@pytest.mark.parametrize("language,words", [
    ("en", ["Not shown: Credit-limit use", "customers.credit_limit", "customers.csv",
            "tables: customers: columns:"]),
    ("zh", ["未显示：信用额度占用", "客户表（customers）的 credit_limit 列", "映射文件"]),
])
def test_the_note_says_what_is_missing_and_how_to_provide_it(language, words):
    text = skip_text(Skip("credit_breaches", (Need("customers", ("credit_limit",)),)), language)
    for w in words:
        assert w in text
    table = skip_text(Skip("disputes", (Need("collection_actions"),)), language)
    assert "collection_actions.csv" in table and "tables: collection_actions:" in table


def test_a_section_without_its_data_shows_the_note_and_nothing_of_its_body(shown, capsys,
                                                                          tmp_path):
    figures = tmp_path / "f.json"
    ctx = context(three_table_ledger(), path=str(figures))
    with ctx.section("credit_breaches") as s:
        print("BODY OUTPUT")
        raise KeyError("what a body without its data may raise")
    assert not s.ok
    assert "BODY OUTPUT" not in capsys.readouterr().out
    assert "customers.credit_limit" in shown[-1] and "Credit-limit use" in shown[0]
    recorded = json.loads(figures.read_text(encoding="utf-8"))["skipped"]
    assert recorded == [{"key": "credit_breaches", "label_zh": "信用额度占用",
                         "label_en": "Credit-limit use", "needs": ["customers (credit_limit)"],
                         "reason_en": "", "reason_zh": ""}]


def test_a_section_with_its_data_runs_and_real_errors_still_fail(shown, capsys):
    ctx = context(Ledger(tiny_tables()))
    with ctx.section("credit_breaches") as s:
        print("BODY OUTPUT")
    assert s.ok and "BODY OUTPUT" in capsys.readouterr().out
    with pytest.raises(ZeroDivisionError), ctx.section("credit_breaches"):
        1 / 0  # noqa: B018 - a bug in a section is not hidden
    assert ctx.record.skips == []


def test_an_undeclared_missing_table_or_too_little_history_becomes_a_note(shown):
    ctx = context(Ledger(tiny_tables()), language="zh")
    with ctx.section("drift"):
        raise MissingTableError("products", "drift", ["sku"])
    with ctx.section("model_quality"):
        raise InsufficientDataError("only 3 invoices", "只有 3 张发票")
    assert [s.key for s in ctx.record.skips] == ["drift", "model_quality"]
    out = "".join(shown)
    assert "产品表（products）" in out and "只有 3 张发票" in out


def test_a_part_the_summary_left_out_is_left_out_of_its_section_too(shown, capsys):
    ctx = context(Ledger(tiny_tables()))
    assert ctx.attempt("cash.backtest", lambda: (_ for _ in ()).throw(
        InsufficientDataError("the data ends too early"))) is None
    with ctx.section("cash.backtest") as s:
        print("BODY OUTPUT")
    assert not s.ok and "BODY OUTPUT" not in capsys.readouterr().out


def test_attempt_keeps_other_errors_and_returns_the_value():
    skips: list = []
    assert attempt(skips, "x", lambda a, b=0: a + b, 1, b=2) == 3 and skips == []
    with pytest.raises(ValueError):
        attempt(skips, "x", int, "not a number")


def test_dimensions_without_values_are_noted_not_charted(shown):
    ctx = context(three_table_ledger(), report="10-receivables")
    assert ctx.dimensions(["region", "customer_type", "team", "product_line"]) == []
    full = context(Ledger(tiny_tables()), report="10-receivables")
    assert full.dimensions(["region", "team", "product_line"]) == ["region", "team",
                                                                  "product_line"]
    assert [s.key for s in ctx.record.skips] == ["dim.region", "dim.customer_type", "dim.team",
                                                 "dim.product_line"]
    assert "salespeople (team)" in json.dumps([s.as_dict() for s in ctx.record.skips])
