"""Encodings chosen per Arrow type by the Parquet writer (adu_parquet.encodings): the
right encoding lands in the file, values come back exactly, and the options that take
the choice away (dictionary everywhere) are honoured."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_parquet import writer
from adu_parquet.options import ParquetOptions
from adu_parquet.writer import ParquetPartitionWriter

N = 20_000


def sample_table() -> pa.Table:
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return pa.table(
        {
            "id": pa.array(range(N), pa.int64()),
            "small": pa.array([i % 7 for i in range(N)], pa.int16()),  # repeated: dictionary
            "amount": pa.array([Decimal(i * 37 % 100_000) / 100 for i in range(N)], pa.decimal128(12, 2)),
            "wide": pa.array([Decimal(i) for i in range(N)], pa.decimal128(30, 0)),
            "at": pa.array([base + dt.timedelta(seconds=13 * i) for i in range(N)], pa.timestamp("us", "UTC")),
            "day": pa.array([dt.date(2000, 1, 1) + dt.timedelta(days=i) for i in range(N)], pa.date32()),
            "score": pa.array([i * 0.37 + (i % 3) / 7 for i in range(N)], pa.float64()),
            "ratio": pa.array([i / 3 for i in range(N)], pa.float32()),
            "ref": pa.array([f"order-{i:08d}/line" for i in range(N)]),  # shared prefixes
            "hash": pa.array([hashlib.sha256(str(i).encode()).hexdigest() for i in range(N)]),  # no prefix
            "flag": pa.array([i % 3 == 0 for i in range(N)]),
            "uid": pa.array([i.to_bytes(16, "big") for i in range(N)], pa.binary(16)),
        }
    )


def write(tmp_path: Path, table: pa.Table, **options: object) -> Path:
    root = tmp_path / "out"
    w = ParquetPartitionWriter(
        root=root, staging_dir=root, stem="p", schema=table.schema, options=ParquetOptions.from_mapping(options)
    )
    for batch in table.to_batches(max_chunksize=4096):
        w.write(batch)
    (result,) = w.close()
    return root / result.path


def encodings(path: Path) -> dict[str, set[str]]:
    meta = pq.read_metadata(path)
    out: dict[str, set[str]] = {}
    for g in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            col = meta.row_group(g).column(c)
            out.setdefault(col.path_in_schema, set()).update(e for e in col.encodings if e not in ("RLE", "BIT_PACKED"))
    return out


def test_each_type_gets_its_encoding_and_values_come_back(tmp_path: Path) -> None:
    table = sample_table()
    path = write(tmp_path, table)
    enc = encodings(path)
    for col in ("id", "amount", "at", "day"):
        assert enc[col] == {"DELTA_BINARY_PACKED"}, col
    assert enc["score"] == enc["ratio"] == {"BYTE_STREAM_SPLIT"}
    assert enc["ref"] == {"DELTA_BYTE_ARRAY"}
    # no shared prefixes, high entropy: lengths apart from the bytes (PLAIN's 4-byte length
    # before every value costs zstd a short match per value)
    assert enc["hash"] == {"DELTA_LENGTH_BYTE_ARRAY"}
    assert any("DICTIONARY" in e for e in enc["small"])
    assert enc["wide"] == enc["flag"] == enc["uid"] == {"PLAIN"}
    assert pq.read_table(path).equals(table)


def test_smaller_than_plain_encoding(tmp_path: Path) -> None:
    table = sample_table().select(["id", "at", "score", "ref"])
    ours = write(tmp_path, table).stat().st_size
    plain = tmp_path / "plain.parquet"
    pq.write_table(table, plain, compression="zstd", compression_level=1, use_dictionary=False)
    assert ours < plain.stat().st_size * 0.5


@pytest.mark.parametrize("dictionary", [True, "true"])
def test_dictionary_everywhere_leaves_no_other_encoding(tmp_path: Path, dictionary: object) -> None:
    path = write(tmp_path, sample_table(), dictionary=dictionary)
    enc = encodings(path)
    assert all(any("DICTIONARY" in e for e in found) for col, found in enc.items() if col != "flag"), enc
    assert pq.read_table(path).equals(sample_table())


@pytest.mark.parametrize("compression", ["snappy", "none", "gzip"])
def test_other_codecs_and_no_dictionary(tmp_path: Path, compression: str) -> None:
    path = write(tmp_path, sample_table(), compression=compression, dictionary=False)
    enc = encodings(path)
    assert enc["id"] == {"DELTA_BINARY_PACKED"} and enc["small"] == {"DELTA_BINARY_PACKED"}
    assert pq.read_table(path).equals(sample_table())


def test_decimals_stored_as_bytes_are_left_plain(tmp_path: Path) -> None:
    path = write(tmp_path, sample_table().select(["amount"]), decimal_as_integer=False)
    assert encodings(path)["amount"] == {"PLAIN"}
    assert pq.read_table(path).equals(sample_table().select(["amount"]))


def test_duckdb_reads_every_encoding(tmp_path: Path) -> None:
    """``adu inspect`` and the whole-table checks read the files with DuckDB."""
    from adu_core import duck

    table = sample_table()
    path = write(tmp_path, table)
    con = duck.connect()
    try:
        got = con.execute(
            "SELECT list(id ORDER BY id), list(amount ORDER BY id), list(day ORDER BY id), list(score ORDER BY id),"
            " list(ratio ORDER BY id), list(ref ORDER BY id), list(hash ORDER BY id) FROM read_parquet($p)",
            {"p": str(path)},
        ).fetchone()
    finally:
        con.close()
    assert got is not None
    for name, values in zip(("id", "amount", "day", "score", "ratio", "ref", "hash"), got, strict=True):
        assert values == table.column(name).to_pylist(), name


@pytest.mark.parametrize(
    "schema",
    [
        pa.schema([("id", pa.int64()), ("a.b", pa.string()), ("d", pa.dictionary(pa.int32(), pa.string()))]),
        pa.schema([("id", pa.int64()), ("tags", pa.list_(pa.string())), ("s", pa.struct([("x", pa.int8())]))]),
        pa.schema([("m", pa.map_(pa.string(), pa.int32())), ("t", pa.timestamp("us", "UTC"))]),
    ],
)
def test_leaf_paths_match_the_parquet_writers_own(schema: pa.Schema) -> None:
    """The flat-schema shortcut names the same leaf columns the writer itself does."""
    assert writer.leaf_paths(schema) == [list(p) for p in writer._leaf_paths(schema)]
