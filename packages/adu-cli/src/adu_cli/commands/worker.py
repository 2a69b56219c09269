"""``adu worker``: run queued jobs from the store in this process."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click
from adu_core.services import workers

from adu_cli.context import Env, fail, handle_errors, pass_env


@click.command(name="worker")
@click.option(
    "--count",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Jobs this process runs at once (one thread each).",
)
@click.option("--once", is_flag=True, help="Run at most one queued job, then exit.")
@pass_env
@handle_errors
def command(env: Env, count: int, once: bool) -> None:
    """Run queued jobs from the store until stopped (SIGTERM or Ctrl-C finish the
    running job first). Any number of workers may share one store."""
    env.settings.check_secret_key()
    if once:
        ran = workers.run_one(env.ctx)
        click.echo("ran one job" if ran else "no queued job", err=True)
        return
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        click.echo(f"adu worker: {signal.Signals(signum).name}, finishing the running job", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threads = workers.start(env.ctx, count, stop)
    click.echo(f"adu worker: {count} worker thread(s) waiting for jobs", err=True)
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(timeout=0.5)
    if not stop.is_set():
        fail("worker threads stopped unexpectedly (see the service log)", 1)
    sys.exit(0)
