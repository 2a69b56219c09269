"""attrs' generated methods, compiled once and kept between runs (what ``__pycache__`` is
for modules).

attrs writes each class's ``__init__``, ``__repr__``, ``__eq__`` … as Python source and
compiles it when the class is defined: an ``adu export`` defines ~90 attrs classes and
spent ~55 ms of its ~0.45 s in ``compile`` (cProfile of a 1-row export), every run, for the
same source text. :func:`install` (the ``adu`` console script calls it first thing) makes
attrs look the code up in a cache file first; what is missing is compiled as before and
added to the file when the process ends.

The cache is exact, not hashed: an entry's key is the generated file name and the whole
source text, so a class that changed (or another attrs version's output) misses and is
compiled. The one part of the text that changes from run to run, the random number a
frozen class's ``__hash__`` starts from (``hash()`` of a string, salted per process), is
taken out of the text and given to the code as a global. An entry whose class was compiled
again with other text is dropped when the file is written.

The file is ``$XDG_CACHE_HOME/adu/attrs-<python tag>.bin`` (``~/.cache/adu/…``), in a
directory of mode 0700; like a ``.pyc`` it holds code that runs, so it is only read when
it and its directory belong to the user running ADU and nobody else can write them.
Nothing is cached when the directory cannot be made or written (a read-only home), when
``ADU_NO_CODE_CACHE`` is set, or when attrs has no ``_compile_and_eval`` to wrap (another
attrs): classes are then compiled as always.
"""

from __future__ import annotations

import atexit
import contextlib
import marshal
import os
import re
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: most entries kept in the file (the ones this run used first)
MAX_ENTRIES = 2048
#: the per-process number in attrs' generated ``__hash__`` (``hash((-745…, self.a, …))``)
_TYPE_HASH = re.compile(r"return hash\(\(\n\s*(-?\d+),\n")
#: the global that stands for it in the cached code
_TYPE_HASH_NAME = "_adu_attrs_type_hash"

_state: dict[str, Any] = {}


def cache_file() -> Path:
    """Where the compiled code is kept for this Python."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "adu" / f"attrs-{sys.implementation.cache_tag}.bin"


def install(path: Path | None = None) -> bool:
    """Wrap attrs' compiler with the cache at ``path`` (default :func:`cache_file`); False
    when it is off, already on or attrs has nothing to wrap."""
    if _state or os.environ.get("ADU_NO_CODE_CACHE"):
        return False
    try:
        import attr._make as make
    except ImportError:  # pragma: no cover - attrs is a dependency
        return False
    original = getattr(make, "_compile_and_eval", None)
    if original is None or original.__code__.co_varnames[:4] != ("script", "globs", "locs", "filename"):
        return False
    target = path or cache_file()
    known = _read(target)
    used: dict[str, bytes] = {}
    _state.update(path=target, known=known, used=used)

    def compile_and_eval(
        script: str, globs: dict[str, Any] | None, locs: Mapping[str, object] | None = None, filename: str = ""
    ) -> None:
        found = list(_TYPE_HASH.finditer(script)) if globs is not None else []
        if len(found) == 1:
            number = found[0]
            globs[_TYPE_HASH_NAME] = int(number.group(1))  # type: ignore[index]
            script = f"{script[: number.start(1)]}{_TYPE_HASH_NAME}{script[number.end(1) :]}"
        key = f"{filename}\0{script}"
        code = None
        if key in known:
            try:
                code = marshal.loads(known[key])  # noqa: S302 - our own file, checked in _read
                used[key] = known[key]
            except (EOFError, ValueError, TypeError):
                code = None
        if code is None:
            code = compile(script, filename, "exec")
            used[key] = marshal.dumps(code)
        eval(code, globs, locs)  # noqa: S307 - what attrs' own _compile_and_eval does with its code

    make._compile_and_eval = compile_and_eval
    atexit.register(_write)
    return True


def _read(path: Path) -> dict[str, bytes]:
    """The cache's entries; empty when the file is missing, unreadable, not the user's
    own, writable by others, or not a cache file."""
    try:
        with open(path, "rb") as fh:
            if not _private(os.fstat(fh.fileno())) or not _private(os.stat(path.parent)):
                return {}
            data = marshal.load(fh)  # noqa: S302 - the user's own, unwritable by others
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, bytes)}


def _private(st: os.stat_result) -> bool:
    """Whether a file or directory belongs to this user and nobody else can write it."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _write() -> None:
    """Save the entries this run compiled (with the ones it read), when there are new ones."""
    known: dict[str, bytes] = _state.get("known", {})
    used: dict[str, bytes] = _state.get("used", {})
    if not used or all(k in known for k in used):
        return
    entries = dict(used)
    compiled_now = {key.partition("\0")[0] for key in used}
    for key, raw in known.items():
        if len(entries) >= MAX_ENTRIES:
            break
        if key.partition("\0")[0] not in compiled_now:  # another command's classes
            entries[key] = raw
    path: Path = _state["path"]
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(os.stat(path.parent)):  # a directory others can write: nothing kept
            return
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            marshal.dump(entries, fh)
        os.replace(tmp, path)
    except OSError:  # a read-only home: the next run compiles again
        with contextlib.suppress(OSError):
            tmp.unlink()
