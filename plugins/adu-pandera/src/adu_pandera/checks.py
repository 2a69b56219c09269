"""The checks a rules file may name, and how one check becomes a polars expression.

Column checks are pandera's built-in checks (``Check.ge``, ``Check.isin``,
``Check.str_matches`` ...), named by their short or long name with pandera's arguments.
A :class:`CheckSpec` is plain, picklable data; in the worker it is compiled once into the
polars expression pandera's own polars backend evaluates for that built-in (captured from
the registered built-in function, so the semantics are pandera's exactly) and all the
checks of a batch run in one polars ``select``. That avoids pandera's per-batch schema
machinery (failure-case tables rendered as strings), which costs 3-5x more per batch (see
the package README); pandera's full ``validate`` still runs for DataFrameModels.

Nulls pass every value check, as in pandera (``ignore_na=True``); ``nullable: false`` is
the check for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa
from adu_core.lazy import lazy_module

from adu_pandera import kinds
from adu_pandera.imports import import_pandera

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy_module("polars")  # imported when a batch is first validated

#: short names (as in ``Check.ge``) and long names, to pandera's registered name.
ALIASES: dict[str, str] = {
    "eq": "equal_to",
    "equal_to": "equal_to",
    "ne": "not_equal_to",
    "not_equal_to": "not_equal_to",
    "gt": "greater_than",
    "greater_than": "greater_than",
    "ge": "greater_than_or_equal_to",
    "greater_than_or_equal_to": "greater_than_or_equal_to",
    "lt": "less_than",
    "less_than": "less_than",
    "le": "less_than_or_equal_to",
    "less_than_or_equal_to": "less_than_or_equal_to",
    "in_range": "in_range",
    "between": "in_range",
    "isin": "isin",
    "notin": "notin",
    "str_matches": "str_matches",
    "str_contains": "str_contains",
    "str_startswith": "str_startswith",
    "str_endswith": "str_endswith",
    "str_length": "str_length",
    "unique_values_eq": "unique_values_eq",
}

# argument kinds: "value" (a value of the column's kind), "values" (a list of them),
# "bool", "count" (int >= 0), "regex", "text"
PARAMS: dict[str, tuple[tuple[str, str], ...]] = {
    "equal_to": (("value", "value"),),
    "not_equal_to": (("value", "value"),),
    "greater_than": (("min_value", "value"),),
    "greater_than_or_equal_to": (("min_value", "value"),),
    "less_than": (("max_value", "value"),),
    "less_than_or_equal_to": (("max_value", "value"),),
    "in_range": (
        ("min_value", "value"),
        ("max_value", "value"),
        ("include_min", "bool"),
        ("include_max", "bool"),
    ),
    "isin": (("allowed_values", "values"),),
    "notin": (("forbidden_values", "values"),),
    "str_matches": (("pattern", "regex"),),
    "str_contains": (("pattern", "regex"),),
    "str_startswith": (("string", "text"),),
    "str_endswith": (("string", "text"),),
    "str_length": (("min_value", "count"), ("max_value", "count"), ("exact_value", "count")),
    "unique_values_eq": (("values", "values"),),
}
REQUIRED: dict[str, tuple[str, ...]] = {"in_range": ("min_value", "max_value")}
ORDERED = {"greater_than", "greater_than_or_equal_to", "less_than", "less_than_or_equal_to", "in_range"}
STRING_ONLY = {"str_matches", "str_contains", "str_startswith", "str_endswith", "str_length"}

#: what a reason or a report calls a check whose arguments are too long to show.
LABEL_LIMIT = 100


@attrs.frozen
class CheckSpec:
    """One check of one table, as plain data (pickled to the workers).

    :param column: the column checked; None for checks of the whole table (``rows``).
    :param name: the name as written (``ge``) or the inferred check's name
        (``nullable``, ``max_length``, ``enum``, ``dtype``, ``precision``, ``primary_key``...).
    :param builtin: pandera's registered name of the built-in (``greater_than_or_equal_to``)
        or None for ADU's own checks.
    :param kwargs: the bound arguments, converted to the column's kind.
    :param scope: ``row`` (checked per batch, rows can be quarantined) or ``table``
        (checked over the staged files after the write).
    :param origin: ``rules`` or ``inferred``.
    :param line: the rules-file line, for messages.
    """

    column: str | None
    name: str
    builtin: str | None = None
    kwargs: Mapping[str, Any] = attrs.field(factory=dict)
    scope: str = "row"
    origin: str = "rules"
    line: int | None = None

    @property
    def label(self) -> str:
        """``ge(0)``: the name and the arguments, as reports and reasons show it."""
        shown = {k: v for k, v in self.kwargs.items() if v is not None and not k.startswith("_") and k != "columns"}
        if not shown and self.scope == "table":
            return self.name
        if len(shown) == 1 and self.name not in ("in_range", "between", "str_length", "rows"):
            args = _fmt(next(iter(shown.values())))
        else:
            args = ", ".join(f"{k}={_fmt(v)}" for k, v in shown.items())
        text = f"{self.name}({args})"
        if len(text) > LABEL_LIMIT:
            text = f"{self.name}(…)"
        if self.scope == "table" and self.builtin == "unique_values_eq":
            text += " missing"  # the whole-table half: expected values that never occur
        return text

    @property
    def key(self) -> str:
        """``age:ge(0)``: what the ``_adu_failed_checks`` column holds for a row."""
        return f"{self.column}:{self.label}" if self.column is not None else self.label


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple, frozenset, set)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, bool):
        return str(value).lower()
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def bind_arguments(name: str, raw: Any, arrow_type: pa.DataType) -> dict[str, Any]:
    """Bind the YAML value of check ``name`` to pandera's parameters, converted to the
    column's kind.

    ``ge: 0`` (one parameter: the value), ``isin: [a, b]`` (one list parameter: the list),
    ``in_range: [0, 10]`` (several parameters: in order), ``str_length: {max_value: 5}``
    (by name).

    :raises kinds.ArgError: with what was expected.
    """
    builtin = ALIASES[name]
    params = PARAMS[builtin]
    kind = kinds.kind_of(arrow_type)
    if builtin in STRING_ONLY and kind != kinds.STRING:
        raise kinds.ArgError(f"{name} applies to text columns, and this column is {arrow_type}")
    if builtin in ORDERED and kind == kinds.BOOLEAN:
        raise kinds.ArgError(f"{name} does not apply to a boolean column (use eq or isin)")
    names = [p for p, _ in params]
    bound: dict[str, Any]
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in names]
        if unknown:
            raise kinds.ArgError(f"unknown argument {unknown[0]!r} for {name} (expected: {', '.join(names)})")
        bound = dict(raw)
    elif len(params) == 1:
        bound = {names[0]: raw}
    elif isinstance(raw, list):
        if len(raw) > len(params):
            raise kinds.ArgError(f"{name} takes at most {len(params)} arguments ({', '.join(names)})")
        bound = dict(zip(names, raw, strict=False))
    else:
        raise kinds.ArgError(
            f"{name} needs a list [{', '.join(names[:2])}] or a mapping "
            f"{{{names[0]}: ..., {names[1]}: ...}}, got {kinds.describe(raw)}"
        )
    for req in REQUIRED.get(builtin, ()):
        if bound.get(req) is None:
            raise kinds.ArgError(f"{name} needs {req}")
    if builtin == "str_length" and all(bound.get(n) is None for n in names):
        raise kinds.ArgError("str_length needs min_value, max_value or exact_value")
    kinds_of_params = dict(params)
    out: dict[str, Any] = {}
    for pname in names:
        if pname not in bound:
            continue
        out[pname] = _convert(name, pname, kinds_of_params[pname], bound[pname], arrow_type)
    if builtin == "in_range" and out["min_value"] > out["max_value"]:
        raise kinds.ArgError("in_range needs min_value <= max_value")
    return out


def _convert(check: str, pname: str, pkind: str, value: Any, arrow_type: pa.DataType) -> Any:
    where = f"{check} {pname}: " if len(PARAMS[ALIASES[check]]) > 1 else f"{check}: "
    try:
        if pkind == "value":
            return kinds.coerce_value(value, arrow_type)
        if pkind == "values":
            if not isinstance(value, list):
                raise kinds.ArgError(f"expected a list of values, got {kinds.describe(value)}")
            return [kinds.coerce_value(v, arrow_type) for v in value]
        if pkind == "bool":
            if isinstance(value, bool):
                return value
            raise kinds.ArgError(f"expected true or false, got {kinds.describe(value)}")
        if pkind == "count":
            if value is None:
                return None
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
            raise kinds.ArgError(f"expected a whole number >= 0, got {kinds.describe(value)}")
        if pkind in ("regex", "text"):
            if not isinstance(value, str):
                raise kinds.ArgError(f"expected a string, got {kinds.describe(value)}")
            if pkind == "regex":
                _check_regex(value)
            return value
    except kinds.ArgError as exc:
        raise kinds.ArgError(where + str(exc)) from None
    raise AssertionError(pkind)  # pragma: no cover


#: what Python's ``re`` accepts and Rust's ``regex`` (what polars runs) does not.
_NOT_IN_RUST = (
    (re.compile(r"\(\?<?[=!]"), "look-around is not supported"),
    (re.compile(r"\\[1-9]"), "backreferences are not supported"),
    (re.compile(r"\(\?>"), "atomic groups are not supported"),
    (re.compile(r"\(\?P=|\(\?P>"), "backreferences are not supported"),
)


def _check_regex(pattern: str) -> None:
    """Refuse a pattern polars (Rust ``regex`` syntax) would refuse.

    Checked with Python's ``re`` plus the constructs Rust's syntax lacks, not by polars
    itself: this runs in the coordinator, and polars' thread pool must not be started
    there (a process pool forked afterwards could deadlock in polars).
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        raise kinds.ArgError(f"expected a regular expression, got '{pattern}' ({exc})") from None
    for construct, reason in _NOT_IN_RUST:
        if construct.search(pattern):
            raise kinds.ArgError(f"expected a regular expression in Rust syntax, got '{pattern}' ({reason})")


# ------------------------------------------------------------------ compiled expressions


class _Capture:
    """Stands in for pandera's LazyFrame: the built-in check returns ``lf.select(expr)``,
    and this returns ``expr``."""

    def select(self, *exprs: Any) -> Any:
        return exprs[0] if len(exprs) == 1 else None


def pandera_check(spec: CheckSpec) -> Any:
    """The pandera ``Check`` object for a built-in spec."""
    import_pandera()
    from pandera.api.checks import Check

    return getattr(Check, spec.builtin or "")(**dict(spec.kwargs))


def pandera_expr(spec: CheckSpec, column: str) -> pl.Expr | None:
    """The pass expression pandera's polars backend evaluates for ``spec``, captured from
    pandera's registered built-in function (tests compare it with :func:`builtin_expr`)."""
    import_pandera()
    import pandera.backends.polars.builtin_checks  # noqa: F401 - registers the polars built-ins
    from pandera.api.polars.types import PolarsData

    check = pandera_check(spec)
    try:
        out = check._check_fn(PolarsData(_Capture(), column), **check._check_kwargs)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - not an expression-building built-in
        return None
    return out if isinstance(out, pl.Expr) else None


def builtin_expr(spec: CheckSpec, column: str) -> pl.Expr:
    """The pass expression of a pandera built-in, as pandera's polars backend builds it.

    Written out rather than captured from pandera at run time: importing pandera's polars
    backend costs ~0.25 s in every worker process (15% of a 3 M-row export on 2 cores),
    and the tests assert that each expression here is the one pandera builds
    (:func:`pandera_expr`), so pandera's semantics are kept exactly.
    """
    c = pl.col(column)
    k = spec.kwargs
    b = spec.builtin
    if b == "equal_to":
        return c.eq(k["value"])
    if b == "not_equal_to":
        return c.ne(k["value"])
    if b == "greater_than":
        return c.gt(k["min_value"])
    if b == "greater_than_or_equal_to":
        return c.ge(k["min_value"])
    if b == "less_than":
        return c.lt(k["max_value"])
    if b == "less_than_or_equal_to":
        return c.le(k["max_value"])
    if b == "in_range":
        lo = c.ge(k["min_value"]) if k.get("include_min", True) else c.gt(k["min_value"])
        hi = c.le(k["max_value"]) if k.get("include_max", True) else c.lt(k["max_value"])
        return lo & hi
    if b in ("isin", "unique_values_eq"):
        return c.is_in(list(next(iter(k.values()))))
    if b == "notin":
        return c.is_in(list(k["forbidden_values"])).not_()
    if b == "str_matches":
        p = k["pattern"]
        return c.str.contains(p if p.startswith("^") else "^" + p)
    if b == "str_contains":
        return c.str.contains(k["pattern"])
    if b == "str_startswith":
        return c.str.starts_with(k["string"])
    if b == "str_endswith":
        return c.str.ends_with(k["string"])
    if b == "str_length":
        n = c.str.len_chars()
        if k.get("exact_value") is not None:
            return n.eq(k["exact_value"])
        if k.get("min_value") is None:
            return n.le(k["max_value"])
        if k.get("max_value") is None:
            return n.ge(k["min_value"])
        return n.is_between(k["min_value"], k["max_value"])
    raise ValueError(f"no expression for {b}")


def failure_expr(spec: CheckSpec, column: str) -> pl.Expr:
    """True for each row that breaks ``spec`` (nulls pass, except for ``nullable``)."""
    c = pl.col(column)
    if spec.name == "nullable":
        return c.is_null()
    if spec.name == "precision" and spec.builtin == "str_matches":
        return c.str.contains(spec.kwargs["_pattern"]).not_().fill_null(False)
    if spec.name == "precision":
        too_big: pl.Expr = c.abs() >= spec.kwargs["_limit"]
        return too_big.fill_null(False)
    if spec.builtin == "unique_values_eq":
        # per row: a value outside the set; values never seen are a whole-table finding
        passed: pl.Expr = c.is_in(list(spec.kwargs["values"]))
    elif spec.builtin is not None:
        passed = builtin_expr(spec, column)
    else:
        raise ValueError(f"check {spec.name} has no row expression")
    return passed.not_().fill_null(False)
