"""Rows per second of the Vertica source against the wire-protocol test server.

Run by hand (never a timed test)::

    .venv/bin/python bench/vertica_read.py --rows 1000000

The test server (tests/vertica/vertica_wire.py) runs in its own process, holding a table
of mixed columns (int, float, numeric(12,2), varchar, varchar, timestamptz, date, bool,
uuid); it encodes DataRows with numpy. Measured, in the same run:

* ``adu``: ``VerticaSource.read`` (binary transfer, vectorised decoding to Arrow), one
  partition, then 2 hash partitions read by 2 processes;
* ``adu decoder alone``: the same decoding replayed from the recorded bytes of the
  result (no server, no network): the client's own ceiling;
* ``driver``: vertica-python's own ``cursor.fetchmany`` (one Python object per value), then
  ``pa.Table.from_pylist`` — what a straightforward plugin would do.

The server shares the machine (and its cores) with the client, so the figures are a
lower bound of the client's speed.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "vertica"))

COLUMNS = [
    ("id", "int"),
    ("n", "int"),
    ("amount", "numeric(12,2)"),
    ("label", "varchar(40)"),
    ("code", "varchar(10)"),
    ("at", "timestamptz"),
    ("day", "date"),
    ("flag", "boolean"),
    ("u", "uuid"),
    ("x", "float"),
]
FILL = """
SELECT i, (i * 7) % 100000, ((i * 13) % 1000000) / 100.0, 'label number ' || i::VARCHAR,
       'c' || (i % 1000)::VARCHAR, TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 SECOND,
       DATE '2000-01-01' + (i % 9000)::INTEGER, i % 2 = 0, uuid(), i / 3.0
FROM range(?) t(i)
"""


def _serve(rows: int, q: Any, stop: Any) -> None:
    from vertica_engine import ColumnDef, TableDef
    from vertica_wire import VerticaTestServer

    server = VerticaTestServer(nodes=2).start()
    server.engine.create_table(
        TableDef(
            "bench", "mixed", [ColumnDef(n, t, n != "u") for n, t in COLUMNS], primary_key=("id",), segmented_by=("id",)
        )
    )
    server.engine.insert_sql("bench", "mixed", FILL, [rows])  # committed in one epoch
    q.put(server.url())
    stop.wait()
    server.stop()


def _read_partition(url: str, index: int, count: int, batch_rows: int) -> int:
    from adu_core.plugin.components import NeverCancelled
    from adu_vertica import VerticaSource

    src = VerticaSource(url)
    table = next(t for t in src.discover() if t.qualified_name == "bench.mixed")
    with src.snapshot() as snap:
        part = src.partitions(table, target=count)[index]
        n = sum(b.num_rows for b in src.read(part, snapshot=snap, batch_rows=batch_rows, cancel=NeverCancelled()))
    src.close()
    return n


class _Recorder:
    """Wraps the driver's socket file and keeps every chunk read."""

    def __init__(self, f: Any) -> None:
        self.f, self.chunks = f, []

    def read1(self, n: int) -> bytes:
        data = self.f.read1(n)
        self.chunks.append(data)
        return data

    def close(self) -> None:
        self.f.close()


class _Replay:
    """A stand-in connection replaying recorded bytes (measures the decoder alone)."""

    complex_types_enabled = True

    def __init__(self, data: bytes) -> None:
        import io

        self.f = io.BufferedReader(io.BytesIO(data), buffer_size=1 << 20)

    def write(self, message: Any) -> None:
        pass

    def _socket_as_file(self) -> Any:
        return self.f


def _decoder_only(url: str, batch_rows: int) -> tuple[int, float]:
    """Rows/s of ``stream_query`` on a recorded result, without server or network."""
    from adu_vertica import VerticaSource
    from adu_vertica.connect import connect
    from adu_vertica.decode import stream_query
    from adu_vertica.types import parse_type

    src = VerticaSource(url)
    table = next(t for t in src.discover() if t.qualified_name == "bench.mixed")
    src.close()
    schema = table.arrow_schema()
    vtypes = [parse_type(c.source_type) for c in table.columns]
    sql = VerticaSource.partition_sql(src.partitions(table, target=1)[0], None)
    conn = connect(url)
    rec = _Recorder(conn._socket_as_file())
    conn._socket_as_file = lambda: rec
    n = sum(b.num_rows for b in stream_query(conn, sql, schema, vtypes, batch_rows=batch_rows))
    conn.close()
    data = b"".join(rec.chunks)
    t0 = time.perf_counter()
    m = sum(b.num_rows for b in stream_query(_Replay(data), sql, schema, vtypes, batch_rows=batch_rows))
    assert m == n
    return n, time.perf_counter() - t0


def _warm(url: str) -> None:
    from adu_vertica import VerticaSource

    VerticaSource(url).info()


def _driver(url: str) -> int:
    import pyarrow as pa
    import vertica_python
    from adu_vertica.connect import connection_options

    opts = connection_options(url)
    conn = vertica_python.connect(**opts)
    cur = conn.cursor("dict")
    cur.execute("SELECT * FROM bench.mixed")
    n = 0
    while True:
        rows = cur.fetchmany(10000)
        if not rows:
            break
        for r in rows:
            r["u"] = r["u"].bytes
        n += pa.Table.from_pylist(rows).num_rows
    conn.close()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch-rows", type=int, default=65536)
    ap.add_argument("--skip-driver", action="store_true")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    q, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(args.rows, q, stop), daemon=True)
    server.start()
    url = q.get(timeout=300)
    results: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        n = _read_partition(url, 0, 1, args.batch_rows)
        results["adu, 1 connection"] = n / (time.perf_counter() - t0)
        n, secs = _decoder_only(url, args.batch_rows)
        results["adu decoder alone (recorded stream)"] = n / secs
        with ProcessPoolExecutor(2, mp_context=ctx) as pool:
            list(pool.map(_warm, [url] * 2))  # imports and first connection outside the timing
            t0 = time.perf_counter()
            n = sum(pool.map(_read_partition, [url] * 2, [0, 1], [2, 2], [args.batch_rows] * 2))
            results["adu, 2 hash partitions"] = n / (time.perf_counter() - t0)
        if not args.skip_driver:
            t0 = time.perf_counter()
            n = _driver(url)
            results["vertica-python fetchmany -> Arrow"] = n / (time.perf_counter() - t0)
    finally:
        stop.set()
        server.join(10)
    base = results.get("vertica-python fetchmany -> Arrow")
    print(f"{args.rows:,} rows x {len(COLUMNS)} columns")
    for name, rate in results.items():
        ratio = f"  ({rate / base:.1f}x the driver)" if base and name.startswith("adu") else ""
        print(f"{name:38s} {rate:12,.0f} rows/s{ratio}")


if __name__ == "__main__":
    main()
