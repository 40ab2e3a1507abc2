"""Key encoding: user-supplied values must always produce legal, bounded Table Storage keys."""

import re

import pytest

from shared.store import keys

FORBIDDEN = re.compile(r"[/\\#?\x00-\x1f\x7f-\x9f]")


@pytest.mark.parametrize(
    "value",
    ["alice@example.com", "a/b\\c#d?e", "tab\there", "ünïcödé@exämple.com", "x" * 5000, "", "  spaced  ", "emoji 🎉"],
)
def test_encoded_keys_are_legal_and_short(value):
    key = keys.username_key(value)
    assert not FORBIDDEN.search(key)
    assert len(key.encode("utf-8")) <= 255


def test_username_key_is_case_insensitive_but_external_id_is_not():
    assert keys.username_key("Alice@Example.com") == keys.username_key("alice@example.COM")
    assert keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, "Abc", "1" * 32) != keys.external_id_key(
        keys.USER_EXTERNAL_ID_INDEX, "abc", "1" * 32
    )


def test_distinct_values_get_distinct_keys():
    values = ["a", "b", "a ", "ab", "x" * 300, "x" * 301]
    assert len({keys.username_key(v) for v in values}) == len(values)


def test_external_id_prefix_selects_only_that_value():
    low, high = keys.prefix_range(keys.external_id_prefix(keys.USER_EXTERNAL_ID_INDEX, "ab"))
    own = keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, "ab", "f" * 32)
    other = keys.external_id_key(keys.USER_EXTERNAL_ID_INDEX, "abc", "0" * 32)
    assert low <= own < high
    assert not (low <= other < high)


@pytest.mark.parametrize(
    "value,ok", [("0" * 32, True), ("a" * 32, True), ("A" * 32, False), ("../etc", False), ("1" * 31, False)]
)
def test_is_resource_id(value, ok):
    assert keys.is_resource_id(value) is ok
