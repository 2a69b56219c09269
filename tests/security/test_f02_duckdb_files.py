"""Finding 2: a DuckDB file whose views call read_text()/read_blob() must not export the
server's files (its secret key, the store with the admins' password hashes).

A planted DuckDB file holds such views; from the web it may only be opened below
ADU_WEB_FILE_ROOT, and wherever it is opened (the web, a named connection, a worker)
DuckDB runs with external access disabled, read-only, its configuration locked."""

from __future__ import annotations

from pathlib import Path

import pytest
from adu_core import duck
from adu_core.errors import AduError
from adu_duckdb.source import DuckDBSource
from seckit import Client, SecWorld

SECRET = "the-servers-secret-key-0123456789abcdef"


def plant(path: Path, secret_file: Path) -> Path:
    con = duck.connect(str(path))
    con.execute("CREATE TABLE harmless AS SELECT 1 AS a")
    con.execute(f"CREATE VIEW stolen AS SELECT content FROM read_text('{secret_file}')")
    con.execute(f"CREATE VIEW stolen_blob AS SELECT content FROM read_blob('{secret_file}')")
    con.close()
    return path


@pytest.fixture
def secret_file(world: SecWorld) -> Path:
    path = world.settings.data_dir / "secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SECRET)
    return path


def test_a_duckdb_file_outside_the_file_root_is_refused(world: SecWorld, operator: Client, secret_file: Path) -> None:
    planted = plant(world.root / "planted.duckdb", secret_file)
    for source in (f"duckdb://{planted}", str(planted), f"duckdb://{world.files}/../planted.duckdb"):
        r = operator.api("POST", "/api/discover", {"source": source, "source_options": {"include_views": True}})
        assert r.status_code == 400, r.data
        assert "ADU_WEB_FILE_ROOT" in r.get_json()["message"]
        r = operator.api("POST", "/api/jobs", {"source": source, "target": "x"})
        assert r.status_code == 400, r.data


def test_views_reading_server_files_fail_below_the_root(world: SecWorld, operator: Client, secret_file: Path) -> None:
    planted = plant(world.files / "planted.duckdb", secret_file)
    r = operator.api("POST", "/api/discover", {"source": f"duckdb://{planted}"})
    assert r.status_code == 200, r.data
    assert [t["name"] for t in r.get_json()["tables"]] == ["harmless"]
    r = operator.api(
        "POST", "/api/discover", {"source": f"duckdb://{planted}", "source_options": {"include_views": True}}
    )
    assert SECRET not in r.get_data(as_text=True)
    assert r.status_code == 400  # the views cannot be read: file system operations are disabled


def test_the_source_never_reads_another_file(world: SecWorld, secret_file: Path) -> None:
    """Whoever opens it (a named connection, a worker, the CLI): external access is off."""
    planted = plant(world.root / "planted2.duckdb", secret_file)
    src = DuckDBSource(f"duckdb://{planted}", {})
    try:
        con = src._connect()
        for sql in (
            "SELECT * FROM main.stolen",
            "SELECT * FROM main.stolen_blob",
            f"SELECT * FROM read_text('{secret_file}')",
            "SET enable_external_access = true",
            f"ATTACH '{world.settings.data_dir / 'adu.db'}' AS store",
        ):
            with pytest.raises(Exception) as info:
                con.execute(sql).fetchall()
            assert SECRET not in str(info.value)
    finally:
        src.close()


def test_a_job_over_the_planted_file_exports_no_secret(world: SecWorld, operator: Client, secret_file: Path) -> None:
    from adu_core.engine import run_job

    planted = plant(world.files / "planted3.duckdb", secret_file)
    r = operator.api(
        "POST",
        "/api/jobs",
        {"source": f"duckdb://{planted}", "target": "planted", "source_options": {"include_views": True}},
    )
    assert r.status_code == 201, r.data
    job_id = r.get_json()["id"]
    world.store.claim_job("w", job_id=job_id)
    with pytest.raises(AduError, match="file system operations are disabled"):
        run_job(world.store, job_id, settings=world.settings, executor="thread")
    out = world.root / "exports" / "planted"
    for f in out.rglob("*") if out.exists() else []:
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f


def test_external_access_cannot_be_asked_for_from_the_web(world: SecWorld, operator: Client) -> None:
    r = operator.api(
        "POST",
        "/api/discover",
        {"source": f"duckdb://{world.files}/x.duckdb", "source_options": {"external_access": True}},
    )
    assert r.status_code == 400
