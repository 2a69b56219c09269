"""A SIGKILL in the middle of a large write leaves nothing a reader could take for data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from adu_core.verify import verify_export
from adu_export_kit import export_tables, int_table, make_batches
from adu_parquet.sink import STAGING, ParquetSink
from pgserver import wait_for

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[2])
from adu_export_kit import int_table, make_batches
from adu_core.models import Partition, PartitionResult
from adu_parquet.sink import ParquetSink

target = sys.argv[1]
t = int_table("public", "big")
sink = ParquetSink(target, {"row_group_size": 5000}, job_id="killed-job")
sink.prepare(overwrite=True)
# one table completes and is published ...
w = sink.open_partition(Partition(int_table("public", "small"), 0, 1))
for b in make_batches(int_table("public", "small"), 100):
    w.write(b)
sink.publish_table(int_table("public", "small"), [PartitionResult("public.small", 0, files=w.close())])
# ... the big one streams until the process is killed
w = ParquetSink(target, {"row_group_size": 5000}, job_id="killed-job").open_partition(Partition(t, 0, 1))
start = 0
print("writing", flush=True)
while True:
    for b in make_batches(t, 20000, batch_rows=5000, start=start):
        w.write(b)
    start += 20000
"""


def _visible_parquet(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*.parquet") if STAGING not in p.relative_to(root).parts
    )


def _kill_mid_write(target: Path) -> None:
    kit = str(Path(__file__).parent)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(target), kit], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"writing"
        staging = target / STAGING

        def large() -> bool:  # the big staging file has grown past 3 MB
            sizes = [p.stat().st_size for p in staging.rglob("*.parquet") if "big" in str(p)]
            return bool(sizes) and max(sizes) > 3_000_000

        assert wait_for(large, timeout=120), "the child never wrote a large file"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def test_kill_leaves_no_visible_partial_file(tmp_path) -> None:
    target = tmp_path / "out"
    _kill_mid_write(target)
    # the complete table is visible and whole, the interrupted one is not there at all
    assert _visible_parquet(target) == ["public/small/part-00000.parquet"]
    assert pq.read_metadata(target / "public/small/part-00000.parquet").num_rows == 100
    assert not (target / "manifest.json").exists()
    assert verify_export(target).exit_code == 2  # no manifest: not (yet) an export
    # the partial file exists only in the killed job's staging folder
    partial = [p for p in (target / STAGING).rglob("*.parquet") if "big" in str(p)]
    assert partial and partial[0].stat().st_size > 3_000_000

    # the next job cleans up the dead job's staging and produces a clean export
    t = int_table("public", "big")
    export_tables(target, [(t, [make_batches(t, 1000)])], overwrite=True, job_id="next-job")
    assert not (target / STAGING).exists()
    assert _visible_parquet(target) == ["public/big/part-00000.parquet"]
    assert verify_export(target).exit_code == 0


def test_a_live_job_in_the_same_directory_is_refused(tmp_path) -> None:
    import pytest
    from adu_core.errors import UsageError

    target = tmp_path / "out"
    first = ParquetSink(str(target), None, job_id="first")
    first.prepare(overwrite=False)
    with pytest.raises(UsageError, match="another ADU job"):
        ParquetSink(str(target), None, job_id="second").prepare(overwrite=False)
    assert (target / STAGING / "first").is_dir()  # the live job's staging is untouched
    first.close()
    assert not (target / STAGING).exists()
