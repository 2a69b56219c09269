"""Other projects' PostgreSQL type test data (tests/interop/upstream/, adapted: see the
README), exported with the default options, every column of every table compared with
PostgreSQL's text output of each value (read back through pandas' pyarrow backend)."""

from __future__ import annotations

from pathlib import Path

import pytest
from interop_helpers import check_table, export, files_of, source_texts

UPSTREAM = sorted((Path(__file__).parent / "upstream").glob("*.sql"))


@pytest.mark.slow
def test_upstream_type_suites_export_every_column_exactly(pg, tmp_path) -> None:
    tables = columns = 0
    wrong: dict[str, str] = {}
    for path in UPSTREAM:
        db = pg.create_database(path.stem[:20])
        try:
            db.execute(path.read_text())
            out = tmp_path / path.stem / "export"
            manifest = export(db.dsn, out, ["public.*"], "portable")
            for entry in manifest["tables"]:
                name = f"{path.stem}:{entry['name']}"
                if entry["status"] != "succeeded":
                    wrong[f"{name}.*"] = str(entry.get("error"))
                    continue
                cols = [(c.get("original_name") or c["name"], c["source_type"]) for c in entry["columns"]]
                order = "id" if any(c == "id" for c, _t in cols) else ""
                texts = source_texts(db.dsn, entry["schema"], entry["name"], cols, order)
                if not entry["files"]:
                    assert entry["rows"] == 0 and all(not v for v in texts.values()), name
                    tables += 1
                    columns += len(cols)
                    continue
                result = check_table("pandas", None, files_of(out, entry), entry, texts, entry["rows"])
                tables += 1
                columns += len(result)
                wrong.update({f"{name}.{c}": why for c, why in result.items() if why != "ok"})
        finally:
            db.drop()
    exact = columns - len(wrong)
    print(f"\nupstream suites: {exact:,}/{columns:,} columns exact in {tables} tables")
    assert wrong == {}
    assert tables > 60
