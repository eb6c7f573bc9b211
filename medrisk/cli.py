"""The ``medrisk`` command line: demo data, validation, and (later) report runs."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from medrisk.data import db, demo, load_ledger
from medrisk.exceptions import MedriskError, ParamsError, mask_secrets
from medrisk.reports import RunInterrupted, run

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="medrisk: receivables risk and sales planning for medical-device companies.",
)


def _fail(exc: Exception, code: int = 2) -> None:
    typer.secho(f"error: {mask_secrets(str(exc))}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.command("demo-data")
def demo_data(
    out: Path = typer.Option(None, "--out",
                             help="Folder to write the tables into (default data/demo, unless "
                                  "--to-db is given)."),
    invoices: int = typer.Option(20_000, "--invoices", min=100, help="Number of invoices."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same files."),
    fmt: str = typer.Option(None, "--format",
                            help="parquet, csv or xlsx (default parquet; csv with --shape)."),
    end: str = typer.Option("2026-10-31", "--end", help="Extract date: nothing is dated after it."),
    to_db: str = typer.Option(None, "--to-db", metavar="URL",
                              help="Also (or only, without --out) write the tables into this "
                                   "database (SQLAlchemy URL, e.g. sqlite:///data/demo.db or "
                                   "postgresql+psycopg://user@host:5432/db), replacing tables "
                                   "of the same names."),
    password_env: str = typer.Option(None, "--password-env", metavar="NAME",
                                     help="Environment variable holding the database password."),
    schema: str = typer.Option(None, "--schema", help="Database schema to write into."),
    shape: str = typer.Option(None, "--shape",
                              help="Write the demo cut to the shape of a real first export "
                                   "instead: " + ", ".join(demo.SHAPES) + " (CSV unless "
                                   "--format says otherwise)."),
) -> None:
    """Write a demo medical-device company as files load_ledger reads, or into a database."""
    if out is None and to_db is None:
        out = Path("data/demo")
    try:
        if shape is not None:
            if to_db is not None:
                raise ParamsError("--shape writes files; leave out --to-db.")
            path, as_of = demo.write_shape(shape, out, seed=seed, n_invoices=invoices,
                                           fmt=fmt or "csv")
            typer.echo(f"demo company shaped '{shape}' ({demo.SHAPES[shape]}) written to {path}; "
                       f"report it as of {as_of}")
            return
        if out is not None:
            path = demo.write_demo(out, n_invoices=invoices, seed=seed, fmt=fmt or "parquet",
                                   end=end)
            typer.echo(f"demo company ({invoices:,} invoices, seed {seed}) written to {path}")
        if to_db is not None:
            company = demo.make_demo(n_invoices=invoices, seed=seed, end=end)
            written = db.write_tables_to_db(company.ledger, to_db, schema=schema,
                                                 password_env=password_env, progress=True)
            typer.echo(f"demo company ({invoices:,} invoices, seed {seed}) written to "
                       f"{db.mask_url(to_db)}: {len(written)} tables")
    except (MedriskError, ValueError) as exc:
        _fail(exc)


@app.command("validate")
def validate(
    source: str = typer.Argument(
        ..., help="Folder of table files, an Excel workbook, or a database URL."),
    mapping: Path = typer.Option(None, "--mapping", help="Mapping file (params/mapping*.yaml)."),
    quarantine: Path = typer.Option(None, "--quarantine", help="Folder for quarantined rows."),
    strict: bool = typer.Option(False, "--strict", help="Stop at the first bad row."),
) -> None:
    """Load and check a data source; print the load report.

    Exits 0 when every row was accepted, 1 when rows were quarantined, 2 on an error.
    """
    try:
        ledger = load_ledger(source, mapping, strict=strict, quarantine_dir=quarantine,
                             progress=True)
    except MedriskError as exc:
        _fail(exc)
    typer.echo(f"source: {source}")
    typer.echo(str(ledger.load_report))
    typer.echo("")
    typer.echo(ledger.summary().to_string(index=False))
    typer.echo(f"\nfingerprint: {ledger.fingerprint()}")
    n = ledger.load_report.quarantined
    if n:
        typer.secho(f"{n:,} row(s) quarantined: see the quarantine files above.",
                    fg=typer.colors.YELLOW)
        raise typer.Exit(1)
    typer.secho("all rows accepted.", fg=typer.colors.GREEN)


@app.command("run")
def run_cmd(
    params: Path = typer.Argument(..., help="Run file, e.g. params/monthly-management.yaml."),
    as_of: str = typer.Option(None, "--as-of",
                              help="Valuation date YYYY-MM-DD (overrides the file)."),
    data: str = typer.Option(None, "--data", help="Data source (overrides the file)."),
    out: Path = typer.Option(None, "--out", help="Base folder for reports (default reports/)."),
) -> None:
    """Execute the notebooks of a run file and write HTML reports with an index.

    Exits 0 when every report was made, 1 when a notebook failed (the others
    still run; the index says which), 2 when the run could not start (bad
    parameters, missing data, another run writing the same folder), 143 when
    stopped by SIGTERM and 130 by Ctrl-C (then nothing is published).
    """
    try:
        result = run(params, as_of=as_of, data=data, out=out)
    except MedriskError as exc:
        _fail(exc)
    except RunInterrupted as exc:
        code = 143 if exc.signal_name == "SIGTERM" else 130
        typer.secho(f"run stopped by {exc.signal_name}: nothing was published; the reports "
                    "that were there before are unchanged.", fg=typer.colors.RED, err=True)
        raise typer.Exit(code) from None
    for nb in result.notebooks:
        state = "ok" if nb.ok else f"FAILED at cell {nb.failed_cell}: {nb.error}"
        typer.echo(f"  {nb.notebook:<28} {nb.seconds:7.1f} s  {state}")
    typer.echo(f"reports: {result.index}")
    if not result.ok:
        typer.secho("some reports failed: see above and the index page.", fg=typer.colors.RED,
                    err=True)
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console entry
    """Run the CLI."""
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
