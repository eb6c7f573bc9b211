"""Every report on ledgers shaped like real exports (first half of the shape matrix).

Each shape of :data:`medrisk.data.demo.SHAPES` is written as CSV files and every
notebook of every run file in params/ runs on it through ``medrisk.reports.run``.
"""

from __future__ import annotations

import pytest
from shape_runs import check_shape, run_shape

pytestmark = pytest.mark.notebooks

SHAPES_A = ["three_tables", "one_per_payment", "no_references", "no_regions", "one_type"]


@pytest.mark.parametrize("shape", SHAPES_A)
def test_every_report_is_made_on_the_shape(shape, tmp_path):
    language = "zh" if SHAPES_A.index(shape) % 2 == 0 else "en"
    result = run_shape(shape, tmp_path, language)
    assert result.as_of == "2026-10-31"  # the last month end the data covers
    check_shape(shape, result)
