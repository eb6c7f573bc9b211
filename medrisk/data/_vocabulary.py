"""What names mean: header and table-name aliases, and labels of coded values.

The vocabulary the loader needs to recognise a company's own words: Chinese and
English column headers (:data:`COLUMN_ALIASES`), file and sheet names
(:data:`TABLE_ALIASES`), and labels such as 三级医院 or 红字发票 for the codes of
:mod:`medrisk.config` (:data:`ENUM_LABELS`). Parsing of cell values lives in
:mod:`medrisk.data`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from medrisk import config
from medrisk.data._schemas import MONEY_COLUMNS, SCHEMAS
from medrisk.exceptions import SchemaError

#: Characters that are invisible in a spreadsheet but break a match.
_INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff\u00ad]"

__all__ = [
    "ENUM_LABELS",
    "normalize_header",
    "COLUMN_ALIASES",
    "TABLE_ALIASES",
    "match_columns",
    "match_table",
]

@cache
def _schema(table: str) -> Any:
    if table not in SCHEMAS:
        raise SchemaError(
            f"Unknown table {table!r}. Possible tables: {', '.join(SCHEMAS)}."
        )
    return SCHEMAS[table].to_schema()


def _schema_column(table: str, column: str) -> Any:
    columns = _schema(table).columns
    if column not in columns:
        raise SchemaError(
            f"Table '{table}' has no column {column!r}. Possible columns: "
            f"{', '.join(columns)}."
        )
    return columns[column]



# --------------------------------------------------------------------------------------
# Enumerations
# --------------------------------------------------------------------------------------

#: Labels (Chinese and English) for the codes of each closed vocabulary of
#: :mod:`medrisk.config`. Codes themselves always pass (case, spaces, ``-`` and
#: ``_`` do not matter: ``'Tertiary hospital'`` is ``tertiary_hospital``).
ENUM_LABELS: dict[tuple[str, ...], dict[str, str]] = {
    config.CUSTOMER_TYPES: {
        "三级医院": "tertiary_hospital", "三甲医院": "tertiary_hospital",
        "三级甲等医院": "tertiary_hospital", "三级乙等医院": "tertiary_hospital",
        "三乙医院": "tertiary_hospital", "三级": "tertiary_hospital",
        "二级医院": "secondary_hospital", "二甲医院": "secondary_hospital",
        "二级甲等医院": "secondary_hospital", "二级乙等医院": "secondary_hospital",
        "二乙医院": "secondary_hospital", "二级": "secondary_hospital",
        "诊所": "clinic", "社区卫生服务中心": "clinic", "社区医院": "clinic",
        "卫生院": "clinic", "乡镇卫生院": "clinic", "门诊部": "clinic",
        "药店": "pharmacy", "零售药店": "pharmacy", "连锁药店": "pharmacy", "药房": "pharmacy",
        "经销商": "distributor", "经销": "distributor", "配送商": "distributor",
        "代理商": "agent", "代理": "agent",
        "其他": "other", "其它": "other",
    },
    config.CHANNELS: {
        "直销": "direct", "直营": "direct",
        "经销": "distributor", "经销商": "distributor", "分销": "distributor",
        "代理": "agent", "代理商": "agent",
        "电商": "ecommerce", "线上": "ecommerce", "网销": "ecommerce", "online": "ecommerce",
    },
    config.PRODUCT_CATEGORIES: {
        "设备": "equipment", "器械设备": "equipment", "仪器": "equipment",
        "医疗设备": "equipment",
        "耗材": "consumable", "医用耗材": "consumable",
        "试剂": "reagent", "诊断试剂": "reagent",
        "配件": "wear_part", "易损件": "wear_part", "备件": "wear_part", "零配件": "wear_part",
        "spare part": "wear_part",
    },
    config.QC_STATUSES: {
        "合格": "released", "放行": "released", "已放行": "released",
        "待检": "quarantined", "隔离": "quarantined", "待验": "quarantined",
        "检验中": "quarantined",
        "不合格": "rejected", "拒收": "rejected", "报废": "rejected",
    },
    config.ORDER_STATUSES: {
        "录入": "entered", "新建": "entered", "草稿": "entered", "保存": "entered",
        "已审核": "approved", "审核": "approved", "已审批": "approved",
        "已发货": "shipped", "发货": "shipped", "已出库": "shipped",
        "已开票": "invoiced", "开票": "invoiced",
        "已关闭": "closed", "关闭": "closed", "已完成": "closed",
        "已取消": "cancelled", "取消": "cancelled", "作废": "cancelled", "已作废": "cancelled",
        "canceled": "cancelled",
    },
    config.ADJUSTMENT_KINDS: {
        "红字发票": "credit_note", "贷项通知": "credit_note", "贷项通知单": "credit_note",
        "红冲": "credit_note", "退货": "credit_note", "credit memo": "credit_note",
        "坏账核销": "write_off", "核销坏账": "write_off", "坏账": "write_off",
        "折扣": "discount", "现金折扣": "discount", "折让": "discount",
        "销售折让": "discount",
    },
    config.ACTION_CHANNELS: {
        "邮件": "email", "电子邮件": "email", "e-mail": "email",
        "短信": "sms", "text": "sms",
        "电话": "call", "致电": "call", "phone": "call", "phone call": "call",
        "拜访": "visit", "上门": "visit", "面访": "visit",
        "函件": "letter", "催款函": "letter", "律师函": "letter", "信函": "letter",
        "法务": "legal", "诉讼": "legal", "起诉": "legal",
    },
}


def _enum_key(x: str) -> str:
    return re.sub(r"[\s_\-]+", "", x.lower())


def _allowed_values(table: str, column: str) -> tuple[str, ...] | None:
    col = _schema_column(table, column)
    for check in col.checks:
        if check.name == "isin":
            return tuple(check.statistics["allowed_values"])
    return None


@cache
def _enum_map(table: str, column: str) -> dict[str, str]:
    allowed = _allowed_values(table, column)
    if allowed is None:
        raise SchemaError(
            f"Column '{table}.{column}' has no closed set of values; "
            "normalize_enum() only maps columns with an isin rule in medrisk.data."
        )
    out = {_enum_key(code): code for code in allowed}
    for vocab, labels in ENUM_LABELS.items():
        if set(vocab) == set(allowed):
            for label, code in labels.items():
                out.setdefault(_enum_key(unicodedata.normalize("NFKC", label)), code)
    return out


@cache
def _enum_expected(table: str, column: str) -> str:
    allowed = _allowed_values(table, column) or ()
    text = f"one of {', '.join(allowed)}"
    labels = ENUM_LABELS.get(_vocab(table, column), {})
    if labels:
        label, code = next(iter(labels.items()))
        text += f" (labels such as {label} for {code} are read too)"
    return text


def _vocab(table: str, column: str) -> tuple[str, ...]:
    allowed = set(_allowed_values(table, column) or ())
    for vocab in ENUM_LABELS:
        if set(vocab) == allowed:
            return vocab
    return ()


# --------------------------------------------------------------------------------------
# Headers and table names
# --------------------------------------------------------------------------------------

_BRACKETS = re.compile(r"[(\[【][^)\]】]*[)\]】]")
_HEADER_JUNK = re.compile(r"[\s_\-.·]+")


def normalize_header(h: object) -> str:
    """Reduce a column header (or a file or sheet name) to a key for matching.

    NFKC, trimmed, lower case; bracketed notes removed (``'金额(元)'`` -> ``'金额'``,
    ``'金额（元）'`` too); spaces, underscores, hyphens and dots removed; leading and
    trailing ``*`` (required-field marks) and ``:`` removed.

    Parameters
    ----------
    h : object
        The header as read (usually a str; ``None`` gives ``''``).

    Returns
    -------
    str
        The key, e.g. ``'invoiceno'`` for ``'Invoice No.'``.

    Examples
    --------
    >>> normalize_header(" *Invoice_No. ")
    'invoiceno'
    >>> normalize_header("金额（元）")
    '金额'
    """
    if h is None or (isinstance(h, float) and math.isnan(h)):
        return ""
    if isinstance(h, float) and h.is_integer():
        h = int(h)
    t = unicodedata.normalize("NFKC", str(h))
    t = re.sub(_INVISIBLE, "", t).strip().lower()
    t = _BRACKETS.sub("", t)
    t = _HEADER_JUNK.sub("", t)
    return t.strip("*:")


# Aliases that mean the same column in every table that has it.
_COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("客户编码", "客户编号", "客户代码", "客户ID", "客户号", "客户账号",
                    "Customer Code", "Customer ID", "Customer No", "Customer Number",
                    "Cust ID", "Cust No", "Cust Code", "KUNNR"),
    "invoice_id": ("发票号码", "发票号", "发票编号", "Invoice No", "Invoice Number",
                   "Invoice #", "Invoice ID", "Inv No", "Invoice"),
    "payment_id": ("收款单号", "回款单号", "收款编号", "回款编号", "收款单编号",
                   "Payment No", "Payment ID", "Payment Number", "Receipt No", "Receipt ID"),
    "order_id": ("订单号", "订单编号", "销售订单号", "销售订单编号", "Order No",
                 "Order Number", "Order ID", "SO No", "SO Number", "VBELN"),
    "salesperson_id": ("业务员", "业务员编码", "业务员编号", "业务员代码", "销售员",
                       "销售员编码", "销售员编号", "销售人员", "销售人员编码", "销售代表",
                       "Salesperson", "Salesperson ID", "Salesperson Code", "Sales Rep",
                       "Sales Rep ID"),
    "sku": ("物料编码", "产品编码", "存货编码", "物料代码", "产品代码", "存货代码",
            "物料号", "料号", "商品编码", "SKU", "Item Code", "Item No", "Material",
            "Material No", "Product Code", "MATNR"),
    "batch_id": ("批号", "批次号", "批次", "生产批号", "Batch", "Batch No", "Batch ID",
                 "Lot", "Lot No", "CHARG"),
    "region": ("区域", "大区", "地区", "销售区域", "片区", "Region", "Area"),
    "channel": ("渠道", "销售渠道", "Channel"),
    "product_line": ("产品线", "Product Line"),
    "currency": ("币种", "币别", "货币", "Currency", "WAERS"),
    "quantity": ("数量", "Qty", "Quantity"),
    "amount": ("金额", "Amount"),
    "name": ("名称", "Name"),
}

# Aliases per table; they win over the common ones.
_TABLE_COLUMN_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "name": ("客户名称", "客户", "客户全称", "单位名称", "Customer Name", "Customer"),
        "customer_type": ("客户类型", "客户类别", "客户分类", "Customer Type"),
        "province": ("省份", "省", "所在省份", "省区", "Province"),
        "credit_limit": ("信用额度", "授信额度", "Credit Limit"),
        "payment_terms_days": ("账期", "付款期限", "信用天数", "信用期", "账期天数",
                               "付款天数", "信用期限", "Payment Terms", "Terms",
                               "Credit Days"),
        "opened_date": ("建档日期", "开户日期", "创建日期", "Opened Date", "Open Date",
                        "Created Date"),
    },
    "invoices": {
        "invoice_id": ("单据编号", "应收单号"),
        "invoice_date": ("开票日期", "发票日期", "单据日期", "业务日期", "日期",
                         "Invoice Date", "Doc Date", "Document Date", "BLDAT"),
        "due_date": ("到期日", "到期日期", "应收日期", "收款到期日", "Due Date", "Due",
                     "Net Due Date", "FAEDT"),
        "amount": ("发票金额", "价税合计", "应收金额", "含税金额", "开票金额",
                   "Invoice Amount", "DMBTR"),
    },
    "payments": {
        "payment_id": ("单据编号",),
        "payment_date": ("回款日期", "收款日期", "到账日期", "日期", "单据日期", "业务日期",
                         "Payment Date", "Receipt Date", "Value Date"),
        "amount": ("回款金额", "收款金额", "实收金额", "到账金额", "Payment Amount",
                   "Receipt Amount"),
        "method": ("结算方式", "收款方式", "付款方式", "Method", "Payment Method"),
        "reference": ("发票号码", "发票号", "对应发票", "备注", "摘要", "参考号", "Reference",
                      "Ref", "Remark", "Memo", "Invoice No", "Invoice Number", "Invoice",
                      "XBLNR"),
    },
    "allocations": {
        "amount": ("核销金额", "本次核销金额", "Applied Amount", "Allocated Amount"),
    },
    "adjustments": {
        "adjustment_id": ("调整单号", "调整编号", "单据编号", "单号", "红字发票号码",
                          "贷项通知单号", "Adjustment No", "Credit Note No"),
        "invoice_id": ("原发票号码", "原发票号", "蓝字发票号码", "对应发票"),
        "adjustment_date": ("调整日期", "日期", "单据日期", "Adjustment Date", "Date"),
        "amount": ("调整金额", "核销金额", "红字金额", "Adjustment Amount"),
        "kind": ("类型", "调整类型", "调整类别", "Kind", "Type"),
    },
    "salespeople": {
        "salesperson_id": ("工号", "员工编号", "职员编码", "人员编码", "编码", "编号"),
        "name": ("姓名", "业务员姓名", "销售员姓名", "业务员", "销售员", "销售人员",
                 "Salesperson Name"),
        "team": ("团队", "小组", "部门", "销售部门", "销售团队", "Team"),
        "manager_id": ("主管", "主管编码", "上级", "上级编码", "经理", "Manager",
                       "Manager ID"),
    },
    "products": {
        "name": ("物料名称", "产品名称", "品名", "存货名称", "商品名称", "Product Name",
                 "Item Name"),
        "category": ("类别", "产品类别", "产品分类", "物料类别", "存货类别", "大类",
                     "Category"),
        "list_price": ("单价", "标准价", "指导价", "标准单价", "价格", "售价", "List Price",
                       "Price", "Unit Price"),
        "shelf_life_days": ("有效期", "保质期", "保质期天数", "有效期天数", "效期天数",
                            "Shelf Life", "Shelf Life Days"),
        "cold_chain": ("冷链", "是否冷链", "冷链运输", "冷链产品", "Cold Chain"),
        "registration_no": ("注册证号", "注册证编号", "注册证", "医疗器械注册证号",
                            "Registration No", "Registration Number"),
    },
    "batches": {
        "production_date": ("生产日期", "Production Date", "Manufacture Date", "Mfg Date"),
        "expiry_date": ("有效期至", "失效日期", "有效期", "到期日期", "效期", "过期日期",
                        "Expiry Date", "Expiry", "Expiration Date", "Exp Date"),
        "quantity": ("库存数量", "结存数量", "现存量"),
        "warehouse": ("仓库", "仓库名称", "库房", "Warehouse"),
        "qc_status": ("质检状态", "质量状态", "检验状态", "QC Status"),
    },
    "orders": {
        "order_id": ("单据编号",),
        "order_date": ("订单日期", "下单日期", "单据日期", "日期", "Order Date", "Date"),
        "status": ("状态", "订单状态", "单据状态", "Status"),
    },
    "order_lines": {
        "line_no": ("行号", "序号", "Line No", "Line", "Line Number"),
        "unit_price": ("单价", "含税单价", "成交价", "Unit Price", "Price"),
        "discount_rate": ("折扣率", "折扣", "Discount", "Discount Rate"),
    },
    "shipments": {
        "shipment_id": ("发货单号", "出库单号", "发货单编号", "单据编号", "Shipment No",
                        "Delivery No"),
        "ship_date": ("发货日期", "出库日期", "日期", "Ship Date", "Shipment Date",
                      "Delivery Date"),
        "quantity": ("发货数量", "出库数量", "实发数量"),
    },
    "collection_actions": {
        "action_id": ("催收编号", "催收单号", "记录编号", "编号", "Action No"),
        "action_date": ("催收日期", "日期", "Action Date", "Date"),
        "stage": ("阶段", "催收阶段", "Stage"),
        "channel": ("方式", "催收方式", "联系方式"),
        "actor": ("执行人", "催收人", "经办人", "Actor"),
        "outcome": ("结果", "催收结果", "Outcome", "Result"),
        "promise_date": ("承诺付款日期", "承诺日期", "承诺还款日期", "Promise Date"),
        "promise_amount": ("承诺金额", "承诺付款金额", "承诺还款金额", "Promise Amount"),
    },
    "targets": {
        "period": ("月份", "期间", "年月", "会计期间", "Period", "Month"),
        "target_amount": ("目标金额", "指标金额", "销售指标", "目标", "指标", "销售目标",
                          "Target", "Target Amount", "Quota"),
    },
}


def _build_column_aliases() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for table, model in SCHEMAS.items():
        columns = list(model.to_schema().columns)
        specific = _TABLE_COLUMN_ALIASES.get(table, {})
        unknown = set(specific) - set(columns)
        if unknown:
            raise ValueError(f"aliases for unknown columns of '{table}': {sorted(unknown)}")
        levels = [
            {c: (c, c.replace("_", " ")) + _COMMON_ALIASES.get(c, ()) for c in columns},
            {c: specific.get(c, ()) for c in columns},
        ]
        result: dict[str, str] = {}
        for level in levels:
            seen: dict[str, str] = {}
            for column, aliases in level.items():
                for alias in aliases:
                    key = normalize_header(alias)
                    if seen.get(key, column) != column:
                        raise ValueError(
                            f"alias {alias!r} of '{table}' means both {seen[key]} and {column}"
                        )
                    seen[key] = column
            result.update(seen)
        out[table] = result
    return out


#: For each canonical table: normalised header -> canonical column.
COLUMN_ALIASES: dict[str, dict[str, str]] = _build_column_aliases()

_TABLE_NAME_ALIASES: dict[str, tuple[str, ...]] = {
    "customers": ("customer", "客户", "客户档案", "客户信息", "客户资料", "客户列表",
                  "客户清单", "clients"),
    "invoices": ("invoice", "发票", "应收", "应收明细", "应收账款", "应收单", "销售发票",
                 "发票明细", "应收账款明细", "ar"),
    "payments": ("payment", "回款", "收款", "收款明细", "回款明细", "收款单", "回款记录",
                 "收款记录", "receipts", "receipt"),
    "allocations": ("allocation", "核销", "核销明细", "核销记录", "收款核销"),
    "adjustments": ("adjustment", "调整", "红字发票", "坏账核销", "应收调整", "调整单",
                    "credit notes", "credit note"),
    "salespeople": ("salesperson", "销售人员", "业务员", "销售员", "sales reps",
                    "salesreps"),
    "products": ("product", "产品", "物料", "产品目录", "产品档案", "物料档案",
                 "存货档案"),
    "batches": ("batch", "批次", "库存批次", "批次库存", "lots"),
    "orders": ("order", "订单", "销售订单"),
    "order_lines": ("order_line", "order lines", "订单明细", "销售订单明细", "订单行"),
    "shipments": ("shipment", "发货", "发货明细", "发货单", "出库", "出库明细",
                  "deliveries"),
    "collection_actions": ("collection_action", "collections", "催收记录", "催收",
                           "催款记录", "dunning"),
    "targets": ("target", "销售指标", "目标", "销售目标", "指标", "quotas"),
}

#: Normalised file or sheet name -> canonical table name.
TABLE_ALIASES: dict[str, str] = {
    normalize_header(alias): table
    for table, aliases in _TABLE_NAME_ALIASES.items()
    for alias in (table, *aliases)
}


def match_table(name: str) -> str | None:
    """Canonical table for a file or sheet name, or None.

    Parameters
    ----------
    name : str
        File stem or sheet name, e.g. ``"应收明细"`` or ``"Order Lines"``.

    Returns
    -------
    str or None
        Canonical table name.
    """
    return TABLE_ALIASES.get(normalize_header(name))


# Units in a header that would make a column silently wrong by a factor.
_BAD_UNITS: dict[str, tuple[re.Pattern[str], str]] = {
    "money": (re.compile(r"[(\[【][^)\]】]*(?:万|千|百万|亿|分)[^)\]】]*"), "元"),
    "days": (re.compile(r"[(\[【][^)\]】]*(?:月|年|周)[^)\]】]*"), "days (天)"),
}


def _unit_problem(header: str, table: str, column: str) -> str | None:
    text = unicodedata.normalize("NFKC", str(header))
    if column in MONEY_COLUMNS.get(table, ()):
        pattern, wanted = _BAD_UNITS["money"]
    elif column.endswith("_days"):
        pattern, wanted = _BAD_UNITS["days"]
    else:
        return None
    found = pattern.search(text)
    if found is None:
        return None
    return (
        f"Header {header!r} of table '{table}' gives '{column}' in {found.group(0)[1:]!r}, "
        f"but medrisk reads {column} in {wanted}. Convert the column to {wanted} and "
        f"rename the header (e.g. to {column!r})."
    )


def match_columns(
    table: str, headers: Iterable[Any], user_map: Mapping[str, str | None] | None = None
) -> dict[Any, str]:
    """Say which canonical column each header of a source means.

    Parameters
    ----------
    table : str
        Canonical table name.
    headers : list
        Headers as read.
    user_map : dict of str to str, default=None
        The user's own mapping, ``{their header: canonical column}``; keys match
        exactly or after :func:`normalize_header`. It wins over the built-in
        :data:`COLUMN_ALIASES`. A value of None ignores that header.

    Returns
    -------
    dict
        ``{original header: canonical column}`` for the headers recognised. Unknown
        headers are left out (the loader reports them as ignored). Two headers may
        map to one column; the loader reports that.

    Raises
    ------
    SchemaError
        If ``table`` is unknown, ``user_map`` names a column the table does not
        have, or a header gives money in 万元/千元/分 (or days in months or years):
        reading it as 元 would be silently wrong.

    Examples
    --------
    >>> match_columns("invoices", ["发票号码", "客户编码", "价税合计", "备注"])
    {'发票号码': 'invoice_id', '客户编码': 'customer_id', '价税合计': 'amount'}
    """
    columns = list(_schema(table).columns)
    aliases = COLUMN_ALIASES[table]
    exact: dict[str, str | None] = {}
    normalized: dict[str, str | None] = {}
    for key, target in (user_map or {}).items():
        if target is not None and target not in columns:
            raise SchemaError(
                f"The column mapping for table '{table}' maps {key!r} to {target!r}, "
                f"which is not a column of '{table}'. Possible columns: {', '.join(columns)}."
            )
        exact[str(key)] = target
        normalized[normalize_header(key)] = target
    out: dict[Any, str] = {}
    for h in headers:
        key = normalize_header(h)
        if str(h) in exact:
            target = exact[str(h)]
        elif key in normalized:
            target = normalized[key]
        else:
            target = aliases.get(key)
        if target is None:
            continue
        problem = _unit_problem(str(h), table, target)
        if problem:
            raise SchemaError(problem)
        out[h] = target
    return out
