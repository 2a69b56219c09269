"""Extract the SQL that other projects' non-SQL test files run against PostgreSQL, into the
plain SQL files vendored here (run once by hand; the outputs are committed):

    python tests/interop/upstream/extract.py /path/to/dir   # holding exyi+pg2parquet/py-tests

* pg2parquet ``py-tests/*.py``: every ``wrappers.run_sql(...)`` and
  ``wrappers.create_and_export(name, sort, schema, inserts)`` call whose arguments are
  string literals (read with ``ast``; nothing is executed), rewritten exactly as
  ``wrappers.py`` runs them (``DROP TABLE IF EXISTS``, ``CREATE TABLE name (schema)``,
  ``INSERT INTO name VALUES inserts``).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _const(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def pg2parquet(py_tests: Path) -> str:
    out = ["-- Extracted from exyi/pg2parquet py-tests/*.py by tests/interop/upstream/extract.py"]
    for path in sorted(py_tests.glob("test_*.py")):
        out.append(f"\n-- {path.name}")
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            args = [_const(a) for a in node.args]
            if node.func.attr == "run_sql" and args and all(a is not None for a in args):
                out += [f"{a.rstrip().rstrip(';')};" for a in args if a]
            elif node.func.attr == "create_and_export" and len(args) >= 4 and None not in args[:4]:
                name, _sort, schema, inserts = args[:4]
                out += [
                    f"DROP TABLE IF EXISTS {name};",
                    f"CREATE TABLE {name} ({schema});",
                    f"INSERT INTO {name} VALUES {inserts};",
                ]
            elif node.func.attr in ("run_sql", "create_and_export"):
                out.append(f"-- skipped a call with non-literal arguments at line {node.lineno}")
    return "\n".join(out) + "\n"


def main() -> None:
    root = Path(sys.argv[1])
    here = Path(__file__).parent
    (here / "pg2parquet" / "py_tests.sql").write_text(pg2parquet(root / "exyi+pg2parquet" / "py-tests"))


if __name__ == "__main__":
    main()
