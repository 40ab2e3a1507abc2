"""The admin CLI contract (`python -m tools.admin ...`) and the admin HTTP API, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.mail import mails_to
from tests.support.scim import ScimClient, user_body

ROOT = Path(__file__).resolve().parents[2]


def cli(azurite: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCIM_STORAGE_CONNECTION_STRING": azurite}
    return subprocess.run(
        [sys.executable, "-m", "tools.admin", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def cli_json(azurite: str, *args: str):
    done = cli(azurite, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_cli_contract(azurite, live_server, mail_capture):
    created = cli_json(azurite, "tenant", "create", "--name", "Contoso")
    tenant = created["tenantId"]
    assert created["tenantUrl"].endswith("/scim/v2") and created["token"].startswith("scimgw_")
    scim = ScimClient(live_server + "/scim/v2", created["token"])
    user = scim.post("/Users", user_body("cli@example.com")).json()

    rotated = cli_json(azurite, "tenant", "token", "--tenant", tenant)
    assert scim.get("/Users").status_code == 401
    scim = ScimClient(live_server + "/scim/v2", rotated["token"])
    assert scim.get("/Users").status_code == 200

    assert cli(azurite, "tenant", "disable", "--tenant", tenant).returncode == 0
    assert scim.get("/Users").status_code == 401
    assert cli_json(azurite, "tenant", "settings", "--tenant", tenant)["integrationEnabled"] is False
    assert cli(azurite, "tenant", "enable", "--tenant", tenant).returncode == 0
    assert scim.get("/Users").status_code == 200
    assert cli_json(azurite, "tenant", "settings", "--tenant", tenant, "--auto-invite", "on")["autoInvite"] is True

    listed = cli_json(azurite, "employees", "list", "--tenant", tenant)
    assert [(e["id"], e["userName"], e["status"]) for e in listed] == [(user["id"], "cli@example.com", "staged")]
    assert cli_json(azurite, "employees", "list", "--tenant", tenant, "--status", "invited") == []
    invited = cli_json(azurite, "employees", "invite", "--tenant", tenant, "--id", user["id"])
    assert invited[0]["status"] == "invited"  # the configured channel (the capture server) accepted the mail
    assert len(mails_to(mail_capture, "cli@example.com")) == 1
    assert cli(azurite, "employees", "activate", "--tenant", tenant, "--id", user["id"]).returncode == 0
    refused = cli(azurite, "employees", "delete", "--tenant", tenant, "--id", user["id"])
    assert refused.returncode == 1 and "archived" in refused.stderr
    scim.delete(f"/Users/{user['id']}")
    assert cli(azurite, "employees", "delete", "--tenant", tenant, "--id", user["id"]).returncode == 0

    events = cli_json(azurite, "audit", "--tenant", tenant, "--limit", "50")
    assert {"time", "action", "targetId"} <= set(events[0])
    actions = [e["action"] for e in events]
    for expected in (
        "tenant.create",
        "token.rotate",
        "integration.disable",
        "integration.enable",
        "settings.update",
        "user.create",
        "employee.invite.queued",
        "employee.invited",
        "employee.activate",
        "user.delete",
        "employee.delete",
    ):
        assert expected in actions, expected
    assert len(cli_json(azurite, "audit", "--tenant", tenant, "--limit", "2")) == 2


def test_cli_bad_input(azurite):
    assert cli(azurite, "tenant", "token", "--tenant", "missing").returncode == 1
    assert cli(azurite, "tenant", "settings", "--tenant", "x", "--auto-invite", "maybe").returncode == 2
    assert cli(azurite, "employees", "invite", "--tenant", "x").returncode == 2
    assert cli(azurite, "tenant", "create", "--name", "  ").returncode == 1


def test_admin_http_api(live_server):
    api = live_server + "/api/admin"
    created = requests.post(f"{api}/tenants", json={"name": "Fabrikam"}, timeout=30)
    assert created.status_code == 201
    tenant = created.json()
    tid, token = tenant["tenantId"], tenant["token"]
    assert (
        requests.get(f"{api}/tenants/{tid}", headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code
        == 401
    )
    shown = requests.get(f"{api}/tenants/{tid}", timeout=30).json()
    assert shown["integrationEnabled"] is True and "token" not in shown and "tokenHash" not in json.dumps(shown)
    assert requests.patch(f"{api}/tenants/{tid}/settings", json={"autoInvite": "yes"}, timeout=30).status_code == 400
    assert (
        requests.patch(f"{api}/tenants/{tid}/settings", json={"autoInvite": True}, timeout=30).json()["autoInvite"]
        is True
    )
    new_token = requests.post(f"{api}/tenants/{tid}/token", timeout=30).json()["token"]
    scim = ScimClient(live_server + "/scim/v2", new_token)
    user = scim.post("/Users", user_body("api@example.com")).json()
    employees = requests.get(f"{api}/tenants/{tid}/employees", timeout=30).json()["employees"]
    assert employees[0]["status"] == "invited" and employees[0]["id"] == user["id"]
    assert (
        requests.post(f"{api}/tenants/{tid}/employees/{user['id']}/activate", timeout=30).json()["status"] == "active"
    )
    health = requests.get(f"{api}/tenants/{tid}/health", timeout=30).json()
    assert health["requestsLast24h"] >= 1 and health["lastRequest"]
    audit = requests.get(f"{api}/tenants/{tid}/audit", params={"action": "employee"}, timeout=30).json()["events"]
    # automatic invitation: queued and delivered inside the SCIM create, then the admin's activation
    assert {e["action"] for e in audit} == {"employee.invite.queued", "employee.invited", "employee.activate"}
    assert requests.get(f"{api}/tenants/nope", timeout=30).status_code == 404


def test_cli_reconcile_and_cycles(azurite):
    tenant = cli_json(azurite, "tenant", "create", "--name", "Reconciled")["tenantId"]
    reports = cli_json(azurite, "reconcile", "--tenant", tenant, "--force")
    assert reports[0]["tenantId"] == tenant and reports[0]["complete"] is True
    assert cli_json(azurite, "reconcile", "--tenant", tenant)[0]["skipped"].startswith("not due")
    cycles = cli_json(azurite, "cycles", "--tenant", tenant, "--limit", "5")
    assert len(cycles) == 1 and {"scim", "repairs", "durationSeconds", "storageCalls"} <= set(cycles[0])
    assert cli(azurite, "cycles", "--tenant", "missing").returncode == 1


def test_cli_invitation_template_retry_and_confirmation(azurite, live_server, mail_capture, tmp_path):
    tenant = cli_json(azurite, "tenant", "create", "--name", "Fabrikam")["tenantId"]
    assert cli_json(azurite, "employees", "template", "--tenant", tenant)["default"] is True
    text = tmp_path / "text.txt"
    text.write_text("Hi {displayName}, join {organisation}: {invitationUrl} (until {expires})")
    changed = cli_json(
        azurite, "employees", "template", "--tenant", tenant, "--subject", "Join {organisation}",
        "--text-file", str(text), "--rate-per-minute", "30",
    )  # fmt: skip
    assert (changed["subject"], changed["ratePerMinute"], changed["default"]) == ("Join {organisation}", 30, False)
    refused = cli(azurite, "employees", "template", "--tenant", tenant, "--subject", "{password}")
    assert refused.returncode == 1 and "unknown placeholder" in refused.stderr

    scim = ScimClient(live_server + "/scim/v2", cli_json(azurite, "tenant", "token", "--tenant", tenant)["token"])
    user = scim.post("/Users", user_body("templated-cli@example.com")).json()
    retry = cli(azurite, "employees", "retry-invite", "--tenant", tenant, "--id", user["id"])
    assert retry.returncode == 1 and "no failed invitation" in retry.stderr
    assert cli_json(azurite, "employees", "invite", "--tenant", tenant, "--all-staged", "--confirm-count", "1")
    [mail] = mails_to(mail_capture, "templated-cli@example.com")
    assert str(mail.message["Subject"]) == "Join Fabrikam" and "join Fabrikam: http" in mail.part("plain")
    [sent] = cli_json(azurite, "employees", "outbox", "--tenant", tenant, "--state", "sent")
    assert sent["subject"] == "Join Fabrikam" and sent["text"].startswith("Hi ")
