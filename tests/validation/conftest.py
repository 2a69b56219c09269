"""Fixtures for the validation tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def rules_file(tmp_path: Path) -> Callable[[str], str]:
    """Write a rules file (dedented) and return its path."""

    def write(text: str, name: str = "rules.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return str(path)

    return write
