"""Rules files: parsing and checking them against the tables of a job.

The format (YAML)::

    on_failure: fail                # optional: default for every table below
    tables:
      public.customers:             # schema.table, as the source spells them
        on_failure: quarantine      # fail | quarantine | warn (default: fail)
        columns:
          age: {ge: 0, le: 150}                       # pandera built-in checks
          email: {str_matches: '^[^@]+@[^@]+\\.[a-z]+$'}
          country: {isin: [US, GB, DE, FR]}
          balance: {nullable: false}                  # NOT NULL, or true to allow nulls
          code: {unique: true}                        # unique over the whole table
        rows: {min: 1, max: 1000000}                  # row count of the whole table

Every mistake is a :class:`~adu_core.errors.UsageError` whose one-line message starts
with ``file:line:`` and says what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from adu_core.errors import UsageError
from adu_core.models import TableInfo

from adu_pandera import kinds
from adu_pandera.checks import ALIASES, CheckSpec, bind_arguments
from adu_pandera.marked import MarkedMap

MODES = ("fail", "quarantine", "warn")
TOP_KEYS = ("tables", "on_failure")
TABLE_KEYS = ("on_failure", "columns", "rows")
COLUMN_OPTIONS = ("nullable", "unique")
ROWS_KEYS = ("min", "max")


@attrs.frozen
class TableRules:
    """The rules of one table, checked against its columns.

    :param checks: row checks and whole-table checks written in the file.
    :param nullable: explicit ``nullable`` settings (they override NOT NULL inference).
    :param unique: explicit ``unique`` settings.
    """

    table: str
    on_failure: str | None = None
    checks: tuple[CheckSpec, ...] = ()
    nullable: Mapping[str, bool] = attrs.field(factory=dict)
    unique: Mapping[str, bool] = attrs.field(factory=dict)
    line: int = 0


#: the largest rules file read (a real one is a few KB; a huge one is a mistake)
MAX_RULES_BYTES = 1024 * 1024


def read_rules_text(path: str) -> str:
    """The text of the rules file ``path``: UTF-8, at most :data:`MAX_RULES_BYTES`.

    :raises UsageError: unreadable, too large, or not text (one line, naming the file).
    """
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RULES_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read rules file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_RULES_BYTES:
        raise UsageError(f"rules file {path} is too large (a rules file is at most {MAX_RULES_BYTES // 1024} KB)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"rules file {path} is not UTF-8 text (byte {exc.start})") from None


class RulesFile:
    """A parsed rules file; table entries are checked against a :class:`TableInfo`."""

    def __init__(self, path: str, text: str | None = None) -> None:
        self.path = path
        self.name = os.path.basename(path) if text is None else path
        if text is None:
            text = read_rules_text(path)
        elif len(text) > MAX_RULES_BYTES:
            raise UsageError(f"{self.name}: a rules file is at most {MAX_RULES_BYTES // 1024} KB")
        from adu_pandera.yamlmarks import load_marked  # PyYAML only when a rules file is read

        data = load_marked(text, self.name)
        if data is None:
            data = MarkedMap()
            data.line = 1
        if not isinstance(data, MarkedMap):
            raise UsageError(f"{self.name}:1: expected a mapping with a 'tables' key")
        self._data = data
        for key in data:
            if key not in TOP_KEYS:
                self._fail(data.line_of(key), f"unknown key {key!r} (expected: {', '.join(TOP_KEYS)})")
        self.on_failure = self._mode(data, "on_failure")
        tables = data.get("tables")
        if tables is None:
            tables = MarkedMap()
        if not isinstance(tables, MarkedMap):
            self._fail(data.line_of("tables"), "'tables' must be a mapping of schema.table names")
        self._tables: MarkedMap = tables
        for key in tables:
            if not isinstance(key, str):
                self._fail(tables.line_of(key), f"table name {key!r} must be a string schema.table")

    # -- helpers ---------------------------------------------------------------------

    def _fail(self, line: int, message: str) -> None:
        raise UsageError(f"{self.name}:{line}: {message}")

    def _mode(self, mapping: MarkedMap, key: str) -> str | None:
        value = mapping.get(key)
        if value is None:
            return None
        if value not in MODES:
            self._fail(
                mapping.line_of(key),
                f"on_failure must be one of {', '.join(MODES)}, got {kinds.describe(value)}",
            )
        return str(value)

    # -- public ------------------------------------------------------------------------

    @property
    def table_names(self) -> list[str]:
        return [str(k) for k in self._tables]

    def check_tables(self, tables: Sequence[TableInfo]) -> dict[str, TableRules]:
        """Check every entry against ``tables``; refuse a table the job does not know."""
        known = {t.qualified_name: t for t in tables}
        out: dict[str, TableRules] = {}
        for name in self._tables:
            if name not in known:
                self._fail(
                    self._tables.line_of(name),
                    f"unknown table {name!r} (expected one of: {_some(sorted(known))})",
                )
            out[name] = self.table_rules(known[name])  # type: ignore[assignment]
        return out

    def table_rules(self, table: TableInfo) -> TableRules | None:
        """The rules of ``table``, checked against its columns; None when it has no entry."""
        name = table.qualified_name
        if name not in self._tables:
            return None
        entry = self._tables[name]
        line = self._tables.line_of(name)
        if entry is None:
            return TableRules(name, line=line)
        if not isinstance(entry, MarkedMap):
            self._fail(line, f"table {name!r} must map to on_failure / columns / rows")
        for key in entry:
            if key not in TABLE_KEYS:
                self._fail(
                    entry.line_of(key),
                    f"unknown key {key!r} for table {name} (expected: {', '.join(TABLE_KEYS)})",
                )
        mode = self._mode(entry, "on_failure")
        checks: list[CheckSpec] = []
        nullable: dict[str, bool] = {}
        unique: dict[str, bool] = {}
        columns = entry.get("columns")
        if columns is not None:
            if not isinstance(columns, MarkedMap):
                self._fail(entry.line_of("columns"), "'columns' must be a mapping of column names")
            self._columns(table, columns, checks, nullable, unique)
        rows = entry.get("rows")
        if rows is not None:
            checks.append(self._rows(rows, entry.line_of("rows")))
        return TableRules(name, mode, tuple(checks), nullable, unique, line)

    def _columns(
        self,
        table: TableInfo,
        columns: MarkedMap,
        checks: list[CheckSpec],
        nullable: dict[str, bool],
        unique: dict[str, bool],
    ) -> None:
        names = [c.name for c in table.columns]
        for col_name, spec in columns.items():
            line = columns.line_of(col_name)
            if not isinstance(col_name, str):
                self._fail(line, f"column name {col_name!r} must be a string (quote it)")
            if col_name not in names:
                self._fail(
                    line,
                    f"unknown column {col_name!r} in table {table.qualified_name} (expected one of: {_some(names)})",
                )
            col = table.column(col_name)
            if spec is None:
                continue
            if not isinstance(spec, MarkedMap):
                self._fail(line, f"column {col_name!r} must map check names to arguments, e.g. {{ge: 0}}")
            for check, raw in spec.items():
                cline = spec.line_of(check)
                if check in COLUMN_OPTIONS:
                    if not isinstance(raw, bool):
                        self._fail(cline, f"{check} must be true or false, got {kinds.describe(raw)}")
                    (nullable if check == "nullable" else unique)[col_name] = raw
                    continue
                if not isinstance(check, str) or check not in ALIASES:
                    self._fail(
                        cline,
                        f"unknown check {check!r} on column {col_name!r} (expected a pandera built-in: "
                        f"{', '.join(sorted(k for k in ALIASES if ALIASES[k] == k or len(k) == 2))}; "
                        "or nullable, unique)",
                    )
                try:
                    kwargs = bind_arguments(check, raw, col.arrow_type)
                except kinds.ArgError as exc:
                    self._fail(cline, f"column {col_name!r}: {exc}")
                builtin = ALIASES[check]
                checks.append(CheckSpec(col_name, check, builtin=builtin, kwargs=kwargs, line=cline))
                if builtin == "unique_values_eq":
                    checks.append(CheckSpec(col_name, check, builtin=builtin, kwargs=kwargs, scope="table", line=cline))

    def _rows(self, rows: Any, line: int) -> CheckSpec:
        if not isinstance(rows, MarkedMap):
            self._fail(line, f"rows must be a mapping like {{min: 1, max: 1000}}, got {kinds.describe(rows)}")
        for key in rows:
            if key not in ROWS_KEYS:
                self._fail(rows.line_of(key), f"unknown key {key!r} in rows (expected: min, max)")
            value = rows[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                self._fail(rows.line_of(key), f"rows {key} must be a whole number >= 0, got {kinds.describe(value)}")
        lo, hi = rows.get("min"), rows.get("max")
        if lo is not None and hi is not None and lo > hi:
            self._fail(line, f"rows min ({lo}) is greater than max ({hi})")
        return CheckSpec(None, "rows", kwargs={"min": lo, "max": hi}, scope="table", line=line)


def _some(names: Sequence[str], limit: int = 12) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")
