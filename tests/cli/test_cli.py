"""The CLI as a user runs it: a real `adu` process, real exit codes, one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ADU = [sys.executable, "-m", "adu_cli.main"]


def adu(*args, env_extra=None, data_dir, input=None, timeout=180):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADU_", "PG"))}
    env.update({"ADU_DATA_DIR": str(data_dir), "ADU_PARALLEL": "2"})
    env.update(env_extra or {})
    return subprocess.run([*ADU, *args], capture_output=True, text=True, env=env, input=input, timeout=timeout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`adu demo` once for the module: the sample database, its export and the store."""
    base = tmp_path_factory.mktemp("cli")
    data = base / "data"
    res = adu("demo", "--dir", str(base / "demo"), data_dir=data)
    assert res.returncode == 0, res.stderr + res.stdout
    return {
        "base": base,
        "data": data,
        "db": base / "demo" / "adu-demo.duckdb",
        "out": base / "demo" / "export",
        "stdout": res.stdout,
    }


def test_demo_exports_verifies_and_records_the_job(demo):
    out = demo["stdout"]
    assert "verify: OK" in out
    assert "job " in out and "succeeded" in out
    manifest = json.loads((demo["out"] / "manifest.json").read_text())
    assert len(manifest["tables"]) == 4
    jobs = json.loads(adu("jobs", "list", "--json", data_dir=demo["data"]).stdout)
    assert jobs[0]["status"] == "succeeded" and jobs[0]["rows"] == 72500
    show = adu("jobs", "show", jobs[0]["id"][:10], data_dir=demo["data"])
    assert show.returncode == 0 and "shop.orders: succeeded, 20,000 rows" in show.stdout
    logs = adu("jobs", "logs", jobs[0]["id"], "--json", data_dir=demo["data"])
    assert logs.returncode == 0 and all(
        json.loads(line)["job_id"] == jobs[0]["id"] for line in logs.stdout.splitlines()
    )


def test_export_select_and_json(demo, tmp_path):
    res = adu(
        "export",
        str(demo["db"]),
        "--out",
        str(tmp_path / "o"),
        "--table",
        "shop.customers",
        "--schema",
        "telemetry",
        "--json",
        data_dir=demo["data"],
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["status"] == "succeeded"
    assert sorted(t["table"] for t in data["tables"]) == ["shop.customers", "telemetry.sensor readings"]


def _one_line_error(res, code, *needles):
    assert res.returncode == code, (res.returncode, res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("adu: error: "), res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def test_bad_input_is_one_line_and_exit_2(demo, tmp_path):
    data = demo["data"]
    _one_line_error(
        adu("export", "mysql://u:hunter2@h/db", "--out", str(tmp_path / "a"), data_dir=data),
        2,
        "unknown source scheme 'mysql'",
    )
    _one_line_error(
        adu("export", str(demo["db"]), "--out", str(tmp_path / "b"), "--table", "shop.nope", data_dir=data),
        2,
        "shop.nope",
    )
    _one_line_error(adu("export", str(demo["db"]), "--out", str(demo["out"]), data_dir=data), 2, "already")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _one_line_error(adu("export", str(demo["db"]), "--out", str(blocker / "sub"), data_dir=data), 2)
    _one_line_error(adu("jobs", "show", "0123456789abcdef", data_dir=data), 2, "no job")
    rules = tmp_path / "rules.yaml"
    rules.write_text("tables:\n  shop.customers:\n    columns:\n      age: {between_ages: 3}\n")
    _one_line_error(
        adu("export", str(demo["db"]), "--out", str(tmp_path / "c"), "--rules", str(rules), data_dir=data),
        2,
        "rules.yaml",
    )
    _one_line_error(adu("export", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path / "d"), data_dir=data), 2)


def test_unwritable_output_directory(demo, tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        # root writes anywhere, even in a read-only folder: use /proc, where nobody can create
        target = Path("/proc/adu-cannot-write-here") if os.geteuid() == 0 else locked / "out"
        _one_line_error(adu("export", str(demo["db"]), "--out", str(target), data_dir=demo["data"]), 2)
    finally:
        locked.chmod(0o700)


def test_overwrite_replaces_the_export(demo, tmp_path):
    out = tmp_path / "o"
    assert (
        adu("export", str(demo["db"]), "--out", str(out), "--table", "shop.products", data_dir=demo["data"]).returncode
        == 0
    )
    res = adu(
        "export", str(demo["db"]), "--out", str(out), "--table", "shop.customers", "--overwrite", data_dir=demo["data"]
    )
    assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert [t["name"] for t in manifest["tables"]] == ["customers"]
    assert adu("verify", str(out), data_dir=demo["data"]).returncode == 0


def test_plugins_lists_versions_and_components(demo):
    res = adu("plugins", "--json", data_dir=demo["data"])
    data = json.loads(res.stdout)
    provides = {p["name"]: p["provides"] for p in data["plugins"]}
    assert "source:duckdb" in provides["duckdb"] and "sink:parquet" in provides["parquet"]
    assert all(p["version"] for p in data["plugins"]) and data["errors"] == []


def test_job_failure_exit_code_1(demo, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("tables:\n  shop.customers:\n    on_failure: fail\n    columns:\n      age: {le: 20}\n")
    res = adu(
        "export",
        str(demo["db"]),
        "--out",
        str(tmp_path / "o"),
        "--table",
        "shop.customers",
        "--rules",
        str(rules),
        data_dir=demo["data"],
    )
    assert res.returncode == 1, res.stderr
    assert "FAILED" in res.stdout and "validation" in res.stdout
