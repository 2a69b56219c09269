"""Helpers of the third-party plugin tests (a module of its own: ``conftest`` is not a
unique module name when several test folders are collected)."""

from __future__ import annotations

import os
from pathlib import Path


def adu_env(site: Path, data_dir: Path) -> dict[str, str]:
    """The environment of an ``adu`` process that sees the plugin (and only the usual rest)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADU_", "PG"))}
    env.update(PYTHONPATH=str(site), ADU_DATA_DIR=str(data_dir), ADU_PARALLEL="2")
    return env
