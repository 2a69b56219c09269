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
adu_cli.main.main = run
collections[0] = 0
from adu_cli import entry
entry.main()
print(seen["collections"], seen["enabled"], seen["frozen"] > 0, "adu_cli.commands.export" in sys.modules)
"""


def test_the_console_script_imports_its_command_without_collecting_then_freezes():
    out = subprocess.run([sys.executable, "-c", ENTRY_PROBE], capture_output=True, text=True, check=True).stdout
    # no collection pass while the engine, store and plugins were imported; the command
    # runs with the collector on and the imported objects frozen
    assert out.split() == ["0", "True", "True", "True"]


def test_the_console_script_runs_a_command(tmp_path):
    env = dict(os.environ, ADU_DATA_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "adu_cli.entry", "plugins"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "postgresql" in out and "parquet" in out
