"""verify knows no file format: it hashes, and asks the sink named in the manifest to look
inside each file. A second format (here: text files of one value per line) plugs in by
registering a sink; nothing in verify changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from adu_core.manifest import ManifestTable, build_manifest, write_manifest
from adu_core.models import FileResult, TableResult, TableStatus
from adu_core.plugin import hookimpl
from adu_core.plugin.components import FileCheck, Sink
from adu_core.verify import sha256_file, verify_export
from adu_export_kit import CREATED, SOURCE, int_table


class LinesSink(Sink):
    """Only what verify needs of a sink: ``check_file`` counts the lines."""

    name = "lines"
    checked: list[str] = []

    @classmethod
    def check_file(cls, path: Path, table: ManifestTable, *, quarantine: bool = False) -> FileCheck:
        cls.checked.append(path.name)
        text = path.read_text()
        if not text.endswith("\n"):
            return FileCheck(problems=("does not end with a newline",))
        return FileCheck(rows=text.count("\n"), rows_from="its lines")

    # the writing side is not needed here
    prepare = open_partition = publish_table = discard_table = staged_files = None  # type: ignore[assignment]
    finalize = read_manifest = None  # type: ignore[assignment]


LinesSink.__abstractmethods__ = frozenset()


class LinesPlugin:
    @hookimpl
    def adu_register_sinks(self, register):
        register(LinesSink)


def _export(target: Path, sink: str = "lines", rows: int = 3) -> Path:
    t = int_table("public", "items")
    target.mkdir()
    (target / "items").mkdir()
    f = target / "items" / "part-0.txt"
    f.write_text("".join(f"{i}\n" for i in range(rows)))
    digest, size = sha256_file(f)
    result = TableResult(
        "public", "items", TableStatus.SUCCEEDED, rows=rows, bytes=size,
        files=[FileResult("items/part-0.txt", rows, size, digest)],
    )  # fmt: skip
    manifest = build_manifest(
        job_id="j", adu_version="0.1.0", source=SOURCE, sink=sink, tables=[(t, result)], created_at=CREATED
    )
    write_manifest(target, manifest)
    return f


def test_a_second_format_is_checked_by_its_sink(register_plugin, tmp_path: Path) -> None:
    register_plugin(LinesPlugin(), name="lines")
    LinesSink.checked.clear()
    f = _export(tmp_path / "e")
    report = verify_export(tmp_path / "e")
    assert report.ok, report.lines()
    assert LinesSink.checked == ["part-0.txt"] and report.tables[0].rows == 3
    f.write_text("0\n1\n")  # one row lost (and the hash differs)
    problems = verify_export(tmp_path / "e").tables[0].problems
    assert "items/part-0.txt: 2 rows in its lines, the manifest says 3" in problems, problems
    f.write_text("0\n1\n2")
    assert "items/part-0.txt: does not end with a newline" in verify_export(tmp_path / "e").tables[0].problems


def test_without_the_sink_the_files_are_hashed_only_and_that_is_a_problem(tmp_path: Path) -> None:
    _export(tmp_path / "e", sink="nowhere")
    report = verify_export(tmp_path / "e")
    assert report.exit_code == 1 and report.files_checked == 1 and report.tables[0].ok
    assert any("unknown sink 'nowhere'" in p and "checked by SHA-256 only" in p for p in report.problems)


@pytest.mark.parametrize("quarantine", [False, True])
def test_the_parquet_sink_reads_row_counts_and_schemas_from_footers(tmp_path: Path, quarantine: bool) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from adu_core.manifest import ManifestColumn
    from adu_parquet.sink import ParquetSink

    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"id": pa.array([1, 2], pa.int64())}), path)
    col = ManifestColumn(name="id", source_type=None, arrow_type="int64", nullable=True)
    table = ManifestTable("s", "t", "table", "succeeded", "j", None, (col,), (), 2, 0, ())
    check = ParquetSink.check_file(path, table, quarantine=quarantine)
    assert check.rows == 2 and check.rows_from == "its footer"
    assert check.problems == (("has no _adu_failed_checks column",) if quarantine else ())
    path.write_bytes(b"not parquet")
    bad = ParquetSink.check_file(path, table)
    assert bad.rows is None and bad.problems[0].startswith("is not a readable Parquet file")
