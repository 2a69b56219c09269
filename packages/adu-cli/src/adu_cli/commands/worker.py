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
    """Run queued jobs from the store until stopped. SIGTERM or Ctrl-C let the running
    job finish for ADU_SHUTDOWN_SECONDS, then stop it and put it back in the queue (a
    second signal does it at once). Any number of workers may share one store."""
    env.settings.check_secret_key()
    if once:
        ran = workers.run_one(env.ctx)
        click.echo("ran one job" if ran else "no queued job", err=True)
        return
    pool = workers.pool(env.ctx, count)
    signalled = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        if signalled.is_set():
            click.echo(f"adu worker: {signal.Signals(signum).name} again, requeuing the running job now", err=True)
            pool.shutdown.set()
            return
        grace = env.settings.shutdown_seconds
        click.echo(
            f"adu worker: {signal.Signals(signum).name}, finishing the running job (up to {grace:.0f} s)", err=True
        )
        signalled.set()
        pool.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    pool.start()
    click.echo(f"adu worker: {count} worker thread(s) waiting for jobs", err=True)
    while not pool.stop.wait(1.0):
        pool.supervise()
    if not pool.close(env.settings.shutdown_seconds):
        fail("a job did not stop after the shutdown grace period (see the service log)", 1)
    sys.exit(0)
