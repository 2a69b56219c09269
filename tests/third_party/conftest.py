"""Fixtures of the third-party plugin tests: tests/third_party/adu-csvdir (the worked
example of docs/plugins.md) installed the way a user installs a plugin, as its own
distribution with an entry point in the ``adu`` group, but into a temporary folder put on
PYTHONPATH (never into the test environment itself)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DIST = Path(__file__).with_name("adu-csvdir")


@pytest.fixture(scope="session")
def csvdir_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed plugin (its package and its .dist-info)."""
    site = tmp_path_factory.mktemp("csvdir-site")
    # no build isolation: the backend (hatchling) comes from the test environment, nothing downloads
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    proc = subprocess.run(
        [*pip, "--target", str(site), str(DIST)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (site / "adu_csvdir" / "plugin.py").is_file()
    assert list(site.glob("adu_csvdir-1.0.0.dist-info/entry_points.txt"))
    return site


@pytest.fixture(scope="session")
def csv_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("csv")
    (folder / "weather.csv").write_text('id;city;temp\n1;Oslo;-3.5\n2;Lima;NA\n3;"Zürich; CH";12.25\n')
    (folder / "stations.csv").write_text("code;active\nOSL;true\nLIM;false\n")
    return folder
