"""The Dask executor's settings, read from the environment of the coordinator."""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs
from adu_core.errors import UsageError
from adu_core.plugin.options import Option

#: the options ``adu plugins`` lists for the executor (environment variables)
OPTIONS = (
    Option(
        "ADU_DASK_SCHEDULER",
        help="address of an existing Dask scheduler (tcp://host:8786); empty: a LocalCluster of this host",
        web=False,
    ),
    Option(
        "ADU_DASK_WORKERS",
        type="int",
        minimum=1,
        help="worker processes of the LocalCluster (default: the job's parallelism)",
        web=False,
    ),
    Option(
        "ADU_DASK_THREADS",
        type="int",
        minimum=1,
        default=1,
        help="threads per LocalCluster worker process",
        web=False,
    ),
    Option(
        "ADU_DASK_RESOURCE",
        help="a worker resource each partition holds one unit of while it runs (caps the source "
        "connections of the whole cluster: dask worker --resources 'adu-connections=2')",
        web=False,
    ),
    Option(
        "ADU_DASK_CONNECTIONS",
        type="int",
        minimum=1,
        help="LocalCluster only: units of ADU_DASK_RESOURCE (default adu-connections) shared by its workers",
        web=False,
    ),
    Option(
        "ADU_DASK_RETRIES",
        type="int",
        minimum=0,
        default=2,
        help="times Dask reruns a partition whose task raised (a lost worker's tasks are rescheduled anyway)",
        web=False,
    ),
    Option(
        "ADU_DASK_TIMEOUT",
        type="float",
        minimum=1,
        default=30.0,
        help="seconds to wait for the scheduler (and for the first worker) before the job fails",
        web=False,
    ),
)

_RESOURCE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
DEFAULT_RESOURCE = "adu-connections"


def _int(env: Mapping[str, str], key: str, default: int | None, minimum: int) -> int | None:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{key} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise UsageError(f"{key} must be at least {minimum}, not {value}")
    return value


@attrs.frozen
class DaskSettings:
    """What the executor reads from ``ADU_DASK_*`` (see :data:`OPTIONS`)."""

    scheduler: str = ""
    workers: int | None = None
    threads: int = 1
    resource: str = ""
    connections: int | None = None
    retries: int = 2
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DaskSettings:
        """The settings of ``env``; a bad value is a :class:`UsageError` naming the variable."""
        scheduler = env.get("ADU_DASK_SCHEDULER", "").strip()
        if scheduler and not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://\S+", scheduler):
            raise UsageError(f"ADU_DASK_SCHEDULER must be an address like tcp://host:8786, not {scheduler!r}")
        resource = env.get("ADU_DASK_RESOURCE", "").strip()
        if resource and not _RESOURCE.fullmatch(resource):
            raise UsageError(f"ADU_DASK_RESOURCE must be a resource name (letters, digits, -_.), not {resource!r}")
        connections = _int(env, "ADU_DASK_CONNECTIONS", None, 1)
        if connections is not None and scheduler:
            raise UsageError(
                "ADU_DASK_CONNECTIONS applies to the LocalCluster only; the workers of an existing cluster "
                "declare their share (dask worker --resources 'adu-connections=N') and ADU_DASK_RESOURCE names it"
            )
        if connections is not None and not resource:
            resource = DEFAULT_RESOURCE
        raw_timeout = env.get("ADU_DASK_TIMEOUT", "").strip()
        try:
            timeout = float(raw_timeout) if raw_timeout else 30.0
        except ValueError:
            raise UsageError(f"ADU_DASK_TIMEOUT must be a number of seconds, not {raw_timeout!r}") from None
        if timeout < 1:
            raise UsageError(f"ADU_DASK_TIMEOUT must be at least 1 second, not {timeout}")
        return cls(
            scheduler=scheduler,
            workers=_int(env, "ADU_DASK_WORKERS", None, 1),
            threads=_int(env, "ADU_DASK_THREADS", 1, 1) or 1,
            resource=resource,
            connections=connections,
            retries=_int(env, "ADU_DASK_RETRIES", 2, 0) or 0,
            timeout=timeout,
        )
