"""``adu demo``: a sample DuckDB database exported, verified and recorded, end to end.

Brought to the ``adu`` command line by this plugin (``adu_register_commands``): without
adu-duckdb there is no sample database to make, and the CLI says so.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

import click

EXIT_FAILED = 1


class _Progress:
    """One rewritten line on a terminal, a plain line every few seconds otherwise."""

    def __init__(self, stream: TextIO, interval: float = 5.0) -> None:
        self.stream, self.interval = stream, interval
        self.tty = stream.isatty()
        self._last = 0.0
        self._width = 0

    def __call__(self, p: Any) -> None:
        text = f"tables {p.tables_done}/{p.tables_total} | {p.rows:,} rows | {p.rows_per_second:,.0f} rows/s"
        if self.tty:
            self.stream.write("\r" + text + " " * max(0, self._width - len(text)))
            self._width = len(text)
        elif time.monotonic() - self._last >= self.interval:
            self._last = time.monotonic()
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")


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
    from adu_core.engine import submit_and_run
    from adu_core.logs import setup_service_logging
    from adu_core.models import JobSpec, JobStatus
    from adu_core.store import Store
    from adu_core.verify import verify_export

    from adu_duckdb.demo import make_demo_database

    settings = config.load()
    setup_service_logging(settings.log_dir, settings.log_level, stdout=settings.log_stdout)
    base = os.path.abspath(directory)
    os.makedirs(base, exist_ok=True)
    db, out = os.path.join(base, "adu-demo.duckdb"), os.path.join(base, "export")
    counts = make_demo_database(db, scale=scale)
    click.echo(f"sample database: {db} ({sum(counts.values()):,} rows in {len(counts)} tables)")
    spec = JobSpec(source=f"duckdb://{db}", target=out, overwrite=True, parallel=settings.parallel, name="adu demo")
    progress = _Progress(sys.stderr)
    started = time.time()
    try:
        result = submit_and_run(
            Store.from_settings(settings), spec, settings=settings, on_progress=progress, mp_start="fork"
        )
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
