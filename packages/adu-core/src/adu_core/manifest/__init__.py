"""The export manifest: what an export holds, in a form the far side can check.

``DIR/manifest.json`` is written last, by :func:`write_manifest` (the sink calls it from
``finalize``), and read by :func:`load_manifest`; :class:`Manifest` is its typed form.
Its content (format version 1; a delta is version 2)::

    format            "adu-manifest"
    format_version    1
    job_id            the job that wrote the export (the last one, for a retried export)
    adu_version       ADU's version
    created_at        UTC, ISO 8601
    sink              the sink plugin's name (the far side asks it to check the files)
    source            url (password removed), kind, server_version, consistency
                      (snapshot / LSN / epoch the data was read at)
    runs              every job that contributed tables: job_id, created_at, consistency
    tables            sorted by (schema, name); each: schema, name, kind, status, job_id,
                      ddl, columns (name, source_type, arrow_type, nullable),
                      primary_key, rows, bytes, files (path relative to DIR, rows,
                      bytes, sha256), validation (when rules ran), error (failed tables),
                      cursor (tables with a cursor column: column, source_type, after,
                      watermark, null_rows)
    totals            tables, rows, bytes, files
    watermarks        (optional) {"schema.table": {column, value}}: where each table's
                      cursor column stood in the job's snapshot (next delta starts there)
    previous          (deltas only, format version 2) manifest_sha256 of the export this
                      one continues, its watermarks and job_id: the link of the chain
    checksum          "sha256:<hex>" of the canonical JSON of everything else

Keys are sorted and the JSON is canonical (:func:`canonical_json`), so the same export
gives the same manifest apart from times and ids. The checksum catches an edited or
damaged manifest even without a signature; ``manifest.sig`` (see
:mod:`adu_core.signing`) proves who wrote it. How versions and optional sections evolve:
:mod:`adu_core.manifest.model`.

Modules: :mod:`~adu_core.manifest.model` (the attrs classes),
:mod:`~adu_core.manifest.fields` (typed reads of a JSON object's fields, ManifestError),
:mod:`~adu_core.manifest.canonical` (canonical JSON, checksum),
:mod:`~adu_core.manifest.build` (building and merging), :mod:`~adu_core.manifest.io`
(load and write), :mod:`~adu_core.manifest.arrow` (types as recorded and compared).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adu_core.manifest.build import build_manifest, link_manifest, merge_manifest, table_entry
from adu_core.manifest.canonical import (
    CHECKSUM_KEY,
    canonical_json,
    checksum,
    is_sealed,
    normalize,
    seal,
    sealed_json,
)
from adu_core.manifest.fields import ManifestError, safe_relpath
from adu_core.manifest.io import load_manifest, parse_manifest, read_manifest_bytes, write_manifest
from adu_core.manifest.model import (
    BASE_FORMAT_VERSION,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    Manifest,
    ManifestColumn,
    ManifestCursor,
    ManifestFile,
    ManifestPrevious,
    ManifestRun,
    ManifestSource,
    ManifestTable,
    ManifestTotals,
    ManifestWatermark,
)

if TYPE_CHECKING:
    from adu_core.manifest.arrow import comparable_type, schema_problem, type_name

#: the Arrow helpers (:mod:`~adu_core.manifest.arrow`) import pyarrow: imported on first
#: use, so reading a manifest or the job store (``adu jobs list``) does not load it
_ARROW = ("comparable_type", "schema_problem", "type_name")


def __getattr__(name: str) -> Any:
    if name not in _ARROW:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from adu_core.manifest import arrow

    return getattr(arrow, name)


__all__ = [
    "BASE_FORMAT_VERSION",
    "CHECKSUM_KEY",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "SIGNATURE_NAME",
    "Manifest",
    "ManifestColumn",
    "ManifestCursor",
    "ManifestError",
    "ManifestFile",
    "ManifestPrevious",
    "ManifestRun",
    "ManifestSource",
    "ManifestTable",
    "ManifestTotals",
    "ManifestWatermark",
    "build_manifest",
    "canonical_json",
    "checksum",
    "comparable_type",
    "is_sealed",
    "link_manifest",
    "load_manifest",
    "merge_manifest",
    "normalize",
    "parse_manifest",
    "read_manifest_bytes",
    "safe_relpath",
    "schema_problem",
    "seal",
    "sealed_json",
    "table_entry",
    "type_name",
    "write_manifest",
]
