"""Employee lifecycle driven by SCIM and by admins, with its audit trail (Azurite)."""

from __future__ import annotations

import pytest

from shared import employees, invitations, tenants, users
from shared.audit import list_events
from shared.errors import Conflict
from shared.lifecycle import ACTIVE, ARCHIVED, INVITED, STAGED
from shared.scim.schema import EMPLOYEE
from tests.integration.conftest import make_scope
from tests.support.mail import mails_to

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _active(value) -> dict:
    return {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": value}]}


def _status(storage, tenant_id: str, user_id: str) -> str:
    return next(e for e in employees.list_employees(storage, tenant_id)[0] if e["id"] == user_id)["status"]


def _actions(storage, tenant_id: str) -> list[str]:
    return [e["action"] for e in list_events(storage, tenant_id, limit=1000)[0]]


def test_full_lifecycle(storage, tenant, scope, mail_capture):
    tid = tenant["tenantId"]
    user = users.create_user(
        scope, {"userName": "life@example.com", "emails": [{"value": "life@example.com", "type": "work"}]}
    )
    assert user[EMPLOYEE] == {"status": STAGED}
    assert _status(storage, tid, user["id"]) == STAGED
    with pytest.raises(Conflict):
        employees.activate_employee(storage, tid, user["id"])  # only invited employees activate
    result = employees.invite_employees(storage, tid, ids=[user["id"]])
    assert result[0]["status"] == INVITED and result[0]["invitation"] == invitations.SENT  # the channel accepted
    assert invitations.list_outbox(storage, tid)[0]["to"] == "life@example.com"
    assert mails_to(mail_capture, "life@example.com")
    assert employees.activate_employee(storage, tid, user["id"])["status"] == ACTIVE
    with pytest.raises(Conflict):
        employees.delete_employee(storage, tid, user["id"])  # only archived employees can be deleted
    users.patch_user(scope, user["id"], _active("False"))
    assert _status(storage, tid, user["id"]) == ARCHIVED
    assert users.get_user(scope, user["id"])["active"] is False  # still readable over SCIM
    users.patch_user(scope, user["id"], _active(True))
    assert _status(storage, tid, user["id"]) == ACTIVE  # restored to what it was before archiving
    users.delete_user(scope, user["id"])
    assert _status(storage, tid, user["id"]) == ARCHIVED
    employees.delete_employee(storage, tid, user["id"])
    assert all(e["id"] != user["id"] for e in employees.list_employees(storage, tid)[0])
    actions = _actions(storage, tid)
    for expected in (
        "user.create",
        "employee.invite.queued",
        "employee.invited",
        "employee.activate",
        "user.disable",
        "user.enable",
        "user.delete",
        "employee.delete",
    ):
        assert expected in actions


def test_recreating_a_deleted_username_restores_the_same_employee(storage, tenant, scope):
    tid = tenant["tenantId"]
    first = users.create_user(scope, {"userName": "comeback@example.com"})
    employees.invite_employees(storage, tid, ids=[first["id"]])
    employees.activate_employee(storage, tid, first["id"])
    employee_id = employees.list_employees(storage, tid)[0][0]["employeeId"]
    users.delete_user(scope, first["id"])
    second = users.create_user(scope, {"userName": "COMEBACK@example.com"})
    assert second["id"] != first["id"]
    listed = employees.list_employees(storage, tid)[0]
    assert len(listed) == 1
    assert listed[0]["employeeId"] == employee_id and listed[0]["status"] == ACTIVE and listed[0]["id"] == second["id"]
    assert "user.restore" in _actions(storage, tid)


def test_automatic_invitation(storage, tenant):
    tid = tenant["tenantId"]
    tenants.update_settings(storage, tid, auto_invite=True)
    auth = tenants.authenticate(storage, tenant["token"])
    assert auth.auto_invite
    user = users.create_user(make_scope(storage, tid, auto_invite=True), {"userName": "auto@example.com"})
    assert user[EMPLOYEE]["status"] == INVITED  # the same path as the admin's click: delivered at once
    assert [o["state"] for o in invitations.list_outbox(storage, tid)] == [invitations.SENT]
    assert "employee.invite.queued" in _actions(storage, tid) and "employee.invited" in _actions(storage, tid)
    assert "settings.update" in _actions(storage, tid)


def test_invite_all_staged(storage, tenant, scope):
    tid = tenant["tenantId"]
    ids = [users.create_user(scope, {"userName": f"staged{i}@example.com"})["id"] for i in range(3)]
    employees.invite_employees(storage, tid, ids=[ids[0]])
    employees.activate_employee(storage, tid, ids[0])
    invited = employees.invite_employees(storage, tid, all_staged=True)
    assert sorted(e["id"] for e in invited) == sorted(ids[1:])
    assert _status(storage, tid, ids[0]) == ACTIVE


def test_failed_invitation_delivery_is_recorded(storage, tenant, scope, mail_channel):
    class Broken:
        def send(self, message, timeout):
            raise ConnectionError("smtp down")

    mail_channel(Broken())
    user = users.create_user(scope, {"userName": "unlucky@example.com"})
    result = employees.invite_employees(storage, tenant["tenantId"], ids=[user["id"]])
    assert result[0]["invitation"] == invitations.FAILED and result[0]["status"] == STAGED
    assert result[0]["statusDetail"] == "invitation failed, retrying"
    row = invitations.list_outbox(storage, tenant["tenantId"])[0]
    assert row["attempts"] == 1 and row["lastError"] == "channel error: ConnectionError"


def test_every_scim_mutation_is_audited_with_attribute_names_only(storage, tenant, scope):
    user = users.create_user(scope, {"userName": "audited", "displayName": "Secret Name"})
    users.patch_user(scope, user["id"], {"Operations": [{"op": "replace", "path": "title", "value": "CEO"}]})
    events = list_events(storage, tenant["tenantId"], limit=10)[0]
    update = next(e for e in events if e["action"] == "user.update")
    assert update["changed"] == ["title"] and update["targetId"] == user["id"] and update["actor"] == "scim"
    assert "CEO" not in str(events)
    assert events[0]["time"] >= events[-1]["time"]  # newest first


def test_audit_paging_and_filters(storage, tenant, scope):
    for i in range(5):
        users.create_user(scope, {"userName": f"pager{i}"})
    page1, token = list_events(storage, tenant["tenantId"], limit=2, action="user")
    page2, _ = list_events(storage, tenant["tenantId"], limit=2, action="user", continuation=token)
    assert len(page1) == 2 and len(page2) == 2 and not {e["targetId"] for e in page1} & {e["targetId"] for e in page2}
    target = page1[0]["targetId"]
    assert [e["targetId"] for e in list_events(storage, tenant["tenantId"], target_id=target)[0]] == [target]
