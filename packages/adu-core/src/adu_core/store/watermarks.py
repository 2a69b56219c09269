"""Watermarks of incremental exports: where each cursor column of a source stood after an
export, so ``adu export SOURCE --after last`` continues without the previous directory.

A source is named by its identity without password (:func:`source_identity`: the URL with
the password removed, or the named connection): nothing secret is ever stored here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import attrs

from adu_core.secrets import redact_url
from adu_core.store.base import StoreBase


def source_identity(source: str) -> str:
    """How the store names a source: its URL without password (a named connection as is)."""
    return redact_url(source, mask="")


@attrs.frozen
class ExportLink:
    """One export of a chain, as the job store recorded it.

    :param watermarks: ``{"schema.table": (column, value)}``.
    :param position: 0 for a full export (a base), n for the n-th delta after it.
    """

    job_id: str
    source: str
    target: str
    manifest_sha256: str
    previous_sha256: str | None
    position: int
    watermarks: Mapping[str, tuple[str, str | None]]
    recorded_at: float


class WatermarkStore(StoreBase):
    """The watermarks part of :class:`adu_core.store.Store`."""

    def record_watermarks(
        self,
        job_id: str,
        *,
        source: str,
        target: str,
        manifest_sha256: str,
        previous_sha256: str | None,
        watermarks: Mapping[str, tuple[str, str | None]],
    ) -> ExportLink:
        """Record the watermarks of a finished export (its manifest written); the chain
        position follows the previous export's when the store knows it."""
        ident = source_identity(source)
        now = time.time()
        with self._tx() as conn:
            position = 0
            if previous_sha256 is not None:
                before = conn.execute(
                    "SELECT position FROM export_watermarks WHERE manifest_sha256 = :sha LIMIT 1",
                    {"sha": previous_sha256},
                ).scalar()
                position = int(before) + 1 if before is not None else 1
            conn.execute("DELETE FROM export_watermarks WHERE job_id = :job_id", {"job_id": job_id})
            conn.executemany(
                "INSERT INTO export_watermarks (job_id, source, target, manifest_sha256, previous_sha256, position,"
                " table_name, cursor_column, value, recorded_at) VALUES (:job_id, :source, :target,"
                " :manifest_sha256, :previous_sha256, :position, :table_name, :cursor_column, :value, :recorded_at)",
                [
                    {
                        "job_id": job_id,
                        "source": ident,
                        "target": target,
                        "manifest_sha256": manifest_sha256,
                        "previous_sha256": previous_sha256,
                        "position": position,
                        "table_name": table,
                        "cursor_column": column,
                        "value": value,
                        "recorded_at": now,
                    }
                    for table, (column, value) in sorted(watermarks.items())
                ],
            )
        return ExportLink(job_id, ident, target, manifest_sha256, previous_sha256, position, dict(watermarks), now)

    def _link(self, column: str, value: str) -> ExportLink | None:
        """The newest export whose ``column`` (``source`` or ``job_id``) is ``value``."""
        with self.db.read() as conn:
            newest = conn.execute(
                f"SELECT job_id FROM export_watermarks WHERE {column} = :value"
                " ORDER BY recorded_at DESC, id DESC LIMIT 1",
                {"value": value},
            ).scalar()
            if newest is None:
                return None
            rows = conn.execute(
                "SELECT * FROM export_watermarks WHERE job_id = :job_id ORDER BY table_name", {"job_id": newest}
            ).all()
        first = rows[0]
        return ExportLink(
            job_id=first.job_id,
            source=first.source,
            target=first.target,
            manifest_sha256=first.manifest_sha256,
            previous_sha256=first.previous_sha256,
            position=int(first.position),
            watermarks={r.table_name: (r.cursor_column, r.value) for r in rows},
            recorded_at=float(first.recorded_at),
        )

    def last_export(self, source: str) -> ExportLink | None:
        """The newest export of ``source`` (a URL, with or without password, or a named
        connection) that recorded watermarks; None when there is none."""
        return self._link("source", source_identity(source))

    def export_link(self, job_id: str) -> ExportLink | None:
        """The chain link of the export job ``job_id`` (None: it recorded no watermarks)."""
        return self._link("job_id", job_id)
