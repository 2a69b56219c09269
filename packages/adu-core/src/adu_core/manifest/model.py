"""The typed manifest: what an export holds, as attrs classes read from and written to JSON.

:meth:`Manifest.from_dict` is the one place a manifest's structure is checked: every
field is required and typed as below, and a problem is one :class:`ManifestError` naming
the field (``tables[2].files[0].rows: expected an integer, got 'x'``).
:meth:`Manifest.to_dict` gives back the same JSON: a manifest ADU wrote round-trips
exactly, so its checksum and signature still match.

Versions: ``format_version`` says which rules a manifest follows; a reader refuses a
manifest newer than :data:`FORMAT_VERSION`. Within a version, a newer ADU may add
*optional sections* (a key an older reader may ignore, such as the far-side profile, the
load-side types, cursors and watermarks, the link to the previous manifest of a chain):
an older reader keeps them in ``extra``, untouched, so they are still covered by the
checksum and the signature. A change an older reader must not ignore raises the version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from adu_core.errors import UsageError
from adu_core.manifest.fields import Fields, ManifestError, merge_extra, safe_relpath, shown

FORMAT = "adu-manifest"
#: the newest format this ADU reads and writes. Version 2 is a *delta* (it has
#: ``previous``): an ADU that knows no chains must refuse it rather than take the rows
#: of a delta for a whole export; a full export is still written as version 1 (its
#: cursors and watermarks are optional sections an older reader may ignore).
FORMAT_VERSION = 2
#: the format version of a full export (no ``previous``)
BASE_FORMAT_VERSION = 1

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"


# ------------------------------------------------------------------------------ parts


@attrs.frozen
class ManifestFile:
    """One published file: its path relative to the export directory, rows, size, SHA-256."""

    path: str
    rows: int
    bytes: int
    sha256: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestFile:
        f = Fields(data, where)
        path = f.raw("path")
        if safe_relpath(path) is None or path in (MANIFEST_NAME, SIGNATURE_NAME):
            raise f.fail("path", f"unsafe or invalid file path in the manifest: {shown(path)}")
        return cls(
            path=path, rows=f.integer("rows"), bytes=f.integer("bytes"), sha256=f.text("sha256"), extra=f.extra()
        )

    def to_dict(self) -> dict[str, Any]:
        return merge_extra(
            {"path": self.path, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}, self.extra
        )


@attrs.frozen
class ManifestColumn:
    """One column: its name, the source's type, the Arrow type (by name) and nullability."""

    name: str
    source_type: str | None
    arrow_type: str
    nullable: bool
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestColumn:
        f = Fields(data, where)
        return cls(
            name=f.text("name"),
            source_type=f.opt_text("source_type"),
            arrow_type=f.text("arrow_type"),
            nullable=f.flag("nullable"),
            extra=f.extra(),
        )

    def to_dict(self) -> dict[str, Any]:
        known = {"name": self.name, "source_type": self.source_type, "arrow_type": self.arrow_type}
        return merge_extra({**known, "nullable": self.nullable}, self.extra)


@attrs.frozen
class ManifestSource:
    """Where the data came from: URL (no password), kind, version, the point in time."""

    url: str
    kind: str
    server_version: str | None
    consistency: Mapping[str, Any]
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestSource:
        f = Fields(data, where)
        return cls(
            url=f.text("url"),
            kind=f.text("kind"),
            server_version=f.opt_text("server_version"),
            consistency=f.obj("consistency") or {},
            extra=f.extra(),
        )

    def to_dict(self) -> dict[str, Any]:
        known = {"url": self.url, "kind": self.kind, "server_version": self.server_version}
        return merge_extra({**known, "consistency": dict(self.consistency)}, self.extra)


@attrs.frozen
class ManifestRun:
    """A job that contributed tables (several after retries)."""

    job_id: str
    created_at: str
    consistency: Mapping[str, Any]
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestRun:
        f = Fields(data, where)
        return cls(
            job_id=f.text("job_id"),
            created_at=f.text("created_at"),
            consistency=f.obj("consistency") or {},
            extra=f.extra(),
        )

    def to_dict(self) -> dict[str, Any]:
        known = {"job_id": self.job_id, "created_at": self.created_at, "consistency": dict(self.consistency)}
        return merge_extra(known, self.extra)


@attrs.frozen
class ManifestTotals:
    """Counts over every table of the manifest."""

    tables: int
    rows: int
    bytes: int
    files: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestTotals:
        f = Fields(data, where)
        return cls(
            tables=f.integer("tables"),
            rows=f.integer("rows"),
            bytes=f.integer("bytes"),
            files=f.integer("files"),
            extra=f.extra(),
        )

    def to_dict(self) -> dict[str, Any]:
        return merge_extra(
            {"tables": self.tables, "rows": self.rows, "bytes": self.bytes, "files": self.files}, self.extra
        )


@attrs.frozen
class ManifestCursor:
    """The cursor column of a table exported incrementally (``tables[i].cursor``).

    :param column: the cursor column (monotonically increasing: a timestamp, a sequence).
    :param source_type: its type in the source (the watermark is that type's text form).
    :param after: the lower bound of this export: only rows with ``column > after`` were
        read; None for a full export of the table.
    :param watermark: the greatest cursor value in the job's snapshot (the previous
        watermark when no row came after it; None when the table holds no cursor value).
    :param null_rows: rows whose cursor is NULL (never picked up by a delta).
    """

    column: str
    source_type: str | None
    after: str | None
    watermark: str | None
    null_rows: int
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestCursor:
        f = Fields(data, where)
        return cls(
            column=f.text("column"),
            source_type=f.opt_text("source_type"),
            after=f.opt_text("after"),
            watermark=f.opt_text("watermark"),
            null_rows=f.integer("null_rows"),
            extra=f.extra(),
        )

    def to_dict(self) -> dict[str, Any]:
        known = {"column": self.column, "source_type": self.source_type, "after": self.after}
        return merge_extra({**known, "watermark": self.watermark, "null_rows": self.null_rows}, self.extra)


@attrs.frozen
class ManifestWatermark:
    """Where a table's cursor stood at the end of an export (``watermarks["s.t"]``)."""

    column: str
    value: str | None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestWatermark:
        f = Fields(data, where)
        return cls(column=f.text("column"), value=f.opt_text("value"), extra=f.extra())

    def to_dict(self) -> dict[str, Any]:
        return merge_extra({"column": self.column, "value": self.value}, self.extra)


def _watermarks(data: Any, where: str) -> dict[str, ManifestWatermark]:
    f = Fields(data, where)
    return {str(k): ManifestWatermark.from_dict(f.raw(k), f._at(k)) for k in list(f.data)}


@attrs.frozen
class ManifestPrevious:
    """The link of a delta to the export it continues (``previous``).

    :param manifest_sha256: SHA-256 (hex) of the previous export's ``manifest.json`` bytes.
    :param watermarks: the previous export's watermarks (where this delta starts).
    :param job_id: the job that wrote the previous export.
    """

    manifest_sha256: str
    watermarks: Mapping[str, ManifestWatermark]
    job_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestPrevious:
        f = Fields(data, where)
        sha = f.text("manifest_sha256")
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise f.fail("manifest_sha256", f"expected 64 lowercase hex digits, got {shown(sha)}")
        return cls(
            manifest_sha256=sha,
            watermarks=_watermarks(f.raw("watermarks"), f"{where}.watermarks"),
            job_id=f.opt_text("job_id", optional=True),
            extra=f.extra(),
        )

    def to_dict(self) -> dict[str, Any]:
        known: dict[str, Any] = {
            "manifest_sha256": self.manifest_sha256,
            "watermarks": {k: w.to_dict() for k, w in self.watermarks.items()},
        }
        if self.job_id is not None:
            known["job_id"] = self.job_id
        return merge_extra(known, self.extra)


@attrs.frozen
class ManifestTable:
    """One table of the export.

    :param status: ``succeeded``, or why the table holds no data (``failed``, ``cancelled``).
    :param validation: the validation report (free-form JSON) when rules ran; its
        ``quarantine_files`` are also typed in :attr:`quarantine_files`.
    :param error: why the table failed (redacted), for a table that did.
    """

    schema: str
    name: str
    kind: str
    status: str
    job_id: str
    ddl: str | None
    columns: tuple[ManifestColumn, ...]
    primary_key: tuple[str, ...]
    rows: int
    bytes: int
    files: tuple[ManifestFile, ...]
    validation: Mapping[str, Any] | None = None
    error: str | None = None
    quarantine_files: tuple[ManifestFile, ...] = ()
    cursor: ManifestCursor | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @classmethod
    def from_dict(cls, data: Any, where: str) -> ManifestTable:
        f = Fields(data, where)
        validation = f.obj("validation", optional=True)
        quarantine: tuple[ManifestFile, ...] = ()
        if validation is not None and "quarantine_files" in validation:
            v = Fields(validation, f"{where}.validation")
            quarantine = tuple(ManifestFile.from_dict(q, w) for w, q in v.items("quarantine_files"))
        pk = f.array("primary_key")
        if not all(isinstance(k, str) for k in pk):
            raise f.fail("primary_key", "expected a list of column names")
        cursor = f.raw("cursor", optional=True)
        return cls(
            schema=f.text("schema"),
            name=f.text("name"),
            kind=f.text("kind"),
            status=f.text("status"),
            job_id=f.text("job_id"),
            ddl=f.opt_text("ddl"),
            columns=tuple(ManifestColumn.from_dict(c, w) for w, c in f.items("columns")),
            primary_key=tuple(pk),
            rows=f.integer("rows"),
            bytes=f.integer("bytes"),
            files=tuple(ManifestFile.from_dict(x, w) for w, x in f.items("files")),
            validation=validation,
            error=f.opt_text("error", optional=True),
            quarantine_files=quarantine,
            cursor=ManifestCursor.from_dict(cursor, f"{where}.cursor") if cursor is not None else None,
            extra=f.extra(),
        )

    def to_dict(self) -> dict[str, Any]:
        known: dict[str, Any] = {
            "schema": self.schema,
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "job_id": self.job_id,
            "ddl": self.ddl,
            "columns": [c.to_dict() for c in self.columns],
            "primary_key": list(self.primary_key),
            "rows": self.rows,
            "bytes": self.bytes,
            "files": [x.to_dict() for x in self.files],
        }
        if self.validation is not None:
            known["validation"] = dict(self.validation)
        if self.error is not None:
            known["error"] = self.error
        if self.cursor is not None:
            known["cursor"] = self.cursor.to_dict()
        return merge_extra(known, self.extra)


# ----------------------------------------------------------------------------- manifest


@attrs.frozen
class Manifest:
    """An export's manifest (``DIR/manifest.json``), format version :data:`FORMAT_VERSION`.

    :param job_id: the job that wrote the export (the last one, for a retried export).
    :param created_at: UTC, ISO 8601, as written.
    :param sink: the name of the sink plugin that wrote the files: the far side asks it
        to check them (:meth:`adu_core.plugin.components.Sink.check_file`).
    :param checksum: ``sha256:<hex>`` of the canonical JSON of everything else; None in
        a manifest not sealed yet.
    :param watermarks: ``{"schema.table": watermark}`` of every table exported with a
        cursor column (None when none was): where the next delta starts.
    :param previous: the export this one continues (a delta); None for a full export
        (the base of a chain).
    :param extra: top-level keys this version does not know (optional sections of a
        newer ADU), kept as they are.
    """

    format_version: int
    job_id: str
    adu_version: str
    created_at: str
    sink: str
    source: ManifestSource
    runs: tuple[ManifestRun, ...]
    tables: tuple[ManifestTable, ...]
    totals: ManifestTotals
    checksum: str | None = None
    watermarks: Mapping[str, ManifestWatermark] | None = None
    previous: ManifestPrevious | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def is_delta(self) -> bool:
        """True for a delta (an export that continues a previous one)."""
        return self.previous is not None

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """The typed manifest of a parsed ``manifest.json``.

        :raises ManifestError: ``format`` when ``data`` is not an ADU manifest,
            ``version`` when it is newer than this ADU reads, ``field`` for a missing or
            mistyped field (the message names it).
        """
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ManifestError("not an ADU export manifest", reason="format")
        f = Fields(data, "")
        f.read.add("format")
        version = f.raw("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise f.fail("format_version", f"expected a positive integer, got {shown(version)}")
        if version > FORMAT_VERSION:
            raise ManifestError(
                f"format version {version} is newer than this ADU reads (up to {FORMAT_VERSION}); upgrade ADU",
                reason="version",
            )
        marks = f.raw("watermarks", optional=True)
        previous = f.raw("previous", optional=True)
        if previous is not None and version < 2:
            raise f.fail("previous", "a delta's manifest has format version 2 or later")
        return cls(
            format_version=version,
            job_id=f.text("job_id"),
            adu_version=f.text("adu_version"),
            created_at=f.text("created_at"),
            sink=f.text("sink"),
            source=ManifestSource.from_dict(f.raw("source"), "source"),
            runs=tuple(ManifestRun.from_dict(r, w) for w, r in f.items("runs")),
            tables=tuple(ManifestTable.from_dict(t, w) for w, t in f.items("tables")),
            totals=ManifestTotals.from_dict(f.raw("totals"), "totals"),
            checksum=f.opt_text("checksum", optional=True),
            watermarks=_watermarks(marks, "watermarks") if marks is not None else None,
            previous=ManifestPrevious.from_dict(previous, "previous") if previous is not None else None,
            extra=f.extra(),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (``canonical_json`` of it is what ``manifest.json`` holds)."""
        known: dict[str, Any] = {
            "format": FORMAT,
            "format_version": self.format_version,
            "job_id": self.job_id,
            "adu_version": self.adu_version,
            "created_at": self.created_at,
            "sink": self.sink,
            "source": self.source.to_dict(),
            "runs": [r.to_dict() for r in self.runs],
            "tables": [t.to_dict() for t in self.tables],
            "totals": self.totals.to_dict(),
        }
        if self.checksum is not None:
            known["checksum"] = self.checksum
        if self.watermarks is not None:
            known["watermarks"] = {k: w.to_dict() for k, w in self.watermarks.items()}
        if self.previous is not None:
            known["previous"] = self.previous.to_dict()
        return merge_extra(known, self.extra)

    def is_sealed(self) -> bool:
        """True when :attr:`checksum` matches the content."""
        from adu_core.manifest.canonical import checksum

        return self.checksum is not None and self.checksum == checksum(self)

    def table(self, wanted: str) -> ManifestTable:
        """The table named ``schema.name`` (exactly, else the one equal ignoring case).

        :raises UsageError: naming the tables the export holds.
        """
        names = {t.qualified_name: t for t in self.tables}
        if wanted in names:
            return names[wanted]
        folded = [t for n, t in names.items() if n.casefold() == wanted.casefold()]
        if len(folded) == 1:
            return folded[0]
        known = ", ".join(sorted(names)) or "none"
        raise UsageError(f"no table {wanted!r} in this export (tables: {known})")
