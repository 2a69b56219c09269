"""``adu discover SOURCE``: what a source holds."""

from __future__ import annotations

import click
from adu_core.services.discovery import discover
from adu_core.services.formatting import human_bytes

from adu_cli.context import Env, echo_json, handle_errors, pass_env


@click.command(name="discover")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--views", is_flag=True, help="Include views and materialized views.")
@click.option("--foreign", is_flag=True, help="Include foreign tables.")
@click.option("--schema", "schemas", multiple=True, help="Only these schemas (glob patterns).")
@pass_env
@handle_errors
def command(env: Env, source: str, as_json: bool, views: bool, foreign: bool, schemas: tuple[str, ...]) -> None:
    """List the schemas, tables and columns of SOURCE (a URL, a DuckDB file or @name)."""
    found = discover(
        env.ctx,
        source,
        actor=env.actor,
        options={"include_views": views, "include_foreign": foreign},
        schemas=schemas,
    )
    if as_json:
        echo_json(found.to_dict())
        return
    info, tables = found.source, found.tables
    click.echo(f"{info.to_dict()['url']}  ({info.server_version or info.kind})")
    for t in tables:
        est = f"~{t.row_estimate:,} rows" if t.row_estimate is not None and t.row_estimate >= 0 else "rows unknown"
        click.echo(f"\n{t.qualified_name}  [{t.kind}]  {est}, {human_bytes(t.size_bytes)}")
        keys = set(t.primary_key)
        for c in t.columns:
            flags = []
            if c.name in keys:
                flags.append("PK")
            if not c.nullable:
                flags.append("NOT NULL")
            click.echo(f"  {c.name:<30} {c.source_type:<28} -> {c.arrow_type}  {' '.join(flags)}")
    click.echo(f"\n{len(tables)} table(s)")
