"""Dask clusters for the executor tests: one LocalCluster (two worker processes) and one
scheduler with two ``dask worker`` processes started as real subprocesses on loopback,
each started once per test session, and the source tables they export.

The tables and their sizes: :mod:`dask_helpers`.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import pg_tables  # noqa: E402  (the benchmarks' table generator)
from dask_helpers import ROWS, SMALL_ROWS, SMALL_TABLES  # noqa: E402

DASK = Path(sys.executable).parent / "dask"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def mixed_db(pg) -> Iterator[Any]:
    """A database with ``public.mixed`` (``ROWS`` rows) and schema ``small`` (200 tables)."""
    db = pg.create_database("dask")
    step = 500_000
    for lo in range(1, ROWS + 1, step):
        db.execute(pg_tables.MIXED_SQL.format(name="public.mixed", lo=lo, hi=min(ROWS, lo + step - 1)))
    db.execute("CREATE SCHEMA small")
    body = ";".join(
        pg_tables.MIXED_SQL.format(name=f"small.t{i:03d}", lo=1, hi=SMALL_ROWS).strip().rstrip(";")
        for i in range(SMALL_TABLES)
    )
    db.execute(body)
    db.execute("ANALYZE")
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[dict[str, str]]:
    """The session's LocalCluster (2 single-threaded worker processes): the environment
    that selects it. The executor keeps it for the process, as ``adu worker`` does."""
    from adu_dask import cluster
    from adu_dask.settings import DaskSettings

    env = {"ADU_EXECUTOR": "dask", "ADU_DASK_WORKERS": "2", "ADU_DASK_THREADS": "1"}
    client = cluster.client_for(DaskSettings.from_env(env), 2)
    client.wait_for_workers(2, timeout=120)
    try:
        yield env
    finally:
        cluster.close_all()


class ExternalCluster:
    """A ``dask scheduler`` and its ``dask worker`` processes on loopback."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen([str(DASK), *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        self._spawn(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-dashboard",
            "--dashboard-address",
            "127.0.0.1:0",
        )
        for i in (1, 2):
            self.add_worker(f"w{i}")
        self.wait(2)

    def add_worker(self, name: str) -> subprocess.Popen[bytes]:
        proc = self._spawn(
            name,
            "worker",
            self.address,
            "--name",
            name,
            "--nthreads",
            "2",  # two threads, but one unit of adu-connections: one partition (and connection) at a time
            "--no-nanny",  # a killed worker stays dead (a nanny would restart it)
            "--host",
            "127.0.0.1",
            "--no-dashboard",
            "--resources",
            "adu-connections=1",
        )
        self.workers[name] = proc
        return proc

    def client(self) -> Any:
        from distributed import Client

        return Client(self.address, timeout=60, set_as_default=False)

    def wait(self, n: int, timeout: float = 120) -> None:
        with self.client() as c:
            c.wait_for_workers(n, timeout=timeout)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        from adu_dask import cluster

        cluster.close_all()  # this process's clients first, while the scheduler answers
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def external_cluster(tmp_path_factory) -> Iterator[ExternalCluster]:
    """The session's scheduler + two ``dask worker`` subprocesses (two threads each, one
    unit of ``adu-connections`` each)."""
    assert DASK.exists(), f"{DASK} missing: run python3 scripts/bootstrap.py"
    cl = ExternalCluster(tmp_path_factory.mktemp("dask-cluster"))
    try:
        cl.start()
        yield cl
    finally:
        cl.stop()


@pytest.fixture
def on_scheduler(external_cluster: ExternalCluster, monkeypatch: pytest.MonkeyPatch) -> ExternalCluster:
    """Jobs of this test run on the session's scheduler; each partition holds one unit of
    ``adu-connections`` (one per worker: two source connections at most)."""
    monkeypatch.setenv("ADU_EXECUTOR", "dask")
    monkeypatch.setenv("ADU_DASK_SCHEDULER", external_cluster.address)
    monkeypatch.setenv("ADU_DASK_RESOURCE", "adu-connections")
    for key in ("ADU_DASK_WORKERS", "ADU_DASK_THREADS", "ADU_DASK_CONNECTIONS"):
        monkeypatch.delenv(key, raising=False)
    return external_cluster
