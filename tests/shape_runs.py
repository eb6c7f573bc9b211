"""Run every report of every run file on a generated shape of ledger, and read what came out.

Shared by ``tests/reports/test_shapes_*.py`` (two files, so that pytest-xdist runs
them on both workers).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import yaml

from medrisk.config import PARAMS_DIR
from medrisk.data import SCHEMAS
from medrisk.data.demo import write_shape
from medrisk.reports import load_run, run

#: Every notebook a run file in params/ names, in run order.
NOTEBOOKS: list[str] = sorted({nb for f in sorted(PARAMS_DIR.glob("*.yaml"))
                               if "notebooks:" in f.read_text(encoding="utf-8")
                               for nb in load_run(f).notebooks})

ORDER_SECTIONS = {
    "15-orders-channels": {"summary", "orders.funnel", "orders.stuck", "channels", "price"},
    "60-batch-expiry": {"summary", "expiry.near", "expiry.cold", "expiry.warehouse",
                        "expiry.blocked", "expiry.fefo"},
}
_THREE = {
    "00-management-summary": {"plan_attainment"},
    "10-receivables": {"dim.region", "dim.channel", "dim.customer_type", "dim.team",
                       "dim.product_line"},
    "20-credit-risk": {"credit_breaches", "policy_replay"},
    "30-collections": {"disputes", "pay"},
    "40-sales-plan": {"plan_attainment"},
    **ORDER_SECTIONS,
}

#: Shape -> report -> the sections it must leave out (reports not named leave out none).
EXPECTED_SKIPS: dict[str, dict[str, set[str]]] = {
    "full": {},
    "three_tables": _THREE,
    "one_per_payment": _THREE | {"10-receivables": _THREE["10-receivables"]
                                 - {"dim.customer_type"}},
    "no_references": {},
    "no_regions": {"10-receivables": {"dim.region"}},
    "one_type": {},
    "seven_sparse": _THREE | {"10-receivables": {"dim.team"},
                              "20-credit-risk": {"policy_replay"}},
    "outlier": {},
    "stale": {"20-credit-risk": {"model_quality"}, "50-cash-forecast": {"cash.backtest"}},
    "tiny": {},
    # a back-test a year before the as-of date has nothing to train on
    "one_year": {"20-credit-risk": {"model_quality"}},
}

#: Words that must never reach a reader: a figure that cannot be computed shows "—".
BAD_WORDS = re.compile(r"(?<![A-Za-z_])(nan|NaN|None|inf|NaT|Traceback)(?![A-Za-z_])")
#: Internal codes (snake_case) a reader must not see; the notes on what to add name the
#: contract's tables and columns on purpose.
SNAKE = re.compile(r"(?<![A-Za-z_.])[a-z]+(?:_[a-z0-9]+)+(?![A-Za-z_])")
CONTRACT_NAMES = ({t for t in SCHEMAS} | {"dropped_features"}
                  | {c for m in SCHEMAS.values() for c in m.to_schema().columns})
#: Codes of the closed vocabularies, which a Chinese page must show in Chinese.
ZH_CODES = re.compile(r"(?<![A-Za-z_-])(legal|invoice|direct|distributor|agent|ecommerce|approved|"
                      r"shipped|blocked|quarantined|rejected|retrain|released|entered|invoiced|"
                      r"cancelled|watch|stable|expired|equipment|consumable|reagent)(?![A-Za-z_-])")


def visible_text(page: str) -> str:
    """Return the text a browser shows: no scripts, styles or tags."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def run_shape(shape: str, base: Path, language: str, n_invoices: int = 1_200):
    """Write ``shape`` as CSV files and run every report on it; return the RunResult.

    The run file gives no as-of date (it comes from the data), except for the
    ``stale`` shape, which is reported two years after its data ends.
    """
    data, as_of = write_shape(shape, base / "data", seed=3, n_invoices=n_invoices)
    params = {"data": str(data), "language": language}
    if shape == "stale":
        params["as_of"] = as_of
    run_file = base / "matrix.yaml"
    run_file.write_text(yaml.safe_dump({
        "run": "matrix", "title": {"zh": "形态矩阵", "en": "Shape matrix"},
        "notebooks": NOTEBOOKS, "parameters": params}, allow_unicode=True), encoding="utf-8")
    return run(run_file, out=base / "out", progress=False)


def check_shape(shape: str, result) -> None:
    """Assert what every shape must give: all reports made, the expected skips, clean pages."""
    failed = {n.notebook: n.error for n in result.notebooks if not n.ok}
    assert not failed, f"{shape}: {failed}"
    assert [n.notebook for n in result.notebooks] == NOTEBOOKS
    skipped = {n.notebook: {s["key"] for s in n.skipped} for n in result.notebooks}
    expected = {nb: EXPECTED_SKIPS[shape].get(nb, set()) for nb in NOTEBOOKS}
    assert skipped == expected, shape
    pages = [Path(n.html) for n in result.notebooks] + [result.index]
    for page in pages:
        text = visible_text(page.read_text(encoding="utf-8"))
        bad = [text[max(0, m.start() - 50):m.end() + 30] for m in BAD_WORDS.finditer(text)]
        assert not bad, f"{shape}: {page.name} shows {bad[:3]}"
        codes = {m.group(0) for m in SNAKE.finditer(text)} - CONTRACT_NAMES
        if result_language(result) == "zh":
            codes |= {m.group(0) for m in ZH_CODES.finditer(text)}
        assert not codes, f"{shape}: {page.name} shows internal codes {sorted(codes)[:8]}"
    index = visible_text(result.index.read_text(encoding="utf-8"))
    for n in result.notebooks:  # the index lists what each report left out, with what it needs
        for s in n.skipped:
            assert s[f"label_{result_language(result)}"] in index, (shape, n.notebook, s)
            assert s["needs"] or s[f"reason_{result_language(result)}"], (shape, n.notebook, s)


def result_language(result) -> str:
    """Return the language a run's reports were written in."""
    return result.notebooks[0].parameters.get("language", "zh")
