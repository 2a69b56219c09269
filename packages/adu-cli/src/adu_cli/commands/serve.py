"""``adu serve`` (the web dashboard with an embedded worker) and ``adu worker``."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click
from adu_core.errors import UsageError
from adu_core.services import accounts, workers

from adu_cli.context import Env, fail, handle_errors, pass_env


def _check_production(env: Env) -> None:
    env.settings.check_secret_key()


@click.command(name="serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="ADU_HOST",
    help="Address to listen on (0.0.0.0: every interface).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, envvar="ADU_PORT")
@click.option(
    "--workers",
    "n_workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Embedded workers running jobs [default: ADU_WORKERS, 1].",
)
@click.option(
    "--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Threads answering web requests."
)
@pass_env
@handle_errors
def command(env: Env, host: str, port: int, n_workers: int | None, threads: int) -> None:
    """Run the web dashboard, with an embedded worker that runs queued jobs.

    The zero-setup mode: one process, the SQLite store in ADU_DATA_DIR. Create the first
    account with `adu users add NAME --role admin`. For production, run gunicorn with
    adu_web.gunicorn_conf and `adu worker` beside it.
    """
    try:
        from adu_web.server import ServeApplication
    except ImportError:
        raise UsageError("the web dashboard is not installed (pip install adu-web)") from None

    _check_production(env)
    # the store is opened (and migrated) once, in this process, before gunicorn starts
    if not accounts.has_users(env.ctx):
        click.echo("adu: no accounts yet; create one with: adu users add NAME --role admin --password-stdin", err=True)
    workers = env.settings.workers if n_workers is None else n_workers
    click.echo(f"ADU dashboard on http://{host}:{port}/ with {workers} embedded worker(s)", err=True)
    ServeApplication(env.settings, host=host, port=port, workers=workers, threads=threads).run()


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
def worker_command(env: Env, count: int, once: bool) -> None:
    """Run queued jobs from the store until stopped. SIGTERM or Ctrl-C let the running
    job finish for ADU_SHUTDOWN_SECONDS, then stop it and put it back in the queue (a
    second signal does it at once). Any number of workers may share one store."""
    _check_production(env)
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


#: both commands, for the CLI's loader
commands = [command, worker_command]
