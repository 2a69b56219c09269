"""Per-column sizes of Parquet files, from their footers (deterministic, no timing).

    .venv/bin/python bench/parquet_sizes.py A.parquet[,A2.parquet...] B.parquet[,...]

prints, per top-level column, the compressed bytes of its column chunks in A and in B
(summed over files, row groups and leaf columns), the ratio A/B and the encodings used.
``bench/pg_export.py`` prints the same table for ADU's and DuckDB's files of each table.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path


def column_sizes(files: Iterable[str | Path]) -> dict[str, list]:
    """Top-level column -> [compressed bytes, uncompressed bytes, set of encodings]."""
    import pyarrow.parquet as pq

    out: dict[str, list] = {}
    for f in files:
        meta = pq.read_metadata(str(f))
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            for c in range(rg.num_columns):
                col = rg.column(c)
                top = col.path_in_schema.split(".")[0]
                entry = out.setdefault(top, [0, 0, set()])
                entry[0] += col.total_compressed_size
                entry[1] += col.total_uncompressed_size
                entry[2].update(col.encodings)
    return out


def parquet_files(root: str | Path) -> list[Path]:
    root = Path(root)
    return [root] if root.is_file() else sorted(p for p in root.rglob("*.parquet") if "_quarantine" not in p.parts)


def compare(adu: dict[str, list], duck: dict[str, list], label_a: str = "ADU", label_b: str = "DuckDB") -> None:
    """Print the per-column comparison; ADU's column names decide the order."""
    print(f"   {'column':12s} {label_a + ' bytes':>13s} {label_b + ' bytes':>13s} {'ratio':>6s}  encodings ({label_a})")
    tot_a = tot_b = 0
    for name, (size_a, _raw, enc) in adu.items():
        size_b = duck.get(name, [0])[0]
        tot_a, tot_b = tot_a + size_a, tot_b + size_b
        ratio = f"{size_a / size_b:5.2f}" if size_b else "  -  "
        flag = "  <-- over +5%" if size_b and size_a > size_b * 1.05 else ""
        encs = ",".join(sorted(e for e in enc if e not in ("RLE", "BIT_PACKED")))
        print(f"   {name:12s} {size_a:13,d} {size_b:13,d} {ratio:>6s}  {encs}{flag}")
    ratio = f"{tot_a / tot_b:5.2f}" if tot_b else "  -  "
    print(f"   {'(all)':12s} {tot_a:13,d} {tot_b:13,d} {ratio:>6s}", flush=True)


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    a = [f for part in sys.argv[1].split(",") for f in parquet_files(part)]
    b = [f for part in sys.argv[2].split(",") for f in parquet_files(part)]
    compare(column_sizes(a), column_sizes(b), "A", "B")


if __name__ == "__main__":
    main()
