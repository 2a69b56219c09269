"""Encryption at rest of passwords typed into the web form (Fernet, key from ADU_SECRET_KEY)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from adu_core.errors import AduError


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"adu-store-secret\x00" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(secret_key: str, value: str) -> bytes:
    return _fernet(secret_key).encrypt(value.encode())


def decrypt(secret_key: str, token: bytes) -> str:
    try:
        return _fernet(secret_key).decrypt(token).decode()
    except InvalidToken:
        raise AduError("the stored job secret cannot be decrypted with this ADU_SECRET_KEY") from None
