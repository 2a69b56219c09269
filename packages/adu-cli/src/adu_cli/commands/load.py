"""``adu load DIR TARGET``: a verified export into PostgreSQL, DuckDB or Vertica, one job.

Exit codes: 0 every table loaded; 1 the export does not verify, or a table was not loaded
(failed in the export, or its load failed: the target keeps what it had for that table);
2 bad input (no export, a newer manifest format, an unknown target, a bad option).
"""

from __future__ import annotations

import time

import click
from adu_core.models import JobResult, JobStatus
from adu_core.options import parse_options
from adu_core.secrets import url_password
from adu_core.services import jobs, loads
from adu_core.services.formatting import human_duration
from adu_core.services.progress import ProgressDisplay

from adu_cli.context import Env, echo_json, handle_errors, pass_env
from adu_cli.results import exit_unless_succeeded


@click.command(name="load")
@click.argument("directory", type=click.Path(file_okay=False))
@click.argument("target")
@click.option("--table", "tables", multiple=True, help="Load this schema.table only (repeatable, globs).")
@click.option(
    "--schema-map",
    "schema_map",
    multiple=True,
    metavar="SRC=DST",
    help="Load tables of schema SRC into DST (repeatable).",
)
@click.option(
    "--if-exists",
    type=click.Choice(loads.IF_EXISTS),
    default="fail",
    show_default=True,
    help="A table already on the target: fail, replace it, truncate it first, or append to it.",
)
@click.option("--parallel", type=click.IntRange(1, 256), default=None, help="Connections at once [ADU_PARALLEL].")
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False),
    help="Ed25519 public key: the manifest's signature must check (needed for a signed export).",
)
@click.option("--sink-option", "sink_opts", multiple=True, metavar="KEY=VALUE", help="A load sink option (repeatable).")
@click.option("--name", help="A label for the job.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--queue", "queue_only", is_flag=True, help="Submit the load to the worker pool and print its id.")
@pass_env
@handle_errors
def command(
    env: Env,
    directory: str,
    target: str,
    tables: tuple[str, ...],
    schema_map: tuple[str, ...],
    if_exists: str,
    parallel: int | None,
    public_key: str | None,
    sink_opts: tuple[str, ...],
    name: str | None,
    as_json: bool,
    queue_only: bool,
) -> None:
    """Load the export in DIRECTORY into TARGET (postgresql://…, duckdb:///file.duckdb,
    vertica://… or @name), after verifying every file; each table atomically."""
    spec = loads.load_spec(
        env.ctx,
        directory,
        target,
        tables=tables,
        schema_map=schema_map,
        if_exists=if_exists,
        parallel=parallel,
        public_key=public_key,
        options=parse_options(sink_opts, "--sink-option"),
        name=name,
    )
    if queue_only:
        job_id = loads.submit_load(env.ctx, spec, actor=env.actor, password=url_password(target))
        if as_json:
            echo_json({"job_id": job_id, "status": "queued"})
        else:
            click.echo(job_id)
        return
    started = time.time()
    display = ProgressDisplay() if not as_json else None
    try:
        result = loads.load(env.ctx, spec, actor=env.actor, on_progress=display)
    finally:
        if display is not None:
            display.done()
    if as_json:
        echo_json(_as_json(env, result))
    else:
        _print(env, result, time.time() - started)
    exit_unless_succeeded(result)


def _loaded(env: Env, result: JobResult) -> dict[str, dict[str, object]]:
    out = {}
    for row in jobs.tables(env.ctx, result.job_id):
        entry = row.entry or {}
        if isinstance(entry, dict) and isinstance(entry.get("loaded"), dict):
            out[row.qualified_name] = entry["loaded"]
    return out


def _print(env: Env, result: JobResult, elapsed: float) -> None:
    loaded = _loaded(env, result)
    for t in result.tables:
        mark = {"succeeded": "ok", "failed": "FAILED", "cancelled": "cancelled"}.get(t.status.value, t.status.value)
        line = f"  {mark:<9} {t.qualified_name}: {t.rows:,} rows"
        info = loaded.get(t.qualified_name)
        if info:
            line += f" -> {info['schema']}.{info['name']}"
            if info.get("text_columns"):
                line += f" (kept as text: {', '.join(map(str, info['text_columns']))})"  # type: ignore[call-overload]
        if t.error is not None:
            line += f" - {t.error.message}"
        click.echo(line)
    click.echo(
        f"load {result.job_id} {result.status.value}: {len(result.tables)} table(s), {result.rows:,} rows"
        f" in {human_duration(elapsed)}"
    )
    for note in result.notes:
        click.echo(note)
    if result.status != JobStatus.SUCCEEDED and result.error is not None:
        click.echo(f"reason: {result.error.message}", err=True)


def _as_json(env: Env, result: JobResult) -> dict[str, object]:
    loaded = _loaded(env, result)
    return {
        "job_id": result.job_id,
        "status": result.status.value,
        "rows": result.rows,
        "error": result.error.to_dict() if result.error else None,
        "notes": list(result.notes),
        "tables": [
            {
                "table": t.qualified_name,
                "status": t.status.value,
                "rows": t.rows,
                "target": loaded.get(t.qualified_name),
                "error": t.error.to_dict() if t.error else None,
            }
            for t in result.tables
        ],
    }
