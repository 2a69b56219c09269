"""Building the manifest of an export (the engine, at the end of a job) and merging it
with the manifest already there after a retry."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from adu_core.manifest.canonical import CHECKSUM_KEY, as_dict, normalize, normalize_dict
from adu_core.manifest.model import (
    BASE_FORMAT_VERSION,
    FORMAT,
    FORMAT_VERSION,
    Manifest,
    ManifestPrevious,
    ManifestWatermark,
)
from adu_core.models import ColumnInfo, SourceInfo, TableInfo, TableResult
from adu_core.secrets import redact_text


def _utc(when: dt.datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _files(files: Sequence[Any]) -> list[dict[str, Any]]:
    return sorted((f.to_dict() for f in files), key=lambda f: str(f["path"]))


def table_entry(table: TableInfo, result: TableResult, *, job_id: str) -> dict[str, Any]:
    """The manifest entry of one table."""
    entry: dict[str, Any] = {
        "schema": table.schema,
        "name": table.name,
        "kind": table.kind,
        "status": result.status.value,
        "job_id": job_id,
        "ddl": table.ddl,
        "columns": [_column(c) for c in table.columns],
        "primary_key": list(table.primary_key),
        "rows": result.rows,
        "bytes": result.bytes,
        "files": _files(result.files),
    }
    pg_types = (table.properties or {}).get("pg_types")
    if pg_types is not None:  # what the far side's PostgreSQL loader recreates the table from
        entry["pg_types"] = pg_types
    if result.validation is not None:
        entry["validation"] = result.validation.to_dict()
    if result.error is not None:
        entry["error"] = redact_text(result.error.message)
    cursor = table.properties.get("cursor")
    if isinstance(cursor, Mapping):
        entry["cursor"] = {
            "column": cursor["column"],
            "source_type": cursor.get("source_type"),
            "after": cursor.get("after"),
            "watermark": cursor.get("watermark"),
            "null_rows": int(cursor.get("null_rows") or 0),
        }
    return entry


#: column properties the manifest carries when a source set them: ``fallback`` (``text``:
#: a value had no Parquet type, the column holds PostgreSQL's exact text), ``placeholder``
#: (the hidden column of a table without columns), ``original_name`` and ``profile_note``
#: (what the far-side profile changed)
COLUMN_FACTS = ("fallback", "placeholder", "original_name", "profile_note")


def _column(c: ColumnInfo) -> dict[str, Any]:
    from adu_core.manifest.arrow import comparable_type  # pyarrow: only where data moved

    out: dict[str, Any] = {
        "name": c.name,
        "source_type": c.source_type,
        "arrow_type": str(comparable_type(c.arrow_type)),
        "nullable": c.nullable,
    }
    for key in COLUMN_FACTS:
        if c.properties.get(key) is not None:
            out[key] = c.properties[key]
    return out


def _table_key(entry: Mapping[str, Any]) -> tuple[str, str]:
    return (str(entry["schema"]), str(entry["name"]))


def _totals(tables: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {
        "tables": len(tables),
        "rows": sum(int(t.get("rows") or 0) for t in tables),
        "bytes": sum(int(t.get("bytes") or 0) for t in tables),
        "files": sum(len(t.get("files") or ()) for t in tables),
    }


def build_manifest(
    *,
    job_id: str,
    adu_version: str,
    source: SourceInfo,
    sink: str,
    tables: Sequence[tuple[TableInfo, TableResult]],
    created_at: dt.datetime,
    profile: str | None = None,
    entries: Sequence[Mapping[str, Any]] = (),
) -> Manifest:
    """The manifest of an export: every table with its result (failed tables too, with no
    files and their error), sorted by (schema, name). Not sealed: the writer
    (:func:`adu_core.manifest.io.write_manifest`) adds the checksum.

    :param profile: the export's far-side profile (``JobSpec.profile``), recorded as ``profile``.
    :param entries: more tables, as entries already built: ``normalize(table_entry(...))``
        (the engine builds each one as its table is published, while the other tables
        still run, instead of all of them here, at the job's end).
    """
    built = [normalize(table_entry(t, r, job_id=job_id)) for t, r in tables]
    all_entries = sorted([*built, *entries], key=_table_key)
    src = source.to_dict()
    created = _utc(created_at)
    head = normalize_dict(
        {
            "format": FORMAT,
            "format_version": BASE_FORMAT_VERSION,
            "job_id": job_id,
            "adu_version": adu_version,
            "created_at": created,
            "sink": sink,
            "source": src,
            "runs": [{"job_id": job_id, "created_at": created, "consistency": src.get("consistency", {})}],
        }
    )
    # the entries are normalized already (normalizing them again was ~25 ms of a 200-table
    # job's end): the same body as normalize_dict of the whole
    body = {
        **head,
        "tables": all_entries,
        "totals": _totals(all_entries),
        **({"profile": normalize(profile)} if profile else {}),
    }
    return Manifest.from_dict(body)


def merge_manifest(old: Manifest | Mapping[str, Any], new: Manifest | Mapping[str, Any]) -> Manifest:
    """The manifest after a retry: ``old``'s tables, with the re-run ones from ``new``.

    Top-level facts (job id, time, source) come from ``new``; ``runs`` lists the jobs of
    both; the checksum is dropped (the writer seals the result again).
    """
    old, new = as_dict(old), as_dict(new)
    merged = {k: v for k, v in new.items() if k != CHECKSUM_KEY}
    new_tables = list(new.get("tables") or [])
    replaced = {_table_key(t) for t in new_tables}
    tables = [t for t in old.get("tables") or [] if _table_key(t) not in replaced] + new_tables
    tables.sort(key=_table_key)
    merged["tables"] = tables
    merged["totals"] = _totals(tables)
    runs: list[Any] = []
    seen: set[str] = set()
    for run in list(old.get("runs") or []) + list(new.get("runs") or []):
        rid = json.dumps(run, sort_keys=True, default=str)
        if rid not in seen:
            seen.add(rid)
            runs.append(run)
    merged["runs"] = runs
    return Manifest.from_dict(normalize_dict(merged))


def link_manifest(manifest: Manifest, previous: ManifestPrevious | None) -> Manifest:
    """``manifest`` with its watermarks (from its tables' cursors) and, for a delta, its
    link to the previous export (format version 2).

    A table's watermark is the one its cursor section records when the table succeeded;
    a table of the previous export this one did not deliver (failed, or not selected)
    keeps the previous watermark, so the next delta still starts where that table stood.
    """
    marks: dict[str, ManifestWatermark] = dict(previous.watermarks) if previous is not None else {}
    for t in manifest.tables:
        if t.cursor is None or not t.succeeded:
            continue
        marks[t.qualified_name] = ManifestWatermark(column=t.cursor.column, value=t.cursor.watermark)
    if not marks and previous is None:
        return manifest
    return attrs.evolve(
        manifest,
        watermarks=dict(sorted(marks.items())),
        previous=previous,
        format_version=FORMAT_VERSION if previous is not None else manifest.format_version,
        checksum=None,
    )
