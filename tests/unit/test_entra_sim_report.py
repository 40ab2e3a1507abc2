"""tools.entra_sim.report: the counters one run keeps and the text report an operator reads."""

from __future__ import annotations

import re

from tools.entra_sim.report import CycleLog, render_text, summary

NUMBER = r"[0-9.]+"


def _run() -> dict:
    test_connection = CycleLog("test connection")
    test_connection.count("GET /Users?filter")
    test_connection.finish()
    cycle = CycleLog("cycle 1", cycle=1, snapshot=0)
    for kind in ("POST /Users", "POST /Users", "PATCH /Groups", "GET /Users?filter"):
        cycle.count(kind)
    cycle.throttled()
    cycle.fail(
        {
            "object": "user alice",
            "reason": "unexpected status",
            "request": {
                "method": "POST",
                "url": "http://x/scim/v2/Users",
                "body": {"userName": "alice", "active": True},
            },
            "response": {"status": 500, "body": "boom"},
        }
    )
    cycle.fail(
        {
            "object": "group Sales",
            "reason": "no answer",
            "request": {"method": "DELETE", "url": "http://x/scim/v2/Groups/g1", "body": None},
            "response": {"status": None, "body": "connection refused"},
        }
    )
    cycle.finish()
    return summary({"tenantUrl": "http://x/scim/v2", "dialect": "default"}, test_connection, [cycle], duration=2.0)


def test_summary_adds_up_the_cycles():
    result = _run()
    assert result["totalRequests"] == 5 and result["throttled"] == 1
    assert [f["cycle"] for f in result["failures"]] == ["cycle 1", "cycle 1"]
    assert result["cycles"][0]["byKind"] == {"GET /Users?filter": 1, "PATCH /Groups": 1, "POST /Users": 2}
    assert (result["cycles"][0]["cycle"], result["cycles"][0]["snapshot"]) == (1, 0)
    assert "cycle" not in result["testConnection"]
    assert result["requestsPerSecond"] == 2.5


def test_text_report_lists_each_cycle_by_kind_and_every_failure_with_its_request_and_answer():
    lines = render_text(_run()).splitlines()
    assert lines[0] == "Entra provisioning simulation against http://x/scim/v2 (default dialect)"
    assert re.fullmatch(
        rf"Test Connection: 1 requests in {NUMBER} s \({NUMBER} req/s\), 0 failures, 0 throttled", lines[1]
    )
    assert lines[2] == "  GET /Users?filter  1"
    assert re.fullmatch(
        rf"Cycle 1 \(snapshot 0\): 4 requests in {NUMBER} s \({NUMBER} req/s\), 2 failures, 1 throttled", lines[3]
    )
    assert lines[4:7] == [
        "  GET /Users?filter  1",
        "  PATCH /Groups      1",
        "  POST /Users        2",
    ]  # kinds aligned, sorted
    assert lines[7] == "Total: 5 requests in 2.00 s (2.5 req/s), 2 failures, 1 throttled"
    assert lines[8:] == [
        "FAILED [cycle 1] user alice: unexpected status",
        "  POST http://x/scim/v2/Users",
        '  request body: {"userName":"alice","active":true}',
        "  -> 500 boom",
        "FAILED [cycle 1] group Sales: no answer",
        "  DELETE http://x/scim/v2/Groups/g1",
        "  -> no answer: connection refused",
    ]


def test_a_clean_run_ends_with_its_total():
    log = CycleLog("test connection")
    log.finish()
    text = render_text(summary({"tenantUrl": "u", "dialect": "aadOptscim062020"}, log, [], duration=0.0))
    assert text.splitlines()[-1] == "Total: 0 requests in 0.00 s (0.0 req/s), 0 failures, 0 throttled"
    assert "FAILED" not in text
