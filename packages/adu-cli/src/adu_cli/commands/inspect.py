"""``adu inspect DIR``: look at an export before loading it (tables, schema, first rows)."""

from __future__ import annotations

import json

import click
from adu_core.services.exports import Export, ManifestTable, Preview, browse_export

from adu_cli.context import handle_errors


def _summary(export: Export) -> None:
    m = export.manifest
    click.echo(f"export of job {m.job_id} made {m.created_at} by ADU {m.adu_version}")
    source = m.source
    click.echo(f"source: {source.url} ({source.kind} {source.server_version or ''})".rstrip())
    if source.consistency:
        click.echo(f"read at: {json.dumps(dict(source.consistency), sort_keys=True)}")
    width = max([len(t.qualified_name) for t in m.tables] + [5])
    click.echo(f"{'table':<{width}}  {'rows':>14}  {'files':>5}  {'bytes':>14}  columns")
    for t in m.tables:
        click.echo(f"{t.qualified_name:<{width}}  {t.rows:>14,}  {len(t.files):>5}  {t.bytes:>14,}  {len(t.columns)}")
    click.echo(f"{m.totals.tables} table(s), {m.totals.rows:,} rows")


def _schema(table: ManifestTable) -> None:
    click.echo(f"table {table.qualified_name}: {table.rows:,} rows in {len(table.files)} file(s)")
    width = max([len(c.name) for c in table.columns] + [6])
    click.echo(f"  {'column':<{width}}  {'source type':<24}  {'arrow type':<28}  nullable")
    for c in table.columns:
        click.echo(f"  {c.name:<{width}}  {c.source_type!s:<24}  {c.arrow_type:<28}  {'yes' if c.nullable else 'no'}")
    if table.ddl:
        click.echo("source DDL:")
        click.echo("  " + table.ddl.strip().replace("\n", "\n  "))


def _grid(preview: Preview) -> list[str]:
    """The rows as an aligned text grid, NULL for missing values."""
    cells = [list(preview.columns)] + [["NULL" if v is None else v for v in row] for row in preview.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(preview.columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _show_table(export: Export, name: str, limit: int, quarantine: bool) -> None:
    table = export.table(name)
    _schema(table)
    if quarantine:
        q = table.quarantine_files
        click.echo(
            f"quarantined rows: {sum(f.rows for f in q):,} in {len(q)} file(s) "
            "(column _adu_failed_checks names the broken checks)"
        )
    files = table.quarantine_files if quarantine else table.files
    if not files or limit == 0:
        return
    preview = export.preview(table, limit=limit, quarantine=quarantine)
    click.echo(f"first {limit} row(s):")
    for line in _grid(preview):
        click.echo(line)


@click.command("inspect")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=str))
@click.option("--table", "table_name", metavar="S.T", help="Show this table's schema and first rows.")
@click.option("--limit", type=click.IntRange(min=0), default=10, show_default=True, help="Rows to show.")
@click.option("--quarantine", is_flag=True, help="With --table: show the quarantined rows instead.")
@handle_errors
def command(directory: str, table_name: str | None, limit: int, quarantine: bool) -> None:
    """Show what an export holds: its tables and row counts, or one table's schema
    (source and Arrow types), DDL and first rows (read through DuckDB). No database
    needed. Use adu verify to check the files."""
    export = browse_export(directory)
    if table_name is None:
        _summary(export)
    else:
        _show_table(export, table_name, limit, quarantine)
