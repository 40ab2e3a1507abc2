"""RFC 7644 §3.14 preconditions over HTTP: a stale If-Match gets 412 and changes nothing, on every write
of both resource types; `If-Match: *` matches whatever the current version is."""

from __future__ import annotations

import pytest

from tests.e2e.test_scim_groups import GROUP, make_group, member_ids
from tests.e2e.test_scim_users import assert_error, create, patch_body
from tests.support.scim import user_body


def _stale_user(client) -> tuple[dict, str]:
    """A user and a version of it that is no longer current."""
    user = create(client, "etag-user", title="v1")
    changed = client.patch(f"/Users/{user['id']}", patch_body({"op": "replace", "path": "title", "value": "v2"}))
    assert changed.status_code == 200 and changed.json()["meta"]["version"] != user["meta"]["version"]
    return user, user["meta"]["version"]


def _stale_group(client) -> tuple[dict, str, str]:
    """A group with one member, a version of it that is no longer current, and that member."""
    member = create(client, "etag-member")["id"]
    group = make_group(client, "Etag Group", [member])
    renamed = client.patch(
        f"/Groups/{group['id']}", patch_body({"op": "replace", "path": "displayName", "value": "Etag Group 2"})
    )
    assert renamed.status_code == 204 and renamed.headers["ETag"] != group["meta"]["version"]
    return group, group["meta"]["version"], member


def test_a_stale_if_match_on_user_put_gets_412_and_changes_nothing(client):
    user, stale = _stale_user(client)
    response = client.put(f"/Users/{user['id']}", user_body("etag-user", title="v3"), headers={"If-Match": stale})
    assert_error(response, 412)
    assert client.get(f"/Users/{user['id']}").json()["title"] == "v2"


def test_a_stale_if_match_on_user_delete_gets_412_and_the_user_stays(client):
    user, stale = _stale_user(client)
    assert_error(client.delete(f"/Users/{user['id']}", headers={"If-Match": stale}), 412)
    assert client.get(f"/Users/{user['id']}").status_code == 200
    current = client.get(f"/Users/{user['id']}").json()["meta"]["version"]
    assert client.delete(f"/Users/{user['id']}", headers={"If-Match": current}).status_code == 204


def test_a_stale_if_match_on_group_patch_gets_412_and_changes_nothing(client):
    group, stale, member = _stale_group(client)
    attribute = client.patch(
        f"/Groups/{group['id']}",
        patch_body({"op": "replace", "path": "displayName", "value": "Lost"}),
        headers={"If-Match": stale},
    )
    assert_error(attribute, 412)
    members_only = client.patch(
        f"/Groups/{group['id']}", patch_body({"op": "remove", "path": "members"}), headers={"If-Match": stale}
    )
    assert_error(members_only, 412)
    after = client.get(f"/Groups/{group['id']}").json()
    assert after["displayName"] == "Etag Group 2" and member_ids(client, group["id"]) == {member}
    current = after["meta"]["version"]
    ok = client.patch(
        f"/Groups/{group['id']}",
        patch_body({"op": "replace", "path": "displayName", "value": "Won"}),
        headers={"If-Match": current},
    )
    assert ok.status_code == 204


def test_a_stale_if_match_on_group_put_gets_412_and_changes_nothing(client):
    group, stale, member = _stale_group(client)
    response = client.put(
        f"/Groups/{group['id']}",
        {"schemas": [GROUP], "displayName": "Lost", "members": []},
        headers={"If-Match": stale},
    )
    assert_error(response, 412)
    assert client.get(f"/Groups/{group['id']}").json()["displayName"] == "Etag Group 2"
    assert member_ids(client, group["id"]) == {member}


def test_a_stale_if_match_on_group_delete_gets_412_and_the_group_stays(client):
    group, stale, _ = _stale_group(client)
    assert_error(client.delete(f"/Groups/{group['id']}", headers={"If-Match": stale}), 412)
    assert client.get(f"/Groups/{group['id']}").status_code == 200


@pytest.mark.parametrize("header", ["*", 'W/"0000", *'])
def test_if_match_star_matches_any_version(client, header):
    user, _ = _stale_user(client)
    patched = client.patch(
        f"/Users/{user['id']}",
        patch_body({"op": "replace", "path": "title", "value": "starred"}),
        headers={"If-Match": header},
    )
    assert patched.status_code == 200 and patched.json()["title"] == "starred"
    replaced = client.put(f"/Users/{user['id']}", user_body("etag-user", title="put"), headers={"If-Match": header})
    assert replaced.status_code == 200 and replaced.json()["title"] == "put"
    group, _, _ = _stale_group(client)
    assert (
        client.patch(
            f"/Groups/{group['id']}", patch_body({"op": "remove", "path": "members"}), headers={"If-Match": header}
        ).status_code
        == 204
    )
    assert member_ids(client, group["id"]) == set()
    assert client.delete(f"/Groups/{group['id']}", headers={"If-Match": header}).status_code == 204
    assert client.delete(f"/Users/{user['id']}", headers={"If-Match": header}).status_code == 204
    assert_error(client.get(f"/Users/{user['id']}"), 404)


def test_the_strong_form_of_the_current_version_also_matches(client):
    user = create(client, "strong-etag")
    strong = user["meta"]["version"][2:]  # W/"abc" -> "abc"
    response = client.patch(
        f"/Users/{user['id']}",
        patch_body({"op": "replace", "path": "title", "value": "x"}),
        headers={"If-Match": strong},
    )
    assert response.status_code == 200
