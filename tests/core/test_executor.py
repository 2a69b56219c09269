"""How a job runs its partitions: threads for sources that read outside the GIL, a
process pool otherwise (``ADU_EXECUTOR`` / ``run_job(executor=...)``)."""

import concurrent.futures as cf
import json
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from adu_core import config as config_mod
from adu_core.engine import PartitionRuntime, choose_executor, run_partition, submit_and_run
from adu_core.errors import UsageError
from adu_core.models import JobSpec, JobStatus
from adu_core.plugin import hookimpl
from adu_core.plugin.components import Executor
from adu_core.plugin.manager import Plugins
from adu_core.plugin.options import Option
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
    # any name: an executor plugin's is checked against the registered ones when a job runs
    assert config_mod.load({**env, "ADU_EXECUTOR": "dask"}).executor == "dask"
    with pytest.raises(UsageError, match="ADU_EXECUTOR must be auto or an executor's name"):
        config_mod.load({**env, "ADU_EXECUTOR": "my executor"})


def test_an_unknown_executor_fails_the_job_before_any_work(demo_db, tmp_path, adu_store, adu_settings):
    out = tmp_path / "out"
    spec = JobSpec(source=f"duckdb://{demo_db}", target=str(out))
    with pytest.raises(UsageError) as err:
        submit_and_run(adu_store, spec, settings=adu_settings, executor="fork")
    assert str(err.value) == "executor must be one of auto, dask, process, thread, not 'fork' (ADU_EXECUTOR)"
    (job,) = adu_store.list_jobs()
    assert job.status == JobStatus.FAILED and job.error["message"] == str(err.value)
    assert not out.exists()


def test_an_unknown_adu_executor_is_one_line_and_exit_2(demo_db, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADU_")}
    env.update(ADU_DATA_DIR=str(tmp_path / "data"), ADU_EXECUTOR="fork")
    res = subprocess.run(
        [sys.executable, "-m", "adu_cli.main", "export", demo_db, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 2
    (line,) = res.stderr.strip().splitlines()
    assert line.endswith("error: executor must be one of auto, dask, process, thread, not 'fork' (ADU_EXECUTOR)")


class MarkedSource(DuckDBSource):
    """Registered only on the :class:`Plugins` a test passes to ``run_job``: every read
    leaves a file naming the process that read."""

    name = "marked"
    schemes = ("marked",)
    option_schema = (Option("marks", help="folder where each read leaves a file"),)

    def read(self, partition, *, snapshot, batch_rows, cancel):
        mark = Path(self.options["marks"]) / f"{os.getpid()}-{partition.table.name}-{partition.index}"
        mark.touch()
        yield from super().read(partition, snapshot=snapshot, batch_rows=batch_rows, cancel=cancel)


class MarkedPlugin:
    @hookimpl
    def adu_register_sources(self, register):
        register(MarkedSource)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_workers_use_the_plugins_passed_to_run_job(executor, demo_db, tmp_path, adu_store, adu_settings, adu_plugins):
    mine = Plugins()
    mine.register(MarkedPlugin(), name="marked")
    assert "marked" not in adu_plugins.registry.sources  # the process-wide plugins cannot read marked://
    marks = tmp_path / "marks"
    marks.mkdir()
    spec = JobSpec(
        source=f"marked://{demo_db}",
        target=str(tmp_path / "out"),
        parallel=2,
        validate=False,
        source_options={"marks": str(marks)},
    )
    result = submit_and_run(
        adu_store, spec, settings=adu_settings, plugins=mine, executor=executor, mp_start="forkserver"
    )
    assert result.status == JobStatus.SUCCEEDED, result.error
    parts = adu_store.list_partitions(result.job_id)
    readers = {int(m.name.split("-")[0]) for m in marks.iterdir()}
    assert len(list(marks.iterdir())) == len(parts) >= 4  # the marked source read every partition
    # each partition's record names where it ran: this process's threads, or the pool's processes
    host = socket.gethostname()
    assert {p.worker for p in parts} == {f"{host}:{pid}" for pid in readers}
    if executor == "thread":
        assert readers == {os.getpid()}
    else:
        assert os.getpid() not in readers


def test_a_plugin_set_rebuilds_the_same_plugins(adu_store):
    mine = Plugins(blocked={"pandera"})
    mine.register(MarkedPlugin(), name="marked")
    portable = mine.portable()
    rebuilt = pickle.loads(pickle.dumps(portable)).build()
    assert [r.name for r in rebuilt.describe()] == [r.name for r in mine.describe()]
    assert "pandera" not in rebuilt.registry.validators and rebuilt.pm.is_blocked("pandera")
    assert rebuilt.source_class("marked:///x").name == "marked"
    assert rebuilt.executor_names() == mine.executor_names() and {"process", "thread"} <= set(mine.executor_names())


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


class InlineExecutor(Executor):
    """A third-party executor: runs each partition as it is submitted, in the job's thread."""

    name = "inline"

    def __init__(self, context):
        super().__init__(context)
        self.stop = threading.Event()
        self.messages = []
        self.shut = False

    def where(self):
        return "inline, one by one"

    def submit(self, task):
        runtime = PartitionRuntime(
            plugins=self.context.plugins, cancel=self.stop, report=self.messages.append, worker="inline-1"
        )
        future = cf.Future()
        future.set_result(run_partition(task, runtime))
        return future

    def cancel(self):
        self.stop.set()

    def progress(self):
        out, self.messages = self.messages, []
        return out

    def shutdown(self):
        InlinePlugin.shut_down.append(self.context.job_id)


class InlinePlugin:
    shut_down: list = []

    @hookimpl
    def adu_register_executors(self, register):
        register(InlineExecutor)


def test_an_executor_plugin_runs_a_job_by_name(
    demo_db, tmp_path, adu_store, adu_settings, register_plugin, adu_plugins
):
    register_plugin(InlinePlugin(), name="inline-executor")
    plugins = adu_plugins
    assert "executor:inline" in {p for r in plugins.describe() for p in r.provides}
    fast = DuckDBSource(f"duckdb://{demo_db}")
    assert choose_executor("inline", fast, 1, 1, plugins=plugins) == "inline"  # used as named, even for one
    spec = JobSpec(source=f"duckdb://{demo_db}", target=str(tmp_path / "out"), parallel=2)
    result = submit_and_run(adu_store, spec, settings=adu_settings, plugins=plugins, executor="inline")
    assert result.status == JobStatus.SUCCEEDED
    assert {p.worker for p in adu_store.list_partitions(result.job_id)} == {"inline-1"}
    assert InlinePlugin.shut_down == [result.job_id]
    assert adu_store.get_job(result.job_id).rows == 72500
    entries = [json.loads(line) for line in adu_settings.job_log_path(result.job_id).read_text().splitlines()]
    assert any("2 at a time, inline, one by one" in e["message"] for e in entries)
