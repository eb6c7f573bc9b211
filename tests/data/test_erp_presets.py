"""The ERP presets: params/mapping-kingdee.yaml and params/mapping-yonyou.yaml read their exports.

Each test writes a small export with the preset's headers (and the other columns such an
export carries) into ``tmp_path``, as CSV and as Excel, and loads it through the preset.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medrisk import load_ledger
from medrisk.config import PARAMS_DIR
from medrisk.data import read_mapping
from medrisk.exceptions import MissingColumnsError
from medrisk.receivables import aging, open_items

AS_OF = "2025-06-30"
N_CUSTOMERS, N_INVOICES, N_RECEIPTS = 30, 200, 150


def make_book(seed: int = 7) -> dict:
    """A company in plain Python values: customers, invoices and receipts, money in fen.

    Invoices are issued in 2024 and receipts arrive in 2025, each customer paying at
    most 60% of what it was billed, so that every receipt is applied in full.
    """
    rng = np.random.default_rng(seed)
    cust = pd.DataFrame({
        "code": [f"KH{i:04d}" for i in range(1, N_CUSTOMERS + 1)],
        "name": [f"第{i}人民医院" for i in range(1, N_CUSTOMERS + 1)],
        "region": rng.choice(["华东", "华北", "华南", "西南"], N_CUSTOMERS),
        "seller": rng.choice(["张伟", "李娜", "王强"], N_CUSTOMERS),
        "opened": pd.Timestamp("2018-01-01") + pd.to_timedelta(
            rng.integers(0, 2000, N_CUSTOMERS), unit="D"),
        "limit_fen": rng.integers(1, 500, N_CUSTOMERS) * 1_000_000,
    })
    who = rng.integers(0, N_CUSTOMERS, N_INVOICES)
    who[:N_CUSTOMERS] = np.arange(N_CUSTOMERS)  # every customer has an invoice
    issued = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, N_INVOICES),
                                                          unit="D")
    amount = rng.integers(10_000, 50_000_000, N_INVOICES)  # 100.00 to 500,000.00 元
    amount[0] = 1_234_567_891  # one tender: 12,345,678.91 元
    inv = pd.DataFrame({
        "no": [f"AR{i:06d}" for i in range(1, N_INVOICES + 1)],
        "code": cust["code"].to_numpy()[who],
        "name": cust["name"].to_numpy()[who],
        "issued": issued,
        "due": issued + pd.to_timedelta(rng.choice([30, 90, 180, 360], N_INVOICES), unit="D"),
        "fen": amount,
        "seller": cust["seller"].to_numpy()[who],
    })
    billed = inv.groupby("code")["fen"].sum()
    payer = rng.choice(billed.index.to_numpy(), N_RECEIPTS)
    share = rng.uniform(0.1, 1.0, N_RECEIPTS)
    counts = pd.Series(payer).value_counts()
    # each customer's receipts add up to at most 60% of what it was billed
    fen = np.floor(billed.loc[payer].to_numpy() * 0.6 * share / counts.loc[payer].to_numpy())
    pay = pd.DataFrame({
        "no": [f"SK{i:06d}" for i in range(1, N_RECEIPTS + 1)],
        "code": payer,
        "name": cust.set_index("code").loc[payer, "name"].to_numpy(),
        "date": pd.Timestamp("2025-01-02") + pd.to_timedelta(rng.integers(0, 170, N_RECEIPTS),
                                                             unit="D"),
        "fen": np.maximum(fen.astype(np.int64), 1),
        "method": rng.choice(["电汇", "银行承兑汇票", "支票"], N_RECEIPTS),
    })
    return {"customers": cust, "invoices": inv, "payments": pay}


def yuan_text(fen: pd.Series) -> pd.Series:
    """'1,234,567.89' as the ERP writes money."""
    return pd.Series([f"{Decimal(int(v)) / 100:,.2f}" for v in fen], index=fen.index)


def yuan_number(fen: pd.Series) -> pd.Series:
    """1234567.89 as an Excel number cell holds it."""
    return fen.astype(np.float64) / 100


def kingdee_frames(book: dict, fmt: str) -> dict[str, pd.DataFrame]:
    """The 云星空 lists: 应收单, 收款单, 客户 with their standard captions."""
    c, i, p = book["customers"], book["invoices"], book["payments"]
    money = yuan_text if fmt == "csv" else yuan_number

    def day(s: pd.Series) -> pd.Series:  # 2024/3/5 in CSV, date cells in Excel
        if fmt == "csv":
            return pd.Series([f"{t.year}/{t.month}/{t.day}" for t in s], index=s.index)
        return s

    return {
        "应收单": pd.DataFrame({
            "单据类型": "标准应收单", "单据编号": i["no"], "业务日期": day(i["issued"]),
            "到期日": day(i["due"]), "客户编码": i["code"], "客户": i["name"], "币别": "人民币",
            "价税合计": money(i["fen"]), "销售员": i["seller"], "销售部门": "销售一部",
            "单据状态": "已审核",
        }),
        "收款单": pd.DataFrame({
            "单据类型": "销售收款单", "单据编号": p["no"], "业务日期": day(p["date"]),
            "往来单位类型": "客户", "往来单位编码": p["code"], "往来单位": p["name"],
            "付款单位": p["name"], "币别": "人民币", "应收金额": money(p["fen"]),
            "实收金额": money(p["fen"]), "结算方式": p["method"], "备注": "",
        }),
        "客户": pd.DataFrame({
            "客户编码": c["code"], "客户名称": c["name"], "简称": c["name"].str[:4],
            "客户类别": "普通销售客户", "地区": c["region"], "销售员": c["seller"],
            "创建日期": day(c["opened"]),
        }),
    }


def yonyou_frames(book: dict, fmt: str) -> dict[str, pd.DataFrame]:
    """The U8 lists: 应收单, 收款单, 客户档案 with their standard captions."""
    c, i, p = book["customers"], book["invoices"], book["payments"]
    money = yuan_text if fmt == "csv" else yuan_number

    def day(s: pd.Series) -> pd.Series:  # 2024-03-05 as text, as U8's 输出 writes it
        return s.dt.strftime("%Y-%m-%d")

    return {
        "应收单": pd.DataFrame({
            "单据类型": "其他应收单", "单据编号": i["no"], "单据日期": day(i["issued"]),
            "客户编码": i["code"], "客户名称": i["name"], "部门": "销售部", "业务员": i["seller"],
            "币种": "人民币", "汇率": "1", "原币金额": money(i["fen"]),
            "本币金额": money(i["fen"]), "到期日": day(i["due"]), "摘要": "销售设备",
        }),
        "收款单": pd.DataFrame({
            "单据类型": "收款单", "单据编号": p["no"], "单据日期": day(p["date"]),
            "客户编码": p["code"], "客户名称": p["name"], "结算方式": p["method"],
            "票据号": "", "币种": "人民币", "原币金额": money(p["fen"]),
            "本币金额": money(p["fen"]), "部门": "财务部", "摘要": "回款",
        }),
        "客户档案": pd.DataFrame({
            "客户编码": c["code"], "客户名称": c["name"], "客户简称": c["name"].str[:4],
            "所属分类": "01", "所属地区": c["region"], "信用额度": money(c["limit_fen"]),
            "付款条件": "03", "专管业务员": c["seller"], "分管部门": "销售部",
            "发展日期": day(c["opened"]),
        }),
    }


PRESETS = {"kingdee": kingdee_frames, "yonyou": yonyou_frames}


def write_export(folder: Path, frames: dict[str, pd.DataFrame], fmt: str) -> None:
    """Write each list as <bill>.csv, or as <bill>.xlsx with a title row above the headers."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")
        else:
            with pd.ExcelWriter(folder / f"{name}.xlsx", engine="openpyxl") as xl:
                pd.DataFrame([[f"{name}列表"]]).to_excel(xl, sheet_name="Sheet1", index=False,
                                                       header=False)
                frame.to_excel(xl, sheet_name="Sheet1", index=False, startrow=1)


@pytest.fixture(scope="module")
def book():
    return make_book()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("erp", list(PRESETS))
def test_preset_reads_its_erp_export(tmp_path, book, erp, fmt):
    write_export(tmp_path, PRESETS[erp](book, fmt), fmt)
    ledger = load_ledger(tmp_path, PARAMS_DIR / f"mapping-{erp}.yaml")
    report = ledger.load_report

    expected_rows = {"customers": N_CUSTOMERS, "invoices": N_INVOICES, "payments": N_RECEIPTS}
    for table, n in expected_rows.items():
        rep = report.tables[table]
        assert rep.rows_read == rep.accepted + rep.quarantined
        assert (rep.rows_read, rep.accepted, rep.quarantined) == (n, n, 0), rep.top_reasons

    # Money to the fen: 元 with two decimals in, exact integer fen out.
    inv, pay, cust = ledger.invoices, ledger.payments, ledger.customers
    billed_yuan = sum(Decimal(int(v)) / 100 for v in book["invoices"]["fen"])
    assert int(inv["amount"].sum()) == billed_yuan * 100
    assert inv["amount"].tolist() == book["invoices"]["fen"].tolist()
    assert inv.loc[inv["invoice_id"] == "AR000001", "amount"].item() == 1_234_567_891
    assert pay["amount"].tolist() == book["payments"]["fen"].tolist()

    # Ids, dates and the other columns the preset maps.
    assert inv["customer_id"].tolist() == book["invoices"]["code"].tolist()
    assert set(inv["customer_id"]) <= set(cust["customer_id"])
    assert set(pay["customer_id"]) <= set(cust["customer_id"])
    assert inv["invoice_date"].tolist() == book["invoices"]["issued"].tolist()
    assert inv["due_date"].tolist() == book["invoices"]["due"].tolist()
    assert pay["payment_date"].tolist() == book["payments"]["date"].tolist()
    assert cust["opened_date"].tolist() == book["customers"]["opened"].tolist()
    assert inv["currency"].isna().all()  # 币别 / 币种 hold 人民币: not read
    assert cust["customer_type"].isna().all()  # 客户类别 / 所属分类 are the ERP's own classes
    assert cust["region"].tolist() == book["customers"]["region"].tolist()
    assert inv["salesperson_id"].tolist() == book["invoices"]["seller"].tolist()
    assert pay["method"].tolist() == book["payments"]["method"].tolist()
    if erp == "yonyou":
        assert cust["credit_limit"].tolist() == book["customers"]["limit_fen"].tolist()

    # Receivables: the aging adds up to the open balance, which is billed minus received.
    items = open_items(ledger, AS_OF)
    table = aging(ledger, AS_OF)
    open_fen = int(book["invoices"]["fen"].sum() - book["payments"]["fen"].sum())
    assert int(items["open_amount"].sum()) == open_fen
    assert int(table["total"].sum()) == open_fen
    buckets = [c for c in table.columns if c != "total"]
    assert int(table[buckets].sum(axis=1).sum()) == open_fen
    by_customer = aging(ledger, AS_OF, by="customer_id")
    assert int(by_customer["total"].sum()) == open_fen


@pytest.mark.parametrize("erp", list(PRESETS))
def test_preset_reads_exports_named_in_a_file_entry(tmp_path, book, erp):
    frames = PRESETS[erp](book, "csv")
    renamed = {f"export_{i}": frame for i, frame in enumerate(frames.values())}
    write_export(tmp_path, renamed, "csv")
    entries = read_mapping(PARAMS_DIR / f"mapping-{erp}.yaml")
    for i, table in enumerate(("invoices", "payments", "customers")):
        entries[table]["file"] = f"export_{i}.csv"
    ledger = load_ledger(tmp_path, {"tables": entries})
    assert ledger.load_report.quarantined == 0
    assert len(ledger.invoices) == N_INVOICES


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("erp", list(PRESETS))
def test_a_header_typo_names_the_file_and_the_missing_column(tmp_path, book, erp, fmt):
    frames = PRESETS[erp](book, fmt)
    amount = "价税合计" if erp == "kingdee" else "本币金额"
    typo = amount[:2] + amount[3] + amount[2]  # 价税计合, 本币额金
    frames["应收单"] = frames["应收单"].rename(columns={amount: typo})
    write_export(tmp_path, frames, fmt)
    with pytest.raises(MissingColumnsError,
                       match=rf"应收单\.{fmt}.*'invoices' lacks required column\(s\) amount\..*"
                             rf"Headers found: .*{typo}"):
        load_ledger(tmp_path, PARAMS_DIR / f"mapping-{erp}.yaml")


@pytest.mark.parametrize("erp", list(PRESETS))
def test_preset_dates_load_in_every_form_the_erp_writes(tmp_path, book, erp):
    frames = PRESETS[erp](book, "csv")
    inv = frames["应收单"]
    date_col = "业务日期" if erp == "kingdee" else "单据日期"
    issued = book["invoices"]["issued"]
    forms = [f"{t:%Y-%m-%d}" if k % 3 == 0 else f"{t.year}/{t.month}/{t.day}" if k % 3 == 1
             else f"{t:%Y-%m-%d} 00:00:00" for k, t in enumerate(issued)]
    inv[date_col] = forms
    write_export(tmp_path, frames, "csv")
    ledger = load_ledger(tmp_path, PARAMS_DIR / f"mapping-{erp}.yaml")
    assert ledger.load_report.tables["invoices"].quarantined == 0
    assert ledger.invoices["invoice_date"].tolist() == issued.tolist()


def test_presets_are_valid_mapping_files():

    for erp in PRESETS:
        entries = read_mapping(PARAMS_DIR / f"mapping-{erp}.yaml")
        assert set(entries) == {"customers", "invoices", "payments"}
        for entry in entries.values():
            assert "file" not in entry  # found by name: 应收单 / 收款单 / 客户(档案)
