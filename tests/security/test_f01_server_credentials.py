"""Finding 1: the server's own PostgreSQL credentials (PGPASSWORD, ~/.pgpass / PGPASSFILE,
a socket with trust or peer authentication) must never reach a host a web user names.

A fake PostgreSQL server on loopback asks every client for a cleartext password and
records what it receives: it must never receive the server's secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from adu_core import connspec
from adu_core.errors import ConnectError, UsageError
from adu_core.services import Context, web_sources
from adu_postgres.connection import connect
from seckit import SERVER_PGPASS, SERVER_PGPASSWORD, Client, FakePostgres, SecWorld, build_world


def _secrets_sent(fake: FakePostgres) -> list[str]:
    return [p for p in fake.passwords if p in (SERVER_PGPASSWORD, SERVER_PGPASS)]


def test_a_typed_url_without_password_is_refused_and_nothing_connects(
    operator: Client, fake_pg: FakePostgres, server_credentials: Path
) -> None:
    r = operator.api("POST", "/api/discover", {"source": f"postgresql://whoever@127.0.0.1:{fake_pg.port}/x"})
    assert r.status_code == 400, r.data
    assert "needs a password" in r.get_json()["message"]
    assert fake_pg.connections == 0 and fake_pg.passwords == []


def test_only_the_typed_password_reaches_the_host(
    operator: Client, fake_pg: FakePostgres, server_credentials: Path
) -> None:
    r = operator.api(
        "POST",
        "/api/discover",
        {"source": f"postgresql://whoever@127.0.0.1:{fake_pg.port}/x", "password": "typed-by-the-user"},
    )
    assert r.status_code == 400  # the fake refuses every password
    assert fake_pg.passwords == ["typed-by-the-user"]
    assert not _secrets_sent(fake_pg)


@pytest.mark.parametrize(
    "suffix",
    [
        "/#?passfile={pgpass}&dbname=bench",  # the fragment that hid passfile from the old filter
        "/x?passfile={pgpass}",
        "/x?service=prod",
        "/x?host=/run/postgresql",  # a socket: local trust/peer authentication
        "/x?hostaddr=127.0.0.1",
        "/x?sslmode=disable&sslmode=require",  # duplicate keys
        "/x?sslkey=/etc/ssl/private/server.key",
        "/x%zz",  # a broken percent-encoding
        "/x?password_file=/etc/passwd",
    ],
)
def test_parameters_that_reach_the_servers_files_are_refused(
    operator: Client, fake_pg: FakePostgres, server_credentials: Path, suffix: str
) -> None:
    url = f"postgresql://adu_reader:pw@127.0.0.1:{fake_pg.port}" + suffix.format(pgpass=server_credentials)
    for path, body in (
        ("/api/discover", {"source": url}),
        ("/api/jobs", {"source": url, "target": "t"}),
    ):
        r = operator.api("POST", path, body)
        assert r.status_code == 400, (url, r.data)
        assert str(server_credentials) not in r.get_data(as_text=True)
    assert fake_pg.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pw@%2Frun%2Fpostgresql/x",  # socket directory as the host
        "postgresql://u:pw@/x",  # no host: libpq's default socket
        "postgresql://u:pw@/x?host=%2Ftmp",
    ],
)
def test_socket_hosts_are_refused(operator: Client, url: str) -> None:
    r = operator.api("POST", "/api/discover", {"source": url})
    assert r.status_code == 400, r.data


def test_the_worker_uses_no_implicit_credential_for_a_web_url(fake_pg: FakePostgres, server_credentials: Path) -> None:
    """What the web queues carries the marker; the PostgreSQL source then gives libpq an
    empty password, passfile and servicefile even when the stored password is gone."""
    url = f"postgresql://whoever@127.0.0.1:{fake_pg.port}/x"
    marked = connspec.parse(url).with_params(**{connspec.NO_IMPLICIT: "1"}).url()
    with pytest.raises(ConnectError):
        connect(marked, {})
    assert fake_pg.passwords == []  # libpq had nothing to send: "no password supplied"
    # the CLI (a local user, their own credentials) keeps libpq's lookup
    with pytest.raises(ConnectError):
        connect(url, {})
    assert fake_pg.passwords == [SERVER_PGPASSWORD]


def test_a_queued_web_job_runs_with_the_typed_password_only(
    world: SecWorld, operator: Client, fake_pg: FakePostgres, server_credentials: Path
) -> None:
    from adu_core.engine import run_job

    url = f"postgresql://whoever@127.0.0.1:{fake_pg.port}/x"
    r = operator.api("POST", "/api/jobs", {"source": url, "target": "web-job", "password": "typed-pw"})
    assert r.status_code == 201, r.data
    job = r.get_json()
    stored = world.store.get_job(job["id"]).spec.source
    assert connspec.NO_IMPLICIT in stored and "typed-pw" not in stored
    world.store.claim_job("w", job_id=job["id"])
    with pytest.raises(ConnectError, match="password authentication failed"):
        run_job(world.store, job["id"], settings=world.settings, executor="thread")
    assert fake_pg.passwords and set(fake_pg.passwords) == {"typed-pw"}
    assert not _secrets_sent(fake_pg)


def test_production_allows_only_named_connections(tmp_path: Path) -> None:
    w = build_world(tmp_path, ADU_ENV="production")
    try:
        assert not w.settings.web_allow_urls
        with pytest.raises(UsageError, match="ADU_WEB_ALLOW_URLS"):
            web_sources.check_source(w.settings, "postgresql://u:pw@db.example/x", None)
    finally:
        w.store.dispose()


def test_the_host_allow_list(tmp_path: Path) -> None:
    w = build_world(tmp_path, ADU_WEB_ALLOWED_HOSTS="db*.internal, 10.0.0.5:5432")
    try:
        ok, _ = web_sources.check_source(w.settings, "postgresql://u:pw@db1.internal/x", None)
        assert ok.startswith("postgresql://u@db1.internal/x?")
        web_sources.check_source(w.settings, "postgresql://u:pw@10.0.0.5:5432/x", None)
        for bad in ("postgresql://u:pw@evil.example/x", "postgresql://u:pw@10.0.0.5:6543/x"):
            with pytest.raises(UsageError, match="not allowed"):
                web_sources.check_source(w.settings, bad, None)
        ctx = Context(w.settings, store=w.store)
        assert ctx.settings.web_allowed_hosts == ("db*.internal", "10.0.0.5:5432")
    finally:
        w.store.dispose()


def test_the_parser_rebuilds_what_it_checked() -> None:
    spec = connspec.parse("postgresql://a%40b:p%2Fw@h1:5432,h2/db%20x?sslmode=require")
    assert (spec.user, spec.password, spec.hosts, spec.dbname) == ("a@b", "p/w", (("h1", 5432), ("h2", None)), "db x")
    assert spec.url() == "postgresql://a%40b@h1:5432,h2/db%20x?sslmode=require"
    assert connspec.parse(spec.url(with_password=True)) == spec
