"""How a job run in this process is shown: live progress while it runs, then one line per
table and a summary (``adu export``, ``adu demo``, ``adu jobs retry``)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
from adu_core.models import JobResult, JobStatus
from adu_core.services.formatting import human_bytes, human_duration
from adu_core.services.progress import ProgressDisplay

from adu_cli.context import EXIT_FAILED


def print_result(result: JobResult, elapsed: float) -> None:
    for t in result.tables:
        mark = {"succeeded": "ok", "failed": "FAILED", "cancelled": "cancelled"}.get(t.status.value, t.status.value)
        line = f"  {mark:<9} {t.qualified_name}: {t.rows:,} rows, {human_bytes(t.bytes)}, {len(t.files)} file(s)"
        if t.validation is not None and not t.validation.passed:
            line += f"; validation ({t.validation.mode}): {t.validation.failed_rows} row(s) failed"
            if t.validation.quarantined_rows:
                line += f", {t.validation.quarantined_rows} quarantined"
        if t.error is not None:
            line += f" - {t.error.message}"
        click.echo(line)
    rate = result.rows / elapsed if elapsed > 0 else 0
    click.echo(
        f"job {result.job_id} {result.status.value}: {len(result.tables)} table(s), {result.rows:,} rows, "
        f"{human_bytes(result.bytes)} in {human_duration(elapsed)} ({rate:,.0f} rows/s)"
    )
    if result.manifest_path:
        click.echo(f"manifest: {result.manifest_path}")
        for line in _chain_lines(result.manifest_path):
            click.echo(line)
    explain(result)


def _chain_lines(manifest_path: str) -> list[str]:
    from adu_core.errors import UsageError

    try:  # a full export (no previous manifest, no cursor) says nothing more: not read as a model
        raw = json.loads(Path(manifest_path).read_bytes())
        if isinstance(raw, dict) and not raw.get("previous"):
            tables = raw.get("tables")
            if isinstance(tables, list) and not any(isinstance(t, dict) and t.get("cursor") for t in tables):
                return []
    except (OSError, ValueError):
        return []
    from adu_core.services.exports import chain_summary, read_manifest

    try:
        return chain_summary(read_manifest(manifest_path))
    except UsageError:
        return []


def explain(result: JobResult) -> None:
    """Why a job did not succeed, and what completes it, on standard error."""
    if result.status not in (JobStatus.FAILED, JobStatus.PARTIAL, JobStatus.CANCELLED):
        return
    if result.error is not None and result.status != JobStatus.CANCELLED:
        click.echo(f"reason: {result.error.message}", err=True)
    click.echo(f"next: `adu jobs retry {result.job_id}` completes the export", err=True)


def run_and_show(run: Callable[[Callable[..., None] | None], JobResult], *, show: bool = True) -> JobResult:
    """Call ``run(on_progress)`` with a live display on standard error (unless
    ``show`` is off: the caller prints the result itself), then print the result."""
    display = ProgressDisplay() if show else None
    started = time.time()
    try:
        result = run(display)
    finally:
        if display is not None:
            display.done()
    if show:
        print_result(result, time.time() - started)
    else:
        explain(result)
    return result


def exit_unless_succeeded(result: JobResult) -> None:
    if result.status != JobStatus.SUCCEEDED:
        sys.exit(EXIT_FAILED)
