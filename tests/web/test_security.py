"""Security: headers, CSP, no outside URL or inline code, cookies, CSRF, sign-in
throttling, open redirects, error pages, the production secret-key rule."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import adu_web
import attrs
import pytest
from adu_core.errors import UsageError
from adu_core.services import Context
from adu_web import create_app
from flask import Flask
from webutil import PASSWORDS, Client, World

WEB_ROOT = Path(adu_web.__file__).parent


def test_security_headers_on_every_kind_of_response(clients: dict[str | None, Client], world: World) -> None:
    for c, url in (
        (clients[None], "/login"),
        (clients["viewer"], "/"),
        (clients["viewer"], "/api/jobs"),
        (clients[None], "/nope"),
        (clients["viewer"], f"/job/{world.partial}/log/download"),
    ):
        r = c.get(url)
        r.close()
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "http" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["Cache-Control"] == "no-store"


def test_templates_and_static_files_have_no_outside_url_and_no_inline_code() -> None:
    files = list((WEB_ROOT / "templates").glob("*.html")) + list((WEB_ROOT / "static").iterdir())
    assert len(files) > 10
    for f in files:
        text = f.read_text()
        # the SVG namespace is an identifier, not something fetched
        text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), f
        if f.suffix == ".html":
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {f.name}"
            assert "<style" not in text, f"inline style in {f.name}"
            assert not re.search(r"\sstyle=", text), f"style attribute in {f.name}"
            assert not re.search(r"\son[a-z]+=", text), f"event handler attribute in {f.name}"


def test_rendered_pages_reference_only_this_origin(clients: dict[str | None, Client], world: World) -> None:
    for url in ("/", f"/job/{world.partial}", f"/job/{world.exported}/export", "/jobs/new", "/admin/"):
        page = clients["admin"].get(url).data.decode()
        for ref in re.findall(r'(?:src|href|action)="([^"]*)"', page):
            assert ref.startswith(("/", "#")) and not ref.startswith("//"), (url, ref)


def test_static_files_are_served(client: Client) -> None:
    for name in ("adu.js", "adu.css", "favicon.svg"):
        with client.get(f"/static/{name}") as r:
            assert r.status_code == 200 and r.data


def test_session_cookie_flags(app: Flask, world: World) -> None:
    c = Client(app)
    r = c.login("viewer", PASSWORDS["viewer"])
    cookie = r.headers["Set-Cookie"]
    assert "adu_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development
    https = app.test_client()
    page = https.get("/login", base_url="https://localhost").data.decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = https.post(
        "/login",
        data={"username": "viewer", "password": PASSWORDS["viewer"], "csrf_token": token},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
    )
    assert r.status_code == 302
    assert "Secure" in r.headers["Set-Cookie"]
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_secure_cookies_in_production(world: World) -> None:
    settings = attrs.evolve(world.settings, env="production", secret_key="x" * 40, secret_key_is_default=False)
    app = create_app(settings, Context(settings, store=world.store))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    c = Client(app)
    r = c.login("viewer", PASSWORDS["viewer"])
    assert "Secure" in r.headers["Set-Cookie"]


def test_trusted_proxy_makes_cookies_secure_behind_tls(world: World) -> None:
    app = create_app(world.settings, Context(world.settings, store=world.store), env={"ADU_TRUSTED_PROXIES": "1"})
    http = app.test_client()
    page = http.get("/login").data.decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = http.post(
        "/login",
        data={"username": "viewer", "password": PASSWORDS["viewer"], "csrf_token": token},
        headers={"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"},
    )
    assert r.status_code == 302 and "Secure" in r.headers["Set-Cookie"]


def test_production_refuses_a_default_secret_key(world: World) -> None:
    for key, default in (("dev-key-from-the-data-dir-1234567", True), ("short", False)):
        settings = attrs.evolve(world.settings, env="production", secret_key=key, secret_key_is_default=default)
        with pytest.raises(UsageError, match="ADU_SECRET_KEY"):
            create_app(settings, Context(settings, store=world.store))


def test_forms_need_a_csrf_token(clients: dict[str | None, Client], world: World) -> None:
    op = clients["operator"]
    r = op.http.post(f"/job/{world.queued}/cancel", data={})
    assert r.status_code == 400 and b"security token" in r.data
    r = op.http.post(f"/job/{world.queued}/cancel", data={"csrf_token": "forged"})
    assert r.status_code == 400
    anon = Client(clients[None].http.application)
    r = anon.http.post("/login", data={"username": "viewer", "password": PASSWORDS["viewer"]})
    assert r.status_code == 400
    assert world.store.get_job(world.queued).status.value == "queued"


def test_api_with_session_needs_the_csrf_header(clients: dict[str | None, Client], world: World) -> None:
    op = clients["operator"]
    r = op.http.post(f"/api/jobs/{world.queued}/cancel")
    assert r.status_code == 400
    assert world.store.get_job(world.queued).status.value == "queued"


def test_api_with_basic_auth_skips_csrf_and_sets_no_session(app: Flask, world: World) -> None:
    http = app.test_client()
    auth = "Basic " + base64.b64encode(f"viewer:{PASSWORDS['viewer']}".encode()).decode()
    r = http.get("/api/me", headers={"Authorization": auth})
    assert r.status_code == 200 and r.get_json() == {"username": "viewer", "role": "viewer"}
    assert "Set-Cookie" not in r.headers
    # a viewer's credentials cannot create work
    r = http.post("/api/jobs", json={"source": "duckdb:///x", "target": "t"}, headers={"Authorization": auth})
    assert r.status_code == 403
    bad = "Basic " + base64.b64encode(b"viewer:wrong-password").decode()
    r = http.get("/api/me", headers={"Authorization": bad})
    assert r.status_code == 401 and "WWW-Authenticate" not in r.headers
    assert http.get("/api/me", headers={"Authorization": "Basic !!!"}).status_code == 401


def test_basic_auth_never_falls_back_to_the_session(clients: dict[str | None, Client]) -> None:
    """A request with Basic credentials skips CSRF, so it must not ride on a session."""
    op = clients["operator"]
    bad = "Basic " + base64.b64encode(b"nobody:nothing-here").decode()
    r = op.http.post("/api/jobs", json={"source": "duckdb:///x", "target": "t"}, headers={"Authorization": bad})
    assert r.status_code == 401


def test_wrong_password_then_lockout(app: Flask, world: World) -> None:
    world.store.accounts.add("locky", "locky-password-1", "viewer")
    c = Client(app)
    for _ in range(5):
        r = c.login("locky", "wrong-password")
        assert r.status_code == 401
        assert b"Wrong user name or password" in r.data
    r = c.login("locky", "locky-password-1")
    assert r.status_code == 401  # locked now, even with the right password
    assert c.login("nosuchuser", "whatever-pw").status_code == 401
    world.store.accounts.set_password("locky", "locky-password-2")  # an admin's reset unlocks
    assert c.login("locky", "locky-password-2").status_code == 302


def test_sign_in_throttled_per_address(app: Flask, world: World) -> None:
    from adu_web.auth import IP_MAX_FAILURES

    c = Client(app)
    for i in range(IP_MAX_FAILURES):
        assert c.login(f"ghost{i}", "wrong-password").status_code == 401
    r = c.login("viewer", PASSWORDS["viewer"])
    assert r.status_code == 429


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_next_never_leaves_the_site(app: Flask, target: str) -> None:
    c = Client(app)
    r = c.http.post(
        f"/login?next={target}", data={"username": "viewer", "password": PASSWORDS["viewer"], "csrf_token": c.token()}
    )
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_login_next_keeps_a_local_path(app: Flask, world: World) -> None:
    c = Client(app)
    r = c.http.post(
        f"/login?next=/job/{world.partial}",
        data={"username": "viewer", "password": PASSWORDS["viewer"], "csrf_token": c.token()},
    )
    assert r.headers["Location"] == f"/job/{world.partial}"


def test_logout(app: Flask, world: World) -> None:
    # an account of its own: signing out ends every session of the account (issue 13),
    # and the shared clients of the other tests must stay signed in
    world.store.accounts.add("leaver", "leaver-password-1", "viewer")
    c = Client(app)
    assert c.login("leaver", "leaver-password-1").status_code == 302
    assert c.get("/logout").status_code == 200  # asks to confirm
    assert c.get("/").status_code == 200
    r = c.post("/logout")
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert c.get("/").status_code == 302


def test_error_pages_leak_no_traceback_and_no_secret(world: World) -> None:
    app = create_app(world.settings, Context(world.settings, store=world.store))

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("connection to postgresql://u:TopSecretPw@db failed")

    c = Client(app, "viewer")
    r = c.get("/boom")
    assert r.status_code == 500
    assert b"TopSecretPw" not in r.data and b"Traceback" not in r.data and b"RuntimeError" not in r.data
    assert b"Internal error" in r.data
    r = c.get("/boom", headers={"Accept": "application/json"})
    assert r.status_code == 500 and r.get_json()["error"] == "Internal error"
    assert c.get(f"/job/{world.partial}/cancel").status_code == 405
