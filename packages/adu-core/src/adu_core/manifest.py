"""The export manifest: what an export holds, in a form the far side can check.

``DIR/manifest.json`` is written last (see the sink's ``finalize``). Its content::

    format            "adu-manifest"
    format_version    1
    job_id            the job that wrote the export (the last one, for a retried export)
    adu_version       ADU's version
    created_at        UTC, ISO 8601
    sink              the sink plugin's name
    source            url (password removed), kind, server_version, consistency
                      (snapshot / LSN / epoch the data was read at)
    runs              every job that contributed tables: job_id, created_at, consistency
    tables            sorted by (schema, name); each: schema, name, kind, status, job_id,
                      ddl, columns (name, source_type, arrow_type, nullable),
                      primary_key, rows, bytes, files (path relative to DIR, rows,
                      bytes, sha256), validation (when rules ran), error (failed tables)
    totals            tables, rows, bytes, files
    checksum          "sha256:<hex>" of the canonical JSON of everything else

Keys are sorted and the JSON is canonical (:func:`canonical_json`), so the same export
gives the same manifest apart from times and ids. The checksum catches an edited or
damaged manifest even without a signature; ``manifest.sig`` (see
:mod:`adu_core.signing`) proves who wrote it.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from adu_core.models import SourceInfo, TableInfo, TableResult
from adu_core.secrets import redact_text

FORMAT = "adu-manifest"
FORMAT_VERSION = 1
CHECKSUM_KEY = "checksum"


# ------------------------------------------------------------------------------ types


def comparable_type(typ: pa.DataType) -> pa.DataType:
    """``typ`` with the names Parquet readers do not keep put back to Arrow's defaults.

    A map column read back from Parquet may name its entries struct after the column
    (``map<string, string ('col')>``), a list read from a file without rows names its
    items ``element`` where Arrow says ``item``; the values are the same, so types are
    compared (and recorded in the manifest) in this form.
    """
    if pa.types.is_map(typ):
        key = pa.field("key", comparable_type(typ.key_type), nullable=False)
        item = pa.field("value", comparable_type(typ.item_type), nullable=typ.item_field.nullable)
        return pa.map_(key, item, keys_sorted=typ.keys_sorted)
    if pa.types.is_large_list(typ):
        return pa.large_list(_item(typ.value_field))
    if pa.types.is_fixed_size_list(typ):
        return pa.list_(_item(typ.value_field), typ.list_size)
    if pa.types.is_list(typ):
        return pa.list_(_item(typ.value_field))
    if pa.types.is_struct(typ):
        return pa.struct([f.with_type(comparable_type(f.type)) for f in typ])
    return typ


def _item(field: pa.Field) -> pa.Field:
    return pa.field("item", comparable_type(field.type), nullable=field.nullable)


def type_name(typ: pa.DataType | str) -> str:
    """The name types are compared by (see :func:`comparable_type`)."""
    if isinstance(typ, str):
        return typ
    return str(comparable_type(typ))


# ------------------------------------------------------------------------------ building


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
        "columns": [
            {
                "name": c.name,
                "source_type": c.source_type,
                "arrow_type": str(comparable_type(c.arrow_type)),
                "nullable": c.nullable,
            }
            for c in table.columns
        ],
        "primary_key": list(table.primary_key),
        "rows": result.rows,
        "bytes": result.bytes,
        "files": _files(result.files),
    }
    if result.validation is not None:
        entry["validation"] = result.validation.to_dict()
    if result.error is not None:
        entry["error"] = redact_text(result.error.message)
    return entry


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
) -> dict[str, Any]:
    """The manifest of an export (a JSON-ready dict; see the module docstring)."""
    entries = sorted((table_entry(t, r, job_id=job_id) for t, r in tables), key=_table_key)
    src = source.to_dict()
    created = _utc(created_at)
    return _normalize_dict(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "job_id": job_id,
            "adu_version": adu_version,
            "created_at": created,
            "sink": sink,
            "source": src,
            "runs": [{"job_id": job_id, "created_at": created, "consistency": src.get("consistency", {})}],
            "tables": entries,
            "totals": _totals(entries),
        }
    )


def merge_manifest(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest after a retry: ``old``'s tables, with the re-run ones from ``new``.

    Top-level facts (job id, time, source) come from ``new``; ``runs`` lists the jobs of
    both; the checksum is dropped (``finalize`` seals the result again).
    """
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
    return _normalize_dict(merged)


# ----------------------------------------------------------------------- canonical form


def normalize(value: Any) -> Any:
    """``value`` made of JSON types only, losslessly where JSON can hold it.

    Non-finite floats become the strings ``NaN``/``Infinity``/``-Infinity``; Decimals,
    dates and times their ISO/str form; bytes base64; tuples and sets lists.
    """
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((normalize(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def _normalize_dict(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): normalize(v) for k, v in mapping.items()}


def canonical_json(manifest: Mapping[str, Any]) -> bytes:
    """The canonical UTF-8 JSON of ``manifest``: sorted keys, 2-space indent, final newline.

    ``canonical_json(json.loads(canonical_json(m))) == canonical_json(m)``.
    """
    text = json.dumps(normalize(manifest), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def checksum(manifest: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``manifest`` without its checksum."""
    body = {k: v for k, v in manifest.items() if k != CHECKSUM_KEY}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


def seal(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """``manifest`` with its checksum set."""
    body = _normalize_dict({k: v for k, v in manifest.items() if k != CHECKSUM_KEY})
    body[CHECKSUM_KEY] = checksum(body)
    return body


def is_sealed(manifest: Mapping[str, Any]) -> bool:
    """True when ``manifest`` holds a checksum that matches its content."""
    return manifest.get(CHECKSUM_KEY) == checksum(manifest)
