"""One full Entra simulator cycle with each gallery authentication method, through the local host: client
credentials (a secret from our CLI's service, a token from /oauth2/token) and workload identity federation
(assertions signed with a key made here, its JWKS served by the simulator on loopback). Each cycle must
provision the sample exactly as with the long-lived token; the method must be what authenticated it."""

from __future__ import annotations

import io
import json
from pathlib import Path

from shared import tenants
from shared.oauth import manage
from tests.e2e.test_entra_sim import GROUPS, USERS, expected_first_cycle
from tests.support.scim import ScimClient
from tools import processes
from tools.entra_sim import cli, generate, keys

REHEARSAL_ISSUER = "https://rehearsal.example/issuer"
SUBJECT = "provisioning-workload"
AUDIENCE = "api://scim-rehearsal"


def federate(storage, tenant_id: str) -> int:
    """Configure the rehearsal issuer for the tenant; returns the loopback port the simulator serves its JWKS on."""
    port = processes.free_port()
    manage.set_federation(
        storage,
        tenant_id,
        issuer=REHEARSAL_ISSUER,
        jwks_url=f"http://127.0.0.1:{port}/jwks.json",
        subject=SUBJECT,
        audience=AUDIENCE,
    )
    return port


def new_key(path: Path) -> Path:
    assert keys.main(["--key", str(path)], stdout=io.StringIO()) == 0  # what an admin runs to rehearse
    return path


def run(path: Path, tenant_url: str, *auth: str) -> tuple[int, dict, str]:
    snapshot = generate.generate(USERS, GROUPS, seed=11)["snapshots"][0]
    path.write_text(json.dumps({"snapshots": [snapshot]}))
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--url", tenant_url, "--directory", str(path), "--json", *auth], stdout=out, stderr=err)
    assert out.getvalue(), err.getvalue()
    return code, {"summary": json.loads(out.getvalue()), "snapshot": snapshot}, err.getvalue()


def assert_provisioned(code: int, result: dict, tenant: dict) -> None:
    summary = result["summary"]
    assert summary["failures"] == [], json.dumps(summary["failures"], indent=1)[:3000]
    assert code == 0
    assert summary["cycles"][0]["byKind"] == expected_first_cycle(result["snapshot"])
    users = ScimClient(tenant["tenantUrl"], tenant["token"]).get("/Users", params={"count": "1"}).json()
    assert users["totalResults"] == len(result["snapshot"]["users"])


def test_full_cycle_with_client_credentials(tmp_path, live_server, tenant_storage, scim_tenant):
    tid = scim_tenant["tenantId"]
    manage.set_methods(tenant_storage, tid, {"bearer": False, "client_secret": True})  # the bearer token is off
    secret = manage.create_secret(tenant_storage, tid)
    code, result, _ = run(
        tmp_path / "directory.json",
        scim_tenant["tenantUrl"],
        *("--token-url", live_server + "/oauth2/token", "--client-id", secret["clientId"]),
        *("--client-secret", secret["clientSecret"], "--client-auth", "basic"),
    )
    manage.set_methods(tenant_storage, tid, {"bearer": True})  # to read back with the tenant's secret token
    assert_provisioned(code, result, scim_tenant)


def test_full_cycle_with_workload_identity_federation(tmp_path, live_server, tenant_storage, scim_tenant):
    tid = scim_tenant["tenantId"]
    port = federate(tenant_storage, tid)
    manage.set_methods(tenant_storage, tid, {"bearer": False, "federation": True})
    key = new_key(tmp_path / "federation.pem")
    code, result, _ = run(
        tmp_path / "directory.json",
        scim_tenant["tenantUrl"],
        *("--token-url", live_server + "/oauth2/token", "--client-id", tid),
        *("--federation-key", str(key), "--issuer", REHEARSAL_ISSUER, "--subject", SUBJECT),
        *("--audience", AUDIENCE, "--serve-jwks", str(port)),
    )
    manage.set_methods(tenant_storage, tid, {"bearer": True})
    assert_provisioned(code, result, scim_tenant)


def test_a_cycle_with_the_wrong_subject_provisions_nothing(tmp_path, live_server, tenant_storage, scim_tenant):
    tid = scim_tenant["tenantId"]
    port = federate(tenant_storage, tid)
    manage.set_methods(tenant_storage, tid, {"federation": True})
    code, result, _ = run(
        tmp_path / "directory.json",
        scim_tenant["tenantUrl"],
        *("--token-url", live_server + "/oauth2/token", "--client-id", tid),
        *(
            "--federation-key",
            str(new_key(tmp_path / "k.pem")),
            "--issuer",
            REHEARSAL_ISSUER,
            "--subject",
            "someone-else",
        ),
        *("--audience", AUDIENCE, "--serve-jwks", str(port)),
    )
    assert code != 0
    users = ScimClient(scim_tenant["tenantUrl"], scim_tenant["token"]).get("/Users", params={"count": "1"}).json()
    assert users["totalResults"] == 0
    assert tenants.get_entity(tenant_storage, tid)["enabled"]
