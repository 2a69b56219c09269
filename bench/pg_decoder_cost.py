"""The C decoder's cost per column type, in instructions (callgrind: repeatable on a busy
machine) or CPU time, on the binary COPY streams of the per-type tables.

Run by hand (never from the tests)::

    .venv/bin/python bench/pg_decoder_cost.py [--rows 300000] [--callgrind] [--types amount,ref,...]

Each per-type table of ``bench/pg_tables.py`` (the bigint key and one column) is copied
once with ``COPY (SELECT col FROM t) TO STDOUT (FORMAT binary)`` into memory (the column
alone, without the key), then decoded by ``adu_postgres._copydec`` in a child process:
``--callgrind`` runs that child under ``valgrind --tool=callgrind`` and prints
instructions per row (the decode loop only: callgrind is toggled around it); otherwise
the CPU time per row of the best of 5 decodes. Use it to compare decoder changes.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import pg_tables

BATCH_ROWS = 32768


def decode(stream: Path, spec: tuple[int, int, int, int], repeats: int) -> float:
    """Decode ``stream`` ``repeats`` times in batches as the source does; best CPU seconds."""
    from adu_postgres.decoder import new_decoder

    data = stream.read_bytes()
    chunk = 64 * 1024
    best = float("inf")
    for _ in range(repeats):
        dec = new_decoder([spec])
        t0 = time.process_time()
        for pos in range(0, len(data), chunk):
            dec.write(data[pos : pos + chunk])
            if dec.rows >= BATCH_ROWS:
                dec.take()
        dec.take()
        best = min(best, time.process_time() - t0)
    return best


def capture(pg, rows: int, only: list[str] | None, work: Path) -> dict[str, tuple[Path, tuple[int, ...], int]]:
    """COPY each per-type column to a file; (path, decoder spec, rows) per column."""
    from adu_postgres.source import PostgresSource

    names = pg_tables.make_types(pg, rows, only)
    source = PostgresSource(pg.superuser_dsn, {})
    tables = {t.qualified_name: t for t in source.discover()}
    source.close()
    out = {}
    for name in names:
        table = tables[name]
        col = table.columns[-1]
        spec = tuple(table.properties["read_plan"][-1][:4])
        path = work / f"{col.name}.copy"
        buf = io.BytesIO()
        with pg.connect(pg.superuser_dsn) as conn, conn.cursor() as cur:
            cur.copy_expert(f'COPY (SELECT "{col.name}" FROM {name}) TO STDOUT (FORMAT binary)', buf)
        path.write_bytes(buf.getvalue())
        out[col.name] = (path, spec, rows)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--types", help="columns of the wide table (default: all)")
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--decode", help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.decode:
        spec = tuple(int(x) for x in a.spec.split(","))
        print(decode(Path(a.decode), spec, 1 if a.callgrind else 5))
        return
    from pgserver import PgServer

    pg = PgServer().start()
    work = Path(tempfile.mkdtemp(prefix="adu-bench-decoder-"))
    try:
        streams = capture(pg, a.rows, a.types.split(",") if a.types else None, work)
    finally:
        pg.stop()
    try:
        print(f"\n   {'column':10s} {'kind':>4s} {'bytes/row':>9s} {'per row':>12s}")
        for col, (path, spec, rows) in streams.items():
            if col == "id":
                continue
            cmd = [sys.executable, __file__, "--decode", str(path), "--spec", ",".join(map(str, spec))]
            if a.callgrind:
                cmd.append("--callgrind")  # the child decodes once
                out = work / "cg.out"
                res = subprocess.run(
                    [
                        "valgrind",
                        "--tool=callgrind",
                        f"--callgrind-out-file={out}",
                        "--toggle-collect=Decoder_write",
                        "--toggle-collect=Decoder_take",
                        *cmd,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                m = re.search(r"Collected : (\d+)", res.stderr)
                cost = f"{int(m.group(1)) / rows:8.1f} instr" if m else "?"
            else:
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                cost = f"{float(res.stdout.split()[-1]) / rows * 1e9:8.1f} ns"
            print(f"   {col:10s} {spec[0]:4d} {os.path.getsize(path) / rows:9.1f} {cost:>12s}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
