"""Extract the SQL that other projects' non-SQL test files run against PostgreSQL, into the
plain SQL files vendored here (run once by hand; the outputs are committed):

    python tests/interop/upstream/extract.py /path/to/dir   # holding exyi+pg2parquet/py-tests

* pg2parquet ``py-tests/*.py``: every ``wrappers.run_sql(...)`` and
  ``wrappers.create_and_export(name, sort, schema, inserts)`` call whose arguments are
  string literals (read with ``ast``; nothing is executed), rewritten exactly as
  ``wrappers.py`` runs them (``DROP TABLE IF EXISTS``, ``CREATE TABLE name (schema)``,
  ``INSERT INTO name VALUES inserts``).
* arrow-adbc ``c/driver/postgresql/postgresql_test.cc``: every ``TypeTestCase``
  ``{"NAME", "SQL TYPE", <SQL literal>, ...}`` of its ``PostgresTypeTest`` (a string literal,
  a raw string ``R"(...)"`` or ``std::to_string(std::numeric_limits<intN_t>::min()/max())``),
  as that test runs it: ``CREATE TABLE foo (col TYPE)`` then ``INSERT INTO foo(col) VALUES
  (literal)``, one table per case named ``adbc_type_<name>`` instead of ``foo``.
"""

from __future__ import annotations

import ast
import re
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


_CASE = re.compile(
    r'\{"(\w+)",\s*"([^"]+)",\s*(?:R"\((.*?)\)"s?|"((?:[^"\\]|\\.)*)"'
    r"|std::to_string\(std::numeric_limits<(u?int(\d+))_t>::(min|max)\(\)\))",
    re.S,
)


def adbc_type_cases(test_cc: Path) -> str:
    out = ["-- Extracted from apache/arrow-adbc c/driver/postgresql/postgresql_test.cc by extract.py"]
    text = test_cc.read_text()
    for m in _CASE.finditer(text, text.index("std::initializer_list<TypeTestCase>")):
        name, sql_type, raw, plain, _int, bits, end = m.groups()
        if raw is not None:
            literal = raw
        elif plain is not None:
            literal = plain.replace('\\"', '"').replace("\\\\", "\\")
        else:
            literal = str(-(2 ** (int(bits) - 1)) if end == "min" else 2 ** (int(bits) - 1) - 1)
        table = f"adbc_type_{name.lower()}"
        out += [f"CREATE TABLE {table} (col {sql_type});", f"INSERT INTO {table}(col) VALUES ( {literal} );"]
    return "\n".join(out) + "\n"


def main() -> None:
    root = Path(sys.argv[1])
    here = Path(__file__).parent
    (here / "pg2parquet" / "py_tests.sql").write_text(pg2parquet(root / "exyi+pg2parquet" / "py-tests"))
    adbc = root / "apache+arrow-adbc" / "c" / "driver" / "postgresql" / "postgresql_test.cc"
    (here / "arrow-adbc" / "type_cases.sql").write_text(adbc_type_cases(adbc))


if __name__ == "__main__":
    main()
