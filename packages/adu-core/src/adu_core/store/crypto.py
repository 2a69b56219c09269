"""Encryption at rest of passwords typed into the web form (Fernet, key from ADU_SECRET_KEY).

cryptography is imported when a secret is encrypted or decrypted: a job without one
(every ``adu export`` with the password in the URL or a .pgpass) does not pay for it."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from adu_core.errors import AduError

if TYPE_CHECKING:
    from cryptography.fernet import Fernet


def _fernet(secret_key: str) -> Fernet:
    from cryptography.fernet import Fernet

    digest = hashlib.sha256(b"adu-store-secret\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret_key: str, value: str) -> bytes:
    return _fernet(secret_key).encrypt(value.encode())


def decrypt(secret_key: str, token: bytes) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(secret_key).decrypt(token).decode()
    except InvalidToken:
        raise AduError("the stored job secret cannot be decrypted with this ADU_SECRET_KEY") from None
