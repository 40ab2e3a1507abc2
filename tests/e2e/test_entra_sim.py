"""The Entra provisioning simulator against the live endpoint: a small generated directory provisioned
in both dialects; the incremental cycle must send exactly the changes between the snapshots, and a
restarted job (fresh anchors) must find the server already in the second snapshot's state."""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.scim import ScimClient
from tools.entra_sim import cli, directory, generate
from tools.entra_sim.transport import MAX_RETRIES_AFTER_429

USERS, GROUPS = 40, 5


def run_sim(path: Path, tenant: dict, snapshots: list[dict], *extra: str) -> tuple[int, dict]:
    path.write_text(json.dumps({"snapshots": snapshots}))
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "--url",
        tenant["tenantUrl"],
        "--token",
        tenant["token"],
        "--directory",
        str(path),
        "--json",
        "--concurrency",
        "4",
        *extra,
    ]
    code = cli.main(argv, stdout=out, stderr=err)
    return code, json.loads(out.getvalue())


def without_zeros(counts: Counter) -> dict[str, int]:
    return {kind: n for kind, n in counts.items() if n}


def expected_first_cycle(snapshot: dict) -> dict[str, int]:
    return without_zeros(
        Counter(
            {
                "GET /Users?filter": len(snapshot["users"]),
                "POST /Users": len(snapshot["users"]),
                "PATCH /Users": sum(1 for u in snapshot["users"] if u.get("manager")),
                "GET /Groups?filter": len(snapshot["groups"]),
                "POST /Groups": len(snapshot["groups"]),
                "PATCH /Groups": sum(1 for g in snapshot["groups"] if g["members"]),
            }
        )
    )


def expected_incremental_cycle(first: dict, second: dict) -> dict[str, int]:
    """Requests Entra sends for the diff of two snapshots: nothing for an unchanged object."""
    before = {u["id"]: u for u in first["users"]}
    after = {u["id"]: u for u in second["users"]}

    def attributes(user: dict) -> dict:
        return {k: v for k, v in user.items() if k != "manager"}

    new_users = after.keys() - before.keys()
    changed = [i for i in after.keys() & before.keys() if attributes(after[i]) != attributes(before[i])]
    manager_changes = [i for i in after if after[i].get("manager") != before.get(i, {}).get("manager")]
    old_groups = {g["id"]: g for g in first["groups"]}
    new_groups = {g["id"]: g for g in second["groups"]}
    renamed = [
        i for i in new_groups.keys() & old_groups.keys() if new_groups[i]["displayName"] != old_groups[i]["displayName"]
    ]
    member_patches = 0
    for group_id, group in new_groups.items():
        was, now = set(old_groups.get(group_id, {}).get("members", [])), set(group["members"])
        # Removing a user who was deleted takes no request: the DELETE already took it out.
        member_patches += bool(now - was) + bool((was - now) & after.keys())
    return without_zeros(
        Counter(
            {
                "GET /Users?filter": len(new_users),
                "POST /Users": len(new_users),
                "GET /Users/{id}": len(changed),
                "PATCH /Users": len(changed) + len(manager_changes),
                "DELETE /Users": len(before.keys() - after.keys()),
                "GET /Groups?filter": len(new_groups.keys() - old_groups.keys()),
                "POST /Groups": len(new_groups.keys() - old_groups.keys()),
                "GET /Groups/{id}": len(renamed),
                "PATCH /Groups": len(renamed) + member_patches,
                "DELETE /Groups": len(old_groups.keys() - new_groups.keys()),
            }
        )
    )


def scim_id(client: ScimClient, collection: str, attribute: str, value: str) -> str:
    response = client.get(
        f"/{collection}", params={"filter": f"{attribute} eq {json.dumps(value)}", "excludedAttributes": "members"}
    )
    assert response.status_code == 200, response.text
    (resource,) = response.json()["Resources"]
    return resource["id"]


@pytest.mark.parametrize("flag_mode", [False, True], ids=["default", "aadOptscim062020"])
def test_incremental_cycle_sends_only_the_changes(tmp_path, scim_tenant, client, flag_mode):
    first, second = generate.generate(USERS, GROUPS, seed=7)["snapshots"]
    code, summary = run_sim(
        tmp_path / "two-snapshots.json",
        scim_tenant,
        [first, second],
        "--cycles",
        "3",
        *(["--flag-mode"] if flag_mode else []),
    )

    assert summary["failures"] == [], json.dumps(summary["failures"], indent=1)[:3000]
    assert code == 0
    assert summary["dialect"] == ("aadOptscim062020" if flag_mode else "default")
    assert summary["testConnection"]["byKind"] == {"GET /Users?filter": 1, "GET /Groups?filter": 1}
    cycle1, cycle2, cycle3 = summary["cycles"]
    assert cycle1["byKind"] == expected_first_cycle(first)
    changes = expected_incremental_cycle(first, second)
    assert {
        "POST /Users",
        "GET /Users/{id}",
        "DELETE /Users",
        "PATCH /Groups",
        "DELETE /Groups",
        "POST /Groups",
    } <= changes.keys()
    assert cycle2["byKind"] == changes
    assert cycle3["snapshot"] == 2 and cycle3["requests"] == 0
    assert summary["totalRequests"] == 2 + cycle1["requests"] + cycle2["requests"]

    # A restarted job has no anchors: it finds every object by filter and, since the server already
    # holds the second snapshot (attributes, active, manager), patches nothing but the memberships,
    # which Entra re-adds because it never reads them back.
    code, restart = run_sim(tmp_path / "second-snapshot.json", scim_tenant, [second])
    assert code == 0 and restart["failures"] == []
    assert restart["cycles"][0]["byKind"] == {
        "GET /Users?filter": len(second["users"]),
        "GET /Groups?filter": len(second["groups"]),
        "PATCH /Groups": sum(1 for g in second["groups"] if g["members"]),
    }

    users = {u["id"]: scim_id(client, "Users", "userName", u["userPrincipalName"]) for u in second["users"]}
    for group in second["groups"]:
        response = client.get(f"/Groups/{scim_id(client, 'Groups', 'displayName', group['displayName'])}")
        assert {m["value"] for m in response.json().get("members", [])} == {users[m] for m in group["members"]}


def test_a_wrong_token_fails_test_connection_and_runs_no_cycle(tmp_path, live_server):
    first, _ = generate.generate(12, 1, seed=1)["snapshots"]
    code, summary = run_sim(
        tmp_path / "directory.json", {"tenantUrl": live_server + "/scim/v2", "token": "not-a-token"}, [first]
    )
    assert code == 1
    assert summary["cycles"] == []
    assert [f["response"]["status"] for f in summary["failures"]] == [401, 401]
    assert summary["failures"][0]["request"]["url"].startswith(live_server + "/scim/v2/Users?filter=userName+eq+%22")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"snapshots": []}',
        '{"snapshots": [{"users": [{"id": "u1"}]}]}',
        '{"snapshots": [{"users": [{"id": "u1", "userPrincipalName": "a@b", "manager": "u9"}]}]}',
    ],
)
def test_an_unusable_directory_file_exits_with_2(tmp_path, content):
    path = tmp_path / "directory.json"
    path.write_text(content)
    err = io.StringIO()
    assert (
        cli.main(
            ["--url", "http://127.0.0.1:9/scim/v2", "--token", "t", "--directory", str(path)],
            stdout=io.StringIO(),
            stderr=err,
        )
        == 2
    )
    assert err.getvalue().startswith("error:")


def test_the_committed_sample_is_a_valid_two_snapshot_directory():
    sample = directory.load(Path(__file__).resolve().parents[2] / "tools" / "entra_sim" / "sample" / "directory.json")
    first, second = sample.snapshots
    assert len(first.users) >= 100 and len(first.groups) >= 10
    assert {u.id for u in first.users} - {u.id for u in second.users}, "the second snapshot deletes a user"


EMPTY_LIST = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}


class _Throttling(BaseHTTPRequestHandler):
    """A stand-in endpoint: answers 429 (Retry-After: 0) to the first `throttled` requests, then an
    empty ListResponse."""

    throttled = 0
    url = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        type(self).throttled -= 1
        status, body = (
            (429, b'{"status": "429"}') if type(self).throttled >= 0 else (200, json.dumps(EMPTY_LIST).encode())
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/scim+json")
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def throttling_endpoint() -> Iterator[type[_Throttling]]:
    handler = type("Handler", (_Throttling,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_port}/scim/v2"
    yield handler
    server.shutdown()
    server.server_close()


def test_429_is_retried_after_retry_after(tmp_path, throttling_endpoint):
    throttling_endpoint.throttled = 2
    code, summary = run_sim(
        tmp_path / "empty.json", {"tenantUrl": throttling_endpoint.url, "token": "t"}, [{"users": [], "groups": []}]
    )
    assert code == 0 and summary["failures"] == []
    assert summary["throttled"] == 2
    assert summary["testConnection"]["byKind"] == {"GET /Users?filter": 3, "GET /Groups?filter": 1}


def test_429_retries_are_bounded_and_then_a_failure(tmp_path, throttling_endpoint):
    throttling_endpoint.throttled = 1000
    code, summary = run_sim(
        tmp_path / "empty.json", {"tenantUrl": throttling_endpoint.url, "token": "t"}, [{"users": [], "groups": []}]
    )
    assert code == 1
    assert [f["response"]["status"] for f in summary["failures"]] == [429, 429]
    assert summary["testConnection"]["requests"] == 2 * (MAX_RETRIES_AFTER_429 + 1)
