"""tools.mutate's summary: the kill rate counts only mutants a test ran against, and accepted survivors are
listed apart from new ones."""

from __future__ import annotations

from tools import mutate


def test_report_counts_kills_over_tested_mutants_and_lists_new_survivors_only():
    statuses = {
        "shared.a.x_f__mutmut_1": "killed",
        "shared.a.x_f__mutmut_2": "timeout",
        "shared.a.x_f__mutmut_3": "survived",
        "shared.a.x_f__mutmut_4": "survived",
        "shared.a.x_g__mutmut_1": "no tests",
        "shared.a.x_g__mutmut_2": "not checked",
    }
    text, new = mutate.report(statuses, accepted={"shared.a.x_f__mutmut_3"})
    assert new == ["shared.a.x_f__mutmut_4"]
    first = text.splitlines()[0]
    assert first == "mutants: 6  tested: 4  killed: 2  survived: 2  kill rate: 50.0%"
    assert "survivors accepted in docs/mutation.md: 1" in text
    assert "SURVIVED shared.a.x_f__mutmut_4" in text and "SURVIVED shared.a.x_f__mutmut_3" not in text


def test_nothing_tested_has_no_kill_rate():
    text, new = mutate.report({"shared.a.x_g__mutmut_1": "not checked"}, accepted=set())
    assert new == [] and "kill rate: n/a" in text


def test_accepted_survivors_are_read_from_backticked_names(tmp_path, monkeypatch):
    doc = tmp_path / "mutation.md"
    doc.write_text(
        "| `shared.tokens.x_token_hash__mutmut_4` | equivalent |\n| `shared.scim.patch.xǁ_PatcherǁPut__mutmut_2` | x |\n"
    )
    monkeypatch.setattr(mutate, "ACCEPTED", doc)
    assert mutate.accepted_survivors() == {
        "shared.tokens.x_token_hash__mutmut_4",
        "shared.scim.patch.xǁ_PatcherǁPut__mutmut_2",
    }


def test_patterns_select_as_mutmut_does():
    assert mutate._matches("shared.scim.filter.x_lookup__mutmut_3", ["shared.scim.filter*"])
    assert not mutate._matches("shared.scim.patch.x_key__mutmut_1", ["shared.scim.filter*", "shared.tokens*"])
    assert mutate._matches("shared.anything__mutmut_1", [])
