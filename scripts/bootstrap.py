#!/usr/bin/env python3
"""Set up a development environment in .venv: every ADU distribution (editable) and the
test tools. Needs only CPython 3.11 and a package index (PyPI).

    python3 scripts/bootstrap.py            # .venv with everything
    python3 scripts/bootstrap.py --browser  # also Debian's chromium for the browser tests (root)
    python3 scripts/bootstrap.py --bench    # also what bench/ needs (DuckDB's postgres extension wheel)

Re-running it is cheap: it only installs what changed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
DISTS = [
    "packages/adu-core",
    "packages/adu-cli",
    "packages/adu-web",
    "plugins/adu-parquet",
    "plugins/adu-duckdb",
    "plugins/adu-postgres",
    "plugins/adu-pandera",
    "plugins/adu-vertica",
    "plugins/adu-dask",
]


def run(*cmd: str) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--browser", action="store_true", help="install Debian's chromium (needs root and apt)")
    parser.add_argument(
        "--bench", action="store_true", help="also the benchmarks' peers (dependency group 'bench' of pyproject.toml)"
    )
    args = parser.parse_args()
    if sys.version_info[:2] < (3, 11):
        print("ADU needs Python 3.11 or newer", file=sys.stderr)
        return 2
    py = VENV / "bin" / "python"
    if not py.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    uv = VENV / "bin" / "uv"
    if not uv.exists():
        if subprocess.run([str(py), "-m", "pip", "--version"], capture_output=True).returncode != 0:
            run(str(py), "-m", "ensurepip")
        run(str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "uv")
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    dev = groups["dev"] + (groups["bench"] if args.bench else [])
    editable = [a for d in DISTS for a in ("-e", d)]
    # --compile-bytecode: every module's .pyc made now, not by the first `adu` runs (uv
    # does not compile by default; pip, which the Dockerfile uses, does)
    run(str(uv), "pip", "install", "-q", "--compile-bytecode", "--python", str(py), *editable, "-e", ".", *dev)
    # ...which leaves out the editable distributions' own sources: compiled here, or every
    # `adu` process compiles ~120 of ADU's modules again (~0.17 s of CPU) wherever
    # PYTHONDONTWRITEBYTECODE is set, as in many CI and container environments
    run(str(py), "-m", "compileall", "-q", "-j", "0", *(f"{d}/src" for d in DISTS))
    if args.browser and not shutil.which("chromium"):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
        else:
            print("note: the browser tests need Debian's chromium (apt-get install chromium)", file=sys.stderr)
    print(f"ready: {VENV}/bin/adu", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
