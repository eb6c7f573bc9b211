"""No password written down is accepted, and none is ever shown (issue 17, finding 1)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from medrisk.cli import app
from medrisk.data import load_ledger
from medrisk.exceptions import ParamsError, SourceError, mask_secrets
from medrisk.reports import load_run

PLANTED = "Pl4nted-S3cret"
URL = f"postgresql+psycopg://ar:{PLANTED}@127.0.0.1:1/erp"
runner = CliRunner()


@pytest.mark.parametrize("text, masked", [
    (f"to {URL} failed", "to postgresql+psycopg://ar:***@127.0.0.1:1/erp failed"),
    (f"host=db password={PLANTED} dbname=erp", "host=db password=*** dbname=erp"),
    (f"  db_password: {PLANTED}", "  db_password: ***"),
    ("password_env: MEDRISK_DB_PASSWORD", "password_env: MEDRISK_DB_PASSWORD"),  # a name, kept
    ("sqlite:///data/erp.db", "sqlite:///data/erp.db"),
])
def test_mask_secrets(text, masked):
    assert mask_secrets(text) == masked


def test_every_medrisk_error_masks_a_password_in_its_message():
    assert PLANTED not in str(SourceError(f"Cannot connect to {URL}"))
    assert PLANTED not in str(ParamsError(f"bad password={PLANTED}"))


def test_a_password_in_a_run_file_url_is_refused_and_not_echoed(tmp_path):
    run_file = tmp_path / "r.yaml"
    run_file.write_text(f"run: r\nnotebooks: [10-receivables]\nparameters:\n"
                        f"  as_of: '2026-10-31'\n  data: '{URL}'\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="'data' is a URL with a password") as info:
        load_run(run_file)
    assert PLANTED not in str(info.value) and "password_env" in str(info.value)


def test_a_yaml_error_does_not_echo_the_password_on_its_line(tmp_path):
    run_file = tmp_path / "r.yaml"
    run_file.write_text(f"run: r\nnotebooks: [10-receivables\nparameters:\n  data: {URL}\n",
                        encoding="utf-8")
    with pytest.raises(ParamsError, match="not valid YAML") as info:
        load_run(run_file)
    assert PLANTED not in str(info.value)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(f"database: {{url: {URL}\n  password: {PLANTED}\n", encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_ledger(tmp_path, mapping)
    assert PLANTED not in str(info.value)


def test_cli_refuses_a_password_on_the_command_line_before_anything_runs(tmp_path):
    res = runner.invoke(app, ["run", "params/weekly-collections.yaml", "--data", URL,
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "'data' is a URL with a password" in res.output and PLANTED not in res.output
    assert not (tmp_path / "out").exists()  # no report folder, no manifest, no notebook
    res = runner.invoke(app, ["validate", URL])  # a URL for a direct read: masked in the error
    assert res.exit_code == 2 and PLANTED not in res.output and "ar:***@" in res.output
