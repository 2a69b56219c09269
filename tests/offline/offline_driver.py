"""Runs INSIDE a network namespace with no network (``unshare -n``, loopback up): the
steps a user takes on an air-gapped host, from an empty virtual environment to a served
login page. Standard library only (it runs on the bare interpreter, not the dev venv).

    python offline_driver.py CONFIG.json RESULT.json

CONFIG: ``{"bundle", "work", "source_url", "schema", "python", "secret_key_file",
"healthcheck"}``: the tarball of scripts/build-offline-bundle (its ``.sha256`` beside it) is
checked and unpacked first, as a user would. RESULT: the network
seen from inside and one record per step (command, exit code, output tail, facts);
the driver stops at the first failing step. The test (test_offline_install.py) asserts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

TAIL = 6000


def network_facts() -> dict[str, Any]:
    """Interfaces and routes as the kernel sees them in this namespace."""
    # /proc/net is this process's namespace (/sys/class/net would show the host's unless remounted)
    with open("/proc/net/dev") as f:
        ifaces = sorted(line.split(":", 1)[0].strip() for line in f.read().splitlines()[2:] if ":" in line)
    with open("/proc/net/route") as f:
        v4_routes = [line.split() for line in f.read().splitlines()[1:] if line.strip()]
    v6_routes = []
    if os.path.exists("/proc/net/ipv6_route"):
        with open("/proc/net/ipv6_route") as f:
            v6_routes = [line.split() for line in f.read().splitlines() if line.strip()]
    return {
        "interfaces": ifaces,
        "ipv4_routes": [r[0] for r in v4_routes],
        # the interface of every IPv6 route (loopback ones are always there)
        "ipv6_route_devices": sorted({r[-1] for r in v6_routes}),
    }


class Steps:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.records: list[dict[str, Any]] = []

    def run(
        self,
        name: str,
        cmd: list[str],
        *,
        stdin: str | None = None,
        timeout: float = 600,
        env: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        t0 = time.monotonic()
        try:
            proc = subprocess.run(
                cmd, input=stdin, capture_output=True, text=True, timeout=timeout, env=env or self.env, cwd=self.cwd
            )
            rc, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, out, err = -999, str(exc.stdout or ""), f"timed out after {timeout} s\n{exc.stderr or ''}"
        rec = {
            "name": name,
            "cmd": cmd,
            "returncode": rc,
            "seconds": round(time.monotonic() - t0, 1),
            "stdout": out[-TAIL:],
            "stderr": err[-TAIL:],
        }
        self.records.append(rec)
        return rec


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def serve_and_fetch(steps: Steps, adu: str, work: Path, healthcheck: list[str]) -> dict[str, Any]:
    """Start ``adu serve`` on loopback, fetch /healthz, /readyz, /login and a static file,
    run the Dockerfile's HEALTHCHECK command, then stop it with SIGTERM (a graceful stop
    must exit 0)."""
    port = free_port()
    log_path = work / "serve.log"
    rec: dict[str, Any] = {
        "name": "serve",
        "cmd": [adu, "serve", "--host", "127.0.0.1", "--port", str(port)],
        "returncode": None,
        "pages": {},
    }
    steps.records.append(rec)
    with log_path.open("w") as log:
        proc = subprocess.Popen(rec["cmd"], stdout=log, stderr=subprocess.STDOUT, env=steps.env, cwd=steps.cwd)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                # ready: the store answers and the embedded worker has registered
                status, _ = fetch(base + "/readyz", timeout=2)
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        for path in ("/healthz", "/readyz", "/login", "/static/adu.css"):
            try:
                code, body = fetch(base + path)
            except OSError as exc:
                code, body = -1, f"{type(exc).__name__}: {exc}"
            rec["pages"][path] = {"status": code, "body": body[:20000]}
        # the image's HEALTHCHECK command, as written in the Dockerfile, with this venv's python
        check = [str(Path(adu).with_name("python")) if a == "python" else a for a in healthcheck]
        hc = subprocess.run(check, capture_output=True, text=True, timeout=30, env={**steps.env, "ADU_PORT": str(port)})
        rec["healthcheck"] = {"cmd": check, "returncode": hc.returncode, "stderr": hc.stderr[-2000:]}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rec["killed"] = True
        rec["returncode"] = proc.returncode
        if "healthcheck" in rec:  # and once the server is gone, the same check fails
            hc = subprocess.run(
                rec["healthcheck"]["cmd"],
                capture_output=True,
                text=True,
                timeout=30,
                env={**steps.env, "ADU_PORT": str(port)},
            )
            rec["healthcheck_after_stop"] = hc.returncode
        rec["stdout"] = log_path.read_text(errors="replace")[-TAIL:]
        rec["stderr"] = ""
    return rec


def main(config_path: str, result_path: str) -> int:
    cfg = json.loads(Path(config_path).read_text())
    work = Path(cfg["work"])
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    venv = work / "venv"
    result: dict[str, Any] = {"network": network_facts(), "steps": []}
    # a clean environment: nothing of the dev machine's pip or ADU settings leaks in
    env = {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": str(work / "tmp"),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "ADU_DATA_DIR": str(work / "data"),
        "ADU_ENV": "production",
        "ADU_SECRET_KEY_FILE": cfg["secret_key_file"],
        "ADU_EXPORT_ROOT": str(work / "exports"),
        "ADU_WORKERS": "1",
        "ADU_PARALLEL": "2",
        "ADU_LOG_STDOUT": "1",  # as in the image: JSON service log on stdout
    }
    (work / "tmp").mkdir(exist_ok=True)
    (work / "exports").mkdir(exist_ok=True)
    steps = Steps(env, work)
    result["steps"] = steps.records
    adu = str(venv / "bin" / "adu")
    out_dir = work / "exports" / "pg"
    bundle = Path(cfg["bundle"])
    unpacked = work / "bundle"
    unpacked.mkdir()
    top = unpacked / bundle.name.removesuffix(".tar.gz")
    wheelhouse = top / "dist" / "wheelhouse"
    plan: list[tuple[str, list[str], dict[str, Any]]] = [
        ("bundle checksum", ["sh", "-c", f'cd "{bundle.parent}" && sha256sum --check "{bundle.name}.sha256"'], {}),
        ("unpack", ["tar", "-xzf", str(bundle), "-C", str(unpacked)], {}),
        ("bundle files", ["sh", "-c", f'cd "{top}" && sha256sum --check --quiet SHA256SUMS'], {}),
        ("venv", [cfg["python"], "-m", "venv", str(venv)], {}),
        (
            "pip install",
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--isolated",
                "--no-index",
                "--find-links",
                str(wheelhouse),
                "--progress-bar",
                "off",
                "adu",
            ],
            {},
        ),
        ("pip check", [str(venv / "bin" / "python"), "-m", "pip", "check"], {}),
        ("adu --version", [adu, "--version"], {}),
        ("adu plugins", [adu, "plugins"], {}),
        ("adu export", [adu, "export", cfg["source_url"], "--schema", cfg["schema"], "--out", str(out_dir)], {}),
        ("adu verify", [adu, "verify", str(out_dir)], {}),
        # the same export with its partitions on a Dask LocalCluster (two worker processes)
        (
            "adu export dask",
            [adu, "export", cfg["source_url"], "--schema", cfg["schema"], "--out", str(work / "exports" / "dask")],
            {"env": {**env, "ADU_EXECUTOR": "dask", "ADU_DASK_WORKERS": "2"}},
        ),
        ("adu verify dask", [adu, "verify", str(work / "exports" / "dask")], {}),
        ("adu inspect", [adu, "inspect", str(out_dir)], {}),
        ("adu demo", [adu, "demo", "--dir", str(work / "demo")], {}),
        (
            "adu users add",
            [adu, "users", "add", "admin", "--role", "admin", "--password-stdin"],
            {"stdin": "offline-test-password-1\n"},
        ),
    ]
    ok = True
    for name, cmd, kw in plan:
        rec = steps.run(name, cmd, **kw)
        if rec["returncode"] != 0:
            ok = False
            break
    if ok:
        serve_and_fetch(steps, adu, work, cfg["healthcheck"])
    result["duckdb_extension_dirs"] = [str(p) for p in home.rglob("*") if p.name == "extensions"]
    Path(result_path).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
