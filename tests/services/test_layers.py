"""The frontends are adapters: they reach ADU through ``adu_core.services`` (and the
models, errors, config, logging and redaction helpers), never through the store, the
engine, the workers or the plugin manager; ``import adu_core`` stays cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONTENDS = {"adu_cli": ROOT / "packages/adu-cli/src/adu_cli", "adu_web": ROOT / "packages/adu-web/src/adu_web"}
FORBIDDEN = ("adu_core.store", "adu_core.engine", "adu_core.worker", "adu_core.plugin.manager")
#: imports the plugin-commands work removes (demo moves into adu-duckdb, serve into adu-web)
NOT_YET = {("adu_cli/commands/demo.py", "adu_duckdb.demo"), ("adu_cli/commands/serve.py", "adu_web.server")}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_frontends_use_the_services_layer_only() -> None:
    bad = []
    for package, folder in FRONTENDS.items():
        other = ({"adu_cli", "adu_web"} - {package}).pop()
        for path in sorted(folder.rglob("*.py")):
            rel = f"{package}/{path.relative_to(folder)}"
            for name in sorted(_imports(path)):
                top = name.split(".")[0]
                wrong = (
                    name.startswith(FORBIDDEN)
                    or top == other
                    or (top.startswith("adu_") and top not in (package, "adu_core"))
                )
                if wrong and not any(rel == r and name.startswith(n) for r, n in NOT_YET):
                    bad.append(f"{rel}: {name}")
    assert bad == []


def test_import_adu_core_loads_nothing_heavy() -> None:
    probe = (
        "import sys, adu_core\n"
        "heavy = ('pyarrow', 'sqlalchemy', 'adu_core.models', 'adu_core.services')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(callable(adu_core.export), callable(adu_core.verify), adu_core.JobSpec.__name__)\n"
        "import adu_core.verify\n"
        "print(callable(adu_core.verify), adu_core.verify.MANIFEST_NAME)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "True True JobSpec", "True manifest.json"]
