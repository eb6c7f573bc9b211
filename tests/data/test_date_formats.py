"""Date formats declared in a mapping file: date_format, dayfirst and date_formats per column."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from medrisk import load_ledger
from medrisk.data import parse_column, parse_dates
from medrisk.exceptions import ParamsError

#: Invoice dates and due dates of the book (day, month, year); one customer pays once.
DAYS = [(26, 4, 2011), (3, 5, 2011), (28, 2, 2012), (1, 12, 2012)]
TERMS = 90
FORMS = {  # how an export writes each date
    "dd-Mon-yy": "%d-%b-%y",  # 26-Apr-11
    "dd-Mon-yyyy": "%d-%b-%Y",  # 26-Apr-2011
    "dd/mm/yyyy": "%d/%m/%Y",  # 26/04/2011
}


def _dates(form: str) -> tuple[list[str], list[str], list[pd.Timestamp], list[pd.Timestamp]]:
    issued = [pd.Timestamp(y, m, d) for d, m, y in DAYS]
    due = [t + pd.Timedelta(days=TERMS) for t in issued]
    fmt = FORMS[form]
    return [t.strftime(fmt) for t in issued], [t.strftime(fmt) for t in due], issued, due


def write_book(folder, form: str, bad: dict[int, str] | None = None) -> tuple[list, list]:
    """Write customers, invoices and payments CSVs with dates in ``form``.

    ``bad`` replaces the invoice date of some rows (by position) with other text.
    """
    inv_text, due_text, issued, due = _dates(form)
    for i, text in (bad or {}).items():
        inv_text[i] = text
    (folder / "customers.csv").write_text("customer_id,name\nC1,仁济医院\n", encoding="utf-8")
    inv = pd.DataFrame({
        "invoice_id": [f"I{i}" for i in range(len(DAYS))],
        "customer_id": "C1",
        "invoice_date": inv_text,
        "due_date": due_text,
        "amount": ["1234.56"] * len(DAYS),
    })
    inv.to_csv(folder / "invoices.csv", index=False)
    pay = pd.DataFrame({"payment_id": ["P1"], "customer_id": ["C1"],
                        "payment_date": [due_text[0]], "amount": ["100.00"]})
    pay.to_csv(folder / "payments.csv", index=False)
    return issued, due


def mapping(**invoices) -> dict:
    """Mapping with one entry for invoices and the same declaration for payments."""
    pay = {k: v for k, v in invoices.items() if k != "date_formats"}
    if "date_formats" in invoices:
        pay["date_format"] = next(iter(invoices["date_formats"].values()))
    return {"tables": {"invoices": {"file": "invoices.csv", **invoices},
                       "payments": {"file": "payments.csv", **pay}}}


def rows(ledger, table="invoices"):
    rep = ledger.load_report.tables[table]
    assert rep.rows_read == rep.accepted + rep.quarantined
    return rep.rows_read, rep.accepted, rep.quarantined


def reasons(ledger, table="invoices") -> pd.Series:
    q = pd.read_csv(ledger.load_report.tables[table].quarantine_file, dtype=str)
    return q["_reason"]


# ---------------------------------------------------------------------------
# Loading with and without a declaration
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("form", list(FORMS))
def test_without_a_declaration_ambiguous_dates_stay_quarantined(tmp_path, form):
    write_book(tmp_path, form)
    ledger = load_ledger(tmp_path)
    assert rows(ledger) == (4, 0, 4)
    assert rows(ledger, "payments") == (1, 0, 1)
    assert reasons(ledger).str.contains("ambiguous").all()


@pytest.mark.parametrize(("form", "declaration"), [
    ("dd-Mon-yy", {"date_format": "%d-%b-%y"}),
    ("dd-Mon-yyyy", {"date_format": "%d-%b-%Y"}),
    ("dd-Mon-yyyy", {"date_formats": {"invoice_date": "%d-%b-%Y", "due_date": "%d-%b-%Y"}}),
    ("dd/mm/yyyy", {"dayfirst": True}),
    ("dd/mm/yyyy", {"date_format": "%d/%m/%Y"}),
])
def test_declared_dates_load(tmp_path, form, declaration):
    issued, due = write_book(tmp_path, form)
    ledger = load_ledger(tmp_path, mapping(**declaration))
    assert rows(ledger) == (4, 4, 0)
    assert rows(ledger, "payments") == (1, 1, 0)
    assert ledger.invoices["invoice_date"].tolist() == issued
    assert ledger.invoices["due_date"].tolist() == due
    assert ledger.invoices["invoice_date"].dtype == "datetime64[ns]"
    assert ledger.payments["payment_date"].tolist() == [due[0]]


def test_declared_dates_load_from_a_yaml_mapping_file(tmp_path):
    data = tmp_path / "exports"
    data.mkdir()
    issued, _ = write_book(data, "dd-Mon-yy")
    m = tmp_path / "mapping-legacy.yaml"
    m.write_text('tables:\n  invoices:\n    date_format: "%d-%b-%y"\n'
                 '  payments:\n    date_format: "%d-%b-%y"\n', encoding="utf-8")
    ledger = load_ledger(data, m)
    assert ledger.invoices["invoice_date"].tolist() == issued


@pytest.mark.parametrize(("form", "declaration", "bad", "expected"), [
    ("dd-Mon-yy", {"date_format": "%d-%b-%y"}, "2011-04-26", "'%d-%b-%y', such as '26-Apr-11'"),
    ("dd-Mon-yy", {"date_format": "%d-%b-%y"}, "31-Foo-11", "'%d-%b-%y', such as '26-Apr-11'"),
    ("dd-Mon-yyyy", {"date_formats": {"invoice_date": "%d-%b-%Y", "due_date": "%d-%b-%Y"}},
     "26-Apr-11", "'%d-%b-%Y', such as '26-Apr-2011'"),
    ("dd/mm/yyyy", {"date_format": "%d/%m/%Y"}, "31/02/2012", "'%d/%m/%Y', such as '26/04/2011'"),
    ("dd/mm/yyyy", {"dayfirst": True}, "04/26/2011", "day first, as declared"),
])
def test_a_value_not_in_the_declared_format_is_quarantined_naming_the_format(
        tmp_path, form, declaration, bad, expected):
    write_book(tmp_path, form, bad={2: bad})
    ledger = load_ledger(tmp_path, mapping(**declaration))
    assert rows(ledger) == (4, 3, 1)
    assert ledger.invoices["invoice_id"].tolist() == ["I0", "I1", "I3"]
    why = reasons(ledger)
    assert len(why) == 1
    assert "invoice_date" in why[0] and bad in why[0] and expected in why[0]
    assert ledger.load_report.tables["invoices"].top_reasons  # counted in the report


def test_a_column_format_wins_over_the_table_format(tmp_path):
    issued, due = write_book(tmp_path, "dd-Mon-yy")
    inv = pd.read_csv(tmp_path / "invoices.csv", dtype=str)
    inv["due_date"] = [t.strftime("%Y%m%d") for t in due]
    inv.to_csv(tmp_path / "invoices.csv", index=False)
    m = mapping(date_format="%d-%b-%y")
    m["tables"]["invoices"]["date_formats"] = {"due_date": "%Y%m%d"}
    ledger = load_ledger(tmp_path, m)
    assert rows(ledger) == (4, 4, 0)
    assert ledger.invoices["due_date"].tolist() == due


def test_dayfirst_still_reads_year_first_dates_and_a_column_format(tmp_path):
    issued, due = write_book(tmp_path, "dd/mm/yyyy")
    inv = pd.read_csv(tmp_path / "invoices.csv", dtype=str)
    inv.loc[0, "invoice_date"] = "2011-04-26"
    inv["due_date"] = [t.strftime("%d-%b-%y") for t in due]
    inv.to_csv(tmp_path / "invoices.csv", index=False)
    m = mapping(dayfirst=True)
    m["tables"]["invoices"]["date_formats"] = {"due_date": "%d-%b-%y"}
    ledger = load_ledger(tmp_path, m)
    assert rows(ledger) == (4, 4, 0)
    assert ledger.invoices["invoice_date"].tolist() == issued
    assert ledger.invoices["due_date"].tolist() == due


def test_excel_date_cells_are_read_under_a_declared_format(tmp_path):
    issued, due = write_book(tmp_path, "dd-Mon-yy")
    (tmp_path / "invoices.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "invoices"
    ws.append(["invoice_id", "customer_id", "invoice_date", "due_date", "amount"])
    for i, (a, b) in enumerate(zip(issued, due, strict=True)):
        first = a.to_pydatetime() if i % 2 else a.strftime("%d-%b-%y")  # date cells and text
        ws.append([f"I{i}", "C1", first, b.strftime("%d-%b-%y"), 1234.56])
    wb.save(tmp_path / "invoices.xlsx")
    m = mapping(date_format="%d-%b-%y")
    m["tables"]["invoices"]["file"] = "invoices.xlsx"
    ledger = load_ledger(tmp_path, m)
    assert rows(ledger) == (4, 4, 0)
    assert ledger.invoices["invoice_date"].tolist() == issued
    assert ledger.invoices["amount"].tolist() == [123456] * 4


def test_the_declaration_of_one_table_does_not_reach_another(tmp_path):
    write_book(tmp_path, "dd-Mon-yy")
    m = mapping(date_format="%d-%b-%y")
    del m["tables"]["payments"]["date_format"]
    ledger = load_ledger(tmp_path, m)
    assert rows(ledger) == (4, 4, 0)
    assert rows(ledger, "payments") == (1, 0, 1)
    assert "ambiguous" in reasons(ledger, "payments")[0]


# ---------------------------------------------------------------------------
# Mapping mistakes are errors naming the file and the key
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(("entry", "message"), [
    ({"date_format": "%d-%m"}, r"m\.yaml: tables\.invoices\.date_format '%d-%m' does not write "
                               r"a whole date .* reads back as 1900-04-26"),
    ({"date_format": "%Q-%m-%Y"}, r"tables\.invoices\.date_format '%Q-%m-%Y' is not a strptime "
                                  r"format"),
    ({"date_format": 20110426}, r"tables\.invoices\.date_format must be a strptime format such "
                                r"as '%d-%b-%y' .* got int 20110426"),
    ({"date_format": "%Y-%m-%d %z"}, r"date_format '%Y-%m-%d %z' has a time zone"),
    ({"dayfirst": "yes"}, r"tables\.invoices\.dayfirst must be true or false .* got str 'yes'"),
    ({"dayfirst": True, "date_format": "%d/%m/%Y"},
     r"tables\.invoices has both date_format '%d/%m/%Y' and dayfirst: true; give one"),
    ({"date_formats": ["%d-%b-%y"]}, r"tables\.invoices\.date_formats must be a mapping of date "
                                     r"column to its format .* got list"),
    ({"date_formats": {"amount": "%d-%b-%y"}},
     r"date_formats names 'amount', which is not a date column of invoices; its date columns "
     r"are \['invoice_date', 'due_date'\]"),
    ({"date_formats": {"due_date": "%b %Y"}},
     r"tables\.invoices\.date_formats\.due_date '%b %Y' does not write a whole date"),
])
def test_date_declaration_mistakes_name_the_mapping_file_and_key(tmp_path, entry, message):
    write_book(tmp_path, "dd-Mon-yy")
    m = tmp_path / "m.yaml"
    body = "".join(f"    {k}: {_yaml(v)}\n" for k, v in entry.items())
    m.write_text(f"tables:\n  invoices:\n    file: invoices.csv\n{body}", encoding="utf-8")
    with pytest.raises(ParamsError, match=message):
        load_ledger(tmp_path, m)


def _yaml(v) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_yaml(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_yaml(x) for x in v) + "]"
    return str(v)


def test_a_date_declaration_for_a_table_without_dates_is_an_error(tmp_path):
    write_book(tmp_path, "dd-Mon-yy")
    with pytest.raises(ParamsError, match=r"tables\.products\.date_format has nothing to read: "
                                          r"table products has no date columns"):
        load_ledger(tmp_path, {"tables": {"products": {"date_format": "%d-%b-%y"}}})


def test_a_date_declaration_for_a_database_entry_is_an_error(tmp_path):
    write_book(tmp_path, "dd-Mon-yy")
    with pytest.raises(ParamsError, match=r"tables\.invoices\.dayfirst is read for files only"):
        load_ledger(tmp_path, {"tables": {"invoices": {"table": "ar", "dayfirst": True}}})


# ---------------------------------------------------------------------------
# The parsers
# ---------------------------------------------------------------------------
def test_parse_dates_with_a_format_reads_that_form_only():
    s = pd.Series(["26-Apr-11", "26-APR-11", " 01-Dec-69 ", "2011-04-26", "30-Feb-11", "", None,
                   dt.datetime(2011, 4, 26, 15, 30), 45000])
    r = parse_dates(s, date_format="%d-%b-%y")
    assert r.values.tolist()[:3] == [pd.Timestamp("2011-04-26")] * 2 + [pd.Timestamp("1969-12-01")]
    assert r.bad.tolist() == [False, False, False, True, True, False, False, False, False]
    assert r.values[7] == pd.Timestamp("2011-04-26") and r.values[8] == pd.Timestamp("2023-03-15")
    assert "'%d-%b-%y', such as '26-Apr-11'" in r.expected


def test_parse_dates_dayfirst_reads_day_first_with_a_four_digit_year():
    s = pd.Series(["26/04/2011", "26-4-2011", "26.04.2011", "2011/4/26", "26/04/11", "26/04-2011",
                   "31/04/2011", "13/13/2011"])
    r = parse_dates(s, dayfirst=True)
    assert r.values.tolist()[:4] == [pd.Timestamp("2011-04-26")] * 4
    assert r.bad.tolist() == [False] * 4 + [True] * 4
    assert parse_dates(s).bad.tolist()[:3] == [True] * 3  # undeclared: ambiguous, not read


def test_parse_dates_refuses_unusable_declarations():
    with pytest.raises(ValueError, match=r"date_format '%d-%m' does not write a whole date"):
        parse_dates(pd.Series(["26-04"]), date_format="%d-%m")
    with pytest.raises(ValueError, match=r"not both"):
        parse_dates(pd.Series(["26/04/2011"]), date_format="%d/%m/%Y", dayfirst=True)
    with pytest.raises(ValueError, match=r"dayfirst must be True or False; got 'yes'"):
        parse_dates(pd.Series(["26/04/2011"]), dayfirst="yes")


def test_parse_column_takes_a_format_for_date_columns_only():
    r = parse_column("payments", "payment_date", pd.Series(["26/04/2011"]), dayfirst=True)
    assert r.values.tolist() == [pd.Timestamp("2011-04-26")]
    with pytest.raises(ValueError, match=r"invoices\.amount is a money column"):
        parse_column("invoices", "amount", pd.Series(["1"]), date_format="%d-%b-%y")
