"""Durability: every staged file is flushed to disk before it is published.

The workers do not flush their files (an ``fsync`` per file was a third of a small
table's export); the coordinator does, either a batch at once (``sync_staged``: one
``syncfs`` when this host wrote them) or file by file in ``publish_table``. These tests
watch the real ``os.fsync`` and ``syncfs`` calls (the calls still happen; they are only
recorded) to check that no file is published unflushed.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from adu_core.models import Partition, PartitionResult
from adu_export_kit import export_tables, int_table, make_batches
from adu_parquet import sink as sink_mod
from adu_parquet.sink import ParquetSink


@pytest.fixture
def flushes(monkeypatch):
    """Record the paths ``os.fsync`` flushes (regular files only) and each ``syncfs``."""
    seen: dict[str, list] = {"fsync": [], "syncfs": []}
    real_fsync, real_syncfs = os.fsync, sink_mod._syncfs

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.isfile(path):
            seen["fsync"].append(Path(path).name)
        real_fsync(fd)

    def syncfs(path: Path) -> bool:
        ok = real_syncfs(path)
        seen["syncfs"].append(ok)
        return ok

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(sink_mod, "_syncfs", syncfs)
    return seen


def _staged(target: Path, n: int, *, worker: str) -> tuple[ParquetSink, list[PartitionResult]]:
    """A prepared sink and ``n`` finished partitions of one table, written by a worker's
    own sink instance (as in a worker thread or process)."""
    t = int_table()
    sink = ParquetSink(str(target), None, job_id="j")
    sink.prepare(overwrite=False)
    results = []
    for i in range(n):
        w = ParquetSink(str(target), None, job_id="j").open_partition(Partition(t, i, n))
        for b in make_batches(t, 100, start=i * 100):
            w.write(b)
        files = w.close()
        results.append(PartitionResult(table=t.qualified_name, index=i, rows=100, files=files, worker=worker))
    return sink, results


def test_workers_leave_the_flush_and_publishing_flushes_every_file(tmp_path, flushes) -> None:
    sink, results = _staged(tmp_path / "out", 2, worker=f"{socket.gethostname()}:1")
    assert flushes["fsync"] == []  # the partition writers flushed nothing
    staged = sorted(Path(f.path).name for r in results for f in r.files)
    files, _ = sink.publish_table(int_table(), results)
    assert sorted(flushes["fsync"]) == staged  # each flushed before its rename
    assert [f.path for f in files] == ["public/items/part-00000.parquet", "public/items/part-00001.parquet"]
    sink.close()


def test_many_local_files_are_flushed_by_one_syncfs(tmp_path, flushes) -> None:
    n = sink_mod.SYNCFS_FILES
    sink, results = _staged(tmp_path / "out", n, worker=f"{socket.gethostname()}:1")
    sink.sync_staged(results)
    assert flushes["syncfs"] == [True]
    assert flushes["fsync"] == []
    sink.publish_table(int_table(), results)
    assert flushes["fsync"] == []  # already durable: not flushed again
    assert len(list((tmp_path / "out/public/items").iterdir())) == n
    sink.close()


def test_files_of_another_host_are_flushed_one_by_one(tmp_path, flushes) -> None:
    n = sink_mod.SYNCFS_FILES
    sink, results = _staged(tmp_path / "out", n, worker="elsewhere.example:1")
    sink.sync_staged(results)  # syncfs would flush only this host's cache
    assert flushes["syncfs"] == []
    assert len(flushes["fsync"]) == n
    sink.publish_table(int_table(), results)
    assert len(flushes["fsync"]) == n  # not twice
    sink.close()


def test_a_few_files_are_flushed_one_by_one(tmp_path, flushes) -> None:
    sink, results = _staged(tmp_path / "out", 1, worker=f"{socket.gethostname()}:1")
    sink.sync_staged(results)
    assert flushes["syncfs"] == []
    assert len(flushes["fsync"]) == 1
    sink.close()


def test_the_manifest_appears_only_after_every_published_folder_is_flushed(tmp_path, monkeypatch) -> None:
    """finalize flushes the tables' folders all at once, while the manifest's own file is
    written; the manifest is renamed into place only once every one of them is durable."""
    events: list[tuple[str, str]] = []
    lock = threading.Lock()
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.isdir(path):
            time.sleep(0.2)  # slow folders: the manifest must still wait for them
        real_fsync(fd)
        if os.path.isdir(path):
            with lock:
                events.append(("flushed", path))

    def replace(src, dst) -> None:
        if Path(dst).name == "manifest.json":
            with lock:
                events.append(("manifest", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "out"
    other = int_table(name="notes")
    export_tables(out, [(int_table(), [make_batches(int_table(), 50)]), (other, [make_batches(other, 5)])])
    names = [e[0] for e in events]
    at = names.index("manifest")
    flushed_before = {p for kind, p in events[:at] if kind == "flushed"}
    for folder in ("public/items", "public", "public/notes"):
        assert str(out / folder) in flushed_before, (folder, events)
    assert (out / "manifest.json").is_file()
