"""The far side of a Vertica export: the portable profile's files (UUID, TIME, TIMETZ,
NUMERIC(50,10), intervals, arrays of uuid/time, a row of them; from the Vertica
wire-protocol test server, exported with the real CLI) open in DuckDB, polars, pandas and
PySpark with every value equal to the source's; the exact profile's do not open in Spark
(the reason the portable profile exists)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_helpers import export, files_of

sys.path.insert(0, str(Path(__file__).parents[1] / "vertica"))

from vertica_tables import FAR_COLUMNS, SCHEMA, canonical, far_expected, far_table
from vertica_wire import VerticaTestServer


@pytest.fixture(scope="module")
def vertica_exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, dict[str, Any]]]]:
    """``{profile: (export directory, manifest)}`` of the test server's far table."""
    server = VerticaTestServer(nodes=2).start()
    try:
        server.engine.create_table(far_table())
        out = {}
        for profile in ("portable", "exact"):
            target = tmp_path_factory.mktemp(f"vertica-{profile}") / "export"
            out[profile] = (target, export(server.url(), target, (f"{SCHEMA}.far",), profile))
        yield out
    finally:
        server.stop()


def _duckdb(_ctx: Any, files: list[str]) -> list[dict[str, Any]]:
    import duckdb

    con = duckdb.connect()
    try:
        cur = con.execute("SELECT * FROM read_parquet(?)", [files])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def _polars(_ctx: Any, files: list[str]) -> list[dict[str, Any]]:
    import polars as pl

    return list(pl.concat([pl.read_parquet(f) for f in files], how="vertical").to_dicts())


def _pandas(_ctx: Any, files: list[str]) -> list[dict[str, Any]]:
    import pandas as pd

    df = pd.concat([pd.read_parquet(f, dtype_backend="pyarrow") for f in files], ignore_index=True)
    columns = {c: [None if v is pd.NA or v is None else v for v in df[c].tolist()] for c in df.columns}
    return [{c: columns[c][i] for c in df.columns} for i in range(len(df))]


def _spark(spark: Any, files: list[str]) -> list[dict[str, Any]]:
    return [row.asDict() for row in spark.read.parquet(*files).collect()]


READERS = {"duckdb": _duckdb, "polars": _polars, "pandas": _pandas, "spark": _spark}


def _canonical_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [{k: canonical(v) for k, v in row.items()} for row in rows]
    return sorted(out, key=lambda r: int(str(r["id"])))


@pytest.mark.slow
@pytest.mark.parametrize("reader", list(READERS))
def test_portable_vertica_export_reads_exactly_everywhere(
    reader: str, vertica_exports: dict[str, tuple[Path, dict[str, Any]]], request: pytest.FixtureRequest
) -> None:
    out, manifest = vertica_exports["portable"]
    assert manifest["profile"] == "portable"
    (entry,) = manifest["tables"]
    ctx = request.getfixturevalue("spark") if reader == "spark" else None
    rows = READERS[reader](ctx, files_of(out, entry))
    assert [set(r) for r in rows] == [{c.name for c in FAR_COLUMNS}] * len(rows)
    got, want = _canonical_rows(rows), far_expected()
    for g, w in zip(got, want, strict=True):
        for c in FAR_COLUMNS:
            assert g[c.name] == w[c.name], f"{reader}: row {w['id']} column {c.name}: {g[c.name]!r} != {w[c.name]!r}"


@pytest.mark.slow
def test_exact_vertica_export_is_what_spark_cannot_open(
    vertica_exports: dict[str, tuple[Path, dict[str, Any]]], spark: Any
) -> None:
    out, manifest = vertica_exports["exact"]
    assert manifest["profile"] == "exact"
    (entry,) = manifest["tables"]
    with pytest.raises(Exception, match=r"UUID|TIME|Time|Illegal|ILLEGAL"):
        _spark(spark, files_of(out, entry))
    assert _canonical_rows(_duckdb(None, files_of(out, entry)))[0]["u"] == far_expected()[0]["u"]
