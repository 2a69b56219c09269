"""Fixtures of the interop suite: the zoo database, its exports in each far-side profile,
PostgreSQL's text of every value, and ONE local Spark session for the whole test session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from interop_helpers import export
from needs import skip_or_fail

ZOO_SQL = (Path(__file__).parent / "zoo.sql").read_text()
TABLES = (
    "public.zoo",
    "public.collide",
    "public.far",
    "public.nocols",
    "public.only_uuid",
    "public.only_time",
    "public.only_n76",
    "public.only_dates",
    "public.only_nan",
)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local Spark (``local[1]``, UTC, no UI), started once per test session."""
    if shutil.which("java") is None:
        skip_or_fail("PySpark needs Java 17 (apt-get install openjdk-17-jre-headless)")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        skip_or_fail("pyspark is not installed (python3 scripts/bootstrap.py installs it)")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("adu-interop")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")
        .config("spark.sql.parquet.int96RebaseModeInRead", "CORRECTED")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def interop_db(pg) -> Iterator[Any]:
    db = pg.create_database("interop")
    db.execute("CREATE EXTENSION IF NOT EXISTS hstore", superuser=True)
    db.execute(ZOO_SQL.replace("CREATE EXTENSION IF NOT EXISTS hstore;", ""))
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture(scope="module")
def exports(interop_db, tmp_path_factory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """``{profile: (export directory, manifest)}`` of the zoo's tables."""
    out = {}
    for profile in ("portable", "exact"):
        target = tmp_path_factory.mktemp(f"interop-{profile}") / "export"
        out[profile] = (target, export(interop_db.dsn, target, TABLES, profile))
    return out


@pytest.fixture(scope="module")
def uuid_text_export(interop_db, tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """The portable profile with the source option ``uuid=text`` (uuid as its 36-character
    text): the zoo and the uuid table, ``(export directory, manifest)``."""
    target = tmp_path_factory.mktemp("interop-uuid-text") / "export"
    return target, export(interop_db.dsn, target, ("public.zoo", "public.only_uuid"), "portable", "uuid=text")
