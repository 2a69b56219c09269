"""The Parquet sink: staging, atomic publishing, the manifest written last.

Layout of an export directory ``DIR``::

    DIR/<schema>/<table>/part-00000.parquet, part-00001.parquet, ...
    DIR/_quarantine/<schema>/<table>/part-00000.parquet      rows that broke checks
    DIR/manifest.json                                         written last
    DIR/manifest.sig                                          when signed
    DIR/.adu-staging/<job>/                                   only while a job runs

Folder names come from :mod:`adu_parquet.naming`. Workers write into the job's staging
folder; :meth:`ParquetSink.publish_table` gathers a complete table's files into a fresh
folder inside staging and renames that folder into place in one step, so a reader sees
either no folder or the whole table, never a part of it; a retry swaps the new folder
with the old one (Linux ``renameat2``; elsewhere the old one is renamed away first), so
rows are never duplicated. A killed worker leaves files only in
staging, which :meth:`ParquetSink.close` removes.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import json
import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import adu_core
import pyarrow as pa
from adu_core.errors import UsageError
from adu_core.lazy import lazy_module
from adu_core.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    Manifest,
    ManifestTable,
    load_manifest,
    schema_problem,
    write_manifest,
)
from adu_core.models import FileResult, Partition, PartitionResult, TableInfo
from adu_core.plugin.components import FAILED_CHECKS_COLUMN, FileCheck, PartitionWriter, Sink
from adu_core.verify import check_entries, sha256_file

from adu_parquet.naming import encode_name, table_dir
from adu_parquet.options import OPTIONS, ParquetOptions
from adu_parquet.writer import ParquetPartitionWriter, write_empty_file

if TYPE_CHECKING:
    import pyarrow.parquet as pq
    from adu_core import signing
else:  # cryptography (~0.1 s of imports) only when a manifest is signed
    signing = lazy_module("adu_core.signing")
    # pyarrow.parquet imports pyarrow's file systems (S3, GCS, ssl): ~9 ms an export never uses
    pq = lazy_module("pyarrow.parquet")

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, staging is still per job
    fcntl = None  # type: ignore[assignment]

STAGING = ".adu-staging"
QUARANTINE = "_quarantine"

#: Parquet file (key-value) metadata keys.
VERSION_KEY = b"adu.version"
JOB_KEY = b"adu.job_id"
TABLE_KEY = b"adu.table"
#: JSON list of ``{"name", "source_type"[, "encoding"]}``: the source types again, for
#: readers that ignore Arrow field metadata (DuckDB: ``parquet_kv_metadata``; Spark).
COLUMNS_KEY = b"adu.columns"


def file_schema(table: TableInfo, job_id: str) -> pa.Schema:
    """The schema written to the table's files: field metadata (source types) and file
    metadata (ADU version, job id, table name, the columns' source types)."""
    schema = table.arrow_schema()
    return schema.with_metadata(
        {
            **(schema.metadata or {}),
            VERSION_KEY: adu_core.__version__.encode(),
            JOB_KEY: job_id.encode(),
            TABLE_KEY: json.dumps([table.schema, table.name], ensure_ascii=False).encode(),
            COLUMNS_KEY: json.dumps(
                [
                    {"name": c.name, "source_type": c.source_type}
                    | ({"encoding": str(c.properties["encoding"])} if c.properties.get("encoding") else {})
                    for c in table.columns
                ],
                ensure_ascii=False,
            ).encode(),
        }
    )


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    False when the platform or file system cannot (the caller then renames in two steps).
    """
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(rc == 0)


#: above this many folders to flush, :meth:`ParquetSink.finalize` flushes the file system
SYNCFS_FOLDERS = 32


def _syncfs(path: Path) -> bool:
    """Flush the whole file system holding ``path`` at once (Linux ``syncfs``)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY)
    except (OSError, AttributeError):
        return False
    try:
        return bool(libc.syncfs(fd) == 0)
    except AttributeError:
        return False
    finally:
        os.close(fd)


#: from this many staged files written on this host, :meth:`ParquetSink.sync_staged` flushes
#: the file system once (``syncfs``) instead of an ``fsync`` per file
SYNCFS_FILES = 4


def _fsync_file(path: Path) -> None:
    """Flush a (closed) file's data to disk; OSError when it cannot be opened or flushed."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class ParquetSink(Sink):
    """Writes each table as Parquet files under ``DIR/<schema>/<table>/``.

    Options: see :mod:`adu_parquet.options` (compression, compression_level,
    row_group_size, row_group_bytes, max_file_bytes, dictionary, statistics,
    decimal_as_integer).
    """

    name = "parquet"
    title = "Parquet"
    description = "Parquet files per table, published atomically, with a signed manifest"
    option_schema = OPTIONS
    #: how long a new attempt of a job waits for an earlier one to release its staging
    LOCK_WAIT_SECONDS = 30.0

    def __init__(self, target: str, options: Mapping[str, Any] | None = None, *, job_id: str) -> None:
        super().__init__(target, options, job_id=job_id)
        self.parquet_options = ParquetOptions.from_mapping(self.options)
        if not target:
            raise UsageError("the parquet sink needs a target directory")
        path = target[len("file://") :] if target.startswith("file://") else target
        self.root = Path(path).expanduser().absolute()
        self.staging = self.root / STAGING / encode_name(job_id)
        self._staging_real: Path | None = None
        #: staging folders already resolved and checked (:meth:`_staged_path`), by their path
        self._real_dirs: dict[Path, Path] = {}
        self._prepared = False
        self._finalized = False
        self._aside: Path | None = None  # an overwritten export, kept until finalize
        self._published: list[Path] = []
        self._unsynced: set[Path] = set()
        #: staged files already flushed to disk (:meth:`sync_staged`), by their staged path
        self._synced_files: set[Path] = set()
        self._lock_fd: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        """A pickled copy (sent to a worker) holds no lock and cleans nothing up."""
        state = dict(self.__dict__)
        state.update(_lock_fd=None, _prepared=False, _aside=None, _published=[])
        return state

    # -- the job's lock on its staging folder -------------------------------------------

    @staticmethod
    def _try_lock(path: Path) -> int | None:
        """An fd holding an exclusive lock on folder ``path``; None when another process
        holds it."""
        fd = os.open(path, os.O_RDONLY)
        if fcntl is None:  # pragma: no cover
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    def _lock_own_staging(self) -> int | None:
        """The lock on this job's staging folder, waiting up to :attr:`LOCK_WAIT_SECONDS`
        for an earlier attempt of the job that is still stopping (it lost the job: its
        lease expired while the job store was unreachable) to let go of it."""
        deadline = time.monotonic() + self.LOCK_WAIT_SECONDS
        while True:
            try:
                self.staging.mkdir(parents=True, exist_ok=True)
                fd = self._try_lock(self.staging)
            except FileNotFoundError:  # the earlier attempt removed it meanwhile
                fd = None
            if fd is not None:
                try:
                    same = os.fstat(fd).st_ino == os.stat(self.staging).st_ino
                except OSError:
                    same = False
                if same:
                    return fd
                os.close(fd)  # we locked a folder the earlier attempt removed: again
            elif time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    def _clean_stale_staging(self) -> None:
        """Remove staging folders of jobs that died (nobody holds their lock); refuse to
        run beside a live job writing into the same directory."""
        for entry in sorted((self.root / STAGING).iterdir()):
            if entry == self.staging or not entry.is_dir() or entry.is_symlink():
                continue
            fd = self._try_lock(entry)
            if fd is None:
                raise UsageError(f"another ADU job ({entry.name}) is writing into {self.root}; wait for it to end")
            try:
                shutil.rmtree(entry, ignore_errors=True)
            finally:
                os.close(fd)

    # -- coordinator: before ------------------------------------------------------------

    def _classify(self) -> str:
        """``empty``, ``export`` (has a manifest), ``partial`` (ADU layout, no manifest),
        or ``foreign`` (anything else)."""
        entries = [e for e in self.root.iterdir() if e.name != STAGING]
        if not entries:
            return "empty"
        if (self.root / MANIFEST_NAME).exists():
            return "export"
        for entry in entries:
            if entry.name == SIGNATURE_NAME and entry.is_file():
                continue
            if entry.is_symlink() or not entry.is_dir():
                return "foreign"
            for dirpath, _dirs, files in os.walk(entry):
                if any(not f.endswith(".parquet") for f in files):
                    return "foreign"
                del dirpath
        return "partial"

    def prepare(self, *, overwrite: bool, retry: bool = False) -> None:
        root = self.root
        if root.exists() and not root.is_dir():
            raise UsageError(f"target {root} exists and is not a directory")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create target directory {root}: {exc.strerror}") from None
        if not os.access(root, os.W_OK | os.X_OK):
            raise UsageError(f"target directory {root} is not writable")
        state = self._classify()
        if state == "foreign":
            raise UsageError(
                f"target directory {root} is not empty and does not hold an ADU export; "
                "refusing to write into it (choose an empty or new directory)"
            )
        if state != "empty" and not retry and not overwrite:
            what = "an export" if state == "export" else "the remains of an unfinished export"
            raise UsageError(f"target directory {root} already holds {what}; use overwrite to replace it")
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot write into {root}: {exc.strerror}") from None
        self._lock_fd = self._lock_own_staging()
        if self._lock_fd is None:
            raise UsageError(f"job {self.job_id} is already writing into {root}")
        self._prepared = True
        try:
            self._clean_stale_staging()
        except UsageError:
            self.close()
            raise
        if state != "empty" and not retry:
            self._move_aside()

    def _move_aside(self) -> None:
        """Move the old export into staging (manifest first, so it stops being an export
        at once); :meth:`finalize` deletes it, :meth:`close` without finalize restores it."""
        aside = self.staging / "previous"
        aside.mkdir(parents=True, exist_ok=True)
        self._aside = aside
        order = [MANIFEST_NAME, SIGNATURE_NAME]
        names = [n for n in order if (self.root / n).exists()]
        names += sorted(e.name for e in self.root.iterdir() if e.name not in (STAGING, *order))
        for name in names:
            os.replace(self.root / name, aside / name)
        _fsync_dir(self.root)

    def shared_directory(self) -> Path | None:
        return self.staging

    # -- worker -------------------------------------------------------------------------

    def _schema_staging(self, table: TableInfo) -> Path:
        """The staging folder of the tables of ``table``'s schema: a table's files are
        ``<table>.<partition>-<attempt>-<random>-<n>.parquet`` in it (encoded names hold no
        dot). One folder per schema, not per table: a folder made by a worker and removed
        at the job's end for each of 200 small tables cost a file-system operation each way
        (and the coordinator resolved each folder once more) for nothing."""
        return self.staging / "tables" / encode_name(table.schema)

    @staticmethod
    def _file_prefix(table: TableInfo) -> str:
        """The start of the names of ``table``'s staged files."""
        return encode_name(table.name) + "."

    def open_partition(self, partition: Partition, *, attempt: int = 1, quarantine: bool = False) -> PartitionWriter:
        kind = "q" if quarantine else "p"
        prefix = self._file_prefix(partition.table)
        stem = f"{prefix}{kind}{partition.index:05d}-a{attempt}-{uuid.uuid4().hex[:8]}"
        return ParquetPartitionWriter(
            root=self.root,
            staging_dir=self._schema_staging(partition.table),
            stem=stem,
            schema=file_schema(partition.table, self.job_id),
            options=self.parquet_options,
            quarantine_column=FAILED_CHECKS_COLUMN if quarantine else None,
        )

    # -- coordinator: tables ------------------------------------------------------------

    def _staged_path(self, path: str) -> Path:
        """``path`` (a worker's file) as a path inside this job's staging folder; ValueError
        when it is anything else (outside it, through a link, or a link itself). Each
        folder is resolved once (an ``lstat`` per component): the files of a table share one."""
        p = Path(path)
        full = p if p.is_absolute() else self.root / p
        folder = self._real_dirs.get(full.parent)
        if folder is None:
            if self._staging_real is None:
                self._staging_real = self.staging.resolve()
            folder = full.parent.resolve()
            if not folder.is_relative_to(self._staging_real):
                raise ValueError(f"{path} is not a staging file of job {self.job_id}")
            self._real_dirs[full.parent] = folder
        if full.name in ("", ".", "..") or full.is_symlink():
            raise ValueError(f"{path} is not a staging file of job {self.job_id}")
        return folder / full.name

    def sync_staged(self, results: Sequence[PartitionResult]) -> None:
        """Flush the staged files of ``results`` to disk before their tables are published:
        one ``syncfs`` of the export's file system when there are several and this host's
        workers wrote them all (``syncfs`` flushes only this host's cache), else an
        ``fsync`` per file. The workers leave this to the coordinator, which runs beside
        them and flushes every table settled at the same moment at once."""
        paths: list[Path] = []
        local = True
        host = socket.gethostname()
        for r in results:
            local = local and (r.worker or "").rpartition(":")[0] == host
            for f in (*r.files, *r.quarantine_files):
                try:
                    path = self._staged_path(f.path)
                except ValueError:
                    continue  # publish_table refuses it
                if path not in self._synced_files:
                    paths.append(path)
        if not paths:
            return
        if not (local and len(paths) >= SYNCFS_FILES and _syncfs(self.root)):
            for path in paths:
                _fsync_file(path)
        self._synced_files.update(paths)

    def staged_files(self, table: TableInfo, results: Sequence[PartitionResult]) -> list[str]:
        return [str(self._staged_path(f.path)) for r in sorted(results, key=lambda r: r.index) for f in r.files]

    def _publish_group(self, files: list[FileResult], final_rel: str, make_empty: pa.Schema | None) -> list[FileResult]:
        """Move ``files`` into a new folder and rename it to ``DIR/final_rel`` in one step."""
        if not files and make_empty is None:  # nothing to publish (no quarantined rows)
            final = self.root / final_rel
            if final.exists() or final.is_symlink():
                self._remove_published(final)  # an earlier attempt's, replaced by nothing
            return []
        build = self.staging / "build" / uuid.uuid4().hex
        build.mkdir(parents=True)
        published: list[FileResult] = []
        for i, f in enumerate(files):
            name = f"part-{i:05d}.parquet"
            staged = self._staged_path(f.path)
            if staged in self._synced_files:
                self._synced_files.discard(staged)
            else:  # durable before it is published (the workers do not flush their files)
                _fsync_file(staged)
            os.replace(staged, build / name)
            published.append(FileResult(path=f"{final_rel}/{name}", rows=f.rows, bytes=f.bytes, sha256=f.sha256))
        if not files and make_empty is not None:
            empty = write_empty_file(build / "part-00000.parquet", make_empty, self.parquet_options)
            published.append(
                FileResult(path=f"{final_rel}/part-00000.parquet", rows=0, bytes=empty.bytes, sha256=empty.sha256)
            )
        final = self.root / final_rel
        # the folders are made durable together before the manifest is written (finalize):
        # one file-system flush instead of three fsyncs per table
        self._unsynced.update((final, final.parent))
        if published and final.is_dir() and not final.is_symlink() and _exchange(build, final):
            # a retry: readers see the old table or the new one, never neither
            shutil.rmtree(build, ignore_errors=True)
            self._published.append(final)
            return published
        self._remove_published(final)
        if published:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(build, final)
            self._published.append(final)
        else:
            build.rmdir()
            for parent in (final.parent, final.parent.parent):  # no empty _quarantine folders
                if parent != self.root:
                    with contextlib.suppress(OSError):
                        parent.rmdir()
        return published

    def _remove_published(self, final: Path) -> None:
        """Take an earlier attempt's folder away (renamed out first: never a mix)."""
        if final.exists() or final.is_symlink():
            trash = self.staging / "trash" / uuid.uuid4().hex
            trash.parent.mkdir(parents=True, exist_ok=True)
            os.replace(final, trash)
            shutil.rmtree(trash, ignore_errors=True)

    def publish_table(
        self, table: TableInfo, results: Sequence[PartitionResult]
    ) -> tuple[list[FileResult], list[FileResult]]:
        ordered = sorted(results, key=lambda r: r.index)
        data = [f for r in ordered for f in r.files]
        quarantined = [f for r in ordered for f in r.quarantine_files]
        rel = table_dir(table.schema, table.name)
        # the schema only for the empty file of a table without rows (~0.5 ms a table)
        published = self._publish_group(data, rel, None if data else file_schema(table, self.job_id))
        published_q = self._publish_group(quarantined, f"{QUARANTINE}/{rel}", None)
        return published, published_q

    def discard_table(self, table: TableInfo) -> None:
        folder = self._schema_staging(table)
        prefix = self._file_prefix(table)
        try:
            names = [name for name in os.listdir(folder) if name.startswith(prefix)]
        except OSError:
            return  # nothing staged
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(folder / name)

    # -- coordinator: end ---------------------------------------------------------------

    def finalize(self, manifest: Manifest, *, sign_key: str | None = None) -> str:
        key = signing.load_private_key(sign_key) if sign_key else None  # fail before writing
        # a few folders: an fsync each, all at once and while the manifest's own file is
        # written and flushed (concurrent flushes share the file system's journal commits),
        # waited for before the manifest is renamed into place; many (hundreds of small
        # tables): one syncfs, which also waits for every other writer's dirty pages
        many = len(self._unsynced) > SYNCFS_FOLDERS
        flushes: list[cf.Future[None]] = []
        if self._unsynced and not (many and _syncfs(self.root)):
            folders = sorted(self._unsynced)
            pool = cf.ThreadPoolExecutor(max_workers=min(8, len(folders)), thread_name_prefix="adu-fsync")
            flushes = [pool.submit(_fsync_dir, folder) for folder in folders]
            pool.shutdown(wait=False)
        self._unsynced.clear()

        def flushed() -> None:
            for fut in flushes:
                fut.result()

        tmp_dir = self.staging if self.staging.is_dir() else self.root
        try:
            path = write_manifest(self.root, manifest, sign_key=key, tmp_dir=tmp_dir, before_publish=flushed)
        finally:
            cf.wait(flushes)
        self._finalized = True
        if self._aside is not None:
            shutil.rmtree(self._aside, ignore_errors=True)
            self._aside = None
        return str(path)

    def read_manifest(self) -> Manifest | None:
        if not (self.root / MANIFEST_NAME).is_file():
            return None
        return load_manifest(self.root)

    # -- far side -----------------------------------------------------------------------

    @classmethod
    def check_file(cls, path: Path, table: ManifestTable, *, quarantine: bool = False) -> FileCheck:
        """The row count and schema in the file's Parquet footer, against the manifest."""
        try:
            meta = pq.read_metadata(path)
            schema = meta.schema.to_arrow_schema()
        except (OSError, pa.ArrowException, ValueError) as exc:
            return FileCheck(problems=(f"is not a readable Parquet file ({str(exc).splitlines()[0][:200]})",))
        extra = FAILED_CHECKS_COLUMN if quarantine else None
        problem = schema_problem(schema, table.columns, extra_last=extra)
        return FileCheck(rows=meta.num_rows, problems=(problem,) if problem else (), rows_from="its footer")

    @classmethod
    def open_files(cls, paths: Sequence[Path]) -> pa.dataset.Dataset:
        """The files as one Parquet dataset (read lazily, row groups skipped by filters)."""
        import pyarrow.dataset as ds

        return ds.dataset([str(p) for p in paths], format="parquet")

    def check_published(self, entries: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], list[str]]:
        return check_entries(self.root, entries, sink=type(self))

    def unpublish_table(self, schema: str, name: str) -> None:
        rel = table_dir(schema, name)
        for final in (self.root / rel, self.root / QUARANTINE / rel):
            self._remove_published(final)
            for parent in (final.parent, final.parent.parent):
                if parent != self.root and parent.is_relative_to(self.root):
                    with contextlib.suppress(OSError):
                        parent.rmdir()  # only when empty

    def abandon(self) -> None:
        """Remove a dead attempt's staging: its partial files, built and trashed folders.
        An export it was overwriting (``previous``) stays until the job is retried or
        another job cleans the folder; a staging folder whose lock a live process holds is
        left alone."""
        staging = self.staging
        if not staging.is_dir() or staging.is_symlink():
            return
        fd = self._try_lock(staging)
        if fd is None:
            return  # still in use
        try:
            for entry in staging.iterdir():
                if entry.name == "previous":
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        entry.unlink()
            with contextlib.suppress(OSError):
                staging.rmdir()  # only when nothing was kept
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            (self.root / STAGING).rmdir()

    def _prune_empty_dirs(self) -> None:
        for entry in self.root.iterdir():
            if entry.name == STAGING or entry.is_symlink() or not entry.is_dir():
                continue
            for dirpath, _dirs, _files in sorted(os.walk(entry), key=lambda w: -len(w[0])):
                with contextlib.suppress(OSError):
                    os.rmdir(dirpath)

    def close(self) -> None:
        """Remove this job's staging folder (only in the process that prepared the job).

        When an overwritten export was moved aside and the job did not finalize, the new
        tables are removed and the old export is put back.
        """
        if not self._prepared:
            return
        if self._aside is not None and not self._finalized:
            for final in self._published:
                self._remove_published(final)
            self._prune_empty_dirs()
            for entry in sorted(self._aside.iterdir(), key=lambda e: e.name == MANIFEST_NAME):
                os.replace(entry, self.root / entry.name)  # manifest last
            _fsync_dir(self.root)
            self._aside = None
        shutil.rmtree(self.staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            (self.root / STAGING).rmdir()  # only when no other job stages here
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._prepared = False


__all__ = ["QUARANTINE", "STAGING", "ParquetSink", "file_schema", "sha256_file"]
