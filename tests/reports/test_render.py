"""Every notebook runs with every run file; reports are self-contained HTML that a browser draws."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from notebook_fixtures import tiny_notebook

from medrisk import receivables as K
from medrisk import receivables as R
from medrisk import receivables as Rk
from medrisk.config import PARAMS_DIR, PROJ_ROOT
from medrisk.data import load_ledger
from medrisk.data.demo import write_demo
from medrisk.reports import load_run, render, run

pytestmark = pytest.mark.notebooks

RUN_FILES = sorted(p for p in PARAMS_DIR.glob("*.yaml")
                   if "notebooks:" in p.read_text(encoding="utf-8"))
CASES = [(p, nb) for p in RUN_FILES for nb in load_run(p).notebooks]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("demo"), n_invoices=3_000, seed=3)


@pytest.fixture(scope="module")
def rendered(demo_dir, tmp_path_factory):
    """Each (run file, notebook) rendered once on the small demo."""
    out = {}
    for path, nb in CASES:
        params = load_run(path).parameters_for(nb) | {"data": str(demo_dir)}
        folder = tmp_path_factory.mktemp(f"{path.stem}-{nb}")
        out[(path.name, nb)] = render(nb, params, folder)
    return out


@pytest.mark.parametrize("path,nb", CASES, ids=[f"{p.stem}:{nb}" for p, nb in CASES])
def test_notebook_runs_with_run_file(rendered, path, nb):
    result = rendered[(path.name, nb)]
    assert result.ok, f"{nb} failed at cell {result.failed_cell}: {result.error}"
    html = open(result.html, encoding="utf-8").read()
    assert "plotly" in html.lower()
    assert not re.search(r"<script[^>]*src=[\"']https?://", html), \
        "a script would come from the network"
    assert "present.setup()" not in html, "code is shown in the report"
    assert result.meta.get("data_fingerprint")
    unlabelled = [k for k, f in result.figures.items()
                  if f.get("label_zh") == k or f.get("label_en") == k]
    assert not unlabelled, f"headline figures without zh/en labels (add them to i18n): {unlabelled}"


def _receivables_cases():
    return [(p, nb) for p, nb in CASES if nb == "10-receivables"]


@pytest.mark.parametrize("path,nb", _receivables_cases(),
                         ids=[p.stem for p, _ in _receivables_cases()])
def test_receivables_figures_match_the_package(rendered, demo_dir, path, nb):
    from medrisk.data import scope

    result = rendered[(path.name, nb)]
    spec = load_run(path)
    as_of = result.meta["as_of"]  # the run files leave it to the data
    params = spec.parameters_for(nb)
    ledger = scope(load_ledger(demo_dir), region=params.get("region", ""),
                   team=params.get("team", ""), salesperson_id=params.get("salesperson_id", ""))
    figs = {k: v["value"] for k, v in result.figures.items()}
    assert result.meta["data_fingerprint"] == ledger.fingerprint()
    aging = R.aging(ledger, as_of)
    assert figs["open_ar"] == int(aging["total"].iloc[0])
    month = K.kpis(ledger, as_of[:8] + "01", as_of).iloc[0]
    assert figs["overdue_ar"] == int(month["closing_overdue_ar"])
    assert figs["collected"] == int(month["collected"])
    assert figs["overdue_rate"] == pytest.approx(float(month["overdue_rate"]))
    assert figs["dso"] == pytest.approx(float(month["dso"]))
    assert figs["long_delinquents"] == len(Rk.long_term_delinquents(ledger, as_of, min_days=180))


def test_language_parameter_switches_the_labels(rendered):
    by_lang = {}
    for (name, nb), result in rendered.items():
        if nb == "10-receivables":
            lang = load_run(PARAMS_DIR / name).parameters.get("language")
            by_lang[lang] = open(result.html, encoding="utf-8").read()
    assert "应收余额" in by_lang["zh"] and "Open receivables" not in by_lang["zh"]
    assert "Open receivables" in by_lang["en"] and "应收余额" not in by_lang["en"]


# --- a run: index, manifest, a failing notebook does not stop the others ----------------
def test_run_writes_index_and_manifest_and_survives_a_failing_notebook(tmp_path, monkeypatch):
    from medrisk.reports import _runs as runs

    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    tiny_notebook(nbdir / "01-ok.ipynb",
                   "record = present.Recorder(figures_file, '01-ok')\n"
                   "record.context(data_fingerprint='abc')\nrecord('open_ar', 12345, unit='fen')")
    tiny_notebook(nbdir / "02-broken.ipynb", "x = 1\nraise ValueError('no data for this region')")
    tiny_notebook(nbdir / "03-after.ipynb",
                   "record = present.Recorder(figures_file, '03-after')\n"
                   "record('n', 3, unit='count')")
    monkeypatch.setattr(runs, "NOTEBOOKS_DIR", nbdir)
    run_file = tmp_path / "r.yaml"
    run_file.write_text("run: tiny\nnotebooks: [01-ok, 02-broken, 03-after]\n"
                        "parameters: {as_of: '2026-10-31', language: en}\n")
    result = run(run_file, out=tmp_path / "reports", progress=False)
    assert not result.ok
    assert [n.ok for n in result.notebooks] == [True, False, True]
    broken = result.notebooks[1]
    assert broken.failed_cell == 3 and "no data for this region" in broken.error
    assert result.out_dir == tmp_path / "reports" / "tiny" / "2026-10-31"
    index = result.index.read_text(encoding="utf-8")
    assert "failed (cell 3): ValueError: no data for this region" in index
    page = open(broken.html, encoding="utf-8").read()  # the reader sees one line, no traceback
    assert "This report stopped here: ValueError: no data for this region" in page
    assert "Traceback" not in page and "raise ValueError" not in page
    executed = open(broken.executed, encoding="utf-8").read()
    assert "Traceback" in executed or "traceback" in executed  # kept for whoever fixes it
    assert "01-ok.html" in index and "¥123" in index
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["parameters"] == {"as_of": "2026-10-31", "language": "en"}
    assert manifest["data_fingerprint"] == "abc"
    assert manifest["code_version"] and manifest["libraries"]["pandas"]
    assert [n["ok"] for n in manifest["notebooks"]] == [True, False, True]
    # Same inputs, same figures.
    again = run(run_file, out=tmp_path / "again", progress=False)
    assert [n.figures for n in again.notebooks] == [n.figures for n in result.notebooks]


def test_cli_run_exits_non_zero_when_a_notebook_fails(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from medrisk.cli import app
    from medrisk.reports import _runs as runs

    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    tiny_notebook(nbdir / "02-broken.ipynb", "raise ValueError('boom')")
    monkeypatch.setattr(runs, "NOTEBOOKS_DIR", nbdir)
    run_file = tmp_path / "r.yaml"
    run_file.write_text("run: tiny\nnotebooks: [02-broken]\nparameters: {as_of: '2026-10-31'}\n")
    res = CliRunner().invoke(app, ["run", str(run_file), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "FAILED at cell 3: ValueError: boom" in res.output
    res = CliRunner().invoke(app, ["run", str(run_file), "--as-of", "2026-02-30"])
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output


# --- a real browser, with no network -------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _dump_dom(html_path, tmp_path):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom",
           f"file://{html_path}"]
    # A network namespace of its own, with no interface up: the page gets no network at all.
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"]).returncode == 0:
        cmd = ["unshare", "-n"] + cmd
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return proc.stdout


def test_report_draws_its_charts_offline_in_chromium(rendered, tmp_path):
    assert CHROMIUM, "Chromium is needed for this test: `make test` installs Debian's chromium"
    result = next(r for (name, nb), r in rendered.items() if nb == "10-receivables")
    dom = _dump_dom(result.html, tmp_path)
    n_figures = open(result.html, encoding="utf-8").read().count("Plotly.newPlot(")
    assert n_figures >= 4
    drawn = dom.count('class="main-svg"')
    assert drawn >= n_figures, f"only {drawn} plotly SVG layers for {n_figures} figures"
    assert "应收账款与账龄" in dom or "Receivables and aging" in dom


def _plan_cases():
    return [(p, nb) for p, nb in CASES if nb == "40-sales-plan"]


@pytest.mark.parametrize("path,nb", _plan_cases(), ids=[p.stem for p, _ in _plan_cases()])
def test_plan_figures_match_the_package(rendered, demo_dir, path, nb):
    from medrisk import planning as At
    from medrisk import planning as Sa

    result = rendered[(path.name, nb)]
    params = load_run(path).parameters_for(nb)
    as_of, by = result.meta["as_of"], params.get("by", "region")
    ledger = load_ledger(demo_dir)
    figs = {k: v["value"] for k, v in result.figures.items()}
    att = At.attainment(ledger, as_of, by=by)
    last = att[att["period"] == att["period"].max()]
    assert figs["actual_ytd"] == int(last["actual_ytd"].sum())
    assert figs["plan_ytd"] == int(last["plan_ytd"].sum())
    fc = Sa.forecast_sales(ledger, as_of, by=by, h=params.get("horizon", 12))
    total = fc[fc["unique_id"] == "total"]["mean"].sum()
    assert figs["forecast_next_12m"] == round(total * 100)


def _credit_cases():
    return [(p, nb) for p, nb in CASES if nb == "20-credit-risk"]


@pytest.mark.parametrize("path,nb", _credit_cases(), ids=[p.stem for p, _ in _credit_cases()])
def test_credit_figures_match_the_package(rendered, demo_dir, path, nb):
    from medrisk import credit as L

    result = rendered[(path.name, nb)]
    as_of = result.meta["as_of"]  # the run files leave it to the data
    ledger = load_ledger(demo_dir)
    figs = {k: v["value"] for k, v in result.figures.items()}
    exposure = L.exposure(ledger, as_of)
    limit = L.load_policy().block_utilisation_above
    expected = int(((exposure["credit_limit"] > 0) & (exposure["utilisation"] > limit)).sum())
    assert figs["credit_limit_breaches"] == expected
    assert 0.5 < figs["roc_auc"] <= 1.0
    assert result.meta["model_version"].startswith("gbm-")
    from medrisk import credit as C
    from medrisk import credit as T

    th = T.load_thresholds()
    scores = C.CreditModel(late_after_days=th.late_after_days).fit(ledger, as_of) \
        .score_customers(ledger, as_of, lgd=th.lgd)
    costs = T.threshold_table(scores, lgd=th.lgd, margin_rate=th.margin_rate,
                              goodwill_yuan=th.goodwill_yuan)
    assert figs["cheapest_threshold"] == T.best_threshold(costs)["threshold"]
    html = open(result.html, encoding="utf-8").read()
    assert '"sliders"' in html, "the threshold chart's slider is in the static page"


def _summary_cases():
    return [(p, nb) for p, nb in CASES if nb == "00-management-summary"]


@pytest.mark.parametrize("path,nb", _summary_cases(), ids=[p.stem for p, _ in _summary_cases()])
def test_management_summary_figures_match_the_package(rendered, demo_dir, path, nb):
    result = rendered[(path.name, nb)]
    as_of = result.meta["as_of"]  # the run files leave it to the data
    ledger = load_ledger(demo_dir)
    figs = {k: v["value"] for k, v in result.figures.items()}
    assert figs["open_ar"] == int(R.aging(ledger, as_of)["total"].iloc[0])
    assert 0 <= figs["high_risk_exposure"] <= figs["open_ar"] + 1
    from medrisk import cash as CF
    from medrisk import planning as Sa

    fc = Sa.forecast_sales(ledger, as_of, by=None, h=3)
    cash = CF.cash_in_forecast(ledger, as_of, horizon="3M", sales_forecast=fc)
    assert figs["cash_in_3m"] == round(cash.loc[cash["component"] == "total", "mean"].sum() * 100)
    assert figs["forecast_next_3m"] == round(fc[fc["unique_id"] == "total"]["mean"].sum() * 100)


def _cases_of(name):
    return [(p, nb) for p, nb in CASES if nb == name]


@pytest.mark.parametrize("path,nb", _cases_of("50-cash-forecast"),
                         ids=lambda x: getattr(x, "stem", x))
def test_cash_figures_match_the_package(rendered, demo_dir, path, nb):
    from medrisk import cash as CF

    result = rendered[(path.name, nb)]
    as_of = result.meta["as_of"]  # the run files leave it to the data
    weekly = CF.cash_in_forecast(load_ledger(demo_dir), as_of, horizon="13W")
    total = weekly[weekly["component"] == "total"]["mean"].sum()
    assert result.figures["cash_in_13w"]["value"] == round(total * 100)


@pytest.mark.parametrize("path,nb", _cases_of("60-batch-expiry"),
                         ids=lambda x: getattr(x, "stem", x))
def test_expiry_figures_match_the_package(rendered, demo_dir, path, nb):
    from medrisk import supply as B

    result = rendered[(path.name, nb)]
    as_of = result.meta["as_of"]  # the run files leave it to the data
    report = B.expiry_report(load_ledger(demo_dir), as_of)
    assert (result.figures["expected_unsold_value"]["value"]
            == int(report.batches["expected_unsold_value"].sum()))
    assert result.figures["blocked_batches"]["value"] == len(report.blocked)


_RUN_IN_A_PROCESS = """
import sys
from pathlib import Path
from medrisk.reports import _runs, run
_runs.NOTEBOOKS_DIR = Path(sys.argv[1])
result = run(sys.argv[2], out=sys.argv[3], progress=False)
print([n.error for n in result.notebooks])
sys.exit(0 if result.ok else 1)
"""


def test_two_runs_at_once_from_one_checkout_have_no_kernel_errors(tmp_path):
    # kernels used to share socket names in the checkout root: one of three pairs of runs
    # failed with "Invalid Signature"; now each kernel has a private folder of its own
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    for i in range(3):
        tiny_notebook(nbdir / f"0{i}-ok.ipynb",
                       f"record = present.Recorder(figures_file, '0{i}-ok')\nrecord('n', {i})")
    before = set(PROJ_ROOT.iterdir())
    procs = []
    for k in range(2):
        run_file = tmp_path / f"r{k}.yaml"
        run_file.write_text(f"run: par{k}\nnotebooks: [00-ok, 01-ok, 02-ok]\n"
                            "parameters: {as_of: '2026-10-31', language: en}\n")
        procs.append(subprocess.Popen(
            [sys.executable, "-c", _RUN_IN_A_PROCESS, str(nbdir), str(run_file),
             str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert not any("Invalid Signature" in o for o in outputs), outputs
    assert not list(PROJ_ROOT.glob("kernel-ipc*")), "no socket files left in the checkout"
    assert before <= set(PROJ_ROOT.iterdir()), "the checkout is untouched"
    for k in range(2):
        figures = json.loads((tmp_path / "out" / f"par{k}" / "2026-10-31" / "_figures" /
                              "02-ok.json").read_text(encoding="utf-8"))
        assert figures["figures"]["n"]["value"] == 2
