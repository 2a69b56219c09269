"""An ADU validator plugin for the fault tests, loaded by real ``adu`` processes through
the ``adu`` entry point (:func:`faultkit.plugin_env` puts a distribution of it on
``PYTHONPATH``). It does nothing unless ``ADU_FAULT_VALIDATOR`` says what to do:

* ``slow-duckdb``: the table-wide check of ``many.t00`` runs a DuckDB query that never
  ends, writing ``ADU_FAULT_MARKER`` just before it starts and, when DuckDB raises, what it
  raised (so a test knows its signal reached DuckDB);
* ``per-table``: ``many.t00`` raises ``SystemExit`` in a worker (per batch), ``many.t01``
  ``SystemExit`` in the coordinator (table-wide check), ``many.t02`` a
  ``KeyboardInterrupt`` that no signal caused; the other tables pass.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

from adu_core.models import ValidationReport
from adu_core.plugin import hookimpl
from adu_core.plugin.components import BatchVerdict, TableValidator, Validator


def _mode() -> str:
    return os.environ.get("ADU_FAULT_VALIDATOR", "")


class FaultChecks(TableValidator):
    mode = "fail"

    def __init__(self, table: str) -> None:
        self.table = table

    def validate(self, batch: Any) -> BatchVerdict:
        if _mode() == "per-table" and self.table == "t00":
            raise SystemExit("a validator called sys.exit in a worker")
        if _mode() == "per-table" and self.table == "t02":
            raise KeyboardInterrupt("a validator raised KeyboardInterrupt")
        return BatchVerdict()

    def partial(self) -> int:
        return 0

    def merge(self, partials: Any) -> ValidationReport:
        return ValidationReport(mode="fail")

    def check_table(self, files: Any) -> list[Any]:
        if _mode() == "per-table" and self.table == "t01":
            raise SystemExit("a validator called sys.exit in the coordinator")
        if _mode() == "slow-duckdb" and self.table == "t00":
            import duckdb

            marker = pathlib.Path(os.environ["ADU_FAULT_MARKER"])
            con = duckdb.connect()
            marker.write_text("duckdb is running")  # the query starts right after this
            try:
                con.sql("SELECT sum(i) FROM range(100000000000) t(i)").fetchall()
            except BaseException as exc:
                # what DuckDB made of the signal: the test checks it went through DuckDB
                marker.write_text(f"duckdb raised {type(exc).__name__}: {exc}")
                raise
        return []


class FaultValidator(Validator):
    name = "faults"
    description = "fault-test validator"

    def for_table(self, table: Any) -> FaultChecks | None:
        return FaultChecks(table.name) if _mode() and table.schema == "many" else None


@hookimpl
def adu_register_validators(register: Any) -> None:
    register(FaultValidator)
