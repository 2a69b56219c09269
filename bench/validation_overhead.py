"""Validation overhead on the benchmark's 3,000,000-row mixed table shape (run by hand).

    .venv/bin/python bench/validation_overhead.py [--rows 3000000] [--batch 100000]

Generates the 11-column shape in memory (bigint, int, numeric(12,2), text, varchar(20),
timestamptz, date, bool, uuid, jsonb, double), then times, over the same batches:

* the ADU ``pandera`` validator with five column checks from a rules file plus the
  inferred ones (types, NOT NULL, varchar length), as the workers run it;
* pandera's own ``DataFrameSchema.validate(lazy=True)`` with the same checks (the road
  not taken for rules files, kept for DataFrameModels);
* writing the batches to zstd Parquet (two files, as two partitions): a lower bound of
  what the export itself costs, to put the overhead in proportion;
* the whole-table primary-key check over those files (DuckDB).

Prints seconds and rows/s. Nothing here is a test; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import decimal
import os
import pickle
import tempfile
import time

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from adu_core.models import ColumnInfo, TableInfo
from adu_pandera import PanderaValidator

RULES = """
tables:
  public.mixed:
    on_failure: quarantine
    columns:
      id: {ge: 0}
      qty: {in_range: [0, 100000]}
      amount: {ge: 0}
      code: {str_matches: '^C[0-9]+$'}
      note: {str_length: {max_value: 100}}
"""

TABLE = TableInfo(
    "public",
    "mixed",
    columns=(
        ColumnInfo("id", "bigint", pa.int64(), nullable=False),
        ColumnInfo("qty", "integer", pa.int32()),
        ColumnInfo("amount", "numeric(12,2)", pa.decimal128(12, 2), properties={"precision": 12, "scale": 2}),
        ColumnInfo("note", "text", pa.string()),
        ColumnInfo("code", "character varying(20)", pa.string(), properties={"max_length": 20}),
        ColumnInfo("ts", "timestamp with time zone", pa.timestamp("us", "UTC")),
        ColumnInfo("day", "date", pa.date32()),
        ColumnInfo("flag", "boolean", pa.bool_()),
        ColumnInfo("uid", "uuid", pa.string()),
        ColumnInfo("doc", "jsonb", pa.string()),
        ColumnInfo("score", "double precision", pa.float64()),
    ),
    primary_key=("id",),
)


def make_batch(offset: int, n: int, failing_every: int = 0) -> pa.RecordBatch:
    """``n`` rows of the mixed shape starting at id ``offset``; every row valid unless
    ``failing_every`` > 0: then every ``failing_every``-th row breaks the ``qty`` check."""
    qty = pl.col("id") * 7919 % 100_000
    if failing_every:
        qty = pl.when(pl.col("id") % failing_every == 0).then(-1).otherwise(qty)
    d = pl.DataFrame({"id": pl.int_range(offset, offset + n, eager=True, dtype=pl.Int64)}).with_columns(
        qty=qty.cast(pl.Int32),
        amount=((pl.col("id") * 31 % 10_000_000).cast(pl.Float64) / 100).cast(pl.Decimal(12, 2)),
        note=pl.concat_str(pl.lit("note number "), pl.col("id").cast(pl.String), pl.lit(" for customer")),
        code=pl.concat_str(pl.lit("C"), (pl.col("id") % 9999).cast(pl.String)),
        ts=(pl.lit(1_700_000_000_000_000) + pl.col("id") * 1_000_000).cast(pl.Datetime("us", "UTC")),
        day=(pl.lit(19000) + pl.col("id") % 3000).cast(pl.Int32).cast(pl.Date),
        flag=(pl.col("id") % 3 == 0),
        uid=pl.concat_str((pl.col("id") + 10_000_000).cast(pl.String), pl.lit("-0000-4000-8000-000000000000")),
        doc=pl.concat_str(pl.lit('{"k": '), pl.col("id").cast(pl.String), pl.lit(', "tags": ["a", "b"]}')),
        score=pl.col("id").cast(pl.Float64).sin(),
    )
    return d.to_arrow().cast(TABLE.arrow_schema()).combine_chunks().to_batches()[0]


def pandera_schema() -> object:
    import pandera.polars as pa_pl

    return pa_pl.DataFrameSchema(
        {
            "id": pa_pl.Column(pl.Int64, [pa_pl.Check.ge(0)], nullable=False),
            "qty": pa_pl.Column(pl.Int32, [pa_pl.Check.in_range(0, 100000)]),
            "amount": pa_pl.Column(pl.Decimal(12, 2), [pa_pl.Check.ge(decimal.Decimal(0))]),
            "note": pa_pl.Column(pl.String, [pa_pl.Check.str_length(max_value=100)]),
            "code": pa_pl.Column(
                pl.String, [pa_pl.Check.str_matches(r"^C[0-9]+$"), pa_pl.Check.str_length(max_value=20)]
            ),
            "ts": pa_pl.Column(pl.Datetime("us", "UTC")),
            "day": pa_pl.Column(pl.Date),
            "flag": pa_pl.Column(pl.Boolean),
            "uid": pa_pl.Column(pl.String),
            "doc": pa_pl.Column(pl.String),
            "score": pa_pl.Column(pl.Float64),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--failing-every", type=int, default=0, help="make every N-th row break a check")
    args = ap.parse_args()
    batches = [
        make_batch(o, min(args.batch, args.rows - o), args.failing_every) for o in range(0, args.rows, args.batch)
    ]
    rows = sum(b.num_rows for b in batches)
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules.yaml")
        with open(rules, "w") as fh:
            fh.write(RULES)
        validator = PanderaValidator({"rules": rules, "infer": True})
        validator.check_rules([TABLE])
        tv = validator.for_table(TABLE)
        assert tv is not None
        print(f"{rows:,} rows in {len(batches)} batches; checks: {', '.join(tv.checks)}")

        partials: list[object] = []

        def adu() -> None:
            worker_copy = pickle.loads(pickle.dumps(tv))  # as the pool ships it
            for b in batches:
                worker_copy.validate(b)
            partials[:] = [worker_copy.partial()]
            report = worker_copy.merge(partials)
            expected = rows // args.failing_every if args.failing_every else 0
            assert report.failed_rows == expected, report.failed_rows

        schema = pandera_schema()

        def pandera_validate() -> None:
            import pandera.errors

            for b in batches:
                with contextlib.suppress(pandera.errors.SchemaErrors):
                    schema.validate(pl.from_arrow(b), lazy=True)  # type: ignore[attr-defined]

        files = [os.path.join(tmp, f"part{i}.parquet") for i in range(2)]

        def write() -> None:
            half = len(batches) // 2
            for path, part in zip(files, (batches[:half], batches[half:]), strict=True):
                with pq.ParquetWriter(path, TABLE.arrow_schema(), compression="zstd") as w:
                    for b in part:
                        w.write_batch(b)

        def table_check_runs() -> None:
            # as the engine does: merge the partials, then the whole-table checks; the keys
            # arrived strictly increasing, so uniqueness is proven without reading the files
            coordinator = pickle.loads(pickle.dumps(tv))
            coordinator.merge(partials)
            results = coordinator.check_table(files)
            assert all(r.failed_rows == 0 for r in results), results

        def table_check() -> None:
            # no partials merged: nothing is proven, DuckDB reads the key column of the files
            results = pickle.loads(pickle.dumps(tv)).check_table(files)
            assert all(r.failed_rows == 0 for r in results), results

        timings = {}
        for label, fn in (
            ("ADU pandera validator (per-batch checks)", adu),
            ("pandera DataFrameSchema.validate, same checks", pandera_validate),
            ("write zstd Parquet (export lower bound)", write),
            ("whole-table checks: primary key over the files (DuckDB)", table_check),
            ("whole-table checks: primary key, keys seen increasing", table_check_runs),
        ):
            fn()  # warm up (imports, regex compilation)
            start = time.perf_counter()
            fn()
            timings[label] = time.perf_counter() - start
            print(f"{label:58s} {timings[label]:7.3f} s  {rows / timings[label] / 1e6:7.2f} M rows/s")
        write_s = timings["write zstd Parquet (export lower bound)"]
        per_batch = timings["ADU pandera validator (per-batch checks)"]
        for label in ("primary key over the files (DuckDB)", "primary key, keys seen increasing"):
            ours = per_batch + timings[f"whole-table checks: {label}"]
            print(f"validation ({label}) / Parquet write alone: {ours / write_s:6.1%}")


if __name__ == "__main__":
    main()
