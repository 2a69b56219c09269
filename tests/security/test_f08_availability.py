"""Finding 8: a few slow requests took the service down. Eight discovers to a host that
never answers used every thread (no connect timeout) and /healthz stopped answering;
twelve slowloris connections did the same anonymously.

Now every connection to a source has a connect timeout, a web user runs at most
ADU_DISCOVER_PER_USER discoveries at once, and the web server gives each client a
deadline to send its request: slow clients are cut off, /healthz keeps answering."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from adu_core.services import Context
from adu_web import create_app
from pgserver import wait_for
from seckit import Client, build_world

ADU = str(Path(sys.executable).with_name("adu"))


@pytest.fixture
def black_hole() -> socket.socket:
    """A port whose connections are accepted by the kernel and never answered."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield s
    s.close()


def test_discoveries_time_out_and_are_limited_per_user(tmp_path: Path, black_hole: socket.socket) -> None:
    w = build_world(tmp_path, ADU_CONNECT_TIMEOUT="2", ADU_DISCOVER_PER_USER="2")
    try:
        app = create_app(w.settings, Context(w.settings, store=w.store))
        port = black_hole.getsockname()[1]
        clients = [Client(app, "operator") for _ in range(3)]
        barrier = threading.Barrier(3)
        statuses: list[int] = []

        def discover(c: Client) -> None:
            barrier.wait()
            r = c.api("POST", "/api/discover", {"source": f"postgresql://u@127.0.0.1:{port}/x", "password": "pw"})
            statuses.append(r.status_code)
            if r.status_code == 400:
                assert "timeout" in r.get_json()["message"].lower()

        threads = [threading.Thread(target=discover, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert Counter(statuses) == {400: 2, 429: 1}  # two timed out, the third was refused at once
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        w.store.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _slowloris(port: int, stop: threading.Event, closed: list[bool]) -> None:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    try:
        while not stop.is_set():
            s.sendall(b"X")  # a header that never ends, one byte a second
            s.settimeout(1.0)
            try:
                if s.recv(1) == b"":
                    closed.append(True)
                    return
            except TimeoutError:
                pass
    except OSError:
        closed.append(True)
    finally:
        s.close()


@pytest.mark.slow
def test_slow_clients_do_not_take_adu_serve_down(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "ADU_DATA_DIR": str(tmp_path / "data"),
        "ADU_ENV": "test",
        "ADU_WEB_CLIENT_SECONDS": "3",
    }
    proc = subprocess.Popen(
        [ADU, "serve", "--port", str(port), "--workers", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stop = threading.Event()
    closed: list[bool] = []
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    return r.status == 200
            except OSError:
                return False

        assert wait_for(healthy, timeout=60)
        attackers = [threading.Thread(target=_slowloris, args=(port, stop, closed)) for _ in range(16)]
        for t in attackers:
            t.start()
        time.sleep(1.0)  # every thread of the server (8) is now held by a slow client
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=60) as r:
            assert r.status == 200
        assert wait_for(lambda: len(closed) == 16, timeout=60)  # every slow client was cut off
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=60)


def test_the_production_config_bounds_clients() -> None:
    from adu_web import gunicorn_conf

    assert gunicorn_conf.worker_class == "adu_web.gworker.BoundedThreadWorker"
    assert gunicorn_conf.keepalive <= 5 and gunicorn_conf.worker_connections <= 1000
    assert gunicorn_conf.limit_request_fields <= 100 and gunicorn_conf.limit_request_line <= 8190


@pytest.mark.parametrize("scheme", ["postgresql", "vertica"])
def test_every_source_connection_has_a_connect_timeout(
    scheme: str, black_hole: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the CLI too: a server that never answers ends in a clear error, not a hang."""
    from adu_core.errors import ConnectError

    monkeypatch.setenv("ADU_CONNECT_TIMEOUT", "1")
    url = f"{scheme}://u:pw@127.0.0.1:{black_hole.getsockname()[1]}/x"
    if scheme == "postgresql":
        from adu_postgres.connection import connect
    else:
        from adu_vertica.connect import connect  # type: ignore[assignment]
    with pytest.raises(ConnectError):
        connect(url, {})
