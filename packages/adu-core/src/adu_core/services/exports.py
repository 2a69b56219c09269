"""The far side: check an export, read its manifest, open its tables.

``adu verify``, ``adu inspect``, the web's export browser and notebooks all go through
these functions::

    import adu_core as adu
    export = adu.open_export("/media/usb/prod-2026-12-02", public_key="adu.pub")  # verifies first
    orders = export.polars("sales.orders")          # a polars LazyFrame
    export.duckdb("sales.orders").aggregate("count(*)")
    export.dataset("sales.orders").to_table()       # a pyarrow dataset

Files are always taken from the manifest, each checked to be a regular file inside the
export directory (never a path that leaves it, never a symbolic link), and read by the
sink that wrote them (:meth:`adu_core.plugin.components.Sink.open_files`), so the format
is the sink's business. polars and DuckDB are imported only when asked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from adu_core.chain import ChainReport
from adu_core.chain import verify_chain as _verify_chain
from adu_core.errors import AduError, UsageError
from adu_core.manifest.fields import ManifestError
from adu_core.manifest.io import load_manifest
from adu_core.manifest.model import SIGNATURE_NAME, Manifest, ManifestTable
from adu_core.verify import TableReport, VerifyReport
from adu_core.verify import verify_export as _verify

if TYPE_CHECKING:
    import duckdb
    import polars
    import pyarrow.dataset
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from adu_core.plugin.components import Sink

__all__ = [
    "ChainReport",
    "Export",
    "ExportMismatch",
    "Manifest",
    "ManifestError",
    "ManifestTable",
    "Preview",
    "TableReport",
    "VerifyReport",
    "browse_export",
    "chain_summary",
    "open_export",
    "read_manifest",
    "verify_chain",
    "verify_export",
]

PathLike = str | os.PathLike[str]

#: cells longer than this are cut in previews
MAX_CELL = 200


class ExportMismatch(AduError):
    """The export does not verify (exit code 1); :attr:`report` says why."""

    def __init__(self, report: VerifyReport) -> None:
        bad = [line for line in report.lines() if not line.startswith("ok ")]
        super().__init__(f"{report.directory} does not verify: " + (bad[0] if bad else "mismatch"))
        self.report = report


def read_manifest(path: PathLike, *, max_bytes: int | None = None) -> Manifest:
    """The typed manifest of the export in ``path`` (its directory or its manifest.json).

    :raises ManifestError: a UsageError naming the file and the problem (no manifest,
        not JSON, not an ADU manifest, a newer format version, a missing or mistyped field).
    """
    return load_manifest(path, max_bytes=max_bytes)


def verify_export(
    path: PathLike,
    public_key: Ed25519PublicKey | str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
) -> VerifyReport:
    """Check every file of the export in ``path`` against its manifest (SHA-256, what the
    sink finds inside each file, missing and unexpected files, the checksum) and the
    signature when ``public_key`` (a key or its PEM file) is given.

    The report's ``exit_code`` is 0 (all matches), 1 (a mismatch) or 2 (not an export).

    :raises UsageError: ``public_key`` is not an Ed25519 public key.
    """
    return _verify(path, public_key=public_key, workers=workers)


def verify_chain(
    paths: list[PathLike],
    public_key: Ed25519PublicKey | str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
) -> ChainReport:
    """Verify each export of ``paths`` (oldest first) and that each one continues the one
    before it: a gap, a repeat, a swap, an edited link or another signing key is named.

    The report's ``exit_code`` is 0 (all checks), 1 (a mismatch) or 2 (one is not an export).
    """
    return _verify_chain(paths, public_key=public_key, workers=workers)


def chain_summary(manifest: Manifest) -> list[str]:
    """What an incremental export says about itself, for people: where a delta starts,
    each cursor table's bounds, the tables exported whole, the NULL cursors."""
    out: list[str] = []
    prev = manifest.previous
    if prev is not None:
        out.append(f"delta after manifest {prev.manifest_sha256[:16]}… (job {prev.job_id or '?'})")
    for t in manifest.tables:
        c = t.cursor
        if c is None:
            continue
        since = f"{c.column} > {c.after!r}" if c.after is not None else f"{c.column}: all rows"
        line = f"  cursor    {t.qualified_name}: {since}, watermark {c.watermark!r}, {t.rows:,} rows"
        if c.null_rows:
            line += f"; {c.null_rows:,} row(s) with a NULL cursor (never picked up by a delta)"
        out.append(line)
    if prev is not None:
        whole = [t.qualified_name for t in manifest.tables if t.cursor is None]
        if whole:
            out.append("  whole     no cursor, exported whole: " + ", ".join(whole))
    return out


@attrs.frozen
class Preview:
    """The first rows of a table as text (DuckDB's text form of each value; NULL as None)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]


@attrs.define
class Export:
    """An export directory and its manifest, with each table at hand.

    :param report: the verification report when it was opened by :func:`open_export`.
    """

    directory: Path
    manifest: Manifest
    report: VerifyReport | None = None
    #: the DuckDB connection of :meth:`duckdb` (relations live as long as it does)
    _con: Any = attrs.field(default=None, repr=False, eq=False)

    @property
    def tables(self) -> tuple[ManifestTable, ...]:
        return self.manifest.tables

    @property
    def signed(self) -> bool:
        """Whether ``manifest.sig`` is there (checked only by a verification with a key)."""
        sig = self.directory / SIGNATURE_NAME
        return sig.is_file() and not sig.is_symlink()

    @property
    def sealed(self) -> bool:
        """Whether the manifest's checksum matches its content."""
        return self.manifest.is_sealed()

    def table(self, name: str | int | ManifestTable) -> ManifestTable:
        """A table by ``schema.name`` (ignoring case when that is unambiguous) or by its
        position in the manifest.

        :raises UsageError: no such table (the message lists the tables).
        """
        if isinstance(name, ManifestTable):
            return name
        if isinstance(name, int):
            if not 0 <= name < len(self.tables):
                raise UsageError(f"no table number {name} in this export ({len(self.tables)} tables)")
            return self.tables[name]
        return self.manifest.table(name)

    def files(self, name: str | int | ManifestTable, *, quarantine: bool = False) -> list[Path]:
        """The data files of a table (its quarantined rows' files with ``quarantine``), each
        checked to be a regular file inside the export directory.

        :raises UsageError: a file that is missing, not a regular file, or outside.
        """
        entry = self.table(name)
        root = self.directory.resolve()
        out = []
        for f in entry.quarantine_files if quarantine else entry.files:
            full = root / f.path
            if full.is_symlink() or not full.resolve().is_relative_to(root):
                raise UsageError(f"{f.path}: the manifest names a file outside the export; refusing to read it")
            if not full.is_file():
                raise UsageError(f"{f.path}: missing (run adu verify)")
            out.append(full)
        return out

    def _sink(self) -> type[Sink]:
        from adu_core.plugin.manager import get_plugins

        try:
            return get_plugins().sink_class(self.manifest.sink)
        except UsageError:
            raise UsageError(
                f"reading this export needs the plugin of its {self.manifest.sink!r} sink, which is not installed"
            ) from None

    def dataset(self, name: str | int | ManifestTable, *, quarantine: bool = False) -> pyarrow.dataset.Dataset:
        """The table as a pyarrow dataset (read lazily)."""
        return self._sink().open_files(self.files(name, quarantine=quarantine))

    def polars(self, name: str | int | ManifestTable, *, quarantine: bool = False) -> polars.LazyFrame:
        """The table as a polars LazyFrame (needs polars)."""
        try:
            import polars as pl
        except ImportError:
            raise UsageError("polars is not installed (pip install polars)") from None
        return pl.scan_pyarrow_dataset(self.dataset(name, quarantine=quarantine))

    def duckdb(
        self,
        name: str | int | ManifestTable,
        *,
        connection: duckdb.DuckDBPyConnection | None = None,
        quarantine: bool = False,
    ) -> duckdb.DuckDBPyRelation:
        """The table as a DuckDB relation on ``connection`` (default: this export's own
        in-memory connection, which never downloads an extension; needs duckdb)."""
        from adu_core import duck

        if connection is None:
            if self._con is None:
                self._con = duck.connect()
            connection = self._con
        return connection.from_arrow(self.dataset(name, quarantine=quarantine))

    def preview(self, name: str | int | ManifestTable, *, limit: int = 20, quarantine: bool = False) -> Preview:
        """The first ``limit`` rows as text, read by DuckDB (each value in DuckDB's own
        text form; timestamps in UTC), cells cut at :data:`MAX_CELL` characters.

        :raises UsageError: DuckDB is not installed, or cannot read the files.
        """
        from adu_core import duck

        dataset = self.dataset(name, quarantine=quarantine)
        con = duck.connect(":memory:", threads=1)
        import duckdb  # installed: duck.connect said so

        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_external_access = false")  # the dataset is read through Arrow
            con.execute("SET lock_configuration = true")
            con.register("adu_preview", dataset)
            # every value as DuckDB's own text: exact, no Python conversion (pytz...) needed
            cur = con.execute("SELECT COLUMNS(*)::VARCHAR FROM adu_preview LIMIT $1", [limit])
            columns = tuple(d[0] for d in cur.description or [])
            rows = tuple(tuple(_cell(v) for v in row) for row in cur.fetchall())
        except duckdb.Error as exc:
            raise UsageError(f"DuckDB cannot read these files: {str(exc).splitlines()[0][:200]}") from None
        finally:
            con.close()
        return Preview(columns=columns, rows=rows)


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL] + "…"


def browse_export(path: PathLike, *, max_bytes: int | None = None) -> Export:
    """The export in ``path`` with its manifest read, not verified (``adu inspect`` and
    the web's export browser; use :func:`open_export` to read data you rely on).

    :raises ManifestError: see :func:`read_manifest`.
    """
    return Export(directory=Path(path), manifest=read_manifest(path, max_bytes=max_bytes))


def open_export(
    path: PathLike,
    public_key: Ed25519PublicKey | str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
) -> Export:
    """Verify the export in ``path`` (every file hashed and checked; the signature too when
    ``public_key`` is given, or when it is signed and a key is given), then give its tables.

    :raises UsageError: ``path`` holds no export (or ``public_key`` is not a key).
    :raises ExportMismatch: the export does not verify (its ``report`` says why).
    """
    report = verify_export(path, public_key, workers=workers)
    if not report.is_export:
        raise UsageError("; ".join(report.problems) or f"{os.fspath(path)} is not an export")
    if not report.ok:
        raise ExportMismatch(report)
    return Export(directory=Path(path), manifest=read_manifest(path), report=report)
