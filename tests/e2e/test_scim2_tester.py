"""Conformance: scim2-tester (python-scim) against the live local endpoint, exactly as an operator would
run it (`scim2 --url URL --header "Authorization: Bearer T" test`)."""

from __future__ import annotations

import collections

from httpx2 import Client
from scim2_cli.session import describe_server
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def run_checks(tenant_url: str, token: str) -> list:
    client = SyncSCIMClient(Client(base_url=tenant_url, headers={"Authorization": f"Bearer {token}"}, timeout=60))
    client.provider = describe_server(client, None, None, None)
    return check_server(client)


# scim2-tester 0.5.2 PATCHes every extension as a whole and expects its value echoed back; our product
# extension holds only the read-only, server-managed employee status, so those three checks cannot pass
# without letting clients write the status. Every other check must.
READ_ONLY_EXTENSION = "urn:ietf:params:scim:schemas:extension:employee:2.0:User"


def test_scim2_tester_reports_no_error_or_critical(scim_tenant):
    results = run_checks(scim_tenant["tenantUrl"], scim_tenant["token"])
    counts = collections.Counter(r.status.name for r in results)
    print("scim2-tester:", dict(counts))
    failing = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    known = [
        r
        for r in failing
        if r.title in ("check_add_attribute", "check_replace_attribute", "check_remove_attribute")
        and READ_ONLY_EXTENSION in (r.reason or "")
    ]
    bad = [f"{r.status.name} {r.title}: {r.reason}" for r in failing if r not in known]
    assert counts["SUCCESS"] > 100 and not bad, "\n".join(bad)
    assert len(known) <= 3
