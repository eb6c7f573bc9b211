"""Vocabulary, calendar and column builders shared by the demo company generator.

Private module of :mod:`medrisk.data.demo`. Everything here is deterministic data or
a vectorised helper; nothing draws random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from medrisk.kernel import SPRING_FESTIVAL

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------
#: Region -> (share of customers, {province: cities}).
GEOGRAPHY: tuple[tuple[str, float, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("华东", 0.32, (
        ("上海", ("上海",)), ("江苏", ("南京", "苏州", "无锡", "常州", "南通", "徐州")),
        ("浙江", ("杭州", "宁波", "温州", "绍兴", "嘉兴")), ("安徽", ("合肥", "芜湖", "蚌埠")),
        ("福建", ("福州", "厦门", "泉州")), ("江西", ("南昌", "赣州")),
        ("山东", ("济南", "青岛", "烟台", "潍坊", "临沂")),
    )),
    ("华南", 0.16, (
        ("广东", ("广州", "深圳", "东莞", "佛山", "珠海", "汕头")),
        ("广西", ("南宁", "柳州", "桂林")), ("海南", ("海口", "三亚")),
    )),
    ("华北", 0.15, (
        ("北京", ("北京",)), ("天津", ("天津",)), ("河北", ("石家庄", "唐山", "保定", "邯郸")),
        ("山西", ("太原", "大同")), ("内蒙古", ("呼和浩特", "包头")),
    )),
    ("华中", 0.13, (
        ("河南", ("郑州", "洛阳", "新乡", "南阳")), ("湖北", ("武汉", "宜昌", "襄阳")),
        ("湖南", ("长沙", "株洲", "衡阳", "岳阳")),
    )),
    ("西南", 0.11, (
        ("重庆", ("重庆",)), ("四川", ("成都", "绵阳", "南充", "宜宾")),
        ("贵州", ("贵阳", "遵义")), ("云南", ("昆明", "曲靖", "大理")), ("西藏", ("拉萨",)),
    )),
    ("西北", 0.06, (
        ("陕西", ("西安", "宝鸡", "咸阳")), ("甘肃", ("兰州", "天水")), ("青海", ("西宁",)),
        ("宁夏", ("银川",)), ("新疆", ("乌鲁木齐", "喀什")),
    )),
    ("东北", 0.07, (
        ("辽宁", ("沈阳", "大连", "鞍山")), ("吉林", ("长春", "吉林")),
        ("黑龙江", ("哈尔滨", "大庆", "齐齐哈尔")),
    )),
)
REGIONS: tuple[str, ...] = tuple(r for r, _, _ in GEOGRAPHY)
REGION_SHARE = np.array([s for _, s, _ in GEOGRAPHY]) / sum(s for _, s, _ in GEOGRAPHY)
#: Flattened cities with their province and region index.
CITIES: tuple[str, ...] = tuple(c for _, _, ps in GEOGRAPHY for _, cs in ps for c in cs)
PROVINCES: tuple[str, ...] = tuple(p for _, _, ps in GEOGRAPHY for p, _ in ps)
CITY_PROVINCE = np.array(
    [PROVINCES.index(p) for _, _, ps in GEOGRAPHY for p, cs in ps for _ in cs], dtype=np.int16
)
CITY_REGION = np.array(
    [i for i, (_, _, ps) in enumerate(GEOGRAPHY) for _, cs in ps for _ in cs], dtype=np.int8
)

#: Name endings per customer type (in config.CUSTOMER_TYPES order); names are
#: city + [brand] + ending.
CUSTOMER_NAME_ENDINGS: tuple[tuple[str, ...], ...] = (
    ("市第一人民医院", "市第二人民医院", "市第三人民医院", "市人民医院", "市中心医院", "市中医院",
     "医科大学附属第一医院", "医科大学附属第二医院", "市妇幼保健院", "市肿瘤医院", "市儿童医院"),
    ("市城东区人民医院", "市城西区人民医院", "市高新区医院", "市江北区中医院", "市新城区人民医院",
     "市滨海区医院", "市南湖区妇幼保健院", "市开发区医院", "市第四人民医院", "市第五人民医院"),
    ("诊所", "门诊部", "口腔诊所", "社区卫生服务站", "综合门诊部", "中医诊所"),
    ("大药房", "医药连锁", "药店", "大药房连锁有限公司"),
    ("医疗器械有限公司", "医药有限公司", "医疗设备有限公司", "医药贸易有限公司"),
    ("医疗器械经营部", "商贸有限公司", "医疗科技服务部", "生物科技有限公司"),
    ("体检中心", "第三方医学检验所", "康养中心", "卫生院", "医学影像中心"),
)
#: Customer types whose names carry a brand between city and ending.
NAME_HAS_BRAND = np.array([False, False, True, True, True, True, True])
BRANDS: tuple[str, ...] = (
    "康宁", "仁和", "济民", "华康", "安泰", "德济", "博爱", "瑞康", "同仁", "惠民", "益康", "百姓",
    "民康", "慈济", "福瑞", "恒生", "佳禾", "康泰", "永和", "天成", "嘉信", "润泽", "金桥", "鸿运",
)
SURNAMES: tuple[str, ...] = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "邓",
)
GIVEN_NAMES: tuple[str, ...] = (
    "伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "勇", "艳", "杰", "军", "涛", "超", "明", "霞",
    "平", "刚", "丽", "鹏", "浩", "婷", "宇", "欣", "晨", "建华", "志强", "晓燕", "海燕", "文杰",
    "丽娟", "俊杰", "秀英", "子豪", "雨涵", "思远", "嘉怡", "国庆", "春梅", "立新",
)
#: Product name stems per category (config.PRODUCT_CATEGORIES order).
PRODUCT_STEMS: tuple[tuple[str, ...], ...] = (
    ("彩色多普勒超声诊断仪", "全自动生化分析仪", "多参数监护仪", "有创呼吸机", "血液透析机",
     "电子内窥镜系统", "数字化X射线摄影系统", "麻醉机", "除颤监护仪", "全自动化学发光免疫分析仪",
     "血细胞分析仪", "高频电刀"),
    ("一次性使用输液器", "一次性使用无菌注射器", "静脉留置针", "一次性使用真空采血管",
     "医用外科口罩", "无菌敷贴", "可吸收缝合线", "一次性导尿包", "中心静脉导管", "医用检查手套",
     "一次性使用吸痰管"),
    ("肝功能检测试剂盒", "血糖测定试剂盒", "肿瘤标志物检测试剂盒", "新型冠状病毒核酸检测试剂盒",
     "甲状腺功能检测试剂盒", "凝血功能检测试剂", "C反应蛋白测定试剂盒", "糖化血红蛋白检测试剂盒",
     "生化质控品", "免疫校准品", "心肌标志物检测试剂盒"),
    ("超声探头", "透析滤器", "心电电极片", "血氧饱和度传感器", "呼吸管路组件", "X射线球管",
     "内镜活检钳", "监护导联线", "气体流量传感器", "电刀笔"),
)
MODEL_LETTERS: tuple[str, ...] = ("MX", "HD", "BX", "KL", "SE", "VT", "DR", "CA", "ZY", "PT")
#: Registration classification codes (68xx catalogue, two digits) per category.
REG_CODES: tuple[tuple[int, ...], ...] = ((6, 21, 23, 8, 10), (14, 15, 64, 66, 2), (40, 22, 41), (
    6, 10, 21, 8))
PROVINCE_ABBR: tuple[str, ...] = ("沪", "苏", "浙", "粤", "京", "鲁", "川", "鄂")
WAREHOUSES: tuple[str, ...] = ("上海仓", "广州仓", "北京仓", "成都仓")
WAREHOUSE_SHARE = np.array([0.4, 0.25, 0.2, 0.15])
PAYMENT_METHODS: tuple[str, ...] = ("银行转账", "承兑汇票", "支票")

#: Spring Festival (春节) dates, for the January/February dip and the cash squeeze.
LNY_DAYS = np.array(SPRING_FESTIVAL, dtype="datetime64[D]").astype(np.int64)

#: Sales seasonality: month factor (Jan..Dec), the year-end push is strongest.
MONTH_FACTOR = np.array([1.0, 0.95, 1.08, 0.95, 0.97, 1.10, 0.95, 0.95, 1.10, 0.93, 1.05, 1.45])
#: Annual growth of the sales intensity.
ANNUAL_GROWTH = 0.18


# ---------------------------------------------------------------------------
# Column builders: numpy arrays -> canonical pandas columns
# ---------------------------------------------------------------------------
def id_width(n: int, minimum: int) -> int:
    """Digits needed to number ``n`` items, at least ``minimum``."""
    return max(minimum, len(str(max(int(n), 1))))


def make_ids(prefix: str, numbers: np.ndarray, width: int,
             null: np.ndarray | None = None) -> pd.Series:
    """Ids such as ``INV00001234`` from integers, as a ``str`` column.

    Parameters
    ----------
    prefix : str
        ASCII prefix, e.g. ``"INV"``.
    numbers : ndarray of int
        Non-negative numbers below ``10 ** width``.
    width : int
        Zero-padded digits.
    null : ndarray of bool, default=None
        Rows to leave empty.

    Returns
    -------
    Series of str
    """
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    n, size = len(numbers), len(head) + width
    chars = np.empty((n, size), dtype=np.uint8)
    chars[:, : len(head)] = head
    numbers = np.asarray(numbers, dtype=np.int64)
    block = 1 << 18  # blocks that stay in cache: a pass per digit over all rows is memory-bound
    for lo in range(0, n, block):
        rest = numbers[lo: lo + block].copy()
        digits = np.empty((width, len(rest)), dtype=np.uint8)
        for j in range(width - 1, -1, -1):  # one pass per digit, not per row
            digits[j] = rest % 10
            rest //= 10
        chars[lo: lo + block, len(head):] = digits.T + 48
    offsets = np.arange(n + 1, dtype=np.int64) * size
    validity, n_null = None, 0
    if null is not None and np.any(null):
        validity = pa.py_buffer(np.packbits(~np.asarray(null, dtype=bool), bitorder="little"))
        n_null = int(np.sum(null))
    arr = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(chars.reshape(-1)), validity, n_null)
    return pd.Series(pd.array(arr, dtype="str"))


@dataclass(frozen=True)
class IdCodec:
    """The id scheme of one table: prefix and zero-padded width; row ``i`` has number ``i + 1``.

    Attributes
    ----------
    prefix : str
        E.g. ``"INV"``.
    width : int
        Digits.
    """

    prefix: str
    width: int

    @classmethod
    def for_count(cls, prefix: str, n: int, minimum: int) -> IdCodec:
        """Build the codec numbering ``n`` rows with at least ``minimum`` digits."""
        return cls(prefix, id_width(n, minimum))

    def __call__(self, positions: np.ndarray, null: np.ndarray | None = None) -> pd.Series:
        """Ids of rows at ``positions`` (empty where ``null`` or position < 0)."""
        positions = np.asarray(positions, dtype=np.int64)
        missing = positions < 0 if null is None else (np.asarray(null) | (positions < 0))
        return make_ids(self.prefix, np.where(missing, 0, positions + 1), self.width, missing)


def make_labels(codes: np.ndarray, categories, null: np.ndarray | None = None) -> pd.Series:
    """Make a ``str`` column from codes into ``categories`` (null where ``null`` or code < 0).

    Parameters
    ----------
    codes : ndarray of int
        Positions in ``categories``.
    categories : sequence of str, Series of str or pyarrow array
        The labels.
    null : ndarray of bool, default=None
        Rows to leave empty.

    Returns
    -------
    Series of str
    """
    codes = np.asarray(codes)
    mask = codes < 0 if null is None else (np.asarray(null) | (codes < 0))
    idx = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask if mask.any() else None)
    if isinstance(categories, pd.Series):
        dictionary = pa.array(categories.astype("str").to_numpy(dtype=object),
                              type=pa.large_string())
    else:
        dictionary = pa.array(list(categories), type=pa.large_string())
    arr = pa.DictionaryArray.from_arrays(idx, dictionary).dictionary_decode()
    return pd.Series(pd.array(arr, dtype="str"))


def make_dates(days: np.ndarray, null: np.ndarray | None = None) -> pd.Series:
    """Make a ``datetime64[ns]`` column from day numbers (days since 1970-01-01)."""
    ns = np.asarray(days, dtype=np.int64) * np.int64(86_400_000_000_000)
    out = ns.view("datetime64[ns]")
    if null is not None and np.any(null):
        out = out.copy()
        out[np.asarray(null)] = np.datetime64("NaT", "ns")
    return pd.Series(out)


def sort_order(*keys: np.ndarray) -> np.ndarray:
    """Permutation sorting rows by ``keys`` (first key most significant), ties by position.

    Integer keys are packed into one int64 when their ranges fit in 63 bits,
    which is several times faster than :func:`numpy.lexsort` on large arrays.
    """
    shifted, bits = [], []
    for k in keys:
        k = np.asarray(k, dtype=np.int64)
        lo = int(k.min()) if len(k) else 0
        shifted.append(k - lo)
        bits.append(max(1, int(k.max() - lo).bit_length()) if len(k) else 1)
    if sum(bits) > 63:
        return np.lexsort(tuple(np.asarray(k) for k in reversed(keys)))
    packed = np.zeros(len(shifted[0]), dtype=np.int64)
    for k, b in zip(shifted, bits, strict=True):  # a handful of keys
        packed = (packed << b) | k
    return np.argsort(packed, kind="stable")


def concat_text(*parts: pd.Series) -> pd.Series:
    """Row-wise concatenation of ``str`` columns."""
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def day_number(value) -> int:
    """Day number (days since 1970-01-01) of a date-like value."""
    return int(np.datetime64(pd.Timestamp(value).date(), "D").astype(np.int64))


def month_of(days: np.ndarray) -> np.ndarray:
    """Calendar month (1..12) of day numbers."""
    return (np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12
            + 1).astype(np.int8)


def month_start(days: np.ndarray) -> np.ndarray:
    """Day number of the first day of the month of each day number."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[M]").astype(
        "datetime64[D]").astype(np.int64)


def weekday(days: np.ndarray) -> np.ndarray:
    """Weekday of day numbers, Monday = 0 .. Sunday = 6."""
    return ((np.asarray(days, dtype=np.int64) + 3) % 7).astype(np.int8)


def lny_offset(days: np.ndarray) -> np.ndarray:
    """Signed days from the nearest Spring Festival (negative: before it)."""
    d = np.asarray(days, dtype=np.int64)
    pos = np.clip(np.searchsorted(LNY_DAYS, d), 1, len(LNY_DAYS) - 1)
    before, after = d - LNY_DAYS[pos - 1], d - LNY_DAYS[pos]
    return np.where(np.abs(after) < np.abs(before), after, before)


# ---------------------------------------------------------------------------
# Calendar: the daily sales intensity
# ---------------------------------------------------------------------------
@dataclass
class Calendar:
    """Days of the demo span and the relative sales intensity of each day.

    Attributes
    ----------
    start : int
        First day of the invoice span (day number).
    end : int
        Extract date (day number); nothing happens after it.
    horizon : int
        Last day for which the intensity is defined (the last day of the 12th month after ``end``).
    weight : ndarray of float
        Relative sales intensity of each day from ``start`` to ``horizon``.
    cdf : ndarray of float
        Normalised cumulative intensity from ``start`` to ``end``.
    """

    start: int
    end: int
    horizon: int
    weight: np.ndarray
    cdf: np.ndarray

    @classmethod
    def build(cls, end: int, months: int) -> Calendar:
        """Build the calendar of ``months`` months ending on day ``end``."""
        end_month = np.array(end).astype("datetime64[D]").astype("datetime64[M]")
        start = int((end_month - (months - 1)).astype("datetime64[D]").astype(np.int64))
        horizon = int((end_month + 13).astype("datetime64[D]").astype(np.int64)) - 1
        days = np.arange(start, horizon + 1, dtype=np.int64)
        weight = intensity(days, start)
        cdf = np.cumsum(weight[: end - start + 1])
        return cls(start, end, horizon, weight, cdf / cdf[-1])

    def sample(self, u: np.ndarray, earliest: np.ndarray | int | None = None) -> np.ndarray:
        """Days drawn from the intensity by inverse CDF, optionally not before ``earliest``."""
        if earliest is not None:
            lo_idx = np.clip(np.asarray(earliest, dtype=np.int64) - self.start, 0,
                             len(self.cdf) - 1)
            lo = np.where(lo_idx > 0, self.cdf[np.maximum(lo_idx - 1, 0)], 0.0)
            u = lo + u * (1.0 - lo)
        idx = np.searchsorted(self.cdf, u, side="left")
        return self.start + np.minimum(idx, len(self.cdf) - 1)

    def mass_after(self, day: np.ndarray) -> np.ndarray:
        """Share of the span's intensity on or after each day."""
        idx = np.clip(np.asarray(day, dtype=np.int64) - self.start, 0, len(self.cdf) - 1)
        return 1.0 - np.where(idx > 0, self.cdf[np.maximum(idx - 1, 0)], 0.0)


def intensity(days: np.ndarray, start: int) -> np.ndarray:
    """Relative sales intensity per day: growth, month, quarter-end push, 春节, weekday, 国庆."""
    days = np.asarray(days, dtype=np.int64)
    years = (days - start) / 365.25
    w = (1.0 + ANNUAL_GROWTH) ** years
    month = month_of(days)
    w = w * MONTH_FACTOR[month - 1]
    # last five days of a quarter's last month: the quarter-end and year-end push
    next_month = (days.astype("datetime64[D]").astype("datetime64[M]") + 1).astype(
        "datetime64[D]").astype(np.int64)
    quarter_end = (month % 3 == 0) & (next_month - days <= 5)
    w = w * np.where(quarter_end, np.where(month == 12, 1.6, 1.3), 1.0)
    off = lny_offset(days)
    festival = np.select(
        [(off >= -10) & (off < -3), (off >= -3) & (off <= 6), (off > 6) & (off <= 15)],
        [0.6, 0.1, 0.55], 1.0)
    wd = weekday(days)
    w = w * festival * np.select([wd == 5, wd == 6], [0.2, 0.08], 1.0)
    dom = days - month_start(days) + 1
    golden_week = (month == 10) & (dom <= 7)
    return w * np.where(golden_week, 0.15, 1.0)
