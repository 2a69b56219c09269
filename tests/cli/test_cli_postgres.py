"""Bad input against a real PostgreSQL: one line, exit 2, never the password."""

import socket

from test_cli import _one_line_error, adu


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wrong_password_and_unreachable_host(pg, tmp_path):
    data = tmp_path / "data"
    wrong = pg.url(password="not-the-password-42")
    line = _one_line_error(adu("export", wrong, "--out", str(tmp_path / "a"), data_dir=data), 2)
    assert "not-the-password-42" not in line and "password" in line.lower()
    line = _one_line_error(adu("discover", wrong, data_dir=data), 2)
    assert "not-the-password-42" not in line
    gone = f"postgresql://adu:secret-pw-77@127.0.0.1:{_closed_port()}/adu?connect_timeout=3"
    line = _one_line_error(adu("export", gone, "--out", str(tmp_path / "b"), data_dir=data), 2)
    assert "secret-pw-77" not in line


def test_export_and_discover_json(pg, tmp_path):
    db = pg.create_database("cli")
    db.execute(
        "CREATE TABLE public.t (id int PRIMARY KEY, name text NOT NULL); "
        "INSERT INTO public.t SELECT g, 'n' || g FROM generate_series(1, 1000) g; ANALYZE public.t"
    )
    data = tmp_path / "data"
    import json

    found = json.loads(adu("discover", db.dsn, "--json", data_dir=data).stdout)
    (t,) = [t for t in found["tables"] if t["name"] == "t"]
    assert t["primary_key"] == ["id"] and [c["source_type"] for c in t["columns"]] == ["integer", "text"]
    assert pg.password not in json.dumps(found)  # no password anywhere
    res = adu("export", db.dsn, "--out", str(tmp_path / "o"), "--table", "public.t", data_dir=data)
    assert res.returncode == 0, res.stderr
    assert adu("verify", str(tmp_path / "o"), data_dir=data).returncode == 0
    jobs = json.loads(adu("jobs", "list", "--json", data_dir=data).stdout)
    assert jobs[0]["rows"] == 1000 and pg.password not in json.dumps(jobs)


def test_views_are_exported_only_when_asked(pg, tmp_path):
    db = pg.create_database("cliviews")
    db.execute(
        "CREATE TABLE public.t (id int); INSERT INTO public.t SELECT generate_series(1, 10);"
        "CREATE VIEW public.v AS SELECT id * 2 AS twice FROM public.t"
    )
    data = tmp_path / "data"
    said = "adu: error: public.v is a view: add --views (source option include_views=true) to export it\n"
    res = adu("export", db.dsn, "--out", str(tmp_path / "a"), "--table", "public.v", data_dir=data)
    assert (res.returncode, res.stderr) == (2, said)
    # a string option that says false is false
    res = adu(
        "export",
        db.dsn,
        "--out",
        str(tmp_path / "b"),
        "--table",
        "public.v",
        "--source-option",
        "include_views=false",
        data_dir=data,
    )
    assert (res.returncode, res.stderr) == (2, said)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    res = adu("export", db.dsn, "--out", str(tmp_path / "c"), "--table", "public.v", "--views", data_dir=data)
    assert res.returncode == 0, res.stderr
    import pyarrow.parquet as pq

    (f,) = (tmp_path / "c" / "public" / "v").glob("*.parquet")
    assert sorted(pq.read_table(f).column("twice").to_pylist()) == list(range(2, 21, 2))
    res = adu(
        "export",
        db.dsn,
        "--out",
        str(tmp_path / "d"),
        "--table",
        "public.v",
        "--source-option",
        "include_views=true",
        data_dir=data,
    )
    assert res.returncode == 0, res.stderr
