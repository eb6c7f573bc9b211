"""Tiny notebooks for the run tests: the shape of a report notebook, in a few lines."""

from __future__ import annotations

from pathlib import Path

import nbformat

PARAMETERS = ('as_of: str = "2026-10-31"  # valuation date\n'
              'language: str = "en"  # zh or en\n'
              'figures_file: str = ""  # set by the runner')


def tiny_notebook(path: Path, body: str, extra_parameters: str = "") -> None:
    """Write a notebook: an import cell, a parameters cell, and ``body``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("from medrisk import reports as present"),
        nbformat.v4.new_code_cell(PARAMETERS + extra_parameters, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ]
    nbformat.write(nb, path)
