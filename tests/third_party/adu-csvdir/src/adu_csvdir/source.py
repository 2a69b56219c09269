"""``csvdir:///path/to/folder``: every ``*.csv`` file of the folder is a table of schema ``csv``.

Column types are inferred by pyarrow from the start of each file at discovery, and every
read converts with exactly those types, so all batches of a table share one schema.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.csv as pcsv
from adu_core.errors import ConnectError, SourceError, UsageError
from adu_core.models import ColumnInfo, Partition, SourceInfo, TableInfo
from adu_core.plugin.components import CancelToken, Source
from adu_core.plugin.options import Option

SCHEMA = "csv"


class CsvDirSource(Source):
    """A folder of CSV files."""

    name: ClassVar[str] = "csvdir"
    title: ClassVar[str] = "CSV folder"
    schemes: ClassVar[tuple[str, ...]] = ("csvdir",)
    description: ClassVar[str] = "a folder of CSV files (csvdir:///path), one table per file"
    option_schema: ClassVar[tuple[Option, ...]] = (
        Option("delimiter", default=",", help="the character between fields"),
        Option("header", "bool", default=True, help="the first line names the columns"),
        Option("null", default="", help="the text that stands for NULL"),
    )

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)  # checks the options against option_schema
        self.folder = Path(unquote(urlsplit(url).path))
        self.delimiter = str(self.options.get("delimiter", ","))
        if len(self.delimiter) != 1:
            raise UsageError("source option delimiter must be one character")
        self.header = bool(self.options.get("header", True))
        self.null = str(self.options.get("null", ""))

    # -- coordinator ---------------------------------------------------------------------

    def info(self) -> SourceInfo:
        return SourceInfo(url=f"csvdir://{self.folder}", kind=self.name, server_version=None)

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            raise ConnectError(f"no folder at {self.folder}")
        return sorted(p for p in self.folder.glob("*.csv") if p.is_file())

    def _options(
        self, schema: pa.Schema | None = None
    ) -> tuple[pcsv.ReadOptions, pcsv.ParseOptions, pcsv.ConvertOptions]:
        names = None if self.header or schema is None else schema.names
        read = pcsv.ReadOptions(autogenerate_column_names=not self.header and schema is None, column_names=names)
        parse = pcsv.ParseOptions(delimiter=self.delimiter)
        types = dict(zip(schema.names, schema.types, strict=True)) if schema is not None else None
        convert = pcsv.ConvertOptions(null_values=[self.null], strings_can_be_null=True, column_types=types)
        return read, parse, convert

    def discover(self, *, include_views: bool = False, include_foreign: bool = False) -> list[TableInfo]:
        tables = []
        for path in self._files():
            read, parse, convert = self._options()
            try:
                with pcsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as r:
                    schema = r.schema
            except (pa.ArrowInvalid, OSError) as exc:
                raise SourceError(f"{path.name}: {str(exc).splitlines()[0]}") from None
            columns = tuple(ColumnInfo(name=f.name, source_type=f"csv {f.type}", arrow_type=f.type) for f in schema)
            size = path.stat().st_size
            tables.append(TableInfo(schema=SCHEMA, name=path.stem, columns=columns, size_bytes=size))
        return tables

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[dict[str, Any]]:
        """The files' sizes and modification times: the manifest says what was read."""
        yield {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in self._files()}

    def partitions(self, table: TableInfo, *, target: int) -> list[Partition]:
        return [Partition(table=table, index=0, count=1)]  # one file, one reader

    # -- worker --------------------------------------------------------------------------

    def read(
        self, partition: Partition, *, snapshot: Mapping[str, Any], batch_rows: int, cancel: CancelToken
    ) -> Iterator[pa.RecordBatch]:
        table = partition.table
        schema = table.arrow_schema()
        path = self.folder / f"{table.name}.csv"
        read, parse, convert = self._options(schema)
        read.block_size = max(1 << 16, batch_rows * 64)
        try:
            with pcsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as reader:
                for batch in reader:
                    if cancel.is_set():
                        return
                    yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)
        except (pa.ArrowInvalid, OSError) as exc:
            raise SourceError(f"reading {os.fspath(path)}: {str(exc).splitlines()[0]}") from None
