"""Validation overhead on the real export: PostgreSQL 3,000,000-row mixed table -> Parquet.

Run by hand (never from the tests)::

    .venv/bin/python bench/validation_pg.py [--rows 3000000] [--rounds 3]

Uses ``bench/pg_export.py``'s throwaway cluster and mixed table (bigint, int,
numeric(12,2), text, varchar(64), timestamptz, date, bool, uuid, jsonb, double) and times,
interleaved over ``--rounds`` rounds, ``adu export --parallel 2``:

* ``--no-validate``;
* the default (inferred rules: types, NOT NULL, varchar length, numeric precision, primary
  key when there is one);
* ``--rules`` with five column checks (below) on top of the inferred rules.

The issue's budget: the five checks add at most 25% to the export's wall time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pg_export

RULES = """
tables:
  public.{table}:
    on_failure: quarantine
    columns:
      id: {{ge: 1}}
      i: {{in_range: [0, 100000]}}
      n: {{ge: 0}}
      t: {{str_length: {{exact_value: 32}}}}
      v: {{str_matches: '^name-[0-9]+$'}}
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    from pgserver import PgServer

    pg = PgServer().start()
    work = Path(tempfile.mkdtemp(prefix="adu-bench-validation-"))
    try:
        (tables,) = pg_export.make_data(pg, args.rows, 0, 0)
        table = tables[0]
        rules = work / "rules.yaml"
        rules.write_text(RULES.format(table=table.split(".")[1]))
        variants = {"--no-validate": ["--no-validate"], "inferred": [], "inferred + 5 checks": ["--rules", str(rules)]}
        walls: dict[str, list[float]] = {k: [] for k in variants}
        for r in range(args.rounds):
            for label, extra in variants.items():
                out = work / "out"
                env = dict(pg_export.os.environ, ADU_DATA_DIR=str(work / "data"))
                cmd = [
                    str(pg_export.VENV_BIN / "adu"),
                    "export",
                    pg.superuser_dsn,
                    "--out",
                    str(out),
                    "--parallel",
                    "2",
                    "--table",
                    table,
                    *extra,
                ]
                wall, rss, _pss, rc = pg_export.measure(cmd, env=env)
                shutil.rmtree(out, ignore_errors=True)
                assert rc == 0, f"{label}: exit {rc}"
                walls[label].append(wall)
                print(f"round {r + 1} {label:22s} {wall:6.2f} s  peak RSS {rss / 2**20:5.0f} MB", flush=True)
        base = statistics.median(walls["--no-validate"])
        for label, values in walls.items():
            med = statistics.median(values)
            print(f"{label:22s} median {med:6.2f} s  overhead {med / base - 1:+6.1%}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        pg.stop()


if __name__ == "__main__":
    main()
