"""What every `adu` process does before it imports anything heavy."""

import os
import subprocess
import sys

import pytest

PROBE = """
import os, sys
import {module}
import numpy
names = sorted(open(f"/proc/self/task/{{t}}/comm").read().strip() for t in os.listdir("/proc/self/task"))
print(os.environ.get("OPENBLAS_NUM_THREADS"), names.count("python"))  # OpenBLAS threads are "python" too
"""


@pytest.mark.parametrize("module", ["adu_cli", "adu_web"])
def test_no_blas_threads_are_started(module):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    # OpenBLAS would start a thread per core (busy-waiting ~0.1 s of CPU on every start)
    assert out == ["1", "1"]  # the main thread alone


def test_a_users_blas_setting_wins():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module="adu_cli")], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["2", "2"]  # the main thread and the one extra thread asked for


ENTRY_PROBE = """
import gc, sys
sys.argv = ["adu", "export", "--help"]
collections = [0]
gc.callbacks.append(lambda phase, info: collections.__setitem__(0, collections[0] + (phase == "start")))
import adu_cli.main
seen = {}
def run():  # stands in for the CLI: what the command finds when it starts
    seen.update(collections=collections[0], enabled=gc.isenabled(), frozen=gc.get_freeze_count())
    print(seen["collections"], seen["enabled"], seen["frozen"] > 0, "adu_cli.commands.export" in sys.modules)
adu_cli.main.main = run
collections[0] = 0
from adu_cli import entry
entry.main()
"""


def test_the_console_script_imports_its_command_without_collecting_then_freezes():
    out = subprocess.run([sys.executable, "-c", ENTRY_PROBE], capture_output=True, text=True, check=True).stdout
    # no collection pass while the engine, store and plugins were imported; the command
    # runs with the collector on and the imported objects frozen
    assert out.split() == ["0", "True", "True", "True"]


#: a command standing in for the CLI's (``{body}``), run by the console script's entry
EXIT_PROBE = """
import atexit, os, sys, threading, time
sys.argv = ["adu", "plugins"]
import adu_cli.main
def run():
{body}
adu_cli.main.main = run
from adu_cli import entry
entry.main()
sys.stdout.write("after the entry: never\\n")
"""


def _exit_probe(body, tmp_path):
    code = EXIT_PROBE.format(body="\n".join("    " + line for line in body.strip().splitlines()))
    env = dict(os.environ, ADU_DATA_DIR=str(tmp_path), MARK=str(tmp_path / "mark"))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_the_console_script_leaves_with_the_commands_status_its_output_flushed(tmp_path):
    # buffered output (a pipe), an exit function and the command's own status all survive
    # the quick exit
    proc = _exit_probe(
        """
atexit.register(lambda: open(os.environ["MARK"], "w").write("exit functions ran"))
for i in range(20000):
    print(f"line {i}")
sys.exit(3)
""",
        tmp_path,
    )
    assert proc.returncode == 3
    lines = proc.stdout.splitlines()
    assert len(lines) == 20000 and lines[-1] == "line 19999"
    assert (tmp_path / "mark").read_text() == "exit functions ran"

    proc = _exit_probe('sys.exit("adu: error: a message")', tmp_path)
    assert (proc.returncode, proc.stderr.strip(), proc.stdout) == (1, "adu: error: a message", "")

    proc = _exit_probe('print("done")', tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "done\n")


def test_the_console_script_waits_for_a_thread_that_still_runs(tmp_path):
    # a non-daemon thread the command left running finishes its work before the process ends
    proc = _exit_probe(
        """
def late():
    time.sleep(0.5)
    open(os.environ["MARK"], "w").write("the thread finished")
threading.Thread(target=late).start()
""",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "mark").read_text() == "the thread finished"


def test_the_console_script_runs_a_command(tmp_path):
    env = dict(os.environ, ADU_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "adu_cli.entry", "plugins"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "postgresql" in out and "parquet" in out


#: what `adu --help` must not import: the store (SQLAlchemy, Alembic), the data path
#: (pyarrow, numpy, polars, pandas, pandera), the peers' drivers and the web app
HEAVY = ("sqlalchemy", "alembic", "pyarrow", "numpy", "pandas", "pandera", "polars", "duckdb", "psycopg", "flask")


def _imported(*args, env, code=0):
    """The top-level packages ``adu ARGS`` imported, from ``python -X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "adu_cli.entry", *args], env=env, capture_output=True, text=True
    )
    assert proc.returncode == code, proc.stderr[-2000:]
    names, other = set(), [proc.stdout]
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
        else:
            other.append(line)  # `adu` alone prints its help on stderr
    assert "adu_cli" in names  # the probe saw the imports
    return "\n".join(other), names


@pytest.mark.parametrize(("args", "code"), [(["--help"], 0), ([], 2)])
def test_the_command_list_imports_nothing_heavy(tmp_path, args, code):
    env = dict(os.environ, ADU_DATA_DIR=str(tmp_path))
    out, names = _imported(*args, env=env, code=code)
    assert "export" in out and "serve" in out and "demo" in out  # plugins' commands listed too
    heavy = sorted(n for n in names if n.startswith(HEAVY))
    assert heavy == []
    assert not any(tmp_path.iterdir())  # nor is the store created


def test_the_command_list_summaries_are_the_commands_own():
    import importlib

    from adu_cli.main import COMMANDS, SUMMARIES

    assert set(SUMMARIES) == set(COMMANDS)
    for name, (module, attribute) in COMMANDS.items():
        command = getattr(importlib.import_module(module), attribute)
        assert SUMMARIES[name] == command.get_short_help_str(limit=10_000), name


#: what exporting a 1-row table must not import (issue 19's fixed cost of a job): pandas
#: (pyarrow's ``to_numpy`` imports it to ask whether it is there), pandera and polars (the
#: inferred rules are checked with Arrow alone; pandera only for a user's own schema),
#: the load sinks of every plugin (the registry is collected one kind at a time), DuckDB,
#: the web app, SQLAlchemy and Alembic (the store runs on sqlite3 or psycopg2; a new
#: store is created from plain DDL, an up-to-date one is not migrated), and numpy (~60 ms:
#: pyarrow is imported without it, adu_core.late_numpy, and a small table's key and
#: length checks read Arrow buffers with memoryview)
EXPORT_HEAVY = (
    "numpy",
    "pandas",
    "pandera",
    "polars",
    "duckdb",
    "flask",
    "sqlalchemy",
    "alembic",
    "pyspark",
    "dask",
    "vertica_python",
)
#: what reading the store (``adu jobs list``, ``adu jobs show``) must not import: the
#: store's migration tools, and the data path (pyarrow with numpy, ~0.1 s)
STORE_HEAVY = ("sqlalchemy", "alembic", "pyarrow", "numpy")
LOAD_SINKS = ("adu_duckdb.loadsink", "adu_postgres.loadsink", "adu_vertica.loadsink")
#: modules of the packages a job uses that a 1-row export does not need: Arrow's compute
#: functions (~0.05 s; the writer's dictionary choice and the length checks do without);
#: importlib.metadata (~25 ms with email, zipfile and csv: the plugins' entry points and
#: versions are read from the dist-info folders themselves); PyYAML (~10 ms: only when a
#: connections or rules file is read); the process pool's multiprocessing, tempfile (a
#: libpq service file made once), html (notebooks), and the manifest read back as a model
#: after a full export (the chain summary says nothing about one)
EXPORT_HEAVY_MODULES = (
    "pyarrow.compute",
    "pyarrow.parquet",  # its file systems (S3, GCS, ssl: ~9 ms): the writer is pyarrow._parquet's
    "pyarrow.fs",
    "importlib.metadata",
    "email",
    "zipfile",
    "yaml",
    "multiprocessing",
    "tempfile",
    "html",
    "adu_core.services.exports",
)


def _imported_modules(*args, env):
    """Every module ``adu ARGS`` imported (dotted names), from ``python -X importtime``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "adu_cli.entry", *args], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_a_one_row_export_imports_nothing_it_does_not_use(pg, tmp_path):
    db = pg.create_database("startup")
    # an integer primary key: the inferred uniqueness check runs (it imported pandas)
    db.execute(
        "CREATE TABLE public.one (id bigint PRIMARY KEY, day date, v numeric(12,2), s varchar(20));"
        "INSERT INTO public.one VALUES (1, '2026-01-01', 1.5, 'short')"
    )
    env = dict(os.environ, ADU_DATA_DIR=str(tmp_path / "data"))
    for run in (1, 2):  # the second run opens an existing store
        out = tmp_path / f"out{run}"
        modules = _imported_modules("export", db.dsn, "--out", str(out), "--table", "public.one", env=env)
        assert "adu_pandera.validator" in modules and "pyarrow" in modules  # the probe saw the job run
        assert (out / "manifest.json").is_file()
        heavy = sorted(
            m
            for m in modules
            if m.split(".")[0] in EXPORT_HEAVY or m in LOAD_SINKS or m in EXPORT_HEAVY_MODULES or m.startswith("yaml.")
        )
        assert heavy == [], run
    from adu_core.store import Store

    store = Store(f"sqlite:///{tmp_path / 'data' / 'adu.db'}")
    job_id = store.list_jobs()[0].id
    store.dispose()
    for args in (["jobs", "list"], ["jobs", "show", job_id]):
        modules = _imported_modules(*args, env=env)
        assert "adu_core.store.jobs" in modules, args  # the probe saw the store read
        assert sorted(m for m in modules if m.split(".")[0] in STORE_HEAVY) == [], args


def test_a_load_imports_no_numpy(pg, tmp_path):
    """``adu load`` is Arrow from the Parquet reader to the COPY encoder: numpy (and the BLAS
    threads it starts) would be CPU taken from the loading connections on a busy machine.
    pyarrow.compute (the DuckDB sink's) imports numpy unless adu_core.late_numpy hides it."""
    source = pg.create_database("startup_load_src")
    source.execute(
        "CREATE TABLE public.one (id bigint PRIMARY KEY, v numeric(12,2)); INSERT INTO public.one VALUES (1, 1.5)"
    )
    target = pg.create_database("startup_load_dst")
    env = dict(os.environ, ADU_DATA_DIR=str(tmp_path / "data"))
    out = tmp_path / "out"
    _imported_modules("export", source.dsn, "--out", str(out), "--table", "public.one", env=env)
    modules = _imported_modules("load", str(out), target.dsn, env=env)
    assert "adu_postgres.loadrun" in modules or "adu_postgres.loader" in modules  # the probe saw the load
    assert "pyarrow.compute" in modules  # the import that used to bring numpy
    assert sorted(m for m in modules if m.split(".")[0] == "numpy") == []
    assert target.execute("SELECT id, v::text FROM public.one") == [(1, "1.50")]


def test_a_new_store_is_created_without_sqlalchemy(tmp_path):
    env = dict(os.environ, ADU_DATA_DIR=str(tmp_path / "data"))
    modules = _imported_modules("jobs", "list", env=env)
    assert (tmp_path / "data" / "adu.db").is_file() and "adu_core.store.ddl" in modules
    assert sorted(m for m in modules if m.split(".")[0] in STORE_HEAVY) == []
