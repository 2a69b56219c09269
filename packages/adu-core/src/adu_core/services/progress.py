"""Live progress of a running job, wherever it runs: a display updated in place in a
Jupyter notebook, one rewritten line on a terminal, a plain line every few seconds in a
log or a pipe. No dependency: Jupyter's display is used only when this process is a
Jupyter kernel (IPython is then already imported)."""

from __future__ import annotations

import sys
import time
import uuid
from typing import TYPE_CHECKING, Any, TextIO

from adu_core.services.formatting import human_bytes, human_duration

if TYPE_CHECKING:
    from adu_core.engine import Progress

#: how a display shows progress
MODES = ("jupyter", "tty", "lines")


def in_jupyter() -> bool:
    """True inside a Jupyter kernel (a notebook cell), False in a terminal IPython or a
    plain interpreter. IPython is never imported here for the question."""
    if "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython half-imported
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def describe(p: Progress) -> str:
    """One line: tables, rows, bytes, rate, elapsed and the ETA when the source gave an estimate."""
    eta = f", ETA {human_duration(p.eta)}" if p.eta is not None else ""
    failed = f", {p.tables_failed} failed" if p.tables_failed else ""
    return (
        f"tables {p.tables_done}/{p.tables_total}{failed} | {p.rows:,} rows | "
        f"{human_bytes(p.bytes)} | {p.rows_per_second:,.0f} rows/s | {human_duration(p.elapsed)}{eta}"
    )


def fraction(p: Progress) -> float | None:
    """How far the job is, 0..1: rows against the estimate, else tables done."""
    if p.rows_estimate:
        return min(1.0, p.rows / p.rows_estimate)
    if p.tables_total:
        return (p.tables_done + p.tables_failed) / p.tables_total
    return None


class _View:
    """What Jupyter shows: an HTML progress bar with the line, plain text elsewhere."""

    def __init__(self, text: str, done: float | None) -> None:
        self.text = text
        self.done = done

    def _repr_html_(self) -> str:
        bar = (
            f'<progress value="{self.done:.4f}" max="1" style="width: 24em"></progress> '
            if self.done is not None
            else ""
        )
        import html  # notebooks only

        return f"<div>{bar}<code>{html.escape(self.text)}</code></div>"

    def __repr__(self) -> str:
        return self.text


class ProgressDisplay:
    """A callback for :func:`adu_core.services.running.run_here` (``on_progress``).

    :param stream: where terminal and plain lines go (default: standard error).
    :param interval: seconds between two plain lines (a terminal line and a Jupyter
        display are updated at every call).
    :param mode: one of :data:`MODES`; default: ``jupyter`` in a Jupyter kernel, ``tty``
        when ``stream`` is a terminal, ``lines`` otherwise.
    """

    def __init__(self, stream: TextIO | None = None, *, interval: float = 5.0, mode: str | None = None) -> None:
        self.stream = stream or sys.stderr
        if mode is None:
            mode = "jupyter" if in_jupyter() else "tty" if self.stream.isatty() else "lines"
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        self.mode = mode
        self.interval = interval
        self._last = 0.0
        self._width = 0
        self._display_id: str | None = None
        self._view: Any = None

    def __call__(self, p: Progress) -> None:
        text = describe(p)
        if self.mode == "jupyter":
            self._jupyter(_View(text, fraction(p)))
        elif self.mode == "tty":
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

    def _jupyter(self, view: _View) -> None:
        import IPython.display

        ipd: Any = IPython.display  # untyped
        self._view = view
        if self._display_id is None:
            self._display_id = uuid.uuid4().hex
            ipd.display(view, display_id=self._display_id)
        else:
            ipd.update_display(view, display_id=self._display_id)

    def done(self, summary: str | None = None) -> None:
        """End the display: a terminal line gets its newline; a Jupyter display shows
        ``summary`` (the job's outcome) in place of the last progress line."""
        if self.mode == "jupyter" and summary is not None:
            self._jupyter(_View(summary, None))
        if self.mode == "tty" and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0
