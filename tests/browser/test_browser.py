"""The dashboard in headless Chromium: sign in, export from PostgreSQL, follow the job
live to its end, read its details, error, log and files; a viewer cannot start a job;
pages work with scripts off; no CSP violation or script error anywhere."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

FINISHED = ("succeeded", "partial", "failed", "cancelled", "stale")
STATUS_JS = """() => { const s = document.querySelector('#job-live dl.summary .status');
                       return s ? s.textContent.trim() : null; }"""


def test_operator_exports_from_postgres_and_follows_it_live(live: Any, sign_in: Any) -> None:
    s = sign_in(None)
    page = s.page
    page.goto(live.url + "/")
    assert page.url.startswith(live.url + "/login")
    live.screenshot(page, "login")
    page.fill("#username", "operator")
    page.fill("#password", "operator-password-1")
    page.keyboard.press("Enter")
    page.wait_for_url(live.url + "/")

    page.click("header nav >> text=New job")
    page.fill("#url", live.pg_url)
    page.fill("#password", live.pg_password)
    page.click("button[data-discover]")
    page.wait_for_selector('input[name="table"][value="shop.orders"]')
    assert page.input_value("#password") == live.pg_password  # discovery kept the form as it was
    assert live.pg_password not in page.content()
    # the filter hides what does not match; select-all picks what is shown
    page.fill("[data-table-filter]", "orders")
    assert page.is_hidden('li[data-name="shop.customers"]') and page.is_visible('li[data-name="shop.orders"]')
    page.click('button[data-select="all"]')
    assert page.is_checked('input[value="shop.orders"]') and not page.is_checked('input[value="shop.customers"]')
    page.fill("[data-table-filter]", "")
    page.click('button[data-select="all"]')
    chosen = page.eval_on_selector_all('input[name="table"]:checked', "els => els.map(e => e.value)")
    assert set(chosen) == {"public.audit_log", "public.payroll", "shop.customers", "shop.orders"}
    page.fill("#target", "pg-export")
    page.fill("#name", "browser test export")
    live.screenshot(page, "new-job")
    page.click('button[name="action"][value="submit"]')
    page.wait_for_url(re.compile(r"/job/[0-9a-f]{32}$"))
    job_id = page.url.rsplit("/", 1)[1]

    # follow it without reloading: the live region swaps itself in
    page.evaluate("window.__aduMarker = 42")
    dash = s.context.new_page()
    dash.goto(live.url + "/")
    dash.evaluate("window.__aduMarker = 7")
    seen = []
    for _ in range(1200):
        status = page.evaluate(STATUS_JS)
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in FINISHED:
            break
        page.wait_for_timeout(100)
    assert seen[-1] == "partial", seen
    assert page.evaluate("window.__aduMarker") == 42, "the page was reloaded"
    assert len(seen) >= 2, f"the status never changed on the page: {seen}"
    job = live.store.get_job(job_id)
    assert job.status.value == "partial" and job.tables_done == 3 and job.tables_failed == 1
    assert not job.has_secret  # the typed password is erased when the job ends

    # the dashboard row followed too
    dash.wait_for_selector(f'tr:has(a[href="/job/{job_id}"]) .status.s-partial', timeout=30_000)
    assert dash.evaluate("window.__aduMarker") == 7
    live.screenshot(dash, "dashboard")

    # details: the failed table's error, its traceback folded open on demand
    page.wait_for_selector("#tables tr.row-failed")
    failed_row = page.locator("#tables tr.err-row").first
    assert "permission denied" in failed_row.inner_text()
    summary = failed_row.locator("details summary")
    assert summary.count() >= 1, "the failed table shows no folded traceback"
    assert not failed_row.locator("details pre").first.is_visible()  # folded ...
    summary.first.click()
    assert failed_row.locator("details pre").first.is_visible()  # ... until asked for
    assert page.locator("#tables tr.row-succeeded").count() == 3
    assert live.pg_password not in page.content()
    page.locator("#tables").scroll_into_view_if_needed()
    live.screenshot(page, "job")

    # the log, filtered to errors
    page.click(".actions >> text=Log")
    page.wait_for_url(re.compile(rf"/job/{job_id}/log"))
    assert page.locator("table.log tbody tr").count() > 0
    page.select_option("#level", "ERROR")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"level=ERROR"))
    assert page.locator("table.log tbody tr.lvl-error").count() >= 1
    assert "payroll" in page.locator("table.log").inner_text()
    live.screenshot(page, "log")

    # the export: manifest, checksums, a preview read by DuckDB
    page.goto(f"{live.url}/job/{job_id}/export")
    assert "checksum matches" in page.content()
    page.click("section.table-entry:has-text('shop.orders') >> text=preview first rows")
    page.wait_for_selector("table.grid thead th")
    headers = page.eval_on_selector_all("table.grid thead th", "els => els.map(e => e.textContent)")
    assert headers == ["id", "customer_id", "amount", "placed", "note"]
    assert page.locator("table.grid tbody tr").count() == 20
    live.screenshot(page, "export-preview")

    assert not [p for p in s.problems if "Content Security Policy" in p or "Refused" in p], s.problems
    assert not s.problems, s.problems


def test_viewer_cannot_start_a_job(live: Any, sign_in: Any) -> None:
    s = sign_in("viewer")
    page = s.page
    assert page.locator("header nav >> text=New job").count() == 0
    assert page.locator("text=New job").count() == 0
    before = live.store.count_jobs()
    response = page.goto(live.url + "/jobs/new")
    assert response.status == 403
    assert "This needs the operator role." in page.content()
    status = page.evaluate(
        """async (url) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json',
                                                             'X-CSRFToken': token},
                                    body: JSON.stringify({source: 'duckdb:///x.duckdb', target: 'x'})});
        return r.status; }""",
        live.url + "/api/jobs",
    )
    assert status == 403
    assert live.store.count_jobs() == before


def test_pages_work_with_scripts_off(live: Any, sign_in: Any) -> None:
    s = sign_in(None, scripts=False)
    page = s.page
    page.goto(live.url + "/login")
    page.fill("#username", "viewer")
    page.fill("#password", "viewer-password-1")
    page.click("button[type=submit]")
    page.wait_for_url(live.url + "/")
    assert page.locator("noscript").count() == 1
    page.select_option("#status", "failed")  # the history holds a failed job (conftest)
    page.click("form.inline button[type=submit]")
    page.wait_for_url(re.compile(r"status=failed"))
    rows = page.locator("#jobs tbody tr")
    assert rows.count() >= 1, "the filter found no failed job"
    assert all("failed" in rows.nth(i).inner_text() for i in range(rows.count()))
    rows.first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/job/[0-9a-f]{32}$"))
    assert page.locator("#job-live").count() == 1


def test_admin_page(live: Any, sign_in: Any) -> None:
    s = sign_in("admin")
    page = s.page
    page.click("header nav >> text=Admin")
    page.wait_for_url(live.url + "/admin/")
    assert page.locator("text=operator").count() >= 1
    live.screenshot(page, "admin")
    assert not s.problems, s.problems
