"""Every environment variable ADU reads is in the README's configuration table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*ROOT.glob("packages/*/src/**/*.py"), *ROOT.glob("plugins/*/src/**/*.py")]
#: variables read that are not ADU's settings, and why they are not in the table
NOT_SETTINGS = {
    "USER": "vertica:// URLs without a user name take the login name, as libpq does",
    "PGSERVICE": "libpq's: a URL typed in the web is refused while it is set (the service file would fill it in)",
}


def _documented() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def _is_environ(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in ("environ", "env")


def _env_key(node: ast.AST) -> ast.AST | None:
    """The key expression of an environment read, or None when ``node`` is not one."""
    if isinstance(node, ast.Subscript) and _is_environ(node.value):
        return node.slice
    call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and bool(node.args)
    if call and (node.func.attr == "getenv" or (node.func.attr == "get" and _is_environ(node.func.value))):  # type: ignore[attr-defined]
        return node.args[0]  # type: ignore[attr-defined]
    if isinstance(node, ast.keyword) and node.arg == "envvar":
        return node.value
    return None


def _read(tree: ast.AST) -> set[str]:
    """Names read from the environment: every ``"ADU_..."`` constant, and the constant
    keys of ``os.environ[...]``, ``os.environ.get(...)``, ``os.getenv(...)``,
    ``env.get(...)`` and click's ``envvar=...``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
        if re.fullmatch(r"ADU_[A-Z0-9_]+", text):
            names.add(text)
        key = _env_key(node)
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def test_the_scan_finds_what_it_should() -> None:
    code = 'import os\nos.environ.get("A_B")\nos.environ["C"]\nos.getenv("D")\nf(envvar="E")\nx = "ADU_F"\n'
    assert _read(ast.parse(code)) == {"A_B", "C", "D", "E", "ADU_F"}
    assert {"ADU_DATA_DIR", "ADU_ENV"} <= _documented()


def test_every_variable_read_is_in_the_readme_table() -> None:
    documented = _documented()
    missing = {}
    for path in SOURCES:
        for name in _read(ast.parse(path.read_text(), filename=str(path))):
            if name not in documented and name not in NOT_SETTINGS:
                missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"read but not in README.md's configuration table: {missing}"
