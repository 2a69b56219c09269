"""Fixtures of the offline proof: the wheelhouse (built once per session, its
third-party part cached in dist/ by scripts/build-wheelhouse) and the repo root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "offline: the air-gap proof (wheelhouse, unshare -n, Dockerfile, compose)")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """dist/wheelhouse, (re)built by scripts/build-wheelhouse: our wheels always, the
    third-party wheels only when the requirement set changed (ADU_TEST_WHEELHOUSE: use
    a ready one instead, e.g. in an image build)."""
    ready = os.environ.get("ADU_TEST_WHEELHOUSE")
    if ready:
        return Path(ready)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build-wheelhouse")], capture_output=True, text=True, timeout=1500
    )
    if proc.returncode != 0:
        noise = "WARNING: Location"
        err = "\n".join(line for line in proc.stderr.splitlines() if noise not in line)
        pytest.fail(f"scripts/build-wheelhouse failed ({proc.returncode}):\n{err[-8000:]}", pytrace=False)
    out = Path(proc.stdout.strip().splitlines()[-1])
    assert (out / "SHA256SUMS").is_file()
    return out


@pytest.fixture(scope="session")
def offline_bundle(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """dist/adu-offline-<version>.tar.gz made by scripts/build-offline-bundle from that
    wheelhouse (no image: no Docker engine here), written to a temporary directory."""
    out = tmp_path_factory.mktemp("bundle")
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build-offline-bundle"),
            "--no-wheelhouse-build",
            "--wheelhouse",
            str(wheelhouse),
            "--image",
            "no",
            "--out-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    if proc.returncode != 0:
        pytest.fail(f"scripts/build-offline-bundle failed ({proc.returncode}):\n{proc.stderr[-8000:]}", pytrace=False)
    tarball = Path(proc.stdout.strip().splitlines()[-1])
    assert tarball.parent == out and tarball.name.startswith("adu-offline-") and tarball.name.endswith(".tar.gz")
    yield tarball
    shutil.rmtree(out, ignore_errors=True)  # ~170 MB
