"""``adu demo``: a sample DuckDB database exported, verified and recorded, end to end.

Brought to the ``adu`` command line by this plugin (``adu_register_commands``): without
adu-duckdb there is no sample database to make, and the CLI says so.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

EXIT_FAILED = 1


def _print_result(result: Any, elapsed: float) -> None:
    for t in result.tables:
        line = f"  {t.status.value:<9} {t.qualified_name}: {t.rows:,} rows, {len(t.files)} file(s)"
        click.echo(line + (f" - {t.error.message}" if t.error is not None else ""))
    click.echo(
        f"job {result.job_id} {result.status.value}: {len(result.tables)} table(s), {result.rows:,} rows "
        f"in {elapsed:.1f}s"
    )
    if result.manifest_path:
        click.echo(f"manifest: {result.manifest_path}")


def run_demo(directory: str, scale: int) -> int:
    """Make the sample database in ``directory``, export it through the job engine (the
    job recorded in the store like any other), verify the export; the exit code."""
    from adu_core import config
    from adu_core.logs import setup_service_logging
    from adu_core.models import JobSpec, JobStatus
    from adu_core.services import Actor, Context, running
    from adu_core.services.exports import verify_export
    from adu_core.services.progress import ProgressDisplay

    from adu_duckdb.demo import make_demo_database

    settings = config.load()
    setup_service_logging(settings.log_dir, settings.log_level, stdout=settings.log_stdout)
    base = os.path.abspath(directory)
    os.makedirs(base, exist_ok=True)
    db, out = os.path.join(base, "adu-demo.duckdb"), os.path.join(base, "export")
    counts = make_demo_database(db, scale=scale)
    click.echo(f"sample database: {db} ({sum(counts.values()):,} rows in {len(counts)} tables)")
    spec = JobSpec(source=f"duckdb://{db}", target=out, overwrite=True, parallel=settings.parallel, name="adu demo")
    # a fresh command-line process: a forked pool is safe (the services' fork_safe)
    ctx = Context(settings, fork_safe=True)
    progress = ProgressDisplay(sys.stderr)
    started = time.time()
    try:
        result = running.export(ctx, spec, actor=Actor.local(), on_progress=progress)
    finally:
        progress.done()
    _print_result(result, time.time() - started)
    if result.status != JobStatus.SUCCEEDED:
        return EXIT_FAILED
    report = verify_export(out)
    for line in report.lines():
        click.echo(f"verify: {line}")
    click.echo(f"verify: {'OK' if report.ok else 'MISMATCH'}")
    click.echo(
        f"\nexport:    {out}\njob:       {result.job_id} (adu jobs show {result.job_id[:12]})\n"
        f"job store: {settings.store_url.replace('sqlite:///', '')}\n"
        f"job log:   {settings.job_log_path(result.job_id)}"
    )
    return 0 if report.ok else EXIT_FAILED


def demo_command() -> click.Command:
    """The ``adu demo`` command."""

    @click.command(name="demo")
    @click.option(
        "--dir", "directory", default="adu-demo", show_default=True, help="Where the sample database and the export go."
    )
    @click.option("--scale", type=click.IntRange(1, 1000), default=1, show_default=True, help="Size multiplier.")
    def demo(directory: str, scale: int) -> None:
        """Make a sample DuckDB database, export it to Parquet, verify the export."""
        code = run_demo(directory, scale)
        if code:
            sys.exit(code)

    return demo
