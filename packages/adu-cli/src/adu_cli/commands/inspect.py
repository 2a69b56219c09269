"""``adu inspect DIR``: look at an export before loading it (tables, schema, first rows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from adu_core.verify import MANIFEST_NAME, safe_relpath


def _load_manifest(directory: str) -> dict[str, Any]:
    path = Path(directory) / MANIFEST_NAME
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise click.UsageError(f"{directory} is not an export (no {MANIFEST_NAME})") from None
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != "adu-manifest":
        raise click.UsageError(f"{path} is not an ADU export manifest")
    return data


def _find_table(manifest: dict[str, Any], wanted: str) -> dict[str, Any]:
    tables = [t for t in manifest.get("tables") or [] if isinstance(t, dict)]
    names = {f"{t.get('schema')}.{t.get('name')}": t for t in tables}
    if wanted in names:
        return names[wanted]
    folded = [t for n, t in names.items() if n.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    known = ", ".join(sorted(names)) or "none"
    raise click.UsageError(f"no table {wanted!r} in this export (tables: {known})")


def _summary(manifest: dict[str, Any]) -> None:
    click.echo(
        f"export of job {manifest.get('job_id')} made {manifest.get('created_at')} by ADU {manifest.get('adu_version')}"
    )
    source = manifest.get("source") or {}
    click.echo(f"source: {source.get('url')} ({source.get('kind')} {source.get('server_version') or ''})".rstrip())
    if source.get("consistency"):
        click.echo(f"read at: {json.dumps(source['consistency'], sort_keys=True)}")
    tables = [t for t in manifest.get("tables") or [] if isinstance(t, dict)]
    width = max([len(f"{t.get('schema')}.{t.get('name')}") for t in tables] + [5])
    click.echo(f"{'table':<{width}}  {'rows':>14}  {'files':>5}  {'bytes':>14}  columns")
    for t in tables:
        name = f"{t.get('schema')}.{t.get('name')}"
        click.echo(
            f"{name:<{width}}  {t.get('rows', 0):>14,}  {len(t.get('files') or []):>5}  "
            f"{t.get('bytes', 0):>14,}  {len(t.get('columns') or [])}"
        )
    totals = manifest.get("totals") or {}
    click.echo(f"{totals.get('tables', len(tables))} table(s), {totals.get('rows', 0):,} rows")


def _show_table(directory: str, table: dict[str, Any], limit: int, quarantine: bool = False) -> None:
    import duckdb  # imported here: only this command needs it

    click.echo(
        f"table {table.get('schema')}.{table.get('name')}: {table.get('rows', 0):,} rows "
        f"in {len(table.get('files') or [])} file(s)"
    )
    cols = [c for c in table.get("columns") or [] if isinstance(c, dict)]
    width = max([len(str(c.get("name"))) for c in cols] + [6])
    click.echo(f"  {'column':<{width}}  {'source type':<24}  {'arrow type':<28}  nullable")
    for c in cols:
        click.echo(
            f"  {c.get('name')!s:<{width}}  {c.get('source_type')!s:<24}  "
            f"{c.get('arrow_type')!s:<28}  {'yes' if c.get('nullable') else 'no'}"
        )
    if table.get("ddl"):
        click.echo("source DDL:")
        click.echo("  " + str(table["ddl"]).strip().replace("\n", "\n  "))
    listed = table.get("files") or []
    if quarantine:
        validation = table.get("validation") if isinstance(table.get("validation"), dict) else {}
        listed = (validation or {}).get("quarantine_files") or []
        click.echo(
            f"quarantined rows: {sum(int(f.get('rows') or 0) for f in listed if isinstance(f, dict)):,} "
            f"in {len(listed)} file(s) (column _adu_failed_checks names the broken checks)"
        )
    files = []
    for f in listed:
        rel = safe_relpath(f.get("path") if isinstance(f, dict) else None)
        if rel is None:
            raise click.UsageError(f"unsafe file path in the manifest: {f!r}")
        files.append(str(Path(directory) / rel))
    if not files or limit == 0:
        return
    missing = [f for f in files if not Path(f).is_file()]
    if missing:
        raise click.UsageError(f"file missing: {missing[0]} (run adu verify)")
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        rows = con.sql("SELECT * FROM read_parquet($files) LIMIT $n", params={"files": files, "n": limit})
        click.echo(f"first {limit} row(s):")
        click.echo(str(rows))
    except duckdb.Error as exc:
        raise click.ClickException(f"DuckDB cannot read the files: {exc}") from None
    finally:
        con.close()


@click.command("inspect")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=str))
@click.option("--table", "table_name", metavar="S.T", help="Show this table's schema and first rows.")
@click.option("--limit", type=click.IntRange(min=0), default=10, show_default=True, help="Rows to show.")
@click.option("--quarantine", is_flag=True, help="With --table: show the quarantined rows instead.")
def command(directory: str, table_name: str | None, limit: int, quarantine: bool) -> None:
    """Show what an export holds: its tables and row counts, or one table's schema
    (source and Arrow types), DDL and first rows (read through DuckDB). No database
    needed. Use adu verify to check the files."""
    manifest = _load_manifest(directory)
    if table_name is None:
        _summary(manifest)
    else:
        _show_table(directory, _find_table(manifest, table_name), limit, quarantine)
