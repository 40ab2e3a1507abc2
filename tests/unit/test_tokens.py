"""shared.tokens: a token matches only in full (its digest covers every character)."""

from __future__ import annotations

from shared.tokens import TOKEN_PREFIX, new_token, token_hash, token_hint


def test_a_token_matches_only_in_full():
    token = new_token()
    assert token.startswith(TOKEN_PREFIX) and len(token) > 40
    digest = token_hash(token)
    assert token_hash(token) == digest
    for position in (0, 23, 24, len(token) // 2, len(token) - 1):
        changed = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        assert token_hash(changed) != digest, position
    assert token_hash(token[:-1]) != digest and token_hash(token + "x") != digest


def test_new_tokens_differ_and_the_hint_shows_only_the_last_four_characters():
    first, second = new_token(), new_token()
    assert first != second and token_hash(first) != token_hash(second)
    assert token_hint(first) == f"{TOKEN_PREFIX}…{first[-4:]}" and first[len(TOKEN_PREFIX) : -4] not in token_hint(
        first
    )
