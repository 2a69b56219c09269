"""Live progress of a running job, for displays (the CLI's progress line, a notebook bar)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from adu_core.models import TableResult, TableStatus


@attrs.frozen
class Progress:
    """A snapshot of a running job, for live displays."""

    tables_total: int
    tables_done: int
    tables_failed: int
    rows: int
    bytes: int
    rows_estimate: int | None
    elapsed: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        if not self.rows_estimate or not self.rows or self.rows >= self.rows_estimate:
            return None
        return (self.rows_estimate - self.rows) / max(self.rows_per_second, 1e-9)

    @classmethod
    def of(cls, results: Sequence[TableResult], *, rows_estimate: int | None, elapsed: float) -> Progress:
        """The progress of a job whose tables are at ``results``."""
        return cls(
            tables_total=len(results),
            tables_done=sum(1 for r in results if r.status == TableStatus.SUCCEEDED),
            tables_failed=sum(1 for r in results if r.status in (TableStatus.FAILED, TableStatus.CANCELLED)),
            rows=sum(r.rows for r in results),
            bytes=sum(r.bytes for r in results),
            rows_estimate=rows_estimate,
            elapsed=elapsed,
        )


#: called by the engine about once a second while a job runs (never from a worker)
ProgressCallback = Callable[[Progress], None]
