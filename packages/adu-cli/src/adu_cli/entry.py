"""The ``adu`` console script: start-up work done once, before the CLI runs.

Python's cyclic garbage collector runs many full passes while ``adu`` imports pyarrow
and the plugins (hundreds of thousands of new objects, none of them garbage):
about 0.1 s of CPU on every ``adu export`` (measured with ``/usr/bin/time``, 2.20 s user
instead of 2.30 s on the 3M-row export). So the collector is off while the command's
modules are imported; what was imported is then frozen (never traversed again) and the
collector is back on for the run itself.

At the end, the command's process leaves without tearing the interpreter down: once its
exit functions ran (logging flushed, pools joined) and no other non-daemon thread is
alive, it flushes its output and calls ``os._exit``. Freeing every module and object one by
one (pyarrow's, numpy's) and checkpointing the SQLite store's WAL cost 25-45 ms of a 1-row
export's ~0.35 s (measured alternating, same machine) and change nothing on disk that a
later command needs.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
import threading


def main() -> None:
    from adu_core import codecache, late_numpy

    late_numpy.install()  # pyarrow without numpy until a command uses numpy (~60 ms)
    codecache.install()  # attrs' generated methods compiled once, not every run (~50 ms)
    gc.disable()
    try:
        from adu_cli.main import COMMANDS
        from adu_cli.main import main as run

        entry = COMMANDS.get(sys.argv[1]) if len(sys.argv) > 1 else None
        if entry is not None:
            importlib.import_module(entry[0])  # the command's imports, with the collector off
        gc.freeze()
    finally:
        gc.enable()
    try:
        run()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:  # sys.exit("message"): what Python prints, and exit status 1
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    _leave(code)


def _leave(code: int) -> None:
    """Exit with ``code`` at once when nothing else runs: exit functions first, then the
    store's PostgreSQL connections closed and the output flushed; with another non-daemon
    thread alive, the ordinary exit (which waits for it)."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if any(t.is_alive() for t in others):
        sys.exit(code)
    atexit._run_exitfuncs()
    from adu_core.services.context import before_exit

    before_exit()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say
            code = code or 1
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
