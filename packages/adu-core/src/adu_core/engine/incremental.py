"""Coordinator: incremental exports — cursor columns, watermarks and the previous link.

A job with cursors (``JobSpec.cursors``) records, for each such table, its watermark: the
greatest cursor value in the job's snapshot. A job with ``after`` is a *delta*: it starts
from the watermarks of a previous export — a directory, verified first, or ``last``, the
newest export of the same source the job store recorded — reads only the rows past them
(in its own snapshot, partitions and all), and its manifest names the previous one by the
SHA-256 of its ``manifest.json`` (:class:`~adu_core.manifest.ManifestPrevious`).

Tables of a delta with no cursor are exported whole (said in the job's log and report).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from adu_core.errors import UsageError
from adu_core.manifest.io import read_manifest_bytes
from adu_core.manifest.model import MANIFEST_NAME, ManifestPrevious, ManifestWatermark
from adu_core.models import JobSpec, TableInfo
from adu_core.plugin.components import CURSOR_PROPERTY, Source

if TYPE_CHECKING:
    from adu_core.plugin.manager import Plugins
    from adu_core.store import Store

#: ``--after last``: the newest export of the same source the job store recorded
LAST = "last"


def manifest_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of the bytes of an export's ``manifest.json`` (the chain's link)."""
    _file, raw = read_manifest_bytes(path)
    return hashlib.sha256(raw).hexdigest()


def resolve_previous(spec: JobSpec, store: Store, plugins: Plugins | None = None) -> ManifestPrevious | None:
    """The export a delta continues (None for a job that is not a delta).

    :raises UsageError: no such export, it does not verify, or it holds no watermark.
    """
    after = spec.after
    if after is None:
        return None
    if after.strip().lower() == LAST:
        link = store.last_export(spec.source)
        if link is None:
            raise UsageError(
                "--after last: the job store holds no earlier export of this source with a cursor column; "
                "make a full export first (--cursor SCHEMA.TABLE=COLUMN)"
            )
        marks = {t: ManifestWatermark(column=c, value=v) for t, (c, v) in link.watermarks.items()}
        return ManifestPrevious(manifest_sha256=link.manifest_sha256, watermarks=marks, job_id=link.job_id)
    return _previous_directory(after, plugins)


def _previous_directory(directory: str, plugins: Plugins | None) -> ManifestPrevious:
    from adu_core.manifest.io import load_manifest
    from adu_core.verify import verify_export

    report = verify_export(directory, plugins=plugins)
    if not report.is_export:
        raise UsageError(f"--after {directory}: " + ("; ".join(report.problems) or "not an export"))
    if not report.ok:
        bad = next((line for line in report.lines() if not line.startswith("ok ")), "mismatch")
        raise UsageError(f"--after {directory} does not verify ({bad.strip()}); run adu verify {directory}")
    manifest = load_manifest(directory)
    if not manifest.watermarks:
        raise UsageError(
            f"--after {directory}: that export recorded no watermark (it was made without --cursor); "
            "make a full export with --cursor SCHEMA.TABLE=COLUMN first"
        )
    return ManifestPrevious(
        manifest_sha256=manifest_sha256(Path(directory) / MANIFEST_NAME),
        watermarks=dict(manifest.watermarks),
        job_id=manifest.job_id,
    )


@attrs.frozen
class CursorPlan:
    """Which selected tables have a cursor column, and where each delta starts.

    :param cursors: ``{"schema.table": (column, after)}``; ``after`` None reads the whole
        table (a full export, or a table the previous export had no watermark for).
    :param whole: tables of a delta with no cursor: exported whole.
    """

    cursors: Mapping[str, tuple[str, str | None]]
    whole: tuple[str, ...] = ()


def plan_cursors(
    spec: JobSpec, source: Source, selected: Sequence[TableInfo], previous: ManifestPrevious | None
) -> CursorPlan:
    """The cursor of each selected table: named by ``--cursor``, or continued from the
    previous export's watermarks.

    :raises UsageError: a cursor on a table the job does not export, a column that does
        not exist, a cursor that changed since the previous export, or a source without
        cursors.
    """
    marks = dict(previous.watermarks) if previous is not None else {}
    by_name = {t.qualified_name: t for t in selected}
    wanted: dict[str, str] = {name: mark.column for name, mark in marks.items() if name in by_name}
    for name, column in spec.cursors.items():
        if name not in by_name:
            raise UsageError(f"--cursor {name}={column}: the job does not export {name}")
        if name in marks and marks[name].column != column:
            raise UsageError(
                f"--cursor {name}={column}: the previous export's cursor of {name} is {marks[name].column!r}; "
                "a changed cursor needs a new full export (without --after)"
            )
        wanted[name] = column
    if wanted and not source.supports_cursors:
        raise UsageError(f"the {source.label()} source does not support cursor columns (incremental exports)")
    cursors: dict[str, tuple[str, str | None]] = {}
    for name, column in sorted(wanted.items()):
        table = by_name[name]
        if column not in {c.name for c in table.columns}:
            raise UsageError(f"--cursor {name}={column}: {name} has no column {column!r}")
        cursors[name] = (column, marks[name].value if name in marks else None)
    whole = tuple(sorted(n for n in by_name if n not in cursors)) if previous is not None else ()
    return CursorPlan(cursors=cursors, whole=whole)


def with_cursors(
    source: Source,
    tables: Sequence[TableInfo],
    plan: CursorPlan,
    snapshot: Mapping[str, Any],
    log: logging.LoggerAdapter[logging.Logger] | logging.Logger,
) -> list[TableInfo]:
    """``tables``, each with a cursor given its :data:`CURSOR_PROPERTY` (its column, the
    lower bound ``after`` and the watermark found in the job's snapshot)."""
    out = []
    for table in tables:
        cursor = plan.cursors.get(table.qualified_name)
        if cursor is None:
            out.append(table)
            continue
        column, after = cursor
        bounds = source.cursor_bounds(table, column, after=after, snapshot=snapshot)
        watermark = bounds.watermark if bounds.watermark is not None else after
        if bounds.null_rows:
            log.warning(
                "%s: %d row(s) have a NULL cursor (%s): a delta never picks them up",
                table.qualified_name,
                bounds.null_rows,
                column,
            )
        info = {
            "column": column,
            "source_type": table.column(column).source_type,
            "after": after,
            "watermark": watermark,
            "null_rows": bounds.null_rows,
        }
        out.append(attrs.evolve(table, properties={**table.properties, CURSOR_PROPERTY: info}))
    return out
