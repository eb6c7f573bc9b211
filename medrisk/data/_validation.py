"""Row-level validation of canonical tables: parse, check, quarantine, report.

The rules come from :mod:`medrisk.data` (one pandera model per table, plus
the rules across tables). A row that breaks any rule is not loaded: it is
quarantined with every reason found, and counted, so that for each table
``rows read = accepted + quarantined``.

Order of checks per table:

1. parse each cell (:mod:`medrisk.data`): a cell that cannot be read fails;
2. required columns must not be empty;
3. ids must be unique: the first row with an id is kept, later ones fail;
4. the pandera model (types, ranges, allowed values, cross-column rules);
5. foreign ids must exist among the *accepted* rows of the parent table;
6. after all tables: allocations stay within their payment and invoice
   amounts, and never join a payment and an invoice of different customers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
from tqdm.auto import tqdm

from medrisk.data._loadreport import LoadReport, TableReport
from medrisk.data._parsing import parse_column
from medrisk.data._schemas import RELATIONS, REQUIRED_TABLES, SCHEMAS, TABLE_ORDER, required_columns
from medrisk.data._vocabulary import match_columns
from medrisk.exceptions import MissingColumnsError, MissingTableError, SourceError, ValidationError
from medrisk.kernel import spreadsheet_safe, yuan

__all__ = ["validate_frames", "Failures"]

_FAIL_COLUMNS = ["pos", "column", "value", "rule"]
#: Parts of a rule text that name one row, invoice or payment; left out when counting kinds.
_SPECIFIC = r"(row|invoice|payment|customer) [^ ,)]+"


class Failures:
    """Collects failures of one table: (row position, column, value, rule)."""

    def __init__(self):
        self._parts: list[pd.DataFrame] = []

    def add(self, pos, column: str | None, value, rule: str | pd.Series) -> None:
        """Record failures at row positions ``pos`` (array-like)."""
        pos = np.asarray(pos, dtype=np.int64)
        if len(pos) == 0:
            return
        values = value if isinstance(value, (pd.Series, np.ndarray, list)) else [value] * len(pos)
        rules = rule if isinstance(rule, (pd.Series, np.ndarray, list)) else [rule] * len(pos)
        self._parts.append(
            pd.DataFrame(
                {
                    "pos": pos,
                    "column": column,
                    "value": pd.Series(list(values), dtype=object).to_numpy(),
                    "rule": pd.Series(list(rules), dtype=object).to_numpy(),
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        """All failures so far, ordered by row position."""
        if not self._parts:
            return pd.DataFrame(columns=_FAIL_COLUMNS)
        return pd.concat(self._parts, ignore_index=True).sort_values("pos", kind="stable")

    def failed_positions(self) -> np.ndarray:
        """Sorted unique row positions that failed."""
        if not self._parts:
            return np.array([], dtype=np.int64)
        return np.unique(np.concatenate([p["pos"].to_numpy() for p in self._parts]))


class _TableState:
    """One table on its way through validation."""

    def __init__(self, table: str, frame: pd.DataFrame, raw: pd.DataFrame | None = None,
                 file: str = "", sheet: str | None = None, rows: np.ndarray | None = None,
                 headers: dict[str, str] | None = None):
        self.table = table
        self.frame = frame.reset_index(drop=True)  # canonical columns, parsed
        self.raw = raw  # cells as read, original headers (None for frames built in code)
        self.file = file
        self.sheet = sheet
        self.rows = np.arange(2, len(frame) + 2) if rows is None else np.asarray(rows)
        self.headers = headers or {}  # canonical -> original header
        self.failures = Failures()
        self.accepted: pd.DataFrame | None = None

    @property
    def label(self) -> str:
        return f"{self.file} [{self.sheet}]" if self.sheet else str(self.file)

    def ok_mask(self) -> np.ndarray:
        mask = np.ones(len(self.frame), dtype=bool)
        mask[self.failures.failed_positions()] = False
        return mask


# ---------------------------------------------------------------------------
# Rule texts
# ---------------------------------------------------------------------------
def _describe_check(check: str, table: str) -> str:
    """Plain words for a pandera check name such as ``greater_than(0)``."""
    df_checks = {c.name: c.error for c in SCHEMAS[table].to_schema().checks}
    if check in df_checks and df_checks[check]:
        return df_checks[check]
    m = re.fullmatch(r"(\w+)\((.*)\)", check, flags=re.S)
    name, arg = (m.group(1), m.group(2)) if m else (check, "")
    words = {
        "greater_than": "must be greater than {}",
        "greater_than_or_equal_to": "must be at least {}",
        "less_than": "must be less than {}",
        "less_than_or_equal_to": "must be at most {}",
        "in_range": "must be in the range {}",
        "str_matches": "must match the pattern {}",
        "str_length": "must not be empty",
        "equal_to": "must equal {}",
    }
    if name == "isin":
        allowed = re.findall(r"'([^']*)'", arg)
        return "must be one of " + ", ".join(allowed)
    if name in ("coerce_dtype", "dtype"):
        return f"has the wrong type (expected {arg.strip(chr(39))})"
    if name in words:
        return words[name].format(arg)
    return f"fails the rule {check}"


# ---------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------
def _unique_keys(table: str) -> list[list[str]]:
    schema = SCHEMAS[table].to_schema()
    keys = [[name] for name, col in schema.columns.items() if col.unique]
    if schema.unique:
        keys.append(list(schema.unique))
    return keys


def _check_own_rules(state: _TableState) -> None:
    """Check the required, unique and pandera rules of one table."""
    table, df = state.table, state.frame
    required = required_columns(table)
    ok = state.ok_mask()
    for col in required:
        empty = df[col].isna().to_numpy() & ok
        state.failures.add(np.flatnonzero(empty), col, None, "is required but empty")
    ok = state.ok_mask()
    for key in _unique_keys(table):
        cand = df.loc[ok, key]
        dup = cand.duplicated(keep="first")
        if dup.any():
            first = (cand.reset_index().drop_duplicates(subset=key, keep="first")
                     .set_index(key)["index"])
            dup_pos = cand.index[dup.to_numpy()].to_numpy()
            dup_keys = cand.loc[dup_pos]
            key_idx = (pd.MultiIndex.from_frame(dup_keys) if len(key) > 1
                       else pd.Index(dup_keys[key[0]]))
            first_pos = first.reindex(key_idx).to_numpy()
            first_rows = state.rows[first_pos.astype(np.int64)]
            label = "+".join(key)
            values = dup_keys.astype(str).agg("/".join, axis=1).to_numpy()
            rules = [f"duplicate {label} (first seen at row {r})" for r in first_rows]
            state.failures.add(dup_pos, label, values, rules)
    ok = state.ok_mask()
    if not ok.any():
        return
    candidates = df.loc[ok]
    try:
        SCHEMAS[table].validate(candidates, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        if fc.empty:
            raise SourceError(
                f"{state.label}: table '{table}' does not fit its schema: "
                f"{exc.failure_cases.head()}"
            ) from exc
        rules = [_describe_check(str(c), table) for c in fc["check"]]
        # A frame-wide rule is reported once per row, on its first column.
        fc = fc.assign(rule=rules).drop_duplicates(subset=["index", "rule"])
        for col, part in fc.groupby("column", sort=False, dropna=False):
            state.failures.add(part["index"].astype(np.int64).to_numpy(),
                               None if pd.isna(col) else str(col),
                               part["failure_case"].to_numpy(), part["rule"].to_numpy())


def _isin(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Fast membership for string columns (pandas' own isin loops in Python on Arrow strings)."""
    def arrow(s: pd.Series) -> pyarrow.Array:
        try:
            return pc.cast(pyarrow.array(s, from_pandas=True), pyarrow.large_string())
        except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
            return pyarrow.array(s.astype(object).where(s.notna(), None).astype(str).to_numpy(),
                                 type=pyarrow.large_string())

    k = arrow(keys.dropna().drop_duplicates())
    return pc.fill_null(pc.is_in(arrow(values), value_set=k), False).to_numpy(zero_copy_only=False)


def _check_relations(state: _TableState, accepted: Mapping[str, pd.DataFrame],
                     quarantined_keys: Mapping[tuple[str, str], set]) -> None:
    """Foreign ids of ``state`` must exist among the accepted rows of their parent."""
    df = state.frame
    for rel in RELATIONS:
        if rel.child != state.table:
            continue
        if rel.parent == rel.child:
            parent_keys = df.loc[state.ok_mask(), rel.key]
        elif rel.parent in accepted:
            parent_keys = accepted[rel.parent][rel.key]
        else:
            continue  # parent table absent: nothing to check against
        ok = state.ok_mask()
        col = df[rel.column]
        missing = ok & col.notna().to_numpy() & ~_isin(col, parent_keys)
        if not missing.any():
            continue
        pos = np.flatnonzero(missing)
        values = col.iloc[pos].astype(str).to_numpy()
        q = quarantined_keys.get((rel.parent, rel.key), set())
        rules = [
            f"not an accepted {rel.parent}.{rel.key} (that row was quarantined)" if v in q
            else f"not found in {rel.parent}.{rel.key}"
            for v in values
        ]
        state.failures.add(pos, rel.column, values, rules)


def _check_amount_limits(states: dict[str, _TableState]) -> None:
    """Allocations within payment and invoice amounts; never across customers."""
    alloc = states.get("allocations")
    pay = states.get("payments")
    inv = states.get("invoices")
    if alloc is None or pay is None or inv is None:
        return
    a = alloc.accepted
    p = pay.accepted.set_index("payment_id")
    i = inv.accepted.set_index("invoice_id")
    a = a.assign(
        _pay_amount=p["amount"].reindex(a["payment_id"]).to_numpy(),
        _pay_date=p["payment_date"].reindex(a["payment_id"]).to_numpy(),
        _pay_cust=p["customer_id"].reindex(a["payment_id"]).to_numpy(),
        _inv_cust=i["customer_id"].reindex(a["invoice_id"]).to_numpy(),
    )
    cross = (a["_pay_cust"] != a["_inv_cust"]).to_numpy()
    if cross.any():
        bad = a[cross]
        rules = [
            f"joins payment {pid} of customer {pc} to invoice {iid} of customer {ic}"
            for pid, pc, iid, ic in zip(bad["payment_id"], bad["_pay_cust"],
                                         bad["invoice_id"], bad["_inv_cust"], strict=True)
        ]
        alloc.failures.add(bad["_pos"].to_numpy(), "invoice_id", bad["invoice_id"].to_numpy(),
                           rules)
        a = a[~cross]
    # Per payment, in row order: the running total may not pass the payment amount.
    run = a.groupby("payment_id", sort=False)["amount"].cumsum()
    over = (run > a["_pay_amount"]).to_numpy()
    if over.any():
        bad = a[over]
        rules = [
            f"allocations of payment {pid} reach {yuan(r, 2, symbol=False)} 元, "
            f"more than its amount {yuan(m, 2, symbol=False)} 元"
            for pid, r, m in zip(bad["payment_id"], run[over], bad["_pay_amount"], strict=True)
        ]
        alloc.failures.add(bad["_pos"].to_numpy(), "amount", (bad["amount"] / 100).to_numpy(),
                           rules)
        a = a[~over]
    # Per invoice, in date order: allocations plus adjustments may not pass the invoice amount.
    adj = states.get("adjustments")
    parts = [pd.DataFrame({"invoice_id": a["invoice_id"].to_numpy(),
                           "date": a["_pay_date"].to_numpy(),
                           "amount": a["amount"].to_numpy(), "src": 0,
                           "pos": a["_pos"].to_numpy()})]
    if adj is not None and adj.accepted is not None:
        d = adj.accepted
        parts.append(pd.DataFrame({"invoice_id": d["invoice_id"].to_numpy(),
                                   "date": d["adjustment_date"].to_numpy(),
                                   "amount": d["amount"].to_numpy(), "src": 1,
                                   "pos": d["_pos"].to_numpy()}))
    ev = pd.concat(parts, ignore_index=True)
    # Integer codes instead of string ids: one lexsort, one grouped cumsum.
    codes = i.index.get_indexer(ev["invoice_id"])
    order = np.lexsort((ev["pos"].to_numpy(), ev["src"].to_numpy(),
                        ev["date"].to_numpy(dtype="datetime64[ns]").view(np.int64), codes))
    ev = ev.iloc[order].reset_index(drop=True)
    codes = codes[order]
    ev["run"] = pd.Series(ev["amount"].to_numpy(dtype=np.int64)).groupby(codes, sort=False).cumsum()
    ev["limit"] = i["amount"].to_numpy()[codes]
    over = ev[ev["run"] > ev["limit"]]
    for src, state in ((0, alloc), (1, adj)):
        bad = over[over["src"] == src]
        if state is None or bad.empty:
            continue
        rules = [
            f"payments and adjustments of invoice {iid} reach {yuan(r, 2, symbol=False)} 元, "
            f"more than its amount {yuan(m, 2, symbol=False)} 元"
            for iid, r, m in zip(bad["invoice_id"], bad["run"], bad["limit"], strict=True)
        ]
        state.failures.add(bad["pos"].to_numpy(), "amount", (bad["amount"] / 100).to_numpy(), rules)


# ---------------------------------------------------------------------------
# Driving it
# ---------------------------------------------------------------------------
def _dtypes(table: str) -> dict:
    return {name: col.dtype.type for name, col in SCHEMAS[table].to_schema().columns.items()}


def _finish(state: _TableState) -> None:
    ok = state.ok_mask()
    accepted = state.frame.loc[ok].astype(_dtypes(state.table))  # rules passed: final dtypes
    state.accepted = accepted.assign(_pos=np.flatnonzero(ok)).reset_index(drop=True)


def _raise_first(state: _TableState) -> None:
    fails = state.failures.frame()
    if fails.empty:
        return
    first = fails.iloc[0]
    pos = int(first["pos"])
    col = first["column"]
    value = first["value"]
    if state.raw is not None and col in state.headers:
        value = state.raw.iloc[pos][state.headers[col]]
        col_text = f"{col} (header '{state.headers[col]}')" if state.headers[col] != col else col
    else:
        col_text = col
    raise ValidationError(state.table, state.label, int(state.rows[pos]), col_text, value,
                          first["rule"])


def _reasons(state: _TableState) -> tuple[pd.DataFrame, list[tuple[str, int]]]:
    """Per failed row its reasons in words; and the most frequent kinds of reason."""
    fails = state.failures.frame()
    if fails.empty:
        return pd.DataFrame(columns=["pos", "reason"]), []

    values = fails["value"].copy()
    if state.raw is not None:
        # Show the cell as read, not the parsed value.
        for col, header in state.headers.items():
            sel = (fails["column"] == col).to_numpy()
            if sel.any():
                pos = fails["pos"].to_numpy()[sel].astype(np.int64)
                values.iloc[np.flatnonzero(sel)] = state.raw[header].iloc[pos].to_numpy()
    shown = pd.Series(
        [" = " + repr(v) if v is not None and not (isinstance(v, float) and np.isnan(v)) else ""
         for v in values],
        index=fails.index, dtype=object,
    )
    column = fails["column"].fillna("row").astype(str)
    rule = fails["rule"].astype(str)
    text = column + shown + ": " + rule
    kinds = column + ": " + rule.str.replace(_SPECIFIC, r"\1 …", regex=True)
    fails = fails.assign(reason=text, kind=kinds)
    per_row = fails.groupby("pos", sort=True)["reason"].agg("; ".join).reset_index()
    top = fails.drop_duplicates(["pos", "kind"])["kind"].value_counts().head(10)
    return per_row, list(zip(top.index.astype(str), top.to_numpy().tolist(), strict=True))


def _run(states: dict[str, _TableState], strict: bool, progress: bool) -> dict[str, pd.DataFrame]:
    accepted: dict[str, pd.DataFrame] = {}
    quarantined_keys: dict[tuple[str, str], set] = {}
    names = [t for t in TABLE_ORDER if t in states]
    iterator = names
    if progress:
        iterator = tqdm(names, desc="validating", unit="table")
    for name in iterator:
        state = states[name]
        _check_own_rules(state)
        _check_relations(state, accepted, quarantined_keys)
        if strict:
            _raise_first(state)
        _finish(state)
        accepted[name] = state.accepted
        bad = ~state.ok_mask()
        for key in (c[0] for c in _unique_keys(name) if len(c) == 1):
            quarantined_keys[(name, key)] = set(state.frame.loc[bad, key].dropna().astype(str))
    _check_amount_limits(states)
    for name in ("allocations", "adjustments"):
        if name in states:
            if strict:
                _raise_first(states[name])
            _finish(states[name])
    return {n: s.accepted.drop(columns="_pos") for n, s in states.items()}


def _report(states: dict[str, _TableState], quarantine_dir: Path | None) -> LoadReport:
    report = LoadReport()
    for name in TABLE_ORDER:
        if name not in states:
            continue
        state = states[name]
        per_row, top = _reasons(state)
        tr = TableReport(
            table=name,
            sources=[state.label] if state.file else [],
            rows_read=len(state.frame),
            accepted=len(state.accepted),
            quarantined=len(per_row),
            top_reasons=top,
        )
        assert tr.rows_read == tr.accepted + tr.quarantined, name
        if quarantine_dir is not None:
            path = quarantine_dir / f"{name}.quarantine.csv"
            if len(per_row):
                quarantine_dir.mkdir(parents=True, exist_ok=True)
                pos = per_row["pos"].to_numpy(dtype=np.int64)
                body = state.raw if state.raw is not None else state.frame
                out = pd.DataFrame(
                    {
                        "_file": state.file,
                        "_sheet": state.sheet or "",
                        "_row": state.rows[pos],
                        "_reason": per_row["reason"].to_numpy(),
                    }
                )
                out = pd.concat([out, body.iloc[pos].reset_index(drop=True)], axis=1)
                spreadsheet_safe(out).to_csv(path, index=False, encoding="utf-8-sig")
                tr.quarantine_file = str(path)
            elif path.exists():
                path.unlink()  # stale: this table is clean now
        report.tables[name] = tr
    return report


def _state_from_raw(raw) -> _TableState:
    """Parse a :class:`~medrisk.data.RawTable` into canonical columns."""
    table = raw.table
    frame = raw.frame
    headers = [str(h) for h in frame.columns]
    frame.columns = headers
    mapping = match_columns(table, headers, raw.columns)
    by_target: dict[str, list[str]] = {}
    for src, dst in mapping.items():
        by_target.setdefault(dst, []).append(src)
    clash = {dst: srcs for dst, srcs in by_target.items() if len(srcs) > 1}
    if clash:
        dst, srcs = next(iter(clash.items()))
        raise SourceError(
            f"{raw.label}: headers {', '.join(repr(s) for s in srcs)} all mean '{table}.{dst}'. "
            f"Keep one, or say which in a mapping file (tables: {{{table}: {{columns: "
            f"{{{srcs[0]!r}: {dst}}}}}}})."
        )
    schema = SCHEMAS[table].to_schema()
    missing = [c for c in required_columns(table) if c not in by_target]
    if missing:
        raise MissingColumnsError(table, missing, raw.label, headers)
    n = len(frame)
    parsed = {}
    state = _TableState(table, pd.DataFrame(index=range(n)), frame.reset_index(drop=True),
                        raw.file, raw.sheet, raw.rows,
                        {dst: srcs[0] for dst, srcs in by_target.items()})
    for col in schema.columns:
        if col not in by_target:
            parsed[col] = pd.Series([None] * n, dtype=object)
            continue
        src = by_target[col][0]
        cells = frame[src].reset_index(drop=True)
        if src in raw.prepared:
            parsed[col] = cells
            continue
        result = parse_column(table, col, cells, **raw.date_formats.get(col, {}))
        parsed[col] = result.values.reset_index(drop=True)
        bad = np.flatnonzero(np.asarray(result.bad))
        if len(bad):
            state.failures.add(bad, col, cells.iloc[bad].to_numpy(), f"expected {result.expected}")
    state.frame = pd.DataFrame(parsed)
    return state


def validate_raw_tables(raws, *, strict: bool = False, quarantine_dir: Path | None = None,
                        ignored=(), progress: bool = False):
    """Parse and validate tables read from a source (the work of :func:`medrisk.data.validate_raw`).

    Parameters
    ----------
    raws : list of RawTable
        Tables as read from files or a database.
    strict : bool, default=False
        Raise at the first bad row instead of quarantining.
    quarantine_dir : Path, default=None
        Folder for ``<table>.quarantine.csv``.
    ignored : list of str
        Files that were not tables, for the report.
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    tables : dict of str to DataFrame
        The accepted rows of each table.
    report : LoadReport
    """
    seen: dict[str, str] = {}
    states: dict[str, _TableState] = {}
    for raw in raws:
        if raw.table in seen:
            raise SourceError(
                f"Table '{raw.table}' was found twice: in {seen[raw.table]} and in {raw.label}. "
                "Keep one, or name the right one in a mapping file."
            )
        seen[raw.table] = raw.label
        states[raw.table] = _state_from_raw(raw)
    for name in REQUIRED_TABLES:
        if name not in states:
            raise MissingTableError(
                name, "every ledger", required_columns(name)
            ) from None
    tables = _run(states, strict, progress)
    report = _report(states, quarantine_dir)
    report.ignored_files = list(ignored)
    return tables, report


def validate_frames(tables: Mapping[str, pd.DataFrame], strict: bool = True):
    """Validate canonical frames built in code (money already in fen).

    Parameters
    ----------
    tables : dict of str to DataFrame
        Canonical tables; absent optional columns are added empty.
    strict : bool, default=True
        Raise :class:`~medrisk.exceptions.ValidationError` at the first bad row.

    Returns
    -------
    accepted : dict of str to DataFrame
    report : LoadReport
    failures : dict of str to DataFrame
        Per table, the failed rows' positions and reasons.
    """
    unknown = set(tables) - set(SCHEMAS)
    if unknown:
        raise ValueError(f"Unknown table(s) {sorted(unknown)}; "
                         f"possible tables are {list(TABLE_ORDER)}.")
    states = {}
    for name, df in tables.items():
        if df is None:
            continue
        cols = list(SCHEMAS[name].to_schema().columns)
        extra = set(df.columns) - set(cols)
        if extra:
            raise ValueError(f"Table '{name}' has unknown column(s) {sorted(extra)}; "
                             f"its columns are {cols}.")
        frame = df.reindex(columns=cols)
        states[name] = _TableState(name, frame, file=f"<{name} frame>")
    accepted = _run(states, strict, progress=False)
    report = _report(states, None)
    failures = {n: _reasons(s)[0] for n, s in states.items()}
    return accepted, report, failures
