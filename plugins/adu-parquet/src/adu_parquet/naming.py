"""Safe, distinct, reversible folder names for schema and table names.

A source name may hold anything: spaces, quotes, ``/``, ``..``, unicode, names that
differ only by case, 63-byte (PostgreSQL) or 128-byte (Vertica) identifiers. The folder
name must be safe on every file system the export may cross (Linux, Windows, macOS,
FAT32/exFAT removable media), distinct even where the file system ignores case or
normalises unicode, and reversible. The rules:

* ``a``-``z``, ``0``-``9``, ``_`` and ``-`` stay as they are (except a leading ``_``,
  which is escaped so no name collides with ADU's own ``_quarantine`` folder);
* an upper-case ASCII letter becomes ``^`` and the lower-case letter (``Orders`` ->
  ``^orders``), so names differing only by case stay distinct on case-insensitive
  file systems;
* every other byte of the UTF-8 form becomes ``%`` and two lower-case hex digits
  (``.`` -> ``%2e``, space -> ``%20``, ``é`` -> ``%c3%a9``), so no folder name holds a
  dot (never ``.``/``..``, never a clash with ``manifest.json``), a separator or a
  character Windows forbids;
* the empty name is ``%``; Windows device names (``con``, ``nul``, ``com1``...) get
  their first letter escaped;
* an encoded name longer than :data:`MAX_ENCODED` characters is cut and ends with
  ``~`` and 16 hex digits of the SHA-256 of the name (``~`` appears in no other encoded
  name, so such names stay distinct). Only these are not reversible from the folder
  name alone; the manifest always holds the original names.

Every encoded name is lower case ASCII, so the mapping is injective even after case
folding.
"""

from __future__ import annotations

import hashlib
import re

#: longest encoded name kept whole (file systems allow 255 bytes per path component).
MAX_ENCODED = 200

_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_-")
_UPPER = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
_DECODE = re.compile(r"\^([a-z])|%([0-9a-f]{2})|([a-z0-9_\-])")


def _escape(byte: int) -> str:
    return f"%{byte:02x}"


def encode_name(name: str) -> str:
    """The folder name for ``name`` (see the module docstring for the rules)."""
    if name == "":
        return "%"
    raw = name.encode("utf-8", "surrogatepass")
    parts: list[str] = []
    for i, b in enumerate(raw):
        if b in _PLAIN and not (i == 0 and b == ord("_")):
            parts.append(chr(b))
        elif b in _UPPER:
            parts.append("^" + chr(b).lower())
        else:
            parts.append(_escape(b))
    if "".join(parts) in _WINDOWS_DEVICES:
        parts[0] = _escape(raw[0])
    encoded = "".join(parts)
    if len(encoded) > MAX_ENCODED:
        digest = hashlib.sha256(raw).hexdigest()[:16]
        kept: list[str] = []
        size = 0
        for part in parts:  # cut between escapes, never inside one
            if size + len(part) > MAX_ENCODED - 17:
                break
            kept.append(part)
            size += len(part)
        encoded = "".join(kept) + "~" + digest
    return encoded


def decode_name(folder: str) -> str | None:
    """The name ``folder`` was encoded from; None for a shortened (``~``) or foreign name."""
    if folder == "%":
        return ""
    out = bytearray()
    pos = 0
    while pos < len(folder):
        m = _DECODE.match(folder, pos)
        if m is None:
            return None
        if m.group(1):
            out += m.group(1).upper().encode()
        elif m.group(2):
            out.append(int(m.group(2), 16))
        else:
            out += m.group(3).encode()
        pos = m.end()
    try:
        name = out.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None
    return name if encode_name(name) == folder else None


def table_dir(schema: str, table: str) -> str:
    """The relative folder (POSIX separators) of a table: ``<schema>/<table>``."""
    return f"{encode_name(schema)}/{encode_name(table)}"
