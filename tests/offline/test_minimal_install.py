"""The smallest useful install: ``pip install adu-core adu-cli adu-parquet adu-postgres``
(no adu-duckdb, no adu-web, so no DuckDB, no Flask), from the locally built wheels with no
index, gives a working ``adu export`` of PostgreSQL (and ``adu verify``), and one clear
line for ``adu demo`` / ``adu serve``, whose plugins are missing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_offline_install import _base_python

pytestmark = [pytest.mark.offline, pytest.mark.slow]

DISTS = ["adu-core", "adu-cli", "adu-parquet", "adu-postgres"]


@pytest.fixture(scope="module")
def minimal(wheelhouse: Path, pg: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("minimal")
    venv = work / "venv"
    subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", "--find-links", str(wheelhouse), *DISTS],
        capture_output=True,
        text=True,
        timeout=900,
        env={"PATH": os.environ["PATH"], "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    db = pg.create_database("minimal")
    db.execute("CREATE TABLE public.readings (id bigint PRIMARY KEY, at timestamptz NOT NULL, value numeric(8,2))")
    db.execute(
        "INSERT INTO public.readings SELECT g, TIMESTAMPTZ '2025-01-01 00:00+00' + g * INTERVAL '1 min', g / 7.0 "
        "FROM generate_series(1, 500) g"
    )
    env = {"PATH": os.environ["PATH"], "ADU_DATA_DIR": str(work / "data"), "HOME": str(work)}
    yield {"venv": venv, "env": env, "work": work, "url": db.dsn}
    db.drop()


def _run(m: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(m["venv"] / "bin" / "adu"), *args], capture_output=True, text=True, env=m["env"], timeout=600
    )


def test_only_the_four_distributions_and_no_duckdb_or_flask(minimal: dict[str, Any]) -> None:
    code = (
        "import importlib.util as u, importlib.metadata as md\n"
        "print([n for n in ('duckdb', 'flask', 'adu_duckdb', 'adu_web', 'adu_pandera') if u.find_spec(n)])\n"
        "print(sorted(d.metadata['Name'] for d in md.distributions() if d.metadata['Name'].startswith('adu')))"
    )
    out = subprocess.run([str(minimal["venv"] / "bin" / "python"), "-c", code], capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert lines == ["[]", str(sorted(DISTS))], out.stdout + out.stderr


def test_export_and_verify_work(minimal: dict[str, Any]) -> None:
    out = minimal["work"] / "export"
    res = _run(minimal, "export", minimal["url"], "--out", str(out), "--table", "public.readings", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["rows"] == 500
    res = _run(minimal, "verify", str(out))
    assert res.returncode == 0 and res.stdout.splitlines()[-1].startswith("OK: 1 table(s), 1 file(s), 500 rows")
    res = _run(minimal, "inspect", str(out))
    assert res.returncode == 0 and "public.readings" in res.stdout


@pytest.mark.parametrize(("command", "dist"), [("demo", "adu-duckdb"), ("serve", "adu-web")])
def test_missing_plugin_commands_say_what_to_install(minimal: dict[str, Any], command: str, dist: str) -> None:
    res = _run(minimal, command, "--help")
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.strip() == f"adu: error: adu {command} needs the {dist} plugin: pip install {dist}"
    assert "Traceback" not in res.stdout + res.stderr
    listing = _run(minimal, "--help")
    assert listing.returncode == 0 and "export" in listing.stdout and f"  {command} " not in listing.stdout
