"""The Parquet sink: layout, metadata, row groups, rotation, options, publishing."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.errors import UsageError
from adu_core.models import ColumnInfo, Partition, PartitionResult, TableInfo
from adu_core.plugin.components import FAILED_CHECKS_COLUMN
from adu_core.plugin.manager import Plugins
from adu_core.verify import verify_export
from adu_export_kit import export_tables, int_table, make_batches
from adu_parquet.options import ParquetOptions, parse_size
from adu_parquet.sink import STAGING, ParquetSink


def _parquet_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))


def test_registered_as_the_parquet_sink() -> None:
    plugins = Plugins(load_entrypoints=False)
    assert plugins.sink_class("parquet") is ParquetSink


def test_layout_metadata_and_manifest(tmp_path) -> None:
    t = int_table("Sales", "Order Items")
    target = tmp_path / "out"
    manifest, _ = export_tables(target, [(t, [make_batches(t, 2500), make_batches(t, 1500, start=2500)])])
    assert sorted(os.listdir(target)) == ["^sales", "manifest.json"]
    files = _parquet_files(target)
    assert files == ["^sales/^order%20^items/part-00000.parquet", "^sales/^order%20^items/part-00001.parquet"]
    (entry,) = manifest["tables"]
    assert (entry["schema"], entry["name"], entry["rows"]) == ("Sales", "Order Items", 4000)
    assert [f["path"] for f in entry["files"]] == files
    pf = pq.ParquetFile(target / files[0])
    meta = pf.schema_arrow.metadata
    assert meta[b"adu.job_id"] == b"job-1"
    assert meta[b"adu.version"]
    assert json.loads(meta[b"adu.table"]) == ["Sales", "Order Items"]
    types = {f.name: f.metadata[b"adu.source_type"] for f in pf.schema_arrow}
    assert types == {"id": b"bigint", "label": b"text", "price": b"numeric(12,2)"}
    assert pf.schema_arrow.field("id").nullable is False
    assert verify_export(target).ok
    # readers that ignore Arrow metadata find the source types in the file's key-value metadata
    import duckdb

    kv = dict(
        duckdb.sql(
            "SELECT decode(key), decode(value) FROM parquet_kv_metadata($p)", params={"p": str(target / files[0])}
        ).fetchall()
    )
    assert json.loads(kv["adu.columns"])[2] == {"name": "price", "source_type": "numeric(12,2)"}
    assert kv["adu.job_id"] == "job-1"


def test_small_batches_are_gathered_into_full_row_groups(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    export_tables(target, [(t, [make_batches(t, 10_000, batch_rows=300)])], options={"row_group_size": 4096})
    md = pq.ParquetFile(target / "public/items/part-00000.parquet").metadata
    assert [md.row_group(i).num_rows for i in range(md.num_row_groups)] == [4096, 4096, 1808]


def test_big_batches_are_cut_into_row_groups(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    export_tables(target, [(t, [make_batches(t, 5000, batch_rows=5000)])], options={"row_group_size": 2000})
    md = pq.ParquetFile(target / "public/items/part-00000.parquet").metadata
    assert [md.row_group(i).num_rows for i in range(md.num_row_groups)] == [2000, 2000, 1000]


def test_row_group_bytes_bounds_the_buffer(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    export_tables(
        target,
        [(t, [make_batches(t, 4000, batch_rows=500)])],
        options={"row_group_size": 1_000_000, "row_group_bytes": "20kB"},
    )
    md = pq.ParquetFile(target / "public/items/part-00000.parquet").metadata
    assert md.num_row_groups > 1
    assert max(md.row_group(i).num_rows for i in range(md.num_row_groups)) <= 1000


def test_rotation_into_numbered_parts(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    limit = 20_000
    manifest, _ = export_tables(
        target, [(t, [make_batches(t, 30_000)])], options={"row_group_size": 1000, "max_file_bytes": limit}
    )
    files = manifest["tables"][0]["files"]
    assert len(files) > 2
    assert [f["path"].rsplit("/", 1)[1] for f in files] == [f"part-{i:05d}.parquet" for i in range(len(files))]
    assert sum(f["rows"] for f in files) == 30_000
    for f in files[:-1]:
        # cut between row groups, about the limit; the footer (metadata of every row group,
        # a third of a file this small and this compressible) is not estimated
        footer = int.from_bytes((target / f["path"]).read_bytes()[-8:-4], "little")
        assert f["bytes"] - footer <= limit * 1.25
    ids = pa.concat_tables([pq.read_table(target / f["path"], columns=["id"]) for f in files])["id"]
    assert ids.to_pylist() == list(range(30_000))  # order kept across parts
    assert verify_export(target).ok


def test_rotation_even_when_the_table_is_smaller_than_a_row_group(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    manifest, _ = export_tables(
        target, [(t, [make_batches(t, 150_000, batch_rows=150_000)])], options={"max_file_bytes": "40kB"}
    )
    files = manifest["tables"][0]["files"]
    footers = [int.from_bytes((target / f["path"]).read_bytes()[-8:-4], "little") for f in files]
    assert len(files) > 3 and all(f["bytes"] - footer <= 52_000 for f, footer in zip(files, footers, strict=True))
    assert sum(f["rows"] for f in files) == 150_000


def test_slices_of_one_big_buffer_are_measured_by_what_they_hold(tmp_path) -> None:
    t = int_table()
    big = pa.Table.from_batches(make_batches(t, 60_000, batch_rows=60_000))
    target = tmp_path / "out"
    export_tables(
        target,
        [(t, [big.to_batches(max_chunksize=1000)])],
        options={"row_group_size": 20_000, "row_group_bytes": "1MiB"},
    )
    md = pq.ParquetFile(target / "public/items/part-00000.parquet").metadata
    assert [md.row_group(i).num_rows for i in range(md.num_row_groups)] == [20_000, 20_000, 20_000]


def test_no_rotation_with_zero(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    manifest, _ = export_tables(
        target, [(t, [make_batches(t, 20_000)])], options={"row_group_size": 1000, "max_file_bytes": 0}
    )
    assert len(manifest["tables"][0]["files"]) == 1


@pytest.mark.parametrize("codec", ["zstd", "snappy", "gzip", "lz4", "none"])
def test_every_compression_codec(tmp_path, codec: str) -> None:
    t = int_table()
    target = tmp_path / "out"
    export_tables(target, [(t, [make_batches(t, 3000)])], options={"compression": codec})
    md = pq.ParquetFile(target / "public/items/part-00000.parquet").metadata
    expected = {"none": "UNCOMPRESSED", "lz4": "LZ4"}.get(codec, codec.upper())
    assert md.row_group(0).column(0).compression.startswith(expected)
    assert pq.read_table(target / "public/items/part-00000.parquet").num_rows == 3000


def _encodings(path, column: int) -> tuple[str, ...]:
    return pq.ParquetFile(path).metadata.row_group(0).column(column).encodings


def _dictionary_encoded(path, column: int) -> bool:
    return any("DICTIONARY" in e for e in _encodings(path, column))


def test_dictionary_and_statistics_options(tmp_path) -> None:
    t = int_table()
    on, off = tmp_path / "on", tmp_path / "off"
    export_tables(on, [(t, [make_batches(t, 3000)])], options={"dictionary": True})
    export_tables(off, [(t, [make_batches(t, 3000)])], options={"dictionary": "false", "statistics": False})
    f_on, f_off = on / "public/items/part-00000.parquet", off / "public/items/part-00000.parquet"
    assert pq.ParquetFile(f_on).metadata.row_group(0).column(1).is_stats_set
    assert not pq.ParquetFile(f_off).metadata.row_group(0).column(1).is_stats_set
    assert all(_dictionary_encoded(f_on, i) for i in range(3))
    assert not any(_dictionary_encoded(f_off, i) for i in range(3))


def test_auto_dictionary_only_where_values_repeat(tmp_path) -> None:
    t = TableInfo(
        "s",
        "t",
        (
            ColumnInfo("id", "bigint", pa.int64()),
            ColumnInfo("status", "text", pa.string()),
            ColumnInfo("tags", "text[]", pa.list_(pa.string())),
            ColumnInfo("nothing", "int4", pa.int32()),
            ColumnInfo("flag", "bool", pa.bool_()),
        ),
    )
    n = 5000
    batch = pa.record_batch(
        [
            pa.array(range(n), pa.int64()),
            pa.array(["open", "closed", None][i % 3] for i in range(n)),
            pa.array([[f"t{i}"] for i in range(n)]),
            pa.nulls(n, pa.int32()),
            pa.array([i % 2 == 0 for i in range(n)]),
        ],
        schema=t.arrow_schema(),
    )
    target = tmp_path / "out"
    export_tables(target, [(t, [[batch]])])
    path = target / "s/t/part-00000.parquet"
    assert [_dictionary_encoded(path, i) for i in range(5)] == [False, True, True, True, False]
    assert pq.read_table(path).column("status").to_pylist()[:3] == ["open", "closed", None]


def test_decimals_stored_as_integers_by_default(tmp_path) -> None:
    t = int_table()
    on, off = tmp_path / "on", tmp_path / "off"
    export_tables(on, [(t, [make_batches(t, 100)])])
    export_tables(off, [(t, [make_batches(t, 100)])], options={"decimal_as_integer": False})
    phys = [
        pq.ParquetFile(d / "public/items/part-00000.parquet").metadata.row_group(0).column(2).physical_type
        for d in (on, off)
    ]
    assert phys == ["INT64", "FIXED_LEN_BYTE_ARRAY"]
    assert pq.read_table(on / "public/items/part-00000.parquet").equals(
        pq.read_table(off / "public/items/part-00000.parquet")
    )


def test_default_options() -> None:
    o = ParquetOptions.from_mapping({})
    assert (o.compression, o.compression_level, o.row_group_size, o.max_file_bytes) == ("zstd", 1, 122_880, 2**30)
    assert o.dictionary == "auto" and ParquetOptions.from_mapping({"dictionary": "AUTO"}).dictionary == "auto"
    assert ParquetOptions.from_mapping({"compression": "gzip"}).compression_level is None
    assert ParquetOptions.from_mapping({"compression": "ZSTD", "compression_level": "9"}).compression_level == 9
    assert parse_size("x", "512MiB") == 512 * 2**20 and parse_size("x", "1.5GB") == 1_500_000_000


@pytest.mark.parametrize(
    "options",
    [
        {"compression": "brotli9"},
        {"compression": "snappy", "compression_level": 3},
        {"compression": "zstd", "compression_level": 23},
        {"compression_level": "high"},
        {"row_group_size": 0},
        {"row_group_size": True},
        {"max_file_bytes": "lots"},
        {"max_file_bytes": -1},
        {"dictionary": "maybe"},
        {"statistic": True},
    ],
)
def test_bad_options_are_refused(options) -> None:
    with pytest.raises(UsageError):
        ParquetSink("/tmp/never-created", options, job_id="j")


def test_empty_table_still_has_a_file_with_its_schema(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    manifest, _ = export_tables(target, [(t, [[], []])])
    (f,) = manifest["tables"][0]["files"]
    assert f["rows"] == 0
    schema = pq.read_schema(target / f["path"])
    assert schema.names == ["id", "label", "price"]
    assert schema.field("price").metadata[b"adu.source_type"] == b"numeric(12,2)"
    assert verify_export(target).ok


def test_quarantine_files_go_to_their_own_folder(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    bad = make_batches(t, 10)[0]
    bad = bad.append_column(FAILED_CHECKS_COLUMN, pa.array([["price >= 0"]] * 10, pa.list_(pa.string())))
    manifest, _ = export_tables(target, [(t, [make_batches(t, 100)])], quarantine={t.qualified_name: [[bad]]})
    qfiles = manifest["tables"][0]["validation"]["quarantine_files"]
    assert [q["path"] for q in qfiles] == ["_quarantine/public/items/part-00000.parquet"]
    back = pq.read_table(target / qfiles[0]["path"])
    assert back.column_names[-1] == FAILED_CHECKS_COLUMN
    assert back[FAILED_CHECKS_COLUMN].to_pylist()[0] == ["price >= 0"]
    assert verify_export(target).ok


def _stage(sink: ParquetSink, table: TableInfo, rows: int, start: int = 0, attempt: int = 1) -> PartitionResult:
    w = ParquetSink(sink.target, sink.options, job_id=sink.job_id).open_partition(
        Partition(table, 0, 1), attempt=attempt
    )
    for b in make_batches(table, rows, start=start):
        w.write(b)
    files = w.close()
    return PartitionResult(table=table.qualified_name, index=0, rows=rows, files=files)


def test_republishing_a_table_replaces_it(tmp_path) -> None:
    t = int_table()
    sink = ParquetSink(str(tmp_path / "out"), {"max_file_bytes": 30_000, "row_group_size": 500}, job_id="j")
    sink.prepare(overwrite=False)
    first, _ = sink.publish_table(t, [_stage(sink, t, 20_000)])
    second, _ = sink.publish_table(t, [_stage(sink, t, 1_000, start=5, attempt=2)])
    assert len(first) > len(second) == 1
    on_disk = _parquet_files(tmp_path / "out")
    assert [p for p in on_disk if not p.startswith(STAGING)] == ["public/items/part-00000.parquet"]
    assert pq.read_table(tmp_path / "out" / second[0].path).num_rows == 1_000  # never duplicated
    sink.close()
    assert not (tmp_path / "out" / STAGING).exists()


def test_staged_files_and_discard(tmp_path) -> None:
    t = int_table()
    sink = ParquetSink(str(tmp_path / "out"), None, job_id="j")
    sink.prepare(overwrite=False)
    res = _stage(sink, t, 100)
    (staged,) = sink.staged_files(t, [res])
    assert os.path.isabs(staged) and os.path.exists(staged) and f"/{STAGING}/" in staged
    assert pq.read_metadata(staged).num_rows == 100
    sink.discard_table(t)
    assert not os.path.exists(staged)
    assert _parquet_files(tmp_path / "out") == []
    sink.close()


def test_publish_refuses_files_outside_staging(tmp_path) -> None:
    t = int_table()
    sink = ParquetSink(str(tmp_path / "out"), None, job_id="j")
    sink.prepare(overwrite=False)
    res = _stage(sink, t, 10)
    good = res.files[0].path
    res.files[0].path = "../elsewhere.parquet"
    with pytest.raises(ValueError):
        sink.publish_table(t, [res])
    staged = tmp_path / "out" / good
    # through a folder (of the staging, after its own folder was checked) that links out
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.parquet").write_bytes(b"not ours")
    (staged.parent / "out-link").symlink_to(outside)
    for path in (
        f"{os.path.dirname(good)}/out-link/x.parquet",
        f"{os.path.dirname(good)}/../../../../outside/x.parquet",
    ):
        res.files[0].path = path
        with pytest.raises(ValueError, match="not a staging file"):
            sink.staged_files(t, [res])
    # a staged file that is a link
    (staged.parent / "link.parquet").symlink_to(staged)
    res.files[0].path = f"{os.path.dirname(good)}/link.parquet"
    with pytest.raises(ValueError, match="not a staging file"):
        sink.staged_files(t, [res])
    res.files[0].path = good
    assert sink.staged_files(t, [res]) == [str(staged.resolve())]
    assert (outside / "x.parquet").read_bytes() == b"not ours"


def test_abort_removes_the_partition_files(tmp_path) -> None:
    t = int_table()
    sink = ParquetSink(str(tmp_path / "out"), {"row_group_size": 100, "max_file_bytes": 3000}, job_id="j")
    sink.prepare(overwrite=False)
    w = sink.open_partition(Partition(t, 0, 1))
    for b in make_batches(t, 5000, batch_rows=200):
        w.write(b)
    assert len(_parquet_files(tmp_path / "out")) > 1
    w.abort()
    assert _parquet_files(tmp_path / "out") == []


def test_mismatched_batch_is_refused(tmp_path) -> None:
    t = int_table()
    w = ParquetSink(str(tmp_path / "out"), None, job_id="j").open_partition(Partition(t, 0, 1))
    with pytest.raises(ValueError, match="columns"):
        w.write(pa.record_batch({"other": pa.array([1])}))


def test_batches_without_field_metadata_get_it(tmp_path) -> None:
    t = TableInfo("s", "t", (ColumnInfo("v", "int4", pa.int32()),))
    target = tmp_path / "out"
    export_tables(target, [(t, [[pa.record_batch({"v": pa.array([1, 2], pa.int64())})]])])
    schema = pq.read_schema(target / "s/t/part-00000.parquet")
    assert schema.field("v").type == pa.int32()  # cast to the declared type
    assert schema.field("v").metadata[b"adu.source_type"] == b"int4"


# -- prepare: existing exports, overwrite, foreign directories ------------------------


def test_existing_export_is_refused_without_overwrite(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    export_tables(target, [(t, [make_batches(t, 10)])])
    with pytest.raises(UsageError, match="already holds an export"):
        ParquetSink(str(target), None, job_id="j2").prepare(overwrite=False)


def test_unfinished_export_is_refused_without_overwrite(tmp_path) -> None:
    t = int_table()
    target = tmp_path / "out"
    export_tables(target, [(t, [make_batches(t, 10)])])
    (target / "manifest.json").unlink()
    with pytest.raises(UsageError, match="unfinished"):
        ParquetSink(str(target), None, job_id="j2").prepare(overwrite=False)


def test_overwrite_replaces_the_old_export_only_when_the_new_one_is_complete(tmp_path) -> None:
    old_t, new_t = int_table("public", "old"), int_table("public", "new")
    target = tmp_path / "out"
    export_tables(target, [(old_t, [make_batches(old_t, 10)])])
    # a failed overwrite (no finalize) puts the old export back
    sink = ParquetSink(str(target), None, job_id="j2")
    sink.prepare(overwrite=True)
    assert not (target / "manifest.json").exists()  # never a mix that looks complete
    sink.publish_table(new_t, [_stage(sink, new_t, 5)])
    sink.close()
    assert verify_export(target).ok
    assert _parquet_files(target) == ["public/old/part-00000.parquet"]
    # a complete overwrite leaves only the new export
    export_tables(target, [(new_t, [make_batches(new_t, 5)])], overwrite=True, job_id="j3")
    assert _parquet_files(target) == ["public/new/part-00000.parquet"]
    report = verify_export(target)
    assert report.ok and report.job_id == "j3"


def test_foreign_directory_is_never_written_into(tmp_path) -> None:
    target = tmp_path / "home"
    target.mkdir()
    (target / "notes.txt").write_text("precious")
    for overwrite in (False, True):
        with pytest.raises(UsageError, match="not empty"):
            ParquetSink(str(target), None, job_id="j").prepare(overwrite=overwrite)
    assert sorted(os.listdir(target)) == ["notes.txt"]


def test_target_that_is_a_file_is_refused(tmp_path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        ParquetSink(str(tmp_path / "f"), None, job_id="j").prepare(overwrite=True)


def test_retry_keeps_published_tables(tmp_path) -> None:
    a, b = int_table("public", "a"), int_table("public", "b")
    target = tmp_path / "out"
    export_tables(target, [(a, [make_batches(a, 10)]), (b, [make_batches(b, 10)])])
    sink = ParquetSink(str(target), None, job_id="j2")
    sink.prepare(overwrite=False, retry=True)
    old = sink.read_manifest()
    assert old is not None and len(old.tables) == 2
    sink.publish_table(b, [_stage(sink, b, 7)])
    sink.close()
    assert pq.read_metadata(target / "public/a/part-00000.parquet").num_rows == 10
    assert pq.read_metadata(target / "public/b/part-00000.parquet").num_rows == 7


def test_worker_instances_never_remove_staging(tmp_path) -> None:
    t = int_table()
    sink = ParquetSink(str(tmp_path / "out"), None, job_id="j")
    sink.prepare(overwrite=False)
    res = _stage(sink, t, 10)
    ParquetSink(str(tmp_path / "out"), None, job_id="j").close()  # a worker's instance
    assert os.path.exists(sink.staged_files(t, [res])[0])
    sink.close()


def test_retry_of_a_failed_table_merges_into_a_verified_export(tmp_path) -> None:
    import datetime as dt

    from adu_core.manifest import build_manifest, merge_manifest
    from adu_core.models import ErrorInfo, TableResult, TableStatus
    from adu_export_kit import CREATED, SOURCE

    a, b = int_table("public", "a"), int_table("public", "b")
    target = tmp_path / "out"
    # first job: a succeeds, b fails (not published, listed as failed)
    sink = ParquetSink(str(target), None, job_id="job-1")
    sink.prepare(overwrite=False)
    files, _ = sink.publish_table(a, [_stage(sink, a, 10)])
    ok = TableResult("public", "a", TableStatus.SUCCEEDED, rows=10, bytes=files[0].bytes, files=files)
    bad = TableResult("public", "b", TableStatus.FAILED, error=ErrorInfo("connection lost"))
    sink.discard_table(b)
    sink.finalize(
        build_manifest(
            job_id="job-1",
            adu_version="0.1.0",
            source=SOURCE,
            sink="parquet",
            tables=[(a, ok), (b, bad)],
            created_at=CREATED,
        )
    )
    sink.close()
    assert verify_export(target).exit_code == 1  # incomplete: b failed
    # retry of b only
    sink = ParquetSink(str(target), None, job_id="job-2")
    sink.prepare(overwrite=False, retry=True)
    files, _ = sink.publish_table(b, [_stage(sink, b, 20)])
    tr = TableResult("public", "b", TableStatus.SUCCEEDED, rows=20, bytes=files[0].bytes, files=files)
    new = build_manifest(
        job_id="job-2",
        adu_version="0.1.0",
        source=SOURCE,
        sink="parquet",
        tables=[(b, tr)],
        created_at=CREATED + dt.timedelta(hours=1),
    )
    sink.finalize(merge_manifest(sink.read_manifest() or {}, new))
    sink.close()
    report = verify_export(target)
    assert report.ok, report.lines()
    assert [(t.qualified_name, t.rows) for t in report.tables] == [("public.a", 10), ("public.b", 20)]
    m = json.loads((target / "manifest.json").read_bytes())
    assert [t["job_id"] for t in m["tables"]] == ["job-1", "job-2"]


def test_unsigned_overwrite_of_a_signed_export_leaves_no_stale_signature(tmp_path) -> None:
    from adu_core import signing

    priv, pub, _ = signing.write_key_pair(tmp_path / "k")
    t = int_table()
    target = tmp_path / "out"
    export_tables(target, [(t, [make_batches(t, 10)])], sign_key=str(priv))
    assert verify_export(target, public_key=pub).signature == "valid"
    export_tables(target, [(t, [make_batches(t, 20)])], overwrite=True, job_id="j2")
    assert not (target / "manifest.sig").exists()
    assert verify_export(target).ok
    assert verify_export(target, public_key=pub).signature == "missing"


def test_a_bad_signing_key_fails_before_the_manifest_is_written(tmp_path) -> None:
    t = int_table()
    sink = ParquetSink(str(tmp_path / "out"), None, job_id="j")
    sink.prepare(overwrite=False)
    sink.publish_table(t, [_stage(sink, t, 5)])
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(UsageError, match="not an unencrypted PEM private key"):
        sink.finalize({"format": "adu-manifest", "tables": []}, sign_key=str(tmp_path / "bad.key"))
    assert not (tmp_path / "out" / "manifest.json").exists()
    sink.close()


def test_republishing_swaps_the_table_folder_in_one_step(tmp_path) -> None:
    import sys

    t = int_table()
    sink = ParquetSink(str(tmp_path / "out"), None, job_id="j")
    sink.prepare(overwrite=False)
    sink.publish_table(t, [_stage(sink, t, 30)])
    folder = tmp_path / "out" / "public" / "items"
    before = folder.stat().st_ino
    sink.publish_table(t, [_stage(sink, t, 40, attempt=2)])
    assert pq.read_metadata(folder / "part-00000.parquet").num_rows == 40
    if sys.platform == "linux":
        assert folder.stat().st_ino != before  # the new folder took the old one's place
    assert os.listdir(tmp_path / "out" / STAGING / "j" / "build") == []  # the old table is gone
    sink.close()


def test_exchange_swaps_two_folders_atomically(tmp_path) -> None:
    from adu_parquet.sink import _exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "from_a").touch(), (b / "from_b").touch()
    if not _exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) unavailable on this platform or file system")
    assert os.listdir(a) == ["from_b"] and os.listdir(b) == ["from_a"]


def test_dictionary_choice_on_a_full_row_group() -> None:
    """A column whose first 1,024 values all differ is taken as unique without counting
    the whole sample (even if it repeats later: the price of the shortcut); the others
    are counted on the whole sample."""
    from adu_parquet.writer import choose_dictionary_columns

    n = 30_000
    group = pa.table(
        {
            "ts": pa.array(range(n), pa.timestamp("us")),
            "few": pa.array([f"v{i % 300}" for i in range(n)]),
            "late": pa.array([f"u{i}" if i < 1024 else "same" for i in range(n)]),  # unique only at first
            "empty": pa.nulls(n, pa.int64()),
        }
    )
    assert choose_dictionary_columns(group) == ["few", "empty"]


def test_a_file_hashed_as_it_grows_has_the_hash_of_the_finished_file(tmp_path) -> None:
    """The writer hashes each row group as it is written (no second pass at the end)."""
    import hashlib

    from adu_core.verify import sha256_file
    from adu_parquet.writer import GrowingFileHash

    path = tmp_path / "f"
    path.write_bytes(b"")
    grow = GrowingFileHash(path)
    chunks = [os.urandom(n) for n in (0, 1, GrowingFileHash.CHUNK + 7, 5, 3 * GrowingFileHash.CHUNK)]
    for chunk in chunks:
        with open(path, "ab") as f:
            f.write(chunk)
        grow.catch_up()
    with open(path, "ab") as f:
        f.write(b"footer")  # written after the last catch_up: finish() hashes it
    whole = b"".join(chunks) + b"footer"
    assert grow.finish() == sha256_file(path) == (hashlib.sha256(whole).hexdigest(), len(whole))


def test_narrow_columns_are_one_page_per_row_group(tmp_path) -> None:
    """Pages are cut by size, not every 20,000 rows (Arrow's default): a boolean column of
    a full row group is one page, and its headers and statistics stop outweighing its
    data."""
    from adu_parquet.writer import open_parquet_writer

    n = 122_880
    table = pa.table({"flag": pa.array([i % 5 != 0 for i in range(n)])})
    options = ParquetOptions.from_mapping({})
    assert options.writer_kwargs()["max_rows_per_page"] == options.row_group_size

    def chunk_bytes(path) -> int:
        meta = pq.ParquetFile(path).metadata
        assert meta.num_row_groups == 1
        return meta.row_group(0).column(0).total_compressed_size

    ours = tmp_path / "ours.parquet"
    writer = open_parquet_writer(ours, table.schema, options)
    writer.write_table(table, row_group_size=n)
    writer.close()
    arrow_default = tmp_path / "default.parquet"
    kwargs = {k: v for k, v in options.writer_kwargs().items() if k != "max_rows_per_page"}
    with pq.ParquetWriter(str(arrow_default), table.schema, **kwargs) as w:
        w.write_table(table, row_group_size=n)
    # seven pages' headers, statistics and zstd frames against one
    assert chunk_bytes(ours) * 2 < chunk_bytes(arrow_default)
    assert pq.read_table(ours).equals(table)


@pytest.mark.parametrize("settings", [{}, {"compression": "snappy", "dictionary": "true"}, {"compression": "none"}])
def test_the_writer_writes_what_pyarrow_parquet_writes_byte_for_byte(tmp_path, settings) -> None:
    """The sink writes with pyarrow's Cython writer (its module does not import pyarrow's
    file systems) and pyarrow.parquet.ParquetWriter's defaults: the files are the same."""
    import datetime
    import decimal

    from adu_parquet.writer import encoding_plan, open_parquet_writer, statistics_columns

    n = 3000
    table = pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "name": pa.array([None if i % 7 == 0 else f"name-{i % 50}" for i in range(n)]),
            "amount": pa.array([decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(12, 2)),
            "at": pa.array(
                [
                    datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(seconds=17 * i)
                    for i in range(n)
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "score": pa.array([i / 7 for i in range(n)], pa.float64()),
            "flag": pa.array([i % 3 == 0 for i in range(n)]),
            "tags": pa.array([[f"t{i % 4}", None] if i % 5 else None for i in range(n)], pa.list_(pa.string())),
            "pair": pa.array([{"a": i, "b": str(i)} for i in range(n)]),
        }
    )
    options = ParquetOptions.from_mapping(settings)
    plan = encoding_plan(table, options, None)
    ours, theirs = tmp_path / "ours.parquet", tmp_path / "theirs.parquet"
    writer = open_parquet_writer(ours, table.schema, options, None, plan)
    for _ in range(2):
        writer.write_table(table, row_group_size=n)
    writer.close()
    kwargs = options.writer_kwargs(None)
    kwargs["write_statistics"] = statistics_columns(table.schema)  # none for the booleans
    column_encoding, levels = plan
    if column_encoding:
        kwargs["column_encoding"] = column_encoding
    if levels:
        kwargs["compression_level"] = levels
    with pq.ParquetWriter(str(theirs), table.schema, **kwargs) as w:
        for _ in range(2):
            w.write_table(table, row_group_size=n)
    assert ours.read_bytes() == theirs.read_bytes()
    assert pq.read_table(ours).equals(pa.concat_tables([table, table]))
