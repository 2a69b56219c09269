"""Issue 14, case 8: bad input that gave exit 1 and "unexpected ..." now gives one line on
stderr and exit 2 — a junk or deeply nested rules file, a malformed or unreachable
``ADU_STORE_URL`` — and no secret of the URL is printed."""

from __future__ import annotations

import os

import pytest
from faultkit import adu, base_env


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    from adu_duckdb.demo import make_demo_database

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    make_demo_database(str(path))
    return path


def _one_line(res, *words: str) -> None:
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("adu: error: "), res.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (os.urandom(10 * 1024 * 1024), ("too large",)),
        (os.urandom(200_000), ("not UTF-8",)),
        (("tables:\n  a: " + "[" * 100_000 + "]" * 100_000).encode(), ("nested too deeply",)),
        (("{k: " * 5000 + "x" + "}" * 5000).encode(), ("nested too deeply",)),
    ],
    ids=["10MB-junk", "binary", "nested-lists", "nested-maps"],
)
def test_a_bad_rules_file_is_one_line_and_exit_2(demo_db, tmp_path, content, words):
    rules = tmp_path / "rules.yaml"
    rules.write_bytes(content)
    env = base_env(tmp_path / "data")
    res = adu(env, "export", f"duckdb://{demo_db}", "--out", str(tmp_path / "out"), "--rules", str(rules))
    _one_line(res, *words)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("nonsense", ("not a database URL",)),
        ("postgresql://u:hunter2secret@127.0.0.1:notaport/x", ("not a database URL",)),
        ("postgresql+psycopg2://u:hunter2secret@[::1/x", ("not a database URL",)),
        ("mysql://u:hunter2secret@db/x", ("sqlite:/// or postgresql://",)),
        ("postgresql://u:hunter2secret@127.0.0.1:1/x", ("cannot open the job store", "Connection refused")),
        ("postgresql://u:hunter2secret@no-such-host.invalid/x", ("cannot open the job store",)),
    ],
    ids=["word", "port", "bracket", "dialect", "refused", "no-host"],
)
def test_a_bad_store_url_is_one_line_and_exit_2(tmp_path, url, words):
    env = base_env(tmp_path / "data", ADU_STORE_URL=url)
    res = adu(env, "jobs", "list")
    _one_line(res, *words)
    assert "hunter2secret" not in res.stdout + res.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["export", "duckdb:///x.duckdb", "--out", "o", "--parallel", "0"], ("'--parallel'", "adu export --help")),
        (["export", "--out", "o"], ("Missing argument 'SOURCE'",)),
        (["jobs", "retry", "abcd", "--bogus"], ("No such option '--bogus'", "adu jobs retry --help")),
        (["nosuch"], ("No such command 'nosuch'",)),
    ],
    ids=["parallel-0", "missing-source", "unknown-option", "unknown-command"],
)
def test_bad_usage_is_one_line_and_exit_2(tmp_path, args, words):
    res = adu(base_env(tmp_path / "data"), *args)
    _one_line(res, *words)
    assert res.stdout == ""
