"""The air-gap proof: from the wheelhouse alone, with no network at all, install ADU into
a fresh virtual environment, export a PostgreSQL schema through its Unix socket, verify
the export, and serve the login page on loopback.

Everything after the wheelhouse build runs in a new network namespace (``unshare -n``,
only the loopback interface, brought up): a download attempt of any kind (pip, a DuckDB
extension, a CDN) has nowhere to go and fails a step. As root (CI) the namespace is made
directly; otherwise with a user namespace (``unshare -rn``) where the kernel allows it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from needs import skip_or_fail

pytestmark = [pytest.mark.offline, pytest.mark.slow]

DRIVER = Path(__file__).with_name("offline_driver.py")
SCHEMA = "sales"
ROWS = 1500


def _base_python() -> str:
    """A bare CPython 3.11 with venv and ensurepip (the dev venv's base interpreter)."""
    env = os.environ.get("ADU_TEST_OFFLINE_PYTHON")
    if env:
        return env
    base = getattr(sys, "_base_executable", sys.executable)
    if Path(base).resolve().is_relative_to(Path(sys.prefix).resolve()):
        base = shutil.which("python3.11") or shutil.which("python3") or base
    return base


def _namespace_prefix() -> list[str]:
    """The command prefix entering a fresh network namespace, loopback up."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        skip_or_fail("needs unshare (util-linux) and ip (iproute2)")
    prefix = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-r", "-n"]
    probe = subprocess.run([*prefix, "ip", "link", "set", "lo", "up"], capture_output=True, text=True)
    if probe.returncode != 0:
        if os.geteuid() == 0:
            pytest.fail(f"unshare -n does not work as root: {probe.stderr.strip()}")
        pytest.skip(f"no network namespaces for this user: {probe.stderr.strip()}")
    return [*prefix, "sh", "-c", 'ip link set lo up && exec "$0" "$@"']


def _make_schema(db: Any) -> None:
    db.execute(f"CREATE SCHEMA {SCHEMA}")
    db.execute(f"""
        CREATE TABLE {SCHEMA}.customers (
            id integer PRIMARY KEY, name text NOT NULL, email text, created date NOT NULL)""")
    db.execute(f"""
        INSERT INTO {SCHEMA}.customers
        SELECT g, 'customer ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'c' || g || '@example.org' END,
               DATE '2024-01-01' + g
        FROM generate_series(1, 100) g""")
    db.execute(f"""
        CREATE TABLE {SCHEMA}.orders (
            id bigint PRIMARY KEY, customer_id integer NOT NULL REFERENCES {SCHEMA}.customers,
            amount numeric(12,2) NOT NULL, paid boolean, placed_at timestamptz NOT NULL, note text)""")
    db.execute(f"""
        INSERT INTO {SCHEMA}.orders
        SELECT g, 1 + g % 100, (g * 3.17)::numeric(12,2), g % 3 <> 0,
               TIMESTAMPTZ '2024-03-01 00:00:00+00' + g * INTERVAL '1 minute',
               CASE WHEN g % 5 = 0 THEN 'é ü ✓ ' || g END
        FROM generate_series(1, {ROWS}) g""")


def _step(result: dict[str, Any], name: str) -> dict[str, Any]:
    for rec in result["steps"]:
        if rec["name"] == name:
            return rec
    done = [r["name"] for r in result["steps"]]
    last = result["steps"][-1] if result["steps"] else None
    detail = ""
    if last is not None:
        detail = f"\nlast step {last['name']!r} exit {last['returncode']}:\n{last['stdout']}\n{last['stderr']}"
    pytest.fail(f"step {name!r} did not run (ran: {done}){detail}", pytrace=False)


def _ok(rec: dict[str, Any]) -> None:
    if rec["returncode"] != 0:
        hint = ""
        if rec["name"] == "pip install":
            hint = (
                "\n(pip cannot install from the wheelhouse alone: a wheel is missing, or something tried "
                "to download; there is no network here)"
            )
        pytest.fail(
            f"{rec['name']} exited {rec['returncode']}{hint}\n$ {' '.join(map(str, rec['cmd']))}\n"
            f"--- stdout\n{rec['stdout']}\n--- stderr\n{rec['stderr']}",
            pytrace=False,
        )


def _dockerfile_healthcheck() -> list[str]:
    text = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text().replace("\\\n", " ")
    m = re.search(r"^HEALTHCHECK .*? CMD (\[.*\])\s*$", text, re.M)
    assert m, "no HEALTHCHECK ... CMD [...] in the Dockerfile"
    cmd: list[str] = json.loads(m.group(1))
    return cmd


@pytest.fixture(scope="module")
def offline_run(offline_bundle: Path, pg: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    prefix = _namespace_prefix()
    db = pg.create_database("offline")
    try:
        _make_schema(db)
        work = tmp_path_factory.mktemp("offline")
        key_file = work / "secret_key"
        key_file.write_text("offline-test-secret-key-0123456789\n")
        key_file.chmod(0o600)
        cfg = {
            "bundle": str(offline_bundle),
            "healthcheck": _dockerfile_healthcheck(),
            "work": str(work),
            "python": _base_python(),
            "source_url": db.socket_url(),
            "schema": SCHEMA,
            "secret_key_file": str(key_file),
        }
        cfg_path = work / "config.json"
        cfg_path.write_text(json.dumps(cfg))
        result_path = work / "result.json"
        proc = subprocess.run(
            [*prefix, cfg["python"], str(DRIVER), str(cfg_path), str(result_path)],
            capture_output=True,
            text=True,
            timeout=1200,
            env={"PATH": os.environ["PATH"]},
        )
        if proc.returncode != 0 or not result_path.exists():
            pytest.fail(
                f"the offline driver failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}",
                pytrace=False,
            )
        result: dict[str, Any] = json.loads(result_path.read_text())
        result["work"] = str(work)
        # the unpacked bundle and the venv are large; result.json and the exports stay
        for big in ("bundle", "venv"):
            shutil.rmtree(work / big, ignore_errors=True)
        return result
    finally:
        db.drop()


def test_the_namespace_has_no_network(offline_run: dict[str, Any]) -> None:
    net = offline_run["network"]
    assert net["interfaces"] == ["lo"], net
    assert net["ipv4_routes"] == [], net
    assert set(net["ipv6_route_devices"]) <= {"lo"}, net


def test_the_bundle_checks_and_unpacks(offline_run: dict[str, Any]) -> None:
    rec = _step(offline_run, "bundle checksum")
    _ok(rec)
    assert ": OK" in rec["stdout"]
    _ok(_step(offline_run, "unpack"))
    _ok(_step(offline_run, "bundle files"))


def test_pip_installs_everything_from_the_wheelhouse_alone(offline_run: dict[str, Any]) -> None:
    _ok(_step(offline_run, "venv"))
    rec = _step(offline_run, "pip install")
    _ok(rec)
    assert "Successfully installed" in rec["stdout"]
    installed = set(re.findall(r"\b(adu(?:-[a-z]+)?)-0\.1\.0\b", rec["stdout"]))
    assert {
        "adu",
        "adu-core",
        "adu-cli",
        "adu-web",
        "adu-parquet",
        "adu-postgres",
        "adu-duckdb",
        "adu-pandera",
        "adu-vertica",
    } <= installed, rec["stdout"]
    _ok(_step(offline_run, "pip check"))
    version = _step(offline_run, "adu --version")
    _ok(version)
    assert "0.1.0" in version["stdout"]


def test_every_builtin_plugin_loads(offline_run: dict[str, Any]) -> None:
    rec = _step(offline_run, "adu plugins")
    _ok(rec)
    for name in ("postgres", "vertica", "duckdb", "parquet", "pandera", "dask"):
        assert re.search(rf"^{name}\b", rec["stdout"], re.M), rec["stdout"]
    assert "error" not in rec["stderr"].lower(), rec["stderr"]


def test_export_through_the_unix_socket_and_verify(offline_run: dict[str, Any]) -> None:
    _ok(_step(offline_run, "adu export"))
    _ok(_step(offline_run, "adu verify"))
    _ok(_step(offline_run, "adu inspect"))
    out = Path(offline_run["work"]) / "exports" / "pg"
    rows: dict[str, int] = {}
    for f in out.rglob("*.parquet"):
        for table in ("customers", "orders"):
            if table in f.relative_to(out).as_posix():
                rows[table] = rows.get(table, 0) + pq.ParquetFile(f).metadata.num_rows
    assert rows == {"customers": 100, "orders": ROWS}


def test_export_on_a_dask_local_cluster_offline(offline_run: dict[str, Any]) -> None:
    """distributed and its dependencies came from the wheelhouse; a LocalCluster starts and
    runs the partitions with no network."""
    rec = _step(offline_run, "adu export dask")
    _ok(rec)
    _ok(_step(offline_run, "adu verify dask"))
    out = Path(offline_run["work"]) / "exports" / "dask"
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in out.rglob("*.parquet") if "orders" in f.as_posix())
    assert rows == ROWS


def test_demo_runs_offline(offline_run: dict[str, Any]) -> None:
    _ok(_step(offline_run, "adu demo"))


def test_serves_the_login_page_on_loopback(offline_run: dict[str, Any]) -> None:
    _ok(_step(offline_run, "adu users add"))
    rec = _step(offline_run, "serve")
    pages = rec["pages"]
    context = f"server output:\n{rec['stdout']}"
    assert pages["/healthz"]["status"] == 200, context
    assert pages["/readyz"]["status"] == 200, context
    login = pages["/login"]
    assert login["status"] == 200, context
    assert re.search(r"<form[^>]*method=\"?post", login["body"], re.I), login["body"][:2000]
    assert 'type="password"' in login["body"], login["body"][:2000]
    assert pages["/static/adu.css"]["status"] == 200, context
    # nothing the page loads comes from elsewhere (no CDN)
    external = re.findall(r"(?:src|href)=\"(?:https?:)?//[^\"]+\"", login["body"], re.I)
    assert external == [], external
    hc = rec["healthcheck"]
    assert hc["returncode"] == 0, hc
    assert rec["healthcheck_after_stop"] != 0
    assert rec.get("killed") is not True, f"adu serve did not stop on SIGTERM\n{context}"
    assert rec["returncode"] == 0, context


def test_nothing_was_downloaded_at_run_time(offline_run: dict[str, Any]) -> None:
    # DuckDB would install extensions under ~/.duckdb/extensions: none, and no step failed
    assert offline_run["duckdb_extension_dirs"] == []
    failed = [(r["name"], r["returncode"]) for r in offline_run["steps"] if r["returncode"] != 0]
    assert failed == []


def test_service_log_is_json_on_stdout(offline_run: dict[str, Any]) -> None:
    # ADU_LOG_STDOUT=1 (the image's default): ADU's own records are JSON lines on stdout
    rec = _step(offline_run, "serve")
    records = []
    for line in rec["stdout"].splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    assert any(r["logger"].startswith("adu.") and r["level"] == "INFO" for r in records), rec["stdout"]
    export = _step(offline_run, "adu export")
    job_lines = [json.loads(ln) for ln in export["stdout"].splitlines() if ln.startswith("{")]
    assert any(r.get("job_id") and "job succeeded" in r["message"] for r in job_lines)
