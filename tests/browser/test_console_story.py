"""The seed's story in a real browser (Debian's Chromium through Playwright), end to end against the
local host and Azurite. Screenshots of each screen go to .artifacts/screenshots/ (git-ignored).

1. the operator creates a tenant; 2. its admin generates a token and reads "Secret Token" and
"Tenant URL"; 3. tools.entra_sim provisions the sample directory with them; 4. employees show staged,
"Send invite" on one turns it invited, "Invite all staged" the rest; 5. the audit log shows it;
6. regenerating makes the old token 401, disabling works; 7. cross-tenant probes get 403/404 and an
unauthenticated browser reaches nothing."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import expect

from shared import employees, tenants
from shared.store.client import Storage
from tests.support.browser import SCREENSHOTS
from tests.support.console import sign_in_link
from tools.entra_sim import cli as entra_sim
from tools.entra_sim import generate

# The sample directory's generator at a size that still pages (over 50 employees) but keeps the browser
# test short on a loaded machine; concurrency 1 as one Entra job against one group at a time.
SAMPLE_USERS, SAMPLE_GROUPS = 70, 6


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _confirm(page: Any, label: str) -> str:
    dialog = page.locator("dialog[open]")
    dialog.wait_for()
    message = dialog.locator("[data-confirm-message]").inner_text()
    dialog.get_by_role("button", name=label, exact=True).click()
    return message


def _scim_status(tenant_url: str, token: str) -> int:
    return requests.get(tenant_url + "/Users", headers={"Authorization": f"Bearer {token}"}, timeout=60).status_code


def test_the_seed_story(chromium: Any, live_server: str, azurite: str, tenant_storage: Storage, tmp_path: Path) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(60_000)
    page = context.new_page()

    # 1. The operator creates a tenant.
    page.goto(f"{live_server}/admin/signin/local?code={sign_in_link(tenant_storage, azurite, None)}")
    page.wait_for_url("**/admin/operator")
    name = f"Story {uuid.uuid4().hex[:6]}"
    page.get_by_label("Organisation name").fill(name)
    page.get_by_role("button", name="Create tenant").click()
    row = page.locator("tr", has_text=name)
    row.wait_for()
    _shot(page, "1-operator-tenants")
    tenant_id = row.get_attribute("data-tenant")
    assert tenant_id
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/admin/signin")

    # 2. The tenant admin generates a token and reads "Secret Token" and "Tenant URL".
    page.goto(f"{live_server}/admin/signin/local?code={sign_in_link(tenant_storage, azurite, tenant_id)}")
    page.wait_for_url(f"**/admin/t/{tenant_id}")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Generate token").click()
    assert "stop working at once" in _confirm(page, "Generate token")
    secret = page.get_by_label("Secret Token")
    secret.wait_for()
    expect(secret).to_have_value(re.compile("^scimgw_"))  # (CSP forbids eval: no wait_for_function)
    token, tenant_url = secret.input_value(), page.get_by_label("Tenant URL").input_value()
    assert tenant_url == f"{live_server}/scim/v2"
    _shot(page, "2-scim-integration")

    # 3. tools.entra_sim provisions the sample directory with them.
    directory = tmp_path / "directory.json"
    directory.write_text(generate.dumps(generate.generate(SAMPLE_USERS, SAMPLE_GROUPS, seed=1)))
    out = io.StringIO()
    argv = ["--url", tenant_url, "--token", token, "--directory", str(directory), "--cycles", "1", "--json"]
    argv += ["--concurrency", "1"]
    assert entra_sim.main(argv, stdout=out, stderr=io.StringIO()) == 0, out.getvalue()[-2000:]

    # 4. Staged employees; "Send invite" on one; "Invite all staged" for the rest.
    page.get_by_role("link", name="Employees").click()
    statuses = page.locator("[data-cell-status]")
    assert statuses.count() == 50 and set(statuses.all_inner_texts()) <= {"staged", "archived"}  # inactive: archived
    _shot(page, "3-employees-staged")
    chosen = page.locator("tbody tr", has=page.get_by_role("button", name=re.compile("^Send invite to"))).first
    first = page.locator(f'tr[data-id="{chosen.get_attribute("data-id")}"]')
    first.get_by_role("button", name=re.compile("^Send invite to")).click()
    first.locator("[data-cell-status]").filter(has_text="invited").wait_for()
    staged = employees.count_with_status(tenant_storage, tenant_id, "staged")
    page.get_by_role("button", name="Invite all staged").click()
    assert f"all {staged} staged" in _confirm(page, "Send")
    page.locator("[data-status]", has_text=f"{staged} invitation(s) sent").wait_for()
    assert "staged" not in statuses.all_inner_texts()  # changed in place, no reload
    _shot(page, "4-employees-invited")
    page.reload()
    assert "staged" not in page.locator("[data-cell-status]").all_inner_texts()
    archived = page.locator("tbody tr", has=page.get_by_role("button", name=re.compile("^Delete")))
    if archived.count():  # delete is offered on archived rows only
        gone = archived.first.get_attribute("data-id")
        archived.first.get_by_role("button", name=re.compile("^Delete")).click()
        _confirm(page, "Delete")
        expect(page.locator(f'tr[data-id="{gone}"]')).to_have_count(0)
    page.get_by_role("link", name="Groups").click()
    page.locator("tbody tr").first.wait_for()
    _shot(page, "5-groups")
    page.locator("tbody a").first.click()
    _shot(page, "6-group-members")

    # 5. The audit log shows these events, newest first, filterable by action.
    page.get_by_role("link", name="Audit logs").click()
    actions = page.locator("[data-audit] tbody tr td:nth-child(3)").all_inner_texts()
    # "invited" means delivered: the newest events are the capture channel's acceptances
    assert actions[0] == "employee.invited"
    page.get_by_label("Action (e.g. employee.invite, or user)").fill("token")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**action=token**")
    rows = page.locator("[data-audit] tbody tr")
    assert rows.count() == 1 and "console:tenantAdmin" in rows.first.inner_text()
    _shot(page, "7-audit-log")
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Provisioning activity").wait_for()
    assert "never" not in page.locator("dd").nth(2).inner_text()  # the last Entra request is shown
    _shot(page, "8-dashboard")

    # 6. Regenerating makes the old token get 401 over SCIM; disabling the integration works.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("button", name="Generate token").click()
    _confirm(page, "Generate token")
    expect(page.get_by_label("Secret Token")).to_have_value(re.compile("^scimgw_"))  # empty on a fresh page
    new_token = page.get_by_label("Secret Token").input_value()
    assert new_token != token
    assert _scim_status(tenant_url, token) == 401 and _scim_status(tenant_url, new_token) == 200
    page.get_by_role("button", name="Disable integration").click()
    _confirm(page, "Disable integration")
    page.get_by_role("button", name="Enable integration").wait_for()
    assert _scim_status(tenant_url, new_token) == 401
    _shot(page, "9-integration-disabled")

    # 7. Cross-tenant probes get 403/404; an unauthenticated browser reaches nothing.
    other = tenants.create_tenant(tenant_storage, "Someone else")[0]["tenantId"]
    for path in (f"/admin/t/{other}/employees", f"/admin/t/{other}/settings", "/admin/operator"):
        answer = page.goto(live_server + path)
        assert answer is not None and answer.status in (403, 404), path
    _shot(page, "10-cross-tenant-refused")
    probe = page.request.post(
        f"{live_server}/admin/t/{other}/api/token",
        headers={
            "Origin": live_server,
            "X-CSRF-Token": page.locator('meta[name="csrf-token"]').get_attribute("content") or "",
        },
    )
    assert probe.status in (403, 404)
    stranger = chromium.new_context().new_page()
    for path in ("/admin", f"/admin/t/{tenant_id}/employees", "/admin/operator"):
        stranger.goto(live_server + path)
        assert stranger.url == f"{live_server}/admin/signin"
    _shot(stranger, "11-signed-out")
    phone = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.goto(f"{live_server}/admin/signin/local?code={sign_in_link(tenant_storage, azurite, tenant_id)}")
    phone.goto(f"{live_server}/admin/t/{tenant_id}/employees")
    _shot(phone, "12-employees-phone")
    context.close()
