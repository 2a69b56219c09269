"""Python schemas: ``--rules my_module:CustomersModel`` (a pandera DataFrameModel).

What YAML cannot say (cross-column checks, custom check functions, regex-selected
columns) a pandera ``DataFrameModel`` (or a polars ``DataFrameSchema`` object) says. It is
named ``module:Attribute`` (the module importable, or found in the current directory) or
``path/to/file.py:Attribute``.

Which table it checks: ``class Config: name = "public.customers"`` binds it to that table;
without a ``schema.table`` name it checks every table of the job (so each must have its
columns). ``on_failure`` comes from ``Config.metadata = {"adu": {"on_failure": ...}}``
(default ``fail``).

These run through pandera's own ``validate(lazy=True)`` per batch (its polars backend),
so every pandera feature works; row failures come back by row index, and a schema-level
failure (a missing column, a wrong dtype, a dataframe-wide check) fails every row of the
batch. Coercion (``Config.coerce``) only affects the check: the exported data is never
changed.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Mapping
from functools import lru_cache
from types import ModuleType
from typing import Any

from adu_core.errors import UsageError
from adu_core.models import TableInfo

from adu_pandera.imports import import_pandera, keep_environment

_REF = re.compile(r"^(?P<module>[^:]+):(?P<attr>[A-Za-z_][A-Za-z0-9_.]*)$")


def is_model_ref(text: str) -> bool:
    """True when ``text`` looks like ``module:Attribute`` rather than a file path."""
    if text.lower().endswith((".yaml", ".yml", ".json")) or os.path.isfile(text):
        return False
    return _REF.match(text) is not None


def resolve_ref(text: str) -> str:
    """``text`` with a ``file.py`` part made absolute (so workers find it too)."""
    m = _REF.match(text)
    if m is None:
        raise UsageError(f"rules {text!r}: expected a rules file (.yaml) or module:Class")
    module = m.group("module")
    if module.endswith(".py"):
        module = os.path.abspath(module)
    return f"{module}:{m.group('attr')}"


@lru_cache(maxsize=32)
def load_schema(ref: str) -> Any:
    """The pandera polars ``DataFrameSchema`` named by ``ref`` (``module:Attr``)."""
    m = _REF.match(ref)
    if m is None:
        raise UsageError(f"rules {ref!r}: expected module:Class")
    import_pandera()
    with keep_environment():
        module = _import(m.group("module"), ref)
    obj: Any = module
    for part in m.group("attr").split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"rules {ref!r}: {m.group('module')} has no attribute {part!r}") from None
    from pandera.api.polars.container import DataFrameSchema
    from pandera.api.polars.model import DataFrameModel

    if inspect.isclass(obj) and issubclass(obj, DataFrameModel):
        try:
            schema = obj.to_schema()
        except Exception as exc:  # noqa: BLE001 - pandera's own complaint, on one line
            raise UsageError(f"rules {ref!r}: pandera refuses the model: {_one_line(exc)}") from None
        meta = getattr(getattr(obj, "Config", None), "metadata", None)
        if meta and not schema.metadata:
            schema.metadata = meta
        return schema
    if isinstance(obj, DataFrameSchema):
        return obj
    raise UsageError(
        f"rules {ref!r}: expected a pandera.polars DataFrameModel class or DataFrameSchema, got {type(obj).__name__}"
    )


def _import(name: str, ref: str) -> ModuleType:
    if name.endswith(".py"):
        if not os.path.isfile(name):
            raise UsageError(f"rules {ref!r}: no such file {name}")
        mod_name = "adu_rules_" + re.sub(r"\W", "_", os.path.abspath(name))
        if mod_name in sys.modules:
            return sys.modules[mod_name]
        spec = importlib.util.spec_from_file_location(mod_name, name)
        if spec is None or spec.loader is None:
            raise UsageError(f"rules {ref!r}: cannot load {name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001
            sys.modules.pop(mod_name, None)
            raise UsageError(f"rules {ref!r}: importing {name} failed: {_one_line(exc)}") from None
        return module
    try:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name.split(".")[0] or os.getcwd() in sys.path:
                raise
            sys.path.append(os.getcwd())  # like `python -m`: the working directory counts
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise UsageError(f"rules {ref!r}: no module named {exc.name!r}") from None
    except Exception as exc:  # noqa: BLE001
        raise UsageError(f"rules {ref!r}: importing {name} failed: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def bound_table(schema: Any) -> str | None:
    """The ``schema.table`` a schema names in ``Config.name``, if any."""
    name = getattr(schema, "name", None)
    return name if isinstance(name, str) and "." in name else None


def on_failure(schema: Any) -> str | None:
    meta = getattr(schema, "metadata", None)
    if isinstance(meta, Mapping):
        adu = meta.get("adu")
        if isinstance(adu, Mapping) and adu.get("on_failure") is not None:
            mode = adu["on_failure"]
            if mode not in ("fail", "quarantine", "warn"):
                raise UsageError(f"model {schema.name}: on_failure must be fail, quarantine or warn, got {mode!r}")
            return str(mode)
    return None


def applies_to(schema: Any, table: TableInfo) -> bool:
    bound = bound_table(schema)
    return bound is None or bound == table.qualified_name


def check_columns(ref: str, schema: Any, table: TableInfo) -> None:
    """Refuse a model whose required columns the table lacks."""
    names = {c.name for c in table.columns}
    for col_name, col in schema.columns.items():
        if getattr(col, "regex", False) or not getattr(col, "required", True):
            continue
        if col_name not in names:
            hint = "" if bound_table(schema) else " (set Config.name = 'schema.table' to bind the model to one table)"
            raise UsageError(f"rules {ref!r}: column {col_name!r} is not in table {table.qualified_name}{hint}")


def declared_checks(schema: Any) -> list[tuple[str, str]]:
    """(column, check identifier) for every check the schema declares, as pandera names
    them in its failure cases."""
    out: list[tuple[str, str]] = []
    for col_name, col in schema.columns.items():
        if not getattr(col, "nullable", True):
            out.append((col_name, "not_nullable"))
        if getattr(col, "unique", False):
            out.append((col_name, "field_uniqueness"))
        for check in getattr(col, "checks", []) or []:
            out.append((col_name, check.error or check.name or str(check)))
    for check in getattr(schema, "checks", []) or []:
        out.append((schema.name or "", check.error or check.name or str(check)))
    return out
