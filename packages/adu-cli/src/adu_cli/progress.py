"""Live progress of a running export: one rewritten line on a terminal, plain lines
(at most one every few seconds) otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from adu_core.engine import Progress

from adu_cli.context import human_bytes, human_duration


class ProgressPrinter:
    def __init__(self, stream: TextIO | None = None, *, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval
        self._last = 0.0
        self._width = 0

    def line(self, p: Progress) -> str:
        eta = f", ETA {human_duration(p.eta)}" if p.eta is not None else ""
        failed = f", {p.tables_failed} failed" if p.tables_failed else ""
        return (
            f"tables {p.tables_done}/{p.tables_total}{failed} | {p.rows:,} rows | "
            f"{human_bytes(p.bytes)} | {p.rows_per_second:,.0f} rows/s | {human_duration(p.elapsed)}{eta}"
        )

    def __call__(self, p: Progress) -> None:
        text = self.line(p)
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)
        else:
            now = time.monotonic()
            if now - self._last >= self.interval:
                self._last = now
                self.stream.write(text + "\n")
                self.stream.flush()

    def done(self) -> None:
        if self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()
