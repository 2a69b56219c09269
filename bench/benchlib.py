"""Measuring helpers shared by the PostgreSQL benchmarks (run by hand, never from the tests).

* :func:`measure` runs one command and samples the memory of its whole process tree every
  20 ms: the sum of RSS (pages shared by a forked pool counted once per process: an
  overestimate) and the sum of PSS (shared pages split between sharers: the real footprint).
* CPU time: :func:`client_cpu` is the user+sys time of every finished child process (and
  the children they waited for): deterministic enough to compare on a busy machine, where
  wall time is not. :func:`server_cpu` is the CPU the PostgreSQL server's ended backends
  used (the postmaster's cutime + cstime), counted apart: the server is not in the tree.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

#: one measured run: wall s, peak RSS, peak PSS, client CPU s, server CPU s
Run = tuple[float, int, int, float, float]


def tree_memory(pid: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) over ``pid`` and all its descendants, in bytes."""
    rss = pss = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(x) for x in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return rss, pss


def server_cpu(datadir: str | None) -> float:
    """CPU seconds the server's ended backends used so far (postmaster's cutime + cstime)."""
    if not datadir:
        return 0.0
    try:
        pid = int(Path(datadir, "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def client_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(args: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[float, int, int, int]:
    """(wall seconds, peak RSS sum, peak PSS sum of the process tree, return code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(args), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss, pss = tree_memory(proc.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode:
        print(f"   ! {' '.join(args[:3])}... failed: {err.strip()[-500:]}", flush=True)
    return wall, peak_rss, peak_pss, proc.returncode


def measure_cpu(args: Sequence[str], env: Mapping[str, str] | None, datadir: str | None) -> tuple[Run, int]:
    """:func:`measure` plus the client's and the server's CPU seconds of the run."""
    cpu0, srv0 = client_cpu(), server_cpu(datadir)
    wall, rss, pss, rc = measure(args, env)
    deadline = time.monotonic() + 2.0
    srv = server_cpu(datadir) - srv0
    while datadir and time.monotonic() < deadline:  # ended backends are accounted when reaped
        time.sleep(0.1)
        again = server_cpu(datadir) - srv0
        if again == srv:
            break
        srv = again
    return (wall, rss, pss, client_cpu() - cpu0, srv), rc


def machine_load() -> str:
    """The 1-minute load average and the CPU count, for the record."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def report(results: Mapping[str, list[Run]], base: str = "duckdb") -> None:
    """Medians per path; ratios against ``base`` for wall time, for client CPU and for total
    CPU (client + server): a busy machine disturbs CPU time much less than wall time."""
    ref = results.get(base) or []
    base_wall = statistics.median(r[0] for r in ref) if ref else None
    base_ccpu = statistics.median(r[3] for r in ref) if ref else None
    base_cpu = statistics.median(r[3] + r[4] for r in ref) if ref else None
    width = max([22, *(len(p) for p in results)])
    print(
        f"   {'path':{width}s} {'median s':>9s} {'min s':>7s} {'RSS MB':>7s} {'PSS MB':>7s}"
        f" {'client cpu':>10s} {'server cpu':>10s} {'wall/ref':>9s} {'ccpu/ref':>9s} {'cpu/ref':>8s}"
    )
    for path, runs in results.items():
        if not runs:
            continue
        med = statistics.median(r[0] for r in runs)
        best = min(r[0] for r in runs)
        rss = max(r[1] for r in runs) / 2**20
        pss = max(r[2] for r in runs) / 2**20
        ccpu = statistics.median(r[3] for r in runs)
        scpu = statistics.median(r[4] for r in runs)
        wr = f"{med / base_wall:8.2f}x" if base_wall else ""
        cr = f"{ccpu / base_ccpu:8.2f}x" if base_ccpu else ""
        tr = f"{(ccpu + scpu) / base_cpu:7.2f}x" if base_cpu else ""
        print(
            f"   {path:{width}s} {med:9.2f} {best:7.2f} {rss:7.0f} {pss:7.0f} {ccpu:10.2f} {scpu:10.2f}"
            f" {wr:>9s} {cr:>9s} {tr:>8s}",
            flush=True,
        )
