"""``adu jobs list|show|logs|cancel|retry``: the job store from the shell."""

from __future__ import annotations

import sys
import time

import click
from adu_core.models import JobStatus
from adu_core.services import jobs as job_service
from adu_core.services.formatting import human_bytes, human_duration

from adu_cli.context import Env, echo_json, handle_errors, pass_env


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@click.group(name="jobs")
def group() -> None:
    """List, inspect, cancel and retry jobs."""


@group.command(name="list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]), help="Only jobs with this status.")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_env
@handle_errors
def list_jobs(env: Env, status: str | None, limit: int, as_json: bool) -> None:
    """Jobs, newest first."""
    jobs = job_service.list_jobs(env.ctx, status=status, limit=limit)
    if as_json:
        echo_json([j.to_dict() for j in jobs])
        return
    if not jobs:
        click.echo("no jobs")
        return
    click.echo(f"{'id':<12} {'status':<10} {'created':<19} {'duration':>9} {'tables':>7} {'rows':>13}  source")
    for j in jobs:
        click.echo(
            f"{j.id[:12]:<12} {j.status.value:<10} {_when(j.created_at):<19} {human_duration(j.duration):>9} "
            f"{j.tables_done:>3}/{j.tables_total:<3} {j.rows:>13,}  "
            + (f"load {j.source} -> {j.target}" if j.kind == "load" else j.source)
        )


@group.command(name="show")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True)
@pass_env
@handle_errors
def show(env: Env, job_id: str, as_json: bool) -> None:
    """One job: configuration, tables, validation and errors."""
    job = job_service.get(env.ctx, job_id)
    tables = job_service.tables(env.ctx, job.id)
    link = job_service.chain_link(env.ctx, job.id)
    if as_json:
        echo_json(
            {
                "job": job.to_dict(),
                "chain": None
                if link is None
                else {
                    "manifest_sha256": link.manifest_sha256,
                    "previous_sha256": link.previous_sha256,
                    "position": link.position,
                    "watermarks": {k: {"column": c, "value": v} for k, (c, v) in link.watermarks.items()},
                },
                "tables": [t.to_dict() for t in tables],
                "partitions": [p.to_dict() for p in job_service.partitions(env.ctx, job.id)],
                "events": [e.to_dict() for e in job_service.events(env.ctx, job.id)],
            }
        )
        return
    click.echo(f"job {job.id}  {job.status.value}")
    click.echo(f"  source   {job.source}\n  target   {job.target}\n  by       {job.created_by or '-'}")
    click.echo(
        f"  created  {_when(job.created_at)}  started {_when(job.started_at)}  finished {_when(job.finished_at)}"
    )
    click.echo(
        f"  tables   {job.tables_done}/{job.tables_total} done, {job.tables_failed} failed; {job.rows:,} rows, "
        f"{human_bytes(job.bytes)} in {human_duration(job.duration)}"
    )
    if job.manifest_path:
        click.echo(f"  manifest {job.manifest_path}")
    if link is not None:
        where = (
            "a full export (the base of a chain)"
            if link.previous_sha256 is None
            else f"delta {link.position} after manifest {link.previous_sha256[:16]}…"
        )
        marks = ", ".join(f"{k}.{c} = {v!r}" for k, (c, v) in link.watermarks.items())
        click.echo(f"  chain    {where}; manifest {link.manifest_sha256[:16]}…")
        click.echo(f"  marks    {marks}")
    if job.error:
        click.echo(f"  error    {job.error.get('message')}")
    ran_on = job_service.workers_by_table(env.ctx, job.id)
    for t in tables:
        click.echo(
            f"\n  {t.qualified_name}: {t.status.value}, {t.rows:,} rows, {human_bytes(t.bytes)}, "
            f"{t.partitions_done}/{t.partitions_total} partition(s), {human_duration(t.duration)}"
        )
        if ran_on.get(t.qualified_name):
            click.echo("    ran on " + ", ".join(f"{w} ({n})" for w, n in ran_on[t.qualified_name]))
        if t.error:
            ctx = ", ".join(f"{k}={v}" for k, v in (t.error.get("context") or {}).items())
            state = f" [SQLSTATE {t.error['sqlstate']}]" if t.error.get("sqlstate") else ""
            click.echo(f"    error: {t.error.get('message')}{state}" + (f" ({ctx})" if ctx else ""))
        v = t.validation
        if v:
            click.echo(
                f"    validation ({v.get('mode')}): {'passed' if v.get('passed') else 'FAILED'}, "
                f"{v.get('failed_rows', 0)} failed row(s), {v.get('quarantined_rows', 0)} quarantined"
            )
            for c in v.get("checks", []):
                if c.get("failed_rows"):
                    col = f"{c['column']}: " if c.get("column") else ""
                    samples = ", ".join(repr(s.get("value", s)) for s in c.get("samples", [])[:5])
                    click.echo(
                        f"      {col}{c['check']}: {c['failed_rows']} row(s)" + (f", e.g. {samples}" if samples else "")
                    )
    history = [e for e in job_service.events(env.ctx, job.id) if e.data and e.data.get("action")]
    if history:
        click.echo("\n  history")
        for e in history:
            click.echo(f"    {_when(e.ts)}  {e.message}")


@group.command(name="logs")
@click.argument("job_id")
@click.option(
    "--level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Only entries at this level or above.",
)
@click.option("--table", help="Only entries about this schema.table.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON lines.")
@pass_env
@handle_errors
def logs(env: Env, job_id: str, level: str | None, table: str | None, as_json: bool) -> None:
    """A job's structured log, oldest first."""
    import json
    import logging

    from adu_core.logs import read_job_log

    job = job_service.get(env.ctx, job_id)
    floor = logging.getLevelName(level.upper()) if level else 0
    for entry in read_job_log(env.settings.job_log_path(job.id)):
        if floor and logging.getLevelName(str(entry.get("level", "INFO"))) < floor:
            continue
        if table and entry.get("table") != table:
            continue
        if as_json:
            click.echo(json.dumps(entry, sort_keys=True))
        else:
            where = f" [{entry['table']}]" if entry.get("table") else ""
            click.echo(f"{entry.get('time', '')} {entry.get('level', ''):<7}{where} {entry.get('message', '')}")
            if entry.get("exc"):
                click.echo("    " + str(entry["exc"]).rstrip().replace("\n", "\n    "))


@group.command(name="cancel")
@click.argument("job_id")
@pass_env
@handle_errors
def cancel(env: Env, job_id: str) -> None:
    """Ask a running job to stop (a queued job is cancelled at once)."""
    job = job_service.cancel(env.ctx, job_id, actor=env.actor)
    click.echo(f"job {job.id}: cancel requested ({job.status.value})")


@group.command(name="retry")
@click.argument("job_id")
@click.option("--queue", "queue_only", is_flag=True, help="Queue it for a worker instead of running it here.")
@click.option("--password-stdin", is_flag=True, help="Read the source password from standard input.")
@click.option("--overwrite", is_flag=True, help="Export every table again, replacing what the target holds.")
@pass_env
@handle_errors
def retry(env: Env, job_id: str, queue_only: bool, password_stdin: bool, overwrite: bool) -> None:
    """Complete a finished job: its failed and unfinished tables run again, the tables it
    published are checked and kept, and the manifest describes them all (``--overwrite``:
    every table again, replacing what the target holds)."""
    from adu_core.services import running

    from adu_cli.results import exit_unless_succeeded, run_and_show

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    # queued for a worker: the password is stored encrypted until the job ends; run here:
    # it stays in this process
    job = job_service.retry(
        env.ctx, job_id, actor=env.actor, password=password if queue_only else None, overwrite=overwrite
    )
    what = "all tables" if not job.spec.retry else ", ".join(job.spec.retry_tables) or "the manifest"
    click.echo(f"job {job.id}: retrying {what}")
    if queue_only:
        return
    result = run_and_show(
        lambda on_progress: running.run_here(env.ctx, job.id, password=password, on_progress=on_progress)
    )
    exit_unless_succeeded(result)
