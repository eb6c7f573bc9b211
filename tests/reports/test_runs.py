"""Run files are checked before anything runs; mistakes name the file and the key."""

from __future__ import annotations

import pytest

from medrisk.config import PARAMS_DIR
from medrisk.exceptions import ParamsError
from medrisk.reports import load_run, notebook_parameters
from medrisk.reports._runs import RUNNER_PARAMETERS

RUN_FILES = sorted(p for p in PARAMS_DIR.glob("*.yaml")
                   if "notebooks:" in p.read_text(encoding="utf-8"))


def test_there_are_run_files():
    assert RUN_FILES, "params/ should hold the scheduled runs"


@pytest.mark.parametrize("path", RUN_FILES, ids=lambda p: p.name)
def test_each_run_file_is_valid_against_its_notebooks(path):
    spec = load_run(path)
    for nb in spec.notebooks:
        declared = notebook_parameters(nb)
        assert set(spec.parameters_for(nb)) <= set(declared)
        for name in RUNNER_PARAMETERS:
            assert name in declared, f"{nb} must declare {name}"


@pytest.mark.parametrize(
    "path", sorted(p for p in __import__("medrisk").config.NOTEBOOKS_DIR.glob("*.ipynb")),
    ids=lambda p: p.name,
)
def test_every_notebook_parameter_has_a_type_and_help(path):
    params = notebook_parameters(path.stem)
    assert "as_of" in params and "language" in params
    for name, p in params.items():
        assert p["inferred_type_name"] in ("str", "int", "float", "bool"), name
        assert p["help"].strip(), f"{path.name}: parameter {name} has no help comment"


@pytest.mark.parametrize("path", sorted(__import__("medrisk").config.NOTEBOOKS_DIR.glob("*.ipynb")),
                         ids=lambda p: p.name)
def test_papermill_reads_every_line_of_the_parameters_cell(path):
    # papermill silently drops a line it cannot parse (e.g. a help comment with "="),
    # and the run-file check would then refuse that parameter as unknown.
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = [line.split(":")[0].strip() for line in cell.source.splitlines() if line.strip()]
    assert sorted(names) == sorted(notebook_parameters(path.stem))


def write(tmp_path, text):
    p = tmp_path / "run.yaml"
    p.write_text(text, encoding="utf-8")
    return p


BASE = "run: t\nnotebooks: [10-receivables]\nparameters:\n"


@pytest.mark.parametrize(
    "body,pattern",
    [
        ("  as_of: '2026-10-31'\n  langauge: en\n",
         r"run.yaml: parameters: unknown parameter 'langauge'.*Did you mean 'language'"),
        ("  as_of: '2026-10-31'\n  top_n: ten\n", r"'top_n' must be of type int.*got 'ten'"),
        ("  as_of: '2026-13-01'\n", r"'as_of' must be a date written YYYY-MM-DD; got '2026-13-01'"),
        # Python's date.fromisoformat takes ISO weeks and basic dates; a run file may not
        ("  as_of: '2026-W44-6'\n", r"'as_of' must be a date written YYYY-MM-DD; got '2026-W44-6'"),
        ("  as_of: '20261031'\n", r"'as_of' must be a date written YYYY-MM-DD; got '20261031'"),
        ("  as_of: '2026-10-31'\n  figures_file: x.json\n",
         r"'figures_file' is set by `medrisk run`"),
        # warning thresholds are in params/warnings.yaml (warnings_file), not in run files
        ("  as_of: '2026-10-31'\n  overdue_rate_max: 0.3\n",
         r"run.yaml: parameters: unknown parameter 'overdue_rate_max'"),
    ],
)
def test_mistakes_in_parameters_name_file_and_key(tmp_path, body, pattern):
    with pytest.raises(ParamsError, match=pattern):
        load_run(write(tmp_path, BASE + body))


def test_a_float_parameter_refuses_a_word(tmp_path):
    # YAML 1.2 reads `yes` as the string 'yes'; a float parameter refuses it
    text = "run: t\nnotebooks: [40-sales-plan]\nparameters:\n  as_of: '2026-10-31'\n  growth: yes\n"
    with pytest.raises(ParamsError, match=r"'growth' must be of type float.*got 'yes' \(str\)"):
        load_run(write(tmp_path, text))


def test_unknown_top_level_key_and_notebook(tmp_path):
    with pytest.raises(ParamsError, match=r"unknown key\(s\) \['notebook'\]"):
        load_run(write(tmp_path, "run: t\nnotebook: [10-receivables]\n"))
    with pytest.raises(ParamsError, match=r"no notebook '11-receivable'"):
        load_run(write(tmp_path, "run: t\nnotebooks: [11-receivable]\n"))


def test_secrets_are_refused_in_parameter_files(tmp_path, monkeypatch):
    from medrisk.reports import _runs as runs

    monkeypatch.setattr(runs, "notebook_parameters",
                        lambda nb: {"db_password": {"inferred_type_name": "str", "help": "x"},
                                    "as_of": {"inferred_type_name": "str", "help": "x"}})
    with pytest.raises(ParamsError, match="looks like a secret.*environment variable"):
        load_run(write(tmp_path, BASE + "  db_password: hunter2\n"))


def test_overrides_are_checked_per_notebook(tmp_path):
    with pytest.raises(ParamsError, match=r"overrides.10-receivables: unknown parameter 'topn'"):
        load_run(write(tmp_path, BASE + "  as_of: '2026-10-31'\n"
                                        "overrides:\n  10-receivables: {topn: 3}\n"))


@pytest.mark.parametrize("name", ["../../x", "/tmp/evil", "a/b", "..", "a\\b", "", " x", "x" * 81])
def test_a_run_name_is_a_plain_name_never_a_path(tmp_path, name):
    # the run name is the report folder under --out: a path would write outside it
    text = BASE.replace("run: t", f"run: {name!r}") + "  as_of: '2026-10-31'\n"
    if name == "":
        text = text.replace("run: ''", "run: '/'")
    with pytest.raises(ParamsError, match=r"run must be a plain name .* got"):
        load_run(write(tmp_path, text))


@pytest.mark.parametrize("name", ["monthly-management", "weekly_2026.11", "华东月报"])
def test_plain_run_names_are_accepted(tmp_path, name):
    text = BASE.replace("run: t", f"run: {name}") + "  as_of: '2026-10-31'\n"
    assert load_run(write(tmp_path, text)).name == name


def test_a_database_that_cannot_be_read_stops_the_run_before_any_notebook(tmp_path):
    """The run loads its data once before the notebooks: a bad URL is exit 2, nothing written."""
    from typer.testing import CliRunner

    from medrisk.cli import app

    for url in (f"sqlite:///{tmp_path / 'missing.db'}",
                "postgresql+psycopg://medrisk@127.0.0.1:1/erp"):  # nothing listens on port 1
        res = CliRunner().invoke(app, ["run", "params/monthly-management.yaml", "--data", url,
                                       "--out", str(tmp_path / "out")])
        assert res.exit_code == 2, (url, res.output)
        assert not (tmp_path / "out").exists()
    assert "does not exist" in CliRunner().invoke(app, [
        "run", "params/weekly-collections.yaml", "--data", f"sqlite:///{tmp_path / 'x.db'}",
        "--out", str(tmp_path / "out")]).output
