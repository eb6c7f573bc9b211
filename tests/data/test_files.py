"""Loading messy company exports: formats, headers, mapping files, quarantine, errors."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
from conftest import tiny_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medrisk import Ledger, load_ledger, write_tables
from medrisk.exceptions import (
    MissingColumnsError,
    MissingTableError,
    ParamsError,
    SourceError,
    ValidationError,
)

CUSTOMERS_ZH = (
    "客户编码,客户名称,客户类型,信用额度,账期\n"
    "C1,上海市第一人民医院,三级医院,\"500,000.00\",180\n"
    "C2,苏州康宁诊所,诊所,5万,60\n"
)
INVOICES_ZH = (
    "发票号码,客户编码,开票日期,到期日,金额\n"
    "I1,C1,2025-03-05,2025/9/1,\"¥1,234.56\"\n"
    "I2,C1,2025年3月6日,20250906, 1234.5元 \n"
    "I3,C1,2025.3.7,2025-05-06,１２３．４５\n"
    "I4,C2,2025-03-08,2025-05-07,10\n"
)
PAYMENTS_ZH = "收款单号,客户编码,回款日期,回款金额\nP1,C1,2025-04-01,100\n"


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def zh_folder(tmp_path):
    write(tmp_path / "客户.csv", CUSTOMERS_ZH, "gb18030")  # as Excel on Chinese Windows saves it
    write(tmp_path / "应收明细.csv", INVOICES_ZH, "utf-8-sig")  # with BOM
    write(tmp_path / "回款.csv", PAYMENTS_ZH)
    return tmp_path


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_written_tables_load_back_identically(tmp_path, fmt):
    expected = Ledger.from_frames(**tiny_tables())
    write_tables(expected, tmp_path, fmt=fmt)
    ledger = load_ledger(tmp_path)
    assert ledger.load_report.quarantined == 0
    for name, df in expected.tables.items():
        pd.testing.assert_frame_equal(ledger.tables[name], df, check_dtype=True, obj=name)
    assert ledger.fingerprint() == expected.fingerprint()


def test_chinese_headers_encodings_and_messy_cells(zh_folder):
    ledger = load_ledger(zh_folder)
    inv = ledger.invoices.set_index("invoice_id")
    assert inv.loc["I1", "amount"] == 123456
    assert inv.loc["I2", "amount"] == 123450
    assert inv.loc["I3", "amount"] == 12345
    assert inv.loc["I2", "invoice_date"] == pd.Timestamp("2025-03-06")
    assert inv.loc["I2", "due_date"] == pd.Timestamp("2025-09-06")
    assert inv.loc["I3", "invoice_date"] == pd.Timestamp("2025-03-07")
    cust = ledger.customers.set_index("customer_id")
    assert cust.loc["C1", "customer_type"] == "tertiary_hospital"
    assert cust.loc["C1", "name"] == "上海市第一人民医院"  # GB18030 decoded
    assert cust.loc["C1", "credit_limit"] == 500_000_00
    # "5万" is ambiguous: quarantined with the reason, not guessed.
    report = ledger.load_report.tables["customers"]
    assert (report.rows_read, report.accepted, report.quarantined) == (2, 1, 1)
    q = pd.read_csv(report.quarantine_file, dtype=str)
    assert q.loc[0, "_row"] == "3"
    assert q.loc[0, "_file"].endswith("客户.csv")
    assert "credit_limit" in q.loc[0, "_reason"] and "5万" in q.loc[0, "_reason"]
    assert q.loc[0, "客户编码"] == "C2"  # the row as read, with its own headers


def test_children_of_quarantined_rows_are_quarantined_too(zh_folder):
    ledger = load_ledger(zh_folder)
    inv = ledger.load_report.tables["invoices"]
    assert inv.quarantined == 1  # I3 belongs to C2, which was quarantined
    q = pd.read_csv(inv.quarantine_file, dtype=str)
    assert q.loc[0, "发票号码"] == "I4" and "quarantined" in q.loc[0, "_reason"]


def test_excel_workbook_with_title_rows_date_cells_and_serials(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户档案"
    ws.append(["客户档案导出 2025-03-31"])
    ws.append([])
    ws.append(["客户编号", "客户名称"])
    ws.append(["C1", "医院A"])
    ws = wb.create_sheet("发票")
    ws.append(["应收明细表"])
    ws.append(["发票号", "客户编号", "发票日期", "到期日期", "价税合计"])
    ws.append(["I1", "C1", dt.datetime(2025, 3, 5), 45900, 1234.5])
    ws.append([])  # a blank line is not a row
    ws.append(["I2", "C1", "2025/3/6", "2025-13-01", "12.30"])
    ws = wb.create_sheet("收款明细")
    ws.append(["收款单号", "客户编码", "收款日期", "收款金额"])
    ws.append(["P1", "C1", dt.date(2025, 4, 1), 100])
    ws = wb.create_sheet("说明")
    ws.append(["这不是数据"])
    path = tmp_path / "导出.xlsx"
    wb.save(path)
    ledger = load_ledger(path)
    inv = ledger.invoices.set_index("invoice_id")
    assert inv.loc["I1", "invoice_date"] == pd.Timestamp("2025-03-05")
    assert inv.loc["I1", "due_date"] == pd.Timestamp("1899-12-30") + pd.Timedelta(days=45900)
    assert inv.loc["I1", "amount"] == 123450
    rep = ledger.load_report.tables["invoices"]
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (2, 1, 1)
    q = pd.read_csv(rep.quarantine_file, dtype=str)
    assert q.loc[0, "_sheet"] == "发票" and q.loc[0, "_row"] == "5"
    assert "due_date" in q.loc[0, "_reason"] and "2025-13-01" in q.loc[0, "_reason"]
    assert any("说明" in f for f in ledger.load_report.ignored_files)


def test_mapping_file_names_file_sheet_and_columns(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["票号", "客户", "开票", "应收日", "含税金额", "备注"])
    ws.append(["I1", "C1", "2025-03-05", "2025-06-03", "1,000.00", "x"])
    wb.save(tmp_path / "AR明细2025.xlsx")
    write(tmp_path / "customers.csv", "customer_id\nC1\n")
    write(tmp_path / "payments.csv", "payment_id,customer_id,payment_date,amount\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "# which file holds the invoices\n"
        "tables:\n"
        "  invoices:\n"
        "    file: AR明细2025.xlsx\n"
        "    sheet: Sheet1\n"
        "    columns: {票号: invoice_id, 客户: customer_id, 开票: invoice_date, "
        "应收日: due_date, 含税金额: amount}\n",
        encoding="utf-8",
    )
    ledger = load_ledger(tmp_path, mapping=mapping)
    assert ledger.invoices["amount"].tolist() == [100000]
    assert ledger.payments.empty


def test_mapping_file_errors_name_the_key(tmp_path):
    from medrisk.exceptions import ParamsError

    bad = tmp_path / "m.yaml"
    bad.write_text("tables:\n  invoice:\n    file: a.csv\n")
    with pytest.raises(ParamsError, match=r"m.yaml: tables.invoice is not a canonical table"):
        load_ledger(tmp_path, mapping=bad)
    bad.write_text("tables:\n  invoices:\n    columns: {票号: invoice_no}\n")
    with pytest.raises(ParamsError, match=r"maps '票号' to 'invoice_no'.*possible columns"):
        load_ledger(tmp_path, mapping=bad)


def test_strict_mode_names_file_row_column_value_and_expectation(zh_folder):
    with pytest.raises(ValidationError,
                       match=r"客户.csv, row 3, column 'credit_limit \(header '信用额度'\)'"
                             r".*'5万'.*expected"):
        load_ledger(zh_folder, strict=True)


def test_missing_required_column_is_a_clear_error(tmp_path):
    write(tmp_path / "customers.csv", "customer_id\nC1\n")
    write(tmp_path / "invoices.csv",
          "invoice_id,customer_id,invoice_date,amount\nI1,C1,2025-01-01,5\n")
    write(tmp_path / "payments.csv", "payment_id,customer_id,payment_date,amount\n")
    with pytest.raises(MissingColumnsError,
                       match=r"invoices.csv: table 'invoices' lacks required column\(s\) due_date"):
        load_ledger(tmp_path)


def test_missing_required_table_is_a_clear_error(tmp_path):
    write(tmp_path / "customers.csv", "customer_id\nC1\n")
    write(tmp_path / "invoices.csv", "invoice_id,customer_id,invoice_date,due_date,amount\n")
    with pytest.raises(MissingTableError, match="no 'payments' table"):
        load_ledger(tmp_path)


def test_unreadable_files_are_clear_errors(tmp_path):
    (tmp_path / "customers.xlsx").write_bytes(b"not really a workbook")
    with pytest.raises(SourceError, match=r"customers.xlsx: not a readable Excel workbook"):
        load_ledger(tmp_path)
    with pytest.raises(SourceError, match="does not exist"):
        load_ledger(tmp_path / "nowhere")


def test_undecodable_csv_is_a_clear_error(tmp_path):
    (tmp_path / "customers.csv").write_bytes(b"customer_id\n\xff\xfe\xfa\xfb\x81\x30\n")
    with pytest.raises(SourceError, match="UTF-8 or GB18030"):
        load_ledger(tmp_path)


def test_stale_quarantine_file_is_removed_when_the_table_is_clean(zh_folder):
    ledger = load_ledger(zh_folder)
    path = ledger.load_report.tables["customers"].quarantine_file
    write(zh_folder / "客户.csv", CUSTOMERS_ZH.replace("5万", "50000"), "gb18030")
    ledger = load_ledger(zh_folder)
    assert ledger.load_report.quarantined == 0
    assert not pd.io.common.file_exists(path)


# --- property: rows read = accepted + quarantined, over messy generated tables ---------------
good_amounts = st.sampled_from(["1,234.56", "¥12", "0.01", "１２３", "99.9元", " 5 "])
bad_amounts = st.sampled_from(["-3", "abc", "1.234", "", "12,34", "0"])
good_dates = st.sampled_from(["2025-01-05", "2025/1/5", "2025年1月5日", "20250105", "45662"])
bad_dates = st.sampled_from(["2025-02-30", "yesterday", "", "05/01/2025"])
ids = st.sampled_from(["I1", "I2", "I3", "I4", "", "I1 "])
customers = st.sampled_from(["C1", "C2", "C9", ""])


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(ids, customers, st.one_of(good_dates, bad_dates),
                               st.one_of(good_dates, bad_dates),
                               st.one_of(good_amounts, bad_amounts)),
                     min_size=0, max_size=25))
def test_rows_read_equal_accepted_plus_quarantined(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("messy")
    write(folder / "customers.csv", "customer_id,name\nC1,a\nC2,b\n")
    write(folder / "payments.csv", "payment_id,customer_id,payment_date,amount\n")
    body = "".join(",".join(f'"{c}"' for c in r) + "\n" for r in rows)
    write(folder / "invoices.csv", "invoice_id,customer_id,invoice_date,due_date,amount\n" + body)
    ledger = load_ledger(folder)
    rep = ledger.load_report.tables["invoices"]
    blank = sum(all(c.strip() == "" for c in r) for r in rows)  # blank lines are not rows
    assert rep.rows_read == len(rows) - blank
    assert rep.rows_read == rep.accepted + rep.quarantined
    assert len(ledger.invoices) == rep.accepted
    if rep.quarantined:
        q = pd.read_csv(rep.quarantine_file, dtype=str, keep_default_na=False)
        assert len(q) == rep.quarantined
        assert (q["_reason"] != "").all()
        assert q["_row"].astype(int).is_unique
    assert ledger.invoices["invoice_id"].is_unique
    assert (ledger.invoices["amount"] > 0).all()


def test_quarantine_files_write_planted_formulas_as_text_and_load_reads_them_back(tmp_path):
    # a quarantine file is opened in Excel to fix the rows: a cell "=1+1" must not run there
    tables = tiny_tables()
    tables["customers"] = tables["customers"].assign(
        name=["=1+1", "@SUM(A1)", "-2+3"], customer_type=["tertiary_hospital", "spa", "spa"])
    write_tables(tables, tmp_path, "csv")
    ledger = load_ledger(tmp_path)
    assert ledger.load_report.tables["customers"].quarantined == 2
    q = pd.read_csv(ledger.load_report.tables["customers"].quarantine_file, dtype=str)
    assert q["name"].tolist() == ["'@SUM(A1)", "'-2+3"]
    assert ledger.customers["name"].tolist() == ["=1+1"]  # accepted rows keep their text
    # the loader drops the spreadsheet's text marker: a fixed file reads back as written
    again = tmp_path / "again"
    write_tables({**tiny_tables(), "customers": tables["customers"].assign(
        name=["'=1+1", "'@SUM(A1)", "'-2+3"], customer_type="clinic")}, again, "csv")
    assert load_ledger(again).customers["name"].tolist() == ["=1+1", "@SUM(A1)", "-2+3"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_written_tables_keep_formula_like_text_as_text_and_read_back_the_same(tmp_path, fmt):
    tables = tiny_tables()
    tables["customers"] = tables["customers"].assign(name=["=1+1", "+86 21 5555", "-x"])
    write_tables(tables, tmp_path, fmt)
    if fmt == "xlsx":
        book = openpyxl.load_workbook(tmp_path / "customers.xlsx")
        assert not [c for row in book.active.iter_rows() for c in row if c.data_type == "f"]
    back = load_ledger(tmp_path)
    assert back.customers["name"].tolist() == ["=1+1", "+86 21 5555", "-x"]
    assert back.fingerprint() == Ledger.from_frames(**tables).fingerprint()


@pytest.mark.parametrize("tables, message", [
    (["customers"], r"'tables' must be a mapping .* got list \['customers'\]"),
    ({"customers": "customers.csv"}, r"tables.customers must be a mapping .* got str"),
    ({"customers": {"file": "customers.csv", "columns": ["name"]}},
     r"tables.customers.columns must be a mapping .* got list"),
    ({"customers": {"file": "customers.csv", "columns": {"a": "customer_id",
                                                          "b": "customer_id"}}},
     r"maps both 'a' and 'b' to 'customer_id'"),
    ({"customers": {"file": "customers.csv", "header_row": "abc"}},
     r"header_row must be a whole number of 1 or more .* got 'abc'"),
    ({"customers": {"file": "customers.csv", "header_row": 0}}, r"header_row .* got 0"),
    ({"customers": {"file": "customers.csv", "header_row": -3}}, r"header_row .* got -3"),
    ({"customers": {"file": "customers.csv", "header_row": True}}, r"header_row .* got True"),
    ({"customers": {"file": "customers.csv", "header_row": 99999}},
     r"customers.csv: header_row 99999 is beyond the last row \(4\)"),
    ({"customers": {"file": ["a.csv"]}}, r"tables.customers.file must be text; got list"),
])
def test_mapping_mistakes_are_errors_naming_the_key_not_tracebacks(tmp_path, tables, message):
    write_tables(tiny_tables(), tmp_path, "csv")
    with pytest.raises(ParamsError, match=message):
        load_ledger(tmp_path, {"tables": tables})
