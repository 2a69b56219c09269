import json
import os
import threading

import pyarrow.parquet as pq
import pytest
from adu_core.engine import run_job, submit_and_run
from adu_core.errors import UsageError
from adu_core.models import JobSpec, JobStatus, TableSelection, TableStatus
from adu_core.plugin import hookimpl
from adu_core.verify import verify_export
from adu_duckdb.demo import make_demo_database
from flaky_source import FlakyPlugin

ROWS = {"shop.customers": 2000, "shop.products": 500, "shop.orders": 20000, "telemetry.sensor readings": 50000}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    make_demo_database(path)
    return path


def _rows_in(directory, table_dir):
    base = os.path.join(directory, table_dir)
    return sum(pq.ParquetFile(os.path.join(base, f)).metadata.num_rows for f in os.listdir(base))


class Observer:
    def __init__(self):
        self.seen = []

    @hookimpl
    def adu_job_started(self, job_id, spec):
        self.seen.append("started")

    @hookimpl
    def adu_table_finished(self, job_id, result):
        self.seen.append(f"table:{result.qualified_name}:{result.status.value}")

    @hookimpl
    def adu_job_finished(self, job_id, result):
        self.seen.append(f"finished:{result.status.value}")


def test_export_through_a_process_pool(demo_db, tmp_path, adu_store, adu_settings, register_plugin):
    obs = register_plugin(Observer(), name="observer")
    out = tmp_path / "out"
    spec = JobSpec(source=f"duckdb://{demo_db}", target=str(out), parallel=2)
    # forkserver: this long-lived test process has run polars and DuckDB, whose thread
    # pools would not survive a plain fork
    result = submit_and_run(adu_store, spec, settings=adu_settings, executor="process", mp_start="forkserver")
    assert result.status == JobStatus.SUCCEEDED
    assert {t.qualified_name: t.rows for t in result.tables} == ROWS
    manifest = json.loads((out / "manifest.json").read_text())
    assert {f"{t['schema']}.{t['name']}": t["rows"] for t in manifest["tables"]} == ROWS
    assert verify_export(str(out)).ok
    job = adu_store.get_job(result.job_id)
    assert (job.status, job.rows, job.tables_done, job.tables_total) == (JobStatus.SUCCEEDED, sum(ROWS.values()), 4, 4)
    assert not (out / ".adu-staging").exists() or not any((out / ".adu-staging").iterdir())
    assert obs.seen[0] == "started" and obs.seen[-1] == "finished:succeeded"
    assert sorted(s for s in obs.seen if s.startswith("table:")) == sorted(f"table:{t}:succeeded" for t in ROWS)
    # the job log holds JSON lines of this job
    lines = [json.loads(line) for line in adu_settings.job_log_path(result.job_id).read_text().splitlines()]
    assert any("job started" in e["message"] for e in lines) and all(e["job_id"] == result.job_id for e in lines)
    assert any("2 at a time, in a process pool" in e["message"] for e in lines)


def test_one_failing_table_does_not_stop_the_others(demo_db, tmp_path, adu_store, adu_settings, register_plugin):
    register_plugin(FlakyPlugin(), name="flaky")
    out = tmp_path / "out"
    spec = JobSpec(
        source=f"flaky://{demo_db}",
        target=str(out),
        parallel=2,
        source_options={"fail_table": "shop.orders", "fault": "error"},
    )
    result = submit_and_run(adu_store, spec, settings=adu_settings, executor="thread")
    assert result.status == JobStatus.PARTIAL
    by = {t.qualified_name: t for t in result.tables}
    failed = by["shop.orders"]
    assert failed.status == TableStatus.FAILED
    assert failed.error.sqlstate == "42501" and "SELECT privilege" in failed.error.message
    assert failed.error.context["table"] == "shop.orders" and "Traceback" in failed.error.traceback
    assert not (out / "shop" / "orders").exists()
    # the manifest lists the failed table, so the far side cannot take the export for whole
    partial = verify_export(str(out))
    assert not partial.ok and any("shop.orders" in line for line in partial.lines())
    assert _rows_in(out, "shop/customers") == 2000
    rows = adu_store.list_tables(result.job_id)
    assert {r.qualified_name: r.status.value for r in rows}["shop.orders"] == "failed"
    # retry only the failed table, once the fault is gone: the export becomes complete
    job = adu_store.retry_job(result.job_id)
    assert job.spec.retry_tables == ("shop.orders",)
    # the fault is in the stored spec's options; a retry with a healthy source URL would be
    # a new job, so clear the option in the store for this test
    import attrs

    healthy = attrs.evolve(job.spec, source_options={})
    with adu_store.db.write() as conn:
        conn.execute("UPDATE jobs SET spec = :spec WHERE id = :id", {"spec": healthy.to_json(), "id": job.id})
    adu_store.claim_job("w", job_id=job.id)
    again = run_job(adu_store, job.id, settings=adu_settings, worker_id="w", executor="thread")
    assert again.status == JobStatus.SUCCEEDED
    assert _rows_in(out, "shop/orders") == 20000
    manifest = json.loads((out / "manifest.json").read_text())
    assert {f"{t['schema']}.{t['name']}" for t in manifest["tables"]} == set(ROWS)
    assert verify_export(str(out)).ok


def test_retryable_error_retries_without_duplicates(
    demo_db, tmp_path, adu_store, adu_settings, register_plugin, monkeypatch
):
    monkeypatch.setenv("ADU_BATCH_ROWS", "5000")
    from adu_core import config

    settings = config.load()
    register_plugin(FlakyPlugin(), name="flaky")
    out = tmp_path / "out"
    spec = JobSpec(
        source=f"flaky://{demo_db}",
        target=str(out),
        parallel=2,
        selection=TableSelection(tables=("telemetry.*",)),
        source_options={"fail_table": "telemetry.sensor readings", "fault": "drop_once", "marker_dir": str(tmp_path)},
    )
    result = submit_and_run(adu_store, spec, settings=settings, executor="thread")
    assert result.status == JobStatus.SUCCEEDED
    assert os.path.exists(tmp_path / "dropped-0")  # the fault did happen
    (table,) = result.tables
    assert table.rows == 50000
    parts = adu_store.list_partitions(result.job_id)
    assert parts[0].attempts == 2
    # without duplicates: every reading once (ts is unique in the source), none missing
    entry = next(t for t in json.loads((out / "manifest.json").read_text())["tables"] if t["name"] == "sensor readings")
    files = [out / f["path"] for f in entry["files"]]
    exported = [v for f in files for v in pq.read_table(f, columns=["ts"]).column("ts").to_pylist()]
    assert len(exported) == 50000 and len(set(exported)) == 50000


def test_cancel_stops_the_job_and_publishes_nothing(
    demo_db, tmp_path, adu_store, adu_settings, register_plugin, monkeypatch
):
    monkeypatch.setenv("ADU_BATCH_ROWS", "1000")
    from adu_core import config
    from pgserver import wait_for

    settings = config.load()
    register_plugin(FlakyPlugin(), name="flaky")
    out = tmp_path / "out"
    # every partition stops after its first batch until the cancel: the job is mid-table
    spec = JobSpec(source=f"flaky://{demo_db}", target=str(out), parallel=2, source_options={"fault": "hold"})
    job_id = adu_store.create_job(spec)
    adu_store.claim_job("w1", job_id=job_id)

    flowing = []

    def cancel_once_rows_flow():
        flowing.append(wait_for(lambda: adu_store.get_job(job_id).rows > 0, timeout=60))
        adu_store.request_cancel(job_id)

    t = threading.Thread(target=cancel_once_rows_flow)
    t.start()
    result = run_job(adu_store, job_id, settings=settings, worker_id="w1", executor="thread")
    t.join()
    assert flowing == [True]  # it was cancelled while rows were flowing
    assert result.status == JobStatus.CANCELLED
    assert not (out / "manifest.json").exists()
    assert adu_store.get_job(job_id).status == JobStatus.CANCELLED
    assert any(t.status == TableStatus.CANCELLED for t in result.tables)
    # nothing published: no table was whole when the cancel came (each was held mid-read)
    published = [p for p in out.rglob("*.parquet") if ".adu-staging" not in p.relative_to(out).parts]
    assert published == []
    assert not (out / ".adu-staging").exists()


def test_bad_input_is_a_usage_error_and_recorded(demo_db, tmp_path, adu_store, adu_settings):
    spec = JobSpec(
        source=f"duckdb://{demo_db}", target=str(tmp_path / "o"), selection=TableSelection(tables=("shop.nope",))
    )
    with pytest.raises(UsageError, match=r"shop\.nope"):
        submit_and_run(adu_store, spec, settings=adu_settings)
    (job,) = adu_store.list_jobs()
    assert job.status == JobStatus.FAILED and "shop.nope" in job.error["message"]


def test_every_published_file_is_flushed_before_its_partition_is_recorded(
    demo_db, tmp_path, adu_store, adu_settings, monkeypatch
):
    """The workers do not flush their files: the coordinator hands the sink each partition
    that comes back (``Sink.sync_staged``) before it records it done; whatever the sink
    has not flushed there, ``publish_table`` flushes before publishing."""
    from adu_core.engine import outcome as outcome_mod
    from adu_parquet.sink import ParquetSink

    events: list[tuple[str, str]] = []
    real_sync = ParquetSink.sync_staged
    real_done = outcome_mod.Outcome.partition_done

    def sync_staged(self, results):
        events.extend(("synced", f"{r.table}#{r.index}") for r in results)
        return real_sync(self, results)

    def partition_done(self, run, res):
        events.append(("recorded", f"{res.table}#{res.index}"))
        return real_done(self, run, res)

    monkeypatch.setattr(ParquetSink, "sync_staged", sync_staged)
    monkeypatch.setattr(outcome_mod.Outcome, "partition_done", partition_done)
    out = tmp_path / "out"
    spec = JobSpec(source=f"duckdb://{demo_db}", target=str(out), parallel=2)
    result = submit_and_run(adu_store, spec, settings=adu_settings, executor="thread")
    assert result.status == JobStatus.SUCCEEDED
    recorded = [p for what, p in events if what == "recorded"]
    assert len(recorded) >= len(ROWS)
    for part in recorded:  # flushed first (every partition here wrote a file)
        assert events.index(("synced", part)) < events.index(("recorded", part))
    assert verify_export(str(out)).ok
