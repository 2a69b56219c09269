"""What a source holds: the one discovery behind ``adu discover``, the web's new-job
form, ``POST /api/discover`` and ``adu_core.discover()``."""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from adu_core.connections import resolve_source
from adu_core.errors import AduError, Busy, UsageError
from adu_core.models import SourceInfo, TableInfo
from adu_core.planning import discovery_flags, reader_options
from adu_core.secrets import redact_text, redact_url
from adu_core.services import policy, web_sources
from adu_core.services.context import Actor, Context

log = logging.getLogger("adu.services")


@attrs.frozen
class Discovery:
    """A source (URL without password, version) and its tables, sorted by schema and name."""

    source: SourceInfo
    tables: list[TableInfo]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source.to_dict(), "tables": [t.to_dict() for t in self.tables]}


_running_lock = threading.Lock()
#: discoveries running now in this process, per web user
_running: dict[str, int] = {}


@contextlib.contextmanager
def _one_of_at_most(name: str, limit: int) -> Iterator[None]:
    """Count a discovery of web user ``name``; :class:`Busy` beyond ``limit`` at once (a
    few slow sources must not take every thread of the web process)."""
    with _running_lock:
        if _running.get(name, 0) >= limit:
            raise Busy(f"you already run {limit} discoveries at once; wait for one to end")
        _running[name] = _running.get(name, 0) + 1
    try:
        yield
    finally:
        with _running_lock:
            _running[name] -= 1
            if not _running[name]:
                del _running[name]


def _web_timeouts(ctx: Context, url: str, options: dict[str, Any]) -> dict[str, Any]:
    """A web user's discovery waits a short time for the server (connect) and for each
    statement (``ADU_CONNECT_TIMEOUT``, ``ADU_DISCOVER_TIMEOUT``), when the source takes
    those options and the user did not ask for shorter."""
    try:
        declared = {o.name for o in ctx.plugins.source_class(url).all_options()}
    except AduError:
        return options
    out = dict(options)
    if "connect_timeout" in declared:
        given = out.get("connect_timeout")
        limit = ctx.settings.connect_timeout
        out["connect_timeout"] = min(int(given), limit) if isinstance(given, int) and given > 0 else limit
    if "statement_timeout" in declared and "statement_timeout" not in out:
        out["statement_timeout"] = f"{ctx.settings.discover_timeout}s"
    return out


def _one_line(exc: BaseException, secrets: Sequence[str]) -> str:
    lines = redact_text(str(exc), secrets).splitlines()
    return lines[0] if lines else f"discovery failed ({type(exc).__name__})"


def discover(
    ctx: Context,
    source: str,
    *,
    actor: Actor,
    password: str | None = None,
    options: Mapping[str, Any] | None = None,
    schemas: Sequence[str] = (),
) -> Discovery:
    """The tables of ``source`` (a URL, a DuckDB file or ``@name``).

    :param password: the source password (a password inside the URL works too; neither
        is stored or shown).
    :param options: the job's source options: ``include_views`` / ``include_foreign``
        widen the list, the others are checked by the source.
    :param schemas: only schemas matching these glob patterns.
    :raises UsageError: in one line safe to show (no secret, no traceback), whatever
        went wrong; an unexpected error is logged in full in the service log.
    """
    options = dict(options or {})
    if actor.remote:
        web_sources.check_options(options)
        source, password = web_sources.check_source(ctx.settings, source, password)
    else:
        source, password = policy.split_password(source, password)
    url = resolve_source(source, password=password, connections_file=ctx.settings.connections_file)
    views, foreign = discovery_flags(options)
    if actor.remote:
        options = _web_timeouts(ctx, url, options)
        with _one_of_at_most(actor.name, ctx.settings.discover_per_user):
            return _discover(ctx, url, options, views, foreign, password, schemas)
    return _discover(ctx, url, options, views, foreign, password, schemas)


def _discover(
    ctx: Context,
    url: str,
    options: dict[str, Any],
    views: bool,
    foreign: bool,
    password: str | None,
    schemas: Sequence[str],
) -> Discovery:
    secrets = [password or ""]
    try:
        src = ctx.plugins.open_source(url, reader_options(options))
    except AduError as exc:
        raise UsageError(_one_line(exc, secrets)) from None
    try:
        tables = src.discover(include_views=views, include_foreign=foreign)
        info = src.info()
    except AduError as exc:
        raise UsageError(_one_line(exc, secrets)) from None
    except Exception:
        log.exception("discovery failed for %s", redact_url(url))
        raise UsageError("discovery failed; the service log has the details") from None
    finally:
        try:
            src.close()
        except Exception:
            log.warning("closing the source failed", exc_info=True)
    if schemas:
        tables = [t for t in tables if any(fnmatch.fnmatchcase(t.schema, s) for s in schemas)]
    return Discovery(source=info, tables=sorted(tables, key=lambda t: (t.schema, t.name)))
