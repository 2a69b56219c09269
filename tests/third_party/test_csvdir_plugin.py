"""A third-party source plugin, installed as its own distribution: listed by ``adu plugins``,
discovered and exported by ``adu discover`` / ``adu export`` (and the export verifies), its
options checked from its schema, and shown as fields in the web's new-job form."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from csvdir_kit import adu_env

ADU = [sys.executable, "-m", "adu_cli.main"]


def _adu(site: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ADU, *args], capture_output=True, text=True, env=adu_env(site, data), timeout=300)


def test_adu_plugins_lists_it_with_its_options(csvdir_site: Path, tmp_path: Path) -> None:
    res = _adu(csvdir_site, tmp_path, "plugins", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    plugin = next(p for p in data["plugins"] if p["name"] == "csvdir")
    assert plugin == {
        "name": "csvdir",
        "module": "adu_csvdir.plugin",
        "version": "1.0.0",
        "builtin": False,
        "provides": ["source:csvdir"],
    }
    source = next(c for c in data["components"] if c["kind"] == "source" and c["name"] == "csvdir")
    assert source["plugin"] == "csvdir" and source["schemes"] == ["csvdir"]
    options = {o["name"]: o for o in source["options"]}
    assert list(options) == ["include_views", "include_foreign", "delimiter", "header", "null"]
    assert options["header"]["type"] == "bool" and options["header"]["default"] is True
    assert data["errors"] == []
    # without the plugin on the path it is simply not there
    res = subprocess.run([*ADU, "plugins"], capture_output=True, text=True, env=adu_env(tmp_path, tmp_path))
    assert res.returncode == 0 and "csvdir" not in res.stdout


def test_discover_export_and_verify(csvdir_site: Path, csv_folder: Path, tmp_path: Path) -> None:
    url = f"csvdir://{csv_folder}"
    res = _adu(csvdir_site, tmp_path, "discover", url, "--json")
    assert res.returncode == 0, res.stderr
    assert "csv" in res.stdout and "weather" in res.stdout and "stations" in res.stdout
    out = tmp_path / "out"
    args = ["export", url, "--out", str(out), "--source-option", "delimiter=;", "--source-option", "null=NA"]
    res = _adu(csvdir_site, tmp_path, *args, "--table", "csv.weather", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["status"] == "succeeded"
    manifest = json.loads((out / "manifest.json").read_text())
    (entry,) = manifest["tables"]
    assert (entry["schema"], entry["name"], entry["rows"]) == ("csv", "weather", 3)
    table = pq.read_table(out / entry["files"][0]["path"])
    assert table.to_pylist() == [
        {"id": 1, "city": "Oslo", "temp": -3.5},
        {"id": 2, "city": "Lima", "temp": None},
        {"id": 3, "city": "Zürich; CH", "temp": 12.25},
    ]
    assert manifest["source"]["kind"] == "csvdir"
    # verify needs no plugin but the sink's: the far side has no CSV reader
    res = subprocess.run([*ADU, "verify", str(out)], capture_output=True, text=True, env=adu_env(tmp_path, tmp_path))
    assert res.returncode == 0 and res.stdout.splitlines()[-1].startswith("OK: 1 table(s)"), res.stdout


def test_its_options_are_checked_from_its_schema(csvdir_site: Path, csv_folder: Path, tmp_path: Path) -> None:
    url = f"csvdir://{csv_folder}"
    for option, message in (
        ("colour=red", "unknown CSV folder source option(s): colour; allowed: delimiter, header, include_foreign"),
        ("header=maybe", "source option header must be true or false"),
    ):
        res = _adu(csvdir_site, tmp_path, "export", url, "--out", str(tmp_path / "x"), "--source-option", option)
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1 and message in lines[0], res.stderr
        assert not (tmp_path / "x").exists()


def test_its_options_show_in_the_web_form(
    csvdir_site: Path, csv_folder: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In this process: the plugin found through its entry point (a fresh plugin manager),
    its option fields in the new-job form, and what is typed there reaching the job."""
    from adu_core import config
    from adu_core.plugin.manager import Plugins, get_plugins, set_plugins
    from adu_core.services import Context
    from adu_core.store import Store
    from adu_web import create_app

    monkeypatch.syspath_prepend(str(csvdir_site))
    previous = get_plugins()
    set_plugins(Plugins())
    monkeypatch.setenv("ADU_SECRET_KEY", "test-secret-key-0123456789")
    settings = config.load({"ADU_DATA_DIR": str(tmp_path / "data"), "ADU_ENV": "test"})
    # a plugin's own scheme reaches the web through an admin's named connection: typed URLs
    # from the web are only the schemes the server's parser knows (issue 13)
    settings.connections_file.parent.mkdir(parents=True, exist_ok=True)
    settings.connections_file.write_text(f"connections:\n  weather:\n    url: csvdir://{csv_folder}\n")
    store = Store.from_settings(settings)
    try:
        store.accounts.add("op", "op-password-123", "operator")
        http = create_app(settings, Context(settings, store=store)).test_client()
        token = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
        page = http.get("/login").data.decode()
        login = {"username": "op", "password": "op-password-123", "csrf_token": token.search(page).group(1)}
        assert http.post("/login", data=login).status_code == 302
        page = http.get("/jobs/new").data.decode()
        assert "CSV folder options" in page
        for field in ("so_csvdir__delimiter", "so_csvdir__header", "so_csvdir__null"):
            assert f'name="{field}"' in page, field
        assert "the character between fields" in page  # the option's help
        form = {
            "csrf_token": token.search(page).group(1),
            "url": "@weather",
            "target": str(tmp_path / "web-out"),
            "parallel": "1",
            "validate_data": "y",
            "action": "submit",
            "table": ["csv.weather"],
            "so_csvdir__delimiter": ";",
            "so_csvdir__header": "true",
            "so_duckdb__include_views": "true",  # another source's section: not this job's
        }
        r = http.post("/jobs/new", data=form)
        assert r.status_code == 302, re.findall(r'class="(?:error|flash[^"]*)"[^>]*>([^<]+)', r.data.decode())
        job = store.list_jobs()[0]
        assert job.spec.source == "@weather"
        assert job.spec.source_options == {"delimiter": ";", "header": True}
        r = http.post("/jobs/new", data={**form, "so_csvdir__header": "maybe"})
        assert r.status_code == 400 and b"Check the fields" in r.data
    finally:
        store.dispose()
        set_plugins(previous)
