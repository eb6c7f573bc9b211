"""Tests for medrisk.data: messy exported cells to canonical values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cells import EMPTY_CELLS, FULL_WIDTH, assert_shape, one
from test_dates import D0

from medrisk import config
from medrisk.data import (
    COLUMN_ALIASES,
    DATE_COLUMNS,
    ENUM_LABELS,
    MONEY_COLUMNS,
    PARSERS,
    SCHEMAS,
    TABLE_ALIASES,
    column_kind,
    match_columns,
    match_table,
    normalize_enum,
    normalize_header,
    parse_bool,
    parse_column,
    parse_dates,
    parse_int,
    parse_money,
    parse_months,
    parse_rate,
    parse_str,
)
from medrisk.exceptions import MedriskError, SchemaError

EMPTY_NOT_WU = [c for c in EMPTY_CELLS if c != "无"]


# ------------------------------------------------------------------------------ money


class TestParseMoney:
    @pytest.mark.parametrize(
        ("cell", "fen"),
        [
            ("1234.5", 123450),
            ("1,234.56", 123456),
            ("¥1,234.56", 123456),
            ("￥1,234.56", 123456),
            ("RMB 1,234.56", 123456),
            ("rmb1234.56", 123456),
            ("CNY1234", 123400),
            ("1234.56元", 123456),
            ("1,234.56 元", 123456),
            ("１，２３４．５６", 123456),
            ("￥１，２３４．５６元", 123456),
            (" 12 ", 1200),
            ("\u300012\u3000", 1200),
            ("-12.30", -1230),
            ("(12.30)", -1230),
            ("（12.30）", -1230),
            ("(¥1,234.00)", -123400),
            ("-¥12", -1200),
            ("¥-12", -1200),
            ("12.30-", -1230),
            ("\u221212.30", -1230),
            ("+12", 1200),
            ("0", 0),
            ("0.00", 0),
            ("12.", 1200),
            (".5", 50),
            ("12.3400", 1234),
            ("1,234,567.89", 123456789),
            ("人民币100元", 10000),
            ("12345678901.23", 1234567890123),
            ("90000000000000.00", 9 * 10**15),
            ('="1234.56"', 123456),
        ],
    )
    def test_accepted_text(self, cell, fen):
        assert one(parse_money, cell) == (fen, False)

    @pytest.mark.parametrize(
        "cell",
        [
            "12.345",
            "1.2.3",
            "abc",
            "12,34",
            "1,2345",
            "1234,567",
            "1e5",
            "12万",
            "1.2万元",
            "12万元",
            "USD 12",
            "$12",
            "12 34",
            "(12",
            "12)",
            "(-12)",
            "+-12",
            "--12",
            "¥",
            ".",
            "()",
            "12.30--",
            "90000000000000.01",
            "100000000000000",
            "１２．３４５",
            "12.3401",
            "#VALUE!",
        ],
    )
    def test_rejected_text(self, cell):
        value, bad = one(parse_money, cell)
        assert bad and pd.isna(value)

    @pytest.mark.parametrize("cell", EMPTY_CELLS)
    def test_empty_is_na_not_bad(self, cell):
        value, bad = one(parse_money, cell)
        assert pd.isna(value) and not bad

    def test_exact_not_through_float(self):
        r = parse_money(pd.Series(["0.1", "0.2", "12345678901.23", "99999999999999.99"]))
        v = r.values
        assert v.iloc[0] + v.iloc[1] == 30
        assert v.iloc[2] == 1234567890123
        assert r.bad[3]  # beyond 9e15 fen
        assert int(v.iloc[:3].sum()) == 1234567890153

    def test_returns_int64_keeps_index(self):
        s = pd.Series(["1", None, "x"], index=["r1", "r2", "r3"])
        r = parse_money(s)
        assert_shape(r, s, "Int64")
        assert r.bad.tolist() == [False, False, True]

    @pytest.mark.parametrize(
        ("cell", "fen"),
        [
            (12, 1200),
            (np.int64(-5), -500),
            (12.34, 1234),
            (0.07, 7),
            (1234567.89, 123456789),
            (0.1 + 0.2, 30),
            (1234.5600000000002, 123456),
            (-0.01, -1),
            (90_000_000_000_000, 9 * 10**15),
        ],
    )
    def test_numbers(self, cell, fen):
        assert one(parse_money, cell) == (fen, False)

    @pytest.mark.parametrize("cell", [12.345, 0.001, np.inf, -np.inf, 9e13 + 1, 10**20, True])
    def test_bad_numbers(self, cell):
        assert one(parse_money, cell)[1]

    def test_typed_columns(self):
        assert parse_money(pd.Series([1, 2], dtype="int64")).values.tolist() == [100, 200]
        r = parse_money(pd.Series([1.5, np.nan, 2.005]))
        assert (
            r.values.iloc[0] == 150
            and pd.isna(r.values.iloc[1])
            and r.bad.tolist() == [False, False, True]
        )
        assert parse_money(pd.Series([3, None], dtype="Int64")).values.iloc[0] == 300

    def test_decimals_are_exact(self):
        s = pd.Series(
            [
                Decimal("12345678901.23"),
                Decimal("1.10"),
                Decimal("1.005"),
                Decimal("1E+3"),
                Decimal("NaN"),
            ],
            dtype=object,
        )
        r = parse_money(s)
        assert r.values.iloc[:2].tolist() == [1234567890123, 110]
        assert r.bad.tolist() == [False, False, True, False, False]
        assert r.values.iloc[3] == 100000

    def test_pyarrow_decimals(self):
        arr = pa.array([Decimal("1234.56"), None, Decimal("0.10")], type=pa.decimal128(18, 4))
        r = parse_money(pd.Series(pd.arrays.ArrowExtensionArray(arr)))
        assert r.values.iloc[0] == 123456 and pd.isna(r.values.iloc[1])
        assert r.values.iloc[2] == 10 and not r.bad.any()

    def test_python_string_storage(self):
        s = pd.Series(["¥1.00", None], dtype=pd.StringDtype("python"))
        assert parse_money(s).values.iloc[0] == 100

    def test_mixed_excel_column(self):
        s = pd.Series(
            ["¥1,234.50", 12.5, 3, None, "bad", Decimal("0.01"), dt.date(2025, 1, 1)], dtype=object
        )
        r = parse_money(s)
        assert r.values.iloc[:3].tolist() == [123450, 1250, 300]
        assert r.values.iloc[5] == 1
        assert r.bad.tolist() == [False, False, False, False, True, False, True]

    def test_clean_fast_path_matches_general_path(self):
        clean = pd.Series(["1.5", "-2.25", "100", None, "0.01"])
        messy = pd.Series(["1.5元", "-2.25", "100", None, "0.01"])
        assert parse_money(clean).values.tolist() == parse_money(messy).values.tolist()

    def test_expected_mentions_wan(self):
        assert "万" in parse_money(pd.Series(["x"])).expected


# ------------------------------------------------------------------------------ int, rate, bool


class TestParseInt:
    @pytest.mark.parametrize(
        ("cell", "n"),
        [
            ("30", 30),
            ("1,200", 1200),
            ("３０", 30),
            ("3.00", 3),
            ("30天", 30),
            ("-5", -5),
            (3, 3),
            (3.0, 3),
            (np.int32(7), 7),
            ("+4", 4),
            ("1,234,567", 1234567),
        ],
    )
    def test_accepted(self, cell, n):
        assert one(parse_int, cell) == (n, False)

    @pytest.mark.parametrize(
        "cell", ["3.5", 3.5, "abc", "1,20", "1e3", "30 months", np.inf, "9" * 20, True]
    )
    def test_rejected(self, cell):
        value, bad = one(parse_int, cell)
        assert bad and pd.isna(value)

    @pytest.mark.parametrize("cell", EMPTY_CELLS)
    def test_empty(self, cell):
        value, bad = one(parse_int, cell)
        assert pd.isna(value) and not bad

    def test_dtype(self):
        s = pd.Series(["1", "2"])
        assert_shape(parse_int(s), s, "Int64")


class TestParseRate:
    @pytest.mark.parametrize(
        ("cell", "rate"),
        [
            ("0.05", 0.05),
            ("5%", 0.05),
            ("5 %", 0.05),
            ("５％", 0.05),
            (0.05, 0.05),
            ("95折", 0.05),
            ("9.5折", 0.05),
            ("9折", 0.1),
            ("8折", 0.2),
            ("85折", 0.15),
            ("88折", 0.12),
            ("10折", 0.0),
            ("12.5%", 0.125),
            ("0", 0.0),
            (0, 0.0),
            ("5", 5.0),
        ],
    )
    def test_accepted(self, cell, rate):
        value, bad = one(parse_rate, cell)
        assert not bad
        assert value == rate  # exact: one correctly rounded division

    @pytest.mark.parametrize("cell", ["abc", "0折", "100折", "-9折", "5%%", "折", "1e-2", np.inf])
    def test_rejected(self, cell):
        value, bad = one(parse_rate, cell)
        assert bad and np.isnan(value)

    @pytest.mark.parametrize("cell", EMPTY_CELLS)
    def test_empty(self, cell):
        value, bad = one(parse_rate, cell)
        assert np.isnan(value) and not bad

    def test_dtype_and_doc(self):
        s = pd.Series(["95折"])
        r = parse_rate(s)
        assert_shape(r, s, "float64")
        assert "95折" in r.expected


class TestParseBool:
    @pytest.mark.parametrize(
        "cell",
        [
            "true",
            "True",
            "TRUE",
            "yes",
            "Y",
            "y",
            "1",
            "是",
            "有",
            "√",
            "冷链",
            "ｙｅｓ",
            True,
            np.True_,
            1,
            1.0,
        ],
    )
    def test_true(self, cell):
        assert one(parse_bool, cell) == (True, False)

    @pytest.mark.parametrize(
        "cell",
        ["false", "False", "no", "N", "n", "0", "否", "无", "×", "常温", "非冷链", False, 0, 0.0],
    )
    def test_false(self, cell):
        assert one(parse_bool, cell) == (False, False)

    @pytest.mark.parametrize("cell", ["maybe", "2", 2, 0.5, "是的吧", dt.date(2025, 1, 1)])
    def test_rejected(self, cell):
        value, bad = one(parse_bool, cell)
        assert bad and pd.isna(value)

    @pytest.mark.parametrize("cell", EMPTY_NOT_WU)
    def test_empty(self, cell):
        value, bad = one(parse_bool, cell)
        assert pd.isna(value) and not bad

    def test_typed_columns(self):
        s = pd.Series([True, None], dtype="boolean")
        r = parse_bool(s)
        assert_shape(r, s, "boolean")
        assert r.values.iloc[0] and pd.isna(r.values.iloc[1])
        assert parse_bool(pd.Series([True, False])).values.tolist() == [True, False]


# ------------------------------------------------------------------------------ enums


class TestNormalizeEnum:
    @pytest.mark.parametrize(
        ("table", "column", "label", "code"),
        [
            ("customers", "customer_type", "三级医院", "tertiary_hospital"),
            ("customers", "customer_type", "二级医院", "secondary_hospital"),
            ("customers", "customer_type", "诊所", "clinic"),
            ("customers", "customer_type", "社区卫生服务中心", "clinic"),
            ("customers", "customer_type", "零售药店", "pharmacy"),
            ("customers", "customer_type", "经销商", "distributor"),
            ("customers", "customer_type", "代理商", "agent"),
            ("customers", "customer_type", "其他", "other"),
            ("customers", "customer_type", "Tertiary hospital", "tertiary_hospital"),
            ("customers", "customer_type", "SECONDARY_HOSPITAL", "secondary_hospital"),
            ("customers", "channel", "直销", "direct"),
            ("customers", "channel", "经销", "distributor"),
            ("orders", "channel", "代理", "agent"),
            ("targets", "channel", "电商", "ecommerce"),
            ("targets", "channel", "E-commerce", "ecommerce"),
            ("products", "category", "器械设备", "equipment"),
            ("products", "category", "耗材", "consumable"),
            ("products", "category", "试剂", "reagent"),
            ("products", "category", "易损件", "wear_part"),
            ("products", "category", "Wear part", "wear_part"),
            ("batches", "qc_status", "放行", "released"),
            ("batches", "qc_status", "隔离", "quarantined"),
            ("batches", "qc_status", "不合格", "rejected"),
            ("orders", "status", "新建", "entered"),
            ("orders", "status", "已审核", "approved"),
            ("orders", "status", "已发货", "shipped"),
            ("orders", "status", "已开票", "invoiced"),
            ("orders", "status", "已关闭", "closed"),
            ("orders", "status", "作废", "cancelled"),
            ("adjustments", "kind", "红字发票", "credit_note"),
            ("adjustments", "kind", "贷项通知", "credit_note"),
            ("adjustments", "kind", "坏账核销", "write_off"),
            ("adjustments", "kind", "Write-off", "write_off"),
            ("adjustments", "kind", "现金折扣", "discount"),
            ("collection_actions", "channel", "邮件", "email"),
            ("collection_actions", "channel", "短信", "sms"),
            ("collection_actions", "channel", "电话", "call"),
            ("collection_actions", "channel", "拜访", "visit"),
            ("collection_actions", "channel", "律师函", "letter"),
            ("collection_actions", "channel", "诉讼", "legal"),
            ("collection_actions", "channel", "ＳＭＳ", "sms"),
        ],
    )
    def test_labels(self, table, column, label, code):
        r = normalize_enum(pd.Series([f" {label} "]), table, column)
        assert r.values.tolist() == [code]

    def test_every_label_maps_into_its_vocabulary(self):
        for vocab, labels in ENUM_LABELS.items():
            assert set(labels.values()) <= set(vocab)

    def test_codes_pass_and_unknown_is_kept_not_bad(self):
        s = pd.Series(["clinic", "外星医院", None, "Clinic", "直销"], index=[5, 6, 7, 8, 9])
        r = normalize_enum(s, "customers", "customer_type")
        assert_shape(r, s, "str")
        assert r.values.iloc[[0, 1, 3, 4]].tolist() == ["clinic", "外星医院", "clinic", "直销"]
        assert pd.isna(r.values.iloc[2])
        assert not r.bad.any()
        assert "tertiary_hospital" in r.expected

    def test_channel_label_of_another_vocabulary_is_not_mapped(self):
        # 电话 is an action channel, not a sales channel
        assert normalize_enum(pd.Series(["电话"]), "orders", "channel").values.tolist() == ["电话"]

    def test_non_enum_column(self):
        with pytest.raises(SchemaError, match="no closed set of values"):
            normalize_enum(pd.Series(["x"]), "customers", "name")
        with pytest.raises(SchemaError, match="has no column 'nope'"):
            normalize_enum(pd.Series(["x"]), "customers", "nope")


# ------------------------------------------------------------------------------ headers


class TestHeaders:
    @pytest.mark.parametrize(
        ("raw", "key"),
        [
            (" *Invoice_No. ", "invoiceno"),
            ("金额(元)", "金额"),
            ("金额（元）", "金额"),
            ("有效期(天)", "有效期"),
            ("客户编码*", "客户编码"),
            ("\ufeff客户编码", "客户编码"),
            ("Due-Date", "duedate"),
            ("ＡＭＯＵＮＴ", "amount"),
            ("金额【元】", "金额"),
            ("单价：", "单价"),
            (None, ""),
            ("Customer  Code", "customercode"),
        ],
    )
    def test_normalize_header(self, raw, key):
        assert normalize_header(raw) == key

    def test_every_table_has_aliases_for_its_columns(self):
        assert set(COLUMN_ALIASES) == set(SCHEMAS)
        for table, model in SCHEMAS.items():
            for column in model.to_schema().columns:
                assert COLUMN_ALIASES[table][normalize_header(column)] == column
            assert set(COLUMN_ALIASES[table].values()) <= set(model.to_schema().columns)
            assert all(k == normalize_header(k) for k in COLUMN_ALIASES[table])

    @pytest.mark.parametrize(
        ("table", "header", "column"),
        [
            ("customers", "客户编码", "customer_id"),
            ("customers", "客户编号", "customer_id"),
            ("customers", "客户代码", "customer_id"),
            ("customers", "客户ID", "customer_id"),
            ("customers", "客户名称", "name"),
            ("customers", "客户", "name"),
            ("customers", "Customer Name", "name"),
            ("customers", "客户类型", "customer_type"),
            ("customers", "区域", "region"),
            ("customers", "大区", "region"),
            ("customers", "省份", "province"),
            ("customers", "省", "province"),
            ("customers", "渠道", "channel"),
            ("customers", "业务员", "salesperson_id"),
            ("customers", "销售员", "salesperson_id"),
            ("customers", "销售人员编码", "salesperson_id"),
            ("customers", "信用额度(元)", "credit_limit"),
            ("customers", "账期", "payment_terms_days"),
            ("customers", "付款期限", "payment_terms_days"),
            ("customers", "信用天数", "payment_terms_days"),
            ("customers", "建档日期", "opened_date"),
            ("customers", "开户日期", "opened_date"),
            ("customers", "Customer Code", "customer_id"),
            ("invoices", "发票号码", "invoice_id"),
            ("invoices", "发票号", "invoice_id"),
            ("invoices", "单据编号", "invoice_id"),
            ("invoices", "Invoice No", "invoice_id"),
            ("invoices", "Invoice No.", "invoice_id"),
            ("invoices", "客户编码", "customer_id"),
            ("invoices", "开票日期", "invoice_date"),
            ("invoices", "发票日期", "invoice_date"),
            ("invoices", "单据日期", "invoice_date"),
            ("invoices", "Invoice Date", "invoice_date"),
            ("invoices", "到期日", "due_date"),
            ("invoices", "到期日期", "due_date"),
            ("invoices", "应收日期", "due_date"),
            ("invoices", "Due Date", "due_date"),
            ("invoices", "金额", "amount"),
            ("invoices", "发票金额", "amount"),
            ("invoices", "价税合计", "amount"),
            ("invoices", "应收金额", "amount"),
            ("invoices", "Amount", "amount"),
            ("invoices", "金额（元）", "amount"),
            ("invoices", "订单号", "order_id"),
            ("invoices", "产品线", "product_line"),
            ("invoices", "币种", "currency"),
            ("invoices", "*客户编码", "customer_id"),
            ("payments", "收款单号", "payment_id"),
            ("payments", "回款单号", "payment_id"),
            ("payments", "收款编号", "payment_id"),
            ("payments", "回款日期", "payment_date"),
            ("payments", "收款日期", "payment_date"),
            ("payments", "到账日期", "payment_date"),
            ("payments", "Payment Date", "payment_date"),
            ("payments", "回款金额", "amount"),
            ("payments", "收款金额", "amount"),
            ("payments", "金额", "amount"),
            ("payments", "结算方式", "method"),
            ("payments", "收款方式", "method"),
            ("payments", "发票号码", "reference"),
            ("payments", "对应发票", "reference"),
            ("payments", "备注", "reference"),
            ("payments", "客户编码", "customer_id"),
            ("allocations", "核销金额", "amount"),
            ("allocations", "金额", "amount"),
            ("allocations", "收款单号", "payment_id"),
            ("allocations", "发票号码", "invoice_id"),
            ("adjustments", "调整类型", "kind"),
            ("adjustments", "原发票号码", "invoice_id"),
            ("salespeople", "业务员编码", "salesperson_id"),
            ("salespeople", "姓名", "name"),
            ("salespeople", "业务员", "name"),
            ("salespeople", "团队", "team"),
            ("products", "物料编码", "sku"),
            ("products", "产品编码", "sku"),
            ("products", "SKU", "sku"),
            ("products", "注册证号", "registration_no"),
            ("products", "有效期(天)", "shelf_life_days"),
            ("products", "保质期天数", "shelf_life_days"),
            ("products", "冷链", "cold_chain"),
            ("products", "单价", "list_price"),
            ("products", "标准价", "list_price"),
            ("products", "指导价", "list_price"),
            ("products", "产品名称", "name"),
            ("batches", "批号", "batch_id"),
            ("batches", "批次号", "batch_id"),
            ("batches", "生产日期", "production_date"),
            ("batches", "有效期至", "expiry_date"),
            ("batches", "失效日期", "expiry_date"),
            ("batches", "数量", "quantity"),
            ("batches", "仓库", "warehouse"),
            ("batches", "质检状态", "qc_status"),
            ("batches", "物料编码", "sku"),
            ("orders", "订单号", "order_id"),
            ("orders", "订单日期", "order_date"),
            ("orders", "状态", "status"),
            ("order_lines", "行号", "line_no"),
            ("order_lines", "单价", "unit_price"),
            ("order_lines", "折扣率", "discount_rate"),
            ("order_lines", "数量", "quantity"),
            ("shipments", "发货单号", "shipment_id"),
            ("shipments", "发货日期", "ship_date"),
            ("shipments", "批号", "batch_id"),
            ("collection_actions", "催收日期", "action_date"),
            ("collection_actions", "阶段", "stage"),
            ("collection_actions", "承诺付款日期", "promise_date"),
            ("collection_actions", "承诺金额", "promise_amount"),
            ("collection_actions", "结果", "outcome"),
            ("collection_actions", "方式", "channel"),
            ("collection_actions", "执行人", "actor"),
            ("targets", "月份", "period"),
            ("targets", "期间", "period"),
            ("targets", "目标金额", "target_amount"),
            ("targets", "指标金额", "target_amount"),
            ("targets", "区域", "region"),
        ],
    )
    def test_aliases(self, table, header, column):
        assert match_columns(table, [header]) == {header: column}

    @pytest.mark.parametrize(
        ("name", "table"),
        [
            ("客户", "customers"),
            ("客户档案", "customers"),
            ("customers", "customers"),
            ("Customer", "customers"),
            ("发票", "invoices"),
            ("应收", "invoices"),
            ("应收明细", "invoices"),
            ("应收账款", "invoices"),
            ("回款", "payments"),
            ("收款", "payments"),
            ("收款明细", "payments"),
            ("核销", "allocations"),
            ("核销明细", "allocations"),
            ("调整", "adjustments"),
            ("红字发票", "adjustments"),
            ("坏账核销", "adjustments"),
            ("销售人员", "salespeople"),
            ("业务员", "salespeople"),
            ("产品", "products"),
            ("物料", "products"),
            ("批次", "batches"),
            ("库存批次", "batches"),
            ("订单", "orders"),
            ("销售订单", "orders"),
            ("订单明细", "order_lines"),
            ("order_lines", "order_lines"),
            ("Order Lines", "order_lines"),
            ("发货", "shipments"),
            ("发货明细", "shipments"),
            ("催收记录", "collection_actions"),
            ("collection_actions", "collection_actions"),
            ("销售指标", "targets"),
            ("目标", "targets"),
            ("targets", "targets"),
            ("target", "targets"),
            ("客户(2025)", "customers"),
        ],
    )
    def test_table_aliases(self, name, table):
        assert TABLE_ALIASES[normalize_header(name)] == table
        assert match_table(name) == table

    def test_every_table_name_is_known(self):
        for table in SCHEMAS:
            assert match_table(table) == table
        assert match_table("说明") is None

    def test_unknown_headers_are_left_out(self):
        got = match_columns("invoices", ["发票号码", "摘要说明", "客户名称", "合计"])
        assert got == {"发票号码": "invoice_id"}

    def test_two_headers_may_map_to_one_column(self):
        got = match_columns("invoices", ["金额", "价税合计"])
        assert got == {"金额": "amount", "价税合计": "amount"}

    def test_user_map_wins(self):
        got = match_columns(
            "invoices",
            ["Amt", "金额", "Bill To", "备注 "],
            {"amt": "amount", "金额": None, "Bill To": "customer_id", "备注": "order_id"},
        )
        assert got == {"Amt": "amount", "Bill To": "customer_id", "备注 ": "order_id"}

    def test_user_map_errors(self):
        with pytest.raises(SchemaError, match="maps 'Amt' to 'amout'.*Possible columns: "):
            match_columns("invoices", ["Amt"], {"Amt": "amout"})
        with pytest.raises(SchemaError, match="Unknown table 'invoice'"):
            match_columns("invoice", ["x"])

    @pytest.mark.parametrize(
        ("table", "header"),
        [
            ("invoices", "金额(万元)"),
            ("invoices", "价税合计（万元）"),
            ("payments", "金额(千元)"),
            ("customers", "信用额度(万元)"),
            ("invoices", "金额(分)"),
            ("products", "有效期(月)"),
            ("customers", "账期(月)"),
        ],
    )
    def test_scaled_units_are_refused(self, table, header):
        with pytest.raises(SchemaError, match="Convert the column"):
            match_columns(table, [header])
        with pytest.raises(MedriskError):
            match_columns(
                table, [header], {header: COLUMN_ALIASES[table][normalize_header(header)]}
            )

    def test_yuan_unit_is_fine(self):
        assert match_columns("invoices", ["金额(元)", "金额(人民币元)"]) == {
            "金额(元)": "amount",
            "金额(人民币元)": "amount",
        }


# ------------------------------------------------------------------------------ dispatch


class TestParseColumn:
    def test_kinds_come_from_the_schemas(self):
        for table, model in SCHEMAS.items():
            schema = model.to_schema()
            for column, col in schema.columns.items():
                kind = column_kind(table, column)
                if column in MONEY_COLUMNS.get(table, ()):
                    assert kind == "money"
                elif column in DATE_COLUMNS.get(table, ()):
                    assert kind in ("date", "month")
                elif any(c.name == "isin" for c in col.checks):
                    assert kind == "enum"
                else:
                    assert kind in ("int", "float", "bool", "str")
        assert column_kind("targets", "period") == "month"
        assert column_kind("order_lines", "discount_rate") == "float"
        assert column_kind("products", "cold_chain") == "bool"
        assert column_kind("customers", "payment_terms_days") == "int"
        assert column_kind("order_lines", "line_no") == "int"
        assert column_kind("invoices", "currency") == "str"
        assert set(PARSERS) >= {"money", "date", "month", "int", "float", "bool", "str"}

    @pytest.mark.parametrize(
        ("table", "column", "cell", "value"),
        [
            ("invoices", "amount", "¥1,234.50", 123450),
            ("invoices", "due_date", "2025年3月5日", D0),
            ("targets", "period", "2025年3月", pd.Timestamp("2025-03-01")),
            ("customers", "payment_terms_days", "90天", 90),
            ("order_lines", "discount_rate", "95折", 0.05),
            ("products", "cold_chain", "是", True),
            ("customers", "customer_type", "三级医院", "tertiary_hospital"),
            ("invoices", "invoice_id", 12345.0, "12345"),
        ],
    )
    def test_dispatch(self, table, column, cell, value):
        r = parse_column(table, column, pd.Series([cell], dtype=object))
        assert r.values.iloc[0] == value and not r.bad.any()

    def test_unknown(self):
        with pytest.raises(SchemaError, match="Possible tables"):
            parse_column("nope", "amount", pd.Series(["1"]))
        with pytest.raises(SchemaError, match="Possible columns"):
            column_kind("invoices", "amt")

    def test_parsed_columns_pass_the_schema(self):
        raw = pd.DataFrame(
            {
                "invoice_id": ["INV-1", 2.0],
                "customer_id": ["C1", "Ｃ２"],
                "invoice_date": ["2025/3/5", 45721],
                "due_date": ["2025年6月3日", "20250603"],
                "amount": ["¥1,234.56", 99.9],
                "order_id": [None, "-"],
                "salesperson_id": ["S1", ""],
                "product_line": ["超声", None],
                "currency": ["CNY", "CNY"],
            },
            dtype=object,
        )
        out = pd.DataFrame({c: parse_column("invoices", c, raw[c]).values for c in raw})
        SCHEMAS["invoices"].validate(out)


# ------------------------------------------------------------------------------ properties

FEN = st.integers(min_value=-(9 * 10**15), max_value=9 * 10**15)


def money_styles(v: int) -> list[str]:
    sign = "-" if v < 0 else ""
    y, c = divmod(abs(v), 100)
    frac = f".{c:02d}"
    short = "" if c == 0 else (f".{c // 10}" if c % 10 == 0 else frac)
    styles = [
        f"{sign}{y}{frac}",
        f"{sign}{y}{short}",
        f"{sign}{y:,}{frac}",
        f"{sign}¥{y:,}{frac}",
        f"¥{sign}{y}{short}",
        f"￥{sign}{y:,}{frac}",
        f"{sign}{y:,}{frac}元",
        f"{sign}{y}{short} 元",
        f"RMB {sign}{y:,}{frac}",
        f"{sign}{y:,}{frac}".translate(FULL_WIDTH),
        f" {sign}{y}{frac}\u3000",
    ]
    if v < 0:
        styles += [f"({y:,}{frac})", f"{y:,}{frac}-", f"（¥{y:,}{frac}）"]
    return styles


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FEN)
def test_money_round_trip(v):
    cells = money_styles(v)
    r = parse_money(pd.Series(cells))
    assert not r.bad.any(), [c for c, b in zip(cells, r.bad, strict=True) if b]
    assert r.values.tolist() == [v] * len(cells)
    # exact Decimal objects too
    assert parse_money(pd.Series([Decimal(v) / 100], dtype=object)).values.iloc[0] == v


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(st.lists(FEN, min_size=1, max_size=20))
def test_money_totals_reconcile(vs):
    cells = [money_styles(v)[2] for v in vs]
    assert int(parse_money(pd.Series(cells)).values.sum()) == sum(vs)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_never_raises_on_arbitrary_text(text):
    s = pd.Series([text, "1", None])
    for parser in (
        parse_money,
        parse_dates,
        parse_int,
        parse_rate,
        parse_bool,
        parse_str,
        parse_months,
    ):
        r = parser(s)
        assert len(r.values) == 3
        # a cell is either read, empty, or bad -- never read and bad
        assert not (r.bad & r.values.notna().to_numpy()).any()


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_int_round_trip(n):
    cells = [str(n), f"{n:,}", f"{n}".translate(FULL_WIDTH), n, float(n) if abs(n) < 2**53 else n]
    r = parse_int(pd.Series(cells, dtype=object))
    assert not r.bad.any() and r.values.tolist() == [n] * len(cells)


def test_enum_vocabularies_cover_config():
    vocabularies = {
        config.CUSTOMER_TYPES,
        config.CHANNELS,
        config.PRODUCT_CATEGORIES,
        config.QC_STATUSES,
        config.ORDER_STATUSES,
        config.ADJUSTMENT_KINDS,
        config.ACTION_CHANNELS,
    }
    assert set(ENUM_LABELS) == vocabularies


@pytest.mark.parametrize(
    ("parser", "dtype"),
    [
        (parse_money, "Int64"),
        (parse_int, "Int64"),
        (parse_rate, "float64"),
        (parse_bool, "boolean"),
        (parse_dates, "datetime64[ns]"),
        (parse_months, "datetime64[ns]"),
        (parse_str, "str"),
    ],
)
@pytest.mark.parametrize(
    "cells",
    [
        pd.Series([], dtype=object),
        pd.Series([], dtype="str"),
        pd.Series([None, np.nan], dtype=object),
        pd.Series(["", " ", "N/A"], index=[7, 8, 9]),
    ],
)
def test_empty_columns(parser, dtype, cells):
    r = parser(cells)
    assert_shape(r, cells, dtype)
    assert r.values.isna().all() and not r.bad.any()


def test_unsigned_and_arrow_numeric_columns():
    assert parse_money(pd.Series([1, 2], dtype="uint64")).values.tolist() == [100, 200]
    s = pd.Series(pd.array([1, None], dtype="int64[pyarrow]"))
    r = parse_money(s)
    assert r.values.iloc[0] == 100 and pd.isna(r.values.iloc[1]) and not r.bad.any()
    s = pd.Series(pd.array([0.05, None], dtype="double[pyarrow]"))
    assert parse_rate(s).values.iloc[0] == 0.05


def test_payments_reference_english():
    assert match_columns("payments", ["Invoice No"]) == {"Invoice No": "reference"}
