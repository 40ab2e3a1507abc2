"""The one case-insensitive rule for caseExact=false attributes: filters, sorting and the unique name
index rows (userName, a group's displayName) all compare `fold(value)`.

fold = Unicode NFC, then `str.lower()` (the Unicode lowercase mapping). Full case folding (`casefold()`)
is not used on purpose: it rewrites letters into other letters (`ß` -> `ss`, `ſ` -> `s`, `ﬁ` -> `fi`,
`ς` -> `σ`), so `straße` and `strasse`, `ſam` and `sam`, `ﬁnn` and `finn` would be one user and a
lookup could return another person. Lowercasing only merges case variants of the same letter, and NFC
only merges canonically equivalent spellings (a precomposed `é` and `e` + combining accent).

Index rows written under the earlier casefold rule differ only for names that fold differently (such
as the ones above); the integrity pass of reconciliation re-keys them (see README, "Behaviour worth knowing").
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFC", text).lower()
