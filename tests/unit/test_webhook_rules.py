"""Webhook rules without I/O: which URLs an endpoint may have, and which audited change emits which event."""

from __future__ import annotations

import pytest

from shared.audit import Target
from shared.errors import Invalid
from shared.events import outbox
from shared.events.endpoints import check_url
from shared.store.rows import get_document


@pytest.mark.parametrize(
    "url",
    [
        "https://pm.example.com/scim-events",
        "https://pm.example.com:8443/hooks?tenant=a",
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://LOCALHOST:9/hook",
        "https://127.0.0.1/hook",
    ],
)
def test_accepted_urls(url):
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://pm.example.com/hook",  # plain http off loopback
        "http://127.0.0.2/hook",  # only the named loopback hosts
        "http://localhost.example.com/hook",
        "ftp://127.0.0.1/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://user:secret@pm.example.com/",
        "https://user@pm.example.com/",
        "https://pm.example.com/#frag",
        "https:///no-host",
        "https://pm.example.com:99999/",
        "https://pm.example.com/a b",
        "https://pm.example.com/\r\nX: y",
        "",
        "https://pm.example.com/" + "a" * 2100,
    ],
)
def test_refused_urls(url):
    with pytest.raises(Invalid, match="webhook URL"):
        check_url(url)


@pytest.mark.parametrize(
    ("action", "changed", "data", "types"),
    [
        ("user.create", [], {}, ["employee.staged"]),
        ("user.restore", [], {}, ["employee.restored"]),
        ("user.enable", ["active"], {}, ["employee.restored"]),
        ("user.disable", ["active"], {}, ["employee.archived"]),
        ("user.delete", [], {}, ["employee.archived"]),
        ("user.update", ["displayName"], {}, []),
        ("employee.invited", [], {}, ["employee.invited"]),
        ("employee.invite.queued", [], {}, []),
        ("employee.activate", [], {}, ["employee.activated"]),
        ("employee.delete", [], {}, ["employee.deleted"]),
        ("employee.purge", [], {}, ["employee.deleted"]),
        ("group.create", ["displayName"], {}, ["group.created"]),
        (
            "group.create",
            ["displayName", "members"],
            outbox.membership_data(["u"], []),
            ["group.created", "membership.changed"],
        ),
        ("group.update", ["displayName"], {}, ["group.renamed"]),
        ("group.update", ["externalId"], {}, []),
        ("group.update", ["members"], outbox.membership_data([], ["u"]), ["membership.changed"]),
        (
            "group.update",
            ["displayName", "members"],
            outbox.membership_data(["u"], []),
            ["group.renamed", "membership.changed"],
        ),
        ("group.delete", [], {}, ["group.deleted"]),
        ("integration.enable", [], {}, ["integration.enabled"]),
        ("integration.disable", [], {}, ["integration.disabled"]),
        ("token.rotate", [], {}, ["token.rotated"]),
        ("settings.update", ["autoInvite"], {}, []),
        ("repair.index", [], {}, []),
    ],
)
def test_each_audited_change_emits_its_events(action, changed, data, types):
    ops = outbox.change_ops("pk", "tenant", action, Target("X", "id", "name"), changed=changed, data=data)
    assert [op.entity["type"] for op in ops] == types
    assert sorted(op.entity["RowKey"] for op in ops) == [op.entity["RowKey"] for op in ops]  # in emission order
    assert all(op.kind == "create" and op.entity["PartitionKey"] == "pk" for op in ops)


def test_membership_lists_are_capped_and_counted():
    added = [f"{i:032x}" for i in range(outbox.MAX_IDS + 5)]
    [op] = outbox.change_ops(
        "pk",
        "t",
        "group.update",
        Target("Group", "g", "G"),
        changed=["members"],
        data=outbox.membership_data(added, []),
    )
    data = get_document(op.entity)["data"]
    assert len(data["added"]) == outbox.MAX_IDS and data["addedCount"] == outbox.MAX_IDS + 5
