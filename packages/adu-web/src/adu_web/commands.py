"""``adu serve``: the web dashboard with embedded workers, as a command of ``adu``.

Brought to the command line by this distribution's plugin (:mod:`adu_web.plugin`):
without adu-web installed there is no dashboard to serve, and ``adu serve`` says so.
"""

from __future__ import annotations

import click


def serve_command() -> click.Command:
    """The ``adu serve`` command."""

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
    def serve(host: str, port: int, n_workers: int | None, threads: int) -> None:
        """Run the web dashboard, with an embedded worker that runs queued jobs.

        The zero-setup mode: one process, the SQLite store in ADU_DATA_DIR. Create the first
        account with `adu users add NAME --role admin`. For production, run gunicorn with
        adu_web.gunicorn_conf and `adu worker` beside it.
        """
        from adu_core import config
        from adu_core.logs import setup_service_logging
        from adu_core.services import Context, accounts

        from adu_web.server import ServeApplication

        settings = config.load()  # checks the production secret key
        setup_service_logging(settings.log_dir, settings.log_level, stdout=settings.log_stdout)
        # the store is opened (and migrated) once, in this process, before gunicorn starts
        if not accounts.has_users(Context(settings)):
            click.echo(
                "adu: no accounts yet; create one with: adu users add NAME --role admin --password-stdin", err=True
            )
        workers = settings.workers if n_workers is None else n_workers
        click.echo(f"ADU dashboard on http://{host}:{port}/ with {workers} embedded worker(s)", err=True)
        ServeApplication(settings, host=host, port=port, workers=workers, threads=threads).run()

    return serve
