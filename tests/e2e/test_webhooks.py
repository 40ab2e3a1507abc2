"""Change events end to end: every event type comes from its real operation (SCIM through the local host,
admin actions through the admin API), is delivered right after the change to a loopback receiver that
verifies the signature, and the webhook contract of the CLI and the admin API holds."""

from __future__ import annotations

import uuid
from collections import Counter

import requests

from shared.events.outbox import TYPES
from tests.e2e.test_admin_cli import cli, cli_json
from tests.support.scim import ScimClient, user_body

TIMEOUT = 60
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _patch(op: str, path: str, value) -> dict:
    return {"schemas": [PATCH_OP], "Operations": [{"op": op, "path": path, "value": value}]}


def test_every_event_type_is_emitted_by_its_operation_and_delivered_at_once(live_server, receiver):
    api = live_server + "/api/admin/tenants"
    created = requests.post(api, json={"name": f"events-{uuid.uuid4().hex[:6]}"}, timeout=TIMEOUT).json()
    tenant = f"{api}/{created['tenantId']}"
    added = requests.post(f"{tenant}/webhooks", json={"url": receiver.url("/e2e")}, timeout=TIMEOUT)
    assert added.status_code == 201 and {"webhookId", "secret"} <= set(added.json())
    receiver.secrets["/e2e"] = added.json()["secret"]
    scim = ScimClient(live_server + "/scim/v2", created["token"])

    def step(response: requests.Response, *types: str) -> dict:
        assert response.status_code < 300, response.text
        got = [e["type"] for e in receiver.events("/e2e")][-len(types) :]
        assert got == list(types)  # delivered before the response came back: no reconciliation ran
        return response.json() if response.content else {}

    user = step(scim.post("/Users", user_body("events@example.com")), "employee.staged")
    step(scim.patch(f"/Users/{user['id']}", _patch("replace", "active", False)), "employee.archived")
    step(scim.patch(f"/Users/{user['id']}", _patch("replace", "active", True)), "employee.restored")
    post = lambda path, body=None: requests.post(tenant + path, json=body, timeout=TIMEOUT)  # noqa: E731
    step(post("/employees/invite", {"ids": [user["id"]]}), "employee.invited")
    step(post(f"/employees/{user['id']}/activate"), "employee.activated")
    group = step(
        scim.post("/Groups", {"displayName": "Team", "members": [{"value": user["id"]}]}),
        "group.created",
        "membership.changed",
    )
    step(scim.patch(f"/Groups/{group['id']}", _patch("replace", "displayName", "Team 2")), "group.renamed")
    step(
        scim.patch(f"/Groups/{group['id']}", _patch("remove", f'members[value eq "{user["id"]}"]', None)),
        "membership.changed",
    )
    step(scim.delete(f"/Groups/{group['id']}"), "group.deleted")
    step(scim.delete(f"/Users/{user['id']}"), "employee.archived")
    step(requests.delete(f"{tenant}/employees/{user['id']}", timeout=TIMEOUT), "employee.deleted")
    step(post("/disable"), "integration.disabled")
    step(post("/enable"), "integration.enabled")
    step(post("/token"), "token.rotated")

    events = receiver.events("/e2e")
    assert {e["type"] for e in events} == set(TYPES)
    assert len({e["id"] for e in events}) == len(events)
    assert all(e["tenantId"] == created["tenantId"] and e["occurred"].endswith("Z") for e in events)
    staged = events[0]["data"]
    assert staged == {"id": user["id"], "employeeId": user["id"], "userName": "events@example.com", "status": "staged"}
    renamed = next(e for e in events if e["type"] == "group.renamed")
    assert renamed["data"] == {"id": group["id"], "displayName": "Team 2"}
    removed = [e for e in events if e["type"] == "membership.changed"][1]["data"]
    assert (removed["removed"], removed["removedCount"], removed["added"]) == ([user["id"]], 1, [])
    rotated = next(e for e in events if e["type"] == "token.rotated")
    assert rotated["data"] == {} and created["token"] not in str(events)
    assert all(r.headers["content-type"] == "application/json" for r in receiver.attempts("/e2e"))
    assert requests.get(f"{tenant}/webhook-deliveries", timeout=TIMEOUT).json() == []


def test_a_dead_receiver_never_fails_the_scim_request(live_server, scim_tenant, client, tenant_storage, azurite):
    dead = requests.Session()  # a loopback port nobody listens on: connection refused
    port = __import__("tools.processes", fromlist=["free_port"]).free_port()
    cli_json(azurite, "webhooks", "add", "--tenant", scim_tenant["tenantId"], "--url", f"http://127.0.0.1:{port}/x")
    dead.close()
    assert client.post("/Users", user_body("nobody-listens@example.com")).status_code == 201
    [failed] = cli_json(azurite, "webhooks", "deliveries", "--tenant", scim_tenant["tenantId"], "--failed")
    assert (failed["type"], failed["lastError"], failed["state"]) == ("employee.staged", "ConnectionError", "pending")


def test_webhook_cli_contract(azurite, live_server):
    tenant = cli_json(azurite, "tenant", "create", "--name", "Hooks")["tenantId"]
    added = cli_json(azurite, "webhooks", "add", "--tenant", tenant, "--url", "https://pm.example.com/events")
    assert set(added) >= {"webhookId", "secret"} and added["secret"].startswith("whsec_")
    listed = cli_json(azurite, "webhooks", "list", "--tenant", tenant)
    assert [(w["webhookId"], w["url"], w["state"]) for w in listed] == [
        (added["webhookId"], "https://pm.example.com/events", "active")
    ]
    assert added["secret"] not in str(listed)
    rotated = cli_json(azurite, "webhooks", "rotate-secret", "--tenant", tenant, "--id", added["webhookId"])
    assert rotated["secret"] != added["secret"]
    assert cli(azurite, "webhooks", "remove", "--tenant", tenant, "--id", added["webhookId"]).returncode == 0
    assert cli_json(azurite, "webhooks", "list", "--tenant", tenant) == []
    missing = cli(azurite, "webhooks", "remove", "--tenant", tenant, "--id", added["webhookId"])
    assert missing.returncode == 1 and "not found" in missing.stderr
    for bad in ("http://pm.example.com/events", "ftp://127.0.0.1/x", "https://user:pw@pm.example.com/", "not a url"):
        refused = cli(azurite, "webhooks", "add", "--tenant", tenant, "--url", bad)
        assert refused.returncode == 1 and "webhook URL" in refused.stderr, (bad, refused.stderr)
    for loopback in ("http://127.0.0.1:9/x", "http://[::1]:9/x", "http://localhost:9/x"):
        assert cli(azurite, "webhooks", "add", "--tenant", tenant, "--url", loopback).returncode == 0


def test_admin_api_refuses_bad_webhook_input_with_a_clear_400(live_server):
    api = live_server + "/api/admin/tenants"
    tenant = api + "/" + requests.post(api, json={"name": "Hooks API"}, timeout=TIMEOUT).json()["tenantId"]
    for body in ({"url": "http://example.com/"}, {"url": 42}, {}, {"url": "https://a:b@example.com/"}):
        refused = requests.post(f"{tenant}/webhooks", json=body, timeout=TIMEOUT)
        assert refused.status_code == 400 and "webhook URL" in refused.json()["detail"], (body, refused.text)
    assert requests.post(f"{tenant}/webhooks/{'0' * 32}/resume", timeout=TIMEOUT).status_code == 404
    assert requests.post(f"{tenant}/webhooks/nope/retry", json={"deliveryId": 5}, timeout=TIMEOUT).status_code == 400
    assert requests.get(f"{api}/{'0' * 32}/webhooks", timeout=TIMEOUT).status_code == 404
    assert Counter(requests.get(f"{tenant}/webhooks", timeout=TIMEOUT).json()) == Counter()


def test_only_a_tenant_with_endpoints_pays_for_delivery_within_the_request(live_server, scim_tenant, client, azurite):
    """The token row says whether the tenant has endpoints (tenants.set_webhooks), so a SCIM write of a tenant
    without any costs no query for them; adding one turns in-request delivery on, removing the last one off."""
    tid = scim_tenant["tenantId"]
    client.get("/Users", params={"count": "1"})  # the tenant's first request flushes its health counters

    def create_cost(name: str) -> int:
        response = client.post("/Users", user_body(f"{name}@example.com"))
        assert response.status_code == 201
        return int(response.headers["X-Storage-Calls"])

    without = create_cost("before")
    assert without == 2  # authentication and the create transaction: nothing for webhooks
    added = cli_json(azurite, "webhooks", "add", "--tenant", tid, "--url", "http://127.0.0.1:9/unused")
    assert create_cost("with") > without  # the outbox is read and delivered from within the request
    cli(azurite, "webhooks", "remove", "--tenant", tid, "--id", added["webhookId"])
    assert create_cost("after") == without
