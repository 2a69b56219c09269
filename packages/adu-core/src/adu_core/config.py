"""Configuration from environment variables, with safe defaults.

Every variable is listed in :data:`VARIABLES` (the README's table is made from the same
facts). :func:`load` reads them once per call; nothing here is cached globally, so tests
can set variables and call :func:`load` again.
"""

from __future__ import annotations

import os
import re
import secrets as _secrets
from collections.abc import Mapping
from pathlib import Path

import attrs

from adu_core.errors import UsageError

#: what an ADU_EXECUTOR value looks like: ``auto`` or an executor's registered name
#: (``thread``, ``process`` or a plugin's), checked against the registered ones when a job runs
EXECUTOR_NAME = re.compile(r"[a-z][a-z0-9_-]*")

#: name -> (default shown in docs, meaning)
VARIABLES: dict[str, tuple[str, str]] = {
    "ADU_DATA_DIR": ("~/.local/share/adu", "Where the job store (adu.db), logs and keys live."),
    "ADU_STORE_URL": (
        "sqlite:///$ADU_DATA_DIR/adu.db",
        "URL of the job store (sqlite:///path or postgresql://…); a postgresql:// URL lets several hosts share it.",
    ),
    "ADU_SECRET_KEY": (
        "generated in development",
        "Signs web sessions and encrypts passwords typed into the web form. Required when ADU_ENV=production.",
    ),
    "ADU_SECRET_KEY_FILE": ("unset", "A file holding ADU_SECRET_KEY (Docker secrets)."),
    "ADU_ENV": ("development", "'production' enforces a real secret key and secure cookies."),
    "ADU_LOG_LEVEL": ("INFO", "Level of the service log and the job logs."),
    "ADU_LOG_STDOUT": ("0", "1: also write the JSON service log to stdout (containers)."),
    "ADU_PARALLEL": ("number of CPUs", "Default number of partitions exported at once."),
    "ADU_WORKERS": ("1", "Jobs `adu serve` runs at once with its embedded worker (0: none)."),
    "ADU_EXECUTOR": (
        "auto",
        "How a job runs its partitions: 'thread' (one process; for sources that decode outside the GIL), 'process' (a pool of processes), 'auto' (threads when the source says its reads release the GIL: PostgreSQL, DuckDB), or the name of an executor a plugin registers (see `adu plugins`).",
    ),
    "ADU_BATCH_ROWS": (
        "30720",
        "Rows per Arrow batch read from a source (memory = batch x parallel); a quarter of a Parquet row group.",
    ),
    "ADU_HEARTBEAT_SECONDS": (
        "1",
        "How often a running job renews its heartbeat in the store and checks whether a cancel was requested (whole seconds; less than ADU_STALE_SECONDS).",
    ),
    "ADU_STALE_SECONDS": (
        "60",
        "The lease of a running job: renewed by its heartbeat; once it has not been renewed for this long, any ADU process that opens the store requeues the job (a worker's) or marks it stale (a foreground `adu export`'s) and removes its staging.",
    ),
    "ADU_JOB_ATTEMPTS": (
        "3",
        "Times a queued job is run when the worker running it dies (lease expired); after the last it is marked stale.",
    ),
    "ADU_STORE_RETRY_SECONDS": (
        "10",
        "How long one call to the job store retries through an outage (with back-off, logged once per outage) before it fails; an idle worker then waits and tries again.",
    ),
    "ADU_STORE_OUTAGE_SECONDS": (
        "300",
        "How long a running job goes on without the job store (its data kept in staging, nothing published) before it stops cleanly and waits to be requeued.",
    ),
    "ADU_SHUTDOWN_SECONDS": (
        "30",
        "On SIGTERM, how long `adu worker` and `adu serve` let a running job finish before they stop it and requeue it.",
    ),
    "ADU_EXPORT_ROOT": ("unset", "If set, web and API jobs may only write below this directory."),
    "ADU_CONNECTIONS_FILE": (
        "$ADU_DATA_DIR/connections.yaml",
        "Admin-managed named connections (credentials by env var or secret file).",
    ),
    "ADU_BLOCK_PLUGINS": ("unset", "Comma-separated plugin names not to load."),
    "ADU_WEB_ALLOW_URLS": (
        "1 in development, 0 in production",
        "Whether web and API users may type a source URL (otherwise only named connections).",
    ),
    "ADU_WEB_ALLOWED_HOSTS": (
        "*",
        "Comma-separated host patterns (fnmatch, host or host:port) a typed web URL may reach.",
    ),
    "ADU_WEB_FILE_ROOT": ("unset", "File sources (duckdb://, paths) typed in the web only below this directory."),
    "ADU_WEB_RULE_MODELS": ("unset", "Comma-separated module:attr rule models web and API jobs may name."),
    "ADU_CONNECT_TIMEOUT": ("10", "Seconds every connection ADU opens to a source waits for the server."),
    "ADU_DISCOVER_TIMEOUT": ("30", "Statement timeout (seconds) of a discovery from the web."),
    "ADU_DISCOVER_PER_USER": ("2", "Discoveries one web user may run at once."),
}


@attrs.frozen
class Settings:
    """The process settings (see :data:`VARIABLES`)."""

    data_dir: Path
    store_url: str
    secret_key: str
    secret_key_is_default: bool
    env: str
    log_level: str
    log_stdout: bool
    parallel: int
    workers: int
    batch_rows: int
    heartbeat_seconds: float
    stale_seconds: float
    export_root: Path | None
    connections_file: Path
    executor: str = "auto"
    job_attempts: int = 3
    store_retry_seconds: float = 10.0
    store_outage_seconds: float = 300.0
    shutdown_seconds: float = 30.0
    web_allow_urls: bool = True
    web_allowed_hosts: tuple[str, ...] = ("*",)
    web_file_root: Path | None = None
    web_rule_models: tuple[str, ...] = ()
    connect_timeout: int = 10
    discover_timeout: int = 30
    discover_per_user: int = 2

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def check_secret_key(self) -> None:
        """The one production rule for the secret key (the settings, the web app, ``adu
        serve`` and ``adu worker`` all rely on it): in production it must be set, not the
        development default, and at least :data:`MIN_SECRET_KEY` characters long.

        :raises UsageError: when it is not.
        """
        if self.production and (self.secret_key_is_default or len(self.secret_key) < MIN_SECRET_KEY):
            raise UsageError(
                f"ADU_ENV=production needs a real ADU_SECRET_KEY (or ADU_SECRET_KEY_FILE) of {MIN_SECRET_KEY} "
                "characters at least"
            )

    def job_log_path(self, job_id: str) -> Path:
        """The log file of a job: derived from the id only, never from user text."""
        if not job_id.isalnum():
            raise UsageError("invalid job id")
        return self.log_dir / "jobs" / f"{job_id}.jsonl"


#: the spellings of a yes/no variable, and what each means (case and spaces do not matter)
FLAG_VALUES: dict[str, bool] = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def parse_flag(name: str, raw: str | None, default: bool) -> bool:
    """The truth of the yes/no setting ``name`` whose text is ``raw`` (``default`` when
    unset or empty).

    :raises UsageError: for any other value, in one line naming the variable.
    """
    if raw is None or not raw.strip():
        return default
    value = FLAG_VALUES.get(raw.strip().lower())
    if value is None:
        raise UsageError(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")
    return value


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    """The yes/no variable ``name`` of ``env``: every one of them is read by this
    function, so ``on`` means the same for all (see :func:`parse_flag`)."""
    return parse_flag(name, env.get(name), default)


def integer(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """The whole-number variable ``name`` of ``env`` (``default`` when unset or empty).

    :raises UsageError: when it is not a whole number or is below ``minimum``.
    """
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise UsageError(f"{name} must be at least {minimum}")
    return value


#: the shortest secret key production accepts
MIN_SECRET_KEY = 16


def _secret_key(env: Mapping[str, str], data_dir: Path, production: bool) -> tuple[str, bool]:
    """The secret key and whether it is the development default (in production no
    default is made: :meth:`Settings.check_secret_key` refuses the empty key)."""
    key = env.get("ADU_SECRET_KEY", "")
    key_file = env.get("ADU_SECRET_KEY_FILE", "")
    if not key and key_file:
        try:
            key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise UsageError(f"cannot read ADU_SECRET_KEY_FILE: {exc.strerror}") from None
    if key or production:
        return key, False
    # development: a random key kept in the data directory, shared by web and workers
    path = data_dir / "dev-secret.key"
    try:
        return path.read_text().strip(), True
    except OSError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = _secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value, True


def _words(text: str) -> tuple[str, ...]:
    """The comma-separated items of ``text``, stripped, empty ones dropped."""
    return tuple(w.strip() for w in text.split(",") if w.strip())


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("ADU_DATA_DIR") or Path.home() / ".local" / "share" / "adu").expanduser()
    adu_env = env.get("ADU_ENV", "development").strip().lower() or "development"
    if adu_env not in ("development", "production", "test"):
        raise UsageError(f"ADU_ENV must be development, production or test, not {adu_env!r}")
    production = adu_env == "production"
    store_url = env.get("ADU_STORE_URL") or f"sqlite:///{data_dir / 'adu.db'}"
    key, is_default = _secret_key(env, data_dir, production)
    export_root = env.get("ADU_EXPORT_ROOT")
    file_root = env.get("ADU_WEB_FILE_ROOT")
    level = env.get("ADU_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise UsageError(f"ADU_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    executor = env.get("ADU_EXECUTOR", "auto").strip().lower() or "auto"
    if not EXECUTOR_NAME.fullmatch(executor):
        raise UsageError(f"ADU_EXECUTOR must be auto or an executor's name (thread, process, ...), not {executor!r}")
    heartbeat = float(integer(env, "ADU_HEARTBEAT_SECONDS", 1, 1))
    stale = float(integer(env, "ADU_STALE_SECONDS", 60, 2))
    if heartbeat >= stale:
        raise UsageError("ADU_HEARTBEAT_SECONDS must be less than ADU_STALE_SECONDS")
    settings = Settings(
        executor=executor,
        data_dir=data_dir,
        store_url=store_url,
        secret_key=key,
        secret_key_is_default=is_default,
        env=adu_env,
        log_level=level,
        log_stdout=flag(env, "ADU_LOG_STDOUT"),
        parallel=integer(env, "ADU_PARALLEL", os.cpu_count() or 2, 1),
        workers=integer(env, "ADU_WORKERS", 1, 0),
        # a divisor of the Parquet sink's row group (122,880 rows): a row group then never
        # ends inside a batch, whose slice would keep the whole batch alive until the next
        # group is written (32,768 rows: ~20% more peak memory on issue 19's wide table)
        batch_rows=integer(env, "ADU_BATCH_ROWS", 30720, 1),
        heartbeat_seconds=heartbeat,
        stale_seconds=stale,
        export_root=Path(export_root).resolve() if export_root else None,
        connections_file=Path(env.get("ADU_CONNECTIONS_FILE") or data_dir / "connections.yaml"),
        job_attempts=integer(env, "ADU_JOB_ATTEMPTS", 3, 1),
        store_retry_seconds=float(integer(env, "ADU_STORE_RETRY_SECONDS", 10, 0)),
        store_outage_seconds=float(integer(env, "ADU_STORE_OUTAGE_SECONDS", 300, 1)),
        shutdown_seconds=float(integer(env, "ADU_SHUTDOWN_SECONDS", 30, 0)),
        web_allow_urls=flag(env, "ADU_WEB_ALLOW_URLS", not production),
        web_allowed_hosts=_words(env.get("ADU_WEB_ALLOWED_HOSTS", "*")) or ("*",),
        web_file_root=Path(file_root).resolve() if file_root else None,
        web_rule_models=_words(env.get("ADU_WEB_RULE_MODELS", "")),
        connect_timeout=integer(env, "ADU_CONNECT_TIMEOUT", 10, 1),
        discover_timeout=integer(env, "ADU_DISCOVER_TIMEOUT", 30, 1),
        discover_per_user=integer(env, "ADU_DISCOVER_PER_USER", 2, 1),
    )
    settings.check_secret_key()
    return settings
