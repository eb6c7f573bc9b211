"""Every report on ledgers shaped like real exports (second half of the shape matrix)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shape_runs import check_shape, run_shape, visible_text

pytestmark = pytest.mark.notebooks

SHAPES_B = ["full", "seven_sparse", "outlier", "stale", "tiny"]


@pytest.mark.parametrize("shape", SHAPES_B)
def test_every_report_is_made_on_the_shape(shape, tmp_path):
    language = "en" if SHAPES_B.index(shape) % 2 == 0 else "zh"
    result = run_shape(shape, tmp_path, language)
    assert result.as_of == "2026-10-31"
    check_shape(shape, result)
    pages = [Path(n.html) for n in result.notebooks] + [result.index]
    warned = ["数据截至" in visible_text(p.read_text(encoding="utf-8"))
              or "the data ends" in visible_text(p.read_text(encoding="utf-8")) for p in pages]
    # data two years older than the report date: every page says so; otherwise none does
    assert warned == [shape == "stale"] * len(pages)


def test_the_matrix_covers_every_shape_and_every_run_file():
    from shape_runs import EXPECTED_SKIPS, NOTEBOOKS
    from test_shapes_a import SHAPES_A

    from medrisk.config import PARAMS_DIR
    from medrisk.data.demo import SHAPES
    from medrisk.reports import load_run

    assert sorted(SHAPES_A + SHAPES_B) == sorted(SHAPES) == sorted(EXPECTED_SKIPS)
    run_files = [f for f in PARAMS_DIR.glob("*.yaml") if "notebooks:" in f.read_text("utf-8")]
    assert len(run_files) >= 5
    for f in run_files:
        assert set(load_run(f).notebooks) <= set(NOTEBOOKS), f.name
