"""Ed25519 signing of export manifests (``cryptography``).

Keys are PEM files: the private key PKCS#8 (written with mode 0600), the public key
SubjectPublicKeyInfo. A signature file (``manifest.sig``) is a small JSON document::

    {"algorithm": "ed25519", "key_id": "<sha256 of the raw public key, hex>",
     "signature": "<base64 of the 64-byte signature>", "signed_file": "manifest.json"}

The signature covers the exact bytes of ``manifest.json`` as written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adu_core.errors import UsageError

ALGORITHM = "ed25519"
PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"


def generate_key() -> Ed25519PrivateKey:
    """A new private key."""
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw 32-byte public key: names a key in messages and signatures."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to a new file ``path`` created with ``mode``; refuse an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise UsageError(f"{path} already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise UsageError(f"cannot create {path}: {exc.strerror}") from None
    try:
        os.fchmod(fd, mode)  # the umask must not widen or narrow it
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def write_key_pair(prefix: str | os.PathLike[str]) -> tuple[Path, Path, str]:
    """Generate a key pair into ``PREFIX.key`` (mode 0600) and ``PREFIX.pub``.

    Refuses (UsageError) when either file exists. Returns both paths and the key id.
    """
    base = os.fspath(prefix)
    priv_path, pub_path = Path(base + PRIVATE_SUFFIX), Path(base + PUBLIC_SUFFIX)
    for p in (priv_path, pub_path):
        if p.exists() or p.is_symlink():
            raise UsageError(f"{p} already exists; refusing to overwrite a key")
    key = generate_key()
    _write_new(priv_path, private_pem(key), 0o600)
    try:
        _write_new(pub_path, public_pem(key.public_key()), 0o644)
    except UsageError:
        priv_path.unlink()
        raise
    return priv_path, pub_path, key_id(key.public_key())


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM file ``path`` (UsageError when it is not one)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read signing key {os.fspath(path)}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise UsageError(f"{os.fspath(path)} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(f"{os.fspath(path)} is not an Ed25519 private key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """The Ed25519 public key in PEM file ``path`` (UsageError when it is not one)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read public key {os.fspath(path)}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise UsageError(f"{os.fspath(path)} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{os.fspath(path)} is not an Ed25519 public key")
    return key


def sign(data: bytes, key: Ed25519PrivateKey, *, signed_file: str = "manifest.json") -> bytes:
    """The signature document (JSON bytes) of ``data``."""
    doc = {
        "algorithm": ALGORITHM,
        "key_id": key_id(key.public_key()),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
        "signed_file": signed_file,
    }
    return (json.dumps(doc, sort_keys=True, indent=2) + "\n").encode("utf-8")


def check(data: bytes, signature_doc: bytes, key: Ed25519PublicKey) -> tuple[bool, str]:
    """Check a signature document against ``data``: ``(valid, one-line explanation)``."""
    try:
        doc = json.loads(signature_doc)
        if not isinstance(doc, dict):
            raise ValueError
        algorithm = doc.get("algorithm")
        sig = base64.b64decode(str(doc["signature"]), validate=True)
    except (ValueError, KeyError, TypeError):
        return False, "manifest.sig is damaged (not a signature document)"
    if algorithm != ALGORITHM:
        return False, f"manifest.sig uses algorithm {algorithm!r}, expected {ALGORITHM}"
    expected = key_id(key)
    signer = doc.get("key_id")
    try:
        key.verify(sig, data)
    except InvalidSignature:
        if signer and signer != expected:
            return False, (
                f"manifest.sig was made with key {str(signer)[:16]}…, not with the given public key {expected[:16]}…"
            )
        return False, "signature does not match manifest.json (the manifest was altered after signing)"
    return True, f"valid signature by key {expected[:16]}…"
