"""``adu demo``: a sample DuckDB database exported, verified and recorded, end to end."""

from __future__ import annotations

import os
import sys
import time

import click

from adu_cli.context import EXIT_FAILED, Env, handle_errors, pass_env


@click.command(name="demo")
@click.option(
    "--dir", "directory", default="adu-demo", show_default=True, help="Where the sample database and the export go."
)
@click.option("--scale", type=click.IntRange(1, 1000), default=1, show_default=True, help="Size multiplier.")
@pass_env
@handle_errors
def command(env: Env, directory: str, scale: int) -> None:
    """Make a sample database, export it to Parquet, verify the export."""
    from adu_core.engine import submit_and_run
    from adu_core.models import JobSpec, JobStatus
    from adu_duckdb.demo import make_demo_database

    from adu_cli.commands.export import print_result
    from adu_cli.progress import ProgressPrinter

    base = os.path.abspath(directory)
    os.makedirs(base, exist_ok=True)
    db = os.path.join(base, "adu-demo.duckdb")
    out = os.path.join(base, "export")
    counts = make_demo_database(db, scale=scale)
    click.echo(f"sample database: {db} ({sum(counts.values()):,} rows in {len(counts)} tables)")
    spec = JobSpec(source=f"duckdb://{db}", target=out, overwrite=True, parallel=env.settings.parallel, name="adu demo")
    printer = ProgressPrinter()
    started = time.time()
    try:
        result = submit_and_run(env.store, spec, settings=env.settings, on_progress=printer, mp_start="fork")
    finally:
        printer.done()
    print_result(result, time.time() - started)
    if result.status != JobStatus.SUCCEEDED:
        sys.exit(EXIT_FAILED)
    try:
        from adu_core.verify import verify_export
    except ImportError:  # pragma: no cover - verify ships with the core
        click.echo("verify: not available in this build")
        return
    report = verify_export(out)
    for line in report.lines():
        click.echo(f"verify: {line}")
    click.echo(f"verify: {'OK' if report.ok else 'MISMATCH'}")
    click.echo(
        f"\nexport:    {out}\njob:       {result.job_id} (adu jobs show {result.job_id[:12]})\n"
        f"job store: {env.settings.store_url.replace('sqlite:///', '')}\n"
        f"job log:   {env.settings.job_log_path(result.job_id)}"
    )
    if not report.ok:
        sys.exit(EXIT_FAILED)
