"""Report folders are published whole or not at all (issue 17, finding 4).

A run writes into ``.<as_of>.partial-<pid>`` beside the report folder and renames it into
place at the end; a lock stops two runs into one folder; SIGTERM ends a run with a message,
exit code 143 and the previous reports untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from notebook_fixtures import tiny_notebook

from medrisk.exceptions import ParamsError
from medrisk.reports import _runs, run

pytestmark = pytest.mark.notebooks

_CLI = """
import sys
from pathlib import Path
from medrisk.reports import _runs
_runs.NOTEBOOKS_DIR = Path(sys.argv[1])
from medrisk.cli import app
sys.argv = ["medrisk", "run", sys.argv[2], "--out", sys.argv[3]]
app()
"""


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    tiny_notebook(nbdir / "00-ok.ipynb", "record = present.Recorder(figures_file, '00-ok')\n"
                  "record('n', 1)", extra_parameters='\ndata: str = ""  # data source')
    tiny_notebook(nbdir / "01-slow.ipynb", "import time\ntime.sleep(60)")
    monkeypatch.setattr(_runs, "NOTEBOOKS_DIR", nbdir)
    fast = tmp_path / "fast.yaml"
    fast.write_text("run: r\nnotebooks: [00-ok]\nparameters: {as_of: '2026-10-31'}\n")
    slow = tmp_path / "slow.yaml"
    slow.write_text("run: r\nnotebooks: [00-ok, 01-slow, 00-ok]\n"
                    "parameters: {as_of: '2026-10-31'}\n")
    out = tmp_path / "out"
    result = run(fast, out=out, progress=False)
    assert result.ok and result.out_dir == out / "r" / "2026-10-31"
    return nbdir, slow, out, result.out_dir


def test_a_killed_run_leaves_the_published_folder_byte_identical(setup):
    nbdir, slow, out, folder = setup
    before = _tree(folder)
    assert "index.html" in before and "manifest.json" in before
    partial = folder.parent / f".{folder.name}.partial-"

    def started():
        return any(folder.parent.glob(f".{folder.name}.partial-*"))

    def first_done():
        return any(folder.parent.glob(f".{folder.name}.partial-*/_figures/00-ok.json"))

    # three points: while starting up, during the first notebook, in the middle of the second
    for wait_for, extra in ((started, 0.0), (started, 1.5), (first_done, 2.0)):
        proc = subprocess.Popen([sys.executable, "-c", _CLI, str(nbdir), str(slow), str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        t0 = time.monotonic()
        while not wait_for() and time.monotonic() - t0 < 120:
            time.sleep(0.05)
        assert wait_for(), "the run never got there"
        time.sleep(extra)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=120)[0]
        assert proc.returncode == 143, output
        assert "nothing was published" in output
        assert _tree(folder) == before
        assert not list(folder.parent.glob(partial.name + "*")), "the work folder is removed"
        assert not (folder.parent / f".{folder.name}.lock").exists()


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_holds_it(setup):
    nbdir, slow, out, folder = setup
    lock = folder.parent / f".{folder.name}.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "run": "r", "run_file": "x.yaml",
                                "started": "now"}))
    with pytest.raises(ParamsError, match=rf"Another run is writing .*r \(x.yaml\), process "
                                          rf"{os.getpid()}"):
        run(slow, out=out, progress=False)
    lock.write_text('{"pid": 999999999, "run": "gone"}')  # a killed run's lock: taken over
    fast = slow.with_name("fast.yaml")
    assert run(fast, out=out, progress=False).ok and not lock.exists()


def test_a_relative_out_is_the_callers_folder_not_the_checkout(setup, tmp_path, monkeypatch):
    nbdir, slow, out, folder = setup
    monkeypatch.chdir(tmp_path)
    result = run(slow.with_name("fast.yaml"), out="rel", progress=False)
    assert result.out_dir == tmp_path / "rel" / "r" / "2026-10-31"
    assert (result.out_dir / "_figures" / "00-ok.json").exists()


def test_a_missing_data_source_stops_the_run_before_any_notebook(setup, tmp_path):
    nbdir, slow, out, folder = setup
    before = _tree(folder)
    missing = tmp_path / "missing.yaml"
    missing.write_text("run: r\nnotebooks: [00-ok]\n"
                       f"parameters: {{as_of: '2026-10-31', data: '{tmp_path / 'nowhere'}'}}\n")
    proc = subprocess.run([sys.executable, "-c", _CLI, str(nbdir), str(missing), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "nowhere does not exist (for 00-ok)" in proc.stderr
    assert _tree(folder) == before
