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
    out = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    # OpenBLAS would start a thread per core (busy-waiting ~0.1 s of CPU on every start)
    assert out == ["1", "1"]  # the main thread alone


def test_a_users_blas_setting_wins():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", PROBE.format(module="adu_cli")], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["2", "2"]  # the main thread and the one extra thread asked for
