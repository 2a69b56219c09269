"""What a source holds: the one discovery behind ``adu discover``, the web's new-job
form, ``POST /api/discover`` and ``adu_core.discover()``."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from adu_core.connections import resolve_source
from adu_core.errors import AduError, UsageError
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
