"""How a job runs its partitions: threads for sources that read outside the GIL, a
process pool otherwise (``ADU_EXECUTOR`` / ``run_job(executor=...)``)."""

import json
import logging
import threading

import pytest
from adu_core import config as config_mod
from adu_core.engine import choose_executor, submit_and_run
from adu_core.errors import UsageError
from adu_core.models import JobSpec, JobStatus
from adu_core.plugin import hookimpl
from adu_duckdb.demo import make_demo_database
from adu_duckdb.source import DuckDBSource


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    make_demo_database(path)
    return path


class PythonHeavySource(DuckDBSource):
    """A source whose reads hold the GIL (the default of :class:`Source`)."""

    name = "pyheavy"
    schemes = ("pyheavy",)

    @property
    def reads_release_gil(self) -> bool:
        return False


class CountingSource(DuckDBSource):
    """Records which source objects read, in which threads, and which were closed."""

    name = "counting"
    schemes = ("counting",)
    readers: dict[int, set[str]] = {}
    closed: set[int] = set()
    lock = threading.Lock()

    def read(self, partition, *, snapshot, batch_rows, cancel):
        with self.lock:
            self.readers.setdefault(id(self), set()).add(threading.current_thread().name)
        logging.getLogger("adu.test.counting").info("counting source reads %s", partition.table.qualified_name)
        yield from super().read(partition, snapshot=snapshot, batch_rows=batch_rows, cancel=cancel)

    def close(self):
        with self.lock:
            self.closed.add(id(self))
        super().close()


class CountingPlugin:
    @hookimpl
    def adu_register_sources(self, register):
        register(CountingSource)


def test_auto_picks_threads_only_for_sources_that_release_the_gil(demo_db):
    fast = DuckDBSource(f"duckdb://{demo_db}")
    slow = PythonHeavySource(f"pyheavy://{demo_db}")
    assert choose_executor("auto", fast, 2, 4) == "thread"
    assert choose_executor("auto", slow, 2, 4) == "process"
    assert choose_executor("process", fast, 2, 4) == "process"
    assert choose_executor("thread", slow, 2, 4) == "thread"
    assert choose_executor("process", slow, 1, 1) == "thread"  # one partition: no pool to start
    with pytest.raises(UsageError, match="executor must be one of"):
        choose_executor("fork", fast, 2, 4)


def test_adu_executor_setting(tmp_path):
    env = {"ADU_DATA_DIR": str(tmp_path)}
    assert config_mod.load(env).executor == "auto"
    assert config_mod.load({**env, "ADU_EXECUTOR": " Process "}).executor == "process"
    with pytest.raises(UsageError, match="ADU_EXECUTOR must be auto, thread or process"):
        config_mod.load({**env, "ADU_EXECUTOR": "fork"})


def test_threaded_job_keeps_one_source_per_thread_and_logs_to_the_job(
    demo_db, tmp_path, adu_store, adu_settings, register_plugin
):
    register_plugin(CountingPlugin(), name="counting")
    CountingSource.readers.clear()
    CountingSource.closed.clear()
    spec = JobSpec(source=f"counting://{demo_db}", target=str(tmp_path / "out"), parallel=2, validate=False)
    result = submit_and_run(adu_store, spec, settings=adu_settings)  # executor: ADU_EXECUTOR, default auto
    assert result.status == JobStatus.SUCCEEDED
    assert len(result.tables) == 4
    # four tables, two threads: each thread opened one source and read all its partitions with it
    assert 1 <= len(CountingSource.readers) <= 2
    assert all(len(threads) == 1 for threads in CountingSource.readers.values())
    assert set(CountingSource.readers) <= CountingSource.closed  # every connection released
    entries = [json.loads(line) for line in adu_settings.job_log_path(result.job_id).read_text().splitlines()]
    assert any("2 at a time, in threads" in e["message"] for e in entries)
    # a plugin's records from the partition threads belong to the job
    reads = [e for e in entries if e["message"].startswith("counting source reads")]
    assert len(reads) == 4 and all(e["job_id"] == result.job_id for e in reads)
