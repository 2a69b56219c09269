"""Folder names for schema and table names: safe, distinct, reversible."""

from __future__ import annotations

import string

import pytest
from adu_parquet.naming import MAX_ENCODED, decode_name, encode_name, table_dir
from hypothesis import given, settings
from hypothesis import strategies as st

AWKWARD = [
    "orders",
    "Orders",
    "ORDERS",
    "order items",
    'we"ird',
    "it's",
    "a/b",
    "a\\b",
    "..",
    ".",
    "",
    " ",
    ".hidden",
    "_quarantine",
    "manifest.json",
    "part-00000.parquet",
    "con",
    "CON",
    "nul",
    "lpt1",
    "ünïcödé",
    "日本語テーブル",
    "e\u0301",  # e + combining accent (NFD) ...
    "\u00e9",  # ... and the precomposed é (NFC): distinct names on macOS too
    "x" * 63,
    "é" * 31 + "x",  # 63 bytes of UTF-8
    "tab\there",
    "new\nline",
    "%41",
    "^a",
    "~",
    "a:b*c?d<e>f|g",
]


@pytest.mark.parametrize("name", AWKWARD)
def test_each_awkward_name_is_safe_and_reversible(name: str) -> None:
    enc = encode_name(name)
    assert decode_name(enc) == name
    assert enc == enc.lower(), "case-insensitive file systems must not merge names"
    assert set(enc) <= set(string.ascii_lowercase + string.digits + "_-%^")
    assert enc not in ("", ".", "..") and "." not in enc and "/" not in enc
    assert enc.split("%")[0].lower() not in ("con", "nul", "prn", "aux", "lpt1") or enc.startswith("%")


def test_awkward_names_map_to_distinct_folders_on_a_real_file_system(tmp_path) -> None:
    folders = [encode_name(n) for n in AWKWARD]
    assert len(set(folders)) == len(AWKWARD)
    assert len({f.casefold() for f in folders}) == len(AWKWARD)
    for f in folders:
        (tmp_path / f).mkdir()  # every one is a valid single path component
    assert len(list(tmp_path.iterdir())) == len(AWKWARD)


def test_reserved_names_do_not_collide_with_adu_files() -> None:
    assert encode_name("_quarantine") != "_quarantine"
    assert encode_name(".adu-staging") != ".adu-staging"
    assert encode_name("manifest.json") != "manifest.json"
    assert table_dir("public", "My Table") == "public/^my%20^table"


def test_plain_names_stay_readable() -> None:
    assert encode_name("orders_2024") == "orders_2024"
    assert encode_name("Orders") == "^orders"


def test_long_names_are_cut_but_stay_distinct() -> None:
    a, b = "é" * 200 + "a", "é" * 200 + "b"
    ea, eb = encode_name(a), encode_name(b)
    assert ea != eb
    assert len(ea) <= MAX_ENCODED and len(eb) <= MAX_ENCODED
    assert "~" in ea and decode_name(ea) is None  # only the manifest knows the original
    assert len(encode_name("x" * 128)) == 128  # a 128-byte Vertica name stays whole


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=70))
def test_encoding_round_trips(name: str) -> None:
    enc = encode_name(name)
    assert enc == enc.lower() and "." not in enc and "/" not in enc and enc
    if "~" not in enc:
        assert decode_name(enc) == name
    assert len(enc) <= MAX_ENCODED


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_distinct_names_give_distinct_folders(a: str, b: str) -> None:
    if a != b:
        assert encode_name(a).casefold() != encode_name(b).casefold()


def test_foreign_folder_names_do_not_decode() -> None:
    assert decode_name("Upper") is None
    assert decode_name("a.b") is None
    assert decode_name("%zz") is None
    assert decode_name("%ff") is None  # not UTF-8
