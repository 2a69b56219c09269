"""``adu demo``: a sample DuckDB database exported, verified and recorded, end to end."""

from __future__ import annotations

import os
import sys

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
    from adu_core.models import JobSpec
    from adu_core.services import running
    from adu_duckdb.demo import make_demo_database

    from adu_cli.results import exit_unless_succeeded, run_and_show

    base = os.path.abspath(directory)
    os.makedirs(base, exist_ok=True)
    db = os.path.join(base, "adu-demo.duckdb")
    out = os.path.join(base, "export")
    counts = make_demo_database(db, scale=scale)
    click.echo(f"sample database: {db} ({sum(counts.values()):,} rows in {len(counts)} tables)")
    spec = JobSpec(source=f"duckdb://{db}", target=out, overwrite=True, parallel=env.settings.parallel, name="adu demo")
    result = run_and_show(lambda on_progress: running.export(env.ctx, spec, actor=env.actor, on_progress=on_progress))
    exit_unless_succeeded(result)
    from adu_core.services.exports import verify_export

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
