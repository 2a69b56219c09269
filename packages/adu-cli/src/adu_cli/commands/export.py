"""``adu export SOURCE --out DIR``: one job, run in this process (or, with ``--queue``, by
the worker pool), recorded in the store."""

from __future__ import annotations

import click
from adu_core.models import PROFILES, JobSpec, TableSelection, parse_cursor
from adu_core.options import parse_options
from adu_core.secrets import url_password
from adu_core.services import jobs, running

from adu_cli.context import Env, echo_json, handle_errors, pass_env
from adu_cli.options import ComponentChoice
from adu_cli.results import exit_unless_succeeded, run_and_show


@click.command(name="export")
@click.argument("source")
@click.option("--out", "target", required=True, help="Output directory.")
@click.option("--schema", "schemas", multiple=True, help="Export every table of this schema (repeatable, globs).")
@click.option("--table", "tables", multiple=True, help="Export this schema.table (repeatable, globs).")
@click.option("--exclude", multiple=True, help="Leave out schema.table patterns (repeatable).")
@click.option("--parallel", type=click.IntRange(1, 256), default=None, help="Partitions at once [ADU_PARALLEL].")
@click.option("--rules", help="Validation rules: a YAML file or module:DataFrameModel.")
@click.option("--no-validate", is_flag=True, help="Skip the rules inferred from the source.")
@click.option("--overwrite", is_flag=True, help="Replace an export already in --out.")
@click.option(
    "--sign-key",
    type=click.Path(dir_okay=False),
    help="Ed25519 private key to sign the manifest (or @name of a key registered in the connections file).",
)
@click.option(
    "--compression",
    type=ComponentChoice("sink", "parquet", "compression"),
    default=None,
    help="Parquet compression (default zstd; the sink's choices).",
)
@click.option(
    "--sink-option",
    "sink_opts",
    multiple=True,
    metavar="KEY=VALUE",
    help="A sink option (repeatable; adu plugins lists them).",
)
@click.option(
    "--source-option",
    "source_opts",
    multiple=True,
    metavar="KEY=VALUE",
    help="A source option, e.g. infinity=null (repeatable; adu plugins lists each source's).",
)
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="portable",
    show_default=True,
    help="Far-side profile: portable (DuckDB, polars, pandas and Spark read every file) or exact"
    " (Parquet UUID, TIME and wide decimals). See the README's reader matrix.",
)
@click.option(
    "--cursor",
    "cursors",
    multiple=True,
    metavar="S.T=COLUMN",
    help="A monotonically increasing column of table S.T (repeatable): the manifest records its watermark.",
)
@click.option(
    "--after",
    metavar="DIR|last",
    help="A delta: only rows past the watermarks of export DIR (verified first), or of the last export of "
    "this source in the job store.",
)
@click.option("--views", is_flag=True, help="Also select views and materialized views.")
@click.option("--foreign", is_flag=True, help="Also select foreign tables.")
@click.option("--name", help="A label for the job.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--queue",
    "queue_only",
    is_flag=True,
    help="Submit the job to the worker pool (adu worker, adu serve) and print its id instead of running it here.",
)
@pass_env
@handle_errors
def command(
    env: Env,
    source: str,
    target: str,
    schemas: tuple[str, ...],
    tables: tuple[str, ...],
    exclude: tuple[str, ...],
    parallel: int | None,
    rules: str | None,
    no_validate: bool,
    overwrite: bool,
    sign_key: str | None,
    compression: str | None,
    sink_opts: tuple[str, ...],
    source_opts: tuple[str, ...],
    profile: str,
    cursors: tuple[str, ...],
    after: str | None,
    views: bool,
    foreign: bool,
    name: str | None,
    as_json: bool,
    queue_only: bool,
) -> None:
    """Export tables of SOURCE to Parquet files in --out, with a manifest."""
    import os

    sink_options = parse_options(sink_opts, "--sink-option")
    if compression:
        sink_options["compression"] = compression
    source_options = parse_options(source_opts, "--source-option")
    if views:
        source_options["include_views"] = True
    if foreign:
        source_options["include_foreign"] = True
    spec = JobSpec(
        source=source,
        target=os.path.abspath(target),
        selection=TableSelection(schemas=schemas, tables=tables, exclude=exclude),
        sink_options=sink_options,
        source_options=source_options,
        rules=os.path.abspath(rules) if rules and ":" not in rules and os.path.exists(rules) else rules,
        validate=not no_validate,
        parallel=parallel or env.settings.parallel,
        overwrite=overwrite,
        sign_key=(str(sign_key) if str(sign_key).startswith("@") else os.path.abspath(sign_key)) if sign_key else None,
        name=name,
        profile=profile,
        cursors=dict(parse_cursor(c) for c in cursors),
        after=after if after is None or after.strip().lower() == "last" else os.path.abspath(after),
    )
    if queue_only:
        _submit(env, spec, as_json)
        return
    result = run_and_show(
        lambda on_progress: running.export(env.ctx, spec, actor=env.actor, on_progress=on_progress), show=not as_json
    )
    if as_json:
        echo_json(
            {
                "job_id": result.job_id,
                "status": result.status.value,
                "rows": result.rows,
                "bytes": result.bytes,
                "manifest": result.manifest_path,
                "tables": [
                    {
                        "table": t.qualified_name,
                        "status": t.status.value,
                        "rows": t.rows,
                        "bytes": t.bytes,
                        "error": t.error.to_dict() if t.error else None,
                        "validation": t.validation.to_dict() if t.validation else None,
                    }
                    for t in result.tables
                ],
            }
        )
    exit_unless_succeeded(result)


def _submit(env: Env, spec: JobSpec, as_json: bool) -> None:
    """Queue the job for the worker pool; its source password (from the URL) is stored
    encrypted with ADU_SECRET_KEY until the job ends, for the worker that runs it."""
    job_id = jobs.submit(env.ctx, spec, actor=env.actor, password=url_password(spec.source))
    if as_json:
        echo_json({"job_id": job_id, "status": "queued"})
        return
    click.echo(job_id)
    click.echo(f"queued: `adu jobs show {job_id}` follows it (a worker runs it: adu worker, adu serve)", err=True)
