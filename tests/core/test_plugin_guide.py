"""docs/plugins.md documents every hook with its exact signature, every method of the
component classes, and shows the worked example exactly as tests/third_party has it."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest
from adu_core.plugin import components, spec

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "tests" / "third_party" / "adu-csvdir"
#: the classes a plugin author implements or receives, and their documented methods
CLASSES = ("Source", "Sink", "PartitionWriter", "Validator", "TableValidator")


def _signature(node: ast.FunctionDef) -> str:
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{node.name}({ast.unparse(node.args)}){returns}"


def _documented() -> dict[str, set[str]]:
    """Every ``def name(...)`` in the guide's Python blocks: name -> signatures."""
    text = GUIDE.read_text()
    out: dict[str, set[str]] = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        for line in block.splitlines():
            m = re.match(r"\s*def (\w+)\(.*\)(\s*->\s*.+?)?:?\s*$", line)
            if not m:
                continue
            code = line.strip().rstrip(":") + ": ..."
            node = ast.parse(code).body[0]
            assert isinstance(node, ast.FunctionDef)
            out.setdefault(node.name, set()).add(_signature(node))
    return out


def _hookspecs() -> list[ast.FunctionDef]:
    tree = ast.parse(inspect.getsource(spec))
    return [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and any(ast.unparse(d) == "hookspec" for d in n.decorator_list)
    ]


def test_the_spec_has_hooks() -> None:
    names = [h.name for h in _hookspecs()]
    assert "adu_register_sources" in names and "adu_register_commands" in names


@pytest.mark.parametrize("hook", _hookspecs(), ids=lambda h: h.name)
def test_every_hookspec_is_in_the_guide_with_its_signature(hook: ast.FunctionDef) -> None:
    documented = _documented().get(hook.name)
    assert documented, f"docs/plugins.md does not document the hook {hook.name}"
    assert _signature(hook) in documented, (
        f"docs/plugins.md shows {hook.name} as {sorted(documented)}, the spec says {_signature(hook)}"
    )


def test_the_guide_names_no_hook_the_spec_lacks() -> None:
    known = {h.name for h in _hookspecs()}
    stale = sorted(n for n in _documented() if n.startswith("adu_") and n not in known)
    assert not stale, f"docs/plugins.md shows hooks that do not exist: {stale}"


def _methods() -> list[tuple[str, ast.FunctionDef]]:
    tree = ast.parse(inspect.getsource(components))
    out = []
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and cls.name in CLASSES:
            out += [(cls.name, n) for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
            out += [(cls.name, n) for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    return out


@pytest.mark.parametrize("method", _methods(), ids=lambda m: f"{m[0]}.{m[1].name}")
def test_every_component_method_is_in_the_guide_with_its_signature(method: tuple[str, ast.FunctionDef]) -> None:
    cls, node = method
    documented = _documented().get(node.name, set())
    assert _signature(node) in documented, (
        f"docs/plugins.md does not show {cls}.{_signature(node)} (it shows {sorted(documented) or 'nothing'})"
    )


@pytest.mark.parametrize("path", ["pyproject.toml", "src/adu_csvdir/plugin.py", "src/adu_csvdir/source.py"])
def test_the_worked_example_is_the_tested_plugin(path: str) -> None:
    text = (EXAMPLE / path).read_text()
    assert f"\n{text}```" in GUIDE.read_text(), f"docs/plugins.md does not show {path} as tests/third_party has it"
