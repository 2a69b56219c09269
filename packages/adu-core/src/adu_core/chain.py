"""The chain of custody of repeated transfers: ``adu verify D1 D2 D3 …``.

Each directory is verified on its own (:func:`adu_core.verify.verify_export`: every file,
the checksum, the signature when a key is given); then each link: every manifest after the
first must name the one before it (``previous.manifest_sha256`` is the SHA-256 of the
previous ``manifest.json``) and start where it ended (``previous.watermarks`` are the
previous export's watermarks, and each table's cursor starts at its watermark). A full
export (no ``previous``) starts a new base. What is wrong is named:

* **gap** — a delta continues an export that is not the one listed before it (a delta is
  missing, or the list is not one chain);
* **repeat** — the same export listed twice, or a second delta after the same export (a
  delta applied twice);
* **swap** — a delta listed before the export it continues;
* **edited link** — the link names the previous manifest but not its watermarks (its
  ``previous`` was changed);
* **another key** — the exports of the chain are signed by different keys.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from adu_core.manifest.fields import ManifestError
from adu_core.manifest.io import read_manifest_bytes
from adu_core.manifest.model import SIGNATURE_NAME, Manifest
from adu_core.verify import VerifyReport, verify_export

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from adu_core.plugin.manager import Plugins


@attrs.define
class ChainLink:
    """One export of the chain: its verification and what its manifest says."""

    directory: str
    report: VerifyReport
    manifest_sha256: str | None = None
    manifest: Manifest | None = None
    signer: str | None = None
    problems: list[str] = attrs.field(factory=list)

    @property
    def name(self) -> str:
        return self.directory

    @property
    def kind(self) -> str:
        if self.manifest is None:
            return "unreadable"
        return "delta" if self.manifest.previous is not None else "full export"

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.problems


@attrs.define
class ChainReport:
    """The verdict on a chain: each export's report and each link's problems."""

    links: list[ChainLink] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        return all(link.ok for link in self.links)

    @property
    def exit_code(self) -> int:
        """0: every export and every link checks; 1: a mismatch; 2: one is not an export."""
        if any(not link.report.is_export for link in self.links):
            return 2
        return 0 if self.ok else 1

    def lines(self) -> list[str]:
        out: list[str] = []
        for i, link in enumerate(self.links, 1):
            sha = f"{link.manifest_sha256[:16]}…" if link.manifest_sha256 else "?"
            out.append(f"[{i}] {link.directory}: {link.kind}, manifest {sha}")
            out += [f"    {line}" for line in link.report.lines()]
            out += [f"FAIL  chain: {p}" for p in link.problems]
        bad = sum(len(link.problems) for link in self.links)
        exports_bad = sum(not link.report.ok for link in self.links)
        verdict = "OK" if self.ok else "MISMATCH"
        detail = "" if self.ok else f"; {exports_bad} export(s) do not verify, {bad} link problem(s)"
        out.append(f"{verdict}: chain of {len(self.links)} export(s){detail}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "links": [
                {
                    "directory": link.directory,
                    "kind": link.kind,
                    "manifest_sha256": link.manifest_sha256,
                    "previous_sha256": link.manifest.previous.manifest_sha256
                    if link.manifest is not None and link.manifest.previous is not None
                    else None,
                    "ok": link.ok,
                    "problems": list(link.problems),
                    "report": link.report.to_dict(),
                }
                for link in self.links
            ],
        }


def _signer(root: Path) -> str | None:
    sig = root / SIGNATURE_NAME
    if not sig.is_file() or sig.is_symlink():
        return None
    try:
        doc = json.loads(sig.read_bytes())
    except ValueError:
        return None
    return str(doc.get("key_id")) if isinstance(doc, dict) and doc.get("key_id") else None


def _open(directory: str, report: VerifyReport) -> ChainLink:
    link = ChainLink(directory=directory, report=report)
    if not report.is_export:
        return link
    try:
        _file, raw = read_manifest_bytes(directory)
        link.manifest_sha256 = hashlib.sha256(raw).hexdigest()
        link.manifest = Manifest.from_dict(json.loads(raw))
    except (ManifestError, ValueError) as exc:
        link.problems.append(f"{directory}: the manifest cannot be read as a link ({exc})")
    link.signer = _signer(Path(directory))
    return link


def _marks(manifest: Manifest | None) -> dict[str, tuple[str, str | None]]:
    if manifest is None or not manifest.watermarks:
        return {}
    return {k: (w.column, w.value) for k, w in manifest.watermarks.items()}


def _check_link(links: Sequence[ChainLink], i: int) -> None:
    """The problems of the link between ``links[i-1]`` and ``links[i]``."""
    link, before = links[i], links[i - 1]
    m = link.manifest
    if m is None or before.manifest is None or link.manifest_sha256 is None:
        return
    prev = m.previous
    if prev is None:
        return  # a full export: a new base (a periodic full export restarts the chain)
    name, bname = link.name, before.name
    if link.manifest_sha256 == before.manifest_sha256:
        link.problems.append(f"repeat: {name} is the same export as {bname} (listed twice)")
        return
    if prev.manifest_sha256 != before.manifest_sha256:
        shas = {x.manifest_sha256: j for j, x in enumerate(links) if x.manifest_sha256}
        j = shas.get(prev.manifest_sha256)
        if j is not None and j > i:
            link.problems.append(f"swap: {name} continues {links[j].name}, which is listed after it (swapped order)")
        elif (
            j is not None
            and j < i - 1
            and any(
                x.manifest is not None
                and x.manifest.previous is not None
                and x.manifest.previous.manifest_sha256 == prev.manifest_sha256
                for x in links[j + 1 : i]
            )
        ):
            link.problems.append(
                f"repeat: {name} continues {links[j].name}, as {links[j + 1].name} already does "
                "(a second delta after the same export: applied twice)"
            )
        elif j is not None and j < i - 1:
            link.problems.append(f"gap: {name} continues {links[j].name}, not {bname}")
        else:
            link.problems.append(
                f"gap: {name} continues manifest {prev.manifest_sha256[:16]}…, which is not {bname} "
                f"({before.manifest_sha256[:16] if before.manifest_sha256 else '?'}…): a delta is missing between them"
            )
        return
    # the link names the previous manifest: its watermarks must be the previous export's
    theirs = _marks(before.manifest)
    ours = {k: (w.column, w.value) for k, w in prev.watermarks.items()}
    if ours != theirs:
        changed = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
        link.problems.append(
            f"edited link: {name}'s previous watermarks differ from {bname}'s for {', '.join(changed)}"
        )
    for t in m.tables:
        if t.cursor is None or t.qualified_name not in theirs:
            continue
        column, value = theirs[t.qualified_name]
        if (t.cursor.column, t.cursor.after) != (column, value):
            link.problems.append(
                f"edited link: {name} reads {t.qualified_name} after {t.cursor.column} > {t.cursor.after!r}, "
                f"but {bname} ended at {column} = {value!r}"
            )


def verify_chain(
    directories: Sequence[str | os.PathLike[str]],
    public_key: Ed25519PublicKey | str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    plugins: Plugins | None = None,
) -> ChainReport:
    """Verify each export of ``directories`` (oldest first) and each link between them."""
    report = ChainReport()
    for d in directories:
        report.links.append(_open(os.fspath(d), verify_export(d, public_key, workers, plugins=plugins)))
    for i in range(1, len(report.links)):
        _check_link(report.links, i)
    signers = {link.signer for link in report.links if link.signer is not None}
    if public_key is None and len(signers) > 1:
        first = next(link for link in report.links if link.signer is not None)
        for link in report.links:
            if link.signer is not None and link.signer != first.signer:
                link.problems.append(
                    f"another key: {link.name} is signed by key {link.signer[:16]}…, "
                    f"{first.name} by key {first.signer[:16] if first.signer else '?'}…"
                )
    unsigned = [link for link in report.links if link.signer is None and link.report.is_export]
    if signers and unsigned:
        for link in unsigned:
            link.problems.append(f"unsigned: {link.name} carries no signature, other exports of the chain do")
    return report
