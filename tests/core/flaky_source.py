"""A test source: the DuckDB source with faults injected by source options.

Options: ``fail_table`` (schema.table), ``fault``: ``error`` (always fails),
``drop_once`` (a retryable error after the first batch, once: a marker file in
``marker_dir`` remembers it across processes), ``slow`` (sleeps between batches).
"""

import os
import time

from adu_core.errors import SourceError
from adu_core.plugin import hookimpl
from adu_core.plugin.options import Option
from adu_duckdb.source import DuckDBSource


class FlakySource(DuckDBSource):
    name = "flaky"
    title = "flaky"
    schemes = ("flaky",)
    option_schema = (
        Option("fail_table", help="schema.table the fault hits"),
        Option("fault", choices=("error", "drop_once", "slow")),
        Option("marker_dir", help="where drop_once remembers it dropped"),
    )

    def read(self, partition, *, snapshot, batch_rows, cancel):
        opts = self.options
        hit = partition.table.qualified_name == opts.get("fail_table")
        fault = opts.get("fault")
        for i, batch in enumerate(super().read(partition, snapshot=snapshot, batch_rows=batch_rows, cancel=cancel)):
            if hit and fault == "error":
                raise SourceError("permission denied for table (SELECT privilege needed)", sqlstate="42501")
            if hit and fault == "drop_once" and i == 1:
                marker = os.path.join(opts["marker_dir"], f"dropped-{partition.index}")
                if not os.path.exists(marker):
                    open(marker, "w").close()
                    raise SourceError("server closed the connection unexpectedly", sqlstate="08006", retryable=True)
            if fault == "slow":
                time.sleep(0.2)
            yield batch


class FlakyPlugin:
    @hookimpl
    def adu_register_sources(self, register):
        register(FlakySource)
