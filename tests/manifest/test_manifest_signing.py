"""Ed25519 keys and manifest signatures."""

from __future__ import annotations

import json
import os
import stat

import pytest
from adu_core import signing
from adu_core.errors import UsageError


def test_key_pair_files(tmp_path) -> None:
    priv, pub, kid = signing.write_key_pair(tmp_path / "k")
    assert (priv.name, pub.name) == ("k.key", "k.pub")
    assert stat.S_IMODE(os.stat(priv).st_mode) == 0o600
    assert b"PRIVATE KEY" in priv.read_bytes() and b"PUBLIC KEY" in pub.read_bytes()
    key = signing.load_private_key(priv)
    assert signing.key_id(key.public_key()) == kid == signing.key_id(signing.load_public_key(pub))


def test_refuses_to_overwrite_a_key(tmp_path) -> None:
    priv, _pub, _ = signing.write_key_pair(tmp_path / "k")
    before = priv.read_bytes()
    with pytest.raises(UsageError, match="refusing to overwrite"):
        signing.write_key_pair(tmp_path / "k")
    assert priv.read_bytes() == before
    (tmp_path / "only.pub").write_text("x")
    with pytest.raises(UsageError):
        signing.write_key_pair(tmp_path / "only")
    assert not (tmp_path / "only.key").exists()


def test_sign_and_check(tmp_path) -> None:
    priv, pub, _ = signing.write_key_pair(tmp_path / "k")
    data = b'{"a": 1}\n'
    doc = signing.sign(data, signing.load_private_key(priv))
    assert json.loads(doc)["algorithm"] == "ed25519"
    ok, msg = signing.check(data, doc, signing.load_public_key(pub))
    assert ok, msg
    ok, msg = signing.check(b'{"a": 2}\n', doc, signing.load_public_key(pub))
    assert not ok and "altered" in msg


def test_wrong_key_is_named(tmp_path) -> None:
    priv, _pub, _ = signing.write_key_pair(tmp_path / "a")
    _priv2, pub2, _ = signing.write_key_pair(tmp_path / "b")
    doc = signing.sign(b"x", signing.load_private_key(priv))
    ok, msg = signing.check(b"x", doc, signing.load_public_key(pub2))
    assert not ok and "not with the given public key" in msg


def test_damaged_signature_document(tmp_path) -> None:
    _priv, pub, _ = signing.write_key_pair(tmp_path / "a")
    for junk in (b"", b"not json", b'{"algorithm": "ed25519", "signature": "!!"}', b"[1]"):
        ok, msg = signing.check(b"x", junk, signing.load_public_key(pub))
        assert not ok and "damaged" in msg


def test_bad_key_files(tmp_path) -> None:
    priv, pub, _ = signing.write_key_pair(tmp_path / "a")
    with pytest.raises(UsageError):
        signing.load_private_key(pub)
    with pytest.raises(UsageError):
        signing.load_public_key(priv)
    with pytest.raises(UsageError, match="cannot read"):
        signing.load_public_key(tmp_path / "missing.pub")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.key").write_bytes(
        other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(UsageError, match="not an Ed25519"):
        signing.load_private_key(tmp_path / "ec.key")
