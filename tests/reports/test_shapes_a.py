"""Every report on ledgers shaped like real exports (first half of the shape matrix).

Each shape of :data:`medrisk.data.demo.SHAPES` is written as CSV files and every
notebook of every run file in params/ runs on it through ``medrisk.reports.run``.
"""

from __future__ import annotations

import pytest
from shape_runs import check_shape, run_shape

pytestmark = pytest.mark.notebooks

SHAPES_A = ["three_tables", "one_per_payment", "no_references", "no_regions", "one_type",
            "one_year"]


@pytest.mark.parametrize("shape", SHAPES_A)
def test_every_report_is_made_on_the_shape(shape, tmp_path):
    language = "zh" if SHAPES_A.index(shape) % 2 == 0 else "en"
    result = run_shape(shape, tmp_path, language)
    assert result.as_of == "2026-10-31"  # the last month end the data covers
    check_shape(shape, result)


def test_the_monthly_pack_on_three_csv_files_makes_all_five_reports(tmp_path):
    """The first export of a real company: customers, invoices and payments, nothing more."""
    import json

    from typer.testing import CliRunner

    from medrisk.cli import app
    from medrisk.data.demo import write_shape

    data, _ = write_shape("three_tables", tmp_path / "export", n_invoices=800)
    assert sorted(p.name for p in data.iterdir()) == ["customers.csv", "invoices.csv",
                                                      "payments.csv"]
    res = CliRunner().invoke(app, ["run", "params/monthly-management.yaml", "--data", str(data),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    folder = tmp_path / "out" / "monthly-management" / "2026-10-31"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [n["ok"] for n in manifest["notebooks"]] == [True] * 5
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "未显示的部分" in index and "需要 targets" in index
    assert "customers (credit_limit)" in index and "salespeople (team)" in index


def test_a_scope_the_data_does_not_have_is_an_error_before_any_report(tmp_path):
    from typer.testing import CliRunner

    from medrisk.cli import app
    from medrisk.data.demo import write_shape

    data, _ = write_shape("no_regions", tmp_path / "export", n_invoices=400)
    res = CliRunner().invoke(app, ["run", "params/monthly-region-east.yaml", "--data", str(data),
                                   "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "华东" in res.output
    assert not list((tmp_path / "out").rglob("*.html"))


def test_the_weekly_pack_is_as_of_the_day_the_data_ends(tmp_path):
    from medrisk.data import write_tables
    from medrisk.data.demo import make_ledger
    from medrisk.reports import run

    write_tables(make_ledger(600, end="2026-11-18"), tmp_path / "data", "csv")
    result = run("params/weekly-collections.yaml", data=str(tmp_path / "data"),
                 out=tmp_path / "out", progress=False)
    assert result.ok and result.as_of == "2026-11-18"
    monthly = run("params/monthly-orders-channels.yaml", data=str(tmp_path / "data"),
                  out=tmp_path / "out", progress=False)
    assert monthly.ok and monthly.as_of == "2026-10-31"
