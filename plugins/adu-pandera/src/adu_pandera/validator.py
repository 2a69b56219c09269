"""The ``pandera`` validator: inferred rules, rules files and DataFrameModels.

:class:`PanderaValidator` is built in the coordinator from the job's options;
:meth:`PanderaValidator.for_table` returns a :class:`PanderaTableValidator`, plain data
that is pickled to the pool workers, where it checks every batch (zero-copy
``pl.from_arrow`` of the checked columns only) and counts failures per check, with up to
20 sample failing values and their row keys.

Whole-table checks (key uniqueness, ``unique: true``, ``rows``) run in the coordinator
on the staged files (:meth:`PanderaTableValidator.check_table`). Their rows are already
written when they are found, and which of two duplicated rows is "the bad one" has no
answer, so they are never quarantined row by row: in ``fail`` mode they fail the table
(nothing of it is published), in ``quarantine`` and ``warn`` mode the table is published
and they stand in the report as failed checks (warnings).
"""

from __future__ import annotations

import copy
import importlib
import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from adu_core.errors import UsageError
from adu_core.lazy import lazy_module
from adu_core.models import CheckResult, TableInfo, ValidationReport
from adu_core.plugin.components import BatchVerdict, TableValidator, Validator

from adu_pandera import inferred, models, table_checks, uniqueness
from adu_pandera.checks import CheckSpec, failure_expr
from adu_pandera.imports import import_pandera
from adu_pandera.rules import RulesFile, TableRules
from adu_pandera.table_checks import MAX_SAMPLES, jsonable

if TYPE_CHECKING:
    import polars as pl
    import pyarrow.compute as pc
else:
    pl = lazy_module("polars")  # imported when a batch is first validated
    pc = lazy_module("pyarrow.compute")  # ~0.06 s: only when a check needs it

_LIST_OF_STRINGS = pa.list_(pa.string())


def _longest_bytes(column: pa.Array | pa.ChunkedArray) -> int | None:
    """At least the most bytes any value of a string or binary ``column`` has (None: no
    value), from its offsets: no pass over the text, and no ``pyarrow.compute`` import for
    a small table. A null may own bytes (Arrow allows it), so this can only overstate,
    which sends the batch to the exact check."""
    longest: int | None = None
    for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
        t = chunk.type
        if len(chunk) == chunk.null_count:
            continue
        if pa.types.is_string(t) or pa.types.is_binary(t):
            fmt = "i"
        elif pa.types.is_large_string(t) or pa.types.is_large_binary(t):
            fmt = "q"
        else:  # string views and the like: no offsets buffer
            n = pc.max(pc.binary_length(chunk)).as_py()
            longest = n if longest is None or (n is not None and n > longest) else longest
            continue
        start, stop = chunk.offset, chunk.offset + len(chunk) + 1
        if len(chunk) <= uniqueness.SMALL:  # no numpy import for a small table
            offsets = uniqueness.buffer_ints(chunk.buffers()[1], fmt, start, stop)
            n = max(b - a for a, b in itertools.pairwise(offsets))
        else:
            import numpy as np

            wide = np.frombuffer(chunk.buffers()[1], dtype=np.int32 if fmt == "i" else np.int64)
            n = int(np.diff(wide[start:stop]).max())
        longest = n if longest is None else max(longest, n)
    return longest


def has_arrow_pretest(spec: CheckSpec) -> bool:
    """Whether :func:`passes_in_arrow` can clear ``spec`` without polars: an upper bound
    on string length only (the inferred ``max_length`` of ``varchar(n)``)."""
    return (
        spec.builtin == "str_length"
        and spec.kwargs.get("min_value") is None
        and isinstance(spec.kwargs.get("max_value"), int)
    )


def passes_in_arrow(spec: CheckSpec, column: pa.Array) -> bool:
    """True when every row of ``column`` surely passes ``spec`` (then polars need not run).

    Exact, not a guess: pandera's ``str_length(max_value=n)`` passes a row when its
    length in characters is at most ``n`` and skips nulls; Arrow's ``utf8_length`` counts
    characters and its ``max`` skips nulls. False sends the batch to the polars check,
    which finds the failing rows.
    """
    if not has_arrow_pretest(spec):
        return False
    limit = spec.kwargs["max_value"]
    try:
        # a character is at least one byte: when no value has more bytes than the limit,
        # none has more characters (the lengths come from the offsets, no pass over the text)
        longest = _longest_bytes(column)
        if longest is None or longest <= limit:
            return True
        longest = pc.max(pc.utf8_length(column)).as_py()
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return longest is None or longest <= limit


class PanderaTableValidator(TableValidator):
    """The checks of one table (picklable; one copy per partition).

    :param table: ``schema.table``.
    :param mode: ``fail``, ``quarantine`` or ``warn``.
    :param row_specs: checks evaluated per batch.
    :param table_specs: checks over the staged files.
    :param dtypes: expected Arrow type per column (the ``dtype`` check), empty to skip it.
    :param key_columns: the primary key, whose values identify sample rows.
    :param model_ref: ``module:Class`` of a pandera schema run on every batch.
    """

    def __init__(
        self,
        table: str,
        *,
        mode: str = "fail",
        row_specs: Sequence[CheckSpec] = (),
        table_specs: Sequence[CheckSpec] = (),
        dtypes: Mapping[str, pa.DataType] | None = None,
        key_columns: Sequence[str] = (),
        model_ref: str | None = None,
        model_checks: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.table = table
        self.mode = mode
        self.row_specs = tuple(row_specs)
        self.table_specs = tuple(table_specs)
        self.dtypes = dict(dtypes or {})
        self.key_columns = tuple(key_columns)
        self.model_ref = model_ref
        self._rows = 0
        self._failed_rows = 0
        self._checks: dict[str, dict[str, Any]] = {}
        for col, typ in self.dtypes.items():
            self._declare(f"{col}:dtype({typ})", f"dtype({typ})", col)
        for spec in self.row_specs:
            self._declare(spec.key, spec.label, spec.column)
        for col, ident in model_checks:
            self._declare(f"{col}:{ident}", ident, col)
        self._compiled: list[pl.Expr] | None = None
        # single-column keys whose values arrive strictly increasing (ctid order of a table
        # loaded in key order, the common case) are unique without a pass over the files
        # and integer-like keys are checked with a presence map sized by the values seen
        # (adu_pandera.uniqueness)
        self._runs: dict[str, dict[str, Any]] = {
            col: uniqueness.new_run(self.dtypes[col])
            for spec in self.table_specs
            if len(spec.kwargs.get("columns", ())) == 1
            and (
                uniqueness.orderable(self.dtypes.get(col := str(spec.kwargs["columns"][0])))
                or uniqueness.integer_like(self.dtypes.get(col))
            )
        }
        self._proven_unique: set[str] = set()
        self._spans: dict[str, tuple[int, int]] = {}
        self._published_rows: int | None = None

    # -- pickling: compiled polars expressions stay in the process that built them -------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_compiled"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __deepcopy__(self, memo: dict[int, Any]) -> PanderaTableValidator:
        """A copy whose counts, samples and key runs are its own (the engine copies the
        validator for every partition and attempt); the configuration, never changed after
        ``__init__`` (names, check specs, Arrow types, compiled expressions), is shared:
        a generic deep copy of it cost ~1 ms per table, 200 small tables' start-up."""
        clone = copy.copy(self)
        clone._checks = {k: {**v, "samples": copy.deepcopy(v["samples"], memo)} for k, v in self._checks.items()}
        clone._runs = copy.deepcopy(self._runs, memo)
        clone._proven_unique = set(self._proven_unique)
        clone._spans = dict(self._spans)
        return clone

    # -- helpers -------------------------------------------------------------------------

    def _declare(self, key: str, check: str, column: str | None) -> dict[str, Any]:
        entry = self._checks.get(key)
        if entry is None:
            entry = {"check": check, "column": column, "failed_rows": 0, "samples": []}
            self._checks[key] = entry
        return entry

    def _expressions(self) -> list[pl.Expr]:
        if self._compiled is None:
            self._compiled = [
                failure_expr(spec, str(spec.column)).alias(f"_adu_{i}") for i, spec in enumerate(self.row_specs)
            ]
        return self._compiled

    @property
    def checks(self) -> list[str]:
        """Every check this validator runs, row checks then whole-table checks."""
        return list(self._checks) + [s.key for s in self.table_specs]

    # -- worker --------------------------------------------------------------------------

    def validate(self, batch: pa.RecordBatch) -> BatchVerdict:
        """Check one batch; accumulate counts and samples (see :meth:`partial`)."""
        n = batch.num_rows
        if n == 0:
            return BatchVerdict()
        if self._runs:
            self._follow_key_runs(batch)
        failing: list[tuple[str, pl.Series | None]] = []  # None: every row of the batch
        broken_columns: set[str] = set()
        schema = batch.schema
        for col, typ in self.dtypes.items():
            idx = schema.get_field_index(col)
            actual = schema.field(idx).type if idx >= 0 else None
            if actual is None or not actual.equals(typ):
                broken_columns.add(col)
                key = f"{col}:dtype({typ})"
                failing.append((key, None))
                entry = self._checks[key]
                if not entry["samples"]:
                    entry["samples"].append({"value": "missing" if actual is None else str(actual)})

        active: list[int] = []
        for i, spec in enumerate(self.row_specs):
            col = str(spec.column)
            if col in broken_columns or schema.get_field_index(col) < 0:
                continue
            if spec.name == "nullable":
                # in Arrow, so columns polars cannot load (intervals...) are checked too
                column = batch.column(col)
                if column.null_count:  # the common case, none, costs nothing
                    nulls = pl.from_arrow(column.is_null())
                    assert isinstance(nulls, pl.Series)
                    failing.append((spec.key, nulls))
                continue
            if passes_in_arrow(spec, batch.column(col)):
                continue  # no row can fail: polars need not see the batch
            active.append(i)
        if active:
            exprs = self._expressions()
            cols = list(dict.fromkeys(str(self.row_specs[i].column) for i in active))
            frame = _frame(batch.select(cols))
            masks = frame.select([exprs[i] for i in active])
            sums = masks.sum().row(0)
            for i, total in zip(active, sums, strict=True):
                if total:
                    failing.append((self.row_specs[i].key, masks.get_column(f"_adu_{i}")))
        if self.model_ref is not None:
            failing.extend(self._model_failures(batch))

        if not failing:
            self._rows += n
            return BatchVerdict()

        cols_failing = []
        for j, (_key, mask) in enumerate(failing):
            series = pl.repeat(True, n, eager=True) if mask is None else mask
            cols_failing.append(series.alias(f"_f{j}"))
        fdf = pl.DataFrame(cols_failing)
        failed_series = fdf.select(pl.any_horizontal(pl.all())).to_series()
        self._failed_rows += int(failed_series.sum())
        for j, (key, _mask) in enumerate(failing):
            self._account(key, fdf.get_column(f"_f{j}"), batch)
        self._rows += n
        failed = pa.array(failed_series.to_arrow(), pa.bool_())
        return BatchVerdict(failed=failed, reasons=_reasons(fdf, [key for key, _m in failing]))

    def _follow_key_runs(self, batch: pa.RecordBatch) -> None:
        """Note, per single-column key, what the cheap uniqueness proofs need."""
        for col, run in self._runs.items():
            if not run["ok"] and not run["int"]:
                continue
            idx = batch.schema.get_field_index(col)
            if idx < 0 or not batch.schema.field(idx).type.equals(self.dtypes[col]):
                run["ok"] = run["int"] = False  # the general check will look at the files
                continue
            uniqueness.follow(run, batch.column(idx))

    def _account(self, key: str, mask: pl.Series, batch: pa.RecordBatch) -> None:
        entry = self._checks.get(key)
        if entry is None:  # a model check not declared up front (dtype, dataframe checks)
            column, _, check = key.partition(":")
            entry = self._declare(key, check, column or None)
        entry["failed_rows"] += int(mask.sum())
        if entry["check"].startswith("dtype("):
            return  # the sample is the type the batch had, added when it was found
        need = MAX_SAMPLES - len(entry["samples"])
        if need <= 0:
            return
        idx = mask.arg_true().head(need).to_arrow()
        column = entry["column"]
        values = None
        if column is not None and batch.schema.get_field_index(column) >= 0:
            values = batch.column(column).take(idx).to_pylist()
        keys = None
        if self.key_columns and all(batch.schema.get_field_index(k) >= 0 for k in self.key_columns):
            keys = batch.select(list(self.key_columns)).take(idx).to_pylist()
        for pos, row in enumerate(idx.to_pylist()):
            sample: dict[str, Any] = {}
            if values is not None:
                sample["value"] = jsonable(values[pos])
            if keys is not None:
                sample["key"] = jsonable(keys[pos])
            else:
                sample["row"] = self._rows + row
            entry["samples"].append(sample)

    def _model_failures(self, batch: pa.RecordBatch) -> list[tuple[str, pl.Series | None]]:
        import_pandera()
        from pandera.errors import SchemaError, SchemaErrors

        schema = models.load_schema(str(self.model_ref))
        try:
            frame = _frame(batch)
        except pl.exceptions.PolarsError:
            # a column polars cannot load (an interval struct...): give the model its own columns
            wanted = [c for c in schema.columns if batch.schema.get_field_index(c) >= 0]
            frame = _frame(batch.select(wanted))
        try:
            schema.validate(frame, lazy=True)
        except SchemaErrors as exc:
            cases = exc.failure_cases
        except SchemaError as exc:  # pragma: no cover - lazy=True collects them all
            return [(f":{exc.reason_code}", None)]
        else:
            return []
        n = batch.num_rows
        out: list[tuple[str, pl.Series | None]] = []
        grouped = cases.group_by(["column", "check"], maintain_order=True).agg(pl.col("index"))
        for column, check, index in grouped.iter_rows():
            key = f"{column}:{check}"
            rows = [i for i in index if i is not None]
            if len(rows) < len(index):
                out.append((key, None))  # schema-level: every row of the batch
                continue
            mask = pl.Series(values=[False] * n, dtype=pl.Boolean)
            mask = mask.scatter(rows, True)
            out.append((key, mask))
        return out

    def partial(self) -> dict[str, Any]:
        """Rows seen, rows failed, and per check: failed rows and samples (plain data)."""
        return {
            "table": self.table,
            "mode": self.mode,
            "rows": self._rows,
            "failed_rows": self._failed_rows,
            # a check's entry holds plain values but its samples: only those deep-copied
            # (a generic deep copy of every entry was ~40% of this call, once per partition)
            "checks": {
                k: {**v, "samples": copy.deepcopy(v["samples"]) if v["samples"] else []}
                for k, v in self._checks.items()
            },
            "key_runs": copy.deepcopy(self._runs) if self._runs else {},
        }

    # -- coordinator -----------------------------------------------------------------------

    def merge(self, partials: Sequence[Any]) -> ValidationReport:
        """One report from every partition's :meth:`partial` (in partition order: samples
        without a primary key name the partition by its position here)."""
        # fresh entries: their other values (check, column) are plain strings
        merged: dict[str, dict[str, Any]] = {k: {**v, "failed_rows": 0, "samples": []} for k, v in self._checks.items()}
        failed_rows = 0
        self._proven_unique = uniqueness.proven_by_ranges(list(self._runs), partials)
        self._spans = {col: span for col in self._runs if (span := uniqueness.value_span(col, partials)) is not None}
        seen = sum(int((p or {}).get("rows", 0)) for p in partials)
        quarantined = sum(int((p or {}).get("failed_rows", 0)) for p in partials) if self.mode == "quarantine" else 0
        self._published_rows = seen - quarantined
        for part_no, part in enumerate(partials):
            if not part:
                continue
            failed_rows += int(part.get("failed_rows", 0))
            for key, entry in part.get("checks", {}).items():
                target = merged.setdefault(
                    key, {"check": entry["check"], "column": entry["column"], "failed_rows": 0, "samples": []}
                )
                target["failed_rows"] += int(entry["failed_rows"])
                for sample in entry["samples"]:
                    if len(target["samples"]) >= MAX_SAMPLES:
                        break
                    if "row" in sample:
                        sample = {**sample, "partition": part_no}
                    target["samples"].append(sample)
        checks = [
            CheckResult(check=v["check"], column=v["column"], failed_rows=v["failed_rows"], samples=v["samples"])
            for v in merged.values()
        ]
        return ValidationReport(
            mode=self.mode,
            checks=checks,
            failed_rows=failed_rows,
            quarantined_rows=failed_rows if self.mode == "quarantine" else 0,
        )

    def check_table(self, files: Sequence[str]) -> list[CheckResult]:
        """Key uniqueness, ``unique: true`` columns, ``rows`` and ``unique_values_eq``
        completeness, over the staged Parquet ``files``: single-column keys by the cheap
        proofs of :mod:`adu_pandera.uniqueness` where they decide, the rest with DuckDB."""
        proven = self._proven_unique
        if proven and self._published_rows != _rows_in(files):
            proven = set()  # the files are not the rows this validator saw: prove nothing
        skip: dict[int, CheckResult] = {}
        for i, spec in enumerate(self.table_specs):
            if spec.name not in ("primary_key", "unique_key", "unique") or len(spec.kwargs["columns"]) != 1:
                continue
            col = str(spec.kwargs["columns"][0])
            if col in proven or (
                col in self._spans and uniqueness.unique_by_presence(files, col, self._spans[col]) is True
            ):
                skip[i] = CheckResult(check=spec.label, column=spec.column)
        rest = [s for i, s in enumerate(self.table_specs) if i not in skip]
        found = iter(table_checks.run(rest, files))
        return [skip[i] if i in skip else next(found) for i in range(len(self.table_specs))]


def _rows_in(files: Sequence[str]) -> int:
    """The rows the files' footers count, read with pyarrow's Cython reader
    (``pyarrow.parquet`` would import pyarrow's file systems, ~9 ms, for every export)."""
    from pyarrow._parquet import ParquetReader

    total = 0
    for f in files:
        reader = ParquetReader()
        reader.open(f)
        try:
            total += reader.metadata.num_rows
        finally:
            reader.close()
    return total


def _reasons(masks: pl.DataFrame, keys: Sequence[str]) -> pa.ListArray:
    """For each row, the keys of the masks that are true for it (in mask order), built
    as Arrow offsets + values: the work follows the failures, not the rows."""
    parts = []
    for j, name in enumerate(masks.columns):
        rows = masks.get_column(name).arg_true()
        parts.append(pl.DataFrame({"row": rows, "j": pl.repeat(j, len(rows), eager=True, dtype=pl.UInt32)}))
    which = pl.concat(parts).sort(["row", "j"]).get_column("j").to_arrow()
    counts = masks.select(pl.sum_horizontal(pl.all().cast(pl.Int32))).to_series()
    offsets = pl.concat([pl.Series([0], dtype=pl.Int32), counts.cum_sum().cast(pl.Int32)])
    values = pa.array(list(keys), pa.string()).take(which)
    return pa.ListArray.from_arrays(pa.array(offsets.to_arrow(), pa.int32()), values, type=_LIST_OF_STRINGS)


def _frame(batch: pa.RecordBatch) -> pl.DataFrame:
    """The batch as a polars frame (zero-copy where polars shares Arrow's layout);
    extension columns become their storage and dictionary columns strings, so the
    checks of their kind apply to them."""
    if any(isinstance(f.type, pa.ExtensionType) for f in batch.schema):
        arrays = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in batch.columns]
        batch = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    cats = [name for name, dtype in frame.schema.items() if isinstance(dtype, (pl.Categorical, pl.Enum))]
    if cats:
        frame = frame.with_columns([pl.col(c).cast(pl.String) for c in cats])
    return frame


class PanderaValidator(Validator):
    """Validation with pandera's checks: inferred from the source, from a rules file, or
    from a pandera DataFrameModel (``options["rules"] = "module:Class"``)."""

    name = "pandera"
    title = "pandera"
    description = "pandera checks on every batch: inferred from the source, a rules file or a DataFrameModel"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        rules = self.options.get("rules")
        self.infer = bool(self.options.get("infer", True))
        self._path: str | None = None
        self._parsed: RulesFile | None = None
        self._model_ref: str | None = None
        if rules:
            rules = str(rules)
            if models.is_model_ref(rules):
                self._model_ref = models.resolve_ref(rules)
            else:
                self._path = rules
        self._checked: dict[str, TableRules] | None = None

    @property
    def _file(self) -> RulesFile | None:
        """The rules file, parsed on first use (in :meth:`check_rules`, before the job)."""
        if self._path is not None and self._parsed is None:
            self._parsed = RulesFile(self._path)
        return self._parsed

    def check_rules(self, tables: Sequence[TableInfo]) -> None:
        """Refuse unknown tables, columns and checks and badly typed arguments, naming
        the file and line; load a DataFrameModel and check its columns."""
        if self._file is not None:
            self._checked = self._file.check_tables(tables)
        if self._model_ref is not None:
            schema = models.load_schema(self._model_ref)
            models.on_failure(schema)
            bound = models.bound_table(schema)
            if bound is not None and bound not in {t.qualified_name for t in tables}:
                raise UsageError(f"rules {self._model_ref!r}: model names unknown table {bound!r} in Config.name")
            for table in tables:
                if models.applies_to(schema, table):
                    models.check_columns(self._model_ref, schema, table)
        for table in tables:
            self.for_table(table)  # surfaces anything a table's own rules get wrong

    def _rules_for(self, table: TableInfo) -> TableRules | None:
        if self._file is None:
            return None
        if self._checked is not None and table.qualified_name in self._checked:
            return self._checked[table.qualified_name]
        return self._file.table_rules(table)

    def for_table(self, table: TableInfo) -> PanderaTableValidator | None:
        """The checks of ``table``; None when there is nothing to check."""
        rules = self._rules_for(table)
        nullable = dict(rules.nullable) if rules else {}
        unique = dict(rules.unique) if rules else {}
        row_specs: list[CheckSpec] = []
        table_specs: list[CheckSpec] = []
        dtypes: dict[str, pa.DataType] = {}
        if self.infer:
            for col in table.columns:
                dtypes[col.name] = col.arrow_type
                for spec in inferred.column_checks(col):
                    if spec.name == "nullable" and nullable.get(col.name) is True:
                        continue  # the rules file allows nulls here
                    row_specs.append(spec)
            for spec in inferred.table_checks(table):
                cols = spec.kwargs["columns"]
                if spec.name == "unique_key" and len(cols) == 1 and unique.get(cols[0]) is False:
                    continue
                table_specs.append(spec)
        has_not_null = {s.column for s in row_specs if s.name == "nullable"}
        for col_name, allowed in nullable.items():
            if not allowed and col_name not in has_not_null:
                row_specs.append(CheckSpec(col_name, "nullable", kwargs={"nullable": False}))
        if rules is not None:
            for spec in rules.checks:
                (row_specs if spec.scope == "row" else table_specs).append(spec)
        covered = {tuple(s.kwargs["columns"]) for s in table_specs if "columns" in s.kwargs}
        for col_name, wanted in unique.items():
            if wanted and (col_name,) not in covered:
                table_specs.append(CheckSpec(col_name, "unique", kwargs={"columns": [col_name]}, scope="table"))
        model_ref = None
        model_checks: list[tuple[str, str]] = []
        mode = (rules.on_failure if rules else None) or (self._file.on_failure if self._file else None)
        if self._model_ref is not None:
            schema = models.load_schema(self._model_ref)
            if models.applies_to(schema, table):
                model_ref = self._model_ref
                model_checks = models.declared_checks(schema)
                mode = mode or models.on_failure(schema)
        if not row_specs and not table_specs and not dtypes and model_ref is None:
            return None
        if model_ref is not None or any(s.name != "nullable" and not has_arrow_pretest(s) for s in row_specs):
            # polars will run: import it (only import: no polars work runs here) before a
            # process pool forks, so the workers share one copy instead of each loading its
            # own; checks Arrow clears alone (NOT NULL, varchar lengths) import it only when
            # a batch breaks them
            importlib.import_module("polars")
        return PanderaTableValidator(
            table.qualified_name,
            mode=mode or "fail",
            row_specs=row_specs,
            table_specs=table_specs,
            dtypes=dtypes,
            key_columns=table.primary_key,
            model_ref=model_ref,
            model_checks=model_checks,
        )
