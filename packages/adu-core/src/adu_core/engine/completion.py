"""Coordinator: what a retry keeps of the attempts before it.

A retry completes the export it retries. Its manifest must describe every table the
target holds, including the ones an earlier attempt published — and that attempt may have
died before writing any manifest (killed mid-job). So the retry learns what was published
from two places, the newer winning:

* the manifest already in the target, when it is sealed (its checksum matches) and was
  written by this job;
* the job store, which records each table's manifest entry in the same transaction that
  records it succeeded.

Every kept table's files are then checked against its entry (present, SHA-256, rows,
schema: :meth:`Sink.check_published`); a table that does not check is exported again,
like the job's failed and unfinished tables.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import attrs

from adu_core.errors import UsageError
from adu_core.manifest import Manifest, is_sealed
from adu_core.models import JobSpec, TableStatus
from adu_core.plugin.components import Sink
from adu_core.store import Store

Key = tuple[str, str]


@attrs.define
class Earlier:
    """What a retry takes over from the attempts before it.

    :param entries: the checked manifest entries of the tables it keeps.
    :param runs: the ``runs`` of the earlier manifest (the chain of attempts).
    :param redo: the job's tables to export again (failed, unfinished, or not checking).
    :param vanished: tables to export again that the source no longer has: whatever an
        earlier attempt published of them is taken out of the target.
    """

    entries: dict[Key, dict[str, Any]] = attrs.field(factory=dict)
    runs: list[Any] = attrs.field(factory=list)
    redo: set[Key] = attrs.field(factory=set)
    vanished: set[Key] = attrs.field(factory=set)


def _written_by(manifest: Manifest, job_id: str) -> bool:
    return manifest.job_id == job_id or any(r.job_id == job_id for r in manifest.runs)


def _from_manifest(sink: Sink, job_id: str, spec: JobSpec, log: logging.LoggerAdapter[logging.Logger]) -> Earlier:
    earlier = Earlier()
    try:
        old = sink.read_manifest()
    except UsageError as exc:
        log.warning("the manifest in the target is not trusted (%s): the job store says what was published", exc)
        return earlier
    if old is None:
        return earlier
    if not is_sealed(old):
        log.warning("the manifest in the target was edited or damaged: the job store says what was published")
        return earlier
    if not _written_by(old, job_id):
        raise UsageError(
            f"{spec.target} now holds the export of another job ({old.job_id}); "
            f"`adu jobs retry {job_id} --overwrite` exports this job again from scratch"
        )
    for table in old.tables:
        if table.succeeded:
            earlier.entries[(table.schema, table.name)] = table.to_dict()
    earlier.runs = [r.to_dict() for r in old.runs]
    return earlier


def _add_recorded_run(store: Store, job_id: str, earlier: Earlier) -> None:
    """The attempt whose tables the store recorded, in ``runs``: the point in time (the
    snapshot) its tables were read at, as the job recorded it when it planned them."""
    job = store.get_job(job_id)
    consistency = dict((job.source_info or {}).get("consistency") or {})
    if any(isinstance(r, dict) and r.get("consistency") == consistency for r in earlier.runs):
        return
    started = datetime.fromtimestamp(job.started_at or job.created_at, UTC)
    earlier.runs.append(
        {"job_id": job_id, "created_at": started.isoformat().replace("+00:00", "Z"), "consistency": consistency}
    )


def earlier_tables(
    store: Store, job_id: str, spec: JobSpec, sink: Sink, log: logging.LoggerAdapter[logging.Logger]
) -> Earlier:
    """What the retry ``spec`` of job ``job_id`` keeps, checked, and what it exports again.

    :raises UsageError: the target now holds another job's export (``--overwrite`` then).
    """
    earlier = _from_manifest(sink, job_id, spec, log)
    rows = store.list_tables(job_id)
    from_store = False
    for r in rows:
        key = (r.schema, r.name)
        if r.status == TableStatus.SUCCEEDED and r.entry:
            earlier.entries[key] = r.entry
            from_store = True
        elif r.status != TableStatus.SUCCEEDED:
            earlier.entries.pop(key, None)
    if from_store:
        _add_recorded_run(store, job_id, earlier)
    for name in spec.retry_tables:
        for key in [k for k in earlier.entries if f"{k[0]}.{k[1]}" == name]:
            del earlier.entries[key]
    problems = sink.check_published(list(earlier.entries.values())) if earlier.entries else {}
    for key, found in sorted(problems.items()):
        log.warning(
            "table %s.%s, published by an earlier attempt, does not check (%s): exported again",
            key[0],
            key[1],
            "; ".join(found[:3]),
        )
        del earlier.entries[key]
    earlier.redo = {(r.schema, r.name) for r in rows} - set(earlier.entries)
    if earlier.entries:
        log.info("keeping %d table(s) published by earlier attempts (checked)", len(earlier.entries))
    return earlier
