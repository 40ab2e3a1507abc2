"""The admin HTTP API's invitation, reconciliation and cycle endpoints, and its refusals, end to end.

Admin routes are AuthLevel.FUNCTION: Azure checks the function key before our code runs; the local host
does not, so these tests call them without a key (a SCIM bearer token is refused by our own code)."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.mail import mails_to
from tests.support.scim import ScimClient, user_body

TIMEOUT = 60


class Admin:
    """requests against /api/admin/... for one tenant."""

    def __init__(self, live_server: str, tenant_id: str):
        self.api = live_server + "/api/admin"
        self.tenant = f"{self.api}/tenants/{tenant_id}"

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.tenant + path, timeout=TIMEOUT, **kw)

    def post(self, path: str, body=None, **kw) -> requests.Response:
        return requests.post(self.tenant + path, json=body, timeout=TIMEOUT, **kw)


@pytest.fixture
def tenant(live_server) -> dict:
    created = requests.post(
        f"{live_server}/api/admin/tenants", json={"name": f"admin-{uuid.uuid4().hex[:6]}"}, timeout=TIMEOUT
    )
    assert created.status_code == 201, created.text
    body = created.json()
    return {
        **body,
        "admin": Admin(live_server, body["tenantId"]),
        "scim": ScimClient(live_server + "/scim/v2", body["token"]),
    }


def _provision(tenant: dict, *names: str) -> list[str]:
    ids = []
    for name in names:
        response = tenant["scim"].post("/Users", user_body(name))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _statuses(admin: Admin) -> dict[str, str]:
    return {e["id"]: e["status"] for e in admin.get("/employees").json()["employees"]}


def test_invite_endpoint_invites_the_named_or_every_staged_employee(tenant):
    admin = tenant["admin"]
    first, second, third = _provision(tenant, "inv1@example.com", "inv2@example.com", "inv3@example.com")
    named = admin.post("/employees/invite", {"ids": [first]})
    assert named.status_code == 200, named.text
    assert [(e["id"], e["status"]) for e in named.json()] == [(first, "invited")]
    assert named.json()[0]["invitation"]
    assert _statuses(admin) == {first: "invited", second: "staged", third: "staged"}
    everyone = admin.post("/employees/invite", {"allStaged": True})
    assert everyone.status_code == 200 and sorted(e["id"] for e in everyone.json()) == sorted([second, third])
    assert set(_statuses(admin).values()) == {"invited"}
    assert len(admin.get("/outbox").json()) == 3
    invites = admin.get("/audit", params={"action": "employee.invite"}).json()["events"]
    assert sorted(e["targetId"] for e in invites) == sorted([first, second, third])


@pytest.mark.parametrize(
    "body,status",
    [
        ({}, 400),
        ({"ids": "not-a-list"}, 400),
        ({"ids": [1]}, 400),
        ({"allStaged": "yes"}, 400),
        ({"ids": ["0" * 32]}, 404),
    ],
)
def test_invite_endpoint_refuses_bad_input(tenant, body, status):
    response = tenant["admin"].post("/employees/invite", body)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_reconcile_and_cycles_endpoints(tenant, live_server):
    admin, tid = tenant["admin"], tenant["tenantId"]
    _provision(tenant, "cycled@example.com")
    ran = requests.post(f"{live_server}/api/admin/reconcile", params={"tenant": tid, "force": "true"}, timeout=TIMEOUT)
    assert ran.status_code == 200, ran.text
    [report] = ran.json()
    assert report["tenantId"] == tid and report["complete"] is True and report["scim"]["usersCreated"] == 1
    again = requests.post(f"{live_server}/api/admin/reconcile", params={"tenant": tid}, timeout=TIMEOUT).json()
    assert again[0]["skipped"].startswith("not due")
    forced = requests.post(
        f"{live_server}/api/admin/reconcile", params={"tenant": tid, "force": "1"}, timeout=TIMEOUT
    ).json()
    assert (
        forced[0]["complete"] is True and forced[0]["scim"]["usersCreated"] == 0
    )  # only what happened since the last cycle
    cycles = admin.get("/cycles", params={"limit": "5"})
    assert cycles.status_code == 200
    assert [c["started"] for c in cycles.json()] == [forced[0]["started"], report["started"]]
    assert [c["started"] for c in admin.get("/cycles", params={"limit": "1"}).json()] == [forced[0]["started"]]
    assert {"scim", "repairs", "durationSeconds", "storageCalls"} <= set(cycles.json()[0])
    assert admin.get("/cycles", params={"limit": "many"}).status_code == 400
    assert requests.get(f"{live_server}/api/admin/tenants/{'0' * 32}/cycles", timeout=TIMEOUT).status_code == 404


def test_admin_rejects_bad_input_without_changing_anything(tenant, live_server):
    """Every refused admin call leaves the tenant exactly as it was: its settings and token, its employees,
    its audit log and its invitation outbox."""
    admin = tenant["admin"]
    staged, archived = _provision(tenant, "keep@example.com", "gone@example.com")
    assert tenant["scim"].delete(f"/Users/{archived}").status_code == 204

    def snapshot() -> tuple:
        shown = admin.get("").json()
        shown.pop("health")
        return (
            shown,
            _statuses(admin),
            admin.get("/audit", params={"limit": "1000"}).json()["events"],
            admin.get("/outbox").json(),
        )

    before = snapshot()
    refusals = [
        (requests.post(f"{live_server}/api/admin/tenants/nope/token", timeout=TIMEOUT), 404),
        (admin.post("/employees/invite", {}), 400),
        (admin.post("/employees/invite", {"ids": [staged, "0" * 32]}), 404),  # all are checked before any changes
        (requests.patch(f"{admin.tenant}/settings", json={"autoInvite": "yes"}, timeout=TIMEOUT), 400),
        (
            requests.patch(f"{admin.tenant}/settings", json={"autoInvite": True, "retentionDays": 0}, timeout=TIMEOUT),
            400,
        ),
        (requests.patch(f"{admin.tenant}/settings", data=b"{not json", timeout=TIMEOUT), 400),
        (admin.post(f"/employees/{'0' * 32}/activate"), 404),
        (requests.delete(f"{admin.tenant}/employees/{staged}", timeout=TIMEOUT), 409),  # only archived employees
        (admin.post("/token", headers={"Authorization": f"Bearer {tenant['token']}"}), 401),  # SCIM tokens are refused
    ]
    for response, status in refusals:
        assert response.status_code == status, (response.request.method, response.request.url, response.text)
        assert response.json()["detail"]
    assert snapshot() == before
    assert tenant["scim"].get("/Users").status_code == 200


def test_deletes_leave_no_index_rows_for_reconciliation_to_repair(tenant, live_server):
    """Deleting a user or a group removes its externalId (and group name) index rows in the same transaction:
    a forced reconciliation right after finds nothing to repair. Over HTTP a stale index row is invisible
    (lookups re-check the resource), so the cycle's integrity phase is what shows one."""
    scim = tenant["scim"]
    user = scim.post("/Users", user_body("indexed@example.com", externalId="ext-user")).json()
    group = scim.post(
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Indexed",
            "externalId": "ext-group",
            "members": [{"value": user["id"]}],
        },
    ).json()
    assert scim.delete(f"/Groups/{group['id']}").status_code == 204
    assert scim.delete(f"/Users/{user['id']}").status_code == 204
    ran = requests.post(
        f"{live_server}/api/admin/reconcile", params={"tenant": tenant["tenantId"], "force": "true"}, timeout=TIMEOUT
    )
    [report] = ran.json()
    assert report["complete"] is True and report["repairs"] == {} and report["repairsTotal"] == 0, report["repairs"]


def test_invitation_endpoints(tenant, mail_capture):
    admin = tenant["admin"]
    [staged] = _provision(tenant, "api-invite@example.com")
    assert admin.get("/invitation-template").json()["default"] is True
    patch = requests.patch(
        f"{admin.tenant}/invitation-template", json={"subject": "{displayName}, join us"}, timeout=TIMEOUT
    )
    assert patch.status_code == 200 and patch.json()["subject"] == "{displayName}, join us"
    for body in ({"subject": "{secret}"}, {"ratePerMinute": 0}, {"colour": "red"}, {}, {"reset": "yes"}):
        refused = requests.patch(f"{admin.tenant}/invitation-template", json=body, timeout=TIMEOUT)
        assert refused.status_code == 400 and refused.json()["detail"], body
    retry = admin.post(f"/employees/{staged}/invitation/retry")
    assert retry.status_code == 409 and "no failed invitation" in retry.json()["detail"]
    assert admin.post("/employees/invite", {"allStaged": True, "confirmCount": "x"}).status_code == 400
    [invited] = admin.post("/employees/invite", {"allStaged": True, "confirmCount": 1}).json()
    assert invited["status"] == "invited" and invited["invitation"] == "sent"
    [mail] = mails_to(mail_capture, "api-invite@example.com")
    [sent] = admin.get("/outbox", params={"state": "sent"}).json()
    assert str(mail.message["Subject"]) == sent["subject"] and sent["html"]
