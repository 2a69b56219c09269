"""Export wall time with and without validation, through the engine (run by hand).

    .venv/bin/python bench/validation_export.py [--rows 3000000] [--repeat 2]

Builds the benchmark's 11-column mixed table (bigint, int, numeric(12,2), text,
varchar(20), timestamptz, date, bool, uuid, jsonb-like text, double) in a DuckDB file in a
temporary directory, then exports it to zstd Parquet with the engine three ways: no
validation, inferred rules only, and inferred rules + a rules file with five column checks.
Prints wall seconds and the overhead over the unvalidated export. (The DuckDB source
stands in for PostgreSQL here; the validator does not care where batches come from.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import duckdb

RULES = """
tables:
  bench.mixed:
    on_failure: quarantine
    columns:
      id: {ge: 0}
      qty: {in_range: [0, 100000]}
      amount: {ge: 0}
      code: {str_matches: '^C[0-9]+$'}
      note: {str_length: {max_value: 100}}
"""

CREATE = """
CREATE SCHEMA bench;
CREATE TABLE bench.mixed (
    id BIGINT PRIMARY KEY, qty INTEGER, amount DECIMAL(12, 2), note TEXT, code VARCHAR(20),
    ts TIMESTAMPTZ, day DATE, flag BOOLEAN, uid UUID, doc VARCHAR, score DOUBLE);
INSERT INTO bench.mixed
SELECT i, (i * 7919) % 100000, ((i * 31) % 10000000) / 100.0, 'note number ' || i || ' for customer',
       'C' || (i % 9999), TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i), DATE '2020-01-01' + (i % 3000)::INT,
       i % 3 = 0, uuid(), '{"k": ' || i || ', "tags": ["a", "b"]}', sin(i)
FROM range({rows}) t(i);
CHECKPOINT;
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ADU_DATA_DIR"] = os.path.join(tmp, "data")
        os.environ.setdefault("ADU_SECRET_KEY", "bench-secret-key-0123456789")
        from adu_core import config
        from adu_core.engine import submit_and_run
        from adu_core.models import JobSpec, JobStatus
        from adu_core.store import Store

        db = os.path.join(tmp, "mixed.duckdb")
        con = duckdb.connect(db)
        con.execute(CREATE.replace("{rows}", str(args.rows)))
        con.close()
        rules = os.path.join(tmp, "rules.yaml")
        with open(rules, "w") as fh:
            fh.write(RULES)
        settings = config.load()
        store = Store.from_settings(settings)
        variants = {
            "no validation": {"validate": False},
            "inferred rules": {"validate": True},
            "inferred + 5 column checks": {"validate": True, "rules": rules},
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        for _ in range(args.repeat):
            for label, opts in variants.items():
                spec = JobSpec(
                    source=f"duckdb://{db}",
                    target=os.path.join(tmp, "out"),
                    overwrite=True,
                    parallel=args.parallel,
                    **opts,
                )  # type: ignore[arg-type]
                start = time.perf_counter()
                result = submit_and_run(store, spec, settings=settings, mp_start="forkserver")
                times[label].append(time.perf_counter() - start)
                assert result.status == JobStatus.SUCCEEDED, result.tables[0].error
                assert result.rows == args.rows, result.rows
        store.dispose()
        base = statistics.median(times["no validation"])
        for label, values in times.items():
            med = statistics.median(values)
            print(
                f"{label:30s} {med:7.2f} s (runs: {', '.join(f'{v:.2f}' for v in values)})"
                f"  overhead {med / base - 1:+.1%}"
            )


if __name__ == "__main__":
    main()
