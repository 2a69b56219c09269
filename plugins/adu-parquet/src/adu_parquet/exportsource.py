"""The far side's source: an ADU export directory, verified before any row is read.

``adu load DIR TARGET`` opens ``DIR`` with :class:`ExportSource`. :meth:`~ExportSource.verify`
checks the whole export first (the SHA-256 of every file, the rows and schema in every
Parquet footer, missing and unexpected files, the manifest's checksum, and the signature
when a public key is given or the manifest is signed); a mismatch raises
:class:`~adu_core.services.exports.ExportMismatch` naming the file, before any row moves.

Each succeeded table of the manifest is a :class:`~adu_core.models.TableInfo` whose columns
carry the Arrow types of its Parquet files (with their field metadata: ``adu.source_type``,
``adu.encoding``) and whose ``properties`` carry what the export recorded to recreate it
(``pg_types``); tables that failed in the export are listed by :meth:`~ExportSource.failed`
and never read. A partition is one Parquet file, its path in ``spec["path"]``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlsplit

import pyarrow as pa
from adu_core.errors import UsageError
from adu_core.lazy import lazy_module
from adu_core.models import ColumnInfo, Partition, SourceInfo, TableInfo
from adu_core.plugin.components import CancelToken, Source
from adu_core.plugin.options import Option

if TYPE_CHECKING:
    import pyarrow.parquet as pq
else:  # registered with every source, read only by a load: pyarrow.parquet (~9 ms) on first use
    pq = lazy_module("pyarrow.parquet")

MANIFEST = "manifest.json"
#: Parquet pages are read through a buffer of this size, not whole column chunks
READ_BUFFER = 1 << 16


def export_path(url: str) -> Path | None:
    """The directory a source URL names when it is an export (``file://`` or a path)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
    elif parts.scheme and len(parts.scheme) > 1:  # not a Windows drive letter
        return None
    else:
        path = Path(url)
    return path if (path / MANIFEST).is_file() else None


class ExportSource(Source):
    """An ADU export directory (``manifest.json`` and Parquet files), verified first."""

    name = "export"
    title = "ADU export"
    schemes: ClassVar[tuple[str, ...]] = ("file",)
    description = "an ADU export directory, verified (SHA-256, rows, schema, signature) before it is read"
    option_schema = (
        Option(
            "public_key",
            help="Ed25519 public key file: the manifest's signature must check (a signed export needs it)",
            web=False,
        ),
    )

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)
        path = export_path(url)
        if path is None:
            raise UsageError(f"{url}: not an ADU export (no {MANIFEST})")
        self.directory = path
        self._export: Any = None

    @classmethod
    def accepts(cls, url: str) -> bool:
        return export_path(url) is not None

    def verify(self, *, workers: int | None = None) -> Any:
        """Verify the whole export (once) and return the opened
        :class:`~adu_core.services.exports.Export`.

        :raises ExportMismatch: a file, a count, a schema or the signature does not check.
        :raises UsageError: not an export, a newer manifest format, a bad public key, or
            a signed export without ``public_key``.
        """
        if self._export is None:
            import attrs
            from adu_core.services.exports import Export, ExportMismatch, read_manifest, verify_export

            key = self.options.get("public_key")
            report = verify_export(self.directory, key, workers=workers)
            if not report.is_export:
                raise UsageError("; ".join(report.problems) or f"{self.directory} is not an export")
            manifest = read_manifest(self.directory)
            # a table that failed in the export is reported and skipped, not a mismatch
            failed = {t.qualified_name for t in manifest.tables if not t.succeeded}
            checked = [t for t in report.tables if not (t.qualified_name in failed and not t.files)]
            if report.problems or not all(t.ok for t in checked):
                raise ExportMismatch(attrs.evolve(report, tables=checked))
            export = Export(directory=self.directory, manifest=manifest, report=report)
            if export.signed and not key:
                raise UsageError(
                    f"{self.directory} is signed: give its public key (--public-key) so the signature is checked"
                )
            self._export = export
        return self._export

    def info(self) -> SourceInfo:
        export = self.verify()
        src = export.manifest.source
        return SourceInfo(
            url=str(self.directory),
            kind="export",
            server_version=None,
            consistency={"export_job": export.manifest.job_id, "source": src.url, "source_kind": src.kind},
        )

    def chain(self) -> tuple[str, str, str | None] | None:
        """``(source, manifest SHA-256, previous manifest SHA-256)`` when the export is a
        link of a chain of repeated transfers (it records watermarks, or it is a delta);
        None otherwise. The load sink checks it against what the target last applied."""
        import hashlib

        manifest = self.verify().manifest
        if manifest.watermarks is None and manifest.previous is None:
            return None
        sha = hashlib.sha256((self.directory / MANIFEST).read_bytes()).hexdigest()
        previous = manifest.previous.manifest_sha256 if manifest.previous is not None else None
        return manifest.source.url, sha, previous

    def failed(self) -> list[tuple[str, str]]:
        """``(schema.name, why)`` of every table that failed in the export (never loaded)."""
        out = []
        for t in self.verify().tables:
            if not t.succeeded:
                out.append((t.qualified_name, t.error or t.status))
        return out

    def discover(self, *, include_views: bool = False, include_foreign: bool = False) -> list[TableInfo]:
        export = self.verify()
        tables = []
        for entry in export.tables:
            if not entry.succeeded:
                continue
            files = export.files(entry)
            schema = pq.read_schema(files[0]) if files else None
            columns = []
            for i, col in enumerate(entry.columns):
                field = schema.field(i) if schema is not None and i < len(schema) else None
                arrow_type = field.type if field is not None else pa.string()
                props: dict[str, Any] = {}
                if field is not None and field.metadata and b"adu.encoding" in field.metadata:
                    props["encoding"] = field.metadata[b"adu.encoding"].decode()
                columns.append(ColumnInfo(col.name, col.source_type, arrow_type, col.nullable, props))
            extra = dict(entry.extra)
            props_t: dict[str, Any] = {"rows": entry.rows, "files": [str(f) for f in files]}
            props_t["source_kind"] = export.manifest.source.kind  # whose type names source_type holds
            if extra.get("pg_types") is not None:
                props_t["pg_types"] = extra["pg_types"]
            if entry.cursor is not None:  # an incremental export: how the far side applies it
                props_t["cursor"] = entry.cursor.to_dict()
            props_t["delta"] = export.manifest.previous is not None
            tables.append(
                TableInfo(
                    schema=entry.schema,
                    name=entry.name,
                    columns=tuple(columns),
                    kind=entry.kind,
                    primary_key=tuple(entry.primary_key),
                    row_estimate=entry.rows,
                    size_bytes=entry.bytes,
                    ddl=entry.ddl,
                    properties=props_t,
                )
            )
        return tables

    def partitions(self, table: TableInfo, *, target: int) -> list[Partition]:
        files = list((table.properties or {}).get("files") or [])
        if not files:
            return [Partition(table=table, index=0, count=1, spec={"path": None}, estimated_rows=0)]
        return [
            Partition(table=table, index=i, count=len(files), spec={"path": os.fspath(f)}) for i, f in enumerate(files)
        ]

    def read(
        self,
        partition: Partition,
        *,
        snapshot: Mapping[str, Any],
        batch_rows: int,
        cancel: CancelToken,
    ) -> Iterator[pa.RecordBatch]:
        path = partition.spec.get("path")
        if not path:
            return
        pf = pq.ParquetFile(path, buffer_size=READ_BUFFER, pre_buffer=False)
        for batch in pf.iter_batches(batch_size=batch_rows, use_threads=False):
            if cancel.is_set():
                return
            yield batch
